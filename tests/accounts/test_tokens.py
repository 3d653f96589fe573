"""Personal API tokens: shown once, stored hashed, revocable, owner-only."""

import pytest

from shegong.accounts.models import ApiToken, hash_token
from shegong.accounts.services import api_token_create, api_token_revoke
from shegong.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_token_is_stored_only_as_its_hash(county_user):
    token, raw = api_token_create(user=county_user, name="报表脚本")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_token(raw) and raw not in (stored.key_hash, stored.prefix)
    assert raw.startswith(stored.prefix)
    assert AuditEvent.objects.filter(action="api_token.create", actor=county_user).exists()


def test_token_authenticates_api_calls_until_revoked(client, county_user):
    token, raw = api_token_create(user=county_user, name="t")
    response = client.get("/api/v1/me", **bearer(raw))
    assert response.status_code == 200 and response.json()["username"] == county_user.username
    api_token_revoke(user=county_user, token=token)
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 401


def test_unknown_or_malformed_tokens_are_refused(client):
    assert client.get("/api/v1/me", **bearer("sg_not-a-real-token")).status_code == 401
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Basic abc").status_code == 401


def test_a_disabled_users_token_stops_working(client, county_user, users):
    from shegong.accounts.services import user_set_active

    _, raw = api_token_create(user=county_user, name="t")
    user_set_active(actor=users["security_admin"], user=county_user, active=False)
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 401


def test_create_list_and_revoke_through_the_api(client, county_user):
    _, raw = api_token_create(user=county_user, name="first")
    created = client.post(
        "/api/v1/tokens", {"name": "second"}, content_type="application/json", **bearer(raw)
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("sg_") and body["name"] == "second"
    listed = client.get("/api/v1/tokens", **bearer(raw)).json()
    assert {t["name"] for t in listed} == {"first", "second"}
    assert "token" not in listed[0] and "key_hash" not in listed[0]
    assert client.delete(f"/api/v1/tokens/{body['id']}", **bearer(raw)).status_code == 204
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None


def test_unknown_fields_are_rejected(client, county_user):
    _, raw = api_token_create(user=county_user, name="first")
    response = client.post(
        "/api/v1/tokens",
        {"name": "x", "user_id": 1},
        content_type="application/json",
        **bearer(raw),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_someone_elses_token_cannot_be_revoked(client, county_user, room_user):
    theirs, _ = api_token_create(user=room_user, name="theirs")
    _, mine = api_token_create(user=county_user, name="mine")
    assert client.delete(f"/api/v1/tokens/{theirs.pk}", **bearer(mine)).status_code == 404
    client.force_login(county_user)
    assert client.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_token_page_shows_the_secret_once(client, county_user):
    client.force_login(county_user)
    response = client.post("/accounts/tokens/", {"name": "脚本"})
    assert response.status_code == 200
    assert 'data-testid="new-token"' in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    again = client.get("/accounts/tokens/").content.decode()
    assert 'data-testid="new-token"' not in again and "脚本" in again


def test_token_form_keeps_input_on_error(client, county_user):
    client.force_login(county_user)
    response = client.post(
        "/accounts/tokens/", {"name": "保留我", "expires_at": "2000-01-01T00:00"}
    )
    html = response.content.decode()
    assert 'value="保留我"' in html
    assert not ApiToken.objects.filter(user=county_user).exists()

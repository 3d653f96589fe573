"""Division browser pages: drill-down, counts, search, English switch."""

import pytest

pytestmark = pytest.mark.django_db


def test_city_page_lists_counties_with_counts(client, users):
    client.force_login(users["city_admin"])
    html = client.get("/divisions/50/").content.decode()
    assert "江北区" in html and "九龙坡区" in html
    figures = html.replace(",", "")  # Chinese number format has no thousands separator
    for figure in ("11270", "3323", "7946", "1031", "245", "786"):
        assert f">{figure}<" in figures


def test_browser_starts_at_the_users_division(client, room_user):
    client.force_login(room_user)
    response = client.get("/divisions/")
    assert response["Location"] == "/divisions/500105001001/"


def test_room_worker_sees_ancestors_only_as_text(client, room_user):
    client.force_login(room_user)
    html = client.get("/divisions/500105001001/").content.decode()
    assert "江北区" in html and 'href="/divisions/500105/"' not in html


def test_htmx_search_returns_the_partial_only(client, county_user):
    client.force_login(county_user)
    response = client.get("/divisions/search/", {"q": "华新"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "华新街街道" in html and "<html" not in html


def test_old_code_redirects_to_the_current_one(client, users):
    from datetime import date

    from shegong.geo.models import Division
    from shegong.geo.services import division_change_code

    division_change_code(
        actor=None,
        division=Division.objects.get(code="510104017001"),
        new_code="510104017999",
        effective_on=date(2024, 1, 1),
    )
    from tests.conftest import make_user

    client.force_login(make_user("city_admin", "51", username="sichuan"))
    response = client.get("/divisions/510104017001/")
    assert response.status_code == 302 and response["Location"] == "/divisions/510104017999/"


def test_english_is_available(client, county_user):
    client.force_login(county_user)
    assert "下级区划" in client.get("/divisions/500105/").content.decode()  # Chinese first
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/divisions/500105/").content.decode()
    assert "Below this division" in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "下级区划" in client.get("/divisions/500105/").content.decode()


def test_pages_send_security_headers(client, county_user):
    client.force_login(county_user)
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'nonce-" in csp and "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"

"""Sign-in security: Argon2, password rules, lockout, session limits, login auditing."""

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from freezegun import freeze_time

from shegong.accounts.services import user_set_active
from shegong.core.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def login(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_passwords_are_hashed_with_argon2(county_user):
    assert county_user.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize("password", ["short-1", "password1234", "123456789012345"])
def test_weak_passwords_are_refused(county_user, password):
    with pytest.raises(ValidationError):
        validate_password(password, county_user)


def test_login_and_logout_are_audited_with_the_address(client, county_user):
    response = login(client, county_user.username, ip="10.1.2.3")
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="auth.login").latest("seq")
    assert (event.actor_id, event.ip_address) == (county_user.pk, "10.1.2.3")
    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.filter(action="auth.logout", actor=county_user).exists()


def test_wrong_user_and_wrong_password_get_the_same_message(client, county_user):
    wrong_password = login(client, county_user.username, "Not-the-password-99").content.decode()
    wrong_user = login(client, "nobody-here", "Not-the-password-99").content.decode()
    message = "用户名或密码不正确"
    assert message in wrong_password and message in wrong_user
    assert AuditEvent.objects.filter(action="auth.login_failed", outcome="denied").count() == 2


def test_sixth_attempt_is_locked_out_even_with_the_right_password(client, county_user):
    for _ in range(5):
        login(client, county_user.username, "Not-the-password-99")
    response = login(client, county_user.username)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # and another address is not locked (lockout is per user and address)
    from django.test import Client

    assert login(Client(), county_user.username, ip="10.9.9.9").status_code == 302


def test_idle_session_expires_after_30_minutes(client, county_user):
    with freeze_time("2026-11-27 09:00:00") as frozen:
        login(client, county_user.username)
        assert client.get("/").status_code == 200
        frozen.tick(timedelta(minutes=29))
        assert client.get("/").status_code == 200  # activity renews the idle limit
        frozen.tick(timedelta(minutes=31))
        assert client.get("/").status_code == 302


def test_session_ends_after_the_absolute_limit_despite_activity(client, county_user):
    with freeze_time("2026-11-27 08:00:00") as frozen:
        login(client, county_user.username)
        for _ in range(25):  # active every 29 minutes for just over 12 hours
            frozen.tick(timedelta(minutes=29))
            last = client.get("/")
        assert last.status_code == 302


def test_login_gives_a_new_session_id(client, county_user):
    client.get(LOGIN)
    client.cookies["sessionid"] = "attacker-chosen-id"
    login(client, county_user.username)
    assert client.cookies["sessionid"].value != "attacker-chosen-id"


def test_logout_ends_the_session_on_the_server(client, county_user):
    login(client, county_user.username)
    key = client.session.session_key
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_disabling_a_user_ends_their_sessions(client, county_user, users):
    login(client, county_user.username)
    assert client.get("/").status_code == 200
    user_set_active(actor=users["security_admin"], user=county_user, active=False)
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="user.disable", object_id=str(county_user.pk)).exists()


def test_login_page_says_demo_only_in_demo_mode(client, settings):
    settings.DEMO_MODE = False
    assert 'data-testid="demo-notice"' not in client.get(LOGIN).content.decode()
    settings.DEMO_MODE = True
    assert 'data-testid="demo-notice"' in client.get(LOGIN).content.decode()

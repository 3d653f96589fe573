"""Two-factor sign-in (security.md 3): a password alone creates no session for a role that
can see personal data; the first sign-in sets up the authenticator; a code cannot be used
twice; wrong codes lock the step; the security administrator can reset a lost device."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from shegong.accounts.models import TwoFactorDevice
from shegong.accounts.two_factor import current_code, two_factor_reset
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"


@pytest.fixture(autouse=True)
def required(settings):
    settings.REQUIRE_TWO_FACTOR = True


def password_step(client, user, next_url=""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def enrol(client, user):
    """A first sign-in: password, then the code of the device it sets up."""
    password_step(client, user)
    client.get(CODE)
    device = TwoFactorDevice.objects.get(user=user)
    return client.post(CODE, {"code": current_code(device)}), device


def test_a_password_alone_creates_no_session(client, county_user):
    # when the county user gives the right password
    response = password_step(client, county_user)
    # then they are sent to the code step, and nothing is signed in
    assert response.status_code == 302 and response["Location"] == CODE
    assert not signed_in(client)
    assert client.get("/").status_code == 302  # the home page still asks to sign in
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_the_first_sign_in_sets_up_the_authenticator(client, county_user):
    # given the password step
    password_step(client, county_user)
    # when the code page is opened
    page = client.get(CODE).content.decode()
    # then it shows the QR code and the key of a new, unconfirmed device
    device = TwoFactorDevice.objects.get(user=county_user)
    assert "<svg" in page and device.secret in page and device.confirmed_at is None
    # when the code of the app is entered
    response = client.post(CODE, {"code": current_code(device)})
    # then the user is signed in, the device confirmed, and both are audited
    assert response.status_code == 302 and signed_in(client)
    device.refresh_from_db()
    assert device.confirmed_at is not None
    assert AuditEvent.objects.filter(action="two_factor.enrol").exists()
    assert AuditEvent.objects.filter(action="auth.login").exists()


def test_a_code_is_refused_on_reuse(client, county_user):
    # given a user who signed in with a code
    with freeze_time(timezone.now()):
        response, device = enrol(client, county_user)
        assert signed_in(client)
        used = current_code(device)
        client.post(reverse("accounts:logout"))
        # when they sign in again with the same code (same 30 seconds)
        password_step(client, county_user)
        response = client.post(CODE, {"code": used})
    # then the code is refused and nothing is signed in
    assert response.status_code == 422 and not signed_in(client)
    assert "invalid-feedback" in response.content.decode()
    assert AuditEvent.objects.filter(action="login.two_factor_failed", outcome="denied").exists()


def test_the_next_code_is_accepted(client, county_user):
    # given a user who signed in with a code
    start = timezone.now()
    with freeze_time(start) as clock:
        _response, device = enrol(client, county_user)
        client.post(reverse("accounts:logout"))
        # when they sign in 30 seconds later with the new code
        clock.tick(timedelta(seconds=30))
        password_step(client, county_user)
        client.post(CODE, {"code": current_code(device)})
    # then they are signed in
    assert signed_in(client)


def test_five_wrong_codes_lock_the_step(client, county_user):
    # given a set-up device
    with freeze_time(timezone.now()) as clock:
        _response, device = enrol(client, county_user)
        client.post(reverse("accounts:logout"))
        clock.tick(timedelta(seconds=60))
        password_step(client, county_user)
        # when five wrong codes are entered
        for _ in range(5):
            client.post(CODE, {"code": "000000" if current_code(device) != "000000" else "111111"})
        # then even the right code is refused for now
        client.post(CODE, {"code": current_code(device)})
        assert not signed_in(client)
        device.refresh_from_db()
        assert device.locked_until is not None


def test_the_code_step_expires(client, county_user):
    with freeze_time(timezone.now()) as clock:
        password_step(client, county_user)
        clock.tick(timedelta(minutes=6))
        response = client.get(CODE)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not signed_in(client)


def test_a_role_without_personal_data_signs_in_with_a_password(client):
    analyst = make_user(Role.ANALYST, "50", username="analyst-2fa")
    response = password_step(client, analyst)
    assert response.status_code == 302 and signed_in(client)


def test_a_device_is_asked_for_even_when_not_required(client, county_user, settings):
    # given a user who set up an authenticator, and a platform that does not require it
    enrol(client, county_user)
    client.post(reverse("accounts:logout"))
    settings.REQUIRE_TWO_FACTOR = False
    # when they give their password
    response = password_step(client, county_user)
    # then the code is still asked for
    assert response["Location"] == CODE and not signed_in(client)


def test_after_the_code_the_user_goes_where_they_asked_only_on_this_site(client, county_user):
    password_step(client, county_user, next_url="https://evil.example/steal")
    client.get(CODE)
    device = TwoFactorDevice.objects.get(user=county_user)
    response = client.post(CODE, {"code": current_code(device)})
    assert response["Location"] == "/"


def test_the_security_administrator_resets_a_lost_device(client, county_user):
    # given a user with a device
    enrol(client, county_user)
    security = make_user(Role.SECURITY_ADMIN, "50", username="sec-2fa")
    # when a county user tries to reset it, it is refused; the security admin can
    with pytest.raises(PermissionDenied):
        two_factor_reset(actor=county_user, user=security)
    assert two_factor_reset(actor=security, user=county_user)
    # then the device is gone (a new one is set up at the next sign-in), and it is audited
    assert not TwoFactorDevice.objects.filter(user=county_user).exists()
    assert AuditEvent.objects.filter(action="two_factor.reset").exists()


def test_the_secret_is_stored_encrypted(client, county_user):
    from django.db import connection

    _response, device = enrol(client, county_user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_twofactordevice WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
    assert device.secret not in stored


def test_the_user_page_resets_an_authenticator_after_confirmation(client, county_user):
    # given a user with a device, and the security administrator on that user's page
    enrol(client, county_user)
    client.post(reverse("accounts:logout"))
    security = make_user(Role.SECURITY_ADMIN, "50", username="sec-page")
    client.force_login(security)
    assert county_user.username in client.get(reverse("accounts:users")).content.decode()
    page = client.get(reverse("accounts:user_edit", args=[county_user.pk])).content.decode()
    assert 'data-testid="two-factor-reset"' in page and "data-confirm" in page
    # when the reset button is posted
    response = client.post(reverse("accounts:two_factor_reset", args=[county_user.pk]))
    # then the device is gone
    assert response.status_code == 302
    assert not TwoFactorDevice.objects.filter(user=county_user).exists()

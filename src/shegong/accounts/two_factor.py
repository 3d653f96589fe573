"""Two-factor sign-in with a TOTP authenticator app (security.md 3).

Signing in is two steps for a user who needs it: the password step only remembers, in the
anonymous session, who is signing in; the session is authenticated by the code step. So a
password alone never creates a signed-in session for such a user. Codes are RFC 6238
(6 digits, 30 s, one step of tolerance) computed with ``django_otp.oath``; a code is
refused once it has been used (``last_step``); five wrong codes lock the device for 15
minutes.
"""

from __future__ import annotations

import base64
import secrets
import time
from datetime import timedelta
from urllib.parse import quote

import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP

from shegong.accounts.models import TwoFactorDevice, User
from shegong.core.audit import AuditEvent, audit_record

STEP = 30
DIGITS = 6
TOLERANCE = 1
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
ISSUER = "Shegong"


# Set in the session by a sign-in that passed the code step.
TWO_FACTOR_SESSION_KEY = "two_factor_verified"


def passed_two_factors(request) -> bool:
    """Whether the caller passed the second factor: a session signed in with a code, or an
    API token made from such a session."""
    token = getattr(request, "api_token", None)
    if token is not None:
        return bool(token.two_factor)
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(TWO_FACTOR_SESSION_KEY))


def two_factor_required(user: User) -> bool:
    """Whether ``user`` must give a code to sign in: everyone who has an authenticator, and
    (when required, i.e. outside demo mode) every role that can see personal data."""
    if TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists():
        return True
    return bool(settings.REQUIRE_TWO_FACTOR) and user.sees_personal_data


def device_confirmed(user: User) -> bool:
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


@transaction.atomic
def two_factor_begin(*, user: User) -> TwoFactorDevice:
    """The user's device to set up: a new secret, unless an unconfirmed one is pending.
    Refused if the user already has a confirmed device (a reset comes first)."""
    device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
    if device is not None and device.confirmed_at is not None:
        raise PermissionDenied
    if device is None:
        device = TwoFactorDevice.objects.create(
            user=user, secret=base64.b32encode(secrets.token_bytes(20)).decode()
        )
    return device


def _totp(device: TwoFactorDevice) -> TOTP:
    totp = TOTP(base64.b32decode(device.secret), step=STEP, digits=DIGITS)
    totp.time = time.time()
    return totp


def current_code(device: TwoFactorDevice) -> str:
    """The code an authenticator shows now (used by tests and the demo tooling)."""
    return f"{_totp(device).token():0{DIGITS}d}"


@transaction.atomic
def two_factor_verify(*, user: User, code: str, ip_address: str | None = None) -> bool:
    """Check a code for ``user``'s device; confirm the device on its first good code.
    Refuses a reused code, and any code while the device is locked."""
    device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        return False
    now = timezone.now()
    code = (code or "").strip().replace(" ", "")
    ok = False
    unlocked = device.locked_until is None or device.locked_until <= now
    if unlocked and code.isdigit() and len(code) == DIGITS:
        totp = _totp(device)
        ok = bool(totp.verify(int(code), tolerance=TOLERANCE, min_t=device.last_step + 1))
        if ok:
            device.last_step = totp.t()
    if ok:
        device.failures = 0
        device.locked_until = None
        first = device.confirmed_at is None
        if first:
            device.confirmed_at = now
        device.save()
        if first:
            audit_record(
                actor=user, action="two_factor.enrol", target=device, ip_address=ip_address
            )
        return True
    device.failures += 1
    if device.failures >= MAX_FAILURES:
        device.locked_until = now + LOCK
        device.failures = 0
    device.save()
    audit_record(
        actor=user,
        action="login.two_factor_failed",
        target=device,
        outcome=AuditEvent.Outcome.DENIED,
        ip_address=ip_address,
    )
    return False


@transaction.atomic
def two_factor_reset(*, actor: User, user: User) -> bool:
    """Remove a user's authenticator (a lost phone): they set up a new one at their next
    sign-in. Security administrators only, within their scope."""
    if not actor.has_perm("accounts.change_user") or not user.scope_prefix.startswith(
        actor.scope_prefix
    ):
        raise PermissionDenied
    deleted, _ = TwoFactorDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action="two_factor.reset", target=user, after={"removed": deleted})
    return bool(deleted)


def provisioning_uri(device: TwoFactorDevice) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    label = quote(f"{ISSUER}:{device.user.username}")
    return (
        f"otpauth://totp/{label}?secret={device.secret}&issuer={ISSUER}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP}"
    )


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG (no external service)."""
    return segno.make(uri, error="m").svg_inline(scale=4)

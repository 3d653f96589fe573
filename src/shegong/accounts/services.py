"""Writes for users and API tokens; each one audited in its own transaction."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.accounts.models import ApiToken, SetPasswordLink, User, hash_token
from shegong.core.audit import audit_record, model_snapshot
from shegong.core.permissions import check_perm
from shegong.core.roles import Role
from shegong.core.validators import PHONE_PATTERN
from shegong.geo.models import Division

USER_AUDIT_FIELDS = [
    "username",
    "full_name",
    "role",
    "division",
    "organisation",
    "is_active",
]
USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{3,150}$")


def _check_manages(actor: User | None, division: Division, perm: str) -> None:
    """The actor's role manages users (``perm``) and ``division`` is in their scope."""
    if actor is None:
        return
    check_perm(actor, perm)
    if not division.code.startswith(actor.scope_prefix):
        raise PermissionDenied(_("That division is outside your area."))


def _check_agency(actor: User | None, role: str, organisation) -> None:
    if role == Role.AGENCY_STAFF and organisation is None:
        raise ValidationError(
            {"organisation": _("Contracted agency staff must belong to an agency.")}
        )
    if role != Role.AGENCY_STAFF and organisation is not None:
        raise ValidationError(
            {"organisation": _("Only contracted agency staff belong to an agency.")}
        )
    if (
        organisation is not None
        and actor is not None
        and not organisation.division.code.startswith(actor.scope_prefix)
    ):
        raise PermissionDenied(_("That agency is outside your area."))


def _check_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if phone and not PHONE_PATTERN.match(phone):
        raise ValidationError({"phone": _("The phone number is not valid.")})
    return phone


def user_create(
    *,
    actor: User | None,
    username: str,
    role: str,
    division: Division,
    password: str | None = None,
    full_name: str = "",
    organisation=None,
    phone: str = "",
) -> User:
    """Create a user with a role and a division; the actor must manage users there.
    Contracted agency staff belong to an agency (``organisation``, registered in the
    actor's scope); no other role does. Without a password the user has none until they
    set one through a one-time link (``password_link_create``)."""
    _check_manages(actor, division, "accounts.add_user")
    username = (username or "").strip()
    if not USERNAME.match(username):
        raise ValidationError(
            {"username": _("3 to 150 letters, digits and the signs _ . @ + - (no spaces).")}
        )
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    _check_agency(actor, role, organisation)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This user name is already taken.")})
    user = User(
        username=username,
        role=role,
        division=division,
        full_name=(full_name or "").strip()[:100],
        organisation=organisation,
        phone=_check_phone(phone),
    )
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        user.full_clean(exclude=["password"])
        user.save()
        audit_record(
            actor=actor,
            action="user.create",
            target=user,
            after=model_snapshot(user, USER_AUDIT_FIELDS),
        )
    return user


def user_update(
    *,
    actor: User | None,
    user: User,
    full_name: str,
    role: str,
    division: Division,
    organisation=None,
    phone: str = "",
) -> User:
    """Change a user's name, role, division, agency or phone. A change of role or division
    ends their sessions and revokes their API tokens (what they may do has changed).
    Nobody changes their own role or division."""
    _check_manages(actor, user.division, "accounts.change_user")
    _check_manages(actor, division, "accounts.change_user")
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if (
        actor is not None
        and actor.pk == user.pk
        and (role != user.role or division.pk != user.division_id)
    ):
        raise ValidationError({"role": _("You cannot change your own role or division.")})
    _check_agency(actor, role, organisation)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = model_snapshot(user, USER_AUDIT_FIELDS)
        powers_changed = role != user.role or division.pk != user.division_id
        user.full_name = (full_name or "").strip()[:100]
        user.role = role
        user.division = division
        user.organisation = organisation
        user.phone = _check_phone(phone)
        user.full_clean(exclude=["password"])
        user.save()
        if powers_changed:
            end_user_sessions(user)
            _revoke_tokens(user)
        audit_record(
            actor=actor,
            action="user.update",
            target=user,
            before=before,
            after=model_snapshot(user, USER_AUDIT_FIELDS),
        )
    return user


def _revoke_tokens(user: User) -> None:
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def user_set_active(*, actor: User | None, user: User, active: bool) -> User:
    """Enable or disable a user; disabling ends all their sessions and revokes their API
    tokens and set-password links at once (security.md 4). Nobody disables themselves."""
    if actor is not None:
        _check_manages(actor, user.division, "accounts.change_user")
        if actor.pk == user.pk and not active:
            raise ValidationError({"is_active": _("You cannot disable your own account.")})
    with transaction.atomic():
        before = model_snapshot(user, USER_AUDIT_FIELDS)
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            end_user_sessions(user)
            _revoke_tokens(user)
            SetPasswordLink.objects.filter(user=user).usable().update(revoked_at=timezone.now())
        audit_record(
            actor=actor,
            action="user.enable" if active else "user.disable",
            target=user,
            before=before,
            after=model_snapshot(user, USER_AUDIT_FIELDS),
        )
    return user


# --- One-time set-password links --------------------------------------------------------


def password_link_hours() -> int:
    return int(getattr(settings, "SHEGONG_PASSWORD_LINK_HOURS", 72))


def password_link_create(*, actor: User | None, user: User) -> str:
    """A new one-time link for ``user`` to set their password (a new user, a forgotten
    password): returns its secret, shown once; the user's older links stop working. The
    user's current password, if any, keeps working until the new one is set."""
    if actor is not None:
        _check_manages(actor, user.division, "accounts.change_user")
    if not user.is_active:
        raise ValidationError({"user": _("The user is disabled: enable them first.")})
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        SetPasswordLink.objects.filter(user=user).usable().update(revoked_at=now)
        link = SetPasswordLink.objects.create(
            user=user,
            key_hash=hash_token(raw),
            created_by=actor if actor is not None and actor.pk else None,
            expires_at=now + timedelta(hours=password_link_hours()),
        )
        audit_record(
            actor=actor,
            action="user.password_link",
            target=user,
            after={"expires_at": link.expires_at.isoformat()},
        )
    return raw


def password_link_find(raw: str) -> SetPasswordLink | None:
    """The usable link behind a secret (an active user's, not used, not expired), or None."""
    if not raw or len(raw) > 100:
        return None
    link = (
        SetPasswordLink.objects.usable()
        .select_related("user")
        .filter(key_hash=hash_token(raw))
        .first()
    )
    if link is None or not link.user.is_active:
        return None
    return link


def password_set_by_link(*, raw: str, password: str) -> User:
    """Set the password of the link's user (the validators apply) and use the link up; a
    used, expired or revoked link is refused. Ends the user's other sessions."""
    with transaction.atomic():
        link = password_link_find(raw)
        if link is None:
            raise ValidationError(
                {"link": _("This link has expired or was already used: ask for a new one.")}
            )
        link = SetPasswordLink.objects.select_for_update().get(pk=link.pk)
        if not link.usable:
            raise ValidationError(
                {"link": _("This link has expired or was already used: ask for a new one.")}
            )
        user = link.user
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
        user.save(update_fields=["password"])
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        end_user_sessions(user)
        audit_record(actor=user, action="user.password_set", target=user)
    return user


def end_user_sessions(user: User) -> int:
    """Delete every server-side session that belongs to ``user``."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


def api_token_create(
    *, user: User, name: str, expires_at: datetime | None = None, two_factor: bool = False
) -> tuple[ApiToken, str]:
    """Create a personal API token; returns the token and its secret, shown only once.
    ``two_factor``: made from a sign-in that passed the second factor — a role that needs
    two factors gets a token only so (security.md 3)."""
    from shegong.accounts.two_factor import two_factor_required

    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry date must be in the future.")})
    if not two_factor and two_factor_required(user):
        raise PermissionDenied(
            _("Sign in with your authenticator code first: your role needs two factors.")
        )
    raw = ApiToken.generate_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=raw[:10],
            key_hash=hash_token(raw),
            expires_at=expires_at,
            two_factor=two_factor,
        )
        audit_record(actor=user, action="api_token.create", target=token)
    return token, raw


def api_token_revoke(*, user: User, token: ApiToken) -> ApiToken:
    """Revoke one of the user's own tokens."""
    if token.user_id != user.pk:
        raise PermissionDenied
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action="api_token.revoke", target=token)
    return token


def api_token_find(raw: str) -> ApiToken | None:
    """The active token of an active user behind a secret, or None. A token made without
    the second factor stops working once the user's role needs two factors (renew it after
    a two-factor sign-in)."""
    from shegong.accounts.two_factor import two_factor_required

    if not raw or not raw.startswith("sg_") or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.active()
        .select_related("user", "user__division")
        .filter(key_hash=hash_token(raw))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if not token.two_factor and two_factor_required(token.user):
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind an active token, or None."""
    token = api_token_find(raw)
    return token.user if token is not None else None

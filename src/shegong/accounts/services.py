"""Writes for users and API tokens; each one audited in its own transaction."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.accounts.models import ApiToken, User, hash_token
from shegong.core.audit import audit_record, model_snapshot
from shegong.core.roles import Role
from shegong.geo.models import Division

USER_AUDIT_FIELDS = ["username", "full_name", "role", "division", "organisation", "is_active"]


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    division: Division,
    full_name: str = "",
    organisation=None,
) -> User:
    """Create a user with a role and a division; the actor must manage users there.
    Contracted agency staff belong to an agency (``organisation``, registered in the
    actor's scope); no other role does."""
    if actor is not None and (
        not actor.has_perm("accounts.add_user") or not division.code.startswith(actor.scope_prefix)
    ):
        raise PermissionDenied
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
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
        raise PermissionDenied
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("This user name is already taken.")})
    user = User(
        username=username,
        role=role,
        division=division,
        full_name=full_name,
        organisation=organisation,
    )
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


def user_set_active(*, actor: User | None, user: User, active: bool) -> User:
    """Enable or disable a user; disabling ends all their sessions (security.md 4)."""
    with transaction.atomic():
        before = model_snapshot(user, USER_AUDIT_FIELDS)
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            end_user_sessions(user)
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        audit_record(
            actor=actor,
            action="user.enable" if active else "user.disable",
            target=user,
            before=before,
            after=model_snapshot(user, USER_AUDIT_FIELDS),
        )
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
    *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a personal API token; returns the token and its secret, shown only once."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry date must be in the future.")})
    raw = ApiToken.generate_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=raw[:10],
            key_hash=hash_token(raw),
            expires_at=expires_at,
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


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind an active token, or None."""
    if not raw or not raw.startswith("sg_"):
        return None
    token = (
        ApiToken.objects.active()
        .select_related("user", "user__division")
        .filter(key_hash=hash_token(raw))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user

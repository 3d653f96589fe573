"""Users, each with one role and one division, and their personal API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shegong.core.crypto import EncryptedTextField
from shegong.core.roles import AGGREGATE_ONLY_ROLES, Role, role_has_perm
from shegong.core.scoping import RestrictedQuerySet


class UserQuerySet(RestrictedQuerySet):
    """Users, scoped by the division they belong to."""


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    """Django's user manager with ``restrict``."""


class User(AbstractUser):
    """A person who signs in: one role, one division they are scoped to.

    What the role allows is declared in ``shegong.core.roles``; where it applies is the
    division's subtree. Django's own permission tables and the superuser flag are not used.
    """

    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("division"),
        on_delete=models.PROTECT,
        related_name="users",
    )
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    organisation = models.ForeignKey(
        "network.SocialOrganisation",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("For contracted agency staff: the agency whose projects they see."),
    )

    objects = ScopedUserManager()
    scope_path = "division__code"

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def scope_prefix(self) -> str:
        """The division code whose subtree this user may see."""
        return self.division.code if self.division_id else ""

    @property
    def sees_personal_data(self) -> bool:
        """Whether the role may ever see personal data (the analyst never does)."""
        return self.role not in AGGREGATE_ONLY_ROLES

    def has_perm(self, perm: str, obj=None) -> bool:
        return self.is_active and role_has_perm(self.role, perm)

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return False


TOKEN_PREFIX = "sg_"


def hash_token(raw: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is a safe stored form."""
    return hashlib.sha256(raw.encode("ascii", "replace")).hexdigest()


class ApiTokenQuerySet(RestrictedQuerySet):
    """A user's own tokens."""

    def active(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token: shown once at creation, stored only as its hash."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # Made from a sign-in that passed the second factor: a token of a role that needs two
    # factors works only if so (tokens made before the requirement stop until renewed).
    two_factor = models.BooleanField(_("made after a two-factor sign-in"), default=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def scope_q(cls, user) -> Q:
        """A token is only ever visible to its owner."""
        return Q(user=user)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @staticmethod
    def generate_key() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TwoFactorDevice(models.Model):
    """A user's TOTP authenticator (RFC 6238, 6 digits, 30 s). The secret is encrypted at
    rest; ``last_step`` refuses a code used before; ``failures`` and ``locked_until``
    throttle guessing. Confirmed once the user has entered a first valid code."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="two_factor"
    )
    secret = EncryptedTextField(_("secret"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    last_step = models.BigIntegerField(default=-1)
    failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("two-factor device")
        verbose_name_plural = _("two-factor devices")

    def __str__(self) -> str:
        return f"TOTP {self.user_id}"

    @classmethod
    def scope_q(cls, user) -> models.Q:
        """Only one's own device."""
        return models.Q(user_id=user.pk)


class SetPasswordLinkQuerySet(RestrictedQuerySet):
    """Links, scoped by their user's division."""

    def usable(self) -> SetPasswordLinkQuerySet:
        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class SetPasswordLink(models.Model):
    """A one-time, expiring link with which a user sets their own password (a new user, or
    one whose password the security administrator reset): never an emailed or displayed
    password. Stored only as the hash of its secret; a newer link for the same user revokes
    the older ones."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="password_links"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = SetPasswordLinkQuerySet.as_manager()
    scope_path = "user__division__code"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("set-password link")
        verbose_name_plural = _("set-password links")

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()

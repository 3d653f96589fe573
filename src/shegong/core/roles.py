"""Roles and what each may do.

A role is a job in the three-tier system, not a bag of permissions: each user has exactly one
role and one division (see ``accounts.User``). What a role may do is declared here, in one
table; *where* it may do it is the user's division subtree, applied by
``RestrictedQuerySet.restrict``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The jobs users hold on the platform."""

    CITY_ADMIN = "city_admin", _("City administrator")
    COUNTY_STAFF = "county_staff", _("County guidance-centre staff")
    STATION_STAFF = "station_staff", _("Town station staff")
    ROOM_WORKER = "room_worker", _("Community room social worker")
    ANALYST = "analyst", _("Read-only analyst")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


# Permission names follow Django's "<app_label>.<action>_<model_name>" convention.
_EVERYONE = {
    "geo.view_division",
    # Personal API tokens: every user manages their own (scope_q limits them to the owner).
    "accounts.view_apitoken",
    "accounts.add_apitoken",
    "accounts.change_apitoken",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CITY_ADMIN: frozenset(_EVERYONE | {"geo.change_division"}),
    Role.COUNTY_STAFF: frozenset(_EVERYONE),
    Role.STATION_STAFF: frozenset(_EVERYONE),
    Role.ROOM_WORKER: frozenset(_EVERYONE),
    Role.ANALYST: frozenset(_EVERYONE),
    Role.SECURITY_ADMIN: frozenset(
        _EVERYONE | {"accounts.view_user", "accounts.add_user", "accounts.change_user"}
    ),
    # Separation of duties (security.md 9): only the audit administrator reads the trail.
    Role.AUDIT_ADMIN: frozenset(_EVERYONE | {"core.view_auditevent"}),
}

# Roles that may never see personal data, only aggregates.
AGGREGATE_ONLY_ROLES = frozenset({Role.ANALYST})


def role_has_perm(role: str, perm: str) -> bool:
    """Whether ``role`` grants the permission ``perm`` ("app.action_model")."""
    return perm in ROLE_PERMISSIONS.get(role, frozenset())

"""Reads of users: who may be chosen for a job."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from shegong.accounts.models import User
from shegong.core.roles import ROLE_PERMISSIONS
from shegong.geo.models import Division


def users_with_perm(
    perm: str, *, covering: Division | None = None, within: str | None = None
) -> QuerySet[User]:
    """Active users whose role grants ``perm``: those whose area holds the division
    ``covering`` (the city, its county, town… down to the division itself), and/or those
    inside the area ``within`` (a division code prefix). Used to fill choices (assigned
    worker, supervisor, group leader), not to list users."""
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]
    users = User.objects.filter(is_active=True, role__in=roles)
    if covering is not None:
        users = users.filter(division__code__in=[*covering.ancestor_codes(), covering.code])
    if within is not None:
        users = users.filter(Q(division__code__startswith=within) if within else Q(pk__in=[]))
    return users.select_related("division").order_by("full_name", "username")

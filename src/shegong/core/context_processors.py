"""Template context shared by every page: the platform's name and demo flag, the side
navigation of the user's role, and the division path of the breadcrumbs."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def platform(request):
    """Platform name, demo flag; for a signed-in user the navigation (``core.navigation``)
    and the path of their division (重庆市 › 江北区 › …), both computed only if used."""
    context = {"PLATFORM_NAME": settings.PLATFORM_NAME, "DEMO_MODE": settings.DEMO_MODE}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from shegong.core.navigation import navigation_for

        match = getattr(request, "resolver_match", None)
        view_name = match.view_name if match else None
        context["navigation"] = SimpleLazyObject(lambda: navigation_for(user, view_name))
        context["user_division_path"] = SimpleLazyObject(
            lambda: division_path(user.division, scope=user.scope_prefix)
        )
    return context


def division_path(division, scope: str | None = None) -> list:
    """The division and its ancestors, from the top down, without the statistical
    groupings (市辖区, 县) that stand between a municipality and its counties. With the
    user's ``scope``, those above it are marked ``unlinked`` (their pages are not theirs)."""
    from shegong.geo.models import Division

    if division is None:
        return []
    codes = [*division.ancestor_codes(), division.code]
    rows = {d.code: d for d in Division.objects.filter(code__in=codes, is_grouping=False)}
    path = [rows[code] for code in codes if code in rows]
    if scope is not None:
        for item in path:
            item.unlinked = not item.code.startswith(scope)
    return path

"""Reads for divisions: scoped lists, children for browsing, counts by level and kind."""

from __future__ import annotations

import os

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Left

from shegong.geo.models import (
    LEVEL_BY_LENGTH,
    LEVEL_ORDER,
    Division,
    DivisionChange,
    Kind,
    Level,
    PovertyDesignation,
)


def division_list(*, user, level=None, kind=None, parent=None, name=None, code=None) -> QuerySet:
    """Divisions the user may see, filtered as the list page and the API filter them."""
    qs = Division.objects.restrict(user, "view")
    if level:
        qs = qs.filter(level=level)
    if kind:
        qs = qs.filter(kind=kind)
    if parent:
        parent_level = LEVEL_BY_LENGTH.get(len(parent))
        index = LEVEL_ORDER.index(parent_level) if parent_level else len(LEVEL_ORDER)
        if index + 1 >= len(LEVEL_ORDER):
            return qs.none()
        qs = qs.filter(code__startswith=parent, level=LEVEL_ORDER[index + 1])
    if name:
        qs = qs.filter(name__icontains=name.strip())
    if code:
        qs = qs.filter(code__startswith=code.strip())
    return qs.order_by("code")


def division_search(*, user, query: str, limit: int = 50) -> QuerySet:
    """Divisions in scope whose name contains ``query`` or whose code starts with it."""
    query = query.strip()
    if not query:
        return Division.objects.none()
    qs = Division.objects.restrict(user, "view")
    if query.isdigit():
        return qs.filter(code__startswith=query).order_by("code")[:limit]
    return qs.filter(name__icontains=query).order_by("code")[:limit]


def division_children(*, user, division: Division) -> QuerySet:
    """Children to browse; statistical groupings (市辖区, 县) are looked through."""
    qs = Division.objects.restrict(user, "view")
    if division.child_level is None:
        return qs.none()
    children = qs.filter(code__startswith=division.code, level=division.child_level)
    groupings = list(children.filter(is_grouping=True).values_list("code", flat=True))
    if groupings:
        grandchildren = Q()
        for code in groupings:
            grandchildren |= Q(code__startswith=code)
        below = LEVEL_ORDER[LEVEL_ORDER.index(division.child_level) + 1]
        children = children.filter(is_grouping=False) | qs.filter(grandchildren, level=below)
    return children.order_by("code")


def division_counts(*, division: Division) -> dict[str, int]:
    """How many counties, towns (by kind) and communities (by kind) lie below a division.

    Keys: ``counties``, ``towns``, ``communities``, each kind's value (``subdistrict``,
    ``town``, ``township``, ``other_town``, ``urban``, ``rural``), ``towns_and_townships``
    and ``unclassified_communities``.
    """
    below = Division.objects.filter(code__startswith=division.code).exclude(pk=division.pk)
    rows = below.values("level", "kind").annotate(n=Count("id"))
    counts = {"counties": 0, "towns": 0, "communities": 0, "unclassified_communities": 0}
    counts.update(dict.fromkeys(Kind.values, 0))
    level_keys = {Level.COUNTY: "counties", Level.TOWN: "towns", Level.COMMUNITY: "communities"}
    for row in rows:
        if row["level"] in level_keys:
            counts[level_keys[row["level"]]] += row["n"]
        if row["kind"]:
            counts[row["kind"]] += row["n"]
        elif row["level"] == Level.COMMUNITY:
            counts["unclassified_communities"] += row["n"]
    counts["towns_and_townships"] = counts[Kind.TOWN] + counts[Kind.TOWNSHIP]
    return counts


def division_child_counts(*, divisions: list[Division]) -> dict[int, dict[str, int]]:
    """Towns and communities below each of ``divisions``, in one query per level."""
    result: dict[int, dict[str, int]] = {d.pk: {"towns": 0, "communities": 0} for d in divisions}
    if not divisions:
        return result
    length = len(divisions[0].code)
    prefixes = {d.code: d.pk for d in divisions}
    common = os.path.commonprefix(list(prefixes))  # noqa: RUF071 (codes, not paths)
    rows = (
        Division.objects.filter(code__startswith=common, level__in=[Level.TOWN, Level.COMMUNITY])
        .annotate(prefix=Left("code", length))
        .values("prefix", "level")
        .annotate(n=Count("id"))
    )
    for row in rows:
        pk = prefixes.get(row["prefix"])
        if pk is not None:
            result[pk]["towns" if row["level"] == Level.TOWN else "communities"] = row["n"]
    return result


def division_history(*, division: Division) -> QuerySet:
    """Renames and code changes of a division, newest first."""
    return DivisionChange.objects.filter(division=division)


def division_by_code(*, user, code: str) -> Division | None:
    """A division in scope by its current code, or by a code it had before a change."""
    qs = Division.objects.restrict(user, "view")
    found = qs.filter(code=code).first()
    if found is not None:
        return found
    change = DivisionChange.objects.filter(old_code=code).order_by("-effective_on").first()
    return qs.filter(pk=change.division_id).first() if change else None


def division_in_scope_or_404(*, user, code: str | None) -> Division:
    """The division with ``code`` (or the user's own when empty) if in scope, else 404."""
    from django.http import Http404

    division = division_by_code(user=user, code=code) if code else user.division
    if division is None:
        from shegong.core.scoping import record_refusal

        record_refusal(user, Division, {"code": code})
        raise Http404
    return division


def poverty_designation_covering(*, division: Division, day, kind: str | None = None):
    """The designation (poor county or deep-poverty town) open on ``day`` of ``division``
    or of a division it lies inside, or None."""
    qs = (
        PovertyDesignation.objects.filter(
            division__code__in=[*division.ancestor_codes(), division.code],
            designated_on__lte=day,
        )
        .filter(Q(lifted_on__isnull=True) | Q(lifted_on__gt=day))
        .select_related("division")
    )
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-division__code").first()


def poverty_designations_open(*, division: Division, day, kind: str | None = None) -> QuerySet:
    """Designations open on ``day`` for divisions in ``division``'s subtree (F27 counts the
    deep-poverty towns)."""
    qs = PovertyDesignation.objects.filter(
        division__code__startswith=division.code, designated_on__lte=day
    ).filter(Q(lifted_on__isnull=True) | Q(lifted_on__gt=day))
    return qs.filter(kind=kind) if kind else qs


def poverty_designation_list(
    *, user, kind: str | None = None, open_on=None, division: Division | None = None
) -> QuerySet:
    """Designations the user may see, history included (``open_on``: only those open then)."""
    qs = PovertyDesignation.objects.restrict(user, "view").select_related("division")
    if division is not None:
        qs = qs.filter(division__code__startswith=division.code)
    if kind:
        qs = qs.filter(kind=kind)
    if open_on is not None:
        qs = qs.filter(designated_on__lte=open_on).filter(
            Q(lifted_on__isnull=True) | Q(lifted_on__gt=open_on)
        )
    return qs.order_by("kind", "division__code", "-designated_on")

"""Reads: person-times of services (issue #6 items 5 and 8; F28).

Person-times are summed from ``ServiceRecord.person_times`` — derived when each record was
written (the residents served plus the head-count), never typed in as totals.

``person_times`` emits **one** ``GROUP BY`` query (month through ``TruncMonth`` on
``served_on``; county and town as prefixes of the division code), so the city-wide figures
over 10 M records cost what the bare SQL costs.

Small cells: for aggregate-only roles (the analyst) a cell whose person-times are fewer
than ``privacy.SMALL_CELL`` (5) — and more than none — is suppressed (None), through
``privacy.suppress_small``. "People" here means the person-times in the cell: the number of
times people were served, which is never less than the number of distinct people in it, so
a cell of 4 person-times holds at most 4 people and is suppressed. The cell's record count
is suppressed with it (it would give the figure away).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Sum
from django.db.models.functions import Substr, TruncMonth
from django.http import Http404
from django.utils.translation import gettext as _

from shegong.casework import privacy
from shegong.casework.models import ServiceRecord
from shegong.core.scoping import scope_filter

STATS_PERM = "casework.view_servicestats"
# The breakdowns a table can be grouped by, and the expression behind each.
BREAKDOWNS = ("month", "target_group", "domain", "method", "county", "town", "community")
_AREA_LENGTH = {"county": 6, "town": 9, "community": 12}


def _expression(key: str):
    if key == "month":
        return TruncMonth("served_on")
    if key in _AREA_LENGTH:
        return Substr("division__code", 1, _AREA_LENGTH[key])
    return F(key)  # a column of the record


def scoped_records(user, area_code: str | None = None):
    """Every service record under the user's area (or under ``area_code`` inside it), for
    aggregates only: the role needs the statistics permission, not the records'."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied
    if not user.has_perm(STATS_PERM):
        raise PermissionDenied
    qs = ServiceRecord.objects.filter(scope_filter(ServiceRecord, user))
    if area_code:
        prefix = user.scope_prefix or "\x00"
        if not area_code.isdigit() or not area_code.startswith(prefix):
            raise Http404
        if area_code != prefix:
            qs = qs.filter(division__code__startswith=area_code)
    return qs


def raw_person_times(
    user,
    *,
    area_code: str | None = None,
    start: date | None = None,
    end: date | None = None,
    by: Sequence[str] = ("month", "target_group"),
) -> list[dict]:
    """The rows of ``person_times`` before small cells are suppressed — for callers that
    sum them into totals and suppress what they show themselves (the statistics page)."""
    keys = list(dict.fromkeys(by))
    unknown = [k for k in keys if k not in BREAKDOWNS]
    if unknown or not keys:
        raise ValidationError({"by": [_("Group by month, target group, domain, method or area.")]})
    if start and end and end < start:
        raise ValidationError({"end": [_("The end comes before the start.")]})
    qs = scoped_records(user, area_code)
    if start:
        qs = qs.filter(served_on__gte=start)
    if end:
        qs = qs.filter(served_on__lte=end)
    rows = (
        qs.annotate(**{f"k_{k}": _expression(k) for k in keys})
        .values(*[f"k_{k}" for k in keys])
        .annotate(person_times=Sum("person_times"), records=Count("id"))
        .order_by(*[f"k_{k}" for k in keys])
    )
    result = []
    for row in rows:
        item = {k: row[f"k_{k}"] for k in keys}
        month = item.get("month")
        if isinstance(month, datetime):
            item["month"] = month.date()
        item["person_times"] = row["person_times"] or 0
        item["records"] = row["records"]
        result.append(item)
    return result


def person_times(
    user,
    *,
    area_code: str | None = None,
    start: date | None = None,
    end: date | None = None,
    by: Sequence[str] = ("month", "target_group"),
) -> list[dict]:
    """Rows of ``{<by keys>..., "person_times": n, "records": n}`` over the user's area
    (or ``area_code`` inside it) between ``start`` and ``end`` (inclusive), ordered by the
    keys; ``by`` takes month, target_group, domain, method, county, town, community. Month
    values are the first day of the month. Small cells are suppressed (None) for
    aggregate-only roles (module docstring)."""
    rows = raw_person_times(user, area_code=area_code, start=start, end=end, by=by)
    for row in rows:
        shown = privacy.suppress_small(row["person_times"], user)
        row["person_times"] = shown
        if shown is None:
            row["records"] = None
    return rows


def total_person_times(
    user, *, area_code: str | None = None, start: date | None = None, end: date | None = None
) -> dict:
    """The total person-times and records of the user's area in the period."""
    qs = scoped_records(user, area_code)
    if start:
        qs = qs.filter(served_on__gte=start)
    if end:
        qs = qs.filter(served_on__lte=end)
    totals = qs.aggregate(person_times=Sum("person_times"), records=Count("id"))
    shown = privacy.suppress_small(totals["person_times"] or 0, user)
    return {
        "person_times": shown,
        "records": totals["records"] if shown is not None else None,
    }


def f28_poverty_person_times(user, start: date, end: date) -> int:
    """F28: person-times of poverty-alleviation services in the user's area between
    ``start`` and ``end`` (inclusive) — the sum of ``person_times`` of the records marked
    ``poverty_alleviation``. A published indicator of a whole area: not suppressed."""
    total = (
        scoped_records(user)
        .filter(poverty_alleviation=True, served_on__gte=start, served_on__lte=end)
        .aggregate(n=Sum("person_times"))["n"]
    )
    return int(total or 0)

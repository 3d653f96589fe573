"""Reads: person-times of services (issue #6 items 5 and 8; F28).

Person-times are summed from ``ServiceRecord.person_times`` — derived when each record was
written (the residents served plus the head-count), never typed in as totals.

Two sources give the same sums:

- for an area of a county or wider, broken down by month, target group, domain, method or
  county, whole months come from ``ServiceMonthTotal`` — the records' sums per county and
  month, kept equal to them by database triggers (casework migration 0003) — so that the
  city's 10 M records are a few hundred thousand rows; the days of a month that a period
  only partly covers are summed from the records themselves;
- anything else (a town's or a community's area, a breakdown by town or community) is one
  ``GROUP BY`` over the records (month through ``TruncMonth``; county, town and community
  as prefixes of the division code).

Small cells: for aggregate-only roles (the analyst) a cell whose person-times are fewer
than ``privacy.SMALL_CELL`` (5) — and more than none — is suppressed (None), through
``privacy.suppress_small``. "People" here means the person-times in the cell: the number of
times people were served, which is never less than the number of distinct people in it, so
a cell of 4 person-times holds at most 4 people and is suppressed. The cell's record count
is suppressed with it (``privacy.suppress_cell``), and totals shown beside suppressed cells
are the sums of the cells shown, so that no suppressed figure can be got back by
subtraction (the statistics page).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, F, Sum, Value, When
from django.db.models.functions import Substr, TruncMonth
from django.http import Http404
from django.utils.translation import gettext as _

from shegong.casework import privacy
from shegong.casework.models import ServiceMonthTotal, ServiceRecord
from shegong.core.permissions import MissingPermission
from shegong.core.scoping import scope_filter

STATS_PERM = "casework.view_servicestats"
# The breakdowns a table can be grouped by, and the expression behind each.
BREAKDOWNS = ("month", "target_group", "domain", "method", "county", "town", "community")
_AREA_LENGTH = {"county": 6, "town": 9, "community": 12}
# The breakdowns the monthly totals hold, and their columns there.
_TOTAL_COLUMNS = {
    "month": "month",
    "target_group": "target_group",
    "domain": "domain",
    "method": "method",
    "county": "county_code",
}


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
        raise MissingPermission(STATS_PERM)
    qs = ServiceRecord.objects.filter(scope_filter(ServiceRecord, user))
    if area_code:
        prefix = user.scope_prefix or "\x00"
        if not area_code.isdigit() or not area_code.startswith(prefix):
            raise Http404
        if area_code != prefix:
            qs = qs.filter(division__code__startswith=area_code)
    return qs


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def whole_months(
    start: date | None, end: date | None
) -> tuple[date | None, date | None, list[tuple[date | None, date | None]]] | None:
    """Split the period ``start``–``end`` (inclusive; None is open) into whole months —
    ``(first, last)``, the first days of the first and last of them (None: open) — and the
    parts of a month at either end, as date ranges. None when it holds no whole month."""
    first = start if start is None or start.day == 1 else _next_month(start)
    if end is None or _next_month(end) - timedelta(days=1) == end:
        last = None if end is None else end.replace(day=1)
        tail = None
    else:
        last = end.replace(day=1) - timedelta(days=1)
        last = last.replace(day=1)
        tail = (end.replace(day=1), end)
    if first is not None and last is not None and first > last:
        return None
    parts = []
    if start is not None and first != start:
        parts.append((start, first - timedelta(days=1)))
    if tail is not None:
        parts.append(tail)
    return first, last, parts


def _cells(
    user,
    *,
    area_code: str | None,
    start: date | None,
    end: date | None,
    keys: Sequence[str],
    poverty: bool = False,
) -> dict[tuple, list[int]]:
    """``{cell key: [person-times, records]}`` over the user's area (or ``area_code``) in
    the period, a cell per combination of ``keys`` (module docstring: which source); with
    ``poverty`` the person-times of poverty-alleviation services only. One statement (the
    parts joined by UNION ALL), so that the totals and the records are read as of one
    moment."""
    records = scoped_records(user, area_code)
    ranges: list[tuple[date | None, date | None]] = [(start, end)]
    names = [f"k_{k}" for k in keys] or ["k_all"]  # a constant key when there are none
    parts = []
    area = area_code or user.scope_prefix or ""
    split = whole_months(start, end) if all(k in _TOTAL_COLUMNS for k in keys) else None
    if area and len(area) <= 6 and split is not None:
        first, last, ranges = split
        totals = ServiceMonthTotal.objects.filter(
            scope_filter(ServiceMonthTotal, user), records__gt=0
        )
        if area_code:
            totals = totals.filter(county_code__startswith=area_code)
        if first is not None:
            totals = totals.filter(month__gte=first)
        if last is not None:
            totals = totals.filter(month__lte=last)
        value = "poverty_person_times" if poverty else "person_times"
        parts.append(
            _grouped(
                totals,
                {f"k_{k}": F(_TOTAL_COLUMNS[k]) for k in keys},
                names,
                Sum(value),
                Sum("records"),
            )
        )
    if poverty:
        records = records.filter(poverty_alleviation=True)
    for low, high in ranges:
        qs = records
        if low is not None:
            qs = qs.filter(served_on__gte=low)
        if high is not None:
            qs = qs.filter(served_on__lte=high)
        keyed = {f"k_{k}": _expression(k) for k in keys}
        parts.append(_grouped(qs, keyed, names, Sum("person_times"), Count("id")))
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        cell = cells[tuple(_plain(row[name]) for name in names) if keys else ()]
        cell[0] += int(row["n_times"] or 0)
        cell[1] += int(row["n_records"] or 0)
    return {key: value for key, value in cells.items() if value[1]}


def _grouped(queryset, keyed: dict, names: list[str], times, count):
    """``queryset`` grouped by the ``keyed`` expressions (or as one group): the columns
    ``names``, then ``n_times`` and ``n_records`` — the same shape for every part."""
    keyed = keyed or {"k_all": Value(1)}
    return (
        queryset.annotate(**keyed)
        .values(*names)
        .annotate(n_times=times, n_records=count)
        .order_by()
    )


def _plain(value):
    """A month from ``TruncMonth`` as a date (some backends give a datetime)."""
    return value.date() if isinstance(value, datetime) else value


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
    cells = _cells(user, area_code=area_code, start=start, end=end, keys=keys)
    return [
        {**dict(zip(keys, key, strict=True)), "person_times": times, "records": records}
        for key, (times, records) in sorted(cells.items())
    ]


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
        row["person_times"], row["records"] = privacy.suppress_cell(
            row["person_times"], row["records"], user
        )
    return rows


def total_person_times(
    user, *, area_code: str | None = None, start: date | None = None, end: date | None = None
) -> dict:
    """The total person-times and records of the user's area in the period."""
    cells = _cells(user, area_code=area_code, start=start, end=end, keys=())
    times, records = cells.get((), (0, 0))
    shown, records = privacy.suppress_cell(times, records, user)
    return {"person_times": shown, "records": records}


def f28_poverty_person_times(user, start: date, end: date) -> int:
    """F28: person-times of poverty-alleviation services in the user's area between
    ``start`` and ``end`` (inclusive) — the sum of ``person_times`` of the records marked
    ``poverty_alleviation``. A published indicator of a whole area: not suppressed."""
    cells = _cells(user, area_code=None, start=start, end=end, keys=(), poverty=True)
    return int(cells.get((), (0, 0))[0])


def month_totals_differences() -> list[dict]:
    """Where the stored ``ServiceMonthTotal`` rows differ from the sums over the service
    records (none while the triggers are on): one ``{"key", "stored", "records"}`` per
    differing county, month, target group, domain and method, each side
    ``(records, person-times, poverty-alleviation person-times)``. Reads every record."""
    poverty = Case(When(poverty_alleviation=True, then=F("person_times")), default=0)
    computed = {
        (r["county"], _plain(r["m"]), r["target_group"], r["domain"], r["method"]): (
            r["n"],
            r["times"],
            r["poverty"],
        )
        for r in ServiceRecord.objects.annotate(
            county=Substr("division__code", 1, 6), m=TruncMonth("served_on")
        )
        .values("county", "m", "target_group", "domain", "method")
        .annotate(n=Count("id"), times=Sum("person_times"), poverty=Sum(poverty))
        .order_by()
    }
    stored = {
        (t.county_code, t.month, t.target_group, t.domain, t.method): (
            t.records,
            t.person_times,
            t.poverty_person_times,
        )
        for t in ServiceMonthTotal.objects.exclude(
            records=0, person_times=0, poverty_person_times=0
        )
    }
    return [
        {"key": key, "stored": stored.get(key), "records": computed.get(key)}
        for key in sorted(computed.keys() | stored.keys())
        if stored.get(key) != computed.get(key)
    ]

"""Reads for the network: facilities in scope, and coverage as of any date.

Coverage is computed from facility status periods and the real division counts, never
from stored counters or typed-in denominators: a facility counts on a date when the period
covering that date has the status "operating".
"""

from __future__ import annotations

import bisect
import calendar
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Left

from shegong.geo.models import CODE_LENGTHS, Division, Kind, Level
from shegong.geo.selectors import division_counts
from shegong.network.models import Facility, FacilityStatus, FacilityStatusPeriod, Tier

PERIOD_TABLE = FacilityStatusPeriod._meta.db_table


def periods_on(day: date, status: str = FacilityStatus.OPERATING) -> QuerySet:
    """Status periods with ``status`` that cover ``day``."""
    return FacilityStatusPeriod.objects.filter(status=status, valid_from__lte=day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=day)
    )


def operating_on(day: date, queryset: QuerySet | None = None) -> QuerySet:
    """Facilities (of ``queryset``) operating on ``day``."""
    queryset = Facility.objects.all() if queryset is None else queryset
    # An uncorrelated IN: the covering periods are found once, not once per facility.
    return queryset.filter(pk__in=periods_on(day).values("facility_id"))


# The whole country is read in ten parts, one per first digit of the division code. Counties
# (and so every figure's groups) never straddle two parts, so the parts' rows are simply put
# together (UNION ALL); the server may then read the parts side by side (a Parallel Append),
# each through its own range of the indexes, as far as its parallel-query settings allow.
NATION_PARTS = [(str(digit), chr(ord("0") + digit + 1)) for digit in range(10)]


def area_parts(prefix: str) -> list[tuple[str, list]]:
    """An area as code conditions (a template on ``{code}``) and their parameters: one
    prefix match for a province, city, county, town or community, one range per first
    digit for the whole country (``prefix`` empty). Each is an index range."""
    if prefix:
        return [("{code} LIKE %s", [f"{prefix}%"])]
    return [("{code} >= %s AND {code} < %s", [low, high]) for low, high in NATION_PARTS]


def operating_periods_where(code_condition: str, *, alias: str = "o") -> str:
    """SQL conditions for the operating periods of an area part that cover a day (the
    part's parameters, then the day twice). They match the partial index
    ``network_period_operating`` (operating periods in division-code order, with copies of
    the facility's tier and the division's code and kind), so a part is a range of it read
    index-only; no other table is joined."""
    return (
        f"{alias}.status = 'operating' AND {code_condition.format(code=f'{alias}.division_code')}"
        f" AND {alias}.valid_from <= %s AND ({alias}.valid_to IS NULL OR {alias}.valid_to > %s)"
    )


def operating_counts_query(*, prefix: str, day: date) -> tuple[str, list]:
    """The statement behind ``operating_counts`` and its parameters.

    Each division counts once per tier, however many of its facilities operated that day
    (one that closed and its successor may overlap): the periods come in division-code
    order from the index, so PostgreSQL drops the repeats on the fly (DISTINCT ON) instead
    of sorting or hashing. A division's facilities are all of one tier (the tier follows
    the division's level, and neither ever changes), so one row per code is enough.
    """
    if connection.vendor == "postgresql":
        distinct = "DISTINCT ON (o.division_code)"
        order = "ORDER BY o.division_code"
    else:  # SQLite: no DISTINCT ON (nor the need for it at its sizes)
        distinct, order = "DISTINCT", ""
    statements, params = [], []
    for condition, part_params in area_parts(prefix):
        statements.append(
            f"""
            SELECT s.tier, s.division_kind, substr(s.division_code, 1, 6), COUNT(*)
            FROM (SELECT {distinct} o.division_code, o.tier, o.division_kind
                  FROM {PERIOD_TABLE} o WHERE {operating_periods_where(condition)} {order}) s
            GROUP BY s.tier, s.division_kind, substr(s.division_code, 1, 6)
            """  # noqa: S608 (identifiers from model meta; values are parameters)
        )
        params += [*part_params, day, day]
    return " UNION ALL ".join(statements), params


def operating_counts(*, prefix: str, day: date) -> list[tuple[str, str, str, int]]:
    """(tier, division kind, county code, divisions with an operating facility) under
    ``prefix`` on ``day``, from the status periods alone (their copies of the facility's
    tier and the division's code and kind)."""
    sql, params = operating_counts_query(prefix=prefix, day=day)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def facility_list(
    *, user, tier=None, status=None, division=None, operator=None, query=None
) -> QuerySet:
    """Facilities the user may see, filtered like the list page and the API."""
    qs = Facility.objects.restrict(user, "view").select_related("division", "operator")
    if tier:
        qs = qs.filter(tier=tier)
    if status:
        qs = qs.filter(status=status)
    if division:
        qs = qs.filter(division__code__startswith=division)
    if operator:
        qs = qs.filter(operator_kind=operator)
    if query:
        qs = qs.filter(
            Q(name__icontains=query.strip()) | Q(division__code__startswith=query.strip())
        )
    return qs.order_by("division__code", "tier")


@dataclass
class Coverage:
    """Coverage of a division's subtree on a date (F1–F3 and their parts)."""

    division_code: str
    as_of: date
    counties: int = 0
    towns: int = 0
    subdistricts: int = 0
    towns_and_townships: int = 0
    communities: int = 0
    urban_communities: int = 0
    rural_communities: int = 0
    centres: int = 0
    stations: int = 0
    stations_in_subdistricts: int = 0
    stations_in_towns_and_townships: int = 0
    rooms: int = 0
    rooms_urban: int = 0
    rooms_rural: int = 0
    fully_covered_counties: list[str] = field(default_factory=list)

    @property
    def fully_covered(self) -> int:
        """F1: counties with both their centre and a station in every town."""
        return len(self.fully_covered_counties)

    @property
    def room_share(self) -> float:
        """F3: share of communities with an operating room (0–1)."""
        return self.rooms / self.communities if self.communities else 0.0

    @property
    def centre_share(self) -> float:
        return self.centres / self.counties if self.counties else 0.0

    @property
    def station_share(self) -> float:
        return self.stations / self.towns if self.towns else 0.0

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "fully_covered_counties"}
        data.update(
            fully_covered=self.fully_covered,
            fully_covered_counties=self.fully_covered_counties,
            room_share=round(self.room_share, 4),
            centre_share=round(self.centre_share, 4),
            station_share=round(self.station_share, 4),
        )
        return data


def coverage(*, division: Division, as_of: date) -> Coverage:
    """Coverage of ``division``'s subtree on ``as_of``."""
    prefix = division.code
    counts = division_counts(division=division)
    result = Coverage(
        division_code=prefix,
        as_of=as_of,
        counties=counts["counties"] + (1 if division.level == Level.COUNTY else 0),
        towns=counts["towns"] + (1 if division.level == Level.TOWN else 0),
        subdistricts=counts[Kind.SUBDISTRICT],
        towns_and_townships=counts["towns_and_townships"] + counts[Kind.OTHER_TOWN],
        communities=counts["communities"] + (1 if division.level == Level.COMMUNITY else 0),
        urban_communities=counts[Kind.URBAN],
        rural_communities=counts[Kind.RURAL],
    )
    if division.level == Level.TOWN:
        result.subdistricts += division.kind == Kind.SUBDISTRICT
        result.towns_and_townships += division.kind != Kind.SUBDISTRICT
    if division.level == Level.COMMUNITY:
        result.urban_communities += division.kind == Kind.URBAN
        result.rural_communities += division.kind == Kind.RURAL
    counts = operating_counts(prefix=prefix, day=as_of)
    for tier, kind, _county, n in counts:
        if tier == Tier.CENTRE:
            result.centres += n
        elif tier == Tier.STATION:
            result.stations += n
            if kind == Kind.SUBDISTRICT:
                result.stations_in_subdistricts += n
            else:
                result.stations_in_towns_and_townships += n
        else:
            result.rooms += n
            if kind == Kind.URBAN:
                result.rooms_urban += n
            elif kind == Kind.RURAL:
                result.rooms_rural += n
    result.fully_covered_counties = fully_covered_counties(
        prefix=prefix, as_of=as_of, counts=counts
    )
    return result


def fully_covered_counties(*, prefix: str, as_of: date, counts=None) -> list[str]:
    """Codes of counties under ``prefix`` with an operating centre and a station in every town."""
    county_len = CODE_LENGTHS[Level.COUNTY]
    if len(prefix) > county_len:
        return []  # F1 is about whole counties
    towns = dict(
        Division.objects.filter(code__startswith=prefix, level=Level.TOWN)
        .annotate(county=Left("code", county_len))
        .values("county")
        .annotate(n=Count("id"))
        .values_list("county", "n")
    )
    counts = operating_counts(prefix=prefix, day=as_of) if counts is None else counts
    stations: dict[str, int] = {}
    centres = set()
    for tier, _kind, county, n in counts:
        if tier == Tier.STATION:
            stations[county] = stations.get(county, 0) + n
        elif tier == Tier.CENTRE:
            centres.add(county)
    return sorted(
        code for code in centres if towns.get(code, 0) and stations.get(code, 0) >= towns[code]
    )


def coverage_by_child(*, user, division: Division, as_of: date) -> list[dict]:
    """One coverage row per child of ``division`` (counties of the city, towns of a county…)."""
    from shegong.geo.selectors import division_children

    children = list(division_children(user=user, division=division))
    if not children:
        return []
    length = len(children[0].code)
    community_len = CODE_LENGTHS[Level.COMMUNITY]
    prefix = division.code
    communities = {
        (row["part"], row["kind"]): row["n"]
        for row in Division.objects.filter(code__startswith=prefix, level=Level.COMMUNITY)
        .annotate(part=Left("code", length))
        .values("part", "kind")
        .annotate(n=Count("id"))
    }
    towns = {
        row["part"]: row["n"]
        for row in Division.objects.filter(code__startswith=prefix, level=Level.TOWN)
        .annotate(part=Left("code", length))
        .values("part")
        .annotate(n=Count("id"))
    }
    operating = operating_on(as_of, Facility.objects.filter(division__code__startswith=prefix))
    facilities = {
        (row["part"], row["tier"]): row["n"]
        for row in operating.annotate(part=Left("division__code", length))
        .values("part", "tier")
        .annotate(n=Count("division_id", distinct=True))
    }
    covered = set(fully_covered_counties(prefix=prefix, as_of=as_of))
    rows = []
    for child in children:
        code = child.code
        n_communities = sum(v for (part, _k), v in communities.items() if part == code)
        if child.level == Level.COMMUNITY:
            n_communities = 1
        rooms = facilities.get((code, Tier.ROOM), 0)
        rows.append(
            {
                "division": child,
                "code": code,
                "name": child.name,
                "level": child.level,
                "kind": child.kind,
                "towns": towns.get(code, 0) if len(code) < CODE_LENGTHS[Level.TOWN] else 0,
                "communities": n_communities if len(code) <= community_len else 0,
                "urban_communities": communities.get((code, Kind.URBAN), 0),
                "rural_communities": communities.get((code, Kind.RURAL), 0),
                "centres": facilities.get((code, Tier.CENTRE), 0),
                "stations": facilities.get((code, Tier.STATION), 0),
                "rooms": rooms,
                "room_share": rooms / n_communities if n_communities else 0.0,
                "fully_covered": code in covered,
            }
        )
    return rows


def month_ends(start: date, end: date) -> list[date]:
    """The last day of every month from ``start``'s month to ``end``'s month."""
    days = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        days.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def coverage_trend(*, division: Division, start: date, end: date) -> list[dict]:
    """Month by month: operating centres, stations and rooms, and the room share (F2, F3).

    One query fetches the operating periods in scope; each period adds one to every month end
    it covers (a difference array), so the cost does not grow with the number of months.
    """
    communities = Division.objects.filter(
        code__startswith=division.code, level=Level.COMMUNITY
    ).count()
    days = month_ends(start, end)
    counts = {tier: [0] * (len(days) + 1) for tier in Tier.values}
    periods = (
        FacilityStatusPeriod.objects.filter(
            status=FacilityStatus.OPERATING,
            division_code__startswith=division.code,
            valid_from__lte=days[-1] if days else end,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=days[0] if days else start))
        .values_list("tier", "valid_from", "valid_to")
    )
    for tier, valid_from, valid_to in periods:
        first = bisect.bisect_left(days, valid_from)  # first month end on or after the start
        last = bisect.bisect_left(days, valid_to) if valid_to else len(days)  # ends before
        if first < last:
            counts[tier][first] += 1
            counts[tier][last] -= 1
    running = {tier: 0 for tier in Tier.values}
    points = []
    for index, day in enumerate(days):
        for tier in Tier.values:
            running[tier] += counts[tier][index]
        rooms = running[Tier.ROOM]
        points.append(
            {
                "month": day.strftime("%Y-%m"),
                "centres": running[Tier.CENTRE],
                "stations": running[Tier.STATION],
                "rooms": rooms,
                "room_share": round(rooms / communities, 4) if communities else 0.0,
            }
        )
    return points


def facility_history(*, facility: Facility) -> QuerySet:
    """A facility's status periods, oldest first."""
    return facility.periods.order_by("valid_from")


def overdue_fixes(*, user, today: date) -> QuerySet:
    """Required fixes past their deadline that the user's facility must follow up."""
    from shegong.network.models import RequiredFix

    return (
        RequiredFix.objects.restrict(user, "view")
        .filter(resolved_on__isnull=True, deadline__lt=today)
        .select_related("visit__supervised", "visit__supervisor")
    )

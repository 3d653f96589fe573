"""Reads for the workforce: the registry in scope, and staffing compliance as of a date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Count, Q, QuerySet

from shegong.geo.models import Division, Kind
from shegong.network.models import Facility, FacilityStatusPeriod, StaffingStandard, Tier
from shegong.network.selectors import operating_on
from shegong.workforce.models import GRASSROOTS_WORKPLACES, Employment, Posting, SocialWorker


def social_worker_list(*, user, query: str = "", qualification: str = "") -> QuerySet:
    """Social workers in scope, by name (exact ID search goes through the look-up hash)."""
    qs = SocialWorker.objects.restrict(user, "view").select_related("division")
    if query:
        qs = qs.filter(name__icontains=query.strip())
    if qualification:
        qs = qs.filter(qualification_level=qualification)
    return qs.order_by("name", "id")


def full_time_postings_on(day: date) -> QuerySet:
    """Full-time postings active on ``day``."""
    return Posting.objects.filter(employment=Employment.FULL_TIME, started_on__lte=day).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=day)
    )


def standards_on(day: date) -> dict[tuple[str, str], StaffingStandard]:
    """The standard in force on ``day`` for each (tier, division kind)."""
    in_force: dict[tuple[str, str], StaffingStandard] = {}
    for standard in StaffingStandard.objects.filter(effective_from__lte=day).order_by(
        "effective_from"
    ):
        in_force[(standard.tier, standard.division_kind)] = standard
    return in_force


def standard_kind(tier: str, division_kind: str) -> str:
    """The division kind a facility's standard is looked up by."""
    if tier == Tier.CENTRE:
        return ""
    if tier == Tier.ROOM and division_kind not in (Kind.URBAN, Kind.RURAL):
        return Kind.RURAL  # an unclassified community is held to the rural standard
    return division_kind


@dataclass
class FacilityCompliance:
    """One operating facility's full-time staff against its standard."""

    facility_id: int
    name: str
    tier: str
    division_code: str
    division_kind: str
    required: int | None
    posted: int

    @property
    def meets(self) -> bool:
        return self.required is not None and self.posted >= self.required

    @property
    def gap(self) -> int:
        return max(0, (self.required or 0) - self.posted)


@dataclass
class Compliance:
    """Compliance of a division's subtree on a date."""

    as_of: date
    facilities: int = 0
    meeting: int = 0
    gap: int = 0
    by_tier: dict[str, dict[str, int]] = field(default_factory=dict)
    by_county: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: list[FacilityCompliance] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.meeting / self.facilities if self.facilities else 0.0

    def as_dict(self, with_rows: bool = False) -> dict:
        data = {
            "as_of": self.as_of,
            "facilities": self.facilities,
            "meeting": self.meeting,
            "share": round(self.share, 4),
            "gap": self.gap,
            "by_tier": self.by_tier,
            "by_county": self.by_county,
        }
        if with_rows:
            data["rows"] = [{**r.__dict__, "meets": r.meets, "gap": r.gap} for r in self.rows]
        return data


def _required_sql(standards: dict[tuple[str, str], StaffingStandard]) -> str:
    """SQL for the minimum full-time workers of facility ``f`` in division ``d``."""

    def minimum(tier: str, kind: str) -> str:
        standard = standards.get((tier, kind))
        return str(int(standard.min_full_time)) if standard else "NULL"

    station_kinds = (Kind.SUBDISTRICT, Kind.TOWN, Kind.TOWNSHIP, Kind.OTHER_TOWN)
    cases = [f"WHEN f.tier = 'centre' THEN {minimum(Tier.CENTRE, '')}"]
    cases += [
        f"WHEN f.tier = 'station' AND d.kind = '{kind}' THEN {minimum(Tier.STATION, kind)}"
        for kind in station_kinds
    ]
    cases.append(f"WHEN f.tier = 'room' AND d.kind = 'urban' THEN {minimum(Tier.ROOM, Kind.URBAN)}")
    # an unclassified community is held to the rural standard
    cases.append(f"WHEN f.tier = 'room' THEN {minimum(Tier.ROOM, Kind.RURAL)}")
    # typed, so that a date with no standard in force (all NULL) still compares as a number
    return "CAST(CASE " + " ".join(cases) + " END AS INTEGER)"


def compliance_sql(standards: dict[tuple[str, str], StaffingStandard]) -> str:
    """One grouped query: operating facilities, meeting the standard, and the gap, by tier
    and county. Parameters: the division code prefix pattern, then the date four times.

    The facilities in scope are found first (the code prefix uses the index), then only
    their periods and postings are read, so a city costs little in a national database.
    """
    required = _required_sql(standards).replace("f.tier", "op.tier").replace("d.kind", "op.kind")
    posted = "COALESCE(p.n, 0)"
    facility = Facility._meta.db_table
    return f"""
        WITH scope AS MATERIALIZED (
            SELECT f.id, f.tier, d.kind, substr(d.code, 1, 6) AS county
            FROM {facility} f JOIN {Division._meta.db_table} d ON d.id = f.division_id
            WHERE d.code LIKE %s
        ), op AS MATERIALIZED (
            SELECT s.* FROM scope s WHERE EXISTS (
                SELECT 1 FROM {FacilityStatusPeriod._meta.db_table} o
                WHERE o.facility_id = s.id AND o.status = 'operating' AND o.valid_from <= %s
                  AND (o.valid_to IS NULL OR o.valid_to > %s))
        ), p AS (
            SELECT po.facility_id, COUNT(DISTINCT po.worker_id) AS n
            FROM {Posting._meta.db_table} po JOIN op ON op.id = po.facility_id
            WHERE po.employment = 'full_time' AND po.started_on <= %s
              AND (po.ended_on IS NULL OR po.ended_on > %s)
            GROUP BY po.facility_id
        )
        SELECT op.tier, op.county, COUNT(*) AS facilities,
               SUM(CASE WHEN {posted} >= ({required}) THEN 1 ELSE 0 END) AS meeting,
               SUM(CASE WHEN ({required}) > {posted} THEN ({required}) - {posted} ELSE 0 END)
                   AS gap
        FROM op LEFT JOIN p ON p.facility_id = op.id
        GROUP BY op.tier, op.county
    """  # noqa: S608 (identifiers from model meta; values are parameters)


def _portable(sql: str) -> str:
    """SQLite has no MATERIALIZED hint on CTEs (it decides by itself)."""
    if connection.vendor == "sqlite":
        return sql.replace(" AS MATERIALIZED (", " AS (")
    return sql


def compliance(*, division: Division, as_of: date, keep_rows: bool = False) -> Compliance:
    """Operating facilities in the subtree: full-time workers posted vs the standard in force.

    Totals come from one grouped SQL query (fast at national scale); ``keep_rows`` also
    lists every facility, for small areas and the facility pages.
    """
    standards = standards_on(as_of)
    result = Compliance(as_of=as_of)
    with connection.cursor() as cursor:
        cursor.execute(
            _portable(compliance_sql(standards)),
            [f"{division.code}%", as_of, as_of, as_of, as_of],
        )
        for tier, county, facilities, meeting, gap in cursor.fetchall():
            result.facilities += facilities
            result.meeting += int(meeting or 0)
            result.gap += int(gap or 0)
            for bucket in (
                result.by_tier.setdefault(tier, {"facilities": 0, "meeting": 0, "gap": 0}),
                result.by_county.setdefault(county, {"facilities": 0, "meeting": 0, "gap": 0}),
            ):
                bucket["facilities"] += facilities
                bucket["meeting"] += int(meeting or 0)
                bucket["gap"] += int(gap or 0)
    if keep_rows:
        result.rows = compliance_rows(division=division, as_of=as_of, standards=standards)
    return result


def compliance_rows(*, division: Division, as_of: date, standards=None) -> list[FacilityCompliance]:
    """Every operating facility of the subtree with its staff against its standard."""
    standards = standards if standards is not None else standards_on(as_of)
    facilities = operating_on(
        as_of, Facility.objects.filter(division__code__startswith=division.code)
    )
    posted = dict(
        full_time_postings_on(as_of)
        .filter(facility__division__code__startswith=division.code)
        .values("facility_id")
        .annotate(n=Count("worker_id", distinct=True))
        .values_list("facility_id", "n")
    )
    rows = []
    for pk, name, tier, code, kind in facilities.values_list(
        "pk", "name", "tier", "division__code", "division__kind"
    ).iterator(chunk_size=10000):
        standard = standards.get((tier, standard_kind(tier, kind)))
        rows.append(
            FacilityCompliance(
                pk,
                name,
                tier,
                code,
                kind,
                standard.min_full_time if standard else None,
                posted.get(pk, 0),
            )
        )
    return rows


def grassroots_professionals(*, division: Division, as_of: date) -> dict[str, int]:
    """F15/F16: social workers with a posting on ``as_of`` in the area, and how many of them
    work in grassroots self-governing or community service organisations (each person
    counted once, whatever their number of postings)."""
    active = (
        Posting.objects.filter(started_on__lte=as_of)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=as_of))
        .filter(
            Q(facility__division__code__startswith=division.code)
            | Q(facility__isnull=True, worker__division__code__startswith=division.code)
        )
    )
    return {
        "professionals": active.values("worker_id").distinct().count(),
        "grassroots": active.filter(workplace_type__in=GRASSROOTS_WORKPLACES)
        .values("worker_id")
        .distinct()
        .count(),
    }

"""Reads for the workforce: the registry in scope, and staffing compliance as of a date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr

from shegong.geo.models import Division, Kind
from shegong.network.models import Facility, FacilityStatusPeriod, StaffingStandard, Tier
from shegong.network.selectors import area_parts, operating_on, operating_periods_where
from shegong.workforce import models as wm
from shegong.workforce.models import (
    GRASSROOTS_WORKPLACES,
    ContinuingEducation,
    Education,
    Employment,
    Posting,
    QualificationLevel,
    RegistrationPeriod,
    RegistrationStatus,
    SocialWorker,
    WorkplaceType,
)


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
    """The standard in force on ``day`` for each (tier, division kind): the latest version
    started on or before it, unless that version was ended on or before it."""
    latest: dict[tuple[str, str], StaffingStandard] = {}
    for standard in StaffingStandard.objects.filter(effective_from__lte=day).order_by(
        "effective_from"
    ):
        latest[(standard.tier, standard.division_kind)] = standard
    return {
        key: standard
        for key, standard in latest.items()
        if standard.ended_on is None or standard.ended_on > day
    }


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


def compliance_query(
    standards: dict[tuple[str, str], StaffingStandard], *, prefix: str, day: date
) -> tuple[str, list]:
    """One grouped statement (and its parameters): operating facilities by tier, division
    kind, county and full-time workers posted (counted up to the highest minimum of
    ``standards``, which is all that decides meeting and gap).

    Both sides are read index-only from their own table, in (division code, facility)
    order, and merged: the operating periods (``network_period_operating``, which carry the
    facility's tier and the division's code and kind) and the full-time postings active
    that day (``workforce_posting_full_time``, which carry the facility's division code).
    Each facility's postings are counted as the merged rows stream by, in that order, so
    nothing is hashed or sorted but the final groups. Neither facilities nor divisions are
    joined, and an area (or each part of the country, see ``network.selectors.area_parts``)
    is a range of both indexes.

    Each operating facility is one period row (a facility's periods follow one another, see
    ``network.services.facility_change_status``), and a person holds at most one full-time
    posting at a time (``workforce.services.posting_create``; an open one also by a unique
    index), so plain counts are the numbers of facilities and of people.
    """
    cap = max((int(s.min_full_time) for s in standards.values()), default=0)
    statements, params = [], []
    for condition, part_params in area_parts(prefix):
        statements.append(
            f"""
            SELECT f.tier, f.division_kind, substr(f.division_code, 1, 6),
                   CASE WHEN f.posted < {cap} THEN f.posted ELSE {cap} END, COUNT(*)
            FROM (
                SELECT o.division_code, o.tier, o.division_kind, COUNT(po.facility_id) AS posted
                FROM {FacilityStatusPeriod._meta.db_table} o
                LEFT JOIN {Posting._meta.db_table} po
                  ON po.facility_division_code = o.division_code
                 AND po.facility_id = o.facility_id
                 AND po.employment = 'full_time' AND po.facility_division_code <> ''
                 AND {condition.format(code="po.facility_division_code")}
                 AND po.started_on <= %s AND (po.ended_on IS NULL OR po.ended_on > %s)
                WHERE {operating_periods_where(condition)}
                GROUP BY o.division_code, o.facility_id, o.tier, o.division_kind
            ) f
            GROUP BY f.tier, f.division_kind, substr(f.division_code, 1, 6),
                     CASE WHEN f.posted < {cap} THEN f.posted ELSE {cap} END
            """  # noqa: S608 (identifiers from model meta; values are parameters)
        )
        params += [*part_params, day, day, *part_params, day, day]
    return " UNION ALL ".join(statements), params


def compliance(*, division: Division, as_of: date, keep_rows: bool = False) -> Compliance:
    """Operating facilities in the subtree: full-time workers posted vs the standard in force.

    Totals come from one grouped SQL query (fast at national scale); ``keep_rows`` also
    lists every facility, for small areas and the facility pages.
    """
    standards = standards_on(as_of)
    result = Compliance(as_of=as_of)
    sql, params = compliance_query(standards, prefix=division.code, day=as_of)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for tier, kind, county, posted, facilities in rows:
        standard = standards.get((tier, standard_kind(tier, kind)))
        required = standard.min_full_time if standard else None
        meeting = facilities if required is not None and posted >= required else 0
        gap = facilities * (required - posted) if required is not None and required > posted else 0
        result.facilities += facilities
        result.meeting += meeting
        result.gap += gap
        for bucket in (
            result.by_tier.setdefault(tier, {"facilities": 0, "meeting": 0, "gap": 0}),
            result.by_county.setdefault(county, {"facilities": 0, "meeting": 0, "gap": 0}),
        ):
            bucket["facilities"] += facilities
            bucket["meeting"] += meeting
            bucket["gap"] += gap
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


# --- The registry pages and the workforce dashboard (issue #4, item 7) -----------------------

CE_COMPLETE = "complete"
CE_SHORT = "short"
CE_NOT_REGISTERED = "not_registered"
CE_STATUSES = (CE_COMPLETE, CE_SHORT, CE_NOT_REGISTERED)

QUALIFICATION_ORDER = (
    QualificationLevel.NONE,
    QualificationLevel.ASSISTANT,
    QualificationLevel.SOCIAL_WORKER,
    QualificationLevel.SENIOR,
)
REGISTRY_SORTS = ("name", "-name", "qualification", "-qualification", "division", "-division")


def _active_on(day: date) -> Q:
    """Postings active on ``day`` (started, not yet ended)."""
    return Q(started_on__lte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gt=day))


def postings_in_area(*, division: Division, as_of: date) -> QuerySet:
    """Postings active on ``as_of`` in the area, by the F15/F16 rule: at a facility in the
    subtree, or at another workplace for a person registered in it."""
    return Posting.objects.filter(_active_on(as_of)).filter(
        Q(facility__division__code__startswith=division.code)
        | Q(facility__isnull=True, worker__division__code__startswith=division.code)
    )


def with_ce_status(queryset: QuerySet, *, today: date) -> QuerySet:
    """Annotate social workers with ``ce_status`` (complete / short / not_registered) in the
    registration period containing ``today``, in SQL, by the rule of ``workforce.ce``:

    - the current period is the non-cancelled period with ``starts_on <= today <= ends_on``;
    - earned hours are the credits completed within it (both ends included);
    - the degree credit goes to it if the person's first social work degree was completed
      on or before its end and no earlier non-cancelled period had not ended by then;
    - required hours follow the current qualification (72 / 90 / 90, none: 0).

    Also annotates ``ce_required``, ``ce_total`` and ``ce_end`` (for display and tests).
    Correlated subqueries per person, evaluated by the database (no Python loop).
    """
    from shegong.workforce.ce import DEGREE_CREDIT, REQUIRED_HOURS

    periods = RegistrationPeriod.objects.exclude(status=RegistrationStatus.CANCELLED)
    current = periods.filter(
        worker=OuterRef("pk"), starts_on__lte=today, ends_on__gte=today
    ).order_by("starts_on")
    queryset = queryset.annotate(
        ce_start=Subquery(current.values("starts_on")[:1]),
        ce_end=Subquery(current.values("ends_on")[:1]),
        ce_first_degree=Subquery(
            Education.objects.filter(worker=OuterRef("pk"), social_work_major=True)
            .order_by("graduated_on")
            .values("graduated_on")[:1]
        ),
    )
    earned = (
        ContinuingEducation.objects.filter(
            worker=OuterRef("pk"),
            completed_on__gte=OuterRef("ce_start"),
            completed_on__lte=OuterRef("ce_end"),
        )
        .order_by()
        .values("worker")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    earlier_degree_period = periods.filter(
        worker=OuterRef("pk"),
        starts_on__lt=OuterRef("ce_start"),
        ends_on__gte=OuterRef("ce_first_degree"),
    )
    decimal = DecimalField(max_digits=8, decimal_places=1)
    required = Case(
        *(
            When(qualification_level=level, then=Value(int(hours)))
            for level, hours in REQUIRED_HOURS.items()
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    queryset = queryset.annotate(
        ce_required=required,
        ce_earned=Coalesce(Subquery(earned, output_field=decimal), Value(0), output_field=decimal),
        ce_degree_credit=Case(
            When(
                ~Exists(earlier_degree_period),
                ce_first_degree__lte=F("ce_end"),
                then=Value(int(DEGREE_CREDIT)),
            ),
            default=Value(0),
            output_field=IntegerField(),
        ),
    )
    queryset = queryset.annotate(
        ce_total=ExpressionWrapper(F("ce_earned") + F("ce_degree_credit"), output_field=decimal)
    )
    return queryset.annotate(
        ce_status=Case(
            When(ce_start__isnull=True, then=Value(CE_NOT_REGISTERED)),
            When(ce_total__gte=F("ce_required"), then=Value(CE_COMPLETE)),
            default=Value(CE_SHORT),
            output_field=CharField(),
        )
    )


def qualification_rank():
    """An expression ranking a person's qualification level (none lowest, senior highest)."""
    return Case(
        *(
            When(qualification_level=level, then=Value(i))
            for i, level in enumerate(QUALIFICATION_ORDER)
        ),
        default=Value(0),
        output_field=IntegerField(),
    )


def registry_list(
    *,
    user,
    today: date,
    query: str = "",
    qualification: str = "",
    workplace: str = "",
    facility_id: int | None = None,
    division: str = "",
    ce: str = "",
    sort: str = "name",
) -> QuerySet:
    """The registry page's list: social workers in scope, by name (contains) or certificate
    number (exact), narrowed by qualification, workplace type or facility of a current
    posting, registration division subtree and continuing-education status, sorted.

    An exact national-ID search is not done here: it goes through the keyed hash
    (``services.social_worker_find_by_national_id``) and the caller narrows to that person.
    """
    qs = SocialWorker.objects.restrict(user, "view").select_related("division")
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(certificate_number=query))
    if qualification:
        qs = qs.filter(qualification_level=qualification)
    if workplace:
        qs = qs.filter(
            Exists(
                Posting.objects.filter(
                    _active_on(today), worker=OuterRef("pk"), workplace_type=workplace
                )
            )
        )
    if facility_id:
        qs = qs.filter(
            Exists(
                Posting.objects.filter(
                    _active_on(today), worker=OuterRef("pk"), facility_id=facility_id
                )
            )
        )
    if division:
        qs = qs.filter(division__code__startswith=division)
    qs = with_ce_status(qs, today=today)
    if ce:
        qs = qs.filter(ce_status=ce)
    rank = qualification_rank()
    order = {
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
        "qualification": (rank.asc(), "name", "id"),
        "-qualification": (rank.desc(), "name", "id"),
        "division": ("division__code", "name", "id"),
        "-division": ("-division__code", "name", "id"),
    }.get(sort, ("name", "id"))
    return qs.order_by(*order)


def headcount_by_qualification(*, division: Division, as_of: date) -> dict[str, int]:
    """People with a posting on ``as_of`` in the area (F15's people), by qualification
    level; each person counted once. The values add up to F15."""
    people = SocialWorker.objects.filter(
        pk__in=postings_in_area(division=division, as_of=as_of).values("worker_id")
    )
    counts = dict.fromkeys(QUALIFICATION_ORDER, 0)
    for level, n in (
        people.order_by()
        .values("qualification_level")
        .annotate(n=Count("id"))
        .values_list("qualification_level", "n")
    ):
        counts[level] = n
    return {str(level): n for level, n in counts.items()}


def headcount_by_workplace(*, division: Division, as_of: date) -> dict[str, int]:
    """People with a posting on ``as_of`` in the area, by the workplace type of their main
    posting there (full-time before part-time, then the latest started); each person
    counted once, so the values add up to F15. (F16 counts anyone with *a* grassroots
    posting, so it can exceed the grassroots figures here.)"""
    in_area = postings_in_area(division=division, as_of=as_of)
    main = (
        in_area.filter(worker=OuterRef("pk"))
        .order_by(
            Case(When(employment=Employment.FULL_TIME, then=Value(0)), default=Value(1)),
            "-started_on",
            "-id",
        )
        .values("workplace_type")[:1]
    )
    counts = dict.fromkeys(WorkplaceType.values, 0)
    rows = (
        SocialWorker.objects.filter(pk__in=in_area.values("worker_id"))
        .annotate(workplace=Subquery(main))
        .order_by()
        .values("workplace")
        .annotate(n=Count("id"))
        .values_list("workplace", "n")
    )
    for workplace, n in rows:
        counts[workplace] = counts.get(workplace, 0) + n
    return counts


def headcount_by_child(*, division: Division, as_of: date, codes: list[str]) -> dict[str, int]:
    """People with a posting on ``as_of`` under each of ``codes`` (the division's children),
    by the F15 rule; a person is counted once per child. One grouped query per code
    length (normally one)."""
    area_code = Case(
        When(facility__isnull=True, then=F("worker__division__code")),
        default=F("facility__division__code"),
        output_field=CharField(),
    )
    wanted = set(codes)
    result = dict.fromkeys(codes, 0)
    for length in sorted({len(code) for code in codes}):
        rows = (
            postings_in_area(division=division, as_of=as_of)
            .annotate(child=Substr(area_code, 1, length))
            .order_by()
            .values("child")
            .annotate(n=Count("worker_id", distinct=True))
            .values_list("child", "n")
        )
        for child, n in rows:
            if child in wanted:
                result[child] = n
    return result


def ce_compliance_summary(*, division: Division, today: date) -> dict[str, int]:
    """Continuing education of the people registered in the subtree, in the registration
    period containing ``today``: how many are complete, short, or have no current period.

    The same rule as ``with_ce_status`` but read from the current periods themselves (their
    dates are columns, not subqueries repeated per person), grouped in one query: fast for
    the whole city."""
    from shegong.workforce.ce import DEGREE_CREDIT, REQUIRED_HOURS

    periods = RegistrationPeriod.objects.exclude(status=RegistrationStatus.CANCELLED)
    current = periods.filter(starts_on__lte=today, ends_on__gte=today)
    # the current period of each person: the earliest one (as ``with_ce_status``)
    current = current.filter(worker__division__code__startswith=division.code).exclude(
        Exists(
            periods.filter(
                worker=OuterRef("worker_id"), starts_on__lte=today, ends_on__gte=today
            ).filter(
                Q(starts_on__lt=OuterRef("starts_on"))
                | Q(starts_on=OuterRef("starts_on"), pk__lt=OuterRef("pk"))
            )
        )
    )
    decimal = DecimalField(max_digits=8, decimal_places=1)
    earned = (
        ContinuingEducation.objects.filter(
            worker=OuterRef("worker_id"),
            completed_on__gte=OuterRef("starts_on"),
            completed_on__lte=OuterRef("ends_on"),
        )
        .order_by()
        .values("worker")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    first_degree = (
        Education.objects.filter(worker=OuterRef("worker_id"), social_work_major=True)
        .order_by("graduated_on")
        .values("graduated_on")[:1]
    )
    required = Case(
        *(
            When(worker__qualification_level=level, then=Value(int(hours)))
            for level, hours in REQUIRED_HOURS.items()
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    rows = (
        current.annotate(first_degree=Subquery(first_degree))
        .annotate(
            degree_credit=Case(
                When(
                    ~Exists(
                        periods.filter(
                            worker=OuterRef("worker_id"),
                            starts_on__lt=OuterRef("starts_on"),
                            ends_on__gte=OuterRef("first_degree"),
                        )
                    ),
                    first_degree__lte=F("ends_on"),
                    then=Value(int(DEGREE_CREDIT)),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .annotate(
            ce_total=ExpressionWrapper(
                Coalesce(Subquery(earned, output_field=decimal), Value(0), output_field=decimal)
                + F("degree_credit"),
                output_field=decimal,
            ),
            ce_required=required,
        )
        .annotate(
            ce_status=Case(
                When(ce_total__gte=F("ce_required"), then=Value(CE_COMPLETE)),
                default=Value(CE_SHORT),
                output_field=CharField(),
            )
        )
        .order_by()
        .values("ce_status")
        .annotate(n=Count("id"))
        .values_list("ce_status", "n")
    )
    counts = dict.fromkeys(CE_STATUSES, 0)
    for status, n in rows:
        counts[status] = n
    counts["registered"] = counts[CE_COMPLETE] + counts[CE_SHORT]
    counts["people"] = SocialWorker.objects.filter(division__code__startswith=division.code).count()
    counts[CE_NOT_REGISTERED] = counts["people"] - counts["registered"]
    return counts


def per_10k(count: int, population: int | None) -> float | None:
    """``count`` per 10,000 residents, or None when the population is unknown."""
    if not population:
        return None
    return round(count * 10000 / population, 2)


# --- Talent: training, honours, universities, dispatches (issue #4) -------------------------

# Which award schemes the figures F17–F19 count, by the scheme's category.
FIGURE_CATEGORIES: dict[str, str] = {
    "F17": wm.HonourCategory.OUTSTANDING_CONTRIBUTION,
    "F18": wm.HonourCategory.FAMOUS_MASTER,
    "F19": wm.HonourCategory.NATIONAL_LEADING,
}


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def programme_list(*, user) -> QuerySet:
    """Training programmes in scope, newest first."""
    return wm.TrainingProgramme.objects.restrict(user, "view").select_related("division")


def course_list(
    *,
    user,
    division: Division | None = None,
    year: int | None = None,
    audience: str = "",
    programme_id: int | None = None,
) -> QuerySet:
    """Courses in scope (of ``division``'s subtree, starting in ``year``), newest first."""
    qs = wm.Course.objects.restrict(user, "view").select_related("division", "programme")
    if division is not None:
        qs = qs.filter(division__code__startswith=division.code)
    if year:
        qs = qs.filter(starts_on__year=year)
    if audience:
        qs = qs.filter(audience=audience)
    if programme_id:
        qs = qs.filter(programme_id=programme_id)
    return qs.order_by("-starts_on", "id")


def enrolment_list(*, user, course_id: int | None = None, worker_id: int | None = None):
    """Enrolments in scope (personal data: who attended what)."""
    qs = wm.Enrolment.objects.restrict(user, "view").select_related("course", "worker")
    if course_id:
        qs = qs.filter(course_id=course_id)
    if worker_id:
        qs = qs.filter(worker_id=worker_id)
    return qs.order_by("course_id", "worker__name", "id")


def training_person_times(
    *, division: Division, year_from: int | None = None, year_to: int | None = None
) -> dict[int, dict[str, int]]:
    """Person-times trained per year and audience (F12 leading cadres, F14 specialists) in
    courses held in the subtree: attended enrolments plus each course's external head-count,
    counted in the year the course starts. One person on two courses counts twice.

    Every year of the range (when both ends are given) and every audience is present."""
    courses = wm.Course.objects.filter(division__code__startswith=division.code)
    if year_from is not None:
        courses = courses.filter(starts_on__gte=date(year_from, 1, 1))
    if year_to is not None:
        courses = courses.filter(starts_on__lte=date(year_to, 12, 31))
    result: dict[int, dict[str, int]] = {}
    if year_from is not None and year_to is not None:
        for year in range(year_from, year_to + 1):
            result[year] = dict.fromkeys(wm.Audience.values, 0)

    def add(year: int, audience: str, n: int) -> None:
        result.setdefault(year, dict.fromkeys(wm.Audience.values, 0))
        result[year][audience] = result[year].get(audience, 0) + int(n or 0)

    for row in (
        courses.values("starts_on__year", "audience")
        .annotate(n=Sum("external_headcount"))
        .order_by()
    ):
        add(row["starts_on__year"], row["audience"], row["n"])
    for row in (
        wm.Enrolment.objects.filter(course__in=courses, attended=True)
        .values("course__starts_on__year", "course__audience")
        .annotate(n=Count("id"))
        .order_by()
    ):
        add(row["course__starts_on__year"], row["course__audience"], row["n"])
    return dict(sorted(result.items()))


def programme_years(
    programme, *, division: Division | None = None, until: int | None = None
) -> int:
    """F13: the longest run of consecutive years, within the programme's years (and up to
    ``until``), in which the programme had at least one course (held in ``division``'s
    subtree, when given)."""
    courses = wm.Course.objects.filter(
        programme=programme,
        starts_on__gte=date(programme.first_year, 1, 1),
        starts_on__lte=date(programme.last_year, 12, 31),
    )
    if division is not None:
        courses = courses.filter(division__code__startswith=division.code)
    if until is not None:
        courses = courses.filter(starts_on__lte=date(until, 12, 31))
    years = sorted(set(courses.values_list("starts_on__year", flat=True)))
    best = run = 0
    previous = None
    for year in years:
        run = run + 1 if previous is not None and year == previous + 1 else 1
        best = max(best, run)
        previous = year
    return best


def programmes_for(division: Division) -> QuerySet:
    """Programmes that apply to a division: run by it, by an area it lies in, or below it."""
    return wm.TrainingProgramme.objects.filter(
        Q(division__code__in=[*division.ancestor_codes(), division.code])
        | Q(division__code__startswith=division.code)
    )


def award_scheme_list(*, user) -> QuerySet:
    """Award schemes in scope."""
    return wm.AwardScheme.objects.restrict(user, "view").select_related("division")


def award_list(*, user, year: int | None = None, scheme_id: int | None = None) -> QuerySet:
    """Awards in scope (of people registered in the user's area), newest first."""
    qs = wm.Award.objects.restrict(user, "view").select_related("scheme", "worker")
    if year:
        qs = qs.filter(year=year)
    if scheme_id:
        qs = qs.filter(scheme_id=scheme_id)
    return qs.order_by("-year", "scheme__name", "worker__name", "id")


def _per_person(total: Decimal, people: int) -> Decimal | None:
    return (total / people).quantize(Decimal("0.01")) if people else None


def honours_summary(*, division: Division, year: int | None = None) -> list[dict]:
    """Per award scheme: people honoured (registered in the subtree; in ``year`` or ever),
    awards, reward total, reward paid (``paid_on`` set) and reward per person."""
    awards = wm.Award.objects.filter(worker__division__code__startswith=division.code)
    if year:
        awards = awards.filter(year=year)
    rows = (
        awards.values("scheme_id", "scheme__name", "scheme__level")
        .annotate(
            people=Count("worker_id", distinct=True),
            awards=Count("id"),
            total=Sum("reward_amount"),
            paid=Sum("reward_amount", filter=Q(paid_on__isnull=False)),
        )
        .order_by("scheme__level", "scheme__name")
    )
    return [
        {
            "scheme_id": row["scheme_id"],
            "name": row["scheme__name"],
            "level": row["scheme__level"],
            "people": row["people"],
            "awards": row["awards"],
            "total": row["total"] or Decimal("0.00"),
            "paid": row["paid"] or Decimal("0.00"),
            "per_person": _per_person(row["total"] or Decimal(0), row["people"]),
        }
        for row in rows
    ]


def honours_figures(
    *, division: Division, year: int | None = None, until: int | None = None
) -> dict:
    """F17–F19 (people honoured by schemes of each category in ``FIGURE_CATEGORIES``), F20
    (the reward per famous master) and the totals awarded and paid, for the subtree, in
    ``year``, up to and including ``until``, or ever."""
    awards = wm.Award.objects.filter(worker__division__code__startswith=division.code)
    if year:
        awards = awards.filter(year=year)
    if until:
        awards = awards.filter(year__lte=until)
    figures: dict = {}
    for key, category in FIGURE_CATEGORIES.items():
        figures[key] = (
            awards.filter(scheme__category=category).values("worker_id").distinct().count()
        )
    masters = awards.filter(scheme__category=wm.HonourCategory.FAMOUS_MASTER).aggregate(
        total=Sum("reward_amount"), people=Count("worker_id", distinct=True)
    )
    figures["F20"] = _per_person(masters["total"] or Decimal(0), masters["people"])
    totals = awards.aggregate(
        total=Sum("reward_amount"),
        paid=Sum("reward_amount", filter=Q(paid_on__isnull=False)),
        people=Count("worker_id", distinct=True),
    )
    total = totals["total"] or Decimal("0.00")
    figures["reward_per_person"] = _per_person(total, totals["people"])
    figures["rewards_total"] = total
    figures["rewards_paid"] = totals["paid"] or Decimal("0.00")
    figures["honoured"] = totals["people"]
    return figures


def university_list(*, user) -> QuerySet:
    """Universities in scope with their programmes, bases and cohorts."""
    return (
        wm.University.objects.restrict(user, "view")
        .select_related("division")
        .prefetch_related("programmes", "bases", "cohorts")
        .order_by("name")
    )


def university_summary(*, division: Division, year: int | None = None) -> dict:
    """F9: universities (in the subtree) with a social work degree programme (running by
    ``year``); F10: universities running a funded municipal innovation base (in ``year``, or
    ever); F11: social work graduates (in ``year``, or all years)."""
    universities = wm.University.objects.filter(division__code__startswith=division.code)
    programmes = wm.DegreeProgramme.objects.filter(university__in=universities)
    bases = wm.InnovationBase.objects.filter(university__in=universities, funded_amount__gt=0)
    cohorts = wm.GraduateCohort.objects.filter(university__in=universities)
    if year:
        programmes = programmes.filter(Q(since_year__isnull=True) | Q(since_year__lte=year))
        bases = bases.filter(first_year__lte=year, last_year__gte=year)
        cohorts = cohorts.filter(year=year)
    return {
        "F9": programmes.values("university_id").distinct().count(),
        "F10": bases.values("university_id").distinct().count(),
        "F11": cohorts.aggregate(n=Sum("graduates"))["n"] or 0,
        "base_funding": bases.aggregate(n=Sum("funded_amount"))["n"] or Decimal("0.00"),
    }


def dispatch_list(
    *, user, year: int | None = None, active_on: date | None = None, worker_id: int | None = None
) -> QuerySet:
    """Dispatches in scope (sent from or to the user's area), newest first."""
    qs = wm.Dispatch.objects.restrict(user, "view").select_related("worker", "host_division")
    if year:
        first, last = _year_bounds(year)
        qs = qs.filter(starts_on__lte=last).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=first))
    if active_on:
        qs = qs.filter(starts_on__lte=active_on).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gt=active_on)
        )
    if worker_id:
        qs = qs.filter(worker_id=worker_id)
    return qs.order_by("-starts_on", "id")


def dispatch_summary(
    *,
    division: Division,
    year: int | None = None,
    as_of: date | None = None,
    until: date | None = None,
) -> dict:
    """F26: distinct social workers sent from the subtree (from a home facility there, or
    registered there when no home facility is given) on a dispatch at any time in ``year``
    (or ever); ``received``: distinct workers serving in the subtree likewise; F27: divisions
    of the subtree with a deep-poverty-town designation open on ``as_of`` (poor counties
    too)."""
    from django.utils import timezone

    from shegong.geo.models import PovertyKind
    from shegong.geo.selectors import poverty_designations_open

    as_of = as_of or timezone.localdate()
    code = division.code
    dispatches = wm.Dispatch.objects.all()
    if until:
        dispatches = dispatches.filter(starts_on__lte=until)
    if year:
        first, last = _year_bounds(year)
        dispatches = dispatches.filter(starts_on__lte=last).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gt=first)
        )
    sent = dispatches.filter(
        Q(home_facility__division__code__startswith=code)
        | Q(home_facility__isnull=True, worker__division__code__startswith=code)
    )
    received = dispatches.filter(host_division__code__startswith=code)
    designations = poverty_designations_open(division=division, day=as_of)
    return {
        "F26": sent.values("worker_id").distinct().count(),
        "received": received.values("worker_id").distinct().count(),
        "F27": designations.filter(kind=PovertyKind.DEEP_POVERTY_TOWN)
        .values("division_id")
        .distinct()
        .count(),
        "poor_counties": designations.filter(kind=PovertyKind.POOR_COUNTY)
        .values("division_id")
        .distinct()
        .count(),
    }


def workers_per_10k(*, division: Division, as_of: date) -> Decimal | None:
    """Social workers in post on ``as_of`` (``grassroots_professionals``) per 10,000
    residents of the division, to 2 places; None when its population is not known."""
    if not division.population:
        return None
    professionals = grassroots_professionals(division=division, as_of=as_of)["professionals"]
    return (Decimal(professionals) * 10000 / Decimal(division.population)).quantize(Decimal("0.01"))


def talent_figures(
    *, division: Division, year: int | None = None, as_of: date | None = None
) -> dict:
    """The talent figures of a division's subtree in one dict: F9–F11 (universities),
    F12–F14 (training), F17–F20 (honours), F26–F27 (dispatches, poverty areas), and workers
    per 10,000 residents. With ``year`` the yearly figures (F11, F12, F14) are for that
    year and the cumulative ones (honours, dispatches) up to its end; without it, all
    years; ``as_of`` (default today, or the year's end when earlier) dates the
    designations and the workers in post."""
    from django.utils import timezone

    if as_of is None:
        as_of = timezone.localdate()
        if year and date(year, 12, 31) < as_of:
            as_of = date(year, 12, 31)
    person_times = training_person_times(division=division, year_from=year, year_to=year)
    by_audience = dict.fromkeys(wm.Audience.values, 0)
    for counts in person_times.values():
        for audience, n in counts.items():
            by_audience[audience] = by_audience.get(audience, 0) + n
    programme_runs = [
        programme_years(p, division=division, until=year) for p in programmes_for(division)
    ]
    figures = {"division": division.code, "year": year, "as_of": as_of}
    figures.update(university_summary(division=division, year=year))
    figures["F12"] = by_audience[wm.Audience.LEADING_CADRES]
    figures["F13"] = max(programme_runs, default=0)
    figures["F14"] = by_audience[wm.Audience.SPECIALISTS]
    figures["person_times"] = by_audience
    # Honours and dispatches are cumulative: people honoured, or sent, up to the year's end.
    figures.update(honours_figures(division=division, until=year))
    figures.update(
        dispatch_summary(division=division, until=date(year, 12, 31) if year else None, as_of=as_of)
    )
    figures["workers_per_10k"] = workers_per_10k(division=division, as_of=as_of)
    return figures


def latest_training_year(*, division: Division, as_of: date) -> int:
    """The last year (up to ``as_of``) with a course held in the area, else ``as_of``'s
    year: the year the dashboard's talent figures open on."""
    latest = (
        wm.Course.objects.filter(division__code__startswith=division.code, starts_on__lte=as_of)
        .order_by("-starts_on")
        .values_list("starts_on", flat=True)
        .first()
    )
    return latest.year if latest else as_of.year


# --- The workforce dashboard's panels (issue #13 item 9: every panel under 300 ms) -----------


def people_in_post(*, division: Division, as_of: date, child_codes: list[str]) -> dict:
    """The dashboard's headcounts in one read of the postings active on ``as_of`` in the area
    (the F15/F16 rule): F15, F16, people by qualification, by the workplace type of their main
    posting, and by child division (``child_codes``). The same figures as
    ``grassroots_professionals``, ``headcount_by_qualification``, ``headcount_by_workplace``
    and ``headcount_by_child``, which each read the postings again.

    The posting's area is its facility's division code (the copy kept on the posting, no
    join) or, without a facility, the person's registration division."""
    area_code = Case(
        When(facility__isnull=True, then=F("worker__division__code")),
        default=F("facility_division_code"),
        output_field=CharField(),
    )
    code = division.code
    rows = (
        Posting.objects.filter(_active_on(as_of))
        .filter(
            Q(facility_division_code__startswith=code)
            | Q(facility__isnull=True, worker__division__code__startswith=code)
        )
        .annotate(area=area_code)
        .order_by()
        .values_list(
            "worker_id",
            "worker__qualification_level",
            "workplace_type",
            "employment",
            "started_on",
            "id",
            "area",
        )
    )
    qualification: dict[int, str] = {}
    grassroots: set[int] = set()
    main: dict[int, tuple] = {}
    lengths = sorted({len(c) for c in child_codes})
    wanted = set(child_codes)
    by_child: dict[str, set[int]] = {c: set() for c in child_codes}
    for worker, level, workplace, employment, started, pk, area in rows.iterator(chunk_size=5000):
        qualification[worker] = level
        if workplace in GRASSROOTS_WORKPLACES:
            grassroots.add(worker)
        rank = (employment != Employment.FULL_TIME, -started.toordinal(), -pk)
        if worker not in main or rank < main[worker][0]:
            main[worker] = (rank, workplace)
        for length in lengths:
            child = (area or "")[:length]
            if child in wanted:
                by_child[child].add(worker)
    levels = dict.fromkeys((str(level) for level in QUALIFICATION_ORDER), 0)
    for level in qualification.values():
        levels[level] = levels.get(level, 0) + 1
    workplaces = dict.fromkeys(WorkplaceType.values, 0)
    for _rank, workplace in main.values():
        workplaces[workplace] = workplaces.get(workplace, 0) + 1
    return {
        "professionals": len(qualification),
        "grassroots": len(grassroots),
        "by_qualification": levels,
        "by_workplace": workplaces,
        "by_child": {c: len(people) for c, people in by_child.items()},
    }


# Tables whose rows the dashboard's figures read: a new row in any (their largest id), or a
# change made through the services (each writes one of these actions to the audit log),
# makes the cached figures stale. Reads that are audited (a person's page, a search, a
# sign-in) do not.
DASHBOARD_WRITES = (
    "award.create",
    "award_scheme.create",
    "ce_credit.add",
    "course.create",
    "course.set_headcount",
    "degree_programme.add",
    "demo.workforce",
    "dispatch.create",
    "dispatch.end",
    "division.change_code",
    "division.import",
    "division.set_population",
    "education.add",
    "enrolment.complete",
    "enrolment.create",
    "enrolment.set_attendance",
    "facility.change_status",
    "facility.create",
    "facility.import",
    "facility.update",
    "graduate_cohort.record",
    "innovation_base.add",
    "posting.create",
    "posting.end",
    "posting.import",
    "poverty_designation.designate",
    "poverty_designation.lift",
    "registration.add",
    "social_worker.create",
    "social_worker.import",
    "training_programme.create",
    "university.create",
)


def _fingerprint_tables() -> list[str]:
    from shegong.geo.models import PovertyDesignation
    from shegong.network.models import Facility as NetworkFacility

    return [
        m._meta.db_table
        for m in (
            Posting,
            SocialWorker,
            RegistrationPeriod,
            ContinuingEducation,
            Education,
            wm.Course,
            wm.Enrolment,
            wm.TrainingProgramme,
            wm.Award,
            wm.AwardScheme,
            wm.Dispatch,
            wm.University,
            wm.DegreeProgramme,
            wm.InnovationBase,
            wm.GraduateCohort,
            PovertyDesignation,
            NetworkFacility,
        )
    ]


def data_fingerprint() -> str:
    """The largest id of each table the dashboard reads (one query, each an index look-up)
    and the last change written through a service (the audit log, read backwards from its
    newest entry): changes when a row is added anywhere, or anything is changed."""
    from shegong.core.models import AuditEvent

    qn = connection.ops.quote_name
    # table names from the models' own metadata, never from input
    parts = [
        f"(SELECT MAX({qn('id')}) FROM {qn(table)})"  # noqa: S608
        for table in _fingerprint_tables()
    ]
    sql = "SELECT " + ", ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        ids = [str(v or 0) for v in cursor.fetchone()]
    last_write = (
        AuditEvent.objects.filter(action__in=DASHBOARD_WRITES)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return ".".join([*ids, str(last_write or 0)])


DASHBOARD_CACHE_SECONDS = 600


def cached_figures(name: str, parts: tuple, compute):
    """``compute()``, kept in the cache for the same ``parts`` (division, date…) while the data
    it reads is unchanged (``data_fingerprint``) and for at most ten minutes: the city's
    figures read every person of the city, which takes seconds; the next look is instant."""
    import hashlib

    from django.core.cache import cache

    raw = ":".join(str(p) for p in (*parts, data_fingerprint()))
    key = f"workforce:{name}:" + hashlib.sha256(raw.encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, DASHBOARD_CACHE_SECONDS)
    return value

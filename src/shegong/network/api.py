"""API for the network: facilities, their status, coverage, standards, organisations, visits."""

from datetime import date

from django.utils import timezone
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import Code, Count, Day, Id, LongText, Search, Text, Version, Word
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.geo.selectors import division_in_scope_or_404
from shegong.network import services
from shegong.network.models import (
    Facility,
    FacilityStatus,
    OperatorKind,
    RequiredFix,
    SocialOrganisation,
    StaffingStandard,
    SupervisionVisit,
    Tier,
)
from shegong.network.selectors import coverage, coverage_by_child, coverage_trend, facility_list

router = Router(tags=["network"])


class FacilityOut(Schema):
    id: int
    tier: Tier
    name: str
    division_code: str = Field(..., alias="division.code")
    division_name: str = Field(..., alias="division.name")
    division_kind: str = Field(..., alias="division.kind")
    operator_kind: OperatorKind
    operator_id: int | None
    address: str
    phone: str
    opened_on: date | None
    status: FacilityStatus
    version: int


class PeriodOut(Schema):
    status: FacilityStatus
    valid_from: date
    valid_to: date | None
    note: str


class FacilityDetailOut(FacilityOut):
    checklist: dict
    periods: list[PeriodOut]

    @staticmethod
    def resolve_periods(obj: Facility) -> list:
        return list(obj.periods.order_by("valid_from"))


class FacilityIn(InputSchema):
    tier: Tier
    division_code: Code
    name: Text
    status: FacilityStatus = FacilityStatus.PLANNED
    status_from: Day
    operator_kind: OperatorKind = OperatorKind.GOVERNMENT
    operator_id: Id | None = None
    address: Text = ""
    phone: Text = ""
    checklist: dict = {}


class FacilityPatch(InputSchema):
    version: Version
    name: Text | None = None
    operator_kind: OperatorKind | None = None
    operator_id: Id | None = None
    address: Text | None = None
    phone: Text | None = None
    checklist: dict | None = None


class FacilityStatusIn(InputSchema):
    status: FacilityStatus
    effective_on: Day
    note: LongText = ""


class FacilityFilter(FilterSchema):
    tier: Tier | None = None
    status: FacilityStatus | None = None
    division: Code | None = None
    operator: OperatorKind | None = None
    q: Search | None = None
    compliant: bool | None = Field(
        None, description="Operating facilities that meet (true) or miss (false) the standard today"
    )


def _organisation(user, pk: int | None) -> SocialOrganisation | None:
    return get_scoped_or_404(SocialOrganisation, user, VIEW, pk=pk) if pk else None


@router.get("/facilities", response=list[FacilityOut], summary="Facilities in scope")
@paginate(Pagination)
def list_facilities(request, filters: Query[FacilityFilter]):
    require(request.auth, "network.view_facility")
    facilities = facility_list(
        user=request.auth,
        tier=filters.tier,
        status=filters.status,
        division=filters.division,
        operator=filters.operator,
        query=filters.q,
    )
    if filters.compliant is not None:
        # Staffing lives in the workforce app, which builds on this one.
        from shegong.workforce.selectors import compliance_rows

        division = division_in_scope_or_404(user=request.auth, code=filters.division)
        rows = compliance_rows(division=division, as_of=timezone.localdate())
        facilities = facilities.filter(
            pk__in=[r.facility_id for r in rows if r.meets == filters.compliant]
        )
    return facilities


@router.get("/facilities/{facility_id}", response=FacilityDetailOut, summary="One facility")
def get_facility(request, facility_id: Id):
    return get_scoped_or_404(
        Facility.objects.select_related("division"), request.auth, VIEW, pk=facility_id
    )


@router.post("/facilities", response={201: FacilityOut}, summary="Create a facility")
def create_facility(request, payload: FacilityIn):
    user = request.auth
    require(user, "network.add_facility")
    division = division_in_scope_or_404(user=user, code=payload.division_code)
    facility = services.facility_create(
        actor=user,
        tier=payload.tier,
        division=division,
        name=payload.name,
        status=payload.status,
        status_from=payload.status_from,
        operator_kind=payload.operator_kind,
        operator=_organisation(user, payload.operator_id),
        address=payload.address,
        phone=payload.phone,
        checklist=payload.checklist,
    )
    return Status(201, facility)


@router.patch("/facilities/{facility_id}", response=FacilityOut, summary="Edit a facility")
def update_facility(request, facility_id: Id, payload: FacilityPatch):
    facility = get_scoped_or_404(Facility, request.auth, CHANGE, pk=facility_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"version", "operator_id"})
    if "operator_id" in payload.model_fields_set:
        changes["operator"] = _organisation(request.auth, payload.operator_id)
    try:
        return services.facility_update(
            actor=request.auth, facility=facility, version=payload.version, **changes
        )
    except services.ConflictError as exc:
        raise HttpError(409, str(exc)) from exc


@router.post("/facilities/{facility_id}/status", response=FacilityOut, summary="Change status")
def change_facility_status(request, facility_id: Id, payload: FacilityStatusIn):
    facility = get_scoped_or_404(Facility, request.auth, CHANGE, pk=facility_id)
    return services.facility_change_status(
        actor=request.auth,
        facility=facility,
        status=payload.status,
        effective_on=payload.effective_on,
        note=payload.note,
    )


class CoverageQuery(InputSchema):
    division: Code | None = None
    as_of: Day | None = None


@router.get("/coverage", summary="Coverage of a division's subtree on a date (F1–F3)")
def get_coverage(request, params: Query[CoverageQuery]) -> dict:
    require(request.auth, "network.view_facility")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    return coverage(division=division, as_of=params.as_of or timezone.localdate()).as_dict()


@router.get("/coverage/children", summary="Coverage of each child division")
def get_coverage_children(request, params: Query[CoverageQuery]) -> list[dict]:
    require(request.auth, "network.view_facility")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    rows = coverage_by_child(
        user=request.auth, division=division, as_of=params.as_of or timezone.localdate()
    )
    return [{k: v for k, v in row.items() if k != "division"} for row in rows]


class TrendQuery(InputSchema):
    division: Code | None = None
    start: Day
    end: Day


@router.get("/coverage/trend", summary="Month-by-month coverage")
def get_coverage_trend(request, params: Query[TrendQuery]) -> list[dict]:
    require(request.auth, "network.view_facility")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    if params.end < params.start or (params.end.year - params.start.year) > 20:
        raise HttpError(422, "start must precede end, within 20 years")
    return coverage_trend(division=division, start=params.start, end=params.end)


class StandardOut(Schema):
    id: int
    tier: Tier
    division_kind: str
    min_full_time: int
    effective_from: date
    ended_on: date | None = Field(
        None, description="The first day the version no longer applies (empty: in force)."
    )
    document: str


class StandardEndIn(InputSchema):
    ended_on: Day = Field(..., description="The first day the version no longer applies.")
    reason: Text


class StandardIn(InputSchema):
    tier: Tier
    division_kind: Word = ""
    min_full_time: Count
    effective_from: Day
    document: Text


@router.get("/standards", response=list[StandardOut], summary="Staffing standards, all versions")
def list_standards(request):
    require(request.auth, "network.view_staffingstandard")
    return StaffingStandard.objects.restrict(request.auth, VIEW)


@router.post("/standards", response={201: StandardOut}, summary="Add a standard version")
def create_standard(request, payload: StandardIn):
    require(request.auth, "network.add_staffingstandard")
    return Status(
        201, services.staffing_standard_create(actor=request.auth, **payload.model_dump())
    )


class OrganisationOut(Schema):
    id: int
    name: str
    uscc: str
    division_code: str = Field(..., alias="division.code")
    is_social_work_agency: bool
    rating: str
    rating_expires_on: date | None
    incubating_station_id: int | None
    incubation_stage: str
    incubation_started_on: date | None


class OrganisationIn(InputSchema):
    name: Text
    uscc: Code
    division_code: Code
    is_social_work_agency: bool = False
    rating: Word = ""
    rating_expires_on: Day | None = None
    incubating_station_id: Id | None = None
    incubation_stage: Word = ""
    incubation_started_on: Day | None = None


@router.get("/organisations", response=list[OrganisationOut], summary="Social organisations")
@paginate(Pagination)
def list_organisations(request, q: Search = ""):
    require(request.auth, "network.view_socialorganisation")
    qs = SocialOrganisation.objects.restrict(request.auth, VIEW).select_related("division")
    if q:
        qs = qs.filter(name__icontains=q.strip())
    return qs.order_by("name")


@router.post("/organisations", response={201: OrganisationOut}, summary="Register an organisation")
def create_organisation(request, payload: OrganisationIn):
    user = request.auth
    require(user, "network.add_socialorganisation")
    data = payload.model_dump(exclude={"division_code", "incubating_station_id"})
    station = (
        get_scoped_or_404(Facility, user, VIEW, pk=payload.incubating_station_id)
        if payload.incubating_station_id
        else None
    )
    organisation = services.organisation_create(
        actor=user,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
        incubating_station=station,
        **data,
    )
    return Status(201, organisation)


class RequiredFixOut(Schema):
    id: int
    description: str
    deadline: date
    resolved_on: date | None
    follow_up: str


class VisitOut(Schema):
    id: int
    supervisor_id: int
    supervised_id: int
    visited_on: date
    visitors: str
    findings: str
    fixes: list[RequiredFixOut]

    @staticmethod
    def resolve_fixes(obj: SupervisionVisit) -> list:
        return list(obj.fixes.all())


class RequiredFixIn(InputSchema):
    description: LongText
    deadline: Day


class VisitIn(InputSchema):
    supervisor_id: Id
    supervised_id: Id
    visited_on: Day
    visitors: LongText
    findings: LongText
    fixes: list[RequiredFixIn] = []


class ResolveIn(InputSchema):
    resolved_on: Day
    follow_up: LongText


@router.get("/visits", response=list[VisitOut], summary="Supervision visits in scope")
@paginate(Pagination)
def list_visits(request):
    require(request.auth, "network.view_supervisionvisit")
    return (
        SupervisionVisit.objects.restrict(request.auth, VIEW)
        .prefetch_related("fixes")
        .order_by("-visited_on", "-id")
    )


@router.post("/visits", response={201: VisitOut}, summary="Record a supervision visit")
def create_visit(request, payload: VisitIn):
    user = request.auth
    require(user, "network.add_supervisionvisit")
    visit = services.supervision_visit_create(
        actor=user,
        supervisor=get_scoped_or_404(Facility, user, VIEW, pk=payload.supervisor_id),
        supervised=get_scoped_or_404(Facility, user, VIEW, pk=payload.supervised_id),
        visited_on=payload.visited_on,
        visitors=payload.visitors,
        findings=payload.findings,
        fixes=[(f.description, f.deadline) for f in payload.fixes],
    )
    return Status(201, visit)


@router.post("/fixes/{fix_id}/resolve", response=RequiredFixOut, summary="Resolve a required fix")
def resolve_fix(request, fix_id: Id, payload: ResolveIn):
    fix = get_scoped_or_404(RequiredFix, request.auth, CHANGE, pk=fix_id)
    return services.required_fix_resolve(
        actor=request.auth, fix=fix, resolved_on=payload.resolved_on, follow_up=payload.follow_up
    )


@router.post(
    "/standards/{standard_id}/end",
    response=StandardOut,
    summary="End the version in force of a standard (from a date, with the reason)",
)
def end_standard(request, standard_id: Id, payload: StandardEndIn):
    require(request.auth, "network.change_staffingstandard")
    standard = get_scoped_or_404(StaffingStandard, request.auth, VIEW, pk=standard_id)
    return services.staffing_standard_end(
        actor=request.auth, standard=standard, ended_on=payload.ended_on, reason=payload.reason
    )

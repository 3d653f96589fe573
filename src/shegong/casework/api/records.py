"""API: service records, person-times and the worker's worklist (issue #6).

``POST /service-records`` is on the benchmarked path (150 records/s): it resolves the
facility (and any case, group, activity, project) with one scoped query each and leaves
the rest to ``service_record_create``.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from shegong.casework import privacy
from shegong.casework.models import Activity, Case, ServiceRecord, WorkGroup
from shegong.casework.selectors.home import worker_home
from shegong.casework.selectors.records import service_record_list, with_recipients
from shegong.casework.selectors.stats import BREAKDOWNS, person_times
from shegong.casework.services.records import service_record_create
from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import Code, Count, Day, Id, Ids, LongText, Text, Word
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.network.models import Facility

router = Router(tags=["casework"])


class ServiceRecordIn(InputSchema):
    facility_id: Id
    served_on: Day
    domain: Word
    method: Word
    resident_ids: Ids = Field(default_factory=list, max_length=500)
    headcount: Count = 0
    duration_minutes: Count = 30
    place: Text = Field("", max_length=200)
    notes: LongText = Field("", max_length=20000)
    case_id: Id | None = None
    group_id: Id | None = None
    activity_id: Id | None = None
    project_id: Id | None = None
    target_group: Text = ""
    poverty_alleviation: bool = False
    volunteers: LongText = Field("", max_length=300)


class ServiceRecordCreated(Schema):
    id: int
    person_times: int
    session_number: int | None = None


class ResidentRef(Schema):
    id: int
    name: str


class _RecordFields(Schema):
    id: int
    facility_id: int
    division_code: str
    served_on: date
    domain: str
    method: str
    target_group: str
    poverty_alleviation: bool
    residents: list[ResidentRef]
    headcount: int
    person_times: int
    duration_minutes: int
    place: str
    case_id: int | None
    group_id: int | None
    session_number: int | None
    activity_id: int | None
    project_id: int | None


class ServiceRecordOut(_RecordFields):
    """A service record without its notes (the list)."""

    @staticmethod
    def resolve_division_code(obj: ServiceRecord) -> str:
        return obj.division.code

    @staticmethod
    def resolve_residents(obj: ServiceRecord) -> list[dict]:
        return [{"id": x.resident_id, "name": x.resident.name} for x in obj.recipients.all()]


class ServiceRecordDetailOut(_RecordFields):
    """One record: its notes too, unless they belong to a protected record the caller may
    not open (then ``notes_withheld``)."""

    notes: str
    notes_withheld: bool
    session_plan: str
    volunteers: str
    recorded_by: str


class RecordListQuery(InputSchema):
    start: Day | None = None
    end: Day | None = None
    method: Word = ""
    domain: Word = ""
    facility_id: Id | None = None
    resident_id: Id | None = None
    case_id: Id | None = None
    group_id: Id | None = None
    activity_id: Id | None = None
    project_id: Id | None = None


class ServicePersonTimesQuery(InputSchema):
    by: Word = "month,target_group"
    area: Code | None = None
    start: Day | None = None
    end: Day | None = None


@router.post(
    "/service-records",
    response={201: ServiceRecordCreated},
    summary="Record a service (person-times derived)",
)
def create_service_record(request, payload: ServiceRecordIn):
    user = request.auth
    require(user, "casework.add_servicerecord")
    facility = get_scoped_or_404(
        Facility.objects.select_related("division").only(
            "id", "status", "division_id", "division__code"
        ),
        user,
        VIEW,
        pk=payload.facility_id,
    )
    case = group = activity = project = None
    if payload.case_id:
        case = get_scoped_or_404(
            Case.objects.select_related("facility__division").only(
                "id", "stage", "resident_id", "facility__id", "facility__division__code"
            ),
            user,
            VIEW,
            pk=payload.case_id,
        )
    if payload.group_id:
        group = get_scoped_or_404(
            WorkGroup.objects.select_related("facility__division"), user, VIEW, pk=payload.group_id
        )
    if payload.activity_id:
        activity = get_scoped_or_404(
            Activity.objects.select_related("facility__division"),
            user,
            VIEW,
            pk=payload.activity_id,
        )
    if payload.project_id:
        from shegong.projects.models import Project

        project = get_scoped_or_404(Project, user, VIEW, pk=payload.project_id)
    record = service_record_create(
        user,
        facility=facility,
        served_on=payload.served_on,
        domain=payload.domain,
        method=payload.method,
        residents=payload.resident_ids,
        headcount=payload.headcount,
        duration_minutes=payload.duration_minutes,
        place=payload.place,
        notes=payload.notes,
        case=case,
        group=group,
        activity=activity,
        project=project,
        target_group=payload.target_group,
        poverty_alleviation=payload.poverty_alleviation,
        volunteers=payload.volunteers,
    )
    return Status(
        201,
        {
            "id": record.pk,
            "person_times": record.person_times,
            "session_number": record.session_number,
        },
    )


@router.get(
    "/service-records", response=list[ServiceRecordOut], summary="Service records (no notes)"
)
@paginate(Pagination)
def list_service_records(request, filters: Query[RecordListQuery], response: HttpResponse):
    require(request.auth, "casework.view_servicerecord")
    privacy.no_store(response)
    qs = service_record_list(user=request.auth, **filters.dict())
    return with_recipients(qs).select_related("division")


@router.get(
    "/service-records/{int:record_id}",
    response=ServiceRecordDetailOut,
    summary="One service record",
)
def get_service_record(request, record_id: Id, response: HttpResponse):
    """One record with its notes; viewing it is logged. The notes of a protected case, or
    of a service to a child under 14, are withheld from whoever may not open the record."""
    user = request.auth
    require(user, "casework.view_servicerecord")
    record = get_scoped_or_404(
        with_recipients(ServiceRecord.objects.all()).select_related(
            "division", "recorded_by", "case__resident__community"
        ),
        user,
        VIEW,
        pk=record_id,
    )
    privacy.log_access(
        user, "view_service_record", detail={"record": record.pk, "case": record.case_id}
    )
    withheld = privacy.record_notes_withheld(user, record)
    privacy.no_store(response)
    return _detail(record, withheld)


def _detail(record: ServiceRecord, withheld: bool) -> dict:
    return {
        **{
            name: getattr(record, name)
            for name in (
                "id",
                "facility_id",
                "served_on",
                "domain",
                "method",
                "target_group",
                "poverty_alleviation",
                "headcount",
                "person_times",
                "duration_minutes",
                "place",
                "case_id",
                "group_id",
                "session_number",
                "activity_id",
                "project_id",
                "volunteers",
            )
        },
        "division_code": record.division.code,
        "residents": [
            {"id": x.resident_id, "name": x.resident.name} for x in record.recipients.all()
        ],
        "notes": "" if withheld else record.notes,
        "notes_withheld": withheld,
        "session_plan": "" if withheld else record.session_plan,
        "recorded_by": record.recorded_by.get_username() if record.recorded_by_id else "",
    }


@router.get("/person-times", summary="Person-times by month, group, domain, method or area")
def get_person_times(request, params: Query[ServicePersonTimesQuery]) -> dict:
    """Aggregates only (the analyst may call it): cells under 5 person-times are
    suppressed (null) for aggregate-only roles."""
    user = request.auth
    require(user, "casework.view_servicestats")
    by = [b.strip() for b in params.by.split(",") if b.strip()]
    if not by or any(b not in BREAKDOWNS for b in by):
        raise ValidationError(
            {"by": [_("Group by any of: %(keys)s.") % {"keys": ", ".join(BREAKDOWNS)}]}
        )
    rows = person_times(user, area_code=params.area, start=params.start, end=params.end, by=by)
    for row in rows:
        if row.get("month") is not None:
            row["month"] = row["month"].isoformat()[:7]
    return {"by": by, "area": params.area or user.scope_prefix, "rows": rows}


@router.get("/me/worklist", summary="The worker's home: follow-ups, reminders, referrals")
def get_worklist(request, response: HttpResponse) -> dict:
    user = request.auth
    require(user, "casework.view_servicerecord")
    privacy.no_store(response)
    return worker_home(user)

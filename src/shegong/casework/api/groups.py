"""API: group work and community activities (issue #6 item 4)."""

from datetime import date

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from shegong.accounts.models import User
from shegong.casework import privacy
from shegong.casework.models import Activity, Resident, WorkGroup
from shegong.casework.selectors.records import (
    activity_list,
    group_list,
    group_members,
    with_recipients,
)
from shegong.casework.services.activities import activity_create, activity_record
from shegong.casework.services.groups import (
    group_advance,
    group_create,
    group_member_add,
    group_member_remove,
    group_session_record,
)
from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import Count, Day, Id, Ids, LongText, Text, Word
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.network.models import Facility

router = Router(tags=["casework"])


# --- schemas --------------------------------------------------------------------------------


class GroupOut(Schema):
    id: int
    facility_id: int
    name: str
    group_type: str
    stage: str
    target_group: str
    planned_sessions: int
    leader_id: int
    started_on: date


class MemberOut(Schema):
    resident_id: int
    name: str
    joined_on: date
    left_on: date | None


class SessionOut(Schema):
    id: int
    session_number: int | None
    served_on: date
    person_times: int
    attendee_ids: list[int]


class GroupDetailOut(GroupOut):
    goals: str
    members: list[MemberOut]
    sessions: list[SessionOut]


class GroupIn(InputSchema):
    facility_id: Id
    name: Text = Field(max_length=200)
    group_type: Word
    leader_id: Id | None = None
    started_on: Day
    target_group: Text = ""
    goals: LongText = Field("", max_length=5000)
    planned_sessions: Count = 6


class MemberIn(InputSchema):
    resident_id: Id
    on: Day | None = None


class GroupAdvanceIn(InputSchema):
    to_stage: Word | None = None


class SessionIn(InputSchema):
    served_on: Day
    attendee_ids: Ids = Field(default_factory=list, max_length=500)
    headcount: Count = 0
    session_plan: LongText = Field("", max_length=5000)
    summary: LongText = Field("", max_length=20000)
    domain: Word = "social_support"
    duration_minutes: Count = 90
    place: Text = Field("", max_length=200)
    poverty_alleviation: bool = False


class RecordCreated(Schema):
    id: int
    person_times: int
    session_number: int | None = None


class ActivityOut(Schema):
    id: int
    facility_id: int
    title: str
    held_on: date
    place: str
    partners: str
    volunteer_count: int
    person_times: int | None = None


class ActivityDetailOut(ActivityOut):
    needs: str
    plan: str
    summary: str
    participant_ids: list[int]
    headcount: int


class ActivityIn(InputSchema):
    facility_id: Id
    title: Text = Field(max_length=200)
    held_on: Day
    needs: LongText = Field("", max_length=5000)
    plan: LongText = Field("", max_length=5000)
    place: Text = Field("", max_length=200)
    partners: LongText = Field("", max_length=300)
    volunteer_count: Count = 0


class ActivityRecordIn(InputSchema):
    resident_ids: Ids = Field(default_factory=list, max_length=500)
    headcount: Count = 0
    summary: LongText = Field("", max_length=20000)
    domain: Word = "community_participation"
    duration_minutes: Count = 120
    poverty_alleviation: bool = False


def _group(user, group_id: int, action: str = VIEW) -> WorkGroup:
    return get_scoped_or_404(
        WorkGroup.objects.select_related("facility__division"), user, action, pk=group_id
    )


def _group_detail(group: WorkGroup) -> dict:
    members = [
        {
            "resident_id": m.resident_id,
            "name": m.resident.name,
            "joined_on": m.joined_on,
            "left_on": m.left_on,
        }
        for m in group_members(group)
    ]
    sessions = [
        {
            "id": s.pk,
            "session_number": s.session_number,
            "served_on": s.served_on,
            "person_times": s.person_times,
            "attendee_ids": [x.resident_id for x in s.recipients.all()],
        }
        for s in with_recipients(group.sessions.order_by("session_number", "id"))
    ]
    return {
        **{
            f: getattr(group, f)
            for f in (
                "id",
                "facility_id",
                "name",
                "group_type",
                "stage",
                "target_group",
                "planned_sessions",
                "leader_id",
                "started_on",
                "goals",
            )
        },
        "members": members,
        "sessions": sessions,
    }


# --- groups --------------------------------------------------------------------------------


@router.get("/groups", response=list[GroupOut], summary="Groups in scope")
@paginate(Pagination)
def list_groups(request, stage: Word = "", facility_id: Id | None = None):
    require(request.auth, "casework.view_workgroup")
    return group_list(user=request.auth, stage=stage, facility_id=facility_id)


@router.get("/groups/{int:group_id}", response=GroupDetailOut, summary="One group")
def get_group(request, group_id: Id, response: HttpResponse):
    require(request.auth, "casework.view_workgroup")
    group = _group(request.auth, group_id)
    privacy.no_store(response)
    return _group_detail(group)


@router.post("/groups", response={201: GroupOut}, summary="Set up a group")
def create_group(request, payload: GroupIn):
    user = request.auth
    require(user, "casework.add_workgroup")
    facility = get_scoped_or_404(
        Facility.objects.select_related("division"), user, VIEW, pk=payload.facility_id
    )
    leader = user
    if payload.leader_id and payload.leader_id != user.pk:
        leader = User.objects.select_related("division").filter(pk=payload.leader_id).first()
    group = group_create(
        actor=user,
        facility=facility,
        name=payload.name,
        group_type=payload.group_type,
        leader=leader,
        started_on=payload.started_on,
        target_group=payload.target_group,
        goals=payload.goals,
        planned_sessions=payload.planned_sessions,
    )
    return Status(201, group)


@router.post("/groups/{int:group_id}/members", response={201: MemberOut}, summary="Add a member")
def add_group_member(request, group_id: Id, payload: MemberIn):
    user = request.auth
    require(user, "casework.change_workgroup")
    group = _group(user, group_id, CHANGE)
    resident = get_scoped_or_404(Resident, user, VIEW, pk=payload.resident_id)
    member = group_member_add(actor=user, group=group, resident=resident, joined_on=payload.on)
    return Status(
        201,
        {
            "resident_id": resident.pk,
            "name": resident.name,
            "joined_on": member.joined_on,
            "left_on": member.left_on,
        },
    )


@router.post(
    "/groups/{int:group_id}/members/{int:resident_id}/leave",
    response=MemberOut,
    summary="A member leaves the group",
)
def remove_group_member(request, group_id: Id, resident_id: Id):
    user = request.auth
    require(user, "casework.change_workgroup")
    group = _group(user, group_id, CHANGE)
    resident = get_scoped_or_404(Resident, user, VIEW, pk=resident_id)
    member = group_member_remove(actor=user, group=group, resident=resident)
    return {
        "resident_id": resident.pk,
        "name": resident.name,
        "joined_on": member.joined_on,
        "left_on": member.left_on,
    }


@router.post("/groups/{int:group_id}/advance", response=GroupOut, summary="Move to the next stage")
def advance_group(request, group_id: Id, payload: GroupAdvanceIn):
    user = request.auth
    require(user, "casework.change_workgroup")
    group = _group(user, group_id, CHANGE)
    return group_advance(actor=user, group=group, to_stage=payload.to_stage)


@router.post(
    "/groups/{int:group_id}/sessions",
    response={201: RecordCreated},
    summary="Record the group's next session",
)
def record_group_session(request, group_id: Id, payload: SessionIn):
    user = request.auth
    require(user, "casework.add_servicerecord")
    group = _group(user, group_id)
    record = group_session_record(
        actor=user,
        group=group,
        served_on=payload.served_on,
        attendees=payload.attendee_ids,
        headcount=payload.headcount,
        session_plan=payload.session_plan,
        summary=payload.summary,
        domain=payload.domain,
        duration_minutes=payload.duration_minutes,
        place=payload.place,
        poverty_alleviation=payload.poverty_alleviation,
    )
    return Status(
        201,
        {
            "id": record.pk,
            "person_times": record.person_times,
            "session_number": record.session_number,
        },
    )


# --- activities ----------------------------------------------------------------------------


@router.get("/activities", response=list[ActivityOut], summary="Community activities in scope")
@paginate(Pagination)
def list_activities(request, facility_id: Id | None = None):
    require(request.auth, "casework.view_activity")
    return activity_list(user=request.auth, facility_id=facility_id)


@router.get("/activities/{int:activity_id}", response=ActivityDetailOut, summary="One activity")
def get_activity(request, activity_id: Id, response: HttpResponse):
    user = request.auth
    require(user, "casework.view_activity")
    activity = get_scoped_or_404(Activity, user, VIEW, pk=activity_id)
    records = list(with_recipients(activity.service_records.order_by("id")))
    privacy.no_store(response)
    return {
        **{
            f: getattr(activity, f)
            for f in (
                "id",
                "facility_id",
                "title",
                "held_on",
                "place",
                "partners",
                "volunteer_count",
                "needs",
                "plan",
                "summary",
            )
        },
        "person_times": sum(r.person_times for r in records) if records else None,
        "participant_ids": [x.resident_id for r in records for x in r.recipients.all()],
        "headcount": sum(r.headcount for r in records),
    }


@router.post("/activities", response={201: ActivityOut}, summary="Plan a community activity")
def create_activity(request, payload: ActivityIn):
    user = request.auth
    require(user, "casework.add_activity")
    facility = get_scoped_or_404(
        Facility.objects.select_related("division"), user, VIEW, pk=payload.facility_id
    )
    activity = activity_create(
        actor=user,
        facility=facility,
        title=payload.title,
        held_on=payload.held_on,
        needs=payload.needs,
        plan=payload.plan,
        place=payload.place,
        partners=payload.partners,
        volunteer_count=payload.volunteer_count,
    )
    return Status(201, activity)


@router.post(
    "/activities/{int:activity_id}/records",
    response={201: RecordCreated},
    summary="Record an activity's participants",
)
def record_activity(request, activity_id: Id, payload: ActivityRecordIn):
    user = request.auth
    require(user, "casework.change_activity")
    activity = get_scoped_or_404(
        Activity.objects.select_related("facility__division"), user, CHANGE, pk=activity_id
    )
    record = activity_record(
        actor=user,
        activity=activity,
        residents=payload.resident_ids,
        headcount=payload.headcount,
        summary=payload.summary,
        domain=payload.domain,
        duration_minutes=payload.duration_minutes,
        poverty_alleviation=payload.poverty_alleviation,
    )
    return Status(201, {"id": record.pk, "person_times": record.person_times})

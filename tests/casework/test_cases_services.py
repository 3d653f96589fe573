"""Casework services (MZ/T 094): opening a case, the intake decision and its approval, the
stages strictly in order with their content, goals, notes, review dates, reassignment.

``build_casework_world`` here is shared by the case and referral tests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from shegong.casework.models import (
    CASE_STAGE_ORDER,
    Case,
    CaseStage,
    CaseStageChange,
)
from shegong.casework.selectors.cases import case_list, review_reminders
from shegong.casework.services import cases as svc
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.network.services import facility_create
from tests.casework.world import make_resident
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _facility(tier: str, code: str, name: str):
    return facility_create(
        actor=None,
        tier=tier,
        division=Division.objects.get(code=code),
        name=name,
        status="operating",
        status_from=date(2020, 1, 1),
    )


@pytest.fixture
def casework_world(db):
    return build_casework_world()


def build_casework_world() -> dict:
    """A room in 桥北社区 and its station, a county centre; the room worker, the station
    supervisor, county staff, an analyst and a room worker of the next community; an
    adult, a 10-year-old and a resident of the next community."""
    today = timezone.localdate()
    return {
        "room": _facility("room", "500105001001", "桥北社工室"),
        "station": _facility("station", "500105001", "华新街社工站"),
        "centre": _facility("centre", "500105", "江北区指导中心"),
        "worker": make_user(Role.ROOM_WORKER, "500105001001", username="h2-worker"),
        "supervisor": make_user(Role.STATION_STAFF, "500105001", username="h2-supervisor"),
        "county": make_user(Role.COUNTY_STAFF, "500105", username="h2-county"),
        "city": make_user(Role.CITY_ADMIN, "50", username="h2-city"),
        "analyst": make_user(Role.ANALYST, "50", username="h2-analyst"),
        "neighbour_worker": make_user(Role.ROOM_WORKER, "500105001002", username="h2-nbr"),
        "adult": make_resident("张大爷", "500105001001", 801, phone="13800001234"),
        "child": make_resident("李小明", "500105001001", 802, born=date(today.year - 10, 3, 1)),
        "neighbour": make_resident("王阿姨", "500105001002", 803),
    }


def open_case(w, resident=None, facility=None, worker=None, supervisor=None, **kwargs):
    worker = worker or w["worker"]
    return svc.case_open(
        actor=kwargs.pop("actor", worker),
        resident=resident or w["adult"],
        facility=facility or w["room"],
        referral_source=kwargs.pop("referral_source", "self"),
        presenting_problem=kwargs.pop("presenting_problem", "独居，行动不便，需要照料"),
        assigned_to=worker,
        supervisor=supervisor or w["supervisor"],
        **kwargs,
    )


def case_at(w, stage: str, **kwargs) -> Case:
    """A case moved through the real services up to ``stage``."""
    case = open_case(w, **kwargs)
    worker, supervisor = case.assigned_to, case.supervisor
    if stage == CaseStage.INTAKE:
        return case
    case = svc.case_decide(
        actor=worker, case=case, accept=stage != CaseStage.DECLINED, reason="不符合服务范围"
    )
    case = svc.case_approve(actor=supervisor, case=case)
    if stage in (CaseStage.DECLINED, CaseStage.ASSESSMENT):
        return case
    case = svc.case_advance(
        actor=worker, case=case, to_stage="plan", assessment="预估：自我、家庭、社会系统"
    )
    if stage == CaseStage.PLAN:
        return case
    svc.case_goal_add(actor=worker, case=case, text="每周两次上门探访")
    case = svc.case_advance(
        actor=worker, case=Case.objects.get(pk=case.pk), to_stage="intervention"
    )
    if stage == CaseStage.INTERVENTION:
        return case
    case = svc.case_advance(actor=worker, case=case, to_stage="evaluation")
    if stage == CaseStage.EVALUATION:
        return case
    return svc.case_advance(
        actor=worker,
        case=case,
        to_stage="closed",
        evaluation_method="前后测",
        evaluation="目标达成",
        closure_reason="goals_met",
        closing_report="结案报告",
        client_reaction="满意",
    )


def _counts(case: Case) -> tuple:
    case.refresh_from_db()
    return (
        case.stage,
        case.version,
        CaseStageChange.objects.filter(case=case).count(),
        AuditEvent.objects.count(),
    )


# --- opening --------------------------------------------------------------------------------


def test_a_case_opens_at_intake_with_a_unique_number_and_an_audit_row(casework_world):
    w = casework_world
    # when the room worker opens two cases
    first = open_case(w)
    second = open_case(w, resident=w["child"])
    # then both are at intake, numbered per facility and year
    year = timezone.localdate().year
    assert first.number == f"C500105001001-{year}-0001"
    assert second.number == f"C500105001001-{year}-0002"
    assert first.stage == CaseStage.INTAKE
    assert list(first.stage_changes.values_list("from_stage", "to_stage")) == [("", "intake")]
    # and the audit row names the case by number, not the person
    event = AuditEvent.objects.get(action="case.open", object_id=str(first.pk))
    assert event.object_repr == first.number
    text = str(event.before) + str(event.after) + event.object_repr
    assert "张大爷" not in text and w["adult"].national_id not in text
    # the presenting problem is encrypted at rest
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select presenting_problem from casework_case where id = %s", [first.pk])
        assert "独居" not in cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"presenting_problem": "  "}, "presenting_problem"),
        ({"referral_source": "rumour"}, "referral_source"),
        ({"risk_level": "extreme"}, "risk_level"),
        ({"supervisor": "worker2"}, "supervisor"),  # a room worker may not approve cases
        ({"worker": "neighbour_worker"}, "assigned_to"),  # works in another community
        ({"resident": "child", "facility": "centre_other"}, "facility"),
        ({"opened_on": "future"}, "opened_on"),
    ],
)
def test_bad_intake_is_refused_and_nothing_written(casework_world, change, field):
    w = casework_world
    kwargs = {}
    if "presenting_problem" in change or "referral_source" in change or "risk_level" in change:
        kwargs.update(change)
    if change.get("supervisor") == "worker2":
        kwargs["supervisor"] = make_user(Role.ROOM_WORKER, "500105001001", username="h2-w2")
    if change.get("worker") == "neighbour_worker":
        kwargs["worker"] = w["neighbour_worker"]
        kwargs["actor"] = w["worker"]
    if change.get("facility") == "centre_other":
        # a centre of another county does not serve this resident
        kwargs["facility"] = _facility("centre", "500107", "九龙坡区指导中心")
        kwargs["actor"] = None
    if change.get("opened_on") == "future":
        kwargs["opened_on"] = timezone.localdate() + timedelta(days=1)
    # when the intake is made with one thing wrong
    with pytest.raises(ValidationError) as exc:
        open_case(w, **kwargs)
    # then it is refused on that field, and no case exists
    assert field in exc.value.message_dict
    assert Case.objects.count() == 0


def test_a_resident_outside_the_workers_scope_is_not_found(casework_world):
    w = casework_world
    # when the room worker opens a case for the next community's resident (at the station)
    with pytest.raises(Http404):
        open_case(w, resident=w["neighbour"], facility=w["station"])
    # and the analyst may not open cases at all
    with pytest.raises(PermissionDenied):
        open_case(w, actor=w["analyst"])
    assert Case.objects.count() == 0


# --- the stages -----------------------------------------------------------------------------


def test_the_full_path_from_intake_to_closed(casework_world):
    w = casework_world
    # given a case, through every stage with its content
    case = case_at(w, CaseStage.CLOSED)
    # then it is closed today with its closing content
    assert case.stage == CaseStage.CLOSED
    assert case.closed_on == timezone.localdate()
    assert case.approved_by == w["supervisor"]
    steps = list(case.stage_changes.values_list("from_stage", "to_stage"))
    assert steps == [
        ("", "intake"),
        ("intake", "intake"),  # the worker's proposal
        ("intake", "assessment"),  # the supervisor's approval
        ("assessment", "plan"),
        ("plan", "intervention"),
        ("intervention", "evaluation"),
        ("evaluation", "closed"),
    ]
    actions = list(
        AuditEvent.objects.filter(object_id=str(case.pk), object_type="casework.case")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "case.open",
        "case.decide",
        "case.approve",
        "case.advance",
        "case.goal_add",
        "case.advance",
        "case.advance",
        "case.advance",
    ]


def test_the_declined_path(casework_world):
    w = casework_world
    case = open_case(w)
    # declining without a reason is refused
    with pytest.raises(ValidationError) as exc:
        svc.case_decide(actor=w["worker"], case=case, accept=False, reason=" ")
    assert "reason" in exc.value.message_dict
    # with a reason, the supervisor's approval ends the case as declined
    case = svc.case_decide(actor=w["worker"], case=case, accept=False, reason="不符合服务范围")
    assert svc.intake_proposal(case) == "decline"
    case = svc.case_approve(actor=w["supervisor"], case=case)
    assert case.stage == CaseStage.DECLINED
    assert case.decline_reason == "不符合服务范围"
    # and a declined case cannot move any more
    before = _counts(case)
    with pytest.raises(ValidationError):
        svc.case_advance(actor=w["worker"], case=case, to_stage="assessment")
    assert _counts(case) == before


def test_only_the_cases_supervisor_approves(casework_world):
    w = casework_world
    case = open_case(w)
    # before the worker proposes, there is nothing to approve
    with pytest.raises(ValidationError):
        svc.case_approve(actor=w["supervisor"], case=case)
    case = svc.case_decide(actor=w["worker"], case=case, accept=True)
    before = _counts(case)
    # county staff may approve cases, but not this one; the worker may not approve at all
    for someone in (w["county"], w["worker"]):
        with pytest.raises(PermissionDenied):
            svc.case_approve(actor=someone, case=case)
    # the supervisor may not propose in the worker's place
    with pytest.raises(PermissionDenied):
        svc.case_decide(actor=w["supervisor"], case=case, accept=True)
    assert _counts(case) == before
    # the supervisor approves: on to assessment
    assert svc.case_approve(actor=w["supervisor"], case=case).stage == CaseStage.ASSESSMENT


TARGETS = [*CASE_STAGE_ORDER, CaseStage.DECLINED]


@pytest.mark.parametrize("stage", [s for s in CASE_STAGE_ORDER if s != CaseStage.CLOSED])
def test_every_skip_and_every_step_back_is_refused(casework_world, stage):
    w = casework_world
    # given a case at ``stage`` with all the content it needs to move on
    case = case_at(w, stage)
    if stage == CaseStage.ASSESSMENT:
        case = svc.case_save(actor=w["worker"], case=case, assessment="预估")
    if stage == CaseStage.PLAN:
        svc.case_goal_add(actor=w["worker"], case=case, text="目标")
    if stage == CaseStage.EVALUATION:
        case = svc.case_save(
            actor=w["worker"],
            case=case,
            evaluation_method="访谈",
            evaluation="改善",
            closure_reason="goals_met",
            closing_report="报告",
            client_reaction="接受",
        )
    here = CASE_STAGE_ORDER.index(stage)
    allowed = CASE_STAGE_ORDER[here + 1] if stage != CaseStage.INTAKE else None
    for target in TARGETS:
        if target == allowed:
            continue
        before = _counts(case)
        # when the worker moves it anywhere but the one next stage
        with pytest.raises(ValidationError) as exc:
            svc.case_advance(actor=w["worker"], case=case, to_stage=target)
        # then it is refused with a message, and nothing is written
        assert exc.value.message_dict["to_stage"], target
        assert _counts(case) == before
    # while the next stage works
    if allowed:
        assert svc.case_advance(actor=w["worker"], case=case, to_stage=allowed).stage == allowed


def test_the_messages_say_what_is_wrong(casework_world):
    w = casework_world
    case = case_at(w, CaseStage.ASSESSMENT)
    with pytest.raises(ValidationError) as skip:
        svc.case_advance(actor=w["worker"], case=case, to_stage="intervention")
    assert "逐阶段推进" in skip.value.message_dict["to_stage"][0]
    with pytest.raises(ValidationError) as back:
        svc.case_advance(actor=w["worker"], case=case, to_stage="intake")
    assert "个案不能回退" in back.value.message_dict["to_stage"][0]


def test_each_stage_needs_its_content(casework_world):
    w = casework_world
    worker = w["worker"]
    # assessment: no assessment text
    case = case_at(w, CaseStage.ASSESSMENT)
    before = _counts(case)
    with pytest.raises(ValidationError) as exc:
        svc.case_advance(actor=worker, case=case, to_stage="plan", assessment="  ")
    assert "assessment" in exc.value.message_dict
    assert _counts(case) == before
    # plan: no goal
    case = case_at(w, CaseStage.PLAN)
    before = _counts(case)
    with pytest.raises(ValidationError) as exc:
        svc.case_advance(actor=worker, case=case, to_stage="intervention")
    assert "goals" in exc.value.message_dict
    assert _counts(case) == before
    # evaluation: method and evaluation, then the closure's reason, report and reaction
    case = case_at(w, CaseStage.EVALUATION)
    before = _counts(case)
    with pytest.raises(ValidationError) as exc:
        svc.case_advance(actor=worker, case=case, to_stage="closed", evaluation="好转")
    assert set(exc.value.message_dict) == {
        "evaluation_method",
        "closure_reason",
        "closing_report",
        "client_reaction",
    }
    assert _counts(case) == before
    assert Case.objects.get(pk=case.pk).evaluation == ""  # not even the content was saved
    # content of another stage cannot be slipped in
    with pytest.raises(ValidationError):
        svc.case_advance(actor=worker, case=case, to_stage="closed", assessment="x")


def test_a_stale_version_is_a_conflict(casework_world):
    w = casework_world
    case = case_at(w, CaseStage.ASSESSMENT)
    seen = case.version
    svc.case_save(actor=w["worker"], case=case, version=seen, assessment="第一次")
    before = _counts(case)
    with pytest.raises(svc.ConflictError):
        svc.case_advance(
            actor=w["worker"], case=case, to_stage="plan", version=seen, assessment="第二次"
        )
    assert _counts(case) == before
    assert Case.objects.get(pk=case.pk).assessment == "第一次"


def test_someone_outside_the_team_cannot_work_on_the_case(casework_world):
    w = casework_world
    case = case_at(w, CaseStage.ASSESSMENT)
    before = _counts(case)
    with pytest.raises(PermissionDenied):
        svc.case_advance(actor=w["county"], case=case, to_stage="plan", assessment="x")
    with pytest.raises(PermissionDenied):
        svc.case_note_add(actor=w["county"], case=case, kind="general", text="x")
    # and the next community's room worker does not even find it
    with pytest.raises(Http404):
        svc.case_save(actor=w["neighbour_worker"], case=case, assessment="x")
    assert _counts(case) == before


# --- goals, notes, review, reassignment -----------------------------------------------------


def test_goals_belong_to_the_plan_and_are_marked(casework_world):
    w = casework_world
    case = case_at(w, CaseStage.ASSESSMENT)
    with pytest.raises(ValidationError):
        svc.case_goal_add(actor=w["worker"], case=case, text="太早")
    case = case_at(w, CaseStage.INTERVENTION)
    goal = case.goals.get()
    svc.case_goal_mark(actor=w["worker"], goal=goal, achieved=True)
    goal.refresh_from_db()
    assert goal.achieved is True
    with pytest.raises(ValidationError):
        svc.case_goal_add(actor=w["worker"], case=case, text="x", priority=12)


def test_notes_and_protection(casework_world):
    w = casework_world
    case = case_at(w, CaseStage.PLAN)
    # a general note at any open stage
    svc.case_note_add(actor=w["worker"], case=case, kind="general", text="电话联系")
    # a counselling note only during the intervention
    with pytest.raises(ValidationError) as exc:
        svc.case_note_add(actor=w["worker"], case=case, kind="counselling", text="x")
    assert "kind" in exc.value.message_dict
    case = case_at(w, CaseStage.INTERVENTION)
    assert not case.protected
    # a note dated in the future is refused
    with pytest.raises(ValidationError):
        svc.case_note_add(
            actor=w["worker"],
            case=case,
            kind="general",
            text="x",
            written_on=timezone.localdate() + timedelta(days=1),
        )
    svc.case_note_add(actor=w["supervisor"], case=case, kind="crisis", text="危机干预记录")
    case.refresh_from_db()
    # then the case is protected, and the audit row holds no note text
    assert case.protected
    event = AuditEvent.objects.filter(action="case.note_add").latest("seq")
    assert "危机" not in str(event.after)


def test_review_dates_and_reminders(casework_world):
    w = casework_world
    case = case_at(w, CaseStage.PLAN)
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        svc.case_set_review(actor=w["worker"], case=case, next_review_on=today - timedelta(days=1))
    svc.case_set_review(actor=w["worker"], case=case, next_review_on=today)
    assert list(review_reminders(w["worker"], today)) == [case]
    assert list(review_reminders(w["supervisor"], today)) == [case]
    assert list(case_list(user=w["county"], due=True, today=today)) == [case]
    assert list(case_list(user=w["county"], due=True, today=today - timedelta(days=1))) == []


def test_reassignment_is_audited_and_limited(casework_world):
    w = casework_world
    case = case_at(w, CaseStage.PLAN)
    other = make_user(Role.ROOM_WORKER, "500105001001", username="h2-other")
    # the assigned worker cannot reassign
    with pytest.raises(PermissionDenied):
        svc.case_reassign(actor=w["worker"], case=case, assigned_to=other)
    # nor to someone working elsewhere
    with pytest.raises(ValidationError):
        svc.case_reassign(actor=w["supervisor"], case=case, assigned_to=w["neighbour_worker"])
    # county staff approving cases in the area may
    case = svc.case_reassign(actor=w["county"], case=case, assigned_to=other)
    assert case.assigned_to == other
    event = AuditEvent.objects.get(action="case.reassign")
    assert event.before == {"assigned_to_id": w["worker"].pk, "supervisor_id": w["supervisor"].pk}
    assert event.after["assigned_to_id"] == other.pk

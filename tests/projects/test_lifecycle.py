"""The life cycle: every allowed step works for the right roles; every step out of order
and every wrong role is refused with a clear message and no change."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from shegong.core.models import AuditEvent
from shegong.core.roles import Role, role_has_perm
from shegong.projects import services
from shegong.projects.models import Objection, Project, Stage, StageChange
from shegong.projects.services import STEPS, TRANSITIONS
from tests.projects.conftest import NOTICE_START, SIGNED, STARTED, score_all

pytestmark = pytest.mark.django_db


def _prepare(step: str, project: Project) -> None:
    """What a step needs besides the stage: an objection to uphold, a completed mid-term
    before the final, a completed final before closing."""
    if step == "objection_upheld":
        Objection.objects.create(project=project, received_on=NOTICE_START, text="有异议")
    if step == "final" and project.stage == Stage.MIDTERM_EVALUATION:
        midterm = project.evaluations.get(kind="midterm")
        score_all(midterm)
        services.evaluation_complete(actor=None, evaluation=midterm)
    if step == "close" and project.stage == Stage.FINAL_EVALUATION:
        final = project.evaluations.get(kind="final")
        score_all(final)
        services.evaluation_complete(actor=None, evaluation=final)


def _take(step: str, actor, project: Project, net):
    calls = {
        "submit": lambda: services.project_submit(actor=actor, project=project),
        "preliminary_pass": lambda: services.preliminary_review(
            actor=actor, project=project, passed=True
        ),
        "preliminary_reject": lambda: services.preliminary_review(
            actor=actor, project=project, passed=False, note="预算不合理"
        ),
        "expert_pass": lambda: services.expert_review(
            actor=actor, project=project, passed=True, notice_starts_on=NOTICE_START
        ),
        "expert_reject": lambda: services.expert_review(
            actor=actor, project=project, passed=False, note="专家不同意"
        ),
        "objection_upheld": lambda: services.objection_resolve(
            actor=actor,
            objection=Objection.objects.filter(project=project).first()
            or Objection.objects.create(project=project, received_on=NOTICE_START, text="异议"),
            resolution="异议成立",
            resolved_on=date(2024, 1, 10),
            upheld=True,
        ),
        "contract": lambda: services.contract_sign(
            actor=actor,
            project=project,
            agency=net["agency"],
            contract_number="HT-9",
            signed_on=SIGNED,
        ),
        "start": lambda: services.project_start(actor=actor, project=project, started_on=STARTED),
        "midterm": lambda: services.evaluation_start(
            actor=actor, project=project, kind="midterm", evaluated_on=date(2024, 8, 1), panel="甲"
        ),
        "final": lambda: services.evaluation_start(
            actor=actor, project=project, kind="final", evaluated_on=date(2025, 1, 20), panel="甲"
        ),
        "close": lambda: services.project_close(
            actor=actor, project=project, closed_on=date(2025, 2, 1)
        ),
        "terminate": lambda: services.project_terminate(
            actor=actor, project=project, reason="机构退出"
        ),
    }
    return calls[step]()


def _snapshot(project: Project) -> tuple:
    project = Project.objects.get(pk=project.pk)
    return (
        project.stage,
        project.version,
        StageChange.objects.filter(project=project).count(),
        project.evaluations.count(),
        AuditEvent.objects.count(),
    )


def _first_source(step: str) -> str:
    return min(STEPS[step].sources, key=list(Stage.values).index)


ALLOWED = [
    (step, role)
    for step, rule in STEPS.items()
    for role in Role.values
    if role_has_perm(role, rule.perm)
]
WRONG_ROLE = [
    (step, role)
    for step, rule in STEPS.items()
    for role in Role.values
    if not role_has_perm(role, rule.perm)
]
OUT_OF_ORDER = [
    (step, stage)
    for step, rule in STEPS.items()
    for stage in Stage.values
    if stage not in rule.sources
]


def test_the_graph():
    assert TRANSITIONS[Stage.APPLICATION] == {Stage.PRELIMINARY_REVIEW}
    assert TRANSITIONS[Stage.PRELIMINARY_REVIEW] == {Stage.EXPERT_REVIEW, Stage.REJECTED}
    assert TRANSITIONS[Stage.EXPERT_REVIEW] == {Stage.PUBLIC_NOTICE, Stage.REJECTED}
    assert TRANSITIONS[Stage.PUBLIC_NOTICE] == {Stage.CONTRACT, Stage.REJECTED}
    assert TRANSITIONS[Stage.CONTRACT] == {Stage.IN_PROGRESS, Stage.TERMINATED}
    assert TRANSITIONS[Stage.IN_PROGRESS] == {Stage.MIDTERM_EVALUATION, Stage.TERMINATED}
    assert TRANSITIONS[Stage.MIDTERM_EVALUATION] == {Stage.FINAL_EVALUATION, Stage.TERMINATED}
    assert TRANSITIONS[Stage.FINAL_EVALUATION] == {Stage.CLOSED, Stage.TERMINATED}
    for end in (Stage.CLOSED, Stage.TERMINATED, Stage.REJECTED):
        assert TRANSITIONS[end] == frozenset()


@pytest.mark.parametrize(("step", "role"), ALLOWED)
def test_every_allowed_step_works_for_the_right_role(build, net, people, step, role):
    # given a project at the step's stage and a user of a role that may take it
    project = build(_first_source(step))
    _prepare(step, project)
    actor = people[role]
    before = Project.objects.get(pk=project.pk)
    # when they take the step
    _take(step, actor, project, net)
    # then the project moves, the timeline and the audit trail say who did it
    after = Project.objects.get(pk=project.pk)
    assert after.stage == STEPS[step].target
    assert after.version == before.version + 1
    change = StageChange.objects.filter(project=project).latest("recorded_at", "id")
    assert (change.from_stage, change.to_stage, change.actor) == (
        before.stage,
        STEPS[step].target,
        actor,
    )
    assert AuditEvent.objects.filter(action=f"project.{step}", actor=actor).exists()


@pytest.mark.parametrize(("step", "role"), WRONG_ROLE)
def test_a_wrong_role_is_refused_and_nothing_changes(build, net, people, step, role):
    # given a project at the step's stage and a user whose role may not take the step
    project = build(_first_source(step))
    _prepare(step, project)
    before = _snapshot(project)
    # when they try, then they are refused and nothing changed
    with pytest.raises(PermissionDenied):
        _take(step, people[role], project, net)
    assert _snapshot(project) == before


@pytest.mark.parametrize(("step", "stage"), OUT_OF_ORDER)
def test_a_step_out_of_order_is_refused_and_nothing_changes(build, net, people, step, stage):
    # given a project at a stage the step does not start from
    project = build(stage)
    before = _snapshot(project)
    # when the county (whose role may take every step) tries it
    with pytest.raises(ValidationError) as caught:
        _take(step, people[Role.COUNTY_STAFF], project, net)
    # then the message names where the project is, and nothing changed
    message = " ".join(caught.value.message_dict["stage"])
    assert str(Stage(stage).label) in message and "possible only at" in message
    assert _snapshot(project) == before


def test_outside_the_area_the_project_does_not_exist(build, net, people):
    project = build(Stage.PRELIMINARY_REVIEW)
    before = _snapshot(project)
    with pytest.raises(Http404):
        services.preliminary_review(actor=people["other_county"], project=project, passed=True)
    assert _snapshot(project) == before


def test_a_stale_version_is_refused(build, people):
    project = build(Stage.PRELIMINARY_REVIEW)
    with pytest.raises(services.ConflictError):
        services.preliminary_review(
            actor=people[Role.COUNTY_STAFF],
            project=project,
            passed=True,
            version=project.version - 1,
        )
    assert Project.objects.get(pk=project.pk).stage == Stage.PRELIMINARY_REVIEW


def test_a_rejection_must_say_why(build, people):
    project = build(Stage.PRELIMINARY_REVIEW)
    with pytest.raises(ValidationError) as caught:
        services.preliminary_review(actor=people[Role.COUNTY_STAFF], project=project, passed=False)
    assert "not approved" in str(caught.value)


def test_the_whole_life_cycle_with_its_timeline(build, people, net):
    # given a project driven from application to closed by the services
    project = build(Stage.CLOSED)
    # then the timeline holds every step in order
    stages = list(
        StageChange.objects.filter(project=project)
        .order_by("id")
        .values_list("to_stage", flat=True)
    )
    assert stages == [str(s) for s in (Stage.APPLICATION, *[s for s in list(Stage)[1:9]])]
    assert project.agency == net["agency"] and project.contract_number == "HT-2024-1"


def test_a_room_worker_sees_the_town_project_but_changes_nothing(build, people):
    # a room worker sees the projects of their town, but may change nothing
    project = build(Stage.APPLICATION)
    assert Project.objects.restrict(people[Role.ROOM_WORKER]).filter(pk=project.pk).exists()
    with pytest.raises(PermissionDenied):
        services.project_submit(actor=people[Role.ROOM_WORKER], project=project)

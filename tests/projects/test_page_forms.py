"""The project page's forms: every life-cycle step and the evaluations, posted to the
project's page with a hidden ``action`` by the roles that may take them; wrong roles,
steps out of order, bad input and stale versions refused with no change."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shegong.core.roles import Role
from shegong.network.models import SocialOrganisation
from shegong.projects.models import (
    EvaluationFix,
    EvidenceFile,
    MonthlyReport,
    Objection,
    Project,
    Score,
    Stage,
    StageChange,
)
from tests.projects.conftest import NOTICE_START, SIGNED, STARTED

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def _agencies(net):
    """Both test agencies are social work agencies (the contract form offers those)."""
    SocialOrganisation.objects.filter(pk__in=[net["agency"].pk, net["other_agency"].pk]).update(
        is_social_work_agency=True
    )


def page(project) -> str:
    return reverse("projects:detail", args=[project.pk])


def post(client, project, action: str, **data):
    """POST ``action`` to the project's page with the project's current version."""
    version = Project.objects.get(pk=project.pk).version
    return client.post(page(project), {"action": action, "version": version, **data})


def stage(project) -> str:
    return Project.objects.get(pk=project.pk).stage


def leaf_scores(evaluation, value) -> dict[str, object]:
    parents = {i.parent_id for i in evaluation.tree.indicators.all() if i.parent_id}
    return {f"score_{i.pk}": value for i in evaluation.tree.indicators.all() if i.pk not in parents}


def score_and_complete(client, project, kind: str, value=80):
    evaluation = project.evaluations.get(kind=kind)
    response = post(
        client,
        project,
        "scores",
        evaluation=evaluation.pk,
        panelist="甲",
        **leaf_scores(evaluation, value),
    )
    assert response.status_code == 302
    response = post(client, project, "complete", evaluation=evaluation.pk)
    assert response.status_code == 302
    return evaluation


def test_the_whole_life_cycle_through_the_page(client, build, people, net):
    # given an application of the 华新街 station
    project = build(Stage.APPLICATION)
    station, county = people[Role.STATION_STAFF], people[Role.COUNTY_STAFF]
    agency_staff = people[Role.AGENCY_STAFF]
    # when the station submits it
    client.force_login(station)
    assert 'data-testid="form-submit"' in client.get(page(project)).content.decode()
    response = post(client, project, "submit", note="材料齐全")
    assert response.status_code == 302 and response.url == page(project)
    assert stage(project) == Stage.PRELIMINARY_REVIEW
    # and the county reviews it, the public notice runs with an objection that is resolved
    client.force_login(county)
    assert post(client, project, "preliminary_pass").status_code == 302
    assert stage(project) == Stage.EXPERT_REVIEW
    response = post(client, project, "expert_pass", notice_starts_on=NOTICE_START.isoformat())
    assert response.status_code == 302
    assert stage(project) == Stage.PUBLIC_NOTICE
    post(client, project, "objection_add", received_on="2024-01-05", text="有异议")
    objection = Objection.objects.get(project=project)
    response = post(
        client,
        project,
        "objection_resolve",
        objection=objection.pk,
        resolution="已说明",
        resolved_on="2024-01-08",
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.resolved_on == date(2024, 1, 8)
    assert stage(project) == Stage.PUBLIC_NOTICE
    # the contract is signed and the project starts
    response = post(
        client,
        project,
        "contract",
        agency=net["agency"].pk,
        contract_number="HT-PAGE-1",
        signed_on=SIGNED.isoformat(),
    )
    assert response.status_code == 302
    assert stage(project) == Stage.CONTRACT
    assert post(client, project, "start", started_on=STARTED.isoformat()).status_code == 302
    assert stage(project) == Stage.IN_PROGRESS
    # the agency reports, the station supervises
    client.force_login(agency_staff)
    response = post(
        client,
        project,
        "report",
        month="2024-03",
        summary="开展小组活动",
        plan="继续",
        reported_person_times=120,
        reported_cases=3,
        reported_groups=2,
        reported_activities=4,
    )
    assert response.status_code == 302
    assert MonthlyReport.objects.get(project=project).reported_person_times == 120
    client.force_login(station)
    response = post(
        client,
        project,
        "supervision",
        visited_on="2024-03-15",
        supervisor="王督导",
        findings="记录完整",
    )
    assert response.status_code == 302
    # the county runs the mid-term and the final evaluations and closes the project
    client.force_login(county)
    post(client, project, "midterm", evaluated_on="2024-08-01", panel="甲、乙")
    assert stage(project) == Stage.MIDTERM_EVALUATION
    score_and_complete(client, project, "midterm")
    post(client, project, "final", evaluated_on="2025-01-20", panel="甲、乙")
    assert stage(project) == Stage.FINAL_EVALUATION
    score_and_complete(client, project, "final")
    html = client.get(page(project)).content.decode()
    assert 'data-testid="form-close"' in html and "data-confirm=" in html
    assert post(client, project, "close", closed_on="2025-02-01").status_code == 302
    # then the project is closed, with the whole timeline, and a success message is shown
    project.refresh_from_db()
    assert project.stage == Stage.CLOSED
    assert project.agency == net["agency"] and project.contract_number == "HT-PAGE-1"
    assert StageChange.objects.filter(project=project).count() == 9
    response = client.get(page(project))
    html = response.content.decode()
    assert "The project was closed." in html
    assert 'data-testid="next-step"' not in html


def test_a_rejection_and_a_termination_through_the_page(client, build, people):
    # given a project at the preliminary review and a running project
    reviewed = build(Stage.PRELIMINARY_REVIEW)
    running = build(Stage.IN_PROGRESS)
    client.force_login(people[Role.COUNTY_STAFF])
    # when the county rejects the one with a reason and terminates the other
    assert post(client, reviewed, "preliminary_reject", note="预算不合理").status_code == 302
    html = client.get(page(running)).content.decode()
    assert 'data-testid="form-terminate"' in html
    response = post(client, running, "terminate", reason="机构退出", terminated_on="2024-05-01")
    # then both end
    assert response.status_code == 302
    assert stage(reviewed) == Stage.REJECTED
    assert stage(running) == Stage.TERMINATED


def test_a_wrong_role_is_refused_with_403_and_nothing_changes(client, build, people):
    # given a project at the preliminary review
    project = build(Stage.PRELIMINARY_REVIEW)
    before = Project.objects.get(pk=project.pk).version
    for role in (Role.ROOM_WORKER, Role.STATION_STAFF):
        client.force_login(people[role])
        # they see the page without the county's step form
        html = client.get(page(project)).content.decode()
        assert 'data-testid="form-preliminary_pass"' not in html
        # when they post the county's step anyway, then 403
        assert post(client, project, "preliminary_pass").status_code == 403
    assert post(client, project, "no_such_action").status_code == 403
    # and nothing changed
    project.refresh_from_db()
    assert (project.stage, project.version) == (Stage.PRELIMINARY_REVIEW, before)


def test_agency_staff_may_not_take_the_county_steps_on_their_project(client, build, people):
    project = build(Stage.IN_PROGRESS)
    client.force_login(people[Role.AGENCY_STAFF])
    html = client.get(page(project)).content.decode()
    assert 'data-testid="form-report"' in html
    assert 'data-testid="form-terminate"' not in html and 'data-testid="form-midterm"' not in html
    assert post(client, project, "terminate", reason="x").status_code == 403
    assert stage(project) == Stage.IN_PROGRESS


def test_a_step_out_of_order_is_shown_as_an_error_and_changes_nothing(client, build, people):
    # given an application (not yet submitted)
    project = build(Stage.APPLICATION)
    before = Project.objects.get(pk=project.pk).version
    client.force_login(people[Role.COUNTY_STAFF])
    # when the county posts the start of the project
    response = post(client, project, "start", started_on=STARTED.isoformat(), note="提前开始")
    # then the page says why, keeps what was typed, and nothing changed
    assert response.status_code == 422
    html = response.content.decode()
    assert "possible only at" in html and "提前开始" in html
    project.refresh_from_db()
    assert (project.stage, project.version) == (Stage.APPLICATION, before)


def test_a_stale_version_is_refused_with_409(client, build, people):
    project = build(Stage.PRELIMINARY_REVIEW)
    client.force_login(people[Role.COUNTY_STAFF])
    response = client.post(
        page(project), {"action": "preliminary_pass", "version": project.version - 1}
    )
    assert response.status_code == 409
    assert "Someone else changed this project; reload and try again." in response.content.decode()
    assert stage(project) == Stage.PRELIMINARY_REVIEW


def test_a_contract_without_agency_is_re_rendered_with_what_was_typed(client, build, people):
    project = build(Stage.PUBLIC_NOTICE)
    client.force_login(people[Role.COUNTY_STAFF])
    response = post(
        client, project, "contract", contract_number="HT-TYPED-7", signed_on=SIGNED.isoformat()
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "HT-TYPED-7" in html and "This field is required." in html
    project.refresh_from_db()
    assert project.stage == Stage.PUBLIC_NOTICE and project.contract_number == ""


def test_a_score_above_100_is_refused_and_nothing_is_written(client, build, people):
    project = build(Stage.MIDTERM_EVALUATION)
    evaluation = project.evaluations.get()
    client.force_login(people[Role.COUNTY_STAFF])
    scores = leaf_scores(evaluation, 80)
    first = next(iter(scores))
    scores[first] = "120"
    response = post(
        client, project, "scores", evaluation=evaluation.pk, panelist="丙委员", **scores
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="120"' in html and "丙委员" in html
    assert "less than or equal to 100" in html
    assert not Score.objects.filter(evaluation=evaluation).exists()


def test_an_evaluation_scored_completed_and_a_fix_added(client, build, people):
    # given a project at the mid-term evaluation
    project = build(Stage.MIDTERM_EVALUATION)
    client.force_login(people[Role.COUNTY_STAFF])
    html = client.get(page(project)).content.decode()
    assert 'data-testid="score-table"' in html and 'data-testid="form-complete"' in html
    # when the county scores (two panel members) and completes it
    evaluation = project.evaluations.get()
    for panelist, value in (("甲", 90), ("乙", 70)):
        response = post(
            client,
            project,
            "scores",
            evaluation=evaluation.pk,
            panelist=panelist,
            **leaf_scores(evaluation, value),
        )
        assert response.status_code == 302
    assert post(client, project, "complete", evaluation=evaluation.pk).status_code == 302
    # then the total and the grade are shown, and the score form is gone
    evaluation.refresh_from_db()
    assert evaluation.total == 80 and evaluation.grade == "good"
    html = client.get(page(project)).content.decode()
    assert 'data-testid="total">80.00<' in html
    assert f'data-testid="grade">{evaluation.get_grade_display()}<' in html
    assert 'data-testid="form-scores"' not in html
    # a second completion is refused on the page
    response = post(client, project, "complete", evaluation=evaluation.pk)
    assert response.status_code == 422 and "already completed" in response.content.decode()
    # and a required fix is added, then resolved by the agency
    response = post(
        client,
        project,
        "fix_add",
        evaluation=evaluation.pk,
        description="补齐服务档案",
        deadline="2024-09-30",
    )
    assert response.status_code == 302
    fix = EvaluationFix.objects.get(evaluation=evaluation)
    client.force_login(people[Role.AGENCY_STAFF])
    response = post(
        client,
        project,
        "fix_resolve",
        evaluation=evaluation.pk,
        fix=fix.pk,
        resolved_on="2024-09-01",
        resolution="已补齐",
    )
    assert response.status_code == 302
    fix.refresh_from_db()
    assert fix.resolved_on == date(2024, 9, 1)


def test_completing_needs_every_leaf_scored(client, build, people):
    project = build(Stage.MIDTERM_EVALUATION)
    evaluation = project.evaluations.get()
    client.force_login(people[Role.COUNTY_STAFF])
    response = post(client, project, "complete", evaluation=evaluation.pk)
    assert response.status_code == 422
    assert "No panel member has scored yet." in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.completed_at is None


def test_evidence_of_a_forbidden_type_is_refused_and_a_pdf_accepted(client, build, people):
    project = build(Stage.MIDTERM_EVALUATION)
    evaluation = project.evaluations.get()
    client.force_login(people[Role.AGENCY_STAFF])
    # when the agency uploads an executable
    bad = SimpleUploadedFile("run.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(
        page(project), {"action": "evidence", "evaluation": evaluation.pk, "file": bad}
    )
    # then it is refused with the reason, nothing stored
    assert response.status_code == 422
    assert "This type of file is not allowed." in response.content.decode()
    assert not EvidenceFile.objects.exists()
    # when they upload a PDF, it is accepted and listed
    pdf = SimpleUploadedFile("报告.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    response = client.post(
        page(project), {"action": "evidence", "evaluation": evaluation.pk, "file": pdf}
    )
    assert response.status_code == 302
    evidence = EvidenceFile.objects.get(evaluation=evaluation)
    assert evidence.original_name == "报告.pdf"
    assert "报告.pdf" in client.get(page(project)).content.decode()


def test_agency_staff_report_for_their_own_project_only(client, build, people, net):
    ours = build(Stage.IN_PROGRESS, code="XM-OURS", agency=net["agency"])
    theirs = build(Stage.IN_PROGRESS, code="XM-THEIRS", agency=net["other_agency"])
    client.force_login(people[Role.AGENCY_STAFF])
    data = {
        "month": "2024-04",
        "summary": "个案服务",
        "plan": "",
        **dict.fromkeys(
            ["reported_person_times", "reported_cases", "reported_groups", "reported_activities"], 1
        ),
    }
    assert post(client, ours, "report", **data).status_code == 302
    assert post(client, theirs, "report", **data).status_code == 404
    assert MonthlyReport.objects.filter(project=ours).count() == 1
    assert not MonthlyReport.objects.filter(project=theirs).exists()
    # a second report for the same month is refused on the page
    response = post(client, ours, "report", **data)
    assert response.status_code == 422
    assert "This month has already been reported." in response.content.decode()

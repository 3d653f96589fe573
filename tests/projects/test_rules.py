"""The public notice (7 working days, objections), budgets, reports, evaluations,
evidence files and agency flags."""

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shegong.core.roles import Role
from shegong.projects import selectors, services
from shegong.projects.models import AgencyFlag, EvidenceFile, Project, Stage, StageChange
from tests.projects.conftest import NOTICE_END, NOTICE_START, SIGNED, score_all

pytestmark = pytest.mark.django_db


# --- the public notice ---------------------------------------------------------------------


def test_a_notice_started_on_a_thursday_ends_on_the_monday_7_working_days_later():
    # Thu 4 Jan 2024 → Fri 5 (1), Mon 8 (2), Tue 9 (3), Wed 10 (4), Thu 11 (5), Fri 12 (6),
    # Mon 15 (7)
    assert NOTICE_START.weekday() == 3
    assert services.add_working_days(NOTICE_START, 7) == date(2024, 1, 15) == NOTICE_END
    assert services.add_working_days(date(2024, 1, 6), 1) == date(2024, 1, 8)  # Sat → Mon


def test_the_expert_review_starts_the_notice(build):
    project = build(Stage.PUBLIC_NOTICE)
    assert (project.notice_starts_on, project.notice_ends_on) == (NOTICE_START, NOTICE_END)


@pytest.mark.parametrize("signed_on", [date(2024, 1, 10), NOTICE_END])
def test_the_contract_cannot_be_signed_during_the_notice(build, net, people, signed_on):
    project = build(Stage.PUBLIC_NOTICE)
    with pytest.raises(ValidationError) as caught:
        services.contract_sign(
            actor=people[Role.COUNTY_STAFF],
            project=project,
            agency=net["agency"],
            contract_number="HT-1",
            signed_on=signed_on,
        )
    assert "2024-01-15" in str(caught.value)
    assert Project.objects.get(pk=project.pk).stage == Stage.PUBLIC_NOTICE


def test_the_contract_waits_for_every_objection_to_be_resolved(build, net, people):
    county = people[Role.COUNTY_STAFF]
    project = build(Stage.PUBLIC_NOTICE)
    objection = services.objection_add(
        actor=county, project=project, received_on=date(2024, 1, 8), text="程序有误"
    )

    def sign():
        return services.contract_sign(
            actor=county,
            project=project,
            agency=net["agency"],
            contract_number="HT-1",
            signed_on=SIGNED,
        )

    with pytest.raises(ValidationError) as caught:
        sign()
    assert "not resolved" in str(caught.value)
    assert Project.objects.get(pk=project.pk).stage == Stage.PUBLIC_NOTICE
    services.objection_resolve(
        actor=county, objection=objection, resolution="已说明", resolved_on=date(2024, 1, 12)
    )
    assert sign().stage == Stage.CONTRACT


def test_an_objection_must_come_during_the_notice(build, people):
    project = build(Stage.PUBLIC_NOTICE)
    with pytest.raises(ValidationError) as caught:
        services.objection_add(
            actor=people[Role.COUNTY_STAFF],
            project=project,
            received_on=date(2024, 1, 16),
            text="迟到",
        )
    assert "during the notice" in str(caught.value)


def test_an_upheld_objection_rejects_the_application(build, people):
    county = people[Role.COUNTY_STAFF]
    project = build(Stage.PUBLIC_NOTICE)
    objection = services.objection_add(
        actor=county, project=project, received_on=date(2024, 1, 8), text="资质不符"
    )
    services.objection_resolve(
        actor=county,
        objection=objection,
        resolution="属实",
        resolved_on=date(2024, 1, 9),
        upheld=True,
    )
    assert Project.objects.get(pk=project.pk).stage == Stage.REJECTED


# --- application, budget, reports ------------------------------------------------------------


def test_budget_lines_over_the_budget_are_refused(build, people):
    station = people[Role.STATION_STAFF]
    project = build(Stage.APPLICATION, budget="1000.00")
    services.budget_line_add(actor=station, project=project, name="人员", amount="600")
    with pytest.raises(ValidationError) as caught:
        services.budget_line_add(actor=station, project=project, name="活动", amount="400.01")
    assert "more than the budget" in str(caught.value)
    assert project.budget_lines.count() == 1
    with pytest.raises(ValidationError) as caught:
        build(budget="100.00", budget_lines=[("人员", "60"), ("活动", "50")])
    assert "more than the budget" in str(caught.value)


def test_budget_lines_and_milestones_only_at_application(build, people):
    project = build(Stage.PRELIMINARY_REVIEW)
    with pytest.raises(ValidationError) as caught:
        services.milestone_add(
            actor=people[Role.STATION_STAFF],
            project=project,
            name="首期",
            due_on=date(2024, 3, 1),
            amount="100",
        )
    assert "possible only at" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("budget", "-5", "cannot be negative"),
        ("budget", "10.005", "2 decimal places"),
        ("budget", "0", "more than zero"),
        ("code", "  ", "project code"),
        ("purchase_model", "gift", "Unknown purchase model"),
        ("focus", "sports", "Unknown focus"),
    ],
)
def test_bad_applications_are_refused_with_a_message(build, field, value, message):
    with pytest.raises(ValidationError) as caught:
        build(**{field: value})
    assert message in str(caught.value)
    assert not Project.objects.exists()


def test_the_area_must_be_a_town_or_county_of_the_purchaser(build, net):
    from tests.projects.conftest import division

    with pytest.raises(ValidationError) as caught:
        build(area=division("500105001001"))
    assert "town or a county" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        build(area=division("500105002"))
    assert "purchasing facility" in str(caught.value)
    project = build(area=division("500105002"), purchaser=net["centre"])  # the centre: any town
    assert project.area.code == "500105002"


def test_reports_are_by_the_agency_of_the_project_once_a_month(build, people):
    project = build(Stage.IN_PROGRESS)
    report = services.monthly_report_submit(
        actor=people[Role.AGENCY_STAFF],
        project=project,
        month=date(2024, 3, 15),
        summary="个案 5 个",
        reported_person_times=120,
        reported_cases=5,
    )
    assert report.month == date(2024, 3, 1)
    with pytest.raises(ValidationError) as caught:
        services.monthly_report_submit(
            actor=people[Role.STATION_STAFF],
            project=project,
            month=date(2024, 3, 1),
            summary="重复",
        )
    assert "already been reported" in str(caught.value)
    from django.http import Http404

    with pytest.raises(Http404):
        services.monthly_report_submit(
            actor=people["other_agency"], project=project, month=date(2024, 4, 1), summary="别家"
        )
    kpis = {k["kpi"]: k for k in selectors.kpis_vs_reported(project=project)}
    assert (kpis["person_times"]["planned"], kpis["person_times"]["output"]) == (1000, 120)
    assert kpis["cases"]["source"] == "reported"


def test_budget_vs_spent_reads_the_milestones(build):
    project = build(
        milestones=[("首期", date(2024, 3, 1), "30000"), ("尾款", date(2025, 1, 31), "70000")]
    )
    result = selectors.budget_vs_spent(project=project)
    assert result["milestones_total"] == Decimal("100000.00")
    assert result["spent"] == Decimal("0.00") and result["left"] == Decimal("100000.00")


# --- evaluations ---------------------------------------------------------------------------


def test_the_weighted_total_and_grade_by_hand(build, people):
    # tree: A 60 (A1 50, A2 50), B 40; two panelists
    # A1 = (80 + 85.55) / 2 = 82.775, A2 = (70 + 60) / 2 = 65, B = (90 + 75) / 2 = 82.5
    # A = 0.5 × 82.775 + 0.5 × 65 = 73.8875; total = 0.6 × 73.8875 + 0.4 × 82.5 = 77.3325
    project = build(Stage.MIDTERM_EVALUATION)
    evaluation = project.evaluations.get()
    score_all(
        evaluation,
        {"甲": {"A1": 80, "A2": 70, "B": 90}, "乙": {"A1": "85.55", "A2": 60, "B": 75}},
    )
    services.evaluation_complete(actor=people[Role.COUNTY_STAFF], evaluation=evaluation)
    evaluation.refresh_from_db()
    assert evaluation.total == Decimal("77.33") and evaluation.grade == "pass"


def test_the_grade_thresholds_come_from_the_settings(settings):
    assert services.grade_for(Decimal("90.00")) == "excellent"
    assert services.grade_for(Decimal("89.99")) == "good"
    assert services.grade_for(Decimal("59.99")) == "fail"
    settings.SHEGONG_GRADE_THRESHOLDS = {"excellent": 95, "good": 85, "pass": 70}
    assert services.grade_for(Decimal("90.00")) == "good"
    assert services.grade_for(Decimal("65")) == "fail"


def test_every_panelist_must_score_every_leaf(build, people):
    project = build(Stage.MIDTERM_EVALUATION)
    evaluation = project.evaluations.get()
    score_all(evaluation, {"甲": {"A1": 80, "A2": 70, "B": 90}, "乙": {"A1": 80}})
    with pytest.raises(ValidationError) as caught:
        services.evaluation_complete(actor=people[Role.COUNTY_STAFF], evaluation=evaluation)
    assert "乙" in str(caught.value)


@pytest.mark.parametrize("value", [-1, 101, "12.345", "abc"])
def test_a_score_is_from_0_to_100(build, value):
    evaluation = build(Stage.MIDTERM_EVALUATION).evaluations.get()
    with pytest.raises(ValidationError):
        score_all(evaluation, {"甲": {"A1": value}})


@pytest.mark.parametrize(
    ("indicators", "where"),
    [
        ([{"name": "甲", "weight": 60}, {"name": "乙", "weight": 30}], "the top level"),
        (
            [
                {"name": "甲", "weight": 60, "children": [{"name": "甲1", "weight": 70}]},
                {"name": "乙", "weight": 40},
            ],
            "under “甲”",
        ),
    ],
)
def test_a_tree_whose_weights_do_not_add_up_to_100_is_refused(people, indicators, where):
    with pytest.raises(ValidationError) as caught:
        services.indicator_tree_create(
            actor=people[Role.CITY_ADMIN], name="坏树", indicators=indicators
        )
    assert where in str(caught.value) and "not 100" in str(caught.value)


def test_the_default_tree_is_seeded_once(db):
    assert services.seed_default_indicator_tree() is True
    assert services.seed_default_indicator_tree() is False
    tree = services.default_tree()
    tops = tree.indicators.filter(parent=None)
    assert sum(t.weight for t in tops) == 100 and tops.count() == 6


def test_a_failed_final_evaluation_flags_the_agency(build, net, people):
    # given a project whose final evaluation fails
    project = build(Stage.FINAL_EVALUATION)
    final = project.evaluations.get(kind="final")
    score_all(final, {"甲": {"A1": 50, "A2": 40, "B": 55}})
    services.evaluation_complete(actor=people[Role.COUNTY_STAFF], evaluation=final)
    # then the agency is flagged
    flag = AgencyFlag.objects.get()
    assert flag.agency == net["agency"] and flag.evaluation == final
    assert list(services.agency_flags_open(net["agency"])) == [flag]
    # and its next application records the warning
    again = build(agency=net["agency"])
    note = StageChange.objects.get(project=again).note
    assert project.code in note and "Warning" in note


def test_a_passed_final_evaluation_flags_nobody(build):
    build(Stage.CLOSED)
    assert not AgencyFlag.objects.exists()


# --- evidence files ------------------------------------------------------------------------

PDF = b"%PDF-1.4\n%evidence\n"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 100, "not a PDF"),
        ("virus.exe", b"MZ\x90\x00", "not allowed"),
        ("photo.png", PDF, "not a PNG"),
        ("sheet.xlsx", _docx(), "not a XLSX"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_a_forbidden_evidence_file_is_refused(build, people, name, content, message):
    evaluation = build(Stage.MIDTERM_EVALUATION).evaluations.get()
    with pytest.raises(ValidationError) as caught:
        services.evidence_upload(
            actor=people[Role.COUNTY_STAFF],
            evaluation=evaluation,
            file=SimpleUploadedFile(name, content),
        )
    assert message in str(caught.value)
    assert not EvidenceFile.objects.exists()


def test_an_evidence_file_over_10_mb_is_refused(build, people):
    evaluation = build(Stage.MIDTERM_EVALUATION).evaluations.get()
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError) as caught:
        services.evidence_upload(actor=people[Role.COUNTY_STAFF], evaluation=evaluation, file=big)
    assert "10 MB" in str(caught.value)


def test_evidence_is_served_only_to_users_who_see_the_project(client, build, people, settings):
    # given a PDF and a DOCX uploaded by the agency
    evaluation = build(Stage.MIDTERM_EVALUATION).evaluations.get()
    evidence = services.evidence_upload(
        actor=people[Role.AGENCY_STAFF],
        evaluation=evaluation,
        file=SimpleUploadedFile("报告.pdf", PDF),
    )
    services.evidence_upload(
        actor=people[Role.AGENCY_STAFF],
        evaluation=evaluation,
        file=SimpleUploadedFile("a.docx", _docx()),
    )
    assert str(settings.MEDIA_ROOT) in evidence.file.path and "报告" not in evidence.file.name
    for user, status in (
        (people[Role.ROOM_WORKER], 200),
        (people[Role.AGENCY_STAFF], 200),
        (people["other_county"], 404),
        (people["other_agency"], 404),
    ):
        client.force_login(user)
        for url in (
            reverse("projects:evidence", kwargs={"pk": evidence.pk}),
            reverse("api:download_evidence", kwargs={"evidence_id": evidence.pk}),
        ):
            response = client.get(url)
            assert response.status_code == status, (user.username, url)
            if status == 200:
                assert b"".join(response.streaming_content) == PDF
                assert "attachment" in response["Content-Disposition"]

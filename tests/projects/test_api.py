"""The projects API: agency staff see only their projects; bad input answers 422 with the
message; the project page data (flags, budget, KPIs); F29."""

import json

import pytest
from django.urls import reverse

from shegong.core.roles import Role
from shegong.projects import services
from shegong.projects.models import Project, Stage
from tests.projects.conftest import score_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    """Answers in English (the msgids)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def post(client, name, body, **kwargs):
    return client.post(
        reverse(name, kwargs=kwargs), json.dumps(body), content_type="application/json"
    )


def test_agency_staff_see_only_their_agencys_projects(client, build, net, people):
    # given a project of each agency and one still in application (no agency yet)
    ours = build(Stage.IN_PROGRESS)
    theirs = build(Stage.IN_PROGRESS, agency=net["other_agency"])
    pending = build(Stage.APPLICATION)
    client.force_login(people[Role.AGENCY_STAFF])
    # when they list and open projects
    listed = client.get(reverse("api:list_projects")).json()
    # then they see their own only, and the others do not exist for them
    assert [p["id"] for p in listed["results"]] == [ours.pk]
    assert client.get(reverse("api:get_project", kwargs={"project_id": ours.pk})).status_code == 200
    for other in (theirs, pending):
        url = reverse("api:get_project", kwargs={"project_id": other.pk})
        assert client.get(url).status_code == 404
    # and the other agency sees the other one only
    client.force_login(people["other_agency"])
    listed = client.get(reverse("api:list_projects")).json()
    assert [p["id"] for p in listed["results"]] == [theirs.pk]


def test_the_station_applies_and_bad_input_gets_a_message(client, net, people):
    client.force_login(people[Role.STATION_STAFF])
    body = {
        "code": "JB-2024-001",
        "name": "困境儿童关爱",
        "purchase_model": "project",
        "focus": "special_groups",
        "area_code": "500105001",
        "purchaser_id": net["station"].pk,
        "starts_on": "2024-02-01",
        "ends_on": "2025-01-31",
        "budget": "200000",
        "kpi_cases": 30,
        "budget_lines": [{"name": "人员", "amount": "150000"}, {"name": "活动", "amount": "60000"}],
    }
    response = post(client, "api:create_project", body)
    assert response.status_code == 422
    assert "more than the budget" in json.dumps(response.json(), ensure_ascii=False)
    response = post(client, "api:create_project", {**body, "budget": "-1", "budget_lines": []})
    assert response.status_code == 422
    assert "cannot be negative" in response.json()["errors"][0]["msg"]
    response = post(
        client, "api:create_project", {**body, "ends_on": "2024-01-01", "budget_lines": []}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["ends_on"]
    response = post(client, "api:create_project", {**body, "budget_lines": [], "surprise": 1})
    assert response.status_code == 422
    response = post(client, "api:create_project", {**body, "budget_lines": []})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["stage"] == "application" and data["next_stages"] == ["preliminary_review"]
    # the station may not review its own application
    response = post(
        client, "api:preliminary_review_project", {"passed": True}, project_id=data["id"]
    )
    assert response.status_code == 403
    # a stale version is a conflict
    response = post(client, "api:submit_project", {"version": 7}, project_id=data["id"])
    assert response.status_code == 409
    response = post(client, "api:submit_project", {"version": 1}, project_id=data["id"])
    assert response.status_code == 200 and response.json()["stage"] == "preliminary_review"


def test_a_step_out_of_order_answers_422_with_the_stage(client, build, net, people):
    project = build(Stage.APPLICATION)
    client.force_login(people[Role.COUNTY_STAFF])
    response = post(
        client,
        "api:sign_contract",
        {"agency_id": net["agency"].pk, "contract_number": "x", "signed_on": "2024-01-20"},
        project_id=project.pk,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["stage"]
    assert Project.objects.get(pk=project.pk).stage == Stage.APPLICATION


def test_the_project_shows_the_agencys_flags(client, build, net, people):
    project = build(Stage.FINAL_EVALUATION)
    final = project.evaluations.get(kind="final")
    score_all(final, {"甲": {"A1": 10, "A2": 10, "B": 10}})
    services.evaluation_complete(actor=None, evaluation=final)
    client.force_login(people[Role.COUNTY_STAFF])
    data = client.get(reverse("api:get_project", kwargs={"project_id": project.pk})).json()
    assert [f["project_code"] for f in data["agency_flags"]] == [project.code]
    assert data["kpis"][0]["source"] == "reported"
    evaluation = client.get(
        reverse("api:get_evaluation", kwargs={"evaluation_id": final.pk})
    ).json()
    assert evaluation["grade"] == "fail" and evaluation["total"] == "10.00"


def test_a_tree_that_does_not_add_up_is_refused_by_the_api(client, people):
    client.force_login(people[Role.CITY_ADMIN])
    body = {
        "name": "坏树",
        "indicators": [{"name": "甲", "weight": 50}, {"name": "乙", "weight": 49}],
    }
    response = post(client, "api:create_indicator_tree", body)
    assert response.status_code == 422
    assert "add up to 99, not 100" in response.json()["errors"][0]["msg"]
    client.force_login(people[Role.COUNTY_STAFF])
    assert post(client, "api:create_indicator_tree", body).status_code == 403


def test_counts_by_focus_and_stage_and_f29(client, build, people):
    build(Stage.IN_PROGRESS)
    build(Stage.REJECTED)
    build(Stage.APPLICATION, focus="governance")
    client.force_login(people[Role.CITY_ADMIN])
    data = client.get(reverse("api:get_project_counts")).json()
    assert data["by_focus"]["special_groups"] == 2 and data["by_focus"]["governance"] == 1
    assert data["by_stage"]["rejected"] == 1 and data["total"] == 3
    assert data["livelihood_security_projects"] == 1
    listed = client.get(
        reverse("api:list_projects"), {"focus": "special_groups", "stage": "in_progress"}
    )
    assert listed.json()["count"] == 1


def test_evidence_upload_through_the_api(client, build, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    evaluation = build(Stage.MIDTERM_EVALUATION).evaluations.get()
    client.force_login(people[Role.AGENCY_STAFF])
    url = reverse("api:upload_evidence", kwargs={"evaluation_id": evaluation.pk})
    bad = client.post(url, {"file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00junk")})
    assert bad.status_code == 422 and "not a PDF" in bad.json()["errors"][0]["msg"]
    good = client.post(url, {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.7 ok")})
    assert good.status_code == 201 and good.json()["original_name"] == "x.pdf"

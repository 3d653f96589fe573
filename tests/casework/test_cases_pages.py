"""Case pages and API: who sees what, the access log, protected cases and break the glass,
the list and its export, and the stage forms (errors keep the input, nothing written)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shegong.casework.models import AccessGrant, Case, CaseStage
from shegong.casework.services import cases as svc
from shegong.core.models import AuditEvent
from tests.casework.test_cases_services import build_casework_world, case_at, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def casework_world(db):
    return build_casework_world()


def _views(case: Case, outcome: str = "allowed") -> int:
    return AuditEvent.objects.filter(
        action="case.view", object_id=str(case.pk), outcome=outcome
    ).count()


def _api(client, method: str, url: str, body: dict | None = None):
    if method == "get":
        return client.get(url)
    return client.post(url, json.dumps(body or {}), content_type="application/json")


# --- viewing ----------------------------------------------------------------------------------


def test_a_case_page_writes_one_access_row_and_is_not_cached(client, casework_world):
    w = casework_world
    case = case_at(w, CaseStage.PLAN)
    client.force_login(w["worker"])
    # when the worker opens the case page
    response = client.get(reverse("casework:case", kwargs={"pk": case.pk}))
    # then it shows the case, is not cached, and one access row is written
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert case.number in body and "独居，行动不便" in body
    assert w["adult"].national_id in body  # the front line sees the ID in clear
    assert _views(case) == 1
    # and the API detail writes one more
    response = client.get(f"/api/v1/cases/{case.pk}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json()["presenting_problem"] == "独居，行动不便，需要照料"
    assert _views(case) == 2


def test_who_sees_a_case(client, casework_world):
    w = casework_world
    case = case_at(w, CaseStage.ASSESSMENT)
    url = reverse("casework:case", kwargs={"pk": case.pk})
    # the station supervisor and the county staff in scope see it; county sees a masked ID
    for user in (w["supervisor"], w["county"], w["city"]):
        client.force_login(user)
        assert client.get(url).status_code == 200
    client.force_login(w["county"])
    assert w["adult"].national_id not in client.get(url).content.decode()
    # the analyst gets 403 on pages and API
    client.force_login(w["analyst"])
    assert client.get(url).status_code == 403
    assert client.get(reverse("casework:cases")).status_code == 403
    assert client.get(f"/api/v1/cases/{case.pk}").status_code == 403
    assert client.get("/api/v1/cases").status_code == 403


def test_a_room_worker_cannot_open_the_next_communitys_case_by_guessing(client, casework_world):
    w = casework_world
    # given a case of the next community's resident, held by the station
    case = open_case(
        w,
        resident=w["neighbour"],
        facility=w["station"],
        worker=w["supervisor"],
        supervisor=w["county"],
    )
    client.force_login(w["worker"])
    # then the room worker of 桥北 does not find it, on the page or in the API
    assert client.get(reverse("casework:case", kwargs={"pk": case.pk})).status_code == 404
    assert client.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert (
        _api(
            client, "post", f"/api/v1/cases/{case.pk}/notes", {"kind": "general", "text": "x"}
        ).status_code
        == 404
    )
    assert case.pk not in [c["id"] for c in client.get("/api/v1/cases").json()["results"]]


# --- protected cases --------------------------------------------------------------------------


def test_a_protected_case_breaks_the_glass_with_a_reason_only(client, casework_world):
    w = casework_world
    case = open_case(w, protected=True, presenting_problem="家庭暴力危机")
    url = reverse("casework:case", kwargs={"pk": case.pk})
    glass = reverse("casework:case_break_glass", kwargs={"pk": case.pk})
    # the team opens it
    client.force_login(w["supervisor"])
    assert client.get(url).status_code == 200
    # county staff in scope get the break-the-glass page, no narrative, a denied row
    client.force_login(w["county"])
    response = client.get(url)
    assert response.status_code == 403
    assert "家庭暴力" not in response.content.decode()
    assert 'data-testid="break-glass"' in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert _views(case, "denied") == 1
    # the API answers 403 "protected"
    response = client.get(f"/api/v1/cases/{case.pk}")
    assert response.status_code == 403
    assert response.json()["code"] == "protected"
    # without a reason: refused, logged, no grant
    response = client.post(glass, {"reason": "", "minutes": 30})
    assert response.status_code == 400
    assert not AccessGrant.objects.exists()
    assert AuditEvent.objects.filter(action="case.break_glass", outcome="denied").count() == 1
    assert client.get(url).status_code == 403
    # with a reason: a grant, logged, and the case opens
    response = client.post(glass, {"reason": "接到紧急求助电话，需要了解情况", "minutes": 30})
    assert response.status_code == 302
    grant = AccessGrant.objects.get(user=w["county"], case=case)
    event = AuditEvent.objects.get(action="case.break_glass", outcome="allowed")
    assert event.object_repr == case.number
    response = client.get(url)
    assert response.status_code == 200 and "家庭暴力" in response.content.decode()
    assert client.get(f"/api/v1/cases/{case.pk}").status_code == 200
    # once the grant expires, the case closes again
    grant.expires_at = timezone.now() - timedelta(seconds=1)
    grant.save()
    assert client.get(url).status_code == 403


def test_break_glass_through_the_api(client, casework_world):
    w = casework_world
    case = open_case(w, resident=w["child"])  # a child under 14: protected
    client.force_login(w["county"])
    url = f"/api/v1/cases/{case.pk}/break-glass"
    response = _api(client, "post", url, {"reason": ""})
    assert response.status_code == 422
    assert _api(client, "get", f"/api/v1/cases/{case.pk}").json()["code"] == "protected"
    response = _api(client, "post", url, {"reason": "监护人来电，需核实个案", "minutes": 15})
    assert response.status_code == 201 and response.json()["granted"] is True
    assert _api(client, "get", f"/api/v1/cases/{case.pk}").status_code == 200
    # unknown fields are rejected
    assert _api(client, "post", url, {"reason": "x" * 10, "extra": 1}).status_code == 422


def test_the_list_hides_protected_names_and_has_no_narrative(client, casework_world):
    w = casework_world
    plain = open_case(w)
    protected = open_case(w, resident=w["child"])
    client.force_login(w["county"])
    response = client.get(reverse("casework:cases"))
    body = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert plain.number in body and protected.number in body
    assert "张大爷" in body and "李小明" not in body  # the child's name is protected
    assert "独居" not in body  # no narrative in the list
    # the team sees the name
    client.force_login(w["worker"])
    assert "李小明" in client.get(reverse("casework:cases")).content.decode()
    # the API list has no narrative fields
    item = client.get("/api/v1/cases").json()["results"][0]
    assert "presenting_problem" not in item and "assessment" not in item


def test_list_filters_and_search_are_logged(client, casework_world):
    w = casework_world
    mine = case_at(w, CaseStage.PLAN)
    other = open_case(
        w,
        worker=w["supervisor"],
        supervisor=w["county"],
        facility=w["station"],
    )
    client.force_login(w["worker"])
    url = reverse("casework:cases")
    body = client.get(url, {"mine": "1"}).content.decode()
    assert mine.number in body and other.number not in body
    client.force_login(w["supervisor"])
    body = client.get(url, {"stage": "plan"}).content.decode()
    assert mine.number in body and other.number not in body
    before = AuditEvent.objects.filter(action="case.search").count()
    body = client.get(url, {"q": other.number[-4:]}).content.decode()
    assert other.number in body
    assert AuditEvent.objects.filter(action="case.search").count() == before + 1


def test_the_export_is_gated_logged_and_without_narrative(client, casework_world):
    w = casework_world
    case = case_at(w, CaseStage.ASSESSMENT)
    # the room worker may not export personal data
    client.force_login(w["worker"])
    assert client.get(reverse("casework:cases_export")).status_code == 403
    # the station staff may; the file has the case, not its narrative
    client.force_login(w["supervisor"])
    response = client.get(reverse("casework:cases_export"), {"stage": "assessment"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row]
    assert case.number in cells
    assert not any("独居" in c for c in cells)
    event = AuditEvent.objects.get(action="case.export")
    assert event.after["rows"] == 1


# --- the stage forms --------------------------------------------------------------------------


def test_the_page_flow_through_the_stages(client, casework_world):
    w = casework_world
    case = open_case(w)
    client.force_login(w["worker"])
    case_url = reverse("casework:case", kwargs={"pk": case.pk})
    # the worker proposes to accept
    response = client.post(
        reverse("casework:case_decide", kwargs={"pk": case.pk}),
        {"decision": "accept", "reason": "", "version": case.version},
    )
    assert response.status_code == 302
    # the supervisor sees the approve form and approves
    client.force_login(w["supervisor"])
    assert 'data-testid="approve-form"' in client.get(case_url).content.decode()
    case.refresh_from_db()
    response = client.post(
        reverse("casework:case_approve", kwargs={"pk": case.pk}), {"version": case.version}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == CaseStage.ASSESSMENT
    # the worker tries to move on without an assessment: the page again, the note kept
    client.force_login(w["worker"])
    advance = reverse("casework:case_advance", kwargs={"pk": case.pk})
    response = client.post(
        advance,
        {
            "to_stage": "plan",
            "action": "advance",
            "version": case.version,
            "note": "我的备注",
            "assessment": "",
        },
    )
    assert response.status_code == 400
    assert "我的备注" in response.content.decode()
    assert Case.objects.get(pk=case.pk).stage == CaseStage.ASSESSMENT
    # a skip through the form is refused with the message, nothing written
    response = client.post(
        advance,
        {
            "to_stage": "intervention",
            "action": "advance",
            "version": case.version,
            "assessment": "预估内容",
        },
    )
    assert response.status_code == 400
    assert Case.objects.get(pk=case.pk).assessment == ""
    # a stale version answers 409
    response = client.post(
        advance,
        {
            "to_stage": "plan",
            "action": "advance",
            "version": case.version - 1,
            "assessment": "预估内容",
        },
    )
    assert response.status_code == 409
    # the right step works
    response = client.post(
        advance,
        {
            "to_stage": "plan",
            "action": "advance",
            "version": case.version,
            "assessment": "预估内容",
        },
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).stage == CaseStage.PLAN


def test_closing_asks_for_confirmation(client, casework_world):
    w = casework_world
    case = case_at(w, CaseStage.EVALUATION)
    client.force_login(w["worker"])
    data = {
        "to_stage": "closed",
        "action": "advance",
        "version": case.version,
        "evaluation_method": "访谈",
        "evaluation": "改善",
        "closure_reason": "goals_met",
        "closing_report": "报告",
        "client_reaction": "满意",
    }
    url = reverse("casework:case_advance", kwargs={"pk": case.pk})
    response = client.post(url, data)
    assert response.status_code == 400
    assert "报告" in response.content.decode()  # what was typed is kept
    assert Case.objects.get(pk=case.pk).stage == CaseStage.EVALUATION
    response = client.post(url, {**data, "confirm_close": "on"})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).stage == CaseStage.CLOSED


def test_opening_a_case_through_the_page(client, casework_world):
    w = casework_world
    client.force_login(w["worker"])
    url = reverse("casework:case_new") + f"?resident={w['adult'].pk}"
    assert client.get(url).status_code == 200
    data = {
        "facility": w["room"].pk,
        "referral_source": "committee",
        "presenting_problem": "子女外出务工，独居",
        "risk_level": "medium",
        "assigned_to": w["worker"].pk,
        "supervisor": w["worker"].pk,  # not a supervisor: refused, input kept
        "opened_on": timezone.localdate().isoformat(),
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "子女外出务工" in response.content.decode()
    assert not Case.objects.exists()
    response = client.post(url, {**data, "supervisor": w["supervisor"].pk})
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == reverse("casework:case", kwargs={"pk": case.pk})
    # a resident outside scope is not found
    client.force_login(w["worker"])
    url = reverse("casework:case_new") + f"?resident={w['neighbour'].pk}"
    assert client.get(url).status_code == 404


def test_api_case_flow_and_conflict(client, casework_world):
    w = casework_world
    client.force_login(w["worker"])
    response = _api(
        client,
        "post",
        "/api/v1/cases",
        {
            "resident_id": w["adult"].pk,
            "facility_id": w["room"].pk,
            "referral_source": "self",
            "presenting_problem": "需要陪伴",
            "assigned_to_id": w["worker"].pk,
            "supervisor_id": w["supervisor"].pk,
        },
    )
    assert response.status_code == 201, response.content
    case_id = response.json()["id"]
    assert "presenting_problem" not in response.json()
    assert (
        _api(client, "post", f"/api/v1/cases/{case_id}/decide", {"accept": True}).status_code == 200
    )
    client.force_login(w["supervisor"])
    response = _api(client, "post", f"/api/v1/cases/{case_id}/approve", {})
    assert response.json()["stage"] == "assessment"
    version = response.json()["version"]
    client.force_login(w["worker"])
    # a skip answers 422 with the reason
    response = _api(
        client,
        "post",
        f"/api/v1/cases/{case_id}/advance",
        {"to_stage": "intervention", "assessment": "x"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["to_stage"]
    # a stale version 409
    response = _api(
        client,
        "post",
        f"/api/v1/cases/{case_id}/advance",
        {"to_stage": "plan", "assessment": "预估", "version": version - 1},
    )
    assert response.status_code == 409
    response = _api(
        client,
        "post",
        f"/api/v1/cases/{case_id}/advance",
        {"to_stage": "plan", "assessment": "预估", "version": version},
    )
    assert response.status_code == 200 and response.json()["stage"] == "plan"
    response = _api(client, "post", f"/api/v1/cases/{case_id}/goals", {"text": "改善睡眠"})
    assert response.status_code == 201
    detail = _api(client, "get", f"/api/v1/cases/{case_id}").json()
    assert detail["goals"][0]["text"] == "改善睡眠"
    assert detail["next_stage"] == "intervention"


def test_a_counselling_note_protects_the_case_from_others(client, casework_world):
    w = casework_world
    case = case_at(w, CaseStage.INTERVENTION)
    client.force_login(w["county"])
    assert client.get(reverse("casework:case", kwargs={"pk": case.pk})).status_code == 200
    svc.case_note_add(actor=w["worker"], case=case, kind="counselling", text="咨询记录")
    assert client.get(reverse("casework:case", kwargs={"pk": case.pk})).status_code == 403


@pytest.mark.parametrize("stage", [*CaseStage.values])
def test_the_case_page_at_every_stage(client, casework_world, stage):
    w = casework_world
    case = case_at(w, stage)
    for user in (w["worker"], w["supervisor"]):
        client.force_login(user)
        response = client.get(reverse("casework:case", kwargs={"pk": case.pk}))
        assert response.status_code == 200
        body = response.content.decode()
        assert f'data-step="{stage}" data-state="current"' in body
        # the form of the step is offered only while the case is open
        assert ('data-testid="stage-form"' in body) == (
            stage not in (CaseStage.INTAKE, CaseStage.CLOSED, CaseStage.DECLINED)
        )

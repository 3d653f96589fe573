"""The scope matrix (security.md 6): every page and API endpoint × every role × inside and
outside the role's scope, plus anonymous access.

Endpoints are discovered from the URL configuration: a new URL without an entry in ENDPOINTS
fails ``test_every_url_is_in_the_matrix``, so nothing can escape the matrix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from shegong.accounts.models import User
from shegong.accounts.services import api_token_create
from shegong.core.audit import audit_record
from shegong.core.roles import Role
from shegong.core.validators import national_id_check_digit
from shegong.geo.models import Division
from shegong.geo.services import poverty_designate
from shegong.network.services import facility_create, supervision_visit_create
from shegong.workforce.services import (
    award_create,
    award_scheme_create,
    course_create,
    dispatch_create,
    enrolment_create,
    posting_create,
    social_worker_create,
    training_programme_create,
    university_create,
)
from tests.casework.matrix import CASEWORK_ENDPOINTS, build_casework
from tests.conftest import ROLE_DIVISIONS, analyze, make_user
from tests.matrix_endpoint import Ctx, Endpoint

pytestmark = pytest.mark.django_db


def _html_lacks(text_of: Callable[[Ctx], str]):
    return lambda ctx, response: text_of(ctx) not in response.content.decode()


def _api_codes_in_scope(ctx: Ctx, response) -> bool:
    return all(d["code"].startswith(ctx.user.scope_prefix) for d in response.json()["results"])


def _p(key: str, arg: str = "project_id"):
    """inside/outside kwargs for the matrix object ``key`` (see ``_projects``)."""
    return {
        "inside": lambda c: {arg: c.net[f"{key}_in"]},
        "outside": lambda c: {arg: c.net[f"{key}_out"]},
    }


def _today() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()


PROJECT_ENDPOINTS: dict[str, Endpoint] = {
    "api:list_projects": Endpoint(
        api=True,
        perm="projects.view_project",
        no_leak=lambda c, r: not {p["id"] for p in r.json()["results"]} & c.net["projects_out"],
    ),
    "api:get_project_counts": Endpoint(
        api=True,
        perm="projects.view_project",
        query=lambda c, inside: {"area": "500105" if inside else "510104"},
        no_leak=lambda c, r: r.json()["total"] == 0,
    ),
    "api:get_project": Endpoint(api=True, perm="projects.view_project", **_p("p_prog")),
    "api:create_project": Endpoint(
        api=True,
        method="post",
        perm="projects.add_project",
        ok=201,
        body=lambda c, inside: {
            "code": "MATRIX-NEW",
            "name": "矩阵项目",
            "purchase_model": "project",
            "focus": "special_groups",
            "area_code": "500105001" if inside else "510104017",
            "purchaser_id": c.net["station_in" if inside else "station_out"],
            "starts_on": "2024-02-01",
            "ends_on": "2025-01-31",
            "budget": "100000",
        },
        outside=lambda c: {},
    ),
    "api:add_budget_line": Endpoint(
        api=True,
        method="post",
        perm="projects.add_budgetline",
        ok=201,
        body={"name": "人员经费", "amount": "1000.50"},
        **_p("p_app"),
    ),
    "api:add_milestone": Endpoint(
        api=True,
        method="post",
        perm="projects.add_paymentmilestone",
        ok=201,
        body={"name": "首期", "due_on": "2024-03-01", "amount": "1000"},
        **_p("p_app"),
    ),
    "api:get_project_timeline": Endpoint(api=True, perm="projects.view_project", **_p("p_prog")),
    "api:submit_project": Endpoint(
        api=True, method="post", perm="projects.change_project", **_p("p_app")
    ),
    "api:preliminary_review_project": Endpoint(
        api=True,
        method="post",
        perm="projects.review_project",
        body={"passed": True},
        **_p("p_pre"),
    ),
    "api:expert_review_project": Endpoint(
        api=True,
        method="post",
        perm="projects.approve_project",
        body={"passed": True},
        **_p("p_exp"),
    ),
    "api:list_objections": Endpoint(api=True, perm="projects.view_objection", **_p("p_notice")),
    "api:create_objection": Endpoint(
        api=True,
        method="post",
        perm="projects.add_objection",
        ok=201,
        body=lambda c, inside: {"received_on": _today(), "text": "矩阵异议"},
        **_p("p_notice"),
    ),
    "api:resolve_objection": Endpoint(
        api=True,
        method="post",
        perm="projects.change_objection",
        body=lambda c, inside: {"resolution": "已答复", "resolved_on": _today()},
        **_p("objection", "objection_id"),
    ),
    "api:sign_contract": Endpoint(
        api=True,
        method="post",
        perm="projects.approve_project",
        body=lambda c, inside: {
            "agency_id": c.net["agency_in" if inside else "agency_out"],
            "contract_number": "HT-MATRIX",
            "signed_on": "2024-01-20",
        },
        **_p("p_noticed"),
    ),
    "api:start_project": Endpoint(
        api=True,
        method="post",
        perm="projects.change_project",
        body={"started_on": "2024-02-01"},
        **_p("p_contract"),
    ),
    "api:close_project": Endpoint(
        api=True, method="post", perm="projects.close_project", **_p("p_final")
    ),
    "api:terminate_project": Endpoint(
        api=True,
        method="post",
        perm="projects.close_project",
        body={"reason": "矩阵终止"},
        **_p("p_prog"),
    ),
    "api:list_reports": Endpoint(api=True, perm="projects.view_monthlyreport", **_p("p_prog")),
    "api:submit_report": Endpoint(
        api=True,
        method="post",
        perm="projects.add_monthlyreport",
        ok=201,
        body={"month": "2024-03-01", "summary": "矩阵月报", "reported_person_times": 30},
        **_p("p_prog"),
    ),
    "api:list_supervisions": Endpoint(
        api=True, perm="projects.view_supervisionrecord", **_p("p_prog")
    ),
    "api:add_supervision": Endpoint(
        api=True,
        method="post",
        perm="projects.add_supervisionrecord",
        ok=201,
        body={"visited_on": "2024-03-05", "supervisor": "督导", "findings": "良好"},
        **_p("p_prog"),
    ),
    "api:list_evaluations": Endpoint(api=True, perm="projects.view_evaluation", **_p("p_mid")),
    "api:start_evaluation": Endpoint(
        api=True,
        method="post",
        perm="projects.add_evaluation",
        ok=201,
        body={"kind": "midterm", "evaluated_on": "2024-08-01", "panel": "专家"},
        **_p("p_prog"),
    ),
    "api:get_evaluation": Endpoint(
        api=True, perm="projects.view_evaluation", **_p("eval", "evaluation_id")
    ),
    "api:record_scores": Endpoint(
        api=True,
        method="post",
        perm="projects.add_score",
        body=lambda c, inside: {"panelist": "乙", "scores": {str(c.net["leaf"]): 88}},
        **_p("eval", "evaluation_id"),
    ),
    "api:complete_evaluation": Endpoint(
        api=True, method="post", perm="projects.change_evaluation", **_p("eval", "evaluation_id")
    ),
    "api:add_evaluation_fix": Endpoint(
        api=True,
        method="post",
        perm="projects.add_evaluationfix",
        ok=201,
        body={"description": "补充档案", "deadline": "2024-09-01"},
        **_p("eval", "evaluation_id"),
    ),
    "api:resolve_evaluation_fix": Endpoint(
        api=True,
        method="post",
        perm="projects.change_evaluationfix",
        body={"resolved_on": "2024-08-15", "resolution": "已整改"},
        **_p("efix", "fix_id"),
    ),
    "api:upload_evidence": Endpoint(
        api=True,
        method="post",
        perm="projects.add_evidencefile",
        ok=422,  # the matrix posts no file: allowed roles get past the permission check only
        **_p("eval", "evaluation_id"),
    ),
    "api:download_evidence": Endpoint(
        api=True, perm="projects.view_evidencefile", **_p("evidence", "evidence_id")
    ),
    "projects:evidence": Endpoint(perm="projects.view_evidencefile", **_p("evidence", "pk")),
    "projects:list": Endpoint(
        perm="projects.view_project", no_leak=_html_lacks(lambda c: "项目p_appout")
    ),
    "projects:detail": Endpoint(perm="projects.view_project", **_p("p_prog", "pk")),
    "api:list_indicator_trees": Endpoint(api=True, perm="projects.view_indicatortree"),
    "api:get_indicator_tree": Endpoint(
        api=True, perm="projects.view_indicatortree", inside=lambda c: {"tree_id": c.net["tree"]}
    ),
    "api:create_indicator_tree": Endpoint(
        api=True,
        method="post",
        perm="projects.add_indicatortree",
        ok=201,
        body={
            "name": "矩阵指标",
            "indicators": [{"name": "甲", "weight": 60}, {"name": "乙", "weight": 40}],
        },
    ),
}


ENDPOINTS: dict[str, Endpoint] = {
    "core:home": Endpoint(no_leak=_html_lacks(lambda c: c.outside_name)),
    "core:audit": Endpoint(
        perm="core.view_auditevent", no_leak=_html_lacks(lambda c: c.outsider.username)
    ),
    "favicon": Endpoint(public=True, ok=301),
    "accounts:login": Endpoint(public=True, ok=302),  # signed-in users are sent home
    "accounts:logout": Endpoint(method="post", ok=302),
    # the code step of signing in: without a pending password step it sends back to sign in
    "accounts:two_factor": Endpoint(public=True, ok=302),
    "accounts:tokens": Endpoint(no_leak=_html_lacks(lambda c: "foreign-token")),
    "accounts:token_revoke": Endpoint(
        method="post",
        ok=302,
        inside=lambda c: {"pk": c.own_token_id},
        outside=lambda c: {"pk": c.foreign_token_id},
    ),
    "accounts:users": Endpoint(
        perm="accounts.view_user", no_leak=_html_lacks(lambda c: c.outsider.username)
    ),
    # user administration (security administrators, within their area)
    "accounts:user_create": Endpoint(perm="accounts.add_user"),
    "accounts:user_import": Endpoint(perm="accounts.add_user"),
    "accounts:user_import_template": Endpoint(perm="accounts.add_user"),
    "accounts:user_edit": Endpoint(
        perm="accounts.change_user",
        inside=lambda c: {"pk": _target(c).pk},
        outside=lambda c: {"pk": c.outsider.pk},
    ),
    "accounts:user_active": Endpoint(
        method="post",
        perm="accounts.change_user",
        ok=302,
        inside=lambda c: {"pk": _target(c).pk},
        outside=lambda c: {"pk": c.outsider.pk},
        body={"active": "0"},
    ),
    "accounts:user_password_link": Endpoint(
        method="post",
        perm="accounts.change_user",
        inside=lambda c: {"pk": _target(c).pk},
        outside=lambda c: {"pk": c.outsider.pk},
    ),
    # setting a password through a one-time link: public; without a usable link, 404
    "accounts:set_password": Endpoint(public=True, ok=404),
    "accounts:set_password_link": Endpoint(
        public=True, ok=404, inside=lambda c: {"key": "not-a-link"}
    ),
    "accounts:two_factor_reset": Endpoint(
        method="post",
        perm="accounts.change_user",
        ok=302,
        inside=lambda c: {"pk": c.user.pk},
        outside=lambda c: {"pk": c.outsider.pk},
    ),
    "geo:browser": Endpoint(ok=302),
    "geo:search": Endpoint(
        query=lambda c, inside: {"q": c.inside_name if inside else c.outside_name},
        no_leak=_html_lacks(lambda c: f"/divisions/{c.outside_code}/"),
    ),
    "geo:detail": Endpoint(
        inside=lambda c: {"code": c.inside_code}, outside=lambda c: {"code": c.outside_code}
    ),
    "api:openapi-json": Endpoint(),
    "api:openapi-view": Endpoint(),
    "api:api-root": Endpoint(api=True, public=True, ok=404),  # ninja's placeholder: always 404
    "api:me": Endpoint(api=True),
    "api:list_users": Endpoint(
        api=True,
        perm="accounts.view_user",
        no_leak=lambda c, r: all(u["username"] != c.outsider.username for u in r.json()["results"]),
    ),
    "api:create_user": Endpoint(
        api=True,
        method="post",
        perm="accounts.add_user",
        ok=201,
        body=lambda c, inside: {
            "username": f"matrix-new-{c.user.role}",
            "full_name": "新用户",
            "role": "room_worker",
            "division_code": c.inside_code if inside else c.outside_code,
        },
    ),
    "api:get_user": Endpoint(
        api=True,
        perm="accounts.view_user",
        inside=lambda c: {"user_id": _target(c).pk},
        outside=lambda c: {"user_id": c.outsider.pk},
    ),
    "api:change_user": Endpoint(
        api=True,
        method="patch",
        perm="accounts.change_user",
        inside=lambda c: {"user_id": _target(c).pk},
        outside=lambda c: {"user_id": c.outsider.pk},
        body=lambda c, inside: {
            "full_name": "改名",
            "role": "room_worker",
            "division_code": c.inside_code,
        },
    ),
    "api:disable_user": Endpoint(
        api=True,
        method="post",
        perm="accounts.change_user",
        inside=lambda c: {"user_id": _target(c).pk},
        outside=lambda c: {"user_id": c.outsider.pk},
    ),
    "api:enable_user": Endpoint(
        api=True,
        method="post",
        perm="accounts.change_user",
        inside=lambda c: {"user_id": _target(c).pk},
        outside=lambda c: {"user_id": c.outsider.pk},
    ),
    "api:create_password_link": Endpoint(
        api=True,
        method="post",
        perm="accounts.change_user",
        ok=201,
        inside=lambda c: {"user_id": _target(c).pk},
        outside=lambda c: {"user_id": c.outsider.pk},
    ),
    "api:reset_two_factor": Endpoint(
        api=True,
        method="post",
        perm="accounts.change_user",
        ok=204,
        inside=lambda c: {"user_id": _target(c).pk},
        outside=lambda c: {"user_id": c.outsider.pk},
    ),
    "api:list_tokens": Endpoint(
        api=True, no_leak=lambda c, r: all(t["id"] != c.foreign_token_id for t in r.json())
    ),
    "api:create_token": Endpoint(api=True, method="post", body={"name": "matrix"}, ok=201),
    "api:revoke_token": Endpoint(
        api=True,
        method="delete",
        ok=204,
        inside=lambda c: {"token_id": c.own_token_id},
        outside=lambda c: {"token_id": c.foreign_token_id},
    ),
    "api:list_divisions": Endpoint(
        api=True,
        query=lambda c, inside: {"code": c.inside_code if inside else c.outside_code},
        no_leak=lambda c, r: r.json()["count"] == 0,
    ),
    "api:get_division": Endpoint(
        api=True,
        inside=lambda c: {"code": c.inside_code},
        outside=lambda c: {"code": c.outside_code},
    ),
    "api:list_children": Endpoint(
        api=True,
        inside=lambda c: {"code": c.inside_code},
        outside=lambda c: {"code": c.outside_code},
    ),
    "set_language": Endpoint(method="post", public=True, ok=302, body={"language": "en"}),
    # --- network (issue #3) -------------------------------------------------------------
    "network:dashboard": Endpoint(
        perm="network.view_facility",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "network:dashboard_xlsx": Endpoint(
        perm="network.view_facility",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "network:facilities": Endpoint(
        perm="network.view_facility", no_leak=_html_lacks(lambda c: "室out")
    ),
    "network:facility_create": Endpoint(perm="network.add_facility"),
    "network:facility_edit": Endpoint(
        roles={Role.STATION_STAFF},
        inside=lambda c: {"pk": c.net["room_in"]},
        outside=lambda c: {"pk": c.net["room_out"]},
    ),
    "network:facility_status": Endpoint(
        roles={Role.STATION_STAFF},
        inside=lambda c: {"pk": c.net["room_in"]},
        outside=lambda c: {"pk": c.net["room_out"]},
    ),
    "network:posting_create": Endpoint(
        perm="workforce.add_posting",
        inside=lambda c: {"pk": c.net["room_in"]},
        outside=lambda c: {"pk": c.net["room_out"]},
    ),
    "network:visit_create": Endpoint(
        roles={Role.STATION_STAFF},
        inside=lambda c: {"pk": c.net["station_in"]},
        outside=lambda c: {"pk": c.net["station_out"]},
    ),
    "network:fix_resolve": Endpoint(
        perm="network.change_requiredfix",
        inside=lambda c: {"pk": c.net["fix_in"]},
        outside=lambda c: {"pk": c.net["fix_out"]},
    ),
    "network:standards": Endpoint(perm="network.view_staffingstandard"),
    "network:import": Endpoint(perm="network.add_facility"),
    "network:import_template": Endpoint(
        perm="network.add_facility", inside=lambda c: {"kind": "facilities"}
    ),
    "network:organisations": Endpoint(perm="network.view_socialorganisation"),
    "network:facility": Endpoint(
        perm="network.view_facility",
        inside=lambda c: {"pk": c.net["room_in"]},
        outside=lambda c: {"pk": c.net["room_out"]},
    ),
    "api:list_facilities": Endpoint(
        api=True,
        perm="network.view_facility",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        no_leak=lambda c, r: r.json()["count"] == 0,
    ),
    "api:get_facility": Endpoint(
        api=True,
        perm="network.view_facility",
        inside=lambda c: {"facility_id": c.net["room_in"]},
        outside=lambda c: {"facility_id": c.net["room_out"]},
    ),
    "api:update_facility": Endpoint(
        api=True,
        method="patch",
        roles={Role.STATION_STAFF},
        body={"version": 1, "address": "矩阵路 1 号"},
        inside=lambda c: {"facility_id": c.net["room_in"]},
        outside=lambda c: {"facility_id": c.net["room_out"]},
    ),
    "api:create_facility": Endpoint(
        api=True,
        method="post",
        roles={Role.STATION_STAFF},
        perm="network.add_facility",
        ok=201,
        body=lambda c, inside: {
            "tier": "room",
            "division_code": "500105001002" if inside else "510104017001",
            "name": "矩阵社工室",
            "status_from": "2024-01-01",
        },
        outside=lambda c: {},
    ),
    "api:change_facility_status": Endpoint(
        api=True,
        method="post",
        roles={Role.STATION_STAFF},
        body={"status": "suspended", "effective_on": "2024-06-01"},
        inside=lambda c: {"facility_id": c.net["room_in"]},
        outside=lambda c: {"facility_id": c.net["room_out"]},
    ),
    "api:get_coverage": Endpoint(
        api=True,
        perm="network.view_facility",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "api:get_coverage_children": Endpoint(
        api=True,
        perm="network.view_facility",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "api:get_coverage_trend": Endpoint(
        api=True,
        perm="network.view_facility",
        query=lambda c, inside: {
            "division": c.inside_code if inside else c.outside_code,
            "start": "2024-01-01",
            "end": "2024-03-01",
        },
        outside=lambda c: {},
    ),
    "api:get_compliance": Endpoint(
        api=True,
        perm="network.view_facility",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "api:list_standards": Endpoint(api=True, perm="network.view_staffingstandard"),
    "api:get_professionals": Endpoint(
        api=True,
        perm="network.view_facility",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "api:end_standard": Endpoint(
        api=True,
        method="post",
        perm="network.change_staffingstandard",
        inside=lambda c: {"standard_id": _standard().pk},
        body={"ended_on": "2099-01-01", "reason": "矩阵"},
    ),
    "api:create_standard": Endpoint(
        api=True,
        method="post",
        perm="network.add_staffingstandard",
        ok=201,
        body={
            "tier": "room",
            "division_kind": "urban",
            "min_full_time": 3,
            "effective_from": "2030-01-01",
            "document": "矩阵文件",
        },
    ),
    "api:list_organisations": Endpoint(
        api=True,
        perm="network.view_socialorganisation",
        no_leak=lambda c, r: all(
            o["division_code"].startswith(c.user.scope_prefix) for o in r.json()["results"]
        ),
    ),
    "api:create_organisation": Endpoint(
        api=True,
        method="post",
        perm="network.add_socialorganisation",
        ok=201,
        body=lambda c, inside: {
            "name": "矩阵社工机构",
            "uscc": "91350100M000100Y43",
            "division_code": c.inside_code if inside else c.outside_code,
        },
        outside=lambda c: {},
    ),
    "api:list_visits": Endpoint(
        api=True,
        perm="network.view_supervisionvisit",
        no_leak=lambda c, r: all(v["id"] != c.net["visit_out"] for v in r.json()["results"]),
    ),
    "api:create_visit": Endpoint(
        api=True,
        method="post",
        roles={Role.STATION_STAFF},
        perm="network.add_supervisionvisit",
        ok=201,
        body=lambda c, inside: {
            "supervisor_id": c.net["station_in" if inside else "station_out"],
            "supervised_id": c.net["room_in" if inside else "room_out"],
            "visited_on": "2024-03-01",
            "visitors": "督导员",
            "findings": "良好",
        },
        outside=lambda c: {},
    ),
    "api:resolve_fix": Endpoint(
        api=True,
        method="post",
        roles={Role.STATION_STAFF},
        body={"resolved_on": "2024-02-01", "follow_up": "已整改"},
        inside=lambda c: {"fix_id": c.net["fix_in"]},
        outside=lambda c: {"fix_id": c.net["fix_out"]},
    ),
    # --- social workers and postings ------------------------------------------------------
    "api:list_social_workers": Endpoint(
        api=True,
        perm="workforce.view_socialworker",
        no_leak=lambda c, r: all(w["id"] != c.net["worker_out"] for w in r.json()["results"]),
    ),
    "api:search_social_worker": Endpoint(
        api=True,
        method="post",
        perm="workforce.view_socialworker",
        body=lambda c, inside: {"national_id": c.net["id_in" if inside else "id_out"]},
        no_leak=lambda c, r: r.json() == [],
    ),
    "api:get_social_worker": Endpoint(
        api=True,
        perm="workforce.view_socialworker",
        inside=lambda c: {"worker_id": c.net["worker_in"]},
        outside=lambda c: {"worker_id": c.net["worker_out"]},
    ),
    "api:create_social_worker": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_socialworker",
        ok=201,
        body=lambda c, inside: {
            "name": "矩阵社工",
            "national_id": matrix_id(77),
            "division_code": c.inside_code if inside else c.outside_code,
        },
        outside=lambda c: {},
    ),
    "api:list_postings": Endpoint(
        api=True,
        perm="workforce.view_posting",
        no_leak=lambda c, r: all(p["id"] != c.net["posting_out"] for p in r.json()["results"]),
    ),
    "api:create_posting": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_posting",
        ok=201,
        body=lambda c, inside: {
            "worker_id": c.net["worker_in" if inside else "worker_out"],
            "facility_id": c.net["room_in" if inside else "room_out"],
            "employment": "part_time",
            "started_on": "2024-01-01",
        },
        outside=lambda c: {},
    ),
    "api:end_posting": Endpoint(
        api=True,
        method="post",
        perm="workforce.change_posting",
        body={"ended_on": "2024-06-01"},
        inside=lambda c: {"posting_id": c.net["posting_in"]},
        outside=lambda c: {"posting_id": c.net["posting_out"]},
    ),
    # workforce pages
    "workforce:dashboard": Endpoint(
        perm="network.view_facility",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "workforce:dashboard_panel": Endpoint(
        perm="network.view_facility",
        inside=lambda c: {"name": "people"},
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {"name": "people"},
    ),
    "workforce:workers": Endpoint(
        perm="workforce.view_socialworker", no_leak=_html_lacks(lambda c: "社工out")
    ),
    "workforce:worker": Endpoint(
        perm="workforce.view_socialworker",
        inside=lambda c: {"pk": c.net["worker_in"]},
        outside=lambda c: {"pk": c.net["worker_out"]},
    ),
    "workforce:training": Endpoint(
        perm="workforce.view_course", no_leak=_html_lacks(lambda c: "课程out")
    ),
    "workforce:course": Endpoint(
        perm="workforce.view_course",
        inside=lambda c: {"pk": c.net["course_in"]},
        outside=lambda c: {"pk": c.net["course_out"]},
    ),
    "workforce:import": Endpoint(perm="workforce.add_socialworker"),
    "workforce:import_template": Endpoint(perm="workforce.add_socialworker"),
    # talent (training, honours, universities, dispatches)
    "api:list_programmes": Endpoint(
        api=True,
        perm="workforce.view_trainingprogramme",
        no_leak=lambda c, r: all(p["id"] != c.net["programme_out"] for p in r.json()["results"]),
    ),
    "api:create_programme": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_trainingprogramme",
        ok=201,
        body=lambda c, inside: {
            "name": "矩阵计划",
            "division_code": c.inside_code if inside else c.outside_code,
            "first_year": 2024,
            "last_year": 2026,
        },
        outside=lambda c: {},
    ),
    "api:list_courses": Endpoint(
        api=True,
        perm="workforce.view_course",
        no_leak=lambda c, r: all(x["id"] != c.net["course_out"] for x in r.json()["results"]),
    ),
    "api:create_course": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_course",
        ok=201,
        body=lambda c, inside: {
            "title": "矩阵课程",
            "audience": "specialists",
            "organiser": "矩阵中心",
            "starts_on": "2024-05-01",
            "ends_on": "2024-05-02",
            "hours": "12.5",
            "division_code": c.inside_code if inside else c.outside_code,
        },
        outside=lambda c: {},
    ),
    "api:set_course_headcount": Endpoint(
        api=True,
        method="post",
        perm="workforce.change_course",
        body={"external_headcount": 5},
        inside=lambda c: {"course_id": c.net["course_in"]},
        outside=lambda c: {"course_id": c.net["course_out"]},
    ),
    "api:list_enrolments": Endpoint(
        api=True,
        perm="workforce.view_enrolment",
        inside=lambda c: {"course_id": c.net["course_done_in"]},
        outside=lambda c: {"course_id": c.net["course_done_out"]},
    ),
    "api:create_enrolment": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_enrolment",
        ok=201,
        body=lambda c, inside: {"worker_id": c.net["worker_in" if inside else "worker_out"]},
        inside=lambda c: {"course_id": c.net["course_in"]},
        outside=lambda c: {"course_id": c.net["course_out"]},
    ),
    "api:set_attendance": Endpoint(
        api=True,
        method="post",
        perm="workforce.change_enrolment",
        body={"attended": True},
        inside=lambda c: {"enrolment_id": c.net["enrolment_in"]},
        outside=lambda c: {"enrolment_id": c.net["enrolment_out"]},
    ),
    "api:complete_enrolment": Endpoint(
        api=True,
        method="post",
        perm="workforce.change_enrolment",
        body={"completed_on": "2024-03-02", "certificate_number": "矩阵001"},
        inside=lambda c: {"enrolment_id": c.net["enrolment_in"]},
        outside=lambda c: {"enrolment_id": c.net["enrolment_out"]},
    ),
    "api:get_person_times": Endpoint(
        api=True,
        perm="workforce.view_course",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "api:list_award_schemes": Endpoint(
        api=True,
        perm="workforce.view_awardscheme",
        no_leak=lambda c, r: all(s["id"] != c.net["scheme_out"] for s in r.json()["results"]),
    ),
    "api:create_award_scheme": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_awardscheme",
        ok=201,
        body=lambda c, inside: {
            "name": "矩阵奖",
            "level": "municipal",
            "reward_amount": "5000.00",
            "division_code": c.inside_code if inside else c.outside_code,
        },
        outside=lambda c: {},
    ),
    "api:list_awards": Endpoint(
        api=True,
        perm="workforce.view_award",
        no_leak=lambda c, r: all(a["id"] != c.net["award_out"] for a in r.json()["results"]),
    ),
    "api:create_award": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_award",
        ok=201,
        body=lambda c, inside: {
            "scheme_id": c.net["scheme_in" if inside else "scheme_out"],
            "worker_id": c.net["worker_in" if inside else "worker_out"],
            "year": 2024,
        },
        outside=lambda c: {},
    ),
    "api:get_honours_summary": Endpoint(
        api=True,
        perm="workforce.view_awardscheme",
        query=lambda c, inside: {"division": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "api:list_universities": Endpoint(
        api=True,
        perm="workforce.view_university",
        no_leak=lambda c, r: all(u["id"] != c.net["university_out"] for u in r.json()["results"]),
    ),
    "api:create_university": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_university",
        ok=201,
        body=lambda c, inside: {
            "name": "矩阵大学",
            "division_code": c.inside_code if inside else c.outside_code,
        },
        outside=lambda c: {},
    ),
    "api:add_degree_programme": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_degreeprogramme",
        ok=201,
        body={"level": "bachelor", "name": "社会工作", "since_year": 2005},
        inside=lambda c: {"university_id": c.net["university_in"]},
        outside=lambda c: {"university_id": c.net["university_out"]},
    ),
    "api:add_innovation_base": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_innovationbase",
        ok=201,
        body={"name": "矩阵基地", "funded_amount": "200000", "first_year": 2023, "last_year": 2025},
        inside=lambda c: {"university_id": c.net["university_in"]},
        outside=lambda c: {"university_id": c.net["university_out"]},
    ),
    "api:record_graduate_cohort": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_graduatecohort",
        body={"year": 2023, "level": "bachelor", "graduates": 40},
        inside=lambda c: {"university_id": c.net["university_in"]},
        outside=lambda c: {"university_id": c.net["university_out"]},
    ),
    "api:list_dispatches": Endpoint(
        api=True,
        perm="workforce.view_dispatch",
        no_leak=lambda c, r: all(d["id"] != c.net["dispatch_out"] for d in r.json()["results"]),
    ),
    "api:create_dispatch": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_dispatch",
        ok=201,
        body=lambda c, inside: {
            "worker_id": c.net["worker_in" if inside else "worker_out"],
            "host_division_code": "500105001001" if inside else "510104017001",
            "starts_on": "2023-01-01",
            "ends_on": "2023-06-30",
            "purpose": "驻点服务",
        },
        outside=lambda c: {},
    ),
    "api:end_dispatch": Endpoint(
        api=True,
        method="post",
        perm="workforce.change_dispatch",
        body={"ended_on": "2024-06-01"},
        inside=lambda c: {"dispatch_id": c.net["dispatch_in"]},
        outside=lambda c: {"dispatch_id": c.net["dispatch_out"]},
    ),
    "api:get_talent_figures": Endpoint(
        api=True,
        perm="workforce.view_course",
        query=lambda c, inside: {
            "division": c.inside_code if inside else c.outside_code,
            "year": 2024,
        },
        outside=lambda c: {},
    ),
    "api:list_poverty_designations": Endpoint(
        api=True,
        perm="geo.view_povertydesignation",
        no_leak=lambda c, r: all(d["id"] != c.net["designation_out"] for d in r.json()["results"]),
    ),
    "api:create_poverty_designation": Endpoint(
        api=True,
        method="post",
        perm="geo.add_povertydesignation",
        ok=201,
        body=lambda c, inside: {
            "division_code": "500105002" if inside else "510104017",
            "kind": "deep_poverty_town",
            "designated_on": "2020-01-01",
        },
        outside=lambda c: {},
    ),
    "api:lift_poverty_designation": Endpoint(
        api=True,
        method="post",
        perm="geo.change_povertydesignation",
        body={"lifted_on": "2024-06-01"},
        inside=lambda c: {"designation_id": c.net["designation_in"]},
        outside=lambda c: {"designation_id": c.net["designation_out"]},
    ),
    "api:set_division_population": Endpoint(
        api=True,
        method="post",
        perm="geo.change_division",
        body={"population": 1000},
        inside=lambda c: {"code": c.inside_code},
        outside=lambda c: {"code": c.outside_code},
    ),
    # bulk onboarding and jobs
    "api:import_social_workers": Endpoint(
        api=True,
        method="post",
        perm="workforce.add_socialworker",
        ok=422,  # the matrix posts no file: allowed roles get past the permission check only
    ),
    "api:social_worker_import_template": Endpoint(api=True, perm="workforce.add_socialworker"),
    "api:get_job": Endpoint(
        api=True,
        inside=lambda c: {"job_id": _job(c.user).pk},
        outside=lambda c: {"job_id": _job(c.outsider).pk},
    ),
    "core:job": Endpoint(
        inside=lambda c: {"pk": _job(c.user).pk},
        outside=lambda c: {"pk": _job(c.outsider).pk},
    ),
    # a job's result file: its creator only
    "core:job_result": Endpoint(
        inside=lambda c: {"pk": _job(c.user, result=True).pk},
        outside=lambda c: {"pk": _job(c.outsider, result=True).pk},
    ),
    "api:get_job_result": Endpoint(
        api=True,
        inside=lambda c: {"job_id": _job(c.user, result=True).pk},
        outside=lambda c: {"job_id": _job(c.outsider, result=True).pk},
    ),
    "api:start_import": Endpoint(
        api=True,
        method="post",
        perm="accounts.add_user",
        ok=422,  # the matrix posts no file: allowed roles get past the permission check only
        inside=lambda c: {"kind": "accounts.users"},
    ),
    # honours, universities, dispatches pages
    "workforce:honours": Endpoint(
        perm="workforce.view_awardscheme",
        no_leak=lambda c, r: all(t not in r.content.decode() for t in ("社工out", "奖out")),
    ),
    "workforce:universities": Endpoint(
        perm="workforce.view_university", no_leak=_html_lacks(lambda c: "大学out")
    ),
    "workforce:dispatches": Endpoint(
        perm="workforce.view_dispatch",
        no_leak=lambda c, r: all(
            t not in r.content.decode()
            for t in ("社工out", Division.objects.get(code="510104017").name)
        ),
    ),
    "workforce:dispatch_end": Endpoint(
        perm="workforce.change_dispatch",
        inside=lambda c: {"pk": c.net["dispatch_in"]},
        outside=lambda c: {"pk": c.net["dispatch_out"]},
    ),
    "workforce:designation_lift": Endpoint(
        perm="geo.change_povertydesignation",
        inside=lambda c: {"pk": c.net["designation_in"]},
        outside=lambda c: {"pk": c.net["designation_out"]},
    ),
    # projects
    **PROJECT_ENDPOINTS,
    # funding ledger pages
    "funding:ledger": Endpoint(
        perm="funding.view_movement",
        query=lambda c, inside: {
            "division": c.inside_code if inside else c.outside_code,
            "year": 2024,
        },
        outside=lambda c: {},
    ),
    "funding:one_percent": Endpoint(
        perm="funding.view_assistancespending",
        query=lambda c, inside: {
            "division": c.inside_code if inside else c.outside_code,
            "year": 2024,
        },
        outside=lambda c: {},
    ),
    "funding:accounts": Endpoint(
        perm="funding.view_account", no_leak=_html_lacks(lambda c: "项目账户out")
    ),
    "funding:account": Endpoint(
        perm="funding.view_account",
        inside=lambda c: {"pk": c.net["pacc_in"]},
        outside=lambda c: {"pk": c.net["pacc_out"]},
    ),
    # funding ledger
    "api:list_fund_sources": Endpoint(
        api=True,
        perm="funding.view_fundsource",
        no_leak=lambda c, r: all(x["id"] != c.net["fsource_out"] for x in r.json()["results"]),
    ),
    "api:create_fund_source": Endpoint(
        api=True,
        method="post",
        perm="funding.add_fundsource",
        ok=201,
        body=lambda c, inside: {
            "name": "矩阵来源",
            "kind": "donation",
            "owner_level": "county",
            "division_code": "500105" if inside else "510104",
            "year": 2024,
        },
        outside=lambda c: {},
    ),
    "api:list_accounts": Endpoint(
        api=True,
        perm="funding.view_account",
        no_leak=lambda c, r: all(
            x["division_code"].startswith(c.user.scope_prefix) for x in r.json()["results"]
        ),
    ),
    "api:get_account": Endpoint(
        api=True,
        perm="funding.view_account",
        inside=lambda c: {"account_id": c.net["facc_in"]},
        outside=lambda c: {"account_id": c.net["facc_out"]},
    ),
    "api:create_account": Endpoint(
        api=True,
        method="post",
        perm="funding.add_account",
        ok=201,
        body=lambda c, inside: {
            "kind": "facility",
            "facility_id": c.net["room_in" if inside else "room_out"],
        },
        outside=lambda c: {},
    ),
    "api:list_movements": Endpoint(
        api=True,
        perm="funding.view_movement",
        no_leak=lambda c, r: all(x["id"] != c.net["alloc_out"] for x in r.json()["results"]),
    ),
    "api:get_movement": Endpoint(
        api=True,
        perm="funding.view_movement",
        inside=lambda c: {"movement_id": c.net["alloc_in"]},
        outside=lambda c: {"movement_id": c.net["alloc_out"]},
    ),
    "api:ledger_appropriate": Endpoint(
        api=True,
        method="post",
        perm="funding.add_movement",
        ok=201,
        body=lambda c, inside: {
            "source_id": c.net["fsource_in" if inside else "fsource_out"],
            "amount": "1.00",
            "occurred_on": "2024-03-01",
        },
        outside=lambda c: {},
    ),
    "api:ledger_allocate": Endpoint(
        api=True,
        method="post",
        perm="funding.add_movement",
        ok=201,
        body=lambda c, inside: {
            "from_account_id": c.net["facc_in" if inside else "facc_out"],
            "to_account_id": c.net["pacc_in" if inside else "pacc_out"],
            "amount": "1.00",
            "occurred_on": "2024-03-01",
        },
        outside=lambda c: {},
    ),
    "api:ledger_disburse": Endpoint(
        api=True,
        method="post",
        perm="funding.add_movement",
        ok=201,
        body=lambda c, inside: {
            "from_account_id": c.net["pacc_in" if inside else "pacc_out"],
            "to_account_id": c.net["payee_in" if inside else "payee_out"],
            "milestone_id": c.net["fmilestone_in" if inside else "fmilestone_out"],
            "amount": "1.00",
            "occurred_on": "2024-03-01",
        },
        outside=lambda c: {},
    ),
    "api:ledger_refund": Endpoint(
        api=True,
        method="post",
        perm="funding.add_movement",
        ok=201,
        body=lambda c, inside: {
            "movement_id": c.net["alloc_in" if inside else "alloc_out"],
            "amount": "1.00",
            "occurred_on": "2024-03-02",
        },
        outside=lambda c: {},
    ),
    "api:ledger_income": Endpoint(
        api=True,
        method="post",
        perm="funding.add_movement",
        ok=201,
        body=lambda c, inside: {
            "to_account_id": c.net["facc_in" if inside else "facc_out"],
            "amount": "1.00",
            "occurred_on": "2024-03-01",
        },
        outside=lambda c: {},
    ),
    "api:ledger_reward": Endpoint(
        api=True,
        method="post",
        perm="funding.add_movement",
        ok=201,
        body=lambda c, inside: {
            "award_id": c.net["reward_award_in" if inside else "reward_award_out"],
            "from_account_id": c.net["facc_in" if inside else "facc_out"],
            "occurred_on": "2024-03-01",
        },
        outside=lambda c: {},
    ),
    "api:reverse_movement": Endpoint(
        api=True,
        method="post",
        perm="funding.add_movement",
        ok=201,
        body={"occurred_on": "2024-03-02"},
        inside=lambda c: {"movement_id": c.net["alloc_in"]},
        outside=lambda c: {"movement_id": c.net["alloc_out"]},
    ),
    "api:list_assistance_spending": Endpoint(
        api=True,
        perm="funding.view_assistancespending",
        no_leak=lambda c, r: all(x["id"] != c.net["spending_out"] for x in r.json()["results"]),
    ),
    "api:record_assistance_spending": Endpoint(
        api=True,
        method="post",
        perm="funding.add_assistancespending",
        body=lambda c, inside: {
            "division_code": "500105" if inside else "510104",
            "year": 2023,
            "amount": "100.00",
        },
        outside=lambda c: {},
    ),
    **{
        f"api:{name}": Endpoint(
            api=True,
            perm="funding.view_movement",
            query=lambda c, inside: {
                "division": c.inside_code if inside else c.outside_code,
                "year": 2024,
            },
            outside=lambda c: {},
        )
        for name in ("get_source_summary", "get_county_summary", "get_one_percent", "get_flows")
    },
}


ENDPOINTS.update(CASEWORK_ENDPOINTS)


def discover_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_in_the_matrix():
    assert discover_url_names() == set(ENDPOINTS)


def _call(client, name, endpoint: Endpoint, kwargs: dict, query, ctx: Ctx, inside: bool):
    url = reverse(name, kwargs=kwargs)
    method = getattr(client, endpoint.method)
    body = endpoint.body(ctx, inside) if callable(endpoint.body) else endpoint.body
    if endpoint.method == "get":
        return method(url, query or {})
    if endpoint.api:
        return method(url, json.dumps(body or {}), content_type="application/json")
    return method(url, body or {})


@pytest.fixture(scope="module")
def matrix_media(tmp_path_factory):
    """One folder for the module's uploaded files (the evidence file of the world)."""
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(autouse=True)
def _media_root(settings, matrix_media):
    """Overrides the per-test upload folder of tests/conftest.py: the matrix's files live
    as long as its module-wide objects."""
    settings.MEDIA_ROOT = matrix_media


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker, matrix_media):
    """The objects of the matrix — the network inside and outside, one user per role with
    an API token, an outsider with theirs — built once for the module inside a transaction
    that is rolled back when the module ends. Each test runs in a savepoint of it (the
    ``db`` fixture), so what a test writes is undone after it."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=matrix_media),
        transaction.atomic(),
    ):
        net = _network()
        outsider = make_user(Role.ROOM_WORKER, "510104017001", username="outsider-51")
        audit_record(actor=outsider, action="test.outside", object_repr="outsider's action")
        foreign, _ = api_token_create(user=outsider, name="foreign-token", two_factor=True)
        users = {}
        for role in Role.values:
            inside, _outside = ROLE_DIVISIONS[role]
            agency = net["agency_in"] if role == Role.AGENCY_STAFF else None
            user = make_user(role, inside, organisation=_organisation(agency))
            own, _ = api_token_create(user=user, name="own-token", two_factor=True)
            users[role] = (user, own.pk)
        build_casework(net, users)
        analyze()
        yield {
            "net": net,
            "outsider": outsider,
            "foreign": foreign.pk,
            "users": users,
            "sessions": {role: _session_key(user) for role, (user, _own) in users.items()},
        }
        transaction.set_rollback(True)


def _session_key(user: User) -> str:
    """A signed-in session of ``user`` made once for the module (a real login: the session
    row, its auth hash, the login's audit row), so that each case only sends its cookie."""
    signer = Client()
    signer.force_login(user)
    return signer.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def sign_in(client, matrix_world):
    """``sign_in(ctx)``: the test client carries the module's session of ctx's user."""

    def sign(ctx: Ctx) -> None:
        client.cookies[settings.SESSION_COOKIE_NAME] = matrix_world["sessions"][ctx.user.role]

    return sign


@pytest.fixture
def ctx_for(matrix_world, db):
    def build(role: str) -> Ctx:
        inside, outside = ROLE_DIVISIONS[role]
        user, own = matrix_world["users"][role]
        user.refresh_from_db()
        return Ctx(
            user,
            inside,
            outside,
            own,
            matrix_world["foreign"],
            matrix_world["outsider"],
            net=matrix_world["net"],
        )

    return build


def matrix_id(serial: int) -> str:
    first17 = f"50010519900101{serial:03d}"
    return first17 + national_id_check_digit(first17)


def _network() -> dict:
    """A room, station, visit with a fix, worker and posting inside 桥北社区 (inside every
    Chongqing role's scope), and the same in 成都 (outside all of them)."""
    start = date(2020, 1, 1)
    net = {}
    for side, town, community, serial in (
        ("in", "500105001", "500105001001", 11),
        ("out", "510104017", "510104017001", 12),
    ):
        station = facility_create(
            actor=None,
            tier="station",
            division=Division.objects.get(code=town),
            name=f"站{side}",
            status="operating",
            status_from=start,
        )
        room = facility_create(
            actor=None,
            tier="room",
            division=Division.objects.get(code=community),
            name=f"室{side}",
            status="operating",
            status_from=start,
        )
        visit = supervision_visit_create(
            actor=None,
            supervisor=station,
            supervised=room,
            visited_on=date(2024, 1, 1),
            visitors="督导",
            findings="发现",
            fixes=[("整改", date(2024, 3, 1))],
        )
        number = matrix_id(serial)
        worker = social_worker_create(
            actor=None,
            name=f"社工{side}",
            national_id=number,
            division=Division.objects.get(code=community),
        )
        posting = posting_create(
            actor=None, worker=worker, facility=room, employment="full_time", started_on=start
        )
        talent = _talent(side, town, community, worker)
        net.update(talent)
        net.update(
            {
                f"station_{side}": station.pk,
                f"room_{side}": room.pk,
                f"visit_{side}": visit.pk,
                f"fix_{side}": visit.fixes.get().pk,
                f"worker_{side}": worker.pk,
                f"id_{side}": number,
                f"posting_{side}": posting.pk,
            }
        )
    net.update(_projects(net))
    net.update(_funding(net))
    return net


def _funding(net: dict) -> dict:
    """On each side: a county fund source (江北 500105 / 成华 510104) and its account, a
    facility account at the room, a contracted project with a milestone, its account and the
    agency's payee account, social-assistance spending; ¥10,000 income into the facility
    account and ¥5,000 allocated on to the project. Made directly with the models."""
    from decimal import Decimal

    from shegong.funding import models as fm
    from shegong.network.models import Facility, SocialOrganisation
    from shegong.projects.models import PaymentMilestone, Project

    out = {}
    for side, county, town in (("in", "500105", "500105001"), ("out", "510104", "510104017")):
        county_div = Division.objects.get(code=county)
        room = Facility.objects.get(pk=net[f"room_{side}"])
        source = fm.FundSource.objects.create(
            name=f"来源{side}",
            kind="municipal_purchase",
            owner_level="county",
            division=county_div,
            year=2024,
        )
        fm.Account.objects.create(
            name=f"来源{side}", kind="source", division=county_div, source=source
        )
        facc = fm.Account.objects.create(
            name=f"室账户{side}", kind="facility", division=room.division, facility=room
        )
        payee_org = SocialOrganisation.objects.create(
            name=f"收款机构{side}", uscc=f"MATRIXPAYEE{side.upper()}", division=room.division
        )
        project = Project.objects.create(
            code=f"MATRIX-FUND-{side}",
            name=f"资金项目{side}",
            purchase_model="project",
            focus="special_groups",
            area_id=room.division_id,
            purchaser_id=net[f"station_{side}"],
            agency=payee_org,
            starts_on=date(2024, 1, 1),
            ends_on=date(2024, 12, 31),
            budget=Decimal("10000"),
            stage="contract",
        )
        milestone = PaymentMilestone.objects.create(
            project=project, name="首期", due_on=date(2024, 3, 1), amount=Decimal("1000")
        )
        pacc = fm.Account.objects.create(
            name=f"项目账户{side}", kind="project", division=room.division, project=project
        )
        payee = fm.Account.objects.create(
            name=f"收款{side}", kind="payee", division=room.division, organisation=payee_org
        )
        fm.Movement.objects.create(
            kind="income", to_account=facc, amount=Decimal("10000"), occurred_on=date(2024, 2, 1)
        )
        alloc = fm.Movement.objects.create(
            kind="allocation",
            from_account=facc,
            to_account=pacc,
            amount=Decimal("5000"),
            occurred_on=date(2024, 2, 1),
        )
        spending = fm.AssistanceSpending.objects.create(
            division=county_div, year=2024, amount=Decimal("1000000")
        )
        out.update(
            {
                f"fsource_{side}": source.pk,
                f"facc_{side}": facc.pk,
                f"pacc_{side}": pacc.pk,
                f"payee_{side}": payee.pk,
                f"fmilestone_{side}": milestone.pk,
                f"alloc_{side}": alloc.pk,
                f"spending_{side}": spending.pk,
                f"reward_award_{side}": _rewarded_award(side, net[f"worker_{side}"]),
            }
        )
    return out


def _rewarded_award(side: str, worker_id: int) -> int:
    """An award with a ¥100 reward, unpaid, for the ledger's reward payment."""
    from shegong.workforce.models import Award, AwardScheme, SocialWorker

    worker = SocialWorker.objects.get(pk=worker_id)
    scheme = AwardScheme.objects.create(
        name=f"奖金奖{side}", level="county", reward_amount=100, division=worker.division
    )
    return Award.objects.create(scheme=scheme, worker=worker, year=2023, reward_amount=100).pk


def _organisation(pk):
    from shegong.network.models import SocialOrganisation

    return SocialOrganisation.objects.get(pk=pk) if pk else None


def _projects(net: dict) -> dict:
    """Projects at each life-cycle stage, with an objection, a milestone, a report, an
    evaluation (scored once, a fix, an evidence file) and a completed final evaluation,
    inside 华新街 (500105001, the inside station's town) and outside in 成都; a default
    one-leaf indicator tree. Made directly (not through the services) to keep it fast."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from shegong.network.models import SocialOrganisation
    from shegong.projects import models as pm
    from shegong.projects.services import add_working_days

    today = timezone.localdate()
    tree = pm.IndicatorTree.objects.create(name="矩阵默认指标", is_default=True)
    leaf = pm.Indicator.objects.create(tree=tree, name="综合", weight=100)
    out = {"tree": tree.pk, "leaf": leaf.pk}
    noticed = {"notice_starts_on": date(2024, 1, 4), "notice_ends_on": date(2024, 1, 15)}
    signed = {**noticed, "contract_number": "HT-1", "contract_signed_on": date(2024, 1, 20)}
    for side, town in (("in", "500105001"), ("out", "510104017")):
        agency = SocialOrganisation.objects.create(
            name=f"机构{side}",
            uscc=f"MATRIXAGENCY{side.upper()}",
            division_id=Division.objects.get(code=town).pk,
        )
        out[f"agency_{side}"] = agency.pk
        ids = set()

        def project(key, stage, **extra):
            with_agency = stage not in (
                "application",
                "preliminary_review",
                "expert_review",
                "public_notice",
            )
            made = pm.Project.objects.create(
                code=f"M-{key}-{side}",
                name=f"项目{key}{side}",
                purchase_model="project",
                focus="special_groups",
                area=Division.objects.get(code=town),
                purchaser_id=net[f"station_{side}"],
                agency=agency if with_agency else None,
                starts_on=date(2024, 2, 1),
                ends_on=date(2025, 1, 31),
                budget=100000,
                stage=stage,
                **extra,
            )
            out[f"{key}_{side}"] = made.pk
            ids.add(made.pk)
            return made

        project("p_app", "application")
        project("p_pre", "preliminary_review")
        project("p_exp", "expert_review")
        notice = project(
            "p_notice",
            "public_notice",
            notice_starts_on=today,
            notice_ends_on=add_working_days(today, 7),
        )
        out[f"objection_{side}"] = pm.Objection.objects.create(
            project=notice, received_on=today, text="异议"
        ).pk
        project("p_noticed", "public_notice", **noticed)
        project("p_contract", "contract", **signed)
        running = project("p_prog", "in_progress", **signed)
        out[f"milestone_{side}"] = pm.PaymentMilestone.objects.create(
            project=running, name="首期", due_on=date(2024, 3, 1), amount=30000
        ).pk
        mid = project("p_mid", "midterm_evaluation", **signed)
        evaluation = pm.Evaluation.objects.create(
            project=mid, kind="midterm", tree=tree, evaluated_on=date(2024, 8, 1), panel="甲"
        )
        pm.Score.objects.create(evaluation=evaluation, indicator=leaf, panelist="甲", score=85)
        out[f"eval_{side}"] = evaluation.pk
        out[f"efix_{side}"] = pm.EvaluationFix.objects.create(
            evaluation=evaluation, description="整改", deadline=date(2024, 9, 1)
        ).pk
        evidence = pm.EvidenceFile(
            evaluation=evaluation, original_name="证明.pdf", content_type="application/pdf", size=15
        )
        evidence.file.save("x", ContentFile(b"%PDF-1.4 matrix"), save=True)
        out[f"evidence_{side}"] = evidence.pk
        final = project("p_final", "final_evaluation", **signed)
        for kind, day in (("midterm", date(2024, 8, 1)), ("final", date(2025, 1, 20))):
            pm.Evaluation.objects.create(
                project=final,
                kind=kind,
                tree=tree,
                evaluated_on=day,
                panel="甲",
                total=85,
                grade="good",
                completed_at=timezone.now(),
            )
        out[f"projects_{side}"] = ids
    return out


def _talent(side: str, town: str, community: str, worker) -> dict:
    """A designation, programme, courses (one with an enrolment), award scheme and award,
    university and dispatch on one side of the matrix."""
    place = Division.objects.get(code=community)
    designation = poverty_designate(
        actor=None,
        division=Division.objects.get(code=town),
        kind="deep_poverty_town",
        designated_on=date(2019, 1, 1),
    )
    programme = training_programme_create(
        actor=None, name=f"计划{side}", division=place, first_year=2023, last_year=2025
    )

    def course(title):
        return course_create(
            actor=None,
            title=title,
            audience="specialists",
            organiser="中心",
            starts_on=date(2024, 3, 1),
            ends_on=date(2024, 3, 2),
            hours=8,
            division=place,
            programme=programme,
        )

    open_course, done_course = course(f"课程{side}"), course(f"已办课程{side}")
    enrolment = enrolment_create(actor=None, course=done_course, worker=worker)
    scheme = award_scheme_create(actor=None, name=f"奖{side}", level="county", division=place)
    award = award_create(actor=None, scheme=scheme, worker=worker, year=2023)
    university = university_create(actor=None, name=f"大学{side}", division=place)
    dispatch = dispatch_create(
        actor=None,
        worker=worker,
        host_division=place,
        starts_on=date(2024, 1, 1),
        purpose="驻点",
    )
    return {
        f"designation_{side}": designation.pk,
        f"programme_{side}": programme.pk,
        f"course_{side}": open_course.pk,
        f"course_done_{side}": done_course.pk,
        f"enrolment_{side}": enrolment.pk,
        f"scheme_{side}": scheme.pk,
        f"award_{side}": award.pk,
        f"university_{side}": university.pk,
        f"dispatch_{side}": dispatch.pk,
    }


def _allowed(endpoint: Endpoint, user: User) -> bool:
    if endpoint.roles is not None:
        return user.role in endpoint.roles
    return endpoint.perm is None or user.has_perm(endpoint.perm)


CASES = [(name, role) for name in ENDPOINTS for role in Role.values]


@pytest.mark.parametrize(("name", "role"), CASES)
def test_inside_scope(client, ctx_for, sign_in, name, role):
    # given a signed-in user of this role
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(role)
    sign_in(ctx)
    # when they call the endpoint on something inside their scope
    response = _call(
        client,
        name,
        endpoint,
        endpoint.inside(ctx),
        endpoint.query(ctx, True) if endpoint.query else None,
        ctx,
        True,
    )
    # then they get it if their role allows; otherwise 403 (or 404: nothing of theirs)
    if _allowed(endpoint, ctx.user):
        assert response.status_code == endpoint.ok, response.content[:300]
    else:
        assert response.status_code in (403, 404), response.content[:300]


@pytest.mark.parametrize(
    ("name", "role"), [c for c in CASES if ENDPOINTS[c[0]].outside or ENDPOINTS[c[0]].no_leak]
)
def test_outside_scope(client, ctx_for, sign_in, name, role):
    # given a signed-in user of this role
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(role)
    sign_in(ctx)
    kwargs = endpoint.outside(ctx) if endpoint.outside else endpoint.inside(ctx)
    # when they reach for something outside their scope
    response = _call(
        client,
        name,
        endpoint,
        kwargs,
        endpoint.query(ctx, False) if endpoint.query else None,
        ctx,
        False,
    )
    # then it does not exist for them (404), or the role may not use it at all (403),
    # and a list shows nothing from outside
    if not _allowed(endpoint, ctx.user):
        assert response.status_code in (403, 404)
    elif endpoint.outside:
        assert response.status_code == 404, response.content[:300]
    else:
        assert response.status_code == endpoint.ok
        assert endpoint.no_leak(ctx, response)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous(client, ctx_for, name):
    # given nobody signed in
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(Role.COUNTY_STAFF)
    response = _call(
        client,
        name,
        endpoint,
        endpoint.inside(ctx),
        endpoint.query(ctx, True) if endpoint.query else None,
        ctx,
        True,
    )
    # then pages send them to sign in and the API answers 401, except public URLs
    if endpoint.public:
        assert response.status_code in (endpoint.ok, 200, 302, 404)
    elif endpoint.api:
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_outside_scope_changes_nothing(client, ctx_for):
    # given a county user and someone else's token
    ctx = ctx_for(Role.COUNTY_STAFF)
    client.force_login(ctx.user)
    # when they try to revoke it through the page and the API
    client.post(reverse("accounts:token_revoke", kwargs={"pk": ctx.foreign_token_id}))
    client.delete(reverse("api:revoke_token", kwargs={"token_id": ctx.foreign_token_id}))
    # then it is untouched
    from shegong.accounts.models import ApiToken

    assert ApiToken.objects.get(pk=ctx.foreign_token_id).revoked_at is None


def _takes_no_arguments(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


# Every page and API answer reached without naming one object: the lists, dashboards and
# forms — where a full national ID or phone number must never appear (issue #13, security.md
# items 7 and 9: the full value only on a detail page, on request, access-logged).
LIST_CASES = [
    (name, role)
    for name, role in CASES
    if ENDPOINTS[name].method == "get" and _takes_no_arguments(name)
]


def _full_identifiers() -> set[str]:
    """Every full national ID and phone number of the people in the world."""
    from shegong.casework.models import Resident
    from shegong.workforce.models import SocialWorker

    values = set()
    for person in [*Resident.objects.all(), *SocialWorker.objects.all()]:
        values |= {person.national_id, person.phone}
    values |= {user.phone for user in User.objects.all()}
    return {value for value in values if value and len(value) >= 11}


@pytest.mark.parametrize(("name", "role"), LIST_CASES)
def test_no_full_id_or_phone_in_any_list(client, ctx_for, sign_in, name, role):
    # given a signed-in user of this role, and the full IDs and phones of the world's people
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(role)
    sign_in(ctx)
    identifiers = _full_identifiers()
    assert identifiers
    # when they open the list (or page) inside their scope
    query = endpoint.query(ctx, True) if endpoint.query else None
    response = _call(client, name, endpoint, {}, query, ctx, True)
    # then no full ID or phone number is in the answer
    text = response.content.decode(errors="ignore")
    assert [value for value in identifiers if value in text] == []


def _job(user: User, result: bool = False):
    """An import job started by ``user`` (only they, and a city admin of the area, see it),
    with a result file to download when ``result``."""
    import base64
    from datetime import timedelta

    from django.utils import timezone

    from shegong.core.models import ImportJob

    extra = {}
    if result:
        extra = {
            "result": base64.b64encode(b"PK matrix").decode(),
            "result_name": "links.xlsx",
            "result_expires_at": timezone.now() + timedelta(hours=1),
        }
    return ImportJob.objects.create(
        kind="accounts.users",
        filename="matrix.xlsx",
        created_by=user,
        division=user.division,
        status=ImportJob.Status.SUCCEEDED,
        **extra,
    )


def _standard():
    """A current version of the staffing standard (city-wide data) to end."""
    from shegong.network.models import StaffingStandard

    return StaffingStandard.objects.create(
        tier="room",
        division_kind="rural",
        min_full_time=1,
        effective_from=date(2098, 1, 1),
        document="矩阵",
    )


def _target(ctx: Ctx) -> User:
    """A user inside the case's area whom a security administrator may manage."""
    return make_user(Role.ROOM_WORKER, ctx.inside_code, username=f"target-{ctx.user.role}")

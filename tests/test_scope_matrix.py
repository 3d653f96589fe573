"""The scope matrix (security.md 6): every page and API endpoint × every role × inside and
outside the role's scope, plus anonymous access.

Endpoints are discovered from the URL configuration: a new URL without an entry in ENDPOINTS
fails ``test_every_url_is_in_the_matrix``, so nothing can escape the matrix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

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
from tests.conftest import ROLE_DIVISIONS, make_user

pytestmark = pytest.mark.django_db


@dataclass
class Ctx:
    """What a case knows: the user, and objects inside and outside their scope."""

    user: User
    inside_code: str
    outside_code: str
    own_token_id: int
    foreign_token_id: int
    outsider: User
    net: dict = field(default_factory=dict)

    @property
    def outside_name(self) -> str:
        return Division.objects.get(code=self.outside_code).name

    @property
    def inside_name(self) -> str:
        return Division.objects.get(code=self.inside_code).name


@dataclass
class Endpoint:
    """How to call one URL and what each role should get."""

    method: str = "get"
    api: bool = False
    perm: str | None = None  # role permission needed; None: every signed-in user
    roles: set[str] | None = None  # when set, only these roles succeed (tier rules)
    public: bool = False  # reachable without signing in
    inside: Callable[[Ctx], dict] = field(default=lambda c: {})
    outside: Callable[[Ctx], dict] | None = None  # kwargs of an object outside scope
    query: Callable[[Ctx, bool], dict] | None = None  # query string (inside/outside)
    body: dict | Callable[[Ctx, bool], dict] | None = None
    ok: int = 200
    # Given the response of the *outside* variant of a list, check nothing leaked.
    no_leak: Callable[[Ctx, object], bool] | None = None


def _html_lacks(text_of: Callable[[Ctx], str]):
    return lambda ctx, response: text_of(ctx) not in response.content.decode()


def _api_codes_in_scope(ctx: Ctx, response) -> bool:
    return all(d["code"].startswith(ctx.user.scope_prefix) for d in response.json()["results"])


ENDPOINTS: dict[str, Endpoint] = {
    "core:home": Endpoint(no_leak=_html_lacks(lambda c: c.outside_name)),
    "core:audit": Endpoint(
        perm="core.view_auditevent", no_leak=_html_lacks(lambda c: c.outsider.username)
    ),
    "accounts:login": Endpoint(public=True, ok=302),  # signed-in users are sent home
    "accounts:logout": Endpoint(method="post", ok=302),
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
}


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


@pytest.fixture
def ctx_for(db):
    def build(role: str) -> Ctx:
        inside, outside = ROLE_DIVISIONS[role]
        user = make_user(role, inside)
        outsider = make_user(Role.ROOM_WORKER, "510104017001", username="outsider-51")
        audit_record(actor=outsider, action="test.outside", object_repr="outsider's action")
        own, _ = api_token_create(user=user, name="own-token")
        foreign, _ = api_token_create(user=outsider, name="foreign-token")
        return Ctx(user, inside, outside, own.pk, foreign.pk, outsider, net=_network())

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
    return net


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
def test_inside_scope(client, ctx_for, name, role):
    # given a signed-in user of this role
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(role)
    client.force_login(ctx.user)
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
def test_outside_scope(client, ctx_for, name, role):
    # given a signed-in user of this role
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(role)
    client.force_login(ctx.user)
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
        assert response.status_code in (200, 302, 404)
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


def _job(user: User):
    """An import job started by ``user`` (only they, and a city admin of the area, see it)."""
    from shegong.core.models import ImportJob

    return ImportJob.objects.create(
        kind="workforce.social_workers",
        filename="matrix.xlsx",
        created_by=user,
        division=user.division,
    )

"""Schema-driven fuzzing of the whole API (issue #12 item 3): schemathesis generates requests
from /api/v1/openapi.json — inside and outside each operation's documented inputs — for five
roles (city, county, room, analyst, agency) with a bounded number of examples per operation
and a fixed seed; no answer may be a 5xx, and every answer must match the documented schema
(status and body). The app runs in-process (WSGI), in the test's transaction, on a small
world with one object of each kind so that operations get past "not found"."""

from __future__ import annotations

import collections
import os
from contextlib import contextmanager

import pytest
import schemathesis
from django.apps import apps
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from shegong.accounts.services import api_token_create
from shegong.config.api import api
from shegong.core.roles import Role
from tests.casework.matrix import build_casework
from tests.conftest import ROLE_DIVISIONS, analyze, make_user
from tests.test_scope_matrix import _network, _organisation

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("SHEGONG_FUZZ_EXAMPLES", "4"))
ROLES = [Role.CITY_ADMIN, Role.COUNTY_STAFF, Role.ROOM_WORKER, Role.ANALYST, Role.AGENCY_STAFF]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Operations that stream a file download (no JSON body to check) are still called.


@contextmanager
def connection_kept():
    """Serve requests in the test's transaction: Django would close a connection that is
    inside a transaction at the start and end of each request (as its test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# The model behind each path parameter, so that generated requests reach real objects.
PATH_MODELS = {
    "account_id": "funding.Account",
    "activity_id": "casework.Activity",
    "case_id": "casework.Case",
    "course_id": "workforce.Course",
    "designation_id": "geo.PovertyDesignation",
    "dispatch_id": "workforce.Dispatch",
    "enrolment_id": "workforce.Enrolment",
    "evaluation_id": "projects.Evaluation",
    "evidence_id": "projects.EvidenceFile",
    "facility_id": "network.Facility",
    "goal_id": "casework.CaseGoal",
    "group_id": "casework.WorkGroup",
    "job_id": "core.ImportJob",
    "movement_id": "funding.Movement",
    "objection_id": "projects.Objection",
    "posting_id": "workforce.Posting",
    "project_id": "projects.Project",
    "record_id": "casework.ServiceRecord",
    "referral_id": "casework.Referral",
    "resident_id": "casework.Resident",
    "status_id": "casework.SpecialStatus",
    "token_id": "accounts.ApiToken",
    "tree_id": "projects.IndicatorTree",
    "university_id": "workforce.University",
    "worker_id": "workforce.SocialWorker",
}


def real_ids(user) -> dict:
    """For each path parameter, an object the user may see (else any object)."""
    ids = {"code": user.division.code}
    for name, label in PATH_MODELS.items():
        model = apps.get_model(label)
        visible = model.objects.restrict(user, "view").order_by("pk").first()
        chosen = visible or model._default_manager.order_by("pk").first()
        if chosen is not None:
            ids[name] = chosen.pk
    fix = "projects.EvaluationFix"
    ids["evaluation_fix_id"] = getattr(apps.get_model(fix).objects.order_by("pk").first(), "pk", 1)
    ids["fix_id"] = getattr(apps.get_model("network.RequiredFix").objects.first(), "pk", 1)
    return ids


@pytest.fixture(scope="module")
def fuzz_media(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-media")


@pytest.fixture(autouse=True)
def _media_root(settings, fuzz_media):
    settings.MEDIA_ROOT = fuzz_media


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, fuzz_media):
    """The scope matrix's world (network, money, projects, talent, casework inside and
    outside), one user per role: built once, rolled back when the module ends."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=fuzz_media),
        transaction.atomic(),
    ):
        net = _network()
        users = {}
        for role in Role.values:
            agency = net["agency_in"] if role == Role.AGENCY_STAFF else None
            user = make_user(
                role,
                ROLE_DIVISIONS[role][0],
                username=f"fuzz-{role}",
                organisation=_organisation(agency),
            )
            own, _raw = api_token_create(user=user, name="own", two_factor=True)
            users[role] = (user, own.pk)
        build_casework(net, users)
        analyze()
        yield {role: user for role, (user, _own) in users.items()}
        transaction.set_rollback(True)


def _schema():
    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = WSGIHandler()
    return loaded


def fuzz(operation, headers, ids, failures: list[str], statuses: collections.Counter) -> None:
    """Call ``operation`` with generated cases — path parameters half the time the ids of
    real objects, so that the generated query and body reach the code behind them; record
    the first failure (if any)."""

    strategy = operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE)

    @given(case=strategy, real=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case, real):
        if real and case.path_parameters:
            for name in case.path_parameters:
                key = (
                    "evaluation_fix_id"
                    if name == "fix_id" and "evaluation" in operation.path
                    else name
                )
                if key in ids:
                    case.path_parameters[name] = ids[key]
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        call()
    except (
        Exception,
        BaseExceptionGroup,
    ) as exc:  # every operation tried; failures reported at the end
        failures.append(f"{operation.label}: {str(exc)[:800]}")


@pytest.mark.parametrize("role", ROLES)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(role, fuzz_world, db):
    # given the role's API token, in the world of the scope matrix
    user = fuzz_world[role]
    _token, raw = api_token_create(user=user, name="fuzz")
    ids = real_ids(user)
    headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "zh-hans"}
    schema = _schema()
    failures: list[str] = []
    statuses: collections.Counter = collections.Counter()
    # when every operation is called with generated inputs (fixed seed, bounded examples)
    with connection_kept():
        for result in schema.get_all_operations():
            fuzz(result.ok(), headers, ids, failures, statuses)
    # then none answered 5xx or outside its documented schema
    assert failures == [], "\n\n".join(failures[:20])
    print(role, dict(statuses))

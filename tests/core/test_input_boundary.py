"""One input boundary for the API and the pages (issue #12 item 2, security.md 11): every
input class that once answered 500 answers 4xx with a clear message and writes nothing —
through the API and, where a page takes it, the page; the OpenAPI document is right (unique
schema names, bounds on every input, the error answers) and readable with a bearer token."""

from __future__ import annotations

import collections
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from ninja import Schema

from shegong.accounts.models import ApiToken
from shegong.accounts.services import api_token_create
from shegong.config.api import api
from shegong.core.roles import Role
from shegong.projects.models import Project
from shegong.workforce.models import AwardScheme, Course, InnovationBase, University

pytestmark = pytest.mark.django_db
HUGE = "999999999999999999999"  # past 64 bits
FORTY_ONE_DIGITS = "1" * 41
COURSE = {
    "title": "培训",
    "audience": "frontline",
    "organiser": "中心",
    "starts_on": "2024-01-01",
    "ends_on": "2024-01-02",
    "hours": "8",
    "division_code": "50",
}


@pytest.fixture
def city(users):
    return users[Role.CITY_ADMIN]


@pytest.fixture
def bearer(city):
    _token, raw = api_token_create(user=city, name="boundary")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def post_json(client, name, body, headers, **kwargs):
    return client.post(
        reverse(f"api:{name}", kwargs=kwargs),
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        **headers,
    )


def counts() -> tuple:
    return tuple(m.objects.count() for m in (Course, University, AwardScheme, InnovationBase))


def errors(response) -> list[dict]:
    body = response.json()
    assert set(body) >= {"detail", "code", "errors"}
    return body["errors"]


# --- The API --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("list_movements", {"page": HUGE}),
        ("list_courses", {"page": HUGE}),
        ("list_service_records", {"resident_id": HUGE}),
        ("list_movements", {"account": HUGE}),
        *[
            (name, {"year": year, "division": "50"})
            for name in (
                "list_movements",
                "get_flows",
                "get_one_percent",
                "get_source_summary",
                "get_county_summary",
                "list_projects",
                "get_talent_figures",
                "list_courses",
                "list_dispatches",
            )
            for year in ("-1", "0", "32338")
        ],
        ("list_courses", {"division": "5\x00"}),
    ],
)
def test_query_parameters_out_of_bounds_answer_422_naming_them(client, bearer, name, query):
    response = client.get(reverse(f"api:{name}"), query, **bearer)
    assert response.status_code == 422, response.content
    named = {str(e["loc"][-1]) for e in errors(response)}
    assert set(query) & named, response.json()


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        (
            "create_course",
            COURSE | {"external_headcount": int(HUGE)},
            "external_headcount",
        ),
        (
            "create_course",
            COURSE | {"title": "培训\u0000班"},
            "title",
        ),
        (
            "create_course",
            COURSE | {"starts_on": "0001-01-01"},
            "starts_on",
        ),
        ("create_university", {"name": "大学\x07", "division_code": "50"}, "name"),
        ("create_university", {"name": "大" * 301, "division_code": "50"}, "name"),
        (
            "create_award_scheme",
            {
                "name": "奖",
                "level": "municipal",
                "division_code": "50",
                "reward_amount": FORTY_ONE_DIGITS,
            },
            "reward_amount",
        ),
    ],
)
def test_bodies_out_of_bounds_answer_422_and_write_nothing(client, bearer, name, body, field):
    before = counts()
    response = post_json(client, name, body, bearer)
    assert response.status_code == 422, response.content
    assert field in {str(e["loc"][-1]) for e in errors(response)}
    assert all(e["msg"] for e in errors(response))
    assert counts() == before


def test_a_lone_surrogate_in_a_text_field_is_refused(client, bearer):
    # given JSON whose text holds a lone UTF-16 surrogate (valid JSON, not valid text)
    body = '{"name": "\\ud800大学", "division_code": "50"}'
    response = post_json(client, "create_university", body, bearer)
    assert response.status_code == 422 and not University.objects.exists()
    assert errors(response)[0]["loc"][-1] == "name"
    assert "无法识别的字符" in errors(response)[0]["msg"]


def test_a_forty_one_digit_funding_amount_is_refused(client, bearer, city):
    university = post_json(
        client, "create_university", {"name": "重庆大学", "division_code": "50"}, bearer
    ).json()
    response = post_json(
        client,
        "add_innovation_base",
        {"name": "基地", "funded_amount": FORTY_ONE_DIGITS, "first_year": 2019, "last_year": 2020},
        bearer,
        university_id=university["id"],
    )
    assert response.status_code == 422 and not InnovationBase.objects.exists()
    assert errors(response)[0]["loc"][-1] == "funded_amount"


def test_a_token_expiry_given_as_a_date_is_read_as_its_midnight(client, bearer):
    response = post_json(client, "create_token", {"name": "日", "expires_at": "2099-01-31"}, bearer)
    assert response.status_code == 201, response.content
    expires_at = timezone.localtime(ApiToken.objects.get(name="日").expires_at)
    assert (expires_at.date().isoformat(), expires_at.hour) == ("2099-01-31", 0)


def test_a_long_like_pattern_in_the_resident_search_is_refused(client, users):
    client.force_login(users[Role.ROOM_WORKER])
    response = client.post(
        reverse("api:search_residents"),
        json.dumps({"name": "%_" * 30_000}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert errors(response)[0]["loc"][-1] == "name"


@pytest.mark.parametrize("name", ["import_social_workers", "upload_evidence"])
def test_a_multipart_request_without_a_boundary_answers_400(client, bearer, name):
    kwargs = {"evaluation_id": 1} if name == "upload_evidence" else {}
    response = client.post(
        reverse(f"api:{name}", kwargs=kwargs),
        b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\ndata\r\n--x--\r\n",
        content_type="multipart/form-data",  # no boundary=…
        **bearer,
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_request"


def test_unauthenticated_writes_answer_401_not_a_csrf_failure(client):
    response = client.post(reverse("api:create_university"), "{}", content_type="application/json")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_a_403_names_the_missing_permission(client, users):
    _token, raw = api_token_create(user=users[Role.ANALYST], name="a")
    response = post_json(
        client,
        "create_university",
        {"name": "大学", "division_code": "50"},
        {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "zh-hans"},
    )
    assert response.status_code == 403
    body = response.json()
    assert body["permission"] == "workforce.add_university"
    assert body["detail"] == "您的角色没有“新增高校”权限。"


# --- The OpenAPI document --------------------------------------------------------------------


def _shegong_schemas():
    def below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return [c for c in below(Schema) if c.__module__.startswith("shegong.")]


def test_schema_names_are_unique():
    names = collections.Counter(c.__name__ for c in set(_shegong_schemas()))
    assert [name for name, n in names.items() if n > 1] == []


def test_the_facility_status_body_is_documented_as_the_facilitys():
    document = api.get_openapi_schema()
    operation = document["paths"]["/api/v1/facilities/{facility_id}/status"]["post"]
    reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert reference.endswith("/FacilityStatusIn") and "effective_on" in schema["properties"]


def _unbounded(schema: dict, components: dict, where: str, seen: set) -> list[str]:
    """Integers without both bounds and strings without a length cap, in an input schema."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _unbounded(components[name], components, name, seen)
    found = []
    for part in schema.get("anyOf", []) + schema.get("allOf", []):
        found += _unbounded(part, components, where, seen)
    kind = schema.get("type")
    if kind in ("integer", "number") and not (
        {"minimum", "maximum"} <= set(schema) or "enum" in schema
    ):
        found.append(where)
    if (
        kind == "string"
        and not (
            "maxLength" in schema
            or "enum" in schema
            or schema.get("format") in ("date", "date-time", "binary")
        )
        and "pattern" not in schema
    ):
        found.append(where)
    for key, sub in schema.get("properties", {}).items():
        found += _unbounded(sub, components, f"{where}.{key}", seen)
    if "items" in schema:
        found += _unbounded(schema["items"], components, f"{where}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        found += _unbounded(schema["additionalProperties"], components, f"{where}{{}}", seen)
    return found


def test_every_input_in_the_openapi_document_is_bounded():
    document = api.get_openapi_schema()
    components = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                found += _unbounded(
                    parameter["schema"], components, f"{method} {path} ?{parameter['name']}", set()
                )
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += _unbounded(content["schema"], components, f"{method} {path} body", set())
    assert found == []


def test_every_operation_documents_its_error_answers():
    document = api.get_openapi_schema()
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"401", "403", "404", "422"} <= set(operation["responses"])


def test_the_schema_is_readable_with_a_bearer_token_and_not_without(client, bearer):
    response = client.get("/api/v1/openapi.json", **bearer)
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")
    assert (
        client.get("/api/v1/openapi.json", HTTP_AUTHORIZATION="Bearer sg_wrong").status_code == 401
    )
    assert client.get("/api/v1/openapi.json").status_code == 302  # a browser: sign in first


# --- The pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "query", "says"),
    [
        ("/projects/", {"year": "32338"}, "year"),
        ("/projects/", {"year": "-1"}, "year"),
        ("/projects/", {"page": HUGE}, "page"),
        ("/funding/", {"year": "0"}, "year"),
        ("/network/", {"as_of": "0001-01-01"}, "as_of"),
        ("/network/facilities/", {"q": "社区\x00"}, "q"),
        ("/casework/records/new/", {"resident": HUGE}, "resident"),
        ("/network/facilities/", {"q": "%_" * 30_000}, "q"),
    ],
)
def test_page_query_parameters_out_of_bounds_answer_400_naming_them(client, city, url, query, says):
    client.force_login(city)
    response = client.get(url, query)
    assert response.status_code == 400
    assert says in response.content.decode()


def test_a_page_form_with_out_of_bound_values_answers_422_and_writes_nothing(client, users):
    client.force_login(users[Role.COUNTY_STAFF])
    for title, hours, starts in (
        ("倒\x01序", "12", "2024-04-01"),
        ("班", "1" * 41, "2024-04-01"),
        ("班", "12", "0001-04-01"),
    ):
        response = client.post(
            reverse("workforce:training"),
            {
                "form": "course",
                "title": title,
                "audience": "frontline",
                "organiser": "中心",
                "starts_on": starts,
                "ends_on": "2024-04-02",
                "hours": hours,
            },
        )
        assert response.status_code == 422 and 'role="alert"' in response.content.decode()
    assert not Course.objects.exists()


def test_a_page_upload_without_a_boundary_answers_400(client, users):
    client.force_login(users[Role.COUNTY_STAFF])
    response = client.post(
        reverse("workforce:import"),
        b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\ndata\r\n--x--\r\n",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    "name", ["list_social_workers", "list_dispatches", "list_awards", "list_divisions", "me"]
)
def test_every_api_answer_is_sent_no_store(client, bearer, name):
    response = client.get(reverse(f"api:{name}"), **bearer)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    missing = client.get(reverse("api:get_resident", kwargs={"resident_id": 1}), **bearer)
    assert missing["Cache-Control"] == "no-store"

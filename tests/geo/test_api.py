"""The divisions API: filters, pagination, detail with counts and history, error bodies."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_client(client, users):
    client.force_login(users["city_admin"])
    return client


def test_list_is_paginated_with_counts(city_client):
    body = city_client.get(
        "/api/v1/divisions", {"level": "county", "page_size": 10, "page": 2}
    ).json()
    assert (body["count"], body["page"], body["page_size"]) == (38, 2, 10)
    assert len(body["results"]) == 10
    assert body["results"][0]["code"] == "500111"  # codes in order, the 11th county


def test_filters_by_kind_parent_and_name(city_client):
    assert city_client.get("/api/v1/divisions", {"kind": "township"}).json()["count"] == 161
    assert city_client.get("/api/v1/divisions", {"parent": "500105"}).json()["count"] == 12
    hits = city_client.get("/api/v1/divisions", {"name": "江北"}).json()["results"]
    assert any(d["code"] == "500105" for d in hits)


def test_detail_has_counts_parent_and_full_code(city_client):
    body = city_client.get("/api/v1/divisions/500105").json()
    assert body["full_code"] == "500105000000" and body["parent_code"] == "5001"
    assert body["counts"]["communities"] == 132 and body["counts"]["urban"] == 119
    assert body["history"] == []


def test_children_of_the_city_are_its_38_counties(city_client):
    body = city_client.get("/api/v1/divisions/50/children", {"page_size": 100}).json()
    assert body["count"] == 38


def test_invalid_filter_answers_422_with_the_error_body(city_client):
    response = city_client.get("/api/v1/divisions", {"level": "planet"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and body["errors"] and "detail" in body


def test_page_size_is_capped(city_client):
    assert city_client.get("/api/v1/divisions", {"page_size": 10000}).status_code == 422


def test_unknown_code_is_404_with_the_error_body(city_client):
    response = city_client.get("/api/v1/divisions/509999")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。", "code": "not_found", "errors": []}


def test_me_tells_role_division_and_permissions(client, users):
    client.force_login(users["analyst"])
    body = client.get("/api/v1/me").json()
    assert body["role"] == "analyst" and body["division"]["code"] == "50"
    assert body["sees_personal_data"] is False
    assert "geo.view_division" in body["permissions"]


def test_openapi_schema_lists_the_endpoints(city_client):
    schema = city_client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/divisions", "/api/v1/divisions/{code}", "/api/v1/me"} <= set(schema["paths"])

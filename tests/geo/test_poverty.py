"""Poverty designations (poor counties, deep-poverty towns) and division populations, both
city-edited data."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division, PovertyDesignation, PovertyKind
from shegong.geo.selectors import poverty_designation_covering
from shegong.geo.services import division_set_population, poverty_designate, poverty_lift
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def place(code):
    return Division.objects.get(code=code)


def designate(code="500229", kind=PovertyKind.POOR_COUNTY, day=date(2014, 1, 1), actor=None):
    return poverty_designate(actor=actor, division=place(code), kind=kind, designated_on=day)


def test_one_open_designation_per_division_and_kind():
    # given 城口县 designated a poor county
    first = designate()
    # when it is designated again while open, then it is refused
    with pytest.raises(ValidationError) as exc:
        designate(day=date(2016, 1, 1))
    assert "division" in exc.value.message_dict
    # once lifted it may be designated again later, but not over the lifted period
    poverty_lift(actor=None, designation=first, lifted_on=date(2020, 11, 1))
    with pytest.raises(ValidationError):
        designate(day=date(2019, 1, 1))
    again = designate(day=date(2021, 1, 1))
    assert PovertyDesignation.objects.filter(division__code="500229").count() == 2
    assert again.lifted_on is None
    assert AuditEvent.objects.filter(action__startswith="poverty_designation.").count() == 3


def test_covering_designation_is_found_from_inside():
    designate()
    town = place("500229102")
    assert poverty_designation_covering(division=town, day=date(2015, 1, 1)).division.code == (
        "500229"
    )
    assert poverty_designation_covering(division=town, day=date(2013, 1, 1)) is None
    assert poverty_designation_covering(division=place("500105001"), day=date(2015, 1, 1)) is None


def test_bad_designations_are_refused():
    today = timezone.localdate()
    for kwargs, field in (
        ({"code": "500229102"}, "division"),  # a town is not a poor county
        ({"code": "500229", "kind": PovertyKind.DEEP_POVERTY_TOWN}, "division"),
        ({"day": today + timedelta(days=1)}, "designated_on"),
    ):
        with pytest.raises(ValidationError) as exc:
            designate(**kwargs)
        assert field in exc.value.message_dict
    designation = designate()
    for day in (date(2013, 1, 1), date(2014, 1, 1), today + timedelta(days=1)):
        with pytest.raises(ValidationError) as exc:
            poverty_lift(actor=None, designation=designation, lifted_on=day)
        assert "lifted_on" in exc.value.message_dict
    poverty_lift(actor=None, designation=designation, lifted_on=date(2020, 1, 1))
    with pytest.raises(ValidationError):
        poverty_lift(actor=None, designation=designation, lifted_on=date(2021, 1, 1))


def test_only_the_city_designates():
    with pytest.raises(PermissionDenied):
        designate(actor=make_user(Role.COUNTY_STAFF, "500229"))
    with pytest.raises(Http404):
        designate(code="510104", actor=make_user(Role.CITY_ADMIN, "50"))


def test_population_is_set_by_the_city():
    admin = make_user(Role.CITY_ADMIN, "50")
    division = division_set_population(actor=admin, division=place("500105"), population=925000)
    assert place("500105").population == 925000 == division.population
    with pytest.raises(ValidationError):
        division_set_population(actor=admin, division=place("500105"), population=-1)
    with pytest.raises(PermissionDenied):
        division_set_population(
            actor=make_user(Role.COUNTY_STAFF, "500105"), division=place("500105"), population=1
        )
    division_set_population(actor=admin, division=place("500105"), population=None)
    assert place("500105").population is None


def test_designations_and_population_through_the_api(client):
    admin = make_user(Role.CITY_ADMIN, "50")
    client.force_login(admin)
    response = client.post(
        "/api/v1/divisions/poverty-designations",
        {"division_code": "500229103", "kind": "deep_poverty_town", "designated_on": "2017-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    duplicate = client.post(
        "/api/v1/divisions/poverty-designations",
        {"division_code": "500229103", "kind": "deep_poverty_town", "designated_on": "2018-01-01"},
        content_type="application/json",
    )
    assert duplicate.status_code == 422
    listed = client.get("/api/v1/divisions/poverty-designations", {"kind": "deep_poverty_town"})
    assert [d["division_name"] for d in listed.json()["results"]] == ["坪坝镇"]
    lifted = client.post(
        f"/api/v1/divisions/poverty-designations/{pk}/lift",
        {"lifted_on": "2021-01-01"},
        content_type="application/json",
    )
    assert lifted.json()["lifted_on"] == "2021-01-01"
    assert (
        client.get("/api/v1/divisions/poverty-designations", {"open_on": "2022-01-01"}).json()[
            "count"
        ]
        == 0
    )
    population = client.post(
        "/api/v1/divisions/500105/population",
        {"population": 925000},
        content_type="application/json",
    )
    assert population.json() == {"code": "500105", "name": "江北区", "population": 925000}
    # the division detail still answers
    assert client.get("/api/v1/divisions/500105").status_code == 200

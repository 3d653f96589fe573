"""Universities: degree programmes (F9), funded innovation bases (F10), graduates (F11)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.workforce.models import Degree, GraduateCohort, InnovationBase
from shegong.workforce.selectors import university_summary
from shegong.workforce.services import (
    degree_programme_add,
    graduate_cohort_record,
    innovation_base_add,
    university_create,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def place(code="50"):
    return Division.objects.get(code=code)


@pytest.fixture
def universities():
    a = university_create(actor=None, name="重庆工商大学", division=place("500108"))
    b = university_create(actor=None, name="西南政法大学", division=place("500112"))
    c = university_create(actor=None, name="重庆城市管理职业学院", division=place("500106"))
    degree_programme_add(
        actor=None, university=a, level=Degree.BACHELOR, name="社会工作", since_year=2005
    )
    degree_programme_add(
        actor=None, university=a, level=Degree.MASTER, name="社会工作硕士", since_year=2012
    )
    degree_programme_add(
        actor=None, university=b, level=Degree.MASTER, name="社会工作硕士", since_year=2020
    )
    innovation_base_add(
        actor=None,
        university=a,
        name="社会工作创新基地",
        funded_amount=Decimal("200000"),
        first_year=2022,
        last_year=2024,
    )
    innovation_base_add(
        actor=None,
        university=b,
        name="未资助基地",
        funded_amount=0,
        first_year=2022,
        last_year=2024,
    )
    innovation_base_add(
        actor=None,
        university=c,
        name="老基地",
        funded_amount=Decimal("50000.50"),
        first_year=2019,
        last_year=2020,
    )
    for university, year, level, n in (
        (a, 2023, Degree.BACHELOR, 40),
        (a, 2023, Degree.MASTER, 10),
        (b, 2023, Degree.MASTER, 15),
        (a, 2022, Degree.BACHELOR, 38),
    ):
        graduate_cohort_record(
            actor=None, university=university, year=year, level=level, graduates=n
        )
    return a, b, c


def test_f9_f10_f11(universities):
    # given three universities: two with programmes, one funded base running 2022–2024,
    # one unfunded, one funded in 2019–2020; 65 graduates in 2023 and 38 in 2022
    city = place()
    # then
    assert university_summary(division=city, year=2023) == {
        "F9": 2,
        "F10": 1,
        "F11": 65,
        "base_funding": Decimal("200000.00"),
    }
    assert university_summary(division=city, year=2010)["F9"] == 1  # only 工商大学 then
    assert university_summary(division=city, year=2020)["F10"] == 1  # the old base
    overall = university_summary(division=city)
    assert (overall["F9"], overall["F10"], overall["F11"]) == (2, 2, 103)
    assert university_summary(division=place("500108"), year=2023)["F11"] == 50


def test_recording_a_cohort_again_corrects_it(universities):
    a, _, _ = universities
    graduate_cohort_record(actor=None, university=a, year=2023, level=Degree.BACHELOR, graduates=42)
    assert (
        GraduateCohort.objects.get(university=a, year=2023, level=Degree.BACHELOR).graduates == 42
    )
    assert university_summary(division=place(), year=2023)["F11"] == 67


def test_bad_university_input_is_refused(universities):
    a, _, _ = universities
    next_year = timezone.localdate().year + 1
    with pytest.raises(ValidationError) as exc:
        innovation_base_add(
            actor=None, university=a, name="x", funded_amount=-1, first_year=2022, last_year=2023
        )
    assert "funded_amount" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        innovation_base_add(
            actor=None, university=a, name="x", funded_amount=1, first_year=2023, last_year=2022
        )
    assert "last_year" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        graduate_cohort_record(
            actor=None, university=a, year=2023, level=Degree.BACHELOR, graduates=-3
        )
    assert "graduates" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        graduate_cohort_record(
            actor=None, university=a, year=next_year, level=Degree.BACHELOR, graduates=3
        )
    assert "year" in exc.value.message_dict
    with pytest.raises(ValidationError):
        university_create(actor=None, name="重庆工商大学", division=place())
    with pytest.raises(ValidationError):
        degree_programme_add(actor=None, university=a, level=Degree.BACHELOR, name="社会工作")
    assert InnovationBase.objects.count() == 3


def test_only_the_city_manages_universities(client, universities):
    a, _, _ = universities
    county = make_user(Role.COUNTY_STAFF, "500108")
    with pytest.raises(PermissionDenied):
        university_create(actor=county, name="新大学", division=place("500108"))
    client.force_login(county)
    response = client.post(
        f"/api/v1/universities/{a.pk}/cohorts",
        {"year": 2021, "level": "bachelor", "graduates": 30},
        content_type="application/json",
    )
    assert response.status_code == 403
    # but the county sees the universities located in it
    listed = client.get("/api/v1/universities").json()["results"]
    assert [u["name"] for u in listed] == ["重庆工商大学"]
    assert {p["level"] for p in listed[0]["programmes"]} == {"bachelor", "master"}


def test_universities_through_the_api(client):
    admin = make_user(Role.CITY_ADMIN, "50")
    client.force_login(admin)
    response = client.post(
        "/api/v1/universities",
        {"name": "长江师范学院", "division_code": "500102"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    uid = response.json()["id"]
    assert (
        client.post(
            f"/api/v1/universities/{uid}/programmes",
            {"level": "bachelor", "name": "社会工作", "since_year": 2008},
            content_type="application/json",
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/universities/{uid}/bases",
            {"name": "基地", "funded_amount": "100000.00", "first_year": 2023, "last_year": 2025},
            content_type="application/json",
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/universities/{uid}/cohorts",
            {"year": 2023, "level": "bachelor", "graduates": 55},
            content_type="application/json",
        ).status_code
        == 200
    )
    figures = client.get("/api/v1/talent/figures", {"division": "50", "year": 2023}).json()
    assert (figures["F9"], figures["F10"], figures["F11"]) == (1, 1, 55)
    # a university outside the city is not found
    outside = university_create(actor=None, name="四川大学", division=place("51"))
    response = client.post(
        f"/api/v1/universities/{outside.pk}/cohorts",
        {"year": 2023, "level": "bachelor", "graduates": 1},
        content_type="application/json",
    )
    assert response.status_code == 404

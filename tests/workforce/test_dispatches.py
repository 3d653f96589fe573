"""Dispatches to poor counties and deep-poverty towns (F26), and deep-poverty towns (F27)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from shegong.core.roles import Role
from shegong.geo.models import Division, PovertyKind
from shegong.geo.services import poverty_designate, poverty_lift
from shegong.network.services import facility_create
from shegong.workforce.models import Dispatch
from shegong.workforce.selectors import dispatch_summary
from shegong.workforce.services import dispatch_create, dispatch_end, social_worker_create
from tests.conftest import make_user
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db

CHENGKOU = "500229"  # 城口县
BASHAN = "500229102"  # 巴山镇, in 城口县
PINGBA = "500229103"  # 坪坝镇


def place(code):
    return Division.objects.get(code=code)


def person(serial, code="500105001001"):
    return social_worker_create(
        actor=None, name=f"派驻{serial}", national_id=national_id(serial), division=place(code)
    )


@pytest.fixture
def designated():
    county = poverty_designate(
        actor=None,
        division=place(CHENGKOU),
        kind=PovertyKind.POOR_COUNTY,
        designated_on=date(2014, 1, 1),
    )
    town = poverty_designate(
        actor=None,
        division=place(PINGBA),
        kind=PovertyKind.DEEP_POVERTY_TOWN,
        designated_on=date(2017, 1, 1),
    )
    return county, town


def send(worker, code=BASHAN, starts_on=date(2023, 3, 1), ends_on=None, **kwargs):
    return dispatch_create(
        actor=kwargs.pop("actor", None),
        worker=worker,
        host_division=place(code),
        starts_on=starts_on,
        ends_on=ends_on,
        purpose="驻村开展社会工作服务",
        **kwargs,
    )


def test_a_dispatch_inside_a_designated_area_is_accepted(designated):
    # a town inside the poor county, and the deep-poverty town itself
    assert send(person(1)).pk
    assert send(person(2), code=PINGBA).pk


def test_a_dispatch_to_a_non_designated_area_is_refused(designated):
    worker = person(3)
    # 江北区 is not designated; 城口县 was not yet designated in 2013
    for code, start in (("500105001", date(2023, 3, 1)), (BASHAN, date(2013, 6, 1))):
        with pytest.raises(ValidationError) as exc:
            send(worker, code=code, starts_on=start)
        assert "host_division" in exc.value.message_dict
    # nor once the designation is lifted
    poverty_lift(actor=None, designation=designated[0], lifted_on=date(2021, 1, 1))
    with pytest.raises(ValidationError):
        send(worker, starts_on=date(2022, 1, 1))
    assert not Dispatch.objects.exists()


def test_bad_dispatch_input_is_refused(designated):
    worker = person(4)
    with pytest.raises(ValidationError) as exc:
        send(worker, starts_on=date(2023, 3, 1), ends_on=date(2023, 2, 1))
    assert "ends_on" in exc.value.message_dict
    elsewhere = facility_create(
        actor=None,
        tier="station",
        division=place("500105001"),
        name="华新街社工站",
        status="operating",
        status_from=date(2020, 1, 1),
    )
    with pytest.raises(ValidationError) as exc:
        send(worker, host_facility=elsewhere)
    assert "host_facility" in exc.value.message_dict
    send(worker, starts_on=date(2023, 3, 1), ends_on=date(2023, 9, 1))
    with pytest.raises(ValidationError) as exc:
        send(worker, starts_on=date(2023, 8, 1))
    assert "starts_on" in exc.value.message_dict
    dispatch = Dispatch.objects.get()
    with pytest.raises(ValidationError):
        dispatch_end(actor=None, dispatch=dispatch, ended_on=date(2023, 10, 1))  # already ended


def test_ending_a_dispatch():
    poverty_designate(
        actor=None,
        division=place(CHENGKOU),
        kind=PovertyKind.POOR_COUNTY,
        designated_on=date(2014, 1, 1),
    )
    dispatch = send(person(5))
    with pytest.raises(ValidationError):
        dispatch_end(actor=None, dispatch=dispatch, ended_on=date(2023, 1, 1))
    with pytest.raises(ValidationError):
        dispatch_end(
            actor=None, dispatch=dispatch, ended_on=timezone.localdate() + timedelta(days=2)
        )
    assert dispatch_end(actor=None, dispatch=dispatch, ended_on=date(2024, 3, 1)).ends_on == date(
        2024, 3, 1
    )


def test_f26_counts_distinct_workers_and_f27_open_deep_poverty_towns(designated):
    # given A sent twice (2022 and 2023), B in 2023, and C (from 渝中区) in 2021
    a, b, c = person(6), person(7), person(8, "500103001003")
    send(a, starts_on=date(2022, 3, 1), ends_on=date(2022, 9, 1))
    send(a, starts_on=date(2023, 3, 1), ends_on=date(2023, 9, 1))
    send(b, starts_on=date(2023, 1, 1))
    send(c, starts_on=date(2021, 1, 1), ends_on=date(2021, 12, 1))
    # and one more deep-poverty town, whose designation was lifted in 2022
    lifted = poverty_designate(
        actor=None,
        division=place(BASHAN),
        kind=PovertyKind.DEEP_POVERTY_TOWN,
        designated_on=date(2017, 1, 1),
    )
    poverty_lift(actor=None, designation=lifted, lifted_on=date(2022, 1, 1))
    city = place("50")
    # then A counts once; by year, a dispatch counts in every year it covers
    assert dispatch_summary(division=city)["F26"] == 3
    assert dispatch_summary(division=city, year=2023)["F26"] == 2
    assert dispatch_summary(division=city, year=2021)["F26"] == 1
    assert dispatch_summary(division=place("500105"))["F26"] == 2
    assert dispatch_summary(division=place(CHENGKOU))["received"] == 3
    # and F27 counts the towns designated on the date
    assert dispatch_summary(division=city, as_of=date(2021, 6, 1))["F27"] == 2
    assert dispatch_summary(division=city, as_of=date(2023, 6, 1))["F27"] == 1
    assert dispatch_summary(division=city, as_of=date(2023, 6, 1))["poor_counties"] == 1


def test_who_may_dispatch(designated):
    worker = person(9)
    station = make_user(Role.STATION_STAFF, "500105001")
    with pytest.raises(PermissionDenied):
        send(worker, actor=station)
    other_county = make_user(Role.COUNTY_STAFF, "500107")
    from django.http import Http404

    with pytest.raises(Http404):
        send(worker, actor=other_county)
    # the worker's own county may send them to a county outside its scope
    assert send(worker, actor=make_user(Role.COUNTY_STAFF, "500105")).pk


def test_dispatches_through_the_api(client, designated):
    # given a county user of 江北区, a person there and one in 渝中区
    county = make_user(Role.COUNTY_STAFF, "500105")
    client.force_login(county)
    here, there = person(10), person(11, "500103001003")
    body = {
        "worker_id": here.pk,
        "host_division_code": BASHAN,
        "starts_on": "2023-03-01",
        "purpose": "驻镇服务",
    }
    # when they send the person here, someone outside scope, and to a non-designated area
    response = client.post("/api/v1/dispatches", body, content_type="application/json")
    outside = client.post(
        "/api/v1/dispatches", body | {"worker_id": there.pk}, content_type="application/json"
    )
    refused = client.post(
        "/api/v1/dispatches",
        body | {"host_division_code": "500105002", "starts_on": "2024-03-01"},
        content_type="application/json",
    )
    # then
    assert response.status_code == 201, response.content
    assert response.json()["host_division_name"] == "巴山镇"
    assert "national_id" not in response.content.decode()
    assert outside.status_code == 404
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["host_division"]
    listed = client.get("/api/v1/dispatches").json()
    assert [d["worker_id"] for d in listed["results"]] == [here.pk]
    ended = client.post(
        f"/api/v1/dispatches/{response.json()['id']}/end",
        {"ended_on": "2023-12-31"},
        content_type="application/json",
    )
    assert ended.status_code == 200 and ended.json()["ends_on"] == "2023-12-31"
    figures = client.get("/api/v1/talent/figures", {"year": 2023}).json()
    assert figures["F26"] == 1 and figures["division"] == "500105"

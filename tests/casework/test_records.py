"""Service records (issue #6 item 5): person-times are derived (participants × occasions),
and bad input is refused with a clear message and nothing written — a date in the future,
nobody served, a resident outside the actor's scope, a case not in intervention."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from shegong.casework.models import (
    Case,
    CaseStage,
    ServiceRecipient,
    ServiceRecord,
    SpecialStatus,
)
from shegong.casework.services.records import service_record_create
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.network.services import facility_create
from tests.casework.world import make_resident, resident_id
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

TODAY = date.today()


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in English (the msgids); the pages default to Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def place(db):
    """A station in 华新街 (500105001) and a room in 桥北社区 (500105001001), its workers,
    and residents inside and outside the room's community."""
    start = date(2020, 1, 1)
    station = facility_create(
        actor=None,
        tier="station",
        division=Division.objects.get(code="500105001"),
        name="华新街社工站",
        status="operating",
        status_from=start,
    )
    room = facility_create(
        actor=None,
        tier="room",
        division=Division.objects.get(code="500105001001"),
        name="桥北社区社工室",
        status="operating",
        status_from=start,
    )
    next_room = facility_create(
        actor=None,
        tier="room",
        division=Division.objects.get(code="500105001002"),
        name="隔壁社工室",
        status="operating",
        status_from=start,
    )
    return {
        "station": station,
        "room": room,
        "next_room": next_room,
        "worker": make_user(Role.ROOM_WORKER, "500105001001", username="room-worker"),
        "station_staff": make_user(Role.STATION_STAFF, "500105001", username="station-staff"),
        "county": make_user(Role.COUNTY_STAFF, "500105", username="county-staff"),
        "analyst": make_user(Role.ANALYST, "50", username="analyst"),
        "city": make_user(Role.CITY_ADMIN, "50", username="city-admin"),
        "resident": make_resident("张大爷", "500105001001", 901, phone="13800001234"),
        "second": make_resident("刘奶奶", "500105001001", 905),
        "neighbour": make_resident("王阿姨", "500105001002", 903),
        "outsider": make_resident("赵先生", "510104017001", 904),
    }


def visit(place, actor=None, **extra) -> ServiceRecord:
    """A home visit at the room, by the room worker unless told otherwise."""
    fields = {
        "facility": place["room"],
        "served_on": TODAY,
        "domain": "emotional_support",
        "method": "visit",
        "residents": [place["resident"]],
        "notes": "探访，情绪稳定",
        **extra,
    }
    return service_record_create(actor or place["worker"], **fields)


def residents(n: int, code: str = "500105001001", first: int = 100) -> list:
    return [make_resident(f"居民{i}", code, first + i) for i in range(n)]


# --- person-times ---------------------------------------------------------------------------


def test_a_resident_served_three_times_is_three_person_times(place):
    # given a resident
    # when the room worker visits them on three days
    for days_ago in (2, 1, 0):
        visit(place, served_on=TODAY - timedelta(days=days_ago))
    # then there are three records of one person-time each: 3 in all
    records = ServiceRecord.objects.filter(recipients__resident=place["resident"])
    assert [r.person_times for r in records] == [1, 1, 1]
    assert sum(r.person_times for r in records) == 3


def test_a_head_count_of_forty_is_forty_person_times(place):
    # given a talk to unregistered residents
    # when it is recorded with a head-count of 40 and nobody registered
    record = visit(place, residents=[], headcount=40, method="community", domain="policy_publicity")
    # then it counts 40 person-times and has no recipients
    assert record.person_times == 40
    assert not record.recipients.exists()


def test_registered_residents_and_a_head_count_add_up(place):
    # given three registered residents and 5 others
    people = residents(3)
    # when they are served together
    record = visit(place, residents=people, headcount=5, method="community")
    # then person-times are 3 + 5
    assert record.person_times == 8
    assert record.recipients.count() == 3


def test_the_same_resident_twice_in_one_record_counts_once(place):
    record = visit(place, residents=[place["resident"], place["resident"].pk])
    assert record.person_times == 1


# --- what a record holds ---------------------------------------------------------------------


def test_a_record_is_placed_where_its_facility_is_and_audited_without_personal_data(place):
    # given the room worker
    # when they record a home visit with notes
    record = visit(place)
    # then the record is placed in the room's community, its notes encrypted at rest
    assert record.division.code == "500105001001"
    assert record.recorded_by == place["worker"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM casework_servicerecord WHERE id = %s", [record.pk])
        raw = cursor.fetchone()[0]
    assert "探访" not in raw
    assert ServiceRecord.objects.get(pk=record.pk).notes == "探访，情绪稳定"
    # and one audit row says what happened without naming the person or the notes
    event = AuditEvent.objects.get(action="service_record.create")
    text = f"{event.object_repr} {event.after}"
    assert event.after["person_times"] == 1
    for secret in ("张大爷", "探访", resident_id(901)):
        assert secret not in text


def test_the_target_group_defaults_to_the_residents_active_status(place):
    # given a resident with an ended status and an active dibao status
    resident = place["resident"]
    SpecialStatus.objects.create(
        resident=resident,
        group="left_behind_elder",
        started_on=date(2015, 1, 1),
        ended_on=date(2018, 1, 1),
    )
    SpecialStatus.objects.create(resident=resident, group="dibao", started_on=date(2019, 1, 1))
    # when a service is recorded without a target group
    record = visit(place)
    # then it is for the active status's group
    assert record.target_group == "dibao"
    # and an explicit group wins
    assert visit(place, target_group="disability").target_group == "disability"


def test_of_several_active_statuses_the_longest_standing_is_the_default(place):
    # given two active statuses, and one that starts only after the service's day
    resident = place["resident"]
    SpecialStatus.objects.create(resident=resident, group="near_dibao", started_on=date(2020, 5, 1))
    SpecialStatus.objects.create(resident=resident, group="disability", started_on=date(2017, 3, 1))
    SpecialStatus.objects.create(resident=resident, group="dibao", started_on=date(2031, 1, 1))
    # when a service is recorded without a target group
    record = visit(place)
    # then it is for the status that began first
    assert record.target_group == "disability"


def test_a_station_records_at_its_own_facility(place):
    record = visit(place, actor=place["station_staff"], facility=place["station"])
    assert record.division.code == "500105001"


def test_creating_a_record_takes_few_queries(place):
    # given ten residents in the room's community
    people = residents(10)
    # when one record serves them all
    with CaptureQueriesContext(connection) as queries:
        visit(place, residents=[p.pk for p in people], method="community")
    # then the number of queries does not grow with the residents served
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]


# --- refusals ---------------------------------------------------------------------------------


def _refused(place, error_field: str, **extra):
    before = (ServiceRecord.objects.count(), ServiceRecipient.objects.count())
    with pytest.raises(ValidationError) as caught:
        visit(place, **extra)
    assert error_field in caught.value.message_dict, caught.value.message_dict
    assert (ServiceRecord.objects.count(), ServiceRecipient.objects.count()) == before
    assert not AuditEvent.objects.filter(action="service_record.create").exists()
    return caught.value.message_dict[error_field]


def test_a_record_dated_in_the_future_is_refused(place):
    # when the room worker dates a visit tomorrow
    # then it is refused, saying why, and nothing is written
    messages = _refused(place, "served_on", served_on=timezone.localdate() + timedelta(days=1))
    assert "future" in messages[0]


def test_a_record_serving_nobody_is_refused(place):
    # when no resident is chosen and the head-count is 0
    messages = _refused(place, "residents", residents=[], headcount=0)
    # then it says nobody was served
    assert "Nobody was served" in messages[0]


def test_unknown_domain_method_and_bad_numbers_are_refused(place):
    with pytest.raises(ValidationError) as caught:
        visit(place, domain="magic", method="telepathy", headcount=-1, duration_minutes=0)
    assert {"domain", "method", "headcount", "duration_minutes"} <= set(caught.value.message_dict)
    assert not ServiceRecord.objects.exists()


def test_a_resident_outside_the_workers_scope_is_refused_as_not_found(place):
    # given a resident of the next community (outside the room worker's scope)
    # when the room worker records a service for them, alone or with someone of their own
    for served in ([place["neighbour"]], [place["resident"], place["neighbour"]]):
        with pytest.raises(Http404):
            visit(place, residents=served)
    # then nothing is written
    assert not ServiceRecord.objects.exists()
    assert not ServiceRecipient.objects.exists()
    # and the station, whose area holds both communities, may
    record = visit(
        place,
        actor=place["station_staff"],
        residents=[place["resident"], place["neighbour"]],
    )
    assert record.person_times == 2


def test_a_facility_outside_scope_is_refused(place):
    with pytest.raises(Http404):
        visit(place, facility=place["next_room"], residents=[], headcount=3)
    assert not ServiceRecord.objects.exists()


def test_roles_without_the_right_to_record_are_refused(place):
    for role in ("analyst", "city"):
        with pytest.raises(PermissionDenied):
            visit(place, actor=place[role])
    assert not ServiceRecord.objects.exists()


def _case(place, stage) -> Case:
    return Case.objects.create(
        number=f"C-{stage}",
        resident=place["resident"],
        facility=place["room"],
        stage=stage,
        referral_source="self",
        assigned_to=place["worker"],
        supervisor=place["station_staff"],
        opened_on=date(2024, 1, 1),
    )


def test_a_record_for_a_case_not_in_intervention_is_refused(place):
    # given a case still at assessment
    case = _case(place, CaseStage.ASSESSMENT)
    # when a service record is attached to it
    messages = _refused(place, "case", case=case, method="case")
    # then the message names the stage
    assert "intervention" in messages[0]


def test_a_record_for_a_case_in_intervention_serves_its_resident(place):
    # given a case in intervention
    case = _case(place, CaseStage.INTERVENTION)
    # when a record names the case but no resident
    record = visit(place, case=case, residents=[], method="case")
    # then the case's resident was served
    assert list(record.recipients.values_list("resident_id", flat=True)) == [case.resident_id]
    assert record.person_times == 1


def test_a_case_outside_scope_is_not_found(place):
    case = _case(place, CaseStage.INTERVENTION)
    case.facility = place["next_room"]
    case.save()
    with pytest.raises(Http404):
        visit(place, case=case)
    assert not ServiceRecord.objects.exists()

"""Facility, posting and organisation services: tier rights, scope, and bad input refused
with nothing written."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.network.models import Facility, FacilityStatus, FacilityStatusPeriod, Tier
from shegong.network.services import (
    ConflictError,
    facility_change_status,
    facility_create,
    facility_update,
    organisation_create,
    supervision_visit_create,
)
from shegong.workforce.models import Posting, SocialWorker
from shegong.workforce.services import posting_create, social_worker_create
from tests.conftest import make_user
from tests.network.conftest import division, national_id

pytestmark = pytest.mark.django_db


def state():
    return (
        Facility.objects.count(),
        FacilityStatusPeriod.objects.count(),
        SocialWorker.objects.count(),
        Posting.objects.count(),
        AuditEvent.objects.count(),
    )


def test_status_history_is_dated_and_audited(network):
    room = network["room_west"]
    periods = list(
        room.periods.order_by("valid_from").values_list("status", "valid_from", "valid_to")
    )
    assert periods == [
        ("planned", date(2018, 1, 1), date(2020, 1, 1)),
        ("operating", date(2020, 1, 1), None),
    ]
    assert room.opened_on == date(2020, 1, 1)
    assert AuditEvent.objects.filter(
        action="facility.change_status", object_id=str(room.pk)
    ).exists()


def test_a_second_active_facility_for_a_division_and_tier_is_refused(network):
    before = state()
    with pytest.raises(ValidationError, match="已有"):
        facility_create(
            actor=None,
            tier=Tier.ROOM,
            division=division("970101001001"),
            name="又一个",
            status_from=date(2020, 1, 1),
        )
    assert state() == before


def test_a_closed_facility_frees_its_division_for_a_new_one(network):
    new = facility_create(
        actor=None,
        tier=Tier.CENTRE,
        division=division("970102"),
        name="乙县新中心",
        status_from=date(2020, 1, 1),
        status=FacilityStatus.OPERATING,
    )
    assert new.pk != network["centre_b"].pk


def test_tier_must_match_the_division_level(network):
    with pytest.raises(ValidationError):
        facility_create(
            actor=None,
            tier=Tier.ROOM,
            division=division("970101001"),
            name="x",
            status_from=date(2020, 1, 1),
        )


def test_out_of_order_status_and_dates_are_refused(network):
    centre = network["centre_b"]  # closed
    with pytest.raises(ValidationError):
        facility_change_status(
            actor=None, facility=centre, status="operating", effective_on=date(2020, 1, 1)
        )
    room = network["room_east"]
    with pytest.raises(ValidationError):
        facility_change_status(
            actor=None, facility=room, status="suspended", effective_on=date(2018, 1, 1)
        )


def test_stale_edit_is_a_conflict(network):
    room = network["room_east"]
    facility_update(actor=None, facility=room, version=room.version, address="东路 1 号")
    with pytest.raises(ConflictError):
        facility_update(actor=None, facility=room, version=room.version, address="东路 2 号")
    room.refresh_from_db()
    assert room.address == "东路 1 号"


def test_station_user_manages_rooms_only_in_their_town(network):
    station_user = make_user(Role.STATION_STAFF, "970101001", username="station-97")
    # inside their town: allowed
    facility_change_status(
        actor=station_user,
        facility=network["room_east"],
        status="suspended",
        effective_on=date(2021, 1, 1),
    )
    # a room in another town: as if it did not exist
    before = state()
    with pytest.raises(Http404):
        facility_create(
            actor=station_user,
            tier=Tier.ROOM,
            division=division("970102101001"),
            name="外镇",
            status_from=date(2021, 1, 1),
        )
    # a station (not their tier), even in their town: not allowed
    with pytest.raises(PermissionDenied):
        facility_change_status(
            actor=station_user,
            facility=network["station_1"],
            status="suspended",
            effective_on=date(2021, 1, 1),
        )
    assert state() == before
    # and they see only their town's facilities
    visible = set(Facility.objects.restrict(station_user, "view").values_list("name", flat=True))
    assert visible == {"一街道社工站", "东社区社工室", "西社区社工室"}


def test_county_user_manages_stations_city_user_manages_centres(network):
    county = make_user(Role.COUNTY_STAFF, "970101", username="county-97")
    city = make_user(Role.CITY_ADMIN, "97", username="city-97")
    facility_change_status(
        actor=county,
        facility=network["station_2"],
        status="suspended",
        effective_on=date(2021, 1, 1),
    )
    with pytest.raises(PermissionDenied):
        facility_change_status(
            actor=county,
            facility=network["centre_a"],
            status="suspended",
            effective_on=date(2021, 1, 1),
        )
    facility_change_status(
        actor=city, facility=network["centre_a"], status="suspended", effective_on=date(2021, 1, 1)
    )


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("500105198503120010", "校验"),  # wrong check digit
        ("50010519850230001", "17"),  # too short
        (national_id(1, birth="19850230"), "出生日期"),  # 30 February
        (national_id(1, birth="20990101"), "出生日期"),  # born in the future
    ],
)
def test_bad_national_ids_are_refused(network, number, message):
    before = state()
    with pytest.raises(ValidationError, match=message):
        social_worker_create(
            actor=None, name="张三", national_id=number, division=division("970101")
        )
    assert state() == before


def test_the_same_person_cannot_be_registered_twice(network):
    social_worker_create(
        actor=None, name="李四", national_id=national_id(901), division=division("970101")
    )
    before = state()
    with pytest.raises(ValidationError, match="已登记"):
        social_worker_create(
            actor=None,
            name="李四",
            national_id=national_id(901).lower(),
            division=division("970102"),
        )
    assert state() == before


def test_a_second_full_time_posting_is_refused(network):
    worker = Posting.objects.filter(facility=network["station_1"]).get().worker
    before = state()
    with pytest.raises(ValidationError, match="已有专职岗位"):
        posting_create(
            actor=None,
            worker=worker,
            facility=network["room_east"],
            employment="full_time",
            started_on=date(2020, 1, 1),
        )
    assert state() == before
    # a part-time one beside it is fine
    posting_create(
        actor=None,
        worker=worker,
        facility=network["room_east"],
        employment="part_time",
        started_on=date(2020, 1, 1),
    )


def test_a_posting_to_a_closed_facility_is_refused(network):
    worker = social_worker_create(
        actor=None, name="王五", national_id=national_id(902), division=division("970102")
    )
    before = state()
    with pytest.raises(ValidationError, match="关闭"):
        posting_create(
            actor=None,
            worker=worker,
            facility=network["centre_b"],
            employment="full_time",
            started_on=date(2020, 1, 1),
        )
    assert state() == before


def test_national_id_is_encrypted_at_rest_and_found_by_hash(network):
    from django.db import connection

    from shegong.workforce.services import social_worker_find_by_national_id

    number = national_id(903)
    worker = social_worker_create(
        actor=None, name="赵六", national_id=number, division=division("970101")
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id FROM workforce_socialworker WHERE id = %s", [worker.pk])
        stored = cursor.fetchone()[0]
    assert number not in stored and stored.startswith("gAAAA")
    assert worker.sex == "male" and worker.birth_date == date(1985, 3, 12)
    city = make_user(Role.CITY_ADMIN, "97", username="city-97b")
    assert social_worker_find_by_national_id(user=city, national_id=number) == worker
    outsider = make_user(Role.CITY_ADMIN, "50", username="city-50b")
    assert social_worker_find_by_national_id(user=outsider, national_id=number) is None


def test_organisation_needs_a_valid_credit_code(network):
    with pytest.raises(ValidationError):
        organisation_create(
            actor=None, name="某社工机构", uscc="91350100M000100Y44", division=division("970101")
        )
    org = organisation_create(
        actor=None,
        name="某社工机构",
        uscc="91350100m000100y43",
        division=division("970101"),
        is_social_work_agency=True,
        rating="4A",
        rating_expires_on=date(2026, 12, 31),
        incubating_station=network["station_1"],
        incubation_stage="incubating",
        incubation_started_on=date(2019, 1, 1),
    )
    assert org.uscc == "91350100M000100Y43"


def test_supervision_visits_follow_the_tiers(network):
    station_user = make_user(Role.STATION_STAFF, "970101001", username="station-97v")
    visit = supervision_visit_create(
        actor=station_user,
        supervisor=network["station_1"],
        supervised=network["room_east"],
        visited_on=date(2021, 3, 1),
        visitors="督导员甲",
        findings="台账不全",
        fixes=[("补齐服务台账", date(2021, 4, 1))],
    )
    assert visit.fixes.count() == 1
    with pytest.raises(ValidationError):  # a station cannot visit another town's room
        supervision_visit_create(
            actor=None,
            supervisor=network["station_1"],
            supervised=network["room_north"],
            visited_on=date(2021, 3, 1),
            visitors="x",
            findings="y",
        )
    with pytest.raises(Http404):  # the county's centre lies above a station user's area
        supervision_visit_create(
            actor=station_user,
            supervisor=network["centre_a"],
            supervised=network["station_1"],
            visited_on=date(2021, 3, 1),
            visitors="x",
            findings="y",
        )
    county_user = make_user(Role.COUNTY_STAFF, "970101", username="county-97v")
    with pytest.raises(PermissionDenied):  # a county user records the centre's visits only
        supervision_visit_create(
            actor=county_user,
            supervisor=network["station_1"],
            supervised=network["room_east"],
            visited_on=date(2021, 3, 1),
            visitors="x",
            findings="y",
        )

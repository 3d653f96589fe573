"""F16: professionals in grassroots self-governing and community service organisations,
from each posting's workplace type; one person counted once."""

from datetime import date

import pytest

from shegong.workforce.models import WorkplaceType
from shegong.workforce.selectors import grassroots_professionals
from shegong.workforce.services import posting_create, social_worker_create
from tests.network.conftest import division, national_id

pytestmark = pytest.mark.django_db


def person(serial):
    return social_worker_create(
        actor=None, name=f"人{serial}", national_id=national_id(serial), division=division("970101")
    )


def test_workplace_type_defaults_follow_the_facility(network):
    room = posting_create(
        actor=None,
        worker=person(801),
        facility=network["room_east"],
        employment="part_time",
        started_on=date(2020, 1, 1),
    )
    station = posting_create(
        actor=None,
        worker=person(802),
        facility=network["station_1"],
        employment="part_time",
        started_on=date(2020, 1, 1),
    )
    centre = posting_create(
        actor=None,
        worker=person(803),
        facility=network["centre_a"],
        employment="part_time",
        started_on=date(2020, 1, 1),
    )
    assert (room.workplace_type, station.workplace_type, centre.workplace_type) == (
        WorkplaceType.GRASSROOTS,
        WorkplaceType.COMMUNITY_SERVICE,
        WorkplaceType.GOVERNMENT,
    )


def test_f16_counts_each_person_once(network):
    # given the network's 8 posted people: 4 at rooms or stations... and a few more
    base = grassroots_professionals(division=division("97"), as_of=date(2024, 6, 30))
    school = posting_create(
        actor=None,
        worker=person(811),
        facility=None,
        workplace_name="重庆第一中学",
        workplace_type=WorkplaceType.SCHOOL,
        employment="full_time",
        started_on=date(2021, 1, 1),
    )
    twice = person(812)
    for facility in (network["room_east"], network["station_1"]):
        posting_create(
            actor=None,
            worker=twice,
            facility=facility,
            employment="part_time",
            started_on=date(2021, 1, 1),
        )
    after = grassroots_professionals(division=division("97"), as_of=date(2024, 6, 30))
    # then the school adds a professional but not a grassroots one; two postings count once
    assert after["professionals"] == base["professionals"] + 2
    assert after["grassroots"] == base["grassroots"] + 1
    assert school.facility is None


def test_a_posting_elsewhere_needs_the_workplace_named(network):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        posting_create(
            actor=None,
            worker=person(821),
            facility=None,
            employment="full_time",
            started_on=date(2021, 1, 1),
        )

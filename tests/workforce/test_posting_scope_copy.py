"""Postings carry their facility's division code (workforce 0006), kept in step by the
database whoever writes: the services, bulk inserts, a division's code change, a (raw)
change of a facility's division."""

from datetime import date

import pytest

from shegong.geo.models import Division, Kind, Level
from shegong.geo.services import division_change_code
from shegong.network.models import Facility
from shegong.workforce.models import Employment, Posting, SocialWorker
from shegong.workforce.services import posting_create, social_worker_create
from tests.network.conftest import division, national_id

pytestmark = pytest.mark.django_db


def codes(**filters) -> set[str]:
    return set(Posting.objects.filter(**filters).values_list("facility_division_code", flat=True))


def test_the_services_postings_carry_the_facilitys_division_code(network):
    assert codes(facility=network["room_east"]) == {"970101001001"}
    assert codes(facility=network["centre_a"]) == {"970101"}
    # a posting elsewhere (no facility) carries none
    worker = SocialWorker.objects.first()
    other = posting_create(
        actor=None,
        worker=worker,
        facility=None,
        employment=Employment.PART_TIME,
        started_on=date(2019, 1, 1),
        workplace_name="某医院",
    )
    assert codes(pk=other.pk) == {""}


def test_bulk_inserts_and_stale_saves_are_set_from_the_facility(network):
    worker = social_worker_create(
        actor=None, name="社工批量", national_id=national_id(90), division=division("970102")
    )
    Posting.objects.bulk_create(
        [
            Posting(
                worker=worker,
                facility=network["room_north"],
                employment=Employment.FULL_TIME,
                started_on=date(2019, 2, 1),
            )
        ]
    )
    assert codes(worker=worker) == {"970102101001"}
    posting = Posting.objects.get(worker=worker)
    posting.facility_division_code = "500105"  # a wrong value written by a full save …
    posting.save()
    assert codes(worker=worker) == {"970102101001"}  # … is put right


def test_a_division_code_change_is_followed(network):
    division_change_code(
        actor=None, division=division("970101"), new_code="970109", effective_on=date(2020, 1, 1)
    )
    assert codes(facility=network["room_east"]) == {"970109001001"}
    assert codes(facility=network["centre_a"]) == {"970109"}
    assert not Posting.objects.filter(facility_division_code__startswith="970101").exists()


def test_a_facility_moved_to_another_division_takes_its_postings_along(network):
    town = Division.objects.create(code="970102102", name="四镇", level=Level.TOWN, kind=Kind.TOWN)
    Facility.objects.filter(pk=network["station_3"].pk).update(division=town)
    assert codes(facility=network["station_3"]) == {"970102102"}

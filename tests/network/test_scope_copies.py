"""Status periods carry their facility's tier and their division's code and kind (network
0002), kept in step by the database whoever writes: the services, bulk inserts, a division's
code change, a reclassifying division import, a (raw) change of a facility's division."""

from datetime import date
from pathlib import Path

import pytest

from shegong.geo.io import import_divisions
from shegong.geo.models import Division
from shegong.geo.services import division_change_code
from shegong.network.models import Facility, FacilityStatus, FacilityStatusPeriod, Tier
from shegong.network.selectors import coverage, coverage_trend
from shegong.workforce.models import Posting
from shegong.workforce.selectors import compliance
from tests.network.conftest import division

pytestmark = pytest.mark.django_db
LATE = date(2019, 12, 31)


def copies(facility) -> set[tuple[str, str, str]]:
    return set(
        FacilityStatusPeriod.objects.filter(facility=facility).values_list(
            "tier", "division_code", "division_kind"
        )
    )


def test_the_services_periods_carry_tier_code_and_kind(network):
    # facility_create wrote the first period, facility_change_status the later ones
    assert copies(network["room_south"]) == {(Tier.ROOM, "970101201001", "rural")}
    assert FacilityStatusPeriod.objects.filter(facility=network["room_south"]).count() == 2
    assert copies(network["station_1"]) == {(Tier.STATION, "970101001", "subdistrict")}
    assert copies(network["centre_b"]) == {(Tier.CENTRE, "970102", "")}
    assert not FacilityStatusPeriod.objects.filter(division_code="").exists()


def test_bulk_inserts_and_stale_saves_are_set_from_the_facility(network):
    room = network["room_north"]
    FacilityStatusPeriod.objects.bulk_create(
        [
            FacilityStatusPeriod(
                facility=room,
                status=FacilityStatus.PLANNED,
                valid_from=date(2017, 1, 1),
                valid_to=date(2017, 6, 1),
            )
        ]
    )
    # an instance built in Python knows no copies; a full save writes what it holds
    period = FacilityStatusPeriod.objects.create(
        facility=room,
        status=FacilityStatus.BUILT,
        valid_from=date(2017, 6, 1),
        valid_to=date(2017, 7, 1),
    )
    assert period.division_code == ""  # not read back …
    period.note = "补录"
    period.save()  # … and written back as it was
    assert copies(room) == {(Tier.ROOM, "970102101001", "rural")}


def test_a_division_code_change_is_followed_by_periods_and_postings(network):
    before_cov = coverage(division=division("970102"), as_of=LATE).as_dict()
    before_comp = compliance(division=division("970102"), as_of=LATE).as_dict()
    # when 乙县 970102 becomes 970103 (its towns and communities are recoded with it)
    division_change_code(
        actor=None, division=division("970102"), new_code="970103", effective_on=LATE
    )
    # then its facilities' periods and postings carry the new codes
    assert copies(network["room_north"]) == {(Tier.ROOM, "970103101001", "rural")}
    assert copies(network["centre_b"]) == {(Tier.CENTRE, "970103", "")}
    assert set(
        Posting.objects.filter(facility=network["station_3"]).values_list(
            "facility_division_code", flat=True
        )
    ) == {"970103101"}
    assert not FacilityStatusPeriod.objects.filter(division_code__startswith="970102").exists()
    # and the figures follow the division to its new code
    after_cov = coverage(division=division("970103"), as_of=LATE).as_dict()
    after_comp = compliance(division=division("970103"), as_of=LATE).as_dict()
    assert {k: v for k, v in after_cov.items() if k != "division_code"} == {
        k: v for k, v in before_cov.items() if k != "division_code"
    }
    assert after_comp["by_county"] == {"970103": before_comp["by_county"]["970102"]}
    assert (after_comp["facilities"], after_comp["meeting"], after_comp["gap"]) == (
        before_comp["facilities"],
        before_comp["meeting"],
        before_comp["gap"],
    )
    # the province as a whole is unchanged, county by county under the new code
    whole = coverage(division=division("97"), as_of=LATE)
    assert whole.fully_covered_counties == ["970101"]
    assert (whole.centres, whole.stations, whole.rooms) == (1, 3, 2)


def test_a_reclassified_community_is_followed_by_its_periods(network, tmp_path: Path):
    assert coverage(division=division("97"), as_of=LATE).rooms_urban == 1  # 东社区
    # when a new list classes 东社区 as rural (urban-rural class code 220)
    villages = tmp_path / "villages.csv"
    villages.write_text(
        "code,name,streetCode,provinceCode,cityCode,areaCode,urbanRuralCode\n"
        '970101001001,"东社区居民委员会",970101001,97,9701,970101,220\n',
        encoding="utf-8",
    )
    import_divisions(paths=[villages])
    assert division("970101001001").kind == "rural"
    # then the room's periods carry the new kind, and the room counts as rural
    assert copies(network["room_east"]) == {(Tier.ROOM, "970101001001", "rural")}
    c = coverage(division=division("97"), as_of=LATE)
    assert (c.rooms, c.rooms_urban, c.rooms_rural) == (2, 0, 2)
    # and is held to the rural standard (1), which its one worker meets
    rows = {
        r.name: (r.required, r.posted)
        for r in compliance(division=division("97"), as_of=LATE, keep_rows=True).rows
    }
    assert rows["东社区社工室"] == (1, 1)
    assert compliance(division=division("97"), as_of=LATE).meeting == 3


def test_a_facility_moved_to_another_division_takes_its_periods_along(network):
    # the services never move a facility; a raw update is followed all the same
    Facility.objects.filter(pk=network["centre_b"].pk).update(division=division("970101"))
    assert copies(network["centre_b"]) == {(Tier.CENTRE, "970101", "")}


def test_the_trend_reads_the_copies(network):
    points = coverage_trend(division=division("970102"), start=date(2018, 8, 1), end=LATE)
    assert (points[0]["centres"], points[0]["stations"], points[0]["rooms"]) == (1, 1, 1)
    assert (points[-1]["centres"], points[-1]["stations"], points[-1]["rooms"]) == (0, 1, 1)


def test_the_whole_country_is_read_in_parts_with_the_same_result(network):
    # the country is read one first digit at a time (network.selectors.area_parts), a
    # province in one piece; the test database's other divisions have no facilities
    nation = Division(code="", name="全国", level="nation")
    keys = (
        "centres",
        "stations",
        "stations_in_subdistricts",
        "stations_in_towns_and_townships",
        "rooms",
        "rooms_urban",
        "rooms_rural",
        "fully_covered_counties",
    )
    for day in (date(2018, 12, 31), LATE):
        country = coverage(division=nation, as_of=day).as_dict()
        province = coverage(division=division("97"), as_of=day).as_dict()
        assert {k: country[k] for k in keys} == {k: province[k] for k in keys}
        assert (
            compliance(division=nation, as_of=day).as_dict()
            == compliance(division=division("97"), as_of=day).as_dict()
        )

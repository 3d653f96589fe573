"""Coverage and compliance on the hand-built network (see conftest.py), worked out by hand.

On 2019-12-31: 乙县's centre has closed (2019-06-01), 西社区's room opens only on 2020-01-01,
南村's room is suspended (2019-03-01), and a township station needs 2 since 2019-07-01.
"""

from datetime import date

import pytest

from shegong.network.selectors import coverage, coverage_trend
from shegong.workforce.selectors import compliance
from tests.network.conftest import division

pytestmark = pytest.mark.django_db
LATE, EARLY = date(2019, 12, 31), date(2018, 12, 31)


def test_coverage_at_the_end_of_2019(network):
    c = coverage(division=division("97"), as_of=LATE)
    assert (c.counties, c.towns, c.subdistricts, c.towns_and_townships) == (2, 3, 1, 2)
    assert (c.communities, c.urban_communities, c.rural_communities) == (4, 2, 2)
    assert c.centres == 1  # 乙县's centre closed
    assert (c.stations, c.stations_in_subdistricts, c.stations_in_towns_and_townships) == (3, 1, 2)
    assert (c.rooms, c.rooms_urban, c.rooms_rural) == (2, 1, 1)  # 西 not yet, 南 suspended
    assert c.room_share == 0.5
    assert c.fully_covered_counties == ["970101"]  # 乙县 lost its centre


def test_coverage_at_the_end_of_2018(network):
    c = coverage(division=division("97"), as_of=EARLY)
    assert (c.centres, c.stations, c.rooms) == (2, 3, 3)
    assert c.fully_covered_counties == ["970101", "970102"]


def test_coverage_of_one_county(network):
    c = coverage(division=division("970101"), as_of=LATE)
    assert (c.counties, c.towns, c.communities, c.centres, c.stations, c.rooms) == (
        1,
        2,
        3,
        1,
        2,
        1,
    )
    assert c.fully_covered == 1


def test_a_facility_that_opens_after_the_date_does_not_count(network):
    assert coverage(division=division("970101001"), as_of=LATE).rooms == 1
    assert coverage(division=division("970101001"), as_of=date(2020, 1, 1)).rooms == 2


def test_monthly_trend(network):
    points = coverage_trend(division=division("97"), start=date(2018, 3, 1), end=date(2018, 8, 1))
    assert [p["month"] for p in points] == [
        "2018-03",
        "2018-04",
        "2018-05",
        "2018-06",
        "2018-07",
        "2018-08",
    ]
    assert [p["rooms"] for p in points] == [0, 1, 1, 1, 2, 3]
    assert [p["stations"] for p in points] == [1, 1, 2, 3, 3, 3]
    assert points[-1]["room_share"] == 0.75


def test_compliance_at_the_end_of_2019(network):
    c = compliance(division=division("97"), as_of=LATE, keep_rows=True)
    rows = {r.name: (r.required, r.posted, r.gap) for r in c.rows}
    assert rows == {
        "甲区社会工作指导中心": (2, 2, 0),
        "一街道社工站": (2, 1, 1),  # a subdistrict station needs 2
        "二乡社工站": (2, 1, 1),  # a township station needs 2 since 2019-07-01
        "三镇社工站": (1, 1, 0),  # the part-time worker does not count
        "东社区社工室": (2, 1, 1),  # one posting ended on 2019-05-01
        "北村社工室": (1, 0, 1),
    }
    assert (c.facilities, c.meeting, c.gap) == (6, 2, 4)
    assert round(c.share, 4) == 0.3333
    assert c.by_county == {
        "970101": {"facilities": 4, "meeting": 1, "gap": 3},
        "970102": {"facilities": 2, "meeting": 1, "gap": 1},
    }


def test_compliance_at_the_end_of_2018(network):
    c = compliance(division=division("97"), as_of=EARLY, keep_rows=True)
    rows = {r.name: (r.required, r.posted) for r in c.rows}
    assert rows["二乡社工站"] == (1, 1)  # the township station needed 1 then
    assert rows["乙县社会工作指导中心"] == (2, 0)
    assert rows["东社区社工室"] == (2, 2)
    assert (c.facilities, c.meeting, c.gap) == (8, 4, 5)


def test_api_filters_facilities_by_compliance(client, network):
    from shegong.core.roles import Role
    from tests.conftest import make_user

    client.force_login(make_user(Role.CITY_ADMIN, "97", username="city-comp"))
    meeting = client.get("/api/v1/facilities", {"division": "97", "compliant": "true"}).json()
    missing = client.get("/api/v1/facilities", {"division": "97", "compliant": "false"}).json()
    # today: 西社区's room is operating too (since 2020), with nobody posted
    assert {f["name"] for f in meeting["results"]} == {"甲区社会工作指导中心", "三镇社工站"}
    assert "西社区社工室" in {f["name"] for f in missing["results"]}
    assert "乙县社会工作指导中心" not in {f["name"] for f in missing["results"]}  # closed

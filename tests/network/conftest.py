"""A small hand-built hierarchy (province 97) with facilities, standards and postings whose
coverage and compliance are worked out by hand in test_coverage_compliance.py."""

from datetime import date
from pathlib import Path

import pytest

from shegong.core.validators import national_id_check_digit
from shegong.geo.io import import_divisions
from shegong.geo.models import Division
from shegong.network.models import FacilityStatus, Tier
from shegong.network.services import (
    facility_change_status,
    facility_create,
    seed_article_standard,
    staffing_standard_create,
)
from shegong.workforce.services import posting_create, social_worker_create

HIERARCHY = {
    "provinces.csv": 'code,name\n97,"测试市"\n',
    "cities.csv": 'code,name,provinceCode\n9701,"市辖区",97\n',
    "areas.csv": 'code,name,cityCode,provinceCode\n970101,"甲区",9701,97\n970102,"乙县",9701,97\n',
    "streets.csv": "code,name,areaCode,provinceCode,cityCode\n"
    '970101001,"一街道",970101,97,9701\n'
    '970101201,"二乡",970101,97,9701\n'
    '970102101,"三镇",970102,97,9701\n',
    "villages.csv": "code,name,streetCode,provinceCode,cityCode,areaCode\n"
    '970101001001,"东社区居民委员会",970101001,97,9701,970101\n'
    '970101001002,"西社区居民委员会",970101001,97,9701,970101\n'
    '970101201001,"南村村民委员会",970101201,97,9701,970101\n'
    '970102101001,"北村村民委员会",970102101,97,9701,970102\n',
}


def national_id(serial: int, birth: str = "19850312") -> str:
    first17 = f"500105{birth}{serial:03d}"
    return first17 + national_id_check_digit(first17)


def division(code: str) -> Division:
    return Division.objects.get(code=code)


@pytest.fixture
def network(db, tmp_path: Path) -> dict:
    """The hand-built network; returns its facilities by a short name."""
    paths = []
    for name, text in HIERARCHY.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    import_divisions(paths=paths)
    seed_article_standard()
    # mid-period change: from 2019-07-01 a township station needs 2
    staffing_standard_create(
        actor=None,
        tier=Tier.STATION,
        division_kind="township",
        min_full_time=2,
        effective_from=date(2019, 7, 1),
        document="测试文件（2019）",
    )

    def make(tier, code, name, status_from, status=FacilityStatus.OPERATING):
        return facility_create(
            actor=None,
            tier=tier,
            division=division(code),
            name=name,
            status=status,
            status_from=status_from,
        )

    f = {
        "centre_a": make(Tier.CENTRE, "970101", "甲区社会工作指导中心", date(2018, 1, 1)),
        "centre_b": make(Tier.CENTRE, "970102", "乙县社会工作指导中心", date(2018, 1, 1)),
        "station_1": make(Tier.STATION, "970101001", "一街道社工站", date(2018, 3, 1)),
        "station_2": make(Tier.STATION, "970101201", "二乡社工站", date(2018, 6, 1)),
        "station_3": make(Tier.STATION, "970102101", "三镇社工站", date(2018, 5, 1)),
        "room_east": make(Tier.ROOM, "970101001001", "东社区社工室", date(2018, 4, 1)),
        "room_west": make(
            Tier.ROOM, "970101001002", "西社区社工室", date(2018, 1, 1), FacilityStatus.PLANNED
        ),
        "room_south": make(Tier.ROOM, "970101201001", "南村社工室", date(2018, 7, 1)),
        "room_north": make(Tier.ROOM, "970102101001", "北村社工室", date(2018, 8, 1)),
    }
    facility_change_status(
        actor=None,
        facility=f["centre_b"],
        status=FacilityStatus.CLOSED,
        effective_on=date(2019, 6, 1),
    )
    facility_change_status(
        actor=None,
        facility=f["room_west"],
        status=FacilityStatus.OPERATING,
        effective_on=date(2020, 1, 1),
    )
    facility_change_status(
        actor=None,
        facility=f["room_south"],
        status=FacilityStatus.SUSPENDED,
        effective_on=date(2019, 3, 1),
    )
    start = date(2018, 9, 1)
    serial = iter(range(1, 100))

    def post(facility, employment="full_time", ended_on=None):
        worker = social_worker_create(
            actor=None,
            name=f"社工{next(serial)}",
            national_id=national_id(next(serial)),
            division=facility.division,
        )
        return posting_create(
            actor=None,
            worker=worker,
            facility=facility,
            employment=employment,
            started_on=start,
            ended_on=ended_on,
        )

    post(f["centre_a"])
    post(f["centre_a"])
    post(f["station_1"])
    post(f["station_2"])
    post(f["station_3"])
    post(f["station_3"], employment="part_time")
    post(f["room_east"])
    post(f["room_east"], ended_on=date(2019, 5, 1))
    for facility in f.values():
        facility.refresh_from_db()
    return f

"""Monthly service totals (casework migration 0003): the database keeps them equal to the
sums over the service records whoever writes — insert, change, delete, a division moved to
another county — and the statistics read the same cells from them as from the records,
whole months from the totals and the days of a partly covered month from the records."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shegong.casework.models import ServiceMonthTotal, ServiceRecord
from shegong.casework.selectors.stats import (
    f28_poverty_person_times,
    month_totals_differences,
    person_times,
    total_person_times,
    whole_months,
)
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.geo.services import division_change_code
from shegong.network.services import facility_create
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _room(code: str):
    return facility_create(
        actor=None,
        tier="room",
        division=Division.objects.get(code=code),
        name=f"社工室{code}",
        status="operating",
        status_from=date(2020, 1, 1),
    )


@pytest.fixture
def rooms():
    """Rooms in 桥北社区 and the next community (江北区, 500105) and in a community of
    沙坪坝区 (500106), another county."""
    other = Division.objects.filter(code__startswith="500106", level="community").first()
    return {
        "a": _room("500105001001"),
        "b": _room("500105001002"),
        "c": _room(other.code),
    }


def record(room, day, *, group="dibao", domain="social_assistance", method="visit", n=1, **kw):
    """A service record written straight to the table (as a bulk load or raw SQL would)."""
    return ServiceRecord.objects.create(
        facility=room,
        division_id=room.division_id,
        served_on=day,
        domain=domain,
        method=method,
        target_group=group,
        headcount=n,
        person_times=n,
        **kw,
    )


def sums_over_records() -> dict:
    """What the totals must be, computed here from the records one by one."""
    sums: dict = defaultdict(lambda: [0, 0, 0])
    for r in ServiceRecord.objects.select_related("division"):
        key = (r.division.code[:6], r.served_on.replace(day=1), r.target_group, r.domain, r.method)
        sums[key][0] += 1
        sums[key][1] += r.person_times
        sums[key][2] += r.person_times if r.poverty_alleviation else 0
    return {k: tuple(v) for k, v in sums.items()}


def stored_totals() -> dict:
    return {
        (t.county_code, t.month, t.target_group, t.domain, t.method): (
            t.records,
            t.person_times,
            t.poverty_person_times,
        )
        for t in ServiceMonthTotal.objects.filter(records__gt=0)
    }


def test_totals_follow_every_insert_change_and_delete(rooms):
    # given records in two counties and two months, one of them for poverty alleviation
    first = record(rooms["a"], date(2024, 3, 5), n=4)
    record(rooms["a"], date(2024, 3, 28), n=2, poverty_alleviation=True)
    record(rooms["b"], date(2024, 3, 9), n=7)
    record(rooms["c"], date(2024, 4, 1), group="disability", method="phone")
    # then the totals hold their sums
    assert stored_totals() == sums_over_records()
    assert stored_totals()[("500105", date(2024, 3, 1), "dibao", "social_assistance", "visit")] == (
        3,
        13,
        2,
    )
    # when a record changes month and group through the ORM, and another by a bulk update
    first.served_on, first.target_group = date(2024, 5, 2), "near_dibao"
    first.save()
    ServiceRecord.objects.filter(division=rooms["b"].division).update(
        domain="emotional_support", person_times=8, headcount=8
    )
    # then the totals moved with them
    assert stored_totals() == sums_over_records()
    # when a record is deleted
    ServiceRecord.objects.filter(pk=first.pk).delete()
    # then it is taken away, and the emptied row counts no records
    assert stored_totals() == sums_over_records()
    assert month_totals_differences() == []
    assert ServiceMonthTotal.objects.filter(month=date(2024, 5, 1)).get().records == 0


def test_a_town_moved_to_another_county_takes_its_totals_along(rooms):
    # given records in 华新街 (500105001) and elsewhere in the county
    record(rooms["a"], date(2024, 3, 5), n=4)
    record(rooms["b"], date(2024, 3, 9), n=7)
    record(rooms["c"], date(2024, 3, 9), n=1)
    assert (
        stored_totals()[("500105", date(2024, 3, 1), "dibao", "social_assistance", "visit")][1]
        == 11
    )
    # when the town is recoded under 沙坪坝区 (its communities with it)
    division_change_code(
        actor=None,
        division=Division.objects.get(code="500105001"),
        new_code="500106991",
        effective_on=date(2024, 6, 1),
    )
    # then its records count under the new county
    assert stored_totals() == sums_over_records()
    key = (date(2024, 3, 1), "dibao", "social_assistance", "visit")
    assert stored_totals().get(("500105", *key)) is None
    assert stored_totals()[("500106", *key)] == (3, 12, 0)


def test_a_recoded_county_keeps_its_totals_under_the_new_code(rooms):
    record(rooms["a"], date(2024, 3, 5), n=4)
    division_change_code(
        actor=None,
        division=Division.objects.get(code="500105"),
        new_code="500199",
        effective_on=date(2024, 6, 1),
    )
    assert stored_totals() == sums_over_records()
    assert {key[0] for key in stored_totals()} == {"500199"}


def test_whole_months_and_the_parts_at_either_end():
    assert whole_months(None, None) == (None, None, [])
    assert whole_months(date(2024, 3, 1), date(2024, 5, 31)) == (
        date(2024, 3, 1),
        date(2024, 5, 1),
        [],
    )
    assert whole_months(date(2024, 3, 10), date(2024, 5, 19)) == (
        date(2024, 4, 1),
        date(2024, 4, 1),
        [(date(2024, 3, 10), date(2024, 3, 31)), (date(2024, 5, 1), date(2024, 5, 19))],
    )
    assert whole_months(date(2024, 12, 2), None) == (
        date(2025, 1, 1),
        None,
        [(date(2024, 12, 2), date(2024, 12, 31))],
    )
    assert whole_months(date(2023, 2, 1), date(2023, 2, 28)) == (
        date(2023, 2, 1),
        date(2023, 2, 1),
        [],
    )
    # no whole month inside: all of it is read from the records
    assert whole_months(date(2024, 3, 5), date(2024, 4, 10)) is None
    assert whole_months(date(2024, 2, 1), date(2024, 2, 28)) is None  # 29 days that year


@pytest.fixture
def spread(rooms):
    """Records on the edges of months in three months, two groups, two methods."""
    days = [
        date(2024, 3, 1),
        date(2024, 3, 9),
        date(2024, 3, 31),
        date(2024, 4, 1),
        date(2024, 4, 15),
        date(2024, 5, 19),
        date(2024, 5, 20),
        date(2024, 5, 31),
    ]
    for i, day in enumerate(days):
        record(
            rooms["a" if i % 3 else "b"],
            day,
            n=i + 1,
            group="dibao" if i % 2 else "left_behind_elder",
            method="visit" if i % 4 else "phone",
            poverty_alleviation=i % 2 == 0,
        )
    record(rooms["c"], date(2024, 4, 2), n=50)
    return days


def _expected(start, end, county="500105", by=("month", "target_group", "method")):
    cells: dict = defaultdict(int)
    for r in ServiceRecord.objects.filter(
        division__code__startswith=county, served_on__gte=start, served_on__lte=end
    ):
        values = {
            "month": r.served_on.replace(day=1),
            "target_group": r.target_group,
            "method": r.method,
        }
        cells[tuple(values[k] for k in by)] += r.person_times
    return dict(cells)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 1, 1), date(2024, 12, 31)),  # whole months only
        (date(2024, 3, 10), date(2024, 5, 19)),  # a part of March and of May
        (date(2024, 3, 31), date(2024, 4, 30)),  # one day of March, all of April
        (date(2024, 4, 1), date(2024, 4, 14)),  # no whole month
    ],
)
def test_the_county_reads_the_same_cells_as_the_records_give(spread, start, end):
    # given the county staff
    county = make_user(Role.COUNTY_STAFF, "500105", username="county-staff")
    by = ("month", "target_group", "method")
    # when they ask for person-times in the period
    with CaptureQueriesContext(connection) as queries:
        rows = person_times(county, start=start, end=end, by=by)
    # then the cells are the records' sums, read from the totals and the partial months
    assert {tuple(r[k] for k in by): r["person_times"] for r in rows} == _expected(start, end)
    # in one statement (one moment): the totals' whole months and the records' days joined
    assert len(queries) == 1
    sql = queries[0]["sql"]
    whole = whole_months(start, end)
    assert (ServiceMonthTotal._meta.db_table in sql) == (whole is not None)
    assert ("UNION ALL" in sql) == bool(whole and whole[2])
    # and the total and F28 agree with them
    assert total_person_times(county, start=start, end=end)["person_times"] == sum(
        _expected(start, end).values()
    )
    city = make_user(Role.CITY_ADMIN, "50", username="city-admin")
    poverty = sum(
        r.person_times
        for r in ServiceRecord.objects.filter(
            poverty_alleviation=True, served_on__gte=start, served_on__lte=end
        )
    )
    assert f28_poverty_person_times(city, start, end) == poverty


def test_a_town_or_a_breakdown_by_town_is_read_from_the_records(spread):
    # given the station of 华新街 and the city
    station = make_user(Role.STATION_STAFF, "500105001", username="station-staff")
    city = make_user(Role.CITY_ADMIN, "50", username="city-admin")
    # when each asks (the town's area; the whole city by town)
    with CaptureQueriesContext(connection) as queries:
        mine = person_times(station, by=("month",))
        towns = person_times(city, by=("town",))
    # then the records answer, with the same sums
    assert not any(ServiceMonthTotal._meta.db_table in q["sql"] for q in queries)
    assert sum(r["person_times"] for r in mine) == sum(range(1, 9))
    assert {r["town"]: r["person_times"] for r in towns}["500105001"] == sum(range(1, 9))


def test_the_check_finds_and_the_rebuild_mends_a_wrong_total(spread, capsys):
    # given a total changed behind the triggers' back
    ServiceMonthTotal.objects.filter(month=date(2024, 4, 1)).update(person_times=999)
    # when the check runs, then it names the row
    with pytest.raises(CommandError, match="differ from the records"):
        call_command("casework_month_totals")
    assert "stored (" in capsys.readouterr().err
    # when the totals are rebuilt, then they match the records again
    call_command("casework_month_totals", "--rebuild")
    assert stored_totals() == sums_over_records()
    call_command("casework_month_totals")
    assert "match the service records" in capsys.readouterr().out

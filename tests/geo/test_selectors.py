"""Reads for the division browser: children through groupings, counts, search, scope."""

import pytest

from shegong.geo.models import Division
from shegong.geo.selectors import (
    division_child_counts,
    division_children,
    division_counts,
    division_list,
    division_search,
)

pytestmark = pytest.mark.django_db


def test_city_children_look_through_the_statistical_groupings(users):
    city = users["city_admin"]
    children = division_children(user=city, division=Division.objects.get(code="50"))
    assert children.count() == 38
    assert {d.level for d in children} == {"county"}


def test_counts_below_a_county_by_kind():
    counts = division_counts(division=Division.objects.get(code="500105"))
    # 江北区: 9 subdistricts, 3 towns; 132 communities of which 119 urban and 13 rural
    assert (counts["towns"], counts["subdistrict"], counts["towns_and_townships"]) == (12, 9, 3)
    assert (counts["communities"], counts["urban"], counts["rural"]) == (132, 119, 13)


def test_child_counts_in_one_pass():
    towns = list(Division.objects.filter(code__startswith="500105", level="town"))
    counts = division_child_counts(divisions=towns)
    assert sum(c["communities"] for c in counts.values()) == 132
    assert (
        counts[towns[0].pk]["communities"]
        == Division.objects.filter(code__startswith=towns[0].code, level="community").count()
    )


def test_lists_and_search_stay_inside_the_users_scope(users):
    room = users["room_worker"]
    assert list(division_list(user=room).values_list("code", flat=True)) == ["500105001001"]
    assert [d.code for d in division_search(user=room, query="社区")] == ["500105001001"]
    county = users["county_staff"]
    found = division_search(user=county, query="华新")
    assert found and all(d.code.startswith("500105") for d in found)
    assert list(division_search(user=county, query="杨家坪")) == []  # 九龙坡区, next door


def test_filters(users):
    city = users["city_admin"]
    assert division_list(user=city, level="town", kind="subdistrict").count() == 245
    assert division_list(user=city, parent="500105").count() == 12
    assert division_list(user=city, code="500105001").count() == 1 + 14
    assert division_list(user=city, name="江北").filter(level="county").count() == 1

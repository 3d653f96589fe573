"""The record form's resident picker: look-up keys kept by the model, the search by name,
pinyin initials and the ID's last four, scoped, bounded, POST only and logged."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from shegong.casework.models import Resident, lookup_keys
from shegong.casework.selectors.residents import PICK_LIMIT, residents_picked
from shegong.casework.services.residents import resident_update
from shegong.core.models import AuditEvent
from tests.casework import test_records as base
from tests.casework.world import make_resident, resident_id

pytestmark = pytest.mark.django_db

place = base.place


def pick(client, q: str) -> list[dict]:
    response = client.post(reverse("casework:resident_pick"), {"q": q})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return response.json()["results"]


def test_lookup_keys_are_pinyin_initials_and_the_last_four():
    assert lookup_keys("吴静", resident_id(123)) == ("wujing", "wj", resident_id(123)[-4:])
    assert lookup_keys("张大爷", "") == ("zhangdaye", "zdy", "")


def test_the_keys_follow_the_name_when_the_service_changes_it(place):
    # given a resident renamed through the service
    resident = place["resident"]
    assert resident.name_initials == "zdy"
    resident_update(actor=place["worker"], resident=resident, version=resident.version, name="吴静")
    # then the look-up keys are those of the new name
    resident.refresh_from_db()
    assert (resident.name_pinyin, resident.name_initials) == ("wujing", "wj")


def test_namesakes_are_found_by_initials_and_told_apart(client, place):
    # given two residents called 吴静 in the room's community, one a child
    older = make_resident("吴静", "500105001001", 801, born=date(1975, 3, 1))
    younger = make_resident("吴静", "500105001001", 802, born=date(2013, 3, 1))
    client.force_login(place["worker"])
    # when the room worker types the initials
    found = pick(client, "wj")
    # then both come back, each with age and masked ID, never the full ID
    assert {r["id"] for r in found} == {older.pk, younger.pk}
    metas = {r["id"]: r["meta"] for r in found}
    assert metas[older.pk] != metas[younger.pk]
    assert resident_id(801, date(1975, 3, 1))[-4:] in metas[older.pk]
    assert resident_id(801, date(1975, 3, 1)) not in str(found)


def test_found_by_the_last_four_of_the_id_by_pinyin_and_by_name(client, place):
    client.force_login(place["worker"])
    number = resident_id(901)
    assert [r["id"] for r in pick(client, number[-4:])] == [place["resident"].pk]
    assert [r["id"] for r in pick(client, "zhangd")] == [place["resident"].pk]
    assert [r["id"] for r in pick(client, "张大")] == [place["resident"].pk]


def test_the_picker_is_scoped_bounded_and_logged(client, place):
    # given many residents in the room's community and one in the next community
    for i in range(PICK_LIMIT + 5):
        make_resident("吴某", "500105001001", 300 + i)
    client.force_login(place["worker"])
    before = AuditEvent.objects.filter(action="resident.search").count()
    # when the room worker searches
    found = pick(client, "wm")
    # then at most PICK_LIMIT come back, and the search is logged once without the query
    assert len(found) == PICK_LIMIT
    assert AuditEvent.objects.filter(action="resident.search").count() == before + 1
    row = AuditEvent.objects.filter(action="resident.search").latest("seq")
    assert row.after == {"by": "picker", "found": PICK_LIMIT}
    # and a resident of the next community (王阿姨, wzy) is not found
    assert pick(client, "way") == []
    assert residents_picked(place["worker"], "way") == []


def test_the_picker_takes_no_query_in_a_url(client, place):
    client.force_login(place["worker"])
    assert client.get(reverse("casework:resident_pick"), {"q": "zdy"}).status_code == 405


def test_anonymised_residents_are_not_offered(client, place):
    Resident.objects.filter(pk=place["resident"].pk).update(anonymised_at="2020-01-01T00:00Z")
    client.force_login(place["worker"])
    assert pick(client, "zdy") == []

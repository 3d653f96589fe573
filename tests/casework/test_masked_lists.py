"""No full national ID or phone number in any casework list page or list API answer, for
any role (issue #13; security.md 7): lists mask them for every role, the full value is
only on one resident's page, on request."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.casework import test_records as base
from tests.conftest import ROLE_DIVISIONS, make_user

pytestmark = pytest.mark.django_db

place = base.place
visit = base.visit

FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
FULL_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")

LIST_PAGES = [
    "casework:home",
    "casework:residents",
    "casework:records",
    "casework:cases",
    "casework:referrals",
    "casework:groups",
    "casework:activities",
]
LIST_API = [
    "api:list_residents",
    "api:list_service_records",
    "api:list_cases",
    "api:list_referrals",
    "api:list_groups",
    "api:list_activities",
]


def full_values(text: str) -> list[str]:
    return FULL_ID.findall(text) + FULL_PHONE.findall(text)


@pytest.mark.parametrize("role", list(ROLE_DIVISIONS))
def test_no_list_shows_a_full_id_or_phone(client, place, role):
    # given a service to 张大爷 (ID and phone on record)
    visit(place)
    client.force_login(make_user(role, ROLE_DIVISIONS[role][0], username=f"masked-{role}"))
    # when the role opens every casework list and list endpoint it may open
    for name in LIST_PAGES + LIST_API:
        response = client.get(reverse(name))
        if response.status_code != 200:
            continue
        # then none shows a full ID or phone
        assert full_values(response.content.decode()) == [], (role, name)
    for q in ("zdy", "张大爷"):
        response = client.post(reverse("casework:resident_pick"), {"q": q})
        if response.status_code == 200:
            assert full_values(response.content.decode()) == [], (role, "picker")
    response = client.post(
        reverse("api:search_residents"), {"name": "张大爷"}, content_type="application/json"
    )
    if response.status_code == 200:
        assert full_values(response.content.decode()) == [], (role, "api search")


def test_the_front_line_sees_the_full_id_only_on_request(client, place):
    client.force_login(place["worker"])
    url = reverse("casework:resident", kwargs={"pk": place["resident"].pk})
    assert full_values(client.get(url).content.decode()) == []
    shown = client.get(url, {"show": "identity"}).content.decode()
    assert "13800001234" in shown and FULL_ID.search(shown)

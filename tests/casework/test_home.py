"""The front-line worker's home: today's follow-ups, review reminders, overdue referrals on
both sides, recent residents; the page, the core home panel and ``/me/worklist``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from shegong.casework.models import Case, CaseStage, Referral, SpecialStatus
from shegong.casework.selectors.home import worker_home
from tests.casework import test_records as base

pytestmark = pytest.mark.django_db

# the shared world and helpers of tests/casework/test_records.py
_english = base._english
place = base.place
residents = base.residents
visit = base.visit

TODAY = date.today()


def _case(place, number, stage, review, assigned=None):
    return Case.objects.create(
        number=number,
        resident=place["resident"],
        facility=place["room"],
        stage=stage,
        referral_source="self",
        assigned_to=assigned or place["worker"],
        supervisor=place["station_staff"],
        opened_on=TODAY - timedelta(days=60),
        next_review_on=review,
    )


@pytest.fixture
def worklist(place):
    """Cases due, due soon, closed and someone else's; a status due for review; referrals
    overdue sent from the room, received by it, and one not yet due; eleven residents
    served by the worker."""
    _case(place, "C-DUE", CaseStage.INTERVENTION, TODAY - timedelta(days=1))
    _case(place, "C-SOON", CaseStage.PLAN, TODAY + timedelta(days=5))
    _case(place, "C-CLOSED", CaseStage.CLOSED, TODAY - timedelta(days=3))
    _case(place, "C-OTHER", CaseStage.INTERVENTION, TODAY, assigned=place["station_staff"])
    SpecialStatus.objects.create(
        resident=place["second"],
        group="dibao",
        started_on=date(2020, 1, 1),
        review_on=TODAY + timedelta(days=3),
    )
    common = {"reason": "需要心理支持", "sent_on": TODAY - timedelta(days=20)}
    Referral.objects.create(
        resident=place["resident"],
        from_facility=place["room"],
        to_facility=place["station"],
        due_on=TODAY - timedelta(days=2),
        **common,
    )
    Referral.objects.create(
        resident=place["neighbour"],
        from_facility=place["next_room"],
        to_facility=place["room"],
        due_on=TODAY - timedelta(days=1),
        **common,
    )
    Referral.objects.create(
        resident=place["resident"],
        from_facility=place["room"],
        to_agency="区残联",
        due_on=TODAY + timedelta(days=3),
        **common,
    )
    people = residents(11)
    for i, person in enumerate(people):
        visit(place, residents=[person], served_on=TODAY - timedelta(days=11 - i))
    visit(place, residents=[people[0]], served_on=TODAY)  # the first one again, latest
    return people


def test_the_workers_home_lists(place, worklist):
    # given the room worker's cases, statuses, referrals and services
    # when their home is read
    home = worker_home(place["worker"])
    # then follow-ups are their open cases due for review
    assert [c["number"] for c in home["follow_ups"]] == ["C-DUE"]
    # and reminders hold the case due soon and the status due for review
    kinds = {(r["kind"], r.get("number") or r.get("group")) for r in home["review_reminders"]}
    assert kinds == {("case", "C-SOON"), ("status", "dibao")}
    # and both overdue referrals show, sent and received, but not the one not yet due
    directions = sorted(r["direction"] for r in home["overdue_referrals"])
    assert directions == ["received", "sent"]
    # and the recent residents are the last 10 distinct, newest first
    recent = [r["id"] for r in home["recent_residents"]]
    assert len(recent) == 10
    assert recent[0] == worklist[0].pk
    assert recent[1:] == [p.pk for p in reversed(worklist[2:])]


def test_the_supervisors_home(place, worklist):
    # the station staff supervise the cases: none is assigned to them except C-OTHER
    home = worker_home(place["station_staff"])
    assert [c["number"] for c in home["follow_ups"]] == ["C-OTHER"]
    assert {r.get("number") for r in home["review_reminders"] if r["kind"] == "case"} == {
        "C-DUE",
        "C-SOON",
    }
    assert home["recent_residents"] == []


def test_the_home_page_and_the_core_panel(client, place, worklist):
    client.force_login(place["worker"])
    # when the room worker opens the casework home
    response = client.get(reverse("casework:home"))
    html = response.content.decode()
    # then it lists the follow-up, the reminders, the referrals and recent residents
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "C-DUE" in html and "C-SOON" in html
    assert html.count('data-direction="') == 2
    assert 'data-testid="record-visit"' in html
    assert html.count("<li data-resident=") == 10
    # and the platform's home page links to it
    response = client.get(reverse("core:home"))
    assert 'data-testid="casework-panel"' in response.content.decode()


def test_the_analyst_has_no_casework_home(client, place):
    client.force_login(place["analyst"])
    assert client.get(reverse("casework:home")).status_code == 403
    assert 'data-testid="casework-panel"' not in client.get(reverse("core:home")).content.decode()


def test_the_worklist_api(client, place, worklist):
    client.force_login(place["worker"])
    response = client.get(reverse("api:get_worklist"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert [c["number"] for c in data["follow_ups"]] == ["C-DUE"]
    assert len(data["recent_residents"]) == 10

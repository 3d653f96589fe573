"""Referrals: consent required, due dates, only the receiving side answers, outcomes,
overdue referrals on both sides, the inbox pages and the API."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from shegong.casework.models import Consent, Referral, ReferralStatus
from shegong.casework.selectors.referrals import overdue_referrals, referral_inbox
from shegong.casework.services import referrals as svc
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from tests.casework.test_cases_services import _facility, build_casework_world
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    world = build_casework_world()
    Consent.objects.create(
        resident=world["adult"], purpose="referral", given_on=date(2020, 1, 1), given_by_name="本人"
    )
    return world


def send(w, **kwargs):
    today = timezone.localdate()
    values = {
        "actor": w["worker"],
        "resident": w["adult"],
        "from_facility": w["room"],
        "to_facility": w["station"],
        "reason": "需要专业心理支持",
        "consent_checked": True,
        "due_on": today + timedelta(days=7),
    }
    values.update(kwargs)
    return svc.referral_send(**values)


def _api(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


# --- sending ----------------------------------------------------------------------------------


def test_a_referral_needs_the_residents_consent(w):
    # the box not ticked: refused
    with pytest.raises(ValidationError) as exc:
        send(w, consent_checked=False)
    assert "consent_checked" in exc.value.message_dict
    # ticked, but no referral consent on record (the child has none): refused
    with pytest.raises(ValidationError) as exc:
        send(w, resident=w["child"])
    assert "没有转介同意记录" in exc.value.message_dict["consent_checked"][0]
    # a withdrawn consent does not count
    Consent.objects.filter(resident=w["adult"]).update(withdrawn_on=date(2021, 1, 1))
    with pytest.raises(ValidationError):
        send(w)
    assert not Referral.objects.exists()
    # with consent: sent, pending, audited without the person's name
    Consent.objects.create(
        resident=w["adult"], purpose="referral", given_on=date(2022, 1, 1), given_by_name="本人"
    )
    referral = send(w)
    assert referral.status == ReferralStatus.PENDING
    event = AuditEvent.objects.get(action="referral.send")
    assert event.after["resident_id"] == w["adult"].pk
    assert "张大爷" not in str(event.after) + event.object_repr


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"due_on": "yesterday"}, "due_on"),
        ({"due_on": None}, "due_on"),
        ({"to_facility": None}, "to_facility"),
        ({"to_agency": "区妇联"}, "to_agency"),  # both a facility and an agency
        ({"to_facility": "self"}, "to_facility"),
        ({"reason": " "}, "reason"),
        ({"sent_on": "tomorrow"}, "sent_on"),
    ],
)
def test_bad_referrals_are_refused_and_nothing_written(w, kwargs, field):
    today = timezone.localdate()
    values = dict(kwargs)
    if values.get("due_on") == "yesterday":
        values["due_on"] = today - timedelta(days=1)
    if values.get("to_facility") == "self":
        values["to_facility"] = w["room"]
    if values.get("sent_on") == "tomorrow":
        values["sent_on"] = today + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        send(w, **values)
    assert field in exc.value.message_dict
    assert not Referral.objects.exists()


def test_referrals_go_anywhere_in_the_city_or_to_an_agency(w):
    # a station of another county, outside the sender's scope, can receive
    elsewhere = _facility("station", "500107001", "九龙坡某街道社工站")
    assert send(w, to_facility=elsewhere).to_facility == elsewhere
    # an outside agency named in words
    assert send(w, to_facility=None, to_agency="区残联").to_agency == "区残联"
    # but not from a facility outside the sender's scope, nor for a resident outside it
    with pytest.raises(Http404):
        send(w, from_facility=w["station"])
    with pytest.raises(Http404):
        send(w, resident=w["neighbour"])


# --- answering and completing -----------------------------------------------------------------


def test_only_the_receiving_side_answers(w):
    referral = send(w)
    # the sender cannot answer their own referral
    with pytest.raises(PermissionDenied):
        svc.referral_answer(actor=w["worker"], referral=referral, accept=True)
    # the receiving station must say why it declines
    with pytest.raises(ValidationError) as exc:
        svc.referral_answer(actor=w["supervisor"], referral=referral, accept=False)
    assert "note" in exc.value.message_dict
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.PENDING
    referral = svc.referral_answer(actor=w["supervisor"], referral=referral, accept=True)
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.answered_on == timezone.localdate()
    # answered once only
    with pytest.raises(ValidationError):
        svc.referral_answer(actor=w["county"], referral=referral, accept=False, note="x")


def test_a_sender_who_also_covers_the_receiver_cannot_answer_their_own(w):
    # the station sends to a room in its own area
    referral = send(w, actor=w["supervisor"], from_facility=w["station"], to_facility=w["room"])
    with pytest.raises(PermissionDenied):
        svc.referral_answer(actor=w["supervisor"], referral=referral, accept=True)
    # the room answers
    assert svc.referral_answer(actor=w["worker"], referral=referral, accept=True).status == (
        ReferralStatus.ACCEPTED
    )


def test_the_outcome_of_an_accepted_referral(w):
    referral = send(w)
    with pytest.raises(ValidationError):
        svc.referral_complete(actor=w["supervisor"], referral=referral, outcome="太早")
    svc.referral_answer(actor=w["supervisor"], referral=referral, accept=True)
    with pytest.raises(ValidationError):
        svc.referral_complete(actor=w["worker"], referral=referral, outcome=" ")
    referral = svc.referral_complete(actor=w["worker"], referral=referral, outcome="已获得支持")
    assert referral.status == ReferralStatus.COMPLETED
    assert AuditEvent.objects.filter(action="referral.complete").count() == 1


# --- overdue and the inbox --------------------------------------------------------------------


def test_both_sides_see_an_overdue_referral(w):
    today = timezone.localdate()
    # a referral sent three weeks ago, due a week ago, to a station of another county
    elsewhere = _facility("station", "500107001", "九龙坡某街道社工站")
    receiver = make_user(Role.STATION_STAFF, "500107001", username="h2-receiver")
    late = send(
        w,
        to_facility=elsewhere,
        sent_on=today - timedelta(days=21),
        due_on=today - timedelta(days=7),
    )
    on_time = send(w, to_facility=elsewhere)
    # then both the sending room and the receiving station see it overdue
    assert list(overdue_referrals(w["worker"], today)) == [late]
    assert list(overdue_referrals(receiver, today)) == [late]
    assert list(overdue_referrals(w["county"], today)) == [late]  # the sender's county
    # in their inboxes: sent for one, received for the other
    assert set(referral_inbox(w["worker"], box="sent")) == {late, on_time}
    assert list(referral_inbox(w["worker"], box="received")) == []
    assert set(referral_inbox(receiver, box="received", overdue=True)) == {late}
    # someone of neither side sees nothing
    stranger = make_user(Role.ROOM_WORKER, "500105001002", username="h2-stranger")
    assert list(overdue_referrals(stranger, today)) == []
    # once answered it is no longer overdue
    svc.referral_answer(actor=receiver, referral=late, accept=True)
    assert list(overdue_referrals(w["worker"], today)) == []


def test_the_inbox_page_highlights_overdue_and_is_not_cached(client, w):
    today = timezone.localdate()
    late = send(w, sent_on=today - timedelta(days=10), due_on=today - timedelta(days=1))
    client.force_login(w["supervisor"])
    response = client.get(reverse("casework:referrals"), {"box": "received"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert f'data-referral="{late.pk}" data-overdue="true"' in body
    assert 'data-testid="overdue-count"' in body
    client.force_login(w["worker"])
    body = client.get(reverse("casework:referrals"), {"box": "sent"}).content.decode()
    assert f'data-referral="{late.pk}" data-overdue="true"' in body
    client.force_login(w["analyst"])
    assert client.get(reverse("casework:referrals")).status_code == 403


def test_sending_through_the_page_keeps_the_input_and_needs_consent(client, w):
    client.force_login(w["worker"])
    url = reverse("casework:referral_new") + f"?resident={w['child'].pk}"
    response = client.get(url)
    assert response.status_code == 200
    assert 'data-testid="no-consent"' in response.content.decode()
    data = {
        "from_facility": w["room"].pk,
        "to_facility": w["station"].pk,
        "reason": "学业困难需要辅导",
        "due_on": (timezone.localdate() + timedelta(days=5)).isoformat(),
        "consent_checked": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "学业困难需要辅导" in response.content.decode()
    assert not Referral.objects.exists()
    url = reverse("casework:referral_new") + f"?resident={w['adult'].pk}"
    response = client.post(url, data)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.sent_by == w["worker"]


def test_the_referral_page_answer_and_access_log(client, w):
    referral = send(w)
    url = reverse("casework:referral", kwargs={"pk": referral.pk})
    # the sender sees it but has no answer form; the page is logged and not cached
    client.force_login(w["worker"])
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert 'data-testid="answer-form"' not in response.content.decode()
    assert AuditEvent.objects.filter(action="resident.referral_view").count() == 1
    answer = reverse("casework:referral_answer", kwargs={"pk": referral.pk})
    assert client.post(answer, {"decision": "accept"}).status_code == 403
    # the receiving station answers
    client.force_login(w["supervisor"])
    assert 'data-testid="answer-form"' in client.get(url).content.decode()
    response = client.post(answer, {"decision": "decline", "note": ""})
    assert response.status_code == 400
    assert client.post(answer, {"decision": "accept", "note": "本周内联系"}).status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.ACCEPTED
    # the room next door does not find it
    client.force_login(w["neighbour_worker"])
    assert client.get(url).status_code == 404


def test_the_referral_api(client, w):
    client.force_login(w["worker"])
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    body = {
        "resident_id": w["adult"].pk,
        "from_facility_id": w["room"].pk,
        "to_facility_id": w["station"].pk,
        "reason": "需要法律援助",
        "consent_checked": False,
        "due_on": due,
    }
    response = _api(client, "/api/v1/referrals", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["consent_checked"]
    response = _api(client, "/api/v1/referrals", {**body, "consent_checked": True})
    assert response.status_code == 201
    referral_id = response.json()["id"]
    assert response["Cache-Control"] == "no-store"
    sent = client.get("/api/v1/referrals", {"box": "sent"}).json()
    assert [r["id"] for r in sent["results"]] == [referral_id]
    assert (
        _api(client, f"/api/v1/referrals/{referral_id}/answer", {"accept": True}).status_code == 403
    )
    client.force_login(w["supervisor"])
    received = client.get("/api/v1/referrals", {"box": "received", "status": "pending"}).json()
    assert [r["id"] for r in received["results"]] == [referral_id]
    response = _api(client, f"/api/v1/referrals/{referral_id}/answer", {"accept": True})
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    response = _api(client, f"/api/v1/referrals/{referral_id}/complete", {"outcome": "已结案"})
    assert response.json()["status"] == "completed"
    client.force_login(w["analyst"])
    assert client.get("/api/v1/referrals").status_code == 403

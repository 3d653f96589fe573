"""Privacy of residents (security.md 7, 8, 14, 15, 16): which fields each role sees in
clear on the page, in the API and in an export; break the glass (refused without a reason,
logged with one, expiring by itself); the raw database rows hold no clear ID or phone; an
API detail writes one access-log row; nothing logged holds an 18-digit ID."""

import io
import logging
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from openpyxl import load_workbook

from shegong.casework.models import AccessGrant, Resident
from shegong.casework.services.residents import resident_create
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division
from tests.casework.world import base_world, resident_id
from tests.conftest import ROLE_DIVISIONS, make_user

pytestmark = pytest.mark.django_db

PHONE = "13800001234"
CLEAR_ID = resident_id(901)
MASKED_ID = CLEAR_ID[:3] + "*" * 11 + CLEAR_ID[-4:]
MASKED_PHONE = "138****1234"
# What each role sees of 张大爷 (resident_in): the front line in clear, the others masked.
EXPECTED = {
    Role.ROOM_WORKER: "clear",
    Role.STATION_STAFF: "clear",
    Role.COUNTY_STAFF: "masked",
    Role.CITY_ADMIN: "masked",
}
# Who may export personal data at all (the room worker and the city admin may not).
EXPORTERS = {Role.STATION_STAFF: "clear", Role.COUNTY_STAFF: "masked"}


@pytest.fixture
def world():
    return base_world()


def login(client, role: str):
    user = make_user(role, ROLE_DIVISIONS[role][0], username=f"privacy-{role}")
    client.force_login(user)
    return user


def seen(text: str) -> str:
    """Which form of 张大爷's ID and phone ``text`` holds: clear, masked (or neither)."""
    if CLEAR_ID in text and PHONE in text:
        return "clear"
    if MASKED_ID in text and MASKED_PHONE in text and CLEAR_ID not in text and PHONE not in text:
        return "masked"
    return "neither"


# --- per-role field visibility ------------------------------------------------------------


@pytest.mark.parametrize("role", EXPECTED)
def test_page_shows_exactly_what_the_role_may_see(client, world, role):
    login(client, role)
    url = reverse("casework:resident", kwargs={"pk": world["resident_in"]})
    detail = client.get(url, {"show": "identity"})
    plain = client.get(url)
    listing = client.get(reverse("casework:residents"))
    # the full ID and phone only on the resident's page, on request, for the roles that may
    assert seen(detail.content.decode()) == EXPECTED[role]
    assert seen(plain.content.decode()) == "masked"
    assert ('data-testid="show-identity"' in plain.content.decode()) == (EXPECTED[role] == "clear")
    # the list masks them for every role
    assert seen(listing.content.decode()) == "masked"
    # notes and disability details go with the identity
    assert ('data-testid="notes"' in detail.content.decode()) == (EXPECTED[role] == "clear")


@pytest.mark.parametrize("role", [Role.ROOM_WORKER, Role.STATION_STAFF])
def test_showing_the_full_identity_is_logged(client, world, role):
    login(client, role)
    url = reverse("casework:resident", kwargs={"pk": world["resident_in"]})
    client.get(url, {"show": "identity"})
    row = AuditEvent.objects.filter(action="resident.view").latest("seq")
    assert row.after == {"identity": "shown"}
    assert CLEAR_ID not in str(row.after)


@pytest.mark.parametrize("role", EXPECTED)
def test_api_shows_exactly_what_the_role_may_see(client, world, role):
    login(client, role)
    detail = client.get(f"/api/v1/residents/{world['resident_in']}").json()
    listing = client.get("/api/v1/residents").json()
    row = next(r for r in listing["results"] if r["id"] == world["resident_in"])
    assert seen(f"{detail['national_id']} {detail['phone']}") == EXPECTED[role]
    assert detail["identity_masked"] == (EXPECTED[role] == "masked")
    # a list masks them for every role
    assert seen(f"{row['national_id']} {row['phone']}") == "masked"
    assert row["identity_masked"] is True
    assert (detail["notes"] is None) == (EXPECTED[role] == "masked")


@pytest.mark.parametrize("role", EXPECTED)
def test_export_shows_exactly_what_the_role_may_see(client, world, role):
    login(client, role)
    response = client.get(reverse("casework:residents_export"))
    if role not in EXPORTERS:
        assert response.status_code == 403
        return
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    row = next(r for r in rows[1:] if r[0] == world["resident_in"])
    assert seen(" ".join(str(v) for v in row)) == EXPORTERS[role]


def test_analyst_is_refused(client, world):
    login(client, Role.ANALYST)
    assert (
        client.get(reverse("casework:resident", kwargs={"pk": world["resident_in"]})).status_code
        == 403
    )
    response = client.get(f"/api/v1/residents/{world['resident_in']}")
    assert response.status_code == 403
    assert CLEAR_ID not in response.content.decode()


# --- access logging -------------------------------------------------------------------------


def test_an_api_detail_writes_exactly_one_access_row(client, world):
    login(client, Role.STATION_STAFF)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    response = client.get(f"/api/v1/residents/{world['resident_in']}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    rows = list(AuditEvent.objects.filter(seq__gt=last).values_list("action", "object_id"))
    assert rows == [("resident.view", str(world["resident_in"]))]


# --- break the glass ----------------------------------------------------------------------


def test_break_the_glass_on_the_page(client, world):
    # given station staff (not the community's room worker, no case) and a child of 10
    user = login(client, Role.STATION_STAFF)
    child = world["child_in"]
    page = reverse("casework:resident", kwargs={"pk": child})
    glass = reverse("casework:resident_break_glass", kwargs={"pk": child})
    # when they open the child's page, then they get the break-the-glass form, logged
    response = client.get(page)
    assert response.status_code == 403
    assert 'data-testid="break-glass-form"' in response.content.decode()
    assert "李小明" not in response.content.decode()
    assert AuditEvent.objects.filter(
        action="resident.view", object_id=str(child), outcome="denied"
    ).exists()
    # when they give no reason, then it is refused, logged, and no grant exists
    response = client.post(glass, {"reason": "", "minutes": "30"})
    assert response.status_code == 422
    assert AuditEvent.objects.filter(
        action="resident.break_glass", object_id=str(child), outcome="denied"
    ).exists()
    assert not AccessGrant.objects.filter(user=user).exists()
    # when they state a reason, then the grant is logged and the page opens
    response = client.post(glass, {"reason": "核实监护人联系方式", "minutes": "30"})
    assert response["Location"] == page
    event = AuditEvent.objects.get(
        action="resident.break_glass", object_id=str(child), outcome="allowed"
    )
    assert event.after["reason"] == "核实监护人联系方式"
    assert client.get(page).status_code == 200
    # and 31 minutes later (signed in afresh: the idle timeout is 30 minutes) it has closed
    with freeze_time(timezone.now() + timedelta(minutes=31)):
        client.force_login(user)
        assert client.get(page).status_code == 403


def test_break_the_glass_in_the_api(client, world):
    login(client, Role.COUNTY_STAFF)
    child = world["child_in"]
    # a protected record answers 403 "protected"
    response = client.get(f"/api/v1/residents/{child}")
    assert response.status_code == 403 and response.json()["code"] == "protected"
    # no reason: refused
    response = client.post(
        f"/api/v1/residents/{child}/break-glass", {"reason": " "}, content_type="application/json"
    )
    assert response.status_code == 422
    # a reason: opened for the time asked, then closed
    response = client.post(
        f"/api/v1/residents/{child}/break-glass",
        {"reason": "处理转介需要核实", "minutes": 10},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert client.get(f"/api/v1/residents/{child}").status_code == 200
    with freeze_time(timezone.now() + timedelta(minutes=11)):
        assert client.get(f"/api/v1/residents/{child}").status_code == 403


def test_the_room_worker_opens_children_of_their_community(client, world):
    login(client, Role.ROOM_WORKER)
    response = client.get(reverse("casework:resident", kwargs={"pk": world["child_in"]}))
    assert response.status_code == 200


# --- encryption at rest, logs ----------------------------------------------------------------


def test_raw_rows_hold_no_clear_id_or_phone(world):
    # given a resident registered through the service
    number = resident_id(970)
    resident = resident_create(
        actor=None,
        name="原始",
        national_id=number,
        community=Division.objects.get(code="500105001001"),
        phone="13912345678",
        notes="住院中",
    )
    # when the row is read with raw SQL
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM casework_resident WHERE id = %s", [resident.pk])
        raw = " ".join(str(v) for v in cursor.fetchone())
    # then no clear ID, phone or note is in it (but the model still reads them)
    assert number not in raw and "13912345678" not in raw and "住院中" not in raw
    assert not re.search(r"\d{17}[\dX]", raw.replace(resident.national_id_hash, ""))
    assert Resident.objects.get(pk=resident.pk).national_id == number


def test_logs_hold_no_national_id(client, world, caplog):
    # given everything logged while a worker searches, opens and exports
    caplog.set_level(logging.DEBUG)
    login(client, Role.STATION_STAFF)
    client.post(reverse("casework:residents"), {"q": CLEAR_ID})
    client.get(reverse("casework:resident", kwargs={"pk": world["resident_in"]}))
    client.get(reverse("casework:residents_export"))
    client.post(
        "/api/v1/residents/search", {"national_id": CLEAR_ID}, content_type="application/json"
    )
    # then no 18-digit ID is in the log records nor in the audit trail
    assert not re.search(r"\d{17}[\dX]", caplog.text)
    trail = " ".join(f"{e.object_repr} {e.before} {e.after}" for e in AuditEvent.objects.all())
    assert CLEAR_ID not in trail

"""The residents' pages: the list (search that never puts a name or ID in a URL, filters,
export), a resident's page (one access-log row per view, the next community's residents out
of reach), and the forms (input kept on error, nothing written, confirmation before a move,
a stale edit refused)."""

import io
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from shegong.casework import privacy
from shegong.casework.models import Residence, Resident, SpecialStatus
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from tests.casework.world import base_world, resident_id
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

COMMUNITY = "500105001001"
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _english_pages(client, settings):
    """Pages answer in English here (messages are asserted in their msgids)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def world():
    ids = base_world()
    SpecialStatus.objects.create(
        resident_id=ids["resident_in"], group="dibao", started_on=date(2020, 1, 1)
    )
    return ids


@pytest.fixture
def room(client):
    user = make_user(Role.ROOM_WORKER, COMMUNITY, username="room-pages")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def county(client):
    user = make_user(Role.COUNTY_STAFF, "500105", username="county-pages")
    client.force_login(user)
    client.user = user
    return client


def listed(response) -> list[int]:
    """The residents listed: the links of the list's name column."""
    return [
        int(x) for x in re.findall(r'href="/casework/residents/(\d+)/"', response.content.decode())
    ]


def log_rows(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- the list ---------------------------------------------------------------------------------


def test_room_worker_lists_only_their_community(room, world):
    # when the room worker opens the list
    response = room.get(reverse("casework:residents"))
    # then they see their community's residents only, and the page is not cached
    assert response.status_code == 200
    assert set(listed(response)) == {world["resident_in"], world["child_in"]}
    assert response["Cache-Control"] == "no-store"


def test_name_search_never_puts_the_name_in_a_url(room, world):
    before = log_rows("resident.search")
    # when the room worker searches a name
    response = room.post(reverse("casework:residents"), {"q": "张大"})
    # then they are sent to a URL holding a random key, not the name
    assert response.status_code == 302
    location = response["Location"]
    assert "s=" in location and "张" not in location and "%E5%BC%A0" not in location
    assert listed(room.get(location)) == [world["resident_in"]]
    # and one search row is logged, without the name searched
    assert log_rows("resident.search") == before + 1
    row = AuditEvent.objects.filter(action="resident.search").latest("seq")
    assert "张" not in str(row.after)


def test_id_search_is_answered_in_the_post_and_never_echoed(county, world):
    number = resident_id(901)
    before = log_rows("resident.search")
    # when the county user searches a national ID
    response = county.post(reverse("casework:residents"), {"q": number})
    html = response.content.decode()
    # then the answer comes in the POST's response, with the masked ID only
    assert response.status_code == 200
    assert listed(response) == [world["resident_in"]]
    assert number not in html
    assert "500***********" in html
    assert response["Cache-Control"] == "no-store"
    # and the search is logged once, without the ID
    assert log_rows("resident.search") == before + 1
    assert number not in str(
        AuditEvent.objects.filter(action="resident.search").latest("seq").after
    )


def test_id_search_of_the_next_community_finds_nobody_for_the_room_worker(room, world):
    response = room.post(reverse("casework:residents"), {"q": resident_id(903)})
    assert listed(response) == []
    assert 'data-testid="empty-state"' in response.content.decode()


def test_filters_by_group_and_age_band(room, world):
    url = reverse("casework:residents")
    assert listed(room.get(url, {"group": "dibao"})) == [world["resident_in"]]
    assert listed(room.get(url, {"age": "under_14"})) == [world["child_in"]]
    assert listed(room.get(url, {"age": "elder"})) == [world["resident_in"]]


def test_empty_state(room):
    response = room.get(reverse("casework:residents"))
    assert 'data-testid="empty-state"' in response.content.decode()


# --- a resident's page ------------------------------------------------------------------------


def test_a_detail_view_writes_exactly_one_access_row(room, world):
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    # when the room worker opens a resident's page
    response = room.get(reverse("casework:resident", kwargs={"pk": world["resident_in"]}))
    # then it shows, uncached, and exactly one row was written: the view
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    new = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq"))
    assert [(e.action, e.object_id, e.outcome) for e in new] == [
        ("resident.view", str(world["resident_in"]), "allowed")
    ]
    assert "张大爷" not in new[0].object_repr


def test_the_next_communitys_resident_is_not_found_by_guessing_its_id(room, world):
    # when the room worker guesses the id of a resident of the next community
    page = room.get(reverse("casework:resident", kwargs={"pk": world["neighbour_in"]}))
    api = room.get(f"/api/v1/residents/{world['neighbour_in']}")
    # then it does not exist for them
    assert page.status_code == 404
    assert api.status_code == 404
    for name in ("resident_edit", "resident_transfer", "resident_status_new"):
        assert (
            room.get(reverse(f"casework:{name}", kwargs={"pk": world["neighbour_in"]})).status_code
            == 404
        )


def test_analyst_is_refused_every_resident_page(client, world):
    client.force_login(make_user(Role.ANALYST, "50", username="analyst-pages"))
    pk = {"pk": world["resident_in"]}
    names = [
        ("residents", {}),
        ("residents_export", {}),
        ("resident_new", {}),
        ("resident", pk),
        ("resident_edit", pk),
        ("resident_transfer", pk),
        ("resident_status_new", pk),
        ("resident_consent_new", pk),
        ("household_member_add", pk),
        ("resident_guardian", pk),
        ("resident_break_glass", pk),
    ]
    for name, kwargs in names:
        assert client.get(reverse(f"casework:{name}", kwargs=kwargs)).status_code == 403, name
    assert client.get("/api/v1/residents").status_code == 403
    assert client.get(f"/api/v1/residents/{world['resident_in']}").status_code == 403


# --- forms ------------------------------------------------------------------------------------


def test_registering_with_an_invalid_id_keeps_the_form_and_writes_nothing(room, world):
    count = Resident.objects.count()
    bad = resident_id(960)[:17] + ("0" if resident_id(960)[17] != "0" else "1")
    # when the room worker registers with a wrong check digit
    response = room.post(
        reverse("casework:resident_new"),
        {"name": "新居民", "national_id": bad, "community": COMMUNITY, "phone": "13900002222"},
    )
    html = response.content.decode()
    # then the form comes back with the reason, the name and phone kept, the ID not echoed
    assert response.status_code == 422
    assert "check digit" in html
    assert 'value="新居民"' in html and 'value="13900002222"' in html
    assert bad not in html
    assert Resident.objects.count() == count


def test_registering_a_resident(room, world):
    response = room.post(
        reverse("casework:resident_new"),
        {"name": "新居民", "national_id": resident_id(961), "community": COMMUNITY},
    )
    resident = Resident.objects.get(name="新居民")
    assert response["Location"] == reverse("casework:resident", kwargs={"pk": resident.pk})


def test_registering_a_duplicate_names_the_community(county, world):
    response = county.post(
        reverse("casework:resident_new"),
        {"name": "重复", "national_id": resident_id(903), "community": COMMUNITY},
    )
    assert "already registered in" in response.content.decode()
    assert not Resident.objects.filter(name="重复").exists()


def test_transfer_asks_for_confirmation_then_moves_with_history(room, world):
    pk = world["resident_in"]
    url = reverse("casework:resident_transfer", kwargs={"pk": pk})
    data = {"to_community": "500105001002", "moved_on": TODAY.isoformat(), "reason": "搬家"}
    # when the room worker fills the form
    response = room.post(url, data)
    # then a confirmation is shown and nothing has moved
    assert 'data-testid="transfer-confirm"' in response.content.decode()
    assert 'data-testid="leaves-scope"' in response.content.decode()
    assert Resident.objects.get(pk=pk).community.code == COMMUNITY
    # when they confirm
    response = room.post(url, {**data, "confirmed": "True"})
    # then the resident moved (out of their list) with the history kept
    assert response["Location"] == reverse("casework:residents")
    assert Resident.objects.get(pk=pk).community.code == "500105001002"
    assert Residence.objects.filter(resident_id=pk).count() == 2


def test_status_with_a_certificate_not_matching_the_id_is_refused(room, world):
    pk = world["resident_in"]
    count = SpecialStatus.objects.count()
    response = room.post(
        reverse("casework:resident_status_new", kwargs={"pk": pk}),
        {
            "group": "disability",
            "started_on": "2021-01-01",
            "disability_category": "4",
            "disability_grade": "2",
            "certificate_number": resident_id(901) + "43",
            "evidence": "残疾证",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "category digit" in html and 'value="残疾证"' in html
    assert SpecialStatus.objects.count() == count


def test_status_ending_before_it_starts_is_refused(room, world):
    pk = world["resident_in"]
    count = SpecialStatus.objects.count()
    response = room.post(
        reverse("casework:resident_status_new", kwargs={"pk": pk}),
        {"group": "near_dibao", "started_on": "2021-05-01", "ended_on": "2021-04-01"},
    )
    assert "The end cannot be before the start." in response.content.decode()
    assert SpecialStatus.objects.count() == count


def test_a_stale_edit_answers_409_and_keeps_the_form(room, world):
    pk = world["resident_in"]
    Resident.objects.filter(pk=pk).update(version=5)
    response = room.post(
        reverse("casework:resident_edit", kwargs={"pk": pk}),
        {"version": "4", "name": "张大爷改", "phone": "13800001234"},
    )
    assert response.status_code == 409
    assert 'value="张大爷改"' in response.content.decode()
    assert Resident.objects.get(pk=pk).name == "张大爷"


def test_household_member_by_national_id(room, world):
    pk = world["resident_in"]
    response = room.post(
        reverse("casework:household_member_add", kwargs={"pk": pk}),
        {
            "member_national_id": Resident.objects.get(pk=world["child_in"]).national_id,
            "relationship": "grandchild",
        },
    )
    assert response.status_code == 302
    child = Resident.objects.get(pk=world["child_in"])
    assert child.household_id == Resident.objects.get(pk=pk).household_id
    assert child.relationship == "grandchild"


# --- export -----------------------------------------------------------------------------------


def _sheet(response) -> list[tuple]:
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def test_export_is_logged_and_masked_for_the_county(county, world):
    before = log_rows("resident.export")
    response = county.get(reverse("casework:residents_export"))
    rows = _sheet(response)
    assert response["Cache-Control"] == "no-store"
    ids = {row[0]: row for row in rows[1:]}
    assert set(ids) >= {world["resident_in"], world["neighbour_in"]}
    assert world["resident_out"] not in ids
    assert ids[world["resident_in"]][2] == "500***********" + resident_id(901)[-4:]
    assert log_rows("resident.export") == before + 1


def test_export_over_the_cap_exports_nothing(county, world, monkeypatch):
    monkeypatch.setattr(privacy, "EXPORT_CAP", 1)
    response = county.get(reverse("casework:residents_export"))
    assert response.status_code == 302
    denied = AuditEvent.objects.filter(action="resident.export").latest("seq")
    assert denied.outcome == "denied"


def test_room_worker_may_not_export(room, world):
    assert room.get(reverse("casework:residents_export")).status_code == 403

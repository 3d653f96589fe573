"""In a real browser at a phone's size (390×844): the community worker of 桥北社区 records a
home visit — for a recent resident (a chip), and for one who is not among the chips, found
by pinyin initials in at most 6 interactions — and the new entry heads the resident's
timeline, visible without scrolling."""

import re
from datetime import date, timedelta

import pytest

from shegong.casework.models import ServiceRecord
from shegong.casework.services.records import service_record_create
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.network.services import facility_create
from tests.casework.world import make_resident
from tests.conftest import make_user
from tests.e2e.test_division_browser import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server, transactional_db):
    from tests.conftest import load_divisions

    load_divisions()
    context = browser.new_context(
        locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


class Counter:
    """Counts the user's interactions: every click, fill and submit."""

    def __init__(self, page):
        self.page, self.n = page, 0

    def click(self, locator):
        self.n += 1
        locator.click()

    def fill(self, locator, text):
        self.n += 1
        locator.fill(text)


def test_the_community_worker_records_a_home_visit_on_a_phone(phone, live_server):
    # given the room of 桥北社区, its community worker, and a resident they visited before
    room = facility_create(
        actor=None,
        tier="room",
        division=Division.objects.get(code="500105001001"),
        name="桥北社区社工室",
        status="operating",
        status_from=date(2020, 1, 1),
    )
    worker = make_user(Role.ROOM_WORKER, "500105001001", username="room-visit")
    resident = make_resident("张大爷", "500105001001", 901)
    service_record_create(
        worker,
        facility=room,
        served_on=date.today() - timedelta(days=7),
        domain="emotional_support",
        method="visit",
        residents=[resident],
    )
    sign_in(phone, live_server.url, "room-visit")
    user = Counter(phone)
    # when, from the home page, they open their casework and record a visit
    user.click(phone.get_by_test_id("casework-record-link"))
    phone.wait_for_url(re.compile(r"/casework/records/new/"))
    # (one column at a phone's width: the save button spans the screen)
    save = phone.get_by_test_id("save-record")
    assert save.bounding_box()["width"] > 300
    user.click(phone.locator(f"[data-testid=resident-chips] [data-resident='{resident.pk}']"))
    user.fill(phone.locator("textarea[name=notes]"), "上门探访，老人身体状况良好")
    user.click(save)
    # then it took fewer than 10 interactions
    assert user.n < 10
    # and they land on the resident's page, whose timeline shows the visit of today
    phone.wait_for_url(re.compile(rf"/casework/residents/{resident.pk}/"))
    record = ServiceRecord.objects.filter(served_on=date.today()).get()
    assert record.person_times == 1 and record.method == "visit"
    assert record.domain == "emotional_support"  # the domain they used last
    row = phone.locator(f"[data-testid=timeline] [data-kind=service][data-id='{record.pk}']")
    assert row.count() == 1
    assert date.today().isoformat() in row.inner_text()


def _room(code: str = "500105001001"):
    return facility_create(
        actor=None,
        tier="room",
        division=Division.objects.get(code=code),
        name="桥北社区社工室",
        status="operating",
        status_from=date(2020, 1, 1),
    )


def test_a_resident_not_among_the_chips_is_found_by_pinyin_initials(phone, live_server):
    # given the room worker, a resident they visited before (a chip), and two residents
    # called 吴静 (51 and 13 years old) they have never served
    room = _room()
    worker = make_user(Role.ROOM_WORKER, "500105001001", username="room-picker")
    chip = make_resident("张大爷", "500105001001", 901)
    service_record_create(
        worker,
        facility=room,
        served_on=date.today() - timedelta(days=7),
        domain="emotional_support",
        method="visit",
        residents=[chip],
    )
    today = date.today()
    wu = make_resident("吴静", "500105001001", 911, born=date(today.year - 51, 1, 2))
    namesake = make_resident("吴静", "500105001001", 912, born=date(today.year - 13, 1, 2))
    sign_in(phone, live_server.url, "room-picker")
    user = Counter(phone)
    # when, from the home page, they open the record form
    user.click(phone.get_by_test_id("casework-record-link"))
    phone.wait_for_url(re.compile(r"/casework/records/new/"))
    chips = phone.locator("[data-testid=resident-chips] [data-resident]")
    assert wu.pk not in [
        int(x) for x in chips.evaluate_all("es => es.map(e => e.dataset.resident)")
    ]
    # and type the initials into the picker
    user.click(phone.locator(".ts-control"))
    user.n += 1
    phone.keyboard.type("wj")
    options = phone.locator("[data-testid=picker-option][data-resident]")
    options.first.wait_for()
    # then both namesakes are offered, told apart by age and masked ID
    assert options.count() == 2
    texts = options.all_inner_texts()
    assert any("51" in t for t in texts) and any("13" in t for t in texts)
    assert all("*" in t for t in texts)
    # when they pick the 51-year-old and save
    user.click(phone.locator(f"[data-testid=picker-option][data-resident='{wu.pk}']"))
    user.click(phone.get_by_test_id("save-record"))
    # then it took at most 6 interactions
    assert user.n <= 6
    # and the resident's page opens with the new entry on top, visible without scrolling
    phone.wait_for_url(re.compile(rf"/casework/residents/{wu.pk}/"))
    record = ServiceRecord.objects.filter(served_on=today).get()
    assert list(record.recipients.values_list("resident_id", flat=True)) == [wu.pk]
    assert namesake.pk != wu.pk
    entry = phone.get_by_test_id("new-entry")
    assert entry.get_attribute("data-id") == str(record.pk)
    box = entry.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    assert phone.evaluate("window.scrollY") == 0

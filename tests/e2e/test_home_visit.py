"""In a real browser at a phone's size (390×844): the community worker of 桥北社区 records a
home visit for a resident in under 10 interactions, and it appears in the resident's
timeline."""

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
    row = phone.locator(f"[data-testid=timeline] tr[data-kind=service][data-id='{record.pk}']")
    assert row.count() == 1
    assert date.today().isoformat() in row.inner_text()

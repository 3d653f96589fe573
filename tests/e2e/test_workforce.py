"""In a real browser: the county user opens the workforce dashboard, goes to the registry,
searches a name and opens the person's page."""

import re
from datetime import date

import pytest

from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.network.services import facility_create
from shegong.workforce.models import QualificationLevel
from shegong.workforce.services import posting_create, social_worker_create
from tests.conftest import make_user
from tests.e2e.test_division_browser import sign_in
from tests.network.conftest import national_id

pytestmark = pytest.mark.e2e


def test_county_user_finds_a_social_worker(page, live_server):
    # given a room in 桥北社区 with two social workers posted there, and the county user
    room = facility_create(
        actor=None,
        tier="room",
        division=Division.objects.get(code="500105001001"),
        name="桥北社区社工室",
        status="operating",
        status_from=date(2020, 1, 1),
    )
    for serial, name, level in (
        (901, "张三", QualificationLevel.ASSISTANT),
        (902, "李四", QualificationLevel.SOCIAL_WORKER),
    ):
        worker = social_worker_create(
            actor=None,
            name=name,
            national_id=national_id(serial),
            division=Division.objects.get(code="500105001001"),
            qualification_level=level,
        )
        posting_create(
            actor=None,
            worker=worker,
            facility=room,
            employment="full_time" if serial == 901 else "part_time",
            started_on=date(2021, 1, 1),
        )
    make_user(Role.COUNTY_STAFF, "500105", username="county-wf")
    sign_in(page, live_server.url, "county-wf")
    # when they open the workforce dashboard from the menu
    page.locator("[data-testid=side-nav] a[href='/workforce/']").click()
    # then they see their county with two people in post, and the chart
    assert page.get_by_test_id("dashboard-division").inner_text() == "江北区"
    assert page.get_by_test_id("f15").inner_text() == "2"
    page.wait_for_selector("#qualification-chart[data-ready=true]")
    # when they go to the registry and search a name
    page.get_by_test_id("registry-link").click()
    page.wait_for_url(re.compile(r"/workforce/workers/"))
    assert page.locator("[data-testid=worker-table] tr[data-worker]").count() == 2
    page.locator("input[name=q]").fill("张三")
    page.get_by_test_id("search-button").click()
    page.wait_for_url(re.compile(r"/workforce/workers/\?.*q=%E5%BC%A0%E4%B8%89"))
    rows = page.locator("[data-testid=worker-table] tr[data-worker]")
    assert rows.count() == 1
    # and open the person's page
    rows.first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/workforce/workers/\d+/$"))
    assert page.get_by_test_id("worker-name").inner_text() == "张三"
    assert (
        page.get_by_test_id("national-id").inner_text() == "500***********" + national_id(901)[-4:]
    )
    assert page.locator("[data-testid=postings] tr[data-current=true]").count() == 1

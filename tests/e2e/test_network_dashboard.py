"""In a real browser: the county user opens the network dashboard, sees the map and the
figures, drills down to a town and opens a room's page."""

import pytest

from shegong.core.roles import Role
from shegong.network.demo import demo_network_create
from shegong.network.services import seed_article_standard
from tests.conftest import make_user
from tests.e2e.test_division_browser import sign_in

pytestmark = pytest.mark.e2e


def test_county_user_uses_the_network_dashboard(page, live_server):
    # given the demo network and the 江北区 guidance-centre user
    seed_article_standard()
    demo_network_create()
    make_user(Role.COUNTY_STAFF, "500105", username="county-net")
    sign_in(page, live_server.url, "county-net")
    # when they open the network dashboard
    page.get_by_role("link", name="服务网络").first.click()
    # then they see their county's figures and the map
    assert page.get_by_test_id("dashboard-division").inner_text() == "江北区"
    assert page.get_by_test_id("f2").inner_text() == "101"
    page.wait_for_selector("#coverage-map[data-ready=true]")
    assert page.locator("#coverage-map canvas").count() == 1
    assert page.locator("#coverage-trend canvas").count() == 1
    # when they drill down to a town
    page.get_by_test_id("coverage-table").get_by_role("link", name="华新街街道").click()
    assert page.get_by_test_id("dashboard-division").inner_text() == "华新街街道"
    # and open the room of 桥北社区
    page.get_by_test_id("coverage-table").get_by_role("link", name="桥北社区居民委员会").click()
    assert page.get_by_test_id("facility-name").inner_text() == "桥北社区社会工作室"
    assert page.get_by_test_id("facility-status").inner_text() == "运营中"
    assert "专职社工" in page.get_by_test_id("staffing").inner_text()

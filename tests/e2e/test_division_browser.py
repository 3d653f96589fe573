"""In a real browser: the community worker sees only their community; the county user drills
down from the county to a community."""

import pytest

from shegong.core.roles import Role
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base_url}/")


def test_community_worker_sees_only_their_community(page, live_server):
    # given a community room social worker of 桥北社区
    make_user(Role.ROOM_WORKER, "500105001001", username="room-e2e")
    # when they sign in
    sign_in(page, live_server.url, "room-e2e")
    # then the home page names their community
    assert "桥北社区居民委员会" in page.get_by_test_id("my-division").inner_text()
    # and the division browser shows it, with no division below or beside it
    page.get_by_role("link", name="行政区划").first.click()
    assert page.get_by_test_id("division-name").inner_text() == "桥北社区居民委员会"
    assert page.locator("table[data-testid=children]").count() == 0
    # and a search for the neighbouring community finds nothing in their area
    page.get_by_placeholder("按名称或代码搜索区划").fill("华新社区")
    page.wait_for_selector("[data-testid=search-results]")
    assert "您辖区内没有匹配的区划" in page.locator("#search-results").inner_text()
    # and the next community's page does not exist for them
    response = page.goto(f"{live_server.url}/divisions/500105001002/")
    assert response.status == 404


def test_county_user_drills_down_to_a_community(page, live_server):
    # given the 江北区 guidance-centre user
    make_user(Role.COUNTY_STAFF, "500105", username="county-e2e")
    sign_in(page, live_server.url, "county-e2e")
    # when they browse their county
    page.get_by_role("link", name="浏览行政区划").click()
    assert page.get_by_test_id("division-name").inner_text() == "江北区"
    assert page.get_by_test_id("count-community").inner_text() == "132"
    # and drill down to a subdistrict
    page.get_by_role("link", name="华新街街道").click()
    assert page.get_by_test_id("division-name").inner_text() == "华新街街道"
    # and on to a community
    page.get_by_role("link", name="桥北社区居民委员会").click()
    assert page.get_by_test_id("division-name").inner_text() == "桥北社区居民委员会"
    # and the breadcrumb leads back up to the county (but not above it)
    breadcrumb = page.get_by_role("navigation", name="导航路径")
    assert breadcrumb.get_by_role("link", name="江北区").count() == 1
    assert breadcrumb.get_by_role("link", name="重庆市").count() == 0
    page.screenshot(path=str(_screenshot_dir() / "county-drilldown.png"), full_page=True)


def _screenshot_dir():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path

"""The page sweep (issue #13): for every role, every page its side navigation reaches plus
one detail page of each kind found from them, at 1440×900 and at 390×844, on the demo world:

- no horizontal overflow (``scrollWidth <= innerWidth``);
- no console error, no failed request, no CSP violation;
- no visible English word in the Chinese interface outside an allow-list (text the user or
  the data wrote — usernames, codes — is marked ``translate="no"`` and not read);
- no figure code ("F3") shown;
- axe-core (vendored in tests/e2e/vendor) reports no serious or critical violation.

Every problem of a role is collected, then reported together.

What a browser checks depends on the templates, styles and scripts, not on the database,
and costs CI minutes: it runs on SQLite's lane. On PostgreSQL the same sweep goes through
the server — every page of every role, the panels they load and one detail page of each
kind answer 200 with no figure code — so each page meets the production database's
queries (pinyin collation, statistics, the city's volumes) in CI.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve

from shegong.accounts.demo import DEMO_PASSWORD
from tests.e2e.world import DEMO_ROLES, demo_world_served

# The world is committed once by the module fixture; each test only reads it (and what a
# sign-in writes is rolled back with the test).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

SIZES = ((1440, 900), (390, 844))
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
# Words a Chinese interface rightly shows in Latin letters.
ALLOWED_WORDS = frozenset(
    {"API", "Excel", "ID", "English", "xlsx", "PDF", "Token", "TOTP", "URL", "Swagger", "OpenAPI"}
)
# A detail page is the first link of a list's first row; these are actions, not details.
NOT_DETAILS = re.compile(r"/(new|edit|import|export|delete|result)/?$|[?&]format=")

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""

VISIBLE_WORDS = """
() => {
  const words = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    const skipped = '[translate="no"], script, style, noscript, [aria-hidden="true"]';
    if (!parent || parent.closest(skipped)) continue;
    if (!parent.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    for (const word of node.textContent.match(/[A-Za-z][A-Za-z-]+/g) || []) words.add(word);
  }
  for (const field of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
    if (!field.checkVisibility()) continue;
    for (const word of field.placeholder.match(/[A-Za-z][A-Za-z-]+/g) || []) words.add(word);
  }
  return [...words];
}
"""

FIGURE_CODES = """
() => (document.body.innerText.match(/(?<![A-Za-z0-9])F\\d{1,2}(?![0-9])/g) || [])
"""

RUN_AXE = """
async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): `
      + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}
"""

DETAIL_LINKS = """
() => [...document.querySelectorAll(
  "main table tbody tr:first-child a[href^='/'], main [data-detail-link]")]
  .map((a) => a.getAttribute("href"))
"""


@dataclass
class Sweep:
    """What one role's sweep saw: the pages visited and the problems found."""

    role: str
    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def report(self) -> str:
        return f"{self.role}: {len(self.problems)} problems\n" + "\n".join(self.problems)


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker):
    with demo_world_served(django_db_blocker) as url:
        yield url


def view_name(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return None


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def wait_for_panels(page, timeout_ms: int = 30000) -> None:
    """Wait until no htmx request is in flight. Polled from here: Playwright's
    ``wait_for_function`` evaluates its string with ``eval`` in the page, which the strict
    CSP refuses as soon as it has to poll (a panel still loading)."""
    for _ in range(timeout_ms // 100):
        if not page.evaluate("!!document.querySelector('.htmx-request, .loading-panel')"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"panels still loading after {timeout_ms} ms: {page.url}")


class Tab:
    """One browser tab at one size, reused from page to page of a role's sweep (a new tab
    per page costs a renderer process each time). What goes wrong while a page is open is
    gathered in ``errors``, emptied for the next page."""

    def __init__(self, context, size: tuple[int, int]):
        self.size = size
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.set_viewport_size({"width": size[0], "height": size[1]})
        self.page.on(
            "console",
            lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"script error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed request: {r.url}"))
        self.page.on(
            "response",
            lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
        )


def check_page(tab: Tab, base: str, path: str, sweep: Sweep) -> list[str]:
    """Open ``path`` in the tab, record whatever breaks a rule of the sweep, and give back
    the page's detail links."""
    where = f"{path} @{tab.size[0]}"
    page = tab.page
    tab.errors.clear()
    page.goto(base + path, wait_until="load")
    # panels htmx fills after the page: wait until none is still loading
    wait_for_panels(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        sweep.problems.append(f"{where}: {overflow}px wider than the screen")
    errors = list(tab.errors)
    for violation in page.evaluate("window.__cspViolations || []"):
        errors.append(f"CSP: {violation}")
    english = sorted(set(page.evaluate(VISIBLE_WORDS)) - ALLOWED_WORDS)
    if english:
        sweep.problems.append(f"{where}: English words {english[:12]}")
    codes = sorted(set(page.evaluate(FIGURE_CODES)))
    if codes:
        sweep.problems.append(f"{where}: figure codes shown {codes}")
    page.evaluate(AXE_SOURCE)
    for violation in page.evaluate(RUN_AXE):
        sweep.problems.append(f"{where}: axe {violation}")
    sweep.problems.extend(f"{where}: {error}" for error in dict.fromkeys(errors + tab.errors))
    sweep.visited.append(where)
    return page.evaluate(DETAIL_LINKS)


def sweep_role(browser, base: str, role: str) -> Sweep:
    sweep = Sweep(role)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    context.add_init_script(WATCH_CSP)
    context.set_default_timeout(20000)
    page = context.new_page()
    sign_in(page, base, role)
    navigation = page.eval_on_selector_all(
        "[data-testid=side-nav] a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    page.close()
    pages = list(dict.fromkeys(navigation))
    kinds = {view_name(path) for path in pages}
    for size in SIZES:
        tab = Tab(context, size)
        for path in list(pages):
            links = check_page(tab, base, path, sweep)
            if size != SIZES[0]:
                continue
            for link in links:
                kind = view_name(link)
                if kind and kind not in kinds and not NOT_DETAILS.search(link):
                    kinds.add(kind)
                    pages.append(link)
        tab.page.close()
    context.close()
    return sweep


SIDE_NAV = re.compile(r'data-testid="side-nav".*?</ul>\s*</div>', re.S)
HREF = re.compile(r'href="(/[^"]*)"')
FIRST_ROWS = re.compile(r"<tbody>\s*<tr[^>]*>(.*?)</tr>", re.S)
LOAD_PANELS = re.compile(r'hx-get="([^"]+)"[^>]*hx-trigger="load"')
TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)


def server_sweep(base: str, role: str) -> Sweep:
    """The sweep through the server (the PostgreSQL lane): each page of the role's
    navigation, the panels it loads after it and one detail page of each kind answer 200
    and show no figure code."""
    from html import unescape

    from shegong.accounts.models import User

    sweep = Sweep(role)
    client = Client()
    client.force_login(User.objects.get(username=role))
    home = client.get("/").content.decode()
    pages = list(dict.fromkeys(HREF.findall(SIDE_NAV.search(home).group(0))))
    kinds = {view_name(path) for path in pages}
    for path in list(pages):
        response = client.get(path, follow=True)
        if response.status_code != 200:
            sweep.problems.append(f"{path}: HTTP {response.status_code}")
            continue
        html = response.content.decode()
        for panel in LOAD_PANELS.findall(html):
            answer = client.get(unescape(panel))
            if answer.status_code != 200:
                sweep.problems.append(f"{path}: panel {panel}: HTTP {answer.status_code}")
            html += answer.content.decode()
        codes = re.findall(r"(?<![A-Za-z0-9])F\d{1,2}(?![0-9])", unescape(TAGS.sub(" ", html)))
        if codes:
            sweep.problems.append(f"{path}: figure codes shown {sorted(set(codes))}")
        sweep.visited.append(path)
        for row in FIRST_ROWS.findall(html):
            for link in HREF.findall(row)[:1]:
                link = unescape(link)
                kind = view_name(link)
                if kind and kind not in kinds and not NOT_DETAILS.search(link):
                    kinds.add(kind)
                    pages.append(link)
    return sweep


@pytest.fixture(scope="module")
def sweep_browser(request):
    """The browser on SQLite's lane (set up before the demo world, as the other browser
    tests have it), none on PostgreSQL's."""
    if connection.vendor == "sqlite":
        return request.getfixturevalue("browser")
    return None


@pytest.mark.parametrize("role", DEMO_ROLES)
def test_every_page_of_every_role_passes_the_sweep(sweep_browser, demo_site, role):
    # given the demo world and the demo login of the role
    if sweep_browser is not None:
        # when every page of their navigation, and one detail page of each kind, is opened
        # in a browser at both sizes
        sweep = sweep_role(sweep_browser, demo_site, role)
        # then the sweep saw their pages and nothing broke a rule
        assert len(sweep.visited) >= 2 * 3, sweep.visited
    else:
        # when they are asked of the server, on PostgreSQL
        sweep = server_sweep(demo_site, role)
        # then each answered, with no figure code
        assert len(sweep.visited) >= 3, sweep.visited
    assert sweep.problems == [], sweep.report()


# The README's pictures (`make screenshots` writes them to docs/screenshots; a plain test run
# writes them to a scratch folder and checks they were made).
SCREENSHOTS = (
    # (file, user, path, size)
    ("dashboard.png", "city", "/network/", (1440, 900)),
    ("map.png", "county", "/network/", (1440, 900)),
    ("phone-record-form.png", "room", "/casework/records/new/", (390, 844)),
    ("case-page.png", "station", None, (1440, 900)),
)


def first_case_path(context, base: str) -> str:
    page = context.new_page()
    page.goto(f"{base}/casework/cases/")
    href = page.locator("main table tbody tr a[href*='/casework/cases/']").first.get_attribute(
        "href"
    )
    page.close()
    return href


def test_screenshots_of_the_readme(browser, demo_site, tmp_path):
    # given where the pictures go
    folder = Path(os.environ.get("SHEGONG_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, username, path, (width, height) in SCREENSHOTS:
        # when the user opens the page at its size
        context = browser.new_context(
            locale="zh-CN", viewport={"width": width, "height": height}, device_scale_factor=1
        )
        page = context.new_page()
        sign_in(page, demo_site, username)
        page.goto(demo_site + (path or first_case_path(context, demo_site)), wait_until="load")
        wait_for_panels(page)
        page.wait_for_timeout(1500)  # charts finish their entry animation
        page.screenshot(path=folder / name)
        context.close()
        # then the picture is there, at the page's size
        data = (folder / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == width

"""Browser tests: Playwright driving Debian's Chromium (headless) against a live server."""

import os
import shutil

import pytest

from tests.conftest import load_divisions

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed for browser tests: run `make browser`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, answering one request at a time (``SerialServer``): on
    SQLite its threads share the test database's one in-memory connection, and a page whose
    panels load side by side (the workforce overview) locked it."""
    from pytest_django.live_server_helper import LiveServer

    from tests.e2e.world import SerialServer

    server = LiveServer("localhost", start=False)
    server.thread.server_class = SerialServer
    server.start()
    request.addfinalizer(server.stop)
    return server


@pytest.fixture
def page(browser, live_server, transactional_db):
    load_divisions()  # a transactional test starts from whatever the last flush left
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()

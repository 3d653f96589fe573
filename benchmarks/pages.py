"""Benchmark: server time of every navigation page (issue #13 item 9).

Sets up a fresh PostgreSQL database as `make start` sets up SQLite (`shegong setup --demo`:
Chongqing's divisions and the demo data), then, for the city, county and room demo users,
opens every page of their side navigation through Django's test client (the whole request:
middleware, scoping, queries, template) — and every panel a page loads after it
(``hx-trigger="load"``) — and reports the first (cold) request, then the median and the
slowest of ``BENCH_REPEAT`` rounds after it. Target: every page and panel under 300 ms.

    .venv/bin/python benchmarks/pages.py                  # set up, time, drop (~3 min)
    BENCH_KEEP_DB=1 .venv/bin/python benchmarks/pages.py  # keep the database
    BENCH_REUSE=1 .venv/bin/python benchmarks/pages.py    # time again without setting up
    BENCH_ROLES=city,station …                            # other demo users
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from html import unescape
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import database_exists, fresh_database  # noqa: E402

DB_NAME = "shegong_bench_pages"
ROLES = os.environ.get("BENCH_ROLES", "city,county,room").split(",")
REPEAT = int(os.environ.get("BENCH_REPEAT", 5))
BUDGET_MS = 300


def navigation_paths(user) -> list[tuple[str, str]]:
    """(label, path) of every page the user's side navigation offers, home first."""
    from django.urls import reverse

    from shegong.core.navigation import navigation_for

    paths = [("首页", reverse("core:home"))]
    for group in navigation_for(user, None):
        paths.extend((str(item["label"]), item["url"]) for item in group["items"])
    return paths


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns, a Chinese character taking two."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 1)


PANELS = re.compile(
    r'hx-get="([^"]+)"[^>]*hx-trigger="load"|hx-trigger="load"[^>]*hx-get="([^"]+)"'
)


def time_page(client, path: str) -> tuple[str, int, float, list[float], list[str]]:
    """The page's path (a redirect's target when the item redirects), its status, the time
    of the first request (cold: caches, connections, compiled templates), the times of
    REPEAT requests after it, and the panels the page loads after it."""
    started = time.perf_counter()
    response = client.get(path)
    first = (time.perf_counter() - started) * 1000
    if response.status_code in (301, 302) and response.url.startswith("/"):
        path = response.url
        started = time.perf_counter()
        response = client.get(path)
        first = (time.perf_counter() - started) * 1000
    html = response.content.decode(errors="ignore") if response.status_code == 200 else ""
    panels = [unescape(a or b) for a, b in PANELS.findall(html)]
    times = []
    status = 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return path, status, first, times, panels


def main() -> None:
    reuse = bool(os.environ.get("BENCH_REUSE")) and database_exists(DB_NAME)
    os.environ["SHEGONG_DEMO"] = "1"
    with fresh_database(DB_NAME, reuse=reuse):
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import setup_test_environment
        from django.utils import translation

        from shegong.accounts.models import User

        if not reuse:
            started = time.perf_counter()
            with open(os.devnull, "w") as quiet:
                call_command("setup", demo=True, verbosity=0, stdout=quiet)
            print(f"demo set up on PostgreSQL in {time.perf_counter() - started:.0f} s")
        setup_test_environment()
        translation.activate("zh-hans")
        slow = []
        for role in ROLES:
            user = User.objects.get(username=role)
            client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            client.force_login(user)
            print(f"\n{role} ({user.get_role_display()}, {user.division.name})")
            header = f"{'first ms':>9}{'median ms':>10}{'max ms':>9}"
            print(f"  {pad('page', 20)}{pad('path', 34)}{header}")
            queue = [(label, path) for label, path in navigation_paths(user)]
            while queue:
                label, path = queue.pop(0)
                path, status, first, times, panels = time_page(client, path)
                queue[:0] = [("  ↳ panel", panel) for panel in panels]
                median, worst = statistics.median(times), max(times)
                mark = "" if status == 200 and median < BUDGET_MS else "  <-- over"
                if mark:
                    slow.append((role, path, status, median))
                figures = f"{first:>9.0f}{median:>10.0f}{worst:>9.0f}"
                print(f"  {pad(label, 20)}{pad(path, 34)}{figures}{mark}")
        print()
        if slow:
            print(f"{len(slow)} pages over {BUDGET_MS} ms (or not 200):")
            for role, path, status, median in slow:
                print(f"  {role} {path} HTTP {status} {median:.0f} ms")
        else:
            print(f"every navigation page and panel under {BUDGET_MS} ms (median of {REPEAT})")


if __name__ == "__main__":
    main()

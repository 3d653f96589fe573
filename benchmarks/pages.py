"""Benchmark: server time of every navigation page (issue #13 item 9).

Sets up a fresh PostgreSQL database as `make start` sets up SQLite (`shegong setup --demo`:
Chongqing's divisions and the demo data), then, for the city, county and room demo users,
opens every page of their side navigation through Django's test client (the whole request:
middleware, scoping, queries, template) and reports the median and the slowest of
``BENCH_REPEAT`` rounds after a warm-up. Target: every page under 300 ms.

    .venv/bin/python benchmarks/pages.py                  # set up, time, drop (~3 min)
    BENCH_KEEP_DB=1 .venv/bin/python benchmarks/pages.py  # keep the database
    BENCH_REUSE=1 .venv/bin/python benchmarks/pages.py    # time again without setting up
    BENCH_ROLES=city,station …                            # other demo users
"""

from __future__ import annotations

import os
import statistics
import sys
import time
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


def time_page(client, path: str) -> tuple[str, int, list[float]]:
    """The page's path (a redirect's target when the item redirects), its status, and the
    times of REPEAT requests after a warm-up."""
    response = client.get(path)  # warm-up: caches, connections, compiled templates
    if response.status_code in (301, 302) and response.url.startswith("/"):
        path = response.url
        client.get(path)
    times = []
    status = 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return path, status, times


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
            print(f"  {pad('page', 20)}{pad('path', 34)}{'median ms':>10}{'max ms':>9}")
            for label, path in navigation_paths(user):
                path, status, times = time_page(client, path)
                median, worst = statistics.median(times), max(times)
                mark = "" if status == 200 and median < BUDGET_MS else "  <-- over"
                if mark:
                    slow.append((role, path, status, median))
                print(f"  {pad(label, 20)}{pad(path, 34)}{median:>10.0f}{worst:>9.0f}{mark}")
        print()
        if slow:
            print(f"{len(slow)} pages over {BUDGET_MS} ms (or not 200):")
            for role, path, status, median in slow:
                print(f"  {role} {path} HTTP {status} {median:.0f} ms")
        else:
            print(f"every navigation page under {BUDGET_MS} ms (median of {REPEAT})")


if __name__ == "__main__":
    main()

"""Helpers shared by the benchmarks: a fresh PostgreSQL database and Django set up on it."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the whole-China division list shipped with the project
DIVISION_FILES = [
    ROOT / "src" / "shegong" / "geo" / "data" / "china" / f"{name}.csv.xz"
    for name in ("provinces", "cities", "areas", "streets", "villages")
]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(["psql", f"{PG}/{database}", "-qc", sql], check=True, stdout=subprocess.DEVNULL)


def database_exists(name: str) -> bool:
    out = subprocess.run(
        ["psql", f"{PG}/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() == "1"


@contextmanager
def fresh_database(name: str, reuse: bool = False):
    """Create a new PostgreSQL database, point Django at it, migrate; drop it afterwards.

    With ``reuse`` (BENCH_REUSE=1) an existing database of that name is kept as it is and
    not dropped, to time queries again without reloading the data.
    """
    if not reuse:
        psql(f"DROP DATABASE IF EXISTS {name}")
        psql(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{PG}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shegong.config.settings")
    os.environ.setdefault("SHEGONG_DATA_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if not os.environ.get("BENCH_KEEP_DB") and not reuse:
            psql(f"DROP DATABASE IF EXISTS {name}")


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def require_division_data() -> None:
    missing = [p for p in DIVISION_FILES if not p.exists()]
    if missing:
        sys.exit(f"benchmark data not found: {missing[0]}")

"""The restore drill (security.md 22): back the database up as docs/operations.md says,
restore the backup into a scratch database, and prove the copy is whole — then throw the
copy away.

- PostgreSQL: ``pg_dump --format=custom`` of the live database, ``pg_restore`` into a new
  scratch database on the same server;
- SQLite: the online backup API (what ``sqlite3 … ".backup …"`` does) into a scratch file.

The restored copy is checked by the platform itself, run against it in a subprocess:
every migration applied (``migrate --check``), the audit chain intact (``audit verify``),
the monthly service totals equal to the records (``casework_month_totals``); and its audit
chain reaches at least the event that was last before the backup began, with the same
hash. Row counts of every table of the copy are reported.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection


class DrillFailed(Exception):
    """The backup, the restore or a check of the restored copy failed."""


@dataclass
class DrillReport:
    """What the drill did and found."""

    backend: str
    backup_bytes: int = 0
    seconds: float = 0.0
    checks: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    audit_events: int = 0


def _head() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_seq, last_hash FROM core_auditchainhead WHERE id = 1")
        row = cursor.fetchone()
    return (int(row[0]), row[1]) if row else (0, "")


def _env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess: this one's, the password kept out of the command."""
    password = connection.settings_dict.get("PASSWORD") or ""
    return dict(os.environ, **({"PGPASSWORD": password} if password else {}), **extra)


def _run(command: list[str], env: dict | None = None, check: bool = True) -> str:
    """Run a program (its first word found on PATH); its output, or DrillFailed."""
    program = shutil.which(command[0]) or (command[0] if os.path.isabs(command[0]) else None)
    if program is None:
        raise DrillFailed(f"{command[0]} is not installed")
    done = subprocess.run(  # noqa: S603 — fixed programs; arguments are the drill's own
        [program, *command[1:]], capture_output=True, text=True, env=env or _env(), check=False
    )
    if check and done.returncode != 0:
        said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        failed = [line for line in said if line.startswith("failed ")]
        raise DrillFailed(
            (failed or said or [f"{Path(program).name} exited {done.returncode}"])[-1]
        )
    return done.stdout.strip()


def _pg_url(settings: dict, name: str) -> str:
    """The address of database ``name`` on the same server (the password goes by
    PGPASSWORD, see ``_env``)."""
    user = settings.get("USER") or "postgres"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{name}"


def restore_drill(keep: Path | None = None) -> DrillReport:
    """Back up, restore into a scratch database, check the copy, drop it (unless ``keep``
    is a folder to leave the backup in). Raises ``DrillFailed`` naming what failed."""
    started = time.monotonic()
    report = DrillReport(backend=connection.vendor)
    seq_before, hash_before = _head()
    work = Path(tempfile.mkdtemp(prefix="shegong-drill-"))
    settings = connection.settings_dict
    scratch_db = None
    try:
        if connection.vendor == "postgresql":
            source = _pg_url(settings, settings["NAME"])
            dump = work / "drill.dump"
            _run(["pg_dump", "--format=custom", f"--file={dump}", source])
            report.backup_bytes = dump.stat().st_size
            scratch_db = f"shegong_drill_{secrets.token_hex(4)}"
            admin = _pg_url(settings, "postgres")
            _run(["psql", admin, "-qc", f'CREATE DATABASE "{scratch_db}"'])
            target = _pg_url(settings, scratch_db)
            _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)])
        elif connection.vendor == "sqlite":
            copy = work / "drill.sqlite3"
            connection.ensure_connection()
            with sqlite3.connect(copy) as destination:
                connection.connection.backup(destination)
            destination.close()
            report.backup_bytes = copy.stat().st_size
            target = f"sqlite:///{copy}"
        else:
            raise DrillFailed(f"no drill for {connection.vendor}")
        found = _check_copy(target, seq_before)
        report.checks = found["checks"]
        report.rows = found["rows"]
        report.audit_events = report.rows.get("core_auditevent", 0)
        if seq_before and found["hash"] != hash_before:
            raise DrillFailed(
                f"the restored audit chain does not hold event #{seq_before} as it was"
            )
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for item in work.iterdir():
                shutil.copy2(item, keep / item.name)
    finally:
        if scratch_db is not None:
            drop = f'DROP DATABASE IF EXISTS "{scratch_db}"'
            _run(["psql", _pg_url(settings, "postgres"), "-qc", drop], check=False)
        shutil.rmtree(work, ignore_errors=True)
    report.seconds = time.monotonic() - started
    return report


# Run in a subprocess on the restored copy: the platform's own checks, one line each, the
# hash of the event that was last before the backup, and "<table> <rows>" for every table.
_CHECK_COPY = """
import io, sys
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from shegong.core.models import AuditEvent
for name, args in (("migrations", ["migrate", "--check"]), ("audit chain", ["audit", "verify"]),
                   ("monthly service totals", ["casework_month_totals"])):
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
    except BaseException as exc:
        print("failed", name + ":", exc or out.getvalue().strip()[-300:])
        sys.exit(1)
    print("check", name + ":", (out.getvalue().strip().splitlines() or ["ok"])[-1])
print("hash", AuditEvent.objects.filter(seq=SEQ).values_list("hash", flat=True).first() or "-")
tables = sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True)
                 if m._meta.managed and not m._meta.proxy})
with connection.cursor() as cursor:
    for table in tables:
        cursor.execute("SELECT count(*) FROM " + connection.ops.quote_name(table))
        print("rows", table, cursor.fetchone()[0])
"""


def _check_copy(url: str, seq: int) -> dict:
    """Run ``_CHECK_COPY`` against the database at ``url`` and read what it printed."""
    script = _CHECK_COPY.replace("SEQ", str(int(seq)))
    env = _env(DATABASE_URL=url)
    program = [sys.executable, "-m", "shegong.manage", "shell", "-c", script]
    found: dict = {"checks": {}, "rows": {}, "hash": ""}
    for line in _run(program, env).splitlines():
        word, _, rest = line.partition(" ")
        if word == "check":
            name, _, said = rest.partition(": ")
            found["checks"][name] = said
        elif word == "hash":
            found["hash"] = rest.strip()
        elif word == "rows":
            table, _, count = rest.rpartition(" ")
            found["rows"][table] = int(count)
    return found

"""The restore drill (security.md 22): a backup restored into a scratch copy holds every row
and passes the platform's own checks; a copy whose audit chain was tampered with fails.
Transactional, so that pg_dump (another connection) sees the rows."""

from contextlib import contextmanager
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from shegong.core.audit import audit_record
from shegong.core.drill import restore_drill
from tests.conftest import load_divisions

pytestmark = pytest.mark.django_db(transaction=True)

TRIGGERS = import_module("shegong.core.migrations.0002_audit_append_only_triggers")


def _counts() -> dict[str, int]:
    tables = {
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    }
    with connection.cursor() as cursor:
        counts = {}
        for table in sorted(tables):
            cursor.execute("SELECT count(*) FROM " + connection.ops.quote_name(table))
            counts[table] = cursor.fetchone()[0]
    return counts


@contextmanager
def _audit_guard_off():
    """What someone with direct database access would do before tampering; put back after
    (a transactional test's changes to the schema outlive it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only"
            )
        else:
            for statement in TRIGGERS.SQLITE_DOWN:
                cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only"
                )
            else:
                for statement in TRIGGERS.SQLITE_UP:
                    cursor.execute(statement)


def test_the_restored_copy_holds_every_row_and_passes_the_checks():
    # given the divisions and a few audited actions
    load_divisions()
    for i in range(3):
        audit_record(actor=None, action="test.drill", object_repr=f"before the backup {i}")
    expected = _counts()
    # when the drill backs up, restores and checks
    report = restore_drill()
    # then the copy has every row of every table, and each check passed
    assert report.backend == connection.vendor
    assert report.rows == expected
    assert report.audit_events == expected["core_auditevent"] >= 3
    assert set(report.checks) == {"migrations", "audit chain", "monthly service totals"}
    assert "intact" in report.checks["audit chain"]
    assert report.backup_bytes > 0


def test_a_tampered_audit_row_fails_the_drill():
    # given an audit row changed behind the application's back
    load_divisions()
    for i in range(3):
        audit_record(actor=None, action="test.drill", object_repr=f"row {i}")
    with _audit_guard_off(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET object_repr = 'forged' WHERE object_repr = 'row 1'"
        )
    # when the drill runs, then it fails and names the audit chain
    with pytest.raises(CommandError, match="audit chain"):
        call_command("restore_drill")

"""The whole-China statistical division list (shipped in src/shegong/geo/data/china): real
counts, idempotent, and loaded by ``shegong import_divisions --china``."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from shegong.core.models import AuditEvent
from shegong.geo.io import import_divisions
from shegong.geo.management.commands.import_divisions import shipped_china_files
from shegong.geo.models import Division, Level

FILES = shipped_china_files()

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_whole_china_import_counts_and_second_run_changes_nothing():
    assert all(f.exists() for f in FILES)
    # given the test database with Chongqing and a few real Sichuan rows loaded
    indexes = table_indexes()
    # when the whole-China list is imported
    first = import_divisions(paths=FILES)
    # then every level has the real count
    assert Division.objects.filter(level=Level.COUNTY).count() == 2978
    assert Division.objects.filter(level=Level.TOWN).count() == 41352
    assert Division.objects.filter(level=Level.COMMUNITY).count() == 620573
    assert first.created + first.unchanged + first.renamed + first.updated == 665276
    # and the indexes dropped for the bulk insert are back as they were
    assert table_indexes() == indexes
    # and a second run (the command an operator types) changes nothing, not even the audit trail
    audit_rows = AuditEvent.objects.count()
    call_command("import_divisions", "--china", stdout=(out := io.StringIO()))
    assert "0 created, 0 renamed, 0 updated, 665276 unchanged" in out.getvalue()
    assert AuditEvent.objects.count() == audit_rows


def table_indexes() -> set[str]:
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'geo_division'")
        return {row[0] for row in cursor.fetchall()}

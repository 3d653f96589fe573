"""The whole-China statistical division list (from ../shared/data): real counts, idempotent."""

import os
from pathlib import Path

import pytest
from django.db import connection

from shegong.core.models import AuditEvent
from shegong.geo.io import import_divisions
from shegong.geo.models import Division, Level

# ../shared beside the checkout (as in CI), or wherever SHEGONG_SHARED_DATA points.
SHARED_DATA = Path(
    os.environ.get("SHEGONG_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
SHARED = SHARED_DATA / "divisions"
FILES = [SHARED / f"{n}.csv.xz" for n in ("provinces", "cities", "areas", "streets", "villages")]

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_whole_china_import_counts_and_second_run_changes_nothing():
    assert all(f.exists() for f in FILES), f"the shared division data is needed: {SHARED}"
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
    # and a second run changes nothing, not even the audit trail
    audit_rows = AuditEvent.objects.count()
    second = import_divisions(paths=FILES)
    assert not second.changed_anything and second.unchanged == 665276
    assert AuditEvent.objects.count() == audit_rows


def table_indexes() -> set[str]:
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'geo_division'")
        return {row[0] for row in cursor.fetchall()}

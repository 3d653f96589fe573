"""Benchmark: bulk onboarding of 60,000 social workers from one .xlsx on PostgreSQL.

Loads Chongqing's divisions (the shipped list), opens a social work room in every community
and a station in every town, writes a 60,000-row sheet of valid synthetic people (check
digits computed, every row with qualification, education and a posting), then times
``workforce.io.import_social_workers`` end to end (reading the .xlsx included) as a city
administrator, and the re-import of the same file (everything unchanged). Target (issue #4):
under 2 minutes and under 1 GiB of memory.

    .venv/bin/python benchmarks/import_workers.py          # ROWS=60000 by default
"""

from __future__ import annotations

import io
import os
import time
from datetime import date, timedelta

from _common import fresh_database, peak_rss_mib

ROWS = int(os.environ.get("ROWS", "60000"))
QUALIFICATIONS = ("助理社会工作师", "社会工作师", "高级社会工作师", "无")
DEGREES = ("专科", "本科", "硕士", "博士")


def open_facilities(cursor) -> None:
    """A room in every community and a station in every town of Chongqing (operating)."""
    cursor.execute(
        """
        INSERT INTO network_facility (tier, division_id, name, operator_kind, status, checklist,
                                      version, created_at, address, phone, opened_on)
        SELECT CASE level WHEN 'town' THEN 'station' ELSE 'room' END, id, name, 'government',
               'operating', '{}'::jsonb, 1, now(), '', '', DATE '2018-01-01'
        FROM geo_division WHERE level IN ('town', 'community') AND code LIKE '50%'
        """
    )
    cursor.execute(
        """
        INSERT INTO network_facilitystatusperiod (facility_id, status, valid_from, note,
                                                  recorded_at)
        SELECT id, 'operating', DATE '2018-01-01', '', now() FROM network_facility
        """
    )
    cursor.execute("ANALYZE")


def sheet(communities: list[str]) -> bytes:
    """ROWS valid people, written in openpyxl's streaming mode."""
    from openpyxl import Workbook

    from shegong.core.validators import national_id_check_digit
    from shegong.workforce.io import WORKER_COLUMNS

    book = Workbook(write_only=True)
    ws = book.create_sheet("社工人才")
    ws.append(list(WORKER_COLUMNS.values()))
    born = date(1970, 1, 1)
    started = date(2020, 1, 1)
    for i in range(ROWS):
        first17 = f"500105{(born + timedelta(days=i // 1000)).strftime('%Y%m%d')}{i % 1000:03d}"
        community = communities[i % len(communities)]
        level = QUALIFICATIONS[i % 4]
        ws.append(
            [
                f"社工{i}",
                first17 + national_id_check_digit(first17),
                f"138{i:08d}",
                community,
                level,
                "" if level == "无" else f"S{2015 + i % 8}{i:08d}",
                "" if level == "无" else str(2015 + i % 8),
                f"大学{i % 50}",
                DEGREES[i % 4],
                "是" if i % 3 else "否",
                (born + timedelta(days=8000 + i % 3000)).isoformat(),
                community if i % 10 else community[:9],
                "社工室" if i % 10 else "社工站",
                "",
                "专职" if i % 5 else "兼职",
                "专职社工",
                (started + timedelta(days=i % 1500)).isoformat(),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def main() -> None:
    with fresh_database("shegong_bench_workers"):
        from django.db import connection

        from shegong.accounts.models import User
        from shegong.geo.io import import_divisions
        from shegong.geo.management.commands.import_divisions import shipped_chongqing_files
        from shegong.geo.models import Division
        from shegong.workforce.io import import_social_workers
        from shegong.workforce.models import Education, Posting, SocialWorker

        import_divisions(paths=shipped_chongqing_files())
        with connection.cursor() as cursor:
            open_facilities(cursor)
        admin = User(
            username="bench-city", role="city_admin", division=Division.objects.get(code="50")
        )
        admin.set_unusable_password()
        admin.save()
        communities = list(
            Division.objects.filter(level="community", code__startswith="50")
            .order_by("code")
            .values_list("code", flat=True)
        )
        started = time.perf_counter()
        data = sheet(communities)
        print(
            f"sheet: {ROWS:,} rows, {len(data) / 2**20:.1f} MiB, "
            f"written in {time.perf_counter() - started:.1f} s; "
            f"{len(communities):,} communities"
        )
        print(f"memory before the import: {peak_rss_mib():.0f} MiB peak RSS")
        last = [0.0]

        def progress(done: int, total: int, phase: str) -> None:
            now = time.perf_counter()
            if now - last[0] > 5:
                print(f"  {phase}: {done:,}/{total:,}")
                last[0] = now

        started = time.perf_counter()
        report = import_social_workers(
            actor=admin, data=data, progress=progress, filename="bench.xlsx"
        )
        seconds = time.perf_counter() - started
        assert report.ok, report.errors[:5]
        assert report.created == ROWS, report
        print(
            f"import: {report.created:,} people in {seconds:.1f} s "
            f"({report.created / seconds:,.0f} rows/s); "
            f"{SocialWorker.objects.count():,} workers, {Posting.objects.count():,} postings, "
            f"{Education.objects.count():,} education rows"
        )
        print(f"peak memory: {peak_rss_mib():.0f} MiB RSS")
        started = time.perf_counter()
        again = import_social_workers(actor=admin, data=data, filename="bench.xlsx")
        seconds = time.perf_counter() - started
        assert again.ok and again.created == 0 and again.unchanged == ROWS, again.errors[:5]
        print(f"re-import: {again.unchanged:,} unchanged in {seconds:.1f} s")
        print(f"peak memory after both: {peak_rss_mib():.0f} MiB RSS")


if __name__ == "__main__":
    main()

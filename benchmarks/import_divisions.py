"""Benchmark: import the whole-China division list into PostgreSQL.

Prints the import time next to PostgreSQL's own COPY of the same rows into bare tables (no
indexes, no constraints, no validation), the ratio, the re-import time, and peak memory.
Target (issue #2): ratio ≤ 3, peak memory < 1 GiB.

Each step runs REPEAT times (default 3) and the best time counts, so that other work on the
machine weighs less; the import starts each time from an empty ``geo_division`` (TRUNCATE).

    .venv/bin/python benchmarks/import_divisions.py
    REPEAT=5 .venv/bin/python benchmarks/import_divisions.py
"""

from __future__ import annotations

import lzma
import os
import time

from _common import DIVISION_FILES, fresh_database, peak_rss_mib, require_division_data

BARE_TABLES = {
    "provinces": "code varchar(12), name varchar(100)",
    "cities": "code varchar(12), name varchar(100), province varchar(12)",
    "areas": "code varchar(12), name varchar(100), city varchar(12), province varchar(12)",
    "streets": "code varchar(12), name varchar(100), area varchar(12), province varchar(12), "
    "city varchar(12)",
    "villages": "code varchar(12), name varchar(100), street varchar(12), province varchar(12), "
    "city varchar(12), area varchar(12)",
}


def bare_copy_seconds(connection) -> tuple[float, int]:
    """COPY the decompressed CSV files into bare tables; time only the COPY statements."""
    blobs = {path.name.split(".")[0]: lzma.decompress(path.read_bytes()) for path in DIVISION_FILES}
    rows = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for name, columns in BARE_TABLES.items():
            cursor.execute(f"DROP TABLE IF EXISTS bare_{name}")
            cursor.execute(f"CREATE TABLE bare_{name} ({columns})")
        connection.commit()
        started = time.perf_counter()
        for name in BARE_TABLES:
            with raw.copy(f"COPY bare_{name} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(blobs[name])
        connection.commit()
        elapsed = time.perf_counter() - started
        for name in BARE_TABLES:
            cursor.execute(f"SELECT count(*) FROM bare_{name}")
            rows += cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE bare_{name}")
        connection.commit()
    return elapsed, rows


def main() -> None:
    require_division_data()
    repeat = max(1, int(os.environ.get("REPEAT", "3")))
    with fresh_database("shegong_bench_divisions"):
        from django.db import connection

        from shegong.geo.io import import_divisions
        from shegong.geo.models import Division

        # Rounds of import, re-import and bare COPY, so that each sees the same machine.
        imports, reimports, copies = [], [], []
        for attempt in range(repeat):
            if attempt:
                with connection.cursor() as cursor:
                    cursor.execute("TRUNCATE geo_division, geo_divisionchange CASCADE")
            started = time.perf_counter()
            result = import_divisions(paths=DIVISION_FILES)
            imports.append(time.perf_counter() - started)
            started = time.perf_counter()
            again = import_divisions(paths=DIVISION_FILES)
            reimports.append(time.perf_counter() - started)
            assert not again.changed_anything
            connection.set_autocommit(False)
            copy_seconds, copy_rows = bare_copy_seconds(connection)
            copies.append(copy_seconds)
            connection.set_autocommit(True)
        counts = {
            level: Division.objects.filter(level=level).count()
            for level in ("province", "prefecture", "county", "town", "community")
        }

        import_seconds, reimport_seconds, copy_seconds = min(imports), min(reimports), min(copies)

        def runs(times: list[float]) -> str:
            return "  (runs: " + ", ".join(f"{t:.2f}" for t in times) + ")"

        print(f"Whole-China division import on PostgreSQL (best of {repeat})")
        print(f"  rows imported         {result.created:>9,}  ({copy_rows:,} rows in the files)")
        print(
            "  counties/towns/villages "
            f"{counts['county']:,} / {counts['town']:,} / {counts['community']:,}"
        )
        print(f"  import                {import_seconds:>9.2f} s" + runs(imports))
        print(f"  bare COPY, same rows  {copy_seconds:>9.2f} s" + runs(copies))
        print(f"  ratio                 {import_seconds / copy_seconds:>9.2f} x  (target ≤ 3)")
        print(
            f"  re-import             {reimport_seconds:>9.2f} s" + runs(reimports) + "  "
            f"(changed anything: {again.changed_anything})"
        )
        print(f"  peak memory (RSS)     {peak_rss_mib():>9.0f} MiB  (target < 1024)")


if __name__ == "__main__":
    main()

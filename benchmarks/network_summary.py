"""Benchmark: coverage + compliance summaries at national scale on PostgreSQL.

Loads all of China's divisions (665,276), a facility for every county, town and community
(about 665,000; a fifth of the rooms not yet operating), 1.5 M social workers and 1.5 M
postings, then times the city-wide (Chongqing) and nation-wide coverage + compliance
summaries as the platform computes them, next to hand-written SQL that computes the same
numbers. Target (issue #3): under 1 s, and within 1.5x the bare SQL.

    .venv/bin/python benchmarks/network_summary.py
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date

from _common import (
    DIVISION_FILES,
    database_exists,
    fresh_database,
    peak_rss_mib,
    require_division_data,
)

AS_OF = date(2024, 6, 30)
WORKERS = 1_500_000


def load(cursor) -> None:
    """Facilities, status periods, workers and postings, written by SQL for speed."""
    cursor.execute(
        """
        INSERT INTO network_facility (tier, division_id, name, operator_kind, status, checklist,
                                      version, created_at, address, phone, opened_on)
        SELECT CASE level WHEN 'county' THEN 'centre' WHEN 'town' THEN 'station' ELSE 'room' END,
               id, name, 'government',
               CASE WHEN level = 'community' AND id % 5 = 0 THEN 'planned' ELSE 'operating' END,
               '{}'::jsonb, 1, now(), '', '', DATE '2018-01-01'
        FROM geo_division WHERE level IN ('county', 'town', 'community')
        """
    )
    cursor.execute(
        """
        INSERT INTO network_facilitystatusperiod (facility_id, status, valid_from, note,
                                                  recorded_at)
        SELECT id, status, DATE '2018-01-01' + (id % 700)::int, '', now() FROM network_facility
        """
    )
    cursor.execute("SELECT count(*) FROM network_facility")
    facilities = cursor.fetchone()[0]
    cursor.execute("SELECT min(id) FROM network_facility")
    first = cursor.fetchone()[0]
    cursor.execute(
        f"""
        INSERT INTO workforce_socialworker (name, national_id, national_id_hash,
                                            qualification_level, certificate_number, phone,
                                            division_id, created_at)
        SELECT '社工' || g, 'x', md5(g::text) || md5((g + 1)::text), 'social_worker', '', '',
               (SELECT division_id FROM network_facility WHERE id = {first}), now()
        FROM generate_series(1, {WORKERS}) g
        """
    )
    cursor.execute("SELECT min(id) FROM workforce_socialworker")
    first_worker = cursor.fetchone()[0]
    cursor.execute(
        f"""
        INSERT INTO workforce_posting (worker_id, facility_id, workplace_type, workplace_name,
                                       employment, post_type, started_on, ended_on)
        SELECT {first_worker} + g - 1,
               {first} + (g::bigint * 7919) % {facilities}, 'grassroots', '',
               CASE WHEN g % 10 < 8 THEN 'full_time' ELSE 'part_time' END, '',
               DATE '2019-01-01' + (g % 1500)::int,
               CASE WHEN g % 13 = 0 THEN DATE '2019-01-01' + (g % 1500)::int + 400 ELSE NULL END
        FROM generate_series(1, {WORKERS}) g
        """
    )
    # What autovacuum does to freshly loaded tables (statistics, and the visibility map that
    # lets the periods' and postings' indexes be read without visiting the table).
    cursor.execute("VACUUM ANALYZE")


BARE_COVERAGE = """
    SELECT f.tier, d.kind, COUNT(DISTINCT f.division_id)
    FROM network_facility f JOIN geo_division d ON d.id = f.division_id
    WHERE d.code LIKE %(prefix)s AND f.id IN (
        SELECT facility_id FROM network_facilitystatusperiod
        WHERE status = 'operating' AND valid_from <= %(day)s
          AND (valid_to IS NULL OR valid_to > %(day)s))
    GROUP BY f.tier, d.kind
"""
BARE_DIVISIONS = """
    SELECT level, kind, COUNT(*) FROM geo_division WHERE code LIKE %(prefix)s GROUP BY level, kind
"""
BARE_F1 = """
    WITH op AS (
        SELECT f.tier, d.code FROM network_facility f JOIN geo_division d ON d.id = f.division_id
        WHERE d.code LIKE %(prefix)s AND f.tier IN ('centre', 'station') AND f.id IN (
            SELECT facility_id FROM network_facilitystatusperiod
            WHERE status = 'operating' AND valid_from <= %(day)s
              AND (valid_to IS NULL OR valid_to > %(day)s))),
    towns AS (SELECT substr(code, 1, 6) AS county, COUNT(*) AS n FROM geo_division
              WHERE code LIKE %(prefix)s AND level = 'town' GROUP BY 1),
    stations AS (SELECT substr(code, 1, 6) AS county, COUNT(DISTINCT code) AS n FROM op
                 WHERE tier = 'station' GROUP BY 1)
    SELECT COUNT(*) FROM op c JOIN towns t ON t.county = c.code
    JOIN stations s ON s.county = c.code WHERE c.tier = 'centre' AND s.n >= t.n
"""
BARE_COMPLIANCE = """
    SELECT f.tier, substr(d.code, 1, 6), COUNT(*),
           SUM(CASE WHEN COALESCE(p.n, 0) >= r.req THEN 1 ELSE 0 END),
           SUM(CASE WHEN r.req > COALESCE(p.n, 0) THEN r.req - COALESCE(p.n, 0) ELSE 0 END)
    FROM network_facility f JOIN geo_division d ON d.id = f.division_id
    CROSS JOIN LATERAL (SELECT CASE WHEN f.tier = 'centre' THEN 2
                                    WHEN f.tier = 'station' AND d.kind = 'subdistrict' THEN 2
                                    WHEN f.tier = 'station' THEN 1
                                    WHEN d.kind = 'urban' THEN 2 ELSE 1 END AS req) r
    JOIN (SELECT DISTINCT facility_id FROM network_facilitystatusperiod
          WHERE status = 'operating' AND valid_from <= %(day)s
            AND (valid_to IS NULL OR valid_to > %(day)s)) o ON o.facility_id = f.id
    LEFT JOIN (SELECT facility_id, COUNT(DISTINCT worker_id) AS n FROM workforce_posting
               WHERE employment = 'full_time' AND started_on <= %(day)s
                 AND (ended_on IS NULL OR ended_on > %(day)s) GROUP BY facility_id) p
           ON p.facility_id = f.id
    WHERE d.code LIKE %(prefix)s GROUP BY 1, 2
"""


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def best_of_alternating(n: int, first, second) -> tuple[float, float]:
    """Best times of ``first`` and ``second``, run in turns ``n`` times each."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(n):
        for fn, bucket in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


def main() -> None:
    require_division_data()
    name = "shegong_bench_network"
    reuse = bool(os.environ.get("BENCH_REUSE")) and database_exists(name)
    with fresh_database(name, reuse=reuse):
        from django.db import connection

        from shegong.geo.io import import_divisions
        from shegong.geo.models import Division
        from shegong.network.selectors import coverage, operating_counts_query
        from shegong.network.services import seed_article_standard
        from shegong.workforce.selectors import compliance, compliance_query, standards_on

        started = time.perf_counter()
        if not reuse:
            import_divisions(paths=DIVISION_FILES)
            seed_article_standard()
        with connection.cursor() as cursor:
            if not reuse:
                load(cursor)
            cursor.execute("SELECT count(*) FROM network_facility")
            facilities = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM workforce_posting")
            postings = cursor.fetchone()[0]
        print(
            f"loaded {facilities:,} facilities and {postings:,} postings "
            f"in {time.perf_counter() - started:.0f} s"
        )

        scopes = {
            "city (重庆市, 50)": Division.objects.get(code="50"),
            "nation (all of China)": Division(code="", name="全国", level="nation"),
        }
        print(
            f"\n{'scope':<24}{'platform':>10}{'same SQL':>12}{'ratio':>8}"
            f"{'naive SQL':>12}{'ratio':>8}   F1 / rooms / meeting"
        )
        for label, division in scopes.items():

            def platform(division=division):
                cov = coverage(division=division, as_of=AS_OF)
                comp = compliance(division=division, as_of=AS_OF)
                return cov, comp

            params = {"prefix": f"{division.code}%", "day": AS_OF}
            prefix, day = f"{division.code}%", AS_OF

            def bare(params=params):
                with connection.cursor() as cursor:
                    for sql in (BARE_DIVISIONS, BARE_COVERAGE, BARE_F1, BARE_COMPLIANCE):
                        cursor.execute(sql, params)
                        cursor.fetchall()

            def same_sql(prefix=prefix, day=day, code=division.code):
                """The platform's own statements, run raw: the floor under its overhead."""
                with connection.cursor() as cursor:
                    cursor.execute(BARE_DIVISIONS, {"prefix": prefix})
                    cursor.fetchall()
                    cursor.execute(
                        "SELECT substr(code, 1, 6), COUNT(*) FROM geo_division "
                        "WHERE code LIKE %s AND level = 'town' GROUP BY 1",
                        [prefix],
                    )
                    cursor.fetchall()
                    cursor.execute(*operating_counts_query(prefix=code, day=day))
                    cursor.fetchall()
                    cursor.execute(*compliance_query(standards_on(day), prefix=code, day=day))
                    cursor.fetchall()

            platform()  # warm caches
            bare()
            same_sql()
            # the platform and its own statements alternate, so that a change in the
            # machine's load (it is shared) falls on both alike
            app_best, same_best = best_of_alternating(5, platform, same_sql)
            bare_best, _ = best_of(3, bare)
            cov, comp = platform()
            print(
                f"{label:<24}{app_best * 1000:>8.0f}ms{same_best * 1000:>10.0f}ms"
                f"{app_best / same_best:>7.2f}x{bare_best * 1000:>10.0f}ms"
                f"{app_best / bare_best:>7.2f}x   {cov.fully_covered} / {cov.rooms} / "
                f"{comp.meeting} of {comp.facilities}"
                f"   (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
            )
        print(f"\npeak memory (RSS) {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()

"""Benchmark: the funding ledger at 1 M movements on PostgreSQL (issue #5).

Loads Chongqing's divisions, a county account in each of its 38 counties, a municipal source
for each of 5 years (2020–2024) and 1,000,000 movements written by SQL (allocations from the
year's source to the counties and income into the county accounts; plain inserts, the
append-only trigger stays on), ANALYZE; then times the per-county yearly summary for the
whole city through the platform selector (best of 5) next to the bare SQL that computes the
same numbers. Target: under 300 ms and within 1.5× the bare SQL. Then 50 concurrent
disbursements (threads, each its own connection, through the service) against project
accounts of which only some can pay, and checks the ledger is exact.

    .venv/bin/python benchmarks/ledger.py
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

from _common import fresh_database, peak_rss_mib

MOVEMENTS = 1_000_000
YEARS = range(2020, 2025)

BARE = """
    SELECT county, SUM(appropriated), SUM(allocated), SUM(disbursed), SUM(income),
           SUM(refunded)
    FROM (
        SELECT substr(d.code, 1, 6) AS county,
               CASE WHEN m.kind = 'appropriation' THEN m.amount ELSE 0 END AS appropriated,
               CASE WHEN m.kind = 'allocation' AND (fd.code IS NULL
                         OR substr(fd.code, 1, 6) <> substr(d.code, 1, 6))
                    THEN m.amount ELSE 0 END AS allocated,
               0 AS disbursed,
               CASE WHEN m.kind = 'income' THEN m.amount ELSE 0 END AS income,
               CASE WHEN m.kind = 'refund' THEN m.amount ELSE 0 END AS refunded
        FROM funding_movement m
        JOIN funding_account a ON a.id = m.to_account_id
        JOIN geo_division d ON d.id = a.division_id
        LEFT JOIN funding_account fa ON fa.id = m.from_account_id
        LEFT JOIN geo_division fd ON fd.id = fa.division_id
        WHERE m.occurred_on >= %s AND m.occurred_on < %s AND d.code LIKE '50%%'
        UNION ALL
        SELECT substr(fd.code, 1, 6), 0, 0, m.amount, 0, 0
        FROM funding_movement m
        JOIN funding_account fa ON fa.id = m.from_account_id
        JOIN geo_division fd ON fd.id = fa.division_id
        WHERE m.occurred_on >= %s AND m.occurred_on < %s AND m.kind = 'disbursement'
          AND fd.code LIKE '50%%'
    ) x
    GROUP BY 1 ORDER BY 1
"""


def load(cursor) -> None:
    cursor.execute("SELECT id FROM geo_division WHERE code = '50'")
    city = cursor.fetchone()[0]
    for year in YEARS:
        cursor.execute(
            "INSERT INTO funding_fundsource (name, kind, owner_level, division_id, year) "
            "VALUES (%s, 'municipal_purchase', 'city', %s, %s) RETURNING id",
            [f"市级购买服务 {year}", city, year],
        )
        source = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO funding_account (name, kind, division_id, source_id, created_at) "
            "VALUES (%s, 'source', %s, %s, now())",
            [f"市级购买服务 {year}", city, source],
        )
    cursor.execute(
        """
        INSERT INTO funding_account (name, kind, division_id, created_at)
        SELECT name, 'county', id, now() FROM geo_division
        WHERE level = 'county' AND code LIKE '50%' ORDER BY code
        """
    )
    cursor.execute("SELECT array_agg(id ORDER BY id) FROM funding_account WHERE kind = 'county'")
    counties = cursor.fetchone()[0]
    cursor.execute("SELECT array_agg(id ORDER BY id) FROM funding_account WHERE kind = 'source'")
    sources = cursor.fetchone()[0]
    # each year: the source's budget appropriated, then allocations and income
    for i, year in enumerate(YEARS):
        cursor.execute(
            "INSERT INTO funding_movement (kind, to_account_id, amount, occurred_on, memo, "
            "recorded_at) VALUES ('appropriation', %s, 32500000000, %s, '', now())",
            [sources[i], date(year, 1, 2)],
        )
    per_year = MOVEMENTS // len(YEARS) - 1
    cursor.execute(
        f"""
        INSERT INTO funding_movement (kind, from_account_id, to_account_id, amount, occurred_on,
                                      memo, recorded_at)
        SELECT CASE WHEN g %% 4 = 0 THEN 'income' ELSE 'allocation' END,
               CASE WHEN g %% 4 = 0 THEN NULL
                    ELSE (%(sources)s::bigint[])[1 + (g / {per_year}) %% 5] END,
               (%(counties)s::bigint[])[1 + g %% 38],
               (1 + g %% 9973) / 100.0 + 10,
               make_date(2020 + ((g / {per_year}) %% 5)::int, 1, 3) + (g %% 360),
               '', now()
        FROM generate_series(0, {per_year * len(YEARS) - 1}) g
        """,
        {"sources": sources, "counties": counties},
    )
    cursor.execute("ANALYZE")


def best_of(n, fn):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def concurrent_disbursements() -> None:
    """50 threads pay ¥1,000 each from 10 project accounts holding ¥3,500 each: exactly 3
    per account (30) can be paid."""
    from django.db import connections

    from shegong.accounts.models import User
    from shegong.core.roles import Role
    from shegong.funding import services
    from shegong.funding.models import Account, Movement
    from shegong.funding.selectors import account_balance, balances
    from shegong.geo.models import Division
    from shegong.network.models import SocialOrganisation
    from shegong.network.services import facility_create
    from shegong.projects.models import PaymentMilestone, Project

    town = Division.objects.get(code="500105001")
    county = User.objects.create(
        username="bench-county",
        role=Role.COUNTY_STAFF,
        division=Division.objects.get(code="500105"),
    )
    station = facility_create(
        actor=None,
        tier="station",
        division=town,
        name="站",
        status="operating",
        status_from=date(2020, 1, 1),
    )
    county_account = Account.objects.get(kind="county", division__code="500105")
    jobs = []
    for i in range(10):
        firm = SocialOrganisation.objects.create(
            name=f"机构{i}", uscc=f"BENCHAGENCY{i:04d}", division=town
        )
        project = Project.objects.create(
            code=f"BENCH-{i}",
            name=f"项目{i}",
            purchase_model="project",
            focus="special_groups",
            area=town,
            purchaser=station,
            agency=firm,
            starts_on=date(2024, 1, 1),
            ends_on=date(2024, 12, 31),
            budget=Decimal("10000"),
            stage="in_progress",
        )
        paying = services.account_create(actor=county, kind="project", project=project)
        payee = services.account_create(actor=county, kind="payee", organisation=firm)
        services.allocate(
            actor=county,
            from_account=county_account,
            to_account=paying,
            amount="3500",
            occurred_on=date(2024, 6, 1),
        )
        for k in range(5):
            milestone = PaymentMilestone.objects.create(
                project=project, name=f"第{k}期", due_on=date(2024, 6, 1), amount=Decimal("1000")
            )
            jobs.append((milestone, paying, payee))
    barrier = threading.Barrier(len(jobs))
    results = []

    def pay(milestone, paying, payee):
        try:
            barrier.wait()
            services.disburse(
                actor=county,
                milestone=milestone,
                from_account=paying,
                to_account=payee,
                amount="1000",
                occurred_on=date(2024, 6, 2),
            )
            results.append("paid")
        except Exception as exc:
            results.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=job) for job in jobs]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    paying_ids = {p.pk for _, p, _ in jobs}
    accounts = Account.objects.filter(pk__in=paying_ids | {p.pk for _, _, p in jobs})
    grouped = balances(accounts)
    exact = all(grouped[a.pk] == account_balance(a) for a in accounts)
    non_negative = all(v >= 0 for v in grouped.values())
    paid = results.count("paid")
    disbursed = sum(
        m.amount for m in Movement.objects.filter(kind="disbursement", from_account__in=paying_ids)
    )
    print(
        f"\n50 concurrent disbursements in {elapsed:.2f} s: {paid} paid (expected 30), "
        f"{len(results) - paid} refused ({sorted(set(results) - {'paid'})}); "
        f"disbursed ¥{disbursed} (expected ¥30000.00); balances ≥ 0: {non_negative}; "
        f"grouped = per-account sums: {exact}; project balances: "
        f"{sorted({str(grouped[pk]) for pk in paying_ids})}"
    )


def main() -> None:
    with fresh_database("shegong_bench_ledger"):
        from django.db import connection

        from shegong.funding.selectors import county_summary, county_summary_sql
        from shegong.geo.io import import_divisions
        from shegong.geo.management.commands.import_divisions import shipped_chongqing_files
        from shegong.geo.models import Division

        started = time.perf_counter()
        import_divisions(paths=shipped_chongqing_files())
        with connection.cursor() as cursor:
            load(cursor)
            cursor.execute("SELECT count(*) FROM funding_movement")
            count = cursor.fetchone()[0]
        print(f"loaded {count:,} movements in {time.perf_counter() - started:.0f} s")
        city = Division.objects.get(code="50")
        start, end = date(2024, 1, 1), date(2025, 1, 1)

        def platform():
            return county_summary(division=city, year=2024)

        def same_sql():
            with connection.cursor() as cursor:
                cursor.execute(county_summary_sql(), [start, end, start, end, "50%"])
                return cursor.fetchall()

        def bare():
            with connection.cursor() as cursor:
                cursor.execute(BARE, [start, end, start, end])
                return cursor.fetchall()

        platform(), same_sql(), bare()
        rows = platform()
        bare_rows = bare()
        same = {
            r.code: (r.appropriated, r.allocated, r.disbursed, r.income, r.refunded) for r in rows
        } == {r[0]: tuple(Decimal(v).quantize(Decimal("0.01")) for v in r[1:]) for r in bare_rows}
        app, own, raw = best_of(5, platform), best_of(5, same_sql), best_of(5, bare)
        print(
            f"per-county summary, whole city, 2024 ({len(rows)} rows): platform "
            f"{app * 1000:.0f} ms; its SQL alone {own * 1000:.0f} ms; bare SQL "
            f"{raw * 1000:.0f} ms; ratio platform/bare {app / raw:.2f}x; same numbers: {same}"
        )
        concurrent_disbursements()
        print(f"\npeak memory (RSS) {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()

"""Monthly totals of service records per county (``ServiceMonthTotal``), kept by triggers.

Statistics for a county or a wider area sum whole months from these rows instead of
scanning every service record (10 M of them take seconds; their totals, milliseconds). The
totals are derived, never typed in: the database keeps each row equal to the sums over the
records, whoever writes them (services, the demo's bulk inserts, raw SQL):

- a record inserted adds itself to the row of its county (the first six digits of its
  division's code), month, target group, domain and method; one deleted takes itself
  away; one changed in any of those or in its person-times moves from the old row to the
  new;
- a division's code change (``geo.services.division_change_code``) that gives it another
  county moves its records' totals from the old county's rows to the new one's.

Rows whose records all went away stay with zero records; readers skip them. On
PostgreSQL the record trigger reads the division's code ``FOR KEY SHARE`` (as the foreign
key check does at commit) on both sides of a change, so that a record written, changed or
deleted while its division is being recoded waits and counts under one code; recodes move
totals one at a time (an advisory lock), so that two cannot deadlock. ``county_code`` uses the "C" collation, as
``geo_division.code`` does, so that an area prefix is a range of the unique index.

SQLite drops a table's triggers when Django remakes the table: a later migration that
remakes ``casework_servicerecord`` or ``geo_division`` there must run ``SQLITE_UP`` again
(tests/casework/test_month_totals.py would fail otherwise).
"""

from django.db import migrations, models

TOTAL = "casework_servicemonthtotal"
RECORD = "casework_servicerecord"
KEY = "county_code, month, target_group, domain, method"
COLUMNS = f"{KEY}, records, person_times, poverty_person_times"
ADD = (  # the upsert's sums: PostgreSQL names the row "t"; SQLite has no alias there
    "records = t.records + EXCLUDED.records, "
    "person_times = t.person_times + EXCLUDED.person_times, "
    "poverty_person_times = t.poverty_person_times + EXCLUDED.poverty_person_times"
)
SQLITE_ADD = (
    "records = records + excluded.records, "
    "person_times = person_times + excluded.person_times, "
    "poverty_person_times = poverty_person_times + excluded.poverty_person_times"
)


# The columns a record's totals depend on; an update that changes none of them (its notes,
# say) does not touch the totals.
COUNTED = "division_id, served_on, target_group, domain, method, person_times, poverty_alleviation"
CHANGED = " OR ".join(
    f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COUNTED.split(", ")
)


def _month(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"date_trunc('month', {column}::timestamp)::date"
    return f"date({column}, 'start of month')"


def _poverty(prefix: str) -> str:
    return f"CASE WHEN {prefix}poverty_alleviation THEN {prefix}person_times ELSE 0 END"


def _division_sums(vendor: str) -> str:
    """A division's records summed by month, target group, domain and method."""
    return (
        f"SELECT {_month(vendor, 'served_on')} AS month, target_group, domain, method, "
        "count(*) AS records, sum(person_times) AS person_times, "
        f"sum({_poverty('')}) AS poverty_person_times "
        f"FROM {RECORD} WHERE division_id = NEW.id GROUP BY 1, 2, 3, 4"
    )


POSTGRES_UP = [
    f'ALTER TABLE {TOTAL} ALTER COLUMN county_code TYPE varchar(6) COLLATE "C";',
    f"""CREATE OR REPLACE FUNCTION casework_month_total_record() RETURNS trigger AS $$
    DECLARE
        county varchar(6);
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            SELECT substr(code, 1, 6) INTO county FROM geo_division
            WHERE id = OLD.division_id FOR KEY SHARE;
            UPDATE {TOTAL} t SET records = t.records - 1,
                person_times = t.person_times - OLD.person_times,
                poverty_person_times = t.poverty_person_times - {_poverty("OLD.")}
            WHERE t.county_code = county
              AND t.month = {_month("postgresql", "OLD.served_on")}
              AND t.target_group = OLD.target_group AND t.domain = OLD.domain
              AND t.method = OLD.method;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            SELECT substr(code, 1, 6) INTO county FROM geo_division
            WHERE id = NEW.division_id FOR KEY SHARE;
            INSERT INTO {TOTAL} AS t ({COLUMNS})
            VALUES (county, {_month("postgresql", "NEW.served_on")}, NEW.target_group,
                    NEW.domain, NEW.method, 1, NEW.person_times, {_poverty("NEW.")})
            ON CONFLICT ({KEY}) DO UPDATE SET {ADD};
        END IF;
        RETURN NULL;
    END; $$ LANGUAGE plpgsql;""",
    f"CREATE TRIGGER casework_month_total_record AFTER INSERT OR DELETE ON {RECORD} "
    "FOR EACH ROW EXECUTE FUNCTION casework_month_total_record();",
    f"CREATE TRIGGER casework_month_total_record_update AFTER UPDATE OF {COUNTED} ON {RECORD} "
    f"FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION casework_month_total_record();",
    f"""CREATE OR REPLACE FUNCTION casework_month_total_follow_division() RETURNS trigger AS $$
    BEGIN
        -- one recode at a time moves totals: two moving rows of the same county in
        -- different orders would deadlock
        PERFORM pg_advisory_xact_lock(hashtext('casework_month_total_follow_division'));
        UPDATE {TOTAL} t SET records = t.records - s.records,
            person_times = t.person_times - s.person_times,
            poverty_person_times = t.poverty_person_times - s.poverty_person_times
        FROM ({_division_sums("postgresql")}) s
        WHERE t.county_code = substr(OLD.code, 1, 6) AND t.month = s.month
          AND t.target_group = s.target_group AND t.domain = s.domain
          AND t.method = s.method;
        INSERT INTO {TOTAL} AS t ({COLUMNS})
        SELECT substr(NEW.code, 1, 6), s.* FROM ({_division_sums("postgresql")}) s
        ON CONFLICT ({KEY}) DO UPDATE SET {ADD};
        RETURN NULL;
    END; $$ LANGUAGE plpgsql;""",
    "CREATE TRIGGER casework_month_total_follow_division AFTER UPDATE OF code ON geo_division "
    "FOR EACH ROW WHEN (substr(OLD.code, 1, 6) IS DISTINCT FROM substr(NEW.code, 1, 6)) "
    "EXECUTE FUNCTION casework_month_total_follow_division();",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS casework_month_total_record ON {RECORD};",
    f"DROP TRIGGER IF EXISTS casework_month_total_record_update ON {RECORD};",
    "DROP TRIGGER IF EXISTS casework_month_total_follow_division ON geo_division;",
    "DROP FUNCTION IF EXISTS casework_month_total_record();",
    "DROP FUNCTION IF EXISTS casework_month_total_follow_division();",
]


def _sqlite_take(row: str) -> str:
    return (
        f"UPDATE {TOTAL} SET records = records - 1, "
        f"person_times = person_times - {row}.person_times, "
        f"poverty_person_times = poverty_person_times - {_poverty(row + '.')} "
        f"WHERE county_code = (SELECT substr(code, 1, 6) FROM geo_division "
        f"WHERE id = {row}.division_id) "
        f"AND month = {_month('sqlite', row + '.served_on')} "
        f"AND target_group = {row}.target_group AND domain = {row}.domain "
        f"AND method = {row}.method;"
    )


_SQLITE_ADD_NEW = (
    f"INSERT INTO {TOTAL} ({COLUMNS}) "
    f"SELECT substr(d.code, 1, 6), {_month('sqlite', 'NEW.served_on')}, NEW.target_group, "
    f"NEW.domain, NEW.method, 1, NEW.person_times, {_poverty('NEW.')} "
    "FROM geo_division d WHERE d.id = NEW.division_id "
    f"ON CONFLICT ({KEY}) DO UPDATE SET {SQLITE_ADD};"
)
SQLITE_UP = [
    f"CREATE TRIGGER casework_month_total_insert AFTER INSERT ON {RECORD} "
    f"BEGIN {_SQLITE_ADD_NEW} END;",
    f"CREATE TRIGGER casework_month_total_delete AFTER DELETE ON {RECORD} "
    f"BEGIN {_sqlite_take('OLD')} END;",
    f"CREATE TRIGGER casework_month_total_update AFTER UPDATE OF {COUNTED} ON {RECORD} "
    f"WHEN {CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
    f"BEGIN {_sqlite_take('OLD')} {_SQLITE_ADD_NEW} END;",
    "CREATE TRIGGER casework_month_total_follow_division AFTER UPDATE OF code ON geo_division "
    "WHEN substr(OLD.code, 1, 6) IS NOT substr(NEW.code, 1, 6) BEGIN "
    f"UPDATE {TOTAL} SET records = {TOTAL}.records - s.records, "
    f"person_times = {TOTAL}.person_times - s.person_times, "
    f"poverty_person_times = {TOTAL}.poverty_person_times - s.poverty_person_times "
    f"FROM ({_division_sums('sqlite')}) AS s "
    f"WHERE {TOTAL}.county_code = substr(OLD.code, 1, 6) AND {TOTAL}.month = s.month "
    f"AND {TOTAL}.target_group = s.target_group AND {TOTAL}.domain = s.domain "
    f"AND {TOTAL}.method = s.method; "
    f"INSERT INTO {TOTAL} ({COLUMNS}) "
    f"SELECT substr(NEW.code, 1, 6), s.* FROM ({_division_sums('sqlite')}) AS s WHERE true "
    f"ON CONFLICT ({KEY}) DO UPDATE SET {SQLITE_ADD}; END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS casework_month_total_insert;",
    "DROP TRIGGER IF EXISTS casework_month_total_delete;",
    "DROP TRIGGER IF EXISTS casework_month_total_update;",
    "DROP TRIGGER IF EXISTS casework_month_total_follow_division;",
]


def _backfill(vendor: str) -> str:
    return (
        f"INSERT INTO {TOTAL} ({COLUMNS}) "
        f"SELECT substr(d.code, 1, 6), {_month(vendor, 'r.served_on')}, r.target_group, "
        "r.domain, r.method, count(*), sum(r.person_times), "
        f"sum({_poverty('r.')}) FROM {RECORD} r JOIN geo_division d ON d.id = r.division_id "
        "GROUP BY 1, 2, 3, 4, 5"
    )


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0002_record_indexes"),
        ("geo", "0004_division_code_one_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ServiceMonthTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("county_code", models.CharField(max_length=6, verbose_name="county code")),
                ("month", models.DateField(verbose_name="month")),
                (
                    "target_group",
                    models.CharField(blank=True, max_length=32, verbose_name="target group"),
                ),
                ("domain", models.CharField(max_length=32, verbose_name="domain")),
                ("method", models.CharField(max_length=16, verbose_name="method")),
                ("records", models.BigIntegerField(default=0, verbose_name="records")),
                (
                    "person_times",
                    models.BigIntegerField(default=0, verbose_name="person-times"),
                ),
                (
                    "poverty_person_times",
                    models.BigIntegerField(
                        default=0, verbose_name="person-times of poverty-alleviation services"
                    ),
                ),
            ],
            options={
                "verbose_name": "monthly service total",
                "verbose_name_plural": "monthly service totals",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("county_code", "month", "target_group", "domain", "method"),
                        name="casework_month_total_key",
                    )
                ],
            },
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
        migrations.RunPython(
            _run({v: [_backfill(v)] for v in ("sqlite", "postgresql")}),
            migrations.RunPython.noop,
        ),
    ]

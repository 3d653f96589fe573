"""Postings carry their facility's division code (empty without a facility).

The full-time postings of an area are then one range of the index
``workforce_posting_full_time``, in (division code, facility) order like the operating
periods' index (network 0002), so compliance for a whole country merges the two indexes
instead of joining facilities and divisions. No figure is stored.

The database keeps the copy in step, whoever writes: on insert and on an update that
touches the facility or the copy it is set from the facility's division; it follows a
division's code change (``geo.services.division_change_code``) and a change of a
facility's division (the services never make one).

PostgreSQL: "C" collation, as for ``geo_division.code``, so that a code prefix is an index
range. SQLite drops a table's triggers when Django remakes the table: a later migration
that remakes ``workforce_posting``, ``network_facility`` or ``geo_division`` there must run
``SQLITE_UP`` again (tests/workforce/test_posting_scope_copy.py would fail otherwise).
"""

from django.db import migrations, models

POSTING = "workforce_posting"
CODE = (
    "(SELECT d.code FROM network_facility f JOIN geo_division d ON d.id = f.division_id "
    "WHERE f.id = NEW.facility_id)"
)

POSTGRES_UP = [
    f"""CREATE OR REPLACE FUNCTION workforce_posting_copy() RETURNS trigger AS $$
    BEGIN
        NEW.facility_division_code := COALESCE({CODE}, '');
        RETURN NEW;
    END; $$ LANGUAGE plpgsql;""",
    "CREATE TRIGGER workforce_posting_copy BEFORE INSERT OR UPDATE OF facility_id, "
    f"facility_division_code ON {POSTING} "
    "FOR EACH ROW EXECUTE FUNCTION workforce_posting_copy();",
    f"""CREATE OR REPLACE FUNCTION workforce_posting_follow_division() RETURNS trigger AS $$
    BEGIN
        UPDATE {POSTING} p SET facility_division_code = NEW.code
        FROM network_facility f WHERE f.division_id = NEW.id AND p.facility_id = f.id;
        RETURN NULL;
    END; $$ LANGUAGE plpgsql;""",
    "CREATE TRIGGER workforce_posting_follow_division AFTER UPDATE OF code ON geo_division "
    "FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) "
    "EXECUTE FUNCTION workforce_posting_follow_division();",
    f"""CREATE OR REPLACE FUNCTION workforce_posting_follow_facility() RETURNS trigger AS $$
    BEGIN
        UPDATE {POSTING} SET facility_division_code =
            (SELECT code FROM geo_division WHERE id = NEW.division_id)
        WHERE facility_id = NEW.id;
        RETURN NULL;
    END; $$ LANGUAGE plpgsql;""",
    "CREATE TRIGGER workforce_posting_follow_facility AFTER UPDATE OF division_id "
    "ON network_facility FOR EACH ROW WHEN (OLD.division_id IS DISTINCT FROM NEW.division_id) "
    "EXECUTE FUNCTION workforce_posting_follow_facility();",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS workforce_posting_copy ON {POSTING};",
    "DROP TRIGGER IF EXISTS workforce_posting_follow_division ON geo_division;",
    "DROP TRIGGER IF EXISTS workforce_posting_follow_facility ON network_facility;",
    "DROP FUNCTION IF EXISTS workforce_posting_copy();",
    "DROP FUNCTION IF EXISTS workforce_posting_follow_division();",
    "DROP FUNCTION IF EXISTS workforce_posting_follow_facility();",
]

_SET_FROM_FACILITY = (
    f"UPDATE {POSTING} SET facility_division_code = COALESCE({CODE}, '') WHERE id = NEW.id;"
)
SQLITE_UP = [
    f"CREATE TRIGGER workforce_posting_copy_insert AFTER INSERT ON {POSTING} "
    f"BEGIN {_SET_FROM_FACILITY} END;",
    # The WHEN clause also stops the trigger's own UPDATE from firing it again.
    "CREATE TRIGGER workforce_posting_copy_update AFTER UPDATE OF facility_id, "
    f"facility_division_code ON {POSTING} "
    f"WHEN NEW.facility_division_code IS NOT COALESCE({CODE}, '') "
    f"BEGIN {_SET_FROM_FACILITY} END;",
    "CREATE TRIGGER workforce_posting_follow_division AFTER UPDATE OF code ON geo_division "
    "WHEN OLD.code IS NOT NEW.code "
    f"BEGIN UPDATE {POSTING} SET facility_division_code = NEW.code "
    "WHERE facility_id IN (SELECT id FROM network_facility WHERE division_id = NEW.id); END;",
    "CREATE TRIGGER workforce_posting_follow_facility AFTER UPDATE OF division_id "
    "ON network_facility WHEN OLD.division_id IS NOT NEW.division_id "
    f"BEGIN UPDATE {POSTING} SET facility_division_code = "
    "(SELECT code FROM geo_division WHERE id = NEW.division_id) "
    "WHERE facility_id = NEW.id; END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS workforce_posting_copy_insert;",
    "DROP TRIGGER IF EXISTS workforce_posting_copy_update;",
    "DROP TRIGGER IF EXISTS workforce_posting_follow_division;",
    "DROP TRIGGER IF EXISTS workforce_posting_follow_facility;",
]

BACKFILL = {
    "postgresql": [
        f"UPDATE {POSTING} p SET facility_division_code = d.code "
        "FROM network_facility f JOIN geo_division d ON d.id = f.division_id "
        "WHERE f.id = p.facility_id;"
    ],
    "sqlite": [
        f"UPDATE {POSTING} SET facility_division_code = (SELECT d.code FROM network_facility f "
        "JOIN geo_division d ON d.id = f.division_id WHERE f.id = facility_id) "
        "WHERE facility_id IS NOT NULL;"
    ],
}
COLLATION_UP = {
    "postgresql": [
        f"ALTER TABLE {POSTING} ALTER COLUMN facility_division_code TYPE varchar(12) "
        'COLLATE "C";'
    ]
}
COLLATION_DOWN = {
    "postgresql": [
        f"ALTER TABLE {POSTING} ALTER COLUMN facility_division_code TYPE varchar(12) "
        'COLLATE "default";'
    ]
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0003_population_poverty_designation"),
        ("network", "0002_period_scope_copies"),
        ("workforce", "0005_award_scheme_category"),
    ]

    operations = [
        migrations.AddField(
            model_name="posting",
            name="facility_division_code",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                max_length=12,
                verbose_name="facility's division code",
            ),
        ),
        migrations.RunPython(_run(COLLATION_UP), _run(COLLATION_DOWN)),
        migrations.RunPython(_run(BACKFILL), migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="posting",
            index=models.Index(
                condition=models.Q(
                    ("employment", "full_time"),
                    models.Q(("facility_division_code", ""), _negated=True),
                ),
                fields=["facility_division_code", "facility", "started_on", "ended_on"],
                name="workforce_posting_full_time",
            ),
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]

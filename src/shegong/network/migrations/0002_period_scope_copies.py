"""Status periods carry their facility's tier and their division's code and kind.

Coverage and compliance "as of a date" for a whole country read every operating period of
the area; with these copies an area is one range of the index ``network_period_operating``
(operating periods in division-code order, read index-only), with no join to the
facilities and divisions. No figure is stored: the periods are still the only source.

The database keeps the copies in step, whoever writes (services, bulk imports, raw SQL):

- on insert, and on an update that touches the facility or a copy, they are set from the
  facility and its division;
- a division's code change (``geo.services.division_change_code``) or reclassification
  (``geo.io``) is followed by the periods of its facilities;
- so is a change of a facility's division or tier (the services never make one).

PostgreSQL: the code copy uses the "C" collation like ``geo_division.code`` (geo 0002), so
that ``division_code LIKE '500105%'`` is an index range. SQLite compares bytes already.
SQLite drops a table's triggers when Django remakes the table: a later migration that
remakes ``network_facilitystatusperiod``, ``network_facility`` or ``geo_division`` there
must run ``SQLITE_UP`` again (tests/network/test_scope_copies.py would fail otherwise).
"""

from django.db import migrations, models

PERIOD = "network_facilitystatusperiod"
SOURCE = (
    "FROM network_facility f JOIN geo_division d ON d.id = f.division_id "
    "WHERE f.id = NEW.facility_id"
)

POSTGRES_UP = [
    f"""CREATE OR REPLACE FUNCTION network_period_copy() RETURNS trigger AS $$
    BEGIN
        SELECT f.tier, d.code, d.kind INTO NEW.tier, NEW.division_code, NEW.division_kind
        {SOURCE};
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                MESSAGE = 'facility ' || NEW.facility_id || ' does not exist';
        END IF;
        RETURN NEW;
    END; $$ LANGUAGE plpgsql;""",
    f"CREATE TRIGGER network_period_copy BEFORE INSERT OR UPDATE OF facility_id, tier, "
    f"division_code, division_kind ON {PERIOD} "
    "FOR EACH ROW EXECUTE FUNCTION network_period_copy();",
    f"""CREATE OR REPLACE FUNCTION network_period_follow_division() RETURNS trigger AS $$
    BEGIN
        UPDATE {PERIOD} p SET division_code = NEW.code, division_kind = NEW.kind
        FROM network_facility f WHERE f.division_id = NEW.id AND p.facility_id = f.id;
        RETURN NULL;
    END; $$ LANGUAGE plpgsql;""",
    "CREATE TRIGGER network_period_follow_division AFTER UPDATE OF code, kind ON geo_division "
    "FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code OR OLD.kind IS DISTINCT FROM NEW.kind) "
    "EXECUTE FUNCTION network_period_follow_division();",
    f"""CREATE OR REPLACE FUNCTION network_period_follow_facility() RETURNS trigger AS $$
    BEGIN
        UPDATE {PERIOD} SET tier = NEW.tier WHERE facility_id = NEW.id;
        RETURN NULL;
    END; $$ LANGUAGE plpgsql;""",
    "CREATE TRIGGER network_period_follow_facility AFTER UPDATE OF division_id, tier "
    "ON network_facility FOR EACH ROW WHEN (OLD.division_id IS DISTINCT FROM NEW.division_id "
    "OR OLD.tier IS DISTINCT FROM NEW.tier) EXECUTE FUNCTION network_period_follow_facility();",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS network_period_copy ON {PERIOD};",
    "DROP TRIGGER IF EXISTS network_period_follow_division ON geo_division;",
    "DROP TRIGGER IF EXISTS network_period_follow_facility ON network_facility;",
    "DROP FUNCTION IF EXISTS network_period_copy();",
    "DROP FUNCTION IF EXISTS network_period_follow_division();",
    "DROP FUNCTION IF EXISTS network_period_follow_facility();",
]

_TIER = "(SELECT f.tier FROM network_facility f WHERE f.id = NEW.facility_id)"
_CODE = f"(SELECT d.code {SOURCE})"
_KIND = f"(SELECT d.kind {SOURCE})"
_SET_FROM_FACILITY = (
    f"UPDATE {PERIOD} SET tier = {_TIER}, division_code = {_CODE}, division_kind = {_KIND} "
    "WHERE id = NEW.id;"
)
SQLITE_UP = [
    f"CREATE TRIGGER network_period_copy_insert AFTER INSERT ON {PERIOD} "
    f"BEGIN {_SET_FROM_FACILITY} END;",
    # The WHEN clause also stops the trigger's own UPDATE from firing it again.
    f"CREATE TRIGGER network_period_copy_update AFTER UPDATE OF facility_id, tier, "
    f"division_code, division_kind ON {PERIOD} "
    f"WHEN NEW.tier IS NOT {_TIER} OR NEW.division_code IS NOT {_CODE} "
    f"OR NEW.division_kind IS NOT {_KIND} "
    f"BEGIN {_SET_FROM_FACILITY} END;",
    "CREATE TRIGGER network_period_follow_division AFTER UPDATE OF code, kind ON geo_division "
    "WHEN OLD.code IS NOT NEW.code OR OLD.kind IS NOT NEW.kind "
    f"BEGIN UPDATE {PERIOD} SET division_code = NEW.code, division_kind = NEW.kind "
    "WHERE facility_id IN (SELECT id FROM network_facility WHERE division_id = NEW.id); END;",
    "CREATE TRIGGER network_period_follow_facility AFTER UPDATE OF division_id, tier "
    "ON network_facility WHEN OLD.division_id IS NOT NEW.division_id OR OLD.tier IS NOT NEW.tier "
    f"BEGIN UPDATE {PERIOD} SET tier = NEW.tier, "
    "division_code = (SELECT code FROM geo_division WHERE id = NEW.division_id), "
    "division_kind = (SELECT kind FROM geo_division WHERE id = NEW.division_id) "
    "WHERE facility_id = NEW.id; END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS network_period_copy_insert;",
    "DROP TRIGGER IF EXISTS network_period_copy_update;",
    "DROP TRIGGER IF EXISTS network_period_follow_division;",
    "DROP TRIGGER IF EXISTS network_period_follow_facility;",
]

BACKFILL = {
    "postgresql": [
        f"UPDATE {PERIOD} p SET tier = f.tier, division_code = d.code, division_kind = d.kind "
        "FROM network_facility f JOIN geo_division d ON d.id = f.division_id "
        "WHERE f.id = p.facility_id;"
    ],
    "sqlite": [
        f"UPDATE {PERIOD} SET "
        "tier = (SELECT f.tier FROM network_facility f WHERE f.id = facility_id), "
        "division_code = (SELECT d.code FROM network_facility f JOIN geo_division d "
        "ON d.id = f.division_id WHERE f.id = facility_id), "
        "division_kind = (SELECT d.kind FROM network_facility f JOIN geo_division d "
        "ON d.id = f.division_id WHERE f.id = facility_id);"
    ],
}
COLLATION_UP = {
    "postgresql": [f'ALTER TABLE {PERIOD} ALTER COLUMN division_code TYPE varchar(12) COLLATE "C";']
}
COLLATION_DOWN = {
    "postgresql": [
        f'ALTER TABLE {PERIOD} ALTER COLUMN division_code TYPE varchar(12) COLLATE "default";'
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
        ("network", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="facilitystatusperiod",
            name="division_code",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=12, verbose_name="division code"
            ),
        ),
        migrations.AddField(
            model_name="facilitystatusperiod",
            name="division_kind",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=16, verbose_name="division kind"
            ),
        ),
        migrations.AddField(
            model_name="facilitystatusperiod",
            name="tier",
            field=models.CharField(
                blank=True,
                choices=[
                    ("centre", "Guidance centre"),
                    ("station", "Social work station"),
                    ("room", "Social work room"),
                ],
                default="",
                editable=False,
                max_length=8,
                verbose_name="tier",
            ),
        ),
        migrations.RunPython(_run(COLLATION_UP), _run(COLLATION_DOWN)),
        migrations.RunPython(_run(BACKFILL), migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="facilitystatusperiod",
            index=models.Index(
                condition=models.Q(("status", "operating")),
                fields=[
                    "division_code",
                    "facility",
                    "tier",
                    "division_kind",
                    "valid_from",
                    "valid_to",
                ],
                name="network_period_operating",
            ),
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]

"""Database triggers that refuse changes to audit rows.

PostgreSQL refuses UPDATE and DELETE row by row; TRUNCATE is left to the table owner (Django's
test flush uses it; production grants the application role no TRUNCATE, see docs/deployment.md).
"""

from django.db import migrations

TABLE = "core_auditevent"

# SQLite: UPDATE is refused; DELETE stays possible for a database owner (Django's flush,
# retention), and the hash chain shows any row that goes missing.
SQLITE_UP = [
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update;"]

POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION shegong_audit_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;""",
    f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION shegong_audit_append_only();",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};",
    "DROP FUNCTION IF EXISTS shegong_audit_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]

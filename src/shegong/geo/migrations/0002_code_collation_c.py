"""PostgreSQL: division codes compare byte-wise ("C" collation).

Codes are digits, so ordering is unchanged; the unique index on code then also serves the
prefix (subtree) queries ``code LIKE '500105%'``, and index maintenance on a 665,000-row
import avoids the locale's slow string comparison. SQLite compares bytes already.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE geo_division ALTER COLUMN code TYPE varchar(12) COLLATE "C"'
        )
        schema_editor.execute(
            'ALTER TABLE geo_divisionchange ALTER COLUMN old_code TYPE varchar(12) COLLATE "C"'
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE geo_division ALTER COLUMN code TYPE varchar(12) COLLATE "default"'
        )
        schema_editor.execute(
            "ALTER TABLE geo_divisionchange ALTER COLUMN old_code TYPE varchar(12) "
            'COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

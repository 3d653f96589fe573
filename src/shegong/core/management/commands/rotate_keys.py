"""`shegong rotate_keys`: re-encrypt personal data with the newest encryption key.

Put the new key first in SHEGONG_ENCRYPTION_KEYS (keep the old ones after it), run this,
then remove the old keys once it reports success.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from shegong.core.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column with the first key of SHEGONG_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table = model._meta.db_table
            pk = model._meta.pk.column
            for field in fields:
                column = field.column
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''"  # noqa: S608
                    )
                    rows = cursor.fetchall()
                    cursor.executemany(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                        [(rotate(value), key) for key, value in rows],
                    )
                total += len(rows)
                self.stdout.write(f"{table}.{column}: {len(rows)} values re-encrypted")
        self.stdout.write(f"done: {total} values")

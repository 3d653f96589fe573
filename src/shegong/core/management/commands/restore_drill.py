"""`shegong restore_drill`: back the database up, restore it into a scratch copy, check the
copy with the platform's own checks, drop it (security.md 22; docs/operations.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shegong.core.drill import DrillFailed, restore_drill


class Command(BaseCommand):
    help = (
        "Restore drill: back up the database (pg_dump, or SQLite's online backup), restore "
        "it into a scratch database, check it (migrations, audit chain, monthly service "
        "totals, row counts) and drop it. Exit status 1 if anything fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=Path, help="Leave the backup file in this folder.")

    def handle(self, *args, keep=None, **options):
        try:
            report = restore_drill(keep=keep)
        except DrillFailed as exc:
            raise CommandError(f"restore drill failed: {exc}") from exc
        for name, said in report.checks.items():
            self.stdout.write(f"{name}: {said}")
        rows = sum(report.rows.values())
        self.stdout.write(
            f"restore drill passed ({report.backend}): backup {report.backup_bytes:,} bytes, "
            f"{len(report.rows)} tables, {rows:,} rows, audit events {report.audit_events:,}, "
            f"{report.seconds:.1f} s"
        )

"""`shegong casework_retention`: anonymise residents no longer served and delete old
break-the-glass grants (security.md 18; schedule in docs/retention.md)."""

from django.core.management.base import BaseCommand

from shegong.casework.retention import run_retention


class Command(BaseCommand):
    help = (
        "Anonymise residents whose last service, case activity or status ended longer ago "
        "than SHEGONG_RETENTION_YEARS (default 10) and who have no open case; delete "
        "break-the-glass grants that expired more than a year ago. --dry-run only counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be done; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        report = run_retention(dry_run=dry_run)
        verb = "would anonymise" if dry_run else "anonymised"
        grants = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"retention (activity before {report.cutoff.isoformat()}): {verb} "
            f"{report.residents} residents; {grants} {report.grants} expired access grants"
        )

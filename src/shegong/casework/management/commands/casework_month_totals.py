"""`shegong casework_month_totals`: check the monthly service totals against the service
records, or rebuild them (casework migration 0003; docs/casework.md)."""

from django.core.management.base import BaseCommand, CommandError

from shegong.casework.selectors.stats import month_totals_differences
from shegong.casework.services.records import service_month_totals_rebuild


class Command(BaseCommand):
    help = (
        "Check that every monthly service total equals the sums over the service records "
        "(exit status 1 and the differing rows if not); --rebuild recomputes them all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild", action="store_true", help="Recompute every total from the records."
        )

    def handle(self, *args, rebuild=False, **options):
        if rebuild:
            rows = service_month_totals_rebuild()
            self.stdout.write(f"monthly service totals rebuilt: {rows} rows")
            return
        differences = month_totals_differences()
        if differences:
            for item in differences[:50]:
                self.stderr.write(
                    f"{' '.join(str(k) for k in item['key'])}: stored {item['stored']}, "
                    f"records {item['records']}"
                )
            raise CommandError(
                f"{len(differences)} monthly service totals differ from the records "
                "(shegong casework_month_totals --rebuild mends them)"
            )
        self.stdout.write("monthly service totals match the service records")

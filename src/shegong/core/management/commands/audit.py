"""`shegong audit verify`: check the audit trail's hash chain."""

from django.core.management.base import BaseCommand, CommandError

from shegong.core.audit import audit_verify


class Command(BaseCommand):
    help = "Audit trail tools. `verify` checks the hash chain and names the first broken row."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        report = audit_verify()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at row #{report.broken_seq}: {report.reason} "
                f"({report.checked} rows before it are intact)"
            )
        self.stdout.write(f"audit chain intact: {report.checked} rows")

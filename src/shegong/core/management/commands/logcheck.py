"""`shegong logcheck FILE…`: fail when a log file holds a national ID (security.md 14)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shegong.core.logcheck import national_ids_in


class Command(BaseCommand):
    help = "Check log files for national ID numbers; fails naming each line that holds one."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, files, **options):
        problems = []
        for path in files:
            if not path.exists():
                raise CommandError(f"{path}: no such file")
            with path.open(encoding="utf-8", errors="replace") as lines:
                problems += [f"{path}:{n}: {masked}" for n, masked in national_ids_in(lines)]
        if problems:
            raise CommandError("national IDs found in the logs:\n" + "\n".join(problems[:50]))
        self.stdout.write(f"no national IDs in {len(files)} log file(s)")

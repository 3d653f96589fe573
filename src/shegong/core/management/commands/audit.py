"""`shegong audit verify|checkpoint`: check the keyed audit chain (and checkpoints kept
elsewhere); write a signed checkpoint of its head."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shegong.core.audit import audit_checkpoint, audit_record, audit_verify


class Command(BaseCommand):
    help = (
        "Audit trail tools. `verify` checks the keyed hash chain (and the checkpoints given "
        "with --checkpoints) and names the first broken row; `checkpoint` prints a signed "
        "checkpoint of the chain's head (or appends it to --output) to keep outside the "
        "database."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint"])
        parser.add_argument(
            "--checkpoints",
            nargs="*",
            default=[],
            help="files of checkpoints (one JSON object a line) to check the chain against",
        )
        parser.add_argument("--output", help="append the checkpoint to this file")

    def handle(self, *args, action, checkpoints, output, **options):
        if action == "checkpoint":
            point = audit_checkpoint()
            line = json.dumps(point, sort_keys=True)
            if output:
                with Path(output).open("a", encoding="utf-8") as file:
                    file.write(line + "\n")
            self.stdout.write(line)
            audit_record(
                actor=None, action="audit.checkpoint", object_repr=f"#{point['seq']}", after=point
            )
            return
        points = []
        for name in checkpoints:
            try:
                lines = Path(name).read_text(encoding="utf-8").splitlines()
                points += [json.loads(line) for line in lines if line.strip()]
            except (OSError, ValueError) as exc:
                raise CommandError(f"{name}: cannot be read ({exc})") from exc
        report = audit_verify(points)
        if not report.ok:
            raise CommandError(
                f"audit chain broken at row #{report.broken_seq}: {report.reason} "
                f"({report.checked} rows checked)"
            )
        self.stdout.write(
            f"audit chain intact: {report.checked} rows"
            + (f", {len(points)} checkpoint(s) match" if points else "")
        )

"""`shegong change_division_code OLD NEW [--name N] [--date D]`: record a code change."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shegong.geo.models import Division
from shegong.geo.services import division_change_code


class Command(BaseCommand):
    help = "Change a division's code (and name), keeping its history and everything attached."

    def add_arguments(self, parser):
        parser.add_argument("old_code")
        parser.add_argument("new_code")
        parser.add_argument("--name", help="the new name, e.g. 梁平区")
        parser.add_argument("--date", help="effective date, YYYY-MM-DD (default today)")

    def handle(self, *args, old_code, new_code, name, date, **options):
        division = Division.objects.filter(code=old_code).first()
        if division is None:
            raise CommandError(f"no division has the code {old_code}")
        try:
            effective = (
                timezone.datetime.strptime(date, "%Y-%m-%d").date()
                if date
                else timezone.localdate()
            )
        except ValueError as exc:
            raise CommandError("--date must be YYYY-MM-DD") from exc
        try:
            division = division_change_code(
                actor=None,
                division=division,
                new_code=new_code,
                new_name=name,
                effective_on=effective,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{old_code} → {division.code} {division.name}")

"""`shegong createsuperuser` is not used: users have a role and a division, and the first
administrators of an installation are made by `shegong createadmin`."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used: run `shegong createadmin` to create the first administrators."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*")
        parser.add_argument("--noinput", "--no-input", action="store_true")
        parser.add_argument("--username")
        parser.add_argument("--email")
        parser.add_argument("--database")

    def handle(self, *args, **options):
        raise CommandError(
            "Users here have a role and a division and no superuser exists: run "
            "`shegong createadmin` to create the first security administrator and city "
            "administrator; they create everyone else on the users page."
        )

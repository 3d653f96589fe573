"""The `shegong` console command: Django's management commands with the project's settings."""

import os
import sys


def main() -> None:
    """Run a management command (`shegong setup --demo`, `shegong audit verify`, ...)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shegong.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

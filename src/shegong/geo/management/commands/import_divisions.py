"""`shegong import_divisions FILE...`: load statistical division CSV files (plain or .xz)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shegong.geo.io import DivisionImportError, import_divisions

SHIPPED = Path(__file__).resolve().parents[2] / "data"
LEVEL_FILES = ("provinces", "cities", "areas", "streets", "villages")


def shipped_chongqing_files() -> list[Path]:
    """The Chongqing (code 50) division list that ships with the project."""
    return [SHIPPED / "chongqing" / f"{name}.csv.xz" for name in LEVEL_FILES]


def shipped_china_files() -> list[Path]:
    """The whole-China division list (665,276 rows) that ships with the project."""
    return [SHIPPED / "china" / f"{name}.csv.xz" for name in LEVEL_FILES]


class Command(BaseCommand):
    help = (
        "Import the statistical division list. Give files or a folder holding provinces, "
        "cities, areas, streets and villages .csv/.csv.xz files; --chongqing or --china loads "
        "the shipped Chongqing or whole-China list. All-or-nothing; a second run of the same "
        "files changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="CSV files or folders")
        parser.add_argument("--province", help="only rows under this province code, e.g. 50")
        parser.add_argument("--chongqing", action="store_true", help="the shipped Chongqing list")
        parser.add_argument("--china", action="store_true", help="the shipped whole-China list")

    def handle(self, *args, paths, province, chongqing, china, **options):
        files: list[Path] = shipped_chongqing_files() if chongqing else []
        if china:
            files += shipped_china_files()
        for given in paths:
            path = Path(given)
            if path.is_dir():
                for name in LEVEL_FILES:
                    for suffix in (".csv.xz", ".csv"):
                        if (path / f"{name}{suffix}").exists():
                            files.append(path / f"{name}{suffix}")
                            break
            elif path.exists():
                files.append(path)
            else:
                raise CommandError(f"{given}: no such file or folder")
        if not files:
            raise CommandError("give CSV files, a folder, --chongqing or --china")
        try:
            result = import_divisions(paths=files, province=province)
        except DivisionImportError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was imported") from exc
        self.stdout.write(
            f"divisions: {result.created} created, {result.renamed} renamed, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )

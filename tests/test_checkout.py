"""The checkout needs nothing beside it (issue #12 item 7): no file of the project refers to
the steering folder beside the checkout or to a path outside it, so a fresh clone starts and
passes its tests on its own."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\.\./shared|shared/(data|design|mission|hooks|tools)|/work/|/root/|/home/")
PARENTS = re.compile(r"\.parents\[(\d+)\]")
BINARY = (".xz", ".xlsx", ".xls", ".ods", ".mo", ".png", ".ico", ".woff", ".woff2", ".ttf")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    return [ROOT / name for name in names if name and not name.endswith(BINARY)]


def test_no_file_refers_to_the_folder_beside_the_checkout_or_outside_it():
    offenders = []
    for path in tracked_text_files():
        if not path.is_file() or path == Path(__file__):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == []


def test_no_python_file_climbs_above_the_checkout():
    # Path(__file__).parents[k] leaves the checkout once k reaches the file's depth
    offenders = []
    for path in tracked_text_files():
        if path.suffix != ".py" or not path.is_file():
            continue
        depth = len(path.relative_to(ROOT).parts)
        for match in PARENTS.finditer(path.read_text(encoding="utf-8")):
            if int(match[1]) >= depth:
                offenders.append(f"{path.relative_to(ROOT)}: parents[{match[1]}]")
    assert offenders == []

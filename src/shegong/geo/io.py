"""Import of the statistical division list (CSV, plain or xz-compressed).

The format is that of the public ``china-division`` package, one file per level::

    provinces.csv  code,name
    cities.csv     code,name,provinceCode
    areas.csv      code,name,cityCode,provinceCode
    streets.csv    code,name,areaCode,provinceCode,cityCode
    villages.csv   code,name,streetCode,provinceCode,cityCode,areaCode

An optional ``urbanRuralCode`` column carries the urban-rural class code (城乡分类代码).
A row's level follows from the length of its code. The whole run is validated before
anything is written: every problem is reported with its file, line and reason, and a run
with any problem writes nothing. Valid runs are idempotent: existing divisions are matched by
code, new ones are inserted, renamed ones are updated and their rename recorded.

Writing is done in bulk with the database's fastest path (PostgreSQL ``COPY``, SQLite
``executemany``) because the whole-China list has 665,000 rows; see docs/developers.md.
"""

from __future__ import annotations

import csv
import io
import lzma
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from shegong.core.audit import audit_record
from shegong.geo.models import (
    CODE_LENGTHS,
    LEVEL_BY_LENGTH,
    LEVEL_ORDER,
    Division,
    DivisionChange,
    Kind,
    Level,
)

PARENT_COLUMN: dict[str, str | None] = {
    Level.PROVINCE: None,
    Level.PREFECTURE: "provinceCode",
    Level.COUNTY: "cityCode",
    Level.TOWN: "areaCode",
    Level.COMMUNITY: "streetCode",
}
CLASS_COLUMN = "urbanRuralCode"
GROUPING_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_DIGITS = re.compile(r"^[0-9]+$")
_CLASS_CODE = re.compile(r"^[12][0-9]{2}$")
MAX_REPORTED_PROBLEMS = 1000


@dataclass(frozen=True)
class ImportProblem:
    """One reason a file was rejected."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class DivisionImportError(Exception):
    """The run was rejected; nothing was written."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems[:20]))


@dataclass
class ImportResult:
    """What a run changed."""

    created: int = 0
    renamed: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[str, int] = field(default_factory=dict)

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.renamed or self.updated)


def town_kind(code: str) -> str:
    """Kind of a town-level division from digits 7–9 of its code (domain.md)."""
    part = int(code[6:9])
    if part < 100:
        return Kind.SUBDISTRICT
    if part < 200:
        return Kind.TOWN
    if part < 400:
        return Kind.TOWNSHIP
    return Kind.OTHER_TOWN


def community_kind(name: str, class_code: str) -> str:
    """Urban or rural, from the class code when known, else from the committee's name."""
    if class_code:
        return Kind.URBAN if class_code.startswith("1") else Kind.RURAL
    if name.endswith("居民委员会"):
        return Kind.URBAN
    if name.endswith("村民委员会"):
        return Kind.RURAL
    return ""


def _open_text(path: Path) -> tuple[str | None, ImportProblem | None]:
    """Read a file (xz or plain) as UTF-8; a decoding failure names the line."""
    try:
        raw = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    except (OSError, lzma.LZMAError) as exc:
        return None, ImportProblem(path.name, 0, f"cannot read the file: {exc}")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, ImportProblem(path.name, line, "the file is not UTF-8 encoded")


@dataclass(slots=True)
class _Row:
    code: str
    name: str
    level: str
    parent_code: str
    class_code: str
    file: str
    line: int


def parse_division_files(
    paths: Iterable[Path], province: str | None = None
) -> tuple[list[_Row], list[ImportProblem]]:
    """Parse and check the files on their own (no database); return rows and problems."""
    problems: list[ImportProblem] = []
    rows: list[_Row] = []
    seen: dict[str, tuple[str, int]] = {}
    for path in paths:
        text, problem = _open_text(Path(path))
        if problem:
            problems.append(problem)
            continue
        assert text is not None
        fname = Path(path).name
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            problems.append(ImportProblem(fname, 1, "the file is empty"))
            continue
        header = [h.strip() for h in header]
        missing = [c for c in ("code", "name") if c not in header]
        if missing:
            problems.append(ImportProblem(fname, 1, f"missing column(s): {', '.join(missing)}"))
            continue
        col = {name: i for i, name in enumerate(header)}
        i_code, i_name = col["code"], col["name"]
        i_class = col.get(CLASS_COLUMN)
        width = len(header)
        reported_missing_columns: set[str] = set()
        for line_no, record in enumerate(reader, start=2):
            if not record:
                continue
            if len(record) != width:
                problems.append(
                    ImportProblem(fname, line_no, f"expected {width} fields, found {len(record)}")
                )
                continue
            code = record[i_code].strip()
            name = record[i_name].strip()
            level = LEVEL_BY_LENGTH.get(len(code))
            if level is None or not _DIGITS.match(code):
                problems.append(ImportProblem(fname, line_no, f"malformed code “{code}”"))
                continue
            if province and not code.startswith(province):
                continue
            if not name:
                problems.append(ImportProblem(fname, line_no, f"code {code} has no name"))
            elif len(name) > 100:
                problems.append(ImportProblem(fname, line_no, f"name of {code} is too long"))
            parent_column = PARENT_COLUMN[level]
            parent_code = ""
            if parent_column is not None:
                if parent_column not in col:
                    if parent_column not in reported_missing_columns:
                        reported_missing_columns.add(parent_column)
                        problems.append(
                            ImportProblem(
                                fname, 1, f"missing column {parent_column} for {level} rows"
                            )
                        )
                    continue
                parent_code = record[col[parent_column]].strip()
                expected = code[: CODE_LENGTHS[LEVEL_ORDER[LEVEL_ORDER.index(level) - 1]]]
                if parent_code != expected:
                    problems.append(
                        ImportProblem(
                            fname,
                            line_no,
                            f"code {code} does not start with its parent's code “{parent_code}”",
                        )
                    )
                    continue
            class_code = record[i_class].strip() if i_class is not None else ""
            if class_code and (level != Level.COMMUNITY or not _CLASS_CODE.match(class_code)):
                problems.append(
                    ImportProblem(
                        fname, line_no, f"malformed urban-rural class code “{class_code}”"
                    )
                )
                continue
            first = seen.get(code)
            if first is not None:
                problems.append(
                    ImportProblem(
                        fname,
                        line_no,
                        f"duplicate code {code} (first at {first[0]}:{first[1]})",
                    )
                )
                continue
            seen[code] = (fname, line_no)
            rows.append(_Row(code, name, level, parent_code, class_code, fname, line_no))
            if len(problems) >= MAX_REPORTED_PROBLEMS:
                break
    return rows, problems


def import_divisions(
    *,
    paths: Iterable[Path | str],
    actor=None,
    province: str | None = None,
    effective_on: date | None = None,
) -> ImportResult:
    """Validate and load division files in one transaction; raise on any problem."""
    paths = [Path(p) for p in paths]
    effective_on = effective_on or timezone.localdate()
    rows, problems = parse_division_files(paths, province=province)
    if not problems and not rows:
        problems.append(ImportProblem(", ".join(p.name for p in paths), 0, "no rows to import"))
    if problems:
        raise DivisionImportError(problems)
    rows.sort(key=lambda r: (len(r.code), r.code))

    with transaction.atomic():
        _lock_divisions()
        existing = {
            code: (pk, name, parent_id, kind, klass, grouping)
            for code, pk, name, parent_id, kind, klass, grouping in Division.objects.values_list(
                "code", "id", "name", "parent_id", "kind", "urban_rural_class", "is_grouping"
            ).iterator(chunk_size=20000)
        }
        retired = _retired_codes({r.code for r in rows} - existing.keys())
        next_id = (max((v[0] for v in existing.values()), default=0)) + 1
        ids = {code: v[0] for code, v in existing.items()}
        inserts: list[tuple] = []
        updates: list[tuple] = []
        renames: list[tuple[int, str, str, str]] = []
        result = ImportResult()
        for row in rows:
            parent_id = None
            if row.parent_code:
                parent_id = ids.get(row.parent_code)
                if parent_id is None:
                    problems.append(
                        ImportProblem(
                            row.file, row.line, f"parent {row.parent_code} of {row.code} is unknown"
                        )
                    )
                    continue
            if row.code in retired:
                problems.append(
                    ImportProblem(
                        row.file,
                        row.line,
                        f"code {row.code} was changed to {retired[row.code]}; "
                        "import the current list or record the change",
                    )
                )
                continue
            current = existing.get(row.code)
            klass = row.class_code or (current[4] if current else "")
            if row.level == Level.TOWN:
                kind = town_kind(row.code)
            elif row.level == Level.COMMUNITY:
                kind = community_kind(row.name, klass) or (current[3] if current else "")
            else:
                kind = ""
            grouping = row.level == Level.PREFECTURE and row.name in GROUPING_NAMES
            result.by_level[row.level] = result.by_level.get(row.level, 0) + 1
            if current is None:
                pk = next_id
                next_id += 1
                ids[row.code] = pk
                inserts.append(
                    (pk, row.code, row.name, row.level, kind, klass, parent_id, grouping)
                )
                result.created += 1
                continue
            pk, old_name, old_parent, old_kind, old_class, old_grouping = current
            if (row.name, parent_id, kind, klass, grouping) == (
                old_name,
                old_parent,
                old_kind,
                old_class,
                old_grouping,
            ):
                result.unchanged += 1
                continue
            updates.append((row.name, kind, klass, parent_id, grouping, pk))
            if row.name != old_name:
                renames.append((pk, row.code, old_name, row.name))
                result.renamed += 1
            else:
                result.updated += 1
        if problems:
            raise DivisionImportError(problems)
        _write(inserts, updates)
        if renames:
            DivisionChange.objects.bulk_create(
                DivisionChange(
                    division_id=pk,
                    change_kind=DivisionChange.ChangeKind.RENAME,
                    old_code=code,
                    new_code=code,
                    old_name=old,
                    new_name=new,
                    effective_on=effective_on,
                )
                for pk, code, old, new in renames
            )
        if result.changed_anything:
            audit_record(
                actor=actor,
                action="division.import",
                object_type="geo.division",
                object_repr=", ".join(p.name for p in paths)[:255],
                after={
                    "created": result.created,
                    "renamed": result.renamed,
                    "updated": result.updated,
                    "province": province or "",
                    "renames": [[code, old, new] for _, code, old, new in renames[:200]],
                },
            )
    return result


def _retired_codes(candidates: set[str]) -> dict[str, str]:
    """Codes among ``candidates`` that a recorded code change has retired."""
    if not candidates:
        return {}
    retired: dict[str, str] = {}
    changes = DivisionChange.objects.filter(change_kind=DivisionChange.ChangeKind.RECODE)
    for old, new in changes.values_list("old_code", "new_code"):
        if old in candidates and not Division.objects.filter(code=old).exists():
            retired[old] = new
    return retired


def _lock_divisions() -> None:
    """Serialise imports (SQLite already holds the write lock in IMMEDIATE mode)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Division._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


_COLUMNS = ("id", "code", "name", "level", "kind", "urban_rural_class", "parent_id", "is_grouping")


def _write(inserts: list[tuple], updates: list[tuple]) -> None:
    table = Division._meta.db_table
    with connection.cursor() as cursor:
        if inserts:
            if connection.vendor == "postgresql":
                raw = cursor.cursor  # psycopg 3 cursor
                with raw.copy(f"COPY {table} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                    for record in inserts:
                        copy.write_row(record)
                reset_sequence = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: E501, S608
                cursor.execute(reset_sequence, [table])
            else:
                placeholders = ", ".join(["%s"] * len(_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
                    inserts,
                )
        if updates:
            cursor.executemany(
                f"UPDATE {table} SET name = %s, kind = %s, urban_rural_class = %s, "  # noqa: S608
                "parent_id = %s, is_grouping = %s WHERE id = %s",
                updates,
            )

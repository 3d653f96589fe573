"""Import of the statistical division list (CSV, plain or xz-compressed).

The format is that of the public ``china-division`` package, one file per level::

    provinces.csv  code,name
    cities.csv     code,name,provinceCode
    areas.csv      code,name,cityCode,provinceCode
    streets.csv    code,name,areaCode,provinceCode,cityCode
    villages.csv   code,name,streetCode,provinceCode,cityCode,areaCode

An optional ``urbanRuralCode`` column carries the urban-rural class code (城乡分类代码).
A row's level follows from the length of its code.

How it works (one transaction, all-or-nothing):

1. Each file is checked on its own (readable, UTF-8, a header with the needed columns) and
   its rows are loaded into a temporary *stage*: on PostgreSQL by ``COPY`` of the file
   itself into a temporary table, on SQLite by the csv module and ``executemany``.
2. Set-based SQL over the stage finds every row problem at once (malformed or duplicate
   codes, empty names, a code whose prefix disagrees with its parent column, a parent that
   is neither in the run nor in the database, a code retired by a recorded code change).
   Any problem → ``DivisionImportError`` with every problem by file, line and reason, and
   the transaction rolls back: nothing is written.
3. The stage is merged into ``geo_division`` with INSERT … SELECT (new codes) and UPDATE …
   FROM (renamed or reclassified codes; renames are recorded as ``DivisionChange``).
   Unchanged rows are not touched, so a second run of the same files changes nothing.

The whole-China list (665,000 rows) loads in about 2× the time of PostgreSQL's bare COPY of
the same rows; see ``benchmarks/import_divisions.py`` and docs/developers.md.
"""

from __future__ import annotations

import csv
import io
import lzma
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from shegong.core.audit import audit_record
from shegong.geo.models import Division, DivisionChange, Level

PARENT_COLUMNS = ("provinceCode", "cityCode", "areaCode", "streetCode")
# The parent column each level's rows need, by code length.
PARENT_COLUMN_BY_LENGTH = {4: "provinceCode", 6: "cityCode", 9: "areaCode", 12: "streetCode"}
CLASS_COLUMN = "urbanRuralCode"
GROUPING_NAMES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
MAX_REPORTED_PROBLEMS = 1000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, order=True)
class ImportProblem:
    """One reason a run was rejected."""

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

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.renamed or self.updated)


@dataclass
class _File:
    """A file that passed the file-level checks, ready to be staged."""

    index: int
    name: str
    text: str
    header: list[str]

    def column(self, name: str) -> int | None:
        return self.header.index(name) if name in self.header else None


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
    if province is not None and not province.isdigit():
        raise DivisionImportError([ImportProblem("--province", 0, "must be a numeric code")])
    problems: list[ImportProblem] = []
    files: list[_File] = []
    for index, path in enumerate(paths):
        checked = _check_file(index, path, problems)
        if checked is not None:
            files.append(checked)

    stage = _PostgresStage() if connection.vendor == "postgresql" else _SqliteStage()
    try:
        with transaction.atomic():
            _lock_divisions()
            for file in files:
                stage.load(file, province or "", problems)
            stage.finish(files)
            if stage.loaded:
                names = {f.index: f.name for f in files}
                problems += _row_problems(stage.relation, names)
            rows = stage.count()
            if not problems and rows == 0:
                problems.append(
                    ImportProblem(", ".join(p.name for p in paths), 0, "no rows to import")
                )
            if problems:
                raise DivisionImportError(sorted(problems)[:MAX_REPORTED_PROBLEMS])
            result = _merge(stage.relation, rows, effective_on)
            stage.drop()
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
                    },
                )
    except BaseException:
        # The rolled-back transaction took the temporary objects with it, unless the
        # connection is still usable (they were made outside a failed savepoint).
        if not connection.needs_rollback:
            try:
                with transaction.atomic():
                    stage.drop()
            except DatabaseError:
                pass
        raise
    return result


# --- 1. file-level checks and staging ---------------------------------------------------------


def _check_file(index: int, path: Path, problems: list[ImportProblem]) -> _File | None:
    """Read a file (xz or plain) as UTF-8 and check its header."""
    name = path.name
    try:
        raw = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    except (OSError, lzma.LZMAError) as exc:
        problems.append(ImportProblem(name, 0, f"cannot read the file: {exc}"))
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(ImportProblem(name, line, "the file is not UTF-8 encoded"))
        return None
    first_line = text.split("\n", 1)[0].strip("\r")
    if not first_line.strip():
        problems.append(ImportProblem(name, 1, "the file is empty"))
        return None
    header = [h.strip() for h in next(csv.reader([first_line]))]
    missing = [c for c in ("code", "name") if c not in header]
    if missing:
        problems.append(ImportProblem(name, 1, f"missing column(s): {', '.join(missing)}"))
        return None
    if len(set(header)) != len(header):
        problems.append(ImportProblem(name, 1, "a column name appears twice"))
        return None
    # The first row tells the file's level, and so which parent column it needs.
    second_line = text.split("\n", 2)[1] if text.count("\n") >= 1 else ""
    first_row = next(csv.reader([second_line]), [])
    if len(first_row) > header.index("code"):
        needed = PARENT_COLUMN_BY_LENGTH.get(len(first_row[header.index("code")].strip()))
        if needed and needed not in header:
            problems.append(ImportProblem(name, 1, f"missing column {needed} for this level"))
            return None
    return _File(index, name, text, header)


def _parent_expression(file: _File, column_sql) -> str:
    """SQL for a row's parent code: the parent column that belongs to the row's level."""
    cases = []
    for length, column in PARENT_COLUMN_BY_LENGTH.items():
        position = file.column(column)
        value = column_sql(position) if position is not None else "'?missing'"
        cases.append(f"WHEN {length} THEN {value}")
    return f"CASE length(trim({column_sql(file.column('code'))})) {' '.join(cases)} END"


class _SqliteStage:
    """Rows parsed by the csv module into a temporary table."""

    def __init__(self) -> None:
        self.loaded = False
        self._created = False
        self.name = f"division_stage_{uuid.uuid4().hex[:12]}"
        self.relation = f"temp.{self.name}"

    def _create(self) -> None:
        if not self._created:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMP TABLE {self.name} "
                    "(file INTEGER, line INTEGER, code TEXT, name TEXT, parent TEXT, klass TEXT)"
                )
            self._created = True

    def load(self, file: _File, province: str, problems: list[ImportProblem]) -> None:
        self._create()
        i_code, i_name = file.column("code"), file.column("name")
        i_class = file.column(CLASS_COLUMN)
        parents = {length: file.column(col) for length, col in PARENT_COLUMN_BY_LENGTH.items()}
        width = len(file.header)
        rows = []
        reader = csv.reader(io.StringIO(file.text))
        next(reader)
        for line, record in enumerate(reader, start=2):
            if not record:
                continue
            if len(record) != width:
                problems.append(ImportProblem(file.name, line, "wrong number of fields"))
                continue
            code = record[i_code].strip()
            if province and not code.startswith(province):
                continue
            position = parents.get(len(code))
            parent = record[position].strip() if position is not None else None
            if position is None and len(code) in parents:
                parent = "?missing"
            klass = record[i_class].strip() if i_class is not None else ""
            rows.append((file.index, line, code, record[i_name].strip(), parent, klass))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.relation} VALUES (%s, %s, %s, %s, %s, %s)",
                rows,
            )
        self.loaded = True

    def finish(self, files: list[_File]) -> None:
        self._create()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX temp.{self.name}_code ON {self.name} (code)")

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {self.relation}")
            return cursor.fetchone()[0]

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.relation}")


class _PostgresStage:
    """Each file COPYed as it is into a temporary table, then united into one."""

    def __init__(self) -> None:
        self.loaded = False
        self._selects: list[str] = []
        self._tables: list[str] = []
        self._suffix = uuid.uuid4().hex[:12]
        self.relation = f"division_stage_{self._suffix}"

    def load(self, file: _File, province: str, problems: list[ImportProblem]) -> None:
        table = f"division_raw_{self._suffix}_{file.index}"
        self._tables.append(table)
        columns = [f"c{i}" for i in range(len(file.header))]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {table} (line bigint GENERATED ALWAYS AS IDENTITY, "
                + ", ".join(f'{c} text COLLATE "C"' for c in columns)
                + ") ON COMMIT DROP"
            )
            import psycopg

            try:
                with (
                    transaction.atomic(),
                    cursor.cursor.copy(
                        f"COPY {table} ({', '.join(columns)}) FROM STDIN "
                        "WITH (FORMAT csv, HEADER true)"
                    ) as copy,
                ):
                    copy.write(file.text)
            except (DatabaseError, psycopg.Error) as exc:
                problems.append(ImportProblem(file.name, _copy_error_line(exc), _copy_error(exc)))
                return
            cursor.execute(f"ANALYZE {table}")  # temporary tables get no autovacuum statistics

        def col(position: int | None) -> str:
            return f"c{position}" if position is not None else "NULL"

        code = f"trim({col(file.column('code'))})"
        klass = f"coalesce(trim({col(file.column(CLASS_COLUMN))}), '')"
        where = f"WHERE {code} LIKE '{province}%'" if province else ""
        self._selects.append(
            f"SELECT {file.index} AS file, line + 1 AS line, {code} AS code, "
            f"trim({col(file.column('name'))}) AS name, "
            f"trim({_parent_expression(file, col)}) AS parent, {klass} AS klass "
            f"FROM {table} {where}"
        )
        self.loaded = True

    def finish(self, files: list[_File]) -> None:
        union = " UNION ALL ".join(self._selects) or (
            "SELECT 0 AS file, 0 AS line, ''::text AS code, ''::text AS name, "
            "NULL::text AS parent, ''::text AS klass WHERE false"
        )
        with connection.cursor() as cursor:
            # Materialised once, so the checks below do not re-trim every value.
            cursor.execute(f"CREATE TEMP TABLE {self.relation} ON COMMIT DROP AS {union}")
            cursor.execute(f"ANALYZE {self.relation}")
            for table in self._tables:
                cursor.execute(f"DROP TABLE {table}")
            self._tables = []

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {self.relation}")
            return cursor.fetchone()[0]

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.relation}")
            for table in self._tables:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _diag(exc: Exception):
    return getattr(exc, "diag", None) or getattr(exc.__cause__, "diag", None)


def _copy_error_line(exc: Exception) -> int:
    context = getattr(_diag(exc), "context", "") or ""
    match = re.search(r"line (\d+)", context)
    return int(match.group(1)) if match else 0


def _copy_error(exc: Exception) -> str:
    message = str(getattr(_diag(exc), "message_primary", "") or exc)
    if "extra data" in message or "missing data" in message:
        return "wrong number of fields"
    return f"the file cannot be read as CSV: {message}"


# --- 2. row checks, all set-based -------------------------------------------------------------

_LEVEL_SQL = (
    "CASE length(code) WHEN 2 THEN 'province' WHEN 4 THEN 'prefecture' WHEN 6 THEN 'county' "
    "WHEN 9 THEN 'town' WHEN 12 THEN 'community' END"
)
_PARENT_LENGTH_SQL = (
    "CASE length(code) WHEN 4 THEN 2 WHEN 6 THEN 4 WHEN 9 THEN 6 WHEN 12 THEN 9 END"
)
_KIND_SQL = """CASE
  WHEN length(s.code) = 9 THEN CASE
    WHEN CAST(substr(s.code, 7, 3) AS INTEGER) < 100 THEN 'subdistrict'
    WHEN CAST(substr(s.code, 7, 3) AS INTEGER) < 200 THEN 'town'
    WHEN CAST(substr(s.code, 7, 3) AS INTEGER) < 400 THEN 'township'
    ELSE 'other_town' END
  WHEN length(s.code) = 12 THEN CASE
    WHEN {klass} LIKE '1%%' THEN 'urban'
    WHEN {klass} LIKE '2%%' THEN 'rural'
    WHEN s.name LIKE '%%居民委员会' THEN 'urban'
    WHEN s.name LIKE '%%村民委员会' THEN 'rural'
    ELSE {fallback} END
  ELSE '' END"""
_GROUPING_SQL = (
    "CASE WHEN length(s.code) = 4 AND s.name IN ("
    + ", ".join(f"'{name}'" for name in GROUPING_NAMES)
    + ") THEN TRUE ELSE FALSE END"
)


def _digits_only(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"{column} ~ '^[0-9]+$'"
    return f"({column} <> '' AND {column} NOT GLOB '*[^0-9]*')"


def _row_problems(stage: str, names: dict[int, str]) -> list[ImportProblem]:
    """Every row problem in the stage, found set-based in three passes.

    1. one scan for problems a row has on its own (code, name, class code, parent column);
    2. duplicated codes (an aggregate; details only when there are any);
    3. parents that are neither in this run nor in the database, and retired codes.
    """
    digits = _digits_only("code")
    table = Division._meta.db_table
    changes = DivisionChange._meta.db_table
    parent_prefix = f"substr(code, 1, {_PARENT_LENGTH_SQL})"
    own = f"""SELECT file, line, code, parent, klass, CASE
        WHEN NOT ({digits}) OR length(code) NOT IN (2, 4, 6, 9, 12) THEN 'code'
        WHEN name IS NULL OR name = '' THEN 'no_name'
        WHEN length(name) > 100 THEN 'long_name'
        WHEN klass <> '' AND (length(code) <> 12 OR length(klass) <> 3
             OR NOT ({_digits_only("klass")}) OR substr(klass, 1, 1) NOT IN ('1', '2'))
             THEN 'class'
        WHEN parent = '?missing' THEN 'parent_column'
        WHEN length(code) > 2 AND (parent IS NULL OR parent <> {parent_prefix}) THEN 'prefix'
        END AS problem FROM {stage}"""
    reasons = {
        "code": lambda r: f"malformed code “{r[2]}”",
        "no_name": lambda r: f"code {r[2]} has no name",
        "long_name": lambda r: f"name of {r[2]} is too long",
        "class": lambda r: f"malformed urban-rural class code “{r[4]}”",
        "parent_column": lambda r: (
            f"missing parent column {PARENT_COLUMN_BY_LENGTH.get(len(r[2]), '')} for this level"
        ),
        "prefix": lambda r: f"code {r[2]} does not start with its parent's code “{r[3] or ''}”",
    }
    problems: list[ImportProblem] = []
    with connection.cursor() as cursor:
        # No LIMIT in these queries: with one, PostgreSQL may pick a nested-loop plan.
        cursor.execute(f"SELECT * FROM ({own}) checked WHERE problem IS NOT NULL")
        for row in cursor.fetchmany(MAX_REPORTED_PROBLEMS):
            problems.append(ImportProblem(names[row[0]], row[1], reasons[row[5]](row)))

        cursor.execute(f"SELECT code FROM {stage} GROUP BY code HAVING count(*) > 1")
        duplicated = [row[0] for row in cursor.fetchmany(MAX_REPORTED_PROBLEMS)]
        if duplicated:
            placeholders = ", ".join(["%s"] * len(duplicated))
            cursor.execute(
                f"SELECT file, line, code FROM {stage} "
                f"WHERE code IN ({placeholders}) ORDER BY code, file, line",
                duplicated,
            )
            first: dict[str, tuple[int, int]] = {}
            for file, line, code in cursor.fetchall():
                if code in first:
                    where = f"{names[first[code][0]]}:{first[code][1]}"
                    problems.append(
                        ImportProblem(
                            names[file], line, f"duplicate code {code} (first at {where})"
                        )
                    )
                else:
                    first[code] = (file, line)

        cursor.execute(
            f"SELECT s.file, s.line, s.code, s.parent FROM {stage} s "
            f"LEFT JOIN (SELECT DISTINCT code FROM {stage}) p ON p.code = s.parent "
            f"LEFT JOIN {table} d ON d.code = s.parent "
            "WHERE s.parent IS NOT NULL AND p.code IS NULL AND d.code IS NULL "
            f"AND s.parent = substr(s.code, 1, {_PARENT_LENGTH_SQL.replace('code', 's.code')})"
        )
        problems.extend(
            ImportProblem(names[r[0]], r[1], f"parent {r[3]} of {r[2]} is unknown")
            for r in cursor.fetchmany(MAX_REPORTED_PROBLEMS)
        )
        cursor.execute(
            f"SELECT s.file, s.line, s.code, c.new_code FROM {stage} s "
            f"JOIN {changes} c ON c.old_code = s.code AND c.change_kind = 'recode' "
            f"LEFT JOIN {table} d ON d.code = s.code WHERE d.id IS NULL"
        )
        problems.extend(
            ImportProblem(
                names[r[0]],
                r[1],
                f"code {r[2]} was changed to {r[3]}; import the current list or record the change",
            )
            for r in cursor.fetchmany(MAX_REPORTED_PROBLEMS)
        )
    return problems


# --- 3. merge -----------------------------------------------------------------------------------


def _merge(stage: str, rows: int, effective_on: date) -> ImportResult:
    """Insert new codes, update renamed or reclassified ones, record renames."""
    table = Division._meta.db_table
    changes = DivisionChange._meta.db_table
    new_kind = _KIND_SQL.format(klass="s.klass", fallback="''")
    merged_class = "CASE WHEN s.klass <> '' THEN s.klass ELSE d.urban_rural_class END"
    merged_kind = _KIND_SQL.format(klass=f"({merged_class})", fallback="d.kind")
    differs = (
        f"(d.name <> s.name OR d.kind <> ({merged_kind}) "
        f"OR d.urban_rural_class <> ({merged_class}) OR d.is_grouping <> ({_GROUPING_SQL}))"
    )
    result = ImportResult()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {changes} "
            "(division_id, change_kind, old_code, new_code, old_name, new_name, "
            "effective_on, recorded_at) "
            "SELECT d.id, 'rename', d.code, d.code, d.name, s.name, %s, %s "
            f"FROM {stage} s JOIN {table} d ON d.code = s.code WHERE d.name <> s.name",
            [effective_on, timezone.now()],
        )
        result.renamed = cursor.rowcount
        cursor.execute(
            f"UPDATE {table} AS d SET name = s.name, kind = {merged_kind}, "
            f"urban_rural_class = {merged_class}, is_grouping = {_GROUPING_SQL} "
            f"FROM {stage} s WHERE d.code = s.code AND {differs}"
        )
        result.updated = cursor.rowcount - result.renamed
        cursor.execute(
            f"INSERT INTO {table} "
            "(code, name, level, kind, urban_rural_class, is_grouping) "
            f"SELECT s.code, s.name, {_LEVEL_SQL.replace('code', 's.code')}, {new_kind}, "
            f"s.klass, {_GROUPING_SQL} FROM {stage} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} d WHERE d.code = s.code)"
        )
        result.created = cursor.rowcount
    result.unchanged = rows - result.created - result.renamed - result.updated
    return result


def _lock_divisions() -> None:
    """Serialise imports (SQLite already holds the write lock in IMMEDIATE mode)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Division._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


__all__ = ["DivisionImportError", "ImportProblem", "ImportResult", "Level", "import_divisions"]

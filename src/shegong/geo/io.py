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

1. **Fast path** (without ``province``), tried first inside a savepoint. Each file is
   decompressed piece by piece, and every line is checked *and* rewritten as a row of
   ``geo_division`` by one strict regular expression per file (``_FastFile``), so no Python
   runs per row. The expression accepts only lines the careful path would take unchanged:
   digits-only codes of the file's level, the parent column equal to the code's prefix, a
   name without a quote, backslash, control character or surrounding whitespace. Codes and
   parent codes are collected on the way (a regular expression again), and checked across
   rows at the end: duplicates, retired codes, parents neither in the run nor in the
   database. At the first line the expression does not vouch for, a failed check, or an
   error from the database (a name too long, bad UTF-8, a duplicate code), the savepoint is
   rolled back and the careful path does the run instead.
2. **Careful path** (and the only one that reports problems). Each file is checked on its
   own (readable, UTF-8, a header with the needed columns) and parsed by the csv module;
   every row is checked in the same pass, in Python (malformed or duplicate codes, empty or
   too long names, a bad class code, a code whose prefix disagrees with its parent column,
   a parent that is neither in the run nor in the database, a code retired by a recorded
   code change). Any problem → ``DivisionImportError`` with every problem by file, line
   and reason, and nothing is written.
3. **Writing.** Into an *empty* ``geo_division`` on PostgreSQL the rows are COPYed straight
   into the table (as the fast path makes them, while the server writes the previous
   ones) with its secondary indexes (unique code, pattern index) dropped and rebuilt
   afterwards in the same transaction. Otherwise they go to a temporary stage (COPY on
   PostgreSQL, executemany on SQLite); one join finds the rows that are new or differ,
   and only those are written (renames are recorded as ``DivisionChange``), so a second
   run of the same files changes nothing.

The whole-China list (665,276 rows) loads in about 3.4× the time of PostgreSQL's bare COPY
of the same rows on a quiet 2-core machine; see ``benchmarks/import_divisions.py`` and
docs/benchmarks.md (where the time goes).
"""

from __future__ import annotations

import csv
import io
import lzma
import re
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path

import psycopg
from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from shegong.core.audit import audit_record
from shegong.geo.models import LEVEL_BY_LENGTH, PARENT_LENGTH, Division, DivisionChange, Level

PARENT_COLUMNS = ("provinceCode", "cityCode", "areaCode", "streetCode")
# The parent column each level's rows need, by code length.
PARENT_COLUMN_BY_LENGTH = {4: "provinceCode", 6: "cityCode", 9: "areaCode", 12: "streetCode"}
CLASS_COLUMN = "urbanRuralCode"
GROUPING_NAMES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
URBAN_SUFFIX, RURAL_SUFFIX = "居民委员会", "村民委员会"
MAX_REPORTED_PROBLEMS = 1000
# Columns written to geo_division (and to the stage), in this order.
ROW_COLUMNS = ("code", "name", "level", "kind", "urban_rural_class", "is_grouping")
# Rows inserted into a non-empty table above which its secondary indexes are rebuilt instead
# of maintained row by row.
REBUILD_INDEXES_ABOVE = 50_000
PIECE = 1 << 20  # bytes decompressed at a time on the fast path


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
    with transaction.atomic():
        _lock_divisions()
        result = None if province else _fast_import(paths, effective_on)
        if result is None:
            result = _careful_import(paths, province or "", effective_on)
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
    return result


# --- the meaning of a row, shared by both paths ------------------------------------------------


def division_kind(code: str, klass: str, name: str, fallback: str = "") -> str:
    """Kind of a town (by its code) or community (by class code, else by name)."""
    if len(code) == 9:
        number = int(code[6:9])
        if number < 100:
            return "subdistrict"
        if number < 200:
            return "town"
        return "township" if number < 400 else "other_town"
    if len(code) == 12:
        if klass.startswith("1"):
            return "urban"
        if klass.startswith("2"):
            return "rural"
        if name.endswith(URBAN_SUFFIX):
            return "urban"
        if name.endswith(RURAL_SUFFIX):
            return "rural"
        return fallback
    return ""


def is_grouping(code: str, name: str) -> bool:
    return len(code) == 4 and name in GROUPING_NAMES


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


# --- 1. the careful path -----------------------------------------------------------------------


@dataclass
class _Run:
    """The rows of a run as the careful path parsed them, and what was wrong with them."""

    problems: list[ImportProblem] = field(default_factory=list)
    # (code, name, klass) of every row that passed its own checks, in file order
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    # code -> (file name, line) of its first row: every staged row, as the checks see them
    first: dict[str, tuple[str, int]] = field(default_factory=dict)
    # (file name, line, code, parent) of rows whose parent was not in the run before them
    parented: list[tuple[str, int, str, str]] = field(default_factory=list)


def _careful_import(paths: list[Path], province: str, effective_on: date) -> ImportResult:
    run = _Run()
    for path in paths:
        text = _read_text(path, run.problems)
        if text is not None:
            _parse(path.name, text, province, run)
    _check_across_rows(run)
    if not run.problems and not run.rows:
        run.problems.append(ImportProblem(", ".join(p.name for p in paths), 0, "no rows to import"))
    if run.problems:
        raise DivisionImportError(sorted(run.problems)[:MAX_REPORTED_PROBLEMS])
    rows = len(run.rows)
    if connection.vendor == "sqlite":
        with _SqliteStage() as stage:
            stage.write_rows(
                (
                    code,
                    name,
                    LEVEL_BY_LENGTH[len(code)],
                    division_kind(code, klass, name),
                    klass,
                    is_grouping(code, name),
                )
                for code, name, klass in run.rows
            )
        return stage.merge(rows, effective_on)
    bulk = not Division.objects.exists()
    with _TableCopy() if bulk else _PostgresStage() as sink:
        for block in _copy_text(run.rows):
            sink.write(block)
    return ImportResult(created=rows) if bulk else sink.merge(rows, effective_on)


def _read_text(path: Path, problems: list[ImportProblem]) -> str | None:
    """A file (xz or plain) as UTF-8 text without a byte-order mark."""
    try:
        raw = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    except (OSError, lzma.LZMAError) as exc:
        problems.append(ImportProblem(path.name, 0, f"cannot read the file: {exc}"))
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(ImportProblem(path.name, line, "the file is not UTF-8 encoded"))
        return None


def _header(name: str, text: str, problems: list[ImportProblem]) -> list[str] | None:
    """The header of a file, checked: the columns every file and its level need."""
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
    return header


def _parse(name: str, text: str, province: str, run: _Run) -> None:
    """Parse one file and check each row on its own (one pass)."""
    problems = run.problems
    header = _header(name, text, problems)
    if header is None:
        return
    i_code, i_name = header.index("code"), header.index("name")
    i_class = header.index(CLASS_COLUMN) if CLASS_COLUMN in header else None
    parent_at = {
        length: header.index(column) if column in header else None
        for length, column in PARENT_COLUMN_BY_LENGTH.items()
    }
    width = len(header)
    first, parented, rows = run.first, run.parented, run.rows
    reader = csv.reader(io.StringIO(text))
    next(reader)
    line = 1
    try:
        for line, record in enumerate(reader, start=2):
            if not record:
                continue
            if len(record) != width:
                problems.append(ImportProblem(name, line, "wrong number of fields"))
                continue
            code = record[i_code].strip()
            if province and not code.startswith(province):
                continue
            division_name = record[i_name].strip()
            klass = record[i_class].strip() if i_class is not None else ""
            length = len(code)
            if code in first:
                where = "{}:{}".format(*first[code])
                problems.append(
                    ImportProblem(name, line, f"duplicate code {code} (first at {where})")
                )
            else:
                first[code] = (name, line)
            position = parent_at.get(length)
            parent = record[position].strip() if position is not None else None
            if (
                parent is not None
                and parent not in first
                and parent == code[: PARENT_LENGTH[length]]
            ):
                # Not (yet) in the run: looked for once all files are read, even when the row
                # has problems of its own.
                parented.append((name, line, code, parent))
            if length not in LEVEL_BY_LENGTH or not _digits(code):
                problems.append(ImportProblem(name, line, f"malformed code “{code}”"))
                continue
            if not division_name:
                problems.append(ImportProblem(name, line, f"code {code} has no name"))
                continue
            if len(division_name) > 100:
                problems.append(ImportProblem(name, line, f"name of {code} is too long"))
                continue
            if klass and (
                length != 12 or len(klass) != 3 or not _digits(klass) or klass[0] not in "12"
            ):
                problems.append(
                    ImportProblem(name, line, f"malformed urban-rural class code “{klass}”")
                )
                continue
            if length > 2 and position is None:
                column = PARENT_COLUMN_BY_LENGTH[length]
                problems.append(
                    ImportProblem(name, line, f"missing parent column {column} for this level")
                )
                continue
            if length > 2 and parent != code[: PARENT_LENGTH[length]]:
                problems.append(
                    ImportProblem(
                        name, line, f"code {code} does not start with its parent's code “{parent}”"
                    )
                )
                continue
            rows.append((code, division_name, klass))
    except csv.Error as exc:
        problems.append(ImportProblem(name, line + 1, f"the file cannot be read as CSV: {exc}"))


def _check_across_rows(run: _Run) -> None:
    """Parents that are neither in the run nor in the database, and retired codes."""
    codes = run.first
    wanted = {parent for _, _, _, parent in run.parented if parent not in codes}
    known = _existing_codes(wanted)
    for name, line, code, parent in run.parented:
        if parent not in codes and parent not in known:
            run.problems.append(ImportProblem(name, line, f"parent {parent} of {code} is unknown"))
    retired = _retired_codes()
    if retired:
        for code, (name, line) in codes.items():
            for new_code in retired.get(code, ()):
                run.problems.append(
                    ImportProblem(
                        name,
                        line,
                        f"code {code} was changed to {new_code}; "
                        "import the current list or record the change",
                    )
                )


def _existing_codes(codes: set[str]) -> set[str]:
    """Which of ``codes`` are in the database."""
    found: set[str] = set()
    wanted = sorted(codes)
    for start in range(0, len(wanted), 500):
        found.update(
            Division.objects.filter(code__in=wanted[start : start + 500]).values_list(
                "code", flat=True
            )
        )
    return found


def _retired_codes() -> dict[str, list[str]]:
    """Old codes of recorded code changes that no division has any more → their new codes."""
    retired: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.old_code, c.new_code FROM {DivisionChange._meta.db_table} c "
            "WHERE c.change_kind = %s AND NOT EXISTS "
            f"(SELECT 1 FROM {Division._meta.db_table} d WHERE d.code = c.old_code) "
            "ORDER BY c.id",
            [DivisionChange.ChangeKind.RECODE],
        )
        for old_code, new_code in cursor.fetchall():
            retired.setdefault(old_code, []).append(new_code)
    return retired


def _copy_text(rows: list[tuple[str, str, str]]) -> Iterator[bytes]:
    """Rows of the careful path in COPY text format, in pieces."""
    escape = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
    lines: list[str] = []
    for code, name, klass in rows:
        length = len(code)
        lines.append(
            f"{code}\t{name.translate(escape)}\t{LEVEL_BY_LENGTH[length]}\t"
            f"{division_kind(code, klass, name)}\t{klass}\t"
            f"{'t' if is_grouping(code, name) else 'f'}\n"
        )
        if len(lines) == 20_000:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


# --- 2. the fast path ---------------------------------------------------------------------------


class _GiveUp(Exception):
    """The fast path cannot vouch for this run: the careful path does it instead."""


# A name: no control character (so no tab, CR or LF), quote or backslash (so nothing to
# escape for COPY), and no whitespace at either end that str.strip() would remove (the
# space, and the Unicode spaces as UTF-8: U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
# U+2029, U+202F, U+205F, U+3000), so the careful path would take it as it is.
_NAME_START = (
    rb"(?! |\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80)"
)
_NAME_END = (
    rb"(?<! )(?<!\xc2[\x85\xa0])"
    rb"(?<!\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80)"
)
_NAME = _NAME_START + rb"[^\x00-\x1f\"\\]+" + _NAME_END
_NAME_UNQUOTED = _NAME_START + rb"[^\x00-\x1f\",\\]+" + _NAME_END
_OTHER_COLUMN = rb"[^,\"\r\n]*"
_TOWN_KINDS = {0: "subdistrict", 1: "town", 2: "township", 3: "township"}


@dataclass
class _FastFile:
    """One file on the fast path: how its lines are checked and rewritten as table rows.

    ``pattern`` matches one line the careful path would accept unchanged, from its start
    through its newline; ``template`` rewrites it as a row of geo_division in COPY text
    format; ``fixes`` are plain replacements that then fill in the kind (from the code of
    a town, the class code or name of a community) and the grouping flag, using marker bytes
    a name cannot contain. ``parents`` finds the parent codes (one per run of lines with
    the same parent), ``codes`` the codes of lines already checked.
    """

    name: str
    length: int  # of every code in the file
    pattern: re.Pattern[bytes]
    template: bytes
    fixes: list[tuple[bytes, bytes]]
    parents: re.Pattern[bytes] | None
    codes: re.Pattern[bytes]
    pieces: Iterator[bytes]
    head: bytes  # the first piece, header removed
    rows: int = 0

    @classmethod
    def open(cls, path: Path, postgres: bool = True) -> _FastFile:
        return cls.start(path.name, _pieces(path), postgres)

    @classmethod
    def start(cls, name: str, pieces: Iterator[bytes], postgres: bool = True) -> _FastFile:
        """Plan a file from its first piece (which must hold the header and a row).

        Booleans are written as PostgreSQL's COPY reads them, or as SQLite stores them.
        """
        false, true = (b"f", b"t") if postgres else (b"0", b"1")
        head = next(pieces, b"")
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        header_end = head.find(b"\n")
        row_end = head.find(b"\n", header_end + 1)
        if header_end < 0 or row_end < 0:
            raise _GiveUp
        try:
            header_line = head[:header_end].decode().strip("\r")
            first_line = head[header_end + 1 : row_end].decode().strip("\r")
        except UnicodeDecodeError:
            raise _GiveUp from None
        header = [h.strip() for h in next(csv.reader([header_line]))]
        first_row = next(csv.reader([first_line]), [])
        if "code" not in header or "name" not in header or len(set(header)) != len(header):
            raise _GiveUp
        # The code comes first (as in every published file): codes and parents are then
        # found at the start of each line, and the parent column can refer back to the code.
        if header[0] != "code" or len(first_row) != len(header):
            raise _GiveUp
        length = len(first_row[0])
        if length not in LEVEL_BY_LENGTH:
            raise _GiveUp
        parent_column = PARENT_COLUMN_BY_LENGTH.get(length)
        if parent_column is not None and parent_column not in header:
            raise _GiveUp  # the careful path reports it
        fields = []
        for column in header:
            if column == "code":
                if length == 2:
                    fields.append(rb"(?P<code>\d\d)")
                else:
                    parent = PARENT_LENGTH[length]
                    town_digit = rb"(?P<digit>\d)" if length == 9 else rb"\d"
                    rest = length - parent - 1
                    fields.append(
                        rb"(?P<code>(?P<parent>\d{%d})%s\d{%d})" % (parent, town_digit, rest)
                    )
            elif column == "name":
                fields.append(rb'(?:"(?P<quoted>%s)"|(?P<bare>%s))' % (_NAME, _NAME_UNQUOTED))
            elif column == parent_column:
                fields.append(rb"(?P=parent)")
            elif column == CLASS_COLUMN:
                fields.append(rb"(?:(?P<class>[12])(?P<class_rest>\d\d))?" if length == 12 else b"")
            else:
                fields.append(_OTHER_COLUMN)
        pattern = re.compile(rb"(?m)^" + b",".join(fields) + rb"\r?\n")
        level = LEVEL_BY_LENGTH[length].encode()
        fixes: list[tuple[bytes, bytes]] = []
        kind = klass = b""
        if length == 9:
            kind = b"\x01\\g<digit>"
            for digit in range(10):
                value = _TOWN_KINDS.get(digit, "other_town").encode()
                fixes.append((b"\ttown\t\x01%d\t" % digit, b"\ttown\t%s\t" % value))
        elif length == 12 and CLASS_COLUMN in header:
            kind = b"\x02\\g<class>"
            klass = rb"\g<class>\g<class_rest>"
            fixes += [(b"\t\x021\t", b"\turban\t"), (b"\t\x022\t", b"\trural\t")]
            for suffix, value in ((URBAN_SUFFIX, b"urban"), (RURAL_SUFFIX, b"rural")):
                fixes.append(
                    (
                        suffix.encode() + b"\tcommunity\t\x02\t",
                        suffix.encode() + b"\tcommunity\t" + value + b"\t",
                    )
                )
            fixes.append((b"\t\x02\t", b"\t\t"))
        elif length == 12:
            for suffix, value in ((URBAN_SUFFIX, b"urban"), (RURAL_SUFFIX, b"rural")):
                fixes.append(
                    (
                        suffix.encode() + b"\tcommunity\t\t",
                        suffix.encode() + b"\tcommunity\t" + value + b"\t",
                    )
                )
        elif length == 4:
            for grouping in GROUPING_NAMES:
                row = b"\t%s\tprefecture\t\t\t" % grouping.encode()
                fixes.append((row + false + b"\n", row + true + b"\n"))
        template = b"\\g<code>\t\\g<quoted>\\g<bare>\t%s\t%s\t%s\t%s\n" % (
            level,
            kind,
            klass,
            false,
        )
        codes = re.compile(rb"(?m)^(\d{%d})" % length)
        parents = None
        if length > 2:
            # One match per run of lines with the same parent (a file is mostly in order).
            parents = re.compile(rb"(?m)^(\d{%d})[^\n]*\n(?:\1[^\n]*\n)*" % PARENT_LENGTH[length])
        return cls(
            name,
            length,
            pattern,
            template,
            fixes,
            parents,
            codes,
            pieces,
            head[header_end + 1 :],
        )

    def blocks(self, parents: set[bytes], codes: list[bytes] | None) -> Iterator[bytes]:
        """The file's lines as rows of COPY text, block by block (``rows`` counts them).

        The parent codes of the lines go to ``parents``, their codes to ``codes`` if given.
        """
        rest = self.head
        for piece in self.pieces:
            end = rest.rfind(b"\n") + 1
            if end:
                block, rest = rest[:end], rest[end:]
                yield self._rewrite(block, parents, codes)
            rest += piece
        if rest and not rest.endswith(b"\n"):
            rest += b"\n"
        if rest:
            yield self._rewrite(rest, parents, codes)

    def _rewrite(self, block: bytes, parents: set[bytes], codes: list[bytes] | None) -> bytes:
        text, count = self.pattern.subn(self.template, block)
        if count != block.count(b"\n"):
            raise _GiveUp  # some line is not one the expression vouches for
        self.rows += count
        for old, new in self.fixes:
            text = text.replace(old, new)
        if self.parents is not None:
            parents.update(self.parents.findall(block))
        if codes is not None:
            codes += self.codes.findall(block)
        return text


def _pieces(path: Path) -> Iterator[bytes]:
    """The file's bytes, decompressed piece by piece."""
    try:
        data = path.read_bytes()
    except OSError:
        raise _GiveUp from None
    if path.suffix != ".xz":
        for start in range(0, len(data), PIECE):
            yield data[start : start + PIECE]
        return
    decompressor = lzma.LZMADecompressor()
    try:
        piece = decompressor.decompress(data, PIECE)
        while True:
            if piece:
                yield piece
            if decompressor.eof:
                break
            if decompressor.needs_input:
                raise _GiveUp  # truncated
            piece = decompressor.decompress(b"", PIECE)
    except lzma.LZMAError:
        raise _GiveUp from None
    if decompressor.unused_data:
        raise _GiveUp  # more than one stream: the careful path reads those


def _fast_import(paths: list[Path], effective_on: date) -> ImportResult | None:
    """The fast path: the result, or None when the careful path must do the run."""
    postgres = connection.vendor == "postgresql"
    try:
        with transaction.atomic():
            files = [_FastFile.open(path, postgres) for path in paths]
            bulk = postgres and not Division.objects.exists()
            # Into an empty table, codes are needed only at the levels of other files'
            # parents (a duplicate fails the rebuild of the unique index); otherwise all.
            if bulk:
                lengths = {PARENT_LENGTH[f.length] for f in files if f.length > 2}
            else:
                lengths = {f.length for f in files}
            codes: dict[int, list[bytes]] = {length: [] for length in lengths}
            parents: dict[int, set[bytes]] = {}
            sink = _TableCopy() if bulk else _PostgresStage() if postgres else _SqliteStage()
            with sink:
                for file in files:
                    found = parents.setdefault(PARENT_LENGTH.get(file.length, 0), set())
                    for block in file.blocks(found, codes.get(file.length)):
                        sink.write(block)
            rows = sum(file.rows for file in files)
            if rows == 0:
                raise _GiveUp  # "no rows to import" comes from the careful path
            _check_codes(parents, codes, bulk)
            return ImportResult(created=rows) if bulk else sink.merge(rows, effective_on)
    except (_GiveUp, DataError, IntegrityError, psycopg.DataError, psycopg.IntegrityError):
        return None


def _check_codes(parents: dict[int, set[bytes]], codes: dict[int, list[bytes]], bulk: bool) -> None:
    """No duplicate or retired code, and every parent in the run or (unless the table was
    empty) in the database; else _GiveUp."""
    for found in codes.values():
        # Files are in code order, and sorting what is in order is quick: a duplicate is
        # then next to its twin.
        found.sort()
        if any(map(bytes.__eq__, found, islice(found, 1, None))):
            raise _GiveUp  # a duplicate code
    if not bulk:
        for code in _retired_codes():
            found = codes.get(len(code), [])
            at = bisect_left(found, code.encode())
            if at < len(found) and found[at] == code.encode():
                raise _GiveUp  # a retired code
    missing: set[str] = set()
    for length, found in parents.items():
        if length:
            missing.update(p.decode() for p in found.difference(codes.get(length, ())))
    if missing and (bulk or len(_existing_codes(missing)) != len(missing)):
        raise _GiveUp  # an unknown parent


# --- 3. writing --------------------------------------------------------------------------------


class _TableCopy:
    """COPY straight into geo_division, its secondary indexes dropped and rebuilt around it.

    For a load into an empty table: building an index once is several times cheaper than
    maintaining it row by row. All in the caller's transaction, so a failure leaves the
    indexes as they were.
    """

    def __enter__(self) -> _TableCopy:
        self._rebuild = _drop_secondary_indexes()
        self._exit = ExitStack()
        cursor = self._exit.enter_context(connection.cursor())
        columns = ", ".join(ROW_COLUMNS)
        copy = cursor.cursor.copy(f"COPY {Division._meta.db_table} ({columns}) FROM STDIN")
        self.write = self._exit.enter_context(copy).write
        return self

    def __exit__(self, *exc) -> None:
        self._exit.__exit__(*exc)
        if exc[0] is None:
            _rebuild_indexes(self._rebuild)


class _PostgresStage:
    """A temporary table of rows to merge into geo_division, filled by COPY."""

    def __init__(self) -> None:
        self.name = f"division_stage_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> _PostgresStage:
        self._exit = ExitStack()
        cursor = self._exit.enter_context(connection.cursor())
        cursor.execute(
            f'CREATE TEMP TABLE {self.name} (code varchar(12) COLLATE "C", '
            "name varchar(100), level varchar(16), kind varchar(16), klass varchar(3), "
            "is_grouping boolean) ON COMMIT DROP"
        )
        self.write = self._exit.enter_context(
            cursor.cursor.copy(f"COPY {self.name} FROM STDIN")
        ).write
        return self

    def __exit__(self, *exc) -> None:
        self._exit.__exit__(*exc)

    def merge(self, rows: int, effective_on: date) -> ImportResult:
        result = _merge(self.name, rows, effective_on)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {self.name}")
        return result


class _SqliteStage:
    """A temporary table of rows to merge into geo_division, filled by executemany."""

    def __init__(self) -> None:
        self.name = f"division_stage_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> _SqliteStage:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {self.name} (code TEXT, name TEXT, level TEXT, "
                "kind TEXT, klass TEXT, is_grouping INTEGER)"
            )
        return self

    def write(self, block: bytes) -> None:
        """Rows in COPY text format, as the fast path makes them (nothing escaped)."""
        try:
            text = block.decode()
        except UnicodeDecodeError:
            raise _GiveUp from None
        if _LONG_NAME.search(text):
            raise _GiveUp  # PostgreSQL's varchar(100) catches these there
        lines = text.split("\n")  # not splitlines(): a name may hold U+2028 or U+0085
        lines.pop()  # after the last newline
        self.write_rows(line.split("\t") for line in lines)

    def write_rows(self, rows: Iterable[Iterable]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO temp.{self.name} VALUES (%s, %s, %s, %s, %s, %s)", rows
            )

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE INDEX temp.{self.name}_code ON {self.name} (code)")

    def merge(self, rows: int, effective_on: date) -> ImportResult:
        result = _merge(f"temp.{self.name}", rows, effective_on)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE temp.{self.name}")
        return result


_LONG_NAME = re.compile(r"(?m)^[^\t\n]*\t[^\t\n]{101}")


def _drop_secondary_indexes() -> list[str]:
    """Drop the indexes of geo_division other than its primary key (and any a foreign key
    relies on); return the statements that rebuild them.

    If the table cannot be altered now (e.g. checks of deferred foreign keys on it are
    pending in this transaction), nothing is dropped and the indexes are maintained as rows
    arrive.
    """
    try:
        with transaction.atomic():
            return _drop_indexes()
    except OperationalError:
        return []


def _drop_indexes() -> list[str]:
    table = Division._meta.db_table
    rebuild = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, "
            "pg_get_constraintdef(c.oid) FROM pg_index i "
            "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)"
            " ORDER BY 1",
            [table],
        )
        for index, index_sql, constraint, constraint_sql in cursor.fetchall():
            if constraint:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
                rebuild.append(
                    f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraint_sql}'
                )
            else:
                cursor.execute(f"DROP INDEX {index}")
                rebuild.append(index_sql)
    return rebuild


def _rebuild_indexes(statements: list[str]) -> None:
    if not statements:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('maintenance_work_mem')")
        previous = cursor.fetchone()[0]
        # For the sort of the index build (local to the transaction, restored below).
        cursor.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [previous])


_KIND_SQL = """CASE
  WHEN length(s.code) = 9 THEN CASE
    WHEN CAST(substr(s.code, 7, 3) AS INTEGER) < 100 THEN 'subdistrict'
    WHEN CAST(substr(s.code, 7, 3) AS INTEGER) < 200 THEN 'town'
    WHEN CAST(substr(s.code, 7, 3) AS INTEGER) < 400 THEN 'township'
    ELSE 'other_town' END
  WHEN length(s.code) = 12 THEN CASE
    WHEN {klass} LIKE '1%%' THEN 'urban'
    WHEN {klass} LIKE '2%%' THEN 'rural'
    WHEN s.name LIKE '%%{urban}' THEN 'urban'
    WHEN s.name LIKE '%%{rural}' THEN 'rural'
    ELSE {fallback} END
  ELSE '' END"""


def _merge(stage: str, rows: int, effective_on: date) -> ImportResult:
    """Insert new codes, update renamed or reclassified ones, record renames.

    One join of the stage with geo_division finds the rows that are new or differ; only
    those are written. An existing division keeps its urban-rural class (and the kind that
    follows from it, or failing that its kind) when the file gives none.
    """
    table = Division._meta.db_table
    changes = DivisionChange._meta.db_table
    diff = f"division_diff_{uuid.uuid4().hex[:12]}"
    merged_class = "CASE WHEN s.klass <> '' THEN s.klass ELSE d.urban_rural_class END"
    merged_kind = _KIND_SQL.format(
        klass=f"({merged_class})", fallback="d.kind", urban=URBAN_SUFFIX, rural=RURAL_SUFFIX
    )
    postgres = connection.vendor == "postgresql"
    result = ImportResult()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {diff} {'ON COMMIT DROP ' if postgres else ''}AS "
            "SELECT s.code, s.name, s.level, s.kind AS new_kind, s.klass, s.is_grouping, "
            f"d.id, d.name AS old_name, {merged_kind} AS merged_kind, "
            f"{merged_class} AS merged_class "
            f"FROM {stage} s LEFT JOIN {table} d ON d.code = s.code "
            f"WHERE d.id IS NULL OR d.name <> s.name OR d.kind <> ({merged_kind}) "
            f"OR d.urban_rural_class <> ({merged_class}) OR d.is_grouping <> s.is_grouping",
            (),
        )
        cursor.execute(
            f"INSERT INTO {changes} "
            "(division_id, change_kind, old_code, new_code, old_name, new_name, "
            "effective_on, recorded_at) "
            "SELECT id, 'rename', code, code, old_name, name, %s, %s "
            f"FROM {diff} WHERE id IS NOT NULL AND old_name <> name",
            [effective_on, timezone.now()],
        )
        result.renamed = cursor.rowcount
        cursor.execute(
            f"UPDATE {table} SET name = x.name, kind = x.merged_kind, "
            "urban_rural_class = x.merged_class, is_grouping = x.is_grouping "
            f"FROM {diff} x WHERE {table}.id = x.id",
            (),
        )
        result.updated = cursor.rowcount - result.renamed
        cursor.execute(f"SELECT count(*) FROM {diff} WHERE id IS NULL", ())
        created = cursor.fetchone()[0]
        rebuild = []
        if postgres and created > REBUILD_INDEXES_ABOVE:
            cursor.execute(f"SELECT count(*) FROM {table}", ())
            if created > cursor.fetchone()[0]:
                rebuild = _drop_secondary_indexes()
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(ROW_COLUMNS)}) "
            f"SELECT code, name, level, new_kind, klass, is_grouping FROM {diff} "
            "WHERE id IS NULL ORDER BY code",
            (),
        )
        result.created = cursor.rowcount
        _rebuild_indexes(rebuild)
        cursor.execute(f"DROP TABLE {diff}", ())
    result.unchanged = rows - result.created - result.renamed - result.updated
    return result


def _lock_divisions() -> None:
    """Serialise imports (SQLite already holds the write lock in IMMEDIATE mode)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Division._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


__all__ = [
    "DivisionImportError",
    "ImportProblem",
    "ImportResult",
    "Level",
    "division_kind",
    "import_divisions",
]

"""Real .xlsx files: the one reader of uploaded sheets, and the one writer of exports and
import templates.

Reading (``SheetReader``): every import declares its sheet once (``SheetSpec``: columns
with a kind — text, identifier, date, whole number or choice) and reads it here, so no
import parses cells itself:

- the file is checked first: a legacy .xls / WPS .et, an .ods or a CSV is refused with
  "save it as .xlsx", an archive that would unpack to more than ``MAX_UNPACKED_BYTES`` or a
  sheet with more than the row cap is refused before or while it is read (streaming,
  openpyxl's read-only mode: the rows are never all in memory);
- the header may be any of the first five rows (title rows above it are skipped), and a
  missing column is named alone;
- identifier columns (national IDs, phones, division codes, credit codes, certificate
  numbers) are text or nothing: a number cell there is refused with what happened and what
  to do, because a spreadsheet program keeps 15 significant digits and drops leading
  zeros — except where a column declares which whole numbers cannot have lost a digit
  (a 12-digit division code, an 11-digit mobile number);
- dates are read the ways officials type them (date cells, ``2020-03-01``, ``2020/3/1``,
  ``2020.3.1``, ``2020年3月1日``, Excel serial numbers), anything else refused naming the
  column;
- the template's example row, if copied onto the data sheet, is recognised and refused.

Writing: every text cell is stored as a string, never as a formula, so a value that starts
with ``=``, ``+``, ``-`` or ``@`` cannot run (CSV/formula injection); characters a
workbook cannot hold are dropped; dates are date cells, amounts numbers with thousands
separators and two decimals, column widths follow the content, the header is frozen.
Templates (``SheetSpec.template``) format identifier columns as Text and date columns as
dates for the whole column, offer lists for closed choices, and keep their instructions
and example row on a second sheet.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext, pgettext_lazy
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from shegong.core.validators import CONTROL_CHARACTERS, FIRST_DAY, FIRST_YEAR, LAST_DAY, LAST_YEAR

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 300 * 1024 * 1024  # what the archive's parts may unpack to, in all
MAX_IMPORT_ROWS = 100_000  # data rows of one file
MAX_COLUMNS = 100  # columns read of each row (ours have about 20)
HEADER_SEARCH_ROWS = 5
INSTRUCTIONS_TITLE = "填写说明"

XLSX_SIGNATURE = b"PK\x03\x04"  # an .xlsx is a zip archive
OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # legacy .xls, WPS .et
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class SheetError(Exception):
    """The file as a whole cannot be read (wrong format, too large, no header, no rows)."""


# --- What a file is ------------------------------------------------------------------------


def check_workbook(data: bytes, filename: str = "") -> None:
    """Refuse, with what to do, a file that is not an .xlsx workbook we may open."""
    name = (filename or "").lower()
    if len(data) > MAX_UPLOAD_BYTES:
        raise SheetError(_("The file is larger than 20 MB."))
    if not data:
        raise SheetError(_("The file is empty."))
    if data.startswith(OLE2_SIGNATURE) or name.endswith((".xls", ".et")):
        raise SheetError(
            _(
                "This is a legacy Excel .xls (or WPS .et) file: open it in your spreadsheet "
                "program, save it as an Excel workbook (.xlsx) and import that."
            )
        )
    if name.endswith((".ods", ".fods")) or (
        data.startswith(XLSX_SIGNATURE)
        and data[30:38] == b"mimetype"
        and ODS_MIMETYPE in data[:100]
    ):
        raise SheetError(
            _(
                "This is an OpenDocument spreadsheet (.ods): save it as an Excel workbook "
                "(.xlsx) and import that."
            )
        )
    if name.endswith((".csv", ".txt")):
        raise SheetError(
            _(
                "This is a CSV text file: open it in your spreadsheet program, format the ID "
                "and phone columns as Text, save it as an Excel workbook (.xlsx) and import that."
            )
        )
    if not data.startswith(XLSX_SIGNATURE) or (name and not name.endswith(".xlsx")):
        raise SheetError(_("The file is not an Excel .xlsx workbook."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetError(_("The file is not an Excel .xlsx workbook.")) from exc
    if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
        raise SheetError(
            _("The workbook unpacks to more than %(n)d MB: split it into smaller files.")
            % {"n": MAX_UNPACKED_BYTES // (1024 * 1024)}
        )
    if not any(part.filename == "xl/workbook.xml" for part in parts):
        raise SheetError(_("The file is not an Excel .xlsx workbook."))


# --- Columns -------------------------------------------------------------------------------

TEXT, IDENTIFIER, DATE, INTEGER, CHOICE = "text", "identifier", "date", "integer", "choice"


@dataclass(frozen=True)
class Identifier:
    """What an identifier column holds (named in messages), and which whole numbers a number
    cell may hold without a digit having been lost (``None``: a number is always refused)."""

    what: Any
    number_ok: Callable[[int], bool] | None = None


NATIONAL_ID = Identifier(gettext_lazy("national ID"))
# An 11-digit mobile number starts with 1, so no leading zero can have been dropped; a
# landline (023…) typed as a number has lost its zero.
PHONE = Identifier(
    gettext_lazy("phone number"), lambda n: len(str(n)) == 11 and str(n).startswith("1")
)
# Province codes start with 1–8 and codes have at most 12 digits: exact as numbers.
DIVISION_CODE = Identifier(gettext_lazy("division code"), lambda n: len(str(n)) in (2, 4, 6, 9, 12))
CREDIT_CODE = Identifier(gettext_lazy("unified social credit code"))
CERTIFICATE = Identifier(pgettext_lazy("qualification", "certificate number"))


@dataclass(frozen=True)
class Column:
    """One column of an import sheet: its key, its heading as officials see it, its kind.

    ``required``: the header must have it; ``not_blank``: every row must give a value;
    ``choices``: word → value for a closed choice (the non-ASCII words are offered in the
    template's list); ``example``: its value in the template's example row; ``note``: what
    the instructions sheet says of it."""

    key: str
    heading: str
    kind: str = TEXT
    identifier: Identifier | None = None
    choices: Mapping[str, Any] | None = None
    required: bool = False
    not_blank: bool = False
    max_length: int = 200
    example: str = ""
    note: Any = ""

    @property
    def words(self) -> list[str]:
        """The choice words offered to a person (Chinese, no blanks, each value once)."""
        seen, words = set(), []
        for word, value in (self.choices or {}).items():
            if word and not word.isascii() and value not in seen:
                seen.add(value)
                words.append(word)
        return words


def text(key: str, heading: str, **options) -> Column:
    return Column(key, heading, TEXT, **options)


def identifier(key: str, heading: str, rule: Identifier, **options) -> Column:
    return Column(key, heading, IDENTIFIER, identifier=rule, **options)


def date_column(key: str, heading: str, **options) -> Column:
    return Column(key, heading, DATE, **options)


def integer(key: str, heading: str, **options) -> Column:
    return Column(key, heading, INTEGER, **options)


def choice(key: str, heading: str, choices: Mapping[str, Any], **options) -> Column:
    return Column(key, heading, CHOICE, choices=choices, **options)


class CellProblem(ValueError):
    """A cell that cannot be read as its column's kind."""


_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?E[+-]?[0-9]+$", re.IGNORECASE)
_DATE_NUMERIC = re.compile(
    r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_CHINESE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$")
_WHITESPACE = re.compile(r"\s+")


def _number_text(value: float | int | Decimal) -> str:
    """A number as plain digits (no exponent, no trailing ``.0``)."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _plain_text(value: Any) -> str:
    """What a cell shows as text, for text and choice columns."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float | Decimal):
        return _number_text(value)
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text_value = str(value)
    if CONTROL_CHARACTERS.search(text_value):
        raise CellProblem(_("contains invisible control characters: type the text again"))
    # a line break typed inside a cell (Alt+Enter) or a tab is a space in a one-line field
    return _WHITESPACE.sub(" ", text_value).strip()


def _as_identifier(value: Any, rule: Identifier) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | date | datetime):
        raise CellProblem(
            _("is not a %(what)s: format the column as Text and type it again")
            % {"what": rule.what}
        )
    if isinstance(value, int | float | Decimal):
        whole = isinstance(value, int) or (
            isinstance(value, float | Decimal) and value == int(value)
        )
        if whole and abs(value) < 10**15 and rule.number_ok and rule.number_ok(int(value)):
            return str(int(value))
        raise CellProblem(_stored_as_number(rule, lost_tail=not whole or abs(value) >= 10**15))
    code = unicodedata.normalize("NFKC", str(value))
    if CONTROL_CHARACTERS.search(code):
        raise CellProblem(_("contains invisible control characters: type the text again"))
    code = _WHITESPACE.sub("", code).upper()
    if _SCIENTIFIC.match(code):
        # "5.00105197501018E+17": a number already turned into text, digits already lost
        raise CellProblem(_stored_as_number(rule, lost_tail=True))
    return code


def _stored_as_number(rule: Identifier, *, lost_tail: bool) -> str:
    if lost_tail:
        return _(
            "This column must be formatted as Text: the spreadsheet program stored the "
            "%(what)s as a number, and its last digits may have been lost."
        ) % {"what": rule.what}
    return _(
        "This column must be formatted as Text: the spreadsheet program stored the "
        "%(what)s as a number, and a leading zero may have been lost."
    ) % {"what": rule.what}


def _in_calendar(day: date, shown: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise CellProblem(
            _("the date %(v)s is outside the years %(a)d–%(b)d")
            % {"v": shown, "a": FIRST_YEAR, "b": LAST_YEAR}
        )
    return day


def parse_date(value: Any, *, epoch: datetime | None = None) -> date | None:
    """The one date reader: a date cell, ``2020-03-01``, ``2020/3/1``, ``2020.3.1``,
    ``2020年3月1日`` (full-width digits too), or an Excel serial number; ``None`` if empty.
    Raises ``CellProblem`` (a ``ValueError``) saying how to write a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _in_calendar(value.date(), value.date().isoformat())
    if isinstance(value, date):
        return _in_calendar(value, value.isoformat())
    if isinstance(value, bool):
        raise CellProblem(_not_a_date(value))
    if isinstance(value, int | float | Decimal):
        if value == int(value) and FIRST_YEAR <= value <= LAST_YEAR:
            raise CellProblem(
                _("“%(v)s” is only a year: give the whole date, e.g. %(v)s-03-01")
                % {"v": int(value)}
            )
        try:
            day = from_excel(float(value), epoch) if epoch else from_excel(float(value))
        except (OverflowError, ValueError, TypeError) as exc:
            raise CellProblem(_not_a_date(value)) from exc
        if not isinstance(day, datetime):
            raise CellProblem(_not_a_date(value))
        return _in_calendar(day.date(), _number_text(value))
    shown = str(value).strip()
    if not shown:
        return None
    written = unicodedata.normalize("NFKC", shown)
    match = _DATE_NUMERIC.match(written) or _DATE_CHINESE.match(written)
    if match is None:
        raise CellProblem(_not_a_date(shown))
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise CellProblem(_not_a_date(shown)) from exc
    return _in_calendar(day, shown)


def _not_a_date(value: Any) -> str:
    return _("“%(v)s” is not a date (write 2020-03-01, 2020/3/1, 2020.3.1 or 2020年3月1日)") % {
        "v": value
    }


def _as_integer(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool | date | datetime):
        raise CellProblem(_("“%(v)s” is not a whole number") % {"v": value})
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        if value != int(value):
            raise CellProblem(_("“%(v)s” is not a whole number") % {"v": _number_text(value)})
        number = int(value)
    else:
        written = unicodedata.normalize("NFKC", str(value)).strip()
        if not written:
            return None
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", written):
            raise CellProblem(_("“%(v)s” is not a whole number") % {"v": written[:40]})
        number = int(written)
    if abs(number) >= 2**63:
        raise CellProblem(_("the number is too large"))
    return number


def _as_choice(value: Any, column: Column) -> Any:
    written = unicodedata.normalize("NFKC", _plain_text(value))
    choices = column.choices or {}
    if written in choices:
        return choices[written]
    if written.lower() in choices:
        return choices[written.lower()]
    if not written:
        return None
    raise CellProblem(
        _("“%(v)s” is not one of: %(words)s")
        % {"v": written[:40], "words": "、".join(column.words)}
    )


def read_cell(column: Column, value: Any, *, epoch: datetime | None = None) -> Any:
    """A cell's value as its column's kind (text, identifier and choice words as text;
    dates as ``date``; whole numbers as ``int``); ``CellProblem`` says why not."""
    if isinstance(value, str) and not value.strip():
        value = None
    if column.kind == IDENTIFIER:
        assert column.identifier is not None
        result: Any = _as_identifier(value, column.identifier)
    elif column.kind == DATE:
        result = parse_date(value, epoch=epoch)
    elif column.kind == INTEGER:
        result = _as_integer(value)
    elif column.kind == CHOICE:
        result = _as_choice(value, column)
    else:
        result = _plain_text(value)
        if len(result) > column.max_length:
            raise CellProblem(_("is longer than %(n)d characters") % {"n": column.max_length})
    if column.not_blank and result in ("", None):
        raise CellProblem(_("must be filled in"))
    return result


def _heading_key(value: Any) -> str:
    """A heading as compared: full-width folded, no spaces, no required-marks."""
    written = unicodedata.normalize("NFKC", "" if value is None else str(value))
    written = _WHITESPACE.sub("", written)
    for mark in ("(必填)", "*"):
        written = written.replace(mark, "")
    return written


# --- Sheets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    """One data row of an uploaded sheet: its Excel row number, its values by column key
    (read as each column's kind) and the problems of its cells, each naming its column."""

    number: int
    values: dict[str, Any]
    problems: tuple[str, ...] = ()
    unreadable: frozenset[str] = frozenset()  # keys of the cells with a problem

    def given(self, key: str) -> bool:
        """Whether the cell says something (a value, or a problem already reported)."""
        return key in self.unreadable or self.values.get(key) not in ("", None)


@dataclass(frozen=True)
class SheetSpec:
    """An import sheet: the data sheet's title, its columns, and the columns by which the
    template's example row is recognised if it is copied onto the data sheet."""

    title: str
    columns: tuple[Column, ...]
    example_keys: tuple[str, ...] = ()
    note: Any = ""

    @property
    def headings(self) -> dict[str, str]:
        return {column.key: column.heading for column in self.columns}

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def template(self) -> bytes:
        return template_bytes(self)


class SheetReader:
    """The data rows of an uploaded sheet, read one at a time (openpyxl's read-only mode),
    so a file of tens of thousands of rows is never held as cells in memory.

    Opening checks the file and finds the header (``SheetError``); ``estimated_rows`` is what
    the sheet declares (it may be absent or wrong); iterating yields ``SheetRow``s, skipping
    empty rows, and raises ``SheetError`` past ``max_rows``; ``rows`` counts the data rows
    yielded so far; ``header_row`` is the header's row number.
    """

    def __init__(
        self, data: bytes, spec: SheetSpec, *, filename: str = "", max_rows: int = MAX_IMPORT_ROWS
    ):
        check_workbook(data, filename)
        self.spec = spec
        self.max_rows = max_rows
        try:
            self._book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise SheetError(_("The file is not an Excel .xlsx workbook.")) from exc
        try:
            self._open(spec)
        except Exception:
            self.close()
            raise

    def _open(self, spec: SheetSpec) -> None:
        sheets = self._book.worksheets
        if not sheets:
            raise SheetError(_("The file is empty."))
        sheet = next((s for s in sheets if s.title == spec.title), None)
        if sheet is None:
            sheet = next((s for s in sheets if s.title != INSTRUCTIONS_TITLE), sheets[0])
        declared = sheet.max_row or 0
        if isinstance(declared, int) and declared > self.max_rows + HEADER_SEARCH_ROWS:
            raise SheetError(self._too_many())
        # What the sheet declares may be missing or false: count the rows that hold a value
        # in the raw XML first (a fast pass that stops at the cap), so that a file far over
        # the cap is refused before a row is read as cells.
        source = sheet._get_source()
        try:
            if _value_rows_over(source, self.max_rows + HEADER_SEARCH_ROWS):
                raise SheetError(self._too_many())
        finally:
            source.close()
        self.estimated_rows = max(0, declared - 1) if isinstance(declared, int) else 0
        sheet.reset_dimensions()  # read what is there, whatever the file declares
        self._rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
        first = []
        for _number in range(HEADER_SEARCH_ROWS):
            row = next(self._rows, None)
            if row is None:
                break
            first.append(row)
        if not any(_filled(row) for row in first):
            raise SheetError(_("The file is empty."))
        header_index, positions = self._find_header(first)
        self.header_row = header_index + 1
        self._positions = positions
        self._pending = first[header_index + 1 :]
        self._epoch = self._book.epoch
        self.rows = 0

    def _find_header(self, first: list[tuple]) -> tuple[int, list[tuple[Column, int]]]:
        wanted = {_heading_key(column.heading): column for column in self.spec.columns}
        required = [column for column in self.spec.columns if column.required]
        best = (-1, 0, {})  # (row index, known headings, positions)
        for index, row in enumerate(first):
            found: dict[str, int] = {}
            for position, value in enumerate(row):
                key = _heading_key(value)
                if key in wanted:
                    if key in found:
                        raise SheetError(
                            _("The header row %(r)d has the column “%(c)s” twice.")
                            % {"r": index + 1, "c": wanted[key].heading}
                        )
                    found[key] = position
            if len(found) > best[1]:
                best = (index, len(found), found)
            if found and all(_heading_key(c.heading) in found for c in required):
                break
        index, known, found = best
        if not known:
            raise SheetError(
                _(
                    "No header found in the first %(n)d rows: the sheet needs the columns %(c)s "
                    "(download the template)."
                )
                % {"n": HEADER_SEARCH_ROWS, "c": "、".join(c.heading for c in required)}
            )
        missing = [c.heading for c in required if _heading_key(c.heading) not in found]
        if missing:
            raise SheetError(
                _("The header (row %(r)d) lacks the column(s): %(c)s")
                % {"r": index + 1, "c": "、".join(missing)}
            )
        positions = [(wanted[key], position) for key, position in found.items()]
        return index, positions

    def _too_many(self) -> str:
        return _(
            "The file has more than %(n)s data rows: split it into files of at most %(n)s rows."
        ) % {"n": f"{self.max_rows:,}"}

    def __iter__(self) -> Iterator[SheetRow]:
        example = self._example()
        number = self.header_row
        try:
            for row in _chain(self._pending, self._rows):
                number += 1
                if not _filled(row):
                    continue
                self.rows += 1
                if self.rows > self.max_rows:
                    raise SheetError(self._too_many())
                yield self._read(number, row, example)
        finally:
            self.close()

    def _read(self, number: int, row: tuple, example: dict[str, Any] | None) -> SheetRow:
        values: dict[str, Any] = {}
        problems: list[str] = []
        unreadable = set()
        width = len(row)
        for column, position in self._positions:
            raw = row[position] if position < width else None
            try:
                values[column.key] = read_cell(column, raw, epoch=self._epoch)
            except CellProblem as exc:
                values[column.key] = None
                unreadable.add(column.key)
                problems.append(
                    _("%(column)s: %(problem)s") % {"column": column.heading, "problem": exc}
                )
        if example and all(values.get(key) == value for key, value in example.items()):
            problems.insert(
                0,
                _(
                    "this is the template's example row (see the sheet “%(s)s”): delete it "
                    "and import again"
                )
                % {"s": INSTRUCTIONS_TITLE},
            )
        return SheetRow(number, values, tuple(problems), frozenset(unreadable))

    def _example(self) -> dict[str, Any] | None:
        keys = self.spec.example_keys
        present = {column.key for column, _position in self._positions}
        if not keys or not set(keys) <= present:
            return None
        example = {}
        for key in keys:
            column = self.spec.column(key)
            try:
                example[key] = read_cell(column, column.example)
            except CellProblem:
                return None
        return example

    def close(self) -> None:
        self._book.close()


_ROW_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?row>")
_CELL_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|t)[\s>]")


def _value_rows_over(source, limit: int) -> bool:
    """Whether a sheet's XML holds more than ``limit`` rows with a value in a cell; read in
    pieces of 1 MB, stopping as soon as it does (rows that only carry a format, which
    spreadsheet programs write for formatted empty rows, do not count)."""
    count, tail = 0, b""
    while chunk := source.read(1 << 20):
        pieces = _ROW_END.split(tail + chunk)
        tail = pieces.pop()
        for piece in pieces:
            if _CELL_VALUE.search(piece):
                count += 1
                if count > limit:
                    return True
    return False


def _filled(row: tuple | None) -> bool:
    return bool(row) and any(v is not None and str(v).strip() != "" for v in row)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


# --- Writing -------------------------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
MIN_WIDTH, MAX_WIDTH = 6, 60


def _date_format() -> str:
    return 'yyyy"年"m"月"d"日"' if (get_language() or "zh").startswith("zh") else "yyyy-mm-dd"


def _datetime_format() -> str:
    return _date_format() + " hh:mm"


AMOUNT_FORMAT = "#,##0.00"


def display_width(value: Any) -> int:
    """How many character cells a value takes in a spreadsheet (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(value))


def _cell_value(value: Any) -> tuple[Any, str | None, int]:
    """What to store in a cell, its number format, and how wide it shows."""
    if value is None:
        return "", None, 0
    if isinstance(value, bool):
        word = "是" if value else "否"
        return word, None, 2
    if isinstance(value, Decimal):
        return value, AMOUNT_FORMAT, len(f"{value:,.2f}")
    if isinstance(value, int | float):
        return value, None, len(str(value))
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value, _datetime_format(), 18
    if isinstance(value, date):
        return value, _date_format(), 12
    text_value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    text_value = CONTROL_CHARACTERS.sub("", text_value)
    longest_line = max((display_width(line) for line in text_value.split("\n")), default=0)
    return text_value, None, longest_line


def workbook_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx with one sheet: a bold, frozen header row, then the rows; dates as date
    cells, amounts (``Decimal``) with thousands separators and two decimals, text never a
    formula, column widths from the content."""
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(title)
    widths = [display_width(h) for h in headers]
    sheet.append([str(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    # (``sheet.max_row`` scans every cell: looking rows up by it made large exports quadratic)
    for number, row in enumerate(rows, start=2):
        prepared = [_cell_value(value) for value in row]
        sheet.append([value for value, _format, _width in prepared])
        for column, (value, number_format, width) in enumerate(prepared, start=1):
            if isinstance(value, str):
                # never a formula, whatever it starts with
                sheet.cell(row=number, column=column).data_type = TYPE_STRING
            elif number_format:
                sheet.cell(row=number, column=column).number_format = number_format
            if column > len(widths):
                widths.append(0)
            widths[column - 1] = max(widths[column - 1], width)
    _set_widths(sheet, widths)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", ILLEGAL_CHARACTERS_RE.sub("", str(title))).strip()
    return (cleaned or "Sheet")[:31]


def _set_widths(sheet, widths: Sequence[int]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width + 2)
        )


def xlsx_response(filename: str, title: str, headers: Sequence[str], rows) -> HttpResponse:
    """A download of the table as ``filename`` (.xlsx)."""
    return xlsx_bytes_response(filename, workbook_bytes(title, headers, rows))


def xlsx_bytes_response(filename: str, data: bytes) -> HttpResponse:
    """A download of an .xlsx file already made (an export or a template)."""
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


_KIND_NOTES = {
    TEXT: pgettext_lazy("import template", "text"),
    IDENTIFIER: pgettext_lazy(
        "import template", "text (the column is formatted as Text: keep it so)"
    ),
    DATE: pgettext_lazy("import template", "a date: 2020-03-01, 2020/3/1 or 2020年3月1日"),
    INTEGER: pgettext_lazy("import template", "a whole number"),
    CHOICE: pgettext_lazy("import template", "one of the list"),
}
TEMPLATE_ROWS = MAX_IMPORT_ROWS + 1  # rows the formats and lists cover


def template_bytes(spec: SheetSpec) -> bytes:
    """The import template of ``spec``: an empty data sheet (header frozen; identifier
    columns formatted as Text and date columns as dates, whole columns; lists for closed
    choices; widths), and an instructions sheet with each column and one example row."""
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(spec.title)
    sheet.append([column.heading for column in spec.columns])
    widths = []
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if column.required else None)
        cell.fill = HEADER_FILL
        cell.data_type = TYPE_STRING
        width = display_width(column.heading)
        dimension = sheet.column_dimensions[letter]
        if column.kind == IDENTIFIER:
            dimension.number_format = "@"
            width = max(width, 22)
        elif column.kind == DATE:
            dimension.number_format = "yyyy-mm-dd"
            width = max(width, 12)
        elif column.kind == CHOICE and column.words:
            width = max(width, *(display_width(w) for w in column.words))
            _add_list(sheet, column, f"{letter}2:{letter}{TEMPLATE_ROWS}")
        else:
            width = max(width, 14)
        widths.append(width)
    _set_widths(sheet, widths)
    sheet.freeze_panes = "A2"
    _instructions(book.create_sheet(INSTRUCTIONS_TITLE), spec)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _add_list(sheet, column: Column, cells: str) -> None:
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(column.words) + '"',
        allow_blank=not column.not_blank,
        showErrorMessage=True,
        errorTitle=str(_("Not in the list")),
        error=str(_("Choose one of: %(words)s") % {"words": "、".join(column.words)}),
    )
    validation.add(cells)
    sheet.add_data_validation(validation)


def _yes_no(value: bool) -> str:
    return pgettext("import template", "yes") if value else pgettext("import template", "no")


def _instructions(sheet, spec: SheetSpec) -> None:
    bold = Font(bold=True)
    sheet.append([str(_("How to fill in the sheet “%(s)s”") % {"s": spec.title})])
    sheet["A1"].font = Font(bold=True, size=13)
    lines = [
        _("Fill in one row per record on the first sheet, below its header; do not rename it."),
        _("Columns in red must be in the header; “must be filled” columns need a value."),
        _(
            "ID, phone and code columns are formatted as Text: keep them so, or the "
            "spreadsheet program turns an ID into a number and loses its last digits."
        ),
        _("The example row below is for reading only: it is not imported."),
    ]
    if spec.note:
        lines.insert(0, spec.note)
    for line in lines:
        sheet.append([str(line)])
    sheet.append([])
    header = [
        pgettext("import template", "Column"),
        pgettext("import template", "In the header"),
        pgettext("import template", "Must be filled"),
        pgettext("import template", "What to write"),
        pgettext("import template", "Notes"),
    ]
    sheet.append([str(h) for h in header])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
        cell.fill = HEADER_FILL
    for column in spec.columns:
        what = str(_KIND_NOTES[column.kind])
        if column.kind == CHOICE and column.words:
            what = "、".join(column.words)
        sheet.append(
            [
                column.heading,
                _yes_no(column.required),
                _yes_no(column.not_blank),
                what,
                str(column.note),
            ]
        )
    sheet.append([])
    sheet.append([str(_("Example row (not imported):"))])
    sheet.cell(row=sheet.max_row, column=1).font = bold
    top = sheet.max_row + 1
    sheet.append([column.heading for column in spec.columns])
    for cell in sheet[top]:
        cell.font = bold
        cell.fill = HEADER_FILL
    sheet.append([column.example for column in spec.columns])
    for cell in sheet[top + 1]:
        cell.data_type = TYPE_STRING
    widths = [
        max(display_width(column.heading), display_width(column.example), 12)
        for column in spec.columns
    ]
    widths[0] = max(widths[0], 16)
    if len(widths) > 3:
        widths[3] = max(widths[3], 36)
    _set_widths(sheet, widths)


# --- Importing rows through the services ---------------------------------------------------


@dataclass
class ImportReport:
    """What an import did, or every row it refused (then it wrote nothing)."""

    created: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0  # data rows read
    result: bytes = b""  # a file the import gives back (e.g. one-time links)
    result_name: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def run_row_import(
    *,
    actor,
    data: bytes,
    spec: SheetSpec,
    import_row: Callable[[dict[str, Any], ImportReport], None],
    action: str,
    object_type: str,
    row_errors: tuple[type[BaseException], ...],
    message: Callable[[BaseException], str],
    filename: str = "",
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportReport:
    """Read a sheet, then import it row by row in one transaction: each row in a savepoint;
    if any row fails (a cell that cannot be read, or the service refusing it), everything
    is rolled back and every failed row is reported with its Excel row number.

    The sheet is read and its cells checked before the transaction begins (progress is
    reported meanwhile), so a file that is too large is refused without holding the
    database's write lock while it is read."""
    from django.db import transaction

    from shegong.core.audit import audit_record

    report = ImportReport()
    rows: list[SheetRow] = []
    phase = _("Reading and checking rows")
    try:
        reader = SheetReader(data, spec, filename=filename)
        for row in reader:
            rows.append(row)
            if row.problems:
                report.errors.append((row.number, "；".join(row.problems)))
            if progress is not None and reader.rows % 1000 == 0:
                progress(reader.rows, max(reader.estimated_rows, reader.rows), phase)
    except SheetError as exc:
        report.errors = [(1, str(exc))]
        return report
    report.rows = len(rows)
    if not rows:
        report.errors.append((1, _("The file has no data rows.")))
        return report
    if progress is not None:
        progress(report.rows, report.rows, _("Writing"))
    try:
        with transaction.atomic():
            for row in rows:
                if row.problems:
                    continue  # reported above; the others are still checked by the services
                try:
                    with transaction.atomic():
                        import_row(row.values, report)
                except row_errors as exc:
                    report.errors.append((row.number, message(exc)))
            if report.errors:
                report.errors.sort()
                raise _Rollback
            audit_record(
                actor=actor,
                action=action,
                object_type=object_type,
                object_repr=filename[:255],
                after={"created": report.created, "unchanged": report.unchanged},
            )
    except _Rollback:
        report.created = report.unchanged = 0
    return report

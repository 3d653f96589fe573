"""Real .xlsx files: writing tables (export) and reading uploaded sheets (import).

Writing: every text cell is stored as a string, never as a formula, so a value that starts
with ``=``, ``+``, ``-`` or ``@`` cannot run in a spreadsheet (CSV/formula injection).
Reading: the header row is checked against the expected columns; every data row comes back
with its Excel row number so that errors can name it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zipfile import BadZipFile

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def workbook_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx with one sheet: a bold header row, then the rows."""
    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([str(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # (``sheet.max_row`` scans every cell: looking rows up by it made large exports quadratic)
    for number, row in enumerate(rows, start=2):
        values = [_plain(value) for value in row]
        sheet.append(values)
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                # never a formula, whatever it starts with
                sheet.cell(row=number, column=column).data_type = TYPE_STRING
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (int, float, date, datetime)):
        return value
    return str(value)


def xlsx_response(filename: str, title: str, headers: Sequence[str], rows) -> HttpResponse:
    """A download of the table as ``filename`` (.xlsx)."""
    response = HttpResponse(workbook_bytes(title, headers, rows), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class SheetRow:
    """One data row of an uploaded sheet, keyed by column, with its Excel row number."""

    number: int
    values: dict[str, str]


class SheetError(Exception):
    """The file as a whole cannot be read (not .xlsx, empty, wrong header)."""


def read_sheet(data: bytes, columns: Sequence[str], required: Sequence[str]) -> list[SheetRow]:
    """Rows of the first sheet whose header holds ``required`` (labels in ``columns``)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise SheetError(_("The file is larger than 20 MB."))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SheetError(_("The file is not an Excel .xlsx workbook.")) from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header or not any(header):
        raise SheetError(_("The file is empty."))
    names = [str(h).strip() if h is not None else "" for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise SheetError(_("The header lacks the column(s): %(c)s") % {"c": "、".join(missing)})
    positions = {c: names.index(c) for c in columns if c in names}
    result = []
    for number, row in enumerate(rows, start=2):
        if row is None or all(v is None or str(v).strip() == "" for v in row):
            continue
        values = {}
        for column, position in positions.items():
            value = row[position] if position < len(row) else None
            if isinstance(value, datetime):
                value = value.date().isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, float) and value.is_integer():
                value = str(int(value))
            values[column] = "" if value is None else str(value).strip()
        result.append(SheetRow(number, values))
    book.close()
    if not result:
        raise SheetError(_("The file has no data rows."))
    return result


def cell_text(value: Any) -> str:
    """A cell's value as the text an import checks (dates as YYYY-MM-DD, 12.0 as 12)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class SheetStream:
    """The data rows of an uploaded sheet, read one at a time (openpyxl's read-only mode),
    so a file of tens of thousands of rows is never held as cells in memory.

    Opening checks the file and the header (``SheetError``); ``estimated_rows`` is what the
    sheet declares (it may be absent or wrong); iterating yields ``SheetRow``s, skipping
    empty rows; ``rows`` counts the data rows yielded so far.
    """

    def __init__(self, data: bytes, columns: Sequence[str], required: Sequence[str]):
        if len(data) > MAX_UPLOAD_BYTES:
            raise SheetError(_("The file is larger than 20 MB."))
        try:
            self._book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
            raise SheetError(_("The file is not an Excel .xlsx workbook.")) from exc
        sheet = self._book.worksheets[0]
        self._rows = sheet.iter_rows(values_only=True)
        header = next(self._rows, None)
        if not header or not any(h is not None and str(h).strip() for h in header):
            self.close()
            raise SheetError(_("The file is empty."))
        names = [str(h).strip() if h is not None else "" for h in header]
        missing = [c for c in required if c not in names]
        if missing:
            self.close()
            raise SheetError(_("The header lacks the column(s): %(c)s") % {"c": "、".join(missing)})
        self._positions = [(c, names.index(c)) for c in columns if c in names]
        try:
            self.estimated_rows = max(0, int(sheet.max_row or 0) - 1)
        except (TypeError, ValueError):
            self.estimated_rows = 0
        self.rows = 0

    def __iter__(self):
        for number, row in enumerate(self._rows, start=2):
            if row is None or all(v is None or str(v).strip() == "" for v in row):
                continue
            width = len(row)
            values = {
                column: cell_text(row[position]) if position < width else ""
                for column, position in self._positions
            }
            self.rows += 1
            yield SheetRow(number, values)
        self.close()

    def close(self) -> None:
        self._book.close()


def parse_date(value: str) -> date:
    """A date written as YYYY-MM-DD (or an Excel date)."""
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ValueError(_("“%(v)s” is not a date (YYYY-MM-DD).") % {"v": value}) from exc


@dataclass
class ImportReport:
    """What an import did, or every row it refused (then it wrote nothing)."""

    created: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0  # data rows read (set by the streaming imports)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def run_row_import(
    *,
    actor,
    data: bytes,
    columns: dict[str, str],
    required: Sequence[str],
    import_row: Callable[[dict[str, str], ImportReport], None],
    action: str,
    object_type: str,
    row_errors: tuple[type[BaseException], ...],
    message: Callable[[BaseException], str],
) -> ImportReport:
    """Read a sheet (``columns``: key → heading) and import it row by row in one
    transaction: each row in a savepoint; if any row fails, everything is rolled back and
    every failed row is reported with its Excel row number."""
    from django.db import transaction

    from shegong.core.audit import audit_record

    report = ImportReport()
    try:
        sheet_rows = read_sheet(data, list(columns.values()), [columns[c] for c in required])
    except SheetError as exc:
        report.errors.append((1, str(exc)))
        return report
    keys = {label: key for key, label in columns.items()}
    try:
        with transaction.atomic():
            for row in sheet_rows:
                values = {keys[label]: value for label, value in row.values.items()}
                try:
                    with transaction.atomic():
                        import_row(values, report)
                except row_errors as exc:
                    report.errors.append((row.number, message(exc)))
            if report.errors:
                raise _Rollback
            audit_record(
                actor=actor,
                action=action,
                object_type=object_type,
                after={"created": report.created, "unchanged": report.unchanged},
            )
    except _Rollback:
        report.created = report.unchanged = 0
    return report

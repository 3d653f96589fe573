"""Spreadsheets as officials make them (issue #16): files made by a real spreadsheet program
(LibreOffice, see tests/data/spreadsheets/make_fixtures.py) through the three imports —
never a stored ID that differs from the one typed, identifier columns text or nothing,
dates as people type them, the header found below title rows, legacy formats refused with
what to do — and the templates and exports as a spreadsheet program reads them."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import Workbook, load_workbook

from shegong.core import xlsx
from shegong.core.jobs import check_xlsx_upload
from shegong.core.xlsx import (
    DIVISION_CODE,
    NATIONAL_ID,
    PHONE,
    CellProblem,
    SheetReader,
    SheetSpec,
    date_column,
    identifier,
    parse_date,
    read_cell,
    text,
    workbook_bytes,
)
from shegong.geo.models import Division
from shegong.network.io import FACILITY_SHEET, facility_template, import_facilities
from shegong.network.models import Facility, Tier
from shegong.network.services import facility_create, organisation_create
from shegong.workforce.io import (
    POSTING_SHEET,
    WORKER_SHEET,
    import_postings,
    import_social_workers,
    posting_template,
    worker_template,
)
from shegong.workforce.models import Education, Posting, SocialWorker
from shegong.workforce.services import social_worker_create

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parents[1] / "data" / "spreadsheets"
LOCALES = ("en", "zh")
NUMERIC_ID = "【身份证号码】该列须设为文本格式：身份证号码被表格软件存成了数字，末几位可能已丢失"
NUMERIC_LANDLINE = "该列须设为文本格式：电话号码被表格软件存成了数字，开头的 0 可能已丢失"
SAVE_AS_XLSX = "另存为"


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def source(kind: str) -> list[dict[str, str]]:
    """What the official typed: the CSV the fixtures were made from."""
    with (FIXTURES / "source" / f"{kind}.csv").open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def accepted(kind: str) -> list[str]:
    """The fixtures of ``kind`` that hold every identifier as typed."""
    return [
        *(f"{kind}-csv-text-{loc}.xlsx" for loc in LOCALES),
        *(f"{kind}-title-rows-{loc}.xlsx" for loc in LOCALES),
        *(f"{kind}-template-typed-{loc}.xlsx" for loc in LOCALES),
        f"{kind}-template-ods-roundtrip.xlsx",
    ]


@pytest.fixture
def jiangbei_facilities() -> dict[str, Facility]:
    def make(tier, code, name):
        return facility_create(
            actor=None,
            tier=tier,
            division=Division.objects.get(code=code),
            name=name,
            status="operating",
            status_from=date(2018, 1, 1),
        )

    return {
        "room": make(Tier.ROOM, "500105001001", "桥北社区社工室"),
        "station": make(Tier.STATION, "500105001", "华新街社工站"),
    }


def stored_ids() -> dict[str, str]:
    return {w.name: w.national_id for w in SocialWorker.objects.all()}


# --- Social workers -------------------------------------------------------------------------

# What the source CSV's dates mean (written out here, not parsed by the code under test).
WORKER_DATES = {
    "王五": (date(1997, 6, 30), date(2020, 3, 1)),
    "赵六": (date(1996, 7, 1), date(2020, 3, 1)),
    "钱七": (date(2012, 6, 30), date(2019, 5, 6)),
    "孙八": (None, date(2021, 1, 4)),
    "李九": (date(2014, 7, 1), None),
    "周十": (None, date(2022, 12, 31)),
}


@pytest.mark.parametrize("name", accepted("workers"))
def test_workers_typed_as_text_are_stored_exactly_as_typed(name, jiangbei_facilities):
    # given a file made by LibreOffice whose ID and phone cells are text
    typed = source("workers")
    # when it is imported
    report = import_social_workers(actor=None, data=fixture(name), filename=name)
    # then everyone is registered with the ID and the phone (leading zero kept) as typed
    assert report.ok, report.errors
    assert report.created == len(typed)
    assert stored_ids() == {row["姓名"]: row["身份证号码"] for row in typed}
    phones = {w.name: w.phone for w in SocialWorker.objects.all()}
    assert phones == {row["姓名"]: row["手机号码"] for row in typed}
    assert phones["赵六"] == "02367701234"
    # and the dates, however they were typed, are the dates meant
    graduated = {e.worker.name: e.graduated_on for e in Education.objects.select_related("worker")}
    started = {p.worker.name: p.started_on for p in Posting.objects.select_related("worker")}
    for person, (graduated_on, started_on) in WORKER_DATES.items():
        assert graduated.get(person) == graduated_on, person
        assert started.get(person) == started_on, person


@pytest.mark.parametrize("locale", LOCALES)
def test_workers_with_ids_stored_as_numbers_are_refused_and_nothing_is_written(
    locale, jiangbei_facilities
):
    # given the CSV opened as a double click opens it: IDs became 15-digit numbers
    name = f"workers-csv-general-{locale}.xlsx"
    book = load_workbook(FIXTURES / name, read_only=True)
    assert isinstance(next(book.active.iter_rows(min_row=2, values_only=True))[1], float)
    # when it is imported
    report = import_social_workers(actor=None, data=fixture(name), filename=name)
    # then every row whose ID is a number is named with what happened and what to do
    errors = dict(report.errors)
    typed = source("workers")
    numeric = [
        line for line, row in enumerate(typed, start=2) if not row["身份证号码"].endswith("X")
    ]
    assert sorted(errors) == numeric
    assert all(NUMERIC_ID in errors[line] for line in numeric)
    # the landlines lost their zero: said too; an 11-digit mobile number kept as a number is fine
    assert NUMERIC_LANDLINE in errors[3] and NUMERIC_LANDLINE in errors[7]
    assert "手机号码" not in errors[2]
    # and nothing is stored, so no test ever finds a stored ID other than the one typed
    assert SocialWorker.objects.count() == 0


@pytest.mark.parametrize("name", ["workers-legacy.xls", "workers-template.ods"])
def test_legacy_and_opendocument_files_are_refused_with_what_to_do(name, jiangbei_facilities):
    # when an .xls or an .ods is imported, or uploaded for a background import
    report = import_social_workers(actor=None, data=fixture(name), filename=name)
    # then the whole file is refused: save it as .xlsx
    assert report.errors[0][0] == 1 and SAVE_AS_XLSX in report.errors[0][1]
    assert ".xlsx" in report.errors[0][1]
    with pytest.raises(ValidationError) as refused:
        check_xlsx_upload(filename=name, data=fixture(name))
    assert SAVE_AS_XLSX in str(refused.value)
    # even under another name, the content gives it away
    report = import_social_workers(actor=None, data=fixture(name), filename="")
    assert SAVE_AS_XLSX in report.errors[0][1]
    assert SocialWorker.objects.count() == 0


def test_a_csv_upload_is_refused_with_what_to_do():
    with pytest.raises(ValidationError) as refused:
        check_xlsx_upload(filename="名单.csv", data=b"\xe5\xa7\x93\xe5\x90\x8d,id\n")
    assert SAVE_AS_XLSX in str(refused.value) and "文本格式" in str(refused.value)


# --- Facilities ---------------------------------------------------------------------------

AGENCY_USCC = "125001050000000031"


@pytest.fixture
def agency():
    return organisation_create(
        actor=None,
        name="江北区社工服务中心",
        uscc=AGENCY_USCC,
        division=Division.objects.get(code="500105"),
        is_social_work_agency=True,
    )


@pytest.mark.parametrize("name", accepted("facilities"))
def test_facilities_keep_their_codes_and_phones(name, agency):
    # given a file made by LibreOffice (division codes as numbers or text)
    typed = source("facilities")
    # when it is imported
    report = import_facilities(actor=None, data=fixture(name), filename=name)
    # then each facility is where it was typed, with its phone and its agency
    assert report.ok, report.errors
    facilities = {f.name: f for f in Facility.objects.select_related("division", "operator")}
    assert {n: (f.division.code, f.phone) for n, f in facilities.items()} == {
        row["名称"]: (row["区划代码"], row["电话"]) for row in typed
    }
    assert facilities["嘉陵社区社会工作室"].operator == agency
    assert facilities["建新社区社会工作室"].periods.get().valid_from == date(2021, 7, 1)
    assert facilities["江北城街道社会工作站"].periods.get().valid_from == date(2019, 10, 8)


@pytest.mark.parametrize("locale", LOCALES)
def test_facilities_with_numeric_codes_that_lost_digits_are_refused(locale, agency):
    # given the CSV opened with Standard columns: the credit code and a landline are numbers
    name = f"facilities-csv-general-{locale}.xlsx"
    # when it is imported
    report = import_facilities(actor=None, data=fixture(name), filename=name)
    # then the landline (row 2) and the credit code (row 3) are refused; 12-digit division
    # codes as numbers are fine (nothing can have been lost)
    errors = dict(report.errors)
    assert sorted(errors) == [2, 3]
    assert errors[2] == "【电话】" + NUMERIC_LANDLINE
    assert (
        errors[3]
        == "【运营机构统一社会信用代码】该列须设为文本格式：统一社会信用代码被表格软件存成了数字，"
        "末几位可能已丢失"
    )
    assert not Facility.objects.exists()


# --- Postings -----------------------------------------------------------------------------


@pytest.fixture
def registered(jiangbei_facilities):
    """The people of the postings file, registered with their IDs as typed."""
    for number, row in enumerate(source("postings")):
        social_worker_create(
            actor=None,
            name=f"社工{number}",
            national_id=row["身份证号码"],
            division=Division.objects.get(code="500105001001"),
        )
    return jiangbei_facilities


@pytest.mark.parametrize("name", accepted("postings"))
def test_postings_find_the_people_typed(name, registered):
    typed = source("postings")
    report = import_postings(actor=None, data=fixture(name), filename=name)
    assert report.ok, report.errors
    postings = Posting.objects.select_related("worker", "facility__division")
    assert sorted((p.worker.national_id, p.facility.division.code) for p in postings) == sorted(
        (row["身份证号码"], row["阵地区划代码"]) for row in typed
    )
    ended = {p.worker.national_id: p.ended_on for p in postings}
    assert ended["500105197506251235"] == date(2021, 6, 30)


@pytest.mark.parametrize("locale", LOCALES)
def test_postings_with_numeric_ids_are_refused(locale, registered):
    name = f"postings-csv-general-{locale}.xlsx"
    report = import_postings(actor=None, data=fixture(name), filename=name)
    errors = dict(report.errors)
    assert sorted(errors) == [2, 3, 4]  # the fourth ID ends in X: text even so
    assert all(errors[line] == NUMERIC_ID for line in errors)
    assert not Posting.objects.exists()


# --- Templates ------------------------------------------------------------------------------

TEMPLATES = {
    "workers": (worker_template, WORKER_SHEET),
    "facilities": (facility_template, FACILITY_SHEET),
    "postings": (posting_template, POSTING_SHEET),
}
CLOSED_CHOICES = {
    "workers": {"qualification", "workplace_type", "employment", "tier", "degree"},
    "facilities": {"tier", "status", "operator_kind"},
    "postings": {"tier", "employment"},
}


@pytest.mark.parametrize("kind", TEMPLATES)
def test_templates_format_identifiers_as_text_and_offer_lists(kind):
    make, spec = TEMPLATES[kind]
    book = load_workbook(io.BytesIO(make()))
    sheet = book.worksheets[0]
    letters = {column.key: chr(ord("A") + i) for i, column in enumerate(spec.columns)}
    # identifier columns are Text, date columns dates — whole columns
    for column in spec.columns:
        number_format = sheet.column_dimensions[letters[column.key]].number_format
        if column.kind == "identifier":
            assert number_format == "@", column.key
        elif column.kind == "date":
            assert number_format == "yyyy-mm-dd", column.key
    # closed choices have lists with the Chinese words
    lists = {
        str(v.sqref).split(":")[0].rstrip("0123456789"): v.formula1
        for v in sheet.data_validations.dataValidation
    }
    for key in CLOSED_CHOICES[kind]:
        formula = lists[letters[key]]
        assert all(word in formula for word in spec.column(key).words), key
    # the header is frozen, columns are wide enough, and the data sheet has no data
    assert sheet.freeze_panes == "A2" and sheet.max_row == 1
    assert all(sheet.column_dimensions[letter].width >= 6 for letter in letters.values())
    # the instructions sheet explains every column and shows the example
    instructions = [[c for c in row] for row in book["填写说明"].iter_rows(values_only=True)]
    headings = [column.heading for column in spec.columns]
    assert headings in [list(row[: len(headings)]) for row in instructions]


@pytest.mark.parametrize("kind", TEMPLATES)
def test_the_example_row_copied_onto_the_data_sheet_is_refused(kind, agency, registered):
    # given the template with its example row copied onto the data sheet (as text)
    make, spec = TEMPLATES[kind]
    book = load_workbook(io.BytesIO(make()))
    book.worksheets[0].append([column.example for column in spec.columns])
    buffer = io.BytesIO()
    book.save(buffer)
    # when it is imported
    run = {"workers": import_social_workers, "facilities": import_facilities}.get(
        kind, import_postings
    )
    report = run(actor=None, data=buffer.getvalue(), filename="template.xlsx")
    # then it is refused as the example, and nothing is written
    assert report.errors and report.errors[0][0] == 2
    assert "模板中的示例行" in report.errors[0][1], report.errors
    assert report.created == 0


def test_a_landline_survives_the_template_and_the_import(client, agency):
    # given the facilities template, filled in by LibreOffice typing (fixture), read back:
    # the phone column is Text, so "02367701234" stays text
    book = load_workbook(FIXTURES / "facilities-template-typed-en.xlsx", read_only=True)
    phones = [row[8] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert "02367701234" in phones
    # when it is imported, then the zero is still there
    import_facilities(actor=None, data=fixture("facilities-template-typed-en.xlsx"))
    assert Facility.objects.get(name="华新社区社会工作室").phone == "02367701234"


# --- The one reader: identifiers, dates, header -------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (NATIONAL_ID, "500105197501017896", "500105197501017896"),
        (NATIONAL_ID, " 50010519790909107x ", "50010519790909107X"),
        (NATIONAL_ID, "５００１０５１９７５０１０１７８９６", "500105197501017896"),
        (DIVISION_CODE, 500105001001, "500105001001"),  # 12 digits: exact as a number
        (DIVISION_CODE, 500105.0, "500105"),
        (DIVISION_CODE, "500105001001", "500105001001"),
        (PHONE, 13800001111, "13800001111"),  # a mobile number cannot have lost a zero
        (PHONE, "02367701234", "02367701234"),
        (PHONE, "023-67701234", "023-67701234"),
        (PHONE, None, ""),
    ],
)
def test_identifier_cells_that_cannot_have_lost_a_digit_are_read(rule, value, expected):
    assert read_cell(identifier("k", "列", rule), value) == expected


@pytest.mark.parametrize(
    ("rule", "value", "lost"),
    [
        (NATIONAL_ID, 5.00105197501018e17, "末几位"),
        (NATIONAL_ID, 500105197501017896, "末几位"),
        (NATIONAL_ID, "5.00105197501018E+17", "末几位"),  # a number already shown as text
        (DIVISION_CODE, 50010500100, "开头的 0"),  # 11 digits is no division code
        (PHONE, 2367701234, "开头的 0"),
        (PHONE, 2.3e9, "开头的 0"),
        (xlsx.CREDIT_CODE, 125001050000000031, "末几位"),
        (xlsx.CERTIFICATE, 20190001, "开头的 0"),
    ],
)
def test_identifier_cells_stored_as_numbers_are_refused(rule, value, lost):
    with pytest.raises(CellProblem) as problem:
        read_cell(identifier("k", "列", rule), value)
    assert str(problem.value).startswith("该列须设为文本格式：") and lost in str(problem.value)


@pytest.mark.parametrize(
    "value",
    [
        date(2020, 3, 1),
        datetime(2020, 3, 1, 0, 0),
        datetime(2020, 3, 1, 14, 30),
        "2020-03-01",
        "2020-3-1",
        "2020/3/1",
        "2020/03/01",
        "2020.3.1",
        "2020年3月1日",
        "2020年03月01日",
        "２０２０年３月１日",
        "2020-03-01 00:00:00",
        43891,  # Excel serial number
        43891.0,
    ],
)
def test_dates_are_read_as_officials_type_them(value):
    assert parse_date(value) == date(2020, 3, 1)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2020-13-01", "不是日期"),
        ("3/1/2020", "不是日期"),
        ("明天", "不是日期"),
        ("2020年2月30日", "不是日期"),
        (2020, "只有年份"),
        ("1899-12-31", "1900"),
        (9_999_999, "不是日期"),
        (True, "不是日期"),
    ],
)
def test_anything_else_in_a_date_column_is_refused_naming_the_column(value, says):
    # through an import: the row names the column
    book = Workbook()
    book.active.append(list(FACILITY_SHEET.headings.values()))
    book.active.append(["社工室", "500105001002", "华新社区社会工作室", "运营中", value])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_facilities(actor=None, data=buffer.getvalue())
    assert [line for line, _ in report.errors] == [2]
    assert report.errors[0][1].startswith("【状态起始日期】") and says in report.errors[0][1]
    assert not Facility.objects.exists()


def _sheet(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SPEC = SheetSpec(
    "表",
    (
        text("name", "姓名", required=True),
        identifier("code", "区划代码", DIVISION_CODE, required=True),
        date_column("day", "日期"),
    ),
)


def test_the_header_may_be_below_title_rows_and_lines_are_the_sheets():
    data = _sheet(
        [
            ["登记表"],
            [],
            ["填报单位：江北区", None, "2024年"],
            ["姓名", "区划代码"],
            ["甲", "500105"],
        ]
    )
    reader = SheetReader(data, SPEC)
    rows = list(reader)
    assert reader.header_row == 4
    assert [(row.number, row.values) for row in rows] == [(5, {"name": "甲", "code": "500105"})]


def test_a_missing_column_is_named_alone():
    data = _sheet([["姓名", "日期"], ["甲", "2020-03-01"]])
    with pytest.raises(xlsx.SheetError) as refused:
        SheetReader(data, SPEC)
    assert str(refused.value) == "表头（第1行）缺少以下列：区划代码"


def test_a_header_below_the_fifth_row_is_not_found():
    data = _sheet([["说明"]] * 5 + [["姓名", "区划代码"], ["甲", "500105"]])
    with pytest.raises(xlsx.SheetError) as refused:
        SheetReader(data, SPEC)
    assert "前 5 行" in str(refused.value) and "姓名、区划代码" in str(refused.value)


def test_a_column_twice_in_the_header_is_refused():
    with pytest.raises(xlsx.SheetError) as refused:
        SheetReader(_sheet([["姓名", "区划代码", "姓名"], ["甲", "500105", "乙"]]), SPEC)
    assert "姓名" in str(refused.value)


def test_headings_are_compared_without_spaces_and_required_marks():
    data = _sheet([["姓 名*", "区划代码（必填）"], ["甲", "500105"]])
    assert [row.values for row in SheetReader(data, SPEC)] == [{"name": "甲", "code": "500105"}]


@pytest.mark.parametrize("value", ["甲\x01乙", "甲\x00", "\ud800", "甲\x7f"])
def test_control_characters_in_a_text_cell_are_refused(value):
    with pytest.raises(CellProblem) as problem:
        read_cell(text("name", "姓名"), value)
    assert "控制字符" in str(problem.value)


def test_more_rows_than_the_cap_are_refused_while_reading():
    data = _sheet([["姓名", "区划代码"], *[["甲", "500105"]] * 12])
    reader = SheetReader(data, SPEC, max_rows=10)
    with pytest.raises(xlsx.SheetError) as refused:
        list(reader)
    assert "10" in str(refused.value)


def test_a_sheet_declaring_more_rows_than_the_cap_is_refused_at_once():
    # given a sheet whose dimension says 900,000 rows
    data = _declaring_rows(_sheet([["姓名", "区划代码"], ["甲", "500105"]]), 900_000)
    # when it is opened, then it is refused before a row is read
    with pytest.raises(xlsx.SheetError) as refused:
        SheetReader(data, SPEC, max_rows=1000)
    assert "1,000" in str(refused.value)


def _declaring_rows(data: bytes, rows: int) -> bytes:
    part = "xl/worksheets/sheet1.xml"
    source = zipfile.ZipFile(io.BytesIO(data))
    content = source.read(part)
    assert b'<dimension ref="A1:B2"' in content
    content = content.replace(b'<dimension ref="A1:B2"', f'<dimension ref="A1:B{rows}"'.encode())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, content if item.filename == part else source.read(item))
    return out.getvalue()


def test_a_workbook_unpacking_beyond_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_UNPACKED_BYTES", 1000)
    data = _sheet([["姓名", "区划代码"], *[["甲" * 50, "500105"]] * 50])
    with pytest.raises(xlsx.SheetError) as refused:
        SheetReader(data, SPEC)
    assert "拆分" in str(refused.value)


# --- Exports --------------------------------------------------------------------------------

EXPORT_ROWS = [
    ["桥北社区社会工作室", date(2020, 3, 1), Decimal("32500000.00"), 12, "=SUM(A1)"],
    ["江北区社会工作指导中心（长名称）", datetime(2021, 7, 15, 9, 30), Decimal("0.50"), 0, "+1"],
    ["华新社区", None, Decimal("1234567.89"), 3, "普通文本"],
]
EXPORT_HEADERS = ["名称", "日期", "金额（元）", "人次", "备注"]


def test_exports_set_widths_date_cells_and_amount_formats():
    data = workbook_bytes("导出", EXPORT_HEADERS, EXPORT_ROWS)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDE"}
    assert widths["A"] >= 32 and all(width >= 6 for width in widths.values())
    assert (
        isinstance(sheet["B2"].value, datetime)
        and sheet["B2"].number_format == 'yyyy"年"m"月"d"日"'
    )
    assert sheet["C2"].number_format == "#,##0.00" and sheet["C2"].value == 32500000
    assert sheet["E2"].data_type == "s" and sheet["E2"].value == "=SUM(A1)"


def test_exports_drop_characters_a_workbook_cannot_hold():
    data = workbook_bytes("导出", ["名称"], [["坏\x00名\x1f字"]])
    assert load_workbook(io.BytesIO(data)).active["A2"].value == "坏名字"


@pytest.mark.skipif(
    not shutil.which("soffice"),
    reason="LibreOffice (soffice) is not installed: `make test` installs it",
)
def test_an_export_reads_the_same_in_libreoffice(tmp_path):
    # given an export, as openpyxl reads it
    path = tmp_path / "export.xlsx"
    path.write_bytes(workbook_bytes("导出", EXPORT_HEADERS, EXPORT_ROWS))
    cells = [list(row) for row in load_workbook(path).active.iter_rows(values_only=True)]
    # when LibreOffice opens it and saves it as CSV (cells as shown)
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shown = list(csv.reader((tmp_path / "export.csv").open(encoding="utf-8")))
    # then every cell says what openpyxl reads
    assert len(shown) == len(cells)
    for row, row_shown in zip(cells, shown, strict=True):
        for value, text_shown in zip(row, row_shown, strict=True):
            if isinstance(value, datetime):
                assert parse_date(text_shown.split(" ")[0]) == value.date(), text_shown
            elif isinstance(value, int | float) and not isinstance(value, bool):
                assert Decimal(text_shown.replace(",", "")) == Decimal(str(value)), text_shown
            else:
                assert text_shown == ("" if value is None else value)

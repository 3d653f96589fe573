"""Excel export and import: real .xlsx files, formula-safe cells, all-or-nothing imports
that name every bad row, idempotent re-imports."""

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from shegong.core.roles import Role
from shegong.core.xlsx import workbook_bytes
from shegong.geo.models import Division
from shegong.network.io import FACILITY_COLUMNS, import_facilities
from shegong.network.models import Facility
from shegong.workforce.io import POSTING_COLUMNS, import_postings
from shegong.workforce.models import Posting
from tests.conftest import make_user
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db
HEADERS = list(FACILITY_COLUMNS.values())


def sheet(rows, headers=HEADERS) -> bytes:
    book = Workbook()
    book.active.append(headers)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def room_rows(n: int) -> list[list]:
    communities = Division.objects.filter(code__startswith="500101", level="community")[:n]
    return [
        ["社工室", c.code, f"{c.name}社工室", "运营中", "2019-05-01", "政府自办", "", "", ""]
        for c in communities
    ]


def test_export_is_a_real_xlsx_and_cannot_run_formulas():
    data = workbook_bytes(
        "表", ["名称", "备注"], [['=HYPERLINK("http://x")', "+1"], ["@SUM(A1)", "-2"]]
    )
    book = load_workbook(io.BytesIO(data))
    values = [[c.value for c in row] for row in book.active.iter_rows(min_row=2)]
    assert values == [['=HYPERLINK("http://x")', "+1"], ["@SUM(A1)", "-2"]]
    assert all(c.data_type == "s" for row in book.active.iter_rows(min_row=2) for c in row)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_facility_list_exports_what_the_user_sees(client, network):
    client.force_login(make_user(Role.STATION_STAFF, "970101001", username="station-x"))
    response = client.get("/network/facilities/", {"tier": "room", "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    names = sorted(row[0].value for row in book.active.iter_rows(min_row=2))
    assert names == ["东社区社工室", "西社区社工室"]


def test_import_of_500_rows_with_3_bad_ones_writes_nothing_and_names_them():
    rows = room_rows(500)
    rows[9][1] = "500101999999"  # unknown division
    rows[199][3] = "开张"  # unknown status
    rows[449][4] = "2019-13-01"  # impossible date
    before = (Facility.objects.count(), Posting.objects.count())
    report = import_facilities(actor=None, data=sheet(rows))
    assert [number for number, _ in report.errors] == [11, 201, 451]
    assert "500101999999" in report.errors[0][1]
    assert "开张" in report.errors[1][1]
    assert "2019-13-01" in report.errors[2][1]
    assert (Facility.objects.count(), Posting.objects.count()) == before


def test_good_import_then_reimport_changes_nothing():
    data = sheet(room_rows(30))
    first = import_facilities(actor=None, data=data)
    assert (first.ok, first.created, first.unchanged) == (True, 30, 0)
    count = Facility.objects.count()
    second = import_facilities(actor=None, data=data)
    assert (second.ok, second.created, second.unchanged) == (True, 0, 30)
    assert Facility.objects.count() == count


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (sheet([["社工室", "500101001001"]], headers=["层级", "区划代码"]), "名称"),
        (sheet([]), "没有数据"),
        (b"", "为空"),
        (b"not an excel file at all", "不是"),
    ],
)
def test_wrong_header_empty_or_non_excel_files_are_refused(data, message):
    before = Facility.objects.count()
    report = import_facilities(actor=None, data=data)
    assert not report.ok and report.errors[0][0] == 1 and message in report.errors[0][1]
    assert Facility.objects.count() == before


def test_a_station_user_cannot_import_rooms_of_another_town(network):
    station = make_user(Role.STATION_STAFF, "970101001", username="station-imp")
    rows = [
        ["社工室", "970102101001", "外镇社工室", "规划中", "2024-01-01", "政府自办", "", "", ""]
    ]
    report = import_facilities(actor=station, data=sheet(rows))
    assert report.errors and report.errors[0][0] == 2
    assert not Facility.objects.filter(name="外镇社工室").exists()


def test_postings_import_all_or_nothing_and_idempotent(network):
    from shegong.workforce.services import social_worker_create

    worker = social_worker_create(
        actor=None,
        name="钱七",
        national_id=national_id(960),
        division=Division.objects.get(code="970101"),
    )
    headers = list(POSTING_COLUMNS.values())
    good = ["" + worker.national_id, "970101001001", "社工室", "兼职", "督导", "2024-01-01", ""]
    bad = [national_id(961), "970101001001", "社工室", "兼职", "", "2024-01-01", ""]
    county = make_user(Role.COUNTY_STAFF, "970101", username="county-imp")
    before = Posting.objects.count()
    report = import_postings(actor=county, data=sheet([good, bad], headers=headers))
    assert [n for n, _ in report.errors] == [3] and Posting.objects.count() == before
    report = import_postings(actor=county, data=sheet([good], headers=headers))
    assert report.created == 1
    again = import_postings(actor=county, data=sheet([good], headers=headers))
    assert (again.created, again.unchanged) == (0, 1)


def test_import_page_queues_a_job_whose_page_lists_every_bad_row(
    client, network, django_capture_on_commit_callbacks
):
    # given a station user's file with a row of another town
    user = make_user(Role.STATION_STAFF, "970101001", username="station-page")
    client.force_login(user)
    rows = [
        ["社工室", "970102101001", "外镇社工室", "规划中", "2024-01-01", "政府自办", "", "", ""],
        ["社工室", "970101001002", "西社区社工室", "规划中", "2024-01-01", "政府自办", "", "", ""],
    ]
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shegong.core.models import ImportJob
    from shegong.core.tasks import import_job_task

    upload = SimpleUploadedFile("rooms.xlsx", sheet(rows))
    before = Facility.objects.count()
    # when it is uploaded, the page answers at once with the job's page
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/network/import/", {"kind": "facilities", "file": upload})
    job = ImportJob.objects.get(created_by=user)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.kind == "network.facilities" and job.status == "queued"
    # and once the worker has run it, the job's page names the bad row and nothing is written
    assert import_job_task.call(job.pk) == "succeeded"
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-testid="errors"' in html and "<td>2</td>" in html
    assert Facility.objects.count() == before
    template = client.get("/network/import/template/facilities/")
    assert load_workbook(io.BytesIO(template.content)).active["A1"].value == "层级"


def test_dashboard_exports_its_table_as_a_real_xlsx(client, network):
    # given a county user of 甲区 on the hand-built network
    client.force_login(make_user(Role.COUNTY_STAFF, "970101", username="county-x"))
    # when they press the dashboard's "导出 Excel"
    page = client.get("/network/", {"as_of": "2024-06-30"}).content.decode()
    assert "/network/export.xlsx?division=970101&amp;as_of=2024-06-30" in page
    response = client.get("/network/export.xlsx", {"division": "970101", "as_of": "2024-06-30"})
    # then a real workbook comes back, one row per town, named in words
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "coverage-970101-20240630.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    rows = [[c.value for c in row] for row in book.active.iter_rows()]
    assert rows[0][:2] == ["代码", "区划"]
    assert sorted(row[1] for row in rows[1:]) == ["一街道", "二乡"]
    # and a division outside their area is not found
    assert client.get("/network/export.xlsx", {"division": "970102"}).status_code == 404


def test_county_dashboard_focuses_its_map_and_ranks_its_towns(client, network):
    # given a county user of 甲区
    client.force_login(make_user(Role.COUNTY_STAFF, "970101", username="county-y"))
    # when they open the dashboard
    response = client.get("/network/", {"as_of": "2024-06-30"})
    data = response.context["chart_data"]
    # then the map shows their county alone, and its towns are ranked beside it
    assert data["focus"] == "970101"
    assert [row["code"] for row in data["map"]] == ["970101"]
    shares = [row["value"] for row in data["towns"]]
    assert {row["name"] for row in data["towns"]} == {"一街道", "二乡"}
    assert shares == sorted(shares, reverse=True)
    assert 'data-testid="towns-ranked"' in response.content.decode()

"""Bulk onboarding (issue #4 item 6): social workers with qualification, education and
posting imported from real .xlsx files; every bad row named with its line, all or nothing,
idempotent; run as a background task through the database queue."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from shegong.core.audit import audit_verify
from shegong.core.models import AuditEvent, ImportJob
from shegong.core.roles import Role
from shegong.core.validators import national_id_check_digit
from shegong.core.xlsx import workbook_bytes
from shegong.geo.models import Division
from shegong.network.services import facility_change_status, facility_create
from shegong.workforce.io import WORKER_COLUMNS, import_social_workers, worker_template
from shegong.workforce.models import Education, Posting, SocialWorker, WorkplaceType
from shegong.workforce.services import social_worker_create
from shegong.workforce.tasks import worker_import_start
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
HEADERS = list(WORKER_COLUMNS.values())
KEYS = list(WORKER_COLUMNS)
ROOM_CODE = "500105001001"  # 桥北社区, in 江北区 (500105)
STATION_CODE = "500105001"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def person_id(serial: int, birth: str = "19900101") -> str:
    first17 = f"500105{birth}{serial:03d}"
    return first17 + national_id_check_digit(first17)


def row(serial: int, **changes) -> list[str]:
    """A valid row for person ``serial`` (posted full-time to the 桥北 room), with changes."""
    values = {
        "name": f"社工{serial}",
        "national_id": person_id(serial),
        "phone": f"13800{serial:06d}",
        "division_code": ROOM_CODE,
        "qualification": "社会工作师",
        "certificate_number": f"S2019{serial:06d}",
        "qualification_year": "2019",
        "school": "重庆大学",
        "degree": "本科",
        "social_work_major": "是",
        "graduated_on": "2012-06-30",
        "facility_division_code": ROOM_CODE,
        "tier": "社工室",
        "workplace_type": "",
        "employment": "专职",
        "post_type": "专职社工",
        "started_on": "2020-01-01",
    } | changes
    return [values[key] for key in KEYS]


def sheet(rows, headers=HEADERS) -> bytes:
    return workbook_bytes("社工人才", headers, rows)


@pytest.fixture
def county():
    return make_user(Role.COUNTY_STAFF, "500105", username="county-jb")


@pytest.fixture
def facilities() -> dict:
    def make(tier: str, code: str, name: str):
        return facility_create(
            actor=None,
            tier=tier,
            division=Division.objects.get(code=code),
            name=name,
            status="operating",
            status_from=date(2019, 1, 1),
        )

    outside = Division.objects.filter(code__startswith="500107", level="community").first()
    return {
        "room": make("room", ROOM_CODE, "桥北社区社工室"),
        "station": make("station", STATION_CODE, "华新街社工站"),
        "outside": make("room", outside.code, "外区社工室"),
    }


def counts() -> tuple[int, int, int]:
    return SocialWorker.objects.count(), Posting.objects.count(), Education.objects.count()


def test_a_good_file_registers_people_with_posting_and_education(county, facilities):
    # given three people: one with everything, one part-time at the station without
    # education, one with no qualification and an explicit workplace type
    data = sheet(
        [
            row(1),
            row(
                2,
                school="",
                degree="",
                social_work_major="",
                graduated_on="",
                facility_division_code=STATION_CODE,
                tier="社工站",
                employment="兼职",
            ),
            row(
                3,
                qualification="无",
                certificate_number="",
                qualification_year="",
                workplace_type="社会工作服务机构",
            ),
        ]
    )
    # when the county imports it
    report = import_social_workers(actor=county, data=data, filename="people.xlsx")
    # then everyone is registered, posted and (where given) educated
    assert report.ok, report.errors
    assert (report.created, report.unchanged, report.rows) == (3, 0, 3)
    assert counts() == (3, 3, 2)
    first = SocialWorker.objects.get(name="社工1")
    assert first.national_id == person_id(1) and first.phone == "13800000001"
    assert first.qualification_level == "social_worker" and first.qualification_year == 2019
    assert first.division.code == ROOM_CODE
    posting = first.postings.get()
    assert posting.facility == facilities["room"] and posting.employment == "full_time"
    assert posting.workplace_type == WorkplaceType.GRASSROOTS  # a room's default
    assert first.education.get().social_work_major is True
    second = Posting.objects.get(worker__name="社工2")
    assert second.facility == facilities["station"] and second.employment == "part_time"
    assert Posting.objects.get(worker__name="社工3").workplace_type == WorkplaceType.AGENCY
    # the ID and phone are stored encrypted: the raw columns do not hold them
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id, phone FROM workforce_socialworker")
        raw = cursor.fetchall()
    assert all(person_id(1) not in ids and "13800000001" not in phone for ids, phone in raw)
    # and one audit row sums the import up
    event = AuditEvent.objects.get(action="social_worker.import")
    assert event.after["created"] == 3 and event.after["file"] == "people.xlsx"
    assert audit_verify().ok


def test_importing_the_same_file_again_changes_nothing(county, facilities):
    # given a file imported once
    data = sheet([row(1), row(2), row(3)])
    assert import_social_workers(actor=county, data=data).created == 3
    before = counts()
    # when it is imported again
    report = import_social_workers(actor=county, data=data)
    # then every row is unchanged and nothing new is written
    assert report.ok and (report.created, report.unchanged) == (0, 3)
    assert counts() == before


def test_a_person_registered_by_hand_with_the_same_data_is_unchanged(county, facilities):
    # given a person registered without the posting the file gives
    social_worker_create(
        actor=county,
        name="社工1",
        national_id=person_id(1),
        division=Division.objects.get(code=ROOM_CODE),
    )
    # when the file names them with the same name but a posting and other data
    report = import_social_workers(actor=county, data=sheet([row(1), row(2)]))
    # then the row is refused (change it in the registry), nothing is written
    assert [line for line, _ in report.errors] == [2]
    assert "already registered with other data" in report.errors[0][1]
    assert counts() == (1, 0, 0)


BAD_ROWS = [
    ("bad checksum", {"national_id": person_id(2)[:17] + "0"}, "check digit"),
    (
        "unknown qualification",
        {"qualification": "社工大师"},
        "职业资格等级: “社工大师” is not one of",
    ),
    ("unknown facility", {"facility_division_code": "500105001002"}, "no open"),
    ("future graduation", {"graduated_on": "2099-06-30"}, "graduation date is in the future"),
    ("bad date", {"started_on": "2020-13-01"}, "2020-13-01"),
    ("division outside scope", {"division_code": "500107001001"}, "in your area"),
    ("future posting", {"started_on": "2099-01-01"}, "cannot start in the future"),
    ("missing name", {"name": ""}, "姓名: must be filled in"),
]
if national_id_check_digit(person_id(2)[:17]) == "0":  # keep the bad checksum bad
    BAD_ROWS[0] = ("bad checksum", {"national_id": person_id(2)[:17] + "1"}, "check digit")


@pytest.mark.parametrize(("case", "changes", "reason"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_a_bad_row_rejects_the_whole_file(county, facilities, case, changes, reason):
    # given a file whose second data row (Excel line 3) is bad
    data = sheet([row(1), row(2, **changes), row(3)])
    # when it is imported
    report = import_social_workers(actor=county, data=data)
    # then nothing is written and the row is named with the reason
    assert [line for line, _ in report.errors] == [3], report.errors
    assert reason in report.errors[0][1]
    assert report.created == 0 and counts() == (0, 0, 0)
    assert not AuditEvent.objects.filter(action="social_worker.import").exists()


def test_a_facility_outside_the_scope_is_unknown(county, facilities):
    # given a row posting the person to a room of another county
    outside = facilities["outside"].division.code
    data = sheet([row(1, facility_division_code=outside)])
    # when the county imports it
    report = import_social_workers(actor=county, data=data)
    # then the row is refused and nothing written
    assert report.errors == [(2, report.errors[0][1])] and "in your area" in report.errors[0][1]
    assert counts() == (0, 0, 0)


def test_a_facility_closed_or_not_yet_there_on_the_start_date_is_refused(county, facilities):
    # given the station suspended from 2021 and the room opened in 2019
    facility_change_status(
        actor=None,
        facility=facilities["station"],
        status="suspended",
        effective_on=date(2021, 1, 1),
    )
    facility_change_status(
        actor=None, facility=facilities["station"], status="closed", effective_on=date(2022, 1, 1)
    )
    # when postings start before the room opened, and at the station after it closed
    data = sheet(
        [
            row(1, started_on="2018-06-01"),
            row(2, facility_division_code=STATION_CODE, tier="社工站", started_on="2022-03-01"),
        ]
    )
    report = import_social_workers(actor=county, data=data)
    # then both are refused
    assert [line for line, _ in report.errors] == [2, 3], report.errors
    assert "closed (or did not exist)" in report.errors[0][1]
    assert "no open" in report.errors[1][1]
    assert counts() == (0, 0, 0)


def test_every_bad_row_is_reported_and_duplicates_within_the_file(county, facilities):
    # given the same person twice and another bad row
    data = sheet([row(1), row(2), row(1, name="社工1"), row(4, degree="学士")])
    # when it is imported
    report = import_social_workers(actor=county, data=data)
    # then both rows are named, the duplicate with the line of its first occurrence
    assert [line for line, _ in report.errors] == [4, 5]
    assert "same person as on line 2" in report.errors[0][1]
    assert report.errors[1][1] == "学历: “学士” is not one of: 专科、本科、硕士、博士"
    assert counts() == (0, 0, 0)


def test_an_id_registered_under_another_name_is_a_row_error(county, facilities):
    # given a person registered as 王五
    social_worker_create(
        actor=None,
        name="王五",
        national_id=person_id(2),
        division=Division.objects.get(code=ROOM_CODE),
    )
    # when a file gives that ID with another name
    report = import_social_workers(actor=county, data=sheet([row(1), row(2)]))
    # then the row is refused and nothing is written
    assert [line for line, _ in report.errors] == [3]
    assert "another name" in report.errors[0][1]
    assert counts() == (1, 0, 0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (sheet([row(1)], headers=[*HEADERS[:3], "区划", *HEADERS[4:]]), "登记区划代码"),
        (sheet([]), "no data rows"),
        (workbook_bytes("空", [], []), "empty"),
        (b"not a workbook", "not an Excel"),
    ],
    ids=["wrong header", "header only", "empty file", "not xlsx"],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(county, facilities, data, reason):
    # when such a file is imported
    report = import_social_workers(actor=county, data=data)
    # then line 1 says why and nothing is written
    assert report.errors[0][0] == 1 and reason in report.errors[0][1], report.errors
    assert counts() == (0, 0, 0)


def test_the_template_is_the_expected_sheet(county, facilities):
    # when the template is downloaded
    book = load_workbook(io.BytesIO(worker_template()))
    # then the data sheet has the columns and nothing else; the example is on the second
    assert [c.value for c in book.active[1]] == HEADERS
    assert book.active.max_row == 1
    instructions = book["填写说明"]
    rows = [[c.value for c in r] for r in instructions.iter_rows()]
    assert HEADERS in rows and rows[rows.index(HEADERS) + 1][:2] == ["张三", "11010519491231002X"]


def test_a_role_without_the_permission_cannot_import(facilities):
    # given a room worker (reads the registry, does not register people)
    worker = make_user(Role.ROOM_WORKER, ROOM_CODE, username="room-x")
    # when they import or start an import
    report = import_social_workers(actor=worker, data=sheet([row(1)]))
    # then it is refused
    assert not report.ok and counts() == (0, 0, 0)
    with pytest.raises(PermissionDenied):
        worker_import_start(actor=worker, filename="a.xlsx", data=sheet([row(1)]))


def test_start_refuses_what_is_not_an_xlsx(county):
    with pytest.raises(ValidationError):
        worker_import_start(actor=county, filename="a.csv", data=b"name,id\n")
    with pytest.raises(ValidationError):
        worker_import_start(actor=county, filename="a.xlsx", data=b"PK\x03\x04" + b"x" * 21_000_000)
    assert not ImportJob.objects.exists()


def run_worker(monkeypatch) -> None:
    """The database worker in batch mode, in this process and test transaction (it must not
    close the test's connection between tasks)."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_the_task_imports_in_the_background(
    county, facilities, monkeypatch, django_capture_on_commit_callbacks
):
    # given an upload started by the county: a queued job, its task enqueued on commit
    data = sheet([row(n) for n in range(1, 26)])
    with django_capture_on_commit_callbacks(execute=True):
        job = worker_import_start(actor=county, filename="people.xlsx", data=data)
    assert job.status == ImportJob.Status.QUEUED
    assert DBTaskResult.objects.count() == 1
    assert counts() == (0, 0, 0)
    # when the worker runs
    run_worker(monkeypatch)
    # then the job succeeded with its counts, all rows done, and the file dropped
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert (job.created, job.unchanged, job.error_count) == (25, 0, 0)
    assert job.done_rows == job.total_rows == 25
    assert bytes(job.data) == b"" and job.started_at and job.finished_at
    assert counts() == (25, 25, 25)
    # and running the task again does nothing
    from shegong.core.tasks import import_job_task

    assert import_job_task.call(job.pk) == ImportJob.Status.SUCCEEDED
    assert counts() == (25, 25, 25)


def test_a_job_with_bad_rows_reports_them(
    county, facilities, monkeypatch, django_capture_on_commit_callbacks
):
    # given a file with two bad rows
    data = sheet([row(1), row(2, qualification="?"), row(3, graduated_on="2999-01-01")])
    with django_capture_on_commit_callbacks(execute=True):
        job = worker_import_start(actor=county, filename="bad.xlsx", data=data)
    # when the worker runs it
    run_worker(monkeypatch)
    # then the job finished with the bad rows and wrote nothing
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED and job.error_count == 2
    assert [e["line"] for e in job.errors] == [3, 4] and job.created == 0
    assert counts() == (0, 0, 0)


def test_a_failing_job_is_marked_failed_and_leaves_no_data(
    county, facilities, monkeypatch, django_capture_on_commit_callbacks
):
    # given an import that breaks while writing (after the people were inserted)
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("shegong.workforce.io.audit_record", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = worker_import_start(actor=county, filename="people.xlsx", data=sheet([row(1)]))
    # when the worker runs it
    run_worker(monkeypatch)
    # then the job failed with a message, and nothing was written
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.message and job.finished_at
    assert counts() == (0, 0, 0)
    assert DBTaskResult.objects.get().status == "FAILED"


def test_dates_may_be_real_excel_dates(county, facilities):
    # given dates typed as Excel dates rather than text
    values = row(1)
    values[KEYS.index("graduated_on")] = date(2012, 6, 30)
    values[KEYS.index("started_on")] = timezone.localdate() - timedelta(days=30)
    # when imported
    report = import_social_workers(actor=county, data=sheet([values]))
    # then they are read as dates
    assert report.ok, report.errors
    assert Education.objects.get().graduated_on == date(2012, 6, 30)

"""Background import jobs: the job page and API show a job to its creator (and to a city
administrator of the area) only; the page polls while the job runs, then shows the report;
the upload endpoint queues a job."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from shegong.core.models import ImportJob
from shegong.core.roles import Role
from shegong.workforce.io import WORKER_COLUMNS
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def make_job(user, **fields) -> ImportJob:
    return ImportJob.objects.create(
        kind="workforce.social_workers",
        filename="people.xlsx",
        created_by=user,
        division=user.division,
        **fields,
    )


@pytest.fixture
def county():
    return make_user(Role.COUNTY_STAFF, "500105", username="county-jb")


def test_the_creator_follows_a_running_job(client, county):
    # given a running job of the county user
    job = make_job(county, status="running", total_rows=5000, done_rows=2000, phase="Checking")
    client.force_login(county)
    # when they open its page, and htmx polls it
    page = client.get(reverse("core:job", kwargs={"pk": job.pk}))
    poll = client.get(reverse("core:job", kwargs={"pk": job.pk}), headers={"HX-Request": "true"})
    # then the page shows the progress and keeps polling; the poll answers the fragment only
    html = page.content.decode()
    assert page.status_code == 200 and "<progress" in html and 'hx-trigger="every 2s"' in html
    assert 'value="2000" max="5000"' in html
    fragment = poll.content.decode()
    assert poll.status_code == 200 and fragment.lstrip().startswith('<section id="job"')
    assert "<html" not in fragment


def test_a_finished_job_shows_every_bad_row_and_stops_polling(client, county):
    # given a job that refused two rows
    job = make_job(
        county,
        status="succeeded",
        total_rows=3,
        done_rows=3,
        error_count=2,
        errors=[{"line": 3, "reason": "bad check digit"}, {"line": 4, "reason": "未知学历"}],
        message="Nothing was written.",
    )
    client.force_login(county)
    # when its page is opened
    html = client.get(reverse("core:job", kwargs={"pk": job.pk})).content.decode()
    # then it lists the rows and does not poll
    assert "hx-trigger" not in html
    rows = re.findall(r"<tr><td>(\d+)</td><td[^>]*>([^<]*)</td></tr>", html)
    assert ("3", "bad check digit") in rows and ("4", "未知学历") in rows


def test_the_api_answers_the_job_to_its_creator(client, county):
    # given a finished job
    job = make_job(
        county,
        status="succeeded",
        total_rows=2,
        done_rows=2,
        created=1,
        unchanged=1,
    )
    client.force_login(county)
    # when its creator asks for it
    body = client.get(reverse("api:get_job", kwargs={"job_id": job.pk})).json()
    # then they get its status and counts
    assert body["status"] == "succeeded" and body["percent"] == 100
    assert (body["created"], body["unchanged"], body["errors"]) == (1, 1, [])


def test_another_users_job_does_not_exist_for_them(client, county):
    # given a job of another county user in the same county, and of a station user
    colleague = make_user(Role.COUNTY_STAFF, "500105", username="county-jb-2")
    job = make_job(colleague)
    client.force_login(county)
    # when the county user reaches for it through the page and the API
    page = client.get(reverse("core:job", kwargs={"pk": job.pk}))
    api = client.get(reverse("api:get_job", kwargs={"job_id": job.pk}))
    # then it is not found
    assert page.status_code == 404 and api.status_code == 404


def test_a_city_admin_sees_the_jobs_of_the_city_only(client, county):
    # given a job in 江北区 and one in Sichuan
    inside = make_job(county)
    sichuan = make_user(Role.COUNTY_STAFF, "510104", username="county-cd")
    outside = make_job(sichuan)
    admin = make_user(Role.CITY_ADMIN, "50", username="city-cq")
    # then the Chongqing city admin sees the first only
    assert list(ImportJob.objects.restrict(admin)) == [inside]
    client.force_login(admin)
    assert client.get(reverse("core:job", kwargs={"pk": outside.pk})).status_code == 404


def test_uploading_through_the_api_queues_a_job(client, county, django_capture_on_commit_callbacks):
    # given the template file
    client.force_login(county)
    template = client.get(reverse("api:social_worker_import_template"))
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    assert [c.value for c in book.active[1]] == list(WORKER_COLUMNS.values())
    # when it is uploaded
    upload = io.BytesIO(template.content)
    upload.name = "template.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("api:import_social_workers"), {"file": upload})
    # then a job is queued for the uploader, with its task
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == "queued" and job.created_by == county and job.filename == "template.xlsx"
    assert DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).exists()


def test_the_upload_refuses_a_file_that_is_not_xlsx(client, county):
    # given a CSV
    client.force_login(county)
    upload = io.BytesIO(b"name,id\n")
    upload.name = "people.csv"
    # when it is uploaded
    response = client.post(reverse("api:import_social_workers"), {"file": upload})
    # then it is refused and no job is created
    assert response.status_code == 422 and not ImportJob.objects.exists()


def test_a_job_left_running_by_a_stopped_worker_is_marked_failed(county):
    # given a job "running" for two hours (its worker stopped) and one that just started
    from datetime import timedelta

    from django.utils import timezone

    from shegong.core.jobs import job_run
    from shegong.core.xlsx import ImportReport

    now = timezone.now()
    stale = make_job(county, status=ImportJob.Status.RUNNING, started_at=now - timedelta(hours=2))
    busy = make_job(county, status=ImportJob.Status.RUNNING, started_at=now)
    queued = make_job(county)
    # when the worker runs the next job
    job_run(queued.pk, lambda job, progress: ImportReport())
    # then the stale one is failed with a message, and the running one is left alone
    stale.refresh_from_db()
    busy.refresh_from_db()
    assert stale.status == ImportJob.Status.FAILED and stale.message and stale.finished_at
    assert busy.status == ImportJob.Status.RUNNING

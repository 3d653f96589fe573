"""Training pages (person-times, courses, enrolment, completion) and the bulk-onboarding
upload page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shegong.core.audit import AuditEvent
from shegong.core.models import ImportJob
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.workforce.models import ContinuingEducation, Course, Enrolment
from shegong.workforce.services import course_create, enrolment_create, social_worker_create
from tests.conftest import make_user
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db


def place(code: str) -> Division:
    return Division.objects.get(code=code)


@pytest.fixture
def county():
    return make_user(Role.COUNTY_STAFF, "500105", username="county-tr")


def course(title: str, code: str = "500105", **fields) -> Course:
    values = {
        "actor": None,
        "title": title,
        "audience": "specialists",
        "organiser": "区民政局",
        "starts_on": date(2024, 3, 1),
        "ends_on": date(2024, 3, 3),
        "hours": 16,
        "division": place(code),
    } | fields
    return course_create(**values)


def person(serial: int, code: str = "500105001001"):
    return social_worker_create(
        actor=None, name=f"学员{serial}", national_id=national_id(serial), division=place(code)
    )


def test_training_page_lists_courses_and_person_times_in_scope(client, county):
    # given a course in 江北区 with one attendee and 30 external ones, and one in 九龙坡区
    here = course("江北培训班", external_headcount=30)
    enrolment = enrolment_create(actor=None, course=here, worker=person(1))
    enrolment.attended = True
    enrolment.save()
    course("九龙坡培训班", code="500107")
    client.force_login(county)
    # when the county opens the training page
    html = client.get(reverse("workforce:training")).content.decode()
    # then it sees its course and 31 person-times in 2024, not the other county's course
    assert "江北培训班" in html and "九龙坡培训班" not in html
    assert 'data-year="2024"' in html and ">31<" in html


def test_courses_export_to_a_real_xlsx(client, county):
    # given two courses, one in 2023
    course("二〇二四年班")
    course("二〇二三年班", starts_on=date(2023, 5, 1), ends_on=date(2023, 5, 2))
    client.force_login(county)
    # when the 2024 courses are exported
    response = client.get(reverse("workforce:training"), {"year": 2024, "format": "xlsx"})
    # then the workbook has the header and the one course of 2024
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert len(rows) == 2 and rows[1][0] == "二〇二四年班"


def test_creating_a_course_through_the_form(client, county):
    client.force_login(county)
    form = {
        "form": "course",
        "title": "个案工作实务班",
        "audience": "frontline",
        "organiser": "江北区社会工作指导中心",
        "starts_on": "2024-04-01",
        "ends_on": "2024-04-02",
        "hours": "12",
        "external_headcount": "5",
    }
    # when the county submits it
    response = client.post(reverse("workforce:training"), form)
    # then the course is created for the county and audited
    made = Course.objects.get(title="个案工作实务班")
    assert response.status_code == 302 and response["Location"].endswith(f"/{made.pk}/")
    assert made.division.code == "500105" and made.external_headcount == 5
    assert AuditEvent.objects.filter(action="course.create").exists()


def test_a_bad_course_is_refused_and_keeps_what_was_typed(client, county):
    client.force_login(county)
    # when the end comes before the start
    response = client.post(
        reverse("workforce:training"),
        {
            "form": "course",
            "title": "倒序班",
            "audience": "frontline",
            "organiser": "中心",
            "starts_on": "2024-04-02",
            "ends_on": "2024-04-01",
            "hours": "12",
        },
    )
    # then the page shows the form again with the typed title, and nothing is written
    html = response.content.decode()
    assert response.status_code == 422 and 'value="倒序班"' in html
    assert "invalid-feedback" in html
    assert not Course.objects.filter(title="倒序班").exists()


def test_a_programme_is_for_the_city_only(client, county):
    # given the county (it may add courses, not programmes)
    client.force_login(county)
    # when it posts the programme form
    response = client.post(
        reverse("workforce:training"),
        {"form": "programme", "name": "计划", "first_year": 2020, "last_year": 2022},
    )
    # then it is forbidden
    assert response.status_code == 403


def test_enrol_by_id_attend_and_complete_credits_hours(client, county):
    # given a course and a registered person
    here = course("督导班")
    someone = person(2)
    client.force_login(county)
    url = reverse("workforce:course", args=[here.pk])
    # when the county enrols the person by national ID
    response = client.post(url, {"action": "enrol", "national_id": someone.national_id})
    assert response.status_code == 302
    enrolment = Enrolment.objects.get(course=here, worker=someone)
    page = client.get(url).content.decode()
    # then the person is listed by name, the ID appears nowhere
    assert "学员2" in page and someone.national_id not in page
    # when attendance and completion are recorded
    client.post(url, {"action": "attend", "enrolment": enrolment.pk})
    client.post(url, {"action": "complete", "enrolment": enrolment.pk, "certificate_number": "C1"})
    # then the course hours are credited once as continuing education
    enrolment.refresh_from_db()
    assert enrolment.attended and enrolment.completed_on == here.ends_on
    credit = ContinuingEducation.objects.get(worker=someone)
    assert credit.hours == 16 and enrolment.ce_credit == credit


def test_enrolling_an_unknown_id_says_so_without_echoing_it(client, county):
    here = course("班")
    client.force_login(county)
    unknown = national_id(77)
    response = client.post(
        reverse("workforce:course", args=[here.pk]), {"action": "enrol", "national_id": unknown}
    )
    assert response.status_code == 422
    assert unknown not in response.content.decode()
    assert not Enrolment.objects.exists()


def test_an_analyst_reads_training_but_cannot_enrol(client):
    here = course("班")
    analyst = make_user(Role.ANALYST, "50", username="analyst-tr")
    client.force_login(analyst)
    url = reverse("workforce:course", args=[here.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "enrol", "national_id": national_id(3)})
    assert response.status_code == 403


def test_a_course_outside_scope_is_404(client, county):
    elsewhere = course("外区班", code="500107")
    client.force_login(county)
    assert client.get(reverse("workforce:course", args=[elsewhere.pk])).status_code == 404


def test_upload_page_queues_an_import_and_shows_own_jobs_only(
    client, county, django_capture_on_commit_callbacks
):
    # given the template downloaded from the page, and another county's job
    client.force_login(county)
    template = client.get(reverse("workforce:import_template"))
    assert template.status_code == 200
    other = make_user(Role.COUNTY_STAFF, "500107", username="county-other")
    ImportJob.objects.create(
        kind="workforce.social_workers",
        filename="别人的.xlsx",
        created_by=other,
        division=other.division,
    )
    upload = io.BytesIO(template.content)
    upload.name = "名单.xlsx"
    # when the file is uploaded
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("workforce:import"), {"file": upload})
    # then a job is queued and the user is sent to its page
    job = ImportJob.objects.get(created_by=county)
    assert response.status_code == 302 and response["Location"] == reverse(
        "core:job", args=[job.pk]
    )
    html = client.get(reverse("workforce:import")).content.decode()
    assert "名单.xlsx" in html and "别人的.xlsx" not in html


def test_upload_page_refuses_a_file_that_is_not_xlsx(client, county):
    client.force_login(county)
    upload = io.BytesIO(b"name,id\n")
    upload.name = "名单.csv"
    response = client.post(reverse("workforce:import"), {"file": upload})
    assert response.status_code == 422 and "invalid-feedback" in response.content.decode()
    assert not ImportJob.objects.exists()

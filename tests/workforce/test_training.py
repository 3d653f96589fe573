"""Training: person-times by year and audience (F12, F14), programme years (F13), and
completion crediting continuing-education hours once."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.workforce.ce import ce_standing
from shegong.workforce.models import (
    Audience,
    ContinuingEducation,
    Course,
    QualificationLevel,
    RegistrationPeriod,
)
from shegong.workforce.selectors import programme_years, training_person_times
from shegong.workforce.services import (
    course_create,
    course_set_headcount,
    enrolment_complete,
    enrolment_create,
    enrolment_set_attendance,
    social_worker_create,
    training_programme_create,
)
from tests.conftest import make_user
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db


def place(code="500105"):
    return Division.objects.get(code=code)


def person(serial, code="500105001001"):
    return social_worker_create(
        actor=None,
        name=f"学员{serial}",
        national_id=national_id(serial),
        division=place(code),
        qualification_level=QualificationLevel.SOCIAL_WORKER,
    )


def course(
    starts_on,
    ends_on=None,
    audience=Audience.SPECIALISTS,
    code="500105",
    headcount=0,
    programme=None,
    hours=Decimal("12.0"),
):
    return course_create(
        actor=None,
        title=f"课程{starts_on}",
        audience=audience,
        organiser="江北区社会工作指导中心",
        starts_on=starts_on,
        ends_on=ends_on or starts_on + timedelta(days=1),
        hours=hours,
        division=place(code),
        programme=programme,
        external_headcount=headcount,
    )


def attend(course, worker):
    enrolment = enrolment_create(actor=None, course=course, worker=worker)
    return enrolment_set_attendance(actor=None, enrolment=enrolment, attended=True)


def test_person_times_count_attendances_and_head_counts_by_start_year_and_audience():
    # given one person on two specialist courses of 2023, a course with 10 outsiders,
    # someone enrolled who did not come, a leading-cadre course, a course that starts on
    # 30 December 2023 and ends in 2024, a 2024 course, and a course in another county
    a, b = person(1), person(2)
    first = course(date(2023, 3, 1), headcount=10)
    second = course(date(2023, 6, 1))
    attend(first, a)
    attend(second, a)
    enrolment_create(actor=None, course=second, worker=b)  # enrolled, did not attend
    cadres = course(date(2023, 9, 1), audience=Audience.LEADING_CADRES, headcount=3)
    attend(cadres, b)
    straddling = course(date(2023, 12, 30), date(2024, 1, 2))
    attend(straddling, b)
    attend(course(date(2024, 4, 1)), a)
    elsewhere = course(date(2023, 5, 1), code="500107", headcount=50)
    attend(elsewhere, person(3, "500107001001"))
    # when person-times are counted for 江北区
    result = training_person_times(division=place(), year_from=2022, year_to=2024)
    # then each attendance counts once (a person twice for two courses), head-counts count
    # as given, courses count in the year they start, and the other county is not included
    assert result[2022] == dict.fromkeys(Audience.values, 0)
    assert result[2023][Audience.SPECIALISTS] == 2 + 10 + 1
    assert result[2023][Audience.LEADING_CADRES] == 1 + 3
    assert result[2024][Audience.SPECIALISTS] == 1
    whole_city = training_person_times(division=place("50"), year_from=2023, year_to=2023)
    assert whole_city[2023][Audience.SPECIALISTS] == 13 + 51


def test_a_later_head_count_counts_as_given():
    # given a course recorded without its outsiders
    held = course(date(2023, 3, 1))
    # when the head-count is recorded afterwards
    course_set_headcount(actor=None, course=held, external_headcount=25)
    # then it counts
    assert (
        training_person_times(division=place(), year_from=2023, year_to=2023)[2023][
            Audience.SPECIALISTS
        ]
        == 25
    )


def test_programme_years_are_the_longest_run_of_consecutive_years_with_courses():
    # given a 2019–2025 plan with courses in 2019, 2020, 2022, 2023 and 2024
    plan = training_programme_create(
        actor=None,
        name="万名社工人才培养计划",
        division=place("50"),
        first_year=2019,
        last_year=2025,
    )
    for year in (2019, 2020, 2022, 2023, 2024):
        course(date(year, 5, 1), programme=plan)
    # then it ran 3 consecutive years (2022–2024), 2 up to 2023
    assert programme_years(plan) == 3
    assert programme_years(plan, until=2023) == 2
    assert programme_years(plan, division=place("500107")) == 0


def test_a_course_outside_its_programme_years_is_refused():
    plan = training_programme_create(
        actor=None, name="计划", division=place("50"), first_year=2019, last_year=2020
    )
    with pytest.raises(ValidationError) as exc:
        course(date(2021, 5, 1), programme=plan)
    assert "programme" in exc.value.message_dict


def test_completing_a_course_credits_its_hours_once():
    # given a person enrolled on a 12-hour course
    worker = person(11)
    held = course(date(2023, 3, 1), date(2023, 3, 3))
    enrolment = enrolment_create(actor=None, course=held, worker=worker)
    # when the completion is recorded twice
    enrolment_complete(actor=None, enrolment=enrolment, certificate_number="JB-2023-001")
    again = enrolment_complete(actor=None, enrolment=enrolment, completed_on=date(2023, 4, 1))
    # then one credit of the course's hours, dated the course end, is linked; the person
    # attended; and one audit event records it
    credits = ContinuingEducation.objects.filter(worker=worker)
    assert credits.count() == 1
    credit = credits.get()
    assert (credit.hours, credit.completed_on, credit.title) == (
        Decimal("12.0"),
        date(2023, 3, 3),
        held.title,
    )
    again.refresh_from_db()
    assert again.ce_credit_id == credit.pk
    assert again.attended and again.completed_on == date(2023, 3, 3)
    assert again.certificate_number == "JB-2023-001"
    assert AuditEvent.objects.filter(action="enrolment.complete").count() == 1


def test_a_course_straddling_two_registration_periods_counts_in_the_second():
    # given a person registered 2018–2020 and 2021–2023, on a course from 28 December 2020
    # to 5 January 2021
    worker = person(12)
    RegistrationPeriod.objects.create(
        worker=worker, starts_on=date(2018, 1, 1), ends_on=date(2020, 12, 31)
    )
    RegistrationPeriod.objects.create(
        worker=worker, starts_on=date(2021, 1, 1), ends_on=date(2023, 12, 31)
    )
    held = course(date(2020, 12, 28), date(2021, 1, 5), hours=Decimal("30.0"))
    enrolment = enrolment_create(actor=None, course=held, worker=worker)
    # when it is completed
    enrolment_complete(actor=None, enrolment=enrolment)
    # then its hours count in the second period
    first, second = ce_standing(worker)
    assert (first.earned, second.earned) == (0, Decimal("30.0"))


def test_bad_course_input_is_refused_and_nothing_written():
    before = Course.objects.count()
    for kwargs, field in (
        ({"starts_on": date(2023, 3, 5), "ends_on": date(2023, 3, 1)}, "ends_on"),
        ({"starts_on": date(2023, 3, 1), "hours": Decimal("-2")}, "hours"),
        ({"starts_on": date(2023, 3, 1), "hours": Decimal("0")}, "hours"),
        ({"starts_on": date(2023, 3, 1), "hours": Decimal("1.25")}, "hours"),
        ({"starts_on": date(2023, 3, 1), "headcount": -1}, "external_headcount"),
        (
            {"starts_on": timezone.localdate() + timedelta(days=30), "headcount": 5},
            "external_headcount",
        ),
    ):
        with pytest.raises(ValidationError) as exc:
            course(**kwargs)
        assert field in exc.value.message_dict
    assert Course.objects.count() == before


def test_bad_completion_dates_are_refused():
    held = course(date(2023, 3, 1), date(2023, 3, 3))
    enrolment = enrolment_create(actor=None, course=held, worker=person(13))
    for day in (timezone.localdate() + timedelta(days=1), date(2023, 2, 1)):
        with pytest.raises(ValidationError) as exc:
            enrolment_complete(actor=None, enrolment=enrolment, completed_on=day)
        assert "completed_on" in exc.value.message_dict
    assert not ContinuingEducation.objects.filter(worker=enrolment.worker).exists()


def test_enrolling_twice_and_unmarking_a_completed_attendance_are_refused():
    held = course(date(2023, 3, 1))
    worker = person(14)
    enrolment = enrolment_create(actor=None, course=held, worker=worker)
    with pytest.raises(ValidationError):
        enrolment_create(actor=None, course=held, worker=worker)
    enrolment_complete(actor=None, enrolment=enrolment)
    with pytest.raises(ValidationError):
        enrolment_set_attendance(actor=None, enrolment=enrolment, attended=False)


def test_who_may_run_courses_where():
    # given a room worker and a county user of 江北区
    room = make_user(Role.ROOM_WORKER, "500105001001")
    county = make_user(Role.COUNTY_STAFF, "500105")
    kwargs = {
        "title": "课程",
        "audience": Audience.FRONTLINE,
        "organiser": "中心",
        "starts_on": date(2023, 3, 1),
        "ends_on": date(2023, 3, 1),
        "hours": 4,
    }
    # then the room worker may not, and the county user not outside the county
    with pytest.raises(PermissionDenied):
        course_create(actor=room, division=place(), **kwargs)
    with pytest.raises(Http404):
        course_create(actor=county, division=place("500107"), **kwargs)
    assert course_create(actor=county, division=place("500105001"), **kwargs).pk
    with pytest.raises(PermissionDenied):
        training_programme_create(
            actor=county, name="计划", division=place(), first_year=2023, last_year=2024
        )


def test_training_through_the_api(client):
    # given a county user of 江北区 and a person registered there and one in 渝中区
    county = make_user(Role.COUNTY_STAFF, "500105")
    client.force_login(county)
    worker, other = person(21), person(22, "500103001003")
    # when they create a course, enrol, mark attendance and complete it
    response = client.post(
        "/api/v1/training/courses",
        {
            "title": "社工督导培训",
            "audience": "specialists",
            "organiser": "江北区民政局",
            "starts_on": "2023-05-01",
            "ends_on": "2023-05-03",
            "hours": "16.5",
            "division_code": "500105",
            "external_headcount": 4,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    course_id = response.json()["id"]
    response = client.post(
        f"/api/v1/training/courses/{course_id}/enrolments",
        {"worker_id": worker.pk},
        content_type="application/json",
    )
    assert response.status_code == 201
    enrolment = response.json()
    assert set(enrolment) >= {"worker_id", "worker_name"} and "national_id" not in str(enrolment)
    response = client.post(
        f"/api/v1/training/enrolments/{enrolment['id']}/complete",
        {"certificate_number": "C-1"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["ce_credit_id"] and response.json()["completed_on"] == "2023-05-03"
    # then person-times count the attendee and the outsiders
    response = client.get(
        "/api/v1/training/person-times", {"division": "500105", "year_from": 2023, "year_to": 2023}
    )
    assert response.json()["2023"]["specialists"] == 5
    # and a person outside the county cannot be enrolled (404), nor bad hours given (422)
    response = client.post(
        f"/api/v1/training/courses/{course_id}/enrolments",
        {"worker_id": other.pk},
        content_type="application/json",
    )
    assert response.status_code == 404
    response = client.post(
        "/api/v1/training/courses",
        {
            "title": "坏课程",
            "audience": "specialists",
            "organiser": "x",
            "starts_on": "2023-05-03",
            "ends_on": "2023-05-01",
            "hours": "-1",
            "division_code": "500105",
        },
        content_type="application/json",
    )
    assert response.status_code == 422

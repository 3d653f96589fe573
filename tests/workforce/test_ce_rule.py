"""The continuing-education rule: 72 or 90 hours per period, the degree counted once,
hours counted in the period in which they were completed."""

from datetime import date
from decimal import Decimal

import pytest

from shegong.geo.models import Division
from shegong.workforce.ce import ce_current, ce_standing
from shegong.workforce.models import (
    ContinuingEducation,
    Education,
    QualificationLevel,
    RegistrationPeriod,
)
from shegong.workforce.services import social_worker_create
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker():
    person = social_worker_create(
        actor=None,
        name="周九",
        national_id=national_id(701),
        division=Division.objects.get(code="500105"),
        qualification_level=QualificationLevel.SOCIAL_WORKER,
    )
    RegistrationPeriod.objects.create(
        worker=person, starts_on=date(2018, 1, 1), ends_on=date(2020, 12, 31)
    )
    RegistrationPeriod.objects.create(
        worker=person, starts_on=date(2021, 1, 1), ends_on=date(2023, 12, 31)
    )
    return person


def credit(worker, hours, day):
    ContinuingEducation.objects.create(
        worker=worker, hours=Decimal(hours), completed_on=day, title="课程"
    )


def test_a_social_worker_needs_90_hours_per_period(worker):
    credit(worker, 40, date(2019, 3, 1))
    credit(worker, 30, date(2020, 6, 1))
    first, second = ce_standing(worker)
    assert (first.required, first.earned, first.short_by) == (90, 70, 20)
    assert (second.earned, second.short_by) == (0, 90)


def test_an_assistant_needs_72(worker):
    worker.qualification_level = QualificationLevel.ASSISTANT
    worker.save()
    credit(worker, 72, date(2019, 3, 1))
    first, _ = ce_standing(worker)
    assert (first.required, first.complete) == (72, True)


def test_a_social_work_degree_counts_90_hours_once(worker):
    Education.objects.create(
        worker=worker,
        school="重庆大学",
        degree="master",
        social_work_major=True,
        graduated_on=date(2019, 6, 30),
    )
    Education.objects.create(
        worker=worker,
        school="西南大学",
        degree="doctor",
        social_work_major=True,
        graduated_on=date(2022, 6, 30),
    )
    first, second = ce_standing(worker)
    assert (first.degree_credit, first.complete) == (90, True)
    assert (second.degree_credit, second.short_by) == (0, 90)  # a second degree adds nothing


def test_another_major_gives_no_credit(worker):
    Education.objects.create(
        worker=worker,
        school="重庆大学",
        degree="bachelor",
        social_work_major=False,
        graduated_on=date(2019, 6, 30),
    )
    assert ce_standing(worker)[0].degree_credit == 0


def test_a_course_straddling_two_periods_counts_where_it_was_completed(worker):
    # a 24-hour course from December 2020 to January 2021
    credit(worker, 24, date(2021, 1, 15))
    first, second = ce_standing(worker)
    assert (first.earned, second.earned) == (0, 24)


def test_current_period_and_days_left(worker):
    credit(worker, 60, date(2022, 5, 1))
    current = ce_current(worker, date(2023, 11, 1))
    assert (current.short_by, current.days_left(date(2023, 11, 1))) == (30, 60)
    assert ce_current(worker, date(2024, 6, 1)) is None


def test_services_refuse_bad_input_and_write_nothing(worker):
    from django.core.exceptions import ValidationError

    from shegong.workforce.services import ce_credit_add, education_add, registration_add

    count = (Education.objects.count(), ContinuingEducation.objects.count())
    with pytest.raises(ValidationError, match="毕业日期不能晚于今天"):
        education_add(
            actor=None,
            worker=worker,
            school="重庆大学",
            degree="master",
            social_work_major=True,
            graduated_on=date(2099, 6, 30),
        )
    for hours in ("-1", "0", "12.25", "abc", "501"):
        with pytest.raises(ValidationError):
            ce_credit_add(
                actor=None, worker=worker, hours=hours, completed_on=date(2019, 1, 1), title="x"
            )
    with pytest.raises(ValidationError, match="重叠"):
        registration_add(actor=None, worker=worker, starts_on=date(2020, 6, 1))
    assert (Education.objects.count(), ContinuingEducation.objects.count()) == count
    period = registration_add(actor=None, worker=worker, starts_on=date(2024, 1, 1))
    assert period.ends_on == date(2026, 12, 31)

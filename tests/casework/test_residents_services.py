"""Residents' services: registration with de-duplication, edits with a version check, moving
house with history, households and guardians, consents (the under-14 rule), special-group
statuses (disability certificate, dates, ages, overlaps) — every bad input refused with a
clear message and nothing written."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import override_settings
from django.utils import timezone, translation

from shegong.casework.models import (
    Consent,
    Household,
    Relationship,
    Residence,
    Resident,
    SpecialStatus,
)
from shegong.casework.services import residents as services
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division
from tests.casework.world import make_resident, resident_id
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

COMMUNITY = "500105001001"  # 桥北社区
NEXT_COMMUNITY = "500105001002"
TODAY = timezone.localdate()


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def years_ago(years: int, month: int = 3, day: int = 1) -> date:
    return date(TODAY.year - years, month, day)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in their English msgids."""
    with translation.override("en"):
        yield


@pytest.fixture
def worker():
    return make_user(Role.ROOM_WORKER, COMMUNITY, username="room-svc")


@pytest.fixture
def station():
    return make_user(Role.STATION_STAFF, "500105001", username="station-svc")


def register(actor, serial=1, born=date(1960, 5, 1), **extra):
    values = {
        "name": "张三",
        "national_id": resident_id(serial, born),
        "community": division(COMMUNITY),
        "phone": "138 0000 1234",
    }
    values.update(extra)
    return services.resident_create(actor=actor, **values)


def message(exc: ValidationError, field: str) -> str:
    return " ".join(exc.message_dict[field])


# --- registration ---------------------------------------------------------------------------


def test_register_derives_and_encrypts_and_opens_a_residence(worker):
    # when the room worker registers a resident
    resident = register(worker, moved_in_on=date(2020, 1, 1))
    # then the ID is kept, the phone normalised, a residence opened, and it is audited
    resident.refresh_from_db()
    assert resident.national_id == resident_id(1)
    assert resident.phone == "13800001234"
    assert resident.birth_date == date(1960, 5, 1)
    assert list(resident.residences.values_list("community__code", "moved_out_on")) == [
        (COMMUNITY, None)
    ]
    event = AuditEvent.objects.get(action="resident.create", object_id=str(resident.pk))
    assert resident_id(1) not in str(event.after) and "张三" not in event.object_repr
    assert "13800001234" not in str(event.after)


def test_the_same_id_cannot_be_registered_twice(worker, station):
    # given a resident registered in 桥北社区
    register(worker, serial=7)
    # when the station registers the same ID in the next community
    with pytest.raises(ValidationError) as caught:
        register(station, serial=7, name="张三丰", community=division(NEXT_COMMUNITY))
    # then it is refused, naming the community the person is registered in, nothing more
    text = message(caught.value, "national_id")
    assert "桥北社区" in text and "张三" not in text
    assert Resident.objects.count() == 1


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("50010519600501001", "17 digits"),  # too short
        ("500105196005010010", "check digit"),  # wrong check digit
        ("5001051960AB01001X", "17 digits"),
    ],
)
def test_an_invalid_id_is_refused_and_nothing_written(worker, number, words):
    # when the room worker registers an invalid ID
    with pytest.raises(ValidationError) as caught:
        register(worker, national_id=number)
    # then the message says what is wrong and nothing is written
    assert words in message(caught.value, "national_id")
    assert not Resident.objects.exists() and not Residence.objects.exists()
    assert not AuditEvent.objects.filter(action="resident.create").exists()


@pytest.mark.parametrize("phone", ["1380000123", "23800001234", "abc", "0231234"])
def test_a_bad_phone_is_refused(worker, phone):
    with pytest.raises(ValidationError) as caught:
        register(worker, phone=phone)
    assert "11-digit" in message(caught.value, "phone")
    assert not Resident.objects.exists()


@pytest.mark.parametrize("phone", ["023-67891234", "67891234", "(023) 6789 1234"])
def test_a_landline_is_accepted(worker, phone):
    assert register(worker, phone=phone).phone.isdigit()


def test_the_community_must_be_a_community_in_scope(worker):
    # a town is not a community
    with pytest.raises(ValidationError) as caught:
        register(worker, community=division("500105001"))
    assert "community" in caught.value.message_dict
    # the next community is outside the room worker's scope
    with pytest.raises(Http404):
        register(worker, community=division(NEXT_COMMUNITY))
    assert not Resident.objects.exists()


# --- editing --------------------------------------------------------------------------------


def test_a_stale_edit_is_refused(worker):
    # given a resident edited once (version 2)
    resident = register(worker)
    services.resident_update(actor=worker, resident=resident, version=1, name="张三改")
    # when someone saves with the version they saw before
    with pytest.raises(services.StaleEdit):
        services.resident_update(actor=worker, resident=resident, version=1, phone="13900000000")
    # then the second change is not written
    resident.refresh_from_db()
    assert (resident.name, resident.phone, resident.version) == ("张三改", "13800001234", 2)


# --- moving house ---------------------------------------------------------------------------


def test_transfer_keeps_the_history_and_leaves_the_room_workers_scope(worker):
    # given a resident living in 桥北社区 since 2020
    resident = register(worker, moved_in_on=date(2020, 1, 1))
    # when the room worker moves them to a community of another county
    target = Division.objects.filter(level="community", code__startswith="500103").first()
    moved = services.resident_transfer(
        actor=worker, resident=resident, to_community=target, moved_on=date(2023, 6, 1)
    )
    # then the old residence is closed, a new one opened, and the community changed
    periods = list(
        moved.residences.order_by("moved_in_on").values_list(
            "community__code", "moved_in_on", "moved_out_on"
        )
    )
    assert periods == [
        (COMMUNITY, date(2020, 1, 1), date(2023, 6, 1)),
        (target.code, date(2023, 6, 1), None),
    ]
    assert moved.community == target
    event = AuditEvent.objects.get(action="resident.transfer")
    assert event.before == {"community": COMMUNITY}
    assert event.after["community"] == target.code
    # and the room worker no longer sees them
    assert not Resident.objects.restrict(worker).filter(pk=resident.pk).exists()


def test_transfer_refuses_another_city_and_a_date_before_moving_in(worker):
    resident = register(worker, moved_in_on=date(2020, 1, 1))
    with pytest.raises(ValidationError) as caught:
        services.resident_transfer(
            actor=worker, resident=resident, to_community=division("510104017001")
        )
    assert "to_community" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.resident_transfer(
            actor=worker,
            resident=resident,
            to_community=division(NEXT_COMMUNITY),
            moved_on=date(2019, 1, 1),
        )
    assert "moved_on" in caught.value.message_dict
    assert Residence.objects.filter(resident=resident).count() == 1


def test_transfer_needs_the_source_in_scope(worker):
    # given a resident of the next community (outside the room worker's scope)
    neighbour = make_resident("王阿姨", NEXT_COMMUNITY, 903)
    # when the room worker tries to move them in, then it is as if they did not exist
    with pytest.raises(Http404):
        services.resident_transfer(
            actor=worker, resident=neighbour, to_community=division(COMMUNITY)
        )


# --- households and guardians ------------------------------------------------------------


def test_household_with_members(worker):
    head = register(worker, serial=11)
    spouse = register(worker, serial=12, name="李四")
    household = services.household_create(actor=worker, head=head, address="桥北路 1 号")
    services.household_member_add(
        actor=worker, household=household, resident=spouse, relationship=Relationship.SPOUSE
    )
    assert set(household.members.values_list("name", "relationship")) == {
        ("张三", "head"),
        ("李四", "spouse"),
    }
    # a second head is refused
    third = register(worker, serial=13, name="王五")
    with pytest.raises(ValidationError):
        services.household_member_add(
            actor=worker, household=household, resident=third, relationship=Relationship.HEAD
        )
    assert Household.objects.get().address == "桥北路 1 号"


def test_the_guardian_must_be_an_adult(worker):
    child = register(worker, serial=21, born=years_ago(8), name="小明")
    teen = register(worker, serial=22, born=years_ago(16), name="小红")
    with pytest.raises(ValidationError) as caught:
        services.guardian_set(actor=worker, resident=child, guardian=teen, relationship="姐姐")
    assert "adult" in message(caught.value, "guardian")
    mother = register(worker, serial=23, born=date(1985, 1, 1), name="母亲")
    services.guardian_set(actor=worker, resident=child, guardian=mother, relationship="母亲")
    child.refresh_from_db()
    assert child.guardian == mother


# --- consents -------------------------------------------------------------------------------


def test_a_child_under_14_consents_through_a_recorded_guardian(worker):
    # given a 10-year-old without a guardian
    child = register(worker, serial=31, born=years_ago(10), name="小明")
    # when a consent is recorded as given by the child, then it is refused
    with pytest.raises(ValidationError) as caught:
        services.consent_record(actor=worker, resident=child, purpose="service", given_on=TODAY)
    assert "guardian" in message(caught.value, "given_by_guardian")
    # and even "by the guardian" is refused while no guardian is recorded
    with pytest.raises(ValidationError):
        services.consent_record(
            actor=worker, resident=child, purpose="service", given_on=TODAY, given_by_guardian=True
        )
    assert not Consent.objects.exists()
    # given a guardian, when the guardian consents, then it is recorded in their name
    mother = register(worker, serial=32, born=date(1985, 1, 1), name="母亲")
    services.guardian_set(actor=worker, resident=child, guardian=mother, relationship="母亲")
    with pytest.raises(ValidationError):  # still not by the child
        services.consent_record(actor=worker, resident=child, purpose="service", given_on=TODAY)
    consent = services.consent_record(
        actor=worker, resident=child, purpose="service", given_on=TODAY, given_by_guardian=True
    )
    assert (consent.given_by_guardian, consent.given_by_name) == (True, "母亲")


def test_an_adult_consents_and_withdraws(worker):
    adult = register(worker, serial=33)
    with pytest.raises(ValidationError) as caught:
        services.consent_record(
            actor=worker, resident=adult, purpose="photo", given_on=TODAY + timedelta(days=1)
        )
    assert "future" in message(caught.value, "given_on")
    consent = services.consent_record(
        actor=worker, resident=adult, purpose="photo", given_on=date(2022, 1, 1)
    )
    assert consent.given_by_name == "张三"
    with pytest.raises(ValidationError):
        services.consent_withdraw(actor=worker, consent=consent, withdrawn_on=date(2021, 1, 1))
    services.consent_withdraw(actor=worker, consent=consent, withdrawn_on=date(2023, 1, 1))
    consent.refresh_from_db()
    assert consent.withdrawn_on == date(2023, 1, 1)


# --- special-group statuses -----------------------------------------------------------------


def add(actor, resident, **values):
    values.setdefault("started_on", date(2021, 1, 1))
    return services.status_add(actor=actor, resident=resident, **values)


def test_disability_certificate_must_match_the_id(worker):
    # given a resident
    resident = register(worker, serial=41)
    number = resident_id(41)
    # when the certificate does not end with the category and grade given
    with pytest.raises(ValidationError) as caught:
        add(
            worker,
            resident,
            group="disability",
            disability_category=4,
            disability_grade=2,
            certificate_number=number + "41",
        )
    # then it is refused with a clear message and nothing is written
    assert "national ID followed by the category digit" in message(
        caught.value, "certificate_number"
    )
    # and a certificate of someone else's ID is refused too
    with pytest.raises(ValidationError):
        add(
            worker,
            resident,
            group="disability",
            disability_category=4,
            disability_grade=2,
            certificate_number=resident_id(42) + "42",
        )
    assert not SpecialStatus.objects.exists()
    # when it matches, then it is recorded (encrypted)
    status = add(
        worker,
        resident,
        group="disability",
        disability_category=4,
        disability_grade=2,
        certificate_number=number + "42",
    )
    assert (status.disability_category, status.disability_grade) == (4, 2)


@pytest.mark.parametrize(
    ("category", "grade", "field"),
    [(8, 2, "disability_category"), (None, 2, "disability_category"), (4, 5, "disability_grade")],
)
def test_disability_category_and_grade_are_checked(worker, category, grade, field):
    resident = register(worker, serial=43)
    with pytest.raises(ValidationError) as caught:
        add(
            worker,
            resident,
            group="disability",
            disability_category=category,
            disability_grade=grade,
            certificate_number=f"{resident_id(43)}{category}{grade}",
        )
    assert field in caught.value.message_dict
    assert not SpecialStatus.objects.exists()


def test_a_status_ending_before_it_starts_is_refused(worker):
    resident = register(worker, serial=44)
    with pytest.raises(ValidationError) as caught:
        add(
            worker, resident, group="dibao", started_on=date(2022, 5, 1), ended_on=date(2022, 4, 30)
        )
    assert "before the start" in message(caught.value, "ended_on")
    assert not SpecialStatus.objects.exists()
    assert not AuditEvent.objects.filter(action="special_status.add").exists()


def test_a_status_cannot_start_in_the_future(worker):
    resident = register(worker, serial=45)
    with pytest.raises(ValidationError) as caught:
        add(worker, resident, group="dibao", started_on=TODAY + timedelta(days=1))
    assert "future" in message(caught.value, "started_on")
    assert not SpecialStatus.objects.exists()


def test_several_statuses_at_once_but_not_the_same_group_twice(worker):
    resident = register(worker, serial=46)
    add(worker, resident, group="dibao", started_on=date(2020, 1, 1), ended_on=date(2020, 12, 31))
    add(worker, resident, group="left_behind_woman", started_on=date(2020, 6, 1))
    # overlapping the same group: refused
    with pytest.raises(ValidationError) as caught:
        add(worker, resident, group="dibao", started_on=date(2020, 12, 1))
    assert "overlapping" in message(caught.value, "group")
    # after the first ended: fine (history kept)
    add(worker, resident, group="dibao", started_on=date(2021, 1, 1))
    assert resident.statuses.filter(group="dibao").count() == 2


def test_childrens_groups_check_the_configured_ages(worker):
    # given a 17-year-old
    teen = register(worker, serial=47, born=years_ago(17, 1, 1))
    # a left-behind child must be under 16 on the start date
    with pytest.raises(ValidationError) as caught:
        add(worker, teen, group="left_behind_child", started_on=TODAY)
    assert "under 16" in message(caught.value, "group")
    # an orphan under 18: fine
    add(worker, teen, group="orphan", started_on=TODAY)
    # a left-behind elder must be at least 60
    with pytest.raises(ValidationError):
        add(worker, teen, group="left_behind_elder", started_on=TODAY)


def test_age_thresholds_are_configuration(worker):
    teen = register(worker, serial=48, born=years_ago(17, 1, 1))
    with override_settings(SHEGONG_SPECIAL_GROUP_AGES={"left_behind_child": {"under": 18}}):
        add(worker, teen, group="left_behind_child", started_on=TODAY)
    assert teen.statuses.count() == 1


def test_ending_a_status(worker):
    resident = register(worker, serial=49)
    status = add(worker, resident, group="dibao", started_on=date(2021, 1, 1))
    with pytest.raises(ValidationError):
        services.status_end(actor=worker, status=status, ended_on=date(2020, 1, 1))
    services.status_end(actor=worker, status=status, ended_on=date(2022, 1, 1))
    status.refresh_from_db()
    assert status.ended_on == date(2022, 1, 1)
    with pytest.raises(ValidationError):  # already ended
        services.status_end(actor=worker, status=status, ended_on=date(2022, 2, 1))

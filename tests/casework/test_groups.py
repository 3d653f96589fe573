"""Group work (MZ/T 095) and community activities: stages in order one step at a time,
members in scope, sessions as service records (12 attendees = 12 person-times), an
activity's participants recorded once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from shegong.casework.models import GroupMember, GroupStage, ServiceRecord
from shegong.casework.services.activities import activity_create, activity_record
from shegong.casework.services.groups import (
    group_advance,
    group_create,
    group_member_add,
    group_member_remove,
    group_session_record,
)
from shegong.core.models import AuditEvent
from tests.casework import test_records as base

pytestmark = pytest.mark.django_db

# the shared world and helpers of tests/casework/test_records.py
_english = base._english
place = base.place
residents = base.residents

TODAY = date.today()


def new_group(place, **extra):
    fields = {
        "facility": place["room"],
        "name": "长者互助小组",
        "group_type": "support",
        "leader": place["worker"],
        "started_on": TODAY - timedelta(days=30),
        "target_group": "left_behind_elder",
        "goals": "减少孤独感",
        "planned_sessions": 6,
        **extra,
    }
    return group_create(actor=place["worker"], **fields)


def formed(place, members=0):
    group = new_group(place)
    people = residents(members)
    for person in people:
        group_member_add(actor=place["worker"], group=group, resident=person)
    group_advance(actor=place["worker"], group=group)
    return group, people


# --- stages ----------------------------------------------------------------------------------


def test_a_group_goes_through_its_stages_one_step_at_a_time(place):
    # given a new group (in preparation)
    group = new_group(place)
    assert group.stage == GroupStage.PREPARATION
    # when it is advanced step by step
    seen = [group.stage]
    for _ in range(4):
        group_advance(actor=place["worker"], group=group)
        seen.append(group.stage)
    # then it went through the stages in order and cannot go further
    assert seen == list(GroupStage.values)
    with pytest.raises(ValidationError):
        group_advance(actor=place["worker"], group=group)
    assert AuditEvent.objects.filter(action="group.advance").count() == 4


def test_a_stage_cannot_be_skipped(place):
    # given a group in preparation
    group = new_group(place)
    # when someone asks to jump to maturity
    with pytest.raises(ValidationError) as caught:
        group_advance(actor=place["worker"], group=group, to_stage=GroupStage.MATURITY)
    # then it is refused, naming the next stage, and the stage is unchanged
    assert "one stage at a time" in caught.value.message_dict["stage"][0]
    group.refresh_from_db()
    assert group.stage == GroupStage.PREPARATION
    # and the next stage named explicitly is fine
    group_advance(actor=place["worker"], group=group, to_stage=GroupStage.FORMATION)
    group.refresh_from_db()
    assert group.stage == GroupStage.FORMATION


def test_a_group_needs_a_name_type_and_a_leader_in_scope(place):
    with pytest.raises(ValidationError) as caught:
        new_group(place, name=" ", group_type="party", planned_sessions=0, leader=place["county"])
    assert {"name", "group_type", "planned_sessions", "leader"} <= set(caught.value.message_dict)
    with pytest.raises(Http404):
        new_group(place, facility=place["next_room"])


# --- members and sessions -------------------------------------------------------------------


def test_members_are_residents_in_scope(place):
    group = new_group(place)
    # when a resident of the next community is added by the room worker
    with pytest.raises(Http404):
        group_member_add(actor=place["worker"], group=group, resident=place["neighbour"])
    # then nobody was added
    assert not GroupMember.objects.exists()
    # and a resident of the room's community is added once
    group_member_add(actor=place["worker"], group=group, resident=place["resident"])
    with pytest.raises(ValidationError):
        group_member_add(actor=place["worker"], group=group, resident=place["resident"])


def test_a_session_with_twelve_attendees_is_twelve_person_times(place):
    # given a formed group of 14 members
    group, people = formed(place, members=14)
    # when a session with 12 of them is recorded
    record = group_session_record(
        actor=place["worker"],
        group=group,
        served_on=TODAY,
        attendees=people[:12],
        session_plan="破冰游戏",
        summary="组员分享近况",
    )
    # then it is a group service record of 12 person-times, session 1
    assert record.person_times == 12
    assert record.method == "group"
    assert record.session_number == 1
    assert record.notes == "组员分享近况"
    assert record.session_plan == "破冰游戏"
    assert record.target_group == "left_behind_elder"
    # and the next session is number 2
    second = group_session_record(
        actor=place["worker"], group=group, served_on=TODAY, attendees=people[:3]
    )
    assert second.session_number == 2
    assert group.sessions.count() == 2


def test_only_members_attend_a_session(place):
    group, people = formed(place, members=2)
    outsider_of_group = residents(1, first=300)[0]
    with pytest.raises(ValidationError) as caught:
        group_session_record(
            actor=place["worker"],
            group=group,
            served_on=TODAY,
            attendees=[*people, outsider_of_group],
        )
    assert "members" in caught.value.message_dict["residents"][0]
    assert not ServiceRecord.objects.exists()


def test_a_member_who_left_no_longer_attends(place):
    group, people = formed(place, members=2)
    group_member_remove(actor=place["worker"], group=group, resident=people[0])
    # a session today with the member who left is refused
    with pytest.raises(ValidationError):
        group_session_record(actor=place["worker"], group=group, served_on=TODAY, attendees=people)
    # but a session before they left still counts them
    record = group_session_record(
        actor=place["worker"],
        group=group,
        served_on=TODAY - timedelta(days=1),
        attendees=people,
    )
    assert record.person_times == 2
    # the membership is kept with the day they left
    assert GroupMember.objects.get(group=group, resident=people[0]).left_on == TODAY


def test_no_session_before_the_group_is_formed(place):
    group = new_group(place)
    person = residents(1)[0]
    group_member_add(actor=place["worker"], group=group, resident=person)
    with pytest.raises(ValidationError) as caught:
        group_session_record(
            actor=place["worker"], group=group, served_on=TODAY, attendees=[person]
        )
    assert "preparation" in caught.value.message_dict["group"][0]
    assert not ServiceRecord.objects.exists()


# --- community activities ----------------------------------------------------------------------


def test_an_activity_counts_its_participants_once(place):
    # given an activity held yesterday
    activity = activity_create(
        actor=place["worker"],
        facility=place["room"],
        title="防诈骗宣传",
        held_on=TODAY - timedelta(days=1),
        needs="老人易受骗",
        plan="讲座 + 问答",
        place="社区广场",
        partners="派出所",
        volunteer_count=4,
    )
    people = residents(2)
    # when its participants are recorded: 2 registered and 40 others
    record = activity_record(
        actor=place["worker"],
        activity=activity,
        residents=people,
        headcount=40,
        summary="到场踊跃",
    )
    # then it is a community service record of 42 person-times, dated the activity's day
    assert (record.person_times, record.method, record.served_on) == (
        42,
        "community",
        activity.held_on,
    )
    activity.refresh_from_db()
    assert activity.summary == "到场踊跃"
    # and recording it again is refused (it would count them twice)
    with pytest.raises(ValidationError):
        activity_record(actor=place["worker"], activity=activity, headcount=40)
    assert ServiceRecord.objects.count() == 1


def test_a_future_activity_cannot_have_its_participants_recorded_yet(place):
    activity = activity_create(
        actor=place["worker"],
        facility=place["room"],
        title="中秋游园",
        held_on=TODAY + timedelta(days=10),
    )
    with pytest.raises(ValidationError) as caught:
        activity_record(actor=place["worker"], activity=activity, headcount=30)
    assert "served_on" in caught.value.message_dict
    assert not ServiceRecord.objects.exists()


def test_an_activity_needs_a_title_and_a_facility_in_scope(place):
    with pytest.raises(ValidationError):
        activity_create(actor=place["worker"], facility=place["room"], title="", held_on=TODAY)
    with pytest.raises(Http404):
        activity_create(
            actor=place["worker"], facility=place["next_room"], title="越界", held_on=TODAY
        )

"""Network forms: create, edit (conflict), status, posting, standards, organisations —
bad input keeps what the user typed, shows the reason, and writes nothing."""

from datetime import date

import pytest

from shegong.core.roles import Role
from shegong.network.models import Facility, SocialOrganisation, StaffingStandard
from shegong.workforce.models import Posting
from tests.conftest import make_user
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def station_client(client, network):
    client.force_login(make_user(Role.STATION_STAFF, "970101001", username="station-form"))
    return client


def test_station_user_creates_a_room_through_the_form(station_client, network):
    network["room_west"].delete
    response = station_client.post(
        "/network/facilities/new/",
        {
            "tier": "room",
            "division_code": "970101001002",
            "name": "西社区第二社工室",
            "status": "planned",
            "status_from": "2024-01-01",
            "operator_kind": "government",
            "check_premises": "on",
            "note_premises": "80 平方米",
        },
    )
    # the west community already has an active room: refused, input kept, nothing written
    html = response.content.decode()
    assert response.status_code == 422
    assert "该区划已有同一层级的在用阵地" in html and 'value="西社区第二社工室"' in html
    assert not Facility.objects.filter(name="西社区第二社工室").exists()


def test_form_refuses_a_division_outside_the_area(station_client):
    response = station_client.post(
        "/network/facilities/new/",
        {
            "tier": "room",
            "division_code": "970102101001",
            "name": "外镇社工室",
            "status": "planned",
            "status_from": "2024-01-01",
            "operator_kind": "government",
        },
    )
    assert "您辖区内没有该代码的区划" in response.content.decode()
    assert not Facility.objects.filter(name="外镇社工室").exists()


def test_stale_edit_answers_409_and_keeps_the_newer_data(station_client, network):
    room = network["room_east"]
    form = {
        "version": room.version,
        "name": room.name,
        "operator_kind": "government",
        "address": "东路 1 号",
    }
    assert station_client.post(f"/network/facilities/{room.pk}/edit/", form).status_code == 302
    stale = station_client.post(
        f"/network/facilities/{room.pk}/edit/", {**form, "address": "东路 2 号"}
    )
    assert stale.status_code == 409
    assert "其他人已修改该阵地" in stale.content.decode()
    room.refresh_from_db()
    assert room.address == "东路 1 号"


def test_status_change_through_the_form(station_client, network):
    room = network["room_east"]
    response = station_client.post(
        f"/network/facilities/{room.pk}/status/",
        {"status": "suspended", "effective_on": "2024-05-01", "note": "装修"},
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.status == "suspended"
    bad = station_client.post(
        f"/network/facilities/{room.pk}/status/",
        {"status": "planned", "effective_on": "2024-06-01"},
    )
    assert "阵地状态不能从" in bad.content.decode()


def test_posting_form_finds_the_person_by_id_only(station_client, network):
    room = network["room_east"]
    before = Posting.objects.count()
    unknown = station_client.post(
        f"/network/facilities/{room.pk}/postings/new/",
        {"national_id": national_id(950), "employment": "part_time", "started_on": "2024-01-01"},
    )
    assert "您辖区内没有该身份证号码的社会工作者" in unknown.content.decode()
    assert unknown["Cache-Control"] == "no-store"
    assert Posting.objects.count() == before


def test_city_admin_adds_a_standard_version(client, network):
    client.force_login(make_user(Role.CITY_ADMIN, "97", username="city-form"))
    response = client.post(
        "/network/standards/",
        {
            "form": "add",
            "tier": "room",
            "division_kind": "urban",
            "min_full_time": 3,
            "effective_from": "2025-01-01",
            "document": "新标准（2025）",
        },
    )
    assert response.status_code == 302
    assert StaffingStandard.objects.filter(document="新标准（2025）", min_full_time=3).exists()
    assert StaffingStandard.objects.filter(tier="room", division_kind="urban").count() == 2


def test_city_admin_ends_the_version_in_force_with_a_reason(client, network):
    from datetime import date

    from shegong.core.models import AuditEvent
    from shegong.workforce.selectors import standards_on

    client.force_login(make_user(Role.CITY_ADMIN, "97", username="city-end"))
    current = StaffingStandard.objects.filter(tier="room", division_kind="urban").latest(
        "effective_from"
    )
    # when the city ends the room/urban version from 2026-01-01
    response = client.post(
        "/network/standards/",
        {"form": "end", "standard": current.pk, "ended_on": "2026-01-01", "reason": "新规定"},
    )
    # then it applies up to the day before, and not from that day
    assert response.status_code == 302
    assert ("room", "urban") in standards_on(date(2025, 12, 31))
    assert ("room", "urban") not in standards_on(date(2026, 1, 1))
    event = AuditEvent.objects.get(action="staffing_standard.end")
    assert event.after == {"ended_on": "2026-01-01", "reason": "新规定"}
    # and ending it again, or without a reason, is refused with the form's message
    again = client.post(
        "/network/standards/",
        {"form": "end", "standard": current.pk, "ended_on": "2026-02-01", "reason": "再次"},
    )
    assert again.status_code == 422
    assert StaffingStandard.objects.get(pk=current.pk).ended_on == date(2026, 1, 1)


def test_other_roles_cannot_add_a_standard(station_client):
    response = station_client.post(
        "/network/standards/",
        {
            "tier": "room",
            "division_kind": "urban",
            "min_full_time": 9,
            "effective_from": "2025-01-01",
            "document": "x",
        },
    )
    assert response.status_code == 403
    assert not StaffingStandard.objects.filter(min_full_time=9).exists()


def test_organisation_form_checks_the_credit_code(station_client):
    bad = station_client.post(
        "/network/organisations/",
        {"name": "某机构", "uscc": "91350100M000100Y44", "division_code": "970101001"},
    )
    assert "统一社会信用代码校验位错误" in bad.content.decode()
    assert not SocialOrganisation.objects.exists()
    good = station_client.post(
        "/network/organisations/",
        {
            "name": "某机构",
            "uscc": "91350100M000100Y43",
            "division_code": "970101001",
            "incubation_stage": "incubating",
            "incubation_started_on": "2023-01-01",
        },
    )
    assert good.status_code == 302
    org = SocialOrganisation.objects.get()
    assert org.incubating_station.name == "一街道社工站"


def test_visit_form_records_fixes(station_client, network):
    response = station_client.post(
        f"/network/facilities/{network['station_1'].pk}/visits/new/",
        {
            "supervised": network["room_east"].pk,
            "visited_on": "2024-03-01",
            "visitors": "督导员",
            "findings": "台账不全",
            "fix_1": "补齐台账",
            "deadline_1": "2024-04-01",
        },
    )
    assert response.status_code == 302
    visit = network["station_1"].visits_made.get()
    assert [f.description for f in visit.fixes.all()] == ["补齐台账"]


def test_overdue_fixes_show_on_the_supervisors_home_page(station_client, network):
    from shegong.network.services import supervision_visit_create

    supervision_visit_create(
        actor=None,
        supervisor=network["station_1"],
        supervised=network["room_east"],
        visited_on=date(2024, 1, 1),
        visitors="督导员",
        findings="消防通道堵塞",
        fixes=[("清理消防通道", date(2024, 2, 1))],
    )
    html = station_client.get("/").content.decode()
    assert 'data-testid="overdue-fixes"' in html and "清理消防通道" in html

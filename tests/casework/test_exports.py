"""Excel exports of the casework lists that had none (issue #6, "everything exportable within
the rules"): groups, community activities and the referral inbox. Each is a real .xlsx of
the rows the list shows (same filters, same scope); groups and activities hold counts only;
the referral export names residents, so it needs the export right, is capped and logged,
and never carries a national ID or a phone."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shegong.casework import privacy
from shegong.casework.models import Activity, GroupMember, Referral, WorkGroup
from shegong.casework.services.activities import activity_record
from shegong.core.models import AuditEvent
from shegong.core.xlsx import XLSX_CONTENT_TYPE
from tests.casework import test_records as base
from tests.casework.test_cases_services import _facility
from tests.casework.world import make_resident

pytestmark = pytest.mark.django_db

# the shared world of tests/casework/test_records.py (station, room, next room, users,
# residents inside and outside) — without its English override: the files are in Chinese
place = base.place

TODAY = timezone.localdate()


def sheet_of(response):
    """The first sheet of the downloaded workbook, after checking it is a real .xlsx."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"].startswith("attachment;")
    return load_workbook(io.BytesIO(response.content)).active


def table(sheet) -> tuple[list, list[list]]:
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def cells(sheet) -> list[str]:
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def group(facility, leader, name, stage="formation", members=()):
    g = WorkGroup.objects.create(
        facility=facility,
        name=name,
        group_type="support",
        stage=stage,
        leader=leader,
        started_on=TODAY - timedelta(days=20),
        planned_sessions=8,
    )
    for resident in members:
        GroupMember.objects.create(group=g, resident=resident, joined_on=TODAY - timedelta(days=20))
    return g


def referral(place, resident, to="station", **extra) -> Referral:
    fields = {
        "resident": resident,
        "from_facility": place["room"],
        "to_facility": place["station"] if to == "station" else to,
        "reason": "需要专业心理支持",
        "consent_checked": True,
        "sent_on": TODAY - timedelta(days=3),
        "due_on": TODAY + timedelta(days=7),
        "sent_by": place["worker"],
        **extra,
    }
    return Referral.objects.create(**fields)


# --- groups -----------------------------------------------------------------------------------


def test_the_group_export_holds_the_groups_in_scope_with_their_counts(client, place):
    # given a group of the room with two members, and one at the next community's room
    # (outside the room worker's community, inside the station's town)
    group(
        place["room"], place["worker"], "长者互助小组", members=[place["resident"], place["second"]]
    )
    group(place["next_room"], place["worker"], "隔壁亲子小组")
    # when the room worker exports the group list
    client.force_login(place["worker"])
    sheet = sheet_of(client.get(reverse("casework:groups_export")))
    # then the file has their own group only, with counts and no resident, headed in Chinese
    headers, rows = table(sheet)
    assert headers[:5] == ["名称", "小组类型", "阶段", "服务对象群体", "组员"]
    assert [r[0] for r in rows] == ["长者互助小组"]
    assert rows[0][4] == 2  # members, a number
    assert rows[0][6] == 8  # planned sessions
    assert not any(n in cells(sheet) for n in ("张大爷", "刘奶奶"))
    # and the station staff sees both groups
    client.force_login(place["station_staff"])
    _, rows = table(sheet_of(client.get(reverse("casework:groups_export"))))
    assert {r[0] for r in rows} == {"隔壁亲子小组", "长者互助小组"}


def test_the_group_export_keeps_the_lists_stage_filter(client, place):
    # given a group in formation and one in preparation
    group(place["room"], place["worker"], "成长小组", stage="formation")
    group(place["room"], place["worker"], "筹备中小组", stage="preparation")
    client.force_login(place["worker"])
    # when the list is filtered by stage, its export link carries the filter
    page = client.get(reverse("casework:groups"), {"stage": "formation"}).content.decode()
    assert 'href="?stage=formation&amp;format=xlsx"' in page
    _, rows = table(
        sheet_of(client.get(reverse("casework:groups"), {"stage": "formation", "format": "xlsx"}))
    )
    assert [r[0] for r in rows] == ["成长小组"]
    # then the export of that filter has the group in formation only
    _, rows = table(sheet_of(client.get(reverse("casework:groups_export"), {"stage": "formation"})))
    assert [r[0] for r in rows] == ["成长小组"]
    # and an unknown stage is ignored (all groups), not an error
    _, rows = table(sheet_of(client.get(reverse("casework:groups_export"), {"stage": "x"})))
    assert len(rows) == 2


def test_a_group_name_starting_with_equals_is_written_as_text(client, place):
    # given a group whose name looks like a formula
    group(place["room"], place["worker"], '=HYPERLINK("http://x","点我")')
    # when it is exported
    client.force_login(place["worker"])
    sheet = sheet_of(client.get(reverse("casework:groups_export")))
    # then the cell holds the text, not a formula
    cell = sheet.cell(row=2, column=1)
    assert cell.value == '=HYPERLINK("http://x","点我")'
    assert cell.data_type == "s"


def test_the_group_export_needs_the_lists_permission(client, place):
    # the analyst sees aggregates only: no group list, no export
    client.force_login(place["analyst"])
    assert client.get(reverse("casework:groups_export")).status_code == 403
    # anonymous: sent to sign in
    client.logout()
    assert client.get(reverse("casework:groups_export")).status_code == 302


# --- activities -------------------------------------------------------------------------------


def test_the_activity_export_holds_the_activities_in_scope_with_person_times(client, place):
    # given an activity of the room with 12 people counted, one not yet recorded, and one at
    # the next community's room
    held = Activity.objects.create(
        facility=place["room"], title="重阳节活动", held_on=TODAY - timedelta(days=2), place="广场"
    )
    activity_record(actor=place["worker"], activity=held, residents=[], headcount=12)
    Activity.objects.create(facility=place["room"], title="=1+1", held_on=TODAY)
    Activity.objects.create(facility=place["next_room"], title="隔壁活动", held_on=TODAY)
    # when the room worker exports the list
    client.force_login(place["worker"])
    page = client.get(reverse("casework:activities")).content.decode()
    assert 'href="?format=xlsx"' in page
    sheet = sheet_of(client.get(reverse("casework:activities_export")))
    # then it has their two activities, newest first, with person-times; headers in Chinese
    headers, rows = table(sheet)
    assert headers[:3] == ["日期", "名称", "地点"]
    assert "人次" in headers
    assert [r[1] for r in rows] == ["=1+1", "重阳节活动"]
    times = headers.index("人次")
    assert rows[1][times] == 12
    assert rows[0][times] is None  # not recorded yet: empty, not 0
    # and the title that looks like a formula is text
    assert sheet.cell(row=2, column=2).data_type == "s"
    # the station sees the next room's activity too
    client.force_login(place["station_staff"])
    _, rows = table(sheet_of(client.get(reverse("casework:activities_export"))))
    assert "隔壁活动" in [r[1] for r in rows]


# --- referrals --------------------------------------------------------------------------------


def test_a_room_worker_may_not_export_referrals(client, place):
    # given a referral the room worker sent
    referral(place, place["resident"])
    client.force_login(place["worker"])
    # when they open the inbox, there is no export link; the export itself is refused
    page = client.get(reverse("casework:referrals"), {"box": "sent"}).content.decode()
    assert 'data-testid="referral-table"' in page
    assert 'data-testid="export"' not in page
    assert client.get(reverse("casework:referrals_export"), {"box": "sent"}).status_code == 403
    query = {"box": "sent", "format": "xlsx"}
    assert client.get(reverse("casework:referrals"), query).status_code == 403
    # then nothing was logged as exported
    assert not AuditEvent.objects.filter(action="referral.export").exists()


def test_station_staff_export_the_inbox_in_scope_logged_and_without_ids(client, place):
    # given referrals received by the station (one overdue), one sent elsewhere, and one
    # between two facilities of 成都 (outside every Chongqing scope)
    referral(place, place["resident"])
    referral(
        place,
        place["second"],
        sent_on=TODAY - timedelta(days=20),
        due_on=TODAY - timedelta(days=5),
    )
    referral(place, place["neighbour"], to=None, to_agency="区残联", from_facility=place["station"])
    chengdu = _facility("room", "510104017001", "成都社工室")
    chengdu_station = _facility("station", "510104017", "成都社工站")
    referral(place, place["outsider"], from_facility=chengdu, to=chengdu_station)
    client.force_login(place["station_staff"])
    # when they filter the received box and follow the export link of the list page
    page = client.get(reverse("casework:referrals"), {"box": "received"}).content.decode()
    assert 'href="?box=received&amp;format=xlsx"' in page
    response = client.get(reverse("casework:referrals_export"), {"box": "received"})
    # then the file has the two referrals received, newest first, named, headed in Chinese
    sheet = sheet_of(response)
    headers, rows = table(sheet)
    assert headers[:2] == ["发出日期", "居民"]
    assert [r[1] for r in rows] == ["张大爷", "刘奶奶"]
    assert "赵先生" not in cells(sheet) and "王阿姨" not in cells(sheet)
    # without national ID, phone or the narrative reason
    text = " ".join(cells(sheet))
    assert place["resident"].national_id not in text
    assert "13800001234" not in text and "1234" not in text
    assert "心理支持" not in text
    # one access-log row, with the counts and filters and no name
    event = AuditEvent.objects.get(action="referral.export")
    assert event.after["rows"] == 2
    assert event.after["filters"]["box"] == "received"
    assert "张大爷" not in str(event.after)
    # and the sent box holds what its area sent: the room's two and its own to an agency
    response = client.get(reverse("casework:referrals_export"), {"box": "sent"})
    _, rows = table(sheet_of(response))
    assert sorted(r[3] for r in rows) == sorted(["区残联", "华新街社工站", "华新街社工站"])
    assert "赵先生" not in [r[1] for r in rows]


def test_the_referral_export_keeps_the_status_and_overdue_filters(client, place):
    # given a pending referral, an overdue one and an accepted one, all received
    referral(place, place["resident"])
    referral(
        place, place["second"], sent_on=TODAY - timedelta(days=20), due_on=TODAY - timedelta(days=5)
    )
    referral(place, place["neighbour"], status="accepted", answered_on=TODAY)
    client.force_login(place["station_staff"])
    url = reverse("casework:referrals_export")
    # when the overdue ones are exported: only the overdue one
    _, rows = table(sheet_of(client.get(url, {"box": "received", "overdue": "1"})))
    assert [r[1] for r in rows] == ["刘奶奶"]
    # when the accepted ones are exported: only the accepted one
    _, rows = table(sheet_of(client.get(url, {"box": "received", "status": "accepted"})))
    assert [r[1] for r in rows] == ["王阿姨"]
    # the list's link carries the same filters
    page = client.get(
        reverse("casework:referrals"), {"box": "received", "status": "accepted"}
    ).content.decode()
    assert 'href="?box=received&amp;status=accepted&amp;format=xlsx"' in page


def test_over_the_cap_nothing_is_exported(client, place, monkeypatch):
    # given two referrals received and a cap of one row
    referral(place, place["resident"])
    referral(place, place["second"])
    monkeypatch.setattr(privacy, "EXPORT_CAP", 1)
    client.force_login(place["station_staff"])
    # when the station staff exports them
    response = client.get(
        reverse("casework:referrals_export"), {"box": "received"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    # then they are sent back to the list with a message, and no file, no log
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('casework:referrals')}?box=received"
    assert not AuditEvent.objects.filter(action="referral.export").exists()
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The export is limited to 1 referrals; narrow the list first." in page


def test_a_protected_childs_name_is_not_exported_to_others(client, place):
    # given a referral of a 10-year-old (a protected record) received by the station
    child = make_resident("李小明", "500105001001", 906, born=date(TODAY.year - 10, 3, 1))
    referral(place, child)
    # when the station staff (not on any case of the child, no grant) exports the inbox
    client.force_login(place["station_staff"])
    sheet = sheet_of(client.get(reverse("casework:referrals_export"), {"box": "received"}))
    # then the row is there, but without the child's name
    _, rows = table(sheet)
    assert len(rows) == 1
    assert rows[0][1] != "李小明"
    assert "李小明" not in cells(sheet)

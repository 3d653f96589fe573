"""Scope-matrix entries for the casework groups pages and endpoints (merged into
tests/test_scope_matrix.py): groups (members, sessions, stages) and community activities.
``build`` adds a group in its formation stage with ``resident_in`` as a member, and an
activity held yesterday, at the inside room (桥北社区), and the same at the outside room
(成都)."""

from __future__ import annotations

from datetime import timedelta

from tests.matrix_endpoint import Endpoint


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _html_lacks(text: str):
    return lambda ctx, response: text not in response.content.decode()


def _xlsx_lacks(text: str):
    """The exported workbook (a real .xlsx) holds no cell containing ``text``."""

    def check(ctx, response) -> bool:
        import io

        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.content)).active
        return not any(text in str(c.value) for row in sheet.iter_rows() for c in row)

    return check


def _side(key: str, arg: str):
    return {
        "inside": lambda c: {arg: c.net[f"{key}_in"]},
        "outside": lambda c: {arg: c.net[f"{key}_out"]},
    }


def _facility_body(extra: dict):
    return lambda c, inside: {
        "facility_id": c.net["room_in" if inside else "room_out"],
        **extra,
    }


ENDPOINTS: dict = {
    # pages
    "casework:groups": Endpoint(perm="casework.view_workgroup", no_leak=_html_lacks("小组out")),
    "casework:groups_export": Endpoint(
        perm="casework.view_workgroup", no_leak=_xlsx_lacks("小组out")
    ),
    "casework:group": Endpoint(perm="casework.view_workgroup", **_side("group", "pk")),
    "casework:group_new": Endpoint(perm="casework.add_workgroup"),
    "casework:group_session_new": Endpoint(
        perm="casework.add_servicerecord", **_side("group", "pk")
    ),
    "casework:group_member_add": Endpoint(
        method="post",
        perm="casework.change_workgroup",
        ok=302,
        body=lambda c, inside: {"resident": c.net["child_in"]},
        **_side("group", "pk"),
    ),
    "casework:group_member_remove": Endpoint(
        method="post",
        perm="casework.change_workgroup",
        ok=302,
        body=lambda c, inside: {"resident": c.net["resident_in"]},
        **_side("group", "pk"),
    ),
    "casework:group_advance": Endpoint(
        method="post", perm="casework.change_workgroup", ok=302, **_side("group", "pk")
    ),
    "casework:activities": Endpoint(perm="casework.view_activity", no_leak=_html_lacks("活动out")),
    "casework:activities_export": Endpoint(
        perm="casework.view_activity", no_leak=_xlsx_lacks("活动out")
    ),
    "casework:activity": Endpoint(perm="casework.view_activity", **_side("activity", "pk")),
    "casework:activity_new": Endpoint(perm="casework.add_activity"),
    "casework:activity_record": Endpoint(
        perm="casework.change_activity", **_side("activity", "pk")
    ),
    # API
    "api:list_groups": Endpoint(
        api=True,
        perm="casework.view_workgroup",
        no_leak=lambda c, r: all(g["id"] != c.net["group_out"] for g in r.json()["results"]),
    ),
    "api:get_group": Endpoint(
        api=True, perm="casework.view_workgroup", **_side("group", "group_id")
    ),
    "api:create_group": Endpoint(
        api=True,
        method="post",
        perm="casework.add_workgroup",
        ok=201,
        body=lambda c, inside: {
            "facility_id": c.net["room_in" if inside else "room_out"],
            "name": "矩阵小组",
            "group_type": "support",
            "started_on": _today().isoformat(),
        },
        outside=lambda c: {},
    ),
    "api:add_group_member": Endpoint(
        api=True,
        method="post",
        perm="casework.change_workgroup",
        ok=201,
        body=lambda c, inside: {"resident_id": c.net["child_in" if inside else "resident_out"]},
        **_side("group", "group_id"),
    ),
    "api:remove_group_member": Endpoint(
        api=True,
        method="post",
        perm="casework.change_workgroup",
        inside=lambda c: {"group_id": c.net["group_in"], "resident_id": c.net["resident_in"]},
        outside=lambda c: {"group_id": c.net["group_out"], "resident_id": c.net["resident_out"]},
    ),
    "api:advance_group": Endpoint(
        api=True,
        method="post",
        perm="casework.change_workgroup",
        body={},
        **_side("group", "group_id"),
    ),
    "api:record_group_session": Endpoint(
        api=True,
        method="post",
        perm="casework.add_servicerecord",
        ok=201,
        body=lambda c, inside: {
            "served_on": _today().isoformat(),
            "attendee_ids": [c.net["resident_in" if inside else "resident_out"]],
            "summary": "矩阵小组活动",
        },
        **_side("group", "group_id"),
    ),
    "api:list_activities": Endpoint(
        api=True,
        perm="casework.view_activity",
        no_leak=lambda c, r: all(a["id"] != c.net["activity_out"] for a in r.json()["results"]),
    ),
    "api:get_activity": Endpoint(
        api=True, perm="casework.view_activity", **_side("activity", "activity_id")
    ),
    "api:create_activity": Endpoint(
        api=True,
        method="post",
        perm="casework.add_activity",
        ok=201,
        body=lambda c, inside: {
            "facility_id": c.net["room_in" if inside else "room_out"],
            "title": "矩阵活动",
            "held_on": _today().isoformat(),
        },
        outside=lambda c: {},
    ),
    "api:record_activity": Endpoint(
        api=True,
        method="post",
        perm="casework.change_activity",
        ok=201,
        body={"headcount": 12, "summary": "矩阵"},
        **_side("activity", "activity_id"),
    ),
}


def build(net: dict, users: dict) -> dict:
    """A group (formation, ``resident_<side>`` a member) and an activity held yesterday at
    each side's room, written directly with the models."""
    from shegong.casework.models import Activity, GroupMember, WorkGroup
    from shegong.network.models import Facility

    leader = users["room_worker"][0]
    today = _today()
    out = {}
    for side in ("in", "out"):
        room = Facility.objects.get(pk=net[f"room_{side}"])
        group = WorkGroup.objects.create(
            facility=room,
            name=f"小组{side}",
            group_type="support",
            stage="formation",
            leader=leader,
            started_on=today - timedelta(days=30),
        )
        GroupMember.objects.create(
            group=group, resident_id=net[f"resident_{side}"], joined_on=today - timedelta(days=30)
        )
        activity = Activity.objects.create(
            facility=room, title=f"活动{side}", held_on=today - timedelta(days=1)
        )
        out[f"group_{side}"] = group.pk
        out[f"activity_{side}"] = activity.pk
    return out

"""Scope-matrix entries for the casework cases pages and endpoints (merged into
tests/test_scope_matrix.py). build adds this part's matrix objects to net.

Inside: ``case_in`` (intake, acceptance proposed) and ``case_plan_in`` (at the plan stage,
with a goal) of ``resident_in`` at ``room_in``, assigned to the room worker and supervised by
the station staff of the matrix. Outside: the same two in 成都 (``room_out``), with their own
team. Case writes are the case team's (``roles``): the assigned worker proposes, only the
supervisor approves, the team moves the case; the supervisor or a county approver
reassigns it."""

from __future__ import annotations

from datetime import timedelta

from tests.matrix_endpoint import Endpoint

ROOM = "room_worker"
STATION = "station_staff"
COUNTY = "county_staff"
TEAM = {ROOM, STATION}


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _k(key: str, arg: str = "pk"):
    return {
        "inside": lambda c: {arg: c.net[f"{key}_in"]},
        "outside": lambda c: {arg: c.net[f"{key}_out"]},
    }


def _goal(arg: str = "pk"):
    return {
        "inside": lambda c: {arg: c.net["case_plan_in"], "goal_id": c.net["goal_in"]},
        "outside": lambda c: {arg: c.net["case_plan_out"], "goal_id": c.net["goal_out"]},
    }


def _v(key: str):
    """The version of matrix case ``key`` on the side being called."""
    return lambda c, inside: c.net[f"{key}_{'in' if inside else 'out'}_version"]


def _lacks(key: str):
    return lambda c, r: c.net[key] not in r.content.decode()


def _ids_lack(key: str):
    return lambda c, r: all(x["id"] != c.net[key] for x in r.json()["results"])


ENDPOINTS: dict = {
    # pages
    "casework:cases": Endpoint(perm="casework.view_case", no_leak=_lacks("case_out_number")),
    "casework:cases_export": Endpoint(perm="casework.export_personal"),
    "casework:case_new": Endpoint(
        perm="casework.add_case",
        query=lambda c, inside: {"resident": c.net["resident_in" if inside else "resident_out"]},
        outside=lambda c: {},
    ),
    "casework:case": Endpoint(perm="casework.view_case", **_k("case")),
    "casework:case_decide": Endpoint(
        method="post",
        roles={ROOM},
        ok=302,
        body=lambda c, inside: {
            "decision": "accept",
            "reason": "",
            "version": _v("case")(c, inside),
        },
        **_k("case"),
    ),
    "casework:case_approve": Endpoint(
        method="post",
        roles={STATION},
        ok=302,
        body=lambda c, inside: {"note": "", "version": _v("case")(c, inside)},
        **_k("case"),
    ),
    "casework:case_advance": Endpoint(
        method="post",
        roles=TEAM,
        ok=302,
        body=lambda c, inside: {
            "to_stage": "intervention",
            "action": "advance",
            "version": _v("case_plan")(c, inside),
        },
        **_k("case_plan"),
    ),
    "casework:case_goal_add": Endpoint(
        method="post",
        roles=TEAM,
        ok=302,
        body={"text": "矩阵目标", "priority": 2},
        **_k("case_plan"),
    ),
    "casework:case_goal_mark": Endpoint(
        method="post", roles=TEAM, ok=302, body={"achieved": "yes"}, **_goal()
    ),
    "casework:case_note_add": Endpoint(
        method="post",
        roles=TEAM,
        ok=302,
        body=lambda c, inside: {
            "kind": "general",
            "written_on": _today().isoformat(),
            "text": "矩阵记录",
        },
        **_k("case_plan"),
    ),
    "casework:case_review": Endpoint(
        method="post",
        roles=TEAM,
        ok=302,
        body=lambda c, inside: {
            "next_review_on": (_today() + timedelta(days=7)).isoformat(),
            "version": _v("case_plan")(c, inside),
        },
        **_k("case_plan"),
    ),
    "casework:case_reassign": Endpoint(
        method="post",
        roles={STATION, COUNTY},
        ok=302,
        body=lambda c, inside: {
            "assigned_to": c.net[f"case_worker_{'in' if inside else 'out'}"],
            "supervisor": c.net[f"case_supervisor_{'in' if inside else 'out'}"],
            "version": _v("case_plan")(c, inside),
        },
        **_k("case_plan"),
    ),
    "casework:case_break_glass": Endpoint(
        method="post",
        perm="casework.view_case",
        ok=302,  # not protected: straight back to the case
        body={"reason": "矩阵核查需要查看", "minutes": 30},
        **_k("case"),
    ),
    # API
    "api:list_cases": Endpoint(api=True, perm="casework.view_case", no_leak=_ids_lack("case_out")),
    "api:create_case": Endpoint(
        api=True,
        method="post",
        perm="casework.add_case",
        ok=201,
        body=lambda c, inside: {
            "resident_id": c.net["resident_in" if inside else "resident_out"],
            "facility_id": c.net["room_in" if inside else "room_out"],
            "referral_source": "outreach",
            "presenting_problem": "矩阵：独居，需要照料",
            "assigned_to_id": c.net[f"case_worker_{'in' if inside else 'out'}"],
            "supervisor_id": c.net[f"case_supervisor_{'in' if inside else 'out'}"],
        },
        outside=lambda c: {},
    ),
    "api:get_case": Endpoint(api=True, perm="casework.view_case", **_k("case", "case_id")),
    "api:decide_case": Endpoint(
        api=True,
        method="post",
        roles={ROOM},
        body=lambda c, inside: {"accept": True, "version": _v("case")(c, inside)},
        **_k("case", "case_id"),
    ),
    "api:approve_case": Endpoint(
        api=True,
        method="post",
        roles={STATION},
        body=lambda c, inside: {"version": _v("case")(c, inside)},
        **_k("case", "case_id"),
    ),
    "api:advance_case": Endpoint(
        api=True,
        method="post",
        roles=TEAM,
        body=lambda c, inside: {"to_stage": "intervention", "version": _v("case_plan")(c, inside)},
        **_k("case_plan", "case_id"),
    ),
    "api:add_case_goal": Endpoint(
        api=True,
        method="post",
        roles=TEAM,
        ok=201,
        body={"text": "矩阵目标", "priority": 2},
        **_k("case_plan", "case_id"),
    ),
    "api:mark_case_goal": Endpoint(
        api=True, method="post", roles=TEAM, body={"achieved": True}, **_goal("case_id")
    ),
    "api:add_case_note": Endpoint(
        api=True,
        method="post",
        roles=TEAM,
        ok=201,
        body={"kind": "general", "text": "矩阵记录"},
        **_k("case_plan", "case_id"),
    ),
    "api:set_case_review": Endpoint(
        api=True,
        method="post",
        roles=TEAM,
        body=lambda c, inside: {"next_review_on": (_today() + timedelta(days=7)).isoformat()},
        **_k("case_plan", "case_id"),
    ),
    "api:reassign_case": Endpoint(
        api=True,
        method="post",
        roles={STATION, COUNTY},
        body=lambda c, inside: {
            "assigned_to_id": c.net[f"case_worker_{'in' if inside else 'out'}"],
        },
        **_k("case_plan", "case_id"),
    ),
    "api:break_glass_case": Endpoint(
        api=True,
        method="post",
        perm="casework.view_case",
        body={"reason": "矩阵核查需要查看"},
        **_k("case", "case_id"),
    ),
}


def build(net: dict, users: dict) -> dict:
    """Objects inside and outside scope for this part's endpoints (ids by key)."""
    from shegong.casework.models import Resident
    from shegong.casework.services.cases import (
        case_advance,
        case_approve,
        case_decide,
        case_goal_add,
        case_open,
    )
    from shegong.core.roles import Role
    from shegong.network.models import Facility
    from tests.conftest import make_user

    teams = {
        "in": (users[Role.ROOM_WORKER][0], users[Role.STATION_STAFF][0]),
        "out": (
            make_user(Role.ROOM_WORKER, "510104017001", username="h2-case-room-out"),
            make_user(Role.STATION_STAFF, "510104017", username="h2-case-station-out"),
        ),
    }
    out: dict = {}
    for side, (worker, supervisor) in teams.items():
        resident = Resident.objects.get(pk=net[f"resident_{side}"])
        room = Facility.objects.get(pk=net[f"room_{side}"])

        def open_case(problem, worker=worker, supervisor=supervisor, resident=resident, room=room):
            return case_open(
                actor=worker,
                resident=resident,
                facility=room,
                referral_source="self",
                presenting_problem=problem,
                assigned_to=worker,
                supervisor=supervisor,
            )

        case = case_decide(actor=worker, case=open_case("矩阵接案"), accept=True)
        plan = case_decide(actor=worker, case=open_case("矩阵计划"), accept=True)
        plan = case_approve(actor=supervisor, case=plan)
        plan = case_advance(actor=worker, case=plan, to_stage="plan", assessment="矩阵预估")
        goal = case_goal_add(actor=worker, case=plan, text="矩阵目标一")
        plan.refresh_from_db()
        out.update(
            {
                f"case_{side}": case.pk,
                f"case_{side}_version": case.version,
                f"case_{side}_number": case.number,
                f"case_plan_{side}": plan.pk,
                f"case_plan_{side}_version": plan.version,
                f"goal_{side}": goal.pk,
                f"case_worker_{side}": worker.pk,
                f"case_supervisor_{side}": supervisor.pk,
            }
        )
    return out

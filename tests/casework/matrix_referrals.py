"""Scope-matrix entries for the casework referrals pages and endpoints (merged into
tests/test_scope_matrix.py). build adds this part's matrix objects to net.

Inside: ``referral_in`` (pending) and ``referral_acc_in`` (accepted) of ``resident_in``,
sent by the room worker from ``room_in`` to ``station_in``; only the receiving side (the
station, and the county above it) answers. Outside: the same in 成都."""

from __future__ import annotations

from datetime import timedelta

from tests.matrix_endpoint import Endpoint

RECEIVERS = {"station_staff", "county_staff"}


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _k(key: str, arg: str = "pk"):
    return {
        "inside": lambda c: {arg: c.net[f"{key}_in"]},
        "outside": lambda c: {arg: c.net[f"{key}_out"]},
    }


def _xlsx_lacks_outside(c, response) -> bool:
    """The exported workbook (a real .xlsx) names nobody from outside (赵先生 of 成都)."""
    import io

    from openpyxl import load_workbook

    from shegong.casework.models import Resident

    name = Resident.objects.get(pk=c.net["resident_out"]).name
    sheet = load_workbook(io.BytesIO(response.content)).active
    return not any(name in str(cell.value) for row in sheet.iter_rows() for cell in row)


def _side(inside: bool) -> str:
    return "in" if inside else "out"


ENDPOINTS: dict = {
    "casework:referrals": Endpoint(
        perm="casework.view_referral",
        query=lambda c, inside: {"box": "sent"},
        no_leak=lambda c, r: (
            c.net["referral_out_reason"] not in r.content.decode()
            and f'data-referral="{c.net["referral_out"]}"' not in r.content.decode()
        ),
    ),
    "casework:referrals_export": Endpoint(
        perm="casework.export_personal",
        query=lambda c, inside: {"box": "sent"},
        no_leak=_xlsx_lacks_outside,
    ),
    "casework:referral_new": Endpoint(
        perm="casework.add_referral",
        query=lambda c, inside: {"resident": c.net[f"resident_{_side(inside)}"]},
        outside=lambda c: {},
    ),
    "casework:referral": Endpoint(perm="casework.view_referral", **_k("referral")),
    "casework:referral_answer": Endpoint(
        method="post",
        roles=RECEIVERS,
        ok=302,
        body={"decision": "accept", "note": "可以接收"},
        **_k("referral"),
    ),
    "casework:referral_complete": Endpoint(
        method="post",
        perm="casework.change_referral",
        ok=302,
        body={"outcome": "已完成服务"},
        **_k("referral_acc"),
    ),
    "api:list_referrals": Endpoint(
        api=True,
        perm="casework.view_referral",
        query=lambda c, inside: {"box": "sent"},
        no_leak=lambda c, r: all(x["id"] != c.net["referral_out"] for x in r.json()["results"]),
    ),
    "api:create_referral": Endpoint(
        api=True,
        method="post",
        perm="casework.add_referral",
        ok=201,
        body=lambda c, inside: {
            "resident_id": c.net[f"resident_{_side(inside)}"],
            "from_facility_id": c.net[f"room_{_side(inside)}"],
            "to_facility_id": c.net[f"station_{_side(inside)}"],
            "reason": "需要心理支持",
            "consent_checked": True,
            "due_on": (_today() + timedelta(days=10)).isoformat(),
        },
        outside=lambda c: {},
    ),
    "api:get_referral": Endpoint(
        api=True, perm="casework.view_referral", **_k("referral", "referral_id")
    ),
    "api:answer_referral": Endpoint(
        api=True,
        method="post",
        roles=RECEIVERS,
        body={"accept": False, "note": "名额已满"},
        **_k("referral", "referral_id"),
    ),
    "api:complete_referral": Endpoint(
        api=True,
        method="post",
        perm="casework.change_referral",
        body={"outcome": "已完成服务"},
        **_k("referral_acc", "referral_id"),
    ),
}


def build(net: dict, users: dict) -> dict:
    """Objects inside and outside scope for this part's endpoints (ids by key)."""
    from datetime import date

    from shegong.casework.models import Consent, Resident
    from shegong.casework.services.referrals import referral_answer, referral_send
    from shegong.core.roles import Role
    from shegong.network.models import Facility
    from tests.conftest import make_user

    sides = {
        "in": (users[Role.ROOM_WORKER][0], users[Role.STATION_STAFF][0]),
        "out": (
            make_user(Role.ROOM_WORKER, "510104017001", username="h2-ref-room-out"),
            make_user(Role.STATION_STAFF, "510104017", username="h2-ref-station-out"),
        ),
    }
    out: dict = {}
    due = _today() + timedelta(days=7)
    for side, (sender, receiver) in sides.items():
        resident = Resident.objects.get(pk=net[f"resident_{side}"])
        Consent.objects.create(
            resident=resident,
            purpose="referral",
            given_on=date(2020, 1, 1),
            given_by_name="本人",
        )

        def send(reason, sender=sender, resident=resident, side=side):
            return referral_send(
                actor=sender,
                resident=resident,
                from_facility=Facility.objects.get(pk=net[f"room_{side}"]),
                to_facility=Facility.objects.get(pk=net[f"station_{side}"]),
                reason=reason,
                consent_checked=True,
                due_on=due,
            )

        pending = send(f"矩阵转介{side}")
        accepted = referral_answer(actor=receiver, referral=send("矩阵已接收"), accept=True)
        out.update(
            {
                f"referral_{side}": pending.pk,
                f"referral_{side}_reason": pending.reason,
                f"referral_acc_{side}": accepted.pk,
            }
        )
    return out

"""Scope-matrix entries for the casework residents pages and endpoints (merged into
tests/test_scope_matrix.py). build adds this part's matrix objects to net.

Inside objects hang off ``resident_in`` (桥北社区, in every Chongqing role's scope) and
``child_in`` (10 years old: protected, used for break the glass); outside ones off
``resident_out`` (成都, outside everyone)."""

from __future__ import annotations

from datetime import date

from tests.casework.world import resident_id
from tests.matrix_endpoint import Endpoint


def _r(key: str = "resident", arg: str = "pk"):
    return {
        "inside": lambda c: {arg: c.net[f"{key}_in"]},
        "outside": lambda c: {arg: c.net[f"{key}_out"]},
    }


def _child(arg: str = "pk"):
    return {
        "inside": lambda c: {arg: c.net["child_in"]},
        "outside": lambda c: {arg: c.net["resident_out"]},
    }


def _page_lacks_outsider(ctx, response) -> bool:
    return "赵先生" not in response.content.decode()


def _api_lacks_outsider(ctx, response) -> bool:
    ids = {row["id"] for row in response.json()["results"]}
    return ctx.net["resident_out"] not in ids


ENDPOINTS: dict = {
    # --- pages ---------------------------------------------------------------------------
    "casework:residents": Endpoint(perm="casework.view_resident", no_leak=_page_lacks_outsider),
    "casework:residents_export": Endpoint(perm="casework.export_personal"),
    "casework:resident_new": Endpoint(perm="casework.add_resident"),
    "casework:resident_pick": Endpoint(
        method="post",
        perm="casework.view_resident",
        body=lambda c, inside: {"q": "zdy" if inside else "zxs"},
        no_leak=lambda c, r: r.json()["results"] == [],
    ),
    "casework:resident": Endpoint(perm="casework.view_resident", **_r()),
    "casework:resident_edit": Endpoint(perm="casework.change_resident", **_r()),
    "casework:resident_transfer": Endpoint(perm="casework.change_resident", **_r()),
    "casework:resident_status_new": Endpoint(perm="casework.add_specialstatus", **_r()),
    "casework:status_end": Endpoint(perm="casework.change_specialstatus", **_r("status")),
    "casework:resident_consent_new": Endpoint(perm="casework.add_consent", **_r()),
    "casework:consent_withdraw": Endpoint(perm="casework.change_consent", **_r("consent")),
    "casework:household_member_add": Endpoint(perm="casework.add_household", **_r()),
    "casework:resident_guardian": Endpoint(perm="casework.change_resident", **_r()),
    "casework:resident_break_glass": Endpoint(perm="casework.view_resident", **_child()),
    # --- API -----------------------------------------------------------------------------
    "api:list_residents": Endpoint(
        api=True, perm="casework.view_resident", no_leak=_api_lacks_outsider
    ),
    "api:search_residents": Endpoint(
        api=True,
        method="post",
        perm="casework.view_resident",
        body=lambda c, inside: {"name": "张大爷" if inside else "赵先生"},
        no_leak=lambda c, r: r.json() == [],
    ),
    "api:get_resident": Endpoint(api=True, perm="casework.view_resident", **_r(arg="resident_id")),
    "api:create_resident": Endpoint(
        api=True,
        method="post",
        perm="casework.add_resident",
        ok=201,
        body=lambda c, inside: {
            "name": "矩阵居民",
            "national_id": resident_id(950),
            "community_code": "500105001001" if inside else "510104017001",
            "phone": "13900001111",
        },
        outside=lambda c: {},
    ),
    "api:transfer_resident": Endpoint(
        api=True,
        method="post",
        perm="casework.change_resident",
        body={"to_community_code": "500105001002", "reason": "搬家"},
        **_r(arg="resident_id"),
    ),
    "api:list_resident_statuses": Endpoint(
        api=True, perm="casework.view_specialstatus", **_r(arg="resident_id")
    ),
    "api:add_resident_status": Endpoint(
        api=True,
        method="post",
        perm="casework.add_specialstatus",
        ok=201,
        body={"group": "dibao", "started_on": "2020-01-01", "evidence": "低保证"},
        **_r(arg="resident_id"),
    ),
    "api:end_status": Endpoint(
        api=True,
        method="post",
        perm="casework.change_specialstatus",
        body={"ended_on": "2021-01-01"},
        **_r("status", "status_id"),
    ),
    "api:list_resident_consents": Endpoint(
        api=True, perm="casework.view_consent", **_r(arg="resident_id")
    ),
    "api:add_resident_consent": Endpoint(
        api=True,
        method="post",
        perm="casework.add_consent",
        ok=201,
        body={"purpose": "service", "given_on": "2020-01-01"},
        **_r(arg="resident_id"),
    ),
    "api:break_glass_resident": Endpoint(
        api=True,
        method="post",
        perm="casework.view_resident",
        ok=201,
        body={"reason": "核实监护情况需要查看", "minutes": 30},
        **_child("resident_id"),
    ),
}


def build(net: dict, users: dict) -> dict:
    """A special-group status and a consent on ``resident_in`` and on ``resident_out``."""
    from shegong.casework.models import Consent, Resident, SpecialStatus

    out = {}
    for side in ("in", "out"):
        resident = Resident.objects.get(pk=net[f"resident_{side}"])
        out[f"status_{side}"] = SpecialStatus.objects.create(
            resident=resident, group="low_income_other", started_on=date(2019, 1, 1)
        ).pk
        out[f"consent_{side}"] = Consent.objects.create(
            resident=resident, purpose="service", given_on=date(2019, 1, 1), given_by_name="本人"
        ).pk
    return out

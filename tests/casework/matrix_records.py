"""Scope-matrix entries for the casework records pages and endpoints (merged into
tests/test_scope_matrix.py): the worker's home, service-record entry, list and export,
statistics, and the service-record, person-times and worklist API. ``build`` adds a
service record inside (桥北社区, serving ``resident_in``) and outside (成都, serving
``resident_out``)."""

from __future__ import annotations

from datetime import date

from tests.matrix_endpoint import Endpoint


def _today() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()


def _html_lacks(text: str):
    return lambda ctx, response: text not in response.content.decode()


def _side(key: str, arg: str):
    return {
        "inside": lambda c: {arg: c.net[f"{key}_in"]},
        "outside": lambda c: {arg: c.net[f"{key}_out"]},
    }


ENDPOINTS: dict = {
    "casework:home": Endpoint(perm="casework.view_servicerecord", no_leak=_html_lacks("赵先生")),
    "casework:records": Endpoint(perm="casework.view_servicerecord", no_leak=_html_lacks("赵先生")),
    "casework:record_new": Endpoint(
        perm="casework.add_servicerecord",
        query=lambda c, inside: {"resident": c.net["resident_in" if inside else "resident_out"]},
        outside=lambda c: {},
    ),
    "casework:record": Endpoint(perm="casework.view_servicerecord", **_side("record", "pk")),
    "casework:stats": Endpoint(
        perm="casework.view_servicestats",
        query=lambda c, inside: {"area": c.inside_code if inside else c.outside_code},
        outside=lambda c: {},
    ),
    "api:create_service_record": Endpoint(
        api=True,
        method="post",
        perm="casework.add_servicerecord",
        ok=201,
        body=lambda c, inside: {
            "facility_id": c.net["room_in" if inside else "room_out"],
            "served_on": _today(),
            "domain": "social_support",
            "method": "visit",
            "resident_ids": [c.net["resident_in" if inside else "resident_out"]],
            "notes": "矩阵探访",
        },
        outside=lambda c: {},
    ),
    "api:list_service_records": Endpoint(
        api=True,
        perm="casework.view_servicerecord",
        no_leak=lambda c, r: all(x["id"] != c.net["record_out"] for x in r.json()["results"]),
    ),
    "api:get_service_record": Endpoint(
        api=True, perm="casework.view_servicerecord", **_side("record", "record_id")
    ),
    "api:get_person_times": Endpoint(
        api=True,
        perm="casework.view_servicestats",
        query=lambda c, inside: {
            "area": c.inside_code if inside else c.outside_code,
            "by": "month,method",
        },
        outside=lambda c: {},
    ),
    "api:get_worklist": Endpoint(
        api=True,
        perm="casework.view_servicerecord",
        no_leak=lambda c, r: "赵先生" not in r.content.decode(),
    ),
}


def build(net: dict, users: dict) -> dict:
    """A home visit inside (桥北社区's room, ``resident_in``) and outside (成都's room,
    ``resident_out``), written directly with the models."""
    from shegong.casework.models import ServiceRecipient, ServiceRecord
    from shegong.network.models import Facility

    out = {}
    for side in ("in", "out"):
        room = Facility.objects.get(pk=net[f"room_{side}"])
        record = ServiceRecord.objects.create(
            facility=room,
            division_id=room.division_id,
            served_on=date(2024, 3, 1),
            domain="social_support",
            method="visit",
            person_times=1,
            notes=f"矩阵记录{side}",
        )
        ServiceRecipient.objects.create(record=record, resident_id=net[f"resident_{side}"])
        out[f"record_{side}"] = record.pk
    return out

"""Excel import of facilities: template, validation of every row, all-or-nothing,
idempotent (a row that is already there is left as it is). ``workforce.io`` imports
postings the same way."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from shegong.core.xlsx import ImportReport, parse_date, run_row_import, workbook_bytes
from shegong.geo.models import Division
from shegong.geo.selectors import division_by_code
from shegong.network.models import Facility, FacilityStatus, OperatorKind, SocialOrganisation, Tier
from shegong.network.services import facility_create

# Column headings as officials see them (the template uses them too).
FACILITY_COLUMNS = {
    "tier": "层级",
    "division_code": "区划代码",
    "name": "名称",
    "status": "状态",
    "status_from": "状态起始日期",
    "operator_kind": "运营方式",
    "operator_uscc": "运营机构统一社会信用代码",
    "address": "地址",
    "phone": "电话",
}
FACILITY_REQUIRED = ("tier", "division_code", "name", "status", "status_from")
TIER_WORDS = {"指导中心": Tier.CENTRE, "社工站": Tier.STATION, "社工室": Tier.ROOM}
TIER_WORDS.update({t.value: t.value for t in Tier})
STATUS_WORDS = {str(s.label): s.value for s in FacilityStatus} | {
    s.value: s.value for s in FacilityStatus
}
OPERATOR_WORDS = {"政府自办": OperatorKind.GOVERNMENT, "委托运营": OperatorKind.AGENCY} | {
    o.value: o.value for o in OperatorKind
}


def facility_template() -> bytes:
    """An empty facilities sheet with one example row."""
    return workbook_bytes(
        "阵地",
        list(FACILITY_COLUMNS.values()),
        [
            [
                "社工室",
                "500105001001",
                "桥北社区社会工作室",
                "运营中",
                "2019-05-01",
                "政府自办",
                "",
                "",
                "",
            ]
        ],
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    if isinstance(exc, Http404):
        return _("the division or facility is not in your area")
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("your role may not do this")
    return str(exc)


ROW_ERRORS = (ValidationError, ValueError, Http404, PermissionDenied)


def import_facilities(*, actor, data: bytes) -> ImportReport:
    """Create the facilities of a sheet; any bad row → nothing written, every bad row named."""
    return run_row_import(
        actor=actor,
        data=data,
        columns=FACILITY_COLUMNS,
        required=FACILITY_REQUIRED,
        import_row=lambda values, report: _import_facility(actor, values, report),
        action="facility.import",
        object_type="network.facility",
        row_errors=ROW_ERRORS,
        message=_message,
    )


def _import_facility(actor, values: dict[str, str], report: ImportReport) -> None:
    tier = TIER_WORDS.get(values.get("tier", ""))
    if tier is None:
        raise ValueError(_("unknown tier “%(v)s”") % {"v": values.get("tier", "")})
    code = values.get("division_code", "")
    division = (
        division_by_code(user=actor, code=code)
        if actor is not None
        else Division.objects.filter(code=code).first()  # a system import (command, tests)
    )
    if division is None:
        raise ValueError(
            _("no division with the code “%(v)s” in your area")
            % {"v": values.get("division_code", "")}
        )
    status = STATUS_WORDS.get(values.get("status", ""))
    if status is None:
        raise ValueError(_("unknown status “%(v)s”") % {"v": values.get("status", "")})
    status_from = parse_date(values.get("status_from", ""))
    name = values.get("name", "").strip()
    existing = Facility.objects.filter(division=division, tier=tier).exclude(
        status=FacilityStatus.CLOSED
    )
    if existing.filter(name=name).exists():
        report.unchanged += 1  # the same facility, imported before
        return
    operator_kind = OPERATOR_WORDS.get(values.get("operator_kind", "") or "government")
    if operator_kind is None:
        raise ValueError(_("unknown operator “%(v)s”") % {"v": values.get("operator_kind", "")})
    operator = None
    if values.get("operator_uscc"):
        operator = (
            SocialOrganisation.objects.restrict(actor, "view")
            .filter(uscc=values["operator_uscc"].upper())
            .first()
        )
        if operator is None:
            raise ValueError(
                _("no registered agency has the code “%(v)s”") % {"v": values["operator_uscc"]}
            )
    facility_create(
        actor=actor,
        tier=tier,
        division=division,
        name=name,
        status=status,
        status_from=status_from,
        operator_kind=operator_kind,
        operator=operator,
        address=values.get("address", ""),
        phone=values.get("phone", ""),
    )
    report.created += 1

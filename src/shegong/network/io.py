"""Excel import of facilities: the sheet declared once (``FACILITY_SHEET``, read by
``core.xlsx``), every row validated, all-or-nothing, idempotent (a row that is already there
is left as it is). ``workforce.io`` imports postings the same way."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.core.xlsx import (
    CREDIT_CODE,
    DIVISION_CODE,
    PHONE,
    ImportReport,
    SheetSpec,
    choice,
    date_column,
    identifier,
    run_row_import,
    text,
)
from shegong.geo.models import Division
from shegong.geo.selectors import division_by_code
from shegong.network.models import Facility, FacilityStatus, OperatorKind, SocialOrganisation, Tier
from shegong.network.services import facility_create

# The words officials write (the template's lists offer the Chinese ones).
TIER_WORDS = {"社工室": Tier.ROOM, "社工站": Tier.STATION, "指导中心": Tier.CENTRE}
TIER_WORDS.update({t.value: t.value for t in Tier})
STATUS_WORDS = {
    "规划中": FacilityStatus.PLANNED,
    "筹建中": FacilityStatus.PLANNED,
    "已建成": FacilityStatus.BUILT,
    "运营中": FacilityStatus.OPERATING,
    "暂停": FacilityStatus.SUSPENDED,
    "暂停运营": FacilityStatus.SUSPENDED,
    "已关闭": FacilityStatus.CLOSED,
} | {s.value: s.value for s in FacilityStatus}
OPERATOR_WORDS = {
    "政府自办": OperatorKind.GOVERNMENT,
    "委托运营": OperatorKind.AGENCY,
    "": OperatorKind.GOVERNMENT,
} | {o.value: o.value for o in OperatorKind}

FACILITY_SHEET = SheetSpec(
    title="阵地",
    columns=(
        choice("tier", "层级", TIER_WORDS, required=True, not_blank=True, example="社工室"),
        identifier(
            "division_code",
            "区划代码",
            DIVISION_CODE,
            required=True,
            not_blank=True,
            example="500105001001",
            note=gettext_lazy("the 12-digit code of the community (9 for a town, 6 for a county)"),
        ),
        text("name", "名称", required=True, not_blank=True, example="（示例）桥北社区社会工作室"),
        choice("status", "状态", STATUS_WORDS, required=True, not_blank=True, example="运营中"),
        date_column(
            "status_from", "状态起始日期", required=True, not_blank=True, example="2019-05-01"
        ),
        choice(
            "operator_kind",
            "运营方式",
            OPERATOR_WORDS,
            example="政府自办",
            note=gettext_lazy("empty: run by the government"),
        ),
        identifier(
            "operator_uscc",
            "运营机构统一社会信用代码",
            CREDIT_CODE,
            note=gettext_lazy("for an agency-run facility: the agency's code"),
        ),
        text("address", "地址", max_length=300),
        identifier("phone", "电话", PHONE, example="02367701234"),
    ),
    example_keys=("division_code", "name"),
)
# Column headings as officials see them, by key.
FACILITY_COLUMNS = FACILITY_SHEET.headings


def facility_template() -> bytes:
    """The facilities template: an empty data sheet and the instructions with an example."""
    return FACILITY_SHEET.template()


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    if isinstance(exc, Http404):
        return _("the division or facility is not in your area")
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("your role may not do this")
    return str(exc)


ROW_ERRORS = (ValidationError, ValueError, Http404, PermissionDenied)


def import_facilities(*, actor, data: bytes, filename: str = "", progress=None) -> ImportReport:
    """Create the facilities of a sheet; any bad row → nothing written, every bad row named."""
    return run_row_import(
        actor=actor,
        data=data,
        spec=FACILITY_SHEET,
        import_row=lambda values, report: _import_facility(actor, values, report),
        action="facility.import",
        object_type="network.facility",
        row_errors=ROW_ERRORS,
        message=_message,
        filename=filename,
        progress=progress,
    )


def _import_facility(actor, values: dict[str, Any], report: ImportReport) -> None:
    tier = values["tier"]
    code = values["division_code"]
    division = (
        division_by_code(user=actor, code=code)
        if actor is not None
        else Division.objects.filter(code=code).first()  # a system import (command, tests)
    )
    if division is None:
        raise ValueError(_("no division with the code “%(v)s” in your area") % {"v": code})
    name = values["name"]
    existing = Facility.objects.filter(division=division, tier=tier).exclude(
        status=FacilityStatus.CLOSED
    )
    if existing.filter(name=name).exists():
        report.unchanged += 1  # the same facility, imported before
        return
    operator = None
    if values.get("operator_uscc"):
        agencies = (
            SocialOrganisation.objects.restrict(actor, "view")
            if actor is not None
            else SocialOrganisation.objects.all()  # a system import (command, tests)
        )
        operator = agencies.filter(uscc=values["operator_uscc"]).first()
        if operator is None:
            raise ValueError(
                _("no registered agency has the code “%(v)s”") % {"v": values["operator_uscc"]}
            )
    facility_create(
        actor=actor,
        tier=tier,
        division=division,
        name=name,
        status=values["status"],
        status_from=values["status_from"],
        operator_kind=values.get("operator_kind") or OperatorKind.GOVERNMENT,
        operator=operator,
        address=values.get("address") or "",
        phone=values.get("phone") or "",
    )
    report.created += 1

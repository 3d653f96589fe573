"""Excel import of postings: registered social workers (found by national ID) posted to
facilities; every row validated, all-or-nothing, idempotent."""

from __future__ import annotations

from django.utils.translation import gettext as _

from shegong.core.xlsx import ImportReport, parse_date, run_row_import, workbook_bytes
from shegong.network.io import ROW_ERRORS, TIER_WORDS, _message
from shegong.network.models import Facility, FacilityStatus
from shegong.workforce.models import Posting
from shegong.workforce.services import posting_create, social_worker_find_by_national_id

POSTING_COLUMNS = {
    "national_id": "身份证号码",
    "division_code": "阵地区划代码",
    "tier": "阵地层级",
    "employment": "用工形式",
    "post_type": "岗位",
    "started_on": "开始日期",
    "ended_on": "结束日期",
}
POSTING_REQUIRED = ("national_id", "division_code", "tier", "employment", "started_on")
EMPLOYMENT_WORDS = {
    "专职": "full_time",
    "兼职": "part_time",
    "full_time": "full_time",
    "part_time": "part_time",
}


def posting_template() -> bytes:
    """An empty postings sheet with one example row."""
    return workbook_bytes(
        "岗位任职",
        list(POSTING_COLUMNS.values()),
        [["11010519491231002X", "500105001001", "社工室", "专职", "专职社工", "2020-01-01", ""]],
    )


def import_postings(*, actor, data: bytes) -> ImportReport:
    """Post registered social workers (found by national ID) to facilities, all or nothing."""
    return run_row_import(
        actor=actor,
        data=data,
        columns=POSTING_COLUMNS,
        required=POSTING_REQUIRED,
        import_row=lambda values, report: _import_posting(actor, values, report),
        action="posting.import",
        object_type="workforce.posting",
        row_errors=ROW_ERRORS,
        message=_message,
    )


def _import_posting(actor, values: dict[str, str], report: ImportReport) -> None:
    worker = social_worker_find_by_national_id(
        user=actor, national_id=values.get("national_id", "")
    )
    if worker is None:
        raise ValueError(_("no registered social worker has this national ID"))
    tier = TIER_WORDS.get(values.get("tier", ""))
    facility = (
        Facility.objects.restrict(actor, "view")
        .filter(division__code=values.get("division_code", ""), tier=tier)
        .exclude(status=FacilityStatus.CLOSED)
        .first()
    )
    if facility is None:
        raise ValueError(_("no such facility in your area"))
    employment = EMPLOYMENT_WORDS.get(values.get("employment", ""))
    if employment is None:
        raise ValueError(_("employment must be 专职 or 兼职"))
    started_on = parse_date(values.get("started_on", ""))
    ended_on = parse_date(values["ended_on"]) if values.get("ended_on") else None
    if Posting.objects.filter(worker=worker, facility=facility, started_on=started_on).exists():
        report.unchanged += 1
        return
    posting_create(
        actor=actor,
        worker=worker,
        facility=facility,
        employment=employment,
        started_on=started_on,
        ended_on=ended_on,
        post_type=values.get("post_type", ""),
    )
    report.created += 1

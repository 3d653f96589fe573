"""Excel imports of the workforce: postings of registered social workers (found by national
ID) to facilities, and the bulk onboarding of social workers with their qualification,
education and posting. Every row validated, all-or-nothing, idempotent."""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.core.audit import audit_record
from shegong.core.crypto import lookup_hash
from shegong.core.jobs import PROGRESS_EVERY
from shegong.core.validators import mask_phone, parse_national_id
from shegong.core.xlsx import (
    ImportReport,
    SheetError,
    SheetStream,
    parse_date,
    run_row_import,
    workbook_bytes,
)
from shegong.geo.models import Division
from shegong.network.io import ROW_ERRORS, TIER_WORDS, _message
from shegong.network.models import Facility, FacilityStatus, FacilityStatusPeriod, Tier
from shegong.workforce.models import (
    Degree,
    Education,
    Posting,
    QualificationLevel,
    SocialWorker,
    WorkplaceType,
)
from shegong.workforce.services import (
    default_workplace_type,
    posting_create,
    social_worker_find_by_national_id,
)

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


# --- Bulk onboarding: social workers with qualification, education and posting -------------
#
# A city starts with tens of thousands of people, so this import does not go row by row
# through the services. It streams the sheet and checks every row in Python against maps
# loaded in bulk (divisions and facilities in the importer's scope, facility status periods,
# the people already registered, found by the keyed ID hash), then, only if no row is bad,
# writes everything with bulk inserts in one transaction with one audit row. It runs as a
# background task (workforce.tasks), which reports progress while the rows are checked.

WORKER_COLUMNS = {
    "name": "姓名",
    "national_id": "身份证号码",
    "phone": "手机号码",
    "division_code": "登记区划代码",
    "qualification": "职业资格等级",
    "certificate_number": "证书管理号",
    "qualification_year": "取得年份",
    "school": "毕业院校",
    "degree": "学历",
    "social_work_major": "是否社会工作专业",
    "graduated_on": "毕业日期",
    "facility_division_code": "任职阵地区划代码",
    "tier": "阵地层级",
    "workplace_type": "工作单位类型",
    "employment": "用工形式",
    "post_type": "岗位",
    "started_on": "任职开始日期",
}
# Columns the header must have (工作单位类型 may be left out: it defaults from the facility).
WORKER_REQUIRED = tuple(key for key in WORKER_COLUMNS if key != "workplace_type")
QUALIFICATION_WORDS = {
    "助理社会工作师": QualificationLevel.ASSISTANT,
    "社会工作师": QualificationLevel.SOCIAL_WORKER,
    "高级社会工作师": QualificationLevel.SENIOR,
    "无": QualificationLevel.NONE,
    "": QualificationLevel.NONE,
} | {q.value: q.value for q in QualificationLevel}
DEGREE_WORDS = {
    "专科": Degree.DIPLOMA,
    "大专": Degree.DIPLOMA,
    "本科": Degree.BACHELOR,
    "硕士": Degree.MASTER,
    "博士": Degree.DOCTOR,
} | {d.value: d.value for d in Degree}
YES_NO_WORDS = {"是": True, "否": False, "": False, "yes": True, "no": False}
WORKPLACE_WORDS = {
    "基层群众性自治组织": WorkplaceType.GRASSROOTS,
    "社区服务机构": WorkplaceType.COMMUNITY_SERVICE,
    "社会工作服务机构": WorkplaceType.AGENCY,
    "党政机关": WorkplaceType.GOVERNMENT,
    "政府机关": WorkplaceType.GOVERNMENT,
    "学校": WorkplaceType.SCHOOL,
    "医院": WorkplaceType.HOSPITAL,
    "其他": WorkplaceType.OTHER,
} | {w.value: w.value for w in WorkplaceType}
WORKER_TIER_WORDS = TIER_WORDS | {"中心": Tier.CENTRE}
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,28}[0-9]$")
_BATCH = 2000  # rows per bulk insert and per IN (...) look-up


def worker_template() -> bytes:
    """An empty social-worker sheet with one example row."""
    return workbook_bytes(
        "社工人才",
        list(WORKER_COLUMNS.values()),
        [
            [
                "张三",
                "11010519491231002X",
                "13800000000",
                "500105001001",
                "社会工作师",
                "S2019500000001",
                "2019",
                "重庆大学",
                "本科",
                "是",
                "2015-06-30",
                "500105001001",
                "社工室",
                "",
                "专职",
                "专职社工",
                "2022-01-01",
            ]
        ],
    )


class _Row:
    """One data row as read and checked; ``problems`` empty means it may be written."""

    __slots__ = (
        "certificate",
        "division_code",
        "division_id",
        "education",
        "facility",
        "hash",
        "level",
        "line",
        "name",
        "number",
        "phone",
        "posting",
        "problems",
        "year",
    )

    def __init__(self, line: int):
        self.line = line
        self.problems: list[str] = []
        self.number = self.hash = ""
        self.division_id = None
        self.facility = None  # (facility id, tier, operator kind) once resolved
        self.education = None  # (school, degree, social work major, graduated on)
        self.posting = None  # (division code, tier, employment, post, start, workplace type)


def _parse_worker_row(line: int, v: dict[str, str], today: date) -> _Row:
    """Check what a row says on its own (no database)."""
    row = _Row(line)
    bad = row.problems.append
    row.name = v.get("name", "").strip()
    if not row.name:
        bad(_("the name is missing"))
    elif len(row.name) > 100:
        bad(_("the name is longer than 100 characters"))
    try:
        row.number = parse_national_id(v.get("national_id", ""), today=today).number
        row.hash = lookup_hash(row.number)
    except ValidationError as exc:
        bad(_("national ID: %(e)s") % {"e": "；".join(exc.messages)})
    row.phone = v.get("phone", "").strip()
    if row.phone and not _PHONE.match(row.phone):
        bad(_("the phone number “%(v)s” is not valid") % {"v": mask_phone(row.phone)})
    row.division_code = v.get("division_code", "").strip()
    if not row.division_code:
        bad(_("the registration division code is missing"))
    level = QUALIFICATION_WORDS.get(v.get("qualification", "").strip())
    if level is None:
        bad(_("unknown qualification level “%(v)s”") % {"v": v.get("qualification", "")})
    row.level = level or QualificationLevel.NONE
    row.certificate = v.get("certificate_number", "").strip()
    if len(row.certificate) > 40:
        bad(_("the certificate number is longer than 40 characters"))
    if row.certificate and row.level == QualificationLevel.NONE:
        bad(_("a certificate number needs a qualification level"))
    row.year = None
    if v.get("qualification_year"):
        try:
            row.year = int(v["qualification_year"])
        except ValueError:
            row.year = 0
        if not 1990 <= row.year <= today.year:
            bad(_("the year passed “%(v)s” is not a year") % {"v": v["qualification_year"]})
    _parse_education(row, v, today)
    _parse_posting(row, v, today)
    return row


def _parse_education(row: _Row, v: dict[str, str], today: date) -> None:
    school, degree_word = v.get("school", "").strip(), v.get("degree", "").strip()
    major_word, graduated = v.get("social_work_major", "").strip(), v.get("graduated_on", "")
    if not (school or degree_word or major_word or graduated):
        return
    bad = row.problems.append
    if not school:
        bad(_("the school is missing"))
    elif len(school) > 200:
        bad(_("the school is longer than 200 characters"))
    degree = DEGREE_WORDS.get(degree_word)
    if degree is None:
        bad(_("unknown degree “%(v)s” (专科, 本科, 硕士 or 博士)") % {"v": degree_word})
    major = YES_NO_WORDS.get(major_word.lower())
    if major is None:
        bad(_("social work major must be 是 or 否"))
    graduated_on = None
    try:
        graduated_on = parse_date(graduated)
    except ValueError as exc:
        bad(_("graduation date: %(e)s") % {"e": exc})
    if graduated_on is not None and graduated_on > today:
        bad(_("the graduation date is in the future"))
    row.education = (school, degree, bool(major), graduated_on)


def _parse_posting(row: _Row, v: dict[str, str], today: date) -> None:
    code, tier_word = v.get("facility_division_code", "").strip(), v.get("tier", "").strip()
    employment_word, started = v.get("employment", "").strip(), v.get("started_on", "")
    post_type, workplace_word = v.get("post_type", "").strip(), v.get("workplace_type", "")
    if not (code or tier_word or employment_word or started or post_type or workplace_word):
        return
    bad = row.problems.append
    if not code:
        bad(_("the facility's division code is missing"))
    tier = WORKER_TIER_WORDS.get(tier_word)
    if tier is None:
        bad(_("unknown facility tier “%(v)s” (中心, 社工站 or 社工室)") % {"v": tier_word})
    employment = EMPLOYMENT_WORDS.get(employment_word)
    if employment is None:
        bad(_("employment must be 专职 or 兼职"))
    if len(post_type) > 100:
        bad(_("the post is longer than 100 characters"))
    workplace_type = None
    if workplace_word.strip():
        workplace_type = WORKPLACE_WORDS.get(workplace_word.strip())
        if workplace_type is None:
            bad(_("unknown workplace type “%(v)s”") % {"v": workplace_word})
    started_on = None
    try:
        started_on = parse_date(started)
    except ValueError as exc:
        bad(_("posting start: %(e)s") % {"e": exc})
    if started_on is not None and started_on > today:
        bad(_("the posting cannot start in the future"))
    row.posting = (code, tier, employment, post_type, started_on, workplace_type)


def _chunks(items: list, size: int = _BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _divisions_in_scope(actor, codes: set[str]) -> dict[str, int]:
    queryset = Division.objects.restrict(actor, "view") if actor else Division.objects.all()
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(codes)):
        found.update(queryset.filter(code__in=chunk, is_grouping=False).values_list("code", "id"))
    return found


def _facilities_in_scope(actor, codes: set[str]) -> dict[tuple[str, str], tuple]:
    """Facilities that are not closed, in scope, by (division code, tier)."""
    queryset = Facility.objects.restrict(actor, "view") if actor else Facility.objects.all()
    queryset = queryset.exclude(status=FacilityStatus.CLOSED)
    found: dict[tuple[str, str], tuple] = {}
    for chunk in _chunks(sorted(codes)):
        for code, tier, pk, operator_kind in queryset.filter(division__code__in=chunk).values_list(
            "division__code", "tier", "id", "operator_kind"
        ):
            found[(code, tier)] = (pk, tier, operator_kind)
    return found


def _status_periods(facility_ids: set[int]) -> dict[int, list[tuple]]:
    periods: dict[int, list[tuple]] = {}
    for chunk in _chunks(sorted(facility_ids)):
        for pk, status, valid_from, valid_to in FacilityStatusPeriod.objects.filter(
            facility_id__in=chunk
        ).values_list("facility_id", "status", "valid_from", "valid_to"):
            periods.setdefault(pk, []).append((status, valid_from, valid_to))
    return periods


def _open_on(periods: list[tuple], day: date) -> bool:
    """Whether the facility existed and was not closed on ``day``."""
    for status, valid_from, valid_to in periods:
        if valid_from <= day and (valid_to is None or valid_to > day):
            return status != FacilityStatus.CLOSED
    return False


def _registered(hashes: list[str]) -> dict[str, dict]:
    """People already registered (anywhere), by ID hash, with what the file may repeat."""
    found: dict[str, dict] = {}
    for chunk in _chunks(hashes):
        workers = SocialWorker.objects.filter(national_id_hash__in=chunk).values_list(
            "id",
            "national_id_hash",
            "name",
            "phone",
            "division_id",
            "qualification_level",
            "certificate_number",
            "qualification_year",
        )
        by_id = {}
        for pk, id_hash, name, phone, division_id, level, certificate, year in workers:
            by_id[pk] = found[id_hash] = {
                "id": pk,
                "name": name,
                "person": (phone or "", division_id, level, certificate, year),
                "postings": set(),
                "education": set(),
            }
        ids = list(by_id)
        for worker_id, facility_id, employment, started_on in Posting.objects.filter(
            worker_id__in=ids
        ).values_list("worker_id", "facility_id", "employment", "started_on"):
            by_id[worker_id]["postings"].add((facility_id, employment, started_on))
        for worker_id, school, degree, major, graduated_on in Education.objects.filter(
            worker_id__in=ids
        ).values_list("worker_id", "school", "degree", "social_work_major", "graduated_on"):
            by_id[worker_id]["education"].add((school, degree, major, graduated_on))
    return found


def _differences(row: _Row, known: dict) -> list[str]:
    """The columns in which a row differs from the person as registered."""
    phone, division_id, level, certificate, year = known["person"]
    columns = []
    if row.phone != phone:
        columns.append(WORKER_COLUMNS["phone"])
    if row.division_id != division_id:
        columns.append(WORKER_COLUMNS["division_code"])
    if (row.level, row.certificate, row.year) != (level, certificate, year):
        columns.append(WORKER_COLUMNS["qualification"])
    if row.education is not None and row.education not in known["education"]:
        columns.append(WORKER_COLUMNS["school"])
    if row.posting is not None:
        facility_id = row.facility[0] if row.facility else None
        if (facility_id, row.posting[2], row.posting[4]) not in known["postings"]:
            columns.append(WORKER_COLUMNS["facility_division_code"])
    return columns


def import_social_workers(*, actor, data: bytes, progress=None, filename: str = "") -> ImportReport:
    """Register the social workers of a sheet with their qualification, education and
    posting: every row checked, all or nothing, idempotent (a person registered before
    with the same data is "unchanged"). ``progress(done, total, phase)`` is called about
    every 1,000 rows while the rows are read and checked."""
    report = ImportReport()
    today = timezone.localdate()
    if actor is not None and not (
        actor.has_perm("workforce.add_socialworker") and actor.has_perm("workforce.add_posting")
    ):
        report.errors.append((1, _("your role may not register social workers")))
        return report

    def tell(done: int, total: int, phase: str) -> None:
        if progress is not None:
            progress(done, total, phase)

    try:
        sheet = SheetStream(
            data,
            list(WORKER_COLUMNS.values()),
            [WORKER_COLUMNS[key] for key in WORKER_REQUIRED],
        )
    except SheetError as exc:
        report.errors.append((1, str(exc)))
        return report
    keys = {label: key for key, label in WORKER_COLUMNS.items()}
    phase = _("Reading and checking rows")
    tell(0, sheet.estimated_rows, phase)
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    for sheet_row in sheet:
        values = {keys[label]: value for label, value in sheet_row.values.items()}
        row = _parse_worker_row(sheet_row.number, values, today)
        if row.hash:
            if row.hash in first_line:
                row.problems.append(
                    _("the same person as on line %(n)d") % {"n": first_line[row.hash]}
                )
            else:
                first_line[row.hash] = sheet_row.number
        rows.append(row)
        if sheet.rows % PROGRESS_EVERY == 0:
            tell(sheet.rows, max(sheet.estimated_rows, sheet.rows), phase)
    report.rows = sheet.rows
    if not rows:
        report.errors.append((1, _("The file has no data rows.")))
        return report
    tell(report.rows, report.rows, _("Checking against the registry"))
    _resolve(actor, rows, today)
    registered = _registered([row.hash for row in rows if row.hash])
    new_rows: list[_Row] = []
    for row in rows:
        known = registered.get(row.hash) if row.hash else None
        if known is not None and not row.problems:
            if known["name"] != row.name:
                row.problems.append(_("this national ID is already registered under another name"))
            elif differences := _differences(row, known):
                row.problems.append(
                    _("already registered with other data (%(c)s): change it in the registry")
                    % {"c": "、".join(differences)}
                )
            else:
                report.unchanged += 1
                continue
        if row.problems:
            report.errors.append((row.line, "；".join(row.problems)))
        else:
            new_rows.append(row)
    if report.errors:
        report.created = report.unchanged = 0
        return report
    tell(report.rows, report.rows, _("Writing"))
    try:
        report.created = _write(actor, new_rows, report, filename)
    except _ScopeChanged:
        report.errors.append((1, _("the divisions or facilities changed meanwhile; try again")))
        report.unchanged = 0
    except IntegrityError:
        report.errors.append(
            (1, _("some of these people were registered meanwhile; import the file again"))
        )
        report.unchanged = 0
    return report


def _resolve(actor, rows: list[_Row], today: date) -> None:
    """Find every row's division and facility in the actor's scope, and check the facility
    was open on the posting's start."""
    divisions = _divisions_in_scope(actor, {row.division_code for row in rows})
    facilities = _facilities_in_scope(
        actor, {row.posting[0] for row in rows if row.posting and row.posting[0]}
    )
    periods = _status_periods({f[0] for f in facilities.values()})
    for row in rows:
        if row.division_code:
            row.division_id = divisions.get(row.division_code)
            if row.division_id is None:
                row.problems.append(
                    _("no division with the code “%(v)s” in your area") % {"v": row.division_code}
                )
        if row.posting is None or not row.posting[0] or row.posting[1] is None:
            continue
        code, tier, _employment, _post, started_on, _workplace = row.posting
        row.facility = facilities.get((code, tier))
        if row.facility is None:
            row.problems.append(
                _("no open %(t)s at the division “%(v)s” in your area")
                % {"t": Tier(tier).label, "v": code}
            )
        elif started_on is not None and not _open_on(periods.get(row.facility[0], []), started_on):
            row.problems.append(_("the facility is closed (or did not exist) on the start date"))


class _ScopeChanged(Exception):
    pass


def _write(actor, rows: list[_Row], report: ImportReport, filename: str) -> int:
    """Insert the people, postings and education in one transaction, with one audit row."""
    with transaction.atomic():
        # Re-check, inside the transaction, that everything is in the actor's scope.
        if actor is not None:
            division_ids = sorted({row.division_id for row in rows})
            facility_ids = sorted({row.facility[0] for row in rows if row.facility})
            in_scope = Division.objects.restrict(actor, "view")
            facilities = Facility.objects.restrict(actor, "view").exclude(
                status=FacilityStatus.CLOSED
            )
            for chunk in _chunks(division_ids):
                if in_scope.filter(id__in=chunk).count() != len(chunk):
                    raise _ScopeChanged
            for chunk in _chunks(facility_ids):
                if facilities.filter(id__in=chunk).count() != len(chunk):
                    raise _ScopeChanged
        postings = education = 0
        for chunk in _chunks(rows):
            workers = SocialWorker.objects.bulk_create(
                [
                    SocialWorker(
                        name=row.name,
                        national_id=row.number,
                        national_id_hash=row.hash,
                        qualification_level=row.level,
                        certificate_number=row.certificate,
                        qualification_year=row.year,
                        phone=row.phone,
                        division_id=row.division_id,
                    )
                    for row in chunk
                ]
            )
            new_postings, new_education = [], []
            for row, worker in zip(chunk, workers, strict=True):
                if row.posting is not None:
                    _code, tier, employment, post_type, started_on, workplace_type = row.posting
                    facility_id, tier, operator_kind = row.facility
                    new_postings.append(
                        Posting(
                            worker_id=worker.pk,
                            facility_id=facility_id,
                            workplace_type=workplace_type
                            or default_workplace_type(
                                Facility(tier=tier, operator_kind=operator_kind)
                            ),
                            employment=employment,
                            post_type=post_type,
                            started_on=started_on,
                        )
                    )
                if row.education is not None:
                    school, degree, major, graduated_on = row.education
                    new_education.append(
                        Education(
                            worker_id=worker.pk,
                            school=school,
                            degree=degree,
                            social_work_major=major,
                            graduated_on=graduated_on,
                        )
                    )
            Posting.objects.bulk_create(new_postings)
            Education.objects.bulk_create(new_education)
            postings += len(new_postings)
            education += len(new_education)
        audit_record(
            actor=actor,
            action="social_worker.import",
            object_type="workforce.socialworker",
            object_repr=filename[:255],
            after={
                "file": filename,
                "rows": report.rows,
                "created": len(rows),
                "unchanged": report.unchanged,
                "postings": postings,
                "education": education,
            },
        )
    return len(rows)

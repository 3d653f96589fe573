"""Excel imports of the workforce: postings of registered social workers (found by national
ID) to facilities, and the bulk onboarding of social workers with their qualification,
education and posting. Every row validated, all-or-nothing, idempotent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.core.audit import audit_record
from shegong.core.crypto import lookup_hash
from shegong.core.jobs import PROGRESS_EVERY
from shegong.core.validators import PHONE_PATTERN, mask_phone, parse_national_id
from shegong.core.xlsx import (
    CERTIFICATE,
    DIVISION_CODE,
    NATIONAL_ID,
    PHONE,
    Column,
    ImportReport,
    SheetError,
    SheetReader,
    SheetRow,
    SheetSpec,
    choice,
    date_column,
    identifier,
    integer,
    run_row_import,
    text,
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
)

EMPLOYMENT_WORDS = {
    "专职": "full_time",
    "兼职": "part_time",
    "full_time": "full_time",
    "part_time": "part_time",
}
# The example person of the templates (a valid ID that no real import should carry).
EXAMPLE_NATIONAL_ID = "11010519491231002X"
ENDED_NOTE = gettext_lazy(
    "the first day the person no longer works there; empty while the posting lasts "
    "(the posting counts up to the day before its end date)"
)


def _national_id_column(**options) -> Column:
    """The national ID column of the workforce sheets (text only: a number loses digits)."""
    return identifier(
        "national_id",
        "身份证号码",
        NATIONAL_ID,
        required=True,
        not_blank=True,
        example=EXAMPLE_NATIONAL_ID,
        **options,
    )


POSTING_SHEET = SheetSpec(
    title="岗位任职",
    columns=(
        _national_id_column(note=gettext_lazy("of a social worker already registered")),
        identifier(
            "division_code",
            "阵地区划代码",
            DIVISION_CODE,
            required=True,
            not_blank=True,
            example="500105001001",
        ),
        choice("tier", "阵地层级", TIER_WORDS, required=True, not_blank=True, example="社工室"),
        choice(
            "employment",
            "用工形式",
            EMPLOYMENT_WORDS,
            required=True,
            not_blank=True,
            example="专职",
        ),
        text("post_type", "岗位", max_length=100, example="专职社工"),
        date_column("started_on", "开始日期", required=True, not_blank=True, example="2020-01-01"),
        date_column("ended_on", "结束日期", note=ENDED_NOTE),
    ),
    example_keys=("national_id",),
)
POSTING_COLUMNS = POSTING_SHEET.headings


def posting_template() -> bytes:
    """The postings template: an empty data sheet and the instructions with an example."""
    return POSTING_SHEET.template()


def import_postings(*, actor, data: bytes, filename: str = "", progress=None) -> ImportReport:
    """Post registered social workers (found by national ID) to facilities, all or nothing."""
    return run_row_import(
        actor=actor,
        data=data,
        spec=POSTING_SHEET,
        import_row=lambda values, report: _import_posting(actor, values, report),
        action="posting.import",
        object_type="workforce.posting",
        row_errors=ROW_ERRORS,
        message=_message,
        filename=filename,
        progress=progress,
    )


def _in_scope(model, actor):
    """What the importer may see, or everything for a system import (command, tests)."""
    return model.objects.restrict(actor, "view") if actor is not None else model.objects.all()


def _import_posting(actor, values: dict[str, Any], report: ImportReport) -> None:
    try:
        number = parse_national_id(values["national_id"]).number
    except ValidationError as exc:
        raise ValueError(_("national ID: %(e)s") % {"e": "；".join(exc.messages)}) from exc
    worker = _in_scope(SocialWorker, actor).filter(national_id_hash=lookup_hash(number)).first()
    if worker is None:
        raise ValueError(_("no registered social worker has this national ID"))
    facility = (
        _in_scope(Facility, actor)
        .filter(division__code=values["division_code"], tier=values["tier"])
        .exclude(status=FacilityStatus.CLOSED)
        .first()
    )
    if facility is None:
        raise ValueError(_("no such facility in your area"))
    started_on = values["started_on"]
    if Posting.objects.filter(worker=worker, facility=facility, started_on=started_on).exists():
        report.unchanged += 1
        return
    posting_create(
        actor=actor,
        worker=worker,
        facility=facility,
        employment=values["employment"],
        started_on=started_on,
        ended_on=values.get("ended_on"),
        post_type=values.get("post_type") or "",
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
YES_NO_WORDS = {"是": True, "否": False, "yes": True, "no": False}
WORKPLACE_WORDS = {
    "基层群众性自治组织": WorkplaceType.GRASSROOTS,
    "基层群众自治组织": WorkplaceType.GRASSROOTS,
    "社区服务机构": WorkplaceType.COMMUNITY_SERVICE,
    "社会工作服务机构": WorkplaceType.AGENCY,
    "党政机关": WorkplaceType.GOVERNMENT,
    "政府机关": WorkplaceType.GOVERNMENT,
    "学校": WorkplaceType.SCHOOL,
    "医院": WorkplaceType.HOSPITAL,
    "其他": WorkplaceType.OTHER,
} | {w.value: w.value for w in WorkplaceType}
WORKER_TIER_WORDS = TIER_WORDS | {"中心": Tier.CENTRE}

WORKER_SHEET = SheetSpec(
    title="社工人才",
    columns=(
        text("name", "姓名", required=True, not_blank=True, max_length=100, example="张三"),
        _national_id_column(),
        identifier("phone", "手机号码", PHONE, required=True, example="13800000000"),
        identifier(
            "division_code",
            "登记区划代码",
            DIVISION_CODE,
            required=True,
            not_blank=True,
            example="500105001001",
            note=gettext_lazy("where the person is registered"),
        ),
        choice(
            "qualification",
            "职业资格等级",
            QUALIFICATION_WORDS,
            required=True,
            example="社会工作师",
            note=gettext_lazy("empty: none"),
        ),
        identifier(
            "certificate_number",
            "证书管理号",
            CERTIFICATE,
            required=True,
            max_length=40,
            example="S2019500000001",
        ),
        integer("qualification_year", "取得年份", required=True, example="2019"),
        text("school", "毕业院校", required=True, example="重庆大学"),
        choice("degree", "学历", DEGREE_WORDS, required=True, example="本科"),
        choice("social_work_major", "是否社会工作专业", YES_NO_WORDS, required=True, example="是"),
        date_column("graduated_on", "毕业日期", required=True, example="2015-06-30"),
        identifier(
            "facility_division_code",
            "任职阵地区划代码",
            DIVISION_CODE,
            required=True,
            example="500105001001",
        ),
        choice("tier", "阵地层级", WORKER_TIER_WORDS, required=True, example="社工室"),
        choice(
            "workplace_type",
            "工作单位类型",
            WORKPLACE_WORDS,
            note=gettext_lazy("empty: from the facility"),
        ),
        choice("employment", "用工形式", EMPLOYMENT_WORDS, required=True, example="专职"),
        text("post_type", "岗位", required=True, max_length=100, example="专职社工"),
        date_column("started_on", "任职开始日期", required=True, example="2022-01-01"),
    ),
    example_keys=("national_id",),
    note=gettext_lazy(
        "Education (school, degree, major, graduation) and posting (facility, tier, "
        "employment, start) columns may be left empty together."
    ),
)
WORKER_COLUMNS = WORKER_SHEET.headings
EDUCATION_KEYS = ("school", "degree", "social_work_major", "graduated_on")
POSTING_KEYS = (
    "facility_division_code",
    "tier",
    "employment",
    "started_on",
    "post_type",
    "workplace_type",
)
_BATCH = 2000  # rows per bulk insert and per IN (...) look-up


def worker_template() -> bytes:
    """The social-worker template: an empty data sheet and the instructions with an example."""
    return WORKER_SHEET.template()


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


def _parse_worker_row(sheet_row: SheetRow, today: date) -> _Row:
    """Check what a row says on its own (no database); its cells were read by the sheet's
    declaration (``WORKER_SHEET``), whose problems come first."""
    row = _Row(sheet_row.number)
    row.problems.extend(sheet_row.problems)
    v = sheet_row.values
    bad = row.problems.append
    row.name = v.get("name") or ""
    if v.get("national_id"):
        try:
            row.number = parse_national_id(v["national_id"], today=today).number
            row.hash = lookup_hash(row.number)
        except ValidationError as exc:
            bad(_("national ID: %(e)s") % {"e": "；".join(exc.messages)})
    row.phone = v.get("phone") or ""
    if row.phone and not PHONE_PATTERN.match(row.phone):
        bad(_("the phone number “%(v)s” is not valid") % {"v": mask_phone(row.phone)})
    row.division_code = v.get("division_code") or ""
    row.level = v.get("qualification") or QualificationLevel.NONE
    row.certificate = v.get("certificate_number") or ""
    if row.certificate and row.level == QualificationLevel.NONE:
        bad(_("a certificate number needs a qualification level"))
    row.year = v.get("qualification_year")
    if row.year is not None and not 1990 <= row.year <= today.year:
        bad(_("the year passed “%(v)s” is not a year") % {"v": row.year})
    _parse_education(row, sheet_row, today)
    _parse_posting(row, sheet_row, today)
    return row


def _parse_education(row: _Row, sheet_row: SheetRow, today: date) -> None:
    v, given = sheet_row.values, sheet_row.given
    if not any(given(key) for key in EDUCATION_KEYS):
        return
    bad = row.problems.append
    if not given("school"):
        bad(_("the school is missing"))
    if not given("degree"):
        bad(_("the degree is missing (专科, 本科, 硕士 or 博士)"))
    graduated_on = v.get("graduated_on")
    if not given("graduated_on"):
        bad(_("the graduation date is missing"))
    elif graduated_on is not None and graduated_on > today:
        bad(_("the graduation date is in the future"))
    row.education = (
        v.get("school") or "",
        v.get("degree"),
        bool(v.get("social_work_major")),
        graduated_on,
    )


def _parse_posting(row: _Row, sheet_row: SheetRow, today: date) -> None:
    v, given = sheet_row.values, sheet_row.given
    if not any(given(key) for key in POSTING_KEYS):
        return
    bad = row.problems.append
    if not given("facility_division_code"):
        bad(_("the facility's division code is missing"))
    if not given("tier"):
        bad(_("the facility tier is missing (中心, 社工站 or 社工室)"))
    if not given("employment"):
        bad(_("employment must be 专职 or 兼职"))
    started_on = v.get("started_on")
    if not given("started_on"):
        bad(_("the posting's start date is missing"))
    elif started_on is not None and started_on > today:
        bad(_("the posting cannot start in the future"))
    row.posting = (
        v.get("facility_division_code") or "",
        v.get("tier"),
        v.get("employment"),
        v.get("post_type") or "",
        started_on,
        v.get("workplace_type"),
    )


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
        sheet = SheetReader(data, WORKER_SHEET, filename=filename)
    except SheetError as exc:
        report.errors.append((1, str(exc)))
        return report
    phase = _("Reading and checking rows")
    tell(0, sheet.estimated_rows, phase)
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    try:
        for sheet_row in sheet:
            row = _parse_worker_row(sheet_row, today)
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
    except SheetError as exc:
        report.errors.append((1, str(exc)))
        return report
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

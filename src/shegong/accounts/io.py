"""Bulk onboarding of users from .xlsx (issue #12 item 1): a city brings thousands of
community workers onto the platform at once.

The sheet is declared once (``USER_SHEET``) and read by ``core.xlsx``; every row is checked
(user name free and unique in the file, whatever the letter case; role known; division in
the importer's area; an agency, in that area, for agency staff and for them only); only if
no row is bad are the users written — in one transaction, without passwords, with one
audit row — and each new user gets a one-time set-password link. The result is an .xlsx of
those links to hand out (kept encrypted for the importer until the links expire).
Re-running the file creates nobody: a user already there with the same data is
"unchanged", and one who never set a password gets a fresh link (their older one stops
working) — so a lost result file is made again by importing the file again.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.accounts.models import SetPasswordLink, User, hash_token
from shegong.accounts.services import USERNAME, password_link_hours
from shegong.core.audit import audit_record
from shegong.core.roles import Role
from shegong.core.validators import PHONE_PATTERN, mask_phone
from shegong.core.xlsx import (
    CREDIT_CODE,
    DIVISION_CODE,
    PHONE,
    ImportReport,
    SheetError,
    SheetReader,
    SheetSpec,
    choice,
    identifier,
    text,
    workbook_bytes,
)
from shegong.geo.models import Division

ROLE_WORDS = {
    "市级管理员": Role.CITY_ADMIN,
    "区县社会工作指导中心工作人员": Role.COUNTY_STAFF,
    "区县指导中心工作人员": Role.COUNTY_STAFF,
    "镇街社会工作站工作人员": Role.STATION_STAFF,
    "镇街社工站工作人员": Role.STATION_STAFF,
    "村社社会工作室社工": Role.ROOM_WORKER,
    "村社社工室社工": Role.ROOM_WORKER,
    "只读统计分析员": Role.ANALYST,
    "安全管理员": Role.SECURITY_ADMIN,
    "审计管理员": Role.AUDIT_ADMIN,
    "承接机构人员": Role.AGENCY_STAFF,
} | {role.value: role.value for role in Role}
EXAMPLE_USERNAME = "zhangsan_qiaobei"

USER_SHEET = SheetSpec(
    title="用户",
    columns=(
        text(
            "username",
            "用户名",
            required=True,
            not_blank=True,
            max_length=150,
            example=EXAMPLE_USERNAME,
            note=gettext_lazy("letters, digits and _ . @ + - ; used to sign in"),
        ),
        text("full_name", "姓名", required=True, not_blank=True, max_length=100, example="张三"),
        choice(
            "role", "角色", ROLE_WORDS, required=True, not_blank=True, example="村社社会工作室社工"
        ),
        identifier(
            "division_code",
            "区划代码",
            DIVISION_CODE,
            required=True,
            not_blank=True,
            example="500105001001",
            note=gettext_lazy("where the user works: their area"),
        ),
        identifier("phone", "手机号码", PHONE, required=True, example="13800000000"),
        identifier(
            "agency_uscc",
            "所属机构统一社会信用代码",
            CREDIT_CODE,
            note=gettext_lazy("contracted agency staff only: their agency's code"),
        ),
    ),
    example_keys=("username",),
    note=gettext_lazy(
        "Each new user gets a one-time link to set their own password: download the links "
        "from the import's page when it has finished, and hand each one to its user."
    ),
)
USER_COLUMNS = USER_SHEET.headings
_BATCH = 2000
USER_IMPORT_KIND = "accounts.users"


def user_template() -> bytes:
    """The users template: an empty data sheet and the instructions with an example."""
    return USER_SHEET.template()


class _Row:
    __slots__ = ("agency", "division_id", "line", "problems", "values")

    def __init__(self, line: int, values: dict[str, Any], problems: tuple[str, ...]):
        self.line = line
        self.values = values
        self.problems = list(problems)
        self.division_id = None
        self.agency = None


def import_users(
    *, actor, data: bytes, filename: str = "", progress=None, origin: str = ""
) -> ImportReport:
    """Create the users of a sheet, all or nothing, and give back the .xlsx of their
    one-time set-password links (``report.result``)."""
    from shegong.network.models import SocialOrganisation

    report = ImportReport()
    if actor is not None and not actor.has_perm("accounts.add_user"):
        report.errors.append((1, _("your role may not create users")))
        return report
    try:
        sheet = SheetReader(data, USER_SHEET, filename=filename)
        rows = []
        seen: dict[str, int] = {}
        for sheet_row in sheet:
            row = _Row(sheet_row.number, sheet_row.values, sheet_row.problems)
            _check_row(row, seen)
            rows.append(row)
            if progress is not None and sheet.rows % 1000 == 0:
                progress(sheet.rows, max(sheet.estimated_rows, sheet.rows), _("Checking rows"))
    except SheetError as exc:
        report.errors.append((1, str(exc)))
        return report
    report.rows = len(rows)
    if not rows:
        report.errors.append((1, _("The file has no data rows.")))
        return report
    scope = actor.scope_prefix if actor is not None else ""
    divisions = _by_code(
        Division.objects.filter(code__startswith=scope, is_grouping=False),
        {row.values.get("division_code") or "" for row in rows},
    )
    agencies = _by_code(
        SocialOrganisation.objects.filter(division__code__startswith=scope),
        {row.values.get("agency_uscc") or "" for row in rows},
        field="uscc",
    )
    existing = {
        user.username.lower(): user
        for chunk in _chunks(sorted(seen))
        for user in User.objects.annotate(key=Lower("username")).filter(key__in=chunk)
    }
    new_rows, renew = [], []
    for row in rows:
        _resolve(row, divisions, agencies)
        known = existing.get((row.values.get("username") or "").lower())
        if known is not None and not row.problems:
            if _same(row, known):
                report.unchanged += 1
                if not known.has_usable_password() and known.is_active:
                    renew.append(known)
                continue
            row.problems.append(
                _("the user name is taken by another user (or the same user with other data)")
            )
        if row.problems:
            report.errors.append((row.line, "；".join(row.problems)))
        else:
            new_rows.append(row)
    if report.errors:
        report.unchanged = 0
        return report
    if progress is not None:
        progress(report.rows, report.rows, _("Writing"))
    try:
        links = _write(actor, new_rows, renew, report, filename)
    except IntegrityError:
        report.errors.append((1, _("some of these user names were taken meanwhile; try again")))
        report.unchanged = 0
        return report
    report.created = len(new_rows)
    report.result = _links_workbook(links, origin)
    report.result_name = "set-password-links.xlsx"
    return report


def _check_row(row: _Row, seen: dict[str, int]) -> None:
    v, bad = row.values, row.problems.append
    username = v.get("username") or ""
    if username and not USERNAME.match(username):
        bad(_("the user name may hold only letters, digits and _ . @ + - (3 to 150)"))
    elif username:
        key = username.lower()
        if key in seen:
            bad(_("the same user name as on line %(n)d") % {"n": seen[key]})
        else:
            seen[key] = row.line
    phone = v.get("phone") or ""
    if phone and not PHONE_PATTERN.match(phone):
        bad(_("the phone number “%(v)s” is not valid") % {"v": mask_phone(phone)})
    role = v.get("role")
    if role == Role.AGENCY_STAFF and not v.get("agency_uscc"):
        bad(_("contracted agency staff need their agency's code"))
    if role and role != Role.AGENCY_STAFF and v.get("agency_uscc"):
        bad(_("only contracted agency staff belong to an agency"))


def _chunks(items: list, size: int = _BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _by_code(queryset, codes: set[str], field: str = "code") -> dict[str, Any]:
    found = {}
    for chunk in _chunks(sorted(c for c in codes if c)):
        for item in queryset.filter(**{f"{field}__in": chunk}):
            found[getattr(item, field)] = item
    return found


def _resolve(row: _Row, divisions: dict, agencies: dict) -> None:
    code = row.values.get("division_code") or ""
    if code:
        division = divisions.get(code)
        if division is None:
            row.problems.append(_("no division with the code “%(v)s” in your area") % {"v": code})
        else:
            row.division_id = division.pk
    uscc = row.values.get("agency_uscc") or ""
    if uscc:
        row.agency = agencies.get(uscc)
        if row.agency is None:
            row.problems.append(_("no registered agency has the code “%(v)s”") % {"v": uscc})


def _same(row: _Row, user: User) -> bool:
    v = row.values
    return (
        user.username == v.get("username")
        and user.full_name == (v.get("full_name") or "")
        and user.role == v.get("role")
        and user.division_id == row.division_id
        and (user.organisation_id or None) == (row.agency.pk if row.agency else None)
    )


def _write(actor, rows: list[_Row], renew: list[User], report: ImportReport, filename: str):
    """Insert the users without passwords and a link for each (and for the unchanged users
    who never set a password), in one transaction with one audit row."""
    now = timezone.now()
    expires_at = now + timedelta(hours=password_link_hours())
    links = []
    with transaction.atomic():
        created = []
        for chunk in _chunks(rows):
            users = []
            for row in chunk:
                v = row.values
                user = User(
                    username=v["username"],
                    full_name=v.get("full_name") or "",
                    role=v["role"],
                    division_id=row.division_id,
                    organisation=row.agency,
                    phone=v.get("phone") or "",
                )
                user.set_unusable_password()
                users.append(user)
            created += User.objects.bulk_create(users)
        if renew:
            SetPasswordLink.objects.filter(
                user__in=renew, used_at__isnull=True, revoked_at__isnull=True
            ).update(revoked_at=now)
        new_links = []
        for user in [*created, *renew]:
            raw = secrets.token_urlsafe(32)
            links.append((user, raw, expires_at))
            new_links.append(
                SetPasswordLink(
                    user=user,
                    key_hash=hash_token(raw),
                    created_by=actor if actor is not None and actor.pk else None,
                    expires_at=expires_at,
                )
            )
        for chunk in _chunks(new_links):
            SetPasswordLink.objects.bulk_create(chunk)
        audit_record(
            actor=actor,
            action="user.import",
            object_type="accounts.user",
            object_repr=filename[:255],
            after={
                "file": filename,
                "rows": report.rows,
                "created": len(created),
                "unchanged": report.unchanged,
                "links": len(links),
            },
        )
    return links


def _links_workbook(links: list[tuple[User, str, Any]], origin: str) -> bytes:
    """The one-time set-password links to hand out, one row per user."""
    from django.urls import reverse

    divisions = dict(
        Division.objects.filter(pk__in={user.division_id for user, _raw, _e in links}).values_list(
            "pk", "name"
        )
    )
    roles = dict(Role.choices)
    return workbook_bytes(
        "设置密码链接",
        [
            _("User name"),
            _("Full name"),
            _("Role"),
            _("Division"),
            _("One-time link to set the password"),
            _("Valid until"),
        ],
        (
            (
                user.username,
                user.full_name,
                str(roles.get(user.role, user.role)),
                divisions.get(user.division_id, ""),
                origin + reverse("accounts:set_password_link", kwargs={"key": raw}),
                timezone.localtime(expires_at),
            )
            for user, raw, expires_at in links
        ),
    )

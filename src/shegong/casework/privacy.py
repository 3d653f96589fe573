"""Protection of residents' personal data (security.md 7, 8, 14, 16, 17).

One place decides, for a user and a record:

- **which fields they see in clear** (``sees_identity``): national ID and phone in clear for
  the front line that serves the person (``casework.view_identity``), masked for every other
  role with casework read rights; the analyst never reaches a resident at all;
- **whether a protected record opens** (``may_open``): a protected case (counselling or
  crisis work) and every record of a child under 14 open to the case's assigned worker and
  supervisor; anyone else in scope needs a live break-the-glass grant
  (``access_grant_open``), given only with a stated reason, logged, and expiring by itself;
- **what is logged** (``log_access``): one audit row for every view, search and export of a
  resident or case — allowed or denied.

Views and API routers call these; nothing else decides.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.casework.models import AccessGrant, Case, CaseStage, Resident
from shegong.core.audit import audit_record, audit_refusal
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.core.validators import mask_national_id, mask_phone

if TYPE_CHECKING:
    from shegong.accounts.models import User

# Age under which every record of a child is protected (security.md 8).
PROTECTED_CHILD_AGE = 14
# How long a break-the-glass grant stays open, at most (minutes).
GRANT_MINUTES_DEFAULT = 60
GRANT_MINUTES_MAX = 8 * 60
# Rows of personal data in one export (security.md 17).
EXPORT_CAP = 5000
# Aggregates over fewer people than this are suppressed for aggregate-only roles.
SMALL_CELL = 5


def sees_identity(user: User) -> bool:
    """Whether ``user`` sees national IDs and phones in clear (otherwise masked)."""
    return user.has_perm("casework.view_identity")


def may_export_personal(user: User) -> bool:
    """Whether ``user`` may export residents' personal data at all."""
    return user.has_perm("casework.export_personal")


def shown_national_id(user: User, resident: Resident) -> str:
    """The national ID as ``user`` may see it."""
    number = resident.national_id
    return number if sees_identity(user) else mask_national_id(number)


def shown_phone(user: User, resident: Resident) -> str:
    """The phone number as ``user`` may see it."""
    phone = resident.phone or ""
    return phone if sees_identity(user) else mask_phone(phone)


def is_protected_child(resident: Resident, today: date | None = None) -> bool:
    """Whether ``resident`` is a child under 14 today (all their records are protected)."""
    return resident.age_on(today or timezone.localdate()) < PROTECTED_CHILD_AGE


def is_protected(record: Resident | Case, today: date | None = None) -> bool:
    """Whether ``record`` is a protected record (security.md 8)."""
    if isinstance(record, Case):
        return record.protected or is_protected_child(record.resident, today)
    return is_protected_child(record, today)


def _is_case_team(user: User, record: Resident | Case) -> bool:
    """The assigned worker or the supervisor of the case, or of any open case of the
    resident."""
    if isinstance(record, Case):
        return user.pk in (record.assigned_to_id, record.supervisor_id)
    return (
        Case.objects.filter(resident=record)
        .exclude(stage__in=[CaseStage.CLOSED, CaseStage.DECLINED])
        .filter(Q(assigned_to=user) | Q(supervisor=user))
        .exists()
    )


def live_grant(user: User, record: Resident | Case) -> AccessGrant | None:
    """``user``'s unexpired break-the-glass grant on ``record`` (a grant on a resident also
    opens their cases)."""
    grants = AccessGrant.objects.filter(user=user, expires_at__gt=timezone.now())
    if isinstance(record, Case):
        grants = grants.filter(Q(case=record) | Q(resident_id=record.resident_id))
    else:
        grants = grants.filter(resident=record)
    return grants.order_by("-expires_at").first()


def may_open(user: User, record: Resident | Case) -> bool:
    """Whether ``user`` (who already has it in scope) may open ``record`` now."""
    if not is_protected(record):
        return True
    if isinstance(record, Resident) and _is_room_of(user, record):
        # The community's own room worker serves the child and their family.
        return True
    return _is_case_team(user, record) or live_grant(user, record) is not None


def _is_room_of(user: User, resident: Resident) -> bool:
    return (
        user.role == Role.ROOM_WORKER
        and bool(user.scope_prefix)
        and resident.community.code.startswith(user.scope_prefix)
    )


def record_notes_withheld(user: User, record) -> bool:
    """Whether the notes of a service record are withheld from ``user``: they belong to a
    protected case, or to a service to a child under 14, that ``user`` may not open."""
    if record.case_id is not None and not may_open(user, record.case):
        return True
    served = Resident.objects.filter(
        pk__in=[recipient.resident_id for recipient in record.recipients.all()]
    ).select_related("community")
    return any(is_protected_child(r) and not may_open(user, r) for r in served)


def access_grant_open(
    *, user: User, record: Resident | Case, reason: str, minutes: int = GRANT_MINUTES_DEFAULT
) -> AccessGrant:
    """Break the glass: open a protected record to ``user`` for ``minutes``, for a stated
    reason. Refused (and the refusal logged) without a reason of at least 5 characters."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        log_access(user, "break_glass", record, allowed=False)
        raise ValidationError({"reason": _("State why you need to open this record.")})
    if not 1 <= int(minutes) <= GRANT_MINUTES_MAX:
        raise ValidationError(
            {"minutes": _("A grant lasts from 1 to %(max)d minutes.") % {"max": GRANT_MINUTES_MAX}}
        )
    with transaction.atomic():
        grant = AccessGrant.objects.create(
            user=user,
            case=record if isinstance(record, Case) else None,
            resident=record if isinstance(record, Resident) else None,
            reason=reason[:300],
            expires_at=timezone.now() + timedelta(minutes=int(minutes)),
        )
        audit_record(
            actor=user,
            action=f"{_kind(record)}.break_glass",
            target=record,
            object_repr=_repr(record),
            after={"reason": grant.reason, "expires_at": grant.expires_at.isoformat()},
        )
    return grant


def _kind(record) -> str:
    return "case" if isinstance(record, Case) else "resident"


def _repr(record) -> str:
    """What the audit row names: the case number or the resident's row id — never the
    person's name or ID (the trail is read by the audit administrator)."""
    if isinstance(record, Case):
        return record.number
    return f"resident #{record.pk}"


def log_access(
    user: User,
    action: str,
    record: Resident | Case | None = None,
    *,
    allowed: bool = True,
    detail: dict | None = None,
    kind: str = "resident",
) -> None:
    """One access-log row: ``action`` is view, search, export, break_glass… For a search or
    an export, ``record`` is None, ``kind`` says of what ("resident", "case", "record") and
    ``detail`` says what (counts, filters — never an ID). Refusals are recorded at most
    ``core.audit.REFUSALS_PER_MINUTE`` a minute per user."""
    if not allowed:
        fields = (
            {"target": record, "object_repr": _repr(record)}
            if record is not None
            else {"object_type": f"casework.{kind}", "object_repr": str(action)}
        )
        audit_refusal(
            actor=user,
            action=f"{_kind(record) if record is not None else kind}.{action}",
            after=detail,
            **fields,
        )
        return
    if record is None:
        audit_record(
            actor=user,
            action=f"{kind}.{action}",
            object_type=f"casework.{kind}",
            object_repr=str(action),
            after=detail,
            outcome=AuditEvent.Outcome.ALLOWED if allowed else AuditEvent.Outcome.DENIED,
        )
        return
    audit_record(
        actor=user,
        action=f"{_kind(record)}.{action}",
        target=record,
        object_repr=_repr(record),
        after=detail,
        outcome=AuditEvent.Outcome.ALLOWED if allowed else AuditEvent.Outcome.DENIED,
    )


def no_store(response):
    """Mark a response that shows personal data as never to be cached (security.md 14)."""
    response["Cache-Control"] = "no-store"
    return response


def suppress_small(count: int, user: User) -> int | None:
    """An aggregate as ``user`` may see it: for aggregate-only roles, a count of fewer than
    ``SMALL_CELL`` people (but more than none) is suppressed (None)."""
    if user.sees_personal_data:
        return count
    return None if 0 < count < SMALL_CELL else count


def suppress_cell(person_times: int, records: int, user: User) -> tuple[int | None, int | None]:
    """A statistics cell (person-times and the records behind them) as ``user`` may see
    it: for aggregate-only roles a cell under ``SMALL_CELL`` person-times is suppressed
    whole — its record count with it, which would otherwise give it away."""
    shown = suppress_small(person_times, user)
    return shown, (records if shown is not None else None)


def retention_years() -> int:
    """Years after the last service before a resident is anonymised (security.md 18)."""
    return int(getattr(settings, "SHEGONG_RETENTION_YEARS", 10))

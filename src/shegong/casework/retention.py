"""Retention of residents' personal data (security.md 18; the schedule is docs/retention.md).

A resident no longer served is anonymised ``privacy.retention_years()`` years (setting
``SHEGONG_RETENTION_YEARS``, default 10) after the last thing that happened to them: their
registration, a move, a service received, a case opened or closed, a special-group status
started or ended, a consent given or withdrawn, a referral, a group membership. A resident
with an open case or a status still held is kept whatever the dates.

Anonymising keeps the rows that statistics count (service records and their person-times,
cases, statuses by group, residence history by community) and removes what identifies the
person: the name becomes "已匿名", the national ID a non-identifying placeholder (its keyed
hash one of a random token, so the unique index holds and the real ID can be registered
afresh), phone, notes, guardian link, disability certificate numbers, evidence texts,
consent givers' names, moving reasons and the narratives of their (closed) cases.

Break-the-glass grants that expired more than a year ago are deleted.

``casework_retention`` runs it (``--dry-run`` counts only); each run is audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from shegong.casework import privacy
from shegong.casework.models import (
    AccessGrant,
    Case,
    CaseNote,
    CaseStage,
    Consent,
    GroupMember,
    Household,
    Referral,
    Residence,
    Resident,
    ServiceRecipient,
    SpecialStatus,
)
from shegong.core.audit import audit_record
from shegong.core.crypto import lookup_hash
from shegong.core.validators import national_id_check_digit

ANONYMISED_NAME = "已匿名"
# A placeholder that parses as an ID (the code reads birth date and sex off it) but belongs
# to nobody: area 999999 does not exist, the birth date is 1900-01-01.
_PLACEHOLDER_17 = "99999919000101000"
ANONYMISED_ID = _PLACEHOLDER_17 + national_id_check_digit(_PLACEHOLDER_17)
# How long an expired break-the-glass grant is kept (the audit trail keeps the event).
GRANT_KEEP_DAYS = 365
BATCH = 500


@dataclass
class RetentionReport:
    """What a run did (or, dry, would do)."""

    cutoff: date
    residents: int = 0
    grants: int = 0
    dry_run: bool = False


def cutoff_date(today: date | None = None, years: int | None = None) -> date:
    """The day before which activity counts as expired."""
    today = today or timezone.localdate()
    years = privacy.retention_years() if years is None else years
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def expired_residents(cutoff: date) -> QuerySet:
    """Residents not yet anonymised with nothing on or after ``cutoff`` and no open case
    or held status."""
    resident = OuterRef("pk")
    cutoff_start = timezone.make_aware(datetime.combine(cutoff, datetime.min.time()))
    recent_service = ServiceRecipient.objects.filter(
        resident=resident, record__served_on__gte=cutoff
    )
    live_case = Case.objects.filter(resident=resident).filter(
        ~Q(stage__in=[CaseStage.CLOSED, CaseStage.DECLINED])
        | Q(opened_on__gte=cutoff)
        | Q(closed_on__gte=cutoff)
    )
    live_status = SpecialStatus.objects.filter(resident=resident).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=cutoff) | Q(started_on__gte=cutoff)
    )
    recent_move = Residence.objects.filter(resident=resident).filter(
        Q(moved_in_on__gte=cutoff) | Q(moved_out_on__gte=cutoff)
    )
    recent_consent = Consent.objects.filter(resident=resident).filter(
        Q(given_on__gte=cutoff) | Q(withdrawn_on__gte=cutoff)
    )
    recent_referral = Referral.objects.filter(resident=resident).filter(
        Q(sent_on__gte=cutoff) | Q(answered_on__gte=cutoff)
    )
    recent_group = GroupMember.objects.filter(resident=resident).filter(
        Q(joined_on__gte=cutoff) | Q(left_on__isnull=True) | Q(left_on__gte=cutoff)
    )
    return (
        Resident.objects.filter(anonymised_at__isnull=True, created_at__lt=cutoff_start)
        .exclude(Exists(recent_service))
        .exclude(Exists(live_case))
        .exclude(Exists(live_status))
        .exclude(Exists(recent_move))
        .exclude(Exists(recent_consent))
        .exclude(Exists(recent_referral))
        .exclude(Exists(recent_group))
        .order_by("pk")
    )


def expired_grants(now: datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    return AccessGrant.objects.filter(expires_at__lt=now - timedelta(days=GRANT_KEEP_DAYS))


def anonymise(resident: Resident, *, actor=None) -> None:
    """Remove what identifies ``resident`` (call inside a transaction)."""
    now = timezone.now()
    resident.name = ANONYMISED_NAME
    resident.national_id = ANONYMISED_ID
    resident.national_id_hash = lookup_hash("ANONYMISED-" + secrets.token_hex(16))
    resident.phone = ""
    resident.notes = ""
    resident.guardian = None
    resident.guardian_relationship = ""
    resident.anonymised_at = now
    resident.version += 1
    resident.save()
    SpecialStatus.objects.filter(resident=resident).update(certificate_number="", evidence="")
    Consent.objects.filter(resident=resident).update(given_by_name=ANONYMISED_NAME)
    Residence.objects.filter(resident=resident).update(reason="")
    cases = Case.objects.filter(resident=resident)
    cases.update(presenting_problem="", assessment="", evaluation="", closing_report="")
    CaseNote.objects.filter(case__in=cases).update(text="")
    # Wards keep their records; the link to this (former) guardian goes.
    Resident.objects.filter(guardian=resident).update(guardian=None, guardian_relationship="")
    if resident.household_id and not (
        Resident.objects.filter(household_id=resident.household_id, anonymised_at__isnull=True)
        .exclude(pk=resident.pk)
        .exists()
    ):
        Household.objects.filter(pk=resident.household_id).update(address="")
    audit_record(
        actor=actor,
        action="resident.anonymise",
        target=resident,
        object_repr=f"resident #{resident.pk}",
        after={"reason": "retention"},
        username="retention",
    )


def run_retention(
    *, dry_run: bool = False, today: date | None = None, actor=None
) -> RetentionReport:
    """Anonymise the expired residents and delete the old grants (or count them)."""
    cutoff = cutoff_date(today)
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    grants = expired_grants()
    if dry_run:
        report.residents = expired_residents(cutoff).count()
        report.grants = grants.count()
        return report
    while True:
        with transaction.atomic():
            batch = list(expired_residents(cutoff).select_for_update()[:BATCH])
            for resident in batch:
                anonymise(resident, actor=actor)
        report.residents += len(batch)
        if len(batch) < BATCH:
            break
    with transaction.atomic():
        report.grants, _ = grants.delete()
        audit_record(
            actor=actor,
            action="retention.run",
            object_type="casework.resident",
            object_repr="retention",
            after={
                "cutoff": cutoff.isoformat(),
                "years": privacy.retention_years(),
                "residents_anonymised": report.residents,
                "grants_deleted": report.grants,
            },
            username="retention",
        )
    return report

"""Reads: the front-line worker's home page (issue #6 item 8).

``worker_home`` answers in a few small, indexed queries — it must stay under 200 ms with
10 M service records and 1 M residents:

- follow-ups: open cases assigned to the user whose next review is due (index
  ``casework_case_assigned``: assigned_to, stage);
- review reminders: the user's open cases (assigned or supervised) with a review in the
  next ``REVIEW_DAYS`` days, and special-group statuses of residents in the user's area
  whose review date is due within ``REVIEW_DAYS`` days (or past);
- overdue referrals on both sides: pending, past their due date, sent from or to a
  facility in the user's area (``Referral.scope_q``);
- recent residents: the distinct residents of the user's latest ``RECENT_RECORDS``
  service records (see ``_latest_record_ids``), at most ``RECENT_RESIDENTS``, still in
  scope.

Everything is returned as plain values (ids, names, dates), ready for a page or JSON.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import F, Max, Q
from django.utils import timezone

from shegong.casework.models import (
    Case,
    CaseStage,
    Referral,
    ReferralStatus,
    Resident,
    ServiceRecipient,
    ServiceRecord,
    SpecialStatus,
)
from shegong.core.scoping import VIEW

REVIEW_DAYS = 14
RECENT_RECORDS = 50
RECENT_RESIDENTS = 10
RECENT_WINDOW = 100_000
LIST_LIMIT = 20
_CLOSED = [CaseStage.CLOSED, CaseStage.DECLINED]


def _case_row(case: Case) -> dict:
    return {
        "id": case.pk,
        "number": case.number,
        "resident_id": case.resident_id,
        "resident_name": case.resident.name,
        "stage": case.stage,
        "risk_level": case.risk_level,
        "next_review_on": case.next_review_on,
    }


def _cases(user, today: date, horizon: date, assigned_only: bool):
    qs = Case.objects.restrict(user, VIEW).exclude(stage__in=_CLOSED)
    who = Q(assigned_to=user) if assigned_only else Q(assigned_to=user) | Q(supervisor=user)
    return (
        qs.filter(who, next_review_on__isnull=False, next_review_on__lte=horizon)
        .select_related("resident")
        .only(
            "id",
            "number",
            "stage",
            "risk_level",
            "next_review_on",
            "assigned_to_id",
            "resident_id",
            "resident__id",
            "resident__name",
        )
        .order_by("next_review_on", "id")[:LIST_LIMIT]
    )


def follow_ups(user, today: date) -> list[dict]:
    """Open cases assigned to the user whose next review is today or earlier."""
    return [_case_row(c) for c in _cases(user, today, today, assigned_only=True)]


def review_reminders(user, today: date) -> list[dict]:
    """Reviews coming up: the user's cases due in the next days (not yet due: those are
    follow-ups), and special-group statuses due for review in the user's area."""
    horizon = today + timedelta(days=REVIEW_DAYS)
    rows = [
        {"kind": "case", **_case_row(c)}
        for c in _cases(user, today, horizon, assigned_only=False)
        if c.next_review_on > today or c.assigned_to_id != user.pk
    ]
    statuses = (
        SpecialStatus.objects.restrict(user, VIEW)
        .filter(review_on__isnull=False, review_on__lte=horizon, started_on__lte=today)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
        .filter(resident__anonymised_at__isnull=True)
        .select_related("resident")
        .only("id", "group", "review_on", "resident_id", "resident__id", "resident__name")
        .order_by("review_on", "id")[:LIST_LIMIT]
    )
    rows += [
        {
            "kind": "status",
            "id": s.pk,
            "group": s.group,
            "group_label": s.get_group_display(),
            "resident_id": s.resident_id,
            "resident_name": s.resident.name,
            "review_on": s.review_on,
            "overdue": s.review_on < today,
        }
        for s in statuses
    ]
    return rows


def overdue_referrals(user, today: date) -> list[dict]:
    """Pending referrals past their due date, sent from or to a facility in the user's
    area (both sides see them)."""
    prefix = user.scope_prefix or "\x00"
    qs = (
        Referral.objects.restrict(user, VIEW)
        .filter(status=ReferralStatus.PENDING, due_on__lt=today)
        .select_related("resident", "from_facility__division", "to_facility__division")
        .only(
            "id",
            "due_on",
            "sent_on",
            "to_agency",
            "resident__id",
            "resident__name",
            "from_facility__id",
            "from_facility__name",
            "from_facility__division__code",
            "to_facility__id",
            "to_facility__name",
            "to_facility__division__code",
        )
        .order_by("due_on", "id")[:LIST_LIMIT]
    )
    rows = []
    for r in qs:
        sent = r.from_facility.division.code.startswith(prefix)
        rows.append(
            {
                "id": r.pk,
                "resident_id": r.resident_id,
                "resident_name": r.resident.name,
                "from_name": r.from_facility.name,
                "to_name": r.to_facility.name if r.to_facility_id else r.to_agency,
                "sent_on": r.sent_on,
                "due_on": r.due_on,
                "days_overdue": (today - r.due_on).days,
                "direction": "sent" if sent else "received",
            }
        )
    return rows


def _latest_record_ids(user) -> list[int]:
    """The ids of the user's latest ``RECENT_RECORDS`` records, in two bounded steps so
    that neither a very busy user nor one with few records costs a long scan: first among
    the newest ``RECENT_WINDOW`` records (a primary-key range), and only if that finds too
    few, through the index on ``recorded_by`` (ordered by an expression, so the planner
    cannot choose a backward scan of the whole table instead)."""
    newest = ServiceRecord.objects.aggregate(n=Max("id"))["n"]
    if newest is None:
        return []
    mine = ServiceRecord.objects.filter(recorded_by=user)
    ids = list(
        mine.filter(id__gt=newest - RECENT_WINDOW)
        .order_by("-id")
        .values_list("id", flat=True)[:RECENT_RECORDS]
    )
    if len(ids) < RECENT_RECORDS:
        ids = list(
            mine.order_by((F("id") + 0).desc()).values_list("id", flat=True)[:RECENT_RECORDS]
        )
    return ids


def recent_residents(user) -> list[dict]:
    """The distinct residents the user served most recently (from their latest records),
    still in their scope."""
    latest = _latest_record_ids(user)
    seen: dict[int, date] = {}
    for resident_id, served_on in (
        ServiceRecipient.objects.filter(record_id__in=latest)
        .order_by("-record_id")
        .values_list("resident_id", "record__served_on")
    ):
        if resident_id not in seen:
            seen[resident_id] = served_on
    if not seen:
        return []
    names = dict(
        Resident.objects.restrict(user, VIEW)
        .filter(pk__in=list(seen), anonymised_at__isnull=True)
        .values_list("pk", "name")
    )
    return [
        {"id": pk, "name": names[pk], "last_served_on": day}
        for pk, day in seen.items()
        if pk in names
    ][:RECENT_RESIDENTS]


def worker_home(user, today: date | None = None) -> dict:
    """What the front-line worker has to do today (see the module's docstring)."""
    today = today or timezone.localdate()
    return {
        "today": today,
        "follow_ups": follow_ups(user, today),
        "review_reminders": review_reminders(user, today),
        "overdue_referrals": overdue_referrals(user, today),
        "recent_residents": recent_residents(user),
    }

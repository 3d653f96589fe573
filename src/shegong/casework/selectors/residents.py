"""Reads of residents: the list (search, filters, sorting) and a resident's timeline.

Every read starts from ``Resident.objects.restrict(user)``. The list is built for a large
registry (a million residents): a room worker's list is narrowed to their community's id so
PostgreSQL walks the ``(community, name)`` index and stops at the first page; statuses are
prefetched for the page only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.casework.models import (
    Case,
    Referral,
    Resident,
    ServiceRecord,
    SpecialGroup,
    SpecialStatus,
)
from shegong.geo.models import Level

# Age bands of the list filter: (lowest age, age from which the band no longer applies).
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "under_14": (0, 14),
    "under_18": (0, 18),
    "adult": (18, 60),
    "elder": (60, None),
}
# Sorting of the list: name → the ORM ordering.
RESIDENT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "community": ("community__code", "name", "id"),
    "-community": ("-community__code", "name", "id"),
    "newest": ("-created_at", "-id"),
}
# Filtering by age needs the birth date, which lives in the encrypted ID: it is read for at
# most this many residents (narrow the list by community first).
AGE_SCAN_LIMIT = 20000


def current_statuses_q(today: date | None = None) -> Q:
    """Statuses held on ``today``."""
    today = today or timezone.localdate()
    return Q(started_on__lte=today) & (Q(ended_on__isnull=True) | Q(ended_on__gte=today))


def residents_in_scope(user) -> QuerySet:
    """The residents ``user`` may see; a room worker's narrowed to their community's id
    (the same rows, but an index the database can use)."""
    qs = Resident.objects.restrict(user, "view")
    division = getattr(user, "division", None)
    if division is not None and division.level == Level.COMMUNITY:
        qs = qs.filter(community_id=division.pk)
    return qs


def resident_list(
    user,
    *,
    q: str = "",
    community_code: str = "",
    group: str = "",
    age_band: str = "",
    sort: str = "",
    today: date | None = None,
) -> QuerySet:
    """Residents in scope: name contains ``q``; community (or a town, county) by code
    prefix; holding ``group`` today; in an age band; sorted. Raises ``ValidationError``
    when an age band is asked of more than ``AGE_SCAN_LIMIT`` residents."""
    today = today or timezone.localdate()
    qs = residents_in_scope(user).select_related("community").defer("notes")
    q = (q or "").strip()
    if q:
        qs = qs.filter(name__icontains=q)
    if community_code:
        qs = qs.filter(community__code__startswith=community_code.strip())
    if group and group in SpecialGroup.values:
        qs = qs.filter(
            Exists(
                SpecialStatus.objects.filter(resident=OuterRef("pk"), group=group).filter(
                    current_statuses_q(today)
                )
            )
        )
    if age_band in AGE_BANDS:
        qs = _in_age_band(qs, age_band, today)
    qs = qs.order_by(*RESIDENT_SORTS.get(sort or "name", RESIDENT_SORTS["name"]))
    return qs.prefetch_related(
        Prefetch(
            "statuses",
            queryset=SpecialStatus.objects.filter(current_statuses_q(today)).order_by("group"),
            to_attr="current_statuses",
        )
    )


def _in_age_band(qs: QuerySet, band: str, today: date) -> QuerySet:
    low, high = AGE_BANDS[band]
    ids = list(qs.order_by().values_list("pk", flat=True)[: AGE_SCAN_LIMIT + 1])
    if len(ids) > AGE_SCAN_LIMIT:
        raise ValidationError(
            {
                "age_band": _(
                    "Too many residents to filter by age: choose a community or a group first."
                )
            }
        )
    keep = []
    for resident in Resident.objects.filter(pk__in=ids).only("pk", "national_id"):
        try:
            age = resident.age_on(today)
        except ValidationError:
            continue
        if age >= low and (high is None or age < high):
            keep.append(resident.pk)
    return qs.filter(pk__in=keep)


@dataclass(frozen=True)
class TimelineEntry:
    """One dated thing on a resident's timeline."""

    day: date
    kind: str  # service, case, status, status_end, residence, consent, consent_withdrawn, referral
    obj: Any
    order: int = 0


def resident_timeline(user, resident: Resident, *, services_limit: int = 200) -> list:
    """What happened to ``resident``, newest first: services they received (the records in
    ``user``'s scope), cases, statuses started and ended, moves, consents given and
    withdrawn, referrals."""
    entries: list[TimelineEntry] = []
    records = (
        ServiceRecord.objects.restrict(user, "view")
        .filter(recipients__resident=resident)
        .select_related("facility")
        .order_by("-served_on", "-id")[:services_limit]
    )
    entries += [TimelineEntry(r.served_on, "service", r, r.pk) for r in records]
    for case in Case.objects.restrict(user, "view").filter(resident=resident):
        entries.append(TimelineEntry(case.opened_on, "case", case, case.pk))
    for status in resident.statuses.all():
        entries.append(TimelineEntry(status.started_on, "status", status, status.pk))
        if status.ended_on:
            entries.append(TimelineEntry(status.ended_on, "status_end", status, status.pk))
    for residence in resident.residences.select_related("community"):
        entries.append(TimelineEntry(residence.moved_in_on, "residence", residence, residence.pk))
    for consent in resident.consents.all():
        entries.append(TimelineEntry(consent.given_on, "consent", consent, consent.pk))
        if consent.withdrawn_on:
            entries.append(
                TimelineEntry(consent.withdrawn_on, "consent_withdrawn", consent, consent.pk)
            )
    referrals = (
        Referral.objects.restrict(user, "view")
        .filter(resident=resident)
        .select_related("from_facility", "to_facility")
    )
    entries += [TimelineEntry(r.sent_on, "referral", r, r.pk) for r in referrals]
    entries.sort(key=lambda e: (e.day, e.order), reverse=True)
    return entries


def resident_cases(user, resident: Resident) -> QuerySet:
    return Case.objects.restrict(user, "view").filter(resident=resident).order_by("-opened_on")


def resident_referrals(user, resident: Resident) -> QuerySet:
    return (
        Referral.objects.restrict(user, "view")
        .filter(resident=resident)
        .select_related("from_facility", "to_facility")
    )


# The resident picker: at most this many answers to one query.
PICK_LIMIT = 20
_LAST4 = re.compile(r"^[0-9]{3}[0-9Xx]$")
_LATIN = re.compile(r"^[a-z]+$")


def residents_picked(user, query: str, *, limit: int = PICK_LIMIT) -> list[Resident]:
    """Residents in ``user``'s scope matching what was typed into the picker: the last four
    characters of the ID ("1234"), pinyin initials or pinyin ("wj", "wujing"), or part of
    the name ("吴"). Anonymised residents are left out; sorted by pinyin; at most
    ``limit``."""
    query = (query or "").strip().lower().replace(" ", "")[:50]
    if not query:
        return []
    qs = residents_in_scope(user).filter(anonymised_at__isnull=True)
    if _LAST4.match(query):
        qs = qs.filter(national_id_last4=query.upper())
    elif _LATIN.match(query):
        qs = qs.filter(Q(name_initials__startswith=query) | Q(name_pinyin__startswith=query))
    else:
        qs = qs.filter(name__icontains=query)
    return list(
        qs.select_related("community")
        .only("pk", "name", "national_id", "name_pinyin", "anonymised_at", "community__name")
        .order_by("name_pinyin", "name", "pk")[:limit]
    )

"""Reads: service records, groups and activities, always from ``restrict``."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from shegong.casework.models import (
    Activity,
    GroupMember,
    ServiceDomain,
    ServiceMethod,
    ServiceRecipient,
    ServiceRecord,
    WorkGroup,
)
from shegong.core.scoping import VIEW
from shegong.network.models import Facility


def service_record_list(
    *,
    user,
    start: date | None = None,
    end: date | None = None,
    method: str = "",
    domain: str = "",
    facility_id: int | None = None,
    resident_id: int | None = None,
    case_id: int | None = None,
    group_id: int | None = None,
    activity_id: int | None = None,
    project_id: int | None = None,
) -> QuerySet[ServiceRecord]:
    """Service records the user sees, newest first, filtered. The notes column (encrypted)
    is deferred: a list never shows it."""
    qs = ServiceRecord.objects.restrict(user, VIEW).defer("notes", "session_plan")
    if start:
        qs = qs.filter(served_on__gte=start)
    if end:
        qs = qs.filter(served_on__lte=end)
    if method in ServiceMethod.values:
        qs = qs.filter(method=method)
    if domain in ServiceDomain.values:
        qs = qs.filter(domain=domain)
    if facility_id:
        qs = qs.filter(facility_id=facility_id)
    if resident_id:
        qs = qs.filter(
            pk__in=ServiceRecipient.objects.filter(resident_id=resident_id).values("record_id")
        )
    for name, value in (
        ("case_id", case_id),
        ("group_id", group_id),
        ("activity_id", activity_id),
        ("project_id", project_id),
    ):
        if value:
            qs = qs.filter(**{name: value})
    return qs.order_by("-served_on", "-id")


def with_recipients(qs: QuerySet[ServiceRecord]) -> QuerySet[ServiceRecord]:
    """Prefetch the residents served (names only: nothing encrypted is decrypted)."""
    return qs.select_related("facility").prefetch_related(
        Prefetch(
            "recipients",
            queryset=ServiceRecipient.objects.select_related("resident")
            .only("id", "record_id", "resident__id", "resident__name")
            .order_by("id"),
        )
    )


def facilities_for(user) -> QuerySet[Facility]:
    """Facilities the user may record services at (their area's, not closed)."""
    return (
        Facility.objects.restrict(user, VIEW)
        .exclude(status="closed")
        .select_related("division")
        .order_by("division__code", "tier")
    )


def group_list(*, user, stage: str = "", facility_id: int | None = None) -> QuerySet[WorkGroup]:
    qs = (
        WorkGroup.objects.restrict(user, VIEW)
        .select_related("facility", "leader")
        .annotate(
            member_count=Count(
                "memberships", filter=Q(memberships__left_on__isnull=True), distinct=True
            ),
            session_count=Count("sessions", distinct=True),
        )
    )
    if stage:
        qs = qs.filter(stage=stage)
    if facility_id:
        qs = qs.filter(facility_id=facility_id)
    return qs.order_by("-started_on", "-id")


def group_members(group: WorkGroup) -> QuerySet[GroupMember]:
    return (
        GroupMember.objects.filter(group=group)
        .select_related("resident")
        .only(
            "id",
            "group_id",
            "joined_on",
            "left_on",
            "resident__id",
            "resident__name",
        )
        .order_by("left_on", "resident__name", "id")
    )


def activity_list(*, user, facility_id: int | None = None) -> QuerySet[Activity]:
    """Activities the user sees, with the person-times recorded for each (None: not yet)."""
    qs = (
        Activity.objects.restrict(user, VIEW)
        .select_related("facility")
        .annotate(person_times=Sum("service_records__person_times"))
    )
    if facility_id:
        qs = qs.filter(facility_id=facility_id)
    return qs.order_by("-held_on", "-id")

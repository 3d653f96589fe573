"""Writes: community activities (issue #6 item 4).

Community work runs needs assessment → plan → delivery → summary. An activity is planned
(``activity_create``: needs, plan, date, place, partners, volunteers) and, once held, its
participants are recorded once (``activity_record``): a service record with method
"community" whose person-times are the registered participants plus the head-count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from shegong.casework.models import (
    Activity,
    ServiceDomain,
    ServiceMethod,
    ServiceRecord,
)
from shegong.casework.services.records import service_record_create
from shegong.core.audit import audit_record
from shegong.core.permissions import MissingPermission
from shegong.core.validators import clean_text


def activity_create(
    *,
    actor,
    facility,
    title: str,
    held_on: date,
    needs: str = "",
    plan: str = "",
    place: str = "",
    partners: str = "",
    volunteer_count: int = 0,
) -> Activity:
    """Plan a community activity at ``facility`` (in the actor's scope). It may lie in the
    future; its participants are recorded once it has been held."""
    if actor is not None:
        if not actor.has_perm("casework.add_activity"):
            raise MissingPermission("casework.add_activity")
        if not actor.scope_prefix or not facility.division.code.startswith(actor.scope_prefix):
            raise Http404
    errors: dict[str, list[str]] = {}
    try:
        title = clean_text(title, "title", _("Name the activity."))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not isinstance(held_on, date):
        errors["held_on"] = [_("Give the date of the activity.")]
    try:
        volunteer_count = int(volunteer_count or 0)
    except (TypeError, ValueError):
        volunteer_count = -1
    if not 0 <= volunteer_count <= 10_000:
        errors["volunteer_count"] = [_("Give the number of volunteers (0 or more).")]
    if facility.status == "closed":
        errors["facility"] = [_("The facility is closed.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        activity = Activity.objects.create(
            facility=facility,
            title=title,
            held_on=held_on,
            needs=(needs or "").strip(),
            plan=(plan or "").strip(),
            place=(place or "").strip()[:200],
            partners=(partners or "").strip()[:300],
            volunteer_count=volunteer_count,
        )
        audit_record(
            actor=actor,
            action="activity.create",
            target=activity,
            after={
                "facility": facility.pk,
                "held_on": held_on.isoformat(),
                "volunteer_count": volunteer_count,
            },
        )
    return activity


def activity_record(
    *,
    actor,
    activity: Activity,
    residents: Sequence = (),
    headcount: int = 0,
    summary: str = "",
    domain: str = ServiceDomain.COMMUNITY_PARTICIPATION,
    duration_minutes: int = 120,
    project=None,
    target_group: str = "",
    poverty_alleviation: bool = False,
    workers: Sequence = (),
    volunteers: str = "",
) -> ServiceRecord:
    """Record who took part in a held activity — registered residents and a head-count —
    as one service record (method "community", dated the activity's day), and keep the
    summary on the activity. Once only: a second record would count the people twice."""
    if actor is not None and not actor.has_perm("casework.change_activity"):
        raise MissingPermission("casework.change_activity")
    if ServiceRecord.objects.filter(activity=activity).exists():
        raise ValidationError(
            {"activity": [_("The participants of this activity are already recorded.")]}
        )
    with transaction.atomic():
        record = service_record_create(
            actor,
            facility=activity.facility,
            served_on=activity.held_on,
            domain=domain,
            method=ServiceMethod.COMMUNITY,
            residents=residents,
            headcount=headcount,
            duration_minutes=duration_minutes,
            place=activity.place,
            notes="",
            activity=activity,
            project=project,
            target_group=target_group,
            poverty_alleviation=poverty_alleviation,
            workers=workers,
            volunteers=volunteers,
        )
        summary = (summary or "").strip()
        if summary:
            Activity.objects.filter(pk=activity.pk).update(summary=summary)
            activity.summary = summary
    return record

"""Writes: group work (MZ/T 095-2017, issue #6 item 4).

A group is run by a facility, has a type, a leader (a platform user in the actor's area),
members (residents in scope) and moves through its stages in ``GroupStage`` order, one step
at a time. A session is a service record (method "group") numbered in order, with its plan,
its attendees (members only) as recipients and its summary as the record's notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.casework.models import (
    GroupMember,
    GroupStage,
    GroupType,
    Resident,
    ServiceDomain,
    ServiceMethod,
    ServiceRecord,
    SpecialGroup,
    WorkGroup,
)
from shegong.casework.services.records import service_record_create
from shegong.core.audit import audit_record
from shegong.core.permissions import MissingPermission
from shegong.core.scoping import VIEW
from shegong.core.validators import check_not_future, clean_text

STAGE_ORDER = list(GroupStage.values)


def _check(actor, perm: str, code: str) -> None:
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise MissingPermission(perm)
    if not actor.scope_prefix or not code.startswith(actor.scope_prefix):
        raise Http404


def next_stage(stage: str) -> str | None:
    """The stage after ``stage`` (None after the ending)."""
    index = STAGE_ORDER.index(stage)
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) else None


def group_create(
    *,
    actor,
    facility,
    name: str,
    group_type: str,
    leader,
    started_on: date,
    target_group: str = "",
    goals: str = "",
    planned_sessions: int = 6,
) -> WorkGroup:
    """Set up a group at ``facility`` (in the actor's scope) in the preparation stage."""
    _check(actor, "casework.add_workgroup", facility.division.code)
    errors: dict[str, list[str]] = {}
    try:
        name = clean_text(name, "name", _("Name the group."))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if group_type not in GroupType.values:
        errors["group_type"] = [_("Choose the type of group.")]
    if target_group and target_group not in SpecialGroup.values:
        errors["target_group"] = [_("Unknown special group.")]
    try:
        planned_sessions = int(planned_sessions)
    except (TypeError, ValueError):
        planned_sessions = 0
    if not 1 <= planned_sessions <= 100:
        errors["planned_sessions"] = [_("Plan from 1 to 100 sessions.")]
    if not isinstance(started_on, date):
        errors["started_on"] = [_("Give the start date.")]
    if leader is None or not leader.is_active:
        errors["leader"] = [_("Choose the group leader.")]
    elif actor is not None and not (
        leader.scope_prefix and leader.scope_prefix.startswith(actor.scope_prefix)
    ):
        errors["leader"] = [_("The leader must work in your area.")]
    if facility.status == "closed":
        errors["facility"] = [_("The facility is closed.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        group = WorkGroup.objects.create(
            facility=facility,
            name=name,
            group_type=group_type,
            target_group=target_group,
            goals=(goals or "").strip(),
            planned_sessions=planned_sessions,
            leader=leader,
            started_on=started_on,
        )
        audit_record(
            actor=actor,
            action="group.create",
            target=group,
            after={
                "facility": facility.pk,
                "group_type": group_type,
                "target_group": target_group,
                "planned_sessions": planned_sessions,
                "leader": leader.pk,
                "started_on": started_on.isoformat(),
            },
        )
    return group


def group_member_add(
    *, actor, group: WorkGroup, resident: Resident, joined_on: date | None = None
) -> GroupMember:
    """Add a resident in the actor's scope to the group (again, if they had left)."""
    _check(actor, "casework.change_workgroup", group.facility.division.code)
    if actor is not None and not (
        Resident.objects.restrict(actor, VIEW).filter(pk=resident.pk).exists()
    ):
        raise Http404
    joined_on = joined_on or timezone.localdate()
    check_not_future(joined_on, "joined_on")
    if group.stage == GroupStage.ENDING:
        raise ValidationError({"resident": [_("The group has ended: no new members.")]})
    with transaction.atomic():
        member, created = GroupMember.objects.select_for_update().get_or_create(
            group=group, resident=resident, defaults={"joined_on": joined_on}
        )
        if not created:
            if member.left_on is None:
                raise ValidationError({"resident": [_("This resident is already a member.")]})
            member.joined_on, member.left_on = joined_on, None
            member.save(update_fields=["joined_on", "left_on"])
        audit_record(
            actor=actor,
            action="group.member_add",
            target=group,
            after={"resident": resident.pk, "joined_on": joined_on.isoformat()},
        )
    return member


def group_member_remove(
    *, actor, group: WorkGroup, resident: Resident, left_on: date | None = None
) -> GroupMember:
    """A member leaves the group (the membership is kept, with the day they left)."""
    _check(actor, "casework.change_workgroup", group.facility.division.code)
    left_on = left_on or timezone.localdate()
    check_not_future(left_on, "left_on")
    with transaction.atomic():
        member = (
            GroupMember.objects.select_for_update()
            .filter(group=group, resident=resident, left_on__isnull=True)
            .first()
        )
        if member is None:
            raise ValidationError({"resident": [_("This resident is not a member.")]})
        if left_on < member.joined_on:
            raise ValidationError({"left_on": [_("A member cannot leave before joining.")]})
        member.left_on = left_on
        member.save(update_fields=["left_on"])
        audit_record(
            actor=actor,
            action="group.member_remove",
            target=group,
            after={"resident": resident.pk, "left_on": left_on.isoformat()},
        )
    return member


def group_advance(*, actor, group: WorkGroup, to_stage: str | None = None) -> WorkGroup:
    """Move the group to its next stage — preparation → formation → transition → maturity
    → ending, one step forward only. ``to_stage``, when given, must be that next stage."""
    _check(actor, "casework.change_workgroup", group.facility.division.code)
    with transaction.atomic():
        locked = WorkGroup.objects.select_for_update().get(pk=group.pk)
        following = next_stage(locked.stage)
        if following is None:
            raise ValidationError({"stage": [_("The group has ended: there is no next stage.")]})
        if to_stage and to_stage != following:
            raise ValidationError(
                {
                    "stage": [
                        _("A group moves one stage at a time: after “%(now)s” comes “%(next)s”.")
                        % {
                            "now": GroupStage(locked.stage).label,
                            "next": GroupStage(following).label,
                        }
                    ]
                }
            )
        before = locked.stage
        locked.stage = following
        locked.save(update_fields=["stage"])
        audit_record(
            actor=actor,
            action="group.advance",
            target=locked,
            before={"stage": before},
            after={"stage": following},
        )
    group.stage = locked.stage
    return group


def group_session_record(
    *,
    actor,
    group: WorkGroup,
    served_on: date,
    attendees: Sequence = (),
    session_plan: str = "",
    summary: str = "",
    domain: str = ServiceDomain.SOCIAL_SUPPORT,
    duration_minutes: int = 90,
    place: str = "",
    headcount: int = 0,
    project=None,
    poverty_alleviation: bool = False,
    workers: Sequence = (),
    volunteers: str = "",
) -> ServiceRecord:
    """Record the group's next session: a service record with method "group", numbered
    after the last one, its attendees (members only) as recipients — person-times = the
    attendees — and the summary as its notes."""
    if actor is not None and not actor.has_perm("casework.view_workgroup"):
        raise MissingPermission("casework.view_workgroup")
    if not attendees and not headcount:
        raise ValidationError({"residents": [_("Mark who attended the session.")]})
    return service_record_create(
        actor,
        facility=group.facility,
        served_on=served_on,
        domain=domain,
        method=ServiceMethod.GROUP,
        residents=attendees,
        headcount=headcount,
        duration_minutes=duration_minutes,
        place=place,
        notes=summary,
        group=group,
        project=project,
        target_group=group.target_group,
        poverty_alleviation=poverty_alleviation,
        workers=workers,
        volunteers=volunteers,
        session_plan=session_plan,
    )

"""Writes for the network: facilities and their status, standards, organisations, visits.

Every service checks who may do it (role and scope), validates, writes and audits in one
transaction. Errors are ``ValidationError`` (bad input, Chinese messages), ``PermissionDenied``
(role may not) or ``Http404`` (outside scope); a stale edit raises ``ConflictError``.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.core.audit import audit_record, model_snapshot
from shegong.core.permissions import MissingPermission
from shegong.core.roles import MANAGED_TIERS, SUPERVISING_TIER
from shegong.core.validators import clean_text, validate_uscc
from shegong.geo.models import Division, Kind
from shegong.network.models import (
    CHECKLIST_ITEMS,
    STATUS_TRANSITIONS,
    TIER_LEVEL,
    Facility,
    FacilityStatus,
    FacilityStatusPeriod,
    IncubationStage,
    OperatorKind,
    RequiredFix,
    SocialOrganisation,
    StaffingStandard,
    SupervisionVisit,
    Tier,
)

FACILITY_AUDIT_FIELDS = [
    "tier",
    "division",
    "name",
    "operator_kind",
    "operator",
    "address",
    "phone",
    "opened_on",
    "status",
    "checklist",
]


class ConflictError(Exception):
    """The object changed since the user loaded it (answer 409)."""


def _in_scope(user, division: Division) -> bool:
    return bool(user.scope_prefix) and division.code.startswith(user.scope_prefix)


def check_manages_tier(user, tier: str, division: Division) -> None:
    """The user may manage facilities of ``tier`` in ``division`` (else 403 or 404)."""
    if not _in_scope(user, division):
        raise Http404
    if tier not in MANAGED_TIERS.get(user.role, ()):
        raise PermissionDenied(_("Your role does not manage this tier of facility."))


def clean_checklist(checklist: dict | None) -> dict:
    """Keep the known checklist items as {"done": bool, "note": str}."""
    cleaned = {}
    for key, value in (checklist or {}).items():
        if key not in CHECKLIST_ITEMS:
            raise ValidationError(
                {"checklist": _("Unknown checklist item: %(item)s") % {"item": key}}
            )
        value = value or {}
        cleaned[key] = {"done": bool(value.get("done")), "note": str(value.get("note", ""))[:500]}
    return cleaned


@transaction.atomic
def facility_create(
    *,
    actor,
    tier: str,
    division: Division,
    name: str,
    status: str = FacilityStatus.PLANNED,
    status_from: date,
    operator_kind: str = OperatorKind.GOVERNMENT,
    operator: SocialOrganisation | None = None,
    address: str = "",
    phone: str = "",
    checklist: dict | None = None,
) -> Facility:
    """Create a facility of a tier for a division of the right level, with its first status."""
    if tier not in Tier.values:
        raise ValidationError({"tier": _("Unknown tier.")})
    if actor is not None:
        check_manages_tier(actor, tier, division)
    if division.level != TIER_LEVEL[tier]:
        raise ValidationError(
            {
                "division": _("A %(tier)s serves a division of level %(level)s.")
                % {"tier": Tier(tier).label, "level": TIER_LEVEL[tier].label}
            }
        )
    if status == FacilityStatus.CLOSED or status not in FacilityStatus.values:
        raise ValidationError({"status": _("A new facility cannot start closed.")})
    if status_from > timezone.localdate():
        raise ValidationError({"status_from": _("The date cannot be in the future.")})
    if operator_kind == OperatorKind.AGENCY and operator is None:
        raise ValidationError({"operator": _("Name the contracted agency.")})
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the facility a name.")})
    facility = Facility(
        tier=tier,
        division=division,
        name=name[:200],
        operator_kind=operator_kind,
        operator=operator if operator_kind == OperatorKind.AGENCY else None,
        address=address.strip()[:300],
        phone=phone.strip()[:30],
        status=status,
        opened_on=status_from if status == FacilityStatus.OPERATING else None,
        checklist=clean_checklist(checklist),
    )
    try:
        with transaction.atomic():
            facility.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"division": _("This division already has an active facility of this tier.")}
        ) from exc
    FacilityStatusPeriod.objects.create(
        facility=facility, status=status, valid_from=status_from, recorded_by=_user(actor)
    )
    audit_record(
        actor=actor,
        action="facility.create",
        target=facility,
        after=model_snapshot(facility, FACILITY_AUDIT_FIELDS),
    )
    return facility


@transaction.atomic
def facility_change_status(
    *, actor, facility: Facility, status: str, effective_on: date, note: str = ""
) -> Facility:
    """Move a facility to a new status from a date (planned → built → operating → …)."""
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if actor is not None:
        check_manages_tier(actor, facility.tier, facility.division)
    if status not in STATUS_TRANSITIONS.get(facility.status, set()):
        raise ValidationError(
            {
                "status": _("A facility cannot go from %(old)s to %(new)s.")
                % {
                    "old": FacilityStatus(facility.status).label,
                    "new": FacilityStatus(status).label
                    if status in FacilityStatus.values
                    else status,
                }
            }
        )
    current = facility.periods.get(valid_to__isnull=True)
    if effective_on <= current.valid_from:
        raise ValidationError(
            {
                "effective_on": _("The change must be dated after %(date)s.")
                % {"date": current.valid_from}
            }
        )
    if effective_on > timezone.localdate():
        raise ValidationError({"effective_on": _("The date cannot be in the future.")})
    before = model_snapshot(facility, FACILITY_AUDIT_FIELDS)
    current.valid_to = effective_on
    current.save(update_fields=["valid_to"])
    FacilityStatusPeriod.objects.create(
        facility=facility,
        status=status,
        valid_from=effective_on,
        note=note[:300],
        recorded_by=_user(actor),
    )
    facility.status = status
    if status == FacilityStatus.OPERATING and facility.opened_on is None:
        facility.opened_on = effective_on
    facility.version += 1
    facility.save(update_fields=["status", "opened_on", "version"])
    audit_record(
        actor=actor,
        action="facility.change_status",
        target=facility,
        before=before,
        after={
            **model_snapshot(facility, FACILITY_AUDIT_FIELDS),
            "effective_on": str(effective_on),
        },
    )
    return facility


EDITABLE_FACILITY_FIELDS = ("name", "operator_kind", "operator", "address", "phone", "checklist")


@transaction.atomic
def facility_update(*, actor, facility: Facility, version: int, **changes) -> Facility:
    """Edit a facility's details; ``version`` is what the user saw (a stale one → conflict).

    Tier, division and status cannot be changed here: status goes through
    ``facility_change_status``, a move is a new facility.
    """
    unknown = set(changes) - set(EDITABLE_FACILITY_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if actor is not None:
        check_manages_tier(actor, facility.tier, facility.division)
    if facility.version != version:
        raise ConflictError(_("Someone else changed this facility; reload and try again."))
    before = model_snapshot(facility, FACILITY_AUDIT_FIELDS)
    if "checklist" in changes:
        changes["checklist"] = clean_checklist(changes["checklist"])
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationError({"name": _("Give the facility a name.")})
    for field, value in changes.items():
        setattr(facility, field, value.strip() if isinstance(value, str) else value)
    if facility.operator_kind == OperatorKind.AGENCY and facility.operator is None:
        raise ValidationError({"operator": _("Name the contracted agency.")})
    if facility.operator_kind == OperatorKind.GOVERNMENT:
        facility.operator = None
    facility.version += 1
    facility.full_clean(exclude=["division", "operator"])
    facility.save()
    audit_record(
        actor=actor,
        action="facility.update",
        target=facility,
        before=before,
        after=model_snapshot(facility, FACILITY_AUDIT_FIELDS),
    )
    return facility


STANDARD_KINDS = {
    Tier.CENTRE: ("",),
    Tier.STATION: (Kind.SUBDISTRICT, Kind.TOWN, Kind.TOWNSHIP, Kind.OTHER_TOWN),
    Tier.ROOM: (Kind.URBAN, Kind.RURAL),
}


@transaction.atomic
def staffing_standard_create(
    *, actor, tier: str, division_kind: str, min_full_time: int, effective_from: date, document: str
) -> StaffingStandard:
    """Add a version of the staffing standard (the city administrator's job)."""
    if actor is not None and not actor.has_perm("network.add_staffingstandard"):
        raise MissingPermission("network.add_staffingstandard")
    if tier not in Tier.values or division_kind not in STANDARD_KINDS[Tier(tier)]:
        raise ValidationError(
            {"division_kind": _("This kind of division has no facility of this tier.")}
        )
    if not 0 <= int(min_full_time) <= 50:
        raise ValidationError({"min_full_time": _("Give a number from 0 to 50.")})
    if not document.strip():
        raise ValidationError({"document": _("Name the document the standard comes from.")})
    if StaffingStandard.objects.filter(
        tier=tier, division_kind=division_kind, effective_from=effective_from
    ).exists():
        raise ValidationError({"effective_from": _("A version already starts on this date.")})
    standard = StaffingStandard.objects.create(
        tier=tier,
        division_kind=division_kind,
        min_full_time=min_full_time,
        effective_from=effective_from,
        document=document.strip()[:300],
    )
    audit_record(
        actor=actor,
        action="staffing_standard.create",
        target=standard,
        after=model_snapshot(
            standard, ["tier", "division_kind", "min_full_time", "effective_from", "document"]
        ),
    )
    return standard


def staffing_standard_end(
    *, actor, standard: StaffingStandard, ended_on: date, reason: str
) -> StaffingStandard:
    """End the version in force of a standard from ``ended_on`` (its first day no longer in
    force): only the latest version of its tier and kind, after it started, once. Audited
    with the reason."""
    if actor is not None and not actor.has_perm("network.change_staffingstandard"):
        raise MissingPermission("network.change_staffingstandard")
    reason = clean_text(reason, "reason", _("Say why the version ends."), 300)
    with transaction.atomic():
        standard = StaffingStandard.objects.select_for_update().get(pk=standard.pk)
        if standard.ended_on is not None:
            raise ValidationError({"ended_on": _("This version has ended already.")})
        if StaffingStandard.objects.filter(
            tier=standard.tier,
            division_kind=standard.division_kind,
            effective_from__gt=standard.effective_from,
        ).exists():
            raise ValidationError(
                {"ended_on": _("A newer version replaced this one: end the newest instead.")}
            )
        if ended_on <= standard.effective_from:
            raise ValidationError(
                {
                    "ended_on": _("The version must end after it started (%(d)s).")
                    % {"d": standard.effective_from.isoformat()}
                }
            )
        standard.ended_on = ended_on
        standard.save(update_fields=["ended_on"])
        audit_record(
            actor=actor,
            action="staffing_standard.end",
            target=standard,
            after={"ended_on": ended_on.isoformat(), "reason": reason},
        )
    return standard


# The local standard in the article (F4–F8), the default for a new platform.
ARTICLE_STANDARD = (
    (Tier.CENTRE, "", 2),
    (Tier.STATION, Kind.SUBDISTRICT, 2),
    (Tier.STATION, Kind.TOWN, 1),
    (Tier.STATION, Kind.TOWNSHIP, 1),
    (Tier.STATION, Kind.OTHER_TOWN, 1),
    (Tier.ROOM, Kind.URBAN, 2),
    (Tier.ROOM, Kind.RURAL, 1),
)
ARTICLE_STANDARD_DOCUMENT = "重庆市三级社会工作服务体系建设配备标准（2017）"
ARTICLE_STANDARD_FROM = date(2017, 1, 1)


def seed_article_standard() -> int:
    """Install the article's standard (F4–F8) if no standard exists yet; returns rows made."""
    if StaffingStandard.objects.exists():
        return 0
    for tier, kind, minimum in ARTICLE_STANDARD:
        staffing_standard_create(
            actor=None,
            tier=tier,
            division_kind=kind,
            min_full_time=minimum,
            effective_from=ARTICLE_STANDARD_FROM,
            document=ARTICLE_STANDARD_DOCUMENT,
        )
    return len(ARTICLE_STANDARD)


@transaction.atomic
def organisation_create(
    *,
    actor,
    name: str,
    uscc: str,
    division: Division,
    is_social_work_agency: bool = False,
    rating: str = "",
    rating_expires_on: date | None = None,
    incubating_station: Facility | None = None,
    incubation_stage: str = "",
    incubation_started_on: date | None = None,
) -> SocialOrganisation:
    """Register a social organisation (optionally incubated by a station in scope)."""
    if actor is not None:
        if not actor.has_perm("network.add_socialorganisation"):
            raise MissingPermission("network.add_socialorganisation")
        if not _in_scope(actor, division):
            raise Http404
    code = validate_uscc(uscc)
    if SocialOrganisation.objects.filter(uscc=code).exists():
        raise ValidationError({"uscc": _("An organisation with this code is already registered.")})
    if rating and not rating_expires_on:
        raise ValidationError({"rating_expires_on": _("A rating needs its expiry date.")})
    if incubating_station is not None:
        if incubating_station.tier != Tier.STATION:
            raise ValidationError(
                {"incubating_station": _("Only stations incubate organisations.")}
            )
        if not incubation_stage or not incubation_started_on:
            raise ValidationError({"incubation_stage": _("Give the incubation stage and start.")})
    elif incubation_stage:
        raise ValidationError({"incubating_station": _("Name the incubating station.")})
    if incubation_stage and incubation_stage not in IncubationStage.values:
        raise ValidationError({"incubation_stage": _("Unknown stage.")})
    if not name.strip():
        raise ValidationError({"name": _("Give the organisation a name.")})
    organisation = SocialOrganisation.objects.create(
        name=name.strip()[:200],
        uscc=code,
        division=division,
        is_social_work_agency=is_social_work_agency,
        rating=rating,
        rating_expires_on=rating_expires_on,
        incubating_station=incubating_station,
        incubation_stage=incubation_stage,
        incubation_started_on=incubation_started_on,
    )
    audit_record(actor=actor, action="organisation.create", target=organisation)
    return organisation


@transaction.atomic
def supervision_visit_create(
    *,
    actor,
    supervisor: Facility,
    supervised: Facility,
    visited_on: date,
    visitors: str,
    findings: str,
    fixes: list[tuple[str, date]] = (),
) -> SupervisionVisit:
    """Record a visit of a centre to one of its stations or a station to one of its rooms."""
    expected = {Tier.CENTRE: Tier.STATION, Tier.STATION: Tier.ROOM}.get(supervisor.tier)
    if actor is not None:
        if not _in_scope(actor, supervisor.division):
            raise Http404
        if SUPERVISING_TIER.get(actor.role) != supervisor.tier:
            raise PermissionDenied(_("Your role does not record this tier's visits."))
    if expected is None or supervised.tier != expected:
        raise ValidationError(
            {"supervised": _("A centre visits stations; a station visits rooms.")}
        )
    if not supervised.division.code.startswith(supervisor.division.code):
        raise ValidationError({"supervised": _("The facility is outside the supervisor's area.")})
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("The date cannot be in the future.")})
    if not visitors.strip() or not findings.strip():
        raise ValidationError({"findings": _("Give the visitors and the findings.")})
    for description, deadline in fixes:
        if not description.strip():
            raise ValidationError({"fixes": _("Describe each required fix.")})
        if deadline < visited_on:
            raise ValidationError({"fixes": _("A deadline cannot be before the visit.")})
    visit = SupervisionVisit.objects.create(
        supervisor=supervisor,
        supervised=supervised,
        visited_on=visited_on,
        visitors=visitors.strip()[:300],
        findings=findings.strip(),
        recorded_by=_user(actor),
    )
    RequiredFix.objects.bulk_create(
        RequiredFix(visit=visit, description=d.strip()[:500], deadline=dl) for d, dl in fixes
    )
    audit_record(
        actor=actor,
        action="supervision_visit.create",
        target=visit,
        after={"fixes": len(fixes), "visited_on": str(visited_on)},
    )
    return visit


@transaction.atomic
def required_fix_resolve(
    *, actor, fix: RequiredFix, resolved_on: date, follow_up: str
) -> RequiredFix:
    """Record that a required fix was made."""
    fix = (
        RequiredFix.objects.select_for_update(of=("self",))
        .select_related("visit__supervisor__division")
        .get(pk=fix.pk)
    )
    if actor is not None:
        if not _in_scope(actor, fix.visit.supervisor.division):
            raise Http404
        if SUPERVISING_TIER.get(actor.role) != fix.visit.supervisor.tier:
            raise PermissionDenied
    if fix.resolved_on is not None:
        raise ValidationError({"resolved_on": _("This fix is already resolved.")})
    if resolved_on < fix.visit.visited_on or resolved_on > timezone.localdate():
        raise ValidationError({"resolved_on": _("The date must lie between the visit and today.")})
    fix.resolved_on = resolved_on
    fix.follow_up = follow_up.strip()
    fix.save(update_fields=["resolved_on", "follow_up"])
    audit_record(actor=actor, action="required_fix.resolve", target=fix)
    return fix


def _user(actor):
    return actor if actor is not None and getattr(actor, "pk", None) else None

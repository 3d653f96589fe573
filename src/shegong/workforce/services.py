"""Writes for social workers and postings."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.core.audit import audit_record
from shegong.core.crypto import lookup_hash
from shegong.core.validators import parse_national_id
from shegong.geo.models import Division
from shegong.network.models import Facility, FacilityStatus, FacilityStatusPeriod
from shegong.workforce.models import (
    ContinuingEducation,
    Education,
    Employment,
    Posting,
    QualificationLevel,
    RegistrationPeriod,
    SocialWorker,
    WorkplaceType,
)


def _check(actor, perm: str, division: Division) -> None:
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise PermissionDenied
    if not division.code.startswith(actor.scope_prefix):
        raise Http404


@transaction.atomic
def social_worker_create(
    *,
    actor,
    name: str,
    national_id: str,
    division: Division,
    qualification_level: str = QualificationLevel.NONE,
    phone: str = "",
) -> SocialWorker:
    """Register a social worker; the same national ID cannot be registered twice."""
    _check(actor, "workforce.add_socialworker", division)
    try:
        parsed = parse_national_id(national_id)
    except ValidationError as exc:
        raise ValidationError({"national_id": exc.messages}) from exc
    if qualification_level not in QualificationLevel.values:
        raise ValidationError({"qualification_level": _("Unknown qualification level.")})
    if not name.strip():
        raise ValidationError({"name": _("Give the person's name.")})
    id_hash = lookup_hash(parsed.number)
    if SocialWorker.objects.filter(national_id_hash=id_hash).exists():
        raise ValidationError(
            {"national_id": _("A social worker with this ID is already registered.")}
        )
    worker = SocialWorker(
        name=name.strip()[:100],
        national_id=parsed.number,
        national_id_hash=id_hash,
        qualification_level=qualification_level,
        phone=phone.strip()[:30],
        division=division,
    )
    try:
        with transaction.atomic():
            worker.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"national_id": _("A social worker with this ID is already registered.")}
        ) from exc
    audit_record(
        actor=actor,
        action="social_worker.create",
        target=worker,
        after={"name": worker.name, "qualification_level": qualification_level},
    )
    return worker


def social_worker_find_by_national_id(*, user, national_id: str) -> SocialWorker | None:
    """Exact search by ID, through the keyed hash only."""
    try:
        number = parse_national_id(national_id).number
    except ValidationError:
        return None
    return (
        SocialWorker.objects.restrict(user, "view")
        .filter(national_id_hash=lookup_hash(number))
        .first()
    )


def _status_on(facility: Facility, day: date) -> str | None:
    period = (
        FacilityStatusPeriod.objects.filter(facility=facility, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .first()
    )
    return period.status if period else None


def default_workplace_type(facility: Facility) -> str:
    """How a posting at a network facility is classified unless said otherwise: at an
    agency-run facility the employer is the agency; a government-run room sits in the
    residents' or villagers' committee; a station or centre in the community service or
    civil-affairs system."""
    if facility.operator_kind == "agency":
        return WorkplaceType.AGENCY
    if facility.tier == "room":
        return WorkplaceType.GRASSROOTS
    if facility.tier == "station":
        return WorkplaceType.COMMUNITY_SERVICE
    return WorkplaceType.GOVERNMENT


@transaction.atomic
def posting_create(
    *,
    actor,
    worker: SocialWorker,
    facility: Facility | None,
    employment: str,
    started_on: date,
    ended_on: date | None = None,
    post_type: str = "",
    workplace_type: str | None = None,
    workplace_name: str = "",
) -> Posting:
    """Post a social worker to a facility (or another workplace); at most one full-time
    posting at a time."""
    _check(actor, "workforce.add_posting", facility.division if facility else worker.division)
    if employment not in Employment.values:
        raise ValidationError({"employment": _("Full-time or part-time?")})
    if ended_on is not None and ended_on <= started_on:
        raise ValidationError({"ended_on": _("The end must be after the start.")})
    if started_on > timezone.localdate():
        raise ValidationError({"started_on": _("The start cannot be in the future.")})
    if facility is None:
        if not workplace_name.strip():
            raise ValidationError({"workplace_name": _("Name the workplace.")})
    elif facility.status == FacilityStatus.CLOSED or _status_on(facility, started_on) in (
        None,
        FacilityStatus.CLOSED,
    ):
        raise ValidationError(
            {"facility": _("The facility is closed (or did not exist) on that date.")}
        )
    workplace_type = workplace_type or (
        default_workplace_type(facility) if facility else WorkplaceType.OTHER
    )
    if workplace_type not in WorkplaceType.values:
        raise ValidationError({"workplace_type": _("Unknown workplace type.")})
    # Lock the person so two concurrent postings cannot both pass the overlap check.
    SocialWorker.objects.select_for_update().get(pk=worker.pk)
    if employment == Employment.FULL_TIME:
        overlapping = Posting.objects.filter(worker=worker, employment=Employment.FULL_TIME).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gt=started_on)
        )
        if ended_on is not None:
            overlapping = overlapping.filter(started_on__lt=ended_on)
        if overlapping.exists():
            raise ValidationError(
                {"employment": _("This person already holds a full-time posting in that period.")}
            )
    posting = Posting.objects.create(
        worker=worker,
        facility=facility,
        workplace_type=workplace_type,
        workplace_name=workplace_name.strip()[:200],
        employment=employment,
        post_type=post_type.strip()[:100],
        started_on=started_on,
        ended_on=ended_on,
    )
    audit_record(
        actor=actor,
        action="posting.create",
        target=posting,
        after={
            "worker": worker.pk,
            "facility": facility.pk if facility else None,
            "workplace_type": workplace_type,
            "employment": employment,
            "started_on": str(started_on),
            "ended_on": str(ended_on) if ended_on else None,
        },
    )
    return posting


@transaction.atomic
def posting_end(*, actor, posting: Posting, ended_on: date) -> Posting:
    """End a posting (the history is kept, never overwritten)."""
    posting = (
        Posting.objects.select_for_update(of=("self",))
        .select_related("facility__division", "worker__division")
        .get(pk=posting.pk)
    )
    area = posting.facility.division if posting.facility else posting.worker.division
    _check(actor, "workforce.change_posting", area)
    if posting.ended_on is not None:
        raise ValidationError({"ended_on": _("This posting has already ended.")})
    if ended_on <= posting.started_on:
        raise ValidationError({"ended_on": _("The end must be after the start.")})
    posting.ended_on = ended_on
    posting.save(update_fields=["ended_on"])
    audit_record(
        actor=actor, action="posting.end", target=posting, after={"ended_on": str(ended_on)}
    )
    return posting


@transaction.atomic
def education_add(
    *,
    actor,
    worker: SocialWorker,
    school: str,
    degree: str,
    social_work_major: bool,
    graduated_on: date,
) -> Education:
    """Record a completed degree (a social work degree counts 90 CE hours once)."""
    from shegong.workforce.models import Degree

    _check(actor, "workforce.add_education", worker.division)
    if degree not in Degree.values:
        raise ValidationError({"degree": _("Unknown degree.")})
    if graduated_on > timezone.localdate():
        raise ValidationError({"graduated_on": _("The graduation date cannot be in the future.")})
    if not school.strip():
        raise ValidationError({"school": _("Name the school.")})
    education = Education.objects.create(
        worker=worker,
        school=school.strip()[:200],
        degree=degree,
        social_work_major=social_work_major,
        graduated_on=graduated_on,
    )
    audit_record(actor=actor, action="education.add", target=education)
    return education


@transaction.atomic
def registration_add(*, actor, worker: SocialWorker, starts_on: date) -> RegistrationPeriod:
    """Open a 3-year registration period (it may not overlap another)."""
    from shegong.workforce.models import RegistrationStatus

    _check(actor, "workforce.add_registrationperiod", worker.division)
    try:
        ends_on = starts_on.replace(year=starts_on.year + 3) - timedelta(days=1)
    except ValueError:  # 29 February
        ends_on = starts_on.replace(year=starts_on.year + 3, day=28)
    SocialWorker.objects.select_for_update().get(pk=worker.pk)
    overlapping = RegistrationPeriod.objects.filter(
        worker=worker, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exclude(status=RegistrationStatus.CANCELLED)
    if overlapping.exists():
        raise ValidationError({"starts_on": _("This period overlaps another registration.")})
    period = RegistrationPeriod.objects.create(worker=worker, starts_on=starts_on, ends_on=ends_on)
    audit_record(actor=actor, action="registration.add", target=period)
    return period


@transaction.atomic
def ce_credit_add(
    *, actor, worker: SocialWorker, hours, completed_on: date, title: str
) -> ContinuingEducation:
    """Credit continuing-education hours (courses credit them automatically later)."""
    from decimal import Decimal, InvalidOperation

    _check(actor, "workforce.add_continuingeducation", worker.division)
    try:
        hours = Decimal(str(hours))
    except InvalidOperation as exc:
        raise ValidationError({"hours": _("Give the hours as a number.")}) from exc
    if not Decimal(0) < hours <= Decimal(500) or hours != hours.quantize(Decimal("0.1")):
        raise ValidationError({"hours": _("Hours must be more than 0 and at most 500, in tenths.")})
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": _("The date cannot be in the future.")})
    if not title.strip():
        raise ValidationError({"title": _("Name the course or activity.")})
    credit = ContinuingEducation.objects.create(
        worker=worker, hours=hours, completed_on=completed_on, title=title.strip()[:200]
    )
    audit_record(actor=actor, action="ce_credit.add", target=credit, after={"hours": str(hours)})
    return credit

"""Writes for social workers and postings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.core.audit import audit_record
from shegong.core.crypto import lookup_hash
from shegong.core.permissions import MissingPermission
from shegong.core.validators import (
    check_not_future,
    clean_amount,
    clean_text,
    parse_national_id,
)
from shegong.geo.models import Division
from shegong.network.models import Facility, FacilityStatus, FacilityStatusPeriod
from shegong.workforce.models import (
    Audience,
    Award,
    AwardScheme,
    ContinuingEducation,
    Course,
    Degree,
    DegreeProgramme,
    Dispatch,
    Education,
    Employment,
    Enrolment,
    GraduateCohort,
    HonourCategory,
    HonourLevel,
    InnovationBase,
    Posting,
    QualificationLevel,
    RegistrationPeriod,
    SocialWorker,
    TrainingProgramme,
    University,
    WorkplaceType,
)


def _check(actor, perm: str, division: Division) -> None:
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise MissingPermission(perm)
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


# --- Talent: training, honours, universities, dispatches (issue #4) -------------------------

_TENTHS = Decimal("0.1")


def _hours(value, field: str = "hours") -> Decimal:
    """Course hours: more than 0, at most 500, in tenths."""
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [_("Give the hours as a number.")]}) from exc
    if (
        not hours.is_finite()
        or not Decimal(0) < hours <= Decimal(500)
        or hours != hours.quantize(_TENTHS)
    ):
        raise ValidationError({field: [_("Hours must be more than 0 and at most 500, in tenths.")]})
    return hours


def _year(value: int, field: str, *, future_ok: bool = False) -> int:
    """A plausible calendar year (not in the future unless ``future_ok``)."""
    this_year = timezone.localdate().year
    if future_ok and not 1949 <= value <= this_year + 20:
        raise ValidationError({field: [_("Give a year between 1949 and 20 years from now.")]})
    if not future_ok and not 1949 <= value <= this_year:
        raise ValidationError({field: [_("Give a year between 1949 and this year.")]})
    return value


def _check_any(actor, perm: str, *divisions: Division) -> None:
    """Like ``_check``, but the object belongs to several areas: any one in scope will do."""
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise MissingPermission(perm)
    if not any(d.code.startswith(actor.scope_prefix) for d in divisions if d is not None):
        raise Http404


@transaction.atomic
def training_programme_create(
    *,
    actor,
    name: str,
    division: Division,
    first_year: int,
    last_year: int,
    target_per_year: int = 0,
) -> TrainingProgramme:
    """Create a multi-year training plan (e.g. the "10,000 social work specialists" plan)."""
    _check(actor, "workforce.add_trainingprogramme", division)
    name = clean_text(name, "name", _("Name the programme."))
    _year(first_year, "first_year", future_ok=True)
    _year(last_year, "last_year", future_ok=True)
    if last_year < first_year:
        raise ValidationError({"last_year": [_("The last year cannot be before the first.")]})
    if target_per_year < 0:
        raise ValidationError({"target_per_year": [_("The target cannot be negative.")]})
    programme = TrainingProgramme.objects.create(
        name=name,
        division=division,
        first_year=first_year,
        last_year=last_year,
        target_per_year=target_per_year,
    )
    audit_record(
        actor=actor,
        action="training_programme.create",
        target=programme,
        after={"name": name, "first_year": first_year, "last_year": last_year},
    )
    return programme


@transaction.atomic
def course_create(
    *,
    actor,
    title: str,
    audience: str,
    organiser: str,
    starts_on: date,
    ends_on: date,
    hours,
    division: Division,
    programme: TrainingProgramme | None = None,
    external_headcount: int = 0,
) -> Course:
    """Create a training course (it may be planned ahead); person-times count in the year it
    starts."""
    _check(actor, "workforce.add_course", division)
    title = clean_text(title, "title", _("Give the course a title."))
    organiser = clean_text(organiser, "organiser", _("Name the organiser."))
    if audience not in Audience.values:
        raise ValidationError({"audience": [_("Unknown audience.")]})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": [_("The end cannot be before the start.")]})
    hours = _hours(hours)
    if external_headcount < 0:
        raise ValidationError({"external_headcount": [_("The head-count cannot be negative.")]})
    if external_headcount and starts_on > timezone.localdate():
        raise ValidationError(
            {"external_headcount": [_("A course that has not started has no attendees yet.")]}
        )
    if programme is not None and not (
        programme.first_year <= starts_on.year <= programme.last_year
    ):
        raise ValidationError(
            {"programme": [_("The course starts outside the programme's years.")]}
        )
    course = Course.objects.create(
        programme=programme,
        title=title,
        audience=audience,
        organiser=organiser,
        starts_on=starts_on,
        ends_on=ends_on,
        hours=hours,
        external_headcount=external_headcount,
        division=division,
    )
    audit_record(
        actor=actor,
        action="course.create",
        target=course,
        after={
            "programme": programme.pk if programme else None,
            "audience": audience,
            "starts_on": str(starts_on),
            "ends_on": str(ends_on),
            "hours": str(hours),
            "external_headcount": external_headcount,
        },
    )
    return course


@transaction.atomic
def course_set_headcount(*, actor, course: Course, external_headcount: int) -> Course:
    """Record how many people without a registry entry attended the course."""
    course = (
        Course.objects.select_for_update(of=("self",)).select_related("division").get(pk=course.pk)
    )
    _check(actor, "workforce.change_course", course.division)
    if external_headcount < 0:
        raise ValidationError({"external_headcount": [_("The head-count cannot be negative.")]})
    if external_headcount and course.starts_on > timezone.localdate():
        raise ValidationError(
            {"external_headcount": [_("A course that has not started has no attendees yet.")]}
        )
    before = course.external_headcount
    course.external_headcount = external_headcount
    course.save(update_fields=["external_headcount"])
    audit_record(
        actor=actor,
        action="course.set_headcount",
        target=course,
        before={"external_headcount": before},
        after={"external_headcount": external_headcount},
    )
    return course


@transaction.atomic
def enrolment_create(*, actor, course: Course, worker: SocialWorker) -> Enrolment:
    """Enrol a registered social worker on a course (once per course)."""
    _check(actor, "workforce.add_enrolment", course.division)
    if Enrolment.objects.filter(course=course, worker=worker).exists():
        raise ValidationError({"worker": [_("This person is already enrolled on the course.")]})
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(course=course, worker=worker)
    except IntegrityError as exc:
        raise ValidationError(
            {"worker": [_("This person is already enrolled on the course.")]}
        ) from exc
    audit_record(
        actor=actor,
        action="enrolment.create",
        target=enrolment,
        after={"course": course.pk, "worker": worker.pk},
    )
    return enrolment


def _locked_enrolment(enrolment: Enrolment) -> Enrolment:
    return (
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("course__division", "worker")
        .get(pk=enrolment.pk)
    )


@transaction.atomic
def enrolment_set_attendance(*, actor, enrolment: Enrolment, attended: bool) -> Enrolment:
    """Mark whether an enrolled person attended (a completed enrolment stays attended)."""
    enrolment = _locked_enrolment(enrolment)
    _check(actor, "workforce.change_enrolment", enrolment.course.division)
    if attended and enrolment.course.starts_on > timezone.localdate():
        raise ValidationError({"attended": [_("The course has not started yet.")]})
    if not attended and enrolment.completed_on is not None:
        raise ValidationError(
            {"attended": [_("This person completed the course, so they attended it.")]}
        )
    before = enrolment.attended
    enrolment.attended = attended
    enrolment.save(update_fields=["attended"])
    audit_record(
        actor=actor,
        action="enrolment.set_attendance",
        target=enrolment,
        before={"attended": before},
        after={"attended": attended},
    )
    return enrolment


@transaction.atomic
def enrolment_complete(
    *,
    actor,
    enrolment: Enrolment,
    completed_on: date | None = None,
    certificate_number: str = "",
) -> Enrolment:
    """Record the completion certificate and credit the course hours as continuing
    education, dated the completion (by default the course's end). Idempotent: an enrolment
    already completed is returned unchanged and credited only once."""
    enrolment = _locked_enrolment(enrolment)
    course = enrolment.course
    _check(actor, "workforce.change_enrolment", course.division)
    if enrolment.ce_credit_id is not None:
        return enrolment
    completed_on = completed_on or course.ends_on
    check_not_future(completed_on, "completed_on")
    if completed_on < course.starts_on:
        raise ValidationError(
            {"completed_on": [_("The course cannot be completed before it starts.")]}
        )
    credit = ContinuingEducation.objects.create(
        worker=enrolment.worker,
        hours=course.hours,
        completed_on=completed_on,
        title=course.title[:200],
    )
    enrolment.attended = True
    enrolment.completed_on = completed_on
    enrolment.certificate_number = (certificate_number or "").strip()[:40]
    enrolment.ce_credit = credit
    enrolment.save(update_fields=["attended", "completed_on", "certificate_number", "ce_credit"])
    audit_record(
        actor=actor,
        action="enrolment.complete",
        target=enrolment,
        after={
            "completed_on": str(completed_on),
            "certificate_number": enrolment.certificate_number,
            "ce_credit": credit.pk,
            "hours": str(credit.hours),
        },
    )
    return enrolment


@transaction.atomic
def award_scheme_create(
    *,
    actor,
    name: str,
    level: str,
    division: Division,
    reward_amount=0,
    category: str = HonourCategory.OTHER,
) -> AwardScheme:
    """Create an honour or award with its level, category and the standard reward per
    person."""
    _check(actor, "workforce.add_awardscheme", division)
    name = clean_text(name, "name", _("Name the award."))
    if level not in HonourLevel.values:
        raise ValidationError({"level": [_("Unknown level.")]})
    if category not in HonourCategory.values:
        raise ValidationError({"category": [_("Unknown category.")]})
    amount = clean_amount(reward_amount, "reward_amount")
    if AwardScheme.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("An award with this name already exists.")]})
    try:
        with transaction.atomic():
            scheme = AwardScheme.objects.create(
                name=name,
                level=level,
                category=category,
                division=division,
                reward_amount=amount,
            )
    except IntegrityError as exc:
        raise ValidationError({"name": [_("An award with this name already exists.")]}) from exc
    audit_record(
        actor=actor,
        action="award_scheme.create",
        target=scheme,
        after={
            "name": name,
            "level": level,
            "category": category,
            "reward_amount": str(amount),
        },
    )
    return scheme


@transaction.atomic
def award_create(
    *,
    actor,
    scheme: AwardScheme,
    worker: SocialWorker,
    year: int,
    reward_amount=None,
    paid_on: date | None = None,
) -> Award:
    """Honour a person under a scheme in a year; the reward defaults to the scheme's
    standard reward. Once per scheme, person and year."""
    _check(actor, "workforce.add_award", worker.division)
    _year(year, "year")
    amount = clean_amount(
        scheme.reward_amount if reward_amount is None else reward_amount, "reward_amount"
    )
    check_not_future(paid_on, "paid_on")
    if paid_on is not None and paid_on.year < year:
        raise ValidationError({"paid_on": [_("The reward cannot be paid before the award year.")]})
    message = _("This person already has this award for that year.")
    if Award.objects.filter(scheme=scheme, worker=worker, year=year).exists():
        raise ValidationError({"worker": [message]})
    try:
        with transaction.atomic():
            award = Award.objects.create(
                scheme=scheme, worker=worker, year=year, reward_amount=amount, paid_on=paid_on
            )
    except IntegrityError as exc:
        raise ValidationError({"worker": [message]}) from exc
    audit_record(
        actor=actor,
        action="award.create",
        target=award,
        after={
            "scheme": scheme.pk,
            "worker": worker.pk,
            "year": year,
            "reward_amount": str(amount),
            "paid_on": str(paid_on) if paid_on else None,
        },
    )
    return award


@transaction.atomic
def university_create(*, actor, name: str, division: Division) -> University:
    """Register a university or college that educates social workers."""
    _check(actor, "workforce.add_university", division)
    name = clean_text(name, "name", _("Name the university."))
    if University.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("A university with this name already exists.")]})
    try:
        with transaction.atomic():
            university = University.objects.create(name=name, division=division)
    except IntegrityError as exc:
        raise ValidationError({"name": [_("A university with this name already exists.")]}) from exc
    audit_record(actor=actor, action="university.create", target=university, after={"name": name})
    return university


@transaction.atomic
def degree_programme_add(
    *, actor, university: University, level: str, name: str, since_year: int | None = None
) -> DegreeProgramme:
    """Record a social work degree programme a university runs (F9)."""
    _check(actor, "workforce.add_degreeprogramme", university.division)
    if level not in Degree.values:
        raise ValidationError({"level": [_("Unknown degree.")]})
    name = clean_text(name, "name", _("Name the programme."))
    if since_year is not None:
        _year(since_year, "since_year")
    message = _("The university already runs this programme.")
    if DegreeProgramme.objects.filter(university=university, level=level, name=name).exists():
        raise ValidationError({"name": [message]})
    try:
        with transaction.atomic():
            programme = DegreeProgramme.objects.create(
                university=university, level=level, name=name, since_year=since_year
            )
    except IntegrityError as exc:
        raise ValidationError({"name": [message]}) from exc
    audit_record(
        actor=actor,
        action="degree_programme.add",
        target=programme,
        after={"university": university.pk, "level": level, "since_year": since_year},
    )
    return programme


@transaction.atomic
def innovation_base_add(
    *,
    actor,
    university: University,
    name: str,
    funded_amount,
    first_year: int,
    last_year: int,
) -> InnovationBase:
    """Record a municipal innovation base a university runs, with its funding (F10)."""
    _check(actor, "workforce.add_innovationbase", university.division)
    name = clean_text(name, "name", _("Name the base."))
    amount = clean_amount(funded_amount, "funded_amount")
    _year(first_year, "first_year", future_ok=True)
    _year(last_year, "last_year", future_ok=True)
    if last_year < first_year:
        raise ValidationError({"last_year": [_("The last year cannot be before the first.")]})
    base = InnovationBase.objects.create(
        university=university,
        name=name,
        funded_amount=amount,
        first_year=first_year,
        last_year=last_year,
    )
    audit_record(
        actor=actor,
        action="innovation_base.add",
        target=base,
        after={
            "university": university.pk,
            "funded_amount": str(amount),
            "first_year": first_year,
            "last_year": last_year,
        },
    )
    return base


@transaction.atomic
def graduate_cohort_record(
    *, actor, university: University, year: int, level: str, graduates: int
) -> GraduateCohort:
    """Record (or correct) a university's social work graduates in a year at a level (F11)."""
    _check(actor, "workforce.add_graduatecohort", university.division)
    if level not in Degree.values:
        raise ValidationError({"level": [_("Unknown degree.")]})
    _year(year, "year")
    if graduates < 0:
        raise ValidationError({"graduates": [_("The number cannot be negative.")]})
    cohort = (
        GraduateCohort.objects.select_for_update()
        .filter(university=university, year=year, level=level)
        .first()
    )
    if cohort is None:
        cohort = GraduateCohort.objects.create(
            university=university, year=year, level=level, graduates=graduates
        )
        before = None
    else:
        _check(actor, "workforce.change_graduatecohort", university.division)
        before = {"graduates": cohort.graduates}
        cohort.graduates = graduates
        cohort.save(update_fields=["graduates"])
    audit_record(
        actor=actor,
        action="graduate_cohort.record",
        target=cohort,
        before=before,
        after={"university": university.pk, "year": year, "level": level, "graduates": graduates},
    )
    return cohort


@transaction.atomic
def dispatch_create(
    *,
    actor,
    worker: SocialWorker,
    host_division: Division,
    starts_on: date,
    purpose: str,
    ends_on: date | None = None,
    home_facility: Facility | None = None,
    host_facility: Facility | None = None,
) -> Dispatch:
    """Send a social worker for a period to a poor county or deep-poverty town (F26).

    The host division must be, or lie inside, a division with a designation open on the
    start date; a host facility must lie inside the host division; one person is on at most
    one dispatch at a time."""
    from shegong.geo.selectors import poverty_designation_covering

    _check(actor, "workforce.add_dispatch", worker.division)
    if home_facility is not None:
        _check(actor, "workforce.add_dispatch", home_facility.division)
    purpose = clean_text(purpose, "purpose", _("Say what the person is sent to do."), 300)
    if ends_on is not None and ends_on <= starts_on:
        raise ValidationError({"ends_on": [_("The end must be after the start.")]})
    if poverty_designation_covering(division=host_division, day=starts_on) is None:
        raise ValidationError(
            {
                "host_division": [
                    _(
                        "%(name)s is not a poor county or deep-poverty town (nor inside one) "
                        "on %(day)s."
                    )
                    % {"name": host_division.name, "day": starts_on}
                ]
            }
        )
    if host_facility is not None and not host_facility.division.code.startswith(host_division.code):
        raise ValidationError(
            {"host_facility": [_("The host facility is not inside the host division.")]}
        )
    SocialWorker.objects.select_for_update().get(pk=worker.pk)
    overlapping = Dispatch.objects.filter(worker=worker).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=starts_on)
    )
    if ends_on is not None:
        overlapping = overlapping.filter(starts_on__lt=ends_on)
    if overlapping.exists():
        raise ValidationError(
            {"starts_on": [_("This person is already dispatched in that period.")]}
        )
    dispatch = Dispatch.objects.create(
        worker=worker,
        home_facility=home_facility,
        host_division=host_division,
        host_facility=host_facility,
        starts_on=starts_on,
        ends_on=ends_on,
        purpose=purpose,
    )
    audit_record(
        actor=actor,
        action="dispatch.create",
        target=dispatch,
        after={
            "worker": worker.pk,
            "home_facility": home_facility.pk if home_facility else None,
            "host_division": host_division.code,
            "host_facility": host_facility.pk if host_facility else None,
            "starts_on": str(starts_on),
            "ends_on": str(ends_on) if ends_on else None,
        },
    )
    return dispatch


@transaction.atomic
def dispatch_end(*, actor, dispatch: Dispatch, ended_on: date) -> Dispatch:
    """End a dispatch (the person came home); the record is kept."""
    dispatch = (
        Dispatch.objects.select_for_update(of=("self",))
        .select_related("worker__division", "host_division")
        .get(pk=dispatch.pk)
    )
    _check_any(actor, "workforce.change_dispatch", dispatch.worker.division, dispatch.host_division)
    if dispatch.ends_on is not None and dispatch.ends_on <= timezone.localdate():
        raise ValidationError({"ended_on": [_("This dispatch has already ended.")]})
    if ended_on <= dispatch.starts_on:
        raise ValidationError({"ended_on": [_("The end must be after the start.")]})
    check_not_future(ended_on, "ended_on")
    before = dispatch.ends_on
    dispatch.ends_on = ended_on
    dispatch.save(update_fields=["ends_on"])
    audit_record(
        actor=actor,
        action="dispatch.end",
        target=dispatch,
        before={"ends_on": str(before) if before else None},
        after={"ends_on": str(ended_on)},
    )
    return dispatch

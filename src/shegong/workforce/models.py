"""Social workers and their postings (the workforce issue extends both)."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shegong.core.crypto import EncryptedTextField
from shegong.core.scoping import RestrictedQuerySet
from shegong.core.validators import mask_national_id, parse_national_id


class QualificationLevel(models.TextChoices):
    NONE = "none", _("No qualification")
    ASSISTANT = "assistant", _("Assistant social worker")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    SENIOR = "senior", _("Senior social worker")


class SocialWorker(models.Model):
    """A social work professional. The national ID is stored encrypted; ``national_id_hash``
    (keyed HMAC) finds a person by exact ID and keeps each person registered once. Birth date
    and sex are read off the ID, never stored twice."""

    name = models.CharField(_("name"), max_length=100)
    national_id = EncryptedTextField(_("national ID"))
    national_id_hash = models.CharField(max_length=64, unique=True)
    qualification_level = models.CharField(
        _("qualification"),
        max_length=16,
        choices=QualificationLevel.choices,
        default=QualificationLevel.NONE,
    )
    certificate_number = models.CharField(
        _("certificate management number"), max_length=40, blank=True
    )
    qualification_year = models.PositiveSmallIntegerField(_("year passed"), null=True, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("registered in"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("social worker")
        verbose_name_plural = _("social workers")
        # the registry's first page (by name) read off the index, not a sort of everyone
        indexes = [models.Index(fields=["name", "id"], name="workforce_worker_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def birth_date(self):
        return parse_national_id(self.national_id).birth_date

    @property
    def sex(self) -> str:
        return parse_national_id(self.national_id).sex

    @property
    def national_id_masked(self) -> str:
        return mask_national_id(self.national_id)


class Employment(models.TextChoices):
    FULL_TIME = "full_time", _("Full-time")
    PART_TIME = "part_time", _("Part-time")


class WorkplaceType(models.TextChoices):
    """Where a social worker works (F16 counts the first two)."""

    GRASSROOTS = "grassroots", _("Grassroots self-governing organisation")
    COMMUNITY_SERVICE = "community_service", _("Community service organisation")
    AGENCY = "agency", _("Social work agency")
    GOVERNMENT = "government", _("Government body")
    SCHOOL = "school", _("School")
    HOSPITAL = "hospital", _("Hospital")
    OTHER = "other", _("Other")


GRASSROOTS_WORKPLACES = (WorkplaceType.GRASSROOTS, WorkplaceType.COMMUNITY_SERVICE)


class Posting(models.Model):
    """A social worker's post for a period, at a facility of the network or at another
    workplace (a school, a hospital…). At most one full-time posting at a time per person
    (checked by the service; an open one also by a partial unique index). Postings are
    history: they are ended, never overwritten."""

    worker = models.ForeignKey(
        SocialWorker,
        verbose_name=_("social worker"),
        on_delete=models.PROTECT,
        related_name="postings",
    )
    facility = models.ForeignKey(
        "network.Facility",
        verbose_name=_("facility"),
        on_delete=models.PROTECT,
        related_name="postings",
        null=True,
        blank=True,
    )
    workplace_type = models.CharField(
        _("workplace type"),
        max_length=20,
        choices=WorkplaceType.choices,
        default=WorkplaceType.OTHER,
    )
    workplace_name = models.CharField(_("workplace"), max_length=200, blank=True)
    employment = models.CharField(_("employment"), max_length=16, choices=Employment.choices)
    post_type = models.CharField(_("post"), max_length=100, blank=True)
    started_on = models.DateField(_("start"))
    ended_on = models.DateField(_("end"), null=True, blank=True)
    # A copy of the facility's division code (empty without a facility), so that the
    # full-time postings of an area are one index range in (division code, facility) order.
    # The database keeps it in step, whoever writes (migration 0006's triggers): it is set
    # from the facility on every insert and follows a division's code change (and a change
    # of the facility's division, which the services never make).
    facility_division_code = models.CharField(
        _("facility's division code"), max_length=12, blank=True, default="", editable=False
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "id"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=F("started_on")),
                name="workforce_posting_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(facility__isnull=False) | ~Q(workplace_name=""),
                name="workforce_posting_has_a_workplace",
            ),
            models.UniqueConstraint(
                fields=["worker"],
                condition=Q(ended_on__isnull=True, employment="full_time"),
                name="workforce_one_open_full_time_posting",
            ),
        ]
        indexes = [
            models.Index(
                fields=["facility", "employment", "started_on"], name="workforce_posting_asof"
            ),
            # Full-time postings at facilities of an area, in (division code, facility)
            # order: read index-only and merged with the operating periods' index.
            models.Index(
                fields=["facility_division_code", "facility", "started_on", "ended_on"],
                condition=Q(employment="full_time") & ~Q(facility_division_code=""),
                name="workforce_posting_full_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker} @ {self.facility or self.workplace_name}"

    @classmethod
    def scope_q(cls, user) -> Q:
        """A posting at a facility belongs to the facility's area; one elsewhere to the
        area where the person is registered."""
        prefix = user.scope_prefix
        return Q(facility__division__code__startswith=prefix) | Q(
            facility__isnull=True, worker__division__code__startswith=prefix
        )


class Degree(models.TextChoices):
    DIPLOMA = "diploma", _("Diploma (专科)")
    BACHELOR = "bachelor", _("Bachelor")
    MASTER = "master", _("Master")
    DOCTOR = "doctor", _("Doctorate")


class Education(models.Model):
    """A completed degree; a social work degree counts 90 continuing-education hours once."""

    worker = models.ForeignKey(
        SocialWorker,
        verbose_name=_("social worker"),
        on_delete=models.CASCADE,
        related_name="education",
    )
    school = models.CharField(_("school"), max_length=200)
    degree = models.CharField(_("degree"), max_length=16, choices=Degree.choices)
    social_work_major = models.BooleanField(_("social work major"), default=False)
    graduated_on = models.DateField(_("graduation date"))

    objects = RestrictedQuerySet.as_manager()
    scope_path = "worker__division__code"

    class Meta:
        ordering = ["graduated_on"]
        verbose_name = _("education")
        verbose_name_plural = _("education")

    def __str__(self) -> str:
        return f"{self.school} {self.get_degree_display()}"


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    CANCELLED = "cancelled", _("Cancelled")


class RegistrationPeriod(models.Model):
    """A 3-year registration period, within which continuing education must be completed."""

    worker = models.ForeignKey(
        SocialWorker,
        verbose_name=_("social worker"),
        on_delete=models.CASCADE,
        related_name="registrations",
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.REGISTERED,
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "worker__division__code"

    class Meta:
        ordering = ["starts_on"]
        verbose_name = _("registration period")
        verbose_name_plural = _("registration periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="workforce_registration_dates"
            )
        ]

    def __str__(self) -> str:
        return f"{self.worker} {self.starts_on}–{self.ends_on}"


class ContinuingEducation(models.Model):
    """Continuing-education hours a person earned, credited to the registration period in
    which they were completed (a course that straddles two periods counts in the second)."""

    worker = models.ForeignKey(
        SocialWorker,
        verbose_name=_("social worker"),
        on_delete=models.CASCADE,
        related_name="ce_credits",
    )
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    completed_on = models.DateField(_("completed on"))
    title = models.CharField(_("course or activity"), max_length=200)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "worker__division__code"

    class Meta:
        ordering = ["completed_on", "id"]
        verbose_name = _("continuing-education credit")
        verbose_name_plural = _("continuing-education credits")
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=500), name="workforce_ce_hours_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.hours}h"


# --- Training -------------------------------------------------------------------------------


class Audience(models.TextChoices):
    """Who a course is for (F12 counts leading cadres, F14 social work specialists)."""

    LEADING_CADRES = "leading_cadres", _("Leading cadres")
    SPECIALISTS = "specialists", _("Social work specialists")
    FRONTLINE = "frontline", _("Front-line social workers")
    VOLUNTEERS = "volunteers", _("Volunteers")
    OTHER = "other", _("Other")


class TrainingProgramme(models.Model):
    """A multi-year training plan (e.g. the "10,000 social work specialists" plan, F13)."""

    name = models.CharField(_("name"), max_length=200)
    first_year = models.PositiveSmallIntegerField(_("first year"))
    last_year = models.PositiveSmallIntegerField(_("last year"))
    target_per_year = models.PositiveIntegerField(_("target person-times a year"), default=0)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["-first_year", "name"]
        verbose_name = _("training programme")
        verbose_name_plural = _("training programmes")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_year__gte=F("first_year")), name="workforce_programme_years"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def years(self) -> int:
        return self.last_year - self.first_year + 1


class Course(models.Model):
    """A training course: audience, dates, hours, organiser. Registered people enrol and
    attend; external attendees are a head-count. Person-times count in the year the course
    starts."""

    programme = models.ForeignKey(
        TrainingProgramme,
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="courses",
        null=True,
        blank=True,
    )
    title = models.CharField(_("title"), max_length=200)
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    organiser = models.CharField(_("organiser"), max_length=200)
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    external_headcount = models.PositiveIntegerField(_("external attendees"), default=0)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("held for"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["-starts_on", "id"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="workforce_course_dates"
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=500), name="workforce_course_hours"
            ),
        ]
        indexes = [models.Index(fields=["starts_on", "audience"], name="workforce_course_year")]

    def __str__(self) -> str:
        return self.title


class Enrolment(models.Model):
    """A registered person on a course; attendance, and the completion certificate that
    credits the course hours as continuing education (``ce_credit``)."""

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="enrolments"
    )
    worker = models.ForeignKey(
        SocialWorker,
        verbose_name=_("social worker"),
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    attended = models.BooleanField(_("attended"), default=False)
    certificate_number = models.CharField(_("completion certificate"), max_length=40, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    ce_credit = models.OneToOneField(
        ContinuingEducation,
        verbose_name=_("continuing-education credit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enrolment",
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "course__division__code"

    class Meta:
        ordering = ["course", "id"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["course", "worker"], name="workforce_enrol_once")
        ]

    def __str__(self) -> str:
        return f"{self.worker} @ {self.course}"


# --- Honours and rewards ----------------------------------------------------------------------


class HonourLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    MUNICIPAL = "municipal", _("Municipal")
    COUNTY = "county", _("County")


class HonourCategory(models.TextChoices):
    """Which of the article's honours a scheme is (F17–F19 count people per category)."""

    OUTSTANDING_CONTRIBUTION = (
        "outstanding_contribution",
        _("Outstanding Talent Contribution Award"),
    )
    FAMOUS_MASTER = "famous_master", _("Famous Masters")
    NATIONAL_LEADING = "national_leading", _("National leading social work talents")
    OTHER = "other", _("Other honour")


class AwardScheme(models.Model):
    """An honour or award (e.g. the Outstanding Talent Contribution Award, Famous Masters),
    with its level, its category, and the standard reward paid to each person honoured."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    level = models.CharField(_("level"), max_length=16, choices=HonourLevel.choices)
    category = models.CharField(
        _("category"), max_length=24, choices=HonourCategory.choices, default=HonourCategory.OTHER
    )
    reward_amount = models.DecimalField(
        _("standard reward (yuan)"), max_digits=12, decimal_places=2, default=0
    )
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("conferred by"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["level", "name"]
        verbose_name = _("award scheme")
        verbose_name_plural = _("award schemes")

    def __str__(self) -> str:
        return self.name


class Award(models.Model):
    """A person honoured by a scheme in a year, and the reward paid."""

    scheme = models.ForeignKey(
        AwardScheme, verbose_name=_("award"), on_delete=models.PROTECT, related_name="awards"
    )
    worker = models.ForeignKey(
        SocialWorker,
        verbose_name=_("social worker"),
        on_delete=models.PROTECT,
        related_name="awards",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    reward_amount = models.DecimalField(
        _("reward (yuan)"), max_digits=12, decimal_places=2, default=0
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "worker__division__code"

    class Meta:
        ordering = ["-year", "id"]
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "worker", "year"], name="workforce_award_once_a_year"
            ),
            models.CheckConstraint(
                condition=Q(reward_amount__gte=0), name="workforce_award_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme} {self.year}: {self.worker}"


# --- Universities ----------------------------------------------------------------------------


class University(models.Model):
    """A university or college that educates social workers."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("located in"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["name"]
        verbose_name = _("university")
        verbose_name_plural = _("universities")

    def __str__(self) -> str:
        return self.name


class DegreeProgramme(models.Model):
    """A social work degree programme a university runs (F9 counts universities with one)."""

    university = models.ForeignKey(
        University,
        verbose_name=_("university"),
        on_delete=models.CASCADE,
        related_name="programmes",
    )
    level = models.CharField(_("level"), max_length=16, choices=Degree.choices)
    name = models.CharField(_("name"), max_length=200)
    since_year = models.PositiveSmallIntegerField(_("since"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "university__division__code"

    class Meta:
        ordering = ["university", "level"]
        verbose_name = _("degree programme")
        verbose_name_plural = _("degree programmes")
        constraints = [
            models.UniqueConstraint(
                fields=["university", "level", "name"], name="workforce_programme_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.university} {self.name}"


class InnovationBase(models.Model):
    """A municipal social work innovation base run by a university, with its funding (F10)."""

    university = models.ForeignKey(
        University, verbose_name=_("university"), on_delete=models.PROTECT, related_name="bases"
    )
    name = models.CharField(_("name"), max_length=200)
    funded_amount = models.DecimalField(_("funding (yuan)"), max_digits=14, decimal_places=2)
    first_year = models.PositiveSmallIntegerField(_("first year"))
    last_year = models.PositiveSmallIntegerField(_("last year"))

    objects = RestrictedQuerySet.as_manager()
    scope_path = "university__division__code"

    class Meta:
        ordering = ["university", "first_year"]
        verbose_name = _("innovation base")
        verbose_name_plural = _("innovation bases")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_year__gte=F("first_year")), name="workforce_base_years"
            ),
            models.CheckConstraint(condition=Q(funded_amount__gte=0), name="workforce_base_amount"),
        ]

    def __str__(self) -> str:
        return self.name


class GraduateCohort(models.Model):
    """Social work graduates of a university in a year, at a degree level (F11)."""

    university = models.ForeignKey(
        University, verbose_name=_("university"), on_delete=models.CASCADE, related_name="cohorts"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("level"), max_length=16, choices=Degree.choices)
    graduates = models.PositiveIntegerField(_("graduates"))

    objects = RestrictedQuerySet.as_manager()
    scope_path = "university__division__code"

    class Meta:
        ordering = ["-year", "university"]
        verbose_name = _("graduate cohort")
        verbose_name_plural = _("graduate cohorts")
        constraints = [
            models.UniqueConstraint(
                fields=["university", "year", "level"], name="workforce_cohort_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.university} {self.year}: {self.graduates}"


# --- Dispatches -----------------------------------------------------------------------------


class Dispatch(models.Model):
    """A social worker sent for a period from a home facility to serve in a poor county or
    deep-poverty town (F26), at a host facility there when there is one."""

    worker = models.ForeignKey(
        SocialWorker,
        verbose_name=_("social worker"),
        on_delete=models.PROTECT,
        related_name="dispatches",
    )
    home_facility = models.ForeignKey(
        "network.Facility",
        verbose_name=_("home facility"),
        on_delete=models.PROTECT,
        related_name="dispatched_from",
        null=True,
        blank=True,
    )
    host_division = models.ForeignKey(
        "geo.Division", verbose_name=_("sent to"), on_delete=models.PROTECT, related_name="+"
    )
    host_facility = models.ForeignKey(
        "network.Facility",
        verbose_name=_("host facility"),
        on_delete=models.PROTECT,
        related_name="dispatched_to",
        null=True,
        blank=True,
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"), null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=300)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "id"]
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=F("starts_on")),
                name="workforce_dispatch_dates",
            )
        ]

    def __str__(self) -> str:
        return f"{self.worker} → {self.host_division}"

    @classmethod
    def scope_q(cls, user) -> Q:
        """Seen where the person serves (the host area) and where they come from."""
        prefix = user.scope_prefix
        return Q(host_division__code__startswith=prefix) | Q(
            worker__division__code__startswith=prefix
        )

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
            )
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

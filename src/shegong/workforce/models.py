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


class Posting(models.Model):
    """A social worker's post at a facility for a period. At most one full-time posting at a
    time per person (checked by the service; an open one also by a partial unique index)."""

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
    )
    employment = models.CharField(_("employment"), max_length=16, choices=Employment.choices)
    post_type = models.CharField(_("post"), max_length=100, blank=True)
    started_on = models.DateField(_("start"))
    ended_on = models.DateField(_("end"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "facility__division__code"

    class Meta:
        ordering = ["-started_on", "id"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=F("started_on")),
                name="workforce_posting_ends_after_start",
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
        return f"{self.worker} @ {self.facility}"

"""The three-tier network: facilities and their life cycle, staffing standards, social
organisations, and the supervision duties between tiers."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shegong.core.scoping import RestrictedQuerySet
from shegong.geo.models import Kind, Level


class Tier(models.TextChoices):
    """The three tiers: 一区县一中心、一镇街一站、一村社一室."""

    CENTRE = "centre", _("Guidance centre")
    STATION = "station", _("Social work station")
    ROOM = "room", _("Social work room")


# The division level each tier serves.
TIER_LEVEL = {Tier.CENTRE: Level.COUNTY, Tier.STATION: Level.TOWN, Tier.ROOM: Level.COMMUNITY}


class FacilityStatus(models.TextChoices):
    """Life cycle of a facility."""

    PLANNED = "planned", _("Planned")
    BUILT = "built", _("Built")
    OPERATING = "operating", _("Operating")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


# Allowed status changes (a closed facility stays closed; a new one is created instead).
STATUS_TRANSITIONS = {
    FacilityStatus.PLANNED: {FacilityStatus.BUILT, FacilityStatus.OPERATING, FacilityStatus.CLOSED},
    FacilityStatus.BUILT: {FacilityStatus.OPERATING, FacilityStatus.CLOSED},
    FacilityStatus.OPERATING: {FacilityStatus.SUSPENDED, FacilityStatus.CLOSED},
    FacilityStatus.SUSPENDED: {FacilityStatus.OPERATING, FacilityStatus.CLOSED},
    FacilityStatus.CLOSED: set(),
}


class OperatorKind(models.TextChoices):
    GOVERNMENT = "government", _("Run by the government")
    AGENCY = "agency", _("Contracted social work agency")


CHECKLIST_ITEMS = {
    "premises": _("Premises"),
    "equipment": _("Equipment"),
    "staff": _("Staff"),
    "rules": _("Rules"),
    "service_functions": _("Service functions"),
    "activities": _("Activities"),
}


class Rating(models.TextChoices):
    A1 = "1A", "1A"
    A2 = "2A", "2A"
    A3 = "3A", "3A"
    A4 = "4A", "4A"
    A5 = "5A", "5A"


class IncubationStage(models.TextChoices):
    APPLIED = "applied", _("Applied")
    INCUBATING = "incubating", _("Incubating")
    GRADUATED = "graduated", _("Graduated")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class SocialOrganisation(models.Model):
    """A social organisation or social work agency, possibly incubated by a station."""

    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("registered in"), on_delete=models.PROTECT
    )
    is_social_work_agency = models.BooleanField(_("social work agency"), default=False)
    rating = models.CharField(_("rating"), max_length=2, choices=Rating.choices, blank=True)
    rating_expires_on = models.DateField(_("rating expires"), null=True, blank=True)
    incubating_station = models.ForeignKey(
        "network.Facility",
        verbose_name=_("incubating station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incubated_organisations",
        limit_choices_to={"tier": Tier.STATION},
    )
    incubation_stage = models.CharField(
        _("incubation stage"), max_length=16, choices=IncubationStage.choices, blank=True
    )
    incubation_started_on = models.DateField(_("incubation started"), null=True, blank=True)
    incubation_ended_on = models.DateField(_("incubation ended"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["name"]
        verbose_name = _("social organisation")
        verbose_name_plural = _("social organisations")

    def __str__(self) -> str:
        return self.name


class FacilityQuerySet(RestrictedQuerySet):
    """Facilities, scoped by their division."""


class Facility(models.Model):
    """A guidance centre, station or room serving one division.

    ``status`` is the current status; its dated history is ``FacilityStatusPeriod`` (the
    source of every as-of-date figure). At most one facility per division and tier is not
    closed, enforced by a partial unique index.
    """

    tier = models.CharField(_("tier"), max_length=8, choices=Tier.choices)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("division"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    operator_kind = models.CharField(
        _("operator"), max_length=16, choices=OperatorKind.choices, default=OperatorKind.GOVERNMENT
    )
    operator = models.ForeignKey(
        SocialOrganisation,
        verbose_name=_("operating agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="operated_facilities",
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    opened_on = models.DateField(_("opening date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FacilityStatus.choices, default=FacilityStatus.PLANNED
    )
    checklist = models.JSONField(_("construction checklist"), default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FacilityQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["division__code", "tier"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "tier"],
                condition=~Q(status="closed"),
                name="network_one_active_facility_per_division_tier",
            ),
        ]
        indexes = [models.Index(fields=["tier", "status"], name="network_facility_tier_status")]

    def __str__(self) -> str:
        return self.name


class FacilityStatusPeriod(models.Model):
    """A dated span during which a facility had one status (``valid_to`` open = now)."""

    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.CASCADE, related_name="periods"
    )
    status = models.CharField(_("status"), max_length=16, choices=FacilityStatus.choices)
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Copies of the facility's tier and of its division's code and kind, so that "which
    # facilities of this area were operating on that day" is one index range on this table
    # (the coverage and compliance figures of a whole country read no other table for it).
    # The database keeps them in step, whoever writes (migration 0002's triggers): they are
    # set from the facility on every insert, and follow a division's code change or
    # reclassification and a facility's (never otherwise changed) division or tier.
    tier = models.CharField(
        _("tier"), max_length=8, choices=Tier.choices, blank=True, default="", editable=False
    )
    division_code = models.CharField(
        _("division code"), max_length=12, blank=True, default="", editable=False
    )
    division_kind = models.CharField(
        _("division kind"), max_length=16, blank=True, default="", editable=False
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "facility__division__code"

    class Meta:
        ordering = ["facility", "valid_from"]
        verbose_name = _("status period")
        verbose_name_plural = _("status periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="network_period_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["facility"],
                condition=Q(valid_to__isnull=True),
                name="network_one_open_period_per_facility",
            ),
        ]
        indexes = [
            # "Was this facility operating on that day?" — looked up facility by facility.
            models.Index(fields=["facility", "status", "valid_from"], name="network_period_asof"),
            # The operating periods of an area, in (division code, facility) order: a subtree
            # is a range of it, read index-only, and it merges with the postings' index.
            models.Index(
                fields=[
                    "division_code",
                    "facility",
                    "tier",
                    "division_kind",
                    "valid_from",
                    "valid_to",
                ],
                condition=Q(status="operating"),
                name="network_period_operating",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility} {self.status} {self.valid_from}–{self.valid_to or ''}"


class StandardQuerySet(RestrictedQuerySet):
    """Staffing standards are city-wide data: every signed-in role may read them."""


class StaffingStandard(models.Model):
    """Minimum full-time social workers for a tier in a kind of division, from a date.

    Versions are never edited: a new version has a later ``effective_from`` and the same
    document trail; the one in force on a date is the latest that started on or before it —
    unless it was ended (``ended_on``: the first day it no longer applies; from then that
    tier and kind have no standard until a newer version starts).
    """

    tier = models.CharField(_("tier"), max_length=8, choices=Tier.choices)
    division_kind = models.CharField(
        _("division kind"),
        max_length=16,
        choices=Kind.choices,
        blank=True,
        help_text=_("Empty for guidance centres (any county)."),
    )
    min_full_time = models.PositiveSmallIntegerField(_("minimum full-time social workers"))
    effective_from = models.DateField(_("effective from"))
    ended_on = models.DateField(
        _("ended on"),
        null=True,
        blank=True,
        help_text=_("The first day the version no longer applies."),
    )
    document = models.CharField(_("source document"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StandardQuerySet.as_manager()

    class Meta:
        ordering = ["tier", "division_kind", "-effective_from"]
        verbose_name = _("staffing standard")
        verbose_name_plural = _("staffing standards")
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "division_kind", "effective_from"],
                name="network_one_standard_per_kind_and_date",
            )
        ]

    def __str__(self) -> str:
        kind = self.division_kind or "*"
        return f"{self.tier}/{kind} ≥ {self.min_full_time} ({self.effective_from})"

    @classmethod
    def scope_q(cls, user) -> Q:
        return Q()


class SupervisionVisit(models.Model):
    """A tier duty: a station visiting one of its rooms, or a centre one of its stations."""

    supervisor = models.ForeignKey(
        Facility,
        verbose_name=_("supervising facility"),
        on_delete=models.PROTECT,
        related_name="visits_made",
    )
    supervised = models.ForeignKey(
        Facility,
        verbose_name=_("supervised facility"),
        on_delete=models.PROTECT,
        related_name="visits_received",
    )
    visited_on = models.DateField(_("date"))
    visitors = models.CharField(_("visitors"), max_length=300)
    findings = models.TextField(_("findings"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "supervised__division__code"

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("supervision visit")
        verbose_name_plural = _("supervision visits")

    def __str__(self) -> str:
        return f"{self.supervisor} → {self.supervised} {self.visited_on}"


class RequiredFix(models.Model):
    """A fix a supervision visit required, with its deadline and follow-up."""

    visit = models.ForeignKey(
        SupervisionVisit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="fixes"
    )
    description = models.CharField(_("required fix"), max_length=500)
    deadline = models.DateField(_("deadline"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    follow_up = models.TextField(_("follow-up"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "visit__supervised__division__code"

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("required fix")
        verbose_name_plural = _("required fixes")

    def __str__(self) -> str:
        return self.description

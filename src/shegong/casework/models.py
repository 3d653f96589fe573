"""Services to residents (issue #6): residents and households, special-group statuses,
casework (MZ/T 094), group work (MZ/T 095), community activities, service records and
referrals, and the access grants of "break the glass".

Personal data — national IDs, phones, addresses, notes about a person, disability
certificates — is stored encrypted (``EncryptedTextField``) with keyed hashes for exact
look-up. Every model here is scoped through ``RestrictedQuerySet`` by the community (or
facility) it belongs to; which fields a role may see in clear is decided by
``shegong.casework.privacy``.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shegong.core.crypto import EncryptedTextField
from shegong.core.scoping import RestrictedQuerySet
from shegong.core.validators import mask_national_id, mask_phone, parse_national_id

# --- Residents and households -------------------------------------------------------------


def lookup_keys(name: str, national_id: str) -> tuple[str, str, str]:
    """The picker's look-up keys of a resident: the name's pinyin without tones
    ("wujing"), its initials ("wj") and the ID's last four characters."""
    from pypinyin import Style, lazy_pinyin

    syllables = [s.lower() for s in lazy_pinyin(name or "", style=Style.NORMAL) if s.strip()]
    syllables = ["".join(ch for ch in s if ch.isalnum()) for s in syllables]
    syllables = [s for s in syllables if s]
    number = (national_id or "").strip().upper()
    return (
        "".join(syllables)[:300],
        "".join(s[0] for s in syllables)[:100],
        number[-4:] if len(number) == 18 else "",
    )


class Household(models.Model):
    """A household (户) in a community; its members are residents with a relationship to
    the head. The address is personal data and stored encrypted."""

    community = models.ForeignKey(
        "geo.Division", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    address = EncryptedTextField(_("address"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "community__code"

    class Meta:
        ordering = ["id"]
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        head = self.members.filter(relationship=Relationship.HEAD).first()
        return str(_("Household of %(name)s") % {"name": head.name}) if head else f"#{self.pk}"


class Relationship(models.TextChoices):
    """A household member's relationship to the head of the household."""

    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other relative")


class Resident(models.Model):
    """A person served by the network, living in a community (the actual residence; the
    household registration may be elsewhere). One row per person: ``national_id_hash``
    (keyed HMAC) keeps the same ID from being registered twice. Birth date and sex are read
    off the ID. Moving house goes through ``resident_transfer`` and leaves a ``Residence``
    row per period."""

    name = models.CharField(_("name"), max_length=100)
    national_id = EncryptedTextField(_("national ID"))
    national_id_hash = models.CharField(max_length=64, unique=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    community = models.ForeignKey(
        "geo.Division",
        verbose_name=_("community of residence"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_in = models.ForeignKey(
        "geo.Division",
        verbose_name=_("household registration"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    relationship = models.CharField(
        _("relationship to head"), max_length=16, choices=Relationship.choices, blank=True
    )
    guardian = models.ForeignKey(
        "self",
        verbose_name=_("guardian"),
        on_delete=models.PROTECT,
        related_name="wards",
        null=True,
        blank=True,
    )
    guardian_relationship = models.CharField(
        _("guardian's relationship"), max_length=50, blank=True
    )
    notes = EncryptedTextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the retention job anonymises a resident no longer served (security.md 18).
    anonymised_at = models.DateTimeField(null=True, blank=True)
    # Look-up keys of the resident picker (the ID is encrypted and cannot be searched):
    # the name's pinyin ("wujing") and initials ("wj"), the ID's last four characters.
    # Derived from name and ID on every save (``lookup_keys``).
    name_pinyin = models.CharField(max_length=300, blank=True, default="", editable=False)
    name_initials = models.CharField(max_length=100, blank=True, default="", editable=False)
    national_id_last4 = models.CharField(max_length=4, blank=True, default="", editable=False)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "community__code"

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        indexes = [
            models.Index(fields=["community", "name"], name="casework_resident_comm"),
            models.Index(fields=["name_initials"], name="casework_resident_initials"),
            models.Index(fields=["national_id_last4"], name="casework_resident_last4"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        keys = lookup_keys(self.name, self.national_id if self.anonymised_at is None else "")
        self.name_pinyin, self.name_initials, self.national_id_last4 = keys
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_pinyin", "name_initials"}
        super().save(*args, **kwargs)

    @property
    def birth_date(self) -> date:
        return parse_national_id(self.national_id).birth_date

    @property
    def sex(self) -> str:
        return parse_national_id(self.national_id).sex

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def national_id_masked(self) -> str:
        return mask_national_id(self.national_id)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class Residence(models.Model):
    """A period a resident lived in a community: the history behind ``Resident.community``
    (the open period is the current one)."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="residences", verbose_name=_("resident")
    )
    community = models.ForeignKey(
        "geo.Division", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    moved_in_on = models.DateField(_("moved in"))
    moved_out_on = models.DateField(_("moved out"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "resident__community__code"

    class Meta:
        ordering = ["-moved_in_on", "-id"]
        verbose_name = _("residence")
        verbose_name_plural = _("residences")
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(moved_out_on__isnull=True),
                name="casework_one_open_residence",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident} @ {self.community} ({self.moved_in_on})"


class ConsentPurpose(models.TextChoices):
    """What a resident (or their guardian) consents to."""

    SERVICE = "service", _("Receiving services and recording them")
    DATA_SHARING = "data_sharing", _("Sharing data with partner agencies")
    REFERRAL = "referral", _("Referral to another service")
    PHOTO = "photo", _("Photos and publicity")


class Consent(models.Model):
    """A consent record: what was consented, when and by whom. For a child under 14 the
    consent is given by the guardian (``consent_record`` enforces it). Withdrawing keeps the
    row with its date."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="consents", verbose_name=_("resident")
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=ConsentPurpose.choices)
    given_on = models.DateField(_("given on"))
    given_by_guardian = models.BooleanField(_("given by the guardian"), default=False)
    given_by_name = models.CharField(_("given by"), max_length=100)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "resident__community__code"

    class Meta:
        ordering = ["-given_on", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=F("given_on")),
                name="casework_consent_withdrawn_after_given",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident} · {self.get_purpose_display()} ({self.given_on})"


# --- Special-group statuses -----------------------------------------------------------------


class SpecialGroup(models.TextChoices):
    """The special groups a resident can belong to (several at once)."""

    DIBAO = "dibao", _("Minimum-allowance recipient")
    EXTREME_POVERTY_INSTITUTIONAL = (
        "extreme_poverty_institutional",
        _("Extreme-poverty person (institutional support)"),
    )
    EXTREME_POVERTY_HOME = "extreme_poverty_home", _("Extreme-poverty person (home support)")
    NEAR_DIBAO = "near_dibao", _("Near-dibao household member")
    RIGID_EXPENDITURE = "rigid_expenditure", _("Rigid-expenditure hardship household member")
    RETURN_TO_POVERTY = "return_to_poverty", _("Return-to-poverty monitoring target")
    LOW_INCOME_OTHER = "low_income_other", _("Other low-income person")
    CHILD_IN_DIFFICULTY = "child_in_difficulty", _("Child in difficulty")
    ORPHAN = "orphan", _("Orphan")
    UNSUPPORTED_CHILD = "unsupported_child", _("De-facto unsupported child")
    LEFT_BEHIND_CHILD = "left_behind_child", _("Left-behind child")
    LEFT_BEHIND_ELDER = "left_behind_elder", _("Left-behind elder")
    LEFT_BEHIND_WOMAN = "left_behind_woman", _("Left-behind woman")
    DISABILITY = "disability", _("Person with a disability")


LOW_INCOME_GROUPS = frozenset(
    {
        SpecialGroup.DIBAO,
        SpecialGroup.EXTREME_POVERTY_INSTITUTIONAL,
        SpecialGroup.EXTREME_POVERTY_HOME,
        SpecialGroup.NEAR_DIBAO,
        SpecialGroup.RIGID_EXPENDITURE,
        SpecialGroup.RETURN_TO_POVERTY,
        SpecialGroup.LOW_INCOME_OTHER,
    }
)
CHILD_GROUPS = frozenset(
    {
        SpecialGroup.CHILD_IN_DIFFICULTY,
        SpecialGroup.ORPHAN,
        SpecialGroup.UNSUPPORTED_CHILD,
        SpecialGroup.LEFT_BEHIND_CHILD,
    }
)


class DisabilityCategory(models.IntegerChoices):
    """The 7 disability categories; the certificate number's 19th digit."""

    VISUAL = 1, _("Visual")
    HEARING = 2, _("Hearing")
    SPEECH = 3, _("Speech")
    PHYSICAL = 4, _("Physical")
    INTELLECTUAL = 5, _("Intellectual")
    PSYCHIATRIC = 6, _("Psychiatric")
    MULTIPLE = 7, _("Multiple")


class SpecialStatus(models.Model):
    """A resident's membership of a special group for a period, with its review date and
    evidence. Disability carries category, grade (1 most severe) and the certificate number
    (the 18-digit ID + category digit + grade digit), which is health data and stored
    encrypted. Statuses are history: they are ended, never deleted."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="statuses", verbose_name=_("resident")
    )
    group = models.CharField(_("special group"), max_length=32, choices=SpecialGroup.choices)
    disability_category = models.PositiveSmallIntegerField(
        _("disability category"), choices=DisabilityCategory.choices, null=True, blank=True
    )
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"), null=True, blank=True
    )
    certificate_number = EncryptedTextField(_("certificate number"), blank=True)
    started_on = models.DateField(_("start"))
    review_on = models.DateField(_("review"), null=True, blank=True)
    ended_on = models.DateField(_("end"), null=True, blank=True)
    evidence = models.CharField(_("evidence"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "resident__community__code"

    class Meta:
        ordering = ["-started_on", "-id"]
        verbose_name = _("special-group status")
        verbose_name_plural = _("special-group statuses")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="casework_status_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(disability_grade__isnull=True)
                | Q(disability_grade__gte=1, disability_grade__lte=4),
                name="casework_status_grade_1_to_4",
            ),
        ]
        indexes = [models.Index(fields=["group", "ended_on"], name="casework_status_group")]

    def __str__(self) -> str:
        return f"{self.resident} · {self.get_group_display()}"

    def is_active_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on >= day)


# --- Casework (MZ/T 094-2017) ---------------------------------------------------------------


class CaseStage(models.TextChoices):
    """The stages of a case, in order; ``declined`` ends a case at intake."""

    INTAKE = "intake", _("Intake")
    ASSESSMENT = "assessment", _("Assessment")
    PLAN = "plan", _("Plan")
    INTERVENTION = "intervention", _("Intervention")
    EVALUATION = "evaluation", _("Evaluation")
    CLOSED = "closed", pgettext_lazy("case stage", "Closed")
    DECLINED = "declined", _("Declined")


CASE_STAGE_ORDER = [
    CaseStage.INTAKE,
    CaseStage.ASSESSMENT,
    CaseStage.PLAN,
    CaseStage.INTERVENTION,
    CaseStage.EVALUATION,
    CaseStage.CLOSED,
]


class ReferralSource(models.TextChoices):
    SELF = "self", _("Self-referred")
    FAMILY = "family", _("Family or neighbours")
    COMMITTEE = "committee", _("Village or residents' committee")
    NETWORK = "network", _("Another station, room or centre")
    AGENCY = "agency", _("Outside agency")
    OUTREACH = "outreach", _("Outreach or home visit")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRISIS = "crisis", _("Crisis")


class ClosureReason(models.TextChoices):
    GOALS_MET = "goals_met", _("Goals met")
    CLIENT_ENDED = "client_ended", _("Client ended the service")
    REFERRED = "referred", _("Referred elsewhere")
    MOVED = "moved", _("Client moved away")
    DECEASED = "deceased", _("Client died")
    OTHER = "other", _("Other")


class Case(models.Model):
    """A casework case of one resident, held by a room, station or centre, moving through
    the MZ/T 094 stages in order (``case_advance``). The assigned worker and the supervisor
    are platform users; a *protected* case (counselling, crisis, or a child under 14) opens
    to others only through a break-the-glass grant. Narrative fields are encrypted."""

    number = models.CharField(_("case number"), max_length=32, unique=True)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="cases", verbose_name=_("resident")
    )
    facility = models.ForeignKey(
        "network.Facility",
        verbose_name=_("held by"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    stage = models.CharField(
        _("stage"), max_length=16, choices=CaseStage.choices, default=CaseStage.INTAKE
    )
    referral_source = models.CharField(
        _("referral source"), max_length=16, choices=ReferralSource.choices
    )
    risk_level = models.CharField(
        _("risk level"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    protected = models.BooleanField(
        _("protected record"),
        default=False,
        help_text=_(
            "Counselling or crisis work: open only to the assigned worker and the "
            "supervisor, others need a stated reason."
        ),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned worker"),
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor"),
        on_delete=models.PROTECT,
        related_name="supervised_cases",
    )
    presenting_problem = EncryptedTextField(_("presenting problem"), blank=True)
    opened_on = models.DateField(_("opened on"))
    # Intake decision: accepted or declined (with reason), approved by the supervisor.
    decline_reason = models.CharField(_("reason for declining"), max_length=300, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    assessment = EncryptedTextField(_("assessment"), blank=True)
    evaluation_method = models.CharField(_("evaluation method"), max_length=200, blank=True)
    evaluation = EncryptedTextField(_("evaluation"), blank=True)
    closure_reason = models.CharField(
        _("closure reason"), max_length=16, choices=ClosureReason.choices, blank=True
    )
    client_reaction = models.CharField(_("client's reaction"), max_length=300, blank=True)
    closing_report = EncryptedTextField(_("closing report"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "facility__division__code"

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["assigned_to", "stage"], name="casework_case_assigned"),
            models.Index(fields=["stage", "next_review_on"], name="casework_case_review"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.stage not in (CaseStage.CLOSED, CaseStage.DECLINED)


class CaseStageChange(models.Model):
    """One step of a case through its stages: who moved it, when, with what note."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=16, choices=CaseStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=CaseStage.choices)
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "case__facility__division__code"

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.case}: {self.from_stage} → {self.to_stage}"


class CaseGoal(models.Model):
    """A goal of a case plan, with its priority and whether it was reached."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="goals")
    text = models.CharField(_("goal"), max_length=300)
    priority = models.PositiveSmallIntegerField(_("priority"), default=1)
    achieved = models.BooleanField(_("achieved"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "case__facility__division__code"

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return self.text


class CaseNoteKind(models.TextChoices):
    GENERAL = "general", _("Case note")
    COUNSELLING = "counselling", _("Counselling note")
    CRISIS = "crisis", _("Crisis note")
    CONFERENCE = "conference", _("Case conference")
    RESOURCE_LINK = "resource_link", _("Resource link")


PROTECTED_NOTE_KINDS = frozenset({CaseNoteKind.COUNSELLING, CaseNoteKind.CRISIS})


class CaseNote(models.Model):
    """A dated entry in a case during intervention: a note, a counselling or crisis note
    (protected), a case conference or a resource link. The text is encrypted."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("kind"), max_length=16, choices=CaseNoteKind.choices)
    written_on = models.DateField(_("date"))
    text = EncryptedTextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "case__facility__division__code"

    class Meta:
        ordering = ["-written_on", "-id"]
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")

    def __str__(self) -> str:
        return f"{self.case} · {self.get_kind_display()} ({self.written_on})"

    @property
    def is_protected(self) -> bool:
        return self.kind in PROTECTED_NOTE_KINDS


# --- Break the glass (security.md 8) ------------------------------------------------------


class AccessGrant(models.Model):
    """A time-limited opening of a protected record (a protected case, or a resident under
    14) to someone who is neither the assigned worker nor the supervisor, for a stated
    reason. Granting is audited; the grant expires by itself."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_grants"
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="access_grants", null=True, blank=True
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="access_grants", null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=300)
    granted_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | Q(case__isnull=False),
                name="casework_grant_has_a_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.case or self.resident} until {self.expires_at}"

    @classmethod
    def scope_q(cls, user) -> Q:
        """A user's own grants (the audit trail shows everyone's to the audit administrator)."""
        return Q(user_id=user.pk)


# --- Group work (MZ/T 095-2017) and community activities ----------------------------------


class GroupType(models.TextChoices):
    EDUCATION = "education", _("Education group")
    SUPPORT = "support", _("Support group")
    GROWTH = "growth", _("Growth group")
    THERAPY = "therapy", _("Therapy group")


class GroupStage(models.TextChoices):
    PREPARATION = "preparation", _("Preparation")
    FORMATION = "formation", _("Formation")
    TRANSITION = "transition", _("Transition")
    MATURITY = "maturity", _("Maturity")
    ENDING = "ending", _("Ending")


class WorkGroup(models.Model):
    """A social work group run by a facility: type, stage, members and sessions."""

    facility = models.ForeignKey(
        "network.Facility", verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    group_type = models.CharField(_("group type"), max_length=16, choices=GroupType.choices)
    stage = models.CharField(
        _("stage"), max_length=16, choices=GroupStage.choices, default=GroupStage.PREPARATION
    )
    target_group = models.CharField(
        _("target group"), max_length=32, choices=SpecialGroup.choices, blank=True
    )
    goals = models.TextField(_("goals"), blank=True)
    planned_sessions = models.PositiveSmallIntegerField(_("planned sessions"), default=6)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_on = models.DateField(_("start"))
    members = models.ManyToManyField(Resident, through="GroupMember", related_name="work_groups")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "facility__division__code"

    class Meta:
        ordering = ["-started_on", "-id"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(WorkGroup, on_delete=models.CASCADE, related_name="memberships")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    joined_on = models.DateField(_("joined"))
    left_on = models.DateField(_("left"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "group__facility__division__code"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "resident"], name="casework_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.resident} in {self.group}"


class Activity(models.Model):
    """A community activity: needs, plan, date, place, partners, volunteers and summary.
    Its participants are counted in its service record."""

    facility = models.ForeignKey(
        "network.Facility", verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    needs = models.TextField(_("needs assessment"), blank=True)
    plan = models.TextField(_("plan"), blank=True)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    partners = models.CharField(_("partners"), max_length=300, blank=True)
    volunteer_count = models.PositiveIntegerField(_("volunteers"), default=0)
    summary = models.TextField(_("summary"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "facility__division__code"

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("community activity")
        verbose_name_plural = _("community activities")

    def __str__(self) -> str:
        return self.title


# --- Service records ------------------------------------------------------------------------


class ServiceDomain(models.TextChoices):
    POLICY_PUBLICITY = "policy_publicity", _("Policy publicity")
    SOCIAL_ASSISTANCE = "social_assistance", _("Social assistance")
    EMOTIONAL_SUPPORT = "emotional_support", _("Emotional support")
    CAPACITY_BUILDING = "capacity_building", _("Capacity building")
    SOCIAL_SUPPORT = "social_support", _("Social support")
    CRISIS_INTERVENTION = "crisis_intervention", _("Crisis intervention")
    RIGHTS_PROTECTION = "rights_protection", _("Rights protection")
    SOCIAL_INTEGRATION = "social_integration", _("Social integration")
    COMMUNITY_PARTICIPATION = "community_participation", _("Community participation")
    CULTURE_HEALTH = "culture_health", _("Culture and health")
    ENVIRONMENT = "environment", _("Environment")


class ServiceMethod(models.TextChoices):
    CASE = "case", _("Casework")
    GROUP = "group", _("Group work")
    COMMUNITY = "community", _("Community work")
    VISIT = "visit", _("Home visit")
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online")


class ServiceRecord(models.Model):
    """One service event: who served, whom (registered residents and/or a head-count), when,
    where, in which domain and by which method, and what it belongs to (a case, a group
    session, an activity, a project). ``person_times`` is derived by the service — the
    residents served plus the head-count — and is what F28 and each project's outputs sum.
    ``target_group`` is the special group the service was for (reports by group)."""

    facility = models.ForeignKey(
        "network.Facility", verbose_name=_("facility"), on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("where served"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # casework_record_div_day leads with it
    )
    served_on = models.DateField(_("date"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=30)
    place = models.CharField(_("place"), max_length=200, blank=True)
    domain = models.CharField(_("domain"), max_length=32, choices=ServiceDomain.choices)
    method = models.CharField(_("method"), max_length=16, choices=ServiceMethod.choices)
    target_group = models.CharField(
        _("target group"), max_length=32, choices=SpecialGroup.choices, blank=True
    )
    poverty_alleviation = models.BooleanField(_("poverty-alleviation service"), default=False)
    # case, group, activity and project are indexed where set only (partial indexes below):
    # most records have none of them
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="service_records",
        null=True,
        blank=True,
        db_index=False,
    )
    group = models.ForeignKey(
        WorkGroup,
        on_delete=models.PROTECT,
        related_name="sessions",
        null=True,
        blank=True,
        db_index=False,
    )
    session_number = models.PositiveSmallIntegerField(_("session"), null=True, blank=True)
    session_plan = models.TextField(_("session plan"), blank=True)
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="service_records",
        null=True,
        blank=True,
        db_index=False,
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="service_records",
        null=True,
        blank=True,
        db_index=False,
    )
    residents = models.ManyToManyField(
        Resident, through="ServiceRecipient", related_name="service_records", blank=True
    )
    headcount = models.PositiveIntegerField(_("head-count (unregistered)"), default=0)
    person_times = models.PositiveIntegerField(_("person-times"), default=0)
    workers = models.ManyToManyField(
        "workforce.SocialWorker", related_name="service_records", blank=True
    )
    volunteers = models.CharField(_("volunteers"), max_length=300, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["-served_on", "-id"]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        constraints = [
            models.CheckConstraint(
                condition=Q(person_times__gte=1), name="casework_record_serves_someone"
            )
        ]
        indexes = [
            models.Index(fields=["division", "served_on"], name="casework_record_div_day"),
            models.Index(fields=["served_on"], name="casework_record_day"),
            *(
                models.Index(
                    fields=[link],
                    condition=Q(**{f"{link}__isnull": False}),
                    name=f"casework_record_{link}",
                )
                for link in ("case", "group", "activity", "project")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.served_on} · {self.get_method_display()} · {self.get_domain_display()}"


class ServiceMonthTotal(models.Model):
    """The service records of one county in one month, per target group, domain and method:
    how many records, their person-times, and the person-times of the poverty-alleviation
    ones among them. Derived, never typed in: database triggers keep each row equal to the
    sums over ``ServiceRecord`` whoever writes a record (insert, change, delete) and when a
    division's code moves it to another county (casework migration 0003); ``shegong
    casework_month_totals`` checks or rebuilds them. Statistics for a county or a wider
    area read whole months here instead of scanning every record (selectors.stats)."""

    county_code = models.CharField(_("county code"), max_length=6)
    month = models.DateField(_("month"))  # the first day of the month
    target_group = models.CharField(_("target group"), max_length=32, blank=True)
    domain = models.CharField(_("domain"), max_length=32)
    method = models.CharField(_("method"), max_length=16)
    records = models.BigIntegerField(_("records"), default=0)
    person_times = models.BigIntegerField(_("person-times"), default=0)
    poverty_person_times = models.BigIntegerField(
        _("person-times of poverty-alleviation services"), default=0
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "county_code"  # exact for areas of a county or wider (selectors.stats)

    class Meta:
        verbose_name = _("monthly service total")
        verbose_name_plural = _("monthly service totals")
        constraints = [
            models.UniqueConstraint(
                fields=["county_code", "month", "target_group", "domain", "method"],
                name="casework_month_total_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.county_code} {self.month:%Y-%m} {self.target_group or '-'}"


class ServiceRecipient(models.Model):
    """A registered resident served in a service record (once per record)."""

    # both indexed through the two-column unique constraint and index below
    record = models.ForeignKey(
        ServiceRecord, on_delete=models.CASCADE, related_name="recipients", db_index=False
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "record__division__code"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "resident"], name="casework_recipient_once")
        ]
        indexes = [models.Index(fields=["resident", "record"], name="casework_recipient_res")]

    def __str__(self) -> str:
        return f"{self.resident} in {self.record}"


# --- Referrals ------------------------------------------------------------------------------


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Completed")


class Referral(models.Model):
    """A referral of a resident from one facility to another facility of the network or to
    an outside agency: reason, consent checked, due date, answer and outcome. Both sides see
    it (``scope_q``); an overdue one surfaces on both sides' home pages."""

    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("resident")
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    from_facility = models.ForeignKey(
        "network.Facility",
        verbose_name=_("from"),
        on_delete=models.PROTECT,
        related_name="referrals_sent",
    )
    to_facility = models.ForeignKey(
        "network.Facility",
        verbose_name=_("to"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
        null=True,
        blank=True,
    )
    to_agency = models.CharField(_("outside agency"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    consent_checked = models.BooleanField(_("consent checked"), default=False)
    sent_on = models.DateField(_("sent on"))
    due_on = models.DateField(_("answer due"))
    status = models.CharField(
        _("status"), max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    answer_note = models.CharField(_("answer"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_on", "-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(
                condition=Q(to_facility__isnull=False) | ~Q(to_agency=""),
                name="casework_referral_has_a_receiver",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("sent_on")), name="casework_referral_due_after_sent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} → {self.to_facility or self.to_agency}"

    @classmethod
    def scope_q(cls, user) -> Q:
        """The sending side's area, and the receiving facility's area."""
        prefix = user.scope_prefix
        if not prefix:
            return Q(pk__in=[])
        return Q(from_facility__division__code__startswith=prefix) | Q(
            to_facility__division__code__startswith=prefix
        )

"""Purchased service projects (政府购买社会工作服务项目) through their life cycle, with budget
lines, payment milestones, monthly reports, supervision, and evaluations on a configurable
indicator tree."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shegong.core.scoping import RestrictedQuerySet


class PurchaseModel(models.TextChoices):
    POST = "post", _("Purchase of posts")
    PROJECT = "project", _("Purchase of a project")


class Focus(models.TextChoices):
    POVERTY = "poverty", _("Poverty alleviation and rural revitalisation")
    SPECIAL_GROUPS = "special_groups", _("Special groups (livelihood security)")
    GOVERNANCE = "governance", _("Community governance")
    EMERGENCY = "emergency", _("Emergency response")


class Stage(models.TextChoices):
    """The life cycle, in order; ``TERMINATED`` can end it from any stage after contract."""

    APPLICATION = "application", _("Application")
    PRELIMINARY_REVIEW = "preliminary_review", _("Preliminary review")
    EXPERT_REVIEW = "expert_review", _("Expert review")
    PUBLIC_NOTICE = "public_notice", _("Public notice")
    CONTRACT = "contract", _("Contract signed")
    IN_PROGRESS = "in_progress", _("In progress")
    MIDTERM_EVALUATION = "midterm_evaluation", _("Mid-term evaluation")
    FINAL_EVALUATION = "final_evaluation", _("Final evaluation")
    CLOSED = "closed", pgettext_lazy("project stage", "Closed")
    TERMINATED = "terminated", _("Terminated")
    REJECTED = "rejected", _("Not approved")


class Project(models.Model):
    """A project bought from a social work agency: what it promised (KPIs, budget) and where
    it stands in its life cycle. ``area`` is a town or a county; the project is seen in that
    subtree, by the purchasing facility's area, and by its agency's staff."""

    code = models.CharField(_("project code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    purchase_model = models.CharField(
        _("purchase model"), max_length=8, choices=PurchaseModel.choices
    )
    focus = models.CharField(_("focus"), max_length=16, choices=Focus.choices)
    target_groups = models.CharField(_("target groups"), max_length=300, blank=True)
    area = models.ForeignKey(
        "geo.Division", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    purchaser = models.ForeignKey(
        "network.Facility",
        verbose_name=_("purchasing facility"),
        on_delete=models.PROTECT,
        related_name="purchased_projects",
    )
    agency = models.ForeignKey(
        "network.SocialOrganisation",
        verbose_name=_("contracted agency"),
        on_delete=models.PROTECT,
        related_name="projects",
        null=True,
        blank=True,
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    budget = models.DecimalField(_("budget (yuan)"), max_digits=14, decimal_places=2)
    kpi_person_times = models.PositiveIntegerField(_("planned person-times"), default=0)
    kpi_cases = models.PositiveIntegerField(_("planned cases"), default=0)
    kpi_groups = models.PositiveIntegerField(_("planned groups"), default=0)
    kpi_activities = models.PositiveIntegerField(_("planned community activities"), default=0)
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.APPLICATION
    )
    notice_starts_on = models.DateField(_("public notice from"), null=True, blank=True)
    notice_ends_on = models.DateField(_("public notice until"), null=True, blank=True)
    contract_number = models.CharField(_("contract number"), max_length=60, blank=True)
    contract_signed_on = models.DateField(_("contract signed on"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "code"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="projects_project_dates"
            ),
            models.CheckConstraint(condition=Q(budget__gte=0), name="projects_budget_positive"),
        ]
        indexes = [models.Index(fields=["stage", "focus"], name="projects_stage_focus")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @classmethod
    def scope_q(cls, user) -> Q:
        """Agency staff see their agency's projects only; everyone else the projects of
        their area (the project's area, or the purchaser's), and the projects whose area
        contains their division (a town's or a county's project serves every community
        in it, so a room's social worker sees it; writing needs the area itself)."""
        from shegong.core.roles import Role

        prefix = user.scope_prefix
        if user.role == Role.AGENCY_STAFF:
            if not user.organisation_id:
                return Q(pk__in=[])
            return Q(agency_id=user.organisation_id)
        if not prefix:
            return Q(pk__in=[])
        ancestors = [prefix[:n] for n in (6, 9) if n < len(prefix)]  # its county and town
        return (
            Q(area__code__startswith=prefix)
            | Q(purchaser__division__code__startswith=prefix)
            | Q(area__code__in=ancestors)
        )


class ProjectScoped(models.Model):
    """Rows that belong to a project are seen by whoever sees the project."""

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, user) -> Q:
        inner = Project.scope_q(user)
        return Q(project__in=Project.objects.filter(inner).values("pk"))


class StageChange(ProjectScoped):
    """One step of a project's life cycle: who moved it, when, with what note (the
    timeline of the project page)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "recorded_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self) -> str:
        return f"{self.project_id}: {self.from_stage} → {self.to_stage}"


class Objection(ProjectScoped):
    """An objection received during the public notice, and how it was resolved."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="objections")
    received_on = models.DateField(_("received on"))
    text = models.TextField(_("objection"))
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    class Meta:
        ordering = ["received_on", "id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.project_id}: {self.received_on}"


class BudgetLine(ProjectScoped):
    """A line of the project budget (staff, activities, supervision, administration…)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget_lines")
    name = models.CharField(_("item"), max_length=200)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["project", "id"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="projects_budget_line_amount")
        ]

    def __str__(self) -> str:
        return self.name


class PaymentMilestone(ProjectScoped):
    """A contract payment: what must be done, by when, and how much is paid for it. Paid by
    a disbursement in the funding ledger."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["project", "due_on", "id"]
        verbose_name = _("payment milestone")
        verbose_name_plural = _("payment milestones")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="projects_milestone_amount")
        ]

    def __str__(self) -> str:
        return self.name


class MonthlyReport(ProjectScoped):
    """The agency's monthly report and plan. The figures are as reported (outputs computed
    from service records replace them when casework records name the project)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    month = models.DateField(_("month"))  # the first day of the month
    summary = models.TextField(_("work done"))
    plan = models.TextField(_("plan for next month"), blank=True)
    reported_person_times = models.PositiveIntegerField(_("person-times (reported)"), default=0)
    reported_cases = models.PositiveIntegerField(_("cases (reported)"), default=0)
    reported_groups = models.PositiveIntegerField(_("groups (reported)"), default=0)
    reported_activities = models.PositiveIntegerField(_("activities (reported)"), default=0)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "month"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="projects_report_once")
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.month:%Y-%m}"


class SupervisionRecord(ProjectScoped):
    """A supervision visit to a project by the purchaser or a supervisor."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="supervisions")
    visited_on = models.DateField(_("date"))
    supervisor = models.CharField(_("supervisor"), max_length=200)
    findings = models.TextField(_("findings"))

    class Meta:
        ordering = ["project", "visited_on", "id"]
        verbose_name = _("supervision record")
        verbose_name_plural = _("supervision records")

    def __str__(self) -> str:
        return f"{self.project_id}: {self.visited_on}"


class IndicatorTree(models.Model):
    """A named, versioned evaluation scheme: indicators with weights summing to 100 at each
    level. The default tree has administration, finance, service delivery and outputs,
    professional quality, social evaluation / satisfaction, publicity and innovation."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("indicator tree")
        verbose_name_plural = _("indicator trees")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user) -> Q:
        return Q()  # configuration, not data of an area: every permitted user sees it


class Indicator(models.Model):
    """An indicator of a tree; ``weight`` is its share (in points) of its parent (of 100
    at the top level)."""

    tree = models.ForeignKey(IndicatorTree, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(_("indicator"), max_length=200)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    position = models.PositiveSmallIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["tree", "position", "id"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gt=0) & Q(weight__lte=100), name="projects_indicator_weight"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user) -> Q:
        return Q()


class EvaluationKind(models.TextChoices):
    MIDTERM = "midterm", _("Mid-term")
    FINAL = "final", _("Final")


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


class Evaluation(ProjectScoped):
    """A mid-term or final evaluation by a panel on an indicator tree; the weighted total and
    the grade are computed from the scores when the evaluation is completed."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="evaluations")
    kind = models.CharField(_("evaluation"), max_length=8, choices=EvaluationKind.choices)
    tree = models.ForeignKey(IndicatorTree, on_delete=models.PROTECT, related_name="+")
    evaluated_on = models.DateField(_("date"))
    panel = models.CharField(_("panel members"), max_length=300)
    total = models.DecimalField(
        _("weighted total"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "evaluated_on", "id"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(fields=["project", "kind"], name="projects_evaluation_once")
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.kind}"


class Score(models.Model):
    """One panel member's score (0–100) of one leaf indicator."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    panelist = models.CharField(_("panel member"), max_length=100)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["evaluation", "indicator", "panelist"]
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "indicator", "panelist"], name="projects_score_once"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="projects_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.panelist}: {self.score}"

    @classmethod
    def scope_q(cls, user) -> Q:
        return Q(evaluation__in=Evaluation.objects.filter(Evaluation.scope_q(user)).values("pk"))


class EvaluationFix(models.Model):
    """A fix an evaluation requires, with its deadline and follow-up."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="fixes")
    description = models.TextField(_("required fix"))
    deadline = models.DateField(_("deadline"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["evaluation", "deadline", "id"]
        verbose_name = _("required fix")
        verbose_name_plural = _("required fixes")

    def __str__(self) -> str:
        return self.description[:100]

    @classmethod
    def scope_q(cls, user) -> Q:
        return Q(evaluation__in=Evaluation.objects.filter(Evaluation.scope_q(user)).values("pk"))


def evidence_path(instance, filename: str) -> str:
    """Evidence files live under a per-project folder with a random name (never the
    uploader's file name, which is kept in ``original_name``)."""
    import uuid

    return f"evidence/{instance.evaluation.project_id}/{uuid.uuid4().hex}"


class EvidenceFile(models.Model):
    """A file supporting an evaluation (type- and size-checked on upload, served only to
    users who see the project)."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["evaluation", "uploaded_at", "id"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.original_name

    @classmethod
    def scope_q(cls, user) -> Q:
        return Q(evaluation__in=Evaluation.objects.filter(Evaluation.scope_q(user)).values("pk"))


class AgencyFlag(models.Model):
    """An agency flagged by a failed final evaluation: shown when it applies for the next
    round of projects."""

    agency = models.ForeignKey(
        "network.SocialOrganisation", on_delete=models.PROTECT, related_name="flags"
    )
    evaluation = models.OneToOneField(Evaluation, on_delete=models.PROTECT, related_name="flag")
    flagged_on = models.DateField(_("flagged on"))
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "agency__division__code"

    class Meta:
        ordering = ["-flagged_on", "id"]
        verbose_name = _("agency flag")
        verbose_name_plural = _("agency flags")

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.flagged_on}"

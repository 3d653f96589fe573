"""Writes for purchased service projects: the life cycle, reports, supervision, evaluations.

Every life-cycle step is its own service with its own permission: it locks the project row
(``select_for_update``), refuses a stale ``version`` (``ConflictError``) and a step out of
order (``ValidationError`` naming the stage), moves the stage, writes a ``StageChange``
(the timeline) and one audit row, all in one transaction. A role that may not take the
step gets ``PermissionDenied``; a project the user does not reach, ``Http404``.

The life cycle (``STEPS`` holds it as data)::

    application ──submit──▶ preliminary_review ──pass──▶ expert_review ──pass──▶
    public_notice (7 working days, objections) ──contract──▶ contract ──start──▶
    in_progress ──mid-term evaluation──▶ midterm_evaluation ──final evaluation──▶
    final_evaluation ──close──▶ closed

    preliminary_review, expert_review ──reject──▶ rejected
    public_notice ──an objection upheld──▶ rejected
    contract, in_progress, midterm_evaluation, final_evaluation ──terminate──▶ terminated
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.core.audit import audit_record, model_snapshot
from shegong.core.roles import Role
from shegong.core.validators import check_not_future, clean_amount, clean_text
from shegong.geo.models import Division, Level
from shegong.network.models import Facility, SocialOrganisation, Tier
from shegong.network.services import ConflictError
from shegong.projects.models import (
    AgencyFlag,
    BudgetLine,
    Evaluation,
    EvaluationFix,
    EvaluationKind,
    EvidenceFile,
    Focus,
    Grade,
    Indicator,
    IndicatorTree,
    MonthlyReport,
    Objection,
    PaymentMilestone,
    Project,
    PurchaseModel,
    Score,
    Stage,
    StageChange,
    SupervisionRecord,
)

__all__ = ["ConflictError"]

CENTS = Decimal("0.01")
NOTICE_WORKING_DAYS = 7


@dataclass(frozen=True)
class Step:
    """One life-cycle step: the stages it starts from, where it leads, who may take it."""

    sources: frozenset[str]
    target: str
    perm: str
    label: Promise


STEPS: dict[str, Step] = {
    "submit": Step(
        frozenset({Stage.APPLICATION}),
        Stage.PRELIMINARY_REVIEW,
        "projects.change_project",
        gettext_lazy("submitting the application"),
    ),
    "preliminary_pass": Step(
        frozenset({Stage.PRELIMINARY_REVIEW}),
        Stage.EXPERT_REVIEW,
        "projects.review_project",
        gettext_lazy("the preliminary review"),
    ),
    "preliminary_reject": Step(
        frozenset({Stage.PRELIMINARY_REVIEW}),
        Stage.REJECTED,
        "projects.review_project",
        gettext_lazy("the preliminary review"),
    ),
    "expert_pass": Step(
        frozenset({Stage.EXPERT_REVIEW}),
        Stage.PUBLIC_NOTICE,
        "projects.approve_project",
        gettext_lazy("the expert review"),
    ),
    "expert_reject": Step(
        frozenset({Stage.EXPERT_REVIEW}),
        Stage.REJECTED,
        "projects.approve_project",
        gettext_lazy("the expert review"),
    ),
    "objection_upheld": Step(
        frozenset({Stage.PUBLIC_NOTICE}),
        Stage.REJECTED,
        "projects.change_objection",
        gettext_lazy("resolving an objection"),
    ),
    "contract": Step(
        frozenset({Stage.PUBLIC_NOTICE}),
        Stage.CONTRACT,
        "projects.approve_project",
        gettext_lazy("signing the contract"),
    ),
    "start": Step(
        frozenset({Stage.CONTRACT}),
        Stage.IN_PROGRESS,
        "projects.change_project",
        gettext_lazy("starting the project"),
    ),
    "midterm": Step(
        frozenset({Stage.IN_PROGRESS}),
        Stage.MIDTERM_EVALUATION,
        "projects.add_evaluation",
        gettext_lazy("the mid-term evaluation"),
    ),
    "final": Step(
        frozenset({Stage.MIDTERM_EVALUATION}),
        Stage.FINAL_EVALUATION,
        "projects.add_evaluation",
        gettext_lazy("the final evaluation"),
    ),
    "close": Step(
        frozenset({Stage.FINAL_EVALUATION}),
        Stage.CLOSED,
        "projects.close_project",
        gettext_lazy("closing the project"),
    ),
    "terminate": Step(
        frozenset(
            {
                Stage.CONTRACT,
                Stage.IN_PROGRESS,
                Stage.MIDTERM_EVALUATION,
                Stage.FINAL_EVALUATION,
            }
        ),
        Stage.TERMINATED,
        "projects.close_project",
        gettext_lazy("terminating the project"),
    ),
}

# Where a project may go from each stage (the graph the steps draw).
TRANSITIONS: dict[str, frozenset[str]] = {
    stage: frozenset(step.target for step in STEPS.values() if stage in step.sources)
    for stage in Stage.values
}

# Stages in which the agency works (monthly reports, supervision).
RUNNING_STAGES = frozenset({Stage.IN_PROGRESS, Stage.MIDTERM_EVALUATION, Stage.FINAL_EVALUATION})
SUPERVISED_STAGES = RUNNING_STAGES | {Stage.CONTRACT}

PROJECT_AUDIT_FIELDS = [
    "code",
    "name",
    "purchase_model",
    "focus",
    "area",
    "purchaser",
    "agency",
    "starts_on",
    "ends_on",
    "budget",
    "kpi_person_times",
    "kpi_cases",
    "kpi_groups",
    "kpi_activities",
    "stage",
]


# --- helpers -----------------------------------------------------------------------------


def _user(actor):
    return actor if actor is not None and getattr(actor, "pk", None) else None


def _today() -> date:
    return timezone.localdate()


def _writable(actor, project: Project) -> bool:
    """Whether ``actor`` acts on ``project``: agency staff on their agency's projects, others
    on projects whose area or purchaser lies in their subtree (seeing a project of an area
    above one's own is for reading only)."""
    if actor.role == Role.AGENCY_STAFF:
        return bool(actor.organisation_id) and project.agency_id == actor.organisation_id
    prefix = actor.scope_prefix
    if not prefix:
        return False
    return project.area.code.startswith(prefix) or project.purchaser.division.code.startswith(
        prefix
    )


def _check(actor, perm: str, project: Project) -> None:
    """The actor's role has ``perm`` (else 403) and the project is theirs (else 404)."""
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise PermissionDenied(_("Your role may not do this."))
    if not _writable(actor, project):
        if Project.objects.restrict(actor).filter(pk=project.pk).exists():
            raise PermissionDenied(_("This project belongs to another area."))
        raise Http404


def _lock(project: Project, version: int | None = None) -> Project:
    """The project row, locked for the rest of the transaction; a stale version is refused."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if version is not None and locked.version != version:
        raise ConflictError(_("Someone else changed this project; reload and try again."))
    return locked


def _require_stage(project: Project, stages, label) -> None:
    if project.stage not in stages:
        needed = ", ".join(
            f"“{Stage(s).label}”" for s in Stage.values if s in stages
        )  # in life-cycle order
        raise ValidationError(
            {
                "stage": _(
                    "The project is at “%(stage)s”: %(step)s is possible only at %(needed)s."
                )
                % {"stage": Stage(project.stage).label, "step": label, "needed": needed}
            }
        )


def _move(
    *,
    actor,
    project: Project,
    step: str,
    on: date,
    note: str = "",
    fields: tuple[str, ...] = (),
    after: dict | None = None,
) -> Project:
    """Move a locked project along ``step``: stage, version, timeline row, audit row."""
    rule = STEPS[step]
    before_stage = project.stage
    project.stage = rule.target
    project.version += 1
    project.save(update_fields=["stage", "version", *fields])
    StageChange.objects.create(
        project=project,
        from_stage=before_stage,
        to_stage=rule.target,
        changed_on=on,
        note=note.strip(),
        actor=_user(actor),
    )
    audit_record(
        actor=actor,
        action=f"project.{step}",
        target=project,
        before={"stage": before_stage},
        after={"stage": project.stage, "note": note.strip()[:500], **(after or {})},
    )
    return project


def _step(actor, project: Project, step: str, version: int | None) -> Project:
    """Check role and scope, lock, check version and stage for ``step``."""
    rule = STEPS[step]
    _check(actor, rule.perm, project)
    project = _lock(project, version)
    _require_stage(project, rule.sources, rule.label)
    return project


def _count(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError({field: [_("Give a whole number, zero or more.")]})
    if value > 100_000_000:
        raise ValidationError({field: [_("The number is too large.")]})
    return value


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (weekends excluded; the start day
    itself is not counted). Public holidays are not known to the platform."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def agency_flags_open(agency: SocialOrganisation | None):
    """The agency's flags (failed final evaluations) that have not been lifted."""
    if agency is None:
        return AgencyFlag.objects.none()
    return AgencyFlag.objects.filter(agency=agency, lifted_on__isnull=True).select_related(
        "evaluation__project"
    )


def _flag_warning(agency: SocialOrganisation | None) -> tuple[str, list[int]]:
    flags = list(agency_flags_open(agency))
    if not flags:
        return "", []
    codes = ", ".join(f.evaluation.project.code for f in flags)
    note = _("Warning: the agency failed the final evaluation of %(codes)s (flag not lifted).") % {
        "codes": codes
    }
    return note, [f.pk for f in flags]


# --- application -------------------------------------------------------------------------


def _budget_left(project: Project, model, amount: Decimal, field: str, message: str) -> None:
    used = model.objects.filter(project=project).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    if used + amount > project.budget:
        raise ValidationError(
            {field: [message % {"used": used, "amount": amount, "budget": project.budget}]}
        )


@transaction.atomic
def project_apply(
    *,
    actor,
    code: str,
    name: str,
    purchase_model: str,
    focus: str,
    area: Division,
    purchaser: Facility,
    starts_on: date,
    ends_on: date,
    budget,
    target_groups: str = "",
    kpi_person_times: int = 0,
    kpi_cases: int = 0,
    kpi_groups: int = 0,
    kpi_activities: int = 0,
    agency: SocialOrganisation | None = None,
    budget_lines: list[tuple[str, object]] | None = None,
    milestones: list[tuple[str, date, object]] | None = None,
    applied_on: date | None = None,
) -> Project:
    """A purchasing station or centre applies for a project for a town or county in its
    area. Budget lines and payment milestones may come with it (or be added while the
    project is at application). If the proposed agency has open flags from failed final
    evaluations, the timeline and the audit row record the warning."""
    if actor is not None:
        if not actor.has_perm("projects.add_project"):
            raise PermissionDenied(_("Your role may not do this."))
        prefix = actor.scope_prefix
        if (
            actor.role == Role.AGENCY_STAFF
            or not prefix
            or not purchaser.division.code.startswith(prefix)
        ):
            raise Http404
    code = clean_text(code, "code", _("Give the project code."), 40)
    name = clean_text(name, "name", _("Give the project a name."))
    if purchase_model not in PurchaseModel.values:
        raise ValidationError({"purchase_model": [_("Unknown purchase model.")]})
    if focus not in Focus.values:
        raise ValidationError({"focus": [_("Unknown focus.")]})
    if purchaser.tier not in (Tier.STATION, Tier.CENTRE):
        raise ValidationError(
            {"purchaser": [_("The purchaser must be a social work station or a guidance centre.")]}
        )
    if purchaser.status == "closed":
        raise ValidationError({"purchaser": [_("The purchasing facility is closed.")]})
    if area.level not in (Level.TOWN, Level.COUNTY):
        raise ValidationError({"area": [_("The area must be a town or a county.")]})
    if not area.code.startswith(purchaser.division.code):
        raise ValidationError(
            {"area": [_("The area must lie in the purchasing facility's own area.")]}
        )
    if ends_on <= starts_on:
        raise ValidationError({"ends_on": [_("The end must be after the start.")]})
    budget = clean_amount(budget, "budget", positive=True)
    kpis = {
        "kpi_person_times": _count(kpi_person_times, "kpi_person_times"),
        "kpi_cases": _count(kpi_cases, "kpi_cases"),
        "kpi_groups": _count(kpi_groups, "kpi_groups"),
        "kpi_activities": _count(kpi_activities, "kpi_activities"),
    }
    if Project.objects.filter(code=code).exists():
        raise ValidationError({"code": [_("A project with this code already exists.")]})
    project = Project(
        code=code,
        name=name,
        purchase_model=purchase_model,
        focus=focus,
        target_groups=(target_groups or "").strip()[:300],
        area=area,
        purchaser=purchaser,
        agency=agency,
        starts_on=starts_on,
        ends_on=ends_on,
        budget=budget,
        **kpis,
    )
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError as exc:
        raise ValidationError({"code": [_("A project with this code already exists.")]}) from exc
    lines = []
    for index, (line_name, amount) in enumerate(budget_lines or []):
        lines.append(
            BudgetLine(
                project=project,
                name=clean_text(
                    line_name, f"budget_lines.{index}.name", _("Name the budget item.")
                ),
                amount=clean_amount(amount, f"budget_lines.{index}.amount"),
            )
        )
    if sum((line.amount for line in lines), Decimal(0)) > budget:
        raise ValidationError(
            {"budget_lines": [_("The budget lines add up to more than the budget.")]}
        )
    BudgetLine.objects.bulk_create(lines)
    payments = []
    for index, (milestone_name, due_on, amount) in enumerate(milestones or []):
        payments.append(
            PaymentMilestone(
                project=project,
                name=clean_text(
                    milestone_name, f"milestones.{index}.name", _("Name the milestone.")
                ),
                due_on=due_on,
                amount=clean_amount(amount, f"milestones.{index}.amount", positive=True),
            )
        )
    if sum((p.amount for p in payments), Decimal(0)) > budget:
        raise ValidationError(
            {"milestones": [_("The payment milestones add up to more than the budget.")]}
        )
    PaymentMilestone.objects.bulk_create(payments)
    warning, flag_ids = _flag_warning(agency)
    StageChange.objects.create(
        project=project,
        from_stage="",
        to_stage=Stage.APPLICATION,
        changed_on=applied_on or _today(),
        note=warning,
        actor=_user(actor),
    )
    audit_record(
        actor=actor,
        action="project.apply",
        target=project,
        after={
            **model_snapshot(project, PROJECT_AUDIT_FIELDS),
            "budget_lines": len(lines),
            "milestones": len(payments),
            "agency_flags": flag_ids,
        },
    )
    return project


@transaction.atomic
def budget_line_add(*, actor, project: Project, name: str, amount) -> BudgetLine:
    """Add a budget line while the project is at application; the lines may not add up to
    more than the budget."""
    _check(actor, "projects.add_budgetline", project)
    project = _lock(project)
    _require_stage(project, {Stage.APPLICATION}, _("adding a budget line"))
    name = clean_text(name, "name", _("Name the budget item."))
    amount = clean_amount(amount, "amount")
    _budget_left(
        project,
        BudgetLine,
        amount,
        "amount",
        _(
            "The budget lines would add up to more than the budget "
            "(%(used)s already + %(amount)s > %(budget)s)."
        ),
    )
    line = BudgetLine.objects.create(project=project, name=name, amount=amount)
    audit_record(
        actor=actor,
        action="project.budget_line_add",
        target=project,
        after={"line": line.pk, "name": name, "amount": str(amount)},
    )
    return line


@transaction.atomic
def milestone_add(*, actor, project: Project, name: str, due_on: date, amount) -> PaymentMilestone:
    """Add a payment milestone while the project is at application; the milestones may not
    add up to more than the budget."""
    _check(actor, "projects.add_paymentmilestone", project)
    project = _lock(project)
    _require_stage(project, {Stage.APPLICATION}, _("adding a payment milestone"))
    name = clean_text(name, "name", _("Name the milestone."))
    amount = clean_amount(amount, "amount", positive=True)
    _budget_left(
        project,
        PaymentMilestone,
        amount,
        "amount",
        _(
            "The payment milestones would add up to more than the budget "
            "(%(used)s already + %(amount)s > %(budget)s)."
        ),
    )
    milestone = PaymentMilestone.objects.create(
        project=project, name=name, due_on=due_on, amount=amount
    )
    audit_record(
        actor=actor,
        action="project.milestone_add",
        target=project,
        after={
            "milestone": milestone.pk,
            "name": name,
            "due_on": str(due_on),
            "amount": str(amount),
        },
    )
    return milestone


@transaction.atomic
def project_submit(
    *, actor, project: Project, note: str = "", version: int | None = None
) -> Project:
    """Send the application to the preliminary review."""
    project = _step(actor, project, "submit", version)
    return _move(actor=actor, project=project, step="submit", on=_today(), note=note)


# --- reviews and the public notice --------------------------------------------------------


@transaction.atomic
def preliminary_review(
    *, actor, project: Project, passed: bool, note: str = "", version: int | None = None
) -> Project:
    """The county's preliminary review: on to the expert review, or not approved (a
    rejection must say why)."""
    step = "preliminary_pass" if passed else "preliminary_reject"
    project = _step(actor, project, step, version)
    if not passed:
        clean_text(note, "note", _("Say why the application is not approved."), 2000)
    return _move(actor=actor, project=project, step=step, on=_today(), note=note)


@transaction.atomic
def expert_review(
    *,
    actor,
    project: Project,
    passed: bool,
    note: str = "",
    notice_starts_on: date | None = None,
    version: int | None = None,
) -> Project:
    """The expert review: passed, the public notice starts (7 working days, weekends
    excluded, counted from the day after it starts); or not approved."""
    step = "expert_pass" if passed else "expert_reject"
    project = _step(actor, project, step, version)
    if not passed:
        clean_text(note, "note", _("Say why the application is not approved."), 2000)
        return _move(actor=actor, project=project, step=step, on=_today(), note=note)
    starts = notice_starts_on or _today()
    check_not_future(starts, "notice_starts_on")
    project.notice_starts_on = starts
    project.notice_ends_on = add_working_days(starts, NOTICE_WORKING_DAYS)
    return _move(
        actor=actor,
        project=project,
        step=step,
        on=starts,
        note=note,
        fields=("notice_starts_on", "notice_ends_on"),
        after={
            "notice_starts_on": str(project.notice_starts_on),
            "notice_ends_on": str(project.notice_ends_on),
        },
    )


@transaction.atomic
def objection_add(*, actor, project: Project, received_on: date, text: str) -> Objection:
    """Record an objection received during the public notice."""
    _check(actor, "projects.add_objection", project)
    project = _lock(project)
    _require_stage(project, {Stage.PUBLIC_NOTICE}, _("recording an objection"))
    text = clean_text(text, "text", _("Give the objection."), 5000)
    check_not_future(received_on, "received_on")
    if not project.notice_starts_on <= received_on <= project.notice_ends_on:
        raise ValidationError(
            {
                "received_on": [
                    _("An objection must be received during the notice (%(start)s–%(end)s).")
                    % {"start": project.notice_starts_on, "end": project.notice_ends_on}
                ]
            }
        )
    objection = Objection.objects.create(project=project, received_on=received_on, text=text)
    audit_record(
        actor=actor,
        action="project.objection_add",
        target=project,
        after={"objection": objection.pk, "received_on": str(received_on)},
    )
    return objection


@transaction.atomic
def objection_resolve(
    *,
    actor,
    objection: Objection,
    resolution: str,
    resolved_on: date,
    upheld: bool = False,
) -> Objection:
    """Resolve an objection; an upheld objection ends the application (not approved)."""
    project = objection.project
    _check(actor, "projects.change_objection", project)
    project = _lock(project)
    _require_stage(project, {Stage.PUBLIC_NOTICE}, _("resolving an objection"))
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if objection.resolved_on is not None:
        raise ValidationError({"resolved_on": [_("This objection is already resolved.")]})
    resolution = clean_text(
        resolution, "resolution", _("Say how the objection was resolved."), 5000
    )
    check_not_future(resolved_on, "resolved_on")
    if resolved_on < objection.received_on:
        raise ValidationError(
            {"resolved_on": [_("An objection cannot be resolved before it was received.")]}
        )
    objection.resolution = resolution
    objection.resolved_on = resolved_on
    objection.save(update_fields=["resolution", "resolved_on"])
    audit_record(
        actor=actor,
        action="project.objection_resolve",
        target=project,
        after={"objection": objection.pk, "resolved_on": str(resolved_on), "upheld": upheld},
    )
    if upheld:
        _move(
            actor=actor,
            project=project,
            step="objection_upheld",
            on=resolved_on,
            note=_("Objection upheld: %(resolution)s") % {"resolution": resolution},
        )
    return objection


@transaction.atomic
def contract_sign(
    *,
    actor,
    project: Project,
    agency: SocialOrganisation,
    contract_number: str,
    signed_on: date,
    note: str = "",
    version: int | None = None,
) -> Project:
    """Sign the contract with an agency, after the public notice has ended and with every
    objection resolved."""
    project = _step(actor, project, "contract", version)
    contract_number = clean_text(
        contract_number, "contract_number", _("Give the contract number."), 60
    )
    check_not_future(signed_on, "signed_on")
    if signed_on <= project.notice_ends_on:
        raise ValidationError(
            {
                "signed_on": [
                    _("The public notice runs until %(end)s: the contract can be signed after it.")
                    % {"end": project.notice_ends_on}
                ]
            }
        )
    open_objections = project.objections.filter(resolved_on__isnull=True).count()
    if open_objections:
        raise ValidationError(
            {
                "stage": [
                    _("%(n)s objection(s) to this project are not resolved yet.")
                    % {"n": open_objections}
                ]
            }
        )
    project.agency = agency
    project.contract_number = contract_number
    project.contract_signed_on = signed_on
    warning, flag_ids = _flag_warning(agency)
    return _move(
        actor=actor,
        project=project,
        step="contract",
        on=signed_on,
        note="\n".join(x for x in (note.strip(), warning) if x),
        fields=("agency", "contract_number", "contract_signed_on"),
        after={
            "agency": agency.pk,
            "contract_number": contract_number,
            "signed_on": str(signed_on),
            "agency_flags": flag_ids,
        },
    )


@transaction.atomic
def project_start(
    *,
    actor,
    project: Project,
    started_on: date | None = None,
    note: str = "",
    version: int | None = None,
) -> Project:
    """The contracted agency starts work."""
    project = _step(actor, project, "start", version)
    started_on = started_on or _today()
    check_not_future(started_on, "started_on")
    if started_on < project.contract_signed_on:
        raise ValidationError(
            {"started_on": [_("The project cannot start before its contract was signed.")]}
        )
    return _move(actor=actor, project=project, step="start", on=started_on, note=note)


# --- while the project runs ---------------------------------------------------------------


@transaction.atomic
def monthly_report_submit(
    *,
    actor,
    project: Project,
    month: date,
    summary: str,
    plan: str = "",
    reported_person_times: int = 0,
    reported_cases: int = 0,
    reported_groups: int = 0,
    reported_activities: int = 0,
) -> MonthlyReport:
    """The agency's (or the purchaser's) monthly report and plan, once per month; the
    figures are as reported."""
    _check(actor, "projects.add_monthlyreport", project)
    project = _lock(project)
    _require_stage(project, RUNNING_STAGES, _("a monthly report"))
    month = month.replace(day=1)
    if month > _today() or month < project.starts_on.replace(day=1) or month > project.ends_on:
        raise ValidationError(
            {"month": [_("The month must fall in the project's period and not in the future.")]}
        )
    summary = clean_text(summary, "summary", _("Say what was done this month."), 10000)
    figures = {
        "reported_person_times": _count(reported_person_times, "reported_person_times"),
        "reported_cases": _count(reported_cases, "reported_cases"),
        "reported_groups": _count(reported_groups, "reported_groups"),
        "reported_activities": _count(reported_activities, "reported_activities"),
    }
    duplicate = ValidationError({"month": [_("This month has already been reported.")]})
    if MonthlyReport.objects.filter(project=project, month=month).exists():
        raise duplicate
    try:
        with transaction.atomic():
            report = MonthlyReport.objects.create(
                project=project, month=month, summary=summary, plan=(plan or "").strip(), **figures
            )
    except IntegrityError as exc:
        raise duplicate from exc
    audit_record(
        actor=actor,
        action="project.report_submit",
        target=project,
        after={"report": report.pk, "month": str(month), **figures},
    )
    return report


@transaction.atomic
def supervision_record_add(
    *, actor, project: Project, visited_on: date, supervisor: str, findings: str
) -> SupervisionRecord:
    """A supervision visit by the purchaser or a supervisor, once the contract is signed."""
    _check(actor, "projects.add_supervisionrecord", project)
    project = _lock(project)
    _require_stage(project, SUPERVISED_STAGES, _("a supervision record"))
    supervisor = clean_text(supervisor, "supervisor", _("Name the supervisor."))
    findings = clean_text(findings, "findings", _("Give the findings."), 10000)
    check_not_future(visited_on, "visited_on")
    if visited_on < project.contract_signed_on:
        raise ValidationError(
            {"visited_on": [_("The visit cannot be before the contract was signed.")]}
        )
    record = SupervisionRecord.objects.create(
        project=project, visited_on=visited_on, supervisor=supervisor, findings=findings
    )
    audit_record(
        actor=actor,
        action="project.supervision_add",
        target=project,
        after={"record": record.pk, "visited_on": str(visited_on)},
    )
    return record


@transaction.atomic
def project_close(
    *, actor, project: Project, closed_on: date | None = None, note: str = "", version=None
) -> Project:
    """Close a project whose final evaluation is complete."""
    project = _step(actor, project, "close", version)
    final = project.evaluations.filter(kind=EvaluationKind.FINAL).first()
    if final is None or final.completed_at is None:
        raise ValidationError(
            {"stage": [_("The final evaluation must be completed before the project closes.")]}
        )
    closed_on = closed_on or _today()
    check_not_future(closed_on, "closed_on")
    return _move(actor=actor, project=project, step="close", on=closed_on, note=note)


@transaction.atomic
def project_terminate(
    *,
    actor,
    project: Project,
    reason: str,
    terminated_on: date | None = None,
    version: int | None = None,
) -> Project:
    """End a contracted project early; the reason is required."""
    project = _step(actor, project, "terminate", version)
    reason = clean_text(reason, "reason", _("Say why the project is terminated."), 2000)
    terminated_on = terminated_on or _today()
    check_not_future(terminated_on, "terminated_on")
    return _move(actor=actor, project=project, step="terminate", on=terminated_on, note=reason)


# --- evaluations --------------------------------------------------------------------------


def default_tree() -> IndicatorTree | None:
    return IndicatorTree.objects.filter(is_default=True).order_by("-created_at").first()


@transaction.atomic
def evaluation_start(
    *,
    actor,
    project: Project,
    kind: str,
    evaluated_on: date,
    panel: str,
    tree: IndicatorTree | None = None,
    version: int | None = None,
) -> Evaluation:
    """Start the mid-term (from in progress) or the final evaluation (from the mid-term,
    once it is complete) on an indicator tree (the default tree unless named)."""
    if kind not in EvaluationKind.values:
        raise ValidationError({"kind": [_("Mid-term or final?")]})
    step = "midterm" if kind == EvaluationKind.MIDTERM else "final"
    project = _step(actor, project, step, version)
    if kind == EvaluationKind.FINAL:
        midterm = project.evaluations.filter(kind=EvaluationKind.MIDTERM).first()
        if midterm is None or midterm.completed_at is None:
            raise ValidationError({"kind": [_("The mid-term evaluation must be completed first.")]})
    tree = tree or default_tree()
    if tree is None or not tree.indicators.exists():
        raise ValidationError({"tree": [_("There is no indicator tree to evaluate on.")]})
    panel = clean_text(panel, "panel", _("Name the panel members."), 300)
    check_not_future(evaluated_on, "evaluated_on")
    evaluation = Evaluation.objects.create(
        project=project, kind=kind, tree=tree, evaluated_on=evaluated_on, panel=panel
    )
    _move(
        actor=actor,
        project=project,
        step=step,
        on=evaluated_on,
        after={"evaluation": evaluation.pk, "tree": tree.pk},
    )
    return evaluation


def _lock_evaluation(evaluation: Evaluation) -> Evaluation:
    locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    if locked.completed_at is not None:
        raise ValidationError({"evaluation": [_("This evaluation is already completed.")]})
    return locked


def _leaves(tree: IndicatorTree) -> dict[int, Indicator]:
    indicators = list(tree.indicators.all())
    parents = {i.parent_id for i in indicators if i.parent_id}
    return {i.pk: i for i in indicators if i.pk not in parents}


def _score(value, field: str) -> Decimal:
    try:
        score = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [_("Give the score as a number.")]}) from exc
    if not score.is_finite() or not 0 <= score <= 100 or score != score.quantize(CENTS):
        raise ValidationError(
            {field: [_("A score is from 0 to 100, with at most 2 decimal places.")]}
        )
    return score


@transaction.atomic
def scores_record(
    *, actor, evaluation: Evaluation, panelist: str, scores: dict[int, object]
) -> list[Score]:
    """One panel member's scores (0–100) of leaf indicators; a score given again replaces
    the earlier one until the evaluation is completed."""
    _check(actor, "projects.add_score", evaluation.project)
    evaluation = _lock_evaluation(evaluation)
    panelist = clean_text(panelist, "panelist", _("Name the panel member."), 100)
    if not scores:
        raise ValidationError({"scores": [_("Give at least one score.")]})
    leaves = _leaves(evaluation.tree)
    saved = []
    for indicator_id, value in scores.items():
        key = int(indicator_id)
        if key not in leaves:
            raise ValidationError(
                {
                    "scores": [
                        _("Indicator %(id)s is not a leaf indicator of this evaluation's tree.")
                        % {"id": indicator_id}
                    ]
                }
            )
        score, _created = Score.objects.update_or_create(
            evaluation=evaluation,
            indicator=leaves[key],
            panelist=panelist,
            defaults={"score": _score(value, f"scores.{indicator_id}")},
        )
        saved.append(score)
    audit_record(
        actor=actor,
        action="evaluation.scores_record",
        target=evaluation,
        object_repr=f"{evaluation.project.code} {evaluation.kind}",
        after={"panelist": panelist, "scores": {str(s.indicator_id): str(s.score) for s in saved}},
    )
    return saved


def grade_for(total: Decimal) -> str:
    """The grade of a weighted total under ``settings.SHEGONG_GRADE_THRESHOLDS`` (the lowest
    score of each grade; below all of them is a fail)."""
    thresholds = getattr(
        settings, "SHEGONG_GRADE_THRESHOLDS", {"excellent": 90, "good": 80, "pass": 60}
    )
    for grade, minimum in sorted(thresholds.items(), key=lambda kv: -Decimal(str(kv[1]))):
        if grade in Grade.values and total >= Decimal(str(minimum)):
            return grade
    return Grade.FAIL


def weighted_total(indicators: list[Indicator], leaf_values: dict[int, Decimal]) -> Decimal:
    """The weighted total (0–100, to 2 places) of a tree: a leaf's value is its average
    score, a parent's the weighted sum of its children's, the total the weighted sum of
    the top level (each level's weights being shares of 100)."""
    children: dict[int | None, list[Indicator]] = {}
    for indicator in indicators:
        children.setdefault(indicator.parent_id, []).append(indicator)

    def value(node: Indicator) -> Decimal:
        kids = children.get(node.pk)
        if not kids:
            return leaf_values[node.pk]
        return sum((k.weight * value(k) for k in kids), Decimal(0)) / 100

    total = sum((top.weight * value(top) for top in children.get(None, [])), Decimal(0)) / 100
    return total.quantize(CENTS, rounding=ROUND_HALF_UP)


def leaf_averages(leaf_ids, scores) -> dict[int, Decimal]:
    """Each leaf indicator's average score over the panel members who scored (each of
    them has scored every leaf): the values ``weighted_total`` weighs up the tree."""
    panelists = {score.panelist for score in scores}
    sums: dict[int, Decimal] = dict.fromkeys(leaf_ids, Decimal(0))
    for score in scores:
        sums[score.indicator_id] += score.score
    return {pk: total / len(panelists) for pk, total in sums.items()}


@transaction.atomic
def evaluation_complete(*, actor, evaluation: Evaluation) -> Evaluation:
    """Compute the weighted total (the panelists' average per leaf, weighted up the tree)
    and the grade. Every panel member who scored must have scored every leaf. A failed
    final evaluation flags the agency for the next round."""
    _check(actor, "projects.change_evaluation", evaluation.project)
    evaluation = _lock_evaluation(evaluation)
    indicators = list(evaluation.tree.indicators.all())
    leaves = _leaves(evaluation.tree)
    scores = list(evaluation.scores.all())
    panelists = sorted({s.panelist for s in scores})
    if not panelists:
        raise ValidationError({"scores": [_("No panel member has scored yet.")]})
    by_panelist: dict[str, set[int]] = {p: set() for p in panelists}
    for score in scores:
        by_panelist[score.panelist].add(score.indicator_id)
    missing = [p for p in panelists if by_panelist[p] != set(leaves)]
    if missing:
        raise ValidationError(
            {
                "scores": [
                    _("Not every indicator has been scored by: %(names)s.")
                    % {"names": ", ".join(missing)}
                ]
            }
        )
    evaluation.total = weighted_total(indicators, leaf_averages(leaves, scores))
    evaluation.grade = grade_for(evaluation.total)
    evaluation.completed_at = timezone.now()
    evaluation.save(update_fields=["total", "grade", "completed_at"])
    project = evaluation.project
    flag = None
    if (
        evaluation.kind == EvaluationKind.FINAL
        and evaluation.grade == Grade.FAIL
        and project.agency_id
    ):
        flag = AgencyFlag.objects.create(
            agency_id=project.agency_id, evaluation=evaluation, flagged_on=_today()
        )
    audit_record(
        actor=actor,
        action="evaluation.complete",
        target=evaluation,
        object_repr=f"{project.code} {evaluation.kind}",
        after={
            "total": str(evaluation.total),
            "grade": evaluation.grade,
            "panelists": panelists,
            "agency_flag": flag.pk if flag else None,
        },
    )
    return evaluation


@transaction.atomic
def evaluation_fix_add(
    *, actor, evaluation: Evaluation, description: str, deadline: date
) -> EvaluationFix:
    """A fix the evaluation requires, with its deadline."""
    _check(actor, "projects.add_evaluationfix", evaluation.project)
    description = clean_text(description, "description", _("Describe the required fix."), 5000)
    if deadline < evaluation.evaluated_on:
        raise ValidationError({"deadline": [_("The deadline cannot be before the evaluation.")]})
    fix = EvaluationFix.objects.create(
        evaluation=evaluation, description=description, deadline=deadline
    )
    audit_record(
        actor=actor,
        action="evaluation.fix_add",
        target=fix,
        object_repr=f"{evaluation.project.code} {description[:100]}",
        after={"deadline": str(deadline)},
    )
    return fix


@transaction.atomic
def evaluation_fix_resolve(
    *, actor, fix: EvaluationFix, resolved_on: date, resolution: str
) -> EvaluationFix:
    """Record the follow-up of a required fix (by the agency or the evaluators)."""
    _check(actor, "projects.change_evaluationfix", fix.evaluation.project)
    fix = EvaluationFix.objects.select_for_update().get(pk=fix.pk)
    if fix.resolved_on is not None:
        raise ValidationError({"resolved_on": [_("This fix is already resolved.")]})
    resolution = clean_text(resolution, "resolution", _("Say what was done."), 5000)
    check_not_future(resolved_on, "resolved_on")
    if resolved_on < fix.evaluation.evaluated_on:
        raise ValidationError(
            {"resolved_on": [_("A fix cannot be resolved before the evaluation.")]}
        )
    fix.resolved_on = resolved_on
    fix.resolution = resolution
    fix.save(update_fields=["resolved_on", "resolution"])
    audit_record(
        actor=actor,
        action="evaluation.fix_resolve",
        target=fix,
        object_repr=f"{fix.evaluation.project.code} {fix.description[:100]}",
        after={"resolved_on": str(resolved_on), "on_time": resolved_on <= fix.deadline},
    )
    return fix


# --- evidence files -----------------------------------------------------------------------

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
_ZIP = b"PK\x03\x04"
# extension → (content type, leading bytes, a member an Office file must contain)
EVIDENCE_TYPES: dict[str, tuple[str, bytes, str]] = {
    "pdf": ("application/pdf", b"%PDF-", ""),
    "jpg": ("image/jpeg", b"\xff\xd8\xff", ""),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff", ""),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n", ""),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ZIP,
        "word/document.xml",
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ZIP,
        "xl/workbook.xml",
    ),
}


def evidence_check(file, name: str) -> str:
    """The content type of an allowed evidence file, or a ValidationError: the extension
    must be pdf, jpg, png, docx or xlsx, the content must match it, at most 10 MB."""
    allowed = _("Allowed are PDF, JPG, PNG, DOCX and XLSX files.")
    extension = PurePath(name or "").suffix.lower().lstrip(".")
    if extension not in EVIDENCE_TYPES:
        raise ValidationError({"file": [_("This type of file is not allowed.") + " " + allowed]})
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    if size > MAX_EVIDENCE_BYTES:
        raise ValidationError({"file": [_("The file is larger than 10 MB.")]})
    if size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    content_type, magic, member = EVIDENCE_TYPES[extension]
    file.seek(0)
    head = file.read(len(magic))
    file.seek(0)
    not_what_it_says = ValidationError(
        {"file": [_("The file's content is not a %(type)s file.") % {"type": extension.upper()}]}
    )
    if head != magic:
        raise not_what_it_says
    if member:
        try:
            with zipfile.ZipFile(file) as archive:
                if member not in archive.namelist():
                    raise not_what_it_says
        except zipfile.BadZipFile as exc:
            raise not_what_it_says from exc
        finally:
            file.seek(0)
    return content_type


@transaction.atomic
def evidence_upload(*, actor, evaluation: Evaluation, file, name: str = "") -> EvidenceFile:
    """Store an evidence file for an evaluation (type and size checked); it is kept under
    MEDIA_ROOT with a random name and served only through a checked view."""
    _check(actor, "projects.add_evidencefile", evaluation.project)
    name = PurePath(name or getattr(file, "name", "") or "").name
    content_type = evidence_check(file, name)
    evidence = EvidenceFile(
        evaluation=evaluation,
        original_name=name[:255],
        content_type=content_type,
        size=file.size if getattr(file, "size", None) is not None else 0,
        uploaded_by=_user(actor),
    )
    evidence.file.save(name, file, save=False)
    evidence.size = evidence.file.size
    try:
        evidence.save()
        audit_record(
            actor=actor,
            action="evaluation.evidence_upload",
            target=evidence,
            object_repr=f"{evaluation.project.code} {evidence.original_name}"[:255],
            after={"size": evidence.size, "content_type": content_type},
        )
    except Exception:
        evidence.file.delete(save=False)
        raise
    return evidence


# --- indicator trees ----------------------------------------------------------------------

MAX_TREE_DEPTH = 3


def _weight(value, field: str) -> Decimal:
    try:
        weight = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [_("Give the weight as a number.")]}) from exc
    if not weight.is_finite() or not 0 < weight <= 100 or weight != weight.quantize(CENTS):
        raise ValidationError(
            {field: [_("A weight is more than 0 and at most 100, with at most 2 decimal places.")]}
        )
    return weight


def _check_level(nodes: list[dict], where: str, depth: int) -> None:
    if depth > MAX_TREE_DEPTH:
        raise ValidationError({"indicators": [_("An indicator tree has at most 3 levels.")]})
    if not nodes:
        raise ValidationError({"indicators": [_("Give at least one indicator.")]})
    total = Decimal(0)
    for node in nodes:
        clean_text(node.get("name", ""), "indicators", _("Every indicator needs a name."))
        total += _weight(node.get("weight"), "indicators")
        children = node.get("children") or []
        if children:
            _check_level(
                children,
                _("the indicators under “%(name)s”") % {"name": node["name"].strip()},
                depth + 1,
            )
    if total != 100:
        raise ValidationError(
            {
                "indicators": [
                    _("The weights of %(where)s add up to %(total)s, not 100.")
                    % {"where": where, "total": total.normalize()}
                ]
            }
        )


def _create_level(tree: IndicatorTree, nodes: list[dict], parent: Indicator | None) -> int:
    made = 0
    for position, node in enumerate(nodes):
        indicator = Indicator.objects.create(
            tree=tree,
            parent=parent,
            name=node["name"].strip()[:200],
            weight=_weight(node["weight"], "indicators"),
            position=position,
        )
        made += 1 + _create_level(tree, node.get("children") or [], indicator)
    return made


@transaction.atomic
def indicator_tree_create(
    *, actor, name: str, indicators: list[dict], is_default: bool = False
) -> IndicatorTree:
    """Create an indicator tree: ``indicators`` is a list of {"name", "weight",
    "children": [...]}; at every level the weights must add up to 100."""
    if actor is not None and not actor.has_perm("projects.add_indicatortree"):
        raise PermissionDenied(_("Your role may not do this."))
    name = clean_text(name, "name", _("Give the tree a name."))
    _check_level(indicators, _("the top level"), 1)
    if IndicatorTree.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("An indicator tree with this name already exists.")]})
    if is_default:
        IndicatorTree.objects.filter(is_default=True).update(is_default=False)
    tree = IndicatorTree.objects.create(name=name, is_default=is_default)
    made = _create_level(tree, indicators, None)
    audit_record(
        actor=actor,
        action="indicator_tree.create",
        target=tree,
        after={"indicators": made, "is_default": is_default},
    )
    return tree


DEFAULT_TREE_NAME = "政府购买社会工作服务项目评估指标（默认）"
# administration 15, finance 15, service delivery and outputs 30, professional quality 20,
# social evaluation / satisfaction 15, publicity and innovation 5.
DEFAULT_TREE: list[dict] = [
    {
        "name": "项目管理",
        "weight": 15,
        "children": [
            {"name": "制度建设与档案管理", "weight": 50},
            {"name": "人员配备与稳定", "weight": 50},
        ],
    },
    {
        "name": "财务管理",
        "weight": 15,
        "children": [
            {"name": "预算执行", "weight": 60},
            {"name": "财务规范", "weight": 40},
        ],
    },
    {
        "name": "服务成效与产出",
        "weight": 30,
        "children": [
            {"name": "指标完成情况", "weight": 60},
            {"name": "服务成效", "weight": 40},
        ],
    },
    {
        "name": "专业水平",
        "weight": 20,
        "children": [
            {"name": "专业方法运用", "weight": 50},
            {"name": "督导与培训", "weight": 50},
        ],
    },
    {
        "name": "社会评价与满意度",
        "weight": 15,
        "children": [
            {"name": "服务对象满意度", "weight": 60},
            {"name": "购买方与社区评价", "weight": 40},
        ],
    },
    {"name": "宣传与创新", "weight": 5},
]


def seed_default_indicator_tree() -> bool:
    """Install the default indicator tree if there is no tree yet; whether it was made."""
    if IndicatorTree.objects.exists():
        return False
    indicator_tree_create(
        actor=None, name=DEFAULT_TREE_NAME, indicators=DEFAULT_TREE, is_default=True
    )
    return True

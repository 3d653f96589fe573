"""Project pages: the list (counts by focus and stage, F29; filters; Excel export), a
project's page (life-cycle timeline, budget against what was paid, KPIs against the
reported outputs, objections, reports, supervision, evaluations with evidence) with the
forms of the life-cycle steps and evaluations the user may take now (posted to the same
page), and the evidence download. The API (``/api/v1/projects/…``) calls the same
services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from shegong.core.forms import add_service_errors
from shegong.core.permissions import MissingPermission, permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.core.xlsx import xlsx_response
from shegong.projects import forms, services
from shegong.projects.api import evidence_response
from shegong.projects.lists import project_list_page, stage_tone
from shegong.projects.models import EvidenceFile, Project, Stage
from shegong.projects.selectors import (
    budget_vs_spent,
    evaluation_results,
    kpis_vs_reported,
    project_timeline,
)
from shegong.projects.services import (
    RUNNING_STAGES,
    STEPS,
    SUPERVISED_STAGES,
    agency_flags_open,
)


@require_GET
@login_required
@permission_required_or_403("projects.view_project")
def project_list_view(request):
    """Projects the user sees, with counts by focus and stage: filters, sorting, pagination,
    Excel (a declared list, ``projects.lists``)."""
    return project_list_page(request)


# --- the project page and its forms --------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A form of the project page: its form, the permission it needs, the stages in which
    it is offered (None: any), and whether it is a main step (not folded away)."""

    form: type
    perm: str
    stages: frozenset[str] | None = None
    main: bool = False


def _step(name: str, form: type, main: bool = True) -> Action:
    return Action(form, STEPS[name].perm, STEPS[name].sources, main)


# In the order the page shows them in its "Next step" section.
PROJECT_ACTIONS: dict[str, Action] = {
    "submit": _step("submit", forms.SubmitForm),
    "preliminary_pass": _step("preliminary_pass", forms.PreliminaryPassForm),
    "preliminary_reject": _step("preliminary_reject", forms.PreliminaryRejectForm, False),
    "expert_pass": _step("expert_pass", forms.ExpertPassForm),
    "expert_reject": _step("expert_reject", forms.ExpertRejectForm, False),
    "objection_add": Action(
        forms.ObjectionAddForm, "projects.add_objection", frozenset({Stage.PUBLIC_NOTICE})
    ),
    "contract": _step("contract", forms.ContractForm),
    "start": _step("start", forms.StartForm),
    "report": Action(forms.MonthlyReportForm, "projects.add_monthlyreport", RUNNING_STAGES),
    "supervision": Action(
        forms.SupervisionForm, "projects.add_supervisionrecord", SUPERVISED_STAGES
    ),
    "midterm": _step("midterm", forms.MidtermForm),
    "final": _step("final", forms.FinalForm),
    "close": _step("close", forms.CloseForm),
    "terminate": _step("terminate", forms.TerminateForm, False),
}
OBJECTION_ACTION = Action(
    forms.ObjectionResolveForm, "projects.change_objection", frozenset({Stage.PUBLIC_NOTICE})
)
EVALUATION_ACTIONS: dict[str, Action] = {
    "scores": Action(forms.ScoresForm, "projects.add_score"),
    "complete": Action(forms.CompleteForm, "projects.change_evaluation"),
    "fix_add": Action(forms.FixAddForm, "projects.add_evaluationfix"),
    "fix_resolve": Action(forms.FixResolveForm, "projects.change_evaluationfix"),
    "evidence": Action(forms.EvidenceForm, "projects.add_evidencefile"),
}
SUCCESS = {
    "submit": gettext_lazy("The application was submitted for the preliminary review."),
    "preliminary_pass": gettext_lazy("The preliminary review passed the application."),
    "preliminary_reject": gettext_lazy("The application was not approved."),
    "expert_pass": gettext_lazy("The expert review passed: the public notice has started."),
    "expert_reject": gettext_lazy("The application was not approved."),
    "objection_add": gettext_lazy("The objection was recorded."),
    "objection_resolve": gettext_lazy("The objection was resolved."),
    "contract": gettext_lazy("The contract was signed."),
    "start": gettext_lazy("The project has started."),
    "report": gettext_lazy("The monthly report was submitted."),
    "supervision": gettext_lazy("The supervision record was added."),
    "midterm": gettext_lazy("The mid-term evaluation has started."),
    "final": gettext_lazy("The final evaluation has started."),
    "close": gettext_lazy("The project was closed."),
    "terminate": gettext_lazy("The project was terminated."),
    "scores": gettext_lazy("The scores were saved."),
    "complete": gettext_lazy("The evaluation was completed."),
    "fix_add": gettext_lazy("The required fix was added."),
    "fix_resolve": gettext_lazy("The fix was recorded as resolved."),
    "evidence": gettext_lazy("The evidence file was uploaded."),
}


def _pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _run(action: str, user, project: Project, form, target) -> None:
    """Call the service of ``action`` with the form's cleaned data (``target``: the
    objection, evaluation or fix the form is about)."""
    d = form.cleaned_data
    version = d.get("version")
    if action == "submit":
        services.project_submit(actor=user, project=project, note=d["note"], version=version)
    elif action in ("preliminary_pass", "preliminary_reject"):
        services.preliminary_review(
            actor=user,
            project=project,
            passed=action == "preliminary_pass",
            note=d["note"],
            version=version,
        )
    elif action in ("expert_pass", "expert_reject"):
        services.expert_review(
            actor=user,
            project=project,
            passed=action == "expert_pass",
            note=d["note"],
            notice_starts_on=d.get("notice_starts_on"),
            version=version,
        )
    elif action == "objection_add":
        services.objection_add(
            actor=user, project=project, received_on=d["received_on"], text=d["text"]
        )
    elif action == "objection_resolve":
        services.objection_resolve(
            actor=user,
            objection=target,
            resolution=d["resolution"],
            resolved_on=d["resolved_on"],
            upheld=d["upheld"],
        )
    elif action == "contract":
        services.contract_sign(
            actor=user,
            project=project,
            agency=d["agency"],
            contract_number=d["contract_number"],
            signed_on=d["signed_on"],
            note=d["note"],
            version=version,
        )
    elif action == "start":
        services.project_start(
            actor=user, project=project, started_on=d["started_on"], note=d["note"], version=version
        )
    elif action == "report":
        services.monthly_report_submit(
            actor=user,
            project=project,
            month=d["month"],
            summary=d["summary"],
            plan=d["plan"],
            reported_person_times=d["reported_person_times"],
            reported_cases=d["reported_cases"],
            reported_groups=d["reported_groups"],
            reported_activities=d["reported_activities"],
        )
    elif action == "supervision":
        services.supervision_record_add(
            actor=user,
            project=project,
            visited_on=d["visited_on"],
            supervisor=d["supervisor"],
            findings=d["findings"],
        )
    elif action in ("midterm", "final"):
        services.evaluation_start(
            actor=user,
            project=project,
            kind=action,
            evaluated_on=d["evaluated_on"],
            panel=d["panel"],
            version=version,
        )
    elif action == "close":
        services.project_close(
            actor=user, project=project, closed_on=d["closed_on"], note=d["note"], version=version
        )
    elif action == "terminate":
        services.project_terminate(
            actor=user,
            project=project,
            reason=d["reason"],
            terminated_on=d["terminated_on"],
            version=version,
        )
    elif action == "scores":
        services.scores_record(
            actor=user, evaluation=target, panelist=d["panelist"], scores=form.scores()
        )
    elif action == "complete":
        services.evaluation_complete(actor=user, evaluation=target)
    elif action == "fix_add":
        services.evaluation_fix_add(
            actor=user, evaluation=target, description=d["description"], deadline=d["deadline"]
        )
    elif action == "fix_resolve":
        services.evaluation_fix_resolve(
            actor=user, fix=target, resolved_on=d["resolved_on"], resolution=d["resolution"]
        )
    elif action == "evidence":
        upload = d["file"]
        services.evidence_upload(actor=user, evaluation=target, file=upload, name=upload.name)


def _key(action: str, target) -> tuple:
    return (action, target.pk if target is not None else None)


def _bind(request, project: Project):
    """The form the POST names, bound, with what it is about: (action, target, form).
    403 if the user's role may not take the action; 404 for an unknown target."""
    action = request.POST.get("action", "")
    user = request.user
    target = None
    if action in PROJECT_ACTIONS:
        spec = PROJECT_ACTIONS[action]
        kwargs = {"project": project} if issubclass(spec.form, forms.StepForm) else {}
    elif action == "objection_resolve":
        spec = OBJECTION_ACTION
        target = get_object_or_404(project.objections, pk=_pk(request.POST.get("objection")))
        kwargs = {"key": str(target.pk)}
    elif action in EVALUATION_ACTIONS:
        spec = EVALUATION_ACTIONS[action]
        evaluation = get_object_or_404(
            project.evaluations.select_related("tree"), pk=_pk(request.POST.get("evaluation"))
        )
        kwargs = {"evaluation": evaluation}
        target = evaluation
        if action == "scores":
            kwargs["leaves"] = _leaves(evaluation)
        if action == "fix_resolve":
            target = get_object_or_404(evaluation.fixes, pk=_pk(request.POST.get("fix")))
            kwargs["key"] = f"{evaluation.pk}_{target.pk}"
    else:
        raise PermissionDenied
    if not user.has_perm(spec.perm):
        raise MissingPermission(spec.perm)
    form = spec.form(request.POST, request.FILES, action=action, **kwargs)
    return action, target, form


def _leaves(evaluation) -> list[dict]:
    return [row for row in evaluation_results(evaluation) if row["leaf"]]


def _service_errors(form, exc: ValidationError) -> None:
    """The service's errors on the form; those naming a hidden field (the evaluation, the
    fix, the version) are shown above the form."""
    if hasattr(exc, "error_dict"):
        hidden = {field.name for field in form.hidden_fields()}
        exc = ValidationError(
            {
                NON_FIELD_ERRORS if name in hidden else name: errors
                for name, errors in exc.message_dict.items()
            }
        )
    add_service_errors(form, exc)


def _offered(user, spec: Action, project: Project) -> bool:
    return user.has_perm(spec.perm) and (spec.stages is None or project.stage in spec.stages)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("projects.view_project")
def project_detail(request, pk: int):
    """One project through its life cycle, with the forms of the steps the user may take
    now (a hidden ``action`` says which form a POST is; only that one is bound). A stale
    ``version`` answers 409 with the page and a "reload" message."""
    user = request.user
    project = get_scoped_or_404(
        Project.objects.select_related("area", "purchaser", "agency"), user, VIEW, pk=pk
    )
    if request.method == "GET" and request.GET.get("format") == "xlsx":
        return _project_export(project)
    bound: dict[tuple, object] = {}
    status = 200
    if request.method == "POST":
        action, target, form = _bind(request, project)
        if form.is_valid():
            try:
                _run(action, user, project, form, target)
            except services.ConflictError as exc:
                form.add_error(None, str(exc))
                status = 409
            except ValidationError as exc:
                _service_errors(form, exc)
            else:
                messages.success(request, SUCCESS[action])
                return redirect("projects:detail", pk=project.pk)
        bound[_key(action, target)] = form
    return render(request, "projects/detail.html", _context(user, project, bound), status=status)


def _context(user, project: Project, bound: dict[tuple, object]) -> dict:
    def form_for(action: str, spec: Action, target=None, offered=True, **kwargs):
        key = _key(action, target)
        if key in bound:
            return bound[key]
        if not offered:
            return None
        return spec.form(action=action, **kwargs)

    step_forms = []
    for action, spec in PROJECT_ACTIONS.items():
        kwargs = {"project": project} if issubclass(spec.form, forms.StepForm) else {}
        form = form_for(action, spec, offered=_offered(user, spec, project), **kwargs)
        if form is not None:
            step_forms.append((spec.main, form))
    objections = []
    for objection in project.objections.order_by("received_on", "pk"):
        form = form_for(
            "objection_resolve",
            OBJECTION_ACTION,
            objection,
            offered=objection.resolved_on is None and _offered(user, OBJECTION_ACTION, project),
            key=str(objection.pk),
        )
        objections.append((objection, form))
    evaluations = []
    for evaluation in (
        project.evaluations.select_related("tree")
        .prefetch_related("scores", "fixes", "evidence")
        .order_by("evaluated_on", "pk")
    ):
        results = evaluation_results(evaluation)
        running = evaluation.completed_at is None
        specs = EVALUATION_ACTIONS
        eval_forms = {
            "scores": form_for(
                "scores",
                specs["scores"],
                evaluation,
                offered=running and user.has_perm(specs["scores"].perm),
                evaluation=evaluation,
                leaves=[row for row in results if row["leaf"]],
            ),
            "complete": form_for(
                "complete",
                specs["complete"],
                evaluation,
                offered=running and user.has_perm(specs["complete"].perm),
                evaluation=evaluation,
            ),
            "fix_add": form_for(
                "fix_add",
                specs["fix_add"],
                evaluation,
                offered=user.has_perm(specs["fix_add"].perm),
                evaluation=evaluation,
            ),
            "evidence": form_for(
                "evidence",
                specs["evidence"],
                evaluation,
                offered=user.has_perm(specs["evidence"].perm),
                evaluation=evaluation,
            ),
        }
        fixes = [
            (
                fix,
                form_for(
                    "fix_resolve",
                    specs["fix_resolve"],
                    fix,
                    offered=fix.resolved_on is None and user.has_perm(specs["fix_resolve"].perm),
                    evaluation=evaluation,
                    key=f"{evaluation.pk}_{fix.pk}",
                ),
            )
            for fix in evaluation.fixes.all()
        ]
        evaluation.grade_tone = GRADE_TONES.get(evaluation.grade, "muted")
        evaluations.append((evaluation, results, eval_forms, fixes))
    timeline = project_timeline(project=project)
    return {
        "project": project,
        "stage_tone": stage_tone(project.stage),
        "stepper": _stepper(project, timeline),
        "timeline": timeline,
        "money": budget_vs_spent(project=project),
        "kpis": kpis_vs_reported(project=project),
        "objections": objections,
        "reports": project.reports.order_by("-month")[:24],
        "supervisions": project.supervisions.order_by("-visited_on", "pk"),
        "evaluations": evaluations,
        "flags": agency_flags_open(project.agency) if project.agency else [],
        "step_forms": step_forms,
        "bound": bool(bound),
    }


LIFE_CYCLE = (
    Stage.APPLICATION,
    Stage.PRELIMINARY_REVIEW,
    Stage.EXPERT_REVIEW,
    Stage.PUBLIC_NOTICE,
    Stage.CONTRACT,
    Stage.IN_PROGRESS,
    Stage.MIDTERM_EVALUATION,
    Stage.FINAL_EVALUATION,
    Stage.CLOSED,
)
GRADE_TONES = {"excellent": "ok", "good": "ok", "pass": "info", "fail": "bad"}


def _stepper(project: Project, timeline) -> dict:
    """The stage stepper: the life cycle in order, the stages passed marked done. A project
    that was not approved or was terminated shows the way it went and ends on that stage."""
    steps = [(stage.value, stage.label) for stage in LIFE_CYCLE]
    if project.stage in LIFE_CYCLE:
        index = LIFE_CYCLE.index(project.stage)
        done = [s.value for s in LIFE_CYCLE[:index]]
        if project.stage == Stage.CLOSED:
            done.append(Stage.CLOSED.value)
        return {"steps": steps, "current": project.stage, "done": done, "ended": ""}
    reached = {change.to_stage for change in timeline} | {
        change.from_stage for change in timeline if change.from_stage
    }
    last = max((LIFE_CYCLE.index(s) for s in reached if s in LIFE_CYCLE), default=0)
    steps = [*steps[: last + 1], (project.stage, project.get_stage_display())]
    done = [s.value for s in LIFE_CYCLE[: last + 1]]
    return {"steps": steps, "current": project.stage, "done": done, "ended": project.stage}


@login_required
@require_GET
def evidence_download(request, pk: int):
    """Stream an evidence file to a user who sees its project (404 for everyone else)."""
    evidence = get_scoped_or_404(EvidenceFile, request.user, VIEW, pk=pk)
    return evidence_response(evidence)


def _project_export(project: Project):
    """The project page's tables as one sheet: facts, timeline, budget lines, milestones
    with what was paid, KPIs against reported outputs, evaluations."""
    money = budget_vs_spent(project=project)
    rows = [
        (_("Project code"), project.code, ""),
        (_("Name"), project.name, ""),
        (_("Stage"), project.get_stage_display(), ""),
        (_("Area"), project.area.name, project.area.code),
        (_("Contracted agency"), project.agency.name if project.agency else "", ""),
        (_("Budget (yuan)"), Decimal(money["budget"]), ""),
        (_("Paid"), Decimal(money["spent"]), ""),
    ]
    rows += [
        (_("Life cycle"), change.get_to_stage_display(), change.changed_on)
        for change in project_timeline(project=project)
    ]
    rows += [
        (_("Budget lines"), line["name"], Decimal(line["amount"])) for line in money["budget_lines"]
    ]
    rows += [
        (_("Payment milestones"), f"{m['name']} ({m['due_on']:%Y-%m-%d})", Decimal(m["paid"]))
        for m in money["milestones"]
    ]
    rows += [
        (str(k["label"]), k["planned"], k["output"]) for k in kpis_vs_reported(project=project)
    ]
    rows += [
        (e.get_kind_display(), float(e.total) if e.total is not None else "", e.get_grade_display())
        for e in project.evaluations.order_by("evaluated_on", "pk")
    ]
    return xlsx_response(
        f"project-{project.code}.xlsx",
        str(_("Project")),
        [_("Item"), _("Value"), _("Detail")],
        rows,
    )

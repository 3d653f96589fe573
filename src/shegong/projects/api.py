"""API for purchased service projects: the list and the project, each life-cycle step,
objections, monthly reports, supervision, evaluations (scores, fixes, evidence) and
indicator trees."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from ninja.pagination import paginate

from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import (
    Amount,
    Code,
    Count,
    Day,
    Id,
    LongText,
    Score,
    Search,
    Text,
    Version,
    Year,
)
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.geo.selectors import division_in_scope_or_404
from shegong.network.models import Facility, SocialOrganisation
from shegong.projects import selectors, services
from shegong.projects.models import (
    Evaluation,
    EvaluationFix,
    EvaluationKind,
    EvidenceFile,
    Focus,
    Grade,
    IndicatorTree,
    Objection,
    Project,
    PurchaseModel,
    Stage,
)

router = Router(tags=["projects"])


# --- schemas ------------------------------------------------------------------------------


class ProjectOut(Schema):
    id: int
    code: str
    name: str
    purchase_model: PurchaseModel
    focus: Focus
    target_groups: str
    area_code: str = Field(..., alias="area.code")
    area_name: str = Field(..., alias="area.name")
    purchaser_id: int
    purchaser_name: str = Field(..., alias="purchaser.name")
    agency_id: int | None
    agency_name: str | None
    starts_on: date
    ends_on: date
    budget: Decimal
    kpi_person_times: int
    kpi_cases: int
    kpi_groups: int
    kpi_activities: int
    stage: Stage
    notice_starts_on: date | None
    notice_ends_on: date | None
    contract_number: str
    contract_signed_on: date | None
    version: int

    @staticmethod
    def resolve_agency_name(obj: Project) -> str | None:
        return obj.agency.name if obj.agency_id else None


class FlagOut(Schema):
    id: int
    agency_id: int
    evaluation_id: int
    project_code: str = Field(..., alias="evaluation.project.code")
    flagged_on: date


class ProjectDetailOut(ProjectOut):
    next_stages: list[str]
    budget_vs_spent: dict
    kpis: list[dict]
    agency_flags: list[FlagOut]

    @staticmethod
    def resolve_next_stages(obj: Project) -> list[str]:
        return sorted(services.TRANSITIONS[obj.stage])

    @staticmethod
    def resolve_budget_vs_spent(obj: Project) -> dict:
        return selectors.budget_vs_spent(project=obj)

    @staticmethod
    def resolve_kpis(obj: Project) -> list[dict]:
        return selectors.kpis_vs_reported(project=obj)

    @staticmethod
    def resolve_agency_flags(obj: Project) -> list:
        return list(services.agency_flags_open(obj.agency))


class BudgetLineIn(InputSchema):
    name: Text
    amount: Amount


class MilestoneIn(InputSchema):
    name: Text
    due_on: Day
    amount: Amount


class ProjectIn(InputSchema):
    code: Code
    name: Text
    purchase_model: PurchaseModel
    focus: Focus
    area_code: Code
    purchaser_id: Id
    starts_on: Day
    ends_on: Day
    budget: Amount
    target_groups: LongText = ""
    kpi_person_times: Count = 0
    kpi_cases: Count = 0
    kpi_groups: Count = 0
    kpi_activities: Count = 0
    agency_id: Id | None = None
    budget_lines: list[BudgetLineIn] = []
    milestones: list[MilestoneIn] = []


class ProjectQuery(InputSchema):
    focus: Focus | None = None
    stage: Stage | None = None
    agency: Id | None = None
    area: Code = ""
    year: Year | None = None
    q: Search = ""


class CountsQuery(InputSchema):
    year: Year | None = None
    area: Code = ""


class StepIn(InputSchema):
    note: LongText = ""
    version: Version | None = None


class ProjectReviewIn(StepIn):
    passed: bool


class ExpertReviewIn(ProjectReviewIn):
    notice_starts_on: Day | None = None


class ContractIn(StepIn):
    agency_id: Id
    contract_number: Text
    signed_on: Day


class StartIn(StepIn):
    started_on: Day | None = None


class CloseIn(StepIn):
    closed_on: Day | None = None


class TerminateIn(InputSchema):
    reason: LongText
    terminated_on: Day | None = None
    version: Version | None = None


class ProjectStageChangeOut(Schema):
    from_stage: str
    to_stage: Stage
    changed_on: date
    note: str
    actor: str | None
    recorded_at: datetime

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor.get_username() if obj.actor_id else None


class ObjectionOut(Schema):
    id: int
    project_id: int
    received_on: date
    text: str
    resolution: str
    resolved_on: date | None


class ObjectionIn(InputSchema):
    received_on: Day
    text: LongText


class ObjectionResolveIn(InputSchema):
    resolution: LongText
    resolved_on: Day
    upheld: bool = False


class BudgetLineOut(Schema):
    id: int
    project_id: int
    name: str
    amount: Decimal


class MilestoneOut(Schema):
    id: int
    project_id: int
    name: str
    due_on: date
    amount: Decimal


class ReportOut(Schema):
    """A monthly report: the figures are as reported by the agency."""

    id: int
    project_id: int
    month: date
    summary: str
    plan: str
    reported_person_times: int
    reported_cases: int
    reported_groups: int
    reported_activities: int
    figures_source: str = "reported"


class ReportIn(InputSchema):
    month: Day
    summary: LongText
    plan: LongText = ""
    reported_person_times: Count = 0
    reported_cases: Count = 0
    reported_groups: Count = 0
    reported_activities: Count = 0


class SupervisionOut(Schema):
    id: int
    project_id: int
    visited_on: date
    supervisor: str
    findings: str


class SupervisionIn(InputSchema):
    visited_on: Day
    supervisor: Text
    findings: LongText


class EvaluationFixOut(Schema):
    id: int
    evaluation_id: int
    description: str
    deadline: date
    resolved_on: date | None
    resolution: str


class EvidenceOut(Schema):
    id: int
    evaluation_id: int
    original_name: str
    content_type: str
    size: int
    uploaded_at: datetime


class EvaluationOut(Schema):
    id: int
    project_id: int
    kind: EvaluationKind
    tree_id: int
    evaluated_on: date
    panel: str
    total: Decimal | None
    grade: Grade | None
    completed_at: datetime | None

    @staticmethod
    def resolve_grade(obj: Evaluation) -> str | None:
        return obj.grade or None


class EvaluationDetailOut(EvaluationOut):
    indicators: list[dict]
    fixes: list[EvaluationFixOut]
    evidence: list[EvidenceOut]

    @staticmethod
    def resolve_indicators(obj: Evaluation) -> list[dict]:
        return selectors.evaluation_results(obj)

    @staticmethod
    def resolve_fixes(obj: Evaluation) -> list:
        return list(obj.fixes.all())

    @staticmethod
    def resolve_evidence(obj: Evaluation) -> list:
        return list(obj.evidence.all())


class EvaluationIn(InputSchema):
    kind: EvaluationKind
    evaluated_on: Day
    panel: Text
    tree_id: Id | None = None
    version: Version | None = None


class ScoresIn(InputSchema):
    panelist: Text
    scores: dict[Id, Score]


class ScoreOut(Schema):
    indicator_id: int
    panelist: str
    score: Decimal


class EvaluationFixIn(InputSchema):
    description: LongText
    deadline: Day


class FixResolveIn(InputSchema):
    resolved_on: Day
    resolution: LongText


class IndicatorIn(InputSchema):
    name: Text
    weight: Score
    children: list["IndicatorIn"] = []


IndicatorIn.model_rebuild()


class TreeIn(InputSchema):
    name: Text
    indicators: list[IndicatorIn]
    is_default: bool = False


class IndicatorOut(Schema):
    id: int
    parent_id: int | None
    name: str
    weight: Decimal
    position: int


class TreeOut(Schema):
    id: int
    name: str
    is_default: bool
    indicators: list[IndicatorOut]

    @staticmethod
    def resolve_indicators(obj: IndicatorTree) -> list:
        return list(obj.indicators.all())


# --- helpers ------------------------------------------------------------------------------


def _project(request, project_id: int) -> Project:
    return get_scoped_or_404(
        Project.objects.select_related("area", "purchaser__division", "agency"),
        request.auth,
        VIEW,
        pk=project_id,
    )


def _evaluation(request, evaluation_id: int) -> Evaluation:
    return get_scoped_or_404(
        Evaluation.objects.select_related("project", "tree"),
        request.auth,
        VIEW,
        pk=evaluation_id,
    )


def _agency(agency_id: int | None) -> SocialOrganisation | None:
    """An agency of the organisations registry (any registered one may be contracted)."""
    if agency_id is None:
        return None
    agency = SocialOrganisation.objects.filter(pk=agency_id).first()
    if agency is None:
        raise ValidationError({"agency_id": _("No such organisation is registered.")})
    return agency


def _conflict(call, **kwargs):
    try:
        return call(**kwargs)
    except services.ConflictError as exc:
        raise HttpError(409, str(exc)) from exc


# --- projects -----------------------------------------------------------------------------


@router.get("/projects", response=list[ProjectOut], summary="Projects in scope, filtered")
@paginate(Pagination)
def list_projects(request, filters: Query[ProjectQuery]):
    require(request.auth, "projects.view_project")
    return selectors.project_list(
        user=request.auth,
        focus=filters.focus or "",
        stage=filters.stage or "",
        agency=filters.agency,
        area=filters.area,
        year=filters.year,
        q=filters.q,
    )


@router.get("/projects/counts", summary="Projects by focus and stage; F29")
def get_project_counts(request, params: Query[CountsQuery]) -> dict:
    require(request.auth, "projects.view_project")
    return selectors.project_counts(user=request.auth, year=params.year, area=params.area)


@router.get("/projects/{int:project_id}", response=ProjectDetailOut, summary="One project")
def get_project(request, project_id: Id):
    return _project(request, project_id)


@router.post("/projects", response={201: ProjectDetailOut}, summary="Apply for a project")
def create_project(request, payload: ProjectIn):
    user = request.auth
    require(user, "projects.add_project")
    purchaser = get_scoped_or_404(
        Facility.objects.select_related("division"), user, VIEW, pk=payload.purchaser_id
    )
    project = services.project_apply(
        actor=user,
        code=payload.code,
        name=payload.name,
        purchase_model=payload.purchase_model,
        focus=payload.focus,
        target_groups=payload.target_groups,
        area=division_in_scope_or_404(user=user, code=payload.area_code),
        purchaser=purchaser,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        budget=payload.budget,
        kpi_person_times=payload.kpi_person_times,
        kpi_cases=payload.kpi_cases,
        kpi_groups=payload.kpi_groups,
        kpi_activities=payload.kpi_activities,
        agency=_agency(payload.agency_id),
        budget_lines=[(x.name, x.amount) for x in payload.budget_lines],
        milestones=[(x.name, x.due_on, x.amount) for x in payload.milestones],
    )
    return Status(201, _project(request, project.pk))


@router.post(
    "/projects/{int:project_id}/budget-lines",
    response={201: BudgetLineOut},
    summary="Add a budget line (at application)",
)
def add_budget_line(request, project_id: Id, payload: BudgetLineIn):
    require(request.auth, "projects.add_budgetline")
    line = services.budget_line_add(
        actor=request.auth,
        project=_project(request, project_id),
        name=payload.name,
        amount=payload.amount,
    )
    return Status(201, line)


@router.post(
    "/projects/{int:project_id}/milestones",
    response={201: MilestoneOut},
    summary="Add a payment milestone (at application)",
)
def add_milestone(request, project_id: Id, payload: MilestoneIn):
    require(request.auth, "projects.add_paymentmilestone")
    milestone = services.milestone_add(
        actor=request.auth,
        project=_project(request, project_id),
        name=payload.name,
        due_on=payload.due_on,
        amount=payload.amount,
    )
    return Status(201, milestone)


@router.get(
    "/projects/{int:project_id}/timeline",
    response=list[ProjectStageChangeOut],
    summary="The project's life cycle",
)
def get_project_timeline(request, project_id: Id):
    return selectors.project_timeline(project=_project(request, project_id))


# --- life-cycle steps ---------------------------------------------------------------------


@router.post(
    "/projects/{int:project_id}/submit", response=ProjectOut, summary="Submit the application"
)
def submit_project(request, project_id: Id, payload: StepIn):
    require(request.auth, "projects.change_project")
    return _conflict(
        services.project_submit,
        actor=request.auth,
        project=_project(request, project_id),
        note=payload.note,
        version=payload.version,
    )


@router.post(
    "/projects/{int:project_id}/preliminary-review",
    response=ProjectOut,
    summary="Preliminary review: pass or reject",
)
def preliminary_review_project(request, project_id: Id, payload: ProjectReviewIn):
    require(request.auth, "projects.review_project")
    return _conflict(
        services.preliminary_review,
        actor=request.auth,
        project=_project(request, project_id),
        passed=payload.passed,
        note=payload.note,
        version=payload.version,
    )


@router.post(
    "/projects/{int:project_id}/expert-review",
    response=ProjectOut,
    summary="Expert review: pass (the public notice starts) or reject",
)
def expert_review_project(request, project_id: Id, payload: ExpertReviewIn):
    require(request.auth, "projects.approve_project")
    return _conflict(
        services.expert_review,
        actor=request.auth,
        project=_project(request, project_id),
        passed=payload.passed,
        note=payload.note,
        notice_starts_on=payload.notice_starts_on,
        version=payload.version,
    )


@router.get(
    "/projects/{int:project_id}/objections",
    response=list[ObjectionOut],
    summary="Objections to the public notice",
)
def list_objections(request, project_id: Id):
    require(request.auth, "projects.view_objection")
    return list(_project(request, project_id).objections.all())


@router.post(
    "/projects/{int:project_id}/objections",
    response={201: ObjectionOut},
    summary="Record an objection received during the notice",
)
def create_objection(request, project_id: Id, payload: ObjectionIn):
    require(request.auth, "projects.add_objection")
    objection = services.objection_add(
        actor=request.auth,
        project=_project(request, project_id),
        received_on=payload.received_on,
        text=payload.text,
    )
    return Status(201, objection)


@router.post(
    "/objections/{int:objection_id}/resolve",
    response=ObjectionOut,
    summary="Resolve an objection (upheld: the application is not approved)",
)
def resolve_objection(request, objection_id: Id, payload: ObjectionResolveIn):
    require(request.auth, "projects.change_objection")
    objection = get_scoped_or_404(
        Objection.objects.select_related("project"), request.auth, VIEW, pk=objection_id
    )
    return services.objection_resolve(
        actor=request.auth,
        objection=objection,
        resolution=payload.resolution,
        resolved_on=payload.resolved_on,
        upheld=payload.upheld,
    )


@router.post(
    "/projects/{int:project_id}/contract", response=ProjectOut, summary="Sign the contract"
)
def sign_contract(request, project_id: Id, payload: ContractIn):
    require(request.auth, "projects.approve_project")
    project = _project(request, project_id)
    return _conflict(
        services.contract_sign,
        actor=request.auth,
        project=project,
        agency=_agency(payload.agency_id),
        contract_number=payload.contract_number,
        signed_on=payload.signed_on,
        note=payload.note,
        version=payload.version,
    )


@router.post("/projects/{int:project_id}/start", response=ProjectOut, summary="Start work")
def start_project(request, project_id: Id, payload: StartIn):
    require(request.auth, "projects.change_project")
    return _conflict(
        services.project_start,
        actor=request.auth,
        project=_project(request, project_id),
        started_on=payload.started_on,
        note=payload.note,
        version=payload.version,
    )


@router.post(
    "/projects/{int:project_id}/close",
    response=ProjectOut,
    summary="Close (after the final evaluation)",
)
def close_project(request, project_id: Id, payload: CloseIn):
    require(request.auth, "projects.close_project")
    return _conflict(
        services.project_close,
        actor=request.auth,
        project=_project(request, project_id),
        closed_on=payload.closed_on,
        note=payload.note,
        version=payload.version,
    )


@router.post("/projects/{int:project_id}/terminate", response=ProjectOut, summary="Terminate early")
def terminate_project(request, project_id: Id, payload: TerminateIn):
    require(request.auth, "projects.close_project")
    return _conflict(
        services.project_terminate,
        actor=request.auth,
        project=_project(request, project_id),
        reason=payload.reason,
        terminated_on=payload.terminated_on,
        version=payload.version,
    )


# --- reports and supervision --------------------------------------------------------------


@router.get(
    "/projects/{int:project_id}/reports",
    response=list[ReportOut],
    summary="Monthly reports (figures as reported)",
)
def list_reports(request, project_id: Id):
    require(request.auth, "projects.view_monthlyreport")
    return list(_project(request, project_id).reports.all())


@router.post(
    "/projects/{int:project_id}/reports",
    response={201: ReportOut},
    summary="Submit the monthly report and plan",
)
def submit_report(request, project_id: Id, payload: ReportIn):
    require(request.auth, "projects.add_monthlyreport")
    report = services.monthly_report_submit(
        actor=request.auth, project=_project(request, project_id), **payload.model_dump()
    )
    return Status(201, report)


@router.get(
    "/projects/{int:project_id}/supervisions",
    response=list[SupervisionOut],
    summary="Supervision records",
)
def list_supervisions(request, project_id: Id):
    require(request.auth, "projects.view_supervisionrecord")
    return list(_project(request, project_id).supervisions.all())


@router.post(
    "/projects/{int:project_id}/supervisions",
    response={201: SupervisionOut},
    summary="Record a supervision visit",
)
def add_supervision(request, project_id: Id, payload: SupervisionIn):
    require(request.auth, "projects.add_supervisionrecord")
    record = services.supervision_record_add(
        actor=request.auth, project=_project(request, project_id), **payload.model_dump()
    )
    return Status(201, record)


# --- evaluations --------------------------------------------------------------------------


@router.get(
    "/projects/{int:project_id}/evaluations",
    response=list[EvaluationOut],
    summary="The project's evaluations",
)
def list_evaluations(request, project_id: Id):
    require(request.auth, "projects.view_evaluation")
    return list(_project(request, project_id).evaluations.all())


@router.post(
    "/projects/{int:project_id}/evaluations",
    response={201: EvaluationDetailOut},
    summary="Start the mid-term or final evaluation",
)
def start_evaluation(request, project_id: Id, payload: EvaluationIn):
    require(request.auth, "projects.add_evaluation")
    project = _project(request, project_id)
    tree = None
    if payload.tree_id is not None:
        tree = get_scoped_or_404(IndicatorTree, request.auth, VIEW, pk=payload.tree_id)
    evaluation = _conflict(
        services.evaluation_start,
        actor=request.auth,
        project=project,
        kind=payload.kind,
        evaluated_on=payload.evaluated_on,
        panel=payload.panel,
        tree=tree,
        version=payload.version,
    )
    return Status(201, evaluation)


@router.get(
    "/evaluations/{int:evaluation_id}",
    response=EvaluationDetailOut,
    summary="An evaluation: indicators with average scores, fixes, evidence",
)
def get_evaluation(request, evaluation_id: Id):
    return _evaluation(request, evaluation_id)


@router.post(
    "/evaluations/{int:evaluation_id}/scores",
    response=list[ScoreOut],
    summary="One panel member's scores of leaf indicators",
)
def record_scores(request, evaluation_id: Id, payload: ScoresIn):
    require(request.auth, "projects.add_score")
    return services.scores_record(
        actor=request.auth,
        evaluation=_evaluation(request, evaluation_id),
        panelist=payload.panelist,
        scores=payload.scores,
    )


@router.post(
    "/evaluations/{int:evaluation_id}/complete",
    response=EvaluationDetailOut,
    summary="Compute the weighted total and the grade",
)
def complete_evaluation(request, evaluation_id: Id):
    require(request.auth, "projects.change_evaluation")
    evaluation = services.evaluation_complete(
        actor=request.auth, evaluation=_evaluation(request, evaluation_id)
    )
    return _evaluation(request, evaluation.pk)


@router.post(
    "/evaluations/{int:evaluation_id}/fixes",
    response={201: EvaluationFixOut},
    summary="A fix the evaluation requires",
)
def add_evaluation_fix(request, evaluation_id: Id, payload: EvaluationFixIn):
    require(request.auth, "projects.add_evaluationfix")
    fix = services.evaluation_fix_add(
        actor=request.auth,
        evaluation=_evaluation(request, evaluation_id),
        description=payload.description,
        deadline=payload.deadline,
    )
    return Status(201, fix)


@router.post(
    "/evaluation-fixes/{int:fix_id}/resolve",
    response=EvaluationFixOut,
    summary="Record a required fix as done",
)
def resolve_evaluation_fix(request, fix_id: Id, payload: FixResolveIn):
    require(request.auth, "projects.change_evaluationfix")
    fix = get_scoped_or_404(
        EvaluationFix.objects.select_related("evaluation__project"),
        request.auth,
        VIEW,
        pk=fix_id,
    )
    return services.evaluation_fix_resolve(
        actor=request.auth,
        fix=fix,
        resolved_on=payload.resolved_on,
        resolution=payload.resolution,
    )


@router.post(
    "/evaluations/{int:evaluation_id}/evidence",
    response={201: EvidenceOut},
    summary="Upload an evidence file (PDF, JPG, PNG, DOCX, XLSX; at most 10 MB)",
)
def upload_evidence(request, evaluation_id: Id, file: File[UploadedFile] = None):
    require(request.auth, "projects.add_evidencefile")
    evaluation = _evaluation(request, evaluation_id)
    if file is None:
        raise ValidationError({"file": _("Choose a file.")})
    evidence = services.evidence_upload(
        actor=request.auth, evaluation=evaluation, file=file, name=file.name or ""
    )
    return Status(201, evidence)


def evidence_response(evidence: EvidenceFile) -> FileResponse:
    """Stream an evidence file as a download (never rendered inline, never cached)."""
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/evidence/{int:evidence_id}", summary="Download an evidence file")
def download_evidence(request, evidence_id: Id):
    evidence = get_scoped_or_404(EvidenceFile, request.auth, VIEW, pk=evidence_id)
    return evidence_response(evidence)


# --- indicator trees ----------------------------------------------------------------------


@router.get("/indicator-trees", response=list[TreeOut], summary="Indicator trees")
def list_indicator_trees(request):
    require(request.auth, "projects.view_indicatortree")
    return list(IndicatorTree.objects.restrict(request.auth, VIEW))


@router.get("/indicator-trees/{int:tree_id}", response=TreeOut, summary="One indicator tree")
def get_indicator_tree(request, tree_id: Id):
    return get_scoped_or_404(IndicatorTree, request.auth, VIEW, pk=tree_id)


@router.post(
    "/indicator-trees",
    response={201: TreeOut},
    summary="Create an indicator tree (weights add up to 100 at every level)",
)
def create_indicator_tree(request, payload: TreeIn):
    require(request.auth, "projects.add_indicatortree")
    tree = services.indicator_tree_create(
        actor=request.auth,
        name=payload.name,
        indicators=payload.model_dump()["indicators"],
        is_default=payload.is_default,
    )
    return Status(201, tree)

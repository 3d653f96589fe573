"""API: cases (issue #6) — list, open, one case, the intake decision and its approval, the
stages, goals, notes, review date, reassignment and break the glass.

The list carries no narrative; one case carries it only for those ``privacy.may_open``
lets in — anyone else in scope gets 403 with code ``protected`` and may break the glass
(``POST /cases/{id}/break-glass``, reason required, logged, time-limited). Every answer
with personal data is ``Cache-Control: no-store``; a stale ``version`` answers 409.
"""

from datetime import date, datetime

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from shegong.accounts.models import User
from shegong.casework import privacy
from shegong.casework.models import (
    Case,
    CaseGoal,
    CaseNote,
    CaseNoteKind,
    CaseStage,
    CaseStageChange,
    ClosureReason,
    ReferralSource,
    Resident,
    RiskLevel,
)
from shegong.casework.selectors import cases as selectors
from shegong.casework.services import cases as services
from shegong.core.api import ErrorOut, InputSchema, Pagination, require
from shegong.core.inputs import Count, Day, Id, LongText, Search, Version, Word
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.network.models import Facility

router = Router(tags=["casework"])


class CaseOut(Schema):
    """A case without its narrative (the list, and the answer of every write)."""

    id: int
    number: str
    resident_id: int
    facility_id: int
    stage: CaseStage
    referral_source: ReferralSource
    risk_level: RiskLevel
    protected: bool
    assigned_to_id: int
    supervisor_id: int
    opened_on: date
    approved_on: date | None
    closed_on: date | None
    next_review_on: date | None
    version: int


class GoalOut(Schema):
    id: int
    text: str
    priority: int
    achieved: bool | None


class NoteOut(Schema):
    id: int
    kind: CaseNoteKind
    written_on: date
    text: str
    author_id: int | None


class CaseStageChangeOut(Schema):
    from_stage: str
    to_stage: str
    changed_at: datetime
    changed_by_id: int | None
    note: str


class CaseDetailOut(CaseOut):
    """One case with its narrative, for those who may open it."""

    resident_name: str
    resident_national_id: str
    presenting_problem: str
    intake_proposal: str | None
    decline_reason: str
    approved_by_id: int | None
    assessment: str
    evaluation_method: str
    evaluation: str
    closure_reason: str
    client_reaction: str
    closing_report: str
    next_stage: str | None
    goals: list[GoalOut]
    notes: list[NoteOut]
    stage_changes: list[CaseStageChangeOut]


class CaseIn(InputSchema):
    resident_id: Id
    facility_id: Id
    referral_source: ReferralSource
    presenting_problem: LongText
    assigned_to_id: Id
    supervisor_id: Id
    risk_level: RiskLevel = RiskLevel.LOW
    protected: bool = False
    opened_on: Day | None = None
    next_review_on: Day | None = None


class DecideIn(InputSchema):
    accept: bool
    reason: LongText = ""
    version: Version | None = None


class ApproveIn(InputSchema):
    note: LongText = ""
    version: Version | None = None


class CaseAdvanceIn(InputSchema):
    """The step to the next stage, with the current stage's content if not saved yet."""

    to_stage: CaseStage
    version: Version | None = None
    note: LongText = ""
    assessment: LongText | None = None
    evaluation_method: LongText | None = None
    evaluation: LongText | None = None
    closure_reason: ClosureReason | None = None
    closing_report: LongText | None = None
    client_reaction: LongText | None = None


class GoalIn(InputSchema):
    text: LongText
    priority: Count = 1


class GoalMarkIn(InputSchema):
    achieved: bool | None


class NoteIn(InputSchema):
    kind: CaseNoteKind
    text: LongText
    written_on: Day | None = None


class CaseReviewIn(InputSchema):
    next_review_on: Day | None
    version: Version | None = None


class ReassignIn(InputSchema):
    assigned_to_id: Id | None = None
    supervisor_id: Id | None = None
    version: Version | None = None


class CaseBreakGlassIn(InputSchema):
    reason: LongText = ""
    minutes: Count = Field(privacy.GRANT_MINUTES_DEFAULT, ge=1, le=privacy.GRANT_MINUTES_MAX)


class CaseGrantOut(Schema):
    case_id: int
    granted: bool
    expires_at: datetime | None


def _case(user, case_id: int) -> Case:
    require(user, "casework.view_case")
    return get_scoped_or_404(
        Case.objects.select_related("resident", "facility__division"), user, VIEW, pk=case_id
    )


def _user(pk: int | None) -> User | None:
    if pk is None:
        return None
    return User.objects.select_related("division").filter(pk=pk).first()


def _conflict(call):
    try:
        return call()
    except services.ConflictError as exc:
        raise HttpError(409, str(exc)) from exc


def _protected_answer():
    return Status(
        403,
        {
            "detail": str(
                _("This record is protected: state a reason to open it (break the glass).")
            ),
            "code": "protected",
            "errors": [],
        },
    )


def _detail(user, case: Case) -> dict:
    return {
        **{f: getattr(case, f) for f in CaseOut.model_fields},
        "resident_name": case.resident.name,
        "resident_national_id": privacy.shown_national_id(user, case.resident),
        "presenting_problem": case.presenting_problem,
        "intake_proposal": services.intake_proposal(case),
        "decline_reason": case.decline_reason,
        "approved_by_id": case.approved_by_id,
        "assessment": case.assessment,
        "evaluation_method": case.evaluation_method,
        "evaluation": case.evaluation,
        "closure_reason": case.closure_reason,
        "client_reaction": case.client_reaction,
        "closing_report": case.closing_report,
        "next_stage": selectors.next_stage(case),
        "goals": list(CaseGoal.objects.filter(case=case)),
        "notes": list(CaseNote.objects.filter(case=case)),
        "stage_changes": list(CaseStageChange.objects.filter(case=case)),
    }


@router.get("/cases", response=list[CaseOut], summary="Cases in scope (no narrative)")
@paginate(Pagination)
def list_cases(
    request,
    response: HttpResponse,
    stage: Word = "",
    risk: Word = "",
    mine: bool = False,
    due: bool = False,
    q: Search = "",
):
    user = request.auth
    require(user, "casework.view_case")
    privacy.no_store(response)
    if q.strip():
        privacy.log_access(
            user, "search", kind="case", detail={"filters": {"q": q, "stage": stage, "risk": risk}}
        )
    return selectors.case_list(
        user=user, stage=stage, risk=risk, mine=mine, due=due, query=q, today=timezone.localdate()
    )


@router.post("/cases", response={201: CaseOut}, summary="Open a case at intake")
def create_case(request, payload: CaseIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.add_case")
    resident = get_scoped_or_404(
        Resident.objects.select_related("community"), user, VIEW, pk=payload.resident_id
    )
    facility = get_scoped_or_404(Facility, user, VIEW, pk=payload.facility_id)
    case = services.case_open(
        actor=user,
        resident=resident,
        facility=facility,
        referral_source=payload.referral_source,
        presenting_problem=payload.presenting_problem,
        assigned_to=_user(payload.assigned_to_id),
        supervisor=_user(payload.supervisor_id),
        risk_level=payload.risk_level,
        protected=payload.protected,
        opened_on=payload.opened_on,
        next_review_on=payload.next_review_on,
    )
    privacy.no_store(response)
    return Status(201, case)


@router.get(
    "/cases/{int:case_id}",
    response={200: CaseDetailOut, 403: ErrorOut},
    summary="One case (protected cases: 403 'protected' unless opened)",
)
def get_case(request, case_id: Id, response: HttpResponse):
    user = request.auth
    case = _case(user, case_id)
    privacy.no_store(response)
    if not privacy.may_open(user, case):
        privacy.log_access(user, "view", case, allowed=False)
        return _protected_answer()
    privacy.log_access(user, "view", case)
    return _detail(user, case)


@router.post("/cases/{int:case_id}/decide", response=CaseOut, summary="Propose accept or decline")
def decide_case(request, case_id: Id, payload: DecideIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.change_case")
    case = _case(user, case_id)
    privacy.no_store(response)
    return _conflict(
        lambda: services.case_decide(
            actor=user,
            case=case,
            accept=payload.accept,
            reason=payload.reason,
            version=payload.version,
        )
    )


@router.post(
    "/cases/{int:case_id}/approve", response=CaseOut, summary="Approve the intake decision"
)
def approve_case(request, case_id: Id, payload: ApproveIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.approve_case")
    case = _case(user, case_id)
    privacy.no_store(response)
    return _conflict(
        lambda: services.case_approve(
            actor=user, case=case, note=payload.note, version=payload.version
        )
    )


@router.post("/cases/{int:case_id}/advance", response=CaseOut, summary="Move one stage on")
def advance_case(request, case_id: Id, payload: CaseAdvanceIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.change_case")
    case = _case(user, case_id)
    content = {
        k: v
        for k, v in payload.model_dump(exclude={"to_stage", "version", "note"}).items()
        if v is not None
    }
    privacy.no_store(response)
    return _conflict(
        lambda: services.case_advance(
            actor=user,
            case=case,
            to_stage=payload.to_stage,
            version=payload.version,
            note=payload.note,
            **content,
        )
    )


@router.post("/cases/{int:case_id}/goals", response={201: GoalOut}, summary="Add a goal")
def add_case_goal(request, case_id: Id, payload: GoalIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.add_casegoal")
    case = _case(user, case_id)
    goal = services.case_goal_add(
        actor=user, case=case, text=payload.text, priority=payload.priority
    )
    privacy.no_store(response)
    return Status(201, goal)


@router.post("/cases/{int:case_id}/goals/{int:goal_id}", response=GoalOut, summary="Mark a goal")
def mark_case_goal(request, case_id: Id, goal_id: Id, payload: GoalMarkIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.change_casegoal")
    case = _case(user, case_id)
    goal = get_scoped_or_404(CaseGoal.objects.filter(case=case), user, VIEW, pk=goal_id)
    privacy.no_store(response)
    return services.case_goal_mark(actor=user, goal=goal, achieved=payload.achieved)


@router.post("/cases/{int:case_id}/notes", response={201: NoteOut}, summary="Add a case note")
def add_case_note(request, case_id: Id, payload: NoteIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.add_casenote")
    case = _case(user, case_id)
    note = services.case_note_add(
        actor=user, case=case, kind=payload.kind, text=payload.text, written_on=payload.written_on
    )
    privacy.no_store(response)
    return Status(201, note)


@router.post("/cases/{int:case_id}/review", response=CaseOut, summary="Set the next review")
def set_case_review(request, case_id: Id, payload: CaseReviewIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.change_case")
    case = _case(user, case_id)
    privacy.no_store(response)
    return _conflict(
        lambda: services.case_set_review(
            actor=user, case=case, next_review_on=payload.next_review_on, version=payload.version
        )
    )


@router.post("/cases/{int:case_id}/reassign", response=CaseOut, summary="Reassign a case")
def reassign_case(request, case_id: Id, payload: ReassignIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.change_case")
    case = _case(user, case_id)
    privacy.no_store(response)
    return _conflict(
        lambda: services.case_reassign(
            actor=user,
            case=case,
            assigned_to=_user(payload.assigned_to_id),
            supervisor=_user(payload.supervisor_id),
            version=payload.version,
        )
    )


@router.post(
    "/cases/{int:case_id}/break-glass",
    response={200: CaseGrantOut, 201: CaseGrantOut},
    summary="Open a protected case for a stated reason (logged, time-limited)",
)
def break_glass_case(request, case_id: Id, payload: CaseBreakGlassIn):
    user = request.auth
    case = _case(user, case_id)
    if privacy.may_open(user, case):
        return Status(200, {"case_id": case.pk, "granted": False, "expires_at": None})
    grant = privacy.access_grant_open(
        user=user, record=case, reason=payload.reason, minutes=payload.minutes
    )
    return Status(201, {"case_id": case.pk, "granted": True, "expires_at": grant.expires_at})

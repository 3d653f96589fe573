"""Writes for casework (MZ/T 094-2017): opening a case at intake, the intake decision and
its approval, moving through the stages strictly in order, goals, notes, review dates and
reassignment.

Every service checks who may do it, validates, writes and audits in one transaction;
nothing is written when it refuses. Errors are ``ValidationError`` (field-keyed, translatable
messages), ``PermissionDenied`` (the role, or the person, may not), ``Http404`` (outside
the actor's scope) and ``ConflictError`` (the case changed since the user loaded it: 409).

Who does what: the *assigned worker* proposes accept or decline; only the case's
*supervisor* approves it; the case team (worker and supervisor) moves the case, writes its
goals and notes and sets its review date; the supervisor — or anyone who may approve
cases in the facility's area — reassigns it. Audit rows name the case by its number and
people by their row ids, never by name or national ID.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.accounts.models import User
from shegong.casework.models import (
    CASE_STAGE_ORDER,
    PROTECTED_NOTE_KINDS,
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
from shegong.core.audit import audit_record
from shegong.core.scoping import CHANGE, VIEW
from shegong.core.validators import check_not_future, clean_text
from shegong.network.models import Facility, FacilityStatus


class ConflictError(Exception):
    """The case changed since the user loaded it (answer 409)."""


# What may be written in each stage, and what must be there before the case leaves it.
STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    CaseStage.ASSESSMENT: ("assessment",),
    CaseStage.PLAN: (),
    CaseStage.INTERVENTION: (),
    CaseStage.EVALUATION: (
        "evaluation_method",
        "evaluation",
        "closure_reason",
        "closing_report",
        "client_reaction",
    ),
}
TEXT_LIMITS = {
    "evaluation_method": 200,
    "client_reaction": 300,
    "assessment": 20000,
    "evaluation": 20000,
    "closing_report": 20000,
}
AUDIT_FIELDS = [
    "number",
    "stage",
    "facility_id",
    "risk_level",
    "protected",
    "assigned_to_id",
    "supervisor_id",
    "next_review_on",
]


def _snapshot(case: Case) -> dict:
    """What an audit row says about a case: number, stage, ids, dates — no narrative."""
    out = {}
    for name in AUDIT_FIELDS:
        value = getattr(case, name)
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


def _in_area(user: User, division_code: str) -> bool:
    prefix = user.scope_prefix
    return bool(prefix) and division_code.startswith(prefix)


def _lock(actor, case: Case, version: int | None = None, action: str = CHANGE) -> Case:
    """The case row, locked for the transaction; out of the actor's scope is 404, a role
    without the right 403, a stale ``version`` a conflict."""
    if actor is not None:
        if not Case.objects.restrict(actor, VIEW).filter(pk=case.pk).exists():
            raise Http404
        if not actor.has_perm(f"casework.{action}_case"):
            raise PermissionDenied(_("Your role may not change cases."))
    locked = Case.objects.select_for_update().select_related("facility__division").get(pk=case.pk)
    if version is not None and locked.version != int(version):
        raise ConflictError(_("Someone else changed this case; reload it and try again."))
    return locked


def _require_team(actor, case: Case) -> None:
    if actor is not None and actor.pk not in (case.assigned_to_id, case.supervisor_id):
        raise PermissionDenied(
            _("Only the case's assigned worker and its supervisor may work on this case.")
        )


def _require_open(case: Case) -> None:
    if not case.is_open:
        raise ValidationError(
            {
                "stage": _("This case is closed (%(stage)s); it cannot change any more.")
                % {"stage": CaseStage(case.stage).label}
            }
        )


def _stage_change(actor, case: Case, from_stage: str, to_stage: str, note: str = ""):
    return CaseStageChange.objects.create(
        case=case,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_by=actor if getattr(actor, "pk", None) else None,
        note=(note or "").strip()[:300],
    )


def _bump(case: Case, fields: list[str]) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version"])


def _choice(value, choices, field: str, message: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: [message]})
    return value


def check_case_worker(user: User | None, facility: Facility, field: str = "assigned_to") -> User:
    """``user`` may be the assigned worker of a case held by ``facility``."""
    if user is None:
        raise ValidationError({field: [_("Choose the social worker the case is assigned to.")]})
    if (
        not user.is_active
        or not user.has_perm("casework.change_case")
        or not _in_area(user, facility.division.code)
    ):
        raise ValidationError(
            {
                field: [
                    _("The assigned worker must be an active user working in this facility's area.")
                ]
            }
        )
    return user


def check_case_supervisor(user: User | None, facility: Facility, field: str = "supervisor") -> User:
    """``user`` may supervise a case held by ``facility``."""
    if user is None:
        raise ValidationError({field: [_("Choose the supervisor of the case.")]})
    if (
        not user.is_active
        or not user.has_perm("casework.approve_case")
        or not _in_area(user, facility.division.code)
    ):
        raise ValidationError(
            {
                field: [
                    _(
                        "The supervisor must be an active user who may approve cases and "
                        "whose area covers this facility."
                    )
                ]
            }
        )
    return user


def _next_number(facility: Facility, year: int) -> str:
    """``C<division code>-<year>-<seq>``, the next sequence number of this facility's year
    (the facility row is locked, so two intakes cannot take the same number)."""
    Facility.objects.select_for_update().filter(pk=facility.pk).first()
    prefix = f"C{facility.division.code}-{year}-"
    numbers = Case.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    seq = max(
        (int(n.rsplit("-", 1)[1]) for n in numbers if n.rsplit("-", 1)[1].isdigit()), default=0
    )
    return f"{prefix}{seq + 1:04d}"


@transaction.atomic
def case_open(
    *,
    actor,
    resident: Resident,
    facility: Facility,
    referral_source: str,
    presenting_problem: str,
    assigned_to: User | None,
    supervisor: User | None,
    risk_level: str = RiskLevel.LOW,
    protected: bool = False,
    opened_on: date | None = None,
    next_review_on: date | None = None,
) -> Case:
    """Open a case at intake for a resident in the actor's scope, held by a facility in it."""
    if actor is not None:
        if not actor.has_perm("casework.add_case"):
            raise PermissionDenied(_("Your role may not open cases."))
        if not Resident.objects.restrict(actor, VIEW).filter(pk=resident.pk).exists():
            raise Http404
        if not Facility.objects.restrict(actor, VIEW).filter(pk=facility.pk).exists():
            raise Http404
    facility = Facility.objects.select_related("division").get(pk=facility.pk)
    errors: dict[str, list[str]] = {}
    if facility.status == FacilityStatus.CLOSED:
        errors["facility"] = [_("This facility is closed; choose one that is working.")]
    elif not resident.community.code.startswith(facility.division.code):
        errors["facility"] = [_("The resident does not live in the area this facility serves.")]
    if referral_source not in ReferralSource.values:
        errors["referral_source"] = [_("Say how the case came to you.")]
    if risk_level not in RiskLevel.values:
        errors["risk_level"] = [_("Choose a risk level.")]
    problem = (presenting_problem or "").strip()
    if not problem:
        errors["presenting_problem"] = [_("Describe the presenting problem.")]
    today = timezone.localdate()
    opened_on = opened_on or today
    if opened_on > today:
        errors["opened_on"] = [_("The date cannot be in the future.")]
    if next_review_on is not None and next_review_on < opened_on:
        errors["next_review_on"] = [_("The review date cannot be before the case was opened.")]
    for field, check, user in (
        ("assigned_to", check_case_worker, assigned_to),
        ("supervisor", check_case_supervisor, supervisor),
    ):
        try:
            check(user, facility, field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if assigned_to is not None and supervisor is not None and assigned_to.pk == supervisor.pk:
        errors.setdefault("supervisor", []).append(
            _("The supervisor must be someone other than the assigned worker.")
        )
    if errors:
        raise ValidationError(errors)
    case = Case.objects.create(
        number=_next_number(facility, opened_on.year),
        resident=resident,
        facility=facility,
        stage=CaseStage.INTAKE,
        referral_source=referral_source,
        risk_level=risk_level,
        protected=bool(protected),
        assigned_to=assigned_to,
        supervisor=supervisor,
        presenting_problem=problem[:20000],
        opened_on=opened_on,
        next_review_on=next_review_on,
    )
    _stage_change(actor, case, "", CaseStage.INTAKE)
    audit_record(
        actor=actor,
        action="case.open",
        target=case,
        object_repr=case.number,
        after={**_snapshot(case), "resident_id": resident.pk},
    )
    return case


def intake_proposal(case: Case) -> str | None:
    """The worker's proposal at intake: "accept", "decline", or None if not made yet."""
    if case.stage != CaseStage.INTAKE:
        return None
    proposed = case.stage_changes.filter(
        from_stage=CaseStage.INTAKE, to_stage=CaseStage.INTAKE
    ).exists()
    if not proposed:
        return None
    return "decline" if case.decline_reason else "accept"


@transaction.atomic
def case_decide(
    *, actor, case: Case, accept: bool, reason: str = "", version: int | None = None
) -> Case:
    """The assigned worker proposes to accept or decline the case (decline needs a
    reason); the supervisor's approval then moves it on. A new proposal replaces one not
    yet approved."""
    case = _lock(actor, case, version)
    if actor is not None and actor.pk != case.assigned_to_id:
        raise PermissionDenied(_("Only the assigned worker proposes the intake decision."))
    if case.stage != CaseStage.INTAKE:
        raise ValidationError(
            {"stage": _("The intake decision has already been made for this case.")}
        )
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ValidationError({"reason": _("Give the reason for declining the case.")})
    case.decline_reason = "" if accept else reason[:300]
    _bump(case, ["decline_reason"])
    _stage_change(actor, case, CaseStage.INTAKE, CaseStage.INTAKE, case.decline_reason)
    audit_record(
        actor=actor,
        action="case.decide",
        target=case,
        object_repr=case.number,
        after={"proposal": "accept" if accept else "decline"},
    )
    return case


@transaction.atomic
def case_approve(*, actor, case: Case, note: str = "", version: int | None = None) -> Case:
    """The case's supervisor approves the worker's intake decision: an accepted case moves
    on to assessment, a declined one ends as declined."""
    case = _lock(actor, case, version, action="approve")
    if actor is not None and actor.pk != case.supervisor_id:
        raise PermissionDenied(_("Only the case's supervisor approves the intake decision."))
    if case.stage != CaseStage.INTAKE:
        raise ValidationError(
            {"stage": _("The intake decision has already been made for this case.")}
        )
    proposal = intake_proposal(case)
    if proposal is None:
        raise ValidationError(
            {"stage": _("The assigned worker has not yet proposed to accept or decline.")}
        )
    to_stage = CaseStage.ASSESSMENT if proposal == "accept" else CaseStage.DECLINED
    case.stage = to_stage
    case.approved_by = actor if getattr(actor, "pk", None) else None
    case.approved_on = timezone.localdate()
    _bump(case, ["stage", "approved_by", "approved_on"])
    _stage_change(actor, case, CaseStage.INTAKE, to_stage, note)
    audit_record(
        actor=actor,
        action="case.approve",
        target=case,
        object_repr=case.number,
        before={"stage": CaseStage.INTAKE},
        after={"stage": to_stage},
    )
    return case


def _clean_content(case: Case, content: dict) -> dict:
    """The stage fields given, checked: only the current stage's fields may be written."""
    allowed = STAGE_FIELDS.get(case.stage, ())
    unknown = sorted(set(content) - set(allowed))
    if unknown:
        raise ValidationError(
            {
                "stage": _("At the “%(stage)s” stage these cannot be written: %(fields)s")
                % {"stage": CaseStage(case.stage).label, "fields": ", ".join(unknown)}
            }
        )
    cleaned = {}
    for field, value in content.items():
        if value is None:
            continue
        value = str(value).strip()
        if field == "closure_reason" and value and value not in ClosureReason.values:
            raise ValidationError({field: _("Choose a closure reason from the list.")})
        cleaned[field] = value[: TEXT_LIMITS.get(field, 300)]
    return cleaned


def _missing_to_leave(case: Case, to_stage: str) -> dict[str, str]:
    """What the case still needs before it may leave its stage for ``to_stage``."""
    missing: dict[str, str] = {}
    if case.stage == CaseStage.ASSESSMENT and not case.assessment.strip():
        missing["assessment"] = _("Write the assessment before moving on to the plan.")
    if case.stage == CaseStage.PLAN and not case.goals.exists():
        missing["goals"] = _("Add at least one goal before moving on to the intervention.")
    if case.stage == CaseStage.EVALUATION:
        if not case.evaluation_method.strip():
            missing["evaluation_method"] = _("Say how the case was evaluated.")
        if not case.evaluation.strip():
            missing["evaluation"] = _("Write the evaluation before closing the case.")
    if to_stage == CaseStage.CLOSED:
        if not case.closure_reason:
            missing["closure_reason"] = _("Choose the reason for closing the case.")
        if not case.closing_report.strip():
            missing["closing_report"] = _("Write the closing report.")
        if not case.client_reaction.strip():
            missing["client_reaction"] = _("Record the client's reaction to the closing.")
    return missing


def check_step(case: Case, to_stage: str) -> None:
    """Refuse anything but the one next stage, with a message saying which that is."""
    _require_open(case)
    if to_stage not in CASE_STAGE_ORDER:
        raise ValidationError({"to_stage": _("Choose the stage to move the case to.")})
    here = CASE_STAGE_ORDER.index(CaseStage(case.stage))
    there = CASE_STAGE_ORDER.index(CaseStage(to_stage))
    if case.stage == CaseStage.INTAKE:
        raise ValidationError(
            {
                "to_stage": _(
                    "A case leaves intake through the supervisor's approval of the intake decision."
                )
            }
        )
    if there <= here:
        raise ValidationError(
            {
                "to_stage": _("A case cannot go back: it is at “%(stage)s” and moves only forward.")
                % {"stage": CaseStage(case.stage).label}
            }
        )
    if there != here + 1:
        raise ValidationError(
            {
                "to_stage": _(
                    "A case moves one stage at a time: from “%(stage)s” the next stage is "
                    "“%(next)s”, not “%(to)s”."
                )
                % {
                    "stage": CaseStage(case.stage).label,
                    "next": CASE_STAGE_ORDER[here + 1].label,
                    "to": CaseStage(to_stage).label,
                }
            }
        )


@transaction.atomic
def case_save(*, actor, case: Case, version: int | None = None, **content) -> Case:
    """Save what the current stage records (assessment; evaluation and closure) without
    moving the case."""
    case = _lock(actor, case, version)
    _require_team(actor, case)
    _require_open(case)
    cleaned = _clean_content(case, content)
    changed = [f for f, v in cleaned.items() if getattr(case, f) != v]
    if not changed:
        return case
    for field in changed:
        setattr(case, field, cleaned[field])
    _bump(case, changed)
    audit_record(
        actor=actor,
        action="case.update",
        target=case,
        object_repr=case.number,
        after={"stage": case.stage, "fields": sorted(changed)},
    )
    return case


@transaction.atomic
def case_advance(
    *, actor, case: Case, to_stage: str, version: int | None = None, note: str = "", **content
) -> Case:
    """Move the case exactly one stage forward. ``content`` (the current stage's fields)
    is saved with the step; the step is refused — nothing written — while the stage's
    content is missing, and for any skip or step back."""
    case = _lock(actor, case, version)
    _require_team(actor, case)
    check_step(case, to_stage)
    cleaned = _clean_content(case, content)
    for field, value in cleaned.items():
        setattr(case, field, value)
    missing = _missing_to_leave(case, to_stage)
    if missing:
        raise ValidationError(missing)
    from_stage = case.stage
    case.stage = to_stage
    fields = ["stage", *cleaned]
    if to_stage == CaseStage.CLOSED:
        case.closed_on = timezone.localdate()
        case.next_review_on = None
        fields += ["closed_on", "next_review_on"]
    _bump(case, fields)
    _stage_change(actor, case, from_stage, to_stage, note)
    audit_record(
        actor=actor,
        action="case.advance",
        target=case,
        object_repr=case.number,
        before={"stage": from_stage},
        after={"stage": to_stage, "fields": sorted(cleaned)},
    )
    return case


GOAL_STAGES = (CaseStage.PLAN, CaseStage.INTERVENTION)


@transaction.atomic
def case_goal_add(*, actor, case: Case, text: str, priority: int = 1) -> CaseGoal:
    """Add a goal to the case plan (at the plan stage, or revised during intervention)."""
    case = _lock(actor, case)
    _require_team(actor, case)
    _require_open(case)
    if case.stage not in GOAL_STAGES:
        raise ValidationError(
            {"text": _("Goals are set at the plan stage (and revised during intervention).")}
        )
    text = clean_text(text, "text", _("Write the goal."), 300)
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        priority = 0
    if not 1 <= priority <= 9:
        raise ValidationError({"priority": _("The priority is a number from 1 to 9.")})
    goal = CaseGoal.objects.create(case=case, text=text, priority=priority)
    _bump(case, [])
    audit_record(
        actor=actor,
        action="case.goal_add",
        target=case,
        object_repr=case.number,
        after={"goal_id": goal.pk, "priority": priority},
    )
    return goal


@transaction.atomic
def case_goal_mark(*, actor, goal: CaseGoal, achieved: bool | None) -> CaseGoal:
    """Mark a goal reached, not reached, or open again."""
    case = _lock(actor, goal.case)
    _require_team(actor, case)
    _require_open(case)
    if case.stage not in (*GOAL_STAGES, CaseStage.EVALUATION):
        raise ValidationError({"achieved": _("Goals are marked from the plan stage on.")})
    goal = CaseGoal.objects.select_for_update().get(pk=goal.pk, case=case)
    before = goal.achieved
    goal.achieved = achieved
    goal.save(update_fields=["achieved"])
    _bump(case, [])
    audit_record(
        actor=actor,
        action="case.goal_mark",
        target=case,
        object_repr=case.number,
        before={"goal_id": goal.pk, "achieved": before},
        after={"goal_id": goal.pk, "achieved": achieved},
    )
    return goal


@transaction.atomic
def case_note_add(
    *, actor, case: Case, kind: str, text: str, written_on: date | None = None
) -> CaseNote:
    """A dated entry in the case. General notes may be written at any open stage; the
    counselling, crisis, case-conference and resource-link entries belong to the
    intervention. A counselling or crisis note makes the whole case protected."""
    case = _lock(actor, case)
    _require_team(actor, case)
    _require_open(case)
    if kind not in CaseNoteKind.values:
        raise ValidationError({"kind": _("Choose the kind of entry.")})
    if kind != CaseNoteKind.GENERAL and case.stage != CaseStage.INTERVENTION:
        raise ValidationError(
            {
                "kind": _(
                    "A “%(kind)s” is written during the intervention; at “%(stage)s” only "
                    "general case notes are possible."
                )
                % {"kind": CaseNoteKind(kind).label, "stage": CaseStage(case.stage).label}
            }
        )
    text = clean_text(text, "text", _("Write the note."), 20000)
    written_on = written_on or timezone.localdate()
    check_not_future(written_on, "written_on")
    if written_on < case.opened_on:
        raise ValidationError(
            {"written_on": _("A note cannot be dated before the case was opened.")}
        )
    note = CaseNote.objects.create(
        case=case,
        kind=kind,
        written_on=written_on,
        text=text,
        author=actor if getattr(actor, "pk", None) else None,
    )
    became_protected = kind in PROTECTED_NOTE_KINDS and not case.protected
    if became_protected:
        case.protected = True
    _bump(case, ["protected"] if became_protected else [])
    audit_record(
        actor=actor,
        action="case.note_add",
        target=case,
        object_repr=case.number,
        after={
            "note_id": note.pk,
            "kind": kind,
            "written_on": written_on.isoformat(),
            "protected": case.protected,
        },
    )
    return note


@transaction.atomic
def case_set_review(
    *, actor, case: Case, next_review_on: date | None, version: int | None = None
) -> Case:
    """Set (or clear) the date of the case's next review."""
    case = _lock(actor, case, version)
    _require_team(actor, case)
    _require_open(case)
    if next_review_on is not None and next_review_on < timezone.localdate():
        raise ValidationError({"next_review_on": _("The next review cannot be in the past.")})
    before = case.next_review_on
    case.next_review_on = next_review_on
    _bump(case, ["next_review_on"])
    audit_record(
        actor=actor,
        action="case.set_review",
        target=case,
        object_repr=case.number,
        before={"next_review_on": before.isoformat() if before else None},
        after={"next_review_on": next_review_on.isoformat() if next_review_on else None},
    )
    return case


def may_reassign(user: User, case: Case) -> bool:
    """The case's supervisor, or anyone who may approve cases in the facility's area."""
    return user.pk == case.supervisor_id or (
        user.has_perm("casework.approve_case") and _in_area(user, case.facility.division.code)
    )


@transaction.atomic
def case_reassign(
    *,
    actor,
    case: Case,
    assigned_to: User | None = None,
    supervisor: User | None = None,
    version: int | None = None,
) -> Case:
    """Give the case another assigned worker and/or supervisor."""
    case = _lock(actor, case, version)
    if actor is not None and not may_reassign(actor, case):
        raise PermissionDenied(
            _("Only the case's supervisor, or someone who approves cases here, reassigns it.")
        )
    _require_open(case)
    new_worker = assigned_to or case.assigned_to
    new_supervisor = supervisor or case.supervisor
    errors: dict[str, list[str]] = {}
    for field, check, user in (
        ("assigned_to", check_case_worker, new_worker),
        ("supervisor", check_case_supervisor, new_supervisor),
    ):
        try:
            check(user, case.facility, field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if new_worker.pk == new_supervisor.pk:
        errors.setdefault("supervisor", []).append(
            _("The supervisor must be someone other than the assigned worker.")
        )
    if errors:
        raise ValidationError(errors)
    before = _snapshot(case)
    case.assigned_to = new_worker
    case.supervisor = new_supervisor
    _bump(case, ["assigned_to", "supervisor"])
    audit_record(
        actor=actor,
        action="case.reassign",
        target=case,
        object_repr=case.number,
        before={k: before[k] for k in ("assigned_to_id", "supervisor_id")},
        after={"assigned_to_id": new_worker.pk, "supervisor_id": new_supervisor.pk},
    )
    return case

"""Reads for casework: the case list with its filters, a case's page, review reminders.
Every read starts from ``Case.objects.restrict``."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from shegong.accounts.models import User
from shegong.casework import privacy
from shegong.casework.models import CASE_STAGE_ORDER, Case, CaseStage
from shegong.core.scoping import VIEW

SORTS = {
    "opened": ("-opened_on", "-id"),
    "review": ("next_review_on", "id"),
    "number": ("number",),
}


def case_list(
    *,
    user: User,
    stage: str = "",
    risk: str = "",
    mine: bool = False,
    due: bool = False,
    query: str = "",
    today: date | None = None,
    sort: str = "opened",
) -> QuerySet[Case]:
    """Cases in ``user``'s scope, filtered: stage, risk level, assigned to (or supervised
    by) the user, due for review by ``today``, case number (contains)."""
    cases = Case.objects.restrict(user, VIEW).select_related(
        "resident", "facility", "assigned_to", "supervisor"
    )
    if stage == "open":
        cases = cases.exclude(stage__in=[CaseStage.CLOSED, CaseStage.DECLINED])
    elif stage in CaseStage.values:
        cases = cases.filter(stage=stage)
    if risk:
        cases = cases.filter(risk_level=risk)
    if mine:
        cases = cases.filter(Q(assigned_to=user) | Q(supervisor=user))
    if due:
        cases = due_for_review(cases, today)
    query = (query or "").strip()
    if query:
        cases = cases.filter(number__icontains=query)
    return cases.order_by(*SORTS.get(sort, SORTS["opened"]))


def due_for_review(cases: QuerySet[Case], today: date | None = None) -> QuerySet[Case]:
    """Open cases whose next review is today or earlier."""
    from django.utils import timezone

    return cases.exclude(stage__in=[CaseStage.CLOSED, CaseStage.DECLINED]).filter(
        next_review_on__lte=today or timezone.localdate()
    )


def review_reminders(user: User, today: date | None = None) -> QuerySet[Case]:
    """The user's own open cases (assigned or supervised) due for review."""
    cases = Case.objects.restrict(user, VIEW).filter(Q(assigned_to=user) | Q(supervisor=user))
    return due_for_review(cases, today).select_related("resident").order_by("next_review_on")


def openable(user: User, cases) -> set[int]:
    """The ids among ``cases`` whose protected content ``user`` may see now
    (``privacy.may_open`` decides, row by row)."""
    return {case.pk for case in cases if privacy.may_open(user, case)}


def stage_progress(case: Case) -> list[dict]:
    """The stages as a progress bar: each with done / current / ahead."""
    if case.stage == CaseStage.DECLINED:
        return [
            {"stage": CaseStage.INTAKE, "state": "done"},
            {"stage": CaseStage.DECLINED, "state": "current"},
        ]
    here = CASE_STAGE_ORDER.index(CaseStage(case.stage))
    return [
        {
            "stage": stage,
            "state": "done" if i < here else "current" if i == here else "ahead",
        }
        for i, stage in enumerate(CASE_STAGE_ORDER)
    ]


def next_stage(case: Case) -> str | None:
    """The one stage the case may move to next by ``case_advance`` (None at intake,
    where approval moves it, and once it has ended)."""
    if not case.is_open or case.stage == CaseStage.INTAKE:
        return None
    here = CASE_STAGE_ORDER.index(CaseStage(case.stage))
    return CASE_STAGE_ORDER[here + 1]

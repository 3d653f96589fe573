"""Reads for projects: the scoped list, the timeline, budget vs spent, KPIs vs reported
outputs, and counts by focus and stage (F29)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from shegong.core.scoping import VIEW
from shegong.projects.models import (
    Focus,
    MonthlyReport,
    PaymentMilestone,
    Project,
    Stage,
    StageChange,
)

ZERO = Decimal("0.00")

# F29 "livelihood-security social work service projects": the projects whose focus is
# special groups (livelihood security), at any stage except an application not approved.
LIVELIHOOD_SECURITY_FOCUS = Focus.SPECIAL_GROUPS


def project_list(
    *,
    user,
    focus: str = "",
    stage: str = "",
    agency: int | None = None,
    area: str = "",
    year: int | None = None,
    q: str = "",
) -> QuerySet[Project]:
    """Projects the user sees, filtered: focus, stage, agency (id), area (a division code:
    its subtree), year (the project's period overlaps it), q (code or name)."""
    qs = Project.objects.restrict(user, VIEW).select_related(
        "area", "purchaser", "purchaser__division", "agency"
    )
    if focus:
        qs = qs.filter(focus=focus)
    if stage:
        qs = qs.filter(stage=stage)
    if agency:
        qs = qs.filter(agency_id=agency)
    if area:
        qs = qs.filter(area__code__startswith=area)
    if year:
        qs = qs.filter(starts_on__lte=date(year, 12, 31), ends_on__gte=date(year, 1, 1))
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    return qs.order_by("-starts_on", "code")


def project_timeline(*, project: Project) -> list[StageChange]:
    """The project's life cycle, oldest first."""
    return list(project.stage_changes.select_related("actor").order_by("recorded_at", "id"))


def _has_payments() -> bool:
    try:
        PaymentMilestone._meta.get_field("payments")
    except FieldDoesNotExist:
        return False
    return True


def milestones_paid(milestone_ids) -> dict[int, Decimal]:
    """What has been paid against each milestone: the ledger's disbursements that name it
    (and are not reversed) less refunds that name it; 0 until the ledger exists."""
    ids = list(milestone_ids)
    paid: dict[int, Decimal] = dict.fromkeys(ids, ZERO)
    if not ids or not _has_payments():
        return paid
    from shegong.funding.models import Movement, MovementKind  # the ledger pays milestones

    rows = (
        Movement.objects.filter(milestone_id__in=ids)
        .values("milestone_id")
        .annotate(
            paid=Sum(
                "amount",
                filter=Q(kind=MovementKind.DISBURSEMENT, reversed_by__isnull=True),
            ),
            refunded=Sum("amount", filter=Q(kind=MovementKind.REFUND)),
        )
    )
    for row in rows:
        paid[row["milestone_id"]] = (row["paid"] or ZERO) - (row["refunded"] or ZERO)
    return paid


def milestone_paid(milestone: PaymentMilestone) -> Decimal:
    """What has been paid against one milestone."""
    return milestones_paid([milestone.pk])[milestone.pk]


def budget_vs_spent(*, project: Project) -> dict:
    """Budget, its lines, the payment milestones with what each has been paid, and the
    total spent (paid milestones) and left."""
    lines = list(project.budget_lines.order_by("id"))
    milestones = list(project.milestones.order_by("due_on", "id"))
    paid = milestones_paid(m.pk for m in milestones)
    spent = sum(paid.values(), ZERO)
    return {
        "budget": project.budget,
        "budget_lines": [{"id": x.pk, "name": x.name, "amount": x.amount} for x in lines],
        "budget_lines_total": sum((x.amount for x in lines), ZERO),
        "milestones": [
            {
                "id": m.pk,
                "name": m.name,
                "due_on": m.due_on,
                "amount": m.amount,
                "paid": paid[m.pk],
            }
            for m in milestones
        ],
        "milestones_total": sum((m.amount for m in milestones), ZERO),
        "spent": spent,
        "left": project.budget - spent,
    }


KPI_FIELDS = (
    ("person_times", "kpi_person_times", "reported_person_times"),
    ("cases", "kpi_cases", "reported_cases"),
    ("groups", "kpi_groups", "reported_groups"),
    ("activities", "kpi_activities", "reported_activities"),
)


def kpis_vs_reported(*, project: Project) -> list[dict]:
    """Each KPI against the project's outputs.

    Outputs are computed from the service records that name the project (casework,
    ``ServiceRecord.project``): person-times summed from the records, and the distinct
    cases, groups and community activities they belong to — labelled "computed". A project
    with no linked record yet (one delivered before the records were kept here, or whose
    agency only reports) falls back to the sum of its monthly reports, labelled "as
    reported". Both figures are given (``computed`` is None without linked records), so the
    page can show where the agency's reports and the records disagree."""
    from shegong.casework.models import ServiceRecord

    sums = MonthlyReport.objects.filter(project=project).aggregate(
        **{reported: Sum(reported) for _key, _kpi, reported in KPI_FIELDS}
    )
    computed = ServiceRecord.objects.filter(project=project).aggregate(
        records=Count("id"),
        person_times=Sum("person_times"),
        cases=Count("case", distinct=True),
        groups=Count("group", distinct=True),
        activities=Count("activity", distinct=True),
    )
    has_records = bool(computed["records"])
    labels = {
        "person_times": _("person-times"),
        "cases": _("cases"),
        "groups": _("groups"),
        "activities": _("community activities"),
    }
    rows = []
    for key, kpi, reported in KPI_FIELDS:
        reported_value = sums[reported] or 0
        computed_value = (computed[key] or 0) if has_records else None
        rows.append(
            {
                "kpi": key,
                "label": labels[key],
                "planned": getattr(project, kpi),
                "output": computed_value if has_records else reported_value,
                "computed": computed_value,
                "reported": reported_value,
                "source": "computed" if has_records else "reported",
                "source_label": _("computed from service records")
                if has_records
                else _("as reported by the agency"),
            }
        )
    return rows


def project_counts(*, user, year: int | None = None, area: str = "") -> dict:
    """Projects the user sees by focus and by stage, and F29 (livelihood-security
    projects: focus special groups, not counting applications that were not approved)."""
    qs = project_list(user=user, year=year, area=area).order_by()
    by_focus = dict.fromkeys(Focus.values, 0)
    by_stage = dict.fromkeys(Stage.values, 0)
    livelihood = 0
    for row in qs.values("focus", "stage").annotate(n=Count("id")):
        by_focus[row["focus"]] += row["n"]
        by_stage[row["stage"]] += row["n"]
        if row["focus"] == LIVELIHOOD_SECURITY_FOCUS and row["stage"] != Stage.REJECTED:
            livelihood += row["n"]
    return {
        "by_focus": by_focus,
        "by_stage": by_stage,
        "total": sum(by_stage.values()),
        "livelihood_security_projects": livelihood,
    }


def evaluation_results(evaluation) -> list[dict]:
    """Each indicator of the evaluation's tree with its panelists' average (leaves) — the
    rows of the evaluation form."""
    indicators = list(evaluation.tree.indicators.all())
    sums: dict[int, list[Decimal]] = {}
    for score in evaluation.scores.all():
        sums.setdefault(score.indicator_id, []).append(score.score)
    parents = {i.parent_id for i in indicators if i.parent_id}
    return [
        {
            "id": i.pk,
            "parent_id": i.parent_id,
            "name": i.name,
            "weight": i.weight,
            "leaf": i.pk not in parents,
            "scores": len(sums.get(i.pk, [])),
            "average": (sum(sums[i.pk]) / len(sums[i.pk])).quantize(Decimal("0.01"))
            if sums.get(i.pk)
            else None,
        }
        for i in indicators
    ]

"""Project pages: the list (counts by focus and stage, F29; filters; Excel export), a
project's page (life-cycle timeline, budget against what was paid, KPIs against the
reported outputs, objections, reports, supervision, evaluations with evidence), and the
evidence download. The life-cycle steps and evaluations are written through the API
(``/api/v1/projects/…``) and its services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.core.xlsx import xlsx_response
from shegong.projects.api import evidence_response
from shegong.projects.models import EvidenceFile, Focus, Project, Stage
from shegong.projects.selectors import (
    budget_vs_spent,
    evaluation_results,
    kpis_vs_reported,
    project_counts,
    project_list,
    project_timeline,
)
from shegong.projects.services import STEPS, agency_flags_open

PAGE_SIZE = 50


def _filters(request) -> dict:
    get = request.GET
    try:
        year = int(get.get("year", "")) or None
    except ValueError:
        year = None
    try:
        agency = int(get.get("agency", "")) or None
    except ValueError:
        agency = None
    return {
        "focus": get.get("focus", "") if get.get("focus", "") in Focus.values else "",
        "stage": get.get("stage", "") if get.get("stage", "") in Stage.values else "",
        "area": get.get("area", "").strip()[:12],
        "year": year,
        "agency": agency,
        "q": get.get("q", "").strip()[:100],
    }


@require_GET
@login_required
@permission_required_or_403("projects.view_project")
def project_list_view(request):
    """Projects the user sees, filtered and paginated, with counts by focus and stage."""
    filters = _filters(request)
    projects = project_list(user=request.user, **filters)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            "projects.xlsx",
            str(_("Projects")),
            [
                _("Project code"),
                _("Name"),
                _("Focus"),
                _("Stage"),
                _("Area"),
                _("Purchasing facility"),
                _("Contracted agency"),
                _("Start"),
                _("End"),
                _("Budget (yuan)"),
            ],
            (
                (
                    p.code,
                    p.name,
                    p.get_focus_display(),
                    p.get_stage_display(),
                    p.area.name,
                    p.purchaser.name,
                    p.agency.name if p.agency else "",
                    p.starts_on,
                    p.ends_on,
                    float(p.budget),
                )
                for p in projects.iterator(chunk_size=2000)
            ),
        )
    counts = project_counts(user=request.user, year=filters["year"], area=filters["area"])
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "projects/list.html",
        {
            "page": page,
            "filters": filters,
            "counts": counts,
            "focus_rows": [(f, Focus(f).label, n) for f, n in counts["by_focus"].items()],
            "stage_rows": [(s, Stage(s).label, n) for s, n in counts["by_stage"].items() if n],
            "focuses": Focus.choices,
            "stages": Stage.choices,
            "query": "&".join(f"{k}={v}" for k, v in query.items()),
        },
    )


@require_GET
@login_required
@permission_required_or_403("projects.view_project")
def project_detail(request, pk: int):
    """One project through its life cycle."""
    project = get_scoped_or_404(
        Project.objects.select_related("area", "purchaser", "agency"), request.user, VIEW, pk=pk
    )
    evaluations = [
        (evaluation, evaluation_results(evaluation))
        for evaluation in project.evaluations.select_related("tree")
        .prefetch_related("scores", "fixes", "evidence")
        .order_by("evaluated_on", "pk")
    ]
    next_steps = [
        (name, step.target)
        for name, step in STEPS.items()
        if project.stage in step.sources and request.user.has_perm(step.perm)
    ]
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "timeline": project_timeline(project=project),
            "money": budget_vs_spent(project=project),
            "kpis": kpis_vs_reported(project=project),
            "objections": project.objections.order_by("received_on", "pk"),
            "reports": project.reports.order_by("-month")[:24],
            "supervisions": project.supervisions.order_by("-visited_on", "pk"),
            "evaluations": evaluations,
            "flags": agency_flags_open(project.agency) if project.agency else [],
            "next_stages": [Stage(target).label for _name, target in next_steps],
        },
    )


@login_required
@require_GET
def evidence_download(request, pk: int):
    """Stream an evidence file to a user who sees its project (404 for everyone else)."""
    evidence = get_scoped_or_404(EvidenceFile, request.user, VIEW, pk=pk)
    return evidence_response(evidence)

"""Pages of the frame: home, the audit trail, error pages."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from shegong.core.audit import audit_verify
from shegong.core.models import AuditEvent, ImportJob
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.geo.selectors import division_counts


@require_GET
@login_required
def home(request):
    """The user's home page: who they are and the division they work in; for front-line
    casework roles, a panel of today's casework (the full list is ``casework:home``)."""
    division = request.user.division
    context = {"division": division, "counts": division_counts(division=division)}
    if request.user.has_perm("casework.view_servicerecord"):
        from shegong.casework.selectors.home import worker_home

        context["casework"] = worker_home(request.user)
    response = render(request, "core/home.html", context)
    if "casework" in context:
        response["Cache-Control"] = "no-store"  # names of residents (security.md 14)
    return response


@require_GET
@login_required
@permission_required_or_403("core.view_auditevent")
def audit_list(request):
    """The audit trail, newest first, filtered by action, user and outcome."""
    events = AuditEvent.objects.restrict(request.user, "view")
    action = request.GET.get("action", "").strip()
    username = request.GET.get("user", "").strip()
    outcome = request.GET.get("outcome", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    if username:
        events = events.filter(actor_username=username)
    if outcome in AuditEvent.Outcome.values:
        events = events.filter(outcome=outcome)
    page = Paginator(events.order_by("-seq"), 50).get_page(request.GET.get("page"))
    report = audit_verify() if request.GET.get("verify") == "1" else None
    return render(
        request,
        "core/audit_list.html",
        {
            "page": page,
            "filters": {"action": action, "user": username, "outcome": outcome},
            "outcomes": AuditEvent.Outcome.choices,
            "report": report,
        },
    )


@require_GET
@login_required
def job_detail(request, pk: int):
    """A background import job: its progress while it runs (htmx polls this page), then
    its report with every bad row. Only its creator (and a city administrator) sees it."""
    job = get_scoped_or_404(ImportJob.objects.defer("data"), request.user, VIEW, pk=pk)
    template = "core/job.html#job" if request.headers.get("HX-Request") else "core/job.html"
    return render(request, template, {"job": job})


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_500(request):
    return render(request, "errors/500.html", status=500)

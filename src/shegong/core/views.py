"""Pages of the frame: home, the audit trail, import jobs and their result files, error
pages, and the upload step every import page shares."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shegong.core.audit import audit_record
from shegong.core.forms import UploadForm
from shegong.core.jobs import job_result
from shegong.core.models import ImportJob
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.core.xlsx import MAX_IMPORT_ROWS, MAX_UPLOAD_BYTES, xlsx_bytes_response
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
    """The audit trail, newest first, in words: filters, sorting, Excel (a declared list,
    ``core.list_pages``); the id-walking alert and the chain check above it."""
    from shegong.core.list_pages import audit_list_page

    return audit_list_page(request)


@require_GET
@login_required
def job_detail(request, pk: int):
    """A background import job: its progress while it runs (htmx polls this page), then
    its report with every bad row. Only its creator (and a city administrator) sees it."""
    job = get_scoped_or_404(ImportJob.objects.defer("data"), request.user, VIEW, pk=pk)
    template = "core/job.html#job" if request.headers.get("HX-Request") else "core/job.html"
    return render(request, template, {"job": job})


@require_GET
@login_required
def job_result_download(request, pk: int):
    """The file a job gave back (e.g. the one-time set-password links of new users): for
    the job's creator only, while it is kept; every download audited."""
    job = get_scoped_or_404(ImportJob.objects.defer("data"), request.user, VIEW, pk=pk)
    data = job_result(job) if job.created_by_id == request.user.pk else None
    if data is None:
        raise Http404
    audit_record(actor=request.user, action="import_job.result_download", target=job)
    return xlsx_bytes_response(job.result_name or f"job-{job.pk}.xlsx", data)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_500(request):
    return render(request, "errors/500.html", status=500)


def start_import(request, form, kind: str):
    """Queue the upload of a valid ``UploadForm`` as an import job of ``kind`` and send the
    user to the job's page; on a refusal (not .xlsx, too large, role) the form says why and
    None is returned."""
    from shegong.core.forms import add_service_errors
    from shegong.core.tasks import import_start

    upload = form.cleaned_data["file"]
    if upload.size > MAX_UPLOAD_BYTES:
        form.add_error("file", _("The file is larger than 20 MB."))
        return None
    try:
        job = import_start(
            actor=request.user,
            kind=kind,
            filename=upload.name or "",
            data=upload.read(MAX_UPLOAD_BYTES + 1),
            origin=request.build_absolute_uri("/").rstrip("/"),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None
    return redirect("core:job", pk=job.pk)


def recent_jobs(user, *kinds: str):
    """The user's own last ten imports of these kinds."""
    return (
        ImportJob.objects.restrict(user, VIEW)
        .filter(kind__in=kinds, created_by=user)
        .defer("data", "result")
        .order_by("-created_at")[:10]
    )


def import_page(
    request,
    *,
    kinds: dict[str, tuple[str, str]],
    title: str,
    intro: str,
    templates: list[tuple[str, str]],
    columns: dict[str, str] | None = None,
):
    """The page of an import: upload a file of one of ``kinds`` (key → (job kind, label)),
    queued as a background job (``start_import``); the templates to download, the caps,
    the user's recent imports. Every import page is this one."""
    choices = [(key, label) for key, (_kind, label) in kinds.items()] if len(kinds) > 1 else None
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        kinds=choices,
        initial={"kind": next(iter(kinds))},
    )
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data.get("kind") or next(iter(kinds))
        started = start_import(request, form, kinds[key][0])
        if started is not None:
            return started
    return render(
        request,
        "core/import_page.html",
        {
            "form": form,
            "title": title,
            "intro": intro,
            "templates": templates,
            "columns": columns,
            "jobs": recent_jobs(request.user, *(kind for kind, _label in kinds.values())),
            "max_rows": MAX_IMPORT_ROWS,
        },
    )


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on their own: the platform's icon is an SVG (its static
    address is looked up per request: the hashed name exists only after collectstatic)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))

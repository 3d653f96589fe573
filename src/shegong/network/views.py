"""Network pages: the dashboard (coverage, compliance, map, trend, drill-down), facility
list and facility page. Staffing figures come from the workforce app's selectors."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from shegong.core.forms import add_service_errors
from shegong.core.permissions import MissingPermission, permission_required_or_403
from shegong.core.roles import MANAGED_TIERS, SUPERVISING_TIER
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.core.views import import_page
from shegong.core.xlsx import XLSX_CONTENT_TYPE, xlsx_response
from shegong.geo.models import Level
from shegong.geo.selectors import division_in_scope_or_404
from shegong.network import services
from shegong.network.forms import (
    FacilityCreateForm,
    FacilityEditForm,
    OrganisationForm,
    PostingForm,
    ResolveForm,
    StandardEndForm,
    StandardForm,
    StatusForm,
    VisitForm,
)
from shegong.network.io import facility_template
from shegong.network.lists import (
    facility_list_page,
    organisation_list_page,
    standard_list_page,
)
from shegong.network.models import (
    Facility,
    FacilityStatus,
    RequiredFix,
    StaffingStandard,
    Tier,
)
from shegong.network.selectors import (
    coverage,
    coverage_by_child,
    coverage_trend,
)
from shegong.network.tasks import FACILITY_IMPORT_KIND
from shegong.workforce.selectors import (
    compliance,
    full_time_postings_on,
    standard_kind,
    standards_on,
)


def _as_of(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        return timezone.localdate()


def _dashboard_figures(request):
    """What the dashboard and its Excel export show: the division in scope, the date, its
    coverage and compliance, and one row per child division."""
    division = division_in_scope_or_404(user=request.user, code=request.GET.get("division"))
    as_of = _as_of(request)
    comp = compliance(division=division, as_of=as_of)
    children = coverage_by_child(user=request.user, division=division, as_of=as_of)
    for row in children:
        row["compliance"] = (
            comp.by_county.get(row["code"]) if row["level"] == Level.COUNTY else None
        )
    return division, as_of, comp, children


def _share_row(row) -> dict:
    return {
        "code": row["code"],
        "name": row["name"],
        "value": round(row["room_share"] * 100, 1),
        "rooms": row["rooms"],
        "communities": row["communities"],
    }


@require_GET
@login_required
@permission_required_or_403("network.view_facility")
def dashboard(request):
    """Coverage and compliance of the user's division (or a division in scope) on a date.
    The city sees its counties on the map; a county sees itself alone on the map, zoomed,
    and its towns ranked beside it (there are no town outlines)."""
    if request.GET.get("format") == "xlsx":
        return dashboard_export(request)
    division, as_of, comp, children = _dashboard_figures(request)
    cov = coverage(division=division, as_of=as_of)
    start = date(2017, 1, 1) if as_of.year >= 2017 else date(as_of.year - 3, 1, 1)
    trend = coverage_trend(division=division, start=start, end=as_of)
    map_data = [_share_row(row) for row in children if row["level"] == Level.COUNTY]
    focus = ""
    ranked = []
    if division.level == Level.COUNTY:  # the county alone, zoomed; its towns ranked
        focus = division.code
        map_data = [
            {
                "code": division.code,
                "name": division.name,
                "value": round(cov.room_share * 100, 1),
                "rooms": cov.rooms,
                "communities": cov.communities,
            }
        ]
        ranked = sorted(
            (_share_row(row) for row in children if row["level"] == Level.TOWN),
            key=lambda row: (-row["value"], -row["rooms"]),
        )
    rooms = {}
    if division.level == Level.TOWN:  # link each community to its room's page
        rooms = dict(
            Facility.objects.restrict(request.user, VIEW)
            .filter(tier=Tier.ROOM, division__code__startswith=division.code)
            .exclude(status=FacilityStatus.CLOSED)
            .values_list("division__code", "pk")
        )
    for row in children:
        row["room_id"] = rooms.get(row["code"])
    return render(
        request,
        "network/dashboard.html",
        {
            "division": division,
            "as_of": as_of,
            "coverage": cov,
            "compliance": comp,
            "children": children,
            "chart_data": {"map": map_data, "focus": focus, "towns": ranked, "trend": trend},
            "show_map": bool(map_data),
            "towns_ranked": bool(ranked),
            "facilities_here": Facility.objects.restrict(request.user, VIEW)
            .filter(division=division)
            .exclude(status=FacilityStatus.CLOSED)
            .select_related("division"),
        },
    )


@require_GET
@login_required
@permission_required_or_403("network.view_facility")
def dashboard_export(request):
    """The dashboard's table below the division, with compliance per county, as .xlsx."""
    division, as_of, _comp, children = _dashboard_figures(request)
    return dashboard_xlsx(division, as_of, children)


@require_GET
@login_required
@permission_required_or_403("network.view_facility")
def facility_list_view(request):
    """Facilities in scope: search, filters, sorting, pagination, Excel (a declared list,
    ``network.lists``)."""
    return facility_list_page(request)


@require_GET
@login_required
def facility_detail(request, pk: int):
    """One facility: status history, checklist, staff against standard, supervision."""
    facility = get_scoped_or_404(
        Facility.objects.select_related("division", "operator"), request.user, VIEW, pk=pk
    )
    today = timezone.localdate()
    standard = standards_on(today).get(
        (facility.tier, standard_kind(facility.tier, facility.division.kind))
    )
    postings = (
        full_time_postings_on(today).filter(facility=facility).select_related("worker")
        if request.user.has_perm("workforce.view_posting")
        else None
    )
    full_time = full_time_postings_on(today).filter(facility=facility).count()
    from shegong.network.models import CHECKLIST_ITEMS

    checklist = [
        (
            label,
            facility.checklist.get(key, {}).get("done", False),
            facility.checklist.get(key, {}).get("note", ""),
        )
        for key, label in CHECKLIST_ITEMS.items()
    ]
    return render(
        request,
        "network/facility_detail.html",
        {
            "facility": facility,
            "periods": facility.periods.order_by("valid_from"),
            "checklist": checklist,
            "standard": standard,
            "full_time": full_time,
            "meets": standard is not None and full_time >= standard.min_full_time,
            "postings": postings,
            "visits_made": facility.visits_made.select_related("supervised").prefetch_related(
                "fixes"
            )[:20],
            "can_manage": _manages(request.user, facility)
            and request.user.has_perm("network.change_facility"),
            "can_post": request.user.has_perm("workforce.add_posting"),
            "can_visit": SUPERVISING_TIER.get(request.user.role) == facility.tier,
            "visits_received": facility.visits_received.select_related(
                "supervisor"
            ).prefetch_related("fixes")[:20],
        },
    )


# --- forms ------------------------------------------------------------------------------------


def _manages(user, facility: Facility) -> bool:
    return facility.tier in MANAGED_TIERS.get(user.role, ())


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("network.add_facility")
def facility_create_view(request):
    """Create a facility in a tier the user manages, in their area."""
    form = FacilityCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            facility = services.facility_create(
                actor=request.user,
                tier=data["tier"],
                division=data["division"],
                name=data["name"],
                status=data["status"],
                status_from=data["status_from"],
                operator_kind=data["operator_kind"],
                operator=data["operator"],
                address=data["address"],
                phone=data["phone"],
                checklist=form.checklist(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The facility was created."))
            return redirect("network:facility", pk=facility.pk)
    return render(request, "network/facility_form.html", {"form": form, "title": _("New facility")})


@login_required
@require_http_methods(["GET", "POST"])
def facility_edit_view(request, pk: int):
    """Edit a facility's details (a concurrent edit is detected and refused)."""
    facility = get_scoped_or_404(Facility, request.user, CHANGE, pk=pk)
    if not _manages(request.user, facility):
        raise PermissionDenied
    form = FacilityEditForm(request.POST or None, user=request.user, facility=facility)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.facility_update(
                actor=request.user,
                facility=facility,
                version=data["version"],
                name=data["name"],
                operator_kind=data["operator_kind"],
                operator=data["operator"],
                address=data["address"],
                phone=data["phone"],
                checklist=form.checklist(),
            )
        except services.ConflictError as exc:
            form.add_error(None, str(exc))
            response = render(
                request,
                "network/facility_form.html",
                {"form": form, "facility": facility, "title": _("Edit facility")},
                status=409,
            )
            return response
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The facility was saved."))
            return redirect("network:facility", pk=facility.pk)
    return render(
        request,
        "network/facility_form.html",
        {"form": form, "facility": facility, "title": _("Edit facility")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def facility_status_view(request, pk: int):
    """Change a facility's status from a date."""
    facility = get_scoped_or_404(Facility, request.user, CHANGE, pk=pk)
    if not _manages(request.user, facility):
        raise PermissionDenied
    form = StatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.facility_change_status(
                actor=request.user,
                facility=facility,
                status=form.cleaned_data["status"],
                effective_on=form.cleaned_data["effective_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The status was changed."))
            return redirect("network:facility", pk=facility.pk)
    return render(
        request,
        "network/simple_form.html",
        {"form": form, "facility": facility, "title": _("Change status"), "confirm": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("workforce.add_posting")
def posting_create_view(request, pk: int):
    """Post a registered social worker (found by exact national ID) to this facility."""
    from shegong.workforce.services import posting_create, social_worker_find_by_national_id

    facility = get_scoped_or_404(Facility, request.user, VIEW, pk=pk)
    form = PostingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        worker = social_worker_find_by_national_id(
            user=request.user, national_id=form.cleaned_data["national_id"]
        )
        if worker is None:
            form.add_error(
                "national_id", _("No social worker with this ID is registered in your area.")
            )
        else:
            try:
                posting_create(
                    actor=request.user,
                    worker=worker,
                    facility=facility,
                    employment=form.cleaned_data["employment"],
                    started_on=form.cleaned_data["started_on"],
                    post_type=form.cleaned_data["post_type"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The posting was recorded."))
                return redirect("network:facility", pk=facility.pk)
    response = render(
        request,
        "network/simple_form.html",
        {"form": form, "facility": facility, "title": _("Post a social worker")},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("network.add_supervisionvisit")
def visit_create_view(request, pk: int):
    """Record a visit of this station or centre to a facility it supervises."""
    supervisor = get_scoped_or_404(Facility, request.user, VIEW, pk=pk)
    if SUPERVISING_TIER.get(request.user.role) != supervisor.tier:
        raise PermissionDenied
    child_tier = Tier.STATION if supervisor.tier == Tier.CENTRE else Tier.ROOM
    supervised = (
        Facility.objects.restrict(request.user, VIEW)
        .filter(tier=child_tier, division__code__startswith=supervisor.division.code)
        .exclude(status=FacilityStatus.CLOSED)
        .select_related("division")
    )
    form = VisitForm(request.POST or None, supervised_choices=[(f.pk, f.name) for f in supervised])
    if request.method == "POST" and form.is_valid():
        fixes = form.fixes()
        if form.is_valid():
            try:
                services.supervision_visit_create(
                    actor=request.user,
                    supervisor=supervisor,
                    supervised=supervised.get(pk=form.cleaned_data["supervised"]),
                    visited_on=form.cleaned_data["visited_on"],
                    visitors=form.cleaned_data["visitors"],
                    findings=form.cleaned_data["findings"],
                    fixes=fixes,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The visit was recorded."))
                return redirect("network:facility", pk=supervisor.pk)
    return render(
        request,
        "network/simple_form.html",
        {"form": form, "facility": supervisor, "title": _("Record a supervision visit")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def fix_resolve_view(request, pk: int):
    """Record the follow-up of a required fix."""
    fix = get_scoped_or_404(
        RequiredFix.objects.select_related("visit__supervisor"), request.user, CHANGE, pk=pk
    )
    form = ResolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.required_fix_resolve(actor=request.user, fix=fix, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The fix was recorded as done."))
            return redirect("network:facility", pk=fix.visit.supervisor_id)
    return render(
        request,
        "network/simple_form.html",
        {"form": form, "facility": fix.visit.supervisor, "title": fix.description},
    )


def _with_current(standards) -> list:
    """The versions, each marked ``current`` if it is the latest of its tier and kind and
    has not ended (the one that may be ended)."""
    rows = list(standards)
    latest: dict[tuple, StaffingStandard] = {}
    for standard in rows:
        key = (standard.tier, standard.division_kind)
        if key not in latest or standard.effective_from > latest[key].effective_from:
            latest[key] = standard
    for standard in rows:
        standard.current = (
            latest[(standard.tier, standard.division_kind)] is standard
            and standard.ended_on is None
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("network.view_staffingstandard")
def standards_view(request):
    """All versions of the staffing standard; the city administrator adds new ones and ends
    the one in force of a tier and kind (from a date, with the reason)."""
    can_add = request.user.has_perm("network.add_staffingstandard")
    can_end = request.user.has_perm("network.change_staffingstandard")
    posted = request.POST.get("form") if request.method == "POST" else None
    form = StandardForm(request.POST if posted == "add" else None) if can_add else None
    end_form = StandardEndForm(request.POST if posted == "end" else None) if can_end else None
    if request.method == "POST":
        if (posted == "add" and not can_add) or (posted == "end" and not can_end):
            raise MissingPermission(
                "network.add_staffingstandard"
                if posted == "add"
                else "network.change_staffingstandard"
            )
        if posted == "add" and form.is_valid():
            try:
                services.staffing_standard_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The new version was added."))
                return redirect("network:standards")
        elif posted == "end" and end_form.is_valid():
            data = end_form.cleaned_data
            standard = get_scoped_or_404(StaffingStandard, request.user, VIEW, pk=data["standard"])
            try:
                services.staffing_standard_end(
                    actor=request.user,
                    standard=standard,
                    ended_on=data["ended_on"],
                    reason=data["reason"],
                )
            except ValidationError as exc:
                add_service_errors(end_form, exc)
            else:
                messages.success(request, _("The version was ended."))
                return redirect("network:standards")
        elif posted not in ("add", "end"):
            raise PermissionDenied
    request.standard_form = form
    request.standard_end_form = end_form
    request.standards_current = [
        s for s in _with_current(StaffingStandard.objects.restrict(request.user, VIEW)) if s.current
    ]
    return standard_list_page(request)


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("network.view_socialorganisation")
def organisations_view(request):
    """Social organisations in scope, searchable; registering a new one."""
    can_add = request.user.has_perm("network.add_socialorganisation")
    form = OrganisationForm(request.POST or None, user=request.user) if can_add else None
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "division_code"}
            station = None
            if data.get("incubation_stage"):
                station = (
                    Facility.objects.restrict(request.user, VIEW)
                    .filter(tier=Tier.STATION, division=request.user.division)
                    .exclude(status=FacilityStatus.CLOSED)
                    .first()
                )
            try:
                services.organisation_create(actor=request.user, incubating_station=station, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The organisation was registered."))
                return redirect("network:organisations")
    request.organisation_form = form
    return organisation_list_page(request)


# --- Excel ------------------------------------------------------------------------------------


def dashboard_xlsx(division, as_of, children):
    """The dashboard's drill-down table with compliance per county."""
    headers = [
        _("Code"),
        _("Division"),
        _("Centre"),
        _("Stations / towns"),
        _("Rooms"),
        _("Communities"),
        _("Coverage"),
        _("Fully covered"),
        _("Meeting standard"),
        _("Gap"),
    ]
    rows = []
    for row in children:
        c = row.get("compliance") or {}
        rows.append(
            [
                row["code"],
                row["name"],
                row["centres"],
                f"{row['stations']}/{row['towns']}",
                row["rooms"],
                row["communities"],
                round(row["room_share"] * 100, 1),
                "✓" if row["fully_covered"] else "",
                c.get("meeting", ""),
                c.get("gap", ""),
            ]
        )
    name = f"coverage-{division.code}-{as_of:%Y%m%d}.xlsx"
    return xlsx_response(name, str(_("Coverage")), headers, rows)


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("network.add_facility")
def import_view(request):
    """Upload facilities or postings (.xlsx): the import runs in the background and its page
    (``core:job``) shows the progress, then every bad row (nothing is written if any)."""
    from shegong.workforce.tasks import POSTING_IMPORT_KIND

    return import_page(
        request,
        kinds={
            "facilities": (FACILITY_IMPORT_KIND, _("Facilities")),
            "postings": (POSTING_IMPORT_KIND, _("Postings")),
        },
        title=_("Import from Excel"),
        intro=_(
            "Fill in a template and upload it. The whole file is checked first: if any row is "
            "wrong, nothing is imported and every wrong row is listed. Rows already imported "
            "are left as they are."
        ),
        templates=[
            (
                reverse("network:import_template", args=["facilities"]),
                _("Facilities template"),
            ),
            (reverse("network:import_template", args=["postings"]), _("Postings template")),
        ],
    )


@login_required
@require_GET
@permission_required_or_403("network.add_facility")
def import_template_view(request, kind: str):
    """The template sheet for an import."""
    from shegong.workforce.io import posting_template

    if kind == "facilities":
        data, name = facility_template(), "facilities-template.xlsx"
    elif kind == "postings":
        data, name = posting_template(), "postings-template.xlsx"
    else:
        raise Http404
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

"""Network pages: the dashboard (coverage, compliance, map, trend, drill-down), facility
list and facility page. Staffing figures come from the workforce app's selectors."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.geo.models import Level
from shegong.geo.selectors import division_by_code
from shegong.network.models import Facility, FacilityStatus, OperatorKind, Tier
from shegong.network.selectors import (
    coverage,
    coverage_by_child,
    coverage_trend,
    facility_list,
)
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


def _division(request):
    code = request.GET.get("division") or request.user.division.code
    division = division_by_code(user=request.user, code=code)
    if division is None:
        raise Http404
    return division


@require_GET
@login_required
@permission_required_or_403("network.view_facility")
def dashboard(request):
    """Coverage and compliance of the user's division (or a division in scope) on a date."""
    division = _division(request)
    as_of = _as_of(request)
    cov = coverage(division=division, as_of=as_of)
    comp = compliance(division=division, as_of=as_of)
    children = coverage_by_child(user=request.user, division=division, as_of=as_of)
    start = date(2017, 1, 1) if as_of.year >= 2017 else date(as_of.year - 3, 1, 1)
    trend = coverage_trend(division=division, start=start, end=as_of)
    map_data = [
        {
            "code": row["code"],
            "name": row["name"],
            "value": round(row["room_share"] * 100, 1),
            "rooms": row["rooms"],
            "communities": row["communities"],
        }
        for row in children
        if row["level"] == Level.COUNTY
    ]
    if division.level == Level.COUNTY:  # the county alone, coloured on the city's map
        map_data = [
            {
                "code": division.code,
                "name": division.name,
                "value": round(cov.room_share * 100, 1),
                "rooms": cov.rooms,
                "communities": cov.communities,
            }
        ]
    rooms = {}
    if division.level == Level.TOWN:  # link each community to its room's page
        rooms = dict(
            Facility.objects.restrict(request.user, VIEW)
            .filter(tier=Tier.ROOM, division__code__startswith=division.code)
            .exclude(status=FacilityStatus.CLOSED)
            .values_list("division__code", "pk")
        )
    for row in children:
        row["compliance"] = (
            comp.by_county.get(row["code"]) if row["level"] == Level.COUNTY else None
        )
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
            "chart_data": {"map": map_data, "trend": trend},
            "show_map": bool(map_data),
            "facilities_here": Facility.objects.restrict(request.user, VIEW)
            .filter(division=division)
            .exclude(status=FacilityStatus.CLOSED),
        },
    )


@require_GET
@login_required
@permission_required_or_403("network.view_facility")
def facility_list_view(request):
    """Facilities in scope with filters, search and pagination."""
    filters = {
        "tier": request.GET.get("tier") if request.GET.get("tier") in Tier.values else None,
        "status": request.GET.get("status")
        if request.GET.get("status") in FacilityStatus.values
        else None,
        "operator": request.GET.get("operator")
        if request.GET.get("operator") in OperatorKind.values
        else None,
        "division": (request.GET.get("division") or "").strip() or None,
        "query": (request.GET.get("q") or "").strip() or None,
    }
    page = Paginator(facility_list(user=request.user, **filters), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "network/facility_list.html",
        {
            "page": page,
            "filters": filters,
            "tiers": Tier.choices,
            "statuses": FacilityStatus.choices,
            "operators": OperatorKind.choices,
        },
    )


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
            "visits_received": facility.visits_received.select_related(
                "supervisor"
            ).prefetch_related("fixes")[:20],
        },
    )

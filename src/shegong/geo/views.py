"""Pages for browsing divisions: drill down, counts, search."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from shegong.core.scoping import record_refusal
from shegong.geo.models import Division
from shegong.geo.selectors import (
    division_by_code,
    division_child_counts,
    division_children,
    division_counts,
    division_history,
    division_search,
)


@require_GET
@login_required
def division_browser(request):
    """Start browsing at the user's own division."""
    return redirect("geo:detail", code=request.user.division.code)


@require_GET
@login_required
def division_detail(request, code: str):
    """One division: counts below it, its children (with their own counts), its history."""
    division = division_by_code(user=request.user, code=code)
    if division is None:
        record_refusal(request.user, Division, {"code": code})
        raise Http404
    if division.code != code:
        return redirect("geo:detail", code=division.code)
    scope = request.user.scope_prefix
    ancestors = [
        (d, d.code.startswith(scope))
        for d in Division.objects.filter(code__in=division.ancestor_codes()).order_by("code")
        if not d.is_grouping
    ]
    page = Paginator(division_children(user=request.user, division=division), 100).get_page(
        request.GET.get("page")
    )
    children = list(page.object_list)
    child_counts = division_child_counts(divisions=children)
    rows = [(child, child_counts.get(child.pk, {})) for child in children]
    return render(
        request,
        "geo/division_detail.html",
        {
            "division": division,
            "ancestors": ancestors,
            "counts": division_counts(division=division),
            "page": page,
            "rows": rows,
            "history": division_history(division=division),
        },
    )


@require_GET
@login_required
def division_search_view(request):
    """Search divisions in scope by name or code (a partial for htmx, or a whole page)."""
    query = request.GET.get("q", "") or request.GET.get("division_code", "")
    results = list(division_search(user=request.user, query=query))
    template = "geo/division_search.html"
    if request.headers.get("HX-Request"):
        # a division picker's datalist (core's DivisionPickerInput), or the search results
        template += "#options" if "division_code" in request.GET else "#results"
    return render(request, template, {"query": query, "results": results})

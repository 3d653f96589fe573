"""Pages: the front-line worker's home, service-record entry (mobile-first), the list of
service records with its export, and the statistics of person-times (issue #6)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from shegong.casework import privacy
from shegong.casework.lists.records import record_list_page
from shegong.casework.models import (
    Case,
    Resident,
    ServiceDomain,
    ServiceMethod,
    ServiceRecord,
    SpecialGroup,
)
from shegong.casework.selectors.home import recent_residents, worker_home
from shegong.casework.selectors.records import (
    facilities_for,
    with_recipients,
)
from shegong.casework.selectors.stats import raw_person_times
from shegong.casework.services.records import PROJECT_DELIVERY_STAGES, service_record_create
from shegong.core.forms import BoundedForm, DateInput, add_service_errors
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.core.xlsx import xlsx_response
from shegong.geo.models import Division
from shegong.geo.selectors import division_in_scope_or_404

PAGE_SIZE = 50

# --- the worker's home ----------------------------------------------------------------------


@require_GET
@login_required
@permission_required_or_403("casework.view_servicerecord")
def home(request):
    """The front-line worker's day: follow-ups, review reminders, overdue referrals on
    both sides, recent residents, and the big "record a home visit" button."""
    context = worker_home(request.user)
    context["resident_links"] = has_resident_page()
    return privacy.no_store(render(request, "casework/home.html", context))


def has_resident_page() -> bool:
    """``casework:resident`` belongs to the residents part; link to it when it exists."""
    try:
        reverse("casework:resident", kwargs={"pk": 1})
    except NoReverseMatch:
        return False
    return True


def _after_save_url(record: ServiceRecord, resident_ids: list[int]) -> str:
    """One resident served: their page, the new entry heading its timeline."""
    if len(resident_ids) == 1:
        try:
            url = reverse("casework:resident", kwargs={"pk": resident_ids[0]})
        except NoReverseMatch:
            pass
        else:
            return f"{url}?new={record.pk}"
    return reverse("casework:records")


# --- recording a service ------------------------------------------------------------------


class RecordForm(BoundedForm):
    """The service-record form. Residents come from one-tap chips (recent residents, or
    the one the page was opened for) or from the list of residents in the user's area; the
    service checks each is in scope."""

    resident = forms.IntegerField(required=False, widget=forms.HiddenInput)
    other_resident = forms.IntegerField(
        label=gettext_lazy("Another resident"),
        required=False,
        widget=forms.Select,
        help_text=gettext_lazy("Name, pinyin initials (wj) or the last 4 ID characters"),
    )
    headcount = forms.IntegerField(
        label=gettext_lazy("Head-count (not registered)"), min_value=0, initial=0, required=False
    )
    served_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=ServiceMethod.choices)
    domain = forms.ChoiceField(label=gettext_lazy("Domain"), choices=ServiceDomain.choices)
    facility = forms.TypedChoiceField(label=gettext_lazy("Facility"), coerce=int)
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), min_value=1, max_value=1440, initial=30
    )
    place = forms.CharField(label=gettext_lazy("Place"), required=False, max_length=200)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    target_group = forms.ChoiceField(
        label=gettext_lazy("Target group"),
        required=False,
        choices=[("", gettext_lazy("From the resident's status")), *SpecialGroup.choices],
    )
    project = forms.TypedChoiceField(
        label=gettext_lazy("Project"), required=False, coerce=int, empty_value=None
    )
    poverty_alleviation = forms.BooleanField(
        label=gettext_lazy("Poverty-alleviation service"), required=False
    )
    case = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].choices = [
            (f.pk, f.name) for f in facilities_for(user).only("id", "name", "division")
        ]
        # The picker (tom-select) fills the options by searching; the one chosen is kept
        # when the form comes back with errors.
        chosen = self.data.get("other_resident") if self.is_bound else None
        picked = []
        if chosen and str(chosen).isdigit():
            picked = list(
                Resident.objects.restrict(user, VIEW)
                .filter(pk=int(chosen), anonymised_at__isnull=True)
                .values_list("pk", "name")
            )
        self.fields["other_resident"].widget.choices = picked
        self.fields["other_resident"].widget.attrs.update(
            {
                "data-picker-url": reverse("casework:resident_pick"),
                "data-testid": "resident-picker",
                "data-no-results": _("No resident found in your area."),
                "data-placeholder": _("Search by name, initials or ID"),
                "autocomplete": "off",
            }
        )
        from shegong.projects.models import Project

        projects = (
            Project.objects.restrict(user, VIEW)
            .filter(stage__in=PROJECT_DELIVERY_STAGES)
            .order_by("code")
            .values_list("pk", "name")[:200]
        )
        self.fields["project"].choices = [("", "—"), *list(projects)]


def _defaults(user) -> dict:
    """Today, a home visit, the domain the user recorded last, and the user's own room."""
    last_domain = (
        ServiceRecord.objects.filter(recorded_by=user)
        .order_by("-id")
        .values_list("domain", flat=True)
        .first()
    )
    facilities = facilities_for(user)
    own = facilities.filter(division=user.division).order_by("-tier").first() or facilities.first()
    return {
        "served_on": timezone.localdate(),
        "method": ServiceMethod.VISIT,
        "domain": last_domain or ServiceDomain.SOCIAL_SUPPORT,
        "facility": own.pk if own else None,
        "duration_minutes": 30,
        "headcount": 0,
    }


def _int_param(request, name: str) -> int | None:
    try:
        return int(request.GET.get(name, ""))
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_servicerecord")
def record_new(request):
    """Record a service on a phone: one column, big touch targets, sensible defaults
    (today, home visit, last domain, own room), recent residents as one-tap chips;
    ``?resident=`` and ``?case=`` preset who and which case."""
    user = request.user
    chips = recent_residents(user)
    preset_case = None
    case_id = _int_param(request, "case") if request.method == "GET" else None
    if request.method == "POST":
        try:
            case_id = int(request.POST.get("case") or 0) or None
        except ValueError:
            case_id = None
    if case_id:
        preset_case = get_scoped_or_404(
            Case.objects.select_related("resident", "facility__division"), user, VIEW, pk=case_id
        )
        if not privacy.may_open(user, preset_case):
            raise PermissionDenied
    preset_resident = None
    resident_id = _int_param(request, "resident")
    if preset_case is not None:
        preset_resident = preset_case.resident
    elif resident_id:
        preset_resident = get_scoped_or_404(Resident, user, VIEW, pk=resident_id)
        if not privacy.may_open(user, preset_resident):
            raise PermissionDenied
    if preset_resident is not None and all(c["id"] != preset_resident.pk for c in chips):
        chips = [{"id": preset_resident.pk, "name": preset_resident.name}, *chips]
    if request.method == "POST":
        form = RecordForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            chosen = data["other_resident"] or data["resident"]
            ids = [chosen] if chosen else []
            project = None
            if data["project"]:
                from shegong.projects.models import Project

                project = get_scoped_or_404(Project, user, VIEW, pk=data["project"])
            facility = get_scoped_or_404(facilities_for(user), user, VIEW, pk=data["facility"])
            try:
                record = service_record_create(
                    user,
                    facility=facility,
                    served_on=data["served_on"],
                    domain=data["domain"],
                    method=data["method"],
                    residents=ids,
                    headcount=data["headcount"] or 0,
                    duration_minutes=data["duration_minutes"],
                    place=data["place"],
                    notes=data["notes"],
                    case=preset_case,
                    project=project,
                    target_group=data["target_group"],
                    poverty_alleviation=data["poverty_alleviation"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Service recorded: %(n)d person-times.") % {"n": record.person_times},
                )
                return redirect(_after_save_url(record, ids))
    else:
        initial = _defaults(user)
        if preset_resident is not None:
            initial["resident"] = preset_resident.pk
        if preset_case is not None:
            initial["case"] = preset_case.pk
            initial["method"] = ServiceMethod.CASE
        form = RecordForm(initial=initial, user=user)
    selected = form["resident"].value()
    return privacy.no_store(
        render(
            request,
            "casework/record_form.html",
            {
                "form": form,
                "chips": chips,
                "selected": str(selected or ""),
                "preset_case": preset_case,
            },
        )
    )


# --- the list of service records -----------------------------------------------------------


@require_GET
@login_required
@permission_required_or_403("casework.view_servicerecord")
def records(request):
    """Service records in the user's area (``lists.records``): filters, pages, and an
    .xlsx export (names only for roles that may export personal data; capped, logged)."""
    return record_list_page(request)


@require_GET
@login_required
@permission_required_or_403("casework.view_servicerecord")
def record_detail(request, pk: int):
    """One service record: who was served, by which method and domain, what it belongs
    to, and its notes — withheld when they belong to a protected case or a child under 14
    the user may not open. Viewing it is logged."""
    user = request.user
    record = get_scoped_or_404(
        with_recipients(ServiceRecord.objects.all()).select_related(
            "division", "recorded_by", "case__resident__community", "group", "activity", "project"
        ),
        user,
        VIEW,
        pk=pk,
    )
    privacy.log_access(
        user, "view_service_record", detail={"record": record.pk, "case": record.case_id}
    )
    withheld = privacy.record_notes_withheld(user, record)
    return privacy.no_store(
        render(
            request,
            "casework/record_detail.html",
            {
                "record": record,
                "withheld": withheld,
                "resident_links": has_resident_page(),
            },
        )
    )


# --- statistics --------------------------------------------------------------------------

DIMENSIONS = {
    "target_group": gettext_lazy("Target group"),
    "domain": gettext_lazy("Domain"),
    "method": gettext_lazy("Method"),
    "area": gettext_lazy("Area"),
}
_CHILD_AREA = {2: "county", 4: "county", 6: "town", 9: "community"}
_AREA_LENGTH = {"county": 6, "town": 9, "community": 12}


def _date_param(request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


def _labels(dimension: str, keys) -> dict:
    if dimension == "target_group":
        return {k: (SpecialGroup(k).label if k else _("No special group")) for k in keys}
    if dimension == "domain":
        return {k: ServiceDomain(k).label for k in keys if k in ServiceDomain.values}
    if dimension == "method":
        return {k: ServiceMethod(k).label for k in keys if k in ServiceMethod.values}
    names = dict(Division.objects.filter(code__in=list(keys)).values_list("code", "name"))
    return {k: names.get(k, k) for k in keys}


@require_GET
@login_required
@permission_required_or_403("casework.view_servicestats")
def stats(request):
    """Person-times of the user's area (a station, county or the city; or an area inside
    it): by month × target group, domain, method or the areas below, as a table, a chart
    and an .xlsx. One GROUP BY query. For the analyst, cells under 5 person-times are
    suppressed (shown as "<5") and the totals add up the cells shown."""
    user = request.user
    division = division_in_scope_or_404(user=user, code=request.GET.get("area") or None)
    start, end = _date_param(request, "start"), _date_param(request, "end")
    dimension = request.GET.get("by", "target_group")
    if dimension not in DIMENSIONS:
        dimension = "target_group"
    child_key = _CHILD_AREA.get(len(division.code))
    if dimension == "area" and child_key is None:
        dimension = "target_group"
    key = child_key if dimension == "area" else dimension
    try:
        rows = raw_person_times(
            user, area_code=division.code, start=start, end=end, by=("month", key)
        )
    except ValidationError:
        rows = []
    months = sorted({r["month"] for r in rows})
    keys = sorted({r[key] or "" for r in rows})
    labels = _labels(dimension, keys)
    cells: dict[tuple, int] = {}
    for r in rows:
        cells[(r["month"], r[key] or "")] = r["person_times"] or 0

    def shown(n):
        return privacy.suppress_small(n, user)

    # Totals add up the cells as shown: for the analyst a suppressed cell counts nothing in
    # its row's and its month's totals, which could otherwise give it back by subtraction.
    visible = {cell: n for cell, n in cells.items() if shown(n) is not None}
    by_key = {k: sum(v for (m, kk), v in visible.items() if kk == k) for k in keys}
    by_month = {m: sum(v for (mm, k), v in visible.items() if mm == m) for m in months}
    total = sum(by_key.values())

    table = [
        {
            "key": k,
            "label": labels.get(k, k),
            "cells": [shown(cells.get((m, k), 0)) for m in months],
            "total": shown(by_key[k]),
            "drill": k if dimension == "area" and len(k) < 12 else None,
        }
        for k in sorted(keys, key=lambda k: -by_key[k])
    ]
    if request.GET.get("format") == "xlsx":
        privacy_note = (
            []
            if user.sees_personal_data
            else [_("Cells under 5 are suppressed; totals add up the cells shown.")]
        )
        headers = [DIMENSIONS[dimension], *[m.strftime("%Y-%m") for m in months], _("Total")]
        body = [
            [row["label"], *[_cell(c) for c in row["cells"]], _cell(row["total"])] for row in table
        ]
        body.append([_("Total"), *[_cell(shown(by_month[m])) for m in months], _cell(shown(total))])
        if privacy_note:
            body.append(privacy_note)
        return xlsx_response(
            f"person-times-{division.code}.xlsx", str(_("Person-times")), headers, body
        )
    chart = {
        "months": [m.strftime("%Y-%m") for m in months],
        "series": [
            {"name": str(row["label"]), "data": [c if c is not None else 0 for c in row["cells"]]}
            for row in table[:12]
        ],
    }
    parent = None
    if division.code != user.scope_prefix and division.parent_code:
        code = division.parent_code
        if len(code) == 4:  # a prefecture-level grouping (市辖区, 县): go to the province
            code = code[:2]
        if code.startswith(user.scope_prefix):
            parent = Division.objects.filter(code=code).first()
    return render(
        request,
        "casework/stats.html",
        {
            "division": division,
            "parent": parent,
            "start": start,
            "end": end,
            "dimension": dimension,
            "dimensions": [(k, v) for k, v in DIMENSIONS.items() if k != "area" or child_key],
            "months": months,
            "table": table,
            "month_totals": [shown(by_month[m]) for m in months],
            "total": shown(total),
            "chart": chart,
            "suppressing": not user.sees_personal_data,
        },
    )


def _cell(value):
    return "<5" if value is None else value


urlpatterns = [
    path("", home, name="home"),
    path("records/", records, name="records"),
    path("records/new/", record_new, name="record_new"),
    path("records/<int:pk>/", record_detail, name="record"),
    path("stats/", stats, name="stats"),
]

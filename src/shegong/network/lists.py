"""The network's declared lists (``core.lists``): facilities, social organisations and the
staffing standards."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shegong.core.inputs import SEARCH_LENGTH
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.geo.models import Kind
from shegong.network.models import (
    Facility,
    FacilityStatus,
    IncubationStage,
    OperatorKind,
    Rating,
    SocialOrganisation,
    StaffingStandard,
    Tier,
)

STATUS_TONES = {
    FacilityStatus.PLANNED: "muted",
    FacilityStatus.BUILT: "info",
    FacilityStatus.OPERATING: "ok",
    FacilityStatus.SUSPENDED: "warn",
    FacilityStatus.CLOSED: "bad",
}


class FacilityFilter(FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=SEARCH_LENGTH)
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), choices=Tier.choices, empty_label=_("Any tier")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=FacilityStatus.choices, empty_label=_("Any status")
    )
    operator_kind = django_filters.ChoiceFilter(
        label=_("Operator"), choices=OperatorKind.choices, empty_label=_("Any operator")
    )
    division = django_filters.CharFilter(
        field_name="division__code",
        lookup_expr="startswith",
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Facility
        fields = []


FACILITY_TABLE = Table(
    columns=(
        Col(
            "name",
            _("Name"),
            "name",
            sort="pinyin:name",
            link=lambda f: reverse("network:facility", args=[f.pk]),
            title=True,
        ),
        Col("tier", _("Tier"), lambda f: f.get_tier_display(), sort="tier"),
        Col("division", _("Division"), "division.name", sort="division__code"),
        Col("code", _("Division code"), "division.code", sort="division__code"),
        Col(
            "status",
            _("Status"),
            lambda f: f.get_status_display(),
            sort="status",
            kind="tag",
            tone=lambda f: STATUS_TONES.get(f.status, "muted"),
        ),
        Col("opened", _("Opened"), "opened_on", sort="opened_on", kind="date"),
        Col("operator", _("Operator"), lambda f: f.get_operator_kind_display(), export=True),
        Col("agency", _("Operating agency"), "operator.name"),
        Col("phone", _("Phone"), "phone"),
    ),
    default_sort="code",
    testid="facility-table",
)


def _facilities(request):
    return Facility.objects.restrict(request.user, "view").select_related("division", "operator")


def _actions(request):
    actions = []
    if request.user.has_perm("network.add_facility"):
        actions.append((reverse("network:facility_create"), _("New facility"), "ti-plus"))
        actions.append((reverse("network:import"), _("Import from Excel"), "ti-file-import"))
    return actions


facility_list_page = ListPage(
    title=_("Facilities"),
    table=FACILITY_TABLE,
    queryset=_facilities,
    filterset=FacilityFilter,
    export_name="facilities",
    empty_text=_("No facility matches."),
    actions=_actions,
)


# --- social organisations ---------------------------------------------------------------------


class OrganisationFilter(FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=SEARCH_LENGTH)
    agency = django_filters.BooleanFilter(
        label=_("Social work agency"),
        field_name="is_social_work_agency",
        widget=forms.Select(
            choices=[("", _("Any organisation")), ("true", _("Yes")), ("false", _("No"))]
        ),
    )
    rating = django_filters.ChoiceFilter(
        label=_("Rating"), choices=Rating.choices, empty_label=_("Any rating")
    )
    incubation_stage = django_filters.ChoiceFilter(
        label=_("Incubation stage"),
        choices=IncubationStage.choices,
        empty_label=_("Any stage"),
    )

    class Meta:
        model = SocialOrganisation
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(uscc__icontains=value))


ORGANISATION_TABLE = Table(
    columns=(
        Col("name", _("Name"), "name", sort="pinyin:name", title=True, wrap=True),
        Col(
            "kind",
            _("Kind"),
            lambda o: _("Social work agency") if o.is_social_work_agency else _("Other"),
            sort="is_social_work_agency",
            kind="tag",
            tone=lambda o: "info" if o.is_social_work_agency else "muted",
        ),
        Col("uscc", _("Unified social credit code"), "uscc", sort="uscc", kind="code"),
        Col("division", _("Registered in"), "division.name", sort="division__code"),
        Col("rating", _("Rating"), "rating", sort="rating"),
        Col(
            "rating_expires",
            _("Rating expires"),
            "rating_expires_on",
            kind="date",
            sort="rating_expires_on",
        ),
        Col("station", _("Incubating station"), "incubating_station.name"),
        Col(
            "stage",
            _("Incubation stage"),
            lambda o: o.get_incubation_stage_display(),
            sort="incubation_stage",
        ),
    ),
    default_sort="name",
    testid="organisations",
)


def _organisations(request):
    return SocialOrganisation.objects.restrict(request.user, "view").select_related(
        "division", "incubating_station"
    )


organisation_list_page = ListPage(
    title=_("Social organisations"),
    table=ORGANISATION_TABLE,
    queryset=_organisations,
    filterset=OrganisationFilter,
    export_name="organisations",
    template="network/organisations.html",
    empty_text=_("No organisation matches."),
    context=lambda request: {"form": getattr(request, "organisation_form", None)},
)


# --- staffing standards -----------------------------------------------------------------------


class StandardFilter(FilterSet):
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), choices=Tier.choices, empty_label=_("Any tier")
    )
    division_kind = django_filters.ChoiceFilter(
        label=_("Division kind"), choices=Kind.choices, empty_label=_("Any kind")
    )
    in_force = django_filters.BooleanFilter(
        label=_("In force"),
        field_name="ended_on",
        lookup_expr="isnull",
        widget=forms.Select(
            choices=[("", _("All versions")), ("true", _("Not ended")), ("false", _("Ended"))]
        ),
    )

    class Meta:
        model = StaffingStandard
        fields = []


STANDARD_TABLE = Table(
    columns=(
        Col("tier", _("Tier"), lambda s: s.get_tier_display(), sort="tier", title=True),
        Col(
            "kind",
            _("Division kind"),
            lambda s: s.get_division_kind_display() or "—",
            sort="division_kind",
        ),
        Col(
            "min",
            _("Minimum full-time social workers"),
            "min_full_time",
            sort="min_full_time",
            kind="num",
        ),
        Col("from", _("Effective from"), "effective_from", sort="effective_from", kind="date"),
        Col("ended", _("Ended on"), "ended_on", sort="ended_on", kind="date"),
        Col("document", _("Source document"), "document", wrap=True),
    ),
    default_sort="tier",
    testid="standards",
)


def _standards(request):
    return StaffingStandard.objects.restrict(request.user, "view")


def _standards_context(request) -> dict:
    return {
        "form": getattr(request, "standard_form", None),
        "end_form": getattr(request, "standard_end_form", None),
        "current": getattr(request, "standards_current", []),
    }


standard_list_page = ListPage(
    title=_("Staffing standards"),
    table=STANDARD_TABLE,
    queryset=_standards,
    filterset=StandardFilter,
    export_name="staffing-standards",
    template="network/standards.html",
    empty_text=_("No standard yet."),
    intro=_(
        "The version in force on a date is the latest one that started on or before it, "
        "unless it was ended: from its end date that tier and kind have no standard until a "
        "newer version starts. Earlier versions are kept."
    ),
    context=_standards_context,
)

"""The network's declared lists (``core.lists``): facilities and social organisations."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shegong.core.inputs import SEARCH_LENGTH
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.network.models import Facility, FacilityStatus, OperatorKind, Tier

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

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(division__code__startswith=value))


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

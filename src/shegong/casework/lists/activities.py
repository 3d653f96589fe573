"""The community activity list, declared (``core.lists``): newest first, with the
person-times recorded; the .xlsx export holds counts only, never a resident."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.casework import privacy
from shegong.casework.models import Activity
from shegong.casework.selectors.records import activity_list
from shegong.core.forms import DateInput
from shegong.core.inputs import SEARCH_LENGTH
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.xlsx import xlsx_response


class ActivityFilter(FilterSet):
    q = django_filters.CharFilter(
        label=gettext_lazy("Search"), method="search", max_length=SEARCH_LENGTH
    )
    held_after = django_filters.DateFilter(
        label=gettext_lazy("From"), field_name="held_on", lookup_expr="gte", widget=DateInput()
    )
    held_before = django_filters.DateFilter(
        label=gettext_lazy("To"), field_name="held_on", lookup_expr="lte", widget=DateInput()
    )

    class Meta:
        model = Activity
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(place__icontains=value))


ACTIVITY_TABLE = Table(
    columns=(
        Col("date", gettext_lazy("Date"), "held_on", sort="held_on", kind="date"),
        Col(
            "title",
            gettext_lazy("Title"),
            "title",
            sort="pinyin:title",
            link=lambda a: reverse("casework:activity", args=[a.pk]),
            title=True,
        ),
        Col("place", gettext_lazy("Place"), "place"),
        Col(
            "volunteers",
            gettext_lazy("Volunteers"),
            "volunteer_count",
            sort="volunteer_count",
            kind="num",
        ),
        Col("times", gettext_lazy("Person-times"), "person_times", sort="person_times", kind="num"),
        Col("facility", gettext_lazy("Run by"), "facility.name", sort="pinyin:facility__name"),
    ),
    default_sort="-date",
    testid="activity-table",
    row_attrs=lambda a: {"data-activity": a.pk},
)


def export_activities(request, activities):
    """The filtered list as .xlsx: counts only (volunteers, person-times), no resident."""

    def rows():
        for a in activities.select_related("facility__division").iterator(chunk_size=1000):
            yield (
                a.held_on,
                a.title,
                a.place,
                a.partners,
                a.volunteer_count,
                a.person_times,
                a.facility.name,
                a.facility.division.code,
            )

    headers = [
        _("Date"),
        _("Title"),
        _("Place"),
        _("Partners"),
        _("Volunteers"),
        _("Person-times"),
        _("Run by"),
        _("Division code"),
    ]
    name = f"activities-{timezone.localdate():%Y%m%d}.xlsx"
    return privacy.no_store(xlsx_response(name, str(_("Community activities")), headers, rows()))


def _actions(request):
    if request.user.has_perm("casework.add_activity"):
        return [(reverse("casework:activity_new"), _("Plan an activity"), "ti-plus")]
    return []


activity_list_page = ListPage(
    title=gettext_lazy("Community activities"),
    table=ACTIVITY_TABLE,
    queryset=lambda request: activity_list(user=request.user),
    filterset=ActivityFilter,
    export_name="activities",
    empty_text=gettext_lazy("No activities yet."),
    actions=_actions,
    on_export=export_activities,
    no_store=True,
)

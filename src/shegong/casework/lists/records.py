"""The service records' declared list (``core.lists``).

Built for a large registry: the area filter is a code prefix (an index range), the
facility filter a drop-down only when the user has few facilities, residents' names come
in one prefetch for the page (nothing encrypted is read), the notes are deferred.
"""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.casework import privacy
from shegong.casework.models import ServiceDomain, ServiceMethod
from shegong.casework.selectors.records import (
    facilities_for,
    service_record_list,
    with_recipients,
)
from shegong.core.forms import DateInput, style_widgets
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.xlsx import xlsx_response
from shegong.geo.models import Division

# Up to this many facilities in scope, the facility filter is a drop-down.
FACILITY_CHOICES_MAX = 200


class RecordFilter(FilterSet):
    start = django_filters.DateFilter(
        label=gettext_lazy("From"), field_name="served_on", lookup_expr="gte", widget=DateInput()
    )
    end = django_filters.DateFilter(
        label=gettext_lazy("To"), field_name="served_on", lookup_expr="lte", widget=DateInput()
    )
    method = django_filters.ChoiceFilter(
        label=gettext_lazy("Method"),
        choices=ServiceMethod.choices,
        empty_label=gettext_lazy("All methods"),
    )
    domain = django_filters.ChoiceFilter(
        label=gettext_lazy("Domain"),
        choices=ServiceDomain.choices,
        empty_label=gettext_lazy("All domains"),
    )

    class Meta:
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        django_filters.FilterSet.__init__(self, *args, request=request, **kwargs)
        user = request.user
        areas = _areas(user)
        if areas:
            self.filters["area"] = django_filters.ChoiceFilter(
                label=gettext_lazy("Area"),
                choices=areas,
                empty_label=gettext_lazy("All my area"),
                field_name="division__code",
                lookup_expr="startswith",
            )
        facilities = list(
            facilities_for(user).values_list("pk", "name")[: FACILITY_CHOICES_MAX + 1]
        )
        if len(facilities) <= FACILITY_CHOICES_MAX:
            self.filters["facility"] = django_filters.ChoiceFilter(
                label=gettext_lazy("Facility"),
                choices=facilities,
                empty_label=gettext_lazy("All facilities"),
                field_name="facility_id",
            )
        style_widgets(self.form)


def _areas(user) -> list[tuple[str, str]]:
    """The divisions one level below the user's (the counties of the city, the towns of a
    county, the communities of a town): the area filter's choices."""
    division = getattr(user, "division", None)
    if division is None or division.child_level is None or not user.scope_prefix:
        return []
    rows = (
        Division.objects.filter(
            level=division.child_level, code__startswith=user.scope_prefix, is_grouping=False
        )
        .order_by("code")
        .values_list("code", "name")
    )
    return list(rows)


def _served(record) -> str:
    names = "、".join(x.resident.name for x in record.recipients.all())
    if record.headcount:
        more = _("%(n)d people") % {"n": record.headcount}
        return f"{names} + {more}" if names else more
    return names


RECORD_TABLE = Table(
    columns=(
        Col(
            "date",
            gettext_lazy("Date"),
            "served_on",
            sort="served_on",
            kind="date",
            link=lambda r: reverse("casework:record", args=[r.pk]),
            title=True,
        ),
        Col("served", gettext_lazy("Residents served"), _served, wrap=True),
        Col("method", gettext_lazy("Method"), lambda r: r.get_method_display(), sort="method"),
        Col("domain", gettext_lazy("Domain"), lambda r: r.get_domain_display(), sort="domain"),
        Col("person_times", gettext_lazy("Person-times"), "person_times", kind="num"),
        Col("facility", gettext_lazy("Facility"), "facility.name"),
    ),
    default_sort="-date",
    testid="record-table",
)


def _records(request):
    return with_recipients(service_record_list(user=request.user))


def _actions(request):
    if request.user.has_perm("casework.add_servicerecord"):
        return [(reverse("casework:record_new"), _("Record a service"), "ti-plus")]
    return []


def _export(request, rows):
    """At most ``EXPORT_CAP`` rows; residents' names only for roles that may export
    personal data; logged."""
    user = request.user
    count = rows.count()
    if count > privacy.EXPORT_CAP:
        messages.error(
            request,
            _("The export is limited to %(cap)d records; narrow the list first.")
            % {"cap": privacy.EXPORT_CAP},
        )
        query = request.GET.copy()
        query.pop("format", None)
        url = reverse("casework:records")
        return redirect(f"{url}?{query.urlencode()}" if query else url)
    names = privacy.may_export_personal(user)
    filters = {
        k: v
        for k, v in request.GET.items()
        if k in ("start", "end", "method", "domain", "area", "facility") and v
    }
    privacy.log_access(
        user,
        "export",
        detail={"what": "service_records", "rows": count, "names": names, "filters": filters},
    )
    headers = [
        _("Date"),
        _("Facility"),
        _("Division code"),
        _("Method"),
        _("Domain"),
        _("Target group"),
        _("Poverty alleviation"),
        _("Registered residents"),
        _("Head-count"),
        _("Person-times"),
        _("Duration (minutes)"),
        _("Case"),
        _("Group session"),
        _("Activity"),
        _("Project"),
    ]
    if names:
        headers.append(_("Residents served"))
    rows = rows.select_related("division", "case", "group", "activity", "project")

    def values():
        for r in rows.iterator(chunk_size=1000):
            recipients = list(r.recipients.all())
            row = [
                r.served_on,
                r.facility.name,
                r.division.code,
                r.get_method_display(),
                r.get_domain_display(),
                r.get_target_group_display() if r.target_group else "",
                _("yes") if r.poverty_alleviation else "",
                len(recipients),
                r.headcount,
                r.person_times,
                r.duration_minutes,
                r.case.number if r.case_id else "",
                f"{r.group.name} #{r.session_number}" if r.group_id else "",
                r.activity.title if r.activity_id else "",
                r.project.code if r.project_id else "",
            ]
            if names:
                row.append("、".join(x.resident.name for x in recipients))
            yield row

    return privacy.no_store(
        xlsx_response(
            f"service-records-{timezone.localdate():%Y%m%d}.xlsx",
            str(_("Service records")),
            headers,
            values(),
        )
    )


record_list_page = ListPage(
    title=gettext_lazy("Service records"),
    table=RECORD_TABLE,
    queryset=_records,
    filterset=RecordFilter,
    export_name="service-records",
    empty_text=gettext_lazy("No service record matches."),
    actions=_actions,
    on_export=_export,
    no_store=True,
)

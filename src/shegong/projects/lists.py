"""The project list, declared (``core.lists``): filters, pinyin sort, pagination, .xlsx and
the phone cards; the counts by focus and stage above it."""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shegong.core.inputs import SEARCH_LENGTH
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.xlsx import xlsx_response
from shegong.network.models import SocialOrganisation
from shegong.projects.models import Focus, Project, Stage
from shegong.projects.selectors import project_counts, project_list

STAGE_TONES = {
    Stage.APPLICATION: "info",
    Stage.PRELIMINARY_REVIEW: "info",
    Stage.EXPERT_REVIEW: "info",
    Stage.PUBLIC_NOTICE: "info",
    Stage.CONTRACT: "ok",
    Stage.IN_PROGRESS: "ok",
    Stage.MIDTERM_EVALUATION: "warn",
    Stage.FINAL_EVALUATION: "warn",
    Stage.CLOSED: "muted",
    Stage.TERMINATED: "bad",
    Stage.REJECTED: "bad",
}


def stage_tone(stage: str) -> str:
    return STAGE_TONES.get(stage, "muted")


def _agencies(request):
    if request is None:
        return SocialOrganisation.objects.none()
    return SocialOrganisation.objects.filter(
        pk__in=project_list(user=request.user).exclude(agency=None).values("agency_id")
    ).order_by("name")


class ProjectFilter(FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=SEARCH_LENGTH)
    focus = django_filters.ChoiceFilter(
        label=_("Focus"), choices=Focus.choices, empty_label=_("Any focus")
    )
    stage = django_filters.ChoiceFilter(
        label=_("Stage"), choices=Stage.choices, empty_label=_("Any stage")
    )
    year = django_filters.NumberFilter(
        label=_("Year"), method="in_year", min_value=2000, max_value=2100
    )
    agency = django_filters.ModelChoiceFilter(
        label=_("Contracted agency"), queryset=_agencies, empty_label=_("Any agency")
    )
    area = django_filters.CharFilter(
        field_name="area__code", lookup_expr="startswith", max_length=12, widget=forms.HiddenInput
    )

    class Meta:
        model = Project
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))

    def in_year(self, queryset, name, value):
        year = int(value)
        return queryset.filter(starts_on__lte=date(year, 12, 31), ends_on__gte=date(year, 1, 1))


PROJECT_TABLE = Table(
    columns=(
        Col(
            "code",
            _("Project code"),
            lambda p: format_html('<span translate="no">{}</span>', p.code),
            sort="code",
            export=lambda p: p.code,
            link=lambda p: reverse("projects:detail", args=[p.pk]),
            testid="project-code",
        ),
        Col(
            "name",
            _("Name"),
            "name",
            sort="pinyin:name",
            link=lambda p: reverse("projects:detail", args=[p.pk]),
            title=True,
            wrap=True,
        ),
        Col("focus", _("Focus"), lambda p: p.get_focus_display(), sort="focus", wrap=True),
        Col(
            "stage",
            _("Stage"),
            lambda p: p.get_stage_display(),
            sort="stage",
            kind="tag",
            tone=lambda p: stage_tone(p.stage),
        ),
        Col("area", _("Area"), "area.name", sort="area__code"),
        Col("agency", _("Contracted agency"), "agency.name", wrap=True),
        Col("start", _("Start"), "starts_on", sort=("starts_on", "code"), kind="date"),
        Col("budget", _("Budget (yuan)"), "budget", sort="budget", kind="money"),
    ),
    default_sort="-start",
    testid="projects",
)


EXPORT_COLUMNS = (
    (_("Project code"), lambda p: p.code),
    (_("Name"), lambda p: p.name),
    (_("Focus"), lambda p: p.get_focus_display()),
    (_("Stage"), lambda p: p.get_stage_display()),
    (_("Area"), lambda p: p.area.name),
    (_("Purchasing facility"), lambda p: p.purchaser.name),
    (_("Contracted agency"), lambda p: p.agency.name if p.agency else ""),
    (_("Start"), lambda p: p.starts_on),
    (_("End"), lambda p: p.ends_on),
    (_("Budget (yuan)"), lambda p: p.budget),
)


def _export(request, rows):
    """The .xlsx has more columns than the page: the purchasing facility and the end."""
    return xlsx_response(
        "projects.xlsx",
        str(_("Projects")),
        [label for label, _value in EXPORT_COLUMNS],
        ([value(p) for _label, value in EXPORT_COLUMNS] for p in rows.iterator(chunk_size=2000)),
    )


def _projects(request):
    return project_list(user=request.user)


def _counts(request) -> dict:
    """The counts by focus and stage, for the year and area the filters name."""
    filters = ProjectFilter(request.GET or None, queryset=Project.objects.none(), request=request)
    year, area = None, ""
    if filters.is_bound and filters.is_valid():
        year = filters.form.cleaned_data.get("year")
        area = filters.form.cleaned_data.get("area") or ""
    counts = project_counts(user=request.user, year=int(year) if year else None, area=area)
    return {
        "counts": counts,
        "focus_rows": [(f, Focus(f).label, n) for f, n in counts["by_focus"].items()],
        "stage_rows": [
            (s, Stage(s).label, n, stage_tone(s)) for s, n in counts["by_stage"].items() if n
        ],
    }


project_list_page = ListPage(
    title=_("Purchased service projects"),
    table=PROJECT_TABLE,
    queryset=_projects,
    filterset=ProjectFilter,
    export_name="projects",
    empty_text=_("No project matches."),
    template="projects/list.html",
    context=_counts,
    on_export=_export,
)

"""The case list, declared (``core.lists``): filters (stage, risk, mine, due for review,
case number), sorting (names by pinyin), pages, the .xlsx export (gated by the export
right, capped, logged, no narrative) and a card per case on phones. A protected case the
user may not open shows no name."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.casework import privacy
from shegong.casework.models import Case, CaseStage, RiskLevel
from shegong.casework.selectors import cases as selectors
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.scoping import VIEW
from shegong.core.xlsx import xlsx_response

STAGE_TONES = {
    CaseStage.INTAKE: "info",
    CaseStage.ASSESSMENT: "info",
    CaseStage.PLAN: "info",
    CaseStage.INTERVENTION: "warn",
    CaseStage.EVALUATION: "info",
    CaseStage.CLOSED: "ok",
    CaseStage.DECLINED: "muted",
}
RISK_TONES = {
    RiskLevel.LOW: "ok",
    RiskLevel.MEDIUM: "info",
    RiskLevel.HIGH: "warn",
    RiskLevel.CRISIS: "bad",
}
ENDED = (CaseStage.CLOSED, CaseStage.DECLINED)


def stage_tone(case: Case) -> str:
    return STAGE_TONES.get(case.stage, "muted")


def risk_tone(case: Case) -> str:
    return RISK_TONES.get(case.risk_level, "muted")


def is_due(case: Case, today=None) -> bool:
    """An open case whose next review is today or earlier."""
    today = today or timezone.localdate()
    return case.is_open and case.next_review_on is not None and case.next_review_on <= today


class CaseFilter(FilterSet):
    q = django_filters.CharFilter(label=gettext_lazy("Case number"), method="search", max_length=40)
    stage = django_filters.ChoiceFilter(
        label=gettext_lazy("Stage"),
        choices=[("open", gettext_lazy("Open cases")), *CaseStage.choices],
        empty_label=gettext_lazy("Any stage"),
        method="by_stage",
    )
    risk = django_filters.ChoiceFilter(
        label=gettext_lazy("Risk level"),
        field_name="risk_level",
        choices=RiskLevel.choices,
        empty_label=gettext_lazy("Any risk level"),
    )
    mine = django_filters.BooleanFilter(
        label=gettext_lazy("Assigned to me"), method="by_mine", widget=forms.CheckboxInput
    )
    due = django_filters.BooleanFilter(
        label=gettext_lazy("Due for review"), method="by_due", widget=forms.CheckboxInput
    )

    class Meta:
        model = Case
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(number__icontains=value) if value else queryset

    def by_stage(self, queryset, name, value):
        if value == "open":
            return queryset.exclude(stage__in=ENDED)
        return queryset.filter(stage=value)

    def by_mine(self, queryset, name, value):
        if not value:
            return queryset
        user = self.request.user
        return queryset.filter(Q(assigned_to=user) | Q(supervisor=user))

    def by_due(self, queryset, name, value):
        return selectors.due_for_review(queryset, timezone.localdate()) if value else queryset

    def used(self) -> dict:
        """The filters in use (values only: no name, no ID), for the access log."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: str(v) for k, v in self.form.cleaned_data.items() if v not in ("", None, False)}


def _shown_name(case: Case) -> str:
    """The name the list shows: set by ``_on_show`` (protected cases the user may not
    open show no name)."""
    return getattr(case, "shown_name", str(_("(protected record)")))


CASE_TABLE = Table(
    columns=(
        Col(
            "number",
            gettext_lazy("Case number"),
            "number",
            sort="number",
            link=lambda c: reverse("casework:case", args=[c.pk]),
            title=True,
        ),
        Col("resident", gettext_lazy("Resident"), _shown_name, sort="pinyin:resident__name"),
        Col("facility", gettext_lazy("Held by"), "facility.name", sort="pinyin:facility__name"),
        Col(
            "stage",
            gettext_lazy("Stage"),
            lambda c: c.get_stage_display(),
            sort="stage",
            kind="tag",
            tone=stage_tone,
        ),
        Col(
            "risk",
            gettext_lazy("Risk level"),
            lambda c: c.get_risk_level_display(),
            sort="risk_level",
            kind="tag",
            tone=risk_tone,
        ),
        Col("worker", gettext_lazy("Assigned worker"), lambda c: str(c.assigned_to)),
        Col(
            "review",
            gettext_lazy("Next review"),
            lambda c: c.next_review_on.strftime("%Y-%m-%d") if c.next_review_on else None,
            sort="next_review_on",
            kind="tag",
            tone=lambda c: "bad" if is_due(c) else "muted",
        ),
        Col("opened", gettext_lazy("Opened on"), "opened_on", sort="opened_on", kind="date"),
    ),
    default_sort="-opened",
    testid="case-table",
    row_attrs=lambda c: {"data-case": c.pk, "data-due": "true" if is_due(c) else "false"},
)


def _cases(request):
    return Case.objects.restrict(request.user, VIEW).select_related(
        "resident", "facility", "assigned_to", "supervisor"
    )


def _on_show(request, page) -> None:
    """Names for the page's rows (none for a protected case the user may not open); a
    search by case number is access-logged."""
    rows = list(page.object_list)
    openable = selectors.openable(request.user, rows)
    for case in rows:
        shown = not privacy.is_protected(case) or case.pk in openable
        case.shown_name = case.resident.name if shown else str(_("(protected record)"))
    if request.GET.get("q", "").strip():
        filters = CaseFilter(request.GET, queryset=Case.objects.none(), request=request)
        privacy.log_access(
            request.user,
            "search",
            kind="case",
            detail={"filters": filters.used(), "found": page.paginator.count},
        )


def list_url_without_export(request) -> str:
    query = request.GET.copy()
    query.pop("format", None)
    url = reverse("casework:cases")
    return f"{url}?{query.urlencode()}" if query else url


def export_cases(request, cases):
    """The filtered list as .xlsx: no narrative fields; needs the export right; capped
    and logged."""
    user = request.user
    if not privacy.may_export_personal(user):
        return False
    count = cases.count()
    if count > privacy.EXPORT_CAP:
        messages.error(
            request,
            _("The export is limited to %(cap)d cases; narrow the list first.")
            % {"cap": privacy.EXPORT_CAP},
        )
        return redirect(list_url_without_export(request))
    filters = CaseFilter(request.GET, queryset=Case.objects.none(), request=request)
    privacy.log_access(
        user, "export", kind="case", detail={"filters": filters.used(), "rows": count}
    )

    def rows():
        for case in cases.iterator(chunk_size=1000):
            shown = privacy.may_open(user, case)
            yield (
                case.number,
                case.resident.name if shown else str(_("(protected record)")),
                case.facility.name,
                case.get_stage_display(),
                case.get_risk_level_display(),
                case.get_referral_source_display(),
                _("yes") if privacy.is_protected(case) else _("no"),
                str(case.assigned_to),
                str(case.supervisor),
                case.opened_on,
                case.next_review_on,
                case.closed_on,
            )

    headers = [
        _("Case number"),
        _("Resident"),
        _("Held by"),
        _("Stage"),
        _("Risk level"),
        _("Referral source"),
        _("Protected"),
        _("Assigned worker"),
        _("Supervisor"),
        _("Opened on"),
        _("Next review"),
        _("Closed on"),
    ]
    name = f"cases-{timezone.localdate():%Y%m%d}.xlsx"
    return privacy.no_store(xlsx_response(name, str(_("Cases")), headers, rows()))


def _context(request) -> dict:
    return {"export": privacy.may_export_personal(request.user)}


case_list_page = ListPage(
    title=gettext_lazy("Cases"),
    table=CASE_TABLE,
    queryset=_cases,
    filterset=CaseFilter,
    export_name="cases",
    empty_text=gettext_lazy("No case matches."),
    on_show=_on_show,
    on_export=export_cases,
    context=_context,
    no_store=True,
)

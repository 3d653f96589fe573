"""The core's declared lists (``core.lists``): the audit trail."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from shegong.core.audit import audit_verify, ids_walked
from shegong.core.audit_labels import (
    action_choices,
    action_label,
    object_label,
    with_resident_names,
)
from shegong.core.inputs import SEARCH_LENGTH
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.models import AuditEvent

OUTCOME_TONES = {AuditEvent.Outcome.ALLOWED: "ok", AuditEvent.Outcome.DENIED: "bad"}


class AuditFilter(FilterSet):
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=action_choices, empty_label=_("Any action")
    )
    user = django_filters.CharFilter(
        label=_("User name"), field_name="actor_username", max_length=SEARCH_LENGTH
    )
    outcome = django_filters.ChoiceFilter(
        label=_("Outcome"), choices=AuditEvent.Outcome.choices, empty_label=_("Any outcome")
    )
    since = django_filters.DateFilter(
        label=_("From"), field_name="occurred_at", lookup_expr="date__gte"
    )
    until = django_filters.DateFilter(
        label=_("To"), field_name="occurred_at", lookup_expr="date__lte"
    )

    class Meta:
        model = AuditEvent
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("since", "until"):
            self.form.fields[name].widget.input_type = "date"


AUDIT_TABLE = Table(
    columns=(
        Col("seq", "#", "seq", sort="seq", kind="num"),
        Col("time", _("Time"), "occurred_at", sort="occurred_at", kind="datetime"),
        Col("user", _("User"), "actor_username", sort="actor_username", title=True, kind="code"),
        Col(
            "action",
            _("Action"),
            lambda e: action_label(e.action),
            sort="action",
            testid="audit-action",
        ),
        Col("object", _("Object"), object_label, wrap=True, testid="audit-object"),
        Col("address", _("Address"), "ip_address"),
        Col(
            "outcome",
            _("Outcome"),
            lambda e: e.get_outcome_display(),
            sort="outcome",
            kind="tag",
            tone=lambda e: OUTCOME_TONES.get(e.outcome, "muted"),
        ),
    ),
    default_sort="-seq",
    testid="audit-table",
)


def _events(request):
    return with_resident_names(AuditEvent.objects.restrict(request.user, "view"))


def _context(request) -> dict:
    return {
        "walked": ids_walked(AuditEvent.objects.restrict(request.user, "view")),
        "report": audit_verify() if request.GET.get("verify") == "1" else None,
    }


audit_list_page = ListPage(
    title=_("Audit trail"),
    table=AUDIT_TABLE,
    queryset=_events,
    filterset=AuditFilter,
    export_name="audit-trail",
    template="core/audit_list.html",
    empty_text=_("No audit events match."),
    context=_context,
)

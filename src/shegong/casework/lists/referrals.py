"""The referral inbox, declared (``core.lists``): the box (received by the user's area or
sent from it) as tabs, filters (status, overdue only), overdue answers tagged, pages, and
the .xlsx export — names only (never an ID or a phone), no narrative, gated by the export
right, capped and logged."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.casework import privacy
from shegong.casework.models import Referral, ReferralStatus
from shegong.casework.selectors import referrals as selectors
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.xlsx import xlsx_response

STATUS_TONES = {
    ReferralStatus.PENDING: "info",
    ReferralStatus.ACCEPTED: "ok",
    ReferralStatus.DECLINED: "muted",
    ReferralStatus.COMPLETED: "ok",
}


def box_of(request) -> str:
    """The box shown: ``received`` (the default) or ``sent``."""
    box = request.GET.get("box")
    return box if box in selectors.BOXES else "received"


class ReferralFilter(FilterSet):
    box = django_filters.CharFilter(method="keep", widget=forms.HiddenInput)
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        choices=ReferralStatus.choices,
        empty_label=gettext_lazy("Any status"),
    )
    overdue = django_filters.BooleanFilter(
        label=gettext_lazy("Overdue only"), method="by_overdue", widget=forms.CheckboxInput
    )

    class Meta:
        model = Referral
        fields = []

    def keep(self, queryset, name, value):
        """The box is chosen by the queryset (``_referrals``); kept here for the tabs."""
        return queryset

    def by_overdue(self, queryset, name, value):
        return queryset.filter(selectors.overdue_q(timezone.localdate())) if value else queryset


def _status_tone(r: Referral) -> str:
    return STATUS_TONES.get(r.status, "muted")


def _due(r: Referral) -> str:
    shown = r.due_on.strftime("%Y-%m-%d")
    if selectors.is_overdue(r):
        return f"{shown} · {_('overdue')}"
    return shown


REFERRAL_TABLE = Table(
    columns=(
        Col(
            "sent",
            gettext_lazy("Sent on"),
            "sent_on",
            sort="sent_on",
            kind="date",
            link=lambda r: reverse("casework:referral", args=[r.pk]),
            title=True,
        ),
        Col("resident", gettext_lazy("Resident"), "shown_name", sort="pinyin:resident__name"),
        Col("from", gettext_lazy("Referred from"), "from_facility.name"),
        Col(
            "to",
            gettext_lazy("Referred to"),
            lambda r: r.to_facility.name if r.to_facility_id else r.to_agency,
        ),
        Col(
            "status",
            gettext_lazy("Status"),
            lambda r: r.get_status_display(),
            sort="status",
            kind="tag",
            tone=_status_tone,
        ),
        Col(
            "due",
            gettext_lazy("Answer due"),
            _due,
            sort="due_on",
            kind="tag",
            tone=lambda r: "bad" if selectors.is_overdue(r) else "muted",
        ),
    ),
    default_sort="-sent",
    testid="referral-table",
    row_attrs=lambda r: {
        "data-referral": r.pk,
        "data-overdue": "true" if selectors.is_overdue(r) else "false",
    },
)


def _referrals(request):
    return selectors.referral_inbox(request.user, box=box_of(request)).select_related(
        "resident__community"
    )


def _shown_name(user, resident, today) -> str:
    if privacy.is_protected(resident, today) and not privacy.may_open(user, resident):
        return str(_("(protected record)"))
    return resident.name


def _on_show(request, page) -> None:
    today = timezone.localdate()
    for r in page.object_list:
        r.shown_name = _shown_name(request.user, r.resident, today)


def _filters_used(request) -> dict:
    return {
        "box": box_of(request),
        "status": request.GET.get("status", ""),
        "overdue": str(request.GET.get("overdue") in ("1", "on", "true")),
    }


def export_referrals(request, referrals):
    """The filtered inbox as .xlsx: the resident's name (never an ID or a phone), no
    narrative (reason, answer, outcome); capped at ``privacy.EXPORT_CAP`` and logged. A
    protected record the user may not open shows no name."""
    user = request.user
    if not privacy.may_export_personal(user):
        return False
    today = timezone.localdate()
    count = referrals.count()
    if count > privacy.EXPORT_CAP:
        messages.error(
            request,
            _("The export is limited to %(cap)d referrals; narrow the list first.")
            % {"cap": privacy.EXPORT_CAP},
        )
        query = request.GET.copy()
        query.pop("format", None)
        query.pop("page", None)
        query["box"] = box_of(request)
        return redirect(f"{reverse('casework:referrals')}?{query.urlencode()}")
    privacy.log_access(
        user, "export", kind="referral", detail={"rows": count, "filters": _filters_used(request)}
    )

    def rows():
        for r in referrals.iterator(chunk_size=1000):
            yield (
                r.sent_on,
                _shown_name(user, r.resident, today),
                r.from_facility.name,
                r.to_facility.name if r.to_facility_id else r.to_agency,
                r.get_status_display(),
                r.due_on,
                _("yes") if selectors.is_overdue(r, today) else _("no"),
                r.answered_on,
            )

    headers = [
        _("Sent on"),
        _("Resident"),
        _("Referred from"),
        _("Referred to"),
        _("Status"),
        _("Answer due"),
        _("Overdue"),
        _("Answered on"),
    ]
    filename = f"referrals-{today:%Y%m%d}.xlsx"
    return privacy.no_store(xlsx_response(filename, str(_("Referrals")), headers, rows()))


def _context(request) -> dict:
    user = request.user
    return {
        "box": box_of(request),
        "overdue_count": selectors.overdue_referrals(user, timezone.localdate()).count(),
        "export": privacy.may_export_personal(user),
    }


referral_list_page = ListPage(
    title=gettext_lazy("Referrals"),
    table=REFERRAL_TABLE,
    queryset=_referrals,
    filterset=ReferralFilter,
    export_name="referrals",
    template="casework/referral_list.html",
    empty_text=gettext_lazy("No referrals here."),
    on_show=_on_show,
    on_export=export_referrals,
    context=_context,
    no_store=True,
)

"""Pages: referrals (issue #6) — the inbox (received / sent, overdue highlighted), sending a
referral, one referral with the receiving side's answer and the outcome.

Both sides see a referral (``Referral.scope_q``); only the receiving side answers it. Every
page here shows a resident's name and is ``no-store``; viewing one referral writes one
access-log row.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shegong.casework import privacy
from shegong.casework.lists import as_export
from shegong.casework.lists.referrals import referral_list_page
from shegong.casework.models import Case, Referral, Resident
from shegong.casework.selectors import referrals as selectors
from shegong.casework.services import referrals as services
from shegong.core.forms import BoundedForm, DateInput, add_service_errors
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.network.models import Facility, FacilityStatus, Tier

PAGE_SIZE = 50
no_store = privacy.no_store


class ReferralForm(BoundedForm):
    from_facility = forms.ModelChoiceField(
        label=gettext_lazy("Referred from"), queryset=Facility.objects.none()
    )
    to_facility = forms.ModelChoiceField(
        label=gettext_lazy("To a facility of the network"),
        queryset=Facility.objects.none(),
        required=False,
    )
    to_agency = forms.CharField(
        label=gettext_lazy("Or to an outside agency"), required=False, max_length=200
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    due_on = forms.DateField(label=gettext_lazy("Answer due"), widget=DateInput())
    consent_checked = forms.BooleanField(
        label=gettext_lazy("The resident (or their guardian) consented to this referral"),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        mine = (
            Facility.objects.restrict(user, VIEW)
            .exclude(status=FacilityStatus.CLOSED)
            .select_related("division")
            .order_by("-division__code")
        )
        self.fields["from_facility"].queryset = mine
        city = (user.scope_prefix or "")[:2] or "\x00"
        network = Facility.objects.exclude(status=FacilityStatus.CLOSED).filter(
            division__code__startswith=city
        )
        self.fields["to_facility"].queryset = network
        # Offered in the list: centres and stations city-wide, rooms of the user's county;
        # any working facility of the city is accepted.
        county = (user.scope_prefix or "")[:6]
        offered = network.filter(
            Q(tier__in=[Tier.CENTRE, Tier.STATION]) | Q(division__code__startswith=county)
        ).order_by("division__code", "tier")[:2000]
        self.fields["to_facility"].widget.choices = [
            ("", "—"),
            *((f.pk, f"{f.name} ({f.get_tier_display()})") for f in offered),
        ]


class AnswerForm(BoundedForm):
    decision = forms.ChoiceField(
        label=gettext_lazy("Answer"),
        choices=[("accept", gettext_lazy("Accept")), ("decline", gettext_lazy("Decline"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)


class CompleteForm(BoundedForm):
    outcome = forms.CharField(
        label=gettext_lazy("Outcome"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


@require_GET
@login_required
@permission_required_or_403("casework.view_referral")
def referral_list(request):
    """The inbox: referrals received by the user's area, or sent from it."""
    return referral_list_page(request)


@require_GET
@login_required
@permission_required_or_403("casework.view_referral")
@permission_required_or_403("casework.export_personal")
def referral_export(request):
    """The filtered inbox as .xlsx (the list's own export, at its older address)."""
    return referral_list_page(as_export(request))


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_referral")
def referral_new(request):
    """Refer ``?resident=<pk>`` (or the resident of ``?case=<pk>``)."""
    user = request.user
    case = None
    case_pk = _int(request.GET.get("case"))
    if case_pk:
        case = get_scoped_or_404(Case.objects.select_related("resident"), user, VIEW, pk=case_pk)
        if not privacy.may_open(user, case):
            return redirect("casework:case_break_glass", pk=case.pk)
        resident = case.resident
    else:
        resident = get_scoped_or_404(
            Resident.objects.select_related("community"),
            user,
            VIEW,
            pk=_int(request.GET.get("resident")),
        )
    today = timezone.localdate()
    initial = {"due_on": today + timedelta(days=14)}
    if case is not None:
        initial["from_facility"] = case.facility_id
    form = ReferralForm(request.POST or None, user=user, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral = services.referral_send(
                    actor=user,
                    resident=resident,
                    case=case,
                    from_facility=data["from_facility"],
                    to_facility=data["to_facility"],
                    to_agency=data["to_agency"],
                    reason=data["reason"],
                    consent_checked=data["consent_checked"],
                    due_on=data["due_on"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The referral was sent."))
                return redirect("casework:referral", pk=referral.pk)
        status = 400
    return no_store(
        render(
            request,
            "casework/referral_new.html",
            {
                "form": form,
                "resident": resident,
                "case": case,
                "has_consent": services.has_referral_consent(resident, today),
                "query": f"case={case.pk}" if case else f"resident={resident.pk}",
            },
            status=status,
        )
    )


def _referral(request, pk: int) -> Referral:
    return get_scoped_or_404(
        Referral.objects.select_related(
            "resident", "case", "from_facility__division", "to_facility__division", "sent_by"
        ),
        request.user,
        VIEW,
        pk=pk,
    )


def _render_referral(request, referral: Referral, bound: dict | None = None, status: int = 200):
    user = request.user
    privacy.log_access(user, "referral_view", referral.resident, detail={"referral": referral.pk})
    bound = bound or {}
    case_visible = (
        referral.case_id is not None
        and Case.objects.restrict(user, VIEW).filter(pk=referral.case_id).exists()
    )
    return no_store(
        render(
            request,
            "casework/referral_detail.html",
            {
                "referral": referral,
                "resident": referral.resident,
                "national_id": privacy.shown_national_id(user, referral.resident),
                "overdue": selectors.is_overdue(referral),
                "answer_form": (bound.get("answer") or AnswerForm())
                if services.may_answer(user, referral)
                else None,
                "complete_form": (bound.get("complete") or CompleteForm())
                if services.may_complete(user, referral)
                else None,
                "case_visible": case_visible,
            },
            status=status,
        )
    )


@require_GET
@login_required
@permission_required_or_403("casework.view_referral")
def referral_detail(request, pk: int):
    return _render_referral(request, _referral(request, pk))


@require_POST
@login_required
@permission_required_or_403("casework.change_referral")
def referral_answer(request, pk: int):
    referral = _referral(request, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.referral_answer(
                actor=request.user,
                referral=referral,
                accept=form.cleaned_data["decision"] == "accept",
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The answer was recorded."))
            return redirect("casework:referral", pk=referral.pk)
    referral.refresh_from_db()
    if not services.may_answer(request.user, referral):
        messages.error(request, " ".join(m for e in form.errors.values() for m in e))
        return redirect("casework:referral", pk=referral.pk)
    return _render_referral(request, referral, {"answer": form}, status=400)


@require_POST
@login_required
@permission_required_or_403("casework.change_referral")
def referral_complete(request, pk: int):
    referral = _referral(request, pk)
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            services.referral_complete(
                actor=request.user, referral=referral, outcome=form.cleaned_data["outcome"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The outcome was recorded."))
            return redirect("casework:referral", pk=referral.pk)
    referral.refresh_from_db()
    if not services.may_complete(request.user, referral):
        messages.error(request, " ".join(m for e in form.errors.values() for m in e))
        return redirect("casework:referral", pk=referral.pk)
    return _render_referral(request, referral, {"complete": form}, status=400)


urlpatterns = [
    path("referrals/", referral_list, name="referrals"),
    path("referrals/export/", referral_export, name="referrals_export"),
    path("referrals/new/", referral_new, name="referral_new"),
    path("referrals/<int:pk>/", referral_detail, name="referral"),
    path("referrals/<int:pk>/answer/", referral_answer, name="referral_answer"),
    path("referrals/<int:pk>/complete/", referral_complete, name="referral_complete"),
]

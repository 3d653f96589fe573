"""Pages: residents (issue #6) — the list (search, filters, sorting, pages, export), a
resident's page (statuses, consents, household, guardian, residences, cases, services
timeline, referrals) and the forms that change them.

Privacy (security.md 7, 8, 14, 16, 17), all decided by ``casework.privacy``:

- every page here answers ``Cache-Control: no-store``;
- a resident's page writes one access-log row per view; a protected resident (a child
  under 14) opens only when ``may_open`` says so, otherwise the break-the-glass form is
  shown (and the refused view logged);
- national IDs and phones are shown through ``shown_national_id``/``shown_phone``;
- no name, ID or phone ever reaches a URL: the search box is POSTed; an ID is matched
  exactly through the keyed hash and answered in the POST's response, never echoed; a name
  is kept in the session under a random key and the list's URL carries only that key;
- an export needs ``may_export_personal``, is capped at ``EXPORT_CAP`` rows and logged.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shegong.casework import privacy
from shegong.casework.lists.residents import (
    SEARCH_SESSION_KEY,
    communities_in_scope,
    resident_list_page,
)
from shegong.casework.models import (
    Consent,
    ConsentPurpose,
    DisabilityCategory,
    Relationship,
    Resident,
    SpecialGroup,
    SpecialStatus,
)
from shegong.casework.selectors.residents import (
    resident_cases,
    resident_referrals,
    resident_timeline,
    residents_picked,
)
from shegong.casework.services import residents as services
from shegong.core.forms import BoundedForm, DateInput, NoEchoInput, add_service_errors
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.core.validators import mask_national_id
from shegong.geo.models import Division, Level

PAGE_SIZE = 50
ID_LIKE = re.compile(r"^[0-9]{17}[0-9Xx]$")
SEARCHES_KEPT = 20


# --- forms ------------------------------------------------------------------------------------


class ResidentForm(BoundedForm):
    """Registering a resident."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    national_id = forms.CharField(
        label=gettext_lazy("National ID"),
        max_length=18,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("18 characters; checked, stored encrypted."),
    )
    community = forms.ChoiceField(label=gettext_lazy("Community of residence"))
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)
    registered_in = forms.CharField(
        label=gettext_lazy("Household registration (division code)"), max_length=12, required=False
    )
    moved_in_on = forms.DateField(
        label=gettext_lazy("Living there since"), required=False, widget=DateInput()
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea)

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = list(communities)
        if len(communities) == 1:
            self.fields["community"].initial = communities[0][0]

    def clean_registered_in(self):
        return _division_field(self.cleaned_data.get("registered_in"))


class ResidentEditForm(BoundedForm):
    """Editing a resident (the version seen travels with the form)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)
    registered_in = forms.CharField(
        label=gettext_lazy("Household registration (division code)"), max_length=12, required=False
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea)

    def __init__(self, *args, sees_identity=True, masked_phone="", **kwargs):
        super().__init__(*args, **kwargs)
        if not sees_identity:
            # the phone is not shown in clear to this role: leave empty to keep it
            self.fields["phone"].help_text = _(
                "Leave empty to keep the current number (%(masked)s)."
            ) % {"masked": masked_phone or "—"}
            del self.fields["notes"]

    def clean_registered_in(self):
        return _division_field(self.cleaned_data.get("registered_in"))


class TransferForm(BoundedForm):
    to_community = forms.CharField(
        label=gettext_lazy("Move to community (12-digit code)"),
        max_length=12,
        help_text=gettext_lazy(
            "Any community of the city; the resident leaves your list if it is outside your area."
        ),
    )
    moved_on = forms.DateField(label=gettext_lazy("Moved on"), widget=DateInput())
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_to_community(self):
        code = (self.cleaned_data.get("to_community") or "").strip()
        division = Division.objects.filter(code=code, level=Level.COMMUNITY).first()
        if division is None:
            raise forms.ValidationError(_("No community has this code."))
        return division


class StatusForm(BoundedForm):
    group = forms.ChoiceField(label=gettext_lazy("Special group"), choices=SpecialGroup.choices)
    started_on = forms.DateField(label=gettext_lazy("Start"), widget=DateInput())
    review_on = forms.DateField(label=gettext_lazy("Review"), required=False, widget=DateInput())
    ended_on = forms.DateField(label=gettext_lazy("End"), required=False, widget=DateInput())
    evidence = forms.CharField(label=gettext_lazy("Evidence"), max_length=300, required=False)
    disability_category = forms.TypedChoiceField(
        label=gettext_lazy("Disability category"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *DisabilityCategory.choices],
    )
    disability_grade = forms.TypedChoiceField(
        label=gettext_lazy("Disability grade"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), (1, "1"), (2, "2"), (3, "3"), (4, "4")],
    )
    certificate_number = forms.CharField(
        label=gettext_lazy("Disability certificate number"),
        max_length=20,
        required=False,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "The national ID followed by the category digit and the grade digit."
        ),
    )


class EndForm(BoundedForm):
    ended_on = forms.DateField(label=gettext_lazy("End"), widget=DateInput())


class ConsentForm(BoundedForm):
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=ConsentPurpose.choices)
    given_on = forms.DateField(label=gettext_lazy("Given on"), widget=DateInput())
    given_by_guardian = forms.BooleanField(
        label=gettext_lazy("Given by the guardian"), required=False
    )
    given_by_name = forms.CharField(
        label=gettext_lazy("Given by (name)"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Empty: the resident, or the guardian when given by the guardian."),
    )


class WithdrawForm(BoundedForm):
    withdrawn_on = forms.DateField(label=gettext_lazy("Withdrawn on"), widget=DateInput())


class MemberForm(BoundedForm):
    member_national_id = forms.CharField(
        label=gettext_lazy("The member's national ID"),
        max_length=18,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("The member must already be registered as a resident in your area."),
    )
    relationship = forms.ChoiceField(
        label=gettext_lazy("Relationship to the head of household"), choices=Relationship.choices
    )
    address = forms.CharField(
        label=gettext_lazy("Household address (when the household is new)"),
        max_length=300,
        required=False,
    )


class GuardianForm(BoundedForm):
    guardian_national_id = forms.CharField(
        label=gettext_lazy("The guardian's national ID"),
        max_length=18,
        required=False,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "An adult registered as a resident in your area. Empty: remove the guardian."
        ),
    )
    relationship = forms.CharField(
        label=gettext_lazy("Guardian's relationship"), max_length=50, required=False
    )


class BreakGlassForm(BoundedForm):
    # Not required here: the refusal without a reason is privacy's (and logged there).
    reason = forms.CharField(
        label=gettext_lazy("Why do you need to open this record?"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    minutes = forms.TypedChoiceField(
        label=gettext_lazy("Open for"),
        coerce=int,
        initial=privacy.GRANT_MINUTES_DEFAULT,
        choices=[
            (30, gettext_lazy("30 minutes")),
            (60, gettext_lazy("1 hour")),
            (120, gettext_lazy("2 hours")),
            (240, gettext_lazy("4 hours")),
            (privacy.GRANT_MINUTES_MAX, gettext_lazy("8 hours")),
        ],
    )


def _division_field(code: str | None) -> Division | None:
    code = (code or "").strip()
    if not code:
        return None
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise forms.ValidationError(_("No division has this code."))
    return division


# --- helpers ----------------------------------------------------------------------------------


def _render(request, template: str, context: dict, status: int = 200):
    return privacy.no_store(render(request, template, context, status=status))


def _resident(request, pk: int, action: str = VIEW) -> Resident:
    return get_scoped_or_404(
        Resident.objects.select_related("community", "registered_in", "household", "guardian"),
        request.user,
        action,
        pk=pk,
    )


def _protected_redirect(request, resident: Resident):
    """None when the user may open ``resident``; else the refused access is logged and the
    user sent to the break-the-glass form."""
    if privacy.may_open(request.user, resident):
        return None
    privacy.log_access(request.user, "view", resident, allowed=False)
    return redirect("casework:resident_break_glass", pk=resident.pk)


def identity(user, resident: Resident, *, may_open: bool = True) -> dict:
    """The ID and phone of ``resident`` as ``user`` sees them: masked unless ``may_open``
    (the page was asked to show them, and the user may); a dash once anonymised."""
    if resident.anonymised_at is not None:
        return {"national_id": "—", "phone": "—"}
    if not may_open:
        return {
            "national_id": resident.national_id_masked,
            "phone": resident.phone_masked if resident.phone else "",
        }
    return {
        "national_id": privacy.shown_national_id(user, resident),
        "phone": privacy.shown_phone(user, resident),
    }


def _age(resident: Resident, today: date) -> int | None:
    if resident.anonymised_at is not None:
        return None
    return resident.age_on(today)


def _form_page(request, *, title, form, resident=None, back=None, submit=None, **extra):
    return _render(
        request,
        "casework/resident_form.html",
        {
            "title": title,
            "form": form,
            "resident": resident,
            "back": back
            or (reverse("casework:resident", kwargs={"pk": resident.pk}) if resident else None),
            "submit": submit or _("Save"),
            **extra,
        },
    )


# --- the list ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.view_resident")
def resident_list_view(request):
    """Residents in scope (``lists.residents``). The search box is POSTed: an ID is
    matched exactly and answered here; a name is kept in the session and the list
    redirected to a URL holding a random key (with the filters it was searched under)."""
    user = request.user
    if request.method == "POST":
        query = (request.POST.get("q") or "").strip()[:100]
        filters = {
            k: v for k, v in request.GET.items() if k in ("community", "group", "age", "sort")
        }
        if ID_LIKE.match(query):
            found = services.resident_find_by_national_id(user=user, national_id=query)
            privacy.log_access(
                user, "search", None, detail={"by": "national_id", "found": found is not None}
            )
            request.id_found = found
            request.id_searched_masked = mask_national_id(query.upper())
            return resident_list_page(request)
        if query:
            filters["s"] = _save_search(request, query)
            # one access-log row per search; the name searched is not written down
            privacy.log_access(
                user,
                "search",
                None,
                detail={"by": "name", "filters": {k: v for k, v in filters.items() if k != "s"}},
            )
        url = reverse("casework:residents")
        return redirect(f"{url}?{urlencode(filters)}" if filters else url)
    return resident_list_page(request)


def _save_search(request, q: str) -> str:
    searches = dict(request.session.get(SEARCH_SESSION_KEY, {}))
    key = secrets.token_urlsafe(8)
    searches[key] = q
    while len(searches) > SEARCHES_KEPT:
        searches.pop(next(iter(searches)))
    request.session[SEARCH_SESSION_KEY] = searches
    return key


@require_POST
@login_required
@permission_required_or_403("casework.view_resident")
def resident_pick_view(request):
    """The resident picker's search (POSTed: what is typed never reaches a URL): residents
    in scope by the ID's last four, pinyin initials or name, with age, masked ID and
    community to tell namesakes apart. Logged as one search (without what was typed)."""
    user = request.user
    found = residents_picked(user, request.POST.get("q", ""))
    privacy.log_access(user, "search", None, detail={"by": "picker", "found": len(found)})
    today = timezone.localdate()
    results = []
    for r in found:
        age = r.age_on(today)
        results.append(
            {
                "id": r.pk,
                "name": r.name,
                "meta": " · ".join(
                    [_("%(n)d years") % {"n": age}, r.national_id_masked, r.community.name]
                ),
            }
        )
    return privacy.no_store(JsonResponse({"results": results}))


@require_GET
@login_required
@permission_required_or_403("casework.view_resident")
def resident_export_view(request):
    """The filtered list as .xlsx (``lists.residents``: only for roles that may export
    personal data, capped, logged)."""
    request.GET = request.GET.copy()
    request.GET["format"] = "xlsx"
    return resident_list_page(request)


# --- a resident's page ------------------------------------------------------------------------

TIMELINE_LABELS = {
    "service": gettext_lazy("Service"),
    "case": gettext_lazy("Case opened"),
    "status": gettext_lazy("Special group from"),
    "status_end": gettext_lazy("Special group ended"),
    "residence": gettext_lazy("Moved in"),
    "consent": gettext_lazy("Consent given"),
    "consent_withdrawn": gettext_lazy("Consent withdrawn"),
    "referral": gettext_lazy("Referral"),
}


@require_GET
@login_required
@permission_required_or_403("casework.view_resident")
def resident_detail_view(request, pk: int):
    """One resident. Viewing writes one access-log row; a protected resident the user may
    not open shows the break-the-glass form instead (and the refusal is logged)."""
    user = request.user
    resident = _resident(request, pk)
    if not privacy.may_open(user, resident):
        privacy.log_access(user, "view", resident, allowed=False)
        return _render(
            request,
            "casework/break_glass.html",
            _break_glass_context(resident, BreakGlassForm()),
            status=403,
        )
    today = timezone.localdate()
    sees = privacy.sees_identity(user)
    # The full ID and phone only on request (security.md 7), and the view's row says so.
    show_identity = sees and request.GET.get("show") == "identity"
    privacy.log_access(
        user, "view", resident, detail={"identity": "shown"} if show_identity else None
    )
    visible_residents = Resident.objects.restrict(user, VIEW)
    members = (
        visible_residents.filter(household_id=resident.household_id).exclude(pk=resident.pk)
        if resident.household_id
        else Resident.objects.none()
    )
    guardian_visible = (
        resident.guardian_id is not None
        and visible_residents.filter(pk=resident.guardian_id).exists()
    )
    timeline = [
        {"entry": e, "label": TIMELINE_LABELS[e.kind]} for e in resident_timeline(user, resident)
    ]
    statuses = list(resident.statuses.all())
    context = {
        "resident": resident,
        "anonymised": resident.anonymised_at is not None,
        "sees_identity": sees,
        "age": _age(resident, today),
        "sex": {"male": _("male"), "female": _("female")}.get(
            "" if resident.anonymised_at else resident.sex, ""
        ),
        "statuses": [
            {
                "status": s,
                "current": s.ended_on is None or s.ended_on >= today,
                "certificate": _shown_certificate(s, sees),
            }
            for s in statuses
        ],
        "consents": resident.consents.select_related("recorded_by"),
        "members": members.select_related("community"),
        "guardian_visible": guardian_visible,
        "wards": visible_residents.filter(guardian=resident),
        "residences": resident.residences.select_related("community"),
        "cases": resident_cases(user, resident).select_related("facility"),
        "referrals": resident_referrals(user, resident),
        "timeline": timeline,
        "can": {
            "change": user.has_perm("casework.change_resident"),
            "status": user.has_perm("casework.add_specialstatus"),
            "status_end": user.has_perm("casework.change_specialstatus"),
            "consent": user.has_perm("casework.add_consent"),
            "withdraw": user.has_perm("casework.change_consent"),
            "household": user.has_perm("casework.add_household"),
            "record": user.has_perm("casework.add_servicerecord"),
        },
        **identity(user, resident, may_open=show_identity),
        "identity_hidden": sees and not show_identity and resident.anonymised_at is None,
        "new_entry": _new_entry(request, timeline),
    }
    return _render(request, "casework/resident_detail.html", context)


def _new_entry(request, timeline: list[dict]) -> dict | None:
    """The service just recorded (``?new=<record id>``, after saving): taken out of the
    timeline to head it, highlighted."""
    try:
        record_id = int(request.GET.get("new", ""))
    except ValueError:
        return None
    for index, item in enumerate(timeline):
        entry = item["entry"]
        if entry.kind == "service" and entry.obj.pk == record_id:
            return timeline.pop(index)
    return None


def _shown_certificate(status: SpecialStatus, sees: bool) -> str:
    """A disability certificate number holds the national ID: masked like it."""
    number = status.certificate_number or ""
    return number if sees or not number else mask_national_id(number)


def _break_glass_context(resident: Resident, form) -> dict:
    return {
        "record_label": _("Resident #%(id)s in %(community)s (a child under 14)")
        % {"id": resident.pk, "community": resident.community.name},
        "form": form,
        "action_url": reverse("casework:resident_break_glass", kwargs={"pk": resident.pk}),
        "resident": resident,
    }


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.view_resident")
def resident_break_glass_view(request, pk: int):
    """Open a protected resident for a stated reason and a limited time (security.md 8).
    No reason: refused and the refusal logged (by ``privacy.access_grant_open``)."""
    resident = _resident(request, pk)
    if not privacy.is_protected(resident):
        return redirect("casework:resident", pk=resident.pk)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = privacy.access_grant_open(
                user=request.user,
                record=resident,
                reason=form.cleaned_data["reason"],
                minutes=form.cleaned_data["minutes"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The record is open to you until %(time)s; your reason was recorded.")
                % {"time": timezone.localtime(grant.expires_at).strftime("%H:%M")},
            )
            return redirect("casework:resident", pk=resident.pk)
    return _render(request, "casework/break_glass.html", _break_glass_context(resident, form))


# --- registering and editing ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_resident")
def resident_new_view(request):
    """Register a resident of a community in the user's area."""
    communities = communities_in_scope(request.user)
    form = ResidentForm(request.POST or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        community = Division.objects.get(code=data["community"])
        try:
            resident = services.resident_create(
                actor=request.user,
                name=data["name"],
                national_id=data["national_id"],
                community=community,
                phone=data["phone"],
                registered_in=data["registered_in"],
                notes=data["notes"],
                moved_in_on=data["moved_in_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The resident was registered."))
            return redirect("casework:resident", pk=resident.pk)
    return _form_page(
        request,
        title=_("Register a resident"),
        form=form,
        back=reverse("casework:residents"),
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.change_resident")
def resident_edit_view(request, pk: int):
    """Edit name, phone, household registration and notes; a concurrent edit is refused
    (409) with the form kept."""
    user = request.user
    resident = _resident(request, pk, CHANGE)
    if (blocked := _protected_redirect(request, resident)) is not None:
        return blocked
    sees = privacy.sees_identity(user)
    initial = {
        "version": resident.version,
        "name": resident.name,
        "phone": resident.phone if sees else "",
        "registered_in": resident.registered_in.code if resident.registered_in_id else "",
        "notes": resident.notes if sees else "",
    }
    form = ResidentEditForm(
        request.POST or None,
        initial=initial,
        sees_identity=sees,
        masked_phone=resident.phone_masked if resident.phone else "",
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        phone = data["phone"] if sees or data["phone"].strip() else None
        try:
            services.resident_update(
                actor=user,
                resident=resident,
                version=data["version"],
                name=data["name"],
                phone=phone,
                registered_in=data["registered_in"],
                notes=data.get("notes") if sees else None,
            )
        except services.StaleEdit as exc:
            form.add_error(None, exc.messages)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The resident was saved."))
            return redirect("casework:resident", pk=resident.pk)
    response = _form_page(request, title=_("Edit resident"), form=form, resident=resident)
    response.status_code = status
    return response


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.change_resident")
def resident_transfer_view(request, pk: int):
    """Move a resident to another community of the city: a first POST shows what will
    happen and asks to confirm; the confirmed POST moves them (with history)."""
    resident = _resident(request, pk, CHANGE)
    if (blocked := _protected_redirect(request, resident)) is not None:
        return blocked
    form = TransferForm(
        request.POST or None, initial={"moved_on": timezone.localdate().isoformat()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = data["to_community"]
        if not services.transfer_target_allowed(resident.community, target):
            form.add_error(
                "to_community", _("Choose a community of the city to move the resident to.")
            )
        elif target.pk == resident.community_id:
            form.add_error("to_community", _("The resident already lives in this community."))
        elif not data["confirmed"]:
            confirm = TransferForm(
                initial={
                    "to_community": target.code,
                    "moved_on": data["moved_on"].isoformat(),
                    "reason": data["reason"],
                    "confirmed": True,
                }
            )
            for field in ("to_community", "moved_on", "reason"):
                confirm.fields[field].widget = forms.HiddenInput()
            return _render(
                request,
                "casework/resident_transfer_confirm.html",
                {
                    "resident": resident,
                    "form": confirm,
                    "target": target,
                    "moved_on": data["moved_on"],
                    "leaves_scope": not target.code.startswith(request.user.scope_prefix),
                },
            )
        else:
            try:
                services.resident_transfer(
                    actor=request.user,
                    resident=resident,
                    to_community=target,
                    moved_on=data["moved_on"],
                    reason=data["reason"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The resident moved to %(community)s.") % {"community": target.name},
                )
                if Resident.objects.restrict(request.user, VIEW).filter(pk=resident.pk).exists():
                    return redirect("casework:resident", pk=resident.pk)
                return redirect("casework:residents")
    return _form_page(
        request,
        title=_("Move to another community"),
        form=form,
        resident=resident,
        submit=_("Continue"),
    )


# --- statuses, consents, household, guardian ------------------------------------------------


def _save(request, form, resident: Resident, write, done: str):
    """On a valid POST, ``write(cleaned_data)`` through the service and go back to the
    resident's page with ``done``; a refusal lands on the form's fields. None: show the
    form (again, with what the user typed)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        write(form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None
    messages.success(request, done)
    return redirect("casework:resident", pk=resident.pk)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_specialstatus")
def resident_status_new_view(request, pk: int):
    resident = _resident(request, pk)
    if (blocked := _protected_redirect(request, resident)) is not None:
        return blocked
    form = StatusForm(request.POST or None)
    saved = _save(
        request,
        form,
        resident,
        lambda data: services.status_add(actor=request.user, resident=resident, **data),
        _("The special-group status was recorded."),
    )
    if saved is not None:
        return saved
    return _form_page(request, title=_("Add a special-group status"), form=form, resident=resident)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.change_specialstatus")
def status_end_view(request, pk: int):
    status = get_scoped_or_404(
        SpecialStatus.objects.select_related("resident__community"), request.user, VIEW, pk=pk
    )
    resident = status.resident
    if (blocked := _protected_redirect(request, resident)) is not None:
        return blocked
    form = EndForm(request.POST or None, initial={"ended_on": timezone.localdate().isoformat()})
    saved = _save(
        request,
        form,
        resident,
        lambda data: services.status_end(
            actor=request.user, status=status, ended_on=data["ended_on"]
        ),
        _("The special-group status was ended."),
    )
    if saved is not None:
        return saved
    return _form_page(
        request,
        title=_("End a special-group status"),
        form=form,
        resident=resident,
        summary=f"{status.get_group_display()} · {status.started_on:%Y-%m-%d}",
        confirm=_("End this status? It stays in the history."),
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_consent")
def resident_consent_new_view(request, pk: int):
    resident = _resident(request, pk)
    if (blocked := _protected_redirect(request, resident)) is not None:
        return blocked
    form = ConsentForm(request.POST or None, initial={"given_on": timezone.localdate().isoformat()})
    saved = _save(
        request,
        form,
        resident,
        lambda data: services.consent_record(actor=request.user, resident=resident, **data),
        _("The consent was recorded."),
    )
    if saved is not None:
        return saved
    return _form_page(request, title=_("Record a consent"), form=form, resident=resident)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.change_consent")
def consent_withdraw_view(request, pk: int):
    consent = get_scoped_or_404(
        Consent.objects.select_related("resident__community"), request.user, VIEW, pk=pk
    )
    resident = consent.resident
    if (blocked := _protected_redirect(request, resident)) is not None:
        return blocked
    form = WithdrawForm(
        request.POST or None, initial={"withdrawn_on": timezone.localdate().isoformat()}
    )
    saved = _save(
        request,
        form,
        resident,
        lambda data: services.consent_withdraw(
            actor=request.user, consent=consent, withdrawn_on=data["withdrawn_on"]
        ),
        _("The consent was withdrawn."),
    )
    if saved is not None:
        return saved
    return _form_page(
        request,
        title=_("Withdraw a consent"),
        form=form,
        resident=resident,
        summary=f"{consent.get_purpose_display()} · {consent.given_on:%Y-%m-%d}",
        confirm=_("Withdraw this consent?"),
    )


def _other_resident(request, number: str, field: str, form) -> Resident | None:
    other = services.resident_find_by_national_id(user=request.user, national_id=number)
    privacy.log_access(
        request.user, "search", None, detail={"by": "national_id", "found": other is not None}
    )
    if other is None:
        form.add_error(field, _("No resident with this national ID is registered in your area."))
    return other


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_household")
def household_member_add_view(request, pk: int):
    """Add a registered resident to this resident's household (a household is created, with
    this resident as its head, when there is none yet)."""
    resident = _resident(request, pk, CHANGE)
    if (blocked := _protected_redirect(request, resident)) is not None:
        return blocked
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = _other_resident(request, data["member_national_id"], "member_national_id", form)
        if member is not None:
            try:
                household = resident.household
                if household is None:
                    household = services.household_create(
                        actor=request.user, head=resident, address=data["address"]
                    )
                services.household_member_add(
                    actor=request.user,
                    household=household,
                    resident=member,
                    relationship=data["relationship"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "member" in exc.error_dict:
                    exc = ValidationError({"member_national_id": exc.error_dict["member"]})
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The member was added to the household."))
                return redirect("casework:resident", pk=resident.pk)
    return _form_page(request, title=_("Add a household member"), form=form, resident=resident)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.change_resident")
def resident_guardian_view(request, pk: int):
    """Record (or remove) the guardian of a resident: an adult resident of the area."""
    resident = _resident(request, pk, CHANGE)
    if (blocked := _protected_redirect(request, resident)) is not None:
        return blocked
    form = GuardianForm(
        request.POST or None, initial={"relationship": resident.guardian_relationship}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        number = data["guardian_national_id"].strip()
        guardian = None
        if number:
            guardian = _other_resident(request, number, "guardian_national_id", form)
        if not number or guardian is not None:
            try:
                services.guardian_set(
                    actor=request.user,
                    resident=resident,
                    guardian=guardian,
                    relationship=data["relationship"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "guardian" in exc.error_dict:
                    exc = ValidationError({"guardian_national_id": exc.error_dict["guardian"]})
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The guardian was saved."))
                return redirect("casework:resident", pk=resident.pk)
    return _form_page(request, title=_("Guardian"), form=form, resident=resident)


urlpatterns = [
    path("residents/", resident_list_view, name="residents"),
    path("residents/export/", resident_export_view, name="residents_export"),
    path("residents/new/", resident_new_view, name="resident_new"),
    path("residents/pick/", resident_pick_view, name="resident_pick"),
    path("residents/<int:pk>/", resident_detail_view, name="resident"),
    path("residents/<int:pk>/edit/", resident_edit_view, name="resident_edit"),
    path("residents/<int:pk>/transfer/", resident_transfer_view, name="resident_transfer"),
    path("residents/<int:pk>/statuses/new/", resident_status_new_view, name="resident_status_new"),
    path("statuses/<int:pk>/end/", status_end_view, name="status_end"),
    path(
        "residents/<int:pk>/consents/new/",
        resident_consent_new_view,
        name="resident_consent_new",
    ),
    path("consents/<int:pk>/withdraw/", consent_withdraw_view, name="consent_withdraw"),
    path(
        "residents/<int:pk>/household/add/",
        household_member_add_view,
        name="household_member_add",
    ),
    path("residents/<int:pk>/guardian/", resident_guardian_view, name="resident_guardian"),
    path(
        "residents/<int:pk>/break-glass/",
        resident_break_glass_view,
        name="resident_break_glass",
    ),
]

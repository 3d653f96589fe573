"""Pages: cases (issue #6) — the case list (filters, pages, .xlsx export), opening a case,
and a case's page through its MZ/T 094 stages with the forms of the current stage.

A protected case (counselling or crisis work, or a child under 14) opens only to its
assigned worker and supervisor; anyone else in scope gets the break-the-glass page
(``privacy.may_open`` decides). Every case page view writes one access-log row; every page
here is ``no-store``. The forms' POSTs go to their own URLs; on an error the case page is
shown again with what was typed and the reasons (409 when the case changed meanwhile).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shegong.accounts.models import User
from shegong.accounts.selectors import users_with_perm
from shegong.casework import privacy
from shegong.casework.lists import as_export
from shegong.casework.lists.cases import case_list_page, risk_tone, stage_tone
from shegong.casework.models import (
    Case,
    CaseGoal,
    CaseNoteKind,
    CaseStage,
    ClosureReason,
    Referral,
    ReferralSource,
    Resident,
    RiskLevel,
    ServiceRecord,
)
from shegong.casework.selectors import cases as selectors
from shegong.casework.services import cases as services
from shegong.core.forms import BoundedForm, DateInput, add_service_errors
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.network.models import Facility, FacilityStatus

PAGE_SIZE = 50
no_store = privacy.no_store


# --- forms ----------------------------------------------------------------------------------


class _CaseForm(BoundedForm):
    """A form of the case page: its ids carry ``auto_prefix`` (several forms share a page
    and field names, e.g. the goal's and the note's ``text``)."""

    auto_prefix = ""

    def __init__(self, *args, **kwargs):
        if self.auto_prefix:
            kwargs.setdefault("auto_id", f"{self.auto_prefix}-%s")
        super().__init__(*args, **kwargs)


class CaseOpenForm(BoundedForm):
    facility = forms.ModelChoiceField(
        label=gettext_lazy("Held by"), queryset=Facility.objects.none()
    )
    referral_source = forms.ChoiceField(
        label=gettext_lazy("Referral source"), choices=ReferralSource.choices
    )
    presenting_problem = forms.CharField(
        label=gettext_lazy("Presenting problem"), widget=forms.Textarea(attrs={"rows": 4})
    )
    risk_level = forms.ChoiceField(
        label=gettext_lazy("Risk level"), choices=RiskLevel.choices, initial=RiskLevel.LOW
    )
    protected = forms.BooleanField(
        label=gettext_lazy("Protected record (counselling or crisis work)"), required=False
    )
    assigned_to = forms.ModelChoiceField(
        label=gettext_lazy("Assigned worker"), queryset=User.objects.none()
    )
    supervisor = forms.ModelChoiceField(
        label=gettext_lazy("Supervisor"), queryset=User.objects.none()
    )
    opened_on = forms.DateField(label=gettext_lazy("Opened on"), widget=DateInput())
    next_review_on = forms.DateField(
        label=gettext_lazy("Next review"), required=False, widget=DateInput()
    )

    def __init__(self, *args, user: User, resident: Resident, **kwargs):
        super().__init__(*args, **kwargs)
        area = resident.community
        codes = [*area.ancestor_codes(), area.code]
        self.fields["facility"].queryset = (
            Facility.objects.restrict(user, VIEW)
            .exclude(status=FacilityStatus.CLOSED)
            .filter(division__code__in=codes)
            .order_by("-division__code")
        )
        self.fields["assigned_to"].queryset = users_with_perm("casework.change_case", covering=area)
        self.fields["supervisor"].queryset = users_with_perm("casework.approve_case", covering=area)
        for name in ("assigned_to", "supervisor"):
            self.fields[name].label_from_instance = lambda u: f"{u} ({u.division.name})"


class DecideForm(_CaseForm):
    auto_prefix = "decide"
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("accept", gettext_lazy("Accept the case")), ("decline", gettext_lazy("Decline"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for declining"), required=False, max_length=300
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ApproveForm(_CaseForm):
    auto_prefix = "approve"
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)


class StageForm(_CaseForm):
    """The current stage's content, saved (``action=save``) or with the step to the next
    stage (``action=advance``). Closing asks for an explicit confirmation."""

    auto_prefix = "stage"

    to_stage = forms.ChoiceField(choices=CaseStage.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(
        choices=[("save", "save"), ("advance", "advance")],
        widget=forms.HiddenInput,
        required=False,
    )
    note = forms.CharField(label=gettext_lazy("Note on this step"), required=False, max_length=300)
    assessment = forms.CharField(
        label=gettext_lazy("Assessment (self, family, social system)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    evaluation_method = forms.CharField(
        label=gettext_lazy("Evaluation method"), required=False, max_length=200
    )
    evaluation = forms.CharField(
        label=gettext_lazy("Evaluation"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    closure_reason = forms.ChoiceField(
        label=gettext_lazy("Closure reason"),
        required=False,
        choices=[("", "—"), *ClosureReason.choices],
    )
    closing_report = forms.CharField(
        label=gettext_lazy("Closing report"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    client_reaction = forms.CharField(
        label=gettext_lazy("Client's reaction"), required=False, max_length=300
    )
    confirm_close = forms.BooleanField(
        label=gettext_lazy("I confirm that this case is to be closed."), required=False
    )

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "to_stage": selectors.next_stage(case) or case.stage,
                "version": case.version,
                **{f: getattr(case, f) for f in services.STAGE_FIELDS.get(case.stage, ())},
            },
        )
        super().__init__(*args, **kwargs)
        keep = {"to_stage", "version", "action", "note", *services.STAGE_FIELDS.get(case.stage, ())}
        if case.stage == CaseStage.EVALUATION:
            keep.add("confirm_close")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    def content(self) -> dict:
        return {
            f: self.cleaned_data[f]
            for f in self.fields
            if f not in ("to_stage", "version", "action", "note", "confirm_close")
        }


class GoalForm(_CaseForm):
    auto_prefix = "goal"
    text = forms.CharField(label=gettext_lazy("Goal"), max_length=300)
    priority = forms.IntegerField(
        label=gettext_lazy("Priority"), min_value=1, max_value=9, initial=1
    )


class NoteForm(_CaseForm):
    auto_prefix = "note"
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CaseNoteKind.choices)
    written_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    text = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("initial", {"written_on": timezone.localdate(), "kind": "general"})
        super().__init__(*args, **kwargs)
        if case.stage != CaseStage.INTERVENTION:
            self.fields["kind"].choices = [
                c for c in CaseNoteKind.choices if c[0] == CaseNoteKind.GENERAL
            ]


class ReviewForm(_CaseForm):
    auto_prefix = "review"
    next_review_on = forms.DateField(
        label=gettext_lazy("Next review"), required=False, widget=DateInput()
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReassignForm(_CaseForm):
    auto_prefix = "reassign"
    assigned_to = forms.ModelChoiceField(
        label=gettext_lazy("Assigned worker"), queryset=User.objects.none()
    )
    supervisor = forms.ModelChoiceField(
        label=gettext_lazy("Supervisor"), queryset=User.objects.none()
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "assigned_to": case.assigned_to_id,
                "supervisor": case.supervisor_id,
                "version": case.version,
            },
        )
        super().__init__(*args, **kwargs)
        area = case.facility.division
        self.fields["assigned_to"].queryset = users_with_perm("casework.change_case", covering=area)
        self.fields["supervisor"].queryset = users_with_perm("casework.approve_case", covering=area)


class BreakGlassForm(BoundedForm):
    reason = forms.CharField(
        label=gettext_lazy("Why do you need to open this record?"), max_length=300, required=False
    )
    minutes = forms.IntegerField(
        label=gettext_lazy("For how many minutes"),
        min_value=1,
        max_value=privacy.GRANT_MINUTES_MAX,
        initial=privacy.GRANT_MINUTES_DEFAULT,
    )


# --- the list and the export (declared in ``casework.lists.cases``) ---------------------------


@require_GET
@login_required
@permission_required_or_403("casework.view_case")
def case_list(request):
    """Cases in scope: filters, case-number search (logged), sorting, pages."""
    return case_list_page(request)


@require_GET
@login_required
@permission_required_or_403("casework.view_case")
@permission_required_or_403("casework.export_personal")
def case_export(request):
    """The filtered case list as .xlsx (the list's own export, at its older address)."""
    return case_list_page(as_export(request))


# --- opening a case -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_case")
def case_new(request):
    """Open a case at intake for ``?resident=<pk>``."""
    try:
        resident_pk = int(request.GET.get("resident") or request.POST.get("resident") or 0)
    except ValueError:
        resident_pk = 0
    resident = get_scoped_or_404(
        Resident.objects.select_related("community"), request.user, VIEW, pk=resident_pk
    )
    user = request.user
    initial = {"opened_on": timezone.localdate(), "risk_level": RiskLevel.LOW}
    form = CaseOpenForm(request.POST or None, user=user, resident=resident, initial=initial)
    if user.pk in form.fields["assigned_to"].queryset.values_list("pk", flat=True):
        form.fields["assigned_to"].initial = user.pk
    facilities = list(form.fields["facility"].queryset[:1])
    if facilities:
        form.fields["facility"].initial = facilities[0].pk
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_open(
                    actor=user,
                    resident=resident,
                    facility=data["facility"],
                    referral_source=data["referral_source"],
                    presenting_problem=data["presenting_problem"],
                    risk_level=data["risk_level"],
                    protected=data["protected"],
                    assigned_to=data["assigned_to"],
                    supervisor=data["supervisor"],
                    opened_on=data["opened_on"],
                    next_review_on=data["next_review_on"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Case %(number)s was opened.") % {"number": case.number}
                )
                return redirect("casework:case", pk=case.pk)
        status = 400
    return no_store(
        render(
            request,
            "casework/case_new.html",
            {
                "form": form,
                "resident": resident,
                "national_id": resident.national_id_masked,
            },
            status=status,
        )
    )


# --- a case's page --------------------------------------------------------------------------------


def _case(request, pk: int) -> Case:
    return get_scoped_or_404(
        Case.objects.select_related(
            "resident__community",
            "facility__division",
            "assigned_to",
            "supervisor",
            "approved_by",
        ),
        request.user,
        VIEW,
        pk=pk,
    )


def _break_glass(request, case: Case, form=None, status: int = 403):
    """The break-the-glass page instead of a protected case."""
    return no_store(
        render(
            request,
            "casework/break_glass.html",
            {
                "record_label": _("Case %(number)s · %(facility)s")
                % {"number": case.number, "facility": case.facility.name},
                "form": form or BreakGlassForm(initial={"minutes": privacy.GRANT_MINUTES_DEFAULT}),
                "action_url": reverse("casework:case_break_glass", kwargs={"pk": case.pk}),
            },
            status=status,
        )
    )


TABS = (
    ("overview", gettext_lazy("Overview")),
    ("goals", gettext_lazy("Goals")),
    ("notes", gettext_lazy("Case notes")),
    ("services", gettext_lazy("Service records")),
    ("referrals", gettext_lazy("Referrals")),
    ("history", gettext_lazy("Stage history")),
)
# The tab that shows a form (after a save, or again with its errors).
FORM_TABS = {"goal": "goals", "note": "notes", "review": "overview", "reassign": "overview"}


def _tab(request, bound: dict | None = None) -> str:
    """The open tab: the one of a form shown again with its errors, else ``?tab=``."""
    for name in bound or {}:
        return FORM_TABS.get(name, "overview")
    tab = request.GET.get("tab", "")
    return tab if tab in dict(TABS) else "overview"


def _render_case(request, case: Case, bound: dict | None = None, status: int = 200):
    """The case page, with ``bound`` forms (by name) in place of fresh ones."""
    user = request.user
    if not privacy.may_open(user, case):
        privacy.log_access(user, "view", case, allowed=False)
        return _break_glass(request, case)
    privacy.log_access(user, "view", case)
    bound = bound or {}
    team = user.pk in (case.assigned_to_id, case.supervisor_id)
    can_change = team and user.has_perm("casework.change_case") and case.is_open
    proposal = services.intake_proposal(case)
    forms_: dict = {}
    if case.stage == CaseStage.INTAKE:
        if user.pk == case.assigned_to_id and user.has_perm("casework.change_case"):
            forms_["decide"] = bound.get("decide") or DecideForm(
                initial={
                    "version": case.version,
                    "decision": proposal or "accept",
                    "reason": case.decline_reason,
                }
            )
        if proposal and user.pk == case.supervisor_id and user.has_perm("casework.approve_case"):
            forms_["approve"] = bound.get("approve") or ApproveForm(
                initial={"version": case.version}
            )
    elif can_change:
        forms_["stage"] = bound.get("stage") or StageForm(case=case)
        if case.stage in services.GOAL_STAGES:
            forms_["goal"] = bound.get("goal") or GoalForm()
    if can_change:
        forms_["note"] = bound.get("note") or NoteForm(case=case)
        forms_["review"] = bound.get("review") or ReviewForm(
            initial={"next_review_on": case.next_review_on, "version": case.version}
        )
    if case.is_open and services.may_reassign(user, case) and user.has_perm("casework.change_case"):
        forms_["reassign"] = bound.get("reassign") or ReassignForm(case=case)
    progress = selectors.stage_progress(case)
    tab = _tab(request, bound)
    records = (
        ServiceRecord.objects.restrict(user, VIEW)
        .filter(case=case)
        .select_related("facility")
        .order_by("-served_on", "-id")[:100]
    )
    referrals = (
        Referral.objects.restrict(user, VIEW)
        .filter(case=case)
        .select_related("from_facility", "to_facility")
        .order_by("-sent_on", "-id")
    )
    context = {
        "case": case,
        "resident": case.resident,
        "national_id": privacy.shown_national_id(user, case.resident),
        "is_protected": privacy.is_protected(case),
        "progress": progress,
        "steps": [(s["stage"].value, s["stage"].label) for s in progress],
        "steps_done": [s["stage"].value for s in progress if s["state"] == "done"],
        "step_ended": CaseStage.DECLINED if case.stage == CaseStage.DECLINED else "",
        "tab": tab,
        "stage_tone": stage_tone(case),
        "risk_tone": risk_tone(case),
        "tabs": TABS,
        "next_stage": selectors.next_stage(case),
        "proposal": proposal,
        "forms": forms_,
        "goals": case.goals.all(),
        "notes": case.notes.select_related("author"),
        "history": case.stage_changes.select_related("changed_by"),
        "records": records,
        "referrals": referrals,
        "team": team,
        "can_change": can_change,
        "may_refer": user.has_perm("casework.add_referral") and case.is_open,
        "may_record": user.has_perm("casework.add_servicerecord") and case.is_open,
        "today": timezone.localdate(),
    }
    return no_store(render(request, "casework/case_detail.html", context, status=status))


@require_GET
@login_required
@permission_required_or_403("casework.view_case")
def case_detail(request, pk: int):
    """One case through its stages (one access-log row per view)."""
    return _render_case(request, _case(request, pk))


def _run(request, case: Case, name: str, form, call, success: str):
    """Validate ``form``, run the service, redirect to the case page — or show the page
    again with the form and its errors (409 when the case changed meanwhile)."""
    status = 400
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except services.ConflictError as exc:
            form.add_error(None, str(exc))
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, success)
            url = reverse("casework:case", kwargs={"pk": case.pk})
            tab = FORM_TABS.get(name, "overview")
            return redirect(f"{url}?tab={tab}" if tab != "overview" else url)
    case.refresh_from_db()
    return _render_case(request, case, {name: form}, status=status)


@require_POST
@login_required
@permission_required_or_403("casework.change_case")
def case_decide(request, pk: int):
    case = _case(request, pk)

    def call(data):
        services.case_decide(
            actor=request.user,
            case=case,
            accept=data["decision"] == "accept",
            reason=data["reason"],
            version=data["version"],
        )

    return _run(
        request,
        case,
        "decide",
        DecideForm(request.POST),
        call,
        _("The intake decision was sent to the supervisor for approval."),
    )


@require_POST
@login_required
@permission_required_or_403("casework.approve_case")
def case_approve(request, pk: int):
    case = _case(request, pk)

    def call(data):
        services.case_approve(
            actor=request.user, case=case, note=data["note"], version=data["version"]
        )

    return _run(
        request,
        case,
        "approve",
        ApproveForm(request.POST),
        call,
        _("The intake decision was approved."),
    )


@require_POST
@login_required
@permission_required_or_403("casework.change_case")
def case_advance(request, pk: int):
    """Save the current stage's content, or save it and move one stage on (closing needs
    the confirmation box)."""
    case = _case(request, pk)
    form = StageForm(request.POST, case=case)

    def call(data):
        if data.get("action") == "save":
            services.case_save(
                actor=request.user, case=case, version=data["version"], **form.content()
            )
            return
        if data["to_stage"] == CaseStage.CLOSED and not data.get("confirm_close"):
            raise ValidationError(
                {"confirm_close": _("Tick the box to confirm that the case is to be closed.")}
            )
        services.case_advance(
            actor=request.user,
            case=case,
            to_stage=data["to_stage"],
            version=data["version"],
            note=data["note"],
            **form.content(),
        )

    saved = request.POST.get("action") == "save"
    return _run(
        request,
        case,
        "stage",
        form,
        call,
        _("Saved.") if saved else _("The case moved on to the next stage."),
    )


@require_POST
@login_required
@permission_required_or_403("casework.add_casegoal")
def case_goal_add(request, pk: int):
    case = _case(request, pk)

    def call(data):
        services.case_goal_add(
            actor=request.user, case=case, text=data["text"], priority=data["priority"]
        )

    return _run(request, case, "goal", GoalForm(request.POST), call, _("The goal was added."))


class GoalMarkForm(BoundedForm):
    achieved = forms.ChoiceField(
        choices=[("yes", "yes"), ("no", "no"), ("open", "open")], widget=forms.HiddenInput
    )


@require_POST
@login_required
@permission_required_or_403("casework.change_casegoal")
def case_goal_mark(request, pk: int, goal_id: int):
    case = _case(request, pk)
    goal = get_scoped_or_404(CaseGoal.objects.filter(case=case), request.user, VIEW, pk=goal_id)
    form = GoalMarkForm(request.POST)
    if form.is_valid():
        achieved = {"yes": True, "no": False, "open": None}[form.cleaned_data["achieved"]]
        try:
            services.case_goal_mark(actor=request.user, goal=goal, achieved=achieved)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The goal was updated."))
    return redirect(reverse("casework:case", kwargs={"pk": case.pk}) + "?tab=goals")


@require_POST
@login_required
@permission_required_or_403("casework.add_casenote")
def case_note_add(request, pk: int):
    case = _case(request, pk)

    def call(data):
        services.case_note_add(
            actor=request.user,
            case=case,
            kind=data["kind"],
            text=data["text"],
            written_on=data["written_on"],
        )

    return _run(
        request, case, "note", NoteForm(request.POST, case=case), call, _("The note was added.")
    )


@require_POST
@login_required
@permission_required_or_403("casework.change_case")
def case_review(request, pk: int):
    case = _case(request, pk)

    def call(data):
        services.case_set_review(
            actor=request.user,
            case=case,
            next_review_on=data["next_review_on"],
            version=data["version"],
        )

    return _run(
        request,
        case,
        "review",
        ReviewForm(request.POST),
        call,
        _("The next review date was saved."),
    )


@require_POST
@login_required
@permission_required_or_403("casework.change_case")
def case_reassign(request, pk: int):
    case = _case(request, pk)

    def call(data):
        services.case_reassign(
            actor=request.user,
            case=case,
            assigned_to=data["assigned_to"],
            supervisor=data["supervisor"],
            version=data["version"],
        )

    return _run(
        request,
        case,
        "reassign",
        ReassignForm(request.POST, case=case),
        call,
        _("The case was reassigned."),
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.view_case")
def case_break_glass(request, pk: int):
    """Open a protected case for a stated reason, for a limited time (logged); without a
    reason it is refused — and the refusal logged."""
    case = _case(request, pk)
    if privacy.may_open(request.user, case):
        return redirect("casework:case", pk=case.pk)
    form = BreakGlassForm(request.POST or None, initial={"minutes": privacy.GRANT_MINUTES_DEFAULT})
    if request.method == "GET":
        return _break_glass(request, case, form, status=200)
    if form.is_valid():
        try:
            grant = privacy.access_grant_open(
                user=request.user,
                record=case,
                reason=form.cleaned_data["reason"],
                minutes=form.cleaned_data["minutes"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.warning(
                request,
                _("The case is open to you until %(time)s; your reason was recorded.")
                % {"time": timezone.localtime(grant.expires_at).strftime("%H:%M")},
            )
            return redirect("casework:case", pk=case.pk)
    else:
        privacy.log_access(request.user, "break_glass", case, allowed=False)
    return _break_glass(request, case, form, status=400)


urlpatterns = [
    path("cases/", case_list, name="cases"),
    path("cases/export/", case_export, name="cases_export"),
    path("cases/new/", case_new, name="case_new"),
    path("cases/<int:pk>/", case_detail, name="case"),
    path("cases/<int:pk>/decide/", case_decide, name="case_decide"),
    path("cases/<int:pk>/approve/", case_approve, name="case_approve"),
    path("cases/<int:pk>/advance/", case_advance, name="case_advance"),
    path("cases/<int:pk>/goals/", case_goal_add, name="case_goal_add"),
    path("cases/<int:pk>/goals/<int:goal_id>/", case_goal_mark, name="case_goal_mark"),
    path("cases/<int:pk>/notes/", case_note_add, name="case_note_add"),
    path("cases/<int:pk>/review/", case_review, name="case_review"),
    path("cases/<int:pk>/reassign/", case_reassign, name="case_reassign"),
    path("cases/<int:pk>/break-glass/", case_break_glass, name="case_break_glass"),
]

"""Pages: group work (MZ/T 095) and community activities (issue #6 item 4)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shegong.accounts.selectors import users_with_perm
from shegong.casework import privacy
from shegong.casework.lists import as_export
from shegong.casework.lists.activities import activity_list_page
from shegong.casework.lists.groups import group_list_page
from shegong.casework.models import (
    Activity,
    GroupStage,
    GroupType,
    Resident,
    ServiceDomain,
    SpecialGroup,
    WorkGroup,
)
from shegong.casework.selectors.records import (
    facilities_for,
    group_members,
    with_recipients,
)
from shegong.casework.services.activities import activity_create, activity_record
from shegong.casework.services.groups import (
    group_advance,
    group_create,
    group_member_add,
    group_member_remove,
    group_session_record,
    next_stage,
)
from shegong.core.forms import BoundedForm, DateInput, add_service_errors
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404

PAGE_SIZE = 50
RESIDENT_CHOICES_LIMIT = 300


def _facility_choices(user) -> list[tuple[int, str]]:
    return [(f.pk, f.name) for f in facilities_for(user).only("id", "name", "division")]


def _residents_in_scope(user, exclude=()) -> list[tuple[int, str]]:
    qs = (
        Resident.objects.restrict(user, VIEW)
        .filter(anonymised_at__isnull=True)
        .exclude(pk__in=list(exclude))
        .order_by("name", "id")
        .values_list("pk", "name")[:RESIDENT_CHOICES_LIMIT]
    )
    return list(qs)


def _leaders(user):
    """Active users in the actor's area who do front-line casework."""
    return users_with_perm("casework.add_servicerecord", within=user.scope_prefix)[:200]


# --- groups --------------------------------------------------------------------------------


@require_GET
@login_required
@permission_required_or_403("casework.view_workgroup")
def groups(request):
    """The groups run in the user's area, by stage."""
    return group_list_page(request)


@require_GET
@login_required
@permission_required_or_403("casework.view_workgroup")
def groups_export(request):
    """The filtered group list as .xlsx (the list's own export, at its older address)."""
    return group_list_page(as_export(request))


@require_GET
@login_required
@permission_required_or_403("casework.view_workgroup")
def group_detail(request, pk: int):
    """One group: its stage, members and sessions (attendance and summary)."""
    group = get_scoped_or_404(
        WorkGroup.objects.select_related("facility", "leader"), request.user, VIEW, pk=pk
    )
    members = list(group_members(group))
    current = [m for m in members if m.left_on is None]
    sessions = list(with_recipients(group.sessions.order_by("session_number", "id")))
    held = {s.session_number for s in sessions}
    planned = max(group.planned_sessions, max(held, default=0))
    stage_keys = [key for key, _label in GroupStage.choices]
    here = stage_keys.index(group.stage) if group.stage in stage_keys else 0
    return privacy.no_store(
        render(
            request,
            "casework/group_detail.html",
            {
                "group": group,
                "members": members,
                "current_members": current,
                "sessions": sessions,
                "next_stage": next_stage(group.stage),
                "next_stage_label": GroupStage(next_stage(group.stage)).label
                if next_stage(group.stage)
                else None,
                "stages": GroupStage.choices,
                "stages_done": stage_keys[:here],
                "session_steps": [(n, _("Session %(n)s") % {"n": n}) for n in range(1, planned + 1)]
                if planned <= 20
                else [],
                "sessions_held": sorted(held),
                "session_next": next((n for n in range(1, planned + 1) if n not in held), None),
                "candidates": _residents_in_scope(request.user, [m.resident_id for m in current])
                if request.user.has_perm("casework.change_workgroup")
                else [],
            },
        )
    )


class GroupForm(BoundedForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    facility = forms.TypedChoiceField(label=gettext_lazy("Run by"), coerce=int)
    group_type = forms.ChoiceField(label=gettext_lazy("Group type"), choices=GroupType.choices)
    target_group = forms.ChoiceField(
        label=gettext_lazy("Target group"),
        required=False,
        choices=[("", "—"), *SpecialGroup.choices],
    )
    goals = forms.CharField(
        label=gettext_lazy("Goals"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    planned_sessions = forms.IntegerField(
        label=gettext_lazy("Planned sessions"), min_value=1, max_value=100, initial=6
    )
    leader = forms.TypedChoiceField(label=gettext_lazy("Leader"), coerce=int)
    started_on = forms.DateField(label=gettext_lazy("Start"), widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].choices = _facility_choices(user)
        self.leaders = {u.pk: u for u in _leaders(user)}
        self.fields["leader"].choices = [
            (u.pk, u.full_name or u.username) for u in self.leaders.values()
        ]


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_workgroup")
def group_new(request):
    """Set up a group (it starts in preparation)."""
    user = request.user
    if request.method == "POST":
        form = GroupForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            facility = get_scoped_or_404(facilities_for(user), user, VIEW, pk=data["facility"])
            try:
                group = group_create(
                    actor=user,
                    facility=facility,
                    name=data["name"],
                    group_type=data["group_type"],
                    target_group=data["target_group"],
                    goals=data["goals"],
                    planned_sessions=data["planned_sessions"],
                    leader=form.leaders[data["leader"]],
                    started_on=data["started_on"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Group created."))
                return redirect("casework:group", pk=group.pk)
    else:
        own = facilities_for(user).filter(division=user.division).first()
        form = GroupForm(
            initial={
                "started_on": timezone.localdate(),
                "leader": user.pk,
                "facility": own.pk if own else None,
            },
            user=user,
        )
    return render(request, "casework/group_form.html", {"form": form})


class MemberForm(BoundedForm):
    resident = forms.IntegerField()


def _change_membership(request, pk: int, change, done: str):
    """Add a resident in scope to the group, or let one leave: ``change`` is the service."""
    group = get_scoped_or_404(
        WorkGroup.objects.select_related("facility__division"), request.user, CHANGE, pk=pk
    )
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a resident."))
        return redirect("casework:group", pk=group.pk)
    resident = get_scoped_or_404(Resident, request.user, VIEW, pk=form.cleaned_data["resident"])
    try:
        change(actor=request.user, group=group, resident=resident)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("casework:group", pk=group.pk)


@require_POST
@login_required
@permission_required_or_403("casework.change_workgroup")
def group_member_add_view(request, pk: int):
    """Add a resident in scope to the group."""
    return _change_membership(request, pk, group_member_add, _("Member added."))


@require_POST
@login_required
@permission_required_or_403("casework.change_workgroup")
def group_member_remove_view(request, pk: int):
    """A member leaves the group (kept in its history)."""
    return _change_membership(request, pk, group_member_remove, _("The member has left the group."))


@require_POST
@login_required
@permission_required_or_403("casework.change_workgroup")
def group_advance_view(request, pk: int):
    """Move the group one stage forward (``to_stage`` must be the next one)."""
    group = get_scoped_or_404(
        WorkGroup.objects.select_related("facility__division"), request.user, CHANGE, pk=pk
    )
    try:
        group_advance(
            actor=request.user, group=group, to_stage=request.POST.get("to_stage") or None
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The group is now at “%(stage)s”.") % {"stage": group.get_stage_display()}
        )
    return redirect("casework:group", pk=group.pk)


class SessionForm(BoundedForm):
    served_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    attendees = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Attendees"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    headcount = forms.IntegerField(
        label=gettext_lazy("Others present (head-count)"), min_value=0, initial=0, required=False
    )
    domain = forms.ChoiceField(label=gettext_lazy("Domain"), choices=ServiceDomain.choices)
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), min_value=1, max_value=1440, initial=90
    )
    place = forms.CharField(label=gettext_lazy("Place"), required=False, max_length=200)
    session_plan = forms.CharField(
        label=gettext_lazy("Session plan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    poverty_alleviation = forms.BooleanField(
        label=gettext_lazy("Poverty-alleviation service"), required=False
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = [(m.resident_id, m.resident.name) for m in members]


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_servicerecord")
def group_session_new(request, pk: int):
    """Record the group's next session: plan, attendance (members), summary."""
    user = request.user
    group = get_scoped_or_404(
        WorkGroup.objects.select_related("facility__division"), user, VIEW, pk=pk
    )
    members = [m for m in group_members(group) if m.left_on is None]
    if request.method == "POST":
        form = SessionForm(request.POST, members=members)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = group_session_record(
                    actor=user,
                    group=group,
                    served_on=data["served_on"],
                    attendees=data["attendees"],
                    headcount=data["headcount"] or 0,
                    domain=data["domain"],
                    duration_minutes=data["duration_minutes"],
                    place=data["place"],
                    session_plan=data["session_plan"],
                    summary=data["summary"],
                    poverty_alleviation=data["poverty_alleviation"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Session %(n)d recorded: %(p)d person-times.")
                    % {"n": record.session_number, "p": record.person_times},
                )
                return redirect("casework:group", pk=group.pk)
    else:
        form = SessionForm(
            initial={
                "served_on": timezone.localdate(),
                "domain": ServiceDomain.SOCIAL_SUPPORT,
                "duration_minutes": 90,
                "headcount": 0,
            },
            members=members,
        )
    return privacy.no_store(
        render(request, "casework/group_session_form.html", {"form": form, "group": group})
    )


# --- community activities -----------------------------------------------------------------


@require_GET
@login_required
@permission_required_or_403("casework.view_activity")
def activities(request):
    """Community activities in the user's area, newest first, with their person-times."""
    return activity_list_page(request)


@require_GET
@login_required
@permission_required_or_403("casework.view_activity")
def activities_export(request):
    """The activity list as .xlsx (the list's own export, at its older address)."""
    return activity_list_page(as_export(request))


@require_GET
@login_required
@permission_required_or_403("casework.view_activity")
def activity_detail(request, pk: int):
    """One activity: needs, plan, partners, volunteers, summary and who took part."""
    activity = get_scoped_or_404(
        Activity.objects.select_related("facility"), request.user, VIEW, pk=pk
    )
    records = list(with_recipients(activity.service_records.order_by("id")))
    return privacy.no_store(
        render(
            request,
            "casework/activity_detail.html",
            {
                "activity": activity,
                "records": records,
                "held": activity.held_on <= timezone.localdate(),
            },
        )
    )


class ActivityForm(BoundedForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    facility = forms.TypedChoiceField(label=gettext_lazy("Run by"), coerce=int)
    held_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    place = forms.CharField(label=gettext_lazy("Place"), required=False, max_length=200)
    needs = forms.CharField(
        label=gettext_lazy("Needs assessment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    plan = forms.CharField(
        label=gettext_lazy("Plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    partners = forms.CharField(label=gettext_lazy("Partners"), required=False, max_length=300)
    volunteer_count = forms.IntegerField(
        label=gettext_lazy("Volunteers"), min_value=0, initial=0, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].choices = _facility_choices(user)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.add_activity")
def activity_new(request):
    """Plan a community activity."""
    user = request.user
    if request.method == "POST":
        form = ActivityForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            facility = get_scoped_or_404(facilities_for(user), user, VIEW, pk=data["facility"])
            try:
                activity = activity_create(
                    actor=user,
                    facility=facility,
                    title=data["title"],
                    held_on=data["held_on"],
                    place=data["place"],
                    needs=data["needs"],
                    plan=data["plan"],
                    partners=data["partners"],
                    volunteer_count=data["volunteer_count"] or 0,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Activity planned."))
                return redirect("casework:activity", pk=activity.pk)
    else:
        own = facilities_for(user).filter(division=user.division).first()
        form = ActivityForm(
            initial={"held_on": timezone.localdate(), "facility": own.pk if own else None},
            user=user,
        )
    return render(request, "casework/activity_form.html", {"form": form})


class ActivityRecordForm(BoundedForm):
    residents = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Registered participants"),
        required=False,
        coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    headcount = forms.IntegerField(
        label=gettext_lazy("Other participants (head-count)"),
        min_value=0,
        initial=0,
        required=False,
    )
    domain = forms.ChoiceField(
        label=gettext_lazy("Domain"),
        choices=ServiceDomain.choices,
        initial=ServiceDomain.COMMUNITY_PARTICIPATION,
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), min_value=1, max_value=1440, initial=120
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    poverty_alleviation = forms.BooleanField(
        label=gettext_lazy("Poverty-alleviation service"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["residents"].choices = _residents_in_scope(user)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("casework.change_activity")
def activity_record_view(request, pk: int):
    """Record who took part in a held activity (registered residents and a head-count)."""
    user = request.user
    activity = get_scoped_or_404(
        Activity.objects.select_related("facility__division"), user, CHANGE, pk=pk
    )
    if request.method == "POST":
        form = ActivityRecordForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = activity_record(
                    actor=user,
                    activity=activity,
                    residents=data["residents"],
                    headcount=data["headcount"] or 0,
                    summary=data["summary"],
                    domain=data["domain"],
                    duration_minutes=data["duration_minutes"],
                    poverty_alleviation=data["poverty_alleviation"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Participants recorded: %(n)d person-times.") % {"n": record.person_times},
                )
                return redirect("casework:activity", pk=activity.pk)
    else:
        form = ActivityRecordForm(user=user, initial={"headcount": 0})
    return privacy.no_store(
        render(request, "casework/activity_record_form.html", {"form": form, "activity": activity})
    )


urlpatterns = [
    path("groups/", groups, name="groups"),
    path("groups/export/", groups_export, name="groups_export"),
    path("groups/new/", group_new, name="group_new"),
    path("groups/<int:pk>/", group_detail, name="group"),
    path("groups/<int:pk>/sessions/new/", group_session_new, name="group_session_new"),
    path("groups/<int:pk>/members/add/", group_member_add_view, name="group_member_add"),
    path("groups/<int:pk>/members/remove/", group_member_remove_view, name="group_member_remove"),
    path("groups/<int:pk>/advance/", group_advance_view, name="group_advance"),
    path("activities/", activities, name="activities"),
    path("activities/export/", activities_export, name="activities_export"),
    path("activities/new/", activity_new, name="activity_new"),
    path("activities/<int:pk>/", activity_detail, name="activity"),
    path("activities/<int:pk>/record/", activity_record_view, name="activity_record"),
]

"""Forms for the network pages; every save goes through a service."""

from django import forms
from django.utils.translation import gettext_lazy as _

from shegong.core.forms import BoundedForm, DateInput
from shegong.core.roles import MANAGED_TIERS
from shegong.geo.models import Kind
from shegong.geo.selectors import division_by_code
from shegong.network.models import (
    CHECKLIST_ITEMS,
    FacilityStatus,
    IncubationStage,
    OperatorKind,
    Rating,
    SocialOrganisation,
    Tier,
)
from shegong.workforce.models import Employment


class ChecklistMixin:
    """Six done/note pairs for the construction checklist."""

    def add_checklist_fields(self, initial: dict | None = None) -> None:
        initial = initial or {}
        for key, label in CHECKLIST_ITEMS.items():
            item = initial.get(key, {})
            self.fields[f"check_{key}"] = forms.BooleanField(
                label=label, required=False, initial=item.get("done", False)
            )
            self.fields[f"note_{key}"] = forms.CharField(
                label=_("Note"), required=False, max_length=500, initial=item.get("note", "")
            )

    def checklist(self) -> dict:
        return {
            key: {
                "done": self.cleaned_data.get(f"check_{key}", False),
                "note": self.cleaned_data.get(f"note_{key}", ""),
            }
            for key in CHECKLIST_ITEMS
        }

    def checklist_rows(self):
        return [(self[f"check_{key}"], self[f"note_{key}"]) for key in CHECKLIST_ITEMS]


class FacilityCreateForm(ChecklistMixin, BoundedForm):
    """A new facility in one of the tiers the user manages."""

    tier = forms.ChoiceField(label=_("Tier"))
    division_code = forms.CharField(label=_("Division code"), max_length=12)
    name = forms.CharField(label=_("Name"), max_length=200)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(s, FacilityStatus(s).label) for s in ("planned", "built", "operating")],
    )
    status_from = forms.DateField(label=_("Since"), widget=DateInput())
    operator_kind = forms.ChoiceField(label=_("Operator"), choices=OperatorKind.choices)
    operator = forms.ModelChoiceField(
        label=_("Operating agency"), queryset=SocialOrganisation.objects.none(), required=False
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["tier"].choices = [
            (t, Tier(t).label) for t in Tier.values if t in MANAGED_TIERS.get(user.role, ())
        ]
        self.fields["operator"].queryset = SocialOrganisation.objects.restrict(user, "view").filter(
            is_social_work_agency=True
        )
        self.add_checklist_fields()

    def clean_division_code(self):
        division = division_by_code(user=self.user, code=self.cleaned_data["division_code"].strip())
        if division is None:
            raise forms.ValidationError(_("No division with this code in your area."))
        self.cleaned_data["division"] = division
        return division.code


class FacilityEditForm(ChecklistMixin, BoundedForm):
    """A facility's details; ``version`` detects a concurrent edit."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200)
    operator_kind = forms.ChoiceField(label=_("Operator"), choices=OperatorKind.choices)
    operator = forms.ModelChoiceField(
        label=_("Operating agency"), queryset=SocialOrganisation.objects.none(), required=False
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)

    def __init__(self, *args, user, facility, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "version": facility.version,
                "name": facility.name,
                "operator_kind": facility.operator_kind,
                "operator": facility.operator_id,
                "address": facility.address,
                "phone": facility.phone,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["operator"].queryset = SocialOrganisation.objects.restrict(user, "view").filter(
            is_social_work_agency=True
        )
        self.add_checklist_fields(facility.checklist)


class StatusForm(BoundedForm):
    """Move a facility to its next status from a date."""

    status = forms.ChoiceField(label=_("New status"), choices=FacilityStatus.choices)
    effective_on = forms.DateField(label=_("From"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PostingForm(BoundedForm):
    """Post a registered social worker, found by national ID (exact match only)."""

    national_id = forms.CharField(label=_("National ID of the social worker"), max_length=18)
    employment = forms.ChoiceField(label=_("Employment"), choices=Employment.choices)
    post_type = forms.CharField(label=_("Post"), max_length=100, required=False)
    started_on = forms.DateField(
        label=_("Start"),
        widget=DateInput(),
        help_text=_(
            "The posting counts from this day. When it ends, its end date is the first day "
            "the person no longer works here: that day does not count."
        ),
    )


class StandardEndForm(BoundedForm):
    """End the version in force of a standard."""

    standard = forms.IntegerField(widget=forms.HiddenInput)
    ended_on = forms.DateField(
        label=_("No longer applies from"),
        widget=DateInput(),
        help_text=_("The first day the version no longer applies."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class StandardForm(BoundedForm):
    """A new version of the staffing standard."""

    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices)
    division_kind = forms.ChoiceField(
        label=_("Division kind"),
        required=False,
        choices=[("", _("Any county (guidance centres)")), *Kind.choices],
    )
    min_full_time = forms.IntegerField(
        label=_("Minimum full-time social workers"), min_value=0, max_value=50
    )
    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput())
    document = forms.CharField(label=_("Source document"), max_length=300)


class OrganisationForm(BoundedForm):
    """Register a social organisation or agency."""

    name = forms.CharField(label=_("Name"), max_length=200)
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=18)
    division_code = forms.CharField(label=_("Registered in (division code)"), max_length=12)
    is_social_work_agency = forms.BooleanField(label=_("Social work agency"), required=False)
    rating = forms.ChoiceField(
        label=_("Rating"), required=False, choices=[("", "—"), *Rating.choices]
    )
    rating_expires_on = forms.DateField(
        label=_("Rating expires"), required=False, widget=DateInput()
    )
    incubation_stage = forms.ChoiceField(
        label=_("Incubation stage (if a station incubates it)"),
        required=False,
        choices=[("", "—"), *IncubationStage.choices],
    )
    incubation_started_on = forms.DateField(
        label=_("Incubation started"), required=False, widget=DateInput()
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_division_code(self):
        division = division_by_code(user=self.user, code=self.cleaned_data["division_code"].strip())
        if division is None:
            raise forms.ValidationError(_("No division with this code in your area."))
        self.cleaned_data["division"] = division
        return division.code


class VisitForm(BoundedForm):
    """A supervision visit with up to three required fixes."""

    supervised = forms.ChoiceField(label=_("Facility visited"))
    visited_on = forms.DateField(label=_("Date"), widget=DateInput())
    visitors = forms.CharField(label=_("Visitors"), max_length=300)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 4}))
    fix_1 = forms.CharField(label=_("Required fix"), required=False, max_length=500)
    deadline_1 = forms.DateField(label=_("Deadline"), required=False, widget=DateInput())
    fix_2 = forms.CharField(label=_("Required fix"), required=False, max_length=500)
    deadline_2 = forms.DateField(label=_("Deadline"), required=False, widget=DateInput())
    fix_3 = forms.CharField(label=_("Required fix"), required=False, max_length=500)
    deadline_3 = forms.DateField(label=_("Deadline"), required=False, widget=DateInput())

    def __init__(self, *args, supervised_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervised"].choices = supervised_choices

    def fixes(self):
        result = []
        for i in (1, 2, 3):
            text = self.cleaned_data.get(f"fix_{i}", "").strip()
            deadline = self.cleaned_data.get(f"deadline_{i}")
            if text and not deadline:
                self.add_error(f"deadline_{i}", _("Give the deadline of this fix."))
            if text and deadline:
                result.append((text, deadline))
        return result


class ResolveForm(BoundedForm):
    resolved_on = forms.DateField(label=_("Resolved on"), widget=DateInput())
    follow_up = forms.CharField(label=_("Follow-up"), widget=forms.Textarea(attrs={"rows": 2}))

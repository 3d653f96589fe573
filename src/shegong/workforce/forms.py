"""Forms for the workforce pages."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from shegong.core.forms import BoundedForm, DateInput, NoEchoInput
from shegong.geo import models as geo_models
from shegong.geo.selectors import division_by_code
from shegong.network.models import Facility
from shegong.workforce import models as wm
from shegong.workforce.models import (
    Audience,
    QualificationLevel,
    TrainingProgramme,
    WorkplaceType,
)
from shegong.workforce.selectors import (
    CE_COMPLETE,
    CE_NOT_REGISTERED,
    CE_SHORT,
    REGISTRY_SORTS,
)

# 17 digits and a digit or X: what a national ID looks like, valid or not. Such a query is
# never put in a URL (security.md 14), even when its check digit is wrong.
ID_LIKE = re.compile(r"^[0-9]{17}[0-9Xx]$")


class RegistryForm(BoundedForm):
    """The registry's search box and filters (bound to GET, or to POST for a search)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, widget=forms.SearchInput)
    qualification = forms.ChoiceField(
        label=_("Qualification"),
        required=False,
        choices=[("", _("Any qualification")), *QualificationLevel.choices],
    )
    workplace = forms.ChoiceField(
        label=_("Workplace type"),
        required=False,
        choices=[("", _("Any workplace type")), *WorkplaceType.choices],
    )
    ce = forms.ChoiceField(
        label=_("Continuing education"),
        required=False,
        choices=[
            ("", _("Any continuing-education status")),
            (CE_COMPLETE, _("Hours complete in the current period")),
            (CE_SHORT, _("Hours short in the current period")),
            (CE_NOT_REGISTERED, _("No current registration period")),
        ],
    )
    division = forms.CharField(label=_("Division code"), required=False, max_length=12)
    facility = forms.IntegerField(
        label=_("Facility"), required=False, min_value=1, widget=forms.HiddenInput
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(s, s) for s in REGISTRY_SORTS],
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {
                "autocomplete": "off",
                "placeholder": _("Name, certificate number or national ID"),
                "aria-label": _("Search"),
            }
        )
        self.fields["division"].widget.attrs.update(
            {"placeholder": _("Division code"), "aria-label": _("Division code")}
        )
        for name in ("qualification", "workplace", "ce"):
            self.fields[name].widget.attrs["aria-label"] = self.fields[name].label

    def clean_division(self):
        code = self.cleaned_data["division"].strip()
        if code and not code.isdigit():
            raise forms.ValidationError(_("A division code has digits only."))
        return code

    @property
    def id_like_query(self) -> bool:
        """Whether the search box holds something shaped like a national ID."""
        return bool(ID_LIKE.match((self.data.get("q") or "").strip()))

    def filters(self) -> dict:
        """The valid filters (an invalid one is left out), by their query-string names."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return {
            name: data.get(name)
            for name in ("q", "qualification", "workplace", "ce", "division", "facility", "sort")
            if data.get(name) not in (None, "") and name not in self.errors
        }


# --- training --------------------------------------------------------------------------------


class ProgrammeForm(BoundedForm):
    """A multi-year training programme."""

    name = forms.CharField(label=_("Name"), max_length=200)
    first_year = forms.IntegerField(label=_("First year"), min_value=1949, max_value=2100)
    last_year = forms.IntegerField(label=_("Last year"), min_value=1949, max_value=2100)
    target_per_year = forms.IntegerField(
        label=_("Target person-times a year"), min_value=0, required=False, initial=0
    )


class CourseForm(BoundedForm):
    """A training course held for the user's division."""

    title = forms.CharField(label=_("Title"), max_length=200)
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices)
    organiser = forms.CharField(label=_("Organiser"), max_length=200)
    starts_on = forms.DateField(label=_("Start"), widget=DateInput())
    ends_on = forms.DateField(label=_("End"), widget=DateInput())
    hours = forms.DecimalField(label=_("Hours"), max_digits=5, decimal_places=1)
    external_headcount = forms.IntegerField(
        label=_("External attendees"), min_value=0, required=False, initial=0
    )
    programme = forms.ModelChoiceField(
        label=_("Programme"), queryset=TrainingProgramme.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = TrainingProgramme.objects.restrict(user, "view")


class EnrolForm(BoundedForm):
    """Enrol a registered person, found by exact national ID (never shown back)."""

    national_id = forms.CharField(
        label=_("National ID number"),
        max_length=18,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
    )


class CompleteForm(BoundedForm):
    """Completion of a course: the certificate credits its hours as continuing education."""

    completed_on = forms.DateField(label=_("Completed on"), widget=DateInput(), required=False)
    certificate_number = forms.CharField(
        label=_("Completion certificate"), max_length=40, required=False
    )


class HeadcountForm(BoundedForm):
    external_headcount = forms.IntegerField(label=_("External attendees"), min_value=0)


# --- honours, universities, dispatches -----------------------------------------------------


class PageForm(BoundedForm):
    """One of several forms on a page. The hidden ``form`` field names the form that was
    sent, so the view binds only that one; ``auto_id`` keeps the forms' element ids apart."""

    key = ""
    form = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.key}_%s")
        super().__init__(*args, **kwargs)
        self.fields["form"].initial = self.key


def _choices_of(objects) -> list[tuple[str, str]]:
    return [("", "—"), *((str(o.pk), str(o)) for o in objects)]


class DivisionCodeField(forms.CharField):
    """A division code (digits only); the form's ``clean_<name>`` turns it into a Division."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)

    def clean(self, value):
        code = super().clean(value).strip()
        if code and not code.isdigit():
            raise forms.ValidationError(_("A division code has digits only."))
        return code


class InScopeDivisionMixin:
    """``division`` is given by code and must lie in the user's area."""

    def clean_division(self):
        code = self.cleaned_data["division"]
        division = division_by_code(user=self.user, code=code) if code else None
        if division is None:
            raise forms.ValidationError(_("No division with this code in your area."))
        return division


class AwardSchemeForm(PageForm):
    """A new honour or award, conferred by the user's division."""

    key = "scheme"
    name = forms.CharField(label=_("Name"), max_length=200)
    level = forms.ChoiceField(label=_("Level"), choices=wm.HonourLevel.choices)
    category = forms.ChoiceField(
        label=_("Category"), choices=wm.HonourCategory.choices, initial=wm.HonourCategory.OTHER
    )
    reward_amount = forms.DecimalField(
        label=_("Standard reward per person (yuan)"), max_digits=12, decimal_places=2, initial=0
    )


class AwardForm(PageForm):
    """Honour a registered person, found by exact national ID (never shown back)."""

    key = "award"
    scheme = forms.ChoiceField(label=_("Award"))
    national_id = forms.CharField(
        label=_("National ID of the social worker"),
        max_length=18,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
    )
    year = forms.IntegerField(label=_("Year"))
    reward_amount = forms.DecimalField(
        label=_("Reward (yuan; empty: the award's standard reward)"),
        max_digits=12,
        decimal_places=2,
        required=False,
    )
    paid_on = forms.DateField(label=_("Paid on"), required=False, widget=DateInput())

    def __init__(self, *args, schemes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = _choices_of(schemes)


class UniversityForm(InScopeDivisionMixin, PageForm):
    key = "university"
    name = forms.CharField(label=_("Name"), max_length=200)
    division = DivisionCodeField(label=_("Located in (division code)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


class _UniversityChoiceForm(PageForm):
    university = forms.ChoiceField(label=_("University"))

    def __init__(self, *args, universities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["university"].choices = _choices_of(universities)


class DegreeProgrammeForm(_UniversityChoiceForm):
    key = "programme"
    level = forms.ChoiceField(label=_("Degree"), choices=wm.Degree.choices)
    name = forms.CharField(label=_("Programme name"), max_length=200)
    since_year = forms.IntegerField(label=_("Running since (year)"), required=False)


class InnovationBaseForm(_UniversityChoiceForm):
    key = "base"
    name = forms.CharField(label=_("Base name"), max_length=200)
    funded_amount = forms.DecimalField(label=_("Funding (yuan)"), max_digits=14, decimal_places=2)
    first_year = forms.IntegerField(label=_("First year"))
    last_year = forms.IntegerField(label=_("Last year"))


class GraduateCohortForm(_UniversityChoiceForm):
    key = "cohort"
    year = forms.IntegerField(label=_("Year"))
    level = forms.ChoiceField(label=_("Degree"), choices=wm.Degree.choices)
    graduates = forms.IntegerField(label=_("Social work graduates"))


class DispatchForm(PageForm):
    """Send a registered person (found by exact national ID, never shown back) to a poor
    county or deep-poverty town. The host area may lie outside the user's own."""

    key = "dispatch"
    national_id = forms.CharField(
        label=_("National ID of the social worker"),
        max_length=18,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
    )
    host_division = DivisionCodeField(label=_("Sent to (division code)"))
    home_facility = forms.TypedChoiceField(
        label=_("Home facility"), required=False, coerce=int, empty_value=None
    )
    host_facility = forms.IntegerField(
        label=_("Host facility number (optional)"), required=False, min_value=1
    )
    starts_on = forms.DateField(label=_("Start"), widget=DateInput())
    ends_on = forms.DateField(label=_("End"), required=False, widget=DateInput())
    purpose = forms.CharField(label=_("Purpose"), max_length=300)

    # Above this many facilities in scope the home facility is typed as a number.
    MAX_SELECT = 300

    def __init__(self, *args, home_facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.home_facilities = home_facilities
        # how many, without sorting them all (a city has thousands)
        few = len(home_facilities.order_by().values("pk")[: self.MAX_SELECT + 1])
        if few <= self.MAX_SELECT:
            self.fields["home_facility"].choices = _choices_of(list(home_facilities))
        else:
            self.fields["home_facility"] = forms.IntegerField(
                label=_("Home facility number (optional; shown on the facility's page)"),
                required=False,
                min_value=1,
            )

    def clean_host_division(self):
        # Division codes are public statistical data: the host area is looked up as is
        # (as the API does); the service checks that it is designated.
        code = self.cleaned_data["host_division"]
        division = geo_models.Division.objects.filter(code=code).first() if code else None
        if division is None:
            raise forms.ValidationError(_("No division with this code."))
        return division

    def clean_home_facility(self):
        pk = self.cleaned_data["home_facility"]
        if pk is None:
            return None
        facility = self.home_facilities.filter(pk=pk).first()
        if facility is None:
            raise forms.ValidationError(_("No facility with this number in your area."))
        return facility

    def clean(self):
        data = super().clean()
        host, pk = data.get("host_division"), data.get("host_facility")
        if pk is not None and host is not None:
            facility = Facility.objects.filter(pk=pk, division__code__startswith=host.code).first()
            if facility is None:
                self.add_error(
                    "host_facility", _("The host facility is not inside the host division.")
                )
            else:
                data["host_facility"] = facility
        return data


class DesignationForm(InScopeDivisionMixin, PageForm):
    key = "designation"
    division = DivisionCodeField(label=_("Division code"))
    kind = forms.ChoiceField(label=_("Designation"), choices=geo_models.PovertyKind.choices)
    designated_on = forms.DateField(label=_("Designated on"), widget=DateInput())
    document = forms.CharField(label=_("Document"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


class PopulationForm(InScopeDivisionMixin, PageForm):
    key = "population"
    division = DivisionCodeField(label=_("Division code"))
    population = forms.IntegerField(label=_("Resident population"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


class EndDispatchForm(BoundedForm):
    ended_on = forms.DateField(label=_("Came home on"), widget=DateInput())


class LiftDesignationForm(BoundedForm):
    lifted_on = forms.DateField(label=_("Lifted on"), widget=DateInput())

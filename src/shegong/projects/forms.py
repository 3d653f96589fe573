"""Forms of the project page: one per life-cycle step and per evaluation action.

Every form carries a hidden ``action`` (which form the page binds) and, for the steps, the
project's ``version`` (a concurrent change is refused by the services). The services do
the real checks (stage, dates, scope); the forms only parse what was typed."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shegong.core.forms import BoundedForm, DateInput
from shegong.network.models import SocialOrganisation


def _today():
    return timezone.localdate()


def _date(label, *, required: bool = True, initial=_today) -> forms.DateField:
    return forms.DateField(label=label, required=required, initial=initial, widget=DateInput())


def _text(label, *, required: bool = True, max_length: int = 2000, rows: int = 3):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _count(label) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=100_000_000, initial=0)


class MonthInput(forms.DateInput):
    """An HTML month picker (the value is the first day of the month)."""

    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class ActionForm(BoundedForm):
    """Base: the hidden ``action`` naming the form; what the page shows about it."""

    title = ""
    button = _("Save")
    confirm = ""
    multipart = False

    action = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, data=None, files=None, *, action: str, key: str = "", **kwargs):
        kwargs.setdefault("auto_id", f"id_{action}{'_' + key if key else ''}_%s")
        super().__init__(data, files, **kwargs)
        self.action_name = action
        self.fields["action"].initial = action


class StepForm(ActionForm):
    """A step that moves the project: carries the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, files=None, *, project, **kwargs):
        super().__init__(data, files, **kwargs)
        self.fields["version"].initial = project.version


class SubmitForm(StepForm):
    title = _("Submit the application")
    button = _("Submit for preliminary review")

    note = _text(_("Note"), required=False)


class PreliminaryPassForm(StepForm):
    title = _("Preliminary review: pass")
    button = _("Pass to the expert review")

    note = _text(_("Note"), required=False)


class RejectForm(StepForm):
    button = _("Reject")
    confirm = _("Reject this application? It cannot be undone.")

    note = _text(_("Why it is not approved"))


class PreliminaryRejectForm(RejectForm):
    title = _("Preliminary review: not approved")


class ExpertRejectForm(RejectForm):
    title = _("Expert review: not approved")


class ExpertPassForm(StepForm):
    title = _("Expert review: pass")
    button = _("Pass and start the public notice")

    notice_starts_on = _date(_("Public notice starts on"))
    note = _text(_("Note"), required=False)


class ObjectionAddForm(ActionForm):
    title = _("Record an objection")
    button = _("Record the objection")

    received_on = _date(_("Received on"))
    text = _text(_("Objection"), max_length=5000)


class ObjectionResolveForm(ActionForm):
    title = _("Resolve the objection")
    button = _("Resolve")

    objection = forms.IntegerField(widget=forms.HiddenInput)
    resolution = _text(_("Resolution"), max_length=5000)
    resolved_on = _date(_("Resolved on"))
    upheld = forms.BooleanField(
        label=_("Upheld (the application is then not approved)"), required=False
    )


def contract_agencies():
    """The agencies a contract may be signed with: the registered social work agencies
    (``contract_sign`` accepts any registered organisation; the page offers the agencies)."""
    return SocialOrganisation.objects.filter(is_social_work_agency=True).order_by("name", "pk")


class ContractForm(StepForm):
    title = _("Sign the contract")
    button = _("Sign the contract")

    agency = forms.ModelChoiceField(
        label=_("Contracted agency"), queryset=SocialOrganisation.objects.none()
    )
    contract_number = forms.CharField(label=_("Contract number"), max_length=60)
    signed_on = _date(_("Signed on"))
    note = _text(_("Note"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = contract_agencies()


class StartForm(StepForm):
    title = _("Start the project")
    button = _("Start")

    started_on = _date(_("Started on"))
    note = _text(_("Note"), required=False)


class MonthlyReportForm(ActionForm):
    title = _("Monthly report and plan")
    button = _("Submit the report")

    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MonthInput(),
        initial=lambda: _today().replace(day=1),
    )
    summary = _text(_("Work done"), max_length=10000, rows=4)
    plan = _text(_("Plan for next month"), required=False, max_length=10000)
    reported_person_times = _count(_("Person-times (reported)"))
    reported_cases = _count(_("Cases (reported)"))
    reported_groups = _count(_("Groups (reported)"))
    reported_activities = _count(_("Activities (reported)"))


class SupervisionForm(ActionForm):
    title = _("Supervision record")
    button = _("Add the record")

    visited_on = _date(_("Visited on"))
    supervisor = forms.CharField(label=_("Supervisor"), max_length=200)
    findings = _text(_("Findings"), max_length=10000, rows=4)


class EvaluationStartForm(StepForm):
    button = _("Start the evaluation")

    evaluated_on = _date(_("Date"))
    panel = forms.CharField(label=_("Panel members"), max_length=300)


class MidtermForm(EvaluationStartForm):
    title = _("Start the mid-term evaluation")


class FinalForm(EvaluationStartForm):
    title = _("Start the final evaluation")


class CloseForm(StepForm):
    title = _("Close the project")
    button = _("Close the project")
    confirm = _("Close this project? It cannot be undone.")

    closed_on = _date(_("Closed on"))
    note = _text(_("Note"), required=False)


class TerminateForm(StepForm):
    title = _("Terminate the project")
    button = _("Terminate")
    confirm = _("Terminate this project early? It cannot be undone.")

    reason = _text(_("Reason"))
    terminated_on = _date(_("Terminated on"))


# --- evaluations --------------------------------------------------------------------------


class EvaluationActionForm(ActionForm):
    """An action on one evaluation (named by the hidden ``evaluation``)."""

    evaluation = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data=None, files=None, *, evaluation, **kwargs):
        kwargs.setdefault("key", str(evaluation.pk))
        super().__init__(data, files, **kwargs)
        self.fields["evaluation"].initial = evaluation.pk


class ScoresForm(EvaluationActionForm):
    """One panel member's scores: one input (0–100) per leaf indicator."""

    title = _("Record a panel member's scores")
    button = _("Save the scores")

    panelist = forms.CharField(label=_("Panel member"), max_length=100)

    def __init__(self, data=None, files=None, *, evaluation, leaves, **kwargs):
        super().__init__(data, files, evaluation=evaluation, **kwargs)
        self.leaves = leaves
        for leaf in leaves:
            self.fields[f"score_{leaf['id']}"] = forms.DecimalField(
                label=leaf["name"],
                min_value=0,
                max_value=100,
                decimal_places=2,
                max_digits=5,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 100}),
            )

    def rows(self):
        """(indicator, its score input) for the table of leaves."""
        return [(leaf, self[f"score_{leaf['id']}"]) for leaf in self.leaves]

    def scores(self) -> dict[int, object]:
        return {leaf["id"]: self.cleaned_data[f"score_{leaf['id']}"] for leaf in self.leaves}


class CompleteForm(EvaluationActionForm):
    title = _("Complete the evaluation")
    button = _("Complete: compute the total and the grade")
    confirm = _("Complete this evaluation? Scores can no longer be changed afterwards.")


class FixAddForm(EvaluationActionForm):
    title = _("Add a required fix")
    button = _("Add the fix")

    description = _text(_("Required fix"), max_length=5000)
    deadline = _date(_("Deadline"), initial=None)


class FixResolveForm(EvaluationActionForm):
    title = _("Resolve the fix")
    button = _("Resolve")

    fix = forms.IntegerField(widget=forms.HiddenInput)
    resolved_on = _date(_("Resolved on"))
    resolution = _text(_("What was done"), max_length=5000)


class EvidenceForm(EvaluationActionForm):
    title = _("Upload an evidence file")
    button = _("Upload")
    multipart = True

    file = forms.FileField(
        label=_("File (PDF, JPG, PNG, DOCX or XLSX, at most 10 MB)"),
        widget=forms.FileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}),
    )

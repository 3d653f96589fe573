"""Forms of the ledger pages (the services check everything again)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from shegong.core.forms import BoundedForm, DateInput
from shegong.funding.models import Account, AccountKind, OwnerLevel, SourceKind


class MoneyForm(BoundedForm):
    """An amount on a date, with a memo (appropriation, income)."""

    amount = forms.CharField(label=_("Amount (yuan)"), max_length=20)
    occurred_on = forms.DateField(label=_("Date"), widget=DateInput())
    memo = forms.CharField(label=_("Memo"), max_length=300, required=False)


class AllocateForm(MoneyForm):
    """Allocate from this account to a county, facility or project account in scope."""

    to_account = forms.ModelChoiceField(label=_("To"), queryset=Account.objects.none())

    def __init__(self, *args, user, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_account"].queryset = (
            Account.objects.restrict(user, "view")
            .filter(
                kind__in=(AccountKind.COUNTY, AccountKind.FACILITY, AccountKind.PROJECT),
                division__code__startswith=account.division.code[:6],
            )
            .exclude(pk=account.pk)
            .order_by("kind", "name")
        )


class DisburseForm(MoneyForm):
    """Pay the project's contracted agency against one of its payment milestones."""

    milestone = forms.ModelChoiceField(label=_("Payment milestone"), queryset=None)

    def __init__(self, *args, account: Account, **kwargs):
        from shegong.projects.models import PaymentMilestone

        super().__init__(*args, **kwargs)
        self.fields["milestone"].queryset = PaymentMilestone.objects.filter(
            project_id=account.project_id
        ).order_by("due_on", "pk")


class ReverseForm(BoundedForm):
    movement = forms.IntegerField(widget=forms.HiddenInput)
    occurred_on = forms.DateField(label=_("Date"), widget=DateInput())


class FundSourceForm(BoundedForm):
    """A new fund source of the user's division for a year (its account comes with it)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=SourceKind.choices)
    owner_level = forms.ChoiceField(label=_("Owner"), choices=OwnerLevel.choices)
    year = forms.IntegerField(label=_("Year"), min_value=1990, max_value=2100)

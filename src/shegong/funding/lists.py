"""The ledger's declared lists (``core.lists``): accounts with their balances, and the
movements of one account."""

from __future__ import annotations

import django_filters
from django.db.models import F, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shegong.core.inputs import SEARCH_LENGTH
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.funding.models import Account, AccountKind, Movement, MovementKind
from shegong.funding.selectors import with_balance

KIND_TONES = {
    MovementKind.APPROPRIATION: "info",
    MovementKind.INCOME: "info",
    MovementKind.ALLOCATION: "ok",
    MovementKind.DISBURSEMENT: "ok",
    MovementKind.REWARD: "ok",
    MovementKind.REFUND: "warn",
    MovementKind.REVERSAL: "bad",
}


class AccountFilter(FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=SEARCH_LENGTH)
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=AccountKind.choices, empty_label=_("Any kind")
    )

    class Meta:
        model = Account
        fields = []


ACCOUNT_TABLE = Table(
    columns=(
        Col(
            "name",
            _("Name"),
            lambda a: format_html('<span translate="no">{}</span>', a.name),
            sort="pinyin:name",
            export=lambda a: a.name,
            link=lambda a: reverse("funding:account", args=[a.pk]),
            title=True,
            wrap=True,
        ),
        Col("kind", _("Kind"), lambda a: a.get_kind_display(), sort="kind"),
        Col("division", _("Division"), "division.name", sort="division__code"),
        Col("balance", _("Balance"), "balance", sort="balance", kind="money"),
    ),
    default_sort="kind",
    testid="accounts",
)


def _accounts(request):
    return with_balance(
        Account.objects.restrict(request.user, "view").select_related("division")
    ).order_by("kind", "name", "pk")


account_list_page = ListPage(
    title=_("Accounts"),
    table=ACCOUNT_TABLE,
    queryset=_accounts,
    filterset=AccountFilter,
    export_name="accounts",
    empty_text=_("No account matches."),
    template="funding/accounts.html",
    context=lambda request: {"source_form": getattr(request, "source_form", None)},
)


def _name(account):
    """An account's name as data (a project account's name starts with its code)."""
    return format_html('<span translate="no">{}</span>', account.name) if account else None


class MovementFilter(FilterSet):
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=MovementKind.choices, empty_label=_("Any kind")
    )
    year = django_filters.NumberFilter(
        label=_("Year"),
        field_name="occurred_on",
        lookup_expr="year",
        min_value=1990,
        max_value=2100,
    )

    class Meta:
        model = Movement
        fields = []


def movement_list_page(account: Account, *, can_reverse: bool, context) -> ListPage:
    """The movements in and out of ``account``, newest first: the amount signed as seen
    from the account; a button to reverse a movement for whoever keeps the ledger here
    (it submits the page's one reverse form)."""

    def signed(m):
        return m.amount if m.to_account_id == account.pk else -m.amount

    def reverse_button(m):
        if m.kind == MovementKind.REVERSAL or getattr(m, "reversal_id", None):
            return ""
        return format_html(
            '<button type="submit" form="reverse-form" name="movement" value="{}" '
            'class="btn btn-sm btn-ghost-danger" data-testid="reverse-{}">{}</button>',
            m.pk,
            m.pk,
            _("Reverse"),
        )

    columns = [
        Col("date", _("Date"), "occurred_on", sort=("occurred_on", "id"), kind="date", title=True),
        Col(
            "kind",
            _("Kind"),
            lambda m: m.get_kind_display(),
            sort="kind",
            kind="tag",
            tone=lambda m: KIND_TONES.get(m.kind, "muted"),
        ),
        Col(
            "from",
            pgettext_lazy("movement", "From"),
            lambda m: _name(m.from_account),
            wrap=True,
            export=lambda m: m.from_account.name if m.from_account else "",
        ),
        Col(
            "to",
            pgettext_lazy("movement", "To"),
            lambda m: _name(m.to_account),
            wrap=True,
            export=lambda m: m.to_account.name if m.to_account else "",
        ),
        Col("amount", _("Amount"), signed, sort="amount", kind="money"),
        Col(
            "memo",
            _("Memo"),
            lambda m: " · ".join(x for x in (m.memo, m.milestone.name if m.milestone else "") if x),
            wrap=True,
        ),
    ]
    if can_reverse:
        columns.append(Col("reverse", _("Reverse"), reverse_button, export=False))

    def movements(request):
        return (
            Movement.objects.filter(Q(to_account=account) | Q(from_account=account))
            .select_related("from_account", "to_account", "milestone")
            .annotate(reversal_id=F("reversed_by__pk"))
        )

    return ListPage(
        title=account.name,
        table=Table(columns=tuple(columns), default_sort="-date", testid="movements"),
        queryset=movements,
        filterset=MovementFilter,
        export_name=f"account-{account.pk}",
        empty_text=_("No movement yet."),
        template="funding/account.html",
        context=context,
    )

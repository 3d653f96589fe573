"""Ledger pages: the year's money by source kind (F21–F25), per county, as flows (a Sankey
chart), the 1 % rule table, and accounts with their balances and movements. Every table
exports to .xlsx. Writes go through the API (``/api/v1/ledger/…``) and its services."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods

from shegong.core.forms import add_service_errors
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.core.templatetags.shegong import money, money_short, percent
from shegong.core.xlsx import xlsx_response
from shegong.funding import services
from shegong.funding.forms import (
    AllocateForm,
    DisburseForm,
    FundSourceForm,
    MoneyForm,
    ReverseForm,
)
from shegong.funding.lists import account_list_page, movement_list_page
from shegong.funding.models import Account, AccountKind, Movement, SourceKind
from shegong.funding.selectors import (
    agency_payee_account,
    balances,
    county_summary,
    flow_chart,
    ledger_flows,
    movement_years,
    one_percent_table,
    source_kind_summary,
    spending_years,
)
from shegong.geo.selectors import division_in_scope_or_404


def _year(request, years: list[int]) -> int:
    """The year asked for (``?year=``), else the latest year with money (``years``, newest
    first), else the current year."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = None
    if year is not None and 1990 <= year <= 2100:
        return year
    return years[0] if years else timezone.localdate().year


def _year_choices(years: list[int], year: int) -> list[int]:
    return sorted(set(years) | {year}, reverse=True)


def _figure_cards(figures: dict) -> list[dict]:
    """The year's five funding figures as KPI cards, named in words: an amount rounded on
    the card (``3,250万元``) with the exact amount beneath; the share as a percentage."""
    amounts = (
        ("F21", "f21", _("Municipal purchase of social work services")),
        ("F22", "f22", _("Awards in lieu of subsidies")),
        ("F24", "f24", _("Donations and charitable funds")),
        ("F25", "f25", _("Market service fees")),
    )
    cards = [
        {
            "testid": testid,
            "label": label,
            "value": money_short(figures[key]),
            "hint": money(figures[key]),
        }
        for key, testid, label in amounts
    ]
    share = figures["F23"]
    cards.insert(
        2,
        {
            "testid": "f23",
            "label": _("Share of social-assistance funds allocated to grassroots capacity"),
            "value": percent(Decimal(share) / 100, 2) if share is not None else "—",
            "hint": "",
        },
    )
    return cards


def _xlsx(request) -> bool:
    return request.GET.get("format") == "xlsx"


@require_GET
@login_required
@permission_required_or_403("funding.view_movement")
def ledger(request):
    """The money of the user's division (or one in scope) in a year: F21–F25, per county,
    and the flows from sources to payees."""
    division = division_in_scope_or_404(user=request.user, code=request.GET.get("division"))
    years = movement_years(division=division)
    year = _year(request, years)
    summary = source_kind_summary(division=division, year=year)
    counties = county_summary(division=division, year=year)
    kinds = dict(SourceKind.choices)
    if _xlsx(request):
        return _ledger_export(request.GET.get("table", ""), division, year, summary, counties)
    flows = ledger_flows(division=division, year=year)
    figures = summary.figures()
    return render(
        request,
        "funding/ledger.html",
        {
            "division": division,
            "year": year,
            "years": _year_choices(years, year),
            "figures": figures,
            "figure_cards": _figure_cards(figures),
            "assistance_spending": summary.assistance_spending,
            "kind_rows": [(kinds.get(k, k), metrics) for k, metrics in summary.rows.items()],
            "counties": counties,
            "sankey": flow_chart(flows),
            "has_flows": bool(flows),
        },
    )


def _ledger_export(table: str, division, year: int, summary, counties):
    """One of the ledger page's tables as .xlsx: per county (default), per kind of source,
    or the flows."""
    name = f"{division.code}-{year}"
    metrics = ["appropriated", "income", "allocated", "disbursed", "refunded"]
    if table == "sources":
        kinds = dict(SourceKind.choices)
        return xlsx_response(
            f"ledger-sources-{name}.xlsx",
            str(_("By kind of source")),
            [
                _("Source"),
                _("Appropriated"),
                _("Income"),
                _("Allocated"),
                _("Disbursed"),
                _("Refunded"),
            ],
            (
                (str(kinds.get(kind, kind)), *(Decimal(row.get(m, 0)) for m in metrics))
                for kind, row in summary.rows.items()
            ),
        )
    if table == "flows":
        links = flow_chart(ledger_flows(division=division, year=year))["links"]
        return xlsx_response(
            f"ledger-flows-{name}.xlsx",
            str(_("Flows")),
            [pgettext("movement", "From"), pgettext("movement", "To"), _("Amount")],
            ((link["source"], link["target"], Decimal(f"{link['value']:.2f}")) for link in links),
        )
    return xlsx_response(
        f"ledger-{name}.xlsx",
        str(_("Ledger")),
        [
            _("Division"),
            _("Code"),
            _("Appropriated"),
            _("Allocated"),
            _("Disbursed"),
            _("Income"),
            _("Refunded"),
        ],
        (
            (
                r.name,
                r.code,
                r.appropriated,
                r.allocated,
                r.disbursed,
                r.income,
                r.refunded,
            )
            for r in counties
        ),
    )


@require_GET
@login_required
@permission_required_or_403("funding.view_assistancespending")
def one_percent_view(request):
    """The 1 % rule per county: spending, the 1 % required, allocated, shortfall."""
    division = division_in_scope_or_404(user=request.user, code=request.GET.get("division"))
    years = spending_years(division=division)
    year = _year(request, years)
    rows = one_percent_table(division=division, year=year)
    if _xlsx(request):

        def money(value):
            return "" if value is None else Decimal(value)

        return xlsx_response(
            f"one-percent-{division.code}-{year}.xlsx",
            # xgettext:no-python-format
            str(_("The 1 % rule")),
            [
                _("County"),
                _("Code"),
                _("Social-assistance spending"),
                # xgettext:no-python-format
                _("1 % required"),
                _("Allocated"),
                _("Shortfall"),
            ],
            (
                (
                    r.name,
                    r.code,
                    money(r.spending),
                    money(r.required),
                    money(r.allocated),
                    money(r.shortfall),
                )
                for r in rows
            ),
        )
    return render(
        request,
        "funding/one_percent.html",
        {
            "division": division,
            "year": year,
            "years": _year_choices(years, year),
            "rows": rows,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("funding.view_account")
def account_list(request):
    """Accounts in scope with their balances, filtered by kind and name; a form to open a
    fund source of the user's division (its account comes with it)."""
    can_add = request.user.has_perm("funding.add_fundsource")
    source_form = FundSourceForm(request.POST or None) if can_add else None
    if request.method == "POST":
        if source_form is None:
            raise PermissionDenied
        if source_form.is_valid():
            try:
                source = services.fund_source_create(
                    actor=request.user, division=request.user.division, **source_form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(source_form, exc)
            else:
                messages.success(request, _("The fund source was opened."))
                return redirect("funding:account", pk=services.source_account(source).pk)
    request.source_form = source_form
    return account_list_page(request)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("funding.view_account")
def account_detail(request, pk: int):
    """One account: its balance and every movement in and out (newest first), and — for
    whoever keeps the ledger here — forms to put money in, allocate it, pay a milestone
    (project accounts) and reverse a movement."""
    user = request.user
    account = get_scoped_or_404(
        Account.objects.select_related("division", "source", "project", "organisation"),
        user,
        VIEW,
        pk=pk,
    )
    can_move = user.has_perm("funding.add_movement")
    action = request.POST.get("action") if request.method == "POST" else None
    forms = {}
    if can_move:
        data = request.POST if request.method == "POST" else None
        if account.kind == AccountKind.SOURCE:
            forms["appropriate"] = MoneyForm(
                data if action == "appropriate" else None, prefix="appropriate"
            )
        forms["income"] = MoneyForm(data if action == "income" else None, prefix="income")
        if account.kind in (AccountKind.SOURCE, AccountKind.COUNTY, AccountKind.FACILITY):
            forms["allocate"] = AllocateForm(
                data if action == "allocate" else None,
                user=user,
                account=account,
                prefix="allocate",
            )
        if account.kind == AccountKind.PROJECT:
            forms["disburse"] = DisburseForm(
                data if action == "disburse" else None, account=account
            )
        forms["reverse"] = ReverseForm(data if action == "reverse" else None)
    if request.method == "POST":
        form = forms.get(action)
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                _move(user, account, action, form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
                if action == "reverse":
                    for message in exc.messages:
                        messages.error(request, message)
            else:
                messages.success(request, _("The movement was recorded."))
                return redirect("funding:account", pk=account.pk)
        elif action == "reverse":
            messages.error(request, _("Give the date of the reversal."))
    balance = balances(Account.objects.filter(pk=account.pk)).get(account.pk, Decimal("0.00"))
    page = movement_list_page(
        account,
        can_reverse="reverse" in forms,
        context=lambda request: {
            "account": account,
            "balance": balance,
            "forms": forms,
            "today": timezone.localdate(),
        },
    )
    return page(request)


def _move(user, account: Account, action: str, data: dict) -> None:
    """Record the movement a form asks for, through the ledger's services."""
    day, memo = data.get("occurred_on"), data.get("memo", "")
    if action == "appropriate":
        services.appropriate(
            actor=user, source=account.source, amount=data["amount"], occurred_on=day, memo=memo
        )
    elif action == "income":
        services.income(
            actor=user, to_account=account, amount=data["amount"], occurred_on=day, memo=memo
        )
    elif action == "allocate":
        services.allocate(
            actor=user,
            from_account=account,
            to_account=data["to_account"],
            amount=data["amount"],
            occurred_on=day,
            memo=memo,
        )
    elif action == "disburse":
        payee = agency_payee_account(account.project)
        if payee is None:
            raise ValidationError(
                {"milestone": _("The project has no contracted agency with a payee account.")}
            )
        services.disburse(
            actor=user,
            milestone=data["milestone"],
            from_account=account,
            to_account=payee,
            amount=data["amount"],
            occurred_on=day,
            memo=memo,
        )
    elif action == "reverse":
        movement = get_scoped_or_404(
            Movement.objects.filter(Q(to_account=account) | Q(from_account=account)),
            user,
            VIEW,
            pk=data["movement"],
        )
        services.reverse(actor=user, movement=movement, occurred_on=day)

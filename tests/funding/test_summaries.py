"""Yearly summaries per county and per source kind (F21–F25), the 1 % rule table and the
flows, each worked out by hand on a small ledger."""

from datetime import date
from decimal import Decimal

import pytest

from shegong.funding import services
from shegong.funding.models import AccountKind
from shegong.funding.selectors import (
    county_summary,
    ledger_flows,
    one_percent,
    one_percent_table,
    source_kind_summary,
)
from tests.funding.conftest import DAY, division

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def year(ledger):
    """2024 in 江北 (500105) and 九龙坡 (500107), and a movement of 2023 that must not count."""
    s = services
    s.appropriate(actor=None, source=ledger.city_source, amount="500000", occurred_on=DAY)
    s.allocate(
        actor=None,
        from_account=ledger.city_account,
        to_account=ledger.county_account,
        amount="100000",
        occurred_on=DAY,
    )
    s.allocate(
        actor=None,
        from_account=ledger.county_account,
        to_account=ledger.project_account,
        amount="100000",
        occurred_on=DAY,
    )
    paid = s.disburse(
        actor=None,
        milestone=ledger.milestone,
        from_account=ledger.project_account,
        to_account=ledger.payee,
        amount="30000",
        occurred_on=DAY,
    )
    s.refund(actor=None, movement=paid, amount="5000", occurred_on=DAY)
    s.income(actor=None, to_account=ledger.facility_account, amount="2000", occurred_on=DAY)
    # the county's 1 % source: 8,000 budgeted, 3,000 + 500 allocated, the 500 reversed
    s.appropriate(actor=None, source=ledger.county_source, amount="8000", occurred_on=DAY)
    for amount in ("3000", "500"):
        last = s.allocate(
            actor=None,
            from_account=ledger.source_account,
            to_account=ledger.facility_account,
            amount=amount,
            occurred_on=DAY,
        )
    s.reverse(actor=None, movement=last, occurred_on=DAY)
    # 九龙坡: 40,000 of municipal purchase and 20,000 from the city's 1 % source
    jlp = s.account_create(actor=None, kind=AccountKind.COUNTY, division=division("500107"))
    s.allocate(
        actor=None,
        from_account=ledger.city_account,
        to_account=jlp,
        amount="40000",
        occurred_on=DAY,
    )
    city_pct = s.fund_source_create(
        actor=None,
        name="市级救助资金1%",
        kind="assistance_1pct",
        owner_level="city",
        division=division("50"),
        year=2024,
    )
    s.appropriate(actor=None, source=city_pct, amount="20000", occurred_on=DAY)
    s.allocate(
        actor=None,
        from_account=s.source_account(city_pct),
        to_account=jlp,
        amount="20000",
        occurred_on=DAY,
    )
    # donations received by the city: 1,000,000
    gifts = s.fund_source_create(
        actor=None,
        name="慈善捐赠",
        kind="donation",
        owner_level="city",
        division=division("50"),
        year=2024,
    )
    s.income(actor=None, to_account=s.source_account(gifts), amount="1000000", occurred_on=DAY)
    # social-assistance spending
    s.assistance_spending_record(
        actor=None, division=division("500105"), year=2024, amount="1234567.85"
    )
    s.assistance_spending_record(
        actor=None, division=division("500107"), year=2024, amount="100.50"
    )
    # a 2023 income, outside the year
    s.income(
        actor=None, to_account=ledger.county_account, amount="777", occurred_on=date(2023, 6, 1)
    )
    return 2024


def test_per_county_summary_by_hand(ledger, year):
    rows = {r.code: r for r in county_summary(division=division("50"), year=year)}
    assert set(rows) == {"50", "500105", "500107"}
    city, jb, jlp = rows["50"], rows["500105"], rows["500107"]
    assert (city.appropriated, city.allocated, city.income) == (D("520000"), 0, D("1000000"))
    assert jb.name == division("500105").name
    assert jb.appropriated == D("8000.00")
    assert jb.allocated == D("100000.00")  # from the city; allocations inside the county don't
    assert jb.disbursed == D("30000.00")
    assert jb.income == D("2000.00")
    assert jb.refunded == D("5000.00")
    assert (jlp.allocated, jlp.disbursed) == (D("60000.00"), 0)
    # a county sees its own row only
    assert [r.code for r in county_summary(division=division("500105"), year=year)] == ["500105"]
    assert county_summary(division=division("500105"), year=2023)[0].income == D("777.00")


def test_per_source_kind_summary_and_f21_to_f25(ledger, year):
    summary = source_kind_summary(division=division("50"), year=year)
    mp = summary.rows["municipal_purchase"]
    assert mp["appropriated"] == D("500000") and mp["allocated"] == D("140000")
    pct = summary.rows["assistance_1pct"]
    assert pct["appropriated"] == D("28000") and pct["allocated"] == D("23000")
    loose = summary.rows["unattributed"]  # the project and payee accounts are not earmarked
    assert (loose["disbursed"], loose["income"], loose["refunded"]) == (
        D("30000"),
        D("2000"),
        D("5000"),
    )
    assert summary.assistance_spending == D("1234668.35")
    figures = summary.figures()
    assert figures["F21"] == "500000.00"
    assert figures["F22"] == "0.00"
    # 23,000 / 1,234,668.35 = 1.8628…%
    assert figures["F23"] == "1.86"
    assert figures["F24"] == "1000000.00"
    assert figures["F25"] == "0.00"


def test_the_one_percent_rule_by_hand(ledger, year):
    assert one_percent(D("1234567.85")) == D("12345.68")  # 12,345.6785 → half-up
    assert one_percent(D("100.50")) == D("1.01")  # 1.005 → 1.01 (not banker's 1.00)
    assert one_percent(D("100.49")) == D("1.00")
    rows = {r.code: r for r in one_percent_table(division=division("50"), year=year)}
    jb, jlp = rows["500105"], rows["500107"]
    assert (jb.spending, jb.required, jb.allocated, jb.shortfall) == (
        D("1234567.85"),
        D("12345.68"),
        D("3000.00"),
        D("9345.68"),
    )
    assert (jlp.required, jlp.allocated, jlp.shortfall) == (D("1.01"), D("20000.00"), 0)
    assert set(rows) == {"500105", "500107"}
    assert [r.code for r in one_percent_table(division=division("500105"), year=year)] == ["500105"]


def test_flows_net_reversals_and_show_the_path(ledger, year):
    flows = {
        (f.from_id, f.to_id, f.kind): f.total
        for f in ledger_flows(division=division("500105"), year=year)
    }
    assert flows[(None, ledger.source_account.pk, "appropriation")] == D("8000")
    assert flows[(ledger.source_account.pk, ledger.facility_account.pk, "allocation")] == D("3000")
    assert flows[(ledger.city_account.pk, ledger.county_account.pk, "allocation")] == D("100000")
    assert flows[(ledger.project_account.pk, ledger.payee.pk, "disbursement")] == D("30000")
    assert flows[(ledger.payee.pk, ledger.project_account.pk, "refund")] == D("5000")
    assert not any(k[2] == "reversal" for k in flows)
    # the city's appropriation does not touch 江北 and is not shown there
    assert (None, ledger.city_account.pk, "appropriation") not in flows


def test_spending_is_recorded_once_and_corrected(ledger):
    first = services.assistance_spending_record(
        actor=ledger.county, division=division("500105"), year=2024, amount="100"
    )
    again = services.assistance_spending_record(
        actor=ledger.county, division=division("500105"), year=2024, amount="200.10"
    )
    assert first.pk == again.pk and again.amount == D("200.10")

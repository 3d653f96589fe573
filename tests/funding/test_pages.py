"""Ledger pages: F21–F25 and the per-county table for a year, the Sankey data, the 1 % rule,
accounts with balances and their movements; Excel exports; scope."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shegong.funding import services
from shegong.funding.models import AccountKind
from tests.funding.conftest import DAY, division

pytestmark = pytest.mark.django_db


@pytest.fixture
def money(ledger):
    """The city appropriates ¥500,000, allocates ¥200,000 to 江北区, which gives ¥50,000 to
    its project; a donation of ¥8,000 comes in; 江北区 spends ¥3 M on social assistance."""
    services.appropriate(
        actor=ledger.city, source=ledger.city_source, amount="500000", occurred_on=DAY
    )
    services.allocate(
        actor=ledger.city,
        from_account=ledger.city_account,
        to_account=ledger.county_account,
        amount="200000",
        occurred_on=DAY,
    )
    services.allocate(
        actor=ledger.county,
        from_account=ledger.county_account,
        to_account=ledger.project_account,
        amount="50000",
        occurred_on=DAY,
    )
    donations = services.fund_source_create(
        actor=ledger.county,
        name="慈善捐赠",
        kind="donation",
        owner_level="county",
        division=division("500105"),
        year=2024,
    )
    services.income(
        actor=ledger.county,
        to_account=services.source_account(donations),
        amount="8000",
        occurred_on=DAY,
    )
    services.assistance_spending_record(
        actor=ledger.county, division=division("500105"), year=2024, amount="3000000"
    )
    return ledger


def test_the_ledger_page_shows_the_figures_the_counties_and_the_flows(client, money):
    # when the city opens the 2024 ledger
    client.force_login(money.city)
    response = client.get(reverse("funding:ledger"), {"division": "50", "year": 2024})
    html = response.content.decode().replace(",", "")
    # then F21 and F24 are the money raised of those kinds (rounded on the card, exact
    # beneath), and 江北区 received ¥200,000
    assert 'data-testid="f21">50万元<' in html and "¥500000.00" in html
    assert 'data-testid="f24">8000元<' in html and "¥8000.00" in html
    assert 'data-code="500105"' in html and "200000.00" in html
    # and the Sankey data links the municipal purchase source to the county allocations
    sankey = response.context["sankey"]
    assert any(link["value"] == 200000.0 for link in sankey["links"])
    assert 'id="sankey-data"' in html


def test_the_county_table_exports_to_excel(client, money):
    client.force_login(money.city)
    response = client.get(
        reverse("funding:ledger"), {"division": "50", "year": 2024, "format": "xlsx"}
    )
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    by_code = {row[1]: row for row in rows[1:]}
    assert by_code["500105"][3] == 200000  # allocated (received)


def test_the_one_percent_table(client, money):
    client.force_login(money.county)
    html = client.get(reverse("funding:one_percent"), {"year": 2024}).content.decode()
    html = html.replace(",", "")
    # 1 % of ¥3,000,000 is ¥30,000, nothing allocated from 1 % sources yet: short by all
    assert 'data-code="500105"' in html and "30000.00" in html
    assert "warn" in html


def test_accounts_show_their_balances_and_movements(client, money):
    client.force_login(money.county)
    html = client.get(reverse("funding:accounts"), {"kind": AccountKind.PROJECT}).content.decode()
    assert "50000.00" in html.replace(",", "")
    detail = client.get(reverse("funding:account", args=[money.county_account.pk]))
    page = detail.content.decode().replace(",", "")
    # ¥200,000 in, ¥50,000 out: ¥150,000 left
    assert 'data-testid="balance">¥150000.00<' in page
    assert page.count("<tr>") >= 3  # header + two movements


def test_an_account_of_another_county_is_404(client, money):
    client.force_login(money.other_county)
    response = client.get(reverse("funding:account", args=[money.county_account.pk]))
    assert response.status_code == 404


def test_a_year_without_money_says_so(client, ledger):
    client.force_login(ledger.city)
    html = client.get(reverse("funding:ledger"), {"division": "50", "year": 2001}).content
    assert "sankey-data" not in html.decode()


def test_the_county_allocates_and_reverses_through_its_account_page(client, money):
    # given the county on its county account page (¥150,000 left)
    client.force_login(money.county)
    url = reverse("funding:account", args=[money.county_account.pk])
    # when it allocates ¥20,000 to the station's facility account
    response = client.post(
        url,
        {
            "action": "allocate",
            "allocate-to_account": money.facility_account.pk,
            "allocate-amount": "20000",
            "allocate-occurred_on": "2024-03-05",
        },
    )
    # then the movement is recorded and the balance is ¥130,000
    assert response.status_code == 302
    page = client.get(url).content.decode().replace(",", "")
    assert 'data-testid="balance">¥130000.00<' in page
    # when it reverses that allocation
    from shegong.funding.models import Movement, MovementKind

    allocation = Movement.objects.filter(kind=MovementKind.ALLOCATION).latest("pk")
    client.post(url, {"action": "reverse", "movement": allocation.pk, "occurred_on": "2024-03-06"})
    # then the money is back
    page = client.get(url).content.decode().replace(",", "")
    assert 'data-testid="balance">¥150000.00<' in page


def test_an_allocation_that_would_overdraw_keeps_what_was_typed(client, money):
    client.force_login(money.county)
    url = reverse("funding:account", args=[money.county_account.pk])
    response = client.post(
        url,
        {
            "action": "allocate",
            "allocate-to_account": money.facility_account.pk,
            "allocate-amount": "999999",
            "allocate-occurred_on": "2024-03-05",
            "allocate-memo": "太多了",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422 and "invalid-feedback" in html and "太多了" in html


def test_a_station_reads_its_account_but_cannot_record_movements(client, money):
    from shegong.core.roles import Role
    from tests.conftest import make_user

    room = make_user(Role.STATION_STAFF, "500105001", username="station-ledger")
    client.force_login(room)
    url = reverse("funding:account", args=[money.facility_account.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "income", "income-amount": "1"})
    assert response.status_code == 403


def test_the_county_opens_a_fund_source(client, ledger):
    client.force_login(ledger.county)
    response = client.post(
        reverse("funding:accounts"),
        {
            "name": "江北区配套资金",
            "kind": "county_matching",
            "owner_level": "county",
            "year": 2024,
        },
    )
    assert response.status_code == 302
    from shegong.funding.models import FundSource

    assert FundSource.objects.filter(name="江北区配套资金", division__code="500105").exists()


def test_the_source_and_flow_tables_export_to_excel(client, money):
    client.force_login(money.city)
    url = reverse("funding:ledger")
    query = {"division": "50", "year": 2024, "format": "xlsx"}
    sources = client.get(url, query | {"table": "sources"})
    rows = list(load_workbook(io.BytesIO(sources.content)).active.values)
    assert any(row[1] == 500000 for row in rows[1:])  # municipal purchase appropriated
    flows = client.get(url, query | {"table": "flows"})
    rows = list(load_workbook(io.BytesIO(flows.content)).active.values)
    assert any(row[2] == 200000 for row in rows[1:])


def test_the_ledger_and_the_one_percent_page_open_on_the_latest_year_with_money(client, money):
    # given money and social-assistance spending only in 2024 (today is later)
    client.force_login(money.city)
    # when the city opens the ledger and the 1 % page without a year
    ledger = client.get(reverse("funding:ledger"), {"division": "50"})
    rule = client.get(reverse("funding:one_percent"), {"division": "50"})
    # then both show 2024, with its money
    assert ledger.context["year"] == 2024 and ledger.context["has_flows"]
    assert 2024 in ledger.context["years"]
    assert rule.context["year"] == 2024 and rule.context["rows"]
    # and a year asked for is still shown
    assert client.get(reverse("funding:ledger"), {"year": 2001}).context["year"] == 2001


def test_the_flow_chart_nets_a_flow_and_its_reverse_and_keeps_outside_money_apart():
    from shegong.funding.selectors import FROM_OUTSIDE, TO_OUTSIDE, Flow, flow_chart, has_cycle

    county, facility = str(AccountKind.COUNTY.label), str(AccountKind.FACILITY.label)
    # given income from outside into a county account, a payment out of the ledger from it,
    # and allocations both ways between a county and a facility account
    flows = [
        Flow(None, "", "outside", 1, "a", "county", "income", Decimal("100")),
        Flow(1, "a", "county", None, "", "outside", "reward", Decimal("30")),
        Flow(1, "a", "county", 2, "b", "facility", "allocation", Decimal("50")),
        Flow(2, "b", "facility", 1, "a", "county", "allocation", Decimal("20")),
    ]
    # when the chart data is made
    chart = flow_chart(flows)
    links = {(link["source"], link["target"]): link["value"] for link in chart["links"]}
    # then the two allocations are one net flow of 30, county → facility
    assert links[(county, facility)] == 30.0 and (facility, county) not in links
    # and money coming in and paid out are two nodes: no cycle, the chart can be drawn
    assert links[(str(FROM_OUTSIDE), county)] == 100.0
    assert links[(county, str(TO_OUTSIDE))] == 30.0
    assert chart["drawable"] and not has_cycle(links)


def test_a_cycle_is_found():
    from shegong.funding.selectors import has_cycle

    assert has_cycle([("a", "b"), ("b", "c"), ("c", "a")])
    assert not has_cycle([("a", "b"), ("b", "c"), ("a", "c")])


def test_accounts_are_a_declared_list_sorted_by_pinyin_and_exported_with_balances(client, money):
    # given the county's accounts (its project account holds ¥50,000)
    client.force_login(money.county)
    url = reverse("funding:accounts")
    # when it sorts them by name
    names = [row["row"].name for row in client.get(url, {"sort": "name"}).context["rows"]]
    # then they come in pinyin order (as ICU's zh collation: Chinese before Latin letters)
    from shegong.core.apps import _pinyin_key

    assert names == sorted(names, key=_pinyin_key)
    # and the export has each account's balance
    response = client.get(url, {"kind": AccountKind.PROJECT, "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[1][0] == money.project_account.name and rows[1][3] == 50000


def test_an_accounts_movements_filter_and_export_signed(client, money):
    # given the county account: ¥200,000 in, ¥50,000 out
    client.force_login(money.county)
    url = reverse("funding:account", args=[money.county_account.pk])
    # when its movements are exported
    rows = list(
        load_workbook(io.BytesIO(client.get(url, {"format": "xlsx"}).content)).active.values
    )
    # then each amount is signed as seen from the account
    assert sorted(row[4] for row in rows[1:]) == [-50000, 200000]
    # and a filter by year leaves nothing in another year
    assert client.get(url, {"year": 2001}).context["page"].paginator.count == 0
    assert client.get(url, {"year": 2024}).context["page"].paginator.count == 2

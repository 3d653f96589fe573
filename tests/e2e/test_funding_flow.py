"""In a real browser: the ledger's flow chart (an ECharts Sankey) draws, without a console
error, for a year whose money goes both ways between two accounts (a flow and its reverse
are drawn as one net flow; a cycle would leave the chart empty)."""

import pytest

from shegong.funding import services
from tests.e2e.test_division_browser import sign_in
from tests.funding.conftest import (  # noqa: F401 (fixtures: the small ledger of 江北区)
    DAY,
    empty_ledger_after_sqlite,
    ledger,
)

pytestmark = pytest.mark.e2e


def test_the_flow_chart_draws_with_money_going_both_ways(
    page,
    live_server,
    ledger,  # noqa: F811
    empty_ledger_after_sqlite,  # noqa: F811
):
    # given a year where the county allocates to the station and the station gives some back
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
        to_account=ledger.facility_account,
        amount="30000",
        occurred_on=DAY,
    )
    services.allocate(
        actor=ledger.county,
        from_account=ledger.facility_account,
        to_account=ledger.county_account,
        amount="5000",
        occurred_on=DAY,
    )
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server.url, "city")
    # when the city opens the ledger without naming a year
    page.goto(f"{live_server.url}/funding/?division=50")
    # then it shows 2024, the latest year with money, and the chart is drawn
    assert "2024" in page.get_by_role("heading", level=1).inner_text()
    page.wait_for_selector("#ledger-sankey[data-ready=true]")
    assert page.locator("#ledger-sankey canvas").count() == 1
    assert errors == []

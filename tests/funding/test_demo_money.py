"""The demo ledger and projects reproduce the article: F21–F25 (2019) and F29 through the
API, on the demo network (the workforce demo is not needed)."""

from decimal import Decimal

import pytest

from shegong.funding.demo import demo_funding_create
from shegong.funding.models import Account, Movement, MovementKind
from shegong.funding.selectors import (
    balances,
    flow_chart,
    has_cycle,
    ledger_flows,
    movement_years,
)
from shegong.geo.models import Division
from shegong.network.demo import demo_network_create
from shegong.network.services import seed_article_standard
from shegong.projects.demo import demo_projects_create
from shegong.projects.models import PaymentMilestone, Project, Stage, StageChange

pytestmark = pytest.mark.django_db


def test_api_reports_the_articles_money_and_projects(client, users):
    # given the demo network, projects and ledger
    seed_article_standard()
    demo_network_create()
    projects = demo_projects_create()
    money = demo_funding_create()
    assert projects["livelihood_security_projects"] == 1200
    assert money["movements"] > 0
    # and a second run changes nothing
    assert demo_projects_create() == {} and demo_funding_create() == {}
    client.force_login(users["city_admin"])

    # when the city asks for 2019's money per source kind
    body = client.get("/api/v1/funding/summary/sources", {"division": "50", "year": 2019}).json()
    figures = body["figures"]
    # then F21–F25 are the article's
    assert Decimal(figures["F21"]) == Decimal("32500000.00")
    assert Decimal(figures["F22"]) == Decimal("70000000.00")
    assert Decimal("0.9") <= Decimal(figures["F23"]) <= Decimal("1.0")
    assert Decimal(figures["F24"]) > Decimal("100000000")
    assert Decimal("24000000") <= Decimal(figures["F25"]) <= Decimal("26000000")

    # when it asks for the project counts: F29
    counts = client.get("/api/v1/projects/counts").json()
    assert counts["livelihood_security_projects"] == 1200
    assert counts["by_stage"][Stage.REJECTED] > 0  # not counted in F29
    # and the pages say the same: the money dashboard (ledger) and the project list
    ledger = client.get("/funding/", {"division": "50", "year": 2019}).content.decode()
    ledger = ledger.replace(",", "")
    assert 'data-testid="f21">3250万元<' in ledger and "¥32500000.00" in ledger
    assert 'data-testid="f22">7000万元<' in ledger and "¥70000000.00" in ledger
    assert 'data-testid="f24">1.01亿元<' in ledger and "¥101286400.00" in ledger
    listing = client.get("/projects/").content.decode().replace(",", "")
    assert 'data-testid="f29">1200<' in listing

    # when it asks for the per-county summary: every county of the city has money
    rows = client.get("/api/v1/funding/summary/counties", {"division": "50", "year": 2019})
    counties = [r for r in rows.json()["rows"] if r["code"] and len(r["code"]) == 6]
    assert len(counties) == 38
    # and the 1 % table shows some shortfalls
    table = client.get("/api/v1/funding/one-percent", {"division": "50", "year": 2019}).json()
    assert len(table["rows"]) == 38
    assert any(Decimal(r["shortfall"]) > 0 for r in table["rows"])

    # and the flows of every demo year can be drawn: no cycle left after netting
    city = Division.objects.get(code="50")
    years = movement_years(division=city)
    assert years == [2021, 2020, 2019, 2018, 2017, 2016]
    for year in years:
        chart = flow_chart(ledger_flows(division=city, year=year))
        assert chart["drawable"], year
        assert not has_cycle((link["source"], link["target"]) for link in chart["links"])
    # and the ledger opens on the latest year with money, not the current (empty) year
    opened = client.get("/funding/", {"division": "50"})
    assert opened.context["year"] == 2021 and opened.context["has_flows"]

    # and no account is overdrawn
    assert min(balances(Account.objects.all()).values()) >= 0
    # and every disbursement pays a milestone of a contracted project, never more than it
    paid: dict[int, Decimal] = {}
    for m in Movement.objects.filter(kind=MovementKind.DISBURSEMENT).select_related(
        "milestone__project", "from_account"
    ):
        assert m.milestone is not None
        assert m.from_account.project_id == m.milestone.project_id
        assert m.milestone.project.contract_signed_on is not None
        assert m.occurred_on >= m.milestone.project.contract_signed_on
        paid[m.milestone_id] = paid.get(m.milestone_id, Decimal(0)) + m.amount
    amounts = dict(PaymentMilestone.objects.values_list("pk", "amount"))
    assert all(total <= amounts[pk] for pk, total in paid.items())

    # and each project's timeline is in date order and ends at its stage
    project = Project.objects.filter(stage=Stage.CLOSED).order_by("pk").first()
    steps = list(StageChange.objects.filter(project=project).order_by("recorded_at", "id"))
    assert steps[-1].to_stage == Stage.CLOSED
    assert [s.changed_on for s in steps] == sorted(s.changed_on for s in steps)
    assert project.evaluations.filter(completed_at__isnull=False).count() == 2

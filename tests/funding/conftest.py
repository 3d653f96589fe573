"""A small ledger in 江北区 (500105): a city source, a county source, county, facility,
project and payee accounts, and a contracted project with two payment milestones."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from shegong.accounts.models import User
from shegong.core.roles import Role
from shegong.funding import services
from shegong.funding.models import Account, AccountKind, FundSource
from shegong.geo.models import Division
from shegong.network.models import Facility, SocialOrganisation
from shegong.network.services import facility_create
from shegong.projects.models import PaymentMilestone, Project
from tests.conftest import make_user

DAY = date(2024, 3, 1)


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def agency(name: str, code: str, uscc: str) -> SocialOrganisation:
    return SocialOrganisation.objects.create(
        name=name, uscc=uscc, division=division(code), is_social_work_agency=True
    )


def project(
    *, code: str, area: str, purchaser: Facility, agency_=None, stage: str = "contract"
) -> Project:
    """A project made directly with the model (the projects services are another step)."""
    return Project.objects.create(
        code=code,
        name=f"项目{code}",
        purchase_model="project",
        focus="special_groups",
        area=division(area),
        purchaser=purchaser,
        agency=agency_,
        starts_on=date(2024, 1, 1),
        ends_on=date(2024, 12, 31),
        budget=Decimal("100000.00"),
        stage=stage,
    )


@dataclass
class Ledger:
    city: User
    county: User
    other_county: User
    city_source: FundSource
    county_source: FundSource
    city_account: Account
    source_account: Account  # the county source's account
    county_account: Account
    facility_account: Account
    project: Project
    project_account: Account
    payee: Account
    milestone: PaymentMilestone
    milestone2: PaymentMilestone
    station: Facility


@pytest.fixture
def ledger(db) -> Ledger:
    city = make_user(Role.CITY_ADMIN, "50", username="city")
    county = make_user(Role.COUNTY_STAFF, "500105", username="jiangbei")
    other = make_user(Role.COUNTY_STAFF, "500107", username="jiulongpo")
    station = facility_create(
        actor=None,
        tier="station",
        division=division("500105001"),
        name="华新街社工站",
        status="operating",
        status_from=date(2020, 1, 1),
    )
    city_source = services.fund_source_create(
        actor=city,
        name="市级购买服务",
        kind="municipal_purchase",
        owner_level="city",
        division=division("50"),
        year=2024,
    )
    county_source = services.fund_source_create(
        actor=county,
        name="江北区救助资金1%",
        kind="assistance_1pct",
        owner_level="county",
        division=division("500105"),
        year=2024,
    )
    county_account = services.account_create(
        actor=county, kind=AccountKind.COUNTY, division=division("500105")
    )
    facility_account = services.account_create(
        actor=county, kind=AccountKind.FACILITY, facility=station
    )
    firm = agency("江北社工服务中心", "500105", "91500105MA5U000001")
    proj = project(code="JB-2024-01", area="500105001", purchaser=station, agency_=firm)
    project_account = services.account_create(actor=county, kind=AccountKind.PROJECT, project=proj)
    payee = services.account_create(actor=county, kind=AccountKind.PAYEE, organisation=firm)
    m1 = PaymentMilestone.objects.create(
        project=proj, name="首期", due_on=date(2024, 3, 1), amount=Decimal("30000.00")
    )
    m2 = PaymentMilestone.objects.create(
        project=proj, name="二期", due_on=date(2024, 9, 1), amount=Decimal("70000.00")
    )
    return Ledger(
        city=city,
        county=county,
        other_county=other,
        city_source=city_source,
        county_source=county_source,
        city_account=services.source_account(city_source),
        source_account=services.source_account(county_source),
        county_account=county_account,
        facility_account=facility_account,
        project=proj,
        project_account=project_account,
        payee=payee,
        milestone=m1,
        milestone2=m2,
        station=station,
    )


def fund_project(ledger: Ledger, amount: str = "100000.00") -> None:
    """City budget → county account → project account."""
    services.appropriate(
        actor=ledger.city, source=ledger.city_source, amount="500000", occurred_on=DAY
    )
    services.allocate(
        actor=ledger.city,
        from_account=ledger.city_account,
        to_account=ledger.county_account,
        amount=amount,
        occurred_on=DAY,
    )
    services.allocate(
        actor=ledger.county,
        from_account=ledger.county_account,
        to_account=ledger.project_account,
        amount=amount,
        occurred_on=DAY,
    )


@pytest.fixture
def empty_ledger_after_sqlite():
    """After a transactional test, the movements must go before Django's flush. PostgreSQL's
    flush TRUNCATEs (row triggers do not fire); on SQLite the owner drops the DELETE trigger,
    empties the table and puts the trigger back — the only way round it."""
    yield
    if connection.vendor != "sqlite":
        return
    from importlib import import_module

    triggers = import_module("shegong.funding.migrations.0004_movement_append_only_triggers")
    with connection.cursor() as cursor:
        for statement in triggers.SQLITE_DOWN:
            cursor.execute(statement)
        cursor.execute("DELETE FROM funding_movement")
        for statement in triggers.SQLITE_UP:
            cursor.execute(statement)


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English (the UI default is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield

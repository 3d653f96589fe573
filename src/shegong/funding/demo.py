"""Demo funding ledger, reproducing the article's money (demo mode only; after the demo
projects).

For each year 2016–2021:

- F21: the city's "重庆市级购买社会工作服务" source appropriates ¥32,500,000.00, allocated
  to county accounts and from them to the accounts of the year's contracted projects;
- F22: the city's "以奖代补" source appropriates ¥70,000,000.00, allocated to the 38
  counties' accounts (some of it funds projects too);
- F23: each county records its social-assistance spending (about ¥10 billion a year for the
  city, by county size); its 1 % source appropriates 1 % of it and allocates it to the
  county's assistance-handling account and its operating facilities (a few counties fall
  short, so the 1 % table shows shortfalls);
- county matching sources fund the projects the city money does not cover.

In 2019, F24: donations to the city's charitable fund, just over ¥100 M, partly allocated
to the counties; F25: market fees earned by the agencies, about ¥25 M.

Contracted projects are paid against their milestones that have fallen due (the mid-term
and final payments once those evaluations are completed and passed) into their agencies'
payee accounts; a terminated project's money left over is refunded to its county.

Movements are written in bulk (inserts: the ledger is append-only) in date order, checked
to keep every balance at or above zero at every step; one audit event records the load.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from django.db import transaction

from shegong.core.audit import audit_record
from shegong.funding.models import (
    Account,
    AccountKind,
    AssistanceSpending,
    FundSource,
    Movement,
    MovementKind,
    OwnerLevel,
    SourceKind,
)
from shegong.funding.selectors import balances, one_percent
from shegong.funding.services import PAYABLE_STAGES
from shegong.geo.models import Division, Level
from shegong.network.models import Facility, FacilityStatus, SocialOrganisation, Tier
from shegong.projects.demo import AS_OF
from shegong.projects.models import EvaluationKind, Grade, PaymentMilestone, Project, Stage
from shegong.workforce.models import Award

YEARS = range(2016, 2022)
MUNICIPAL_PURCHASE = Decimal("32500000.00")  # F21
AWARD_IN_LIEU = Decimal("70000000.00")  # F22
ASSISTANCE_TOTAL = {  # the city's social-assistance spending, yuan
    2016: Decimal("9.0e9"),
    2017: Decimal("9.4e9"),
    2018: Decimal("9.8e9"),
    2019: Decimal("10.3e9"),
    2020: Decimal("10.9e9"),
    2021: Decimal("10.6e9"),
}
SHORT_COUNTIES = 5  # counties a year allocating less than their 1 %
DONATIONS_2019 = Decimal("101286400.00")  # F24: just over ¥100 M
MARKET_FEES_2019 = Decimal("25036800.00")  # F25: about ¥25 M
AWARD_FOR_PROJECTS = Decimal("0.5")  # at most half of a county's award funds projects
DONORS = (
    "重庆市慈善总会",
    "重庆市社会福利基金会",
    "重庆市儿童少年基金会",
    "重庆市红十字会",
    "重庆市老年基金会",
    "重庆农村商业银行",
    "重庆银行",
    "长安汽车股份有限公司",
    "重庆建工集团",
    "重庆机电集团",
    "重庆水务集团",
    "重庆燃气集团",
    "重庆华宇集团",
    "龙湖集团",
    "金科地产集团",
    "隆鑫控股",
    "小康工业集团",
    "宗申产业集团",
    "重庆百货大楼",
    "个人及网络募捐",
)
CENT = Decimal("0.01")
YUAN = Decimal("1")
# Ordering of movements written on the same day: money arrives before it is passed on.
PHASE = {
    MovementKind.APPROPRIATION: 0,
    MovementKind.INCOME: 0,
    MovementKind.ALLOCATION: 1,
    MovementKind.DISBURSEMENT: 3,
    MovementKind.REWARD: 3,
    MovementKind.REFUND: 4,
}


def _split(total: Decimal, weights: list[float], unit: Decimal = YUAN) -> list[Decimal]:
    """``total`` split by ``weights`` in whole ``unit``s; the rest goes to the largest."""
    whole = sum(weights)
    parts = [(total * Decimal(w / whole)).quantize(unit, rounding=ROUND_DOWN) for w in weights]
    parts[max(range(len(parts)), key=lambda i: weights[i])] += total - sum(parts)
    return parts


def _pieces(rng: random.Random, total: Decimal, low: int, high: int) -> list[Decimal]:
    """Random amounts (whole hundreds of yuan) between ``low`` and ``high`` adding up to
    ``total`` exactly."""
    pieces, left = [], total
    while left > high:
        amount = Decimal(rng.randrange(low, high) // 100 * 100)
        pieces.append(amount)
        left -= amount
    if pieces and left < low:
        pieces[-1] += left
    else:
        pieces.append(left)
    return pieces


def _day(rng: random.Random, year: int, first: int = 1, last: int = 12) -> date:
    start = date(year, first, 1)
    end = date(year, last, 28)
    return start + timedelta(days=rng.randrange(0, (end - start).days + 1))


class _Ledger:
    """Accounts and movements being built in memory, then written in bulk."""

    def __init__(self) -> None:
        self.sources: list[FundSource] = []
        self.accounts: list[Account] = []
        self.movements: list[tuple[date, int, int, Movement]] = []

    def source(self, name, kind, owner_level, division, year) -> Account:
        source = FundSource(
            name=name, kind=kind, owner_level=owner_level, division=division, year=year
        )
        self.sources.append(source)
        return self.account(name=name, kind=AccountKind.SOURCE, division=division, source=source)

    def account(self, **fields) -> Account:
        account = Account(**fields)
        self.accounts.append(account)
        return account

    def move(
        self, kind, from_account, to_account, amount, on, memo="", milestone=None, award=None
    ) -> None:
        if amount <= 0:
            return
        assert on <= AS_OF, (kind, on)
        movement = Movement(
            kind=kind,
            from_account=from_account,
            to_account=to_account,
            amount=amount.quantize(CENT),
            occurred_on=on,
            memo=memo[:300],
            milestone=milestone,
            award=award,
        )
        self.movements.append((on, PHASE[kind], len(self.movements), movement))

    def ordered(self) -> list[Movement]:
        """The movements in date order, checked: no account ever goes below zero."""
        self.movements.sort(key=lambda x: x[:3])
        balance: dict[int, Decimal] = defaultdict(Decimal)
        for _on, _phase, _n, m in self.movements:
            if m.from_account is not None:
                key = id(m.from_account)
                balance[key] -= m.amount
                if balance[key] < 0:
                    raise AssertionError(f"demo ledger overdraws {m.from_account.name}")
            if m.to_account is not None:
                balance[id(m.to_account)] += m.amount
        return [m for *_k, m in self.movements]


@transaction.atomic
def demo_funding_create(seed: int = 2024) -> dict[str, int | str]:
    """Create the demo ledger if there is no fund source yet; return what was made."""
    if FundSource.objects.exists():
        return {}
    rng = random.Random(seed)
    city = Division.objects.get(code="50")
    counties = list(
        Division.objects.filter(code__startswith="50", level=Level.COUNTY).order_by("code")
    )
    # county size: its number of communities (codes of a county's communities start
    # with the county's code)
    size: dict[str, int] = defaultdict(int)
    for code in Division.objects.filter(code__startswith="50", level=Level.COMMUNITY).values_list(
        "code", flat=True
    ):
        size[code[:6]] += 1
    weight = {c.code: float(size.get(c.code, 0) + 50) for c in counties}
    facilities: dict[str, list[Facility]] = defaultdict(list)
    for facility in (
        Facility.objects.filter(
            division__code__startswith="50",
            tier__in=(Tier.STATION, Tier.CENTRE),
            status=FacilityStatus.OPERATING,
        )
        .select_related("division")
        .order_by("division__code", "tier")
    ):
        facilities[facility.division.code[:6]].append(facility)
    ledger = _Ledger()

    # Accounts that last: a county account for assistance handling, facilities, payees.
    handling = {
        c.code: ledger.account(
            name=f"{c.name}社会救助经办能力建设资金", kind=AccountKind.COUNTY, division=c
        )
        for c in counties
    }
    facility_accounts = {
        f.pk: ledger.account(
            name=f"{f.name}经办能力建设资金",
            kind=AccountKind.FACILITY,
            division=f.division,
            facility=f,
        )
        for fs in facilities.values()
        for f in fs
    }
    agencies = list(
        SocialOrganisation.objects.filter(is_social_work_agency=True).select_related("division")
    )
    payees = {
        a.pk: ledger.account(
            name=a.name, kind=AccountKind.PAYEE, division=a.division, organisation=a
        )
        for a in agencies
    }

    projects = _contracted_projects()
    by_year_county: dict[tuple[int, str], list[Project]] = defaultdict(list)
    for project in projects:
        by_year_county[(project.starts_on.year, project.area.code[:6])].append(project)
    project_accounts: dict[int, Account] = {}
    county_account_of: dict[int, Account] = {}  # the account that funded the project

    spending_rows = []
    for year in YEARS:
        jan = date(year, 1, 2)
        # F21: municipal purchase, down to the counties by their projects' needs
        municipal = ledger.source(
            "重庆市级购买社会工作服务", SourceKind.MUNICIPAL_PURCHASE, OwnerLevel.CITY, city, year
        )
        ledger.move(
            MovementKind.APPROPRIATION, None, municipal, MUNICIPAL_PURCHASE, jan, "年度预算"
        )
        need = {
            c.code: float(sum(p.budget for p in by_year_county.get((year, c.code), [])))
            for c in counties
        }
        shares = [need[c.code] or weight[c.code] / 100 for c in counties]
        award = ledger.source("以奖代补", SourceKind.AWARD_IN_LIEU, OwnerLevel.CITY, city, year)
        ledger.move(MovementKind.APPROPRIATION, None, award, AWARD_IN_LIEU, jan, "年度预算")
        award_shares = _split(AWARD_IN_LIEU, [weight[c.code] for c in counties], Decimal("1000"))
        municipal_shares = _split(MUNICIPAL_PURCHASE, shares, Decimal("1000"))
        for county, m_share, a_share in zip(counties, municipal_shares, award_shares, strict=True):
            day = jan + timedelta(days=rng.randrange(1, 10))
            m_account = ledger.account(
                name=f"{county.name}市级购买社会工作服务资金{year}",
                kind=AccountKind.COUNTY,
                division=county,
                source=municipal.source,
            )
            a_account = ledger.account(
                name=f"{county.name}以奖代补资金{year}",
                kind=AccountKind.COUNTY,
                division=county,
                source=award.source,
            )
            ledger.move(MovementKind.ALLOCATION, municipal, m_account, m_share, day, "市级下达")
            ledger.move(MovementKind.ALLOCATION, award, a_account, a_share, day, "以奖代补下达")
            # the county's projects of the year: city money first, then county matching
            funders = [(m_account, m_share), (a_account, a_share * AWARD_FOR_PROJECTS)]
            left = [share for _account, share in funders]
            matched = []
            for project in sorted(
                by_year_county.get((year, county.code), []), key=lambda p: (_funded_on(p), p.pk)
            ):
                i = next((i for i, value in enumerate(left) if value >= project.budget), None)
                if i is None:
                    matched.append(project)
                    continue
                left[i] -= project.budget
                county_account_of[project.pk] = funders[i][0]
            if matched:
                total = sum((p.budget for p in matched), Decimal(0))
                total = (total / 10000).quantize(YUAN, rounding=ROUND_UP) * 10000
                matching = ledger.source(
                    f"{county.name}社会工作服务配套资金",
                    SourceKind.COUNTY_MATCHING,
                    OwnerLevel.COUNTY,
                    county,
                    year,
                )
                ledger.move(MovementKind.APPROPRIATION, None, matching, total, jan, "区县配套")
                for project in matched:
                    county_account_of[project.pk] = matching
            for project in by_year_county.get((year, county.code), []):
                funder = county_account_of[project.pk]
                account = ledger.account(
                    name=str(project)[:200],
                    kind=AccountKind.PROJECT,
                    division=project.area,
                    project=project,
                    source=funder.source,
                )
                project_accounts[project.pk] = account
                ledger.move(
                    MovementKind.ALLOCATION,
                    funder,
                    account,
                    project.budget,
                    _funded_on(project),
                    f"项目经费 {project.contract_number}",
                )

        # F23: social-assistance spending per county, and its 1 %
        spent = _split(
            ASSISTANCE_TOTAL[year],
            [weight[c.code] * rng.uniform(0.85, 1.15) for c in counties],
            Decimal("10000"),
        )
        short = set(rng.sample([c.code for c in counties], SHORT_COUNTIES))
        for county, amount in zip(counties, spent, strict=True):
            spending_rows.append(AssistanceSpending(division=county, year=year, amount=amount))
            required = one_percent(amount)
            source = ledger.source(
                f"{county.name}社会救助资金1%（基层经办能力）",
                SourceKind.ASSISTANCE_ONE_PERCENT,
                OwnerLevel.COUNTY,
                county,
                year,
            )
            ledger.move(
                MovementKind.APPROPRIATION,
                None,
                source,
                required,
                date(year, 2, 1),
                "按社会救助资金1%安排",
            )
            given = required
            if county.code in short:
                given = (required * Decimal(rng.uniform(0.6, 0.9))).quantize(YUAN)
            day = date(year, 3, 1) + timedelta(days=rng.randrange(0, 90))
            open_ = [f for f in facilities[county.code] if f.opened_on and f.opened_on <= day]
            targets = [handling[county.code]] + [facility_accounts[f.pk] for f in open_]
            parts = _split(given, [3.0 * max(1, len(open_))] + [7.0] * len(open_), CENT)
            for target, part in zip(targets, parts, strict=True):
                ledger.move(MovementKind.ALLOCATION, source, target, part, day, "基层经办能力建设")

    # F24 and F25 (2019)
    donations = ledger.source(
        "重庆市社会捐赠及慈善资金", SourceKind.DONATION, OwnerLevel.CITY, city, 2019
    )
    for amount in _pieces(rng, DONATIONS_2019, 200_000, 3_500_000):
        ledger.move(
            MovementKind.INCOME,
            None,
            donations,
            amount,
            _day(rng, 2019, 1, 11),
            f"捐赠：{rng.choice(DONORS)}",
        )
    to_counties = _split(
        DONATIONS_2019 * Decimal("0.8"), [weight[c.code] for c in counties], Decimal("100")
    )
    for county, amount in zip(counties, to_counties, strict=True):
        target = ledger.account(
            name=f"{county.name}慈善资金2019",
            kind=AccountKind.COUNTY,
            division=county,
            source=donations.source,
        )
        ledger.move(
            MovementKind.ALLOCATION,
            donations,
            target,
            amount,
            date(2019, 12, rng.randrange(2, 28)),
            "慈善资金下拨",
        )
    fees = ledger.source(
        "社会工作机构市场化服务收入", SourceKind.MARKET_FEE, OwnerLevel.CITY, city, 2019
    )
    fee_parts = _split(MARKET_FEES_2019, [rng.uniform(0.2, 2.0) for _ in agencies], CENT)
    for agency, amount in zip(agencies, fee_parts, strict=True):
        for part in _split(amount, [rng.uniform(1, 3) for _ in range(rng.randrange(1, 4))], CENT):
            ledger.move(
                MovementKind.INCOME,
                None,
                fees,
                part,
                _day(rng, 2019),
                f"{agency.name} 市场化服务收费",
            )

    # Payments against the milestones that have fallen due, and refunds of terminated ones
    paid_total = Decimal(0)
    payments = 0
    for project in projects:
        account = project_accounts[project.pk]
        payee = payees[project.agency_id]
        funded = _funded_on(project)
        paid = Decimal(0)
        for milestone, day in _payable(project):
            on = min(max(day, funded) + timedelta(days=rng.randrange(0, 8)), AS_OF)
            if project.terminated_on:
                on = min(on, project.terminated_on)
            ledger.move(
                MovementKind.DISBURSEMENT,
                account,
                payee,
                milestone.amount,
                on,
                milestone.name,
                milestone,
            )
            paid += milestone.amount
            payments += 1
        paid_total += paid
        if project.terminated_on and project.budget > paid:
            back = min(project.terminated_on + timedelta(days=15), AS_OF)
            ledger.move(
                MovementKind.REFUND,
                account,
                county_account_of[project.pk],
                project.budget - paid,
                back,
                "项目终止，结余资金退回",
            )

    # Honours' rewards (the workforce demo's famous masters) paid out of a city talent fund
    rewards = 0
    by_year: dict[int, list[Award]] = defaultdict(list)
    for award in Award.objects.filter(reward_amount__gt=0, paid_on__isnull=False).select_related(
        "scheme"
    ):
        by_year[award.paid_on.year].append(award)
    for year, awards in sorted(by_year.items()):
        fund = ledger.source(
            "重庆英才计划人才奖励资金", SourceKind.OTHER, OwnerLevel.CITY, city, year
        )
        total = sum((a.reward_amount for a in awards), Decimal(0))
        ledger.move(
            MovementKind.APPROPRIATION, None, fund, total, date(year, 1, 10), "人才奖励预算"
        )
        for award in awards:
            ledger.move(
                MovementKind.REWARD,
                fund,
                None,
                award.reward_amount,
                award.paid_on,
                str(award.scheme),
                award=award,
            )
            rewards += 1

    FundSource.objects.bulk_create(ledger.sources, batch_size=1000)
    for account in ledger.accounts:
        account.source = account.source  # refresh the source id now that it is saved
    Account.objects.bulk_create(ledger.accounts, batch_size=1000)
    movements = ledger.ordered()
    for movement in movements:
        movement.from_account = movement.from_account
        movement.to_account = movement.to_account
    Movement.objects.bulk_create(movements, batch_size=2000)
    AssistanceSpending.objects.bulk_create(spending_rows, batch_size=1000)
    negative = [pk for pk, value in balances(Account.objects.all()).items() if value < 0]
    if negative:
        raise AssertionError(f"demo ledger: negative balances in accounts {negative[:10]}")
    made = {
        "sources": len(ledger.sources),
        "accounts": len(ledger.accounts),
        "movements": len(movements),
        "payments": payments,
        "paid": str(paid_total),
        "rewards": rewards,
    }
    audit_record(actor=None, action="demo.funding", object_type="funding.movement", after=made)
    return made


def _contracted_projects() -> list[Project]:
    """Projects whose contract has been signed (terminated ones included, with the date
    they ended), with their milestones and completed evaluations."""
    projects = list(
        Project.objects.filter(stage__in=[*PAYABLE_STAGES, Stage.TERMINATED], agency__isnull=False)
        .select_related("area")
        .prefetch_related("milestones", "evaluations", "stage_changes")
        .order_by("pk")
    )
    for project in projects:
        ended = [
            c.changed_on for c in project.stage_changes.all() if c.to_stage == Stage.TERMINATED
        ]
        project.terminated_on = ended[0] if ended else None
    return projects


def _funded_on(project: Project) -> date:
    """The project's money reaches its account on signing, not before the year's money
    reached the county (in January of its start year)."""
    return max(project.contract_signed_on, date(project.starts_on.year, 1, 12))


def _payable(project: Project) -> list[tuple[PaymentMilestone, date]]:
    """The milestones paid by ``AS_OF``, with the day each fell due: the first on its due
    date; the mid-term payment once the mid-term evaluation passed; the last once the
    final evaluation passed and the project closed."""
    done = {
        e.kind: e.completed_at.date()
        for e in project.evaluations.all()
        if e.completed_at is not None and e.grade != Grade.FAIL
    }
    milestones = sorted(project.milestones.all(), key=lambda m: (m.due_on, m.pk))
    result = []
    for index, milestone in enumerate(milestones):
        last = index == len(milestones) - 1
        if index == 0:
            ready = milestone.due_on
        elif not last:
            ready = done.get(EvaluationKind.MIDTERM) and max(
                milestone.due_on, done[EvaluationKind.MIDTERM]
            )
        else:
            closed = project.stage == Stage.CLOSED
            ready = (
                closed
                and done.get(EvaluationKind.FINAL)
                and max(milestone.due_on, done[EvaluationKind.FINAL])
            )
        if not ready or ready > AS_OF:
            continue
        if project.terminated_on and ready > project.terminated_on:
            continue
        result.append((milestone, ready))
    return result

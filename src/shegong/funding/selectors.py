"""Reads of the funding ledger: balances, flows, yearly summaries (F21–F25) and the 1 % rule.

Balances and totals are sums of movements, never stored. A reversal counts against the
movement it reverses: in the summaries it is taken in the original's direction and kind with
a negative amount, so a reversed allocation simply stops counting. The summaries are single
grouped SQL statements that run on SQLite and PostgreSQL (on SQLite, whose decimals are
floating point, sums are taken in integer fen).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractYear
from django.utils.translation import gettext_lazy as _

from shegong.funding.models import (
    Account,
    AccountKind,
    AssistanceSpending,
    Movement,
    MovementKind,
    SourceKind,
)
from shegong.geo.models import Division, Level

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ONE_PERCENT = Decimal("0.01")
UNATTRIBUTED = "unattributed"
METRICS = ("appropriated", "allocated", "disbursed", "income", "refunded")


def _money():
    return DecimalField(max_digits=16, decimal_places=2)


def account_balance(account: Account) -> Decimal:
    """Sum of the movements into the account minus those out of it."""
    received = Movement.objects.filter(to_account=account).aggregate(s=Sum("amount"))["s"]
    spent = Movement.objects.filter(from_account=account).aggregate(s=Sum("amount"))["s"]
    return ((received or ZERO) - (spent or ZERO)).quantize(CENT)


def agency_payee_account(project) -> Account | None:
    """The payee account of a project's contracted agency (where its milestones are paid),
    or None when the project has no agency or the agency no payee account."""
    if project is None or not project.agency_id:
        return None
    return (
        Account.objects.filter(kind=AccountKind.PAYEE, organisation_id=project.agency_id)
        .order_by("pk")
        .first()
    )


def with_balance(accounts: QuerySet) -> QuerySet:
    """The accounts annotated with ``balance`` (one statement, two correlated sums)."""

    def total(direction: str):
        sums = (
            Movement.objects.filter(**{direction: OuterRef("pk")})
            .order_by()
            .values(direction)
            .annotate(s=Sum("amount"))
            .values("s")
        )
        return Coalesce(Subquery(sums, output_field=_money()), Value(ZERO), output_field=_money())

    return accounts.annotate(
        balance=ExpressionWrapper(
            total("to_account") - total("from_account"), output_field=_money()
        )
    )


def balances(accounts: QuerySet) -> dict[int, Decimal]:
    """Balance per account id for every account of the queryset, in one grouped query."""
    ids = accounts.order_by().values("pk")
    # grouped in SQL per (to, from) pair; a pair's sum counts for both accounts
    pairs = (
        Movement.objects.filter(Q(to_account__in=ids) | Q(from_account__in=ids))
        .order_by()
        .values("to_account_id", "from_account_id")
        .annotate(s=Sum("amount"))
    )
    wanted = set(accounts.order_by().values_list("pk", flat=True))
    result = {pk: ZERO for pk in wanted}
    for row in pairs:
        if row["to_account_id"] in wanted:
            result[row["to_account_id"]] += row["s"]
        if row["from_account_id"] in wanted:
            result[row["from_account_id"]] -= row["s"]
    return {pk: value.quantize(CENT) for pk, value in result.items()}


# --- Shared SQL ------------------------------------------------------------------------------

# A reversal is taken in the direction and kind of the movement it reverses, negatively.
_EKIND = (
    "CASE WHEN m.kind = 'reversal' THEN "
    "(SELECT o.kind FROM funding_movement o WHERE o.id = m.reverses_id) ELSE m.kind END"
)
_ORIG_TO = "CASE WHEN m.kind = 'reversal' THEN m.from_account_id ELSE m.to_account_id END"
_ORIG_FROM = "CASE WHEN m.kind = 'reversal' THEN m.to_account_id ELSE m.from_account_id END"


def _signed() -> str:
    sign = "CASE WHEN m.kind = 'reversal' THEN -1 ELSE 1 END"
    if connection.vendor == "sqlite":  # exact: integer fen
        return f"CAST(ROUND(m.amount * 100) AS INTEGER) * {sign}"
    return f"m.amount * {sign}"


def _dec(value) -> Decimal:
    if value is None:
        return ZERO
    if connection.vendor == "sqlite":
        return (Decimal(int(value)) / 100).quantize(CENT)
    return Decimal(value).quantize(CENT)


def _year_range(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


def _prefix(division: Division) -> str:
    return f"{division.code}%"


# --- Per county ------------------------------------------------------------------------------


def _amount_sql() -> str:
    if connection.vendor == "sqlite":  # exact: integer fen
        return "CAST(ROUND(m.amount * 100) AS INTEGER)"
    return "m.amount"


def county_summary_sql() -> str:
    """One grouped statement. The year's movements are first grouped by (to account, from
    account, kind) on their plain columns — one hash aggregate over the year, a few thousand
    groups at most; the rare reversals are grouped apart, under the kind and direction of
    the movement they reverse, with a negative sign. Only those groups are then joined to
    the accounts' counties and unfolded into per-county columns. Parameters: start, end,
    start, end, prefix."""
    amount = _amount_sql()
    return f"""
    WITH g0 AS (
        SELECT m.to_account_id AS to_id, m.from_account_id AS from_id, m.kind,
               SUM({amount}) AS total
        FROM funding_movement m
        WHERE m.occurred_on >= %s AND m.occurred_on < %s AND m.kind <> 'reversal'
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT m.from_account_id, m.to_account_id, o.kind, -SUM({amount})
        FROM funding_movement m JOIN funding_movement o ON o.id = m.reverses_id
        WHERE m.occurred_on >= %s AND m.occurred_on < %s AND m.kind = 'reversal'
        GROUP BY 1, 2, 3
    ),
    acc AS (
        SELECT a.id, substr(d.code, 1, 6) AS county,
               CASE WHEN d.code LIKE %s THEN 1 ELSE 0 END AS inside
        FROM funding_account a JOIN geo_division d ON d.id = a.division_id
    ),
    g AS (
        SELECT t.county AS to_county, t.inside AS to_inside,
               f.county AS from_county, f.inside AS from_inside, g0.kind, g0.total
        FROM g0
        LEFT JOIN acc t ON t.id = g0.to_id
        LEFT JOIN acc f ON f.id = g0.from_id
    )
    SELECT county, SUM(appropriated), SUM(allocated), SUM(disbursed), SUM(income),
           SUM(refunded)
    FROM (
        SELECT to_county AS county,
               CASE WHEN kind = 'appropriation' THEN total ELSE 0 END AS appropriated,
               CASE WHEN kind = 'allocation'
                         AND (from_county IS NULL OR from_county <> to_county)
                    THEN total ELSE 0 END AS allocated,
               0 AS disbursed,
               CASE WHEN kind = 'income' THEN total ELSE 0 END AS income,
               CASE WHEN kind = 'refund' THEN total ELSE 0 END AS refunded
        FROM g WHERE to_inside = 1
        UNION ALL
        SELECT from_county, 0, 0, total, 0, 0
        FROM g WHERE from_inside = 1 AND kind = 'disbursement'
    ) x
    GROUP BY county
    ORDER BY county
    """  # noqa: S608 (fixed SQL fragments; values are parameters)


@dataclass
class CountyRow:
    code: str
    name: str
    appropriated: Decimal = ZERO
    allocated: Decimal = ZERO
    disbursed: Decimal = ZERO
    income: Decimal = ZERO
    refunded: Decimal = ZERO

    def as_dict(self) -> dict:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}


def county_summary(*, division: Division, year: int) -> list[CountyRow]:
    """Per county of the division's subtree (accounts above county level form their own row,
    e.g. the city's), for the year:

    - appropriated: budgets put into the county's source accounts;
    - allocated: allocations received by the county's accounts from outside the county;
    - disbursed: payments out of the county's project accounts;
    - income: donations and fees received into the county's accounts;
    - refunded: money returned into the county's accounts.
    """
    start, end = _year_range(year)
    with connection.cursor() as cursor:
        cursor.execute(county_summary_sql(), [start, end, start, end, _prefix(division)])
        raw = cursor.fetchall()
    names = dict(
        Division.objects.filter(code__in=[r[0] for r in raw if r[0]]).values_list("code", "name")
    )
    rows = []
    for code, *values in raw:
        rows.append(CountyRow(code, names.get(code, code), *(_dec(v) for v in values)))
    return rows


# --- Per source kind (F21–F25) ---------------------------------------------------------------


def _source_kind_sql() -> str:
    return f"""
    SELECT COALESCE(fs.kind, ts.kind) AS source_kind, {_EKIND} AS kind,
           CASE WHEN fa.kind = 'source' THEN 1 ELSE 0 END AS from_source,
           SUM({_signed()})
    FROM funding_movement m
    LEFT JOIN funding_account fa ON fa.id = {_ORIG_FROM}
    LEFT JOIN funding_account ta ON ta.id = {_ORIG_TO}
    LEFT JOIN funding_fundsource fs ON fs.id = fa.source_id
    LEFT JOIN funding_fundsource ts ON ts.id = ta.source_id
    LEFT JOIN geo_division fd ON fd.id = fa.division_id
    LEFT JOIN geo_division td ON td.id = ta.division_id
    WHERE m.occurred_on >= %s AND m.occurred_on < %s
      AND (fd.code LIKE %s OR td.code LIKE %s)
    GROUP BY 1, 2, 3
    """  # noqa: S608 (fixed SQL fragments; values are parameters)


@dataclass
class SourceKindSummary:
    """The year's money per kind of source, and the article's figures.

    A movement counts under the source of the account it leaves (or, failing that, the one
    it reaches): a source's own account, or an account earmarked for a source
    (``Account.source``); money in unearmarked accounts is "unattributed". ``allocated`` is
    what left the sources' own accounts.

    - F21 municipal purchase of services, F22 awards in lieu of subsidies, F24 donations and
      F25 market fees: the money raised in the year (appropriated + income) of that kind;
    - F23: allocations from 1 % sources as a percentage of the year's recorded
      social-assistance spending (the rule says 1 %).
    """

    year: int
    rows: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    assistance_spending: Decimal = ZERO

    def raised(self, kind: str) -> Decimal:
        row = self.rows.get(kind, {})
        return row.get("appropriated", ZERO) + row.get("income", ZERO)

    @property
    def f21_municipal_purchase(self) -> Decimal:
        return self.raised(SourceKind.MUNICIPAL_PURCHASE)

    @property
    def f22_awards_in_lieu(self) -> Decimal:
        return self.raised(SourceKind.AWARD_IN_LIEU)

    @property
    def f23_assistance_share_percent(self) -> Decimal | None:
        if not self.assistance_spending:
            return None
        allocated = self.rows.get(SourceKind.ASSISTANCE_ONE_PERCENT, {}).get("allocated", ZERO)
        return (allocated * 100 / self.assistance_spending).quantize(CENT, ROUND_HALF_UP)

    @property
    def f24_donations(self) -> Decimal:
        return self.raised(SourceKind.DONATION)

    @property
    def f25_market_fees(self) -> Decimal:
        return self.raised(SourceKind.MARKET_FEE)

    def figures(self) -> dict:
        f23 = self.f23_assistance_share_percent
        return {
            "F21": str(self.f21_municipal_purchase),
            "F22": str(self.f22_awards_in_lieu),
            "F23": str(f23) if f23 is not None else None,
            "F24": str(self.f24_donations),
            "F25": str(self.f25_market_fees),
        }

    def as_dict(self) -> dict:
        return {
            "year": self.year,
            "rows": [
                {"kind": kind, **{k: str(v) for k, v in metrics.items()}}
                for kind, metrics in self.rows.items()
            ],
            "assistance_spending": str(self.assistance_spending),
            "figures": self.figures(),
        }


def source_kind_summary(*, division: Division, year: int) -> SourceKindSummary:
    """Appropriated, allocated, disbursed, income and refunded per kind of source for the
    movements of the year that touch an account in the division's subtree."""
    start, end = _year_range(year)
    prefix = _prefix(division)
    with connection.cursor() as cursor:
        cursor.execute(_source_kind_sql(), [start, end, prefix, prefix])
        raw = cursor.fetchall()
    order = [*SourceKind.values, UNATTRIBUTED]
    rows = {kind: dict.fromkeys(METRICS, ZERO) for kind in order}
    target = {
        MovementKind.APPROPRIATION: "appropriated",
        MovementKind.DISBURSEMENT: "disbursed",
        MovementKind.INCOME: "income",
        MovementKind.REFUND: "refunded",
    }
    for source_kind, kind, from_source, total in raw:
        metrics = rows[source_kind or UNATTRIBUTED]
        if kind == MovementKind.ALLOCATION:
            if from_source:
                metrics["allocated"] += _dec(total)
        elif kind in target:
            metrics[target[kind]] += _dec(total)
    spending = AssistanceSpending.objects.filter(
        division__code__startswith=division.code, year=year
    ).aggregate(s=Sum("amount"))["s"]
    return SourceKindSummary(
        year=year,
        rows={k: v for k, v in rows.items() if k != UNATTRIBUTED or any(v.values())},
        assistance_spending=(spending or ZERO).quantize(CENT),
    )


# --- The 1 % rule ----------------------------------------------------------------------------


def one_percent(amount: Decimal) -> Decimal:
    """1 % of ``amount``, rounded to the fen half-up."""
    return (amount * ONE_PERCENT).quantize(CENT, ROUND_HALF_UP)


def _one_percent_sql() -> str:
    """Allocated from 1 % sources' own accounts into each county's accounts, less refunds
    back to them (reversals counted against what they reverse).

    The year's movements are a MATERIALIZED step: folded into the joins, their CASE
    expressions hid the account joins from PostgreSQL's planner, which crossed every
    division with every movement (2.4 s for the city; 17 ms as it is)."""
    return f"""
    WITH mv AS MATERIALIZED (
        SELECT {_EKIND} AS ek, {_ORIG_FROM} AS f, {_ORIG_TO} AS t, {_signed()} AS total
        FROM funding_movement m
        WHERE m.occurred_on >= %s AND m.occurred_on < %s
          AND m.kind IN ('allocation', 'refund', 'reversal')
    )
    SELECT substr(CASE WHEN ek = 'allocation' THEN td.code ELSE fd.code END, 1, 6),
           SUM(CASE WHEN ek = 'allocation' THEN total ELSE -total END)
    FROM mv
    JOIN funding_account fa ON fa.id = mv.f
    JOIN funding_account ta ON ta.id = mv.t
    JOIN geo_division fd ON fd.id = fa.division_id
    JOIN geo_division td ON td.id = ta.division_id
    LEFT JOIN funding_fundsource fs ON fs.id = fa.source_id
    LEFT JOIN funding_fundsource ts ON ts.id = ta.source_id
    WHERE (ek = 'allocation' AND fa.kind = 'source' AND fs.kind = 'assistance_1pct'
           AND td.code LIKE %s)
       OR (ek = 'refund' AND ta.kind = 'source' AND ts.kind = 'assistance_1pct'
           AND fd.code LIKE %s)
    GROUP BY 1
    """  # noqa: S608 (fixed SQL fragments; values are parameters)


@dataclass
class OnePercentRow:
    code: str
    name: str
    spending: Decimal | None
    required: Decimal | None
    allocated: Decimal
    shortfall: Decimal | None

    def as_dict(self) -> dict:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}


def one_percent_table(*, division: Division, year: int) -> list[OnePercentRow]:
    """Per county of the subtree: the year's social-assistance spending, the 1 % that must
    go to grassroots assistance-handling capacity, what was allocated to the county's
    accounts from 1 % sources, and the shortfall (never negative). A county with no
    spending recorded shows its allocations with the rest empty."""
    start, end = _year_range(year)
    prefix = _prefix(division)
    with connection.cursor() as cursor:
        cursor.execute(_one_percent_sql(), [start, end, prefix, prefix])
        allocated = {code: _dec(total) for code, total in cursor.fetchall()}
    spending = {
        code: amount
        for code, amount in AssistanceSpending.objects.filter(
            division__code__startswith=division.code, year=year
        ).values_list("division__code", "amount")
    }
    codes = sorted(set(spending) | {c for c in allocated if len(c) == 6})
    names = dict(
        Division.objects.filter(code__in=codes, level=Level.COUNTY).values_list("code", "name")
    )
    rows = []
    for code in codes:
        given = allocated.get(code, ZERO)
        base = spending.get(code)
        required = one_percent(base) if base is not None else None
        shortfall = max(required - given, ZERO) if required is not None else None
        rows.append(OnePercentRow(code, names.get(code, code), base, required, given, shortfall))
    return rows


# --- Flows (Sankey) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    from_id: int | None
    from_name: str
    from_kind: str
    to_id: int | None
    to_name: str
    to_kind: str
    kind: str
    total: Decimal

    def as_dict(self) -> dict:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}


def ledger_flows(*, division: Division, year: int) -> list[Flow]:
    """The year's money from account to account (sources → allocations → projects →
    payments), summed per (from, to, kind), for movements touching the division's subtree.
    Money from or to outside the ledger has no account (``None``). Reversals cancel what
    they reverse; pairs that net to nothing are left out."""
    start, end = _year_range(year)
    prefix = _prefix(division)
    sql = f"""
        SELECT {_ORIG_FROM}, {_ORIG_TO}, {_EKIND}, SUM({_signed()})
        FROM funding_movement m
        LEFT JOIN funding_account fa ON fa.id = m.from_account_id
        LEFT JOIN funding_account ta ON ta.id = m.to_account_id
        LEFT JOIN geo_division fd ON fd.id = fa.division_id
        LEFT JOIN geo_division td ON td.id = ta.division_id
        WHERE m.occurred_on >= %s AND m.occurred_on < %s
          AND (fd.code LIKE %s OR td.code LIKE %s)
        GROUP BY 1, 2, 3
    """  # noqa: S608 (fixed SQL fragments; values are parameters)  # noqa: S608 (fixed SQL fragments; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end, prefix, prefix])
        raw = [(f, t, k, _dec(s)) for f, t, k, s in cursor.fetchall()]
    ids = {i for f, t, _k, _s in raw for i in (f, t) if i is not None}
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=ids).only("name", "kind")}
    order = {k: i for i, k in enumerate(MovementKind.values)}
    flows = []
    for f, t, kind, total in raw:
        if total <= 0:
            continue
        fa, ta = accounts.get(f), accounts.get(t)
        flows.append(
            Flow(
                f,
                fa.name if fa else "",
                fa.kind if fa else "outside",
                t,
                ta.name if ta else "",
                ta.kind if ta else "outside",
                kind,
                total,
            )
        )
    flows.sort(key=lambda x: (order.get(x.kind, 99), x.from_name, x.to_name))
    return flows


# --- Years with money ------------------------------------------------------------------------


def movement_years(*, division: Division) -> list[int]:
    """The years (newest first) in which a movement touched an account of the division's
    subtree."""
    touching = Q(to_account__division__code__startswith=division.code) | Q(
        from_account__division__code__startswith=division.code
    )
    return list(
        Movement.objects.filter(touching)
        .annotate(year=ExtractYear("occurred_on"))
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


def spending_years(*, division: Division) -> list[int]:
    """The years (newest first) with social-assistance spending recorded in the subtree."""
    return list(
        AssistanceSpending.objects.filter(division__code__startswith=division.code)
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


# --- The flow chart (Sankey) -----------------------------------------------------------------

FROM_OUTSIDE = _("Budget and income from outside the ledger")
TO_OUTSIDE = _("Paid out of the ledger")


def flow_chart(flows: list[Flow]) -> dict:
    """The flows folded into a few nodes (kinds of source → counties' and facilities'
    allocations → projects → payees; money coming in from outside the ledger and money paid
    out of it are two different nodes) for a Sankey chart. Refunds, which run backwards,
    are left out; a flow and its reverse between two nodes are drawn as one net flow. A
    Sankey chart cannot draw a cycle: ``drawable`` is False when one is left (the page shows
    the table instead)."""
    kinds = dict(SourceKind.choices)
    account_kinds = dict(AccountKind.choices)
    ids = {f.from_id for f in flows if f.from_id} | {f.to_id for f in flows if f.to_id}
    source_kind_of = dict(Account.objects.filter(pk__in=ids).values_list("pk", "source__kind"))

    def node(account_id, account_kind, outside) -> str:
        if account_id is None:
            return str(outside)
        if account_kind == AccountKind.SOURCE:
            return str(kinds.get(source_kind_of.get(account_id), _("Other")))
        return str(account_kinds.get(account_kind, account_kind))

    gross: dict[tuple[str, str], Decimal] = {}
    for flow in flows:
        if flow.kind == MovementKind.REFUND or flow.total <= 0:
            continue
        a = node(flow.from_id, flow.from_kind, FROM_OUTSIDE)
        b = node(flow.to_id, flow.to_kind, TO_OUTSIDE)
        if a != b:
            gross[(a, b)] = gross.get((a, b), ZERO) + flow.total
    links: dict[tuple[str, str], Decimal] = {}
    for (a, b), value in gross.items():
        net = value - gross.get((b, a), ZERO)
        if net > 0:
            links[(a, b)] = net
    names = sorted({n for pair in links for n in pair})
    return {
        "nodes": [{"name": n} for n in names],
        "links": [
            {"source": a, "target": b, "value": float(v)} for (a, b), v in sorted(links.items())
        ],
        "drawable": bool(links) and not has_cycle(links),
    }


def has_cycle(links) -> bool:
    """Whether the directed graph of ``(source, target)`` pairs has a cycle."""
    after: dict[str, set[str]] = {}
    for a, b in links:
        after.setdefault(a, set()).add(b)
        after.setdefault(b, set())
    state: dict[str, int] = {}  # 1: on the path being explored, 2: done

    def visit(start: str) -> bool:
        stack = [(start, iter(after[start]))]
        state[start] = 1
        while stack:
            name, rest = stack[-1]
            following = next(rest, None)
            if following is None:
                state[name] = 2
                stack.pop()
            elif state.get(following) == 1:
                return True
            elif following not in state:
                state[following] = 1
                stack.append((following, iter(after[following])))
        return False

    return any(visit(name) for name in after if name not in state)

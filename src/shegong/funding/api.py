"""API for the funding ledger: sources, accounts with balances, movements, summaries by year
(F21–F25), the 1 % rule table and the flows behind the Sankey chart."""

from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import AmountText, Code, Day, Id, LongText, Text, Word, Year
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.funding import selectors, services
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
from shegong.geo.selectors import division_in_scope_or_404

router = Router(tags=["funding"])

ADD_MOVEMENT = "funding.add_movement"
VIEW_MOVEMENT = "funding.view_movement"


class FundSourceOut(Schema):
    id: int
    name: str
    kind: SourceKind
    owner_level: OwnerLevel
    year: int
    division_code: str = Field(..., alias="division.code")


class FundSourceIn(InputSchema):
    name: Text
    kind: SourceKind
    owner_level: OwnerLevel
    division_code: Code
    year: Year


class AccountOut(Schema):
    id: int
    name: str
    kind: AccountKind
    division_code: str = Field(..., alias="division.code")
    source_id: int | None
    facility_id: int | None
    project_id: int | None
    organisation_id: int | None
    balance: Decimal

    @staticmethod
    def resolve_balance(obj: Account) -> Decimal:
        return Decimal(obj.balance).quantize(Decimal("0.01"))


class AccountIn(InputSchema):
    kind: AccountKind
    name: Text = ""
    division_code: Code | None = None
    source_id: Id | None = None
    facility_id: Id | None = None
    project_id: Id | None = None
    organisation_id: Id | None = None


class MovementOut(Schema):
    id: int
    kind: MovementKind
    from_account_id: int | None
    to_account_id: int | None
    amount: Decimal
    occurred_on: date
    memo: str
    milestone_id: int | None
    award_id: int | None
    reverses_id: int | None


class RewardIn(InputSchema):
    award_id: Id
    from_account_id: Id
    occurred_on: Day
    memo: LongText = ""


class AppropriateIn(InputSchema):
    source_id: Id
    amount: AmountText
    occurred_on: Day
    memo: LongText = ""


class AllocateIn(InputSchema):
    from_account_id: Id
    to_account_id: Id
    amount: AmountText
    occurred_on: Day
    memo: LongText = ""


class DisburseIn(AllocateIn):
    milestone_id: Id | None = None


class RefundIn(InputSchema):
    movement_id: Id
    amount: AmountText
    occurred_on: Day
    memo: LongText = ""


class IncomeIn(InputSchema):
    to_account_id: Id
    amount: AmountText
    occurred_on: Day
    memo: LongText = ""


class ReverseIn(InputSchema):
    occurred_on: Day
    memo: LongText = ""


class SpendingIn(InputSchema):
    division_code: Code
    year: Year
    amount: AmountText


class SpendingOut(Schema):
    id: int
    division_code: str = Field(..., alias="division.code")
    year: int
    amount: Decimal


class YearQuery(InputSchema):
    division: Code | None = None
    year: Year | None = None


def _year(params: YearQuery) -> int:
    return params.year or timezone.localdate().year


def _account(user, pk: int, action: str = VIEW) -> Account:
    return get_scoped_or_404(Account.objects.select_related("division"), user, action, pk=pk)


# --- Sources and accounts ---------------------------------------------------------------------


@router.get("/funding/sources", response=list[FundSourceOut], summary="Fund sources in scope")
@paginate(Pagination)
def list_fund_sources(request, year: Year | None = None, kind: Word = ""):
    require(request.auth, "funding.view_fundsource")
    qs = FundSource.objects.restrict(request.auth, VIEW).select_related("division")
    if year:
        qs = qs.filter(year=year)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-year", "kind", "name", "id")


@router.post("/funding/sources", response={201: FundSourceOut}, summary="Create a fund source")
def create_fund_source(request, payload: FundSourceIn):
    user = request.auth
    require(user, "funding.add_fundsource")
    source = services.fund_source_create(
        actor=user,
        name=payload.name,
        kind=payload.kind,
        owner_level=payload.owner_level,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
        year=payload.year,
    )
    return Status(201, source)


@router.get("/funding/accounts", response=list[AccountOut], summary="Accounts with balances")
@paginate(Pagination)
def list_accounts(request, kind: Word = "", division: Code | None = None):
    require(request.auth, "funding.view_account")
    qs = Account.objects.restrict(request.auth, VIEW).select_related("division")
    if kind:
        qs = qs.filter(kind=kind)
    if division:
        qs = qs.filter(division__code__startswith=division)
    return selectors.with_balance(qs.order_by("kind", "name", "id"))


@router.get("/funding/accounts/{int:account_id}", response=AccountOut, summary="One account")
def get_account(request, account_id: Id):
    account = _account(request.auth, account_id)
    account.balance = selectors.account_balance(account)
    return account


@router.post("/funding/accounts", response={201: AccountOut}, summary="Open an account")
def create_account(request, payload: AccountIn):
    from shegong.network.models import Facility, SocialOrganisation
    from shegong.projects.models import Project

    user = request.auth
    require(user, "funding.add_account")
    account = services.account_create(
        actor=user,
        kind=payload.kind,
        name=payload.name,
        division=division_in_scope_or_404(user=user, code=payload.division_code)
        if payload.division_code
        else None,
        source=get_scoped_or_404(FundSource, user, VIEW, pk=payload.source_id)
        if payload.source_id
        else None,
        facility=get_scoped_or_404(
            Facility.objects.select_related("division"), user, VIEW, pk=payload.facility_id
        )
        if payload.facility_id
        else None,
        project=get_scoped_or_404(
            Project.objects.select_related("area"), user, VIEW, pk=payload.project_id
        )
        if payload.project_id
        else None,
        # the agency to be paid may be registered anywhere: looked up by id, not scope
        organisation=SocialOrganisation.objects.filter(pk=payload.organisation_id).first()
        if payload.organisation_id
        else None,
    )
    account.balance = Decimal("0.00")
    return Status(201, account)


# --- Movements --------------------------------------------------------------------------------


@router.get("/funding/movements", response=list[MovementOut], summary="Movements in scope")
@paginate(Pagination)
def list_movements(request, account: Id | None = None, kind: Word = "", year: Year | None = None):
    require(request.auth, VIEW_MOVEMENT)
    qs = Movement.objects.restrict(request.auth, VIEW)
    if account:
        qs = qs.filter(Q(from_account_id=account) | Q(to_account_id=account))
    if kind:
        qs = qs.filter(kind=kind)
    if year:
        qs = qs.filter(occurred_on__gte=date(year, 1, 1), occurred_on__lt=date(year + 1, 1, 1))
    return qs.order_by("-occurred_on", "-id")


@router.get("/funding/movements/{int:movement_id}", response=MovementOut, summary="One movement")
def get_movement(request, movement_id: Id):
    return get_scoped_or_404(Movement, request.auth, VIEW, pk=movement_id)


@router.post(
    "/funding/movements/appropriate",
    response={201: MovementOut},
    summary="Appropriate a source's budget for its year",
)
def ledger_appropriate(request, payload: AppropriateIn):
    user = request.auth
    require(user, ADD_MOVEMENT)
    movement = services.appropriate(
        actor=user,
        source=get_scoped_or_404(FundSource, user, VIEW, pk=payload.source_id),
        amount=payload.amount,
        occurred_on=payload.occurred_on,
        memo=payload.memo,
    )
    return Status(201, movement)


@router.post(
    "/funding/movements/allocate",
    response={201: MovementOut},
    summary="Allocate to a county, facility or project",
)
def ledger_allocate(request, payload: AllocateIn):
    user = request.auth
    require(user, ADD_MOVEMENT)
    movement = services.allocate(
        actor=user,
        from_account=_account(user, payload.from_account_id),
        to_account=_account(user, payload.to_account_id),
        amount=payload.amount,
        occurred_on=payload.occurred_on,
        memo=payload.memo,
    )
    return Status(201, movement)


@router.post(
    "/funding/movements/disburse",
    response={201: MovementOut},
    summary="Pay a payee against a contract milestone",
)
def ledger_disburse(request, payload: DisburseIn):
    from shegong.projects.models import PaymentMilestone

    user = request.auth
    require(user, ADD_MOVEMENT)
    from_account = _account(user, payload.from_account_id)
    milestone = None
    if payload.milestone_id:
        # only a milestone of the paying account's project (which is in scope with it)
        milestone = PaymentMilestone.objects.filter(
            pk=payload.milestone_id, project_id=from_account.project_id
        ).first()
        if milestone is None:
            raise Http404
    movement = services.disburse(
        actor=user,
        milestone=milestone,
        from_account=from_account,
        # the payee (an agency) may be registered anywhere: found by id
        to_account=Account.objects.select_related("division").get(pk=payload.to_account_id),
        amount=payload.amount,
        occurred_on=payload.occurred_on,
        memo=payload.memo,
    )
    return Status(201, movement)


@router.post(
    "/funding/movements/refund",
    response={201: MovementOut},
    summary="Refund back along a movement's path",
)
def ledger_refund(request, payload: RefundIn):
    user = request.auth
    require(user, ADD_MOVEMENT)
    movement = get_scoped_or_404(
        Movement.objects.select_related("from_account", "to_account__division"),
        user,
        VIEW,
        pk=payload.movement_id,
    )
    created = services.refund(
        actor=user,
        movement=movement,
        amount=payload.amount,
        occurred_on=payload.occurred_on,
        memo=payload.memo,
    )
    return Status(201, created)


@router.post(
    "/funding/movements/income",
    response={201: MovementOut},
    summary="Record income (a donation, market fees)",
)
def ledger_income(request, payload: IncomeIn):
    user = request.auth
    require(user, ADD_MOVEMENT)
    movement = services.income(
        actor=user,
        to_account=_account(user, payload.to_account_id),
        amount=payload.amount,
        occurred_on=payload.occurred_on,
        memo=payload.memo,
    )
    return Status(201, movement)


@router.post(
    "/funding/movements/reward",
    response={201: MovementOut},
    summary="Pay an honour's reward (workforce award) out of an account",
)
def ledger_reward(request, payload: RewardIn):
    from shegong.workforce.models import Award

    user = request.auth
    require(user, ADD_MOVEMENT)
    movement = services.reward_pay(
        actor=user,
        award=get_scoped_or_404(Award, user, VIEW, pk=payload.award_id),
        from_account=_account(user, payload.from_account_id),
        occurred_on=payload.occurred_on,
        memo=payload.memo,
    )
    return Status(201, movement)


@router.post(
    "/funding/movements/{int:movement_id}/reverse",
    response={201: MovementOut},
    summary="Reverse a movement (a reversing entry)",
)
def reverse_movement(request, movement_id: Id, payload: ReverseIn):
    user = request.auth
    require(user, ADD_MOVEMENT)
    movement = get_scoped_or_404(Movement, user, VIEW, pk=movement_id)
    created = services.reverse(
        actor=user, movement=movement, occurred_on=payload.occurred_on, memo=payload.memo
    )
    return Status(201, created)


# --- Social-assistance spending, summaries, the 1 % rule, flows -------------------------------


@router.get(
    "/funding/assistance-spending",
    response=list[SpendingOut],
    summary="Social-assistance spending per county and year",
)
@paginate(Pagination)
def list_assistance_spending(request, year: Year | None = None):
    require(request.auth, "funding.view_assistancespending")
    qs = AssistanceSpending.objects.restrict(request.auth, VIEW).select_related("division")
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "division__code")


@router.post(
    "/funding/assistance-spending",
    response=SpendingOut,
    summary="Record a county's social-assistance spending for a year",
)
def record_assistance_spending(request, payload: SpendingIn):
    user = request.auth
    require(user, "funding.add_assistancespending")
    return services.assistance_spending_record(
        actor=user,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
        year=payload.year,
        amount=payload.amount,
    )


@router.get("/funding/summary/sources", summary="The year's money per source kind (F21–F25)")
def get_source_summary(request, params: Query[YearQuery]) -> dict:
    require(request.auth, VIEW_MOVEMENT)
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    return selectors.source_kind_summary(division=division, year=_year(params)).as_dict()


@router.get("/funding/summary/counties", summary="The year's money per county")
def get_county_summary(request, params: Query[YearQuery]) -> dict:
    require(request.auth, VIEW_MOVEMENT)
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    year = _year(params)
    rows = selectors.county_summary(division=division, year=year)
    return {"year": year, "rows": [r.as_dict() for r in rows]}


@router.get("/funding/one-percent", summary="The 1 % rule per county")
def get_one_percent(request, params: Query[YearQuery]) -> dict:
    require(request.auth, VIEW_MOVEMENT)
    require(request.auth, "funding.view_assistancespending")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    year = _year(params)
    rows = selectors.one_percent_table(division=division, year=year)
    return {"year": year, "rows": [r.as_dict() for r in rows]}


@router.get("/funding/flows", summary="Money from account to account (for a Sankey chart)")
def get_flows(request, params: Query[YearQuery]) -> dict:
    require(request.auth, VIEW_MOVEMENT)
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    year = _year(params)
    flows = selectors.ledger_flows(division=division, year=year)
    return {"year": year, "flows": [f.as_dict() for f in flows]}

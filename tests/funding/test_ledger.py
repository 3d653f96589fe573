"""The ledger's movements: balances, overdraw, reversals, refunds, disbursements against
contract milestones, bad input, audit and scope."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from shegong.core.models import AuditEvent
from shegong.funding import services
from shegong.funding.models import Movement, MovementKind
from shegong.funding.selectors import account_balance, balances, with_balance
from shegong.funding.services import milestone_paid
from shegong.projects.models import PaymentMilestone
from tests.funding.conftest import DAY, fund_project, project

pytestmark = pytest.mark.django_db


def test_balances_equal_the_sum_of_movements(ledger):
    # given money appropriated, allocated down to a project and partly paid out
    fund_project(ledger, "60000.00")
    services.disburse(
        actor=ledger.county,
        milestone=ledger.milestone,
        from_account=ledger.project_account,
        to_account=ledger.payee,
        amount="12345.67",
        occurred_on=DAY,
    )
    services.income(
        actor=ledger.county, to_account=ledger.facility_account, amount="0.01", occurred_on=DAY
    )
    # then every balance is what went in minus what went out
    expected = {
        ledger.city_account.pk: Decimal("440000.00"),
        ledger.county_account.pk: Decimal("0.00"),
        ledger.project_account.pk: Decimal("47654.33"),
        ledger.payee.pk: Decimal("12345.67"),
        ledger.facility_account.pk: Decimal("0.01"),
        ledger.source_account.pk: Decimal("0.00"),
    }
    from shegong.funding.models import Account

    assert balances(Account.objects.all()) == expected
    assert {a.pk: account_balance(a) for a in Account.objects.all()} == expected
    assert {a.pk: a.balance for a in with_balance(Account.objects.all())} == expected
    for account in Account.objects.all():
        ins = sum((m.amount for m in Movement.objects.filter(to_account=account)), Decimal(0))
        outs = sum((m.amount for m in Movement.objects.filter(from_account=account)), Decimal(0))
        assert account_balance(account) == ins - outs


def test_overdraw_is_refused_and_nothing_written(ledger):
    # given ¥100 in the county account
    services.appropriate(
        actor=ledger.city, source=ledger.city_source, amount="100", occurred_on=DAY
    )
    services.allocate(
        actor=ledger.city,
        from_account=ledger.city_account,
        to_account=ledger.county_account,
        amount="100",
        occurred_on=DAY,
    )
    count, audits = Movement.objects.count(), AuditEvent.objects.count()
    # when the county allocates ¥100.01
    with pytest.raises(ValidationError) as exc:
        services.allocate(
            actor=ledger.county,
            from_account=ledger.county_account,
            to_account=ledger.project_account,
            amount="100.01",
            occurred_on=DAY,
        )
    # then it is refused, naming the balance, and nothing is written
    assert "overdraw" in str(exc.value.message_dict["amount"])
    assert Movement.objects.count() == count
    assert AuditEvent.objects.count() == audits
    assert account_balance(ledger.county_account) == Decimal("100.00")


def test_a_reversing_entry_restores_the_balance_once(ledger):
    fund_project(ledger, "50000")
    before = account_balance(ledger.project_account)
    paid = services.disburse(
        actor=ledger.county,
        milestone=ledger.milestone,
        from_account=ledger.project_account,
        to_account=ledger.payee,
        amount="30000",
        occurred_on=DAY,
    )
    # when the payment is reversed
    reversal = services.reverse(actor=ledger.county, movement=paid, occurred_on=DAY)
    # then the balances are back, the reversal links the original, and the milestone is open
    assert reversal.kind == MovementKind.REVERSAL and reversal.reverses == paid
    assert reversal.from_account == ledger.payee and reversal.to_account == ledger.project_account
    assert account_balance(ledger.project_account) == before
    assert account_balance(ledger.payee) == 0
    assert milestone_paid(ledger.milestone) == 0
    # and a second reversal, or reversing the reversal, is refused
    with pytest.raises(ValidationError, match="already been reversed"):
        services.reverse(actor=ledger.county, movement=paid, occurred_on=DAY)
    with pytest.raises(ValidationError, match="cannot be reversed"):
        services.reverse(actor=ledger.county, movement=reversal, occurred_on=DAY)


def test_reversing_an_appropriation_takes_the_money_out_of_the_ledger(ledger):
    wrong = services.appropriate(
        actor=ledger.city, source=ledger.city_source, amount="325000000", occurred_on=DAY
    )
    reversal = services.reverse(actor=ledger.city, movement=wrong, occurred_on=DAY)
    assert reversal.to_account is None and reversal.from_account == ledger.city_account
    assert account_balance(ledger.city_account) == 0


def test_a_reversal_that_would_overdraw_is_refused(ledger):
    fund_project(ledger, "1000")
    allocation = Movement.objects.filter(
        kind=MovementKind.ALLOCATION, to_account=ledger.project_account
    ).get()
    services.disburse(
        actor=ledger.county,
        milestone=ledger.milestone,
        from_account=ledger.project_account,
        to_account=ledger.payee,
        amount="600",
        occurred_on=DAY,
    )
    with pytest.raises(ValidationError, match="overdraw"):
        services.reverse(actor=ledger.county, movement=allocation, occurred_on=DAY)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", "more than zero"),
        ("0", "more than zero"),
        ("0.00", "more than zero"),
        ("10.005", "fractions of a fen"),
        ("0.001", "fractions of a fen"),
        ("abc", "as a number"),
        ("NaN", "as a number"),
        (1.5, "decimal string"),
        ("1000000000000", "too large"),
    ],
)
def test_bad_amounts_are_refused(ledger, amount, message):
    with pytest.raises(ValidationError, match=message):
        services.appropriate(
            actor=ledger.city, source=ledger.city_source, amount=amount, occurred_on=DAY
        )
    assert not Movement.objects.exists()


def test_largest_amount_and_whole_fen_are_accepted(ledger):
    services.income(
        actor=ledger.city,
        to_account=ledger.city_account,
        amount="999999999999.99",
        occurred_on=DAY,
    )
    services.income(actor=ledger.city, to_account=ledger.city_account, amount=7, occurred_on=DAY)
    assert account_balance(ledger.city_account) == Decimal("1000000000006.99")


def test_future_dates_and_other_years_are_refused(ledger):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError, match="future"):
        services.income(
            actor=ledger.city, to_account=ledger.city_account, amount="1", occurred_on=tomorrow
        )
    with pytest.raises(ValidationError, match="its own year"):
        services.appropriate(
            actor=ledger.city, source=ledger.city_source, amount="1", occurred_on=date(2023, 5, 1)
        )


@pytest.mark.parametrize(
    "stage", ["application", "preliminary_review", "expert_review", "public_notice", "rejected"]
)
def test_no_disbursement_without_a_contract(ledger, stage):
    # given a funded project that has not reached the contract
    fund_project(ledger)
    ledger.project.stage = stage
    ledger.project.save(update_fields=["stage"])
    # when the county pays its milestone, then it is refused with a clear message
    with pytest.raises(ValidationError, match="without a contract"):
        services.disburse(
            actor=ledger.county,
            milestone=ledger.milestone,
            from_account=ledger.project_account,
            to_account=ledger.payee,
            amount="100",
            occurred_on=DAY,
        )


@pytest.mark.parametrize(
    "stage", ["contract", "in_progress", "midterm_evaluation", "final_evaluation", "closed"]
)
def test_disbursement_from_the_contract_on(ledger, stage):
    fund_project(ledger)
    ledger.project.stage = stage
    ledger.project.save(update_fields=["stage"])
    paid = services.disburse(
        actor=ledger.county,
        milestone=ledger.milestone,
        from_account=ledger.project_account,
        to_account=ledger.payee,
        amount="100",
        occurred_on=DAY,
    )
    assert paid.milestone == ledger.milestone


def test_no_disbursement_without_a_milestone_or_with_another_projects(ledger):
    fund_project(ledger)
    with pytest.raises(ValidationError, match="without a contract"):
        services.disburse(
            actor=ledger.county,
            milestone=None,
            from_account=ledger.project_account,
            to_account=ledger.payee,
            amount="100",
            occurred_on=DAY,
        )
    other = project(code="JB-2024-02", area="500105001", purchaser=ledger.station)
    foreign = PaymentMilestone.objects.create(
        project=other, name="首期", due_on=DAY, amount=Decimal("1000")
    )
    with pytest.raises(ValidationError, match="project account"):
        services.disburse(
            actor=ledger.county,
            milestone=foreign,
            from_account=ledger.project_account,
            to_account=ledger.payee,
            amount="100",
            occurred_on=DAY,
        )
    # and money goes only to a payee account of the contracted agency
    with pytest.raises(ValidationError, match="payee account"):
        services.disburse(
            actor=ledger.county,
            milestone=ledger.milestone,
            from_account=ledger.project_account,
            to_account=ledger.facility_account,
            amount="100",
            occurred_on=DAY,
        )


def test_a_milestone_is_never_overpaid(ledger):
    fund_project(ledger)

    def pay(amount):
        return services.disburse(
            actor=ledger.county,
            milestone=ledger.milestone,
            from_account=ledger.project_account,
            to_account=ledger.payee,
            amount=amount,
            occurred_on=DAY,
        )

    pay("20000")
    pay("9999.99")
    with pytest.raises(ValidationError, match="overpay"):
        pay("0.02")
    pay("0.01")
    assert milestone_paid(ledger.milestone) == Decimal("30000.00")
    with pytest.raises(ValidationError, match="overpay"):
        pay("0.01")


def test_refund_goes_back_along_the_path_and_no_more_than_went(ledger):
    fund_project(ledger, "50000")
    paid = services.disburse(
        actor=ledger.county,
        milestone=ledger.milestone,
        from_account=ledger.project_account,
        to_account=ledger.payee,
        amount="30000",
        occurred_on=DAY,
    )
    back = services.refund(actor=ledger.county, movement=paid, amount="5000", occurred_on=DAY)
    assert (back.from_account, back.to_account) == (ledger.payee, ledger.project_account)
    assert back.milestone == ledger.milestone
    assert milestone_paid(ledger.milestone) == Decimal("25000.00")
    assert account_balance(ledger.project_account) == Decimal("25000.00")
    with pytest.raises(ValidationError, match="At most"):
        services.refund(actor=ledger.county, movement=paid, amount="25000.01", occurred_on=DAY)
    appropriation = Movement.objects.filter(kind=MovementKind.APPROPRIATION).first()
    with pytest.raises(ValidationError, match="Only an allocation or a disbursement"):
        services.refund(actor=ledger.city, movement=appropriation, amount="1", occurred_on=DAY)


def test_allocation_kinds(ledger):
    services.income(actor=ledger.county, to_account=ledger.payee, amount="10", occurred_on=DAY)
    with pytest.raises(ValidationError, match="Allocations come from"):
        services.allocate(
            actor=ledger.county,
            from_account=ledger.payee,
            to_account=ledger.project_account,
            amount="1",
            occurred_on=DAY,
        )
    with pytest.raises(ValidationError, match="Allocations go to"):
        services.allocate(
            actor=ledger.county,
            from_account=ledger.county_account,
            to_account=ledger.payee,
            amount="1",
            occurred_on=DAY,
        )


def test_every_movement_is_audited(ledger):
    fund_project(ledger, "100")
    movements = list(Movement.objects.order_by("id"))
    events = AuditEvent.objects.filter(object_type="funding.movement")
    assert sorted(int(e.object_id) for e in events) == [m.pk for m in movements]
    assert {e.action for e in events} == {"movement.appropriation", "movement.allocation"}
    allocation = events.get(object_id=str(movements[-1].pk))
    assert allocation.actor == ledger.county
    assert allocation.after["amount"] == "100.00"


def test_a_county_moves_its_own_money_only(ledger):
    fund_project(ledger, "100")
    # 九龙坡 cannot allocate from or pay out of 江北's accounts, nor put income in them
    with pytest.raises(Http404):
        services.allocate(
            actor=ledger.other_county,
            from_account=ledger.county_account,
            to_account=ledger.project_account,
            amount="1",
            occurred_on=DAY,
        )
    with pytest.raises(Http404):
        services.income(
            actor=ledger.other_county,
            to_account=ledger.county_account,
            amount="1",
            occurred_on=DAY,
        )
    with pytest.raises(Http404):
        services.appropriate(
            actor=ledger.county, source=ledger.city_source, amount="1", occurred_on=DAY
        )
    # a role that may only read the ledger is refused outright
    from shegong.core.roles import Role
    from tests.conftest import make_user

    analyst = make_user(Role.ANALYST, "50", username="analyst")
    with pytest.raises(PermissionDenied):
        services.income(
            actor=analyst, to_account=ledger.county_account, amount="1", occurred_on=DAY
        )


def test_fund_source_and_account_rules(ledger):
    from shegong.funding.models import AccountKind
    from tests.funding.conftest import division

    with pytest.raises(ValidationError, match="owner level"):
        services.fund_source_create(
            actor=ledger.city,
            name="x",
            kind="donation",
            owner_level="county",
            division=division("50"),
            year=2024,
        )
    with pytest.raises(ValidationError, match="already recorded"):
        services.fund_source_create(
            actor=ledger.city,
            name="市级购买服务",
            kind="municipal_purchase",
            owner_level="city",
            division=division("50"),
            year=2024,
        )
    with pytest.raises(ValidationError, match="opened with its fund source"):
        services.account_create(actor=ledger.city, kind=AccountKind.SOURCE, name="x")
    with pytest.raises(ValidationError, match="needs a county"):
        services.account_create(
            actor=ledger.city, kind=AccountKind.COUNTY, division=division("500105001")
        )
    with pytest.raises(Http404):
        services.account_create(
            actor=ledger.other_county, kind=AccountKind.PROJECT, project=ledger.project
        )

"""Honours' rewards are paid through the ledger (issue #4 item 3 with #5): out of an
account, the whole reward, once; the award shows it paid; overdraw refused; a reversal
allows paying again."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from shegong.funding import services
from shegong.funding.models import Movement, MovementKind
from shegong.funding.selectors import account_balance
from shegong.workforce.models import HonourCategory, HonourLevel
from shegong.workforce.selectors import honours_summary
from shegong.workforce.services import award_create, award_scheme_create, social_worker_create
from tests.funding.conftest import DAY, division
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def master(ledger):
    """A famous master of 江北区 with a ¥300,000 reward, not yet paid; the county account
    holds ¥500,000."""
    services.appropriate(
        actor=ledger.city, source=ledger.city_source, amount="500000", occurred_on=DAY
    )
    services.allocate(
        actor=ledger.city,
        from_account=ledger.city_account,
        to_account=ledger.county_account,
        amount="500000",
        occurred_on=DAY,
    )
    scheme = award_scheme_create(
        actor=None,
        name="名家名师",
        level=HonourLevel.MUNICIPAL,
        category=HonourCategory.FAMOUS_MASTER,
        division=division("50"),
        reward_amount=Decimal("300000"),
    )
    person = social_worker_create(
        actor=None, name="名师", national_id=national_id(5), division=division("500105001001")
    )
    return award_create(actor=None, scheme=scheme, worker=person, year=2024)


def test_a_reward_is_paid_once_out_of_the_ledger(ledger, master):
    # when the county pays the reward out of its account
    movement = services.reward_pay(
        actor=ledger.county, award=master, from_account=ledger.county_account, occurred_on=DAY
    )
    # then ¥300,000 left the account for the person, and the award is paid on that day
    assert (movement.kind, movement.amount, movement.to_account) == (
        MovementKind.REWARD,
        Decimal("300000.00"),
        None,
    )
    assert account_balance(ledger.county_account) == Decimal("200000.00")
    master.refresh_from_db()
    assert master.paid_on == DAY
    assert honours_summary(division=division("50"))[0]["paid"] == Decimal("300000.00")
    # and it cannot be paid twice
    with pytest.raises(ValidationError) as exc:
        services.reward_pay(
            actor=ledger.county, award=master, from_account=ledger.county_account, occurred_on=DAY
        )
    assert "award" in exc.value.message_dict


def test_a_reversed_payment_can_be_paid_again(ledger, master):
    paid = services.reward_pay(
        actor=ledger.county, award=master, from_account=ledger.county_account, occurred_on=DAY
    )
    services.reverse(actor=ledger.county, movement=paid, occurred_on=DAY)
    assert account_balance(ledger.county_account) == Decimal("500000.00")
    services.reward_pay(
        actor=ledger.county, award=master, from_account=ledger.county_account, occurred_on=DAY
    )
    assert Movement.objects.filter(award=master, kind=MovementKind.REWARD).count() == 2


def test_a_reward_that_would_overdraw_is_refused(ledger, master):
    with pytest.raises(ValidationError) as exc:
        services.reward_pay(
            actor=ledger.county,
            award=master,
            from_account=ledger.facility_account,  # empty
            occurred_on=DAY,
        )
    assert "amount" in exc.value.message_dict
    assert not Movement.objects.filter(award=master).exists()


def test_a_reward_before_its_year_is_refused(ledger, master):
    with pytest.raises(ValidationError):
        services.reward_pay(
            actor=ledger.county,
            award=master,
            from_account=ledger.county_account,
            occurred_on=date(2023, 12, 31),
        )

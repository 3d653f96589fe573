"""Two disbursements that together would overdraw the project account, started at the same
moment on two database connections: exactly one succeeds. On PostgreSQL the second waits
for the first's lock on the account row and then sees its movement; SQLite serialises
writers (BEGIN IMMEDIATE), with the same outcome."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, connections
from django.utils import translation

from shegong.funding import services
from shegong.funding.models import Account, Movement, MovementKind
from shegong.funding.selectors import account_balance
from tests.conftest import load_divisions
from tests.funding.conftest import DAY, fund_project


@pytest.fixture(autouse=True)
def _divisions(transactional_db):
    """Transactional tests run last and start from whatever the last flush left (the
    browser tests flush): load the divisions again (idempotent)."""
    load_divisions()


def _waiting_for_sqlite(call):
    """The SQLite test database is in memory with a shared cache, where a second writer gets
    "database table is locked" at once instead of waiting (a database file, as in
    production, waits up to its busy timeout). Waiting is emulated by trying again; each try
    is a whole new transaction. PostgreSQL never needs it: the row lock waits."""
    for _ in range(500):
        try:
            return call()
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(0.01)
    raise AssertionError("SQLite stayed locked")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_disbursements_that_together_overdraw(ledger, empty_ledger_after_sqlite):
    # given ¥50,000 in the project account and two milestones of ¥30,000 and ¥70,000
    fund_project(ledger, "50000.00")
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, str] = {}

    def pay(name, milestone, amount):
        try:
            barrier.wait()
            with translation.override("en"):  # the messages are checked in English
                _waiting_for_sqlite(
                    lambda: services.disburse(
                        actor=ledger.county,
                        milestone=milestone,
                        from_account=Account.objects.get(pk=ledger.project_account.pk),
                        to_account=ledger.payee,
                        amount=amount,
                        occurred_on=DAY,
                    )
                )
            outcomes[name] = "paid"
        except ValidationError as exc:
            outcomes[name] = "refused: " + " ".join(exc.messages)
        except Exception as exc:  # reported by the assertion below
            outcomes[name] = f"error: {exc!r}"
        finally:
            connections.close_all()  # this thread's own connection

    # when both pay ¥30,000 at once (together ¥60,000 > ¥50,000)
    threads = [
        threading.Thread(target=pay, args=("first", ledger.milestone, "30000.00")),
        threading.Thread(target=pay, args=("second", ledger.milestone2, "30000.00")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then exactly one is paid and the other refused for overdrawing
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["paid", "refused"], outcomes
    assert "overdraw" in next(o for o in outcomes.values() if o.startswith("refused"))
    assert Movement.objects.filter(kind=MovementKind.DISBURSEMENT).count() == 1
    assert account_balance(ledger.project_account) == Decimal("20000.00")
    assert account_balance(ledger.payee) == Decimal("30000.00")
    assert connection.vendor in ("sqlite", "postgresql")

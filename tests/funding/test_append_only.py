"""No movement can be changed or deleted: not through the model, not through a queryset,
not with raw SQL (database triggers on SQLite and PostgreSQL)."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from shegong.core.models import AppendOnlyError
from shegong.funding import services
from shegong.funding.models import Movement
from tests.funding.conftest import DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def movement(ledger) -> Movement:
    return services.appropriate(
        actor=ledger.city, source=ledger.city_source, amount="1000", occurred_on=DAY
    )


def test_the_model_refuses_to_save_or_delete_a_movement(movement):
    movement.amount = Decimal("1")
    with pytest.raises(AppendOnlyError):
        movement.save()
    with pytest.raises(AppendOnlyError):
        movement.delete()
    with pytest.raises(AppendOnlyError):
        Movement.objects.filter(pk=movement.pk).update(amount=Decimal("1"))
    with pytest.raises(AppendOnlyError):
        Movement.objects.filter(pk=movement.pk).delete()
    assert Movement.objects.get(pk=movement.pk).amount == Decimal("1000.00")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE funding_movement SET amount = 1 WHERE id = %s",
        "UPDATE funding_movement SET memo = 'edited' WHERE id = %s",
        "DELETE FROM funding_movement WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(movement, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [movement.pk])
    fresh = Movement.objects.get(pk=movement.pk)
    assert (fresh.amount, fresh.memo) == (Decimal("1000.00"), "")


def test_inserting_stays_possible(movement, ledger):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO funding_movement (kind, to_account_id, amount, occurred_on, memo, "
            "recorded_at) VALUES ('income', %s, 5, %s, '', %s)",
            [ledger.city_account.pk, DAY, "2024-03-01 00:00:00+00:00"],
        )
    assert Movement.objects.count() == 2

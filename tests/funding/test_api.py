"""The ledger API: movements by kind, validation answers, and 404 outside the scope."""

import pytest
from django.conf import settings
from django.urls import reverse

from shegong.funding.models import Movement
from tests.funding.conftest import fund_project

pytestmark = pytest.mark.django_db


def post(client, name, body, **kwargs):
    return client.post(reverse(f"api:{name}", kwargs=kwargs), body, content_type="application/json")


def test_money_moves_through_the_api(client, ledger):
    client.force_login(ledger.county)
    r = post(
        client,
        "ledger_income",
        {
            "to_account_id": ledger.county_account.pk,
            "amount": "1000.50",
            "occurred_on": "2024-03-01",
        },
    )
    assert r.status_code == 201, r.content
    r = post(
        client,
        "ledger_allocate",
        {
            "from_account_id": ledger.county_account.pk,
            "to_account_id": ledger.project_account.pk,
            "amount": "1000.50",
            "occurred_on": "2024-03-01",
        },
    )
    assert r.status_code == 201 and r.json()["amount"] == "1000.50"
    r = post(
        client,
        "ledger_disburse",
        {
            "from_account_id": ledger.project_account.pk,
            "to_account_id": ledger.payee.pk,
            "milestone_id": ledger.milestone.pk,
            "amount": "1000",
            "occurred_on": "2024-03-02",
        },
    )
    assert r.status_code == 201, r.content
    paid = r.json()["id"]
    r = post(client, "reverse_movement", {"occurred_on": "2024-03-03"}, movement_id=paid)
    assert r.status_code == 201 and r.json()["reverses_id"] == paid
    accounts = client.get(reverse("api:list_accounts"), {"kind": "project"}).json()
    assert accounts["results"][0]["balance"] == "1000.50"
    listed = client.get(reverse("api:list_movements"), {"account": ledger.payee.pk}).json()
    assert listed["count"] == 2


@pytest.mark.parametrize(
    ("amount", "status"), [("-1", 422), ("1.001", 422), ("0", 422), ("abc", 422), ("1", 201)]
)
def test_bad_amounts_answer_422(client, ledger, amount, status):
    client.force_login(ledger.county)
    r = post(
        client,
        "ledger_income",
        {"to_account_id": ledger.county_account.pk, "amount": amount, "occurred_on": "2024-03-01"},
    )
    assert r.status_code == status
    if status == 422:
        assert r.json()["errors"][0]["loc"] == ["amount"]


def test_disbursement_without_a_contract_answers_422(client, ledger):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages checked in English
    fund_project(ledger, "1000")
    ledger.project.stage = "public_notice"
    ledger.project.save(update_fields=["stage"])
    client.force_login(ledger.county)
    r = post(
        client,
        "ledger_disburse",
        {
            "from_account_id": ledger.project_account.pk,
            "to_account_id": ledger.payee.pk,
            "milestone_id": ledger.milestone.pk,
            "amount": "10",
            "occurred_on": "2024-03-02",
        },
    )
    assert r.status_code == 422
    assert "without a contract" in r.json()["errors"][0]["msg"]


def test_a_county_cannot_move_another_countys_money(client, ledger):
    fund_project(ledger, "1000")
    count = Movement.objects.count()
    client.force_login(ledger.other_county)
    r = post(
        client,
        "ledger_allocate",
        {
            "from_account_id": ledger.county_account.pk,
            "to_account_id": ledger.project_account.pk,
            "amount": "1",
            "occurred_on": "2024-03-01",
        },
    )
    assert r.status_code == 404
    movement = Movement.objects.first()
    assert (
        client.get(reverse("api:get_movement", kwargs={"movement_id": movement.pk})).status_code
        == 404
    )
    r = post(client, "reverse_movement", {"occurred_on": "2024-03-03"}, movement_id=movement.pk)
    assert r.status_code == 404
    assert Movement.objects.count() == count
    assert client.get(reverse("api:list_movements")).json()["count"] == 0

"""A payment run with nothing to pay: the page says so and records nothing; the API keeps its
contract (docs/api.md: an empty run is still created, with `payment_count` 0, status `finished`)."""

import pytest

from payments.models import PaymentRun
from tests.payments.conftest import budget, make_budget, make_provider, make_service  # noqa: F401
from tests.payments.payment_fixtures import pay_world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_finance_starting_a_run_with_nothing_to_pay_is_told_so_and_no_run_is_recorded(client, finance_user):
    client.force_login(finance_user)
    response = client.post("/payments/runs/", follow=True)
    assert PaymentRun.objects.count() == 0
    page = response.content.decode()
    assert "There is nothing to pay" in page
    assert "Success" not in page
    assert "started" not in page


def test_the_api_still_records_an_empty_run(api_as, finance_user):
    response = api_as(finance_user).post("/api/v1/payment-runs/", {}, format="json")
    assert response.status_code == 201
    assert response.json()["payment_count"] == 0
    assert response.json()["status"] == "finished"
    assert PaymentRun.objects.count() == 1


def test_finance_starting_a_run_with_an_invoice_to_pay_gets_the_run(client, pay_world):  # noqa: F811
    pay_world.invoice()
    client.force_login(pay_world.finance)
    response = client.post("/payments/runs/", follow=True)
    run = PaymentRun.objects.get()
    assert run.payment_count == 1
    assert response.redirect_chain[-1][0] == f"/payments/runs/{run.pk}/"
    assert f"Payment run {run.pk} started: 1 payment" in response.content.decode()

"""Reconciling a payment run with the gateway (PRODUCT.md §8): Cairn's payments and their ledger
postings against the transfers the gateway holds for the run's transfer group — every difference
listed, by the service and on finance's page."""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

import pytest

from payments import services
from payments.models import LedgerGatewayTransfer, Payment, PaymentStatus
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    gbp,
    onboard,
    pay_world,
    reload,
    run_payments,
    stripe_payments,
    worker_retries,
)

pytestmark = pytest.mark.django_db


def problems(run) -> list[tuple[int | None, str, str]]:
    return [(d.payment_id, d.transfer_id, d.problem) for d in services.payment_run_reconcile(run=run)]


@pytest.fixture
def stripe_run(pay_world, stripe_payments, run_payments):
    """Two Brightside invoices and one Riverside invoice paid through the Stripe fake:
    (world, run, accounts by provider pk)."""
    accounts = onboard(pay_world, stripe_payments)
    pay_world.invoices(2)
    pay_world.invoice(pay_world.riverside)
    run = run_payments()
    assert run.payments.filter(status=PaymentStatus.PAID).count() == 3
    return pay_world, run, accounts


def test_a_clean_stripe_run_has_no_differences(stripe_run, web_as, finance_user):
    _, run, _ = stripe_run

    assert problems(run) == []
    page = web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/")
    assert page.status_code == 200
    assert "No differences" in page.content.decode()


def test_a_clean_ledger_gateway_run_has_no_differences(pay_world, run_payments, web_as, finance_user):
    pay_world.invoices(2)
    pay_world.invoice(pay_world.riverside)
    run = run_payments()
    assert run.gateway == "ledger"

    assert problems(run) == []
    assert "No differences" in web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/").content.decode()


def test_a_run_with_nothing_paid_has_no_differences(pay_world, stripe_payments, run_payments):
    run = run_payments()

    assert run.payment_count == 0
    assert problems(run) == []


def test_a_transfer_at_the_gateway_with_no_payment_is_listed(stripe_run, stripe_payments, web_as, finance_user):
    _, run, accounts = stripe_run
    extra = stripe_payments.create_transfer(
        amount=1234, destination=next(iter(accounts.values())), transfer_group=run.transfer_group
    )
    stripe_payments.create_transfer(  # another run's: not this run's business
        amount=999, destination=next(iter(accounts.values())), transfer_group="cairn-run-999999"
    )

    assert problems(run) == [(None, extra["id"], "A transfer of £12.34 that matches no payment of this run.")]
    page = web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/").content.decode()
    assert "1 difference." in page
    assert extra["id"] in page
    assert "matches no payment of this run" in page


def test_a_payment_marked_paid_whose_transfer_is_missing_is_listed(stripe_run, web_as, finance_user):
    _, run, _ = stripe_run
    payment = run.payments.order_by("pk").first()
    real_transfer = payment.transfer_id
    Payment.objects.filter(pk=payment.pk).update(transfer_id="tr_1Bogus00000000000000000")

    found = problems(run)

    assert (payment.pk, "tr_1Bogus00000000000000000", "Paid in Cairn, but the gateway has no transfer.") in found
    # ...and the transfer that really paid it now matches nothing.
    assert (None, real_transfer, f"A transfer of {payment.amount} that matches no payment of this run.") in found
    assert len(found) == 2
    page = web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/").content.decode()
    assert "Paid in Cairn, but the gateway has no transfer." in page
    assert "2 differences." in page


def test_an_amount_that_differs_is_listed(stripe_run, web_as, finance_user):
    _, run, _ = stripe_run
    payment = run.payments.order_by("pk").first()
    Payment.objects.filter(pk=payment.pk).update(amount=gbp("20.00"))

    assert problems(run) == [(payment.pk, payment.transfer_id, "Amounts differ: Cairn £20.00, gateway £24.50.")]
    assert "Amounts differ" in web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/").content.decode()


def test_a_reversal_only_at_the_gateway_is_listed(stripe_run, stripe_payments, web_as, finance_user):
    _, run, _ = stripe_run
    payment = run.payments.order_by("pk").first()
    stripe_payments.client().v1.transfers.reversals.create(payment.transfer_id)  # no webhook reached Cairn

    assert problems(run) == [(payment.pk, payment.transfer_id, "Reversed at the gateway, not in Cairn.")]
    page = web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/").content.decode()
    assert "Reversed at the gateway, not in Cairn." in page


def test_a_reversal_only_in_cairn_is_listed(stripe_run, web_as, finance_user):
    _, run, _ = stripe_run
    payment = run.payments.order_by("pk").first()
    services.payment_reverse(payment=payment, reason="Recorded by mistake")

    assert problems(run) == [(payment.pk, payment.transfer_id, "Reversed in Cairn, not at the gateway.")]
    page = web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/").content.decode()
    assert "Reversed in Cairn, not at the gateway." in page


def test_a_reversal_on_both_sides_is_not_a_difference(stripe_run, stripe_payments):
    _, run, _ = stripe_run
    payment = run.payments.order_by("pk").first()
    stripe_payments.client().v1.transfers.reversals.create(payment.transfer_id)
    services.payment_reverse(payment=payment, transfer_id=payment.transfer_id)

    assert problems(run) == []


def test_a_transfer_for_a_payment_cairn_thinks_failed_is_listed(stripe_run):
    _, run, _ = stripe_run
    payment = run.payments.order_by("pk").first()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.FAILED, transfer_id="")

    assert problems(run) == [
        (payment.pk, payment.transfer_id, "The gateway has a transfer, but Cairn has the payment as failed.")
    ]


def test_a_paid_payment_without_its_ledger_posting_is_listed(stripe_run):
    _, run, _ = stripe_run
    payment = run.payments.order_by("pk").first()
    Payment.objects.filter(pk=payment.pk).update(ledger_transaction=None)

    assert problems(run) == [(payment.pk, payment.transfer_id, "Paid, but no payment posted to the ledger.")]


def test_every_kind_of_difference_at_once_is_listed(stripe_run, stripe_payments, web_as, finance_user):
    _, run, accounts = stripe_run
    first, second, third = run.payments.order_by("pk")
    Payment.objects.filter(pk=first.pk).update(transfer_id="tr_1Bogus00000000000000000")
    Payment.objects.filter(pk=second.pk).update(amount=gbp("1.00"))
    stripe_payments.client().v1.transfers.reversals.create(third.transfer_id)
    extra = stripe_payments.create_transfer(
        amount=500, destination=accounts[third.provider_id], transfer_group=run.transfer_group
    )

    found = {(d.payment_id, d.problem.split(":")[0].split(",")[0]) for d in services.payment_run_reconcile(run=run)}

    assert found == {
        (first.pk, "Paid in Cairn"),
        (second.pk, "Amounts differ"),
        (third.pk, "Reversed at the gateway"),
        (None, "A transfer of £5.00 that matches no payment of this run."),
        (None, f"A transfer of {first.amount} that matches no payment of this run."),
    }
    page = web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/").content.decode()
    assert "5 differences." in page
    assert extra["id"] in page


def test_ledger_gateway_differences_are_listed_too(pay_world, run_payments):
    pay_world.invoices(2)
    run = run_payments()
    first, second = run.payments.order_by("pk")
    LedgerGatewayTransfer.objects.filter(transfer_id=first.transfer_id).update(reversed=True)
    LedgerGatewayTransfer.objects.filter(transfer_id=second.transfer_id).delete()

    assert problems(run) == [
        (first.pk, first.transfer_id, "Reversed at the gateway, not in Cairn."),
        (second.pk, second.transfer_id, "Paid in Cairn, but the gateway has no transfer."),
    ]


def test_the_page_says_when_the_gateway_cannot_be_asked(stripe_run, stripe_payments, web_as, finance_user):
    _, run, _ = stripe_run
    stripe_payments.fail_next("GET /v1/transfers$", "500")

    page = web_as(finance_user).get(f"/payments/runs/{run.pk}/reconcile/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "The gateway could not be asked" in html
    assert "No differences" not in html


@pytest.mark.parametrize("role", ["client_user", "social_worker", "provider_user"])
def test_only_finance_reconciles(request, role, pay_world, run_payments, web_as):
    pay_world.invoice()
    run = run_payments()

    assert web_as(request.getfixturevalue(role)).get(f"/payments/runs/{run.pk}/reconcile/").status_code == 403


def test_reconciling_changes_nothing(stripe_run, stripe_payments):
    _, run, _ = stripe_run
    payment = run.payments.order_by("pk").first()
    stripe_payments.client().v1.transfers.reversals.create(payment.transfer_id)
    posts = len([r for r in stripe_payments.requests if r.method == "POST"])

    services.payment_run_reconcile(run=run)

    assert reload(payment).status == PaymentStatus.PAID
    assert len([r for r in stripe_payments.requests if r.method == "POST"]) == posts

"""Paying at the same moment twice (PostgreSQL row locks, the partial unique constraint and
idempotency keys): two payment runs started at once, two workers sending the same payment, the
same webhook event delivered twice at once — each invoice is paid, posted and reversed once.

Each race runs in threads with their own database connections (`tests.concurrency.race`) and is
repeated ROUNDS times with fresh invoices. The runs' sending is queued after commit, so in these
transactional tests it runs in the racing thread (Celery is eager)."""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

import json

import pytest
from django.db import DatabaseError, connection

from budgets.models import LedgerTransaction, TransactionKind
from budgets.selectors import budget_figures
from payments import services
from payments.models import InvoiceStatus, LedgerGatewayTransfer, Payment, PaymentRun, PaymentStatus, StripeEvent
from tests.concurrency import race
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    assert_ledger_balances,
    gbp,
    onboard,
    pay_world,
    reload,
    stripe_payments,
    worker_retries,
)
from tests.stripe_fake.server import TEST_WEBHOOK_SECRET

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

ROUNDS = 10


def _reraise_database_errors(outcomes):
    """A database error in a racing thread (a deadlock, say) is a failure, not a lost race."""
    for outcome in outcomes:
        if isinstance(outcome, DatabaseError):
            raise outcome


def unsent_payment(world, invoice) -> Payment:
    """A run holding one payment for `invoice`, created as `payment_run_start` creates it but with
    nothing sent (a transactional test would run the queued sending at once)."""
    run = PaymentRun.objects.create(started_by=world.finance, gateway=world.gateway)
    payment = Payment.objects.create(
        run=run,
        invoice=invoice,
        provider_id=invoice.provider_id,
        budget_id=invoice.plan.budget_id,
        amount=invoice.amount,
        idempotency_key=f"cairn-invoice-{invoice.pk}-run-{run.pk}",
    )
    PaymentRun.objects.filter(pk=run.pk).update(payment_count=1, total=invoice.amount)
    return payment


def assert_paid_once(world, invoices) -> None:
    for invoice in invoices:
        live = Payment.objects.filter(invoice=invoice).exclude(status=PaymentStatus.REVERSED)
        assert live.count() == 1, invoice
        assert live.get().status == PaymentStatus.PAID, live.get().last_error
        assert reload(invoice).status == InvoiceStatus.PAID
    payments = Payment.objects.filter(budget=world.budget, status=PaymentStatus.PAID)
    total = sum((p.amount for p in payments), gbp("0"))
    assert budget_figures(world.budget).paid == total
    assert LedgerTransaction.objects.filter(budget=world.budget, kind=TransactionKind.PAYMENT).count() == len(payments)
    assert_ledger_balances(world.budget)


@pytest.fixture
def ledger_world(pay_world):
    pay_world.gateway = "ledger"
    return pay_world


@pytest.fixture
def stripe_world(pay_world, stripe_payments):
    onboard(pay_world, stripe_payments)
    pay_world.gateway = "stripe"
    return pay_world


# --- two runs at once --------------------------------------------------------------------------


def test_two_payment_runs_started_at_once_pay_each_invoice_once(ledger_world, finance_user):
    world, paid = ledger_world, []
    second_finance = type(finance_user).objects.create(username="fin-b", role="finance", full_name="Fin B")

    for _ in range(ROUNDS):
        invoices = [*world.invoices(2), world.invoice(world.riverside)]

        outcomes = race(
            [
                lambda: services.payment_run_start(actor=finance_user),
                lambda: services.payment_run_start(actor=second_finance),
            ]
        )

        _reraise_database_errors(outcomes)
        assert all(isinstance(o, PaymentRun) for o in outcomes), outcomes
        runs = [reload(o) for o in outcomes]
        assert sum(r.payment_count for r in runs) == len(invoices)
        assert sum((r.total for r in runs), gbp("0")) == gbp("80.00")
        assert all(r.payments.count() == r.payment_count for r in runs)
        paid += invoices
        assert Payment.objects.count() == len(paid)
        assert LedgerGatewayTransfer.objects.count() == len(paid)
        assert_paid_once(world, paid)


def test_two_runs_at_once_through_stripe_pay_each_invoice_with_one_transfer(stripe_world, stripe_payments):
    world, paid = stripe_world, []

    for _ in range(ROUNDS):
        invoices = [world.invoice(), world.invoice(world.riverside)]

        outcomes = race([lambda: services.payment_run_start(actor=world.finance)] * 2)

        _reraise_database_errors(outcomes)
        assert all(isinstance(o, PaymentRun) for o in outcomes), outcomes
        assert sum(reload(o).payment_count for o in outcomes) == 2
        paid += invoices
        assert Payment.objects.count() == len(paid)
        assert stripe_payments.transfer_count() == len(paid)
        assert_paid_once(world, paid)


# --- two workers, one payment ------------------------------------------------------------------


def _send_twice_at_once(payment):
    outcomes = race([lambda: services.payment_send(payment_id=payment.pk)] * 2)
    _reraise_database_errors(outcomes)
    # Each worker either saw it through or was told to try later (never an error).
    assert all(isinstance(o, Payment | services.PaymentNotYetSent) for o in outcomes), outcomes
    assert any(isinstance(o, Payment) for o in outcomes), outcomes
    return outcomes


def test_two_workers_sending_the_same_payment_at_once_transfer_and_post_once(ledger_world):
    world, paid = ledger_world, []

    for _ in range(ROUNDS):
        invoice = world.invoice()
        payment = unsent_payment(world, invoice)

        _send_twice_at_once(payment)

        paid.append(invoice)
        payment = reload(payment)
        assert payment.status == PaymentStatus.PAID
        assert LedgerGatewayTransfer.objects.filter(idempotency_key=payment.idempotency_key).count() == 1
        assert LedgerTransaction.objects.filter(idempotency_key=f"payment:{payment.pk}").count() == 1
        assert (
            payment.transfer_id
            == LedgerGatewayTransfer.objects.get(idempotency_key=payment.idempotency_key).transfer_id
        )
        assert_paid_once(world, paid)
    assert LedgerGatewayTransfer.objects.count() == ROUNDS


def test_two_workers_sending_the_same_payment_through_stripe_make_one_transfer(stripe_world, stripe_payments):
    world, paid = stripe_world, []

    for _ in range(ROUNDS):
        invoice = world.invoice()
        payment = unsent_payment(world, invoice)

        _send_twice_at_once(payment)

        paid.append(invoice)
        payment = reload(payment)
        assert payment.status == PaymentStatus.PAID
        mine = [t for t in stripe_payments.transfers if t["metadata"]["payment"] == str(payment.pk)]
        assert [t["id"] for t in mine] == [payment.transfer_id]
        keys = {
            r.idempotency_key
            for r in stripe_payments.requests
            if r.method == "POST" and r.params.get("metadata", {}).get("payment") == str(payment.pk)
        }
        assert keys == {payment.idempotency_key}
        assert LedgerTransaction.objects.filter(idempotency_key=f"payment:{payment.pk}").count() == 1
        assert_paid_once(world, paid)
    assert stripe_payments.transfer_count() == ROUNDS


# --- one webhook event, delivered twice at once ------------------------------------------------


def test_the_same_reversal_event_delivered_twice_at_once_reverses_once(stripe_world, stripe_payments):
    world, fake = stripe_world, stripe_payments

    for n in range(ROUNDS):
        invoice = world.invoice()
        payment = unsent_payment(world, invoice)
        services.payment_send(payment_id=payment.pk)
        payment = reload(payment)
        assert payment.status == PaymentStatus.PAID
        fake.client().v1.transfers.reversals.create(payment.transfer_id)
        event = fake.build_event("transfer.reversed", fake.get_transfer(payment.transfer_id))
        payload = json.dumps(event).encode()
        signature = fake.sign(payload, TEST_WEBHOOK_SECRET)

        outcomes = race(
            [lambda p=payload, s=signature: services.webhook_receive(gateway_name="stripe", payload=p, signature=s)] * 2
        )

        _reraise_database_errors(outcomes)
        assert all(isinstance(o, StripeEvent) for o in outcomes), outcomes
        assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
        assert reload(payment).status == PaymentStatus.REVERSED
        reversals = LedgerTransaction.objects.filter(kind=TransactionKind.REVERSAL, reverses=payment.ledger_transaction)
        assert reversals.count() == 1
        assert reload(invoice).status == InvoiceStatus.CONFIRMED
        assert LedgerTransaction.objects.filter(budget=world.budget, kind=TransactionKind.REVERSAL).count() == n + 1
        assert budget_figures(world.budget).paid == gbp("0")
        assert_ledger_balances(world.budget)

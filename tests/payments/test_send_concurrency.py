"""A batch's transfers to Stripe are sent several at a time (`PAYMENT_SEND_CONCURRENCY`).

Whatever order they reach Stripe in, and whichever of them a fault hits, each invoice is paid
exactly once under its payment's one key, a refusal fails only its own payment, and nothing is
written to the database from the sending threads.
"""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

import threading
import time
from collections import defaultdict

import pytest

from payments.gateways.stripe import StripeGateway
from payments.models import PaymentStatus
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    onboard,
    pay_world,
    reload,
    run_payments,
    stripe_payments,
    worker_retries,
)
from tests.payments.test_payments_stripe import (
    ALL_FAULTS,
    TRANSFERS,
    assert_each_invoice_paid_once,
    transfer_posts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_once(pay_world, stripe_payments, settings):
    settings.PAYMENT_SEND_CONCURRENCY = 4
    onboard(pay_world, stripe_payments)
    return pay_world


def one_key_each(fake, run) -> None:
    keys = defaultdict(set)
    for request in transfer_posts(fake):
        keys[request.params["metadata"]["payment"]].add(request.idempotency_key)
    for payment in run.payments.all():
        assert keys[str(payment.pk)] == {payment.idempotency_key}


def test_transfers_are_in_flight_together_and_each_invoice_is_paid_once(
    at_once, stripe_payments, run_payments, monkeypatch
):
    fake = stripe_payments
    invoices = at_once.invoices(6) + at_once.invoices(4, at_once.riverside)
    state = {"now": 0, "most": 0, "threads": set()}
    lock = threading.Lock()
    send = StripeGateway.transfer

    def slow_transfer(self, **kwargs):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            state["threads"].add(threading.get_ident())
        try:
            time.sleep(0.05)  # long enough for the others to start
            return send(self, **kwargs)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(StripeGateway, "transfer", slow_transfer)

    run = run_payments()

    assert 2 <= state["most"] <= 4
    assert threading.get_ident() not in state["threads"]  # the request's thread only writes
    assert_each_invoice_paid_once(fake, at_once, invoices, run)
    one_key_each(fake, run)
    assert reload(run).finished_at is not None


@pytest.mark.parametrize("kind", ALL_FAULTS)
def test_faults_on_transfers_in_flight_together_still_pay_each_invoice_once(
    at_once, stripe_payments, run_payments, kind
):
    fake = stripe_payments
    invoices = at_once.invoices(5) + at_once.invoices(3, at_once.riverside)
    fake.fail_next(TRANSFERS, kind, times=3)

    run = run_payments()

    assert not fake.pending_faults()
    assert_each_invoice_paid_once(fake, at_once, invoices, run)
    one_key_each(fake, run)


def test_a_refusal_among_transfers_in_flight_fails_only_its_own_payment(
    at_once, stripe_payments, run_payments, monkeypatch
):
    fake = stripe_payments
    at_once.invoices(6)
    refused = {}
    send = StripeGateway.transfer

    def refuse_one(self, **kwargs):
        from payments.gateways import GatewayRefused

        if kwargs["metadata"]["payment"] == refused.setdefault("payment", kwargs["metadata"]["payment"]):
            raise GatewayRefused("Your destination account needs to have at least one of the following capabilities.")
        return send(self, **kwargs)

    monkeypatch.setattr(StripeGateway, "transfer", refuse_one)

    run = run_payments()

    statuses = {str(p.pk): p.status for p in run.payments.all()}
    assert statuses.pop(refused["payment"]) == PaymentStatus.FAILED
    assert set(statuses.values()) == {PaymentStatus.PAID}
    assert fake.transfer_count() == 5
    failed = run.payments.get(status=PaymentStatus.FAILED)
    assert "capabilities" in failed.last_error and failed.transfer_id in ("", None)
    assert reload(run).finished_at is not None


def test_the_next_batch_is_out_while_this_one_is_completed(
    at_once, stripe_payments, run_payments, settings, monkeypatch
):
    """With several sends at once, a worker claims and sends the next batch before it completes
    this one in the database, so the two overlap; every invoice is still paid once."""
    from payments.services import batches

    settings.PAYMENT_SEND_BATCH_SIZE = 3
    fake = stripe_payments
    invoices = at_once.invoices(9)
    first_batch: set[str] = set()
    later_sent = threading.Event()
    overlapped = []
    send = StripeGateway.transfer
    complete = batches._complete_many

    def noting_transfer(self, **kwargs):
        if len(first_batch) < 3:
            first_batch.add(kwargs["metadata"]["payment"])
        elif kwargs["metadata"]["payment"] not in first_batch:
            later_sent.set()
        return send(self, **kwargs)

    def noting_complete(paid):
        if not overlapped:  # the first batch's completion: is the next batch out yet?
            overlapped.append(later_sent.wait(timeout=5))
        return complete(paid)

    monkeypatch.setattr(StripeGateway, "transfer", noting_transfer)
    monkeypatch.setattr(batches, "_complete_many", noting_complete)

    run = run_payments()

    assert overlapped == [True]
    assert_each_invoice_paid_once(fake, at_once, invoices, run)
    one_key_each(fake, run)

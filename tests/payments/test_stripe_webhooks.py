"""Stripe webhooks (API.md "Invoices and payments", PRODUCT.md §8): the signature is checked (a bad
or missing one → 400, nothing stored), each event is stored and handled once, a reversed transfer
reverses its payment and its ledger posting and makes the invoice owed again, events arriving out
of order end in the same state, and `account.updated` completes a provider's onboarding."""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

import json

import pytest

from accounts.models import Notification
from budgets.models import LedgerTransaction, TransactionKind
from budgets.selectors import budget_figures
from payments import services
from payments.models import InvoiceStatus, PayeeAccount, Payment, PaymentStatus, StripeEvent
from payments.services import provider_payee_account_set
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    assert_ledger_balances,
    gbp,
    onboard,
    pay_world,
    reload,
    run_payments,
    stripe_account_id,
    stripe_payments,
    stripe_ready,
    worker_retries,
)
from tests.stripe_fake.server import TEST_WEBHOOK_SECRET

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/webhooks/stripe/"


def deliver(client, fake, event: dict, *, secret: str = TEST_WEBHOOK_SECRET, signature: str | None = None):
    """POST `event` to the webhook as Stripe does, signed with `secret` (or the given header)."""
    payload = json.dumps(event, indent=2).encode()
    headers = {}
    sig = fake.sign(payload, secret) if signature is None else signature
    if sig:
        headers["HTTP_STRIPE_SIGNATURE"] = sig
    return client.post(WEBHOOK, data=payload, content_type="application/json", **headers)


def reverse_at_stripe(fake, transfer_id: str) -> dict:
    """Reverse the whole transfer through the API, as the council's finance team would at Stripe;
    returns the transfer as it now stands."""
    fake.client().v1.transfers.reversals.create(transfer_id)
    return fake.get_transfer(transfer_id)


@pytest.fixture
def paid(pay_world, stripe_payments, run_payments):
    """One invoice paid through the Stripe fake: (world, run, payment)."""
    onboard(pay_world, stripe_payments)
    pay_world.invoice()
    run = run_payments()
    payment = run.payments.get()
    assert payment.status == PaymentStatus.PAID
    return pay_world, run, payment


def nothing_changed(payment) -> None:
    assert StripeEvent.objects.count() == 0
    assert reload(payment).status == PaymentStatus.PAID
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.REVERSAL).exists()


# --- the signature -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    ["missing", "wrong secret", "garbage", "stale timestamp", "tampered payload"],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(paid, stripe_payments, client, how):
    fake = stripe_payments
    _, _, payment = paid
    transfer = reverse_at_stripe(fake, payment.transfer_id)
    event = fake.build_event("transfer.reversed", transfer)
    payload = json.dumps(event).encode()
    if how == "missing":
        response = deliver(client, fake, event, signature="")
    elif how == "wrong secret":
        response = deliver(client, fake, event, secret="whsec_someone_else")
    elif how == "garbage":
        response = deliver(client, fake, event, signature="t=1,v1=deadbeef")
    elif how == "stale timestamp":
        old = fake.sign(json.dumps(event, indent=2).encode(), TEST_WEBHOOK_SECRET, timestamp=1_000_000_000)
        response = deliver(client, fake, event, signature=old)
    else:
        signed_for = fake.sign(payload, TEST_WEBHOOK_SECRET)
        tampered = payload.replace(b'"transfer.reversed"', b'"transfer.created"')
        response = client.post(
            WEBHOOK, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=signed_for
        )

    assert response.status_code == 400
    nothing_changed(payment)


def test_webhooks_are_refused_when_no_secret_is_configured(paid, stripe_payments, client, settings):
    _, _, payment = paid
    settings.STRIPE_WEBHOOK_SECRET = ""
    transfer = reverse_at_stripe(stripe_payments, payment.transfer_id)

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", transfer))

    assert response.status_code == 400
    nothing_changed(payment)


def test_a_signed_event_is_stored_with_its_outcome(paid, stripe_payments, client):
    _, _, payment = paid
    event = stripe_payments.build_event("balance.available", {"object": "balance"})

    response = deliver(client, stripe_payments, event)

    assert response.status_code == 200
    assert response.json()["received"] is True
    stored = StripeEvent.objects.get()
    assert stored.event_id == event["id"]
    assert stored.type == "balance.available"
    assert stored.processed_at is not None
    assert stored.outcome == "Ignored."
    assert reload(payment).status == PaymentStatus.PAID


# --- a reversed transfer -----------------------------------------------------------------------


def test_a_reversed_transfer_reverses_the_payment_the_ledger_and_the_invoice(
    paid, stripe_payments, client, finance_user
):
    world, _, payment = paid
    before = budget_figures(world.budget)
    transfer = reverse_at_stripe(stripe_payments, payment.transfer_id)
    assert transfer["reversed"] is True

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", transfer))

    assert response.status_code == 200
    assert response.json()["outcome"] == f"Payment {payment.pk} reversed."
    payment = reload(payment)
    assert payment.status == PaymentStatus.REVERSED
    assert payment.reversed_at is not None
    reversal = LedgerTransaction.objects.get(kind=TransactionKind.REVERSAL)
    assert reversal.reverses_id == payment.ledger_transaction_id
    assert reversal.idempotency_key == f"payment:{payment.pk}:reversed"
    after = budget_figures(world.budget)
    assert after.paid == before.paid - payment.amount  # paid → back to committed
    assert after.committed == before.committed
    assert after.available == before.available
    assert_ledger_balances(world.budget)
    invoice = reload(payment.invoice)
    assert invoice.status == InvoiceStatus.CONFIRMED
    assert invoice.paid_at is None
    assert f"payment {payment.pk}" in Notification.objects.get(recipient=finance_user).message


def test_after_a_reversal_the_next_run_pays_the_invoice_again_with_a_new_payment(
    paid, stripe_payments, client, run_payments
):
    world, _, payment = paid
    transfer = reverse_at_stripe(stripe_payments, payment.transfer_id)
    deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", transfer))

    second = run_payments()

    assert second.payment_count == 1
    again = second.payments.get()
    assert again.pk != payment.pk
    assert again.invoice_id == payment.invoice_id
    assert again.status == PaymentStatus.PAID
    assert again.transfer_id not in ("", payment.transfer_id)
    assert stripe_payments.transfer_count() == 2
    assert stripe_payments.get_transfer(again.transfer_id)["reversed"] is False
    assert reload(payment.invoice).status == InvoiceStatus.PAID
    assert budget_figures(world.budget).paid == payment.amount
    assert_ledger_balances(world.budget)


def test_the_same_event_delivered_twice_is_handled_once(paid, stripe_payments, client, finance_user):
    world, _, payment = paid
    transfer = reverse_at_stripe(stripe_payments, payment.transfer_id)
    event = stripe_payments.build_event("transfer.reversed", transfer)

    first = deliver(client, stripe_payments, event)
    second = deliver(client, stripe_payments, event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["event"] == event["id"]
    assert StripeEvent.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind=TransactionKind.REVERSAL).count() == 1
    assert Notification.objects.filter(recipient=finance_user).count() == 1
    assert reload(payment).status == PaymentStatus.REVERSED
    assert budget_figures(world.budget).paid == gbp("0")
    assert_ledger_balances(world.budget)


def test_two_events_for_the_same_reversal_reverse_once(paid, stripe_payments, client):
    """Stripe may send `transfer.reversed` and then `transfer.updated` (reversed: true)."""
    world, _, payment = paid
    transfer = reverse_at_stripe(stripe_payments, payment.transfer_id)

    deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", transfer))
    deliver(client, stripe_payments, stripe_payments.build_event("transfer.updated", transfer))

    assert StripeEvent.objects.count() == 2
    assert LedgerTransaction.objects.filter(kind=TransactionKind.REVERSAL).count() == 1
    assert budget_figures(world.budget).paid == gbp("0")
    assert_ledger_balances(world.budget)


def test_an_event_for_a_transfer_cairn_does_not_know_changes_nothing(paid, stripe_payments, client):
    _, _, payment = paid
    account = stripe_payments.create_account(onboarded=True)
    stranger = stripe_payments.create_transfer(amount=500, destination=account["id"])

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.created", stranger))

    assert response.status_code == 200
    assert response.json()["outcome"] == f"No payment for transfer {stranger['id']}."
    assert reload(payment).status == PaymentStatus.PAID


def test_a_partial_reversal_does_not_make_the_whole_invoice_owed_again(paid, stripe_payments, client, run_payments):
    world, _, payment = paid
    stripe_payments.client().v1.transfers.reversals.create(payment.transfer_id, {"amount": 1000})
    transfer = stripe_payments.get_transfer(payment.transfer_id)
    assert (transfer["reversed"], transfer["amount_reversed"]) == (False, 1000)

    deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", transfer))

    assert reload(payment.invoice).status == InvoiceStatus.PAID
    assert run_payments().payment_count == 0
    assert budget_figures(world.budget).paid != gbp("0")


def test_transfer_created_for_a_payment_that_gave_up_marks_it_paid(
    pay_world, stripe_payments, run_payments, settings, client
):
    onboard(pay_world, stripe_payments)
    settings.PAYMENT_MAX_RETRIES = 0
    pay_world.invoice()
    stripe_payments.fail_next("POST /v1/transfers$", "500_after", times=10)
    stripe_payments.fail_next("GET /v1/transfers$", "500", times=10)
    payment = run_payments().payments.get()
    assert payment.status == PaymentStatus.FAILED
    stripe_payments.clear_faults()
    transfer = stripe_payments.transfers[0]

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.created", transfer))

    assert response.status_code == 200
    assert reload(payment).status == PaymentStatus.PAID, response.json()["outcome"]
    assert reload(payment.invoice).status == InvoiceStatus.PAID
    assert budget_figures(pay_world.budget).paid == payment.amount


# --- out of order ------------------------------------------------------------------------------


@pytest.fixture
def sending_with_transfer(pay_world, stripe_payments, finance_user):
    """A payment still `sending` in Cairn (its worker has not heard back) whose transfer exists at
    Stripe and has since been reversed: (world, payment, transfer as created, transfer reversed)."""
    accounts = onboard(pay_world, stripe_payments)
    pay_world.invoice()
    run = services.payment_run_start(actor=finance_user)  # queued; the sending is not run
    payment = run.payments.get()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SENDING, attempts=1)
    created = stripe_payments.create_transfer(
        amount=int(payment.amount.amount * 100),
        destination=accounts[payment.provider_id],
        transfer_group=run.transfer_group,
        metadata={"payment": str(payment.pk), "invoice": str(payment.invoice_id), "run": str(run.pk)},
    )
    reversed_ = reverse_at_stripe(stripe_payments, created["id"])
    return pay_world, reload(payment), created, reversed_


@pytest.mark.parametrize("order", ["in order", "reversal first"])
def test_events_out_of_order_end_in_the_same_state_as_in_order(sending_with_transfer, stripe_payments, client, order):
    world, payment, created, reversed_ = sending_with_transfer
    events = [
        stripe_payments.build_event("transfer.created", created),
        stripe_payments.build_event("transfer.reversed", reversed_),
    ]
    if order == "reversal first":
        events.reverse()

    for event in events:
        assert deliver(client, stripe_payments, event).status_code == 200

    payment = reload(payment)
    assert payment.status == PaymentStatus.REVERSED
    assert payment.transfer_id == created["id"]
    assert payment.paid_at is not None and payment.reversed_at is not None
    kinds = sorted(LedgerTransaction.objects.filter(budget=world.budget).values_list("kind", flat=True))
    assert kinds.count(TransactionKind.PAYMENT) == 1
    assert kinds.count(TransactionKind.REVERSAL) == 1
    assert budget_figures(world.budget).paid == gbp("0")
    assert_ledger_balances(world.budget)
    assert reload(payment.invoice).status == InvoiceStatus.CONFIRMED
    assert StripeEvent.objects.filter(processed_at__isnull=False).count() == 2


def test_transfer_created_confirms_a_payment_still_sending(sending_with_transfer, stripe_payments, client):
    world, payment, created, _ = sending_with_transfer

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.created", created))

    assert response.json()["outcome"] == f"Payment {payment.pk} confirmed paid."
    payment = reload(payment)
    assert payment.status == PaymentStatus.PAID
    assert payment.transfer_id == created["id"]
    assert budget_figures(world.budget).paid == payment.amount
    assert reload(payment.invoice).status == InvoiceStatus.PAID
    # The worker's next attempt finds it paid and sends nothing.
    services.payment_send(payment_id=payment.pk)
    assert [r for r in stripe_payments.requests if (r.method, r.path) == ("POST", "/v1/transfers")] == []
    assert stripe_payments.transfer_count() == 1


# --- onboarding --------------------------------------------------------------------------------


def test_account_updated_marks_the_provider_onboarded(pay_world, stripe_payments, client):
    fake = stripe_payments
    account = fake.create_account()
    provider = pay_world.brightside
    provider_payee_account_set(
        actor=None, provider=provider, account_id=account["id"], gateway_name="stripe", ready=False
    )

    incomplete = deliver(client, fake, fake.build_event("account.updated", account))
    assert incomplete.status_code == 200
    assert stripe_ready(provider) is False

    done = fake.complete_onboarding(account["id"])
    response = deliver(client, fake, fake.build_event("account.updated", done, account=account["id"]))

    assert response.status_code == 200
    assert response.json()["outcome"] == f"Provider {provider.pk} onboarded: True."
    assert stripe_ready(provider) is True
    assert stripe_account_id(provider) == account["id"]


def test_account_updated_for_an_unknown_account_changes_no_provider(pay_world, stripe_payments, client):
    fake = stripe_payments
    done = fake.complete_onboarding(fake.create_account()["id"])

    response = deliver(client, fake, fake.build_event("account.updated", done))

    assert response.status_code == 200
    assert response.json()["outcome"] == "No provider for that account."
    assert not PayeeAccount.objects.filter(ready=True).exists()


# --- delivered by the fake itself, over HTTP ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_fake_delivers_a_reversal_to_the_running_site(pay_world, stripe_payments, live_server, finance_user):
    fake = stripe_payments
    onboard(pay_world, fake)
    pay_world.invoice()
    run = services.payment_run_start(actor=finance_user)  # committed: the sending ran
    payment = run.payments.get()
    assert reload(payment).status == PaymentStatus.PAID
    fake.webhook_url = f"{live_server.url}{WEBHOOK}"
    fake.webhook_secret = TEST_WEBHOOK_SECRET
    fake.webhook_events = {"transfer.reversed", "account.updated"}

    reverse_at_stripe(fake, reload(payment).transfer_id)
    deliveries = fake.wait_for_deliveries(timeout=10)

    assert [(d["event"]["type"], d["status"], d["error"]) for d in deliveries] == [("transfer.reversed", 200, None)]
    assert reload(payment).status == PaymentStatus.REVERSED
    assert reload(payment.invoice).status == InvoiceStatus.CONFIRMED
    assert StripeEvent.objects.get().type == "transfer.reversed"
    assert_ledger_balances(pay_world.budget)

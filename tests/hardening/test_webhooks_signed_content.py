"""Signed Stripe webhooks are trusted for what Stripe itself says, not for what a metadata field
claims (docs/payments.md "Webhooks", docs/security.md "Webhooks"): payments are found by Stripe's
transfer id (metadata only for a payment with no transfer yet, and only when the transfer's group,
destination and amount agree), a reversal reverses a payment only for the whole of its amount, a
transfer never marks paid a payment Cairn failed because its provider is suspended, and a
malformed event is a 400 with nothing stored."""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

import json

import pytest

from accounts.models import Notification
from budgets.models import LedgerTransaction, TransactionKind
from payments.models import InvoiceStatus, Payment, PaymentStatus, StripeEvent
from providers.models import Provider, ProviderStatus
from tests.careplans.conftest import budget, make_budget, make_plan, make_provider, make_service  # noqa: F401
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    gbp,
    onboard,
    pay_world,
    reload,
    run_payments,
    stripe_payments,
    worker_retries,
)
from tests.stripe_fake.server import TEST_WEBHOOK_SECRET

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/webhooks/stripe/"


def deliver_bytes(client, fake, payload: bytes):
    signature = fake.sign(payload, TEST_WEBHOOK_SECRET)
    return client.post(WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def deliver(client, fake, event: dict):
    return deliver_bytes(client, fake, json.dumps(event).encode())


@pytest.fixture
def two_paid(pay_world, stripe_payments, run_payments):
    """Two invoices paid through the Stripe fake in one run: (world, accounts, first, second)."""
    accounts = onboard(pay_world, stripe_payments)
    pay_world.invoice()
    pay_world.invoice(pay_world.riverside)
    run = run_payments()
    first, second = run.payments.order_by("pk")
    assert first.status == second.status == PaymentStatus.PAID
    return pay_world, accounts, first, second


def reversals() -> int:
    return LedgerTransaction.objects.filter(kind=TransactionKind.REVERSAL).count()


# --- matched by Stripe's own ids ----------------------------------------------------------------


def test_a_reversal_reverses_the_payment_holding_the_transfer_id_not_the_one_metadata_names(
    two_paid, stripe_payments, client
):
    _, _, first, second = two_paid
    stripe_payments.client().v1.transfers.reversals.create(first.transfer_id)
    transfer = stripe_payments.get_transfer(first.transfer_id)
    transfer["metadata"] = {**transfer["metadata"], "payment": str(second.pk)}

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", transfer))

    assert response.status_code == 200
    assert response.json()["outcome"] == f"Payment {first.pk} reversed."
    assert reload(first).status == PaymentStatus.REVERSED
    assert reload(second).status == PaymentStatus.PAID
    assert reload(second.invoice).status == InvoiceStatus.PAID


def test_a_reversed_stranger_transfer_naming_a_paid_payment_in_its_metadata_changes_nothing(
    two_paid, stripe_payments, client
):
    _, accounts, first, _ = two_paid
    stranger = stripe_payments.create_transfer(
        amount=1,
        destination=accounts[first.provider_id],
        transfer_group=first.run.transfer_group,
        metadata={"payment": str(first.pk)},
    )
    stripe_payments.client().v1.transfers.reversals.create(stranger["id"])
    stranger = stripe_payments.get_transfer(stranger["id"])
    assert stranger["reversed"] is True

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", stranger))

    assert response.status_code == 200
    assert response.json()["outcome"] == f"No payment for transfer {stranger['id']}."
    assert reload(first).status == PaymentStatus.PAID
    assert reversals() == 0


def test_a_created_stranger_transfer_cannot_take_over_a_paid_payment(two_paid, stripe_payments, client):
    _, accounts, first, _ = two_paid
    stranger = stripe_payments.create_transfer(
        amount=int(first.amount.amount * 100),
        destination=accounts[first.provider_id],
        transfer_group=first.run.transfer_group,
        metadata={"payment": str(first.pk)},
    )
    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.created", stranger))
    assert response.json()["outcome"] == f"No payment for transfer {stranger['id']}."
    assert reload(first).transfer_id != stranger["id"]


# --- amounts ------------------------------------------------------------------------------------


def test_a_one_penny_reversal_of_a_payment_is_a_partial_reversal(two_paid, stripe_payments, client, finance_user):
    _, _, first, _ = two_paid
    transfer = stripe_payments.get_transfer(first.transfer_id)
    # What a signed event can say: the transfer "is" 1p and all of it was reversed.
    transfer.update(amount=1, amount_reversed=1, reversed=True)

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", transfer))

    assert response.status_code == 200
    assert "finance told" in response.json()["outcome"]
    assert reload(first).status == PaymentStatus.PAID
    assert reload(first.invoice).status == InvoiceStatus.PAID
    assert reversals() == 0
    told = Notification.objects.filter(recipient=finance_user, message__contains=f"payment {first.pk}")
    assert told.filter(message__contains="which is not payment").exists()


def test_a_real_one_penny_reversal_is_recorded_as_partial(two_paid, stripe_payments, client, finance_user):
    _, _, first, _ = two_paid
    stripe_payments.client().v1.transfers.reversals.create(first.transfer_id, {"amount": 1})
    transfer = stripe_payments.get_transfer(first.transfer_id)

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.reversed", transfer))

    outcome = response.json()["outcome"]
    assert outcome.startswith(f"Partial reversal of payment {first.pk}: £0.01 of ")
    assert StripeEvent.objects.get().outcome == outcome
    assert reload(first).status == PaymentStatus.PAID
    assert reversals() == 0


def test_a_transfer_created_for_another_amount_does_not_pay_a_waiting_payment(
    pay_world, stripe_payments, client, finance_user
):
    from payments import services

    accounts = onboard(pay_world, stripe_payments)
    pay_world.invoice()
    run = services.payment_run_start(actor=finance_user)  # queued; the sending is not run
    payment = run.payments.get()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SENDING, attempts=1)
    transfer = stripe_payments.create_transfer(
        amount=1,
        destination=accounts[payment.provider_id],
        transfer_group=run.transfer_group,
        metadata={"payment": str(payment.pk)},
    )

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.created", transfer))

    assert "finance told" in response.json()["outcome"]
    assert reload(payment).status == PaymentStatus.SENDING


# --- state checks -------------------------------------------------------------------------------


def test_transfer_created_does_not_mark_a_suspended_providers_failed_payment_paid(
    pay_world, stripe_payments, run_payments, client, finance_user
):
    accounts = onboard(pay_world, stripe_payments)
    pay_world.invoice()
    Provider.objects.filter(pk=pay_world.brightside.pk).update(status=ProviderStatus.SUSPENDED)
    payment = run_payments().payments.get()
    assert payment.status == PaymentStatus.FAILED
    transfer = stripe_payments.create_transfer(
        amount=int(payment.amount.amount * 100),
        destination=accounts[payment.provider_id],
        transfer_group=payment.run.transfer_group,
        metadata={"payment": str(payment.pk), "invoice": str(payment.invoice_id)},
    )

    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.created", transfer))

    assert response.status_code == 200
    assert "not marked paid" in response.json()["outcome"]
    payment = reload(payment)
    assert payment.status == PaymentStatus.FAILED
    assert payment.paid_at is None and payment.transfer_id == ""
    assert reload(payment.invoice).status == InvoiceStatus.CONFIRMED
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.PAYMENT).exists()
    assert Notification.objects.filter(recipient=finance_user, message__contains="was not marked paid").exists()


def test_a_transfer_in_another_group_does_not_complete_a_waiting_payment(
    pay_world, stripe_payments, client, finance_user
):
    from payments import services

    accounts = onboard(pay_world, stripe_payments)
    pay_world.invoice()
    run = services.payment_run_start(actor=finance_user)
    payment = run.payments.get()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SENDING, attempts=1)
    transfer = stripe_payments.create_transfer(
        amount=int(payment.amount.amount * 100),
        destination=accounts[payment.provider_id],
        transfer_group="somewhere-else",
        metadata={"payment": str(payment.pk)},
    )
    response = deliver(client, stripe_payments, stripe_payments.build_event("transfer.created", transfer))
    assert response.json()["outcome"] == f"No payment for transfer {transfer['id']}."
    assert reload(payment).status == PaymentStatus.SENDING


# --- malformed signed events --------------------------------------------------------------------


def _transfer_event(fake, **changes):
    event = fake.build_event("transfer.created", {"id": "tr_x", "object": "transfer", "amount": 100, "currency": "gbp"})
    event.update(changes)
    return event


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda e: e.pop("id"), id="no id"),
        pytest.param(lambda e: e.update(id="evt_" + "x" * 100), id="id over 100"),
        pytest.param(lambda e: e.update(id=12345), id="id a number"),
        pytest.param(lambda e: e.update(id=None), id="id null"),
        pytest.param(lambda e: e.update(type=["transfer.created"]), id="type a list"),
        pytest.param(lambda e: e.update(data="a string"), id="data a string"),
        pytest.param(lambda e: e.update(data=None), id="data null"),
        pytest.param(lambda e: e.update(data={"object": "a string"}), id="object a string"),
        pytest.param(lambda e: e.update(data={"object": [1, 2]}), id="object a list"),
        pytest.param(lambda e: e.pop("data"), id="no data"),
        pytest.param(lambda e: e["data"]["object"].update(id="tr_" + "x" * 100), id="transfer id over 100"),
        pytest.param(lambda e: e["data"]["object"].update(id=["tr_1"]), id="transfer id a list"),
        pytest.param(lambda e: e["data"]["object"].update(amount="100"), id="amount text"),
        pytest.param(lambda e: e["data"]["object"].update(amount=1.5), id="amount a float"),
        pytest.param(lambda e: e["data"]["object"].update(amount=10**30), id="amount huge"),
        pytest.param(lambda e: e["data"]["object"].update(amount=-5), id="amount negative"),
        pytest.param(lambda e: e["data"]["object"].update(amount=None), id="amount missing"),
        pytest.param(lambda e: e["data"]["object"].update(currency="pounds sterling"), id="currency"),
        pytest.param(lambda e: e["data"]["object"].update(currency="xyz"), id="currency unknown"),
        pytest.param(lambda e: e["data"]["object"].update(metadata=["payment", "1"]), id="metadata a list"),
        pytest.param(lambda e: e["data"]["object"].update(metadata={"payment": {"a": 1}}), id="metadata nested"),
        pytest.param(lambda e: e["data"]["object"].update(amount_reversed=500), id="reversed more than amount"),
        pytest.param(lambda e: e["data"]["object"].update(reversed="yes"), id="reversed text"),
        pytest.param(lambda e: e["data"]["object"].update(destination=["acct"]), id="destination a list"),
    ],
)
def test_a_malformed_signed_event_is_a_400_and_nothing_is_stored(stripe_payments, client, mutate):
    event = _transfer_event(stripe_payments)
    mutate(event)
    response = deliver(client, stripe_payments, event)
    assert response.status_code == 400, response.content
    assert "payload" in json.dumps(response.json())
    assert StripeEvent.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [b"[1, 2, 3]", b'"an event"', b"null", b"{" * 1, b'{"id": "evt_1", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}"],
)
def test_signed_bodies_that_are_not_events_are_a_400(stripe_payments, client, payload):
    response = deliver_bytes(client, stripe_payments, payload)
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.parametrize(
    "kind, obj",
    [
        ("account.updated", {"id": "acct_" + "x" * 200}),
        ("checkout.session.completed", {"id": "cs_1", "payment_status": "paid", "amount_total": "12"}),
        ("issuing_transaction.created", {"id": "ipi_1", "card": "ic_1", "amount": "-500", "currency": "gbp"}),
        ("issuing_transaction.created", {"id": "ipi_1", "card": {"id": 5}, "amount": -500, "currency": "gbp"}),
        ("issuing_transaction.created", {"id": "ipi_1", "card": "ic_1", "amount": -5, "created": "yesterday"}),
    ],
)
def test_malformed_objects_of_other_event_types_are_a_400(stripe_payments, client, kind, obj):
    response = deliver(client, stripe_payments, stripe_payments.build_event(kind, obj))
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_a_well_formed_event_still_answers_200(stripe_payments, client):
    response = deliver(client, stripe_payments, _transfer_event(stripe_payments))
    assert response.status_code == 200
    assert response.json()["outcome"] == "No payment for transfer tr_x."

"""Gateway webhooks: each event is verified by its gateway, stored once by its id and handled once.
The gateway translates its own event types into neutral changes (`payments.gateways`); this module
decides what each change means for payments and payee accounts."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django_fsm import can_proceed

from accounts.exceptions import InvalidInput
from accounts.money import format_money
from providers.models import ProviderStatus

from ..gateways import (
    AccountUpdated,
    CardTransaction,
    CheckoutCompleted,
    Transfer,
    TransferReversed,
    TransferSeen,
    WebhookMalformed,
    WebhookRejected,
    WebhooksNotConfigured,
    gateway,
)
from ..models import PayeeAccount, Payment, PaymentStatus, RecoveryPart, StripeEvent
from .cards import card_transaction_record
from .contributions import contribution_checkout_completed
from .payees import payee_account_set
from .runs import complete_payment, payment_reverse, tell_finance

__all__ = ["webhook_receive"]


def webhook_receive(*, gateway_name: str, payload: bytes, signature: str) -> StripeEvent:
    """Verify a webhook's signature (400, nothing stored, when it is missing or wrong), store the
    event once by its id, and handle it once. A duplicate delivery returns the stored event."""
    try:
        event = gateway(gateway_name).parse_webhook(payload=payload, signature=signature)
    except WebhooksNotConfigured as exc:
        raise InvalidInput(exc.message) from exc
    except WebhookMalformed as exc:
        raise InvalidInput(exc.message, field="payload") from exc
    except WebhookRejected as exc:
        raise InvalidInput(exc.message, field="signature") from exc
    with transaction.atomic():
        stored, created = StripeEvent.objects.get_or_create(
            event_id=event.id, defaults={"type": event.type, "payload": event.payload}
        )
    if created or stored.processed_at is None:
        outcome = _handle(event.change, gateway_name)
        StripeEvent.objects.filter(pk=stored.pk, processed_at__isnull=True).update(
            processed_at=timezone.now(), outcome=outcome[:300]
        )
        stored.refresh_from_db()
    return stored


def _payment_for(*, transfer_id: str, payment_ref: str, group: str, destination: str, gateway_name: str):
    """The payment a transfer the gateway reports is for, found by the gateway's own ids.

    The transfer's id first: a payment that holds it is the one, whatever the metadata says. Only a
    payment that holds no transfer yet (its worker never heard back) is found by the `payment`
    reference in the transfer's metadata, and then only if the gateway's own fields agree: the
    transfer is in that payment's run's group, through the run's gateway, to the payee's account.
    A reference naming a payment that already has another transfer finds nothing (so an event can
    never re-point or reverse another payment)."""
    payment = Payment.objects.select_related("run", "provider").filter(transfer_id=transfer_id).first()
    if payment is not None or not (payment_ref.isdigit() and len(payment_ref) <= 18):
        return payment
    candidate = Payment.objects.select_related("run", "provider").filter(pk=int(payment_ref)).first()
    if candidate is None or candidate.transfer_id or candidate.run.gateway != gateway_name:
        return None
    if not group or candidate.run.transfer_group != group:
        return None
    gw = gateway(gateway_name)
    payee = {"provider_id": candidate.provider_id} if candidate.provider_id else {"person_id": candidate.person_id}
    account = PayeeAccount.objects.filter(gateway=gateway_name, **payee).first() if gw.needs_account else None
    expected = (
        account.account_id if account is not None else gw.destination(payee=candidate.payee_reference, account=None)
    )
    if not destination or destination != expected:
        return None
    return candidate


def _may_complete(payment: Payment) -> str:
    """Why a transfer the gateway reports cannot mark this payment paid ("" when it can). The
    state check is the FSM's (`succeed` from pending, sending or failed). A payment Cairn itself
    failed because its provider is not verified (suspended, say) is finance's to look at, never
    marked paid by an event."""
    if not can_proceed(payment.succeed):
        return f"already {payment.status}"
    provider = payment.provider
    if payment.status == PaymentStatus.FAILED and provider is not None and provider.status != ProviderStatus.VERIFIED:
        return f"failed and {provider.name} is {provider.get_status_display().lower()}"
    return ""


def _handle(change, gateway_name: str) -> str:
    if isinstance(change, TransferReversed):
        return _reversed(change, gateway_name)
    if isinstance(change, TransferSeen):
        transfer = change.transfer
        payment = _payment_for(
            transfer_id=transfer.id,
            payment_ref=transfer.metadata.get("payment", ""),
            group=transfer.group,
            destination=transfer.destination,
            gateway_name=gateway_name,
        )
        if payment is None:
            return f"No payment for transfer {transfer.id}."
        if payment.status in (PaymentStatus.PAID, PaymentStatus.REVERSED):
            return f"Payment {payment.pk} already {payment.status}."
        if transfer.amount != payment.amount:
            tell_finance(
                payment,
                f"The payment service reports transfer {transfer.id} of {format_money(transfer.amount)} for "
                f"payment {payment.pk} of {format_money(payment.amount)}: check it with the provider.",
            )
            return f"Transfer {transfer.id} is not for payment {payment.pk}'s amount: finance told."
        refusal = _may_complete(payment)
        if refusal:
            tell_finance(
                payment,
                f"The payment service reports transfer {transfer.id} for payment {payment.pk}, which is {refusal}: "
                "it was not marked paid; check it with the payment service.",
            )
            return f"Payment {payment.pk} not marked paid: {refusal}; finance told."
        complete_payment(
            payment.pk,
            Transfer(id=transfer.id, amount=transfer.amount, destination="", group=payment.run.transfer_group),
        )
        return f"Payment {payment.pk} confirmed paid."
    if isinstance(change, CheckoutCompleted):
        return contribution_checkout_completed(change, gateway_name)
    if isinstance(change, CardTransaction):
        return card_transaction_record(change, gateway_name)
    if isinstance(change, AccountUpdated):
        account = PayeeAccount.objects.filter(gateway=gateway_name, account_id=change.account_id).first()
        if account is None:
            return "No provider for that account."
        payee_account_set(actor=None, account=account, ready=change.ready)
        if account.provider_id:
            return f"Provider {account.provider_id} onboarded: {change.ready}."
        return f"Payee account {account.pk} ready: {change.ready}."
    return "Ignored."


def _reversed(change: TransferReversed, gateway_name: str) -> str:
    """A transfer taken back in part or whole. Only the whole of the payment's own amount reverses
    it (docs/payments.md, "Webhooks"); a partial reversal (any amount less than the payment's, a
    penny of £73.50 included) or a transfer whose amount is not the payment's is recorded as this
    event's outcome and sent to finance, and changes nothing."""
    recovered = RecoveryPart.objects.filter(transfer_id=change.transfer_id).aggregate(total=Sum("amount"))["total"]
    if recovered and change.amount_reversed.amount <= recovered:
        # Cairn's own take-back of a recovered surplus: the load stays paid.
        return f"Transfer {change.transfer_id}: {format_money(change.amount_reversed)} taken back by a recovery."
    payment = _payment_for(
        transfer_id=change.transfer_id,
        payment_ref=change.payment_ref,
        group=change.group,
        destination=change.destination,
        gateway_name=gateway_name,
    )
    if payment is None:
        return f"No payment for transfer {change.transfer_id}."
    if payment.status == PaymentStatus.REVERSED:
        return f"Payment {payment.pk} already reversed."
    if change.amount != payment.amount:
        tell_finance(
            payment,
            f"The payment service reversed {format_money(change.amount_reversed)} of transfer {change.transfer_id} "
            f"({format_money(change.amount)}), which is not payment {payment.pk}'s amount "
            f"({format_money(payment.amount)}): check it with the provider.",
        )
        return f"Reversal of transfer {change.transfer_id} not for payment {payment.pk}'s amount: finance told."
    if change.amount_reversed < payment.amount:
        # A partial reversal: not undone automatically (paying the invoice again in full
        # would overpay); finance decides.
        tell_finance(
            payment,
            f"The payment service reversed {format_money(change.amount_reversed)} of the "
            f"{format_money(payment.amount)} transfer for payment {payment.pk}: check it with the provider.",
        )
        return (
            f"Partial reversal of payment {payment.pk}: {format_money(change.amount_reversed)} of "
            f"{format_money(payment.amount)}; finance told."
        )
    if payment.status != PaymentStatus.PAID:
        refusal = _may_complete(payment)
        if refusal:
            tell_finance(
                payment,
                f"The payment service reversed transfer {change.transfer_id} for payment {payment.pk}, which is "
                f"{refusal}: nothing was changed; check it with the payment service.",
            )
            return f"Payment {payment.pk} not reversed: {refusal}; finance told."
    payment_reverse(
        payment=payment, transfer_id=change.transfer_id, reason="The payment service reversed the transfer."
    )
    return f"Payment {payment.pk} reversed."

"""Gateway webhooks: each event is verified by its gateway, stored once by its id and handled once.
The gateway translates its own event types into neutral changes (`payments.gateways`); this module
decides what each change means for payments and payee accounts."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.exceptions import InvalidInput
from accounts.money import format_money

from ..gateways import (
    AccountUpdated,
    CardTransaction,
    CheckoutCompleted,
    Transfer,
    TransferReversed,
    TransferSeen,
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


def _payment_for(payment_ref: str, transfer_id: str) -> Payment | None:
    payment = None
    if payment_ref and payment_ref.isdigit():
        payment = Payment.objects.select_related("run").filter(pk=int(payment_ref)).first()
    if payment is None and transfer_id:
        payment = Payment.objects.select_related("run").filter(transfer_id=transfer_id).first()
    return payment


def _handle(change, gateway_name: str) -> str:
    if isinstance(change, TransferReversed):
        recovered = RecoveryPart.objects.filter(transfer_id=change.transfer_id).aggregate(total=Sum("amount"))["total"]
        if recovered and change.amount_reversed.amount <= recovered:
            # Cairn's own take-back of a recovered surplus: the load stays paid.
            return f"Transfer {change.transfer_id}: {format_money(change.amount_reversed)} taken back by a recovery."
        payment = _payment_for(change.payment_ref, change.transfer_id)
        if payment is None:
            return f"No payment for transfer {change.transfer_id}."
        if change.amount_reversed < change.amount:
            # A partial reversal: not undone automatically (paying the invoice again in full
            # would overpay); finance decides.
            tell_finance(
                payment,
                f"The payment service reversed {format_money(change.amount_reversed)} of the "
                f"{format_money(change.amount)} transfer for payment {payment.pk}: check it with the provider.",
            )
            return f"Partial reversal of payment {payment.pk}: finance told."
        payment_reverse(
            payment=payment, transfer_id=change.transfer_id, reason="The payment service reversed the transfer."
        )
        return f"Payment {payment.pk} reversed."
    if isinstance(change, TransferSeen):
        transfer = change.transfer
        payment = _payment_for(str(transfer.metadata.get("payment") or ""), transfer.id)
        if payment is None:
            return f"No payment for transfer {transfer.id}."
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.SENDING, PaymentStatus.FAILED):
            complete_payment(
                payment.pk,
                Transfer(id=transfer.id, amount=transfer.amount, destination="", group=payment.run.transfer_group),
            )
            return f"Payment {payment.pk} confirmed paid."
        return f"Payment {payment.pk} already {payment.status}."
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

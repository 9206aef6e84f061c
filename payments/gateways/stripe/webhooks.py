"""Stripe webhooks: the signature is verified with `STRIPE_WEBHOOK_SECRET`, then each event type
Cairn cares about is translated into the gateway-neutral change the payments services handle."""

from __future__ import annotations

import datetime

from django.conf import settings

from .. import (
    AccountUpdated,
    CardTransaction,
    CheckoutCompleted,
    TransferReversed,
    TransferSeen,
    WebhookEvent,
    WebhookRejected,
    WebhooksNotConfigured,
)
from .client import from_pence, plain, to_transfer
from .onboarding import account_is_ready

TRANSFER_EVENTS = {"transfer.created", "transfer.updated", "transfer.reversed"}


def parse(*, payload: bytes, signature: str) -> WebhookEvent:
    import stripe

    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhooksNotConfigured("Webhooks are not configured (no STRIPE_WEBHOOK_SECRET).")
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise WebhookRejected("The Stripe signature is missing or does not match.") from exc
    data = plain(event)
    kind = data.get("type", "")
    obj = (data.get("data") or {}).get("object") or {}
    return WebhookEvent(id=data["id"], type=kind, payload=data, change=_change(kind, obj))


def _change(kind: str, obj: dict):
    if kind in TRANSFER_EVENTS and obj.get("id"):
        if kind == "transfer.reversed" or obj.get("reversed") or obj.get("amount_reversed"):
            amount = from_pence(obj.get("amount"), obj.get("currency"))
            reversed_amount = (
                amount if obj.get("reversed") else from_pence(obj.get("amount_reversed"), obj.get("currency"))
            )
            return TransferReversed(
                transfer_id=obj["id"],
                payment_ref=str((obj.get("metadata") or {}).get("payment") or ""),
                amount=amount,
                amount_reversed=reversed_amount,
            )
        if "amount" in obj:
            return TransferSeen(transfer=to_transfer({"currency": "gbp", **obj}))
    if kind == "issuing_transaction.created" and obj.get("id") and obj.get("card"):
        card = obj["card"] if isinstance(obj["card"], str) else obj["card"].get("id", "")
        merchant = obj.get("merchant_data") or {}
        return CardTransaction(
            id=obj["id"],
            card_id=card,
            kind="refund" if obj.get("type") == "refund" else "capture",
            # Issuing amounts are signed from the card's side: a capture is negative.
            amount=from_pence(abs(int(obj.get("amount") or 0)), obj.get("currency")),
            merchant=str(merchant.get("name") or "Card payment")[:200],
            category=str(merchant.get("category") or ""),
            created=datetime.datetime.fromtimestamp(int(obj.get("created") or 0), tz=datetime.UTC),
        )
    if kind == "checkout.session.completed" and obj.get("id") and obj.get("payment_status") == "paid":
        return CheckoutCompleted(
            session_id=obj["id"],
            amount=from_pence(obj.get("amount_total"), obj.get("currency")),
            reference=str(obj.get("client_reference_id") or ""),
        )
    if kind == "account.updated" and obj.get("id"):
        return AccountUpdated(account_id=obj["id"], ready=account_is_ready(obj))
    return None

"""Stripe webhooks: the signature is verified with `STRIPE_WEBHOOK_SECRET`, then each event type
Cairn cares about is translated into the gateway-neutral change the payments services handle."""

from __future__ import annotations

from django.conf import settings

from .. import AccountUpdated, TransferReversed, TransferSeen, WebhookEvent, WebhookRejected, WebhooksNotConfigured
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
    if kind == "account.updated" and obj.get("id"):
        return AccountUpdated(account_id=obj["id"], ready=account_is_ready(obj))
    return None

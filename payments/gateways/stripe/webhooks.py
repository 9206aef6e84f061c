"""Stripe webhooks: the signature is verified with `STRIPE_WEBHOOK_SECRET`, then each event type
Cairn cares about is translated into the gateway-neutral change the payments services handle.

A signature proves Stripe sent the bytes, not that they have the shape Cairn reads: every field
used is checked (ids are text of 1 to 100 characters, amounts whole numbers of pence within
bounds, currencies three letters, metadata text) and anything else is `WebhookMalformed` (400,
nothing stored), never an exception from deep inside the handling."""

from __future__ import annotations

import datetime
import json
import re

from django.conf import settings
from moneyed import CurrencyDoesNotExist, get_currency

from .. import (
    AccountUpdated,
    CardTransaction,
    CheckoutCompleted,
    Transfer,
    TransferReversed,
    TransferSeen,
    WebhookEvent,
    WebhookMalformed,
    WebhookRejected,
    WebhooksNotConfigured,
)
from .client import from_pence
from .onboarding import account_is_ready

TRANSFER_EVENTS = {"transfer.created", "transfer.updated", "transfer.reversed"}
MAX_ID = 100  # Stripe's ids are far shorter; StripeEvent.event_id holds 100
MAX_PENCE = 10**12  # £10,000,000,000: more than any transfer, well inside Cairn's money columns
CURRENCY_RE = re.compile(r"[A-Za-z]{3}")


def parse(*, payload: bytes, signature: str) -> WebhookEvent:
    import stripe

    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhooksNotConfigured("Webhooks are not configured (no STRIPE_WEBHOOK_SECRET).")
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes | bytearray) else str(payload)
        stripe.WebhookSignature.verify_header(
            text, signature or "", settings.STRIPE_WEBHOOK_SECRET, stripe.Webhook.DEFAULT_TOLERANCE
        )
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
        raise WebhookRejected("The Stripe signature is missing or does not match.") from exc
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WebhookMalformed("The event is not a JSON object.") from exc
    if not isinstance(data, dict):
        raise WebhookMalformed("The event is not a JSON object.")
    event_id = _id(data.get("id"), "the event's id")
    kind = _text(data.get("type"), "the event's type", required=True)
    body = data.get("data")
    if not isinstance(body, dict) or not isinstance(body.get("object"), dict):
        raise WebhookMalformed("The event's data must be an object holding an object.")
    return WebhookEvent(id=event_id, type=kind, payload=data, change=_change(kind, body["object"]))


def _text(value, what: str, *, required: bool = False, limit: int = MAX_ID) -> str:
    """Text of at most `limit` characters ("" when absent and not `required`)."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise WebhookMalformed(
            f"{what[0].upper()}{what[1:]} must be text of {1 if required else 0} to {limit} characters."
        )
    return value


def _id(value, what: str) -> str:
    return _text(value, what, required=True)


def _pence(value, what: str, *, signed: bool = False, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_PENCE or (value < 0 and not signed):
        raise WebhookMalformed(f"{what[0].upper()}{what[1:]} must be a whole number of pence.")
    return value


def _currency(obj: dict) -> str:
    currency = obj.get("currency", "gbp")
    if not isinstance(currency, str) or not CURRENCY_RE.fullmatch(currency):
        raise WebhookMalformed("The currency must be a three-letter code.")
    try:
        get_currency(currency.upper())
    except CurrencyDoesNotExist as exc:
        raise WebhookMalformed("The currency must be a three-letter code.") from exc
    return currency


def _metadata(obj: dict) -> dict[str, str]:
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int) and len(str(v)) <= 500 for k, v in metadata.items()
    ):
        raise WebhookMalformed("The metadata must be an object of text values.")
    return {k: str(v) for k, v in metadata.items()}


def _change(kind: str, obj: dict):
    if kind in TRANSFER_EVENTS and obj.get("id") is not None:
        transfer_id = _id(obj["id"], "the transfer's id")
        currency = _currency(obj)
        amount = _pence(obj.get("amount"), "the transfer's amount")
        reversed_pence = _pence(obj.get("amount_reversed"), "the amount reversed", default=0)
        if not isinstance(obj.get("reversed", False), bool):
            raise WebhookMalformed("“reversed” must be true or false.")
        if obj.get("reversed") and not reversed_pence:
            reversed_pence = amount  # Stripe always says how much; an old event may only say "all of it"
        if reversed_pence > amount:
            raise WebhookMalformed("The amount reversed is more than the transfer's amount.")
        metadata = _metadata(obj)
        destination = obj.get("destination") or ""
        if isinstance(destination, dict):  # expanded
            destination = destination.get("id") or ""
        destination = _text(destination, "the transfer's destination")
        group = _text(obj.get("transfer_group"), "the transfer group")
        if kind == "transfer.reversed" or obj.get("reversed") or reversed_pence:
            return TransferReversed(
                transfer_id=transfer_id,
                payment_ref=metadata.get("payment", ""),
                amount=from_pence(amount, currency),
                amount_reversed=from_pence(reversed_pence, currency),
                group=group,
                destination=destination,
            )
        return TransferSeen(
            transfer=Transfer(
                id=transfer_id,
                amount=from_pence(amount, currency),
                destination=destination,
                group=group,
                metadata=metadata,
            )
        )
    if kind == "issuing_transaction.created" and obj.get("id") is not None and obj.get("card"):
        card = obj["card"] if isinstance(obj["card"], str) else (obj["card"] or {}).get("id")
        merchant = obj.get("merchant_data") or {}
        if not isinstance(merchant, dict):
            raise WebhookMalformed("The merchant data must be an object.")
        created = obj.get("created") or 0
        if isinstance(created, bool) or not isinstance(created, int) or not 0 <= created < 2**37:
            raise WebhookMalformed("“created” must be a time in seconds.")
        return CardTransaction(
            id=_id(obj["id"], "the card transaction's id"),
            card_id=_id(card, "the card's id"),
            kind="refund" if obj.get("type") == "refund" else "capture",
            # Issuing amounts are signed from the card's side: a capture is negative.
            amount=from_pence(abs(_pence(obj.get("amount"), "the amount", signed=True)), _currency(obj)),
            merchant=str(merchant.get("name") or "Card payment")[:200],
            category=str(merchant.get("category") or "")[:100],
            created=datetime.datetime.fromtimestamp(created, tz=datetime.UTC),
        )
    if kind == "checkout.session.completed" and obj.get("id") is not None and obj.get("payment_status") == "paid":
        return CheckoutCompleted(
            session_id=_id(obj["id"], "the session's id"),
            amount=from_pence(_pence(obj.get("amount_total"), "the amount"), _currency(obj)),
            reference=_text(obj.get("client_reference_id"), "the client reference"),
        )
    if kind == "account.updated" and obj.get("id") is not None:
        return AccountUpdated(account_id=_id(obj["id"], "the account's id"), ready=account_is_ready(obj))
    return None

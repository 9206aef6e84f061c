"""Stripe Issuing: prepaid cards for direct payment holders, funded from the council's Issuing
balance. A load tops the Issuing balance up (a `Topup` to `destination_balance=issuing`, under the
payment's idempotency key, findable by its metadata like a transfer) and the card's `all_time`
spending limit is what the holder may spend in all; Stripe refuses anything above it, and the
merchant categories the policy blocks, at the till."""

from __future__ import annotations

from djmoney.money import Money

from accounts.money import to_pence

from .. import IssuedCard, Transfer
from .client import call, from_pence, plain


def issue_card(
    client, *, reference: str, name: str, email: str, address: dict, blocked_categories: list[str], limit: Money
) -> IssuedCard:
    """A cardholder and a virtual card, each created once per `reference` (idempotency keys)."""
    first, _, last = name.strip().partition(" ")
    holder_params = {
        "type": "individual",
        "name": name[:200],
        "billing": {
            "address": {
                "line1": address["line1"],
                "city": address["city"],
                "postal_code": address["postal_code"],
                "country": "GB",
            }
        },
        "individual": {"first_name": first[:100] or name[:100], "last_name": (last or first)[:100]},
        "metadata": {"cairn_fund": reference},
        "status": "active",
    }
    if email:
        holder_params["email"] = email
    holder = plain(
        call(
            client.v1.issuing.cardholders.create,
            holder_params,
            options={"idempotency_key": f"cairn-cardholder-{reference}"},
        )
    )
    card = plain(
        call(
            client.v1.issuing.cards.create,
            {
                "cardholder": holder["id"],
                "currency": str(limit.currency).lower(),
                "type": "virtual",
                "status": "active",
                "spending_controls": _controls(blocked_categories, limit),
                "metadata": {"cairn_fund": reference},
            },
            options={"idempotency_key": f"cairn-card-{reference}"},
        )
    )
    return IssuedCard(cardholder_id=holder["id"], card_id=card["id"], last4=str(card.get("last4") or ""))


def _controls(blocked_categories: list[str], limit: Money) -> dict:
    controls: dict = {"spending_limits": [{"amount": to_pence(limit), "interval": "all_time"}]}
    if blocked_categories:
        controls["blocked_categories"] = list(blocked_categories)
    return controls


def set_card_limit(client, *, card_id: str, limit: Money, blocked_categories: list[str]) -> None:
    """The whole of what the holder may ever spend on the card (Stripe counts what was spent)."""
    call(client.v1.issuing.cards.update, card_id, {"spending_controls": _controls(blocked_categories, limit)})


def top_up(client, *, amount: Money, card_id: str, key: str, group: str, metadata: dict, description: str) -> Transfer:
    params = {
        "amount": to_pence(amount),
        "currency": str(amount.currency).lower(),
        "destination_balance": "issuing",
        "description": (description or "Cairn direct payment load")[:350],
        "metadata": {**{k: str(v) for k, v in metadata.items()}, "card": card_id, "transfer_group": group},
    }
    return to_transfer(call(client.v1.topups.create, params, options={"idempotency_key": key}))


def to_transfer(item) -> Transfer:
    item = plain(item)
    metadata = dict(item.get("metadata") or {})
    return Transfer(
        id=item["id"],
        amount=from_pence(item["amount"], item["currency"]),
        destination=metadata.get("card", ""),
        group=metadata.get("transfer_group", ""),
        metadata=metadata,
        reversed=item.get("status") in ("failed", "canceled", "reversed"),
    )


def top_ups_in(client, *, group: str) -> list[Transfer]:
    def everything():
        return list(client.v1.topups.list({"limit": 100}).auto_paging_iter())

    return [t for t in (to_transfer(item) for item in call(everything)) if t.group == group]

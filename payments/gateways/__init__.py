"""Payment gateways: "move this much to that account, with this key".

Every gateway implements `Gateway` (below) and is named in `settings.PAYMENT_GATEWAYS`, which maps
a short name (`ledger`, `stripe`) to its class; `settings.PAYMENT_GATEWAY` names the one new
payment runs use. Nothing outside this package knows which gateway it talks to: adding one is a
class implementing `Gateway` plus a line in the setting (docs/architecture.md).

Errors say what the caller may safely do next:
- `GatewayAmbiguous`: a timeout, a dropped connection or a 5xx — the transfer may or may not
  exist. Look it up (`find`) before any new attempt; resend only with the same key.
- `GatewayRetryLater`: 429 — nothing was done; try again later with the same key.
- `GatewayRefused`: a definite refusal (bad account, insufficient balance...) with the
  gateway's message, for finance to act on.
- `WebhookRejected`: a webhook whose signature is missing or wrong; nothing is stored.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from djmoney.money import Money

if TYPE_CHECKING:
    from ..models import PayeeAccount


class GatewayError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class GatewayAmbiguous(GatewayError):
    """The outcome is unknown: look the transfer up before trying again."""


class GatewayRetryLater(GatewayError):
    """Nothing happened; try again later."""


class GatewayRefused(GatewayError):
    """A definite no, with the gateway's reason."""


class WebhookRejected(GatewayError):
    """The webhook cannot be trusted: its signature is missing or wrong."""


class WebhooksNotConfigured(WebhookRejected):
    """This gateway has no webhook secret configured (or sends no webhooks)."""


class WebhookMalformed(WebhookRejected):
    """A correctly signed webhook whose content is not what the gateway sends (no id, `data` not an
    object, an id too long, an amount not a whole number...): refused, nothing stored."""


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: Money
    destination: str
    group: str
    metadata: dict = field(default_factory=dict)
    reversed: bool = False


# What a webhook event means for Cairn, in the gateway's neutral terms.
@dataclass(frozen=True)
class TransferSeen:
    """The gateway holds this transfer (created or updated, not reversed)."""

    transfer: Transfer


@dataclass(frozen=True)
class TransferReversed:
    """Part or all of a transfer was taken back. `amount_reversed < amount` is a partial reversal."""

    transfer_id: str
    payment_ref: str
    amount: Money
    amount_reversed: Money
    #: the transfer's group and destination as the gateway reports them (to check `payment_ref`)
    group: str = ""
    destination: str = ""


@dataclass(frozen=True)
class IssuedCard:
    cardholder_id: str
    card_id: str
    last4: str


@dataclass(frozen=True)
class CardTransaction:
    """A payment (`capture`) or a refund made with a prepaid card. `amount` is positive: what left
    the card for a capture, what came back for a refund."""

    id: str
    card_id: str
    kind: str
    amount: Money
    merchant: str
    category: str
    created: datetime.datetime


@dataclass(frozen=True)
class CheckoutSession:
    """A hosted page where a person pays: where to send them, and the gateway's id for it."""

    id: str
    url: str


@dataclass(frozen=True)
class CheckoutCompleted:
    """A hosted checkout was paid."""

    session_id: str
    amount: Money
    reference: str


@dataclass(frozen=True)
class AccountUpdated:
    """A payee's account changed; `ready` says whether it can now be paid."""

    account_id: str
    ready: bool


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    payload: dict
    change: TransferSeen | TransferReversed | AccountUpdated | CardTransaction | CheckoutCompleted | None


class Gateway(Protocol):
    """The contract every payment gateway meets."""

    #: the short name in `settings.PAYMENT_GATEWAYS`, stored on each payment run
    name: str
    #: what people are told they are paid through ("Stripe")
    label: str
    #: True when the gateway writes only to Cairn's own database: a transfer may then be made
    #: inside the payment's transaction (one commit, no unanswered call to recover from).
    transactional: bool
    #: True when a payee must open an account with the gateway (`PayeeAccount`) before being paid.
    needs_account: bool
    #: True when the gateway can issue prepaid cards for direct payments (`issue_card`).
    issues_cards: bool
    #: True when people can pay the council through the gateway (`checkout`).
    takes_payments: bool

    def destination(self, *, payee: str, account: PayeeAccount | None) -> str | None:
        """Where a payee's money goes: `payee` is Cairn's reference ("provider-12"), `account`
        the payee's account with this gateway, if any. None: the payee cannot be paid yet."""
        ...

    def transfer(
        self, *, amount: Money, destination: str, key: str, group: str, metadata: dict, description: str = ""
    ) -> Transfer:
        """Send money. The same `key` always means the same transfer (never a second one)."""
        ...

    def find(self, *, group: str, payment_ref: str, destination: str = "") -> Transfer | None:
        """The transfer in `group` whose metadata names `payment_ref`, if the gateway has one
        (`destination`: where it was sent, for a gateway that keeps some kinds apart)."""
        ...

    def list_group(self, *, group: str) -> list[Transfer]:
        """Every transfer in `group` (a payment run), for reconciliation."""
        ...

    def reverse(self, *, transfer_id: str, key: str) -> Transfer:
        """Take a whole transfer back, once per `key`."""
        ...

    def take_back(self, *, transfer_id: str, amount: Money, key: str, metadata: dict) -> str:
        """Take `amount` of a transfer back (a recovered surplus), once per `key`; returns the
        gateway's reference for it. The transfer itself stays paid."""
        ...

    def issue_card(
        self, *, reference: str, name: str, email: str, address: dict, blocked_categories: list[str], limit: Money
    ) -> IssuedCard:
        """Issue a prepaid card (once per `reference`) that can spend at most `limit` in all and
        never in `blocked_categories`. A load to it is a `transfer` whose destination is the card."""
        ...

    def set_card_limit(self, *, card_id: str, limit: Money, blocked_categories: list[str]) -> None:
        """Set what the card may spend in all (an absolute figure: safe to repeat)."""
        ...

    def checkout(
        self, *, amount: Money, reference: str, description: str, success_url: str, cancel_url: str, email: str
    ) -> CheckoutSession:
        """A hosted page where a person pays `amount` to the council; its completion arrives as a
        `CheckoutCompleted` webhook naming the session."""
        ...

    def create_account(self, *, email: str, name: str, reference: str) -> str:
        """Open an account for a payee (idempotent per `reference`); returns its id."""
        ...

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        """Where the payee finishes setting the account up."""
        ...

    def account_ready(self, *, account_id: str) -> bool:
        """Whether the account can be paid now."""
        ...

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookEvent:
        """Verify a webhook's signature (else `WebhookRejected`) and say what it means."""
        ...


def gateway(name: str | None = None) -> Gateway:
    """The gateway named (a payment run's), or the one new runs use (`settings.PAYMENT_GATEWAY`)."""
    name = name or settings.PAYMENT_GATEWAY
    try:
        path = settings.PAYMENT_GATEWAYS[name]
    except KeyError as exc:
        raise GatewayRefused(f"No payment gateway called {name!r} is configured.") from exc
    return import_string(path)()

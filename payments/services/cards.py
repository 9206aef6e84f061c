"""Prepaid cards for direct payments (docs/direct-payments.md, "Prepaid cards").

Where the council issues them (`FundPolicy.prepaid_cards`, with a gateway that issues cards), a
direct payment's holder gets a card instead of payments into their own account. Each load tops up
the council's card balance (the payment's transfer, with every exactly-once guarantee) and the
card's spending limit is set to what the holder may have spent in all: what was loaded, less what
the council took back and what was spent other than by card. The limit is absolute, so setting it
again is harmless; it is set under the fund's row lock so two settings cannot cross.

Card payments come back by webhook and each becomes one spending record (unique by the card
transaction's id, whatever the order or number of deliveries); the holder then adds what it was
for and the receipt. Refunds are told to finance: the card's limit does not grow back with them.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, User
from accounts.money import format_money
from accounts.services import audit_record, notification_send
from budgets.exceptions import BudgetExceeded
from budgets.services import ledger

from ..gateways import CardTransaction, GatewayError, gateway
from ..models import FundAccount, FundKind, LoadStatus, PrepaidCard, RecoveryStatus, Spending
from ..permissions import can_run_payments, can_spend_from
from ..selectors import can_see_fund, fund_policy
from .runs import _finance_users, _queue_card_limit_sync

__all__ = ["card_limit_sync", "card_transaction_record", "fund_card_issue"]

logger = logging.getLogger(__name__)


def card_limit_for(account: FundAccount) -> Money:
    """Loaded, less recovered, less spending not made by card (card spending Stripe counts itself)."""
    loaded = account.loads.filter(status=LoadStatus.PAID).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    recovered = account.recoveries.filter(status=RecoveryStatus.COMPLETED).aggregate(total=Sum("recovered"))[
        "total"
    ] or Decimal(0)
    by_hand = account.spending.filter(card_transaction_id__isnull=True).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(0)
    return Money(max(loaded - recovered - by_hand, Decimal(0)), "GBP")


def fund_card_issue(
    *, actor: User, account: FundAccount, line1: str, city: str, postal_code: str, request=None
) -> PrepaidCard:
    """Issue the holder's prepaid card (the holder, or finance). 409 where the council issues none,
    the gateway cannot, or the fund has one; 400 for a missing address line."""
    if not (can_spend_from(actor, account) or can_run_payments(actor)):
        if can_see_fund(actor, account):
            raise ActionNotAllowed("Only the person holding the money, or finance, asks for a prepaid card.")
        raise NotVisible("No such direct payment.")
    policy = fund_policy()
    gw = gateway()
    if account.kind != FundKind.DIRECT_PAYMENT:
        raise StateConflict("Prepaid cards are for direct payments.")
    if not policy.prepaid_cards or not gw.issues_cards:
        raise StateConflict("The council does not issue prepaid cards.")
    problems: dict[str, list[str]] = {}
    address = {"line1": line1, "city": city, "postal_code": postal_code}
    messages = {
        "line1": "Enter the first line of the address",
        "city": "Enter the town or city",
        "postal_code": "Enter the postcode",
    }
    for field, value in address.items():
        value = (value or "").strip()
        address[field] = value
        if not value:
            problems[field] = [messages[field]]
        elif len(value) > 100:
            problems[field] = ["Keep it under 100 characters."]
    if problems:
        raise InvalidInput(errors=problems)
    if PrepaidCard.objects.filter(fund=account).exists():
        raise StateConflict("This direct payment already has a prepaid card.")
    holder = account.holder
    try:
        issued = gw.issue_card(
            reference=f"fund-{account.pk}",
            name=holder.full_name or holder.username,
            email=holder.email,
            address=address,
            blocked_categories=list(policy.blocked_card_categories or []),
            limit=card_limit_for(account),
        )
    except GatewayError as exc:
        raise StateConflict(f"The card could not be issued: {exc.message}") from exc
    with transaction.atomic():
        try:
            card = PrepaidCard.objects.create(
                fund=account,
                gateway=gw.name,
                cardholder_id=issued.cardholder_id,
                card_id=issued.card_id,
                last4=issued.last4,
                limit=card_limit_for(account),
                issued_by=actor,
            )
        except IntegrityError as exc:  # a double click: the first one stands (same card, same keys)
            raise StateConflict("This direct payment already has a prepaid card.") from exc
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=card,
            subject=account.budget.client,
            request=request,
            changes={"card": issued.card_id, "last4": issued.last4},
        )
        notification_send(
            recipients=[holder, account.budget.client],
            message=f"A prepaid card ending {issued.last4} has been issued for the direct payment.",
            actor=actor,
            link=reverse("direct-payment", args=[account.budget_id]),
            target=card,
        )
    transaction.on_commit(lambda: _queue_card_limit_sync(account.pk))
    return card


def card_limit_sync(*, fund_id: int) -> bool:
    """Set the card's limit to `card_limit_for` now, under the fund's row lock (the one call to the
    gateway is made holding it, so two settings never cross). False when the gateway did not
    answer (the caller tries again)."""
    with transaction.atomic():
        account = FundAccount.objects.select_for_update(of=("self",)).filter(pk=fund_id).first()
        card = PrepaidCard.objects.filter(fund_id=fund_id, active=True).first() if account else None
        if card is None:
            return True
        limit = card_limit_for(account)
        try:
            gateway(card.gateway).set_card_limit(
                card_id=card.card_id, limit=limit, blocked_categories=list(fund_policy().blocked_card_categories or [])
            )
        except GatewayError as exc:
            logger.warning("Card %s limit not set to %s: %s", card.card_id, limit, exc.message)
            return False
        PrepaidCard.objects.filter(pk=card.pk).update(limit=limit)
    return True


def card_transaction_record(change: CardTransaction, gateway_name: str) -> str:
    """One spending record per card payment, once (unique card transaction id); a refund is told
    to finance. Returns what was done, for the stored webhook event."""
    card = (
        PrepaidCard.objects.filter(gateway=gateway_name, card_id=change.card_id).select_related("fund__budget").first()
    )
    if card is None:
        return f"No fund for card {change.card_id}."
    account = card.fund
    if change.kind == "refund":
        _tell_finance(
            card,
            f"A refund of {change.amount} from {change.merchant} came back to the prepaid card ending "
            f"{card.last4}: it stays in the council's card balance; adjust the direct payment if needed.",
        )
        return f"Refund {change.id} of {change.amount}: finance told."
    if Spending.objects.filter(card_transaction_id=change.id).exists():
        return f"Card transaction {change.id} already recorded."
    try:
        with transaction.atomic():
            account = (
                FundAccount.objects.select_for_update(of=("self",)).select_related("budget__client").get(pk=account.pk)
            )
            spending = Spending.objects.create(
                account=account,
                date=timezone.localdate(change.created),
                amount=change.amount,
                payee=change.merchant,
                description=f"Card payment ({change.category.replace('_', ' ')})"
                if change.category
                else "Card payment",
                card_transaction_id=change.id,
            )
            spending.ledger_transaction = ledger.record_fund_spending(
                budget=account.budget,
                amount=spending.amount,
                key=f"card:{change.id}",
                actor=None,
                memo=f"Card payment to {change.merchant}"[:300],
            )
            spending.save(update_fields=["ledger_transaction"])
            audit_record(
                actor=None,
                actor_username="prepaid card",
                action=AuditAction.CREATE,
                target=spending,
                subject=account.budget.client,
                changes={"amount": f"{change.amount.amount:.2f}", "payee": change.merchant, "card": change.id},
            )
    except IntegrityError:  # the same transaction delivered twice at the same moment
        return f"Card transaction {change.id} already recorded."
    except BudgetExceeded:
        _tell_finance(
            card,
            f"A card payment of {change.amount} to {change.merchant} on the card ending {card.last4} is more "
            f"than the direct payment holds in the ledger: check the card's limit.",
        )
        return f"Card transaction {change.id} of {format_money(change.amount.amount)}: more than held; finance told."
    return f"Card transaction {change.id} recorded as spending {spending.pk}."


def _tell_finance(card: PrepaidCard, message: str) -> None:
    notification_send(
        recipients=_finance_users(),
        message=message,
        actor=None,
        link=reverse("direct-payment", args=[card.fund.budget_id]),
        target=card,
    )

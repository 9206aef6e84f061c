"""Recovery of a fund's surplus (docs/direct-payments.md).

Finance proposes taking back the surplus (the balance above the buffer) less what the holder still
owes; the holder is told the figure and why and has the policy's notice period to accept it or
explain (declaring what they still owe, which is never taken); then finance completes or withdraws
it. Completing takes back at most the surplus at that moment, once: one ledger transaction (fund
held → council reclaimed, keyed by the recovery) and, at the gateway, take-backs from the fund's
load transfers under fixed keys, each written down before it is asked for so that a retry asks
again with the same key and a webhook about it is known to be expected.

Every state change goes through the model's transitions under the recovery's row lock, is
permission-checked (403 for those who may see the fund, 404 for anyone else) and audited.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django_fsm import can_proceed
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, User
from accounts.money import format_money, whole_pence
from accounts.selectors import representatives_of
from accounts.services import audit_record, notification_send
from accounts.text import FREE_TEXT_MESSAGE, is_clean_free_text
from budgets.services import ledger

from ..gateways import GatewayError, gateway
from ..models import (
    OPEN_RECOVERY_STATUSES,
    FundAccount,
    FundKind,
    Payment,
    PaymentKind,
    PaymentStatus,
    PrepaidCard,
    Recovery,
    RecoveryPart,
    RecoveryStatus,
)
from ..permissions import can_run_payments, can_spend_from
from ..selectors import can_see_fund, fund_figures, fund_page_url, fund_policy
from .runs import _finance_users, _queue_card_limit_sync

__all__ = [
    "NothingToRecover",
    "recovery_accept",
    "recovery_complete",
    "recovery_explain",
    "recovery_propose",
    "recovery_take_back",
    "recovery_withdraw",
]

logger = logging.getLogger(__name__)

MAX_OWED = Decimal("1000000")


class NothingToRecover(StateConflict):
    default_message = "There is nothing to recover."


class WrongRecoveryState(StateConflict):
    default_message = "The recovery is not in a state where that can be done."


def _pounds(value, field: str, problems: dict) -> Decimal:
    """A non-negative amount in whole pence (0 when not given)."""
    if value in (None, ""):
        return Decimal(0)
    amount = whole_pence(value)
    if amount is None or amount < 0 or amount >= MAX_OWED:
        problems[field] = ["Give an amount in pounds and pence, £0 or more (like 120.00)."]
        return Decimal(0)
    return amount


def _text(value: str, field: str, problems: dict, *, limit: int, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        problems[field] = [missing]
    elif len(value) > limit:
        problems[field] = [f"Keep it under {limit:,} characters."]
    elif not is_clean_free_text(value):
        problems[field] = [FREE_TEXT_MESSAGE]
    return value


def _holders(account: FundAccount) -> list[User]:
    """Who is told about a recovery: the person holding the money and whoever acts for the client,
    or the holding provider's staff."""
    if account.kind == FundKind.INDIVIDUAL_SERVICE_FUND:
        return list(account.holder_provider.staff.filter(is_active=True))
    return [account.holder, account.budget.client, *representatives_of(account.budget.client)]


def _page(account: FundAccount) -> str:
    return fund_page_url(account)


def _edge(recovery: Recovery, edge: str, *, actor: User, request=None, message: str = "", **fields) -> None:
    if not can_proceed(getattr(recovery, edge)):
        raise WrongRecoveryState(f"This recovery is {recovery.get_status_display().lower()}, so that cannot be done.")
    before = recovery.status
    getattr(recovery, edge)()
    for name, value in fields.items():
        setattr(recovery, name, value)
    recovery.save()
    audit_record(
        actor=actor,
        action=AuditAction.TRANSITION,
        target=recovery,
        subject=recovery.account.budget.client,
        request=request,
        changes={"from": before, "to": recovery.status, "transition": edge, "amount": f"{recovery.amount.amount:.2f}"},
        message=message,
    )


def known_owed(account: FundAccount) -> Decimal:
    """What the holder was last known to owe: the latest recovery's owed plus declared amounts."""
    latest = account.recoveries.order_by("-pk").first()
    return (latest.owed.amount + latest.declared_owed.amount) if latest else Decimal(0)


def _locked(recovery: Recovery) -> Recovery:
    return (
        Recovery.objects.select_for_update(of=("self",))
        .select_related("account__budget__client", "account__holder", "account__holder_provider")
        .get(pk=recovery.pk)
    )


def _check_finance(actor: User, account: FundAccount, verb: str) -> None:
    if not can_run_payments(actor):
        if can_see_fund(actor, account):
            raise ActionNotAllowed(f"Only finance officers {verb} a recovery.")
        raise NotVisible("No such direct payment.")


def _check_holder(actor: User, account: FundAccount) -> None:
    if not can_spend_from(actor, account):
        if can_see_fund(actor, account):
            raise ActionNotAllowed("Only the person holding the money answers a recovery.")
        raise NotVisible("No such direct payment.")


def recovery_propose(
    *, actor: User, account: FundAccount, reason: str, owed: Decimal | Money | None = None, request=None
) -> Recovery:
    """Finance proposes taking back the fund's surplus less what it knows the holder owes (400 for
    bad input, 409 when that leaves nothing or a recovery is already open). `owed` not given: what
    the holder was last known to owe (the latest recovery's owed and declared amounts), so a debt
    once declared is not offered up again by leaving the field empty. The holder is told."""
    _check_finance(actor, account, "propose")
    problems: dict[str, list[str]] = {}
    reason = _text(reason, "reason", problems, limit=1000, missing="Say why the money is being taken back.")
    owed_amount = _pounds(owed, "owed", problems) if owed not in (None, "") else known_owed(account)
    if problems:
        raise InvalidInput(errors=problems)
    with transaction.atomic():
        account = (
            FundAccount.objects.select_for_update(of=("self",))
            .select_related("budget__client", "holder", "holder_provider")
            .get(pk=account.pk)
        )
        if account.recoveries.filter(status__in=OPEN_RECOVERY_STATUSES).exists():
            raise StateConflict("A recovery is already open for this account: complete or withdraw it first.")
        figures = fund_figures(account)
        amount = figures.surplus.amount - owed_amount
        if amount <= 0:
            raise NothingToRecover(
                f"The surplus is {figures.surplus}, so after {format_money(owed_amount)} owed "
                "there is nothing to recover."
            )
        recovery = Recovery.objects.create(
            account=account,
            reason=reason,
            surplus=figures.surplus,
            owed=Money(owed_amount, "GBP"),
            amount=Money(amount, "GBP"),
            respond_by=timezone.localdate() + datetime.timedelta(days=fund_policy().recovery_notice_days),
            proposed_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=recovery,
            subject=account.budget.client,
            request=request,
            changes={
                "amount": f"{amount:.2f}",
                "surplus": f"{figures.surplus.amount:.2f}",
                "owed": f"{owed_amount:.2f}",
            },
        )
        notification_send(
            recipients=_holders(account),
            message=(
                f"The council proposes to take back {recovery.amount} of unspent money: {reason} "
                f"Accept it, or tell us what you still owe, by {recovery.respond_by:%-d %B %Y}."
            )[:1000],
            actor=actor,
            link=_page(account),
            target=recovery,
        )
    return recovery


def _check_in_notice(recovery: Recovery) -> None:
    if recovery.status == RecoveryStatus.PROPOSED and timezone.localdate() > recovery.respond_by:
        raise WrongRecoveryState(
            f"The time to answer ended on {recovery.respond_by:%-d %B %Y}; finance will now complete or withdraw it."
        )


def recovery_accept(*, actor: User, recovery: Recovery, request=None) -> Recovery:
    """The holder agrees to the figure (within the notice period; else 409)."""
    _check_holder(actor, recovery.account)
    with transaction.atomic():
        recovery = _locked(recovery)
        if recovery.status == RecoveryStatus.PROPOSED:
            _check_in_notice(recovery)
        _edge(recovery, "accept", actor=actor, request=request, answered_by=actor, answered_at=timezone.now())
        notification_send(
            recipients=_finance_users(),
            message=f"{recovery.account.budget.client} accepted the recovery of {recovery.amount}.",
            actor=actor,
            link=_page(recovery.account),
            target=recovery,
        )
    return recovery


def recovery_explain(
    *, actor: User, recovery: Recovery, explanation: str, declared_owed: Decimal | Money | None = None, request=None
) -> Recovery:
    """The holder explains why the money is needed, declaring what they still owe (unpaid wages,
    bills): the amount falls by it and it is never taken."""
    _check_holder(actor, recovery.account)
    problems: dict[str, list[str]] = {}
    explanation = _text(explanation, "explanation", problems, limit=2000, missing="Say why the money is still needed.")
    declared = _pounds(declared_owed, "declared_owed", problems)
    if problems:
        raise InvalidInput(errors=problems)
    with transaction.atomic():
        recovery = _locked(recovery)
        if recovery.status == RecoveryStatus.PROPOSED:
            _check_in_notice(recovery)
        amount = max(recovery.surplus.amount - recovery.owed.amount - declared, Decimal(0))
        _edge(
            recovery,
            "explain",
            actor=actor,
            request=request,
            message=explanation,
            explanation=explanation,
            declared_owed=Money(declared, "GBP"),
            amount=Money(amount, "GBP"),
            answered_by=actor,
            answered_at=timezone.now(),
        )
        notification_send(
            recipients=_finance_users(),
            message=(
                f"{recovery.account.budget.client} explained the proposed recovery "
                f"(still owed: {format_money(declared)}); it is now {recovery.amount}."
            ),
            actor=actor,
            link=_page(recovery.account),
            target=recovery,
        )
    return recovery


def recovery_withdraw(*, actor: User, recovery: Recovery, request=None) -> Recovery:
    """Finance drops the recovery; nothing moves."""
    _check_finance(actor, recovery.account, "withdraw")
    with transaction.atomic():
        recovery = _locked(recovery)
        _edge(recovery, "withdraw", actor=actor, request=request, closed_by=actor, closed_at=timezone.now())
        notification_send(
            recipients=_holders(recovery.account),
            message=f"The council will not take back the {recovery.amount} it proposed to recover.",
            actor=actor,
            link=_page(recovery.account),
            target=recovery,
        )
    return recovery


def recovery_complete(*, actor: User, recovery: Recovery, request=None) -> Recovery:
    """Finance takes the money back: after the holder's answer, or once the notice period is over
    (409 before). What is taken is the agreed amount, or the surplus now if that is smaller (money
    spent meanwhile is not taken twice); nothing left → 409. The ledger moves once, keyed by the
    recovery; the gateway's take-backs are queued when the transaction commits."""
    _check_finance(actor, recovery.account, "complete")
    with transaction.atomic():
        recovery = _locked(recovery)
        if recovery.status == RecoveryStatus.PROPOSED and timezone.localdate() <= recovery.respond_by:
            raise WrongRecoveryState(
                f"The holder has until {recovery.respond_by:%-d %B %Y} to answer; complete it after that, "
                "or once they have answered."
            )
        if not can_proceed(recovery.complete):
            raise WrongRecoveryState(
                f"This recovery is {recovery.get_status_display().lower()}, so that cannot be done."
            )
        account = (
            FundAccount.objects.select_for_update(of=("self",)).select_related("budget").get(pk=recovery.account_id)
        )
        figures = fund_figures(account)
        take = min(recovery.amount.amount, figures.surplus.amount)
        if take <= 0:
            raise NothingToRecover(
                f"The account's surplus is now {figures.surplus}, so there is nothing left to take back: withdraw it."
            )
        money = Money(take, "GBP")
        entry = ledger.record_fund_recovery(
            budget=account.budget,
            amount=money,
            key=f"recovery:{recovery.pk}",
            actor=actor,
            memo=f"Surplus recovered from the {account.get_kind_display().lower()}",
        )
        _plan_take_backs(recovery, account, money)
        _edge(
            recovery,
            "complete",
            actor=actor,
            request=request,
            recovered=money,
            ledger_transaction=entry,
            closed_by=actor,
            closed_at=timezone.now(),
        )
        notification_send(
            recipients=_holders(account),
            message=f"{money} of unspent money has been taken back from your account.",
            actor=actor,
            link=_page(account),
            target=recovery,
        )
        recovery_id = recovery.pk
        transaction.on_commit(lambda: _queue_take_back(recovery_id))
    return recovery


def _plan_take_backs(recovery: Recovery, account: FundAccount, amount: Money) -> None:
    """Write down which load transfers the money comes back out of, newest first, never more of a
    transfer than is left of it. Loads the gateway holds no transfer for (none yet) are skipped;
    what cannot be placed is left in the ledger only, and finance is told. A fund on a prepaid card
    has nothing to take back at the gateway: the money is in the council's card balance, and the
    card's limit is lowered instead."""
    if PrepaidCard.objects.filter(fund=account, active=True).exists():
        fund_id = account.pk
        transaction.on_commit(lambda: _queue_card_limit_sync(fund_id))
        return
    payments = (
        Payment.objects.filter(
            load__account=account,
            kind__in=[PaymentKind.DIRECT_PAYMENT, PaymentKind.INDIVIDUAL_SERVICE_FUND],
            status=PaymentStatus.PAID,
        )
        .exclude(transfer_id="")
        .select_related("run")
        .order_by("-paid_at", "-pk")
    )
    left = amount.amount
    for payment in payments:
        if left <= 0:
            break
        taken = RecoveryPart.objects.filter(transfer_id=payment.transfer_id).aggregate(total=Sum("amount"))["total"]
        room = payment.amount.amount - (taken or Decimal(0))
        part = min(room, left)
        if part <= 0:
            continue
        RecoveryPart.objects.create(
            recovery=recovery,
            payment=payment,
            transfer_id=payment.transfer_id,
            amount=Money(part, "GBP"),
            idempotency_key=f"cairn-recovery-{recovery.pk}-{payment.pk}",
            gateway=payment.run.gateway,
        )
        left -= part
    if left > 0:
        notification_send(
            recipients=_finance_users(),
            message=(
                f"Recovery {recovery.pk}: {format_money(left)} could not be matched to a load the payment service "
                "holds; take it back by hand."
            ),
            actor=None,
            link=_page(account),
            target=recovery,
        )


def _queue_take_back(recovery_id: int) -> None:
    from ..tasks import recovery_take_back_task

    recovery_take_back_task.delay(recovery_id)


def recovery_take_back(*, recovery_id: int) -> int:
    """Ask the gateway for each take-back not yet done, with its fixed key (safe to repeat after a
    crash or an unanswered call). A refusal is told to finance and left for them. Returns how many
    are still to do."""
    remaining = 0
    for part in RecoveryPart.objects.filter(recovery_id=recovery_id, done_at__isnull=True).order_by("pk"):
        try:
            reference = gateway(part.gateway).take_back(
                transfer_id=part.transfer_id,
                amount=part.amount,
                key=part.idempotency_key,
                metadata={"recovery": recovery_id, "payment": part.payment_id or ""},
            )
        except GatewayError as exc:
            logger.warning("Take-back %s for recovery %s not done: %s", part.pk, recovery_id, exc.message)
            remaining += 1
            notification_send(
                recipients=_finance_users(),
                message=f"Recovery {recovery_id}: taking {part.amount} back was not done yet: {exc.message}",
                actor=None,
                link=_page(part.recovery.account),
                target=part.recovery,
            )
            continue
        RecoveryPart.objects.filter(pk=part.pk, done_at__isnull=True).update(
            reference=reference, done_at=timezone.now()
        )
    return remaining

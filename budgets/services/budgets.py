"""Writes about personal budgets other than ledger movements: when a budget period may start, and
the approver's final budget."""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from accounts.models import AuditAction, User
from accounts.money import format_money, round_penny
from accounts.services import audit_record

from ..exceptions import InvalidInput, NotAllowed
from ..models import PersonalBudget, TransactionKind
from ..permissions import can_set_final_budget
from ..selectors import budget_figures
from . import ledger


def budget_period_bounds(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The earliest and latest dates a new budget period may start on: backdated at most
    `BUDGET_BACKDATE_MAX_MONTHS` (default 3), to start the budget when the assessment began, and
    at most `BUDGET_START_AHEAD_MAX_MONTHS` (default 12) ahead."""
    today = today or timezone.localdate()
    return (
        today - relativedelta(months=settings.BUDGET_BACKDATE_MAX_MONTHS),
        today + relativedelta(months=settings.BUDGET_START_AHEAD_MAX_MONTHS),
    )


def budget_period_check(start: datetime.date, *, months: int, today: datetime.date | None = None) -> datetime.date:
    """The end of a budget period of `months` starting on `start`, or `InvalidInput` (400, on
    `period_start`) when the period would already have ended, starts further back than the
    backdating limit, or further ahead than the forward limit (which also refuses years such as
    9999, whose period end no calendar holds)."""
    today = today or timezone.localdate()
    earliest, latest = budget_period_bounds(today)
    if start < earliest or start > latest:
        problem = (
            "The budget period cannot start before " if start < earliest else "The budget period cannot start after "
        )
        raise InvalidInput(
            f"{problem}{earliest if start < earliest else latest:%-d %B %Y}: it may start from "
            f"{earliest:%-d %B %Y} to {latest:%-d %B %Y}.",
            field="period_start",
        )
    end = start + relativedelta(months=months) - datetime.timedelta(days=1)
    if end < today:
        raise InvalidInput(
            f"A budget period starting on {start:%-d %B %Y} would have ended on {end:%-d %B %Y}: "
            "choose a start date so that the period has not ended.",
            field="period_start",
        )
    return end


def budget_set_final(
    *, actor: User, budget: PersonalBudget, amount: Money, reason: str, request=None
) -> PersonalBudget:
    """Set the final budget, differing from the indicative one, with a recorded reason.

    Enforces: the approver may (`can_set_final_budget`); a reason is given; the amount is above
    zero and not below what is already committed (`BudgetExceeded`, 409). Moves the difference in
    the ledger as an adjustment, in the same transaction. Locks the budget row; the ledger key is
    derived from the request, so a double submission moves money once.
    """
    if not can_set_final_budget(actor, budget):
        raise NotAllowed("Only the client's team manager can set the final budget.")
    errors = {}
    if not reason or not reason.strip():
        errors["reason"] = ["Give the reason the final budget differs from the indicative one."]
    if amount.amount <= 0:
        errors["amount"] = ["The final budget must be more than £0."]
    elif amount.amount != round_penny(amount.amount):
        errors["amount"] = ["Give the final budget in pounds and pence."]
    if errors:
        raise InvalidInput(errors=errors)
    with transaction.atomic():
        budget = PersonalBudget.objects.select_for_update().select_related("client").get(pk=budget.pk)
        before = budget_figures(budget).allocated
        delta = amount - before
        # Numbered by the adjustments so far: changing 1,000 → 1,200 → 1,000 → 1,200 makes three
        # movements, while a double submission of one change finds nothing left to move.
        sequence = budget.transactions.filter(kind=TransactionKind.ADJUSTMENT).count() + 1
        ledger.adjust_allocation(
            budget=budget,
            delta=delta,
            key=f"budget:{budget.pk}:final:{sequence}:{before.amount:.2f}->{amount.amount:.2f}",
            actor=actor,
            memo=f"Final budget set to {format_money(amount.amount)}: {reason.strip()}"[:300],
        )
        budget.final_amount = amount
        budget.final_reason = reason.strip()
        budget.final_set_by = actor
        budget.final_set_at = timezone.now()
        budget.save(update_fields=["final_amount", "final_reason", "final_set_by", "final_set_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=budget,
            subject=budget.client,
            request=request,
            changes={"final_amount": f"{amount.amount:.2f}", "from": f"{before.amount:.2f}", "reason": reason.strip()},
        )
    return budget

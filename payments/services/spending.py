"""Spending from a direct payment or an individual service fund (docs/direct-payments.md): the
holder records what was spent, on what and when, with its receipt; the fund's balance falls.

Every refusal is a specific message and writes nothing: a date in the future, an amount that is
not a positive whole number of pence, no payee, a plan line the fund does not pay for, a receipt
that is not a PDF, PNG or JPEG by its content or is over 5 MB (400); more than the fund holds
(409). The fund's row is locked while its balance is checked and the spending written, so two
spendings racing for the last pound cannot both succeed; the ledger refuses any spending the
budget's funds do not hold as well.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, User
from accounts.money import format_money, whole_pence
from accounts.services import audit_record
from accounts.text import FREE_TEXT_MESSAGE, NAME_MESSAGE, is_clean_free_text, is_clean_name
from budgets.services import ledger
from careplans.models import PlanLine

from ..models import FundAccount, PrepaidCard, Spending
from ..permissions import can_spend_from
from ..selectors import can_see_fund, fund_figures, fund_holds, fund_loads
from .invoices import check_upload, stored_upload

__all__ = ["FundBalanceTooLow", "spending_details_add", "spending_record"]

MAX_AMOUNT = Decimal("100000")


class FundBalanceTooLow(StateConflict):
    default_message = "The direct payment does not hold that much."


def _balance(account: FundAccount) -> Decimal:
    """What the fund holds now: its paid loads less its spending and what was recovered."""
    return fund_figures(account, fund_loads(account)).balance.amount


def _purpose(
    account: FundAccount, line_id: int | None, description: str, receipt: UploadedFile | None, problems: dict
) -> tuple[PlanLine | None, str, str]:
    """What a spending was for, its note and its receipt's type, checked the same way whether it is
    recorded by hand or a card payment is completed; problems are added to `problems`."""
    description = (description or "").strip()
    if len(description) > 1000:
        problems["description"] = ["Keep the description under 1,000 characters."]
    elif not is_clean_free_text(description):
        problems["description"] = [FREE_TEXT_MESSAGE]
    line = None
    if line_id is not None:
        line = PlanLine.objects.filter(pk=line_id).select_related("plan").first()
        if line is None or line.plan.budget_id != account.budget_id or not fund_holds(account, line):
            problems["plan_line"] = ["Choose a line of the plan that this money pays for, or none."]
    return line, description, check_upload(receipt, problems, "receipt")


def spending_record(
    *,
    actor: User,
    account: FundAccount,
    date: datetime.date,
    amount: Decimal,
    payee: str,
    line_id: int | None = None,
    description: str = "",
    receipt: UploadedFile | None = None,
    request=None,
) -> Spending:
    """The holder records money spent from the fund. Others who may see the fund get 403, anyone
    else 404. Locks the fund's row; writes the spending, its ledger transaction and the audit row
    together."""
    if not can_spend_from(actor, account):
        if can_see_fund(actor, account):
            raise ActionNotAllowed("Only the person holding the money records what is spent from it.")
        raise NotVisible("No such direct payment.")
    problems: dict[str, list[str]] = {}
    if date > timezone.localdate():
        problems["date"] = ["The date cannot be in the future."]
    elif date < (began := account.budget.period_start):
        # Nothing before the budget's period was paid for from it (1 January 1900 was accepted).
        problems["date"] = [f"The date cannot be before the budget period began ({began:%-d %B %Y})."]
    pence = whole_pence(amount)
    if pence is None or pence <= 0 or pence >= MAX_AMOUNT:
        problems["amount"] = ["Give an amount in pounds and pence, more than £0 (like 14.50)."]
    payee = (payee or "").strip()
    if not payee:
        problems["payee"] = ["Say who was paid."]
    elif len(payee) > 200:
        problems["payee"] = ["Keep who was paid under 200 characters."]
    elif not is_clean_name(payee):
        # Who was paid is a name, read on one line in statements and exports.
        problems["payee"] = [NAME_MESSAGE]
    line, description, receipt_type = _purpose(account, line_id, description, receipt, problems)
    if problems:
        raise InvalidInput(errors=problems)
    if PrepaidCard.objects.filter(fund=account, active=True).exists():
        raise StateConflict(
            "This direct payment is on a prepaid card: card payments are recorded by themselves. "
            "Add what each was for and its receipt instead."
        )
    with transaction.atomic():
        account = FundAccount.objects.select_for_update().select_related("budget__client").get(pk=account.pk)
        balance = _balance(account)
        if amount > balance:
            raise FundBalanceTooLow(
                f"The {account.get_kind_display().lower()} holds {format_money(balance)}, so "
                f"{format_money(amount)} cannot be spent from it."
            )
        spending = Spending(
            account=account,
            date=date,
            amount=Money(amount, "GBP"),
            payee=payee,
            line=line,
            description=description,
            recorded_by=actor,
        )
        with stored_upload(spending.receipt, receipt, receipt_type, "receipt") as (name, kind):
            spending.receipt_name, spending.receipt_type = name, kind
            with transaction.atomic():
                spending.save()
                spending.ledger_transaction = ledger.record_fund_spending(
                    budget=account.budget,
                    amount=spending.amount,
                    key=f"spending:{spending.pk}",
                    actor=actor,
                    memo=f"Paid {payee} from the direct payment"[:300],
                )
                spending.save(update_fields=["ledger_transaction"])
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=spending,
            subject=account.budget.client,
            request=request,
            changes={"amount": f"{amount:.2f}", "payee": payee, "line": line_id, "receipt": bool(receipt)},
        )
    return spending


def spending_details_add(
    *,
    actor: User,
    spending: Spending,
    line_id: int | None = None,
    description: str = "",
    receipt: UploadedFile | None = None,
    request=None,
) -> Spending:
    """The holder says what a card payment was for and adds its receipt (the card reported the
    date, amount and payee). Only card payments are completed this way (409 otherwise); a receipt
    already kept is not replaced (409)."""
    account = spending.account
    if not can_spend_from(actor, account):
        if can_see_fund(actor, account):
            raise ActionNotAllowed("Only the person holding the money adds details to its payments.")
        raise NotVisible("No such payment.")
    if not spending.card_transaction_id:
        raise StateConflict("Only card payments get their details added later; this one was recorded with them.")
    problems: dict[str, list[str]] = {}
    line, description, receipt_type = _purpose(account, line_id, description, receipt, problems)
    if problems:
        raise InvalidInput(errors=problems)
    with transaction.atomic():
        spending = Spending.objects.select_for_update().get(pk=spending.pk)
        if receipt is not None and spending.receipt:
            raise StateConflict("This payment already has its receipt.")
        before = {"line": spending.line_id, "description": spending.description, "receipt": bool(spending.receipt)}
        spending.line = line
        if description:
            spending.description = description
        with stored_upload(spending.receipt, receipt, receipt_type, "receipt") as (name, kind):
            if receipt is not None:
                spending.receipt_name, spending.receipt_type = name, kind
            spending.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=spending,
            subject=account.budget.client,
            request=request,
            changes={
                "before": before,
                "after": {"line": line_id, "description": spending.description, "receipt": bool(spending.receipt)},
            },
        )
    return spending

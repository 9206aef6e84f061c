"""The double-entry ledger: accounts with running balances, and append-only transactions made of
postings that sum to zero. Kept apart from the budgets so the rules that make money movements safe
(immutability, constraints, the one writer, `budgets.services.ledger`) read in one place."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import AppendOnlyModel
from accounts.money import CURRENCIES, money_field

from ..exceptions import LedgerImmutable
from .budgets import PersonalBudget


class AccountKind(models.TextChoices):
    FUNDING = "funding", "Council funding"
    RECLAIMED = "reclaimed", "Reclaimed by the council"
    AVAILABLE = "available", "Available"
    COMMITTED = "committed", "Committed"
    PAID = "paid", "Paid"
    # Direct payments and individual service funds: what the budget's funds hold (loaded, not yet
    # spent or recovered), and the council's record of what it has put into funds.
    FUND_HELD = "fund_held", "Held in direct payments and funds"
    FUNDS_ISSUED = "funds_issued", "Issued to direct payments and funds"
    # What people pay towards their care: the budget is funded by the council and by the person.
    CONTRIBUTIONS = "contributions", "Paid by people towards their care"
    CONTRIBUTIONS_OWED = "contributions_owed", "Contributions billed and not yet paid"


BUDGET_ACCOUNT_KINDS = (AccountKind.AVAILABLE, AccountKind.COMMITTED, AccountKind.PAID, AccountKind.FUND_HELD)


class LedgerAccount(models.Model):
    code = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    budget = models.ForeignKey(PersonalBudget, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts")
    # Running balance, written only by `services.ledger` under a row lock.
    balance = money_field(default=Decimal("0"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "kind"], name="one_account_per_budget_kind"),
            models.CheckConstraint(
                name="account_budget_matches_kind",
                condition=(Q(kind__in=BUDGET_ACCOUNT_KINDS) & Q(budget__isnull=False))
                | (~Q(kind__in=BUDGET_ACCOUNT_KINDS) & Q(budget__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return self.code


class TransactionKind(models.TextChoices):
    ALLOCATION = "allocation", "Allocation"
    ADJUSTMENT = "adjustment", "Final budget adjustment"
    COMMITMENT = "commitment", "Commitment"
    RELEASE = "release", "Release"
    PAYMENT = "payment", "Payment"
    FUND_LOAD = "fund_load", "Load into a direct payment or fund"
    FUND_SPENDING = "fund_spending", "Spent from a direct payment or fund"
    FUND_RECOVERY = "fund_recovery", "Surplus recovered from a direct payment or fund"
    CONTRIBUTION = "contribution", "The person's contribution towards their care"
    CONTRIBUTION_BILLED = "contribution_billed", "A contribution billed to the person (or credited back)"
    CONTRIBUTION_PAID = "contribution_paid", "A contribution the person paid"
    RECLAIM = "reclaim", "Reclaim"
    REVERSAL = "reversal", "Reversal"


class _LedgerEntry(AppendOnlyModel):
    immutable_error = LedgerImmutable
    immutable_message = "Ledger entries are never changed or deleted; post a reversal instead."

    class Meta:
        abstract = True


class LedgerTransaction(_LedgerEntry):
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    budget = models.ForeignKey(PersonalBudget, on_delete=models.PROTECT, related_name="transactions")
    # What makes a retry, a double click or a re-run the same movement rather than a second one.
    idempotency_key = models.CharField(max_length=200, unique=True)
    # kind, budget, signed amount and reversed transaction: what a retry must repeat exactly.
    fingerprint = models.CharField(max_length=200)
    memo = models.CharField(max_length=300, blank=True)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["budget", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class LedgerPosting(_LedgerEntry):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount = money_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(name="posting_amount_not_zero", condition=~Q(amount=0)),
            models.CheckConstraint(name="posting_currency_known", condition=Q(amount_currency__in=CURRENCIES)),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount}"

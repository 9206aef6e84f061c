"""Money going out: invoices, payment runs and payments, the accounts payees hold with payment
gateways, the embedded gateway's transfers and the webhook events gateways send.

Design (docs/payments.md):
- `Invoice`: a provider's bill for support delivered under one plan line, for a period and a
  number of units; the amount is units × the line's agreed unit price, never typed. Its FSM:
  submitted → confirmed | disputed → cancelled; confirmed → paid → (reversed) confirmed.
- `PaymentRun` / `Payment`: finance pays every confirmed unpaid invoice. One live payment per
  invoice (a partial unique constraint: a reversed payment frees its invoice to be paid again),
  each with an idempotency key fixed when the payment is created and reused on every attempt, so
  a retry, a crash or a second run can never pay twice.
- `PayeeAccount`: who a gateway pays — a provider organisation today, a person (a direct-payment
  holder) tomorrow — and whether that account is ready to receive money. No other app stores a
  gateway's account ids.
- `InvoicePolicy` (one row): when silence confirms an invoice.
- `LedgerGatewayTransfer`: what the embedded `ledger` gateway "sent", keyed like a real transfer.
- `StripeEvent`: each webhook event, stored once by its id.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from accounts.money import money_field


class InvoiceStatus(models.TextChoices):
    SUBMITTED = "submitted", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    DISPUTED = "disputed", "Disputed"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


def _invoice_file_path(invoice: Invoice, filename: str) -> str:
    # Never the uploader's name on disk: it is kept separately for the download's filename.
    return f"invoices/{invoice.plan_id}/{uuid.uuid4().hex}"


class Invoice(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """Confirmed by the client or their social worker (or automatically after the policy's days
    unless disputed), then paid by a payment run. A payment the gateway reverses puts the
    invoice back to confirmed, to be paid again."""

    line = models.ForeignKey("careplans.PlanLine", on_delete=models.PROTECT, related_name="invoices")
    plan = models.ForeignKey("careplans.CarePlan", on_delete=models.PROTECT, related_name="invoices")
    provider = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateField()
    period_end = models.DateField()
    units = models.DecimalField(max_digits=8, decimal_places=2)
    unit_price = money_field()
    amount = money_field()
    status = FSMField(default=InvoiceStatus.SUBMITTED, choices=InvoiceStatus.choices, protected=True, db_index=True)
    reference = models.CharField(max_length=60, blank=True, help_text="The provider's own invoice number.")
    supporting_file = models.FileField(upload_to=_invoice_file_path, blank=True)
    supporting_file_name = models.CharField(max_length=200, blank=True)
    supporting_file_type = models.CharField(max_length=40, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    confirmed_automatically = models.BooleanField(default=False)
    dispute_reason = models.TextField(blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="invoice_period_in_order", condition=Q(period_end__gte=models.F("period_start"))
            ),
            models.CheckConstraint(name="invoice_units_positive", condition=Q(units__gt=0)),
            models.CheckConstraint(name="invoice_amount_positive", condition=Q(amount__gt=0)),
            # The same line and period billed twice is a duplicate, unless the first was cancelled.
            models.UniqueConstraint(
                fields=["line", "period_start", "period_end"],
                condition=~Q(status=InvoiceStatus.CANCELLED),
                name="invoice_not_duplicated",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "status"], name="payments_invoice_provider"),
            models.Index(fields=["status", "submitted_at"], name="payments_invoice_status"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.pk} ({self.amount})"

    @transition(field=status, source=[InvoiceStatus.SUBMITTED, InvoiceStatus.DISPUTED], target=InvoiceStatus.CONFIRMED)
    def confirm(self):
        pass

    @transition(field=status, source=InvoiceStatus.SUBMITTED, target=InvoiceStatus.DISPUTED)
    def dispute(self):
        pass

    @transition(field=status, source=InvoiceStatus.DISPUTED, target=InvoiceStatus.CANCELLED)
    def cancel(self):
        pass

    @transition(field=status, source=InvoiceStatus.CONFIRMED, target=InvoiceStatus.PAID)
    def mark_paid(self):
        pass

    @transition(field=status, source=InvoiceStatus.PAID, target=InvoiceStatus.CONFIRMED)
    def payment_reversed(self):
        """The gateway reversed the transfer: the invoice is owed again."""


class InvoicePolicy(models.Model):
    auto_confirm_days = models.PositiveSmallIntegerField(
        default=14, help_text="Days after which an invoice nobody confirmed or disputed is confirmed automatically."
    )

    class Meta:
        verbose_name_plural = "invoice policy"

    def __str__(self) -> str:
        return "Invoice policy"


class PaymentRun(models.Model):
    # Blank for a run the daily load job started.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    gateway = models.CharField(max_length=20)
    payment_count = models.PositiveIntegerField(default=0)
    total = money_field(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Payment run {self.pk}"

    @property
    def transfer_group(self) -> str:
        return f"cairn-run-{self.pk}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Waiting to send"
    SENDING = "sending", "Sending"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    REVERSED = "reversed", "Reversed"


class PaymentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    DIRECT_PAYMENT = "direct_payment", "Direct payment"
    INDIVIDUAL_SERVICE_FUND = "individual_service_fund", "Individual service fund"


class Payment(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """One payment of a run: a confirmed invoice to its provider, or a fund's load to its holder
    (the person for a direct payment, the provider for an individual service fund)."""

    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=30, choices=PaymentKind.choices, default=PaymentKind.INVOICE)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    load = models.ForeignKey("Load", on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    # Who is paid: a provider organisation, or a person holding a direct payment.
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="payments_received"
    )
    budget = models.ForeignKey("budgets.PersonalBudget", on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    status = FSMField(default=PaymentStatus.PENDING, choices=PaymentStatus.choices, protected=True, db_index=True)
    # Fixed at creation and sent with every attempt: the gateway's own guard against paying twice.
    idempotency_key = models.CharField(max_length=100, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    transfer_id = models.CharField(max_length=60, blank=True, db_index=True)
    ledger_transaction = models.OneToOneField(
        "budgets.LedgerTransaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    # The batch sending this payment's transfer (outside gateways, PostgreSQL): the key of a
    # session-level advisory lock its worker holds while it sends. A held lock means a live worker is
    # on it; a free one means that worker died, and `payments_resume_stalled` takes the payment over.
    claim = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"], condition=~Q(status="reversed"), name="one_live_payment_per_invoice"
            ),
            models.UniqueConstraint(fields=["load"], condition=~Q(status="reversed"), name="one_live_payment_per_load"),
            models.CheckConstraint(name="payment_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="payment_pays_one_thing",
                condition=(
                    Q(kind="invoice", invoice__isnull=False, load__isnull=True, provider__isnull=False)
                    | (
                        ~Q(kind="invoice")
                        & Q(invoice__isnull=True, load__isnull=False)
                        & (Q(provider__isnull=False) | Q(person__isnull=False))
                    )
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["run", "status"], name="payments_payment_run"),
            models.Index(fields=["provider", "status"], name="payments_payment_provider"),
            # Spend statistics work a month out again from the payments paid in it (payments/stats.py).
            models.Index(fields=["paid_at"], name="payments_payment_paid_at"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} ({self.amount})"

    @property
    def reference(self) -> str:
        """What the gateway's transfer carries in its metadata to find this payment again."""
        return str(self.pk)

    @property
    def payee_reference(self) -> str:
        """Who is paid, in the form gateways without accounts of their own record it."""
        return f"provider-{self.provider_id}" if self.provider_id else f"person-{self.person_id}"

    @property
    def payee_name(self) -> str:
        return self.provider.name if self.provider_id else self.person.full_name

    @property
    def what(self) -> str:
        """What the payment is for, in a sentence's words."""
        return f"invoice {self.invoice_id}" if self.invoice_id else f"load {self.load_id}"

    @transition(
        field=status,
        source=[PaymentStatus.PENDING, PaymentStatus.SENDING, PaymentStatus.FAILED],
        target=PaymentStatus.SENDING,
    )
    def start_sending(self):
        pass

    @transition(
        field=status,
        source=[PaymentStatus.PENDING, PaymentStatus.SENDING, PaymentStatus.FAILED],
        target=PaymentStatus.PAID,
    )
    def succeed(self):
        pass

    @transition(field=status, source=[PaymentStatus.PENDING, PaymentStatus.SENDING], target=PaymentStatus.FAILED)
    def fail(self):
        pass

    @transition(field=status, source=PaymentStatus.PAID, target=PaymentStatus.REVERSED)
    def reverse(self):
        pass


class PayeeAccount(models.Model):
    """A payee's account with one gateway: the id the gateway pays into, and whether the payee has
    finished the gateway's onboarding (only a ready account is paid). Exactly one payee: a
    provider organisation or a person."""

    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.PROTECT, null=True, blank=True, related_name="payee_accounts"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="payee_accounts"
    )
    gateway = models.CharField(max_length=20)
    account_id = models.CharField(max_length=60, db_index=True)
    ready = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="payee_account_one_payee",
                condition=(Q(provider__isnull=False) & Q(person__isnull=True))
                | (Q(provider__isnull=True) & Q(person__isnull=False)),
            ),
            models.UniqueConstraint(
                fields=["provider", "gateway"], condition=Q(provider__isnull=False), name="payee_account_provider_once"
            ),
            models.UniqueConstraint(
                fields=["person", "gateway"], condition=Q(person__isnull=False), name="payee_account_person_once"
            ),
            models.UniqueConstraint(fields=["gateway", "account_id"], name="payee_account_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} account {self.account_id}"


class LedgerGatewayTransfer(models.Model):
    """What the embedded `ledger` payment gateway "sent": it calls nobody, but records each
    transfer under its idempotency key exactly as an outside gateway would, so payments,
    retries and reconciliation work the same whichever gateway is configured."""

    transfer_id = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    group = models.CharField(max_length=100, db_index=True)
    destination = models.CharField(max_length=60, blank=True)
    amount = money_field()
    metadata = models.JSONField(default=dict, blank=True)
    reversed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.transfer_id} {self.amount}"


class StripeEvent(models.Model):
    """Each Stripe webhook event, stored once by its id (duplicates are acknowledged and ignored)."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


def default_blocked_card_categories() -> list[str]:
    """Gambling, lotteries and money transfers: what a care budget is never for."""
    return ["betting_casino_gambling", "government_owned_lotteries_non_us_region", "wires_money_orders"]


class FundPolicy(models.Model):
    """How direct payments and individual service funds run (one row; docs/direct-payments.md)."""

    load_period_days = models.PositiveSmallIntegerField(
        default=28, help_text="Days each load pays for, in advance, due on the period's first day."
    )
    buffer_weeks = models.PositiveSmallIntegerField(
        default=8, help_text="Weeks of the fund's cost it may hold before the excess counts as surplus."
    )
    receipt_required_above = money_field(
        default=Decimal("50"), help_text="Spending above this amount needs a receipt (else it is flagged)."
    )
    recovery_notice_days = models.PositiveSmallIntegerField(
        default=14, help_text="Days the holder has to accept or explain a proposed recovery."
    )
    prepaid_cards = models.BooleanField(
        default=False,
        help_text="Offer direct payment holders a prepaid card (with a gateway that issues cards, e.g. Stripe "
        "Issuing) instead of payments into their own account.",
    )
    blocked_card_categories = models.JSONField(
        default=default_blocked_card_categories,
        blank=True,
        help_text="Merchant categories a prepaid card refuses (the gateway's names, e.g. betting_casino_gambling).",
    )

    class Meta:
        verbose_name_plural = "fund policy"

    def __str__(self) -> str:
        return "Direct payment and individual service fund policy"


class FundKind(models.TextChoices):
    DIRECT_PAYMENT = "direct_payment", "Direct payment"
    INDIVIDUAL_SERVICE_FUND = "individual_service_fund", "Individual service fund"


class FundAccount(models.Model):
    """The money a person (direct payment) or a provider (individual service fund) holds for one
    budget. Its loads follow a grid of periods from `anchor`; its figures come from its loads,
    spending and recoveries and their ledger postings."""

    budget = models.ForeignKey("budgets.PersonalBudget", on_delete=models.PROTECT, related_name="funds")
    kind = models.CharField(max_length=30, choices=FundKind.choices)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="funds_held"
    )
    holder_provider = models.ForeignKey(
        "providers.Provider", on_delete=models.PROTECT, null=True, blank=True, related_name="funds_held"
    )
    anchor = models.DateField(help_text="The first day of the first load period; periods follow on from it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="fund_holder_matches_kind",
                condition=(Q(kind="direct_payment") & Q(holder__isnull=False) & Q(holder_provider__isnull=True))
                | (Q(kind="individual_service_fund") & Q(holder__isnull=True) & Q(holder_provider__isnull=False)),
            ),
            models.UniqueConstraint(
                fields=["budget"], condition=Q(kind="direct_payment"), name="one_direct_payment_per_budget"
            ),
            models.UniqueConstraint(
                fields=["budget", "holder_provider"],
                condition=Q(kind="individual_service_fund"),
                name="one_fund_per_budget_and_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for budget {self.budget_id}"


class LoadStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class Load(models.Model):
    """One period's money for a fund, paid in advance. Scheduled loads are replaced (cancelled, then
    scheduled again) when a new plan version is approved; a paid load never changes."""

    account = models.ForeignKey(FundAccount, on_delete=models.PROTECT, related_name="loads")
    plan = models.ForeignKey("careplans.CarePlan", on_delete=models.PROTECT, related_name="loads")
    period_start = models.DateField()
    period_end = models.DateField()
    due = models.DateField(db_index=True)
    amount = money_field(help_text="What is paid: the period's cost less the contribution, never below zero.")
    contribution = money_field(default=Decimal("0"))
    status = models.CharField(max_length=12, choices=LoadStatus.choices, default=LoadStatus.SCHEDULED)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["period_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period_start"], condition=~Q(status="cancelled"), name="one_live_load_per_period"
            ),
            models.CheckConstraint(name="load_amount_not_negative", condition=Q(amount__gte=0)),
            models.CheckConstraint(name="load_period_in_order", condition=Q(period_end__gte=models.F("period_start"))),
        ]
        indexes = [models.Index(fields=["status", "due"], name="payments_load_due")]

    def __str__(self) -> str:
        return f"Load {self.pk} ({self.amount}) for {self.period_start}"


def _receipt_path(spending: Spending, filename: str) -> str:
    # Never the uploader's name on disk: it is kept separately for the download's filename.
    return f"receipts/{spending.account_id}/{uuid.uuid4().hex}"


class Spending(models.Model):
    """Money spent from a fund by its holder: on what, to whom, when, for which plan line (if any),
    with its receipt. Recorded once; corrections are recorded as new entries."""

    account = models.ForeignKey(FundAccount, on_delete=models.PROTECT, related_name="spending")
    date = models.DateField()
    amount = money_field()
    payee = models.CharField(max_length=200)
    line = models.ForeignKey(
        "careplans.PlanLine", on_delete=models.PROTECT, null=True, blank=True, related_name="spending"
    )
    description = models.CharField(max_length=1000, blank=True)
    receipt = models.FileField(upload_to=_receipt_path, blank=True)
    receipt_name = models.CharField(max_length=200, blank=True)
    receipt_type = models.CharField(max_length=40, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who recorded it; empty for a card payment the gateway reported.",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    card_transaction_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True, help_text="The prepaid card transaction it came from."
    )
    ledger_transaction = models.OneToOneField(
        "budgets.LedgerTransaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [models.CheckConstraint(name="spending_amount_positive", condition=Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"{self.amount} to {self.payee} on {self.date}"


class RecoveryStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    EXPLAINED = "explained", "Explained"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_RECOVERY_STATUSES = (RecoveryStatus.PROPOSED, RecoveryStatus.ACCEPTED, RecoveryStatus.EXPLAINED)


class Recovery(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """Surplus the council proposes to take back from a fund (docs/direct-payments.md). The holder
    is told the figure and why, and may accept it or explain (declaring what they still owe, which
    is never taken); after that, or once the notice period is over, finance completes or withdraws
    it. Completing moves the money once: in the ledger and at the gateway."""

    account = models.ForeignKey(FundAccount, on_delete=models.PROTECT, related_name="recoveries")
    status = FSMField(default=RecoveryStatus.PROPOSED, choices=RecoveryStatus.choices, protected=True, db_index=True)
    reason = models.CharField(max_length=1000)
    surplus = money_field(help_text="The fund's surplus when the recovery was proposed.")
    owed = money_field(default=Decimal("0"), help_text="What finance knows the holder still owes.")
    declared_owed = money_field(default=Decimal("0"), help_text="What the holder says they still owe.")
    amount = money_field(help_text="What is to be taken back: the surplus less what is owed.")
    explanation = models.CharField(max_length=2000, blank=True)
    respond_by = models.DateField(help_text="The last day of the notice period.")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    recovered = money_field(null=True, blank=True, help_text="What completing took back.")
    ledger_transaction = models.OneToOneField(
        "budgets.LedgerTransaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name_plural = "recoveries"
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=["proposed", "accepted", "explained"]),
                name="one_open_recovery_per_fund",
            ),
            models.CheckConstraint(name="recovery_amount_not_negative", condition=Q(amount__gte=0)),
        ]

    def __str__(self) -> str:
        return f"Recovery {self.pk} of {self.amount} ({self.status})"

    @transition(field=status, source=RecoveryStatus.PROPOSED, target=RecoveryStatus.ACCEPTED)
    def accept(self):
        pass

    @transition(field=status, source=RecoveryStatus.PROPOSED, target=RecoveryStatus.EXPLAINED)
    def explain(self):
        pass

    @transition(field=status, source=list(OPEN_RECOVERY_STATUSES), target=RecoveryStatus.COMPLETED)
    def complete(self):
        pass

    @transition(field=status, source=list(OPEN_RECOVERY_STATUSES), target=RecoveryStatus.WITHDRAWN)
    def withdraw(self):
        pass


class RecoveryPart(models.Model):
    """One take-back at the gateway for a completed recovery: part of a load's transfer reversed
    (or the card's limit lowered). Written before the gateway is asked, under a fixed key, so a
    retry asks again with the same key and a webhook about it is recognised as expected."""

    recovery = models.ForeignKey(Recovery, on_delete=models.PROTECT, related_name="parts")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    gateway = models.CharField(max_length=20)
    transfer_id = models.CharField(max_length=100, db_index=True)
    amount = money_field()
    idempotency_key = models.CharField(max_length=100, unique=True)
    reference = models.CharField(max_length=100, blank=True, help_text="The gateway's id for the take-back.")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.amount} back from {self.transfer_id}"


class PrepaidCard(models.Model):
    """A prepaid card a direct payment is paid onto (a gateway that issues cards: Stripe Issuing).
    Loads top up the council's card balance and raise the card's spending limit; card payments come
    back by webhook as the fund's spending. One card per fund."""

    fund = models.OneToOneField(FundAccount, on_delete=models.PROTECT, related_name="card")
    gateway = models.CharField(max_length=20)
    cardholder_id = models.CharField(max_length=100)
    card_id = models.CharField(max_length=100, unique=True)
    last4 = models.CharField(max_length=4, blank=True)
    active = models.BooleanField(default=True)
    limit = money_field(default=Decimal("0"), help_text="The card's all-time spending limit, last set.")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Card ending {self.last4}"


class ChargeKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    CORRECTION = "correction", "Correction"


class ContributionCharge(models.Model):
    """What a person pays towards their care for one period (docs/charging.md): the period's
    contribution (`amount`), the part taken from their loads (`netted`) and the rest billed to them
    (`billed`). Raised once a period has ended; a later change (a new assessment, a new plan) adds a
    correction with the differences, never an edit."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contribution_charges")
    budget = models.ForeignKey("budgets.PersonalBudget", on_delete=models.PROTECT, related_name="contribution_charges")
    period_start = models.DateField()
    period_end = models.DateField()
    kind = models.CharField(max_length=12, choices=ChargeKind.choices, default=ChargeKind.CHARGE)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    amount = money_field(help_text="The period's contribution (for a correction: the change).")
    netted = money_field(default=Decimal("0"), help_text="Taken from the direct payment or fund loads.")
    billed = money_field(default=Decimal("0"), help_text="Billed to the person: amount − netted.")
    assessment = models.ForeignKey(
        "budgets.FinancialAssessment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    explanation = models.CharField(max_length=500, blank=True)
    ledger_transaction = models.OneToOneField(
        "budgets.LedgerTransaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "period_start"], condition=Q(kind="charge"), name="one_charge_per_budget_period"
            ),
            models.CheckConstraint(
                name="charge_billed_is_amount_less_netted",
                condition=Q(billed=models.F("amount") - models.F("netted")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} for {self.period_start}"


class ContributionPaymentMethod(models.TextChoices):
    ONLINE = "online", "Paid online"
    RECORDED = "recorded", "Recorded by finance"


class ContributionPayment(models.Model):
    """Money a person paid towards their care: online (a checkout session, once) or recorded by
    finance (a cheque, a standing order)."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contribution_payments")
    amount = money_field()
    date = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=12, choices=ContributionPaymentMethod.choices)
    checkout_session_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ledger_transaction = models.OneToOneField(
        "budgets.LedgerTransaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [models.CheckConstraint(name="contribution_payment_positive", condition=Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"{self.amount} from {self.client_id} on {self.date}"


class ContributionCheckout(models.Model):
    """A hosted payment page opened for a person's arrears; the gateway's completion webhook turns it
    into one `ContributionPayment`."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    gateway = models.CharField(max_length=20)
    session_id = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=1000)
    amount = money_field()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Checkout {self.session_id} for {self.amount}"


class SpendMonth(models.Model):
    """Money paid to providers in one month for one service category (blank for fund loads): the
    small table the open spend statistics read (payments/stats.py), worked out from the payments
    paid that month. Unsuppressed: suppression is applied when publishing."""

    month = models.CharField(max_length=7)
    category = models.CharField(max_length=50, null=True, blank=True)
    payments = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["month"], name="payments_spendmonth_month")]

    def __str__(self) -> str:
        return f"{self.month} {self.category}: {self.payments} payments, {self.amount}"


class SpendChange(models.Model):
    """A month whose spend may have changed since the statistics were last brought up to date: the
    `paid_at` of a payment that was paid, reversed or moved, or of one whose service category
    changed. Written by database triggers (migration 0011), in the same transaction as the change,
    so bulk updates of payments count too; consumed by payments.stats.refresh."""

    paid_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"spend changed at {self.paid_at}"

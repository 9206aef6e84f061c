"""The approval workflow's own records: who may approve how much, the review clock, statutory
reviews and notifications.

Design:
- The plan's state lives on `careplans.CarePlan.status` (django-fsm-2) and each transition is
  logged by django-fsm-log (who, when, comment): that log *is* the plan's history and the source
  of the open approval-time statistics. This app adds what the log cannot hold.
- `ApprovalAuthority`: each reviewing role's delegated authority (the largest annual plan cost it
  may approve alone; blank = no limit), editable in the admin. A reviewer whose authority is
  below a plan's cost refers it to a senior instead of approving.
- `WorkflowPolicy` (one row): the review deadline in working days and the statutory review
  schedule.
- `PlanReview`: one per submission — the review clock (due date in working days), who reviews,
  the decision with its checklist, and whether it was escalated for being overdue (set once, so
  the escalation job is idempotent). At most one open review per plan (partial unique constraint).
- `StatutoryReview`: the dates a social worker must review an approved plan with the person.
- `Notification`: in-app messages; the email copy is sent after the transaction commits.
- `PaymentRun` / `Payment`: finance pays every confirmed unpaid invoice. One payment per invoice
  (a partial unique constraint: a reversed payment frees its invoice to be paid again), each with
  an idempotency key fixed when the payment is created and reused on every attempt, so a retry,
  a crash or a second run can never pay twice. `StripeEvent` stores each webhook event once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from accounts.models import Role
from accounts.money import money_field


class ApprovalAuthority(models.Model):
    role = models.CharField(
        max_length=20,
        choices=[(Role.SOCIAL_WORKER, "Social worker"), (Role.TEAM_MANAGER, "Team manager")],
        unique=True,
    )
    annual_limit = money_field(
        null=True, blank=True, help_text="The largest annual plan cost this role may approve alone. Blank: no limit."
    )

    class Meta:
        verbose_name_plural = "approval authorities"

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.annual_limit or 'no limit'}"


class WorkflowPolicy(models.Model):
    review_working_days = models.PositiveSmallIntegerField(
        default=10, help_text="Working days (England and Wales) from submission to the review deadline."
    )
    first_review_weeks = models.PositiveSmallIntegerField(
        default=8, help_text="Weeks after approval of the first statutory review."
    )
    review_interval_months = models.PositiveSmallIntegerField(
        default=12, help_text="Months between statutory reviews after approval."
    )
    invoice_auto_confirm_days = models.PositiveSmallIntegerField(
        default=14, help_text="Days after which an invoice nobody confirmed or disputed is confirmed automatically."
    )

    class Meta:
        verbose_name_plural = "workflow policy"

    def __str__(self) -> str:
        return "Workflow policy"


class ReviewOutcome(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PlanReview(models.Model):
    plan = models.ForeignKey("careplans.CarePlan", on_delete=models.PROTECT, related_name="reviews")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    due = models.DateField(db_index=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    referred_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices, blank=True)
    checklist = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=Q(decided_at__isnull=True), name="one_open_review_per_plan"
            ),
            models.CheckConstraint(
                name="review_decided_has_outcome",
                condition=Q(decided_at__isnull=True, outcome="") | (Q(decided_at__isnull=False) & ~Q(outcome="")),
            ),
        ]
        indexes = [models.Index(fields=["decided_at", "due"])]

    def __str__(self) -> str:
        return f"Review of plan {self.plan_id} due {self.due}"


class StatutoryReviewKind(models.TextChoices):
    FIRST = "first", "First review"
    ANNUAL = "annual", "Annual review"


class StatutoryReview(models.Model):
    plan = models.ForeignKey("careplans.CarePlan", on_delete=models.PROTECT, related_name="statutory_reviews")
    kind = models.CharField(max_length=10, choices=StatutoryReviewKind.choices)
    due = models.DateField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "kind", "due"], name="statutory_review_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of plan {self.plan_id} due {self.due}"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    plan = models.ForeignKey("careplans.CarePlan", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=500)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.message[:60]


class PaymentRun(models.Model):
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
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


class Payment(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey("careplans.Invoice", on_delete=models.PROTECT, related_name="payments")
    provider = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="payments")
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

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"], condition=~Q(status="reversed"), name="one_live_payment_per_invoice"
            ),
            models.CheckConstraint(name="payment_amount_positive", condition=Q(amount__gt=0)),
        ]
        indexes = [models.Index(fields=["run", "status"]), models.Index(fields=["provider", "status"])]

    def __str__(self) -> str:
        return f"Payment {self.pk} ({self.amount})"

    @property
    def reference(self) -> str:
        """What the gateway's transfer carries in its metadata to find this payment again."""
        return str(self.pk)

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

"""The approval workflow's own records: who may approve how much, the review clock, statutory
reviews.

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
- `StatutoryReview`: the dates a social worker must review an approved plan with the person, and
  the reviews of a direct payment (its first 6 months after the first load, then yearly), each
  recorded with its outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

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
    dp_first_review_months = models.PositiveSmallIntegerField(
        default=6, help_text="Months after a direct payment's first load of its first review."
    )
    dp_review_interval_months = models.PositiveSmallIntegerField(
        default=12, help_text="Months between direct payment reviews after that."
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
    # A direct payment is reviewed too: 6 months after its first load, then every 12 months.
    DP_FIRST = "dp_first", "First direct payment review"
    DP_ANNUAL = "dp_annual", "Direct payment review"


DP_REVIEW_KINDS = (StatutoryReviewKind.DP_FIRST, StatutoryReviewKind.DP_ANNUAL)


class StatutoryReview(models.Model):
    plan = models.ForeignKey("careplans.CarePlan", on_delete=models.PROTECT, related_name="statutory_reviews")
    kind = models.CharField(max_length=10, choices=StatutoryReviewKind.choices)
    due = models.DateField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="What was found and decided.")

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "kind", "due"], name="statutory_review_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of plan {self.plan_id} due {self.due}"

    @property
    def is_direct_payment(self) -> bool:
        return self.kind in DP_REVIEW_KINDS


class ApprovalStageTime(models.Model):
    """How long one plan spent in one approval stage (or, for `assessment_to_approved_plan`, one
    budget from its completed assessment to its first approved plan): the stored input of the open
    approval-time statistics (approvals/stats.py), one row per duration, in whole microseconds so
    the published figures are exactly those worked out from the plan history itself. Kept in step
    with the history by `ApprovalStatsChange` marks; rebuilt by `manage.py approval_stats_rebuild`."""

    plan_id = models.PositiveIntegerField()
    # Set for `assessment_to_approved_plan` only: that figure is one per budget.
    budget_id = models.PositiveIntegerField(null=True, blank=True)
    stage = models.CharField(max_length=40)
    # The local calendar month the stage ended in, "YYYY-MM".
    month = models.CharField(max_length=7)
    ended_at = models.DateTimeField()
    duration_us = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["stage", "month", "duration_us"], name="approvals_stagetime_group"),
            models.Index(fields=["plan_id"], name="approvals_stagetime_plan"),
            models.Index(fields=["budget_id"], name="approvals_stagetime_budget"),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.month}: {self.duration_us} µs (plan {self.plan_id})"


class ApprovalTimeMonth(models.Model):
    """The published figures of one stage in one month, as `approvals.stats` worked them out from
    `ApprovalStageTime`: the small table the statistics endpoint and page read."""

    stage = models.CharField(max_length=40)
    month = models.CharField(max_length=7)
    count = models.PositiveIntegerField()
    median_days = models.FloatField()
    p90_days = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stage", "month"], name="approvals_timemonth_unique")]

    def __str__(self) -> str:
        return f"{self.stage} {self.month}: {self.count}"


class ApprovalStatsChange(models.Model):
    """A plan whose history changed, or an assessment whose completion changed, since the approval
    statistics were last brought up to date. Written by database triggers (migration 0007) on
    django-fsm-log's table and on assessments, so every write counts — a transition, a bulk
    update, a correction by hand — and in the same database transaction as the change itself.
    Reading the statistics consumes them (approvals.stats.refresh)."""

    plan_id = models.PositiveIntegerField(null=True, blank=True)
    assessment_id = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"plan {self.plan_id}" if self.plan_id is not None else f"assessment {self.assessment_id}"

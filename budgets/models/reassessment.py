"""Reassessment runs: every client's latest financial assessment worked out again, with the same
declared figures, under a new charging policy, as a background task with progress. The run only
reports who would pay more, less or the same; nothing changes until finance or an administrator
confirms it, which records a new assessment for each person whose contribution changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.money import money_field

from .charging import ChargingPolicy, FinancialAssessment


class ReassessmentStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Finished: waiting to be confirmed"
    FAILED = "failed", "Failed"
    CONFIRMED = "confirmed", "Confirmed: new assessments recorded"


class ReassessmentOutcome(models.TextChoices):
    MORE = "more", "Pays more"
    LESS = "less", "Pays less"
    SAME = "same", "No change"


class ReassessmentRun(models.Model):
    """Working out everyone's contribution again under `policy`. `summary` holds the counts
    (assessed, already, more, less, same, full_cost_now, total_weekly_change and, once confirmed,
    recorded and skipped); `rules` the policy's figures the run used, so a confirmation can refuse
    when they have been edited since."""

    policy = models.ForeignKey(ChargingPolicy, on_delete=models.CASCADE, related_name="reassessment_runs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=ReassessmentStatus.choices, default=ReassessmentStatus.QUEUED, db_index=True
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    rules = models.JSONField(default=dict, blank=True, help_text="The policy's figures when the run started.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Reassessment {self.pk} under {self.policy}"

    @property
    def finished(self) -> bool:
        return self.status in {ReassessmentStatus.DONE, ReassessmentStatus.FAILED, ReassessmentStatus.CONFIRMED}

    @property
    def percent_done(self) -> int:
        if self.status in {ReassessmentStatus.DONE, ReassessmentStatus.CONFIRMED}:
            return 100
        return min(100, int(self.done * 100 / self.total)) if self.total else 0


class ReassessmentRow(models.Model):
    """One person in a run: what they pay now (their latest assessment, as they were told it) and
    what they would pay under the run's policy. Empty weekly figures mean the full cost.
    `new_assessment` is set when the confirmation recorded one; `skipped_reason` says why not."""

    run = models.ForeignKey(ReassessmentRun, on_delete=models.CASCADE, related_name="rows")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(FinancialAssessment, on_delete=models.PROTECT, related_name="+")
    old_weekly = money_field(null=True, blank=True)
    old_full_cost = models.BooleanField(default=False)
    new_weekly = money_field(null=True, blank=True)
    new_full_cost = models.BooleanField(default=False)
    change = money_field(null=True, blank=True, help_text="New less old, when both are weekly figures.")
    outcome = models.CharField(max_length=10, choices=ReassessmentOutcome.choices)
    new_assessment = models.ForeignKey(
        FinancialAssessment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    skipped_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "client"], name="one_reassessment_row_per_client")]
        indexes = [models.Index(fields=["run", "outcome"], name="budgets_reassess_run_outcome")]

    def __str__(self) -> str:
        return f"Reassessment {self.run_id}: client {self.client_id} ({self.outcome})"

"""An assessment: the answers, the eligibility conditions and the decision and pricing stored on it,
so what the client was told never changes even if the pricing code does."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from accounts.money import money_field

from .schemes import RasScheme


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPLETED = "completed", "Completed"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"


class Assessment(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments")
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scheme = models.ForeignKey(RasScheme, on_delete=models.PROTECT, related_name="assessments")
    status = FSMField(default=AssessmentStatus.DRAFT, choices=AssessmentStatus.choices, protected=True)
    answers = models.JSONField(default=dict, blank=True, help_text="{question code: answer code}")
    modifiers = models.JSONField(default=list, blank=True, help_text="Codes of the modifiers that apply.")
    impairment = models.BooleanField(null=True, blank=True)
    wellbeing_impact = models.BooleanField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # The decision and the pricing, as computed when last saved, and frozen when completed.
    eligible = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)
    points = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    breakdown = models.JSONField(default=dict, blank=True)
    indicative_budget = money_field(default=Decimal("0"))
    scheme_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "status", "completed_at"])]

    def __str__(self) -> str:
        return f"Assessment {self.pk} of {self.client} ({self.get_status_display()})"

    @transition(field=status, source=AssessmentStatus.DRAFT, target=AssessmentStatus.COMPLETED)
    def complete(self) -> None:
        """Freeze the decision; the budget is created by the service in the same transaction."""

    @transition(field=status, source=AssessmentStatus.DRAFT, target=AssessmentStatus.NOT_ELIGIBLE)
    def record_not_eligible(self) -> None:
        """Close the assessment with its decision and reasons, so the person can be told why."""

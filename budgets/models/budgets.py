"""Personal budgets and the council's budget policy: what a completed assessment gives a client for
one period, and the numbers (contingency, period, reclaim buffer) administrators may change."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.money import money_field

from .assessments import Assessment


class BudgetPolicy(models.Model):
    """The council's configurable budget numbers. One row (pk 1), edited in the admin."""

    contingency_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="How far (as a % of the budget) an approved plan may exceed what is available.",
    )
    period_months = models.PositiveIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(36)], help_text="Length of a budget period."
    )
    reclaim_buffer_weeks = models.PositiveIntegerField(
        default=4, help_text="Unspent money above this many weeks of plan cost is reclaimed at period end."
    )

    class Meta:
        verbose_name = "budget policy"
        verbose_name_plural = "budget policy"
        constraints = [models.CheckConstraint(name="budget_policy_singleton", condition=Q(pk=1))]

    def __str__(self) -> str:
        return "Budget policy"


class PersonalBudget(models.Model):
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="budgets")
    assessment = models.OneToOneField(Assessment, on_delete=models.PROTECT, related_name="budget")
    period_start = models.DateField()
    period_end = models.DateField()
    indicative_amount = money_field()
    final_amount = money_field(null=True, blank=True)
    final_reason = models.TextField(blank=True)
    final_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    final_set_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(name="budget_period_order", condition=Q(period_end__gte=models.F("period_start"))),
            models.CheckConstraint(
                name="budget_final_has_reason",
                condition=Q(final_amount__isnull=True) | ~Q(final_reason=""),
            ),
        ]
        indexes = [models.Index(fields=["client", "period_start"])]

    def __str__(self) -> str:
        return f"Budget {self.pk} for {self.client} ({self.period_start:%d %b %Y} to {self.period_end:%d %b %Y})"

"""Charging: the dated charging policy and each client's financial assessment (docs/charging.md).

A `ChargingPolicy` holds the year's figures (capital limits, the tariff step, the taper, the
Minimum Income Guarantee by band, the income kinds disregarded); the one in force on an
assessment's date applies, so next April's can be entered ahead of time. A `FinancialAssessment`
stores what was declared and the result with every line of its working, so what the person was
told never changes even if the rules or the code do. A `ContributionReview` is the person's request
to look at an assessment again, with its own deadline.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from accounts.money import money_field


class Band(models.TextChoices):
    AGE_18_TO_24 = "18_to_24", "18 to 24, single"
    AGE_18_TO_24_COUPLE = "18_to_24_couple", "18 to 24, in a couple"
    AGE_25_TO_PENSION = "25_to_pension_age", "25 to pension age, single"
    AGE_25_TO_PENSION_COUPLE = "25_to_pension_age_couple", "25 to pension age, in a couple"
    PENSION_AGE = "pension_age", "Pension age, single"
    PENSION_AGE_COUPLE = "pension_age_couple", "Pension age, in a couple"


class IncomeKind(models.TextChoices):
    STATE_PENSION = "state_pension", "State Pension"
    PRIVATE_PENSION = "private_pension", "Private or workplace pension"
    PENSION_CREDIT = "pension_credit", "Pension Credit"
    ESA = "esa", "Employment and Support Allowance"
    UNIVERSAL_CREDIT = "universal_credit", "Universal Credit"
    INCOME_SUPPORT = "income_support", "Income Support"
    ATTENDANCE_ALLOWANCE = "attendance_allowance", "Attendance Allowance"
    PIP_DAILY_LIVING = "pip_daily_living", "PIP daily living"
    PIP_MOBILITY = "pip_mobility", "PIP mobility"
    DLA_CARE = "dla_care", "DLA care"
    DLA_MOBILITY = "dla_mobility", "DLA mobility"
    CARERS_ALLOWANCE = "carers_allowance", "Carer's Allowance"
    EARNINGS = "earnings", "Earnings from work"
    OTHER = "other", "Other income"


def default_disregarded_income() -> list[str]:
    """Disregarded in full by the regulations' defaults: earnings and the mobility parts."""
    return [IncomeKind.EARNINGS, IncomeKind.PIP_MOBILITY, IncomeKind.DLA_MOBILITY]


class ChargingPolicy(models.Model):
    """One year's charging rules, in force from `effective_from` until the next policy's date."""

    name = models.CharField(max_length=200)
    effective_from = models.DateField(unique=True)
    lower_capital_limit = money_field(default=Decimal("14250"))
    upper_capital_limit = money_field(default=Decimal("23250"))
    tariff_step = money_field(
        default=Decimal("250"),
        help_text="£1 a week of tariff income for every step, or part of one, above the lower limit.",
    )
    taper_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("100"), help_text="The share of the assessable income charged."
    )
    minimum_income_guarantee = models.JSONField(help_text='Weekly amounts by band: {"pension_age": "228.70", ...}')
    disregarded_income = models.JSONField(default=default_disregarded_income, blank=True)
    review_days = models.PositiveSmallIntegerField(
        default=28, help_text="Days finance has to answer a person's request to review their assessment."
    )
    is_example = models.BooleanField(default=False, help_text="Shipped as an example: check its figures before use.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name_plural = "charging policies"
        constraints = [
            models.CheckConstraint(
                name="charging_capital_limits_in_order", condition=Q(lower_capital_limit__lte=F("upper_capital_limit"))
            ),
            models.CheckConstraint(name="charging_tariff_step_positive", condition=Q(tariff_step__gt=0)),
            models.CheckConstraint(
                name="charging_taper_a_percentage", condition=Q(taper_percent__gte=0) & Q(taper_percent__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from:%-d %B %Y})"


class FinancialAssessment(models.Model):
    """What the person declared and the weekly contribution worked out from it, line by line.
    Never edited: a new assessment replaces it from its own date."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="financial_assessments")
    date = models.DateField(help_text="The assessment applies from this date.")
    policy = models.ForeignKey(ChargingPolicy, on_delete=models.PROTECT, related_name="assessments")
    band = models.CharField(max_length=30, choices=Band.choices)
    capital = money_field(default=Decimal("0"))
    income = models.JSONField(default=list, blank=True, help_text='[{"kind", "weekly_amount"}]')
    housing_costs = models.JSONField(default=list, blank=True, help_text='[{"description", "weekly_amount"}]')
    disability_related_expenditure = models.JSONField(
        default=list, blank=True, help_text='[{"description", "weekly_amount"}]'
    )
    declined = models.BooleanField(default=False, help_text="The person chose not to be assessed: full cost.")
    # The result, stored as the person was told it.
    tariff_income = money_field(default=Decimal("0"))
    income_counted = money_field(default=Decimal("0"))
    minimum_income_guarantee = money_field(default=Decimal("0"))
    weekly_contribution = money_field(null=True, blank=True, help_text="Empty when the person pays the full cost.")
    full_cost = models.BooleanField(default=False)
    explanation = models.JSONField(default=list, help_text='[{"text", "amount"}]: every line of the working.')
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["client", "date"], name="budgets_finassess_client_date")]
        constraints = [
            models.CheckConstraint(
                name="financial_assessment_full_cost_or_weekly",
                condition=Q(full_cost=True, weekly_contribution__isnull=True)
                | Q(full_cost=False, weekly_contribution__gte=0),
            )
        ]

    def __str__(self) -> str:
        return f"Financial assessment {self.pk} for {self.client_id} from {self.date}"


class ReviewStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    COMPLETED = "completed", "Completed"


class ContributionReview(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """The person asks for their financial assessment to be looked at again; finance answers by
    the deadline (a new assessment where something was wrong, or an explanation)."""

    assessment = models.ForeignKey(FinancialAssessment, on_delete=models.PROTECT, related_name="reviews")
    status = FSMField(default=ReviewStatus.REQUESTED, choices=ReviewStatus.choices, protected=True, db_index=True)
    reason = models.CharField(max_length=2000)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    due = models.DateField()
    outcome = models.CharField(max_length=2000, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    new_assessment = models.ForeignKey(
        FinancialAssessment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment"], condition=Q(status="requested"), name="one_open_review_per_assessment"
            )
        ]

    def __str__(self) -> str:
        return f"Review of financial assessment {self.assessment_id} ({self.status})"

    @transition(field=status, source=ReviewStatus.REQUESTED, target=ReviewStatus.COMPLETED)
    def complete(self):
        pass

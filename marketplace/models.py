"""Verified reviews and the rating figures built from them (docs/ratings.md).

Design:
- A `Review` is written by a client who has, or had, an approved plan line with the provider; one
  per client per provider per `RatingPolicy.review_interval_days` (default 90). Overall 1–5 stars,
  optional dimension scores, text; the provider may answer once, publicly. Case managers hide (with
  a reason) and restore; a hidden review leaves the score but its author still sees it.
- `ProviderRatingSummary` keeps, per provider, the count, the sum and the star distribution of its
  visible reviews — updated on every review change, so no page recomputes them. The displayed score
  is a Bayesian average, (C·m + sum) / (C + count), with m the mean over all visible reviews and C
  the policy's weight; it is stored on `providers.Provider.rating` (through the providers service)
  for catalogue sorting and filtering. Each change refreshes that provider; the nightly job refreshes
  every provider, as m drifts.
- Every review change adds to or takes from running sums — the provider's summary and the one
  `ReviewTotals` row that m is read from — instead of recounting: a write costs the same for a
  provider with 20,000 reviews as for one with 2. The nightly job recomputes the totals from the
  summaries, so they cannot drift for longer than a day.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

STARS = [MinValueValidator(1), MaxValueValidator(5)]
DIMENSIONS = {
    "reliability": "Reliability",
    "kindness": "Kindness",
    "communication": "Communication",
    "value": "Value for money",
}


class RatingPolicy(models.Model):
    review_interval_days = models.PositiveSmallIntegerField(
        default=90, help_text="A client may review the same provider once in this many days."
    )
    bayesian_weight = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("5"),
        help_text="How many 'average' reviews every provider starts with, so a few reviews cannot dominate.",
    )
    low_rating_threshold = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("2.50"))
    falling_min_reviews = models.PositiveSmallIntegerField(
        default=3, help_text="Reviews needed in each 90-day window before a fall is flagged."
    )
    falling_drop = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0.50"), help_text="A fall of at least this many stars."
    )

    class Meta:
        verbose_name_plural = "rating policy"

    def __str__(self) -> str:
        return "Rating policy"


class Review(models.Model):
    provider = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    rating = models.PositiveSmallIntegerField(validators=STARS)
    reliability = models.PositiveSmallIntegerField(null=True, blank=True, validators=STARS)
    kindness = models.PositiveSmallIntegerField(null=True, blank=True, validators=STARS)
    communication = models.PositiveSmallIntegerField(null=True, blank=True, validators=STARS)
    value = models.PositiveSmallIntegerField(null=True, blank=True, validators=STARS)
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(db_index=True)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=500, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True, max_length=5000)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="review_rating_1_to_5", condition=Q(rating__gte=1, rating__lte=5)),
            models.CheckConstraint(name="review_hidden_has_reason", condition=Q(hidden=False) | ~Q(hidden_reason="")),
        ]
        indexes = [
            models.Index(fields=["provider", "hidden", "-created_at"]),
            models.Index(fields=["author", "provider", "-created_at"]),
            # The per-write recount reads only this (an index-only scan): 3 ms instead of 18–140 ms
            # for a provider with 20,000 reviews (bench/search.py).
            models.Index(
                fields=["provider"], include=["rating"], condition=Q(hidden=False), name="review_visible_by_provider"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ for {self.provider_id} by {self.author_id}"


class ProviderRatingSummary(models.Model):
    provider = models.OneToOneField("providers.Provider", on_delete=models.CASCADE, related_name="rating_summary")
    count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    stars_1 = models.PositiveIntegerField(default=0)
    stars_2 = models.PositiveIntegerField(default=0)
    stars_3 = models.PositiveIntegerField(default=0)
    stars_4 = models.PositiveIntegerField(default=0)
    stars_5 = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "provider rating summaries"

    def __str__(self) -> str:
        return f"Ratings of provider {self.provider_id}"

    @property
    def distribution(self) -> list[tuple[int, int]]:
        return [(n, getattr(self, f"stars_{n}")) for n in range(5, 0, -1)]

    @property
    def mean(self) -> Decimal | None:
        return (Decimal(self.total) / self.count).quantize(Decimal("0.01")) if self.count else None


class ReviewTotals(models.Model):
    """The count and the sum of every visible review (one row, pk 1): the prior m is total / count.

    Kept as running sums by each review change, under the row's lock, after the provider's summary
    lock (always in that order, so two writers cannot deadlock)."""

    count = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "review totals"

    def __str__(self) -> str:
        return f"{self.count} visible reviews"

    @property
    def prior(self) -> Decimal | None:
        return Decimal(self.total) / self.count if self.count else None

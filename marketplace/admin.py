"""Admin: the rating policy is edited here; reviews are read-only (moderation has its own page)."""

from django.contrib import admin

from accounts.admin_base import SingletonAdmin, ViewOnlyAdmin
from accounts.admin_widgets import LabelledWidgetsMixin

from .models import ProviderRatingSummary, RatingPolicy, Review


@admin.register(RatingPolicy)
class RatingPolicyAdmin(LabelledWidgetsMixin, SingletonAdmin):
    list_display = ["__str__", "review_interval_days", "bayesian_weight", "low_rating_threshold"]


@admin.register(Review)
class ReviewAdmin(ViewOnlyAdmin):
    list_display = ["provider", "rating", "created_at", "hidden"]
    list_filter = ["hidden", "rating"]


@admin.register(ProviderRatingSummary)
class ProviderRatingSummaryAdmin(ViewOnlyAdmin):
    list_display = ["provider", "count", "total"]

"""Admin: the rating policy is edited here; reviews are read-only (moderation has its own page)."""

from django.contrib import admin

from .models import ProviderRatingSummary, RatingPolicy, Review


@admin.register(RatingPolicy)
class RatingPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "review_interval_days", "bayesian_weight", "low_rating_threshold"]

    def has_add_permission(self, request):
        return not RatingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["provider", "rating", "created_at", "hidden"]
    list_filter = ["hidden", "rating"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProviderRatingSummary)
class ProviderRatingSummaryAdmin(admin.ModelAdmin):
    list_display = ["provider", "count", "total"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

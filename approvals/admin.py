"""Admin: delegated authority per role and the workflow policy are set here."""

from django.contrib import admin

from .models import ApprovalAuthority, PlanReview, StatutoryReview, WorkflowPolicy


@admin.register(ApprovalAuthority)
class ApprovalAuthorityAdmin(admin.ModelAdmin):
    list_display = ["role", "annual_limit"]


@admin.register(WorkflowPolicy)
class WorkflowPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "review_working_days", "first_review_weeks", "review_interval_months"]

    def has_add_permission(self, request):
        return not WorkflowPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlanReview)
class PlanReviewAdmin(admin.ModelAdmin):
    """Read-only: reviews change only through the workflow services."""

    list_display = ["plan", "submitted_at", "due", "reviewer", "escalated_at", "outcome", "decided_at"]
    list_filter = ["outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StatutoryReview)
class StatutoryReviewAdmin(admin.ModelAdmin):
    list_display = ["plan", "kind", "due", "completed_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

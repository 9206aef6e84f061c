"""Admin: delegated authority per role and the workflow policy are set here."""

from django.contrib import admin

from accounts.admin_base import ReadOnlyAdmin, SingletonAdmin, ViewOnlyAdmin
from accounts.admin_widgets import LabelledWidgetsMixin

from .models import ApprovalAuthority, PlanReview, StatutoryReview, WorkflowPolicy


@admin.register(ApprovalAuthority)
class ApprovalAuthorityAdmin(LabelledWidgetsMixin, admin.ModelAdmin):
    list_display = ["role", "annual_limit"]


@admin.register(WorkflowPolicy)
class WorkflowPolicyAdmin(LabelledWidgetsMixin, SingletonAdmin):
    list_display = ["__str__", "review_working_days", "first_review_weeks", "review_interval_months"]


@admin.register(PlanReview)
class PlanReviewAdmin(ReadOnlyAdmin):
    """Read-only: reviews change only through the workflow services."""

    list_display = ["plan", "submitted_at", "due", "reviewer", "escalated_at", "outcome", "decided_at"]
    list_filter = ["outcome"]


@admin.register(StatutoryReview)
class StatutoryReviewAdmin(ViewOnlyAdmin):
    list_display = ["plan", "kind", "due", "completed_at"]

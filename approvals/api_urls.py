from django.urls import path

from . import api

urlpatterns = [
    path("plans/<int:pk>/submit/", api.PlanSubmitView.as_view(), name="api-plan-submit"),
    path("plans/<int:pk>/start_review/", api.PlanStartReviewView.as_view(), name="api-plan-start-review"),
    path("plans/<int:pk>/request_changes/", api.PlanRequestChangesView.as_view(), name="api-plan-request-changes"),
    path("plans/<int:pk>/approve/", api.PlanApproveView.as_view(), name="api-plan-approve"),
    path("plans/<int:pk>/reject/", api.PlanRejectView.as_view(), name="api-plan-reject"),
    path("plans/<int:pk>/withdraw/", api.PlanWithdrawView.as_view(), name="api-plan-withdraw"),
    path("plans/<int:pk>/history/", api.PlanHistoryView.as_view(), name="api-plan-history"),
    path("stats/approval-times/", api.ApprovalTimesView.as_view(), name="api-stats-approval-times"),
]

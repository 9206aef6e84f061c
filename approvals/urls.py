from django.urls import path

from . import views

urlpatterns = [
    # The plan page: the designer's page plus the workflow (see approvals/views.py).
    path("plans/<int:pk>/", views.PlanPageView.as_view(), name="plan-detail"),
    path("plans/<int:pk>/submit/", views.PlanSubmitView.as_view(), name="plan-submit"),
    path("plans/<int:pk>/withdraw/", views.PlanWithdrawView.as_view(), name="plan-withdraw"),
    path("plans/<int:pk>/review/", views.PlanReviewView.as_view(), name="plan-review"),
    path("reviews/", views.ReviewQueueView.as_view(), name="review-queue"),
    path("reviews/statutory/", views.StatutoryReviewListView.as_view(), name="statutory-reviews"),
    path("reviews/statutory/<int:pk>/done/", views.StatutoryReviewDoneView.as_view(), name="statutory-review-done"),
    path("statistics/approval-times/", views.ApprovalTimesPageView.as_view(), name="stats-approval-times"),
]

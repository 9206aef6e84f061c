from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import payments as payments_api
from .api import workflow as api

urlpatterns = [
    path("plans/<int:pk>/submit/", api.PlanSubmitView.as_view(), name="api-plan-submit"),
    path("plans/<int:pk>/start_review/", api.PlanStartReviewView.as_view(), name="api-plan-start-review"),
    path("plans/<int:pk>/request_changes/", api.PlanRequestChangesView.as_view(), name="api-plan-request-changes"),
    path("plans/<int:pk>/approve/", api.PlanApproveView.as_view(), name="api-plan-approve"),
    path("plans/<int:pk>/reject/", api.PlanRejectView.as_view(), name="api-plan-reject"),
    path("plans/<int:pk>/withdraw/", api.PlanWithdrawView.as_view(), name="api-plan-withdraw"),
    path("plans/<int:pk>/history/", api.PlanHistoryView.as_view(), name="api-plan-history"),
    path("stats/approval-times/", api.ApprovalTimesView.as_view(), name="api-stats-approval-times"),
    path("stats/spend/", payments_api.SpendView.as_view(), name="api-stats-spend"),
    path("webhooks/stripe/", payments_api.StripeWebhookView.as_view(), name="api-stripe-webhook"),
]

router = SimpleRouter(trailing_slash=True)
router.register("invoices", payments_api.InvoiceViewSet, basename="api-invoice")
router.register("payment-runs", payments_api.PaymentRunViewSet, basename="api-payment-run")
router.register("payments", payments_api.PaymentViewSet, basename="api-payment")
urlpatterns += router.urls

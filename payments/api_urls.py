from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

urlpatterns = [
    path("stats/spend/", api.SpendView.as_view(), name="api-stats-spend"),
    path("webhooks/stripe/", api.StripeWebhookView.as_view(), name="api-stripe-webhook"),
    path("budgets/<int:budget_id>/direct-payment/", api.DirectPaymentView.as_view(), name="api-direct-payment"),
    path(
        "budgets/<int:budget_id>/direct-payment/spending/",
        api.DirectPaymentSpendingView.as_view(),
        name="api-direct-payment-spending",
    ),
    path(
        "budgets/<int:budget_id>/individual-service-funds/",
        api.IndividualServiceFundsView.as_view(),
        name="api-individual-service-funds",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("invoices", api.InvoiceViewSet, basename="api-invoice")
router.register("payment-runs", api.PaymentRunViewSet, basename="api-payment-run")
router.register("payments", api.PaymentViewSet, basename="api-payment")
urlpatterns += router.urls

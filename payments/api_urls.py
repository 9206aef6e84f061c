from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

urlpatterns = [
    path("stats/spend/", api.SpendView.as_view(), name="api-stats-spend"),
    path("webhooks/stripe/", api.StripeWebhookView.as_view(), name="api-stripe-webhook"),
]

router = SimpleRouter(trailing_slash=True)
router.register("invoices", api.InvoiceViewSet, basename="api-invoice")
router.register("payment-runs", api.PaymentRunViewSet, basename="api-payment-run")
router.register("payments", api.PaymentViewSet, basename="api-payment")
urlpatterns += router.urls

from django.urls import path

from accounts.api.routers import Router

from . import api, api_transparency

urlpatterns = [
    path("stats/spend/", api.SpendView.as_view(), name="api-stats-spend"),
    path(
        "stats/transparency-spend/",
        api_transparency.TransparencySpendView.as_view(),
        name="api-stats-transparency-spend",
    ),
    path("webhooks/stripe/", api.StripeWebhookView.as_view(), name="api-stripe-webhook"),
    path("budgets/<id:budget_id>/direct-payment/", api.DirectPaymentView.as_view(), name="api-direct-payment"),
    path(
        "budgets/<id:budget_id>/direct-payment/spending/",
        api.DirectPaymentSpendingView.as_view(),
        name="api-direct-payment-spending",
    ),
    path(
        "budgets/<id:budget_id>/direct-payment/card/",
        api.DirectPaymentCardView.as_view(),
        name="api-direct-payment-card",
    ),
    path(
        "budgets/<id:budget_id>/direct-payment/spending/<id:sid>/",
        api.SpendingDetailsView.as_view(),
        name="api-direct-payment-spending-details",
    ),
    path(
        "budgets/<id:budget_id>/direct-payment/holder/",
        api.DirectPaymentHolderView.as_view(),
        name="api-direct-payment-holder",
    ),
    path(
        "budgets/<id:budget_id>/direct-payment/recoveries/",
        api.RecoveriesView.as_view(),
        name="api-recoveries",
    ),
    *[
        path(
            f"budgets/<id:budget_id>/direct-payment/recoveries/<id:rid>/{name}/",
            getattr(api, f"Recovery{name.title()}View").as_view(),
            name=f"api-recovery-{name}",
        )
        for name in ("accept", "explain", "complete", "withdraw")
    ],
    path("clients/<id:client_id>/contributions/", api.ContributionsView.as_view(), name="api-contributions"),
    path(
        "clients/<id:client_id>/contributions/checkout/",
        api.CheckoutView.as_view(),
        name="api-contributions-checkout",
    ),
    path("contribution-payments/", api.ContributionPaymentsView.as_view(), name="api-contribution-payments"),
    path(
        "budgets/<id:budget_id>/individual-service-funds/",
        api.IndividualServiceFundsView.as_view(),
        name="api-individual-service-funds",
    ),
]

router = Router()
router.register("invoices", api.InvoiceViewSet, basename="api-invoice")
router.register("payment-runs", api.PaymentRunViewSet, basename="api-payment-run")
router.register("payments", api.PaymentViewSet, basename="api-payment")
urlpatterns += router.urls

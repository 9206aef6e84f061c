from django.urls import path

from . import views

urlpatterns = [
    path("statistics/spend/", views.SpendPageView.as_view(), name="stats-spend"),
    path(
        "statistics/transparency-spend/",
        views.TransparencySpendPageView.as_view(),
        name="stats-transparency-spend",
    ),
    path("invoices/", views.InvoiceListView.as_view(), name="invoice-list"),
    path("invoices/new/", views.InvoiceCreateView.as_view(), name="invoice-new"),
    path("invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("invoices/<int:pk>/invoice.pdf", views.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("invoices/<int:pk>/file", views.InvoiceFileView.as_view(), name="invoice-file"),
    path("invoices/<int:pk>/<str:decision>/", views.InvoiceDecisionView.as_view(), name="invoice-decision"),
    path("payments/runs/", views.PaymentRunListView.as_view(), name="payment-runs"),
    path("payments/runs/<int:pk>/", views.PaymentRunDetailView.as_view(), name="payment-run-detail"),
    path("payments/runs/<int:pk>/progress/", views.PaymentRunProgressView.as_view(), name="payment-run-progress"),
    path("payments/runs/<int:pk>/reconcile/", views.PaymentRunReconcileView.as_view(), name="payment-run-reconcile"),
    path(
        "payments/runs/<int:pk>/remittance/<int:provider_id>.pdf",
        views.RemittancePdfView.as_view(),
        name="payment-run-remittance",
    ),
    path("payments/<int:pk>/retry/", views.PaymentRetryView.as_view(), name="payment-retry"),
    path("organisation/payouts/", views.PayoutsView.as_view(), name="payouts"),
    path("funds/", views.FundListView.as_view(), name="fund-list"),
    path("contributions/", views.ArrearsView.as_view(), name="contribution-arrears"),
    path("clients/<int:client_id>/contributions/", views.ContributionsPageView.as_view(), name="contributions"),
    path("budgets/<int:budget_id>/direct-payment/", views.DirectPaymentView.as_view(), name="direct-payment"),
    path(
        "budgets/<int:budget_id>/direct-payment/spending/<int:sid>/",
        views.SpendingDetailsView.as_view(),
        name="spending-details",
    ),
    path(
        "budgets/<int:budget_id>/individual-service-funds/<int:provider_id>/",
        views.IndividualServiceFundView.as_view(),
        name="individual-service-fund",
    ),
    path(
        "budgets/<int:budget_id>/direct-payment/spending/<int:sid>/receipt",
        views.ReceiptView.as_view(),
        name="spending-receipt",
    ),
    path(
        "budgets/<int:budget_id>/individual-service-funds/<int:provider_id>/spending/<int:sid>/receipt",
        views.ReceiptView.as_view(),
        name="isf-spending-receipt",
    ),
]

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
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("statistics/approval-times/", views.ApprovalTimesPageView.as_view(), name="stats-approval-times"),
    path("statistics/spend/", views.SpendPageView.as_view(), name="stats-spend"),
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
]

"""Pages of the payments app: invoices (`invoices`), payment runs (`runs`), payee onboarding and
the public spend page (`payees`), the transparency spend page (`transparency`)."""

from .contributions import ArrearsView, ContributionsPageView
from .funds import DirectPaymentView, FundListView, IndividualServiceFundView, ReceiptView, SpendingDetailsView
from .invoices import (
    InvoiceCreateView,
    InvoiceDecisionView,
    InvoiceDetailView,
    InvoiceFileView,
    InvoiceListView,
    InvoicePdfView,
)
from .payees import PayoutsView, SpendPageView
from .runs import (
    PaymentRetryView,
    PaymentRunDetailView,
    PaymentRunListView,
    PaymentRunProgressView,
    PaymentRunReconcileView,
    RemittancePdfView,
)
from .transparency import TransparencySpendPageView

__all__ = [
    "ArrearsView",
    "ContributionsPageView",
    "DirectPaymentView",
    "FundListView",
    "IndividualServiceFundView",
    "InvoiceCreateView",
    "InvoiceDecisionView",
    "InvoiceDetailView",
    "InvoiceFileView",
    "InvoiceListView",
    "InvoicePdfView",
    "PaymentRetryView",
    "PaymentRunDetailView",
    "PaymentRunListView",
    "PaymentRunProgressView",
    "PaymentRunReconcileView",
    "PayoutsView",
    "ReceiptView",
    "RemittancePdfView",
    "SpendPageView",
    "SpendingDetailsView",
    "TransparencySpendPageView",
]

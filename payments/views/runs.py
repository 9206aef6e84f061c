"""Payment run pages (finance): start a run, watch it, retry a failed payment, reconcile it with
the gateway; remittance advice for finance and the provider paid."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.exceptions import CairnError

from .. import selectors, services
from ..exceptions import NothingToPay
from ..gateways import GatewayError
from ..models import Invoice, InvoiceStatus, Payment, PaymentRun, PaymentStatus
from ..pdf import remittance_pdf
from ..permissions import can_run_payments


class FinanceMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_run_payments(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class PaymentRunListView(FinanceMixin, TemplateView):
    template_name = "payments/payment_runs.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        runs = PaymentRun.objects.select_related("started_by").order_by("-started_at", "-pk")
        page = Paginator(runs, 25).get_page(self.request.GET.get("page"))
        owed = Invoice.objects.filter(status=InvoiceStatus.CONFIRMED).exclude(
            payments__status__in=[
                PaymentStatus.PENDING,
                PaymentStatus.SENDING,
                PaymentStatus.PAID,
                PaymentStatus.FAILED,
            ]
        )
        context.update(
            page_obj=page,
            runs=page.object_list,
            owed_count=owed.count(),
            failed=list(
                Payment.objects.filter(status=PaymentStatus.FAILED)
                .select_related("provider", "person")
                .order_by("pk")[:100]
            ),
        )
        return context

    def post(self, request):
        try:
            run = services.payment_run_start(actor=request.user, request=request, refuse_empty=True)
        except NothingToPay as exc:
            messages.info(request, exc.message)
            return HttpResponseRedirect(reverse("payment-runs"))
        count = f"{run.payment_count} payment{'' if run.payment_count == 1 else 's'}"
        messages.success(request, f"Payment run {run.pk} started: {count}, {run.total}.")
        return HttpResponseRedirect(reverse("payment-run-detail", args=[run.pk]))


def _run_context(run: PaymentRun) -> dict:
    counts = selectors.payment_run_counts(run)
    done = counts["total"] - counts["pending"]
    return {
        "run": run,
        "counts": counts,
        "percent": 100 if counts["total"] == 0 else round(100 * done / counts["total"]),
        "finished": run.finished_at is not None,
    }


class PaymentRunDetailView(FinanceMixin, TemplateView):
    """The run as it goes: a progress bar that refreshes itself (htmx), failed payments with the
    gateway's message and a retry button, and each provider's remittance advice."""

    template_name = "payments/payment_run_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = get_object_or_404(PaymentRun, pk=kwargs["pk"])
        context.update(_run_context(run))
        context.update(
            failed=list(run.payments.filter(status=PaymentStatus.FAILED).select_related("provider", "person")),
            remittances=selectors.run_remittances(run),
        )
        return context


class PaymentRunProgressView(FinanceMixin, View):
    """The progress panel alone, for htmx to poll."""

    def get(self, request, pk):
        run = get_object_or_404(PaymentRun, pk=pk)
        return render(request, "payments/_run_progress.html", _run_context(run))


class PaymentRetryView(FinanceMixin, View):
    def post(self, request, pk):
        payment = get_object_or_404(Payment, pk=pk)
        try:
            services.payment_retry(actor=request.user, payment=payment, request=request)
        except CairnError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Payment {payment.pk} is being sent again.")
        return HttpResponseRedirect(reverse("payment-run-detail", args=[payment.run_id]))


class RemittancePdfView(LoginRequiredMixin, View):
    """Finance, or the provider's own staff."""

    def get(self, request, pk, provider_id):
        user = request.user
        if not (can_run_payments(user) or user.provider_id == provider_id):
            raise Http404("No such remittance advice.")
        run = get_object_or_404(PaymentRun, pk=pk)
        row = next((r for r in selectors.run_remittances(run) if r["provider"].pk == provider_id), None)
        if row is None:
            raise Http404("This run paid that provider nothing.")
        response = HttpResponse(remittance_pdf(run, row["provider"], row["payments"]), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="remittance-run-{run.pk}-provider-{provider_id}.pdf"'
        return response


class PaymentRunReconcileView(FinanceMixin, TemplateView):
    template_name = "payments/payment_run_reconcile.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = get_object_or_404(PaymentRun, pk=kwargs["pk"])
        try:
            differences, error = services.payment_run_reconcile(run=run), ""
        except GatewayError as exc:
            differences, error = [], exc.message
        context.update(run=run, differences=differences, error=error)
        return context

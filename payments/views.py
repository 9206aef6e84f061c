"""Invoice and payment pages: providers send invoices and set up payouts, clients and social
workers confirm or dispute, finance runs, watches, retries and reconciles payments; the public
spend statistics."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.exceptions import CairnError, NotVisible
from accounts.web import page_status
from careplans.models import PlanLine, PlanStatus

from . import selectors, services, stats
from .api import supporting_file_response
from .gateways import GatewayError, gateway
from .models import Invoice, InvoiceStatus, Payment, PaymentRun, PaymentStatus
from .pdf import invoice_pdf, remittance_pdf
from .permissions import can_confirm_invoice, can_invoice, can_run_payments
from .services.invoices import MAX_FILE_BYTES

__all__ = [
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
    "RemittancePdfView",
    "SpendPageView",
]


def _invoice(user, pk) -> Invoice:
    try:
        return selectors.invoice_get_for(user, pk)
    except NotVisible as exc:
        raise Http404(exc.message) from exc


class InvoiceListView(LoginRequiredMixin, TemplateView):
    template_name = "payments/invoices.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        page = Paginator(selectors.invoices_visible_to(user), 50).get_page(self.request.GET.get("page"))
        context.update(
            page_obj=page,
            invoices=page.object_list,
            to_confirm=list(selectors.invoices_to_confirm_for(user)[:50]),
            can_invoice=can_invoice(user),
        )
        return context


def _invoiceable_lines(user):
    """Lines of approved (or superseded) plans that the user's organisation provides."""
    return (
        PlanLine.objects.filter(
            provider_id=user.provider_id, plan__status__in=[PlanStatus.APPROVED, PlanStatus.SUPERSEDED]
        )
        .select_related("plan__client")
        .order_by("plan__client__full_name", "plan__version", "position")
    )


class InvoiceForm(forms.Form):
    line = forms.ChoiceField(
        label="Which support",
        help_text="The plan line you delivered",
        error_messages={
            "required": "Choose the support you delivered",
            "invalid_choice": "Choose the support you delivered",
        },
    )
    period_start = forms.DateField(
        label="Period start",
        help_text="For example, 2027-04-01",
        widget=forms.DateInput(format="%Y-%m-%d"),
        error_messages={"required": "Enter the first day of the period", "invalid": "Enter a date like 2027-04-01"},
    )
    period_end = forms.DateField(
        label="Period end",
        help_text="Today or earlier: invoice only for support already delivered",
        widget=forms.DateInput(format="%Y-%m-%d"),
        error_messages={"required": "Enter the last day of the period", "invalid": "Enter a date like 2027-04-01"},
    )
    units = forms.DecimalField(
        label="Units delivered",
        max_digits=8,
        decimal_places=2,
        error_messages={"required": "Enter how many units you delivered", "invalid": "Enter a number, like 4 or 2.5"},
    )
    reference = forms.CharField(label="Your invoice number (optional)", required=False, max_length=60)
    supporting_file = forms.FileField(
        label="Supporting document (optional)",
        help_text=f"A PDF, PNG or JPEG of at most {MAX_FILE_BYTES // (1024 * 1024)} MB, such as a timesheet",
        required=False,
    )

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [("", "Choose the support")] + [
            (
                str(line.pk),
                f"{line.plan.client.full_name}: {line.title} (plan v{line.plan.version}, "
                f"{line.start:%-d %b %Y} to {line.end:%-d %b %Y}, {line.unit_price} per {line.unit})",
            )
            for line in lines
        ]


# Field names of the service's errors, mapped to the form's.
INVOICE_FIELDS = {"plan_line": "line", "period_start": "period_start", "period_end": "period_end", "units": "units"}


class InvoiceCreateView(LoginRequiredMixin, TemplateView):
    template_name = "payments/invoice_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_invoice(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", InvoiceForm(lines=_invoiceable_lines(self.request.user)))
        return context

    def post(self, request):
        lines = list(_invoiceable_lines(request.user))
        form = InvoiceForm(request.POST, request.FILES, lines=lines)
        if form.is_valid():
            data = form.cleaned_data
            line = next(line for line in lines if str(line.pk) == data["line"])
            try:
                invoice = services.invoice_submit(
                    actor=request.user,
                    line=line,
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    units=data["units"],
                    reference=data["reference"],
                    supporting_file=data["supporting_file"],
                    request=request,
                )
            except CairnError as exc:
                status = page_status(exc)
                if exc.errors:
                    for key, problems in exc.errors.items():
                        for problem in problems:
                            form.add_error(INVOICE_FIELDS.get(key, key if key in form.fields else None), problem)
                else:
                    form.add_error(INVOICE_FIELDS.get(exc.field) if exc.field else None, exc.message)
                return self.render_to_response(self.get_context_data(form=form), status=status)
            messages.success(request, f"Invoice {invoice.pk} for {invoice.amount} is sent for confirmation.")
            return HttpResponseRedirect(reverse("invoice-detail", args=[invoice.pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InvoiceDetailView(LoginRequiredMixin, TemplateView):
    template_name = "payments/invoice_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        invoice = _invoice(user, kwargs["pk"])
        edges = {t.name for t in invoice.get_available_status_transitions()}  # from the state machine
        context.update(
            invoice=invoice,
            may_decide=can_confirm_invoice(user, invoice) and "confirm" in edges,
            may_dispute=can_confirm_invoice(user, invoice) and "dispute" in edges,
            may_cancel=user.provider_id == invoice.provider_id and "cancel" in edges,
            payments=list(invoice.payments.order_by("pk")),
            may_see_remittance=can_run_payments(user) or user.provider_id == invoice.provider_id,
            error=kwargs.get("error", ""),
        )
        return context


class InvoiceDecisionView(LoginRequiredMixin, View):
    """POST confirm / dispute (with a reason) / cancel."""

    def post(self, request, pk, decision):
        invoice = _invoice(request.user, pk)
        try:
            if decision == "confirm":
                services.invoice_confirm(actor=request.user, invoice=invoice, request=request)
                done = "The invoice is confirmed. It will be paid in the next payment run."
            elif decision == "dispute":
                services.invoice_dispute(
                    actor=request.user, invoice=invoice, reason=request.POST.get("reason", ""), request=request
                )
                done = "The invoice is disputed. The provider has been told why."
            elif decision == "cancel":
                services.invoice_cancel(actor=request.user, invoice=invoice, request=request)
                done = "The invoice is cancelled. You can send a corrected one."
            else:
                raise Http404("No such action.")
        except CairnError as exc:
            view = InvoiceDetailView()
            view.setup(request, pk=pk)
            context = view.get_context_data(pk=pk, error=exc.message)
            return render(request, view.template_name, context, status=page_status(exc))
        messages.success(request, done)
        return HttpResponseRedirect(reverse("invoice-detail", args=[pk]))


class InvoicePdfView(LoginRequiredMixin, View):
    def get(self, request, pk):
        invoice = _invoice(request.user, pk)
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="invoice-{invoice.pk}.pdf"'
        return response


class InvoiceFileView(LoginRequiredMixin, View):
    def get(self, request, pk):
        invoice = _invoice(request.user, pk)
        if not invoice.supporting_file:
            raise Http404("This invoice has no supporting file.")
        return supporting_file_response(invoice)


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
                Payment.objects.filter(status=PaymentStatus.FAILED).select_related("provider").order_by("pk")[:100]
            ),
        )
        return context

    def post(self, request):
        run = services.payment_run_start(actor=request.user, request=request)
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
            failed=list(run.payments.filter(status=PaymentStatus.FAILED).select_related("provider")),
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


class PayoutsView(LoginRequiredMixin, TemplateView):
    """Provider staff set up payouts with the configured gateway: the account is opened through
    its API and they are sent to its onboarding; coming back refreshes whether it is complete."""

    template_name = "payments/payouts.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_invoice(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        provider = self.request.user.provider
        gw = gateway()
        account = selectors.provider_payee_account(provider, gw.name)
        if self.request.GET.get("returned") and account is not None:
            try:
                account = services.provider_payments_refresh(actor=self.request.user, provider=provider)
            except CairnError as exc:
                context["error"] = exc.message
        context.update(provider=provider, gateway=gw, account=account)
        return context

    def post(self, request):
        here = request.build_absolute_uri(reverse("payouts"))
        try:
            url = services.provider_payments_onboard(
                actor=request.user, provider=request.user.provider, refresh_url=here, return_url=f"{here}?returned=1"
            )
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        except CairnError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("payouts"))
        return HttpResponseRedirect(url)


class SpendPageView(TemplateView):
    """Public: where the money goes, by kind of support and month."""

    template_name = "payments/spend.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(rows=stats.spend_by_category(), threshold=stats.SUPPRESS_BELOW)
        return context

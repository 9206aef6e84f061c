"""Invoice pages: providers send invoices; clients and social workers confirm or dispute them;
the invoice PDF and its supporting file."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.dates import date_field
from accounts.exceptions import CairnError, NotVisible
from accounts.forms import add_service_errors
from accounts.web import page_status
from careplans.models import MoneyManagement, PlanLine, PlanStatus

from .. import selectors, services
from ..api import supporting_file_response
from ..models import Invoice
from ..pdf import invoice_pdf
from ..permissions import can_confirm_invoice, can_invoice, can_run_payments
from ..services.invoices import MAX_FILE_BYTES


class ProviderStaffRequired(LoginRequiredMixin):
    """Pages for a provider organisation's staff only (403 for everyone else)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_invoice(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


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
    """Council-managed lines of approved (or superseded) plans that the user's organisation provides."""
    return (
        PlanLine.objects.filter(
            provider_id=user.provider_id,
            plan__status__in=[PlanStatus.APPROVED, PlanStatus.SUPERSEDED],
            money_management=MoneyManagement.COUNCIL_MANAGED,
        )
        .select_related("plan__client")
        .order_by("plan__client__full_name", "plan__version", "position")
    )


def upload_field(label: str, example: str = "") -> forms.FileField:
    """An optional supporting file; the service checks its content and size."""
    limit = f"A PDF, PNG or JPEG of at most {MAX_FILE_BYTES // (1024 * 1024)} MB"
    return forms.FileField(label=label, help_text=f"{limit}, {example}" if example else limit, required=False)


class InvoiceForm(forms.Form):
    line = forms.ChoiceField(
        label="Which support",
        help_text="The plan line you delivered",
        error_messages={
            "required": "Choose the support you delivered",
            "invalid_choice": "Choose the support you delivered",
        },
    )
    period_start = date_field(
        "Period start", help_text="For example, 27 3 2027", required_message="Enter the first day of the period"
    )
    period_end = date_field(
        "Period end",
        help_text="Today or earlier: invoice only for support already delivered",
        required_message="Enter the last day of the period",
    )
    units = forms.DecimalField(
        label="Units delivered",
        max_digits=8,
        decimal_places=2,
        error_messages={"required": "Enter how many units you delivered", "invalid": "Enter a number, like 4 or 2.5"},
    )
    reference = forms.CharField(label="Your invoice number (optional)", required=False, max_length=60)
    supporting_file = upload_field("Supporting document (optional)", "such as a timesheet")

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


class InvoiceCreateView(ProviderStaffRequired, TemplateView):
    template_name = "payments/invoice_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", InvoiceForm(lines=_invoiceable_lines(self.request.user)))
        return context

    def post(self, request):
        lines = list(_invoiceable_lines(request.user))
        form = InvoiceForm(request.POST, request.FILES, lines=lines)
        if form.is_valid():
            # The form's fields are the service's arguments; the chosen line is one of the lines offered.
            data = {
                **form.cleaned_data,
                "line": next(line for line in lines if str(line.pk) == form.cleaned_data["line"]),
            }
            try:
                invoice = services.invoice_submit(actor=request.user, request=request, **data)
            except CairnError as exc:
                status = page_status(exc)
                add_service_errors(form, exc, INVOICE_FIELDS)
                return self.render_to_response(self.get_context_data(form=form), status=status)
            messages.success(request, f"Invoice {invoice.pk} for {invoice.amount} is sent for confirmation.")
            return HttpResponseRedirect(reverse("invoice-detail", args=[invoice.pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DisputeForm(forms.Form):
    """Why the invoice is disputed. Its id stays `dispute-reason`, so links to it keep working."""

    reason = forms.CharField(
        label="If something is wrong, say what",
        help_text="For example, a visit that did not happen. The provider will see this.",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say what is wrong with the invoice",
            "max_length": "Say what is wrong in 500 characters or fewer",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="dispute-%s", **kwargs)


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
            dispute_form=kwargs.get("dispute_form") or DisputeForm(),
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
            extra = {"error": exc.message}
            if decision == "dispute" and exc.field == "reason":  # by the box, and linked from the summary
                form = DisputeForm(request.POST)
                form.is_valid()
                form.errors.pop("reason", None)  # the service's own words, by the box and in the summary
                add_service_errors(form, exc)
                extra = {"dispute_form": form}
            context = view.get_context_data(pk=pk, **extra)
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

"""The direct payment account page: the person, their social worker and finance see the same
account — what was loaded, spent and is held, the schedule, the spending and what to look at — and
the person holding it records what they spent, with its receipt."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView

from accounts.exceptions import CairnError, NotVisible
from accounts.forms import add_service_errors, iso_date_field, pounds_field
from accounts.web import page_status

from .. import selectors, services
from ..gateways import gateway
from ..models import FundAccount, FundKind, PayeeAccount
from ..permissions import can_spend_from
from .invoices import upload_field


class SpendingForm(forms.Form):
    date = iso_date_field("Date paid", help_text="For example, 2027-04-01", required_message="Enter the date you paid")
    amount = pounds_field(
        "Amount, in pounds", noun="amount", required_message="Enter how much you paid", example="58.00"
    )
    payee = forms.CharField(
        label="Who you paid",
        max_length=200,
        help_text="For example, your personal assistant's name",
        error_messages={"required": "Say who you paid", "max_length": "Keep it under 200 characters"},
    )
    line_id = forms.TypedChoiceField(label="What it was for", coerce=int, empty_value=None, required=False, choices=[])
    description = forms.CharField(
        label="Anything else to say (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    receipt = upload_field("Receipt or timesheet (optional)")

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line_id"].choices = [("", "Something not in my plan")] + [
            (line.pk, f"{line.title} ({line.unit_price} per {line.unit})") for line in lines
        ]


# The service names the line `plan_line` in its refusals (as the API does); the form calls it `line_id`.
FIELDS = {"plan_line": "line_id"}


class DirectPaymentView(LoginRequiredMixin, TemplateView):
    template_name = "payments/direct_payment.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                self.account = selectors.fund_get_for(request.user, kwargs["budget_id"], FundKind.DIRECT_PAYMENT)
            except NotVisible as exc:
                raise Http404(exc.message) from exc
        return super().dispatch(request, *args, **kwargs)

    def _lines(self, account: FundAccount, loads: list | None = None) -> list:
        """The lines of the plan in force that this money pays for (what a payment can be for)."""
        plan = selectors.fund_plan_in_force(selectors.fund_loads(account) if loads is None else loads)
        return [line for line in plan.lines.all() if selectors.fund_holds(account, line)] if plan else []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.account
        loads = selectors.fund_loads(account)
        spending = selectors.fund_spending(account)
        figures = selectors.fund_figures(account, loads)
        may_spend = can_spend_from(self.request.user, account)
        context.update(
            account=account,
            client=account.budget.client,
            figures=figures,
            loads=loads,
            spending=spending,
            flags=selectors.fund_flags(account, figures, loads, spending),
            may_spend=may_spend,
            threshold=selectors.receipt_threshold(),
            period_days=selectors.fund_policy().load_period_days,
        )
        if may_spend:
            context.setdefault("form", SpendingForm(lines=self._lines(account, loads)))
            gw = gateway()
            payee = PayeeAccount.objects.filter(person_id=account.holder_id, gateway=gw.name).first()
            if gw.needs_account and self.request.GET.get("returned") and payee is not None:
                try:
                    payee = services.fund_payments_refresh(actor=self.request.user, fund=account)
                except CairnError as exc:
                    context["setup_error"] = exc.message
            context.update(gateway=gw, payee=payee)
        return context

    def post(self, request, budget_id):
        if not can_spend_from(request.user, self.account):
            raise PermissionDenied("Only the person holding the money records what is spent from it.")
        if "set_up_payouts" in request.POST:
            here = request.build_absolute_uri(reverse("direct-payment", args=[budget_id]))
            try:
                url = services.fund_payments_onboard(
                    actor=request.user, fund=self.account, refresh_url=here, return_url=f"{here}?returned=1"
                )
            except CairnError as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(here)
            return HttpResponseRedirect(url)
        form = SpendingForm(request.POST, request.FILES, lines=self._lines(self.account))
        if form.is_valid():
            try:  # the form's fields are the service's arguments
                spending = services.spending_record(
                    actor=request.user, account=self.account, request=request, **form.cleaned_data
                )
            except CairnError as exc:
                add_service_errors(form, exc, FIELDS)
                return self.render_to_response(self.get_context_data(form=form), status=page_status(exc))
            messages.success(request, f"{spending.amount} to {spending.payee} is recorded.")
            return HttpResponseRedirect(reverse("direct-payment", args=[budget_id]))
        return self.render_to_response(self.get_context_data(form=form), status=400)

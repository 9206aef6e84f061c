"""Contribution pages: a person's contributions (what was charged each period, taken from their
loads, billed, paid, and what is owed), where they pay online and finance records money received;
and finance's list of people in arrears."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from accounts.dates import date_field
from accounts.exceptions import CairnError
from accounts.forms import add_service_errors, pounds_field
from accounts.models import Role, User
from accounts.permissions import acts_for
from accounts.web import page_status
from budgets.permissions import can_view_financial_assessments
from budgets.selectors import latest_financial_assessment

from .. import selectors, services
from ..gateways import gateway
from ..permissions import can_run_payments


class MoneyReceivedForm(forms.Form):
    amount = pounds_field(
        "Amount received, in pounds", noun="amount", required_message="Enter the amount", example="120.00"
    )
    date = date_field("Date received", help_text="For example, 27 3 2027", required_message="Enter the date")
    reference = forms.CharField(
        label="Reference (optional)", required=False, max_length=100, help_text="A cheque number or bank reference."
    )


class ContributionsPageView(LoginRequiredMixin, TemplateView):
    template_name = "payments/contributions.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.client = User.objects.filter(pk=kwargs["client_id"], role=Role.CLIENT).first()
            if self.client is None or not can_view_financial_assessments(request.user, self.client):
                raise Http404("No such client.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        summary = selectors.contributions_summary(self.client)
        is_own = acts_for(user, self.client)
        context.update(
            person=self.client,
            summary=summary,
            is_own=is_own,
            assessment=latest_financial_assessment(self.client),
            may_record=can_run_payments(user),
            may_pay_online=is_own and gateway().takes_payments and summary.arrears.amount > 0,
            paid_back=self.request.GET.get("paid") == "1",
        )
        if context["may_record"]:
            context.setdefault("form", MoneyReceivedForm(initial={"date": timezone.localdate()}))
        return context

    def post(self, request, client_id):
        here = reverse("contributions", args=[client_id])
        if "pay_online" in request.POST:
            try:
                checkout = services.contribution_checkout_start(
                    actor=request.user, client=self.client, return_url=request.build_absolute_uri(here)
                )
            except CairnError as exc:
                if page_status(exc) == 403:
                    raise PermissionDenied(exc.message) from exc
                messages.error(request, exc.message)
                return HttpResponseRedirect(here)
            return HttpResponseRedirect(checkout.url)
        if not can_run_payments(request.user):
            raise PermissionDenied("Only finance records money received.")
        form = MoneyReceivedForm(request.POST)
        if form.is_valid():
            try:
                payment = services.contribution_payment_record(
                    actor=request.user, client=self.client, request=request, **form.cleaned_data
                )
            except CairnError as exc:
                add_service_errors(form, exc)
                return self.render_to_response(self.get_context_data(form=form), status=page_status(exc))
            messages.success(request, f"{payment.amount} received from {self.client.full_name} is recorded.")
            return HttpResponseRedirect(here)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ArrearsView(LoginRequiredMixin, TemplateView):
    """Finance: everyone who owes contributions, most owed first."""

    template_name = "payments/arrears.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_run_payments(request.user):
            raise PermissionDenied("Only finance sees arrears.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = selectors.arrears_list()
        return context

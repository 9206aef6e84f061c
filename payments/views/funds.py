"""The direct payment account page: the person, their social worker and finance see the same
account — what was loaded, spent and is held, the schedule, the spending and what to look at — and
the person holding it records what they spent, with its receipt."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import ListView, TemplateView, View

from accounts.dates import date_field
from accounts.exceptions import CairnError, NotVisible
from accounts.forms import add_service_errors, pounds_field
from accounts.money import round_penny
from accounts.permissions import can_manage_representatives
from accounts.selectors import representatives_of
from accounts.web import page_status

from .. import selectors, services
from ..api import stored_file_response
from ..gateways import gateway
from ..models import OPEN_RECOVERY_STATUSES, FundAccount, FundKind, PayeeAccount, Recovery
from ..permissions import can_run_payments, can_spend_from
from ..services.recoveries import NothingToRecover, known_owed
from .invoices import upload_field


class SpendingForm(forms.Form):
    date = date_field("Date paid", help_text="For example, 27 3 2027", required_message="Enter the date you paid")
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


class CardForm(forms.Form):
    line1 = forms.CharField(
        label="Address line 1", max_length=100, error_messages={"required": "Enter the first line of the address"}
    )
    city = forms.CharField(label="Town or city", max_length=100, error_messages={"required": "Enter the town or city"})
    postal_code = forms.CharField(label="Postcode", max_length=20, error_messages={"required": "Enter the postcode"})


class SpendingDetailsForm(SpendingForm):
    """What a card payment was for: the card reported its date, amount and payee."""

    date = None
    amount = None
    payee = None
    receipt = upload_field("Receipt (optional)")


def owed_field(label: str, *, help_text: str) -> forms.DecimalField:
    """An amount still owed: £0 or more, in pounds and pence (the service's rule)."""
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        required=False,
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0"),
        error_messages={
            "invalid": "Enter an amount owed, like 120.00",
            "min_value": "The amount owed cannot be less than £0",
            "max_digits": "Enter an amount owed under £1,000,000",
            "max_decimal_places": "Enter the amount owed in pounds and pence, like 120.00",
        },
    )


class RecoveryProposeForm(forms.Form):
    reason = forms.CharField(
        label="Why the money is being taken back",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The holder is told this. For example: the account has built up more than it is allowed to hold.",
        error_messages={"required": "Say why the money is being taken back"},
    )
    owed = owed_field(
        "What the holder still owes, in pounds (optional)",
        help_text="Unpaid wages or bills you know of: this is left in the account.",
    )


class RecoveryExplainForm(forms.Form):
    explanation = forms.CharField(
        label="Why the money is still needed",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say why the money is still needed"},
    )
    declared_owed = owed_field(
        "What you still owe from this money, in pounds (optional)",
        help_text="For example wages not yet paid, or a bill that has come in. This is never taken back.",
    )


# The service names the line `plan_line` in its refusals (as the API does); the form calls it `line_id`.
FIELDS = {"plan_line": "line_id"}
RECOVERY_ACTIONS = ("propose", "accept", "explain", "complete", "withdraw")


class DirectPaymentView(LoginRequiredMixin, TemplateView):
    """The budget's direct payment, or (`IndividualServiceFundView`) one provider's individual
    service fund for it: the same account page either way."""

    template_name = "payments/direct_payment.html"

    def fund(self, request, **kwargs) -> FundAccount:
        return selectors.fund_get_for(request.user, kwargs["budget_id"], FundKind.DIRECT_PAYMENT)

    def here(self) -> str:
        return self.request.path

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                self.account = self.fund(request, **kwargs)
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
        lines = self._lines(account, loads)
        context.update(
            spending_by_line=selectors.fund_spending_by_line(lines, spending),
            account=account,
            client=account.budget.client,
            figures=figures,
            loads=loads,
            spending=spending,
            flags=selectors.fund_flags(account, figures, loads, spending),
            may_spend=may_spend,
            threshold=selectors.receipt_threshold(),
            period_days=selectors.fund_policy().load_period_days,
            recoveries=selectors.fund_recoveries(account),
            may_recover=can_run_payments(self.request.user),
            today=timezone.localdate(),
        )
        client = account.budget.client
        card = selectors.fund_card(account)
        context["card"] = card
        policy = selectors.fund_policy()
        if (
            card is None
            and account.kind == FundKind.DIRECT_PAYMENT
            and policy.prepaid_cards
            and gateway().issues_cards
            and (may_spend or can_run_payments(self.request.user))
        ):
            context.setdefault("card_form", CardForm())
        if account.kind == FundKind.DIRECT_PAYMENT and can_manage_representatives(self.request.user, client):
            context["holder_choices"] = [client, *representatives_of(client)]
        context["open_recovery"] = next((r for r in context["recoveries"] if r.status in OPEN_RECOVERY_STATUSES), None)
        if context["may_recover"] and context["open_recovery"] is None:
            known = known_owed(account)
            context["known_owed"] = known
            context.setdefault("propose_form", RecoveryProposeForm(initial={"owed": known} if known else None))
        if may_spend and context["open_recovery"] is not None:
            context.setdefault("explain_form", RecoveryExplainForm())
        if may_spend and card is None:
            context.setdefault("form", SpendingForm(lines=lines))
        if may_spend and account.kind == FundKind.DIRECT_PAYMENT and card is None:
            # How the money reaches the person (a provider holding a fund is paid as an organisation).
            gw = gateway()
            payee = PayeeAccount.objects.filter(person_id=account.holder_id, gateway=gw.name).first()
            if gw.needs_account and self.request.GET.get("returned") and payee is not None:
                try:
                    payee = services.fund_payments_refresh(actor=self.request.user, fund=account)
                except CairnError as exc:
                    context["setup_error"] = exc.message
            context.update(gateway=gw, payee=payee)
        return context

    def post(self, request, budget_id, **kwargs):
        if "holder" in request.POST:
            return self.holder_post(request)
        if "issue_card" in request.POST:
            return self.card_post(request)
        action = request.POST.get("recovery")
        if action in RECOVERY_ACTIONS:
            return self.recovery_post(request, action)
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
            return HttpResponseRedirect(self.here())
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def recovery_post(self, request, action: str):
        """Propose (finance), accept or explain (the holder), complete or withdraw (finance)."""
        forms_by_action = {
            "propose": ("propose_form", RecoveryProposeForm),
            "explain": ("explain_form", RecoveryExplainForm),
        }
        form = None
        try:
            if action in forms_by_action:
                name, form_class = forms_by_action[action]
                form = form_class(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(**{name: form}), status=400)
                if action == "propose":
                    services.recovery_propose(
                        actor=request.user, account=self.account, request=request, **form.cleaned_data
                    )
                    done = "The recovery is proposed and the holder has been told."
                else:
                    recovery = self._open_recovery()
                    services.recovery_explain(
                        actor=request.user, recovery=recovery, request=request, **form.cleaned_data
                    )
                    done = "Thank you. Your explanation has been sent to the council."
            else:
                recovery = self._open_recovery()
                getattr(services, f"recovery_{action}")(actor=request.user, recovery=recovery, request=request)
                done = {
                    "accept": "You have accepted the recovery.",
                    "complete": "The recovery is complete: the money has been taken back.",
                    "withdraw": "The recovery is withdrawn.",
                }[action]
        except CairnError as exc:
            if form is not None:
                add_service_errors(form, exc)
                name = forms_by_action[action][0]
                return self.render_to_response(self.get_context_data(**{name: form}), status=page_status(exc))
            if page_status(exc) == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
            return HttpResponseRedirect(self.here() + "#recovery")
        messages.success(request, done)
        return HttpResponseRedirect(self.here() + "#recovery")

    def card_post(self, request):
        form = CardForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(card_form=form), status=400)
        try:
            card = services.fund_card_issue(
                actor=request.user, account=self.account, request=request, **form.cleaned_data
            )
        except CairnError as exc:
            if page_status(exc) == 403:
                raise PermissionDenied(exc.message) from exc
            add_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(card_form=form), status=page_status(exc))
        messages.success(request, f"The prepaid card ending {card.last4} is issued.")
        return HttpResponseRedirect(self.here() + "#card")

    def holder_post(self, request):
        try:
            holder_id = int(request.POST.get("holder", ""))
        except ValueError:
            holder_id = 0
        try:
            account = services.fund_holder_set(
                actor=request.user, account=self.account, holder_id=holder_id, request=request
            )
        except CairnError as exc:
            if page_status(exc) == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
            return HttpResponseRedirect(self.here() + "#holder")
        messages.success(request, f"{account.holder.full_name} now holds the direct payment.")
        return HttpResponseRedirect(self.here() + "#holder")

    def _open_recovery(self) -> Recovery:
        recovery = self.account.recoveries.filter(status__in=OPEN_RECOVERY_STATUSES).first()
        if recovery is None:
            raise NothingToRecover("There is no recovery open on this account.")
        return recovery


def _isf_for(user, budget_id: int, provider_id: int) -> FundAccount:
    """The budget's individual service fund held by that provider, if `user` may see it."""
    funds = selectors.funds_isf_for(user, budget_id)
    account = next((f for f in funds if f.holder_provider_id == provider_id), None)
    if account is None:
        raise NotVisible("No such individual service fund.")
    return account


class IndividualServiceFundView(DirectPaymentView):
    def fund(self, request, **kwargs) -> FundAccount:
        return _isf_for(request.user, kwargs["budget_id"], kwargs["provider_id"])


class ReceiptView(LoginRequiredMixin, View):
    """A spending's receipt, for whoever may see the account it was spent from (the holder, the
    person and their representatives, their social worker, finance; the holding provider's staff
    for an individual service fund): always a download, never shown inline, with the type found
    when it was uploaded. Anyone else, or a spending without a receipt, gets 404."""

    def get(self, request, budget_id, sid, provider_id=None):
        try:
            if provider_id is None:
                account = selectors.fund_get_for(request.user, budget_id, FundKind.DIRECT_PAYMENT)
            else:
                account = _isf_for(request.user, budget_id, provider_id)
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        spending = account.spending.filter(pk=sid).first()
        if spending is None or not spending.receipt:
            raise Http404("No such receipt.")
        return stored_file_response(
            spending.receipt, spending.receipt_name or f"receipt-{spending.pk}", spending.receipt_type
        )


class SpendingDetailsView(LoginRequiredMixin, TemplateView):
    """The holder says what a card payment was for and adds its receipt."""

    template_name = "payments/spending_details.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                self.account = selectors.fund_spent_from_by(request.user, kwargs["budget_id"])
            except NotVisible as exc:
                raise Http404(exc.message) from exc
            self.spending = self.account.spending.filter(pk=kwargs["sid"], card_transaction_id__isnull=False).first()
            if self.spending is None:
                raise Http404("No such card payment.")
            if not can_spend_from(request.user, self.account):
                raise PermissionDenied("Only the person holding the money adds details to its payments.")
        return super().dispatch(request, *args, **kwargs)

    def _lines(self) -> list:
        plan = selectors.fund_plan_in_force(selectors.fund_loads(self.account))
        return [line for line in plan.lines.all() if selectors.fund_holds(self.account, line)] if plan else []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault(
            "form",
            SpendingDetailsForm(
                lines=self._lines(),
                initial={"line_id": self.spending.line_id, "description": self.spending.description},
            ),
        )
        context.update(spending=self.spending, account=self.account, back=selectors.fund_page_url(self.account))
        return context

    def post(self, request, budget_id, sid):
        form = SpendingDetailsForm(request.POST, request.FILES, lines=self._lines())
        if form.is_valid():
            try:
                services.spending_details_add(
                    actor=request.user, spending=self.spending, request=request, **form.cleaned_data
                )
            except CairnError as exc:
                add_service_errors(form, exc, FIELDS)
                return self.render_to_response(self.get_context_data(form=form), status=page_status(exc))
            messages.success(request, f"The details of {self.spending.amount} to {self.spending.payee} are saved.")
            return HttpResponseRedirect(selectors.fund_page_url(self.account))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class FundListView(LoginRequiredMixin, ListView):
    """The direct payments and individual service funds a person watches, with what each holds."""

    template_name = "payments/funds.html"
    paginate_by = 50
    context_object_name = "funds"

    def get_queryset(self):
        return selectors.funds_listed_for(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for fund in context["funds"]:
            fund.balance_total = round_penny(fund.loaded_total - fund.spent_total - fund.recovered_total)
            fund.page = selectors.fund_page_url(fund)
        return context

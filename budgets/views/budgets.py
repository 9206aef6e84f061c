"""Budget pages: a budget with how it was worked out and its ledger, the list for finance, a client's
own budget, the statement PDFs, and setting the final budget."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView, TemplateView
from djmoney.money import Money

from accounts import permissions as account_permissions
from accounts.dates import date_field
from accounts.exceptions import CairnError
from accounts.forms import add_service_errors
from accounts.models import Role
from accounts.money import CURRENCY

from .. import permissions, selectors
from ..exceptions import BudgetExceeded
from ..forms import FinalBudgetForm
from ..models import PersonalBudget
from ..pdf import budget_month_statement_pdf, budget_statement_pdf
from ..ras import compile_scheme, explain, price_answered
from ..services.budgets import budget_set_final
from .access import RoleRequiredMixin, visible_or_404
from .voice import BUDGET, lines_for

# A care plan's statuses once it is no longer being written or decided (careplans.models.PlanStatus,
# which budgets cannot import): any other plan of the budget is the one in progress.
FINISHED_PLAN_STATUSES = ("approved", "rejected", "withdrawn", "superseded")


class StatementPeriodForm(forms.Form):
    """The period a budget statement covers: the budget period unless the person chooses another."""

    start = date_field("From", help_text="For example, 1 4 2027", noun="The start date")
    end = date_field("To", help_text="For example, 31 3 2028", noun="The end date")

    def __init__(self, *args, budget: PersonalBudget, **kwargs):
        super().__init__(*args, **kwargs)
        self.budget = budget
        self.fields["start"].initial = budget.period_start
        self.fields["end"].initial = budget.period_end

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        cleaned["start"] = cleaned.get("start") or self.budget.period_start
        cleaned["end"] = cleaned.get("end") or self.budget.period_end
        if cleaned["end"] < cleaned["start"]:
            self.add_error(
                "end", f"The end date must be the same as or after the start date ({cleaned['start']:%-d %B %Y})"
            )
        return cleaned


class BudgetDetailView(LoginRequiredMixin, TemplateView):
    """A budget: how it was worked out, the four figures, money in and out month by month, and
    its ledger a page at a time, newest first (a busy budget has thousands of movements)."""

    template_name = "budgets/budget_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        budget = visible_or_404(selectors.budget_get_for, self.request.user, kwargs["pk"])
        assessment = budget.assessment
        pricing = price_answered(compile_scheme(assessment.scheme), assessment.answers, assessment.modifiers)
        months = selectors.budget_months(budget, timezone.localdate())
        figures = selectors.budget_figures(budget)
        plans = list(budget.plans.order_by("-version", "-id"))
        context.update(
            budget=budget,
            assessment=assessment,
            figures=figures,
            # The figures add up: allocated = committed + available, and committed = paid + still to pay.
            still_to_pay=figures.committed - figures.paid,
            # "Start a care plan" opens the plan in progress (careplans' rule: at most one a budget);
            # an approved plan is changed by a new version from its own page.
            plan_in_progress=next((p for p in plans if p.status not in FINISHED_PLAN_STATUSES), None),
            plan_in_force=next((p for p in plans if p.status == "approved"), None),
            funds=selectors.budget_fund_figures(budget),
            financial=selectors.latest_financial_assessment(budget.client),
            contributions=selectors.budget_contribution_figures(budget),
            may_record_financial=permissions.can_record_financial_assessment(self.request.user, budget.client),
            ledger=selectors.ledger_page(budget, self.request.GET.get("page")),
            month_totals=selectors.ledger_month_totals(budget),
            statement_form=StatementPeriodForm(budget=budget),
            # The page names the person to anyone but the person, the explanation too.
            explanation=lines_for(
                explain(pricing),
                is_own=budget.client_id == self.request.user.pk,
                name=budget.client.full_name,
                patterns=BUDGET,
            ),
            domain_points=pricing.domain_rows,
            is_own=budget.client_id == self.request.user.pk,
            can_set_final=permissions.can_set_final_budget(self.request.user, budget),
            # Seeing the budget already proves a social worker's or team manager's relationship.
            can_plan=account_permissions.acts_for(self.request.user, budget.client)
            or account_permissions.has_role(self.request.user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER),
            plans=budget.plans.order_by("-version", "-id"),
            # Finance sees the budget's figures, not the plans' or assessment's personal detail
            # (the same people as careplans.permissions.can_view_plan, which budgets cannot import).
            may_open_plans=account_permissions.is_admin(self.request.user)
            or account_permissions.acts_for(self.request.user, budget.client)
            or (
                account_permissions.has_role(self.request.user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER)
                and account_permissions.can_view_client(self.request.user, budget.client)
            ),
            may_open_assessment=permissions.can_view_assessment(self.request.user, assessment),
            months=months,
            months_with_statements=set(months),
        )
        return context


class BudgetListView(RoleRequiredMixin, ListView):
    """Every budget the person may see, with its four figures (finance and administrators)."""

    template_name = "budgets/budget_list.html"
    paginate_by = 50
    allowed = staticmethod(lambda user: account_permissions.has_role(user, Role.FINANCE, Role.ADMIN))

    def get_queryset(self):
        return selectors.budget_list_visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        figures = selectors.budget_figures_many([b.pk for b in context["object_list"]])
        # Each row adds up: allocated = committed + available; committed = paid + still to pay.
        context["rows"] = [
            (b, figures[b.pk], figures[b.pk].committed - figures[b.pk].paid) for b in context["object_list"]
        ]
        return context


class MyBudgetView(RoleRequiredMixin, TemplateView):
    """A client's own budget, or a plain statement that there is none yet. For a representative:
    the people they act for, each with a link to their budget."""

    template_name = "budgets/my_budget_none.html"
    allowed = staticmethod(lambda user: account_permissions.has_role(user, Role.CLIENT, Role.REPRESENTATIVE))

    def get(self, request, *args, **kwargs):
        if account_permissions.has_role(request.user, Role.REPRESENTATIVE):
            self.template_name = "budgets/budgets_acted_for.html"
            return super().get(request, *args, **kwargs)
        budget = selectors.current_budget(request.user)
        if budget is not None:
            return HttpResponseRedirect(reverse("budget-detail", args=[budget.pk]))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if account_permissions.has_role(self.request.user, Role.REPRESENTATIVE):
            context["people"] = selectors.current_budgets_acted_for(self.request.user)
        return context


class BudgetStatementView(LoginRequiredMixin, View):
    """The budget statement PDF for a period (`?start=…&end=…`, each defaulting to the budget
    period's, so the plain link is the whole budget period). A bad date or range gets the form
    back with what is wrong (400), not a PDF."""

    def get(self, request, pk):
        budget = visible_or_404(selectors.budget_get_for, request.user, pk)
        form = StatementPeriodForm(request.GET, budget=budget)
        if not form.is_valid():
            context = {"budget": budget, "form": form, "is_own": budget.client_id == request.user.pk}
            return render(request, "budgets/budget_statement_form.html", context, status=400)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        pdf = budget_statement_pdf(budget, start, end)
        response = HttpResponse(pdf, content_type="application/pdf")
        name = f"budget-statement-{budget.pk}"
        if (start, end) != (budget.period_start, budget.period_end):
            name += f"-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}"
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response


class BudgetMonthStatementView(LoginRequiredMixin, View):
    def get(self, request, pk, year, month):
        budget = visible_or_404(selectors.budget_get_for, request.user, pk)
        try:
            first = datetime.date(year, month, 1)
        except (ValueError, OverflowError) as exc:  # a month of 13, or a year of 20 digits
            raise Http404("No such month.") from exc
        if first not in selectors.budget_months(budget, timezone.localdate()):
            raise Http404("That month is outside the budget period, or still to come.")
        response = HttpResponse(budget_month_statement_pdf(budget, first), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="statement-{budget.pk}-{first:%Y-%m}.pdf"'
        return response


class BudgetFinalView(LoginRequiredMixin, TemplateView):
    template_name = "budgets/budget_final.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        self.budget = visible_or_404(selectors.budget_get_for, request.user, kwargs["pk"])
        if not permissions.can_set_final_budget(request.user, self.budget):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["budget"] = self.budget
        context["figures"] = selectors.budget_figures(self.budget)
        context.setdefault(
            "form",
            FinalBudgetForm(
                initial={
                    "amount": (self.budget.final_amount or self.budget.indicative_amount).amount,
                    "reason": self.budget.final_reason,
                }
            ),
        )
        return context

    def post(self, request, pk):
        form = FinalBudgetForm(request.POST)
        if form.is_valid():
            try:
                budget_set_final(
                    actor=request.user,
                    budget=self.budget,
                    amount=Money(form.cleaned_data["amount"], CURRENCY),
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except BudgetExceeded as exc:  # below what is committed: a problem with the amount typed
                form.add_error("amount", exc.message)
            except CairnError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The final budget is set.")
                return HttpResponseRedirect(reverse("budget-detail", args=[pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)

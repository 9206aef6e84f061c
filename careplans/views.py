"""The care plan designer: full-page forms that work without JavaScript.

The plan page shows the outcomes, the lines with their costs, and the plan's total against what
the budget has available. Adding a line searches the catalogue on the same page; every change
goes through `careplans.services`, which recomputes the costs.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.exceptions import CairnError, NotVisible
from budgets.models import PersonalBudget
from budgets.selectors import budget_figures
from providers.selectors import catalogue_services

from . import selectors, services
from .models import CarePlan, MoneyManagement
from .pdf import plan_pdf
from .permissions import can_edit_plan


def _plan(user, pk) -> CarePlan:
    try:
        return selectors.plan_get_for(user, pk)
    except NotVisible as exc:
        raise Http404(exc.message) from exc


def _existing_lines(plan: CarePlan) -> list[dict]:
    """The plan's current lines in the service's input shape, keeping their ids (and prices)."""
    result = []
    for line in plan.lines.all():
        item = {"id": line.pk, "service": line.service_id, "start": line.start}
        if line.kind == "weekly":
            item.update(units_per_week=line.units_per_week, end=line.end)
        else:
            item["quantity"] = line.quantity
        result.append(item)
    return result


class DetailsForm(forms.Form):
    outcomes = forms.CharField(
        label="What matters to me, and what I want to change",
        help_text="One outcome on each line",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    money_management = forms.ChoiceField(
        label="How the money is managed", choices=MoneyManagement.choices, widget=forms.RadioSelect
    )
    risks = forms.CharField(
        label="Risks, and how they are handled", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    contacts = forms.CharField(label="Who to contact", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    contingency_note = forms.CharField(
        label="If things change (contingency)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class LineForm(forms.Form):
    FREQUENCY = [("weekly", "Every week"), ("one_off", "Once")]
    service = forms.IntegerField(widget=forms.HiddenInput)
    frequency = forms.ChoiceField(label="How often", choices=FREQUENCY, widget=forms.RadioSelect, initial="weekly")
    amount = forms.DecimalField(
        label="How many units (each week, or in total if once)",
        max_digits=8,
        decimal_places=2,
        error_messages={"required": "Enter how many units", "invalid": "Enter a number, like 2 or 1.5"},
    )
    start = forms.DateField(
        label="Start date",
        help_text="For example, 2027-04-01",
        error_messages={"invalid": "Enter a date like 2027-04-01"},
    )
    end = forms.DateField(
        label="End date (weekly support)",
        required=False,
        help_text="Leave blank for a one-off",
        error_messages={"invalid": "Enter a date like 2027-04-01"},
    )

    def line(self) -> dict:
        data = self.cleaned_data
        if data["frequency"] == "weekly":
            return {
                "service": data["service"],
                "units_per_week": data["amount"],
                "start": data["start"],
                "end": data["end"],
            }
        return {"service": data["service"], "quantity": data["amount"], "start": data["start"]}


class PlanStartView(LoginRequiredMixin, View):
    def post(self, request, budget_id):
        budget = get_object_or_404(PersonalBudget, pk=budget_id)
        try:
            plan = services.plan_create(actor=request.user, budget=budget)
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        return HttpResponseRedirect(reverse("plan-detail", args=[plan.pk]))


class PlanDetailView(LoginRequiredMixin, TemplateView):
    template_name = "careplans/plan_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan = _plan(self.request.user, kwargs["pk"])
        figures = budget_figures(plan.budget)
        difference = figures.available - plan.total_cost
        context.update(
            plan=plan,
            figures=figures,
            difference=difference,
            over_budget=difference.amount < 0,
            can_edit=plan.is_editable and can_edit_plan(self.request.user, plan),
        )
        return context


class PlanDetailsEditView(LoginRequiredMixin, TemplateView):
    template_name = "careplans/plan_details_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.plan = _plan(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan = self.plan
        context["plan"] = plan
        context.setdefault(
            "form",
            DetailsForm(
                initial={
                    "outcomes": "\n".join(o.text for o in plan.outcomes.all()),
                    "money_management": plan.money_management,
                    "risks": plan.risks,
                    "contacts": plan.contacts,
                    "contingency_note": plan.contingency_note,
                }
            ),
        )
        return context

    def post(self, request, pk):
        form = DetailsForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["outcomes"] = [line.strip() for line in data["outcomes"].splitlines() if line.strip()]
            try:
                services.plan_update(actor=request.user, plan=self.plan, **data)
            except CairnError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Your plan is saved as a draft.")
                return HttpResponseRedirect(reverse("plan-detail", args=[pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LineAddView(LoginRequiredMixin, TemplateView):
    """Search the catalogue on the page, pick a service, say how much and when."""

    template_name = "careplans/line_add.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.plan = _plan(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").strip()
        chosen = self.request.GET.get("service") or self.request.POST.get("service")
        results = catalogue_services(q=q, postcode_district=self.request.GET.get("postcode_district", ""))[:20]
        service = catalogue_services().filter(pk=chosen).first() if chosen and str(chosen).isdigit() else None
        context.update(
            plan=self.plan,
            q=q,
            results=results if (q or self.request.GET.get("postcode_district")) and not service else [],
            service=service,
        )
        context.setdefault(
            "form",
            LineForm(initial={"service": service.pk if service else None, "start": self.plan.budget.period_start}),
        )
        return context

    def post(self, request, pk):
        form = LineForm(request.POST)
        if form.is_valid():
            try:
                services.plan_update(
                    actor=request.user, plan=self.plan, lines=[*_existing_lines(self.plan), form.line()]
                )
            except CairnError as exc:
                for message in (exc.errors or {}).get("lines", [exc.message]):
                    form.add_error(None, message.split(": ", 1)[-1] if message.startswith("Line ") else message)
            else:
                messages.success(request, "The support is added to your plan.")
                return HttpResponseRedirect(reverse("plan-detail", args=[pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LineRemoveView(LoginRequiredMixin, View):
    def post(self, request, pk, line_id):
        plan = _plan(request.user, pk)
        remaining = [item for item in _existing_lines(plan) if item["id"] != line_id]
        try:
            services.plan_update(actor=request.user, plan=plan, lines=remaining)
        except CairnError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The support is removed from your plan.")
        return HttpResponseRedirect(reverse("plan-detail", args=[pk]))


class PlanPdfView(LoginRequiredMixin, View):
    def get(self, request, pk):
        plan = _plan(request.user, pk)
        response = HttpResponse(plan_pdf(plan), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="care-plan-{plan.pk}-v{plan.version}.pdf"'
        return response

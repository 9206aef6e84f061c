"""The care plan designer: full-page forms that work without JavaScript.

The plan page shows the outcomes, the lines with their costs, and the plan's total against what
the budget has available. Adding a line searches the catalogue on the same page; every change
goes through `careplans.services`, which recomputes the costs.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from accounts.dates import date_field
from accounts.exceptions import CairnError, NotVisible
from accounts.forms import pounds_field
from accounts.permissions import acts_for
from accounts.templatetags.words import possessive_text
from accounts.text import FreeTextFormField
from budgets.models import PersonalBudget
from providers.models import ServiceUnit
from providers.selectors import catalogue_services

from . import selectors, services
from .costing import units_per_week_problem
from .models import (
    OUTCOME_MAX_LENGTH,
    PLAN_MAX_OUTCOMES,
    PLAN_TEXT_MAX_LENGTH,
    CarePlan,
    LineKind,
    MoneyManagement,
    PlanStatus,
)
from .pdf import plan_pdf
from .permissions import can_edit_plan, can_plan_for


def _plan(user, pk) -> CarePlan:
    try:
        return selectors.plan_get_for(user, pk)
    except NotVisible as exc:
        raise Http404(exc.message) from exc


def _voice(user, plan: CarePlan) -> dict:
    """Whom the page speaks to: the person (or someone acting for them) reads "your plan"; a
    social worker, team manager or administrator reads the person's name. Templates get
    `is_own` and `person`."""
    return {"is_own": acts_for(user, plan.client), "person": plan.client}


def _whose_plan(user, plan: CarePlan) -> str:
    """ "your plan", or "Grace Adeyemi's plan" for staff: for the messages after a change."""
    return "your plan" if acts_for(user, plan.client) else f"{possessive_text(plan.client.full_name)} plan"


def _existing_lines(plan: CarePlan) -> list[dict]:
    """The plan's current lines in the service's input shape, keeping their ids (and prices)."""
    result = []
    for line in plan.lines.all():
        item = {
            "id": line.pk,
            "service": line.service_id,
            "money_management": line.money_management,
            "start": line.start,
        }
        if line.kind == "weekly":
            item.update(units_per_week=line.units_per_week, end=line.end)
        else:
            item["quantity"] = line.quantity
        result.append(item)
    return result


def _costing(plan: CarePlan, total=None, *, line_cost=None, proposed=False, problems=()) -> dict:
    """What the running-total panel shows: the plan's total (or the total a proposed change would
    give), what is available for this plan, the difference, and whether it is over budget.
    "Available for this plan" is the budget's "available to plan" plus what this plan (or the
    approved version it replaces) already has set aside; `set_aside` says how much, so the panel
    can show how the two figures meet."""
    figures = selectors.budget_figures(plan.budget)
    available = selectors.plan_available(plan, figures)
    budget_available = figures.available
    total = plan.total_cost if total is None else total
    difference = available - total
    return {
        "plan": plan,
        "total": total,
        "available": available,
        "budget_available": budget_available,
        "set_aside": available - budget_available,
        "difference": difference,
        "over_budget": difference.amount < 0,
        "amount_over": -difference,
        "line_cost": line_cost,
        "proposed": proposed,
        "problems": list(problems),
    }


# The service speaks the API's field names; a page speaks its labels.
_PAGE_WORDS = {
    "units_per_week must": "The number of units must",
    "quantity must": "The number of units must",
    "start must": "The start date must",
    "end must": "The end date must",
    "the start date must": "The start date must",
    "unit_price must": "The price must",
}


def _line_problems(exc: CairnError) -> list[str]:
    """A service's per-line messages in the page's words, without the "Line 3:" prefix the API
    needs (a page shows one line)."""
    problems = []
    for message in (exc.errors or {}).get("lines", [exc.message]):
        message = message.split(": ", 1)[-1] if message.startswith("Line ") else message
        for api_words, page_words in _PAGE_WORDS.items():
            if message.startswith(api_words):
                message = page_words + message[len(api_words) :]
        problems.append(message[:1].upper() + message[1:])
    return problems


class DetailsForm(forms.Form):
    outcomes = FreeTextFormField(
        label="What matters to me, and what I want to change",
        help_text="One outcome on each line",
        required=False,
        # Bounded like the API (docs/api.md, "Limits"); the service counts the outcomes.
        max_length=PLAN_MAX_OUTCOMES * (OUTCOME_MAX_LENGTH + 2),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    risks = FreeTextFormField(
        label="Risks, and how they are handled",
        required=False,
        max_length=PLAN_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contacts = FreeTextFormField(
        label="Who to contact",
        required=False,
        max_length=PLAN_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contingency_note = FreeTextFormField(
        label="If things change (contingency)",
        required=False,
        max_length=PLAN_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


PAID_HOW = [
    (MoneyManagement.COUNCIL_MANAGED, "The council pays the provider"),
    (MoneyManagement.DIRECT_PAYMENT, "A direct payment to me: I pay the provider"),
    (MoneyManagement.INDIVIDUAL_SERVICE_FUND, "An individual service fund: the provider holds the money for me"),
]


def paid_how_for(name: str) -> list[tuple[str, str]]:
    """The same choices as staff read them, about the person by name (the person reads "me")."""
    return [
        (MoneyManagement.COUNCIL_MANAGED, "The council pays the provider"),
        (MoneyManagement.DIRECT_PAYMENT, f"A direct payment to {name}: they pay the provider"),
        (
            MoneyManagement.INDIVIDUAL_SERVICE_FUND,
            f"An individual service fund: the provider holds the money for {name}",
        ),
    ]


class LineForm(forms.Form):
    """How much, how often and when. Given the `budget`, the end of support every week defaults to
    the budget's end (a blank end means "until the budget ends"), and the hints say the dates the
    budget allows. Given the `unit`, more units a week than a week holds are refused by the
    amount. A `preview` form also fills a blank start with the default, so the cost shows as soon
    as the units are known. `about` (the person's name, for staff) words how it is paid about
    them rather than "me"."""

    FREQUENCY = [("weekly", "Every week"), ("one_off", "Once")]
    service = forms.IntegerField(widget=forms.HiddenInput)
    money_management = forms.ChoiceField(
        label="How it is paid",
        choices=PAID_HOW,
        widget=forms.RadioSelect,
        initial=MoneyManagement.COUNCIL_MANAGED,
        required=False,  # not chosen: the plan's usual way (council-managed unless it says otherwise)
        error_messages={"invalid_choice": "Choose how it is paid"},
    )
    frequency = forms.ChoiceField(label="How often", choices=FREQUENCY, widget=forms.RadioSelect, initial="weekly")
    amount = forms.DecimalField(
        label="How many units (each week, or in total if once)",
        max_digits=8,
        decimal_places=2,
        error_messages={"required": "Enter how many units", "invalid": "Enter a number, like 2 or 1.5"},
    )
    start = date_field(
        "Start date", help_text="For example, 1 4 2027", required_message="Enter the start date", noun="The start date"
    )
    end = date_field("End date, for support every week", noun="The end date")

    def __init__(self, *args, budget=None, unit: str = "", preview: bool = False, about: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.budget, self.unit, self.preview = budget, unit, preview
        if about and "money_management" in self.fields:  # staff: the person by name, not "me"
            self.fields["money_management"].choices = paid_how_for(about)
        if budget is not None:
            first, last = f"{budget.period_start:%-d %B %Y}", f"{budget.period_end:%-d %B %Y}"
            self.fields["start"].help_text = (
                f"For example, {budget.period_start.day} {budget.period_start.month} {budget.period_start.year}. "
                f"Within the budget: {first} to {last}."
            )
            self.fields["end"].help_text = (
                f"Support every week runs to the end of the budget, {last}, unless you give an earlier date. "
                "Support bought once needs no end date."
            )
        if preview:
            self.fields["start"].required = False

    def clean(self):
        data = super().clean()
        weekly = data.get("frequency") == "weekly"
        if self.budget is not None:
            if "start" in data and data["start"] is None and self.preview:
                data["start"] = default_start(self.budget)
            if weekly and "end" in data and data["end"] is None:
                data["end"] = self.budget.period_end
        if weekly and "end" in data and data["end"] is None:
            self.add_error("end", "Enter the end date for support every week")
        unit = data.get("unit") or self.unit
        if weekly and unit and data.get("amount") is not None:
            too_many = units_per_week_problem(unit, data["amount"])
            if too_many:
                self.add_error("amount", f"The number of units must be {too_many}")
        return data

    def what(self) -> dict:
        """What is bought (the service) and how it is paid, in the service's input shape."""
        what = {"service": self.cleaned_data["service"]}
        if self.cleaned_data.get("money_management"):
            what["money_management"] = self.cleaned_data["money_management"]
        return what

    def line(self) -> dict:
        data = self.cleaned_data
        if data["frequency"] == "weekly":
            return {**self.what(), "units_per_week": data["amount"], "start": data["start"], "end": data["end"]}
        return {**self.what(), "quantity": data["amount"], "start": data["start"]}


class OwnArrangementForm(LineForm):
    """Support bought outside the catalogue with a direct payment: a personal assistant, a local
    class, a taxi firm. The person types what it is, its unit and its price."""

    service = None
    money_management = None
    description = FreeTextFormField(
        label="What is it?",
        help_text="For example, personal assistant, swimming lessons or a taxi to the day centre",
        max_length=200,
        error_messages={"required": "Say what the support is", "max_length": "Keep it under 200 characters"},
    )
    unit = forms.ChoiceField(
        label="Paid by the",
        choices=[("", "Choose"), *ServiceUnit.choices],
        error_messages={"required": "Choose what it is paid by", "invalid_choice": "Choose what it is paid by"},
    )
    unit_price = pounds_field(
        "Price for each, in pounds", noun="price", required_message="Enter the price", example="14.50"
    )
    field_order = ["description", "unit", "unit_price", "frequency", "amount", "start", "end"]

    def what(self) -> dict:
        data = self.cleaned_data
        return {
            "description": data["description"],
            "unit": data["unit"],
            "unit_price": data["unit_price"],
            "money_management": MoneyManagement.DIRECT_PAYMENT,
        }


class OwnLineChangeForm(LineForm):
    """Changing an own arrangement: how much, how often and when (its terms and payment stay)."""

    service = None
    money_management = None

    def what(self) -> dict:
        return {}


def default_start(budget: PersonalBudget) -> datetime.date:
    """Where new support starts unless the person says otherwise: today, within the budget."""
    return min(max(timezone.localdate(), budget.period_start), budget.period_end)


class PlanStartView(LoginRequiredMixin, View):
    """The "Start a care plan" button never makes a second plan: it opens the budget's plan in progress if it
    has one (the service refuses a second, even for two clicks at once), and an approved plan
    is changed by a new version from its own page."""

    def post(self, request, budget_id):
        budget = get_object_or_404(PersonalBudget, pk=budget_id)
        if not can_plan_for(request.user, budget):
            raise Http404("No such budget.")
        in_force = selectors.plan_in_force(budget.pk)
        if in_force is not None and selectors.plan_in_progress(budget.pk) is None:
            messages.info(request, "This plan is approved. To change it, start a new version.")
            return HttpResponseRedirect(reverse("plan-detail", args=[in_force.pk]))
        try:
            plan = services.plan_create(actor=request.user, budget=budget)
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        except services.PlanInProgress as exc:
            messages.info(request, "This budget already has a care plan in progress: here it is.")
            return HttpResponseRedirect(reverse("plan-detail", args=[exc.plan.pk]))
        return HttpResponseRedirect(reverse("plan-detail", args=[plan.pk]))


class PlanDetailView(LoginRequiredMixin, TemplateView):
    template_name = "careplans/plan_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan = _plan(self.request.user, kwargs["pk"])
        may_edit = can_edit_plan(self.request.user, plan)
        versions = selectors.plan_versions(plan)
        context.update(
            **_voice(self.request.user, plan),
            plan=plan,
            costing=_costing(plan),
            can_edit=plan.is_editable and may_edit,
            versions=versions if len(versions) > 1 else [],
            history=selectors.plan_history(plan),
            can_amend=may_edit and plan.status == PlanStatus.APPROVED and versions[-1].pk == plan.pk,
            money_parts=selectors.plan_money_parts(plan),
            has_direct_payment=any(
                line.money_management == MoneyManagement.DIRECT_PAYMENT for line in plan.lines.all()
            ),
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
        context.update(plan=plan, **_voice(self.request.user, plan))
        context.setdefault(
            "form",
            DetailsForm(
                initial={
                    "outcomes": "\n".join(o.text for o in plan.outcomes.all()),
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
                whose = _whose_plan(request.user, self.plan)
                messages.success(request, f"{whose[:1].upper()}{whose[1:]} is saved as a draft.")
                return HttpResponseRedirect(reverse("plan-detail", args=[pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class _LineFormView(LoginRequiredMixin, TemplateView):
    """Shared by adding and changing a line: the form posts to save; with `preview` it only
    prices the change. htmx sends the preview as the person types (`HX-Request`) and gets just
    the running-total panel back; without JavaScript the "Work out the cost" button posts the
    same preview and gets the whole page. Subclasses say what the plan's lines would become
    (`proposed_lines(form)`) and what to tell the person when saved (`saved_message()`)."""

    line = None
    form_class = LineForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.plan = _plan(request.user, kwargs["pk"])
            if not can_edit_plan(request.user, self.plan):
                raise Http404("No such plan.")
            if not self.plan.is_editable:
                # The plan is there and theirs, but in the wrong state: say so (409), don't pretend it's gone.
                return render(request, "careplans/plan_locked.html", {"plan": self.plan}, status=409)
            self.find_line(kwargs.get("line_id"))
        return super().dispatch(request, *args, **kwargs)

    def find_line(self, line_id: int | None) -> None:
        """Changing a line: the line must be one of this plan's (404 otherwise)."""
        if line_id is not None:
            self.line = next((line for line in self.plan.lines.all() if line.pk == line_id), None)
            if self.line is None:
                raise Http404("No such line in this plan.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(plan=self.plan, **_voice(self.request.user, self.plan))
        context.setdefault("costing", _costing(self.plan))
        return context

    def make_form(self, data=None, **kwargs):
        about = "" if acts_for(self.request.user, self.plan.client) else self.plan.client.full_name
        return self.form_class(data, budget=self.plan.budget, unit=self.unit(), about=about, **kwargs)

    def unit(self) -> str:
        """The unit the line is bought in, when known before the form is read (for the weekly cap)."""
        return self.line.unit if self.line is not None else ""

    def post(self, request, pk, **kwargs):
        form = self.make_form(request.POST, preview="preview" in request.POST)
        if "preview" in request.POST:
            costing = self.preview(form)
            if request.headers.get("HX-Request"):
                return render(request, "careplans/_costing.html", {"costing": costing})
            return self.render_to_response(self.get_context_data(form=form, costing=costing))
        if form.is_valid():
            try:
                services.plan_update(actor=request.user, plan=self.plan, lines=self.proposed_lines(form))
            except CairnError as exc:
                for message in _line_problems(exc):
                    form.add_error("amount" if message.startswith("The number of units") else None, message)
            else:
                messages.success(request, self.saved_message())
                return HttpResponseRedirect(reverse("plan-detail", args=[pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def preview(self, form: LineForm) -> dict:
        if not form.is_valid():
            if not str(form.data.get("amount", "")).strip():
                return _costing(self.plan, problems=["Enter how many units to see what the support costs."])
            return _costing(self.plan, problems=[e for errors in form.errors.values() for e in errors])
        lines = self.proposed_lines(form)
        try:
            priced, total = services.plan_price(actor=self.request.user, plan=self.plan, lines=lines)
        except CairnError as exc:
            return _costing(self.plan, problems=_line_problems(exc))
        changed = self.changed_index(lines)
        return _costing(self.plan, total, line_cost=priced[changed].cost, proposed=True)

    def changed_index(self, lines: list[dict]) -> int:
        return len(lines) - 1


class LineAddView(_LineFormView):
    """Search the catalogue on the page, pick a service, say how much and when."""

    template_name = "careplans/line_add.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").strip()
        results = catalogue_services(q=q, postcode_district=self.request.GET.get("postcode_district", ""))[:20]
        service = self.chosen_service()
        context.update(
            q=q,
            results=results if (q or self.request.GET.get("postcode_district")) and not service else [],
            service=service,
        )
        context.setdefault(
            "form",
            self.make_form(
                initial={
                    "service": service.pk if service else None,
                    "money_management": self.plan.money_management,
                    "start": default_start(self.plan.budget),
                    "end": self.plan.budget.period_end,
                }
            ),
        )
        return context

    def chosen_service(self):
        """The service chosen on the page (`?service=`, or the form's), looked up once a request."""
        if not hasattr(self, "_chosen"):
            chosen = self.request.GET.get("service") or self.request.POST.get("service")
            self._chosen = catalogue_services().filter(pk=chosen).first() if chosen and str(chosen).isdigit() else None
        return self._chosen

    def unit(self) -> str:
        service = self.chosen_service()
        return service.unit if service is not None else ""

    def proposed_lines(self, form: LineForm) -> list[dict]:
        return [*_existing_lines(self.plan), form.line()]

    def saved_message(self) -> str:
        return f"The support is added to {_whose_plan(self.request.user, self.plan)}."


class OwnArrangementAddView(_LineFormView):
    """Add support arranged outside the catalogue (always a direct payment)."""

    template_name = "careplans/own_arrangement_add.html"
    form_class = OwnArrangementForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault(
            "form",
            self.make_form(initial={"start": default_start(self.plan.budget), "end": self.plan.budget.period_end}),
        )
        return context

    def proposed_lines(self, form: LineForm) -> list[dict]:
        return [*_existing_lines(self.plan), form.line()]

    def saved_message(self) -> str:
        if acts_for(self.request.user, self.plan.client):
            return "Your own arrangement is added to your plan, paid by direct payment."
        name = self.plan.client.full_name
        return f"{possessive_text(name)} own arrangement is added to their plan, paid by direct payment."


class LineChangeView(_LineFormView):
    """Change how much of a service, how often, when and how it is paid; the agreed price stays.
    An own arrangement stays a direct payment."""

    template_name = "careplans/line_change.html"

    def find_line(self, line_id: int | None) -> None:
        super().find_line(line_id)
        if self.line is not None and self.line.is_own_arrangement:
            self.form_class = OwnLineChangeForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        line = self.line
        weekly = line.kind == LineKind.WEEKLY
        context["line"] = line
        if "costing" not in kwargs:  # what the line costs now, shown from the start (the units are known)
            context["costing"] = _costing(self.plan, line_cost=line.cost)
        context.setdefault(
            "form",
            self.make_form(
                initial={
                    "service": line.service_id,
                    "money_management": line.money_management,
                    "frequency": line.kind,
                    # As typed: 10, not 1E+1 (normalize alone writes round tens as powers).
                    "amount": f"{(line.units_per_week if weekly else line.quantity).normalize():f}",
                    "start": line.start,
                    "end": line.end if weekly else None,
                }
            ),
        )
        return context

    def proposed_lines(self, form: LineForm) -> list[dict]:
        changed = {**form.line(), "id": self.line.pk, "service": self.line.service_id}
        return [changed if item["id"] == self.line.pk else item for item in _existing_lines(self.plan)]

    def changed_index(self, lines: list[dict]) -> int:
        return next(i for i, item in enumerate(lines) if item.get("id") == self.line.pk)

    def saved_message(self) -> str:
        return f"{self.line.title} is changed."


class LineRemoveConfirmView(LoginRequiredMixin, View):
    """ "Are you sure?" before a line is removed: a page of its own, so it works without
    JavaScript. Its button posts to `LineRemoveView`."""

    def get(self, request, pk, line_id):
        plan = _plan(request.user, pk)
        if not can_edit_plan(request.user, plan):
            raise Http404("No such plan.")
        if not plan.is_editable:
            return render(request, "careplans/plan_locked.html", {"plan": plan}, status=409)
        line = plan.lines.filter(pk=line_id).select_related("provider").first()
        if line is None:
            raise Http404("No such line in this plan.")
        context = {"plan": plan, "line": line, **_voice(request.user, plan)}
        return render(request, "careplans/line_remove_confirm.html", context)


class LineRemoveView(LoginRequiredMixin, View):
    def post(self, request, pk, line_id):
        plan = _plan(request.user, pk)
        remaining = [item for item in _existing_lines(plan) if item["id"] != line_id]
        try:
            services.plan_update(actor=request.user, plan=plan, lines=remaining)
        except CairnError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"The support is removed from {_whose_plan(request.user, plan)}.")
        return HttpResponseRedirect(reverse("plan-detail", args=[pk]))


class PlanNewVersionView(LoginRequiredMixin, View):
    """Amend an approved plan: start a new draft version (the approved one stays in force)."""

    def post(self, request, pk):
        plan = _plan(request.user, pk)
        try:
            new = services.plan_new_version(actor=request.user, plan=plan)
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        except CairnError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("plan-detail", args=[pk]))
        messages.success(
            request, f"Version {new.version} is a draft. Version {plan.version} stays in force until it is approved."
        )
        return HttpResponseRedirect(reverse("plan-detail", args=[new.pk]))


class PlanPdfView(LoginRequiredMixin, View):
    def get(self, request, pk):
        plan = _plan(request.user, pk)
        response = HttpResponse(
            plan_pdf(plan, history=selectors.plan_history_rows(plan)), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="care-plan-{plan.pk}-v{plan.version}.pdf"'
        return response

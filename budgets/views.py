"""Budget pages: the caseload with statuses, the assessment wizard and decision, a budget with how
it was worked out and its ledger, the statement PDF, the final budget, and what-if runs."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView, TemplateView
from djmoney.money import Money

from accounts import permissions as account_permissions
from accounts.exceptions import CairnError, NotVisible
from accounts.forms import add_service_errors
from accounts.models import AuditAction, CaseloadAssignment, Role, User
from accounts.money import CURRENCY
from accounts.selectors import client_get_for, current_social_worker
from accounts.services import audit_record

from . import permissions, selectors
from .forms import AnswersStepForm, CompleteForm, ConditionsForm, FinalBudgetForm
from .models import AssessmentStatus, RasScheme, SchemeStatus, WhatIfRun, WhatIfStatus
from .pdf import budget_month_statement_pdf, budget_statement_pdf
from .ras import OUTCOME_LABELS, answered, compile_scheme, explain, price_answered
from .services import assessments as assessment_services
from .services.budgets import budget_set_final
from .services.whatif import whatif_start


def _visible(getter, user, pk):
    try:
        return getter(user, pk)
    except NotVisible as exc:
        raise Http404(exc.message) from exc


class RoleRequiredMixin(LoginRequiredMixin):
    """403 for a signed-in person whose role may not use the page."""

    allowed = staticmethod(lambda user: False)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.allowed(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class CaseloadView(RoleRequiredMixin, TemplateView):
    """A social worker's clients with where each has got to, and clients waiting for anyone."""

    template_name = "budgets/caseload.html"
    allowed = staticmethod(account_permissions.can_view_own_caseload)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = list(selectors.caseload_with_status(social_worker=self.request.user))
        for row in rows:
            row.status_text = selectors.client_status(row)
        context["assignments"] = rows
        context["unallocated"] = (
            User.objects.filter(role=Role.CLIENT, is_active=True)
            .exclude(pk__in=CaseloadAssignment.objects.filter(end_date__isnull=True).values("client_id"))
            .order_by("full_name")[:50]
        )
        return context


class ClientDetailView(LoginRequiredMixin, TemplateView):
    """A client's record with their assessments and budgets. Only people who may see it get it
    (404 otherwise); each opening is audited."""

    template_name = "budgets/client_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client = _visible(client_get_for, self.request.user, kwargs["pk"])
        audit_record(actor=self.request.user, action=AuditAction.VIEW, target=client, request=self.request)
        context.update(
            client=client,
            social_worker=current_social_worker(client=client),
            history=client.social_worker_assignments.select_related("social_worker").order_by("-start_date"),
            assessments=client.assessments.select_related("assessor").order_by("-created_at"),
            budgets=client.budgets.order_by("-period_start"),
            can_assess=permissions.can_assess_client(self.request.user, client),
        )
        return context


class AssessmentStartView(LoginRequiredMixin, View):
    """Start a draft assessment of a client (POST), then go to its first page."""

    def post(self, request, client_id):
        client = get_object_or_404(User, pk=client_id, role=Role.CLIENT)
        try:
            assessment = assessment_services.assessment_create(actor=request.user, client=client, request=request)
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        except CairnError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("caseload"))
        return HttpResponseRedirect(reverse("assessment-step", args=[assessment.pk, 1]))


def _steps(compiled) -> list[dict]:
    steps = [{"key": d, "title": OUTCOME_LABELS[d]} for d in compiled.domains]
    steps.append({"key": "conditions", "title": "Eligibility conditions"})
    return steps


class AssessmentStepView(LoginRequiredMixin, TemplateView):
    """One page of the wizard. 'Save and continue' needs every question on the page answered;
    'Save as draft' keeps whatever is there and returns to the assessment summary."""

    template_name = "budgets/assessment_step.html"

    def setup_assessment(self, request, pk, step):
        self.assessment = _visible(selectors.assessment_get_for, request.user, pk)
        if not permissions.can_edit_assessment(request.user, self.assessment):
            raise PermissionDenied
        if self.assessment.status != AssessmentStatus.DRAFT:
            return HttpResponseRedirect(reverse("assessment-detail", args=[pk]))
        self.compiled = compile_scheme(self.assessment.scheme)
        self.steps = _steps(self.compiled)
        if not 1 <= step <= len(self.steps):
            raise Http404("No such step.")
        self.step = step
        self.current = self.steps[step - 1]
        return None

    def form(self, data=None, *, require=False):
        if self.current["key"] == "conditions":
            return ConditionsForm(
                data, compiled=self.compiled, require=require, initial=ConditionsForm.initial_for(self.assessment)
            )
        return AnswersStepForm(
            data,
            questions=self.compiled.questions_in(self.current["key"]),
            answers=self.assessment.answers,
            require=require,
        )

    def get(self, request, pk, step):
        redirect = self.setup_assessment(request, pk, step)
        return redirect or self.render_to_response(self.context(self.form()))

    def post(self, request, pk, step):
        redirect = self.setup_assessment(request, pk, step)
        if redirect:
            return redirect
        continuing = "continue" in request.POST
        form = self.form(request.POST, require=continuing)
        if not form.is_valid():
            return self.render_to_response(self.context(form), status=400)
        changes = form.values() if self.current["key"] == "conditions" else {"answers": form.answers()}
        try:
            assessment_services.assessment_update(
                actor=request.user, assessment=self.assessment, request=request, **changes
            )
        except CairnError as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(self.context(form), status=400)
        if continuing and step < len(self.steps):
            return HttpResponseRedirect(reverse("assessment-step", args=[pk, step + 1]))
        if not continuing:
            messages.success(request, "Your answers are saved as a draft. You can come back to them at any time.")
        return HttpResponseRedirect(reverse("assessment-detail", args=[pk]))

    def context(self, form):
        answered = set(self.assessment.answers)
        for s in self.steps:
            keys = [q.code for q in self.compiled.questions_in(s["key"])] if s["key"] != "conditions" else []
            s["done"] = (
                all(k in answered for k in keys)
                if keys
                else (self.assessment.impairment is not None and self.assessment.wellbeing_impact is not None)
            )
        return {
            "assessment": self.assessment,
            "form": form,
            "step": self.step,
            "steps": self.steps,
            "current": self.current,
            "is_conditions": self.current["key"] == "conditions",
            "progress_percent": int((self.step - 1) * 100 / len(self.steps)),
        }


class AssessmentDetailView(LoginRequiredMixin, TemplateView):
    """The summary and decision: answers by outcome, eligibility with reasons, points and money,
    and the action that fits (complete, record not eligible, or carry on answering)."""

    template_name = "budgets/assessment_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        assessment = _visible(selectors.assessment_get_for, self.request.user, kwargs["pk"])
        compiled = compile_scheme(assessment.scheme)
        steps = _steps(compiled)
        rows = []
        for number, s in enumerate(steps, start=1):
            if s["key"] == "conditions":
                continue
            for q in compiled.questions_in(s["key"]):
                code = assessment.answers.get(q.code)
                rows.append(
                    {
                        "outcome": s["title"],
                        "question": q.text,
                        "answer": q.answers[code].text if code in q.answers else None,
                        "points": q.answers[code].points if code in q.answers else None,
                        "step": number,
                    }
                )
        pricing = price_answered(compiled, assessment.answers, assessment.modifiers)
        all_answered = len(answered(compiled, assessment.answers)) == len(compiled.questions)
        conditions_done = assessment.impairment is not None and assessment.wellbeing_impact is not None
        context.update(
            assessment=assessment,
            rows=rows,
            steps=steps,
            conditions_step=len(steps),
            pricing=pricing,
            explanation=explain(pricing),
            domain_points=pricing.domain_rows,
            ready=all_answered and conditions_done,
            all_answered=all_answered,
            conditions_done=conditions_done,
            can_edit=permissions.can_edit_assessment(self.request.user, assessment)
            and assessment.status == AssessmentStatus.DRAFT,
            complete_form=kwargs.get("complete_form") or CompleteForm(),
            budget=getattr(assessment, "budget", None) if assessment.status == AssessmentStatus.COMPLETED else None,
        )
        return context


class AssessmentCompleteView(LoginRequiredMixin, View):
    def post(self, request, pk):
        assessment = _visible(selectors.assessment_get_for, request.user, pk)
        form = CompleteForm(request.POST)
        if not form.is_valid():
            detail = AssessmentDetailView()
            detail.setup(request, pk=pk)
            return detail.render_to_response(detail.get_context_data(pk=pk, complete_form=form), status=400)
        try:
            budget = assessment_services.assessment_complete(
                actor=request.user,
                assessment=assessment,
                period_start=form.cleaned_data["period_start"],
                request=request,
            )
        except CairnError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("assessment-detail", args=[pk]))
        messages.success(request, "Assessment completed and the personal budget set up.")
        return HttpResponseRedirect(reverse("budget-detail", args=[budget.pk]))


class AssessmentNotEligibleView(LoginRequiredMixin, View):
    def post(self, request, pk):
        assessment = _visible(selectors.assessment_get_for, request.user, pk)
        try:
            assessment_services.assessment_record_not_eligible(
                actor=request.user, assessment=assessment, request=request
            )
        except CairnError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The decision is recorded: not eligible, with the reasons shown.")
        return HttpResponseRedirect(reverse("assessment-detail", args=[pk]))


class BudgetDetailView(LoginRequiredMixin, TemplateView):
    """A budget: how it was worked out, the four figures, and every ledger movement."""

    template_name = "budgets/budget_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        budget = _visible(selectors.budget_get_for, self.request.user, kwargs["pk"])
        assessment = budget.assessment
        pricing = price_answered(compile_scheme(assessment.scheme), assessment.answers, assessment.modifiers)
        context.update(
            budget=budget,
            assessment=assessment,
            figures=selectors.budget_figures(budget),
            ledger=selectors.ledger_list(budget),
            explanation=explain(pricing),
            domain_points=pricing.domain_rows,
            is_own=budget.client_id == self.request.user.pk,
            can_set_final=permissions.can_set_final_budget(self.request.user, budget),
            # Seeing the budget already proves the relationship; of those roles these may plan.
            can_plan=account_permissions.has_role(
                self.request.user, Role.CLIENT, Role.SOCIAL_WORKER, Role.TEAM_MANAGER
            ),
            plans=budget.plans.order_by("-version", "-id"),
            months=selectors.budget_months(budget, timezone.localdate()),
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
        context["rows"] = [(b, figures[b.pk]) for b in context["object_list"]]
        return context


class MyBudgetView(RoleRequiredMixin, TemplateView):
    """A client's own budget, or a plain statement that there is none yet."""

    template_name = "budgets/my_budget_none.html"
    allowed = staticmethod(lambda user: account_permissions.has_role(user, Role.CLIENT))

    def get(self, request, *args, **kwargs):
        budget = selectors.current_budget(request.user)
        if budget is not None:
            return HttpResponseRedirect(reverse("budget-detail", args=[budget.pk]))
        return super().get(request, *args, **kwargs)


class BudgetStatementView(LoginRequiredMixin, View):
    def get(self, request, pk):
        budget = _visible(selectors.budget_get_for, request.user, pk)
        pdf = budget_statement_pdf(budget)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="budget-statement-{budget.pk}.pdf"'
        return response


class BudgetMonthStatementView(LoginRequiredMixin, View):
    def get(self, request, pk, year, month):
        budget = _visible(selectors.budget_get_for, request.user, pk)
        try:
            first = datetime.date(year, month, 1)
        except ValueError as exc:
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
        self.budget = _visible(selectors.budget_get_for, request.user, kwargs["pk"])
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
            except CairnError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The final budget is set.")
                return HttpResponseRedirect(reverse("budget-detail", args=[pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SchemeListView(RoleRequiredMixin, TemplateView):
    """RAS schemes, and what-if runs for the drafts (administrators)."""

    template_name = "budgets/schemes.html"
    allowed = staticmethod(permissions.can_manage_schemes)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["schemes"] = RasScheme.objects.order_by("-effective_from", "-version")
        context["runs"] = WhatIfRun.objects.select_related("scheme", "requested_by")[:20]
        try:
            context["active"] = selectors.active_scheme()
        except CairnError:
            context["active"] = None
        return context


class WhatIfStartView(RoleRequiredMixin, View):
    allowed = staticmethod(permissions.can_manage_schemes)

    def post(self, request, scheme_id):
        scheme = get_object_or_404(RasScheme, pk=scheme_id, status=SchemeStatus.DRAFT)
        run = whatif_start(actor=request.user, scheme=scheme)
        return HttpResponseRedirect(reverse("whatif-detail", args=[run.pk]))


class WhatIfDetailView(RoleRequiredMixin, TemplateView):
    """A run's progress (refreshing itself while it runs) and then its report."""

    template_name = "budgets/whatif_detail.html"
    allowed = staticmethod(permissions.can_manage_schemes)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = get_object_or_404(WhatIfRun.objects.select_related("scheme"), pk=kwargs["pk"])
        context["run"] = run
        context["finished"] = run.status in {WhatIfStatus.DONE, WhatIfStatus.FAILED}
        return context


class WhatIfProgressView(RoleRequiredMixin, View):
    allowed = staticmethod(permissions.can_manage_schemes)

    def get(self, request, pk):
        run = get_object_or_404(WhatIfRun, pk=pk)
        return JsonResponse({"status": run.status, "done": run.done, "total": run.total, "percent": run.percent_done})


class WhatIfCsvView(RoleRequiredMixin, View):
    allowed = staticmethod(permissions.can_manage_schemes)

    def get(self, request, pk):
        run = get_object_or_404(WhatIfRun, pk=pk, status=WhatIfStatus.DONE)
        return FileResponse(run.csv_file.open("rb"), as_attachment=True, filename=f"whatif-{run.pk}.csv")

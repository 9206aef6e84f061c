"""The assessment pages: starting one, the wizard (one page per outcome, then the eligibility
conditions), the summary and decision, and completing it or recording that the person is not eligible."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.exceptions import CairnError, NotVisible
from accounts.models import Role, User
from accounts.permissions import acts_for

from .. import permissions, selectors
from ..forms import AnswersStepForm, CompleteForm, ConditionsForm
from ..models import AssessmentStatus
from ..ras import OUTCOME_LABELS, answered, compile_scheme, explain, price_answered
from ..services import assessments as assessment_services
from .access import visible_or_404
from .voice import BUDGET, lines_for


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


def _refusal_on_form(form, exc: CairnError, compiled) -> None:
    """The service's refusal in the error pattern: an answer it refused goes by its question when
    the question is on this page (the summary links to it), a modifier by the modifiers; the rest
    (an answer on another page, an assessment completed meanwhile) heads the summary."""
    errors = exc.errors or {}
    for entry in errors.get("answers", []):
        code, _, message = entry.partition(": ")
        question = compiled.questions.get(code)
        if code in form.fields:
            form.add_error(code, f"Select an answer for “{question.text}”: the one saved is not one of its answers")
        elif question is not None:
            form.add_error(None, f"The answer to “{question.text}” is not one of its answers: change it on its page")
        else:
            form.add_error(None, message or entry)
    for message in errors.get("modifiers", []):
        form.add_error("modifiers" if "modifiers" in form.fields else None, message)
    if not form.errors:
        form.add_error(None, exc.message)


class AssessmentStepView(LoginRequiredMixin, TemplateView):
    """One page of the wizard. 'Save and continue' needs every question on the page answered;
    'Save as draft' keeps whatever is there and returns to the assessment summary."""

    template_name = "budgets/assessment_step.html"

    def setup_assessment(self, request, pk, step):
        self.assessment = visible_or_404(selectors.assessment_get_for, request.user, pk)
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
            _refusal_on_form(form, exc, self.compiled)
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
        assessment = visible_or_404(selectors.assessment_get_for, self.request.user, kwargs["pk"])
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
            explanation=lines_for(
                explain(pricing),
                is_own=acts_for(self.request.user, assessment.client),
                name=assessment.client.full_name,
                patterns=BUDGET,
            ),
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
        assessment = visible_or_404(selectors.assessment_get_for, request.user, pk)
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
        assessment = visible_or_404(selectors.assessment_get_for, request.user, pk)
        try:
            assessment_services.assessment_record_not_eligible(
                actor=request.user, assessment=assessment, request=request
            )
        except CairnError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The decision is recorded: not eligible, with the reasons shown.")
        return HttpResponseRedirect(reverse("assessment-detail", args=[pk]))

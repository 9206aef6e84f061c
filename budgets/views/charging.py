"""Charging pages: recording a financial assessment (finance, or the client's social worker), the
person's "how my contribution was worked out" with its PDF letter and a request for a review, and
finance's answer to a review."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from accounts.dates import date_field
from accounts.exceptions import CairnError
from accounts.forms import add_service_errors
from accounts.models import Role, User
from accounts.permissions import acts_for
from accounts.web import page_status

from .. import selectors
from ..models import Band, ContributionReview, IncomeKind, ReviewStatus
from ..pdf import financial_assessment_letter_pdf
from ..permissions import can_record_financial_assessment, can_view_financial_assessments
from ..services import charging as services
from .access import visible_or_404
from .voice import WORKING, about

HOUSING_ROWS = 3
DRE_ROWS = 5


def weekly_field(label: str, **kwargs) -> forms.DecimalField:
    """An amount in pounds: a text input with a decimal keypad (GOV.UK advises against number
    inputs: arrow keys and scrolling change them)."""
    return forms.DecimalField(
        label=label,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal(0),
        error_messages={
            "invalid": "Enter an amount like 12.50",
            "min_value": "The amount cannot be less than £0",
            "max_decimal_places": "Enter pounds and pence, like 12.50",
            "max_digits": "Enter a smaller amount",
        },
        **kwargs,
    )


class FinancialAssessmentForm(forms.Form):
    date = date_field(
        "Date of the assessment (optional)",
        help_text="It applies from this date. For example, 27 3 2027. Leave blank for today.",
        noun="The date of the assessment",
    )
    band = forms.ChoiceField(
        label="Circumstances",
        choices=Band.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the person's circumstances"},
    )
    declined = forms.BooleanField(
        label="The person chose not to have a financial assessment (they pay the full cost)", required=False
    )
    capital = weekly_field("Savings and other capital, in pounds", help_text="Not counting the home they live in.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in IncomeKind.choices:
            self.fields[f"income_{kind}"] = weekly_field(f"{label}, a week")
        for n in range(1, HOUSING_ROWS + 1):
            self.fields[f"housing_description_{n}"] = forms.CharField(
                label=f"Housing cost {n}: what it is", required=False, max_length=200
            )
            self.fields[f"housing_amount_{n}"] = weekly_field(f"Housing cost {n}: a week")
        for n in range(1, DRE_ROWS + 1):
            self.fields[f"dre_description_{n}"] = forms.CharField(
                label=f"Disability-related cost {n}: what it is", required=False, max_length=200
            )
            self.fields[f"dre_amount_{n}"] = weekly_field(f"Disability-related cost {n}: a week")

    def income_fields(self):
        return [self[f"income_{kind}"] for kind in IncomeKind.values]

    def cost_rows(self, prefix: str, rows: int):
        return [(self[f"{prefix}_description_{n}"], self[f"{prefix}_amount_{n}"]) for n in range(1, rows + 1)]

    def housing_rows(self):
        return self.cost_rows("housing", HOUSING_ROWS)

    def dre_rows(self):
        return self.cost_rows("dre", DRE_ROWS)

    def clean(self):
        data = super().clean()
        for prefix, rows in (("housing", HOUSING_ROWS), ("dre", DRE_ROWS)):
            for n in range(1, rows + 1):
                description = (data.get(f"{prefix}_description_{n}") or "").strip()
                amount = data.get(f"{prefix}_amount_{n}")
                if amount and not description:
                    self.add_error(f"{prefix}_description_{n}", "Say what this cost is")
                if description and amount is None:
                    self.add_error(f"{prefix}_amount_{n}", "Enter how much it is a week")
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data

        def costs(prefix: str, rows: int) -> list[dict]:
            return [
                {
                    "description": data[f"{prefix}_description_{n}"].strip(),
                    "weekly_amount": data[f"{prefix}_amount_{n}"],
                }
                for n in range(1, rows + 1)
                if data.get(f"{prefix}_amount_{n}") is not None
                and (data.get(f"{prefix}_description_{n}") or "").strip()
            ]

        return {
            "date": data.get("date"),
            "band": data["band"],
            "declined": data.get("declined", False),
            "capital": data.get("capital") or Decimal(0),
            "income": [
                {"kind": kind, "weekly_amount": data[f"income_{kind}"]}
                for kind in IncomeKind.values
                if data.get(f"income_{kind}")
            ],
            "housing_costs": costs("housing", HOUSING_ROWS),
            "disability_related_expenditure": costs("dre", DRE_ROWS),
        }


class FinancialAssessmentNewView(LoginRequiredMixin, TemplateView):
    template_name = "budgets/financial_assessment_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.client = User.objects.filter(pk=kwargs["client_id"], role=Role.CLIENT).first()
            if self.client is None or not (
                can_view_financial_assessments(request.user, self.client)
                or can_record_financial_assessment(request.user, self.client)
            ):
                raise Http404("No such client.")
            if not can_record_financial_assessment(request.user, self.client):
                raise PermissionDenied("Only finance, or the client's social worker, records a financial assessment.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", FinancialAssessmentForm())
        context.update(person=self.client, policy=services.policy_in_force(timezone.localdate()))
        return context

    def post(self, request, client_id):
        form = FinancialAssessmentForm(request.POST)
        if form.is_valid():
            try:
                assessment = services.financial_assessment_record(
                    actor=request.user, client=self.client, request=request, **form.service_arguments()
                )
            except CairnError as exc:
                add_service_errors(form, exc)
                return self.render_to_response(self.get_context_data(form=form), status=page_status(exc))
            messages.success(request, "The financial assessment is recorded and the person has been told.")
            return HttpResponseRedirect(reverse("financial-assessment", args=[assessment.pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ReviewRequestForm(forms.Form):
    reason = forms.CharField(
        label="What do you think is wrong, or what has changed?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say what you think is wrong, or what has changed"},
    )


class ReviewAnswerForm(forms.Form):
    outcome = forms.CharField(
        label="What the review found",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="If something was wrong, record a new assessment first; the person is told this answer.",
        error_messages={"required": "Say what the review found"},
    )


class FinancialAssessmentView(LoginRequiredMixin, TemplateView):
    """How the contribution was worked out, pound by pound; a review can be asked for here."""

    template_name = "budgets/financial_assessment.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.assessment = visible_or_404(selectors.financial_assessment_get_for, request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        assessment = self.assessment
        user = self.request.user
        reviews = list(assessment.reviews.order_by("-pk"))
        open_review = next((r for r in reviews if r.status == ReviewStatus.REQUESTED), None)
        labels = dict(IncomeKind.choices)
        is_own = acts_for(user, assessment.client)
        context.update(
            assessment=assessment,
            person=assessment.client,
            is_own=is_own,
            income=[(labels.get(row["kind"], row["kind"]), Decimal(row["weekly_amount"])) for row in assessment.income],
            housing=[(row["description"], Decimal(row["weekly_amount"])) for row in assessment.housing_costs],
            dre=[
                (row["description"], Decimal(row["weekly_amount"])) for row in assessment.disability_related_expenditure
            ],
            lines=[
                (
                    line["text"] if is_own else about(line["text"], assessment.client.full_name, WORKING),
                    None if line["amount"] is None else Decimal(line["amount"]),
                )
                for line in assessment.explanation
            ],
            reviews=reviews,
            open_review=open_review,
            may_record=can_record_financial_assessment(user, assessment.client),
            latest=selectors.latest_financial_assessment(assessment.client),
        )
        if context["is_own"] and open_review is None:
            context.setdefault("review_form", ReviewRequestForm())
        if context["may_record"] and open_review is not None:
            context.setdefault("answer_form", ReviewAnswerForm())
        return context

    def post(self, request, pk):
        if "outcome" in request.POST:
            return self._answer(request)
        form = ReviewRequestForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(review_form=form), status=400)
        try:
            services.contribution_review_request(
                actor=request.user, assessment=self.assessment, reason=form.cleaned_data["reason"], request=request
            )
        except CairnError as exc:
            if page_status(exc) == 403:
                raise PermissionDenied(exc.message) from exc
            add_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(review_form=form), status=page_status(exc))
        messages.success(request, "Your request for a review has been sent. Finance will answer it by the date shown.")
        return HttpResponseRedirect(reverse("financial-assessment", args=[pk]))

    def _answer(self, request):
        form = ReviewAnswerForm(request.POST)
        review = ContributionReview.objects.filter(assessment=self.assessment, status=ReviewStatus.REQUESTED).first()
        if review is None:
            messages.error(request, "There is no review waiting for an answer.")
            return HttpResponseRedirect(reverse("financial-assessment", args=[self.assessment.pk]))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(answer_form=form), status=400)
        latest = selectors.latest_financial_assessment(self.assessment.client)
        new = latest if latest is not None and latest.pk != self.assessment.pk else None
        try:
            services.contribution_review_complete(
                actor=request.user,
                review=review,
                outcome=form.cleaned_data["outcome"],
                new_assessment=new,
                request=request,
            )
        except CairnError as exc:
            if page_status(exc) == 403:
                raise PermissionDenied(exc.message) from exc
            add_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(answer_form=form), status=page_status(exc))
        messages.success(request, "The review is answered and the person has been told.")
        return HttpResponseRedirect(reverse("financial-assessment", args=[self.assessment.pk]))


class FinancialAssessmentLetterView(LoginRequiredMixin, View):
    def get(self, request, pk):
        assessment = visible_or_404(selectors.financial_assessment_get_for, request.user, pk)
        response = HttpResponse(financial_assessment_letter_pdf(assessment), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="contribution-{assessment.pk}.pdf"'
        return response

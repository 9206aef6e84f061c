"""Forms for the assessment wizard, the final budget and the what-if run."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings

from accounts.dates import date_field
from accounts.exceptions import InvalidInput
from accounts.money import DECIMAL_PLACES, MAX_DIGITS
from accounts.text import FreeTextFormField

from .ras import CompiledScheme, Question
from .services import ledger
from .services.budgets import budget_period_bounds, budget_period_check

YES_NO = [("yes", "Yes"), ("no", "No")]


def _bool_initial(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


class AnswersStepForm(forms.Form):
    """One page of the wizard: the questions of one eligibility outcome, as radios."""

    def __init__(self, *args, questions: list[Question], answers: dict[str, str], require: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[question.code] = forms.ChoiceField(
                label=question.text,
                help_text=question.help_text,
                choices=[(a.code, a.text) for a in question.answers.values()],
                widget=forms.RadioSelect,
                required=require,
                initial=answers.get(question.code),
                error_messages={"required": f"Select an answer for “{question.text}”"},
            )

    def answers(self) -> dict[str, str]:
        return {code: value for code, value in self.cleaned_data.items() if value}


class ConditionsForm(forms.Form):
    """The last page: the two eligibility conditions, the modifiers and notes."""

    impairment = forms.ChoiceField(
        label="Do the person's needs arise from a physical or mental impairment or illness?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if the needs arise from an impairment or illness"},
    )
    wellbeing_impact = forms.ChoiceField(
        label="As a result, is there, or is there likely to be, a significant impact on their wellbeing?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if there is a significant impact on their wellbeing"},
    )
    modifiers = forms.MultipleChoiceField(
        label="Do any of these apply?",
        help_text="Select all that apply.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = FreeTextFormField(
        label="Notes (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
    )

    def __init__(self, *args, compiled: CompiledScheme, require: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["modifiers"].choices = [(m.code, m.text) for m in compiled.modifiers.values()]
        if not compiled.modifiers:
            del self.fields["modifiers"]
        for name in ("impairment", "wellbeing_impact"):
            self.fields[name].required = require

    def values(self) -> dict:
        data = self.cleaned_data
        result = {
            "impairment": None if not data.get("impairment") else data["impairment"] == "yes",
            "wellbeing_impact": None if not data.get("wellbeing_impact") else data["wellbeing_impact"] == "yes",
            "notes": data.get("notes", ""),
        }
        if "modifiers" in self.fields:
            result["modifiers"] = list(data.get("modifiers") or [])
        return result

    @staticmethod
    def initial_for(assessment) -> dict:
        return {
            "impairment": _bool_initial(assessment.impairment),
            "wellbeing_impact": _bool_initial(assessment.wellbeing_impact),
            "modifiers": assessment.modifiers,
            "notes": assessment.notes,
        }


class CompleteForm(forms.Form):
    """When the budget period starts (GOV.UK date input: day, month, year); blank starts it today.
    The limits are the service's (`budget_period_check`), shown in the hint before anyone types."""

    period_start = date_field("When does the budget period start?", noun="The start date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        earliest, latest = budget_period_bounds()
        self.fields["period_start"].help_text = (
            f"Leave blank to start today. It may start up to {settings.BUDGET_BACKDATE_MAX_MONTHS} months earlier, "
            f"to match the assessment: from {earliest:%-d %B %Y} to {latest:%-d %B %Y}. "
            f"For example, {earliest.day} {earliest.month} {earliest.year}."
        )

    def clean_period_start(self):
        start = self.cleaned_data.get("period_start")
        if start is not None:
            try:
                budget_period_check(start, months=ledger.policy().period_months)
            except InvalidInput as exc:
                raise forms.ValidationError(exc.message) from exc
        return start


class FinalBudgetForm(forms.Form):
    amount = forms.DecimalField(
        label="Final budget for the year, in pounds",
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        min_value=Decimal("0.01"),
        # Text, not type=number (GOV.UK: arrow keys and scrolling would change the amount).
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the final budget",
            "invalid": "Enter the final budget as an amount, like 12500 or 12500.50",
            "min_value": "The final budget must be more than £0",
            "max_decimal_places": "Enter the amount in pounds and pence, like 12500.50",
        },
    )
    reason = forms.CharField(
        label="Why is it different from the indicative budget?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": "Give the reason for the final budget"},
    )

"""Forms for the assessment wizard, the final budget and the what-if run."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms

from accounts.money import DECIMAL_PLACES, MAX_DIGITS

from .ras import CompiledScheme, Question

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
    notes = forms.CharField(
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
    """When the budget period starts (GOV.UK date input: day, month, year)."""

    day = forms.IntegerField(required=False, min_value=1, max_value=31)
    month = forms.IntegerField(required=False, min_value=1, max_value=12)
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)

    def clean(self):
        data = super().clean()
        parts = [data.get("day"), data.get("month"), data.get("year")]
        if all(p is None for p in parts) and not self.errors:
            data["period_start"] = None
            return data
        if any(p is None for p in parts) or self.errors:
            raise forms.ValidationError(
                "Enter the start date as a day, month and year, like 1 4 2027, or leave it blank"
            )
        try:
            data["period_start"] = datetime.date(data["year"], data["month"], data["day"])
        except ValueError as exc:
            raise forms.ValidationError("The start date must be a real date") from exc
        return data


class FinalBudgetForm(forms.Form):
    amount = forms.DecimalField(
        label="Final budget for the year, in pounds",
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        min_value=Decimal("0.01"),
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

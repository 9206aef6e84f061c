"""Charging's free text refuses control and right-to-left override characters: the descriptions
on a financial assessment's rows (they are printed in the person's letter) and an assessment's
notes. Each refusal names the field and writes nothing."""

import pytest

from accounts.text import FREE_TEXT_MESSAGE, NAME_MESSAGE
from budgets.forms import ConditionsForm
from budgets.models import FinancialAssessment
from budgets.ras import compile_scheme
from budgets.selectors import active_scheme
from tests.budgets.test_financial_assessments import BODY, gbp

pytestmark = pytest.mark.django_db

HOSTILE = ["Extra heating\u202egnitaeh", "Special\x07diet", "Diet\u2066 isolated"]


@pytest.mark.parametrize("field", ["housing_costs", "disability_related_expenditure"])
@pytest.mark.parametrize("description", HOSTILE)
def test_a_row_description_with_control_or_override_characters_is_a_400(
    api_as, finance_user, client_user, field, description
):
    body = {**BODY, field: [{"description": description, "weekly_amount": gbp("5.00")}]}

    response = api_as(finance_user).post(
        "/api/v1/financial-assessments/", {"client": client_user.pk, **body}, format="json"
    )

    assert response.status_code == 400, response.json()
    assert NAME_MESSAGE in " ".join(response.json()[field])
    assert not FinancialAssessment.objects.exists()


def test_plain_descriptions_are_still_accepted(api_as, finance_user, client_user):
    body = {**BODY, "housing_costs": [{"description": "Council tax (Band B) – 2026/27", "weekly_amount": gbp("10.00")}]}

    response = api_as(finance_user).post(
        "/api/v1/financial-assessments/", {"client": client_user.pk, **body}, format="json"
    )

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("notes", ["Lives alone\u202e", "Lives\x1balone"])
def test_assessment_notes_with_control_or_override_characters_are_refused_on_the_field(notes):
    form = ConditionsForm(
        data={"impairment": "yes", "wellbeing_impact": "yes", "notes": notes},
        compiled=compile_scheme(active_scheme()),
        require=True,
    )

    assert not form.is_valid()
    assert form.errors["notes"] == [FREE_TEXT_MESSAGE]


def test_assessment_notes_over_several_lines_are_kept():
    form = ConditionsForm(
        data={"impairment": "yes", "wellbeing_impact": "yes", "notes": "Lives alone.\nDaughter visits weekly."},
        compiled=compile_scheme(active_scheme()),
        require=True,
    )

    assert form.is_valid(), form.errors

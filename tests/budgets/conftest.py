"""Fixtures for the budgets tests: the example scheme, answer sets, and ready-made budgets."""

import datetime

import pytest
from djmoney.money import Money

from budgets.models import Assessment, AssessmentStatus, PersonalBudget
from budgets.ras import compile_scheme
from budgets.services import ledger

OUTCOME_QUESTIONS = [
    "nutrition", "hygiene", "toilet", "dressing", "home_safety",
    "habitable_home", "relationships", "work_education", "community", "caring_for_child",
]  # fmt: skip


@pytest.fixture
def scheme(example_scheme):
    """The example scheme the data migration publishes."""
    return example_scheme


@pytest.fixture
def compiled(scheme):
    return compile_scheme(scheme)


def answers_with(unable: dict[str, str] | None = None, night: str = "none", risk: str = "low") -> dict[str, str]:
    """Every example question answered: 'independent' unless `unable` says otherwise."""
    answers = dict.fromkeys(OUTCOME_QUESTIONS, "independent")
    answers.update(unable or {})
    answers.update(night_support=night, risk=risk)
    return answers


@pytest.fixture
def eligible_answers():
    """Two outcomes unachievable (8 points): the example scheme's lowest eligible need."""
    return answers_with({"nutrition": "some_help", "hygiene": "some_help"})


@pytest.fixture
def make_budget(scheme):
    """`make_budget(client, amount)`: a completed assessment and a budget of `amount` allocated
    through the ledger service, built directly (not through the assessment service)."""

    def make(client, amount="10000.00", assessor=None, period_start=None):
        start = period_start or datetime.date.today()
        assessment = Assessment.objects.create(
            client=client,
            assessor=assessor or client,
            scheme=scheme,
            status=AssessmentStatus.COMPLETED,
            answers=answers_with({"nutrition": "some_help", "hygiene": "some_help"}),
            impairment=True,
            wellbeing_impact=True,
            eligible=True,
            indicative_budget=Money(amount, "GBP"),
        )
        budget = PersonalBudget.objects.create(
            client=client,
            assessment=assessment,
            period_start=start,
            period_end=start + datetime.timedelta(days=364),
            indicative_amount=Money(amount, "GBP"),
        )
        ledger.open_budget_accounts(budget)
        ledger.allocate(budget=budget, amount=Money(amount, "GBP"), key=f"test:{budget.pk}:allocation")
        return budget

    return make

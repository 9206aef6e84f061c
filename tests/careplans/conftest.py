"""Fixtures for the care plan tests: budgets, verified providers and their services, plans."""

import datetime

import pytest
from djmoney.money import Money

from budgets.models import Assessment, AssessmentStatus, PersonalBudget
from budgets.services import ledger
from careplans import services as plan_services
from providers.models import Provider, ProviderStatus, ServiceArea, ServiceOffering
from tests import factories

OUTCOME_QUESTIONS = [
    "nutrition", "hygiene", "toilet", "dressing", "home_safety",
    "habitable_home", "relationships", "work_education", "community", "caring_for_child",
]  # fmt: skip


def answers_with(unable: dict[str, str] | None = None, night: str = "none", risk: str = "low") -> dict[str, str]:
    answers = dict.fromkeys(OUTCOME_QUESTIONS, "independent")
    answers.update(unable or {})
    answers.update(night_support=night, risk=risk)
    return answers


@pytest.fixture
def make_budget(example_scheme):
    """`make_budget(client, amount)`: a completed assessment and a budget of `amount`, period
    starting today for 365 days, allocated through the ledger service."""

    def make(client, amount="10000.00", period_start=None):
        start = period_start or datetime.date.today()
        assessment = Assessment.objects.create(
            client=client,
            assessor=client,
            scheme=example_scheme,
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


@pytest.fixture
def budget(make_budget, client_user, caseload):
    """Ruth's £10,000 budget; Ruth is on Sam's caseload, in Taylor's team."""
    return make_budget(client_user, "10000.00")


@pytest.fixture
def make_provider(db):
    """`make_provider(status="verified", **fields)`: a provider put directly in `status`."""

    def make(status=ProviderStatus.VERIFIED, **fields):
        provider = factories.ProviderFactory(**fields)
        if status != ProviderStatus.PENDING:
            Provider.objects.filter(pk=provider.pk).update(status=status)
        return Provider.objects.get(pk=provider.pk)

    return make


@pytest.fixture
def make_service(db, make_provider):
    """`make_service(title, price, provider=None, unit="hour", **fields)`: an offering of a
    verified provider unless `provider` is given."""

    def make(title, price="20.00", provider=None, unit="hour", districts=("NF1",), **fields):
        s = ServiceOffering.objects.create(
            provider=provider or make_provider(),
            title=title,
            category="personal_care",
            unit=unit,
            unit_price=Money(price, "GBP"),
            postcode_districts=list(districts),
            **fields,
        )
        ServiceArea.objects.bulk_create([ServiceArea(service=s, district=d) for d in districts])
        return s

    return make


@pytest.fixture
def visits(make_service, make_provider):
    return make_service("Home care visits", "24.50", provider=make_provider(name="Brightside Care"))


@pytest.fixture
def respite(make_service, make_provider):
    return make_service("Respite breaks", "180.00", provider=make_provider(name="Riverside Centre"), unit="night")


@pytest.fixture
def make_plan():
    """`make_plan(actor, budget, lines=..., **fields)`: a draft plan made through the service."""

    def make(actor, budget, lines=(), outcomes=("Get out to the allotment every week",), **fields):
        return plan_services.plan_create(
            actor=actor, budget=budget, outcomes=list(outcomes), lines=list(lines), **fields
        )

    return make


@pytest.fixture
def make_plan_alongside():
    """`make_plan` without the one-plan-in-progress rule: for tests of the money and workflow
    arithmetic between several plans of one budget, as budgets made before the rule may hold
    (a budget now gets at most one plan in progress through the service)."""
    from unittest import mock

    def make(actor, budget, lines=(), outcomes=("Get out to the allotment every week",), **fields):
        with mock.patch.object(plan_services.plans, "_refuse_second_plan"):
            return plan_services.plan_create(
                actor=actor, budget=budget, outcomes=list(outcomes), lines=list(lines), **fields
            )

    return make

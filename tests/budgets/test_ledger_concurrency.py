"""Two movements against one budget at the same moment (PostgreSQL row locks and unique keys)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from djmoney.money import Money

from budgets.exceptions import BudgetExceeded
from budgets.models import (
    Assessment,
    AssessmentStatus,
    LedgerTransaction,
    PersonalBudget,
    RasScheme,
    SchemeStatus,
    TransactionKind,
)
from budgets.selectors import budget_figures, budget_figures_from_postings
from budgets.services import ledger
from budgets.services.budgets import budget_set_final
from tests import factories
from tests.concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def gbp(amount) -> Money:
    return Money(Decimal(amount), "GBP")


@pytest.fixture
def budget_of():
    """`budget_of(amount, client=None)`: a budget with its allocation posted. Built on its own
    scheme, as a transactional test cannot rely on rows the data migration wrote (another
    transactional test may already have flushed them)."""

    def make(amount, client=None):
        client = client or factories.ClientFactory()
        scheme = RasScheme.objects.create(
            name=f"Race scheme {client.pk}",
            version=1,
            status=SchemeStatus.PUBLISHED,
            effective_from=datetime.date(2020, 1, 1),
            price_per_point=gbp("10.00"),
            min_budget=gbp("0.00"),
            max_budget=gbp("100000.00"),
        )
        assessment = Assessment.objects.create(
            client=client,
            assessor=client,
            scheme=scheme,
            status=AssessmentStatus.COMPLETED,
            eligible=True,
            indicative_budget=gbp(amount),
        )
        start = datetime.date.today()
        budget = PersonalBudget.objects.create(
            client=client,
            assessment=assessment,
            period_start=start,
            period_end=start + datetime.timedelta(days=364),
            indicative_amount=gbp(amount),
        )
        ledger.open_budget_accounts(budget)
        ledger.allocate(budget=budget, amount=gbp(amount), key=f"race:{budget.pk}:allocation")
        return budget

    return make


def test_two_plans_committing_600_of_1000_at_once_only_one_succeeds(budget_of):
    budget = budget_of("1000.00")

    outcomes = race(
        [
            lambda: ledger.commit(budget=budget, amount=gbp("600.00"), key="race:plan-a"),
            lambda: ledger.commit(budget=budget, amount=gbp("600.00"), key="race:plan-b"),
        ]
    )

    assert sum(isinstance(o, LedgerTransaction) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, BudgetExceeded) for o in outcomes) == 1, outcomes
    figures = budget_figures(budget)
    assert figures.committed == gbp("600.00")
    assert figures.available == gbp("400.00")
    assert figures == budget_figures_from_postings(budget)
    assert LedgerTransaction.objects.filter(budget=budget, kind=TransactionKind.COMMITMENT).count() == 1


def test_two_calls_with_the_same_key_at_once_make_one_transaction(budget_of):
    budget = budget_of("1000.00")

    outcomes = race(
        [
            lambda: ledger.commit(budget=budget, amount=gbp("600.00"), key="race:same"),
            lambda: ledger.commit(budget=budget, amount=gbp("600.00"), key="race:same"),
        ]
    )

    assert all(isinstance(o, LedgerTransaction) for o in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert LedgerTransaction.objects.filter(idempotency_key="race:same").count() == 1
    figures = budget_figures(budget)
    assert figures.committed == gbp("600.00")
    assert figures == budget_figures_from_postings(budget)


def test_two_payments_with_the_same_key_at_once_pay_once(budget_of):
    budget = budget_of("1000.00")
    ledger.commit(budget=budget, amount=gbp("600.00"), key="race:plan")

    outcomes = race(
        [
            lambda: ledger.record_payment(budget=budget, amount=gbp("400.00"), key="race:invoice-1"),
            lambda: ledger.record_payment(budget=budget, amount=gbp("400.00"), key="race:invoice-1"),
        ]
    )

    assert all(isinstance(o, LedgerTransaction) for o in outcomes), outcomes
    assert budget_figures(budget).paid == gbp("400.00")
    assert LedgerTransaction.objects.filter(budget=budget, kind=TransactionKind.PAYMENT).count() == 1


def test_a_double_submitted_final_budget_at_once_moves_money_once(budget_of):
    manager = factories.TeamManagerFactory()
    worker = factories.SocialWorkerFactory()
    factories.TeamFactory(manager=manager, members=[worker])
    client = factories.ClientFactory()
    factories.CaseloadAssignmentFactory(social_worker=worker, client=client)
    budget = budget_of("1000.00", client=client)

    outcomes = race(
        [
            lambda: budget_set_final(actor=manager, budget=budget, amount=gbp("1200.00"), reason="Night support"),
            lambda: budget_set_final(actor=manager, budget=budget, amount=gbp("1200.00"), reason="Night support"),
        ]
    )

    assert all(isinstance(o, PersonalBudget) for o in outcomes), outcomes
    assert LedgerTransaction.objects.filter(budget=budget, kind=TransactionKind.ADJUSTMENT).count() == 1
    assert budget_figures(budget).allocated == gbp("1200.00")

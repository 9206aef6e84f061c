"""Transactional batches keep to whole budgets (payments/services/batches.py, `_claim_whole_budgets`):
two workers on one run never pay the same person's payments at once, so neither waits for the
other's locks on that person's plan and ledger accounts. PostgreSQL only: elsewhere a claim is paid
as claimed (one writer at a time)."""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from payments import services
from payments.models import Payment, PaymentStatus
from payments.services import batches
from tests.payments.payment_fixtures import assert_ledger_balances, pay_world, reload  # noqa: F401
from tests.payments.test_batches import assert_paid_exactly_once, confirmed_invoices, other_session
from tests.payments.test_load_concurrency import make_dp_holder  # noqa: F401  (fixture by name)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

LOCK = "SELECT pg_advisory_lock(%s, (%s %% 2147483647)::int)"
UNLOCK = "SELECT pg_advisory_unlock(%s, (%s %% 2147483647)::int)"


@pytest.fixture
def two_people_run(pay_world, make_dp_holder, monkeypatch):
    """A run (not yet worked: its tasks are not queued) of Ruth's 6 invoices and another person's
    2 direct-payment loads: two budgets."""
    from payments.tasks import payments_run_work

    monkeypatch.setattr(payments_run_work, "delay_on_commit", lambda *args, **kwargs: None)
    confirmed_invoices(pay_world, 6)
    holder = make_dp_holder()
    run = services.payment_run_start(actor=pay_world.finance)
    by_budget = {
        "invoices": pay_world.budget.pk,
        "loads": holder.fund.budget_id,
    }
    assert run.payments.filter(budget_id=by_budget["invoices"]).count() == 6
    assert run.payments.filter(budget_id=by_budget["loads"]).count() == 2
    return run, by_budget


def test_a_claim_leaves_out_the_budget_another_batch_is_paying(two_people_run):
    run, budgets = two_people_run
    other = other_session()  # another worker's batch, paying Ruth's budget
    try:
        other.execute(LOCK, [batches.BUDGET_LOCKS, budgets["invoices"]])
        with transaction.atomic():
            payments = batches._claim_whole_budgets(run, 100)
            assert {p.budget_id for p in payments} == {budgets["loads"]}  # only the free budget kept
            assert len(payments) == 2
    finally:
        other.close()


def test_with_every_budget_taken_a_claim_waits_for_the_first_rather_than_spin(two_people_run):
    run, budgets = two_people_run
    other = other_session()
    other.execute(LOCK, [batches.BUDGET_LOCKS, budgets["invoices"]])
    other.execute(LOCK, [batches.BUDGET_LOCKS, budgets["loads"]])
    first = min(budgets.values())
    threading.Timer(0.5, lambda: other.execute(UNLOCK, [batches.BUDGET_LOCKS, first])).start()
    try:
        began = time.monotonic()
        with transaction.atomic():
            payments = batches._claim_whole_budgets(run, 100)
        waited = time.monotonic() - began
    finally:
        time.sleep(0.1)
        other.close()
    assert waited >= 0.4
    assert {p.budget_id for p in payments} == {first}
    assert len(payments) == (6 if first == budgets["invoices"] else 2)


def test_two_workers_pay_a_run_whose_budget_one_holds_exactly_once(two_people_run, pay_world, settings):
    """While Ruth's budget is held elsewhere, a worker pays the other person's loads and then waits;
    let go, it pays Ruth's invoices too: every payment once, the ledger balanced."""
    settings.PAYMENT_BATCH_SIZE = 3
    run, budgets = two_people_run
    other = other_session()
    other.execute(LOCK, [batches.BUDGET_LOCKS, budgets["invoices"]])
    errors: list[BaseException] = []

    def work():
        try:
            services.payment_run_work(run_id=run.pk)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        loads = Payment.objects.filter(run=run, budget_id=budgets["loads"])
        while loads.exclude(status=PaymentStatus.PAID).exists():
            assert time.monotonic() < deadline, "the free budget's loads were not paid"
            time.sleep(0.05)
        assert not Payment.objects.filter(run=run, budget_id=budgets["invoices"], status=PaymentStatus.PAID).exists()
    finally:
        other.close()  # lets Ruth's budget go
        worker.join(timeout=30)
    assert not worker.is_alive() and not errors, errors
    assert_paid_exactly_once(reload(run))
    assert_ledger_balances(pay_world.budget)

"""What a care plan has paid (CarePlan.paid_amount, kept by `careplans.services.plan_paid_record`)
and what it still has set aside (`careplans.selectors.plan_remaining_commitment`): payments add to
it, reversals take it off, concurrent payments add up, and it agrees with the budget's ledger."""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals import services as workflow
from budgets.selectors import budget_figures
from careplans.models import CarePlan, PlanStatus
from careplans.selectors import plan_remaining_commitment
from careplans.services import plan_new_version, plan_paid_record
from payments import services as payment_services
from payments.models import InvoiceStatus, Payment, PaymentStatus
from providers.models import Provider, ProviderStatus
from tests.concurrency import race
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    CHECKLIST,
    assert_ledger_balances,
    gbp,
    pay_world,
    reload,
    run_payments,
)


def paid(plan) -> object:
    return reload(plan).paid_amount


def ledger_still_committed(budget):
    """What the budget's ledger still holds committed (its committed figure includes what is paid)."""
    figures = budget_figures(budget)
    return figures.committed - figures.paid


# --- plan_paid_record --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_payment_adds_to_what_the_plan_has_paid(pay_world):
    plan = pay_world.plan
    assert paid(plan) == gbp("0")

    plan_paid_record(plan_id=plan.pk, amount=gbp("24.50"))
    plan_paid_record(plan_id=plan.pk, amount=gbp("31.00"))

    assert paid(plan) == gbp("55.50")


@pytest.mark.django_db
def test_a_reversal_takes_the_payment_off_what_the_plan_has_paid(pay_world):
    plan = pay_world.plan
    plan_paid_record(plan_id=plan.pk, amount=gbp("24.50"))
    plan_paid_record(plan_id=plan.pk, amount=gbp("31.00"))

    plan_paid_record(plan_id=plan.pk, amount=-gbp("24.50"))

    assert paid(plan) == gbp("31.00")


@pytest.mark.django_db
def test_recording_a_payment_adds_to_the_stored_figure_not_to_a_stale_copy(pay_world):
    plan = pay_world.plan  # loaded before any payment
    CarePlan.objects.filter(pk=plan.pk).update(paid_amount=Decimal("100.00"))

    plan_paid_record(plan_id=plan.pk, amount=gbp("24.50"))

    assert plan.paid_amount == gbp("0")
    assert paid(plan) == gbp("124.50")


@pytest.mark.django_db
def test_recording_a_payment_touches_only_that_plans_paid_figure(pay_world, make_plan, make_budget, client_user):
    other = make_plan(client_user, make_budget(client_user, "500.00"))
    before = reload(pay_world.plan)

    plan_paid_record(plan_id=other.pk, amount=gbp("24.50"))

    after = reload(pay_world.plan)
    assert (after.paid_amount, after.committed_amount, after.total_cost, after.status) == (
        before.paid_amount,
        before.committed_amount,
        before.total_cost,
        before.status,
    )
    assert paid(other) == gbp("24.50")


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000.00"), places=2)


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(movements=st.lists(st.tuples(amounts, st.booleans()), min_size=1, max_size=12))
@pytest.mark.django_db
def test_what_a_plan_has_paid_is_the_sum_of_its_payments_less_its_reversals(pay_world, movements):
    plan = pay_world.plan
    with transaction.atomic():
        CarePlan.objects.filter(pk=plan.pk).update(paid_amount=Decimal("0"))
        for amount, is_reversal in movements:
            plan_paid_record(plan_id=plan.pk, amount=-gbp(amount) if is_reversal else gbp(amount))

        expected = sum((-a if r else a for a, r in movements), Decimal("0"))
        stored = reload(plan)
        assert stored.paid_amount == gbp(expected)
        assert plan_remaining_commitment(stored) == stored.committed_amount - gbp(expected)
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_payments_recorded_at_the_same_moment_all_add_up(pay_world):
    plan = pay_world.plan
    payers = 8

    def pay():
        with transaction.atomic():
            plan_paid_record(plan_id=plan.pk, amount=gbp("1.25"))
            time.sleep(0.05)  # hold the transaction open while the others try

    outcomes = race([pay] * payers)

    assert outcomes == [None] * payers
    assert paid(plan) == gbp(Decimal("1.25") * payers)


# --- plan_remaining_commitment ------------------------------------------------------------------


@pytest.mark.django_db
def test_an_approved_plan_still_has_its_commitment_less_what_it_has_paid(pay_world):
    plan = reload(pay_world.plan)
    assert plan.committed_amount == plan.total_cost
    assert plan_remaining_commitment(plan) == plan.committed_amount

    plan_paid_record(plan_id=plan.pk, amount=gbp("24.50"))

    plan = reload(plan)
    assert plan_remaining_commitment(plan) == plan.committed_amount - gbp("24.50")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [s for s in PlanStatus.values if s != PlanStatus.APPROVED], ids=lambda s: f"{s}_plan"
)
def test_a_plan_that_is_not_approved_has_nothing_set_aside(pay_world, status):
    plan_paid_record(plan_id=pay_world.plan.pk, amount=gbp("24.50"))
    CarePlan.objects.filter(pk=pay_world.plan.pk).update(status=status)

    assert plan_remaining_commitment(reload(pay_world.plan)) == gbp("0")


@pytest.mark.django_db
def test_an_approved_plan_without_a_recorded_commitment_has_nothing_set_aside(pay_world):
    CarePlan.objects.filter(pk=pay_world.plan.pk).update(committed_amount=None)

    assert plan_remaining_commitment(reload(pay_world.plan)) == gbp("0")


# --- end to end: a payment run and a reversal ---------------------------------------------------


@pytest.mark.django_db
def test_paying_an_invoice_raises_what_the_plan_has_paid_by_the_invoice(pay_world, run_payments):
    plan = reload(pay_world.plan)
    invoice = pay_world.invoice()

    run = run_payments()

    assert run.gateway == "ledger"
    assert reload(invoice).status == InvoiceStatus.PAID
    plan = reload(plan)
    assert plan.paid_amount == invoice.amount == gbp("24.50")
    assert plan_remaining_commitment(plan) == plan.committed_amount - invoice.amount
    assert plan_remaining_commitment(plan) == ledger_still_committed(pay_world.budget)
    assert_ledger_balances(pay_world.budget)


@pytest.mark.django_db
def test_a_run_paying_several_invoices_adds_each_to_the_plan(pay_world, run_payments):
    invoices = pay_world.invoices(2) + pay_world.invoices(1, pay_world.riverside)

    run_payments()

    plan = reload(pay_world.plan)
    assert plan.paid_amount == gbp("80.00")  # 2 × £24.50 + £31.00
    assert plan.paid_amount == sum((i.amount for i in invoices), gbp("0"))
    assert plan_remaining_commitment(plan) == ledger_still_committed(pay_world.budget)


@pytest.mark.django_db
def test_reversing_a_payment_takes_it_back_off_what_the_plan_has_paid(pay_world, run_payments):
    pay_world.invoice()
    payment = run_payments().payments.get()

    payment_services.payment_reverse(payment=payment, reason="Returned by the bank")

    plan = reload(pay_world.plan)
    assert reload(payment).status == PaymentStatus.REVERSED
    assert plan.paid_amount == gbp("0")
    assert plan_remaining_commitment(plan) == plan.committed_amount
    assert plan_remaining_commitment(plan) == ledger_still_committed(pay_world.budget)
    assert_ledger_balances(pay_world.budget)


@pytest.mark.django_db
def test_reversing_a_payment_twice_takes_it_off_once(pay_world, run_payments):
    pay_world.invoice()
    pay_world.invoice(pay_world.riverside)
    run = run_payments()
    brightside_payment = run.payments.get(provider=pay_world.brightside)
    payment_services.payment_reverse(payment=brightside_payment, reason="Returned by the bank")

    payment_services.payment_reverse(payment=reload(brightside_payment), reason="Returned by the bank")

    plan = reload(pay_world.plan)
    assert plan.paid_amount == gbp("31.00")
    assert plan_remaining_commitment(plan) == ledger_still_committed(pay_world.budget)


@pytest.mark.django_db
def test_paying_again_after_a_reversal_counts_the_invoice_once(pay_world, run_payments):
    pay_world.invoice()
    payment_services.payment_reverse(payment=run_payments().payments.get(), reason="Returned by the bank")

    run_payments()

    assert paid(pay_world.plan) == gbp("24.50")
    assert plan_remaining_commitment(reload(pay_world.plan)) == ledger_still_committed(pay_world.budget)


@pytest.mark.django_db
def test_a_payment_that_fails_leaves_what_the_plan_has_paid_alone(pay_world, run_payments):
    invoice = pay_world.invoice()
    Provider.objects.filter(pk=pay_world.brightside.pk).update(status=ProviderStatus.SUSPENDED)

    run_payments()

    assert Payment.objects.get(invoice=invoice).status == PaymentStatus.FAILED
    assert reload(invoice).status == InvoiceStatus.CONFIRMED
    assert paid(pay_world.plan) == gbp("0")
    assert plan_remaining_commitment(reload(pay_world.plan)) == ledger_still_committed(pay_world.budget)


@pytest.mark.django_db
def test_a_new_version_releases_only_what_the_old_one_had_not_paid(pay_world, run_payments):
    """Approving a new version gives back what the old one still had set aside: its commitment
    less what it paid. Giving back the whole commitment would free money already spent."""
    pay_world.invoice()
    run_payments()
    old = reload(pay_world.plan)
    allocated = budget_figures(pay_world.budget).allocated

    new = plan_new_version(actor=pay_world.client, plan=old)
    workflow.plan_submit(actor=pay_world.client, plan=new)
    workflow.plan_start_review(actor=pay_world.social_worker, plan=new)
    new = workflow.plan_approve(actor=pay_world.social_worker, plan=new, checklist=dict(CHECKLIST))

    assert reload(old).status == PlanStatus.SUPERSEDED
    assert plan_remaining_commitment(reload(old)) == gbp("0")
    figures = budget_figures(pay_world.budget)
    assert figures.paid == gbp("24.50")
    # The new version carries what the old one paid and commits only the rest of its cost: the
    # budget holds its cost once (paid and still committed), not its cost plus what was paid.
    assert reload(new).paid_amount == gbp("24.50")
    assert ledger_still_committed(pay_world.budget) == plan_remaining_commitment(reload(new))
    assert figures.committed == reload(new).total_cost
    assert figures.allocated == allocated
    assert_ledger_balances(pay_world.budget)

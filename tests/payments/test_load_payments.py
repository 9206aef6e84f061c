"""Paying fund loads: payment runs and the daily job pay each due load once, to its holder, through
the gateway; the ledger moves it out of the commitment and into the budget's funds."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.models import AccountKind, LedgerAccount, LedgerPosting
from budgets.selectors import budget_figures
from careplans.models import CarePlan
from payments import selectors, services
from payments.models import FundAccount, FundKind, Load, LoadStatus, Payment, PaymentKind, PaymentStatus
from tests.payments.invoice_fixtures import approve

DAY = datetime.timedelta(days=1)


def pa(start: datetime.date, days: int) -> dict:
    return {
        "description": "Personal assistant",
        "unit": "hour",
        "unit_price": "14.50",
        "units_per_week": "10",
        "start": start,
        "end": start + (days - 1) * DAY,
        "money_management": "direct_payment",
    }


@pytest.fixture
def run_payments(finance_user, django_capture_on_commit_callbacks):
    """A payment run by finance, with its sending (queued on commit) done."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return services.payment_run_start(actor=finance_user)

    return run


@pytest.fixture
def dp(make_plan, make_budget, client_user, caseload, social_worker, checklist, django_capture_on_commit_callbacks):
    """Ruth's direct payment: a PA, 10 hours a week at £14.50, from 30 days ago for 84 days — so
    the first two 28-day loads (£580.00 each) are due today and the third is not."""
    start = timezone.localdate() - 30 * DAY
    budget = make_budget(client_user, "10000.00", period_start=start)
    plan = make_plan(client_user, budget, lines=[pa(start, 84)], risks="Falls", contacts="My son")
    with django_capture_on_commit_callbacks(execute=True):
        plan = approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)
    # Approved today: the grid starts today. Move it back to the line's start, as if approved then.
    CarePlan.objects.filter(pk=plan.pk).update(approved_at=timezone.now() - 30 * DAY)
    Load.objects.all().delete()
    FundAccount.objects.all().delete()
    services.funds_schedule(plan_id=plan.pk)
    return FundAccount.objects.get(budget=budget, kind=FundKind.DIRECT_PAYMENT)


def test_a_payment_run_pays_each_due_load_once_to_the_person(dp, run_payments):
    budget = dp.budget
    before = budget_figures(budget)

    run = run_payments()

    payments = list(run.payments.order_by("pk"))
    assert [(p.kind, p.person_id, p.provider_id, p.amount.amount, p.status) for p in payments] == [
        (PaymentKind.DIRECT_PAYMENT, dp.holder_id, None, Decimal("580.00"), PaymentStatus.PAID)
    ] * 2
    assert [load.status for load in dp.loads.order_by("period_start")] == [
        LoadStatus.PAID,
        LoadStatus.PAID,
        LoadStatus.SCHEDULED,
    ]
    after = budget_figures(budget)
    assert after.paid.amount - before.paid.amount == Decimal("1160.00")
    assert after.allocated == before.allocated and after.available == before.available
    figures = selectors.fund_figures(dp)
    assert figures.loaded.amount == figures.balance.amount == Decimal("1160.00")
    held = LedgerAccount.objects.get(budget=budget, kind=AccountKind.FUND_HELD)
    assert held.balance.amount == Decimal("1160.00")
    for payment in payments:
        postings = LedgerPosting.objects.filter(transaction=payment.ledger_transaction)
        assert sum(p.amount.amount for p in postings) == 0 and postings.count() == 4

    again = run_payments()
    assert again.payment_count == 0


def test_the_daily_job_pays_due_loads_and_does_nothing_when_none_are_due(dp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.loads_pay_due()

    assert run is not None and run.started_by is None and run.payment_count == 2
    assert services.loads_pay_due() is None
    assert Payment.objects.count() == 2


def test_a_reversed_load_payment_is_owed_again_and_paid_by_the_next_run(dp, run_payments):
    run = run_payments()
    payment = run.payments.order_by("pk").first()

    services.payment_reverse(payment=payment, reason="Returned by the bank")

    load = Load.objects.get(pk=payment.load_id)
    assert load.status == LoadStatus.SCHEDULED and load.paid_at is None
    assert selectors.fund_figures(dp).loaded.amount == Decimal("580.00")
    assert LedgerAccount.objects.get(budget=dp.budget, kind=AccountKind.FUND_HELD).balance.amount == Decimal("580.00")
    rerun = run_payments()
    assert [p.load_id for p in rerun.payments.all()] == [load.pk]
    assert Load.objects.get(pk=load.pk).status == LoadStatus.PAID


def test_a_load_of_a_plan_no_longer_in_force_is_not_paid(dp, run_payments):
    CarePlan.objects.filter(pk=dp.loads.first().plan_id).update(status="superseded")

    assert run_payments().payment_count == 0
    assert not Payment.objects.exists()


def test_paying_loads_draws_on_the_plans_commitment(dp, run_payments):
    plan = dp.loads.first().plan
    run_payments()

    plan.refresh_from_db()
    assert plan.paid_amount.amount == Decimal("1160.00")


def test_the_payments_api_lists_load_payments_by_kind(dp, run_payments, finance_user, api_as):
    run_payments()

    direct = api_as(finance_user).get("/api/v1/payments/?kind=direct_payment").json()
    invoices = api_as(finance_user).get("/api/v1/payments/?kind=invoice").json()
    bad = api_as(finance_user).get("/api/v1/payments/?kind=cash")

    assert direct["count"] == 2 and {row["kind"] for row in direct["results"]} == {"direct_payment"}
    assert invoices["count"] == 0
    assert bad.status_code == 400 and "kind" in bad.json()


def test_the_fund_api_shows_what_was_loaded(dp, run_payments, api_as):
    run_payments()

    body = api_as(dp.holder).get(f"/api/v1/budgets/{dp.budget_id}/direct-payment/").json()

    assert body["loaded"] == body["balance"] == {"amount": "1160.00", "currency": "GBP"}
    assert [row["status"] for row in body["schedule"]] == ["paid", "paid", "scheduled"]


def test_a_run_that_paid_loads_reconciles_with_no_differences(dp, run_payments):
    run = run_payments()
    assert run.payments.count() == 2
    assert services.payment_run_reconcile(run=run) == []

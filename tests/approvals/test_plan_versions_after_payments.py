"""A plan's cost covers its whole period, the part already paid included. Once anything is paid
the approved plan must not look over budget, a new version with the same lines must still be
within budget, and approving it must not count the paid part twice in the ledger."""

import pytest
from django.db import transaction
from djmoney.money import Money

from approvals import services
from budgets.selectors import budget_figures
from budgets.services import ledger
from careplans.models import CarePlan
from careplans.selectors import plan_available, plan_remaining_commitment
from careplans.services import plan_new_version
from careplans.services.plans import plan_paid_record

pytestmark = pytest.mark.django_db


def _approve(plan, client_user, social_worker, checklist):
    services.plan_submit(actor=client_user, plan=plan)
    services.plan_start_review(actor=social_worker, plan=plan)
    return services.plan_approve(actor=social_worker, plan=plan, checklist=checklist)


def _pay(plan, amount, key):
    with transaction.atomic():
        ledger.record_payment(budget=plan.budget, amount=amount, key=key)
        plan_paid_record(plan_id=plan.pk, amount=amount)
    return CarePlan.objects.get(pk=plan.pk)


@pytest.fixture
def paid_plan(client_user, social_worker, draft_plan, checklist):
    """Ruth's approved plan (£196.00) with £98.00 of it paid."""
    plan = _approve(draft_plan, client_user, social_worker, checklist)
    return _pay(plan, Money("98.00", "GBP"), "test:first-invoice")


def test_a_paid_plan_is_not_over_budget(web_as, client_user, paid_plan):
    assert plan_available(paid_plan) == Money("10000.00", "GBP")
    page = web_as(client_user).get(f"/plans/{paid_plan.pk}/").content.decode()
    assert "Over budget" not in page


def test_a_new_version_with_the_same_lines_can_be_submitted_after_payments(client_user, paid_plan):
    new = plan_new_version(actor=client_user, plan=paid_plan)
    assert new.total_cost == paid_plan.total_cost
    assert plan_available(new) == Money("10000.00", "GBP")
    submitted = services.plan_submit(actor=client_user, plan=new)
    assert submitted.status == "submitted"


def test_approving_the_new_version_carries_what_was_paid_and_commits_only_the_rest(
    client_user, social_worker, paid_plan, checklist
):
    new = _approve(plan_new_version(actor=client_user, plan=paid_plan), client_user, social_worker, checklist)
    new = CarePlan.objects.get(pk=new.pk)
    figures = budget_figures(new.budget)
    # The budget holds the new version's cost once: £98.00 paid and £98.00 still committed.
    assert figures.committed == Money("196.00", "GBP")
    assert figures.paid == Money("98.00", "GBP")
    assert figures.available == Money("9804.00", "GBP")
    assert new.paid_amount == Money("98.00", "GBP")
    assert plan_remaining_commitment(new) == figures.committed - figures.paid
    # Paying the rest of the new version is within its commitment.
    _pay(new, Money("98.00", "GBP"), "test:second-invoice")
    assert budget_figures(new.budget).committed == Money("196.00", "GBP")


def test_a_cheaper_new_version_than_what_was_paid_commits_nothing_more(
    client_user, social_worker, paid_plan, checklist
):
    paid_plan = _pay(paid_plan, Money("98.00", "GBP"), "test:rest")  # all £196.00 paid
    new = plan_new_version(actor=client_user, plan=paid_plan)
    line = new.lines.get()
    line.units_per_week = 1
    line.save()
    CarePlan.objects.filter(pk=new.pk).update(total_cost=Money("98.00", "GBP"))
    new = _approve(CarePlan.objects.get(pk=new.pk), client_user, social_worker, checklist)
    figures = budget_figures(new.budget)
    assert figures.committed == Money("196.00", "GBP")  # what was paid stays spent
    assert figures.available == Money("9804.00", "GBP")
    assert plan_remaining_commitment(CarePlan.objects.get(pk=new.pk)) == Money("0.00", "GBP")

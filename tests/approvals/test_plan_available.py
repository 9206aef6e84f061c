"""What a plan may cost counts money already set aside for it: its own commitment once approved,
and the approved version's commitment while a new version is being drafted."""

import pytest
from djmoney.money import Money

from approvals import services
from budgets.selectors import budget_figures
from careplans.selectors import plan_available
from careplans.services import plan_new_version

pytestmark = pytest.mark.django_db


def _approve(plan, client_user, social_worker, checklist):
    services.plan_submit(actor=client_user, plan=plan)
    services.plan_start_review(actor=social_worker, plan=plan)
    return services.plan_approve(actor=social_worker, plan=plan, checklist=checklist)


def test_an_approved_plan_page_does_not_count_its_own_cost_twice(
    web_as, client_user, social_worker, draft_plan, checklist
):
    plan = _approve(draft_plan, client_user, social_worker, checklist)
    assert budget_figures(plan.budget).available == Money("9804.00", "GBP")
    assert plan_available(plan) == Money("10000.00", "GBP")
    page = web_as(client_user).get(f"/plans/{plan.pk}/").content.decode()
    assert "£9,804.00" in page  # left over
    assert "Over budget" not in page


def test_a_new_version_may_use_what_the_approved_version_has_committed(
    client_user, social_worker, draft_plan, checklist
):
    approved = _approve(draft_plan, client_user, social_worker, checklist)
    new = plan_new_version(actor=client_user, plan=approved)
    assert plan_available(new) == Money("10000.00", "GBP")

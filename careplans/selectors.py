"""Reads about care plans."""

from __future__ import annotations

from djmoney.money import Money

from accounts.exceptions import NotVisible
from accounts.models import User
from budgets.selectors import budget_figures

from .models import CarePlan
from .permissions import can_view_plan


def plan_get_for(user: User, plan_id: int) -> CarePlan:
    """The plan with its budget, outcomes and lines, or `NotVisible` (404)."""
    plan = (
        CarePlan.objects.select_related("budget", "client", "created_by")
        .prefetch_related("outcomes", "lines__provider")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None or not can_view_plan(user, plan):
        raise NotVisible("No such plan.")
    return plan


def plan_available(plan: CarePlan) -> Money:
    """What the budget has available for this plan: the budget's uncommitted money. (A new
    version of an approved plan may also use what the version it replaces still has committed;
    the approval workflow adds that.)"""
    return budget_figures(plan.budget).available


def plan_versions(plan: CarePlan) -> list[CarePlan]:
    """Every version in this plan's chain, oldest first, from one query over the budget's plans."""
    rows = CarePlan.objects.filter(budget_id=plan.budget_id).only("id", "version", "status", "previous_id")
    by_id = {p.pk: p for p in rows}
    by_previous = {p.previous_id: p for p in by_id.values() if p.previous_id}
    first = by_id.get(plan.pk, plan)
    while first.previous_id and first.previous_id in by_id:
        first = by_id[first.previous_id]
    chain = [first]
    while chain[-1].pk in by_previous:
        chain.append(by_previous[chain[-1].pk])
    return chain

"""Who may write and read care plans."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import Role
from accounts.permissions import acts_for, can_view_client, has_role, is_admin

if TYPE_CHECKING:
    from accounts.models import User
    from budgets.models import PersonalBudget

    from .models import CarePlan


def can_plan_for(user: User, budget: PersonalBudget) -> bool:
    """The client for their own budget (or someone acting for them), or their social worker or
    team manager."""
    if has_role(user, Role.CLIENT, Role.REPRESENTATIVE):
        return acts_for(user, budget.client)
    return has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER) and can_view_client(user, budget.client)


def can_view_plan(user: User, plan: CarePlan) -> bool:
    """The client, their social worker and team manager, and administrators. Case managers see
    providers and ratings, not the personal detail of plans."""
    return is_admin(user) or can_plan_for(user, plan.budget)


def can_edit_plan(user: User, plan: CarePlan) -> bool:
    return can_plan_for(user, plan.budget)


# The workflow's role rules. They live here, beside the plan, because the plan's FSM transitions
# name them as their `permission=` (models cannot import the approvals app above them); the
# approvals services check them with `has_transition_perm` after taking the plan's lock.


def can_submit_plan(user: User, plan: CarePlan) -> bool:
    """The client, or their social worker or team manager (the people who may edit it)."""
    return can_edit_plan(user, plan)


def can_withdraw_plan(user: User, plan: CarePlan) -> bool:
    """Only the client withdraws their own plan (docs/approval-workflow.md), or someone acting
    for them."""
    return acts_for(user, plan.client)


REVIEWER_ROLES = (Role.SOCIAL_WORKER, Role.TEAM_MANAGER)


def is_reviewer(user: User) -> bool:
    return has_role(user, *REVIEWER_ROLES)


def can_review_plan(user: User, plan: CarePlan) -> bool:
    """The client's social worker, or that worker's team manager."""
    return is_reviewer(user) and can_view_client(user, plan.client)

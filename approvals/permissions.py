"""Who may move a care plan through the workflow.

The role checks (403) are separate from visibility (404: `careplans.permissions.can_view_plan`)
and from the per-plan rules the services check after locking (four eyes, delegated authority).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import Role
from accounts.permissions import can_view_client, has_role
from careplans.permissions import can_edit_plan

if TYPE_CHECKING:
    from accounts.models import User
    from careplans.models import CarePlan

REVIEWER_ROLES = (Role.SOCIAL_WORKER, Role.TEAM_MANAGER)


def can_submit_plan(user: User, plan: CarePlan) -> bool:
    """The client, or their social worker or team manager (the people who may edit it)."""
    return can_edit_plan(user, plan)


def can_withdraw_plan(user: User, plan: CarePlan) -> bool:
    """Only the client withdraws their own plan (PRODUCT.md §5)."""
    return has_role(user, Role.CLIENT) and plan.client_id == user.pk


def is_reviewer(user: User) -> bool:
    return has_role(user, *REVIEWER_ROLES)


def can_review_plan(user: User, plan: CarePlan) -> bool:
    """The client's social worker, or that worker's team manager."""
    return is_reviewer(user) and can_view_client(user, plan.client)


def drafted_or_submitted(user: User, plan: CarePlan, submitted_by_id: int | None) -> bool:
    """Four eyes: whoever drafted or submitted a plan cannot also approve it."""
    return user.pk in {plan.created_by_id, submitted_by_id}

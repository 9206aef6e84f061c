"""Who may move a care plan through the workflow.

The role rules (`can_submit_plan`, `can_review_plan`...) live in `careplans.permissions`, because
the plan's transitions declare them as their `permission=`; this module adds the rules only the
workflow needs. Visibility (404) is `careplans.permissions.can_view_plan`; the per-plan rules the
services check after locking are four eyes (here) and delegated authority (`selectors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from careplans.permissions import (  # noqa: F401  (the workflow's predicates, in one place for its callers)
    can_review_plan,
    can_submit_plan,
    can_withdraw_plan,
    is_reviewer,
)

if TYPE_CHECKING:
    from accounts.models import User
    from careplans.models import CarePlan


def drafted_or_submitted(user: User, plan: CarePlan, submitted_by_id: int | None) -> bool:
    """Four eyes: whoever drafted or submitted a plan cannot also approve it."""
    return user.pk in {plan.created_by_id, submitted_by_id}

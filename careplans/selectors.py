"""Reads about care plans."""

from __future__ import annotations

from accounts.exceptions import NotVisible
from accounts.models import User

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

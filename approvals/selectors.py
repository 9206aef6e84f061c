"""Reads for the workflow: authority, policy, the review queue, statutory reviews."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from djmoney.money import Money

from accounts.models import Role, TeamMembership, User
from accounts.permissions import has_role
from accounts.selectors import client_list_visible_to
from careplans.models import UNDER_REVIEW_STATUSES, PlanStatus

from .models import ApprovalAuthority, PlanReview, StatutoryReview, WorkflowPolicy

# Used when the admin has not configured a role (the defaults in docs/approval-workflow.md).
DEFAULT_LIMITS: dict[str, Decimal | None] = {Role.SOCIAL_WORKER: Decimal("20000"), Role.TEAM_MANAGER: None}


def workflow_policy() -> WorkflowPolicy:
    policy, _ = WorkflowPolicy.objects.get_or_create(pk=1)
    return policy


def authority_limit(user: User) -> Money | None:
    """The largest annual plan cost `user` may approve alone; None means no limit. Roles that do
    not review have no authority at all (Money 0)."""
    if user.role not in DEFAULT_LIMITS:
        return Money(0, "GBP")
    row = ApprovalAuthority.objects.filter(role=user.role).first()
    if row is None:
        limit = DEFAULT_LIMITS[user.role]
        return None if limit is None else Money(limit, "GBP")
    return row.annual_limit


def authority_covers(user: User, amount: Money) -> bool:
    """Equal to the limit is within it; a penny over is not."""
    limit = authority_limit(user)
    return limit is None or amount.amount <= limit.amount


def team_manager_of(social_worker: User | None) -> User | None:
    if social_worker is None:
        return None
    membership = TeamMembership.objects.select_related("team__manager").filter(social_worker=social_worker).first()
    return membership.team.manager if membership else None


def review_queue_for(user: User) -> QuerySet[PlanReview]:
    """Open reviews of plans whose clients the user can see, soonest due first."""
    if not has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        return PlanReview.objects.none()
    return (
        PlanReview.objects.filter(
            decided_at__isnull=True,
            plan__status__in=UNDER_REVIEW_STATUSES,
            plan__client__in=client_list_visible_to(user),
        )
        .select_related("plan__client", "plan__budget", "reviewer", "submitted_by")
        .order_by("due", "submitted_at", "pk")
    )


def statutory_reviews_for(user: User) -> QuerySet[StatutoryReview]:
    """Statutory reviews not yet done, of approved plans of clients the user can see."""
    if not has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        return StatutoryReview.objects.none()
    return (
        StatutoryReview.objects.filter(
            completed_at__isnull=True,
            plan__status=PlanStatus.APPROVED,
            plan__client__in=client_list_visible_to(user),
        )
        .select_related("plan__client")
        .order_by("due", "pk")
    )


def is_overdue(review: PlanReview, today: datetime.date | None = None) -> bool:
    return review.decided_at is None and review.due < (today or timezone.localdate())

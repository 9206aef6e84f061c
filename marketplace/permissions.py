"""Who may review providers, answer reviews and moderate them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import Role
from accounts.permissions import has_role, is_admin
from careplans.models import PlanLine, PlanStatus

if TYPE_CHECKING:
    from accounts.models import User
    from providers.models import Provider

    from .models import Review

# A plan that is, or was, in force: the client has used (or is using) the provider.
USED_STATUSES = (PlanStatus.APPROVED, PlanStatus.SUPERSEDED)


def has_used_provider(user: User, provider: Provider) -> bool:
    """The client has, or had, an approved plan line with the provider."""
    return PlanLine.objects.filter(plan__client=user, plan__status__in=USED_STATUSES, provider=provider).exists()


def can_review_provider(user: User, provider: Provider) -> bool:
    return has_role(user, Role.CLIENT) and has_used_provider(user, provider)


def can_answer_review(user: User, review: Review) -> bool:
    return has_role(user, Role.PROVIDER) and user.provider_id == review.provider_id


def can_moderate_reviews(user: User) -> bool:
    return has_role(user, Role.CASE_MANAGER) or is_admin(user)

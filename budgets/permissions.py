"""Who may assess, see budgets, set final budgets, manage RAS schemes and charging policies, and
record or see financial assessments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import CaseloadAssignment, Role
from accounts.permissions import can_view_client, has_role, is_admin

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Assessment, PersonalBudget


def can_assess_client(user: User, client: User) -> bool:
    """A social worker assesses clients on their caseload, and unallocated clients (taking them
    on); a team manager assesses their team's clients."""
    if client.role != Role.CLIENT or not client.is_active:
        return False
    if has_role(user, Role.SOCIAL_WORKER):
        current = CaseloadAssignment.objects.filter(client=client, end_date__isnull=True).first()
        return current is None or current.social_worker_id == user.pk
    if has_role(user, Role.TEAM_MANAGER):
        return can_view_client(user, client)
    return False


def can_view_assessment(user: User, assessment: Assessment) -> bool:
    return can_view_client(user, assessment.client)


def can_edit_assessment(user: User, assessment: Assessment) -> bool:
    return has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER) and can_assess_client(user, assessment.client)


def can_view_budget(user: User, budget: PersonalBudget) -> bool:
    """The client, their social worker and team manager, finance and administrators."""
    return has_role(user, Role.FINANCE, Role.ADMIN) or can_view_client(user, budget.client)


def can_set_final_budget(user: User, budget: PersonalBudget) -> bool:
    """The approver: the team manager of the client's team (or an administrator)."""
    return is_admin(user) or (has_role(user, Role.TEAM_MANAGER) and can_view_client(user, budget.client))


def can_manage_schemes(user: User) -> bool:
    return is_admin(user)


def can_view_financial_assessments(user: User, client: User) -> bool:
    """The client and whoever acts for them, their social worker and team manager, finance and
    administrators."""
    return has_role(user, Role.FINANCE, Role.ADMIN) or can_view_client(user, client)


def can_record_financial_assessment(user: User, client: User) -> bool:
    """Finance officers (any client), and the client's social worker or team manager."""
    if client.role != Role.CLIENT:
        return False
    if has_role(user, Role.FINANCE) or is_admin(user):
        return True
    return has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER) and can_view_client(user, client)


def can_manage_charging_policies(user: User) -> bool:
    return is_admin(user)


def can_reassess(user: User) -> bool:
    """Who reassesses everyone under a new charging policy: finance officers and administrators."""
    return has_role(user, Role.FINANCE) or is_admin(user)

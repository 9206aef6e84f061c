"""Who may do what: small predicates used by views, templates, the API and FSM `permission=`.

Each takes the acting user first. They answer questions of role and relationship only; whether a
record is in the right state is the service's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import CaseloadAssignment, Representation, Role, TeamMembership

if TYPE_CHECKING:
    from .models import User

STAFF_ROLES = frozenset({Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.CASE_MANAGER, Role.FINANCE, Role.ADMIN})


def has_role(user: User, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def is_admin(user: User) -> bool:
    return has_role(user, Role.ADMIN)


def can_manage_users(user: User) -> bool:
    return is_admin(user)


def can_manage_teams(user: User) -> bool:
    return is_admin(user)


def can_use_admin_site(user: User) -> bool:
    return is_admin(user) and user.is_staff


def can_view_own_caseload(user: User) -> bool:
    return has_role(user, Role.SOCIAL_WORKER)


def can_view_team(user: User) -> bool:
    return has_role(user, Role.TEAM_MANAGER)


def can_assign_caseloads(user: User) -> bool:
    """Whether the role may allocate clients at all (the per-case check is `can_assign_caseload`)."""
    return has_role(user, Role.ADMIN, Role.TEAM_MANAGER)


def manages_social_worker(manager: User, social_worker: User) -> bool:
    return TeamMembership.objects.filter(team__manager=manager, social_worker=social_worker).exists()


def can_assign_caseload(user: User, social_worker: User, client: User) -> bool:
    """Admins allocate anyone. A team manager allocates to their own team's social workers, and
    only clients who are unallocated or already with their team: moving a client out of another
    team is that team's (or an admin's) decision."""
    if is_admin(user):
        return True
    if not has_role(user, Role.TEAM_MANAGER) or not manages_social_worker(user, social_worker):
        return False
    current = (
        CaseloadAssignment.objects.filter(client=client, end_date__isnull=True)
        .values_list("social_worker_id", flat=True)
        .first()
    )
    return current is None or TeamMembership.objects.filter(team__manager=user, social_worker_id=current).exists()


def acts_for(user: User, client: User) -> bool:
    """Whether `user` acts as this client: the client themselves, or an active representative
    linked to them (docs/rules.md, "People acting for a client"). The one place that answers
    "may this person do what the client may?": every rule that lets a client act for themselves
    asks this, so a representative can do the same for the clients they are linked to, and only
    for those."""
    if not (user and user.is_authenticated and user.is_active) or client is None or client.role != Role.CLIENT:
        return False
    if user.role == Role.CLIENT:
        return user.pk == client.pk
    if user.role == Role.REPRESENTATIVE:
        return Representation.objects.filter(representative=user, client=client).exists()
    return False


def can_manage_representatives(user: User, client: User) -> bool:
    """Who may link people to a client as their representatives, or unlink them: administrators
    and the client's current social worker."""
    if client.role != Role.CLIENT:
        return False
    if is_admin(user):
        return True
    return (
        has_role(user, Role.SOCIAL_WORKER)
        and CaseloadAssignment.objects.filter(client=client, social_worker=user, end_date__isnull=True).exists()
    )


def can_view_client(user: User, client: User) -> bool:
    """A client's record: the client and their representatives, their social worker, that
    worker's team manager, an admin."""
    if not (user and user.is_authenticated and user.is_active) or client.role != Role.CLIENT:
        return False
    if is_admin(user) or acts_for(user, client):
        return True
    open_assignments = CaseloadAssignment.objects.filter(client=client, end_date__isnull=True)
    if user.role == Role.SOCIAL_WORKER:
        return open_assignments.filter(social_worker=user).exists()
    if user.role == Role.TEAM_MANAGER:
        return open_assignments.filter(social_worker__team_memberships__team__manager=user).exists()
    return False

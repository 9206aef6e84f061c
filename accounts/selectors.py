"""Reads about people, teams and caseloads. Every list is scoped to what the viewer may see."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from .exceptions import NotVisible
from .models import AuditEvent, CaseloadAssignment, Notification, Representation, Role, Team, User
from .permissions import can_view_client


def client_list_visible_to(user: User) -> QuerySet[User]:
    """Clients whose record `user` may open; the same rule as `permissions.can_view_client`.

    Closed (inactive) client accounts stay listed: their care records outlive the login.
    """
    clients = User.objects.filter(role=Role.CLIENT)
    if not (user and user.is_authenticated and user.is_active):
        return clients.none()
    if user.role == Role.ADMIN:
        return clients
    if user.role == Role.CLIENT:
        return clients.filter(pk=user.pk)
    if user.role == Role.REPRESENTATIVE:
        return clients.filter(represented_by__representative=user)
    if user.role == Role.SOCIAL_WORKER:
        return clients.filter(
            social_worker_assignments__end_date__isnull=True,
            social_worker_assignments__social_worker=user,
        )
    if user.role == Role.TEAM_MANAGER:
        return clients.filter(
            social_worker_assignments__end_date__isnull=True,
            social_worker_assignments__social_worker__team_memberships__team__manager=user,
        ).distinct()
    return clients.none()


def client_get_for(user: User, client_id: int) -> User:
    """The client record, or `NotVisible` (a 404) whether it is missing or someone else's."""
    client = User.objects.filter(pk=client_id, role=Role.CLIENT).first()
    if client is None or not can_view_client(user, client):
        raise NotVisible("No such client.")
    return client


def representation_list_for_client(*, client: User) -> QuerySet[Representation]:
    """The people acting for a client, by name."""
    return (
        Representation.objects.filter(client=client)
        .select_related("representative", "created_by")
        .order_by("representative__full_name", "pk")
    )


def represented_clients(*, representative: User) -> QuerySet[Representation]:
    """The links of the clients a representative acts for, with each client, by the client's name.
    Empty for anyone who is not an active representative."""
    if not (representative.is_authenticated and representative.is_active) or representative.role != Role.REPRESENTATIVE:
        return Representation.objects.none()
    return (
        Representation.objects.filter(representative=representative)
        .select_related("client")
        .order_by("client__full_name", "pk")
    )


def representatives_of(client: User) -> list[User]:
    """The active representatives of a client: the people told whatever the client is told."""
    return list(
        User.objects.filter(role=Role.REPRESENTATIVE, is_active=True, representations__client=client).order_by(
            "full_name", "pk"
        )
    )


def representative_candidates(*, client: User) -> QuerySet[User]:
    """Representatives' accounts that could be linked to this client (open, not linked yet)."""
    return (
        User.objects.filter(role=Role.REPRESENTATIVE, is_active=True)
        .exclude(representations__client=client)
        .order_by("full_name", "username")
    )


def caseload_list(*, social_worker: User) -> QuerySet[CaseloadAssignment]:
    """A social worker's open caseload, oldest allocation first."""
    return (
        CaseloadAssignment.objects.filter(social_worker=social_worker, end_date__isnull=True)
        .select_related("client")
        .order_by("start_date", "client__full_name")
    )


def team_list_managed(*, manager: User) -> QuerySet[Team]:
    """The teams a manager leads, with members and each member's open caseload, in a fixed
    number of queries however large the team."""
    open_assignments = (
        CaseloadAssignment.objects.filter(end_date__isnull=True).select_related("client").order_by("client__full_name")
    )
    members = (
        User.objects.filter(role=Role.SOCIAL_WORKER)
        .order_by("full_name")
        .prefetch_related(Prefetch("caseload_assignments", queryset=open_assignments, to_attr="open_caseload"))
    )
    return Team.objects.filter(manager=manager).prefetch_related(Prefetch("members", queryset=members))


def team_social_workers(*, manager: User) -> QuerySet[User]:
    return User.objects.filter(
        role=Role.SOCIAL_WORKER, is_active=True, team_memberships__team__manager=manager
    ).order_by("full_name")


def clients_allocatable_by(*, manager: User) -> QuerySet[User]:
    """Clients a team manager may allocate: unallocated ones and those already with the team."""
    clients = User.objects.filter(role=Role.CLIENT, is_active=True)
    if manager.role == Role.ADMIN:
        return clients.order_by("full_name")
    open_allocation = CaseloadAssignment.objects.filter(client=OuterRef("pk"), end_date__isnull=True)
    with_team = open_allocation.filter(social_worker__team_memberships__team__manager=manager)
    return clients.filter(~Exists(open_allocation) | Exists(with_team)).order_by("full_name")


def current_social_worker(*, client: User) -> User | None:
    assignment = (
        CaseloadAssignment.objects.filter(client=client, end_date__isnull=True).select_related("social_worker").first()
    )
    return assignment.social_worker if assignment else None


def audit_list_for_subject(*, client: User, limit: int = 50) -> QuerySet[AuditEvent]:
    """Who has done what with a client's record, newest first."""
    return AuditEvent.objects.filter(subject=client).select_related("actor")[:limit]


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()

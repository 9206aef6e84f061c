"""Every predicate in `accounts.permissions`, both ways, and the client-visibility selector
agreeing with the client-visibility predicate for every role."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts import permissions, selectors
from accounts.models import Role, User
from tests import factories
from tests.accounts.representative_fixtures import representative_of
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db


# Predicate -> the roles for which it is true (for an active user).
ROLE_PREDICATES = {
    "is_admin": {Role.ADMIN},
    "can_manage_users": {Role.ADMIN},
    "can_manage_teams": {Role.ADMIN},
    "can_use_admin_site": {Role.ADMIN},
    "can_view_own_caseload": {Role.SOCIAL_WORKER},
    "can_view_team": {Role.TEAM_MANAGER},
    "can_assign_caseloads": {Role.ADMIN, Role.TEAM_MANAGER},
}

ROLE_CASES = [(name, role) for name in ROLE_PREDICATES for role in Role.values]


def person(request, role):
    return request.getfixturevalue(ROLE_FIXTURES[role])


def deactivate(user):
    user.is_active = False
    user.save()
    return user


# --- role-only predicates ------------------------------------------------------------------------


@pytest.mark.parametrize(("predicate", "role"), ROLE_CASES)
def test_role_predicate_is_true_exactly_for_its_roles(request, predicate, role):
    user = person(request, role)
    assert getattr(permissions, predicate)(user) is (role in ROLE_PREDICATES[predicate])


@pytest.mark.parametrize("predicate", list(ROLE_PREDICATES))
def test_role_predicate_is_false_for_a_deactivated_user_of_an_allowed_role(request, predicate):
    allowed_role = sorted(ROLE_PREDICATES[predicate])[0]
    user = deactivate(person(request, allowed_role))
    assert getattr(permissions, predicate)(user) is False


@pytest.mark.parametrize("predicate", list(ROLE_PREDICATES))
def test_role_predicate_is_false_for_an_anonymous_visitor(predicate):
    assert getattr(permissions, predicate)(AnonymousUser()) is False


@pytest.mark.parametrize("role", Role.values)
def test_has_role_is_true_for_the_users_own_role_only(request, role):
    user = person(request, role)
    assert permissions.has_role(user, role) is True
    others = [r for r in Role.values if r != role]
    assert permissions.has_role(user, *others) is False
    assert permissions.has_role(user, *others, role) is True
    assert permissions.has_role(user) is False


def test_has_role_is_false_for_a_deactivated_user(client_user):
    assert permissions.has_role(deactivate(client_user), Role.CLIENT) is False


def test_has_role_is_false_for_an_anonymous_visitor_or_nobody():
    assert permissions.has_role(AnonymousUser(), *Role.values) is False
    assert permissions.has_role(None, *Role.values) is False


def test_admin_without_staff_flag_cannot_use_admin_site(admin_person):
    admin_person.is_staff = False
    admin_person.save()
    assert permissions.is_admin(admin_person) is True
    assert permissions.can_use_admin_site(admin_person) is False


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMIN])
def test_non_admin_with_staff_flag_still_cannot_use_admin_site(request, role):
    user = person(request, role)
    user.is_staff = True
    user.save()
    assert permissions.can_use_admin_site(user) is False


def test_staff_roles_are_the_councils_own_people():
    assert frozenset({Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.CASE_MANAGER, Role.FINANCE, Role.ADMIN}) == (
        permissions.STAFF_ROLES
    )
    assert Role.CLIENT not in permissions.STAFF_ROLES
    assert Role.PROVIDER not in permissions.STAFF_ROLES


# --- manages_social_worker -----------------------------------------------------------------------


def test_team_manager_manages_social_worker_in_their_team(team, team_manager, social_worker):
    assert permissions.manages_social_worker(team_manager, social_worker) is True


def test_team_manager_does_not_manage_social_worker_in_another_team(team, team_manager):
    other = factories.TeamFactory(members=[factories.SocialWorkerFactory()])
    assert permissions.manages_social_worker(team_manager, other.members.get()) is False
    assert permissions.manages_social_worker(other.manager, team.members.get()) is False


def test_team_manager_does_not_manage_social_worker_in_no_team(team, team_manager):
    assert permissions.manages_social_worker(team_manager, factories.SocialWorkerFactory()) is False


def test_team_manager_manages_social_workers_in_each_of_their_teams(team, team_manager):
    second_worker = factories.SocialWorkerFactory()
    factories.TeamFactory(manager=team_manager, members=[second_worker])
    assert permissions.manages_social_worker(team_manager, second_worker) is True


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.TEAM_MANAGER])
def test_no_other_role_manages_a_social_worker(request, team, social_worker, role):
    assert permissions.manages_social_worker(person(request, role), social_worker) is False


# --- can_assign_caseload -------------------------------------------------------------------------


@pytest.fixture
def other_team():
    return factories.TeamFactory(name="Other Team", members=[factories.SocialWorkerFactory()])


def test_admin_may_assign_any_client_to_any_social_worker(admin_person, caseload, other_team, client_user):
    assert permissions.can_assign_caseload(admin_person, other_team.members.get(), client_user) is True
    loner = factories.SocialWorkerFactory()
    assert permissions.can_assign_caseload(admin_person, loner, factories.ClientFactory()) is True


def test_deactivated_admin_may_not_assign(admin_person, social_worker, client_user):
    assert permissions.can_assign_caseload(deactivate(admin_person), social_worker, client_user) is False


def test_team_manager_may_assign_unallocated_client_to_own_social_worker(team, team_manager, social_worker):
    assert permissions.can_assign_caseload(team_manager, social_worker, factories.ClientFactory()) is True


def test_team_manager_may_assign_client_already_with_own_team(caseload, team, team_manager, client_user):
    teammate = factories.SocialWorkerFactory()
    team.memberships.create(social_worker=teammate)
    assert permissions.can_assign_caseload(team_manager, teammate, client_user) is True


def test_team_manager_may_assign_client_whose_allocation_to_another_team_has_ended(
    team, team_manager, social_worker, other_team
):
    client = factories.ClientFactory()
    today = timezone.localdate()
    factories.CaseloadAssignmentFactory(
        social_worker=other_team.members.get(),
        client=client,
        start_date=today - datetime.timedelta(days=30),
        end_date=today - datetime.timedelta(days=1),
    )
    assert permissions.can_assign_caseload(team_manager, social_worker, client) is True


def test_team_manager_may_not_assign_to_social_worker_outside_team(team, team_manager, other_team):
    client = factories.ClientFactory()
    assert permissions.can_assign_caseload(team_manager, other_team.members.get(), client) is False
    assert permissions.can_assign_caseload(team_manager, factories.SocialWorkerFactory(), client) is False


def test_team_manager_may_not_take_client_currently_with_another_team(team, team_manager, social_worker, other_team):
    client = factories.ClientFactory()
    factories.CaseloadAssignmentFactory(social_worker=other_team.members.get(), client=client)
    assert permissions.can_assign_caseload(team_manager, social_worker, client) is False


def test_team_manager_may_not_take_client_currently_with_a_social_worker_in_no_team(team, team_manager, social_worker):
    client = factories.ClientFactory()
    factories.CaseloadAssignmentFactory(social_worker=factories.SocialWorkerFactory(), client=client)
    assert permissions.can_assign_caseload(team_manager, social_worker, client) is False


def test_deactivated_team_manager_may_not_assign(team, team_manager, social_worker):
    assert permissions.can_assign_caseload(deactivate(team_manager), social_worker, factories.ClientFactory()) is False


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SOCIAL_WORKER, Role.CASE_MANAGER, Role.PROVIDER, Role.FINANCE])
def test_other_roles_may_not_assign_caseloads(request, team, social_worker, role):
    assert permissions.can_assign_caseload(person(request, role), social_worker, factories.ClientFactory()) is False


def test_anonymous_visitor_may_not_assign_caseloads(team, social_worker):
    assert permissions.can_assign_caseload(AnonymousUser(), social_worker, factories.ClientFactory()) is False


# --- can_view_client -----------------------------------------------------------------------------


def test_client_may_view_own_record(client_user):
    assert permissions.can_view_client(client_user, client_user) is True


def test_client_may_not_view_another_clients_record(client_user):
    assert permissions.can_view_client(client_user, factories.ClientFactory()) is False


def test_deactivated_client_may_not_view_own_record(client_user):
    assert permissions.can_view_client(deactivate(client_user), client_user) is False


def test_admin_may_view_any_client(admin_person, client_user):
    assert permissions.can_view_client(admin_person, client_user) is True


def test_social_worker_may_view_client_on_their_caseload(caseload, social_worker, client_user):
    assert permissions.can_view_client(social_worker, client_user) is True


def test_social_worker_may_not_view_client_on_someone_elses_caseload(caseload, team, client_user):
    teammate = factories.SocialWorkerFactory()
    team.memberships.create(social_worker=teammate)
    assert permissions.can_view_client(teammate, client_user) is False


def test_social_worker_may_not_view_unallocated_client(social_worker, client_user):
    assert permissions.can_view_client(social_worker, client_user) is False


def test_social_worker_may_not_view_client_after_allocation_ended(caseload, social_worker, client_user):
    caseload.end_date = timezone.localdate()
    caseload.save()
    assert permissions.can_view_client(social_worker, client_user) is False


def test_deactivated_social_worker_may_not_view_their_client(caseload, social_worker, client_user):
    assert permissions.can_view_client(deactivate(social_worker), client_user) is False


def test_team_manager_may_view_client_of_their_teams_social_worker(caseload, team_manager, client_user):
    assert permissions.can_view_client(team_manager, client_user) is True


def test_team_manager_may_not_view_client_of_another_team(caseload, client_user):
    other_manager = factories.TeamFactory(members=[factories.SocialWorkerFactory()]).manager
    assert permissions.can_view_client(other_manager, client_user) is False


def test_team_manager_may_not_view_unallocated_client(team, team_manager, client_user):
    assert permissions.can_view_client(team_manager, client_user) is False


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.PROVIDER, Role.FINANCE])
def test_other_roles_may_not_view_a_client_record(request, caseload, client_user, role):
    assert permissions.can_view_client(person(request, role), client_user) is False


def test_anonymous_visitor_may_not_view_a_client_record(client_user):
    assert permissions.can_view_client(AnonymousUser(), client_user) is False


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.CLIENT])
def test_nobody_views_a_non_client_as_a_client_record(request, admin_person, role):
    target = person(request, role)
    assert permissions.can_view_client(admin_person, target) is False
    assert permissions.can_view_client(target, target) is False


# --- the selector agrees with the predicate ------------------------------------------------------


@pytest.fixture
def world():
    """Two teams of two social workers each with clients; a social worker in no team; an
    unallocated client; one ended allocation; one client transferred between teams; a
    deactivated social worker still holding an allocation; a team manager with no team."""
    today = timezone.localdate()
    long_ago = today - datetime.timedelta(days=200)
    people = {}

    for team_key in ("a", "b"):
        manager = factories.TeamManagerFactory(full_name=f"Manager {team_key.upper()}")
        workers = [factories.SocialWorkerFactory(full_name=f"Worker {team_key.upper()}{n}") for n in (1, 2)]
        factories.TeamFactory(name=f"Team {team_key.upper()}", manager=manager, members=workers)
        people[f"tm_{team_key}"] = manager
        for n, worker in enumerate(workers, start=1):
            people[f"sw_{team_key}{n}"] = worker
            for m in (1, 2):
                client = factories.ClientFactory(full_name=f"Client {team_key.upper()}{n}.{m}")
                factories.CaseloadAssignmentFactory(social_worker=worker, client=client)
                people[f"client_{team_key}{n}_{m}"] = client

    people["sw_loner"] = factories.SocialWorkerFactory(full_name="Worker in no team")
    people["client_loner"] = factories.ClientFactory(full_name="Client of loner")
    factories.CaseloadAssignmentFactory(social_worker=people["sw_loner"], client=people["client_loner"])

    people["client_unallocated"] = factories.ClientFactory(full_name="Unallocated")

    people["client_ended"] = factories.ClientFactory(full_name="Ended allocation")
    factories.CaseloadAssignmentFactory(
        social_worker=people["sw_a1"], client=people["client_ended"], start_date=long_ago, end_date=today
    )

    people["client_moved"] = factories.ClientFactory(full_name="Moved from A to B")
    factories.CaseloadAssignmentFactory(
        social_worker=people["sw_a2"],
        client=people["client_moved"],
        start_date=long_ago,
        end_date=today - datetime.timedelta(days=10),
    )
    factories.CaseloadAssignmentFactory(
        social_worker=people["sw_b1"], client=people["client_moved"], start_date=today - datetime.timedelta(days=10)
    )

    people["sw_inactive"] = factories.SocialWorkerFactory(full_name="Left the council", is_active=False)
    people["client_of_inactive"] = factories.ClientFactory(full_name="Client of departed worker")
    factories.CaseloadAssignmentFactory(social_worker=people["sw_inactive"], client=people["client_of_inactive"])

    # Representatives: one acting for a client in each team, one whose account is closed, one
    # linked to nobody.
    people["rep_two"] = representative_of(people["client_a1_1"], people["client_b1_1"], full_name="Acts for two")
    people["rep_inactive"] = representative_of(people["client_a1_1"], full_name="Closed account", is_active=False)
    people["rep_nobody"] = representative_of(full_name="Acts for nobody")

    people["tm_no_team"] = factories.TeamManagerFactory(full_name="Manager of nothing")
    people["case_manager"] = factories.CaseManagerFactory()
    people["finance"] = factories.FinanceFactory()
    people["provider"] = factories.ProviderStaffFactory()
    people["admin"] = factories.AdminFactory()
    people["admin_inactive"] = factories.AdminFactory(is_active=False)
    return people


def visible_by_selector(viewer):
    clients = list(selectors.client_list_visible_to(viewer))
    assert len(clients) == len(set(clients)), "the selector lists a client twice"
    return {c.pk for c in clients}


def visible_by_predicate(viewer):
    return {c.pk for c in User.objects.all() if permissions.can_view_client(viewer, c)}


def test_selector_agrees_with_predicate_for_every_person_in_the_world(world):
    viewers = [*world.values(), AnonymousUser()]
    assert {v.role for v in world.values()} == set(Role.values)
    for viewer in viewers:
        assert visible_by_selector(viewer) == visible_by_predicate(viewer), str(viewer)


def test_selector_and_predicate_give_each_role_the_expected_clients(world):
    w = world
    every_client = {u.pk for u in User.objects.filter(role=Role.CLIENT)}
    expected = {
        "client_a1_1": {w["client_a1_1"].pk},
        "client_unallocated": {w["client_unallocated"].pk},
        "sw_a1": {w["client_a1_1"].pk, w["client_a1_2"].pk},
        "sw_a2": {w["client_a2_1"].pk, w["client_a2_2"].pk},
        "sw_b1": {w["client_b1_1"].pk, w["client_b1_2"].pk, w["client_moved"].pk},
        "sw_loner": {w["client_loner"].pk},
        "sw_inactive": set(),
        "tm_a": {w[f"client_a{n}_{m}"].pk for n in (1, 2) for m in (1, 2)},
        "tm_b": {w[f"client_b{n}_{m}"].pk for n in (1, 2) for m in (1, 2)} | {w["client_moved"].pk},
        "tm_no_team": set(),
        "case_manager": set(),
        "finance": set(),
        "provider": set(),
        "admin": every_client,
        "admin_inactive": set(),
        "rep_two": {w["client_a1_1"].pk, w["client_b1_1"].pk},
        "rep_inactive": set(),
        "rep_nobody": set(),
    }
    for key, clients in expected.items():
        viewer = w[key]
        assert visible_by_selector(viewer) == clients, key
        assert visible_by_predicate(viewer) == clients, key
    assert visible_by_selector(AnonymousUser()) == set()


def test_selector_and_predicate_agree_on_a_deactivated_client(caseload, team_manager, social_worker, client_user):
    """A client whose account is closed: whatever the rule is, the list and the record must agree."""
    deactivate(client_user)
    admin = factories.AdminFactory()
    for viewer in (admin, team_manager, social_worker, client_user):
        assert (client_user.pk in visible_by_selector(viewer)) == permissions.can_view_client(viewer, client_user), (
            viewer.role
        )

"""Every predicate in `budgets.permissions`, both ways, for every role (PRODUCT.md "Roles";
API.md "RAS and assessments", "Budgets").

The world: Ruth (client_user) is on Sam's (social_worker's) caseload; Sam is in Taylor's
(team_manager's) team. Another team has its own manager, social worker and client.
"""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from djmoney.money import Money

from accounts.models import CaseloadAssignment, Role
from budgets import permissions
from budgets.models import Assessment
from tests import factories
from tests.budgets.conftest import answers_with
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db


def person(request, role):
    return request.getfixturevalue(ROLE_FIXTURES[role])


def deactivate(user):
    user.is_active = False
    user.save()
    return user


@pytest.fixture
def other_team():
    worker = factories.SocialWorkerFactory(full_name="Olu Adeyemi")
    team = factories.TeamFactory(name="Other Team", members=[worker])
    client = factories.ClientFactory(full_name="Nia Okafor")
    factories.CaseloadAssignmentFactory(social_worker=worker, client=client)
    return team


@pytest.fixture
def other_worker(other_team):
    return other_team.memberships.get().social_worker


@pytest.fixture
def other_manager(other_team):
    return other_team.manager


@pytest.fixture
def other_client(other_worker):
    return CaseloadAssignment.objects.get(social_worker=other_worker).client


@pytest.fixture
def unallocated_client(db):
    return factories.ClientFactory(full_name="Uma Shah")


@pytest.fixture
def make_assessment(scheme):
    def make(client, assessor):
        return Assessment.objects.create(
            client=client,
            assessor=assessor,
            scheme=scheme,
            answers=answers_with({"nutrition": "some_help", "hygiene": "some_help"}),
            impairment=True,
            wellbeing_impact=True,
            eligible=True,
            indicative_budget=Money("2000.00", "GBP"),
        )

    return make


@pytest.fixture
def assessment(caseload, client_user, social_worker, make_assessment):
    """A draft assessment of Ruth by Sam."""
    return make_assessment(client_user, social_worker)


@pytest.fixture
def budget(caseload, client_user, social_worker, make_budget):
    """Ruth's budget."""
    return make_budget(client_user, "10000.00", assessor=social_worker)


ALL_ROLES = list(ROLE_FIXTURES)


def cases(true_for):
    return [pytest.param(role, role in true_for, id=f"{role}-{role in true_for}") for role in ALL_ROLES]


# --- can_assess_client ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), cases({Role.SOCIAL_WORKER, Role.TEAM_MANAGER}))
def test_can_assess_client_on_the_caseload_by_role(request, caseload, client_user, role, allowed):
    assert permissions.can_assess_client(person(request, role), client_user) is allowed


@pytest.mark.parametrize(("role", "allowed"), cases({Role.SOCIAL_WORKER}))
def test_can_assess_unallocated_client_only_as_a_social_worker(request, team, unallocated_client, role, allowed):
    # A social worker may take an unallocated client on; a team manager sees only their team's.
    assert permissions.can_assess_client(person(request, role), unallocated_client) is allowed


def test_any_social_worker_may_assess_an_unallocated_client(other_worker, social_worker, unallocated_client):
    assert permissions.can_assess_client(social_worker, unallocated_client) is True
    assert permissions.can_assess_client(other_worker, unallocated_client) is True


def test_a_client_whose_allocation_ended_counts_as_unallocated(social_worker, other_worker, unallocated_client):
    factories.CaseloadAssignmentFactory(
        social_worker=other_worker,
        client=unallocated_client,
        start_date=timezone.localdate() - datetime.timedelta(days=90),
        end_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    assert permissions.can_assess_client(social_worker, unallocated_client) is True


@pytest.mark.parametrize(("role", "allowed"), cases(set()))
def test_nobody_may_assess_another_teams_client(request, caseload, other_client, role, allowed):
    assert permissions.can_assess_client(person(request, role), other_client) is allowed


def test_other_teams_worker_and_manager_may_assess_their_own_client_but_not_ours(
    caseload, client_user, other_client, other_worker, other_manager
):
    assert permissions.can_assess_client(other_worker, other_client) is True
    assert permissions.can_assess_client(other_manager, other_client) is True
    assert permissions.can_assess_client(other_worker, client_user) is False
    assert permissions.can_assess_client(other_manager, client_user) is False


@pytest.mark.parametrize("role", ALL_ROLES)
def test_nobody_may_assess_a_deactivated_client(request, caseload, client_user, role):
    deactivate(client_user)
    assert permissions.can_assess_client(person(request, role), client_user) is False


@pytest.mark.parametrize("role", ALL_ROLES)
def test_nobody_may_assess_a_deactivated_unallocated_client(request, unallocated_client, role):
    deactivate(unallocated_client)
    assert permissions.can_assess_client(person(request, role), unallocated_client) is False


def test_nobody_may_assess_someone_who_is_not_a_client(social_worker, team_manager, other_worker):
    assert permissions.can_assess_client(social_worker, other_worker) is False
    assert permissions.can_assess_client(social_worker, team_manager) is False


@pytest.mark.parametrize("name", ["social_worker", "team_manager"])
def test_a_deactivated_assessor_may_not_assess(request, caseload, client_user, name):
    user = deactivate(request.getfixturevalue(name))
    assert permissions.can_assess_client(user, client_user) is False


def test_an_anonymous_visitor_may_not_assess(caseload, client_user, unallocated_client):
    assert permissions.can_assess_client(AnonymousUser(), client_user) is False
    assert permissions.can_assess_client(AnonymousUser(), unallocated_client) is False


# --- can_view_assessment -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"), cases({Role.CLIENT, Role.REPRESENTATIVE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.ADMIN})
)
def test_can_view_assessment_by_role(request, assessment, role, allowed):
    assert permissions.can_view_assessment(person(request, role), assessment) is allowed


@pytest.mark.parametrize("name", ["other_worker", "other_manager", "other_client"])
def test_another_team_and_another_client_may_not_view_an_assessment(request, assessment, name):
    assert permissions.can_view_assessment(request.getfixturevalue(name), assessment) is False


def test_former_social_worker_may_not_view_an_assessment_after_the_client_moves_on(assessment, caseload, social_worker):
    caseload.end_date = timezone.localdate()
    caseload.save()
    assert permissions.can_view_assessment(social_worker, assessment) is False


@pytest.mark.parametrize("name", ["client_user", "social_worker", "team_manager", "admin_person"])
def test_a_deactivated_user_may_not_view_an_assessment(request, assessment, name):
    user = deactivate(request.getfixturevalue(name))
    assert permissions.can_view_assessment(user, assessment) is False


def test_an_anonymous_visitor_may_not_view_an_assessment(assessment):
    assert permissions.can_view_assessment(AnonymousUser(), assessment) is False


# --- can_edit_assessment -------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), cases({Role.SOCIAL_WORKER, Role.TEAM_MANAGER}))
def test_can_edit_assessment_by_role(request, assessment, role, allowed):
    assert permissions.can_edit_assessment(person(request, role), assessment) is allowed


@pytest.mark.parametrize("name", ["other_worker", "other_manager", "other_client"])
def test_another_team_may_not_edit_an_assessment(request, assessment, name):
    assert permissions.can_edit_assessment(request.getfixturevalue(name), assessment) is False


def test_team_manager_may_edit_an_assessment_their_social_worker_started(assessment, team_manager):
    assert assessment.assessor != team_manager
    assert permissions.can_edit_assessment(team_manager, assessment) is True


def test_nobody_may_edit_the_assessment_of_a_deactivated_client(assessment, client_user, social_worker, team_manager):
    deactivate(client_user)
    assert permissions.can_edit_assessment(social_worker, assessment) is False
    assert permissions.can_edit_assessment(team_manager, assessment) is False


@pytest.mark.parametrize("name", ["social_worker", "team_manager"])
def test_a_deactivated_assessor_may_not_edit(request, assessment, name):
    user = deactivate(request.getfixturevalue(name))
    assert permissions.can_edit_assessment(user, assessment) is False


def test_an_anonymous_visitor_may_not_edit_an_assessment(assessment):
    assert permissions.can_edit_assessment(AnonymousUser(), assessment) is False


# --- can_view_budget -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    cases({Role.CLIENT, Role.REPRESENTATIVE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.FINANCE, Role.ADMIN}),
)
def test_can_view_budget_by_role(request, budget, role, allowed):
    assert permissions.can_view_budget(person(request, role), budget) is allowed


@pytest.mark.parametrize("name", ["other_worker", "other_manager", "other_client"])
def test_another_team_and_another_client_may_not_view_a_budget(request, budget, name):
    assert permissions.can_view_budget(request.getfixturevalue(name), budget) is False


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
def test_finance_and_admin_view_any_budget_even_of_an_unallocated_client(request, make_budget, role):
    unallocated_budget = make_budget(factories.ClientFactory())
    assert permissions.can_view_budget(person(request, role), unallocated_budget) is True


def test_former_social_worker_may_not_view_the_budget_after_the_client_moves_on(budget, caseload, social_worker):
    caseload.end_date = timezone.localdate()
    caseload.save()
    assert permissions.can_view_budget(social_worker, budget) is False


@pytest.mark.parametrize("name", ["client_user", "social_worker", "team_manager", "finance_user", "admin_person"])
def test_a_deactivated_user_may_not_view_a_budget(request, budget, name):
    user = deactivate(request.getfixturevalue(name))
    assert permissions.can_view_budget(user, budget) is False


def test_an_anonymous_visitor_may_not_view_a_budget(budget):
    assert permissions.can_view_budget(AnonymousUser(), budget) is False


# --- can_set_final_budget ------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), cases({Role.TEAM_MANAGER, Role.ADMIN}))
def test_can_set_final_budget_by_role(request, budget, role, allowed):
    assert permissions.can_set_final_budget(person(request, role), budget) is allowed


def test_another_teams_manager_may_not_set_the_final_budget(budget, other_manager):
    assert permissions.can_set_final_budget(other_manager, budget) is False


def test_team_manager_sets_the_final_budget_of_their_own_teams_client_only(
    budget, other_client, other_manager, make_budget, team_manager
):
    other_budget = make_budget(other_client, "4000.00")
    assert permissions.can_set_final_budget(other_manager, other_budget) is True
    assert permissions.can_set_final_budget(team_manager, other_budget) is False


@pytest.mark.parametrize("name", ["team_manager", "admin_person"])
def test_a_deactivated_approver_may_not_set_the_final_budget(request, budget, name):
    user = deactivate(request.getfixturevalue(name))
    assert permissions.can_set_final_budget(user, budget) is False


def test_an_anonymous_visitor_may_not_set_the_final_budget(budget):
    assert permissions.can_set_final_budget(AnonymousUser(), budget) is False


# --- can_manage_schemes --------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), cases({Role.ADMIN}))
def test_can_manage_schemes_by_role(request, role, allowed):
    assert permissions.can_manage_schemes(person(request, role)) is allowed


def test_a_deactivated_admin_may_not_manage_schemes(admin_person):
    assert permissions.can_manage_schemes(deactivate(admin_person)) is False


def test_an_anonymous_visitor_may_not_manage_schemes():
    assert permissions.can_manage_schemes(AnonymousUser()) is False


def test_role_cases_cover_every_role():
    assert set(ALL_ROLES) == set(Role.values)

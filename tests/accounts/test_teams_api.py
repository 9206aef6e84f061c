"""POST /api/v1/teams/ (API.md, "Users, teams, caseloads"): an administrator makes a team of a
team manager and social workers, each social worker in at most one team."""

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.models import AuditAction, AuditEvent, Team, TeamMembership
from tests import factories
from tests.factories import NON_ADMIN_FIXTURES

pytestmark = pytest.mark.django_db

URL = "/api/v1/teams/"


def snapshot():
    return Team.objects.count(), TeamMembership.objects.count(), AuditEvent.objects.count()


# --- creating ------------------------------------------------------------------------------------


def test_admin_creates_team_with_manager_and_members_and_gets_201(api_as, admin_person, team_manager):
    workers = factories.SocialWorkerFactory.create_batch(2)
    response = api_as(admin_person).post(
        URL, {"name": "North Locality", "manager": team_manager.pk, "members": [w.pk for w in workers]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "North Locality"
    assert body["manager"] == team_manager.pk
    assert sorted(body["members"]) == sorted(w.pk for w in workers)
    team = Team.objects.get(pk=body["id"])
    assert team.manager == team_manager
    assert set(team.members.all()) == set(workers)


def test_admin_creates_team_without_members(api_as, admin_person, team_manager):
    response = api_as(admin_person).post(URL, {"name": "Empty Team", "manager": team_manager.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["members"] == []
    assert TeamMembership.objects.count() == 0


def test_admin_creates_second_team_for_the_same_manager(api_as, admin_person, team, team_manager):
    response = api_as(admin_person).post(URL, {"name": "Second Team", "manager": team_manager.pk}, format="json")
    assert response.status_code == 201
    assert team_manager.managed_teams.count() == 2


def test_created_team_has_a_create_audit_event_with_the_admin_as_actor(
    api_as, admin_person, team_manager, social_worker
):
    response = api_as(admin_person).post(
        URL, {"name": "North Locality", "manager": team_manager.pk, "members": [social_worker.pk]}, format="json"
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(action=AuditAction.CREATE)
    assert event.actor == admin_person
    assert event.target_type == ContentType.objects.get_for_model(Team)
    assert event.target_id == str(response.json()["id"])
    assert event.changes == {"manager": team_manager.pk, "members": [social_worker.pk]}


def test_created_team_name_is_trimmed(api_as, admin_person, team_manager):
    response = api_as(admin_person).post(URL, {"name": "  West  ", "manager": team_manager.pk}, format="json")
    assert response.status_code == 201
    assert Team.objects.get().name == "West"


# --- invalid input (400, nothing written) -------------------------------------------------------


@pytest.mark.parametrize(
    "fixture", ["client_user", "social_worker", "case_manager", "provider_user", "finance_user", "admin_person"]
)
def test_admin_naming_a_manager_who_is_not_a_team_manager_gets_400_on_manager(request, api_as, admin_person, fixture):
    not_a_manager = request.getfixturevalue(fixture)
    before = snapshot()
    response = api_as(admin_person).post(URL, {"name": "T", "manager": not_a_manager.pk}, format="json")
    assert response.status_code == 400
    assert "manager" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("manager", [999_999, None, "abc"])
def test_admin_naming_an_unknown_manager_gets_400_on_manager(api_as, admin_person, manager):
    before = snapshot()
    response = api_as(admin_person).post(URL, {"name": "T", "manager": manager}, format="json")
    assert response.status_code == 400
    assert "manager" in response.json()
    assert snapshot() == before


def test_admin_naming_a_deactivated_team_manager_gets_400_on_manager(api_as, admin_person, team_manager):
    team_manager.is_active = False
    team_manager.save()
    before = snapshot()
    response = api_as(admin_person).post(URL, {"name": "T", "manager": team_manager.pk}, format="json")
    assert response.status_code == 400
    assert "manager" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "fixture", ["client_user", "team_manager", "case_manager", "provider_user", "finance_user", "admin_person"]
)
def test_admin_adding_a_member_who_is_not_a_social_worker_gets_400_on_members(
    request, api_as, admin_person, social_worker, fixture
):
    manager = factories.TeamManagerFactory()
    not_a_worker = request.getfixturevalue(fixture)
    before = snapshot()
    response = api_as(admin_person).post(
        URL, {"name": "T", "manager": manager.pk, "members": [social_worker.pk, not_a_worker.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "members" in response.json()
    assert snapshot() == before


def test_admin_adding_a_social_worker_already_in_a_team_gets_400_on_members(api_as, admin_person, team, social_worker):
    other_manager = factories.TeamManagerFactory()
    free_worker = factories.SocialWorkerFactory()
    before = snapshot()
    response = api_as(admin_person).post(
        URL,
        {"name": "Other", "manager": other_manager.pk, "members": [free_worker.pk, social_worker.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "members" in response.json()
    assert snapshot() == before
    assert social_worker.teams.get() == team
    assert not free_worker.teams.exists()


def test_admin_listing_the_same_social_worker_twice_gets_400_on_members(
    api_as, admin_person, team_manager, social_worker
):
    # One team per social worker: the second mention is a worker "already in" this team.
    before = snapshot()
    response = api_as(admin_person).post(
        URL, {"name": "T", "manager": team_manager.pk, "members": [social_worker.pk, social_worker.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "members" in response.json()
    assert snapshot() == before


def test_admin_adding_an_unknown_member_gets_400_on_members(api_as, admin_person, team_manager):
    before = snapshot()
    response = api_as(admin_person).post(
        URL, {"name": "T", "manager": team_manager.pk, "members": [999_999]}, format="json"
    )
    assert response.status_code == 400
    assert "members" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("name", ["Locality Team", "locality team", "LOCALITY TEAM", " Locality Team "])
def test_admin_reusing_a_team_name_gets_400_on_name(api_as, admin_person, name):
    factories.TeamFactory(name="Locality Team")
    manager = factories.TeamManagerFactory()
    before = snapshot()
    response = api_as(admin_person).post(URL, {"name": name, "manager": manager.pk}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("name", ["", "   "])
def test_admin_giving_a_blank_name_gets_400_on_name(api_as, admin_person, team_manager, name):
    before = snapshot()
    response = api_as(admin_person).post(URL, {"name": name, "manager": team_manager.pk}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    assert snapshot() == before


def test_admin_gets_every_problem_at_once(api_as, admin_person, team, client_user):
    before = snapshot()
    response = api_as(admin_person).post(
        URL, {"name": team.name, "manager": client_user.pk, "members": [client_user.pk]}, format="json"
    )
    assert response.status_code == 400
    assert {"name", "manager", "members"} <= set(response.json())
    assert snapshot() == before


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(NON_ADMIN_FIXTURES))
def test_non_admin_role_cannot_create_teams_and_gets_403(request, api_as, role):
    caller = request.getfixturevalue(NON_ADMIN_FIXTURES[role])
    manager = factories.TeamManagerFactory()
    worker = factories.SocialWorkerFactory()
    before = snapshot()
    response = api_as(caller).post(URL, {"name": "T", "manager": manager.pk, "members": [worker.pk]}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_team_manager_cannot_create_a_team_for_themselves(api_as, team_manager, social_worker):
    before = snapshot()
    response = api_as(team_manager).post(
        URL, {"name": "Mine", "manager": team_manager.pk, "members": [social_worker.pk]}, format="json"
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_caller_without_credentials_gets_401_and_no_team_is_created(api, team_manager):
    before = snapshot()
    response = api.post(URL, {"name": "T", "manager": team_manager.pk}, format="json")
    assert response.status_code == 401
    assert snapshot() == before


# --- reading ------------------------------------------------------------------------------------


def test_admin_lists_teams(api_as, admin_person, team, social_worker):
    response = api_as(admin_person).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0] == {
        "id": team.pk,
        "name": team.name,
        "manager": team.manager_id,
        "members": [social_worker.pk],
    }


@pytest.mark.parametrize("role", list(NON_ADMIN_FIXTURES))
def test_non_admin_role_cannot_list_teams_and_gets_403(request, api_as, role):
    caller = request.getfixturevalue(NON_ADMIN_FIXTURES[role])
    assert api_as(caller).get(URL).status_code == 403

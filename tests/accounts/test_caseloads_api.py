"""POST/GET /api/v1/caseloads/ (API.md, "Users, teams, caseloads"): administrators and team
managers put clients on social workers' caseloads; a transfer ends the old allocation."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, CaseloadAssignment
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/caseloads/"


def snapshot():
    """Everything a caseload call could write: every allocation's dates, and the audit count."""
    allocations = tuple(CaseloadAssignment.objects.order_by("pk").values_list("pk", "social_worker", "end_date"))
    return allocations, AuditEvent.objects.count()


@pytest.fixture
def other_team():
    """A second team, with its own manager and social worker."""
    worker = factories.SocialWorkerFactory(full_name="Olu Adeyemi")
    return factories.TeamFactory(name="Other Team", members=[worker])


@pytest.fixture
def teammate(team):
    """A second social worker in Taylor's team."""
    worker = factories.SocialWorkerFactory(full_name="Jo Kim")
    team.memberships.create(social_worker=worker)
    return worker


# --- allocating a new client ---------------------------------------------------------------------


def test_admin_allocates_unallocated_client_and_gets_201(api_as, admin_person, social_worker, client_user):
    response = api_as(admin_person).post(
        URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["social_worker"] == social_worker.pk
    assert body["client"] == client_user.pk
    assert body["start_date"] == timezone.localdate().isoformat()
    assert body["end_date"] is None
    assignment = CaseloadAssignment.objects.get(pk=body["id"])
    assert assignment.is_open
    assert assignment.assigned_by == admin_person


def test_admin_allocates_to_a_social_worker_in_no_team(api_as, admin_person, client_user):
    loner = factories.SocialWorkerFactory()
    response = api_as(admin_person).post(URL, {"social_worker": loner.pk, "client": client_user.pk}, format="json")
    assert response.status_code == 201


def test_team_manager_allocates_unallocated_client_to_own_team_social_worker(
    api_as, team, team_manager, social_worker, client_user
):
    response = api_as(team_manager).post(
        URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assignment = CaseloadAssignment.objects.get(pk=response.json()["id"])
    assert (assignment.social_worker, assignment.client, assignment.assigned_by) == (
        social_worker,
        client_user,
        team_manager,
    )


def test_team_manager_allocates_a_client_whose_previous_allocation_has_ended(
    api_as, team, team_manager, social_worker, other_team, client_user
):
    # An ended allocation with another team does not make the client theirs any more.
    factories.CaseloadAssignmentFactory(
        social_worker=other_team.members.get(),
        client=client_user,
        start_date=timezone.localdate() - datetime.timedelta(days=60),
        end_date=timezone.localdate() - datetime.timedelta(days=10),
    )
    response = api_as(team_manager).post(
        URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 201


def test_admin_allocates_with_a_given_start_date(api_as, admin_person, social_worker, client_user):
    start = timezone.localdate() - datetime.timedelta(days=7)
    response = api_as(admin_person).post(
        URL,
        {"social_worker": social_worker.pk, "client": client_user.pk, "start_date": start.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    assert CaseloadAssignment.objects.get().start_date == start


def test_allocation_writes_a_create_audit_event_about_the_client(
    api_as, team, team_manager, social_worker, client_user
):
    response = api_as(team_manager).post(
        URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(action=AuditAction.CREATE)
    assert event.actor == team_manager
    assert event.target_type == ContentType.objects.get_for_model(CaseloadAssignment)
    assert event.target_id == str(response.json()["id"])
    assert event.subject == client_user
    assert event.changes["social_worker"] == social_worker.pk
    assert event.changes["client"] == client_user.pk
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


# --- transfers -----------------------------------------------------------------------------------


def test_team_manager_transfers_client_within_team_ending_the_old_allocation(
    api_as, caseload, team_manager, teammate, client_user
):
    response = api_as(team_manager).post(URL, {"social_worker": teammate.pk, "client": client_user.pk}, format="json")
    assert response.status_code == 201, response.content

    today = timezone.localdate()
    caseload.refresh_from_db()
    assert caseload.end_date == today
    new = CaseloadAssignment.objects.get(pk=response.json()["id"])
    assert new.pk != caseload.pk
    assert (new.social_worker, new.client, new.start_date, new.end_date) == (teammate, client_user, today, None)
    assert CaseloadAssignment.objects.filter(client=client_user, end_date__isnull=True).get() == new


def test_transfer_writes_update_audit_for_the_ended_and_create_for_the_new_allocation(
    api_as, caseload, team_manager, teammate, client_user
):
    response = api_as(team_manager).post(URL, {"social_worker": teammate.pk, "client": client_user.pk}, format="json")
    assert response.status_code == 201
    allocation_type = ContentType.objects.get_for_model(CaseloadAssignment)

    ended = AuditEvent.objects.get(action=AuditAction.UPDATE)
    assert (ended.actor, ended.target_type, ended.target_id, ended.subject) == (
        team_manager,
        allocation_type,
        str(caseload.pk),
        client_user,
    )
    assert ended.changes == {"end_date": timezone.localdate().isoformat()}

    created = AuditEvent.objects.get(action=AuditAction.CREATE)
    assert (created.actor, created.target_type, created.target_id, created.subject) == (
        team_manager,
        allocation_type,
        str(response.json()["id"]),
        client_user,
    )


def test_transfer_with_a_start_date_ends_the_old_allocation_on_that_date(
    api_as, caseload, admin_person, teammate, client_user
):
    start = caseload.start_date + datetime.timedelta(days=5)
    response = api_as(admin_person).post(
        URL, {"social_worker": teammate.pk, "client": client_user.pk, "start_date": start.isoformat()}, format="json"
    )
    assert response.status_code == 201
    caseload.refresh_from_db()
    assert caseload.end_date == start
    assert CaseloadAssignment.objects.get(pk=response.json()["id"]).start_date == start


def test_admin_transfers_client_between_teams(api_as, caseload, admin_person, other_team, client_user):
    other_worker = other_team.members.get()
    response = api_as(admin_person).post(
        URL, {"social_worker": other_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 201
    caseload.refresh_from_db()
    assert caseload.end_date == timezone.localdate()
    assert CaseloadAssignment.objects.filter(client=client_user, end_date__isnull=True).get().social_worker == (
        other_worker
    )


# --- refusals: who may ---------------------------------------------------------------------------


def test_team_manager_cannot_allocate_to_social_worker_outside_team(
    api_as, team, team_manager, other_team, client_user
):
    before = snapshot()
    response = api_as(team_manager).post(
        URL, {"social_worker": other_team.members.get().pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 403
    assert "detail" in response.json()
    assert snapshot() == before


def test_team_manager_cannot_allocate_to_social_worker_in_no_team(api_as, team, team_manager, client_user):
    loner = factories.SocialWorkerFactory()
    before = snapshot()
    response = api_as(team_manager).post(URL, {"social_worker": loner.pk, "client": client_user.pk}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_team_manager_without_a_team_cannot_allocate(api_as, social_worker, client_user):
    manager = factories.TeamManagerFactory()
    before = snapshot()
    response = api_as(manager).post(URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_team_manager_cannot_take_a_client_currently_with_another_team(
    api_as, team, team_manager, social_worker, other_team, client_user
):
    theirs = factories.CaseloadAssignmentFactory(social_worker=other_team.members.get(), client=client_user)
    before = snapshot()
    response = api_as(team_manager).post(
        URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 403
    assert snapshot() == before
    theirs.refresh_from_db()
    assert theirs.is_open


def test_team_manager_cannot_take_a_client_currently_with_a_social_worker_in_no_team(
    api_as, team, team_manager, social_worker, client_user
):
    factories.CaseloadAssignmentFactory(social_worker=factories.SocialWorkerFactory(), client=client_user)
    before = snapshot()
    response = api_as(team_manager).post(
        URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("fixture", ["client_user", "social_worker", "case_manager", "provider_user", "finance_user"])
def test_role_other_than_admin_or_team_manager_cannot_allocate_and_gets_403(request, api_as, fixture):
    caller = request.getfixturevalue(fixture)
    worker = factories.SocialWorkerFactory()
    client = factories.ClientFactory()
    before = snapshot()
    response = api_as(caller).post(URL, {"social_worker": worker.pk, "client": client.pk}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_social_worker_cannot_allocate_a_client_to_themselves(api_as, team, social_worker, client_user):
    before = snapshot()
    response = api_as(social_worker).post(
        URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_caller_without_credentials_gets_401_and_nothing_is_allocated(api, social_worker, client_user):
    before = snapshot()
    response = api.post(URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json")
    assert response.status_code == 401
    assert snapshot() == before


# --- refusals: state and input -------------------------------------------------------------------


@pytest.mark.parametrize("caller_fixture", ["admin_person", "team_manager"])
def test_allocating_a_client_already_with_that_social_worker_gets_409(
    request, api_as, caseload, social_worker, client_user, caller_fixture
):
    caller = request.getfixturevalue(caller_fixture)
    before = snapshot()
    response = api_as(caller).post(URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json")
    assert response.status_code == 409
    assert set(response.json()) == {"detail"}
    assert response.json()["detail"]
    assert snapshot() == before
    caseload.refresh_from_db()
    assert caseload.is_open


@pytest.mark.parametrize(
    "fixture", ["client_user", "team_manager", "case_manager", "provider_user", "finance_user", "admin_person"]
)
def test_admin_naming_someone_who_is_not_a_social_worker_gets_400_on_social_worker(
    request, api_as, admin_person, fixture
):
    not_a_worker = request.getfixturevalue(fixture)
    client = factories.ClientFactory()
    before = snapshot()
    response = api_as(admin_person).post(URL, {"social_worker": not_a_worker.pk, "client": client.pk}, format="json")
    assert response.status_code == 400
    assert "social_worker" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "fixture", ["social_worker", "team_manager", "case_manager", "provider_user", "finance_user", "admin_person"]
)
def test_admin_naming_someone_who_is_not_a_client_gets_400_on_client(request, api_as, admin_person, fixture):
    not_a_client = request.getfixturevalue(fixture)
    worker = factories.SocialWorkerFactory()
    before = snapshot()
    response = api_as(admin_person).post(URL, {"social_worker": worker.pk, "client": not_a_client.pk}, format="json")
    assert response.status_code == 400
    assert "client" in response.json()
    assert snapshot() == before


def test_admin_swapping_client_and_social_worker_gets_400(api_as, admin_person, social_worker, client_user):
    before = snapshot()
    response = api_as(admin_person).post(
        URL, {"social_worker": client_user.pk, "client": social_worker.pk}, format="json"
    )
    assert response.status_code == 400
    assert {"social_worker"} <= set(response.json())
    assert snapshot() == before


def test_team_manager_naming_a_client_as_social_worker_gets_400_on_social_worker(
    api_as, team, team_manager, client_user
):
    other_client = factories.ClientFactory()
    before = snapshot()
    response = api_as(team_manager).post(
        URL, {"social_worker": other_client.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 400
    assert "social_worker" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("field", ["social_worker", "client"])
@pytest.mark.parametrize("value", [999_999, None, "abc"])
def test_admin_giving_an_unknown_id_gets_400_on_that_field(
    api_as, admin_person, social_worker, client_user, field, value
):
    data = {"social_worker": social_worker.pk, "client": client_user.pk, field: value}
    before = snapshot()
    response = api_as(admin_person).post(URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("field", ["social_worker", "client"])
def test_admin_leaving_out_a_person_gets_400_on_that_field(api_as, admin_person, social_worker, client_user, field):
    data = {"social_worker": social_worker.pk, "client": client_user.pk}
    del data[field]
    before = snapshot()
    response = api_as(admin_person).post(URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("field", ["social_worker", "client"])
def test_admin_naming_a_deactivated_person_gets_400_on_that_field(
    api_as, admin_person, social_worker, client_user, field
):
    person = social_worker if field == "social_worker" else client_user
    person.is_active = False
    person.save()
    before = snapshot()
    response = api_as(admin_person).post(
        URL, {"social_worker": social_worker.pk, "client": client_user.pk}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


# --- listing -------------------------------------------------------------------------------------


@pytest.fixture
def world(caseload, team, team_manager, social_worker, teammate, other_team, client_user):
    """Ruth is with Sam and Pat with Jo (both Taylor's team); Olu in the other team has Una;
    Val's allocation to Sam has ended; Zed is unallocated."""
    pat = factories.ClientFactory(full_name="Pat Quinn")
    una = factories.ClientFactory(full_name="Una Vance")
    val = factories.ClientFactory(full_name="Val Wren")
    factories.ClientFactory(full_name="Zed Young")
    today = timezone.localdate()
    return {
        "ruth": caseload,
        "pat": factories.CaseloadAssignmentFactory(social_worker=teammate, client=pat),
        "una": factories.CaseloadAssignmentFactory(social_worker=other_team.members.get(), client=una),
        "val_ended": factories.CaseloadAssignmentFactory(
            social_worker=social_worker,
            client=val,
            start_date=today - datetime.timedelta(days=90),
            end_date=today - datetime.timedelta(days=40),
        ),
    }


def listed(api_client):
    response = api_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == len(body["results"])
    return {row["id"] for row in body["results"]}


def test_social_worker_lists_only_their_own_open_allocations(api_as, world, social_worker):
    assert listed(api_as(social_worker)) == {world["ruth"].pk}


def test_other_social_worker_in_the_same_team_lists_only_their_own(api_as, world, teammate):
    assert listed(api_as(teammate)) == {world["pat"].pk}


def test_social_worker_in_another_team_lists_only_their_own(api_as, world, other_team):
    assert listed(api_as(other_team.members.get())) == {world["una"].pk}


def test_team_manager_lists_their_teams_open_allocations(api_as, world, team_manager):
    assert listed(api_as(team_manager)) == {world["ruth"].pk, world["pat"].pk}


def test_other_team_manager_lists_only_their_teams(api_as, world, other_team):
    assert listed(api_as(other_team.manager)) == {world["una"].pk}


def test_admin_lists_every_open_allocation_and_no_ended_one(api_as, world, admin_person):
    assert listed(api_as(admin_person)) == {world["ruth"].pk, world["pat"].pk, world["una"].pk}


def test_client_lists_only_their_own_allocation(api_as, world, client_user):
    assert listed(api_as(client_user)) == {world["ruth"].pk}


@pytest.mark.parametrize("fixture", ["case_manager", "finance_user", "provider_user"])
def test_role_without_caseload_access_lists_nothing(request, api_as, world, fixture):
    assert listed(api_as(request.getfixturevalue(fixture))) == set()


def test_listed_allocation_has_the_documented_fields(api_as, world, social_worker, client_user):
    row = api_as(social_worker).get(URL).json()["results"][0]
    assert row["social_worker"] == social_worker.pk
    assert row["client"] == client_user.pk
    assert row["end_date"] is None


def test_social_worker_stops_seeing_a_client_after_transfer(api_as, world, team_manager, social_worker, teammate):
    ruth = world["ruth"].client
    response = api_as(team_manager).post(URL, {"social_worker": teammate.pk, "client": ruth.pk}, format="json")
    assert response.status_code == 201
    assert listed(api_as(social_worker)) == set()
    assert listed(api_as(teammate)) == {world["pat"].pk, response.json()["id"]}


def test_caller_without_credentials_cannot_list_and_gets_401(api):
    assert api.get(URL).status_code == 401

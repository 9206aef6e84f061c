"""POST/GET /api/v1/users/ (API.md, "Users, teams, caseloads"): administrators create and list
accounts; anyone may read their own record and no one else's."""

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.models import AuditAction, AuditEvent, Role, User
from tests import factories
from tests.factories import NON_ADMIN_FIXTURES

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/"
STRONG_PASSWORD = "lantern-orchard-quietly-47"


def payload(**overrides):
    data = {
        "username": "new.person",
        "password": STRONG_PASSWORD,
        "role": Role.CLIENT,
        "full_name": "Nia Jones",
        "email": "nia@example.org",
        "postcode": "NF3 4GH",
    }
    data.update(overrides)
    return data


def snapshot():
    return User.objects.count(), AuditEvent.objects.count()


# --- creating: the happy path, for every role -----------------------------------------------------
def test_roles_are_exactly_the_ones_api_md_lists():
    assert set(Role.values) == {
        "client",
        "representative",
        "social_worker",
        "team_manager",
        "case_manager",
        "provider",
        "finance",
        "admin",
    }


@pytest.mark.parametrize("role", Role.values)
def test_admin_creates_user_of_each_role_and_gets_201_with_id_username_role(api_as, admin_person, role):
    provider = factories.ProviderFactory() if role == Role.PROVIDER else None
    data = payload(username=f"new-{role}", role=role)
    if provider is not None:
        data["provider"] = provider.pk
    if role == Role.REPRESENTATIVE:
        data["represents"] = [factories.ClientFactory().pk]

    response = api_as(admin_person).post(URL, data, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "username", "role"} <= set(body)
    assert body["username"] == f"new-{role}"
    assert body["role"] == role
    assert "password" not in body
    user = User.objects.get(pk=body["id"])
    assert user.role == role
    assert user.full_name == "Nia Jones"
    assert user.check_password(STRONG_PASSWORD)
    assert user.provider == provider


def test_admin_created_provider_staff_belong_to_the_given_provider(api_as, admin_person):
    provider = factories.ProviderFactory()
    response = api_as(admin_person).post(URL, payload(role=Role.PROVIDER, provider=provider.pk), format="json")
    assert response.status_code == 201
    assert User.objects.get(pk=response.json()["id"]).provider_id == provider.pk


def test_admin_creating_an_admin_gives_them_staff_access(api_as, admin_person):
    response = api_as(admin_person).post(URL, payload(role=Role.ADMIN), format="json")
    assert response.status_code == 201
    created = User.objects.get(pk=response.json()["id"])
    assert created.is_staff is True
    assert created.is_superuser is True


@pytest.mark.parametrize("role", [r for r in Role.values if r not in (Role.ADMIN, Role.PROVIDER)])
def test_admin_creating_a_non_admin_gives_no_staff_access(api_as, admin_person, role):
    extra = {"represents": [factories.ClientFactory().pk]} if role == Role.REPRESENTATIVE else {}
    response = api_as(admin_person).post(URL, payload(role=role, **extra), format="json")
    assert response.status_code == 201
    created = User.objects.get(pk=response.json()["id"])
    assert created.is_staff is False
    assert created.is_superuser is False


def test_admin_created_user_has_optional_fields_defaulted_and_postcode_normalised(api_as, admin_person):
    response = api_as(admin_person).post(
        URL,
        {"username": "minimal", "password": STRONG_PASSWORD, "role": Role.CLIENT, "full_name": "Min Imal"},
        format="json",
    )
    assert response.status_code == 201
    created = User.objects.get(pk=response.json()["id"])
    assert created.email == ""
    assert created.postcode == ""

    response = api_as(admin_person).post(URL, payload(username="lower", postcode="nf3 4gh "), format="json")
    assert response.status_code == 201
    assert User.objects.get(pk=response.json()["id"]).postcode == "NF3 4GH"


def test_created_user_has_a_create_audit_event_with_the_admin_as_actor(api_as, admin_person):
    response = api_as(admin_person).post(URL, payload(), format="json")
    assert response.status_code == 201
    created = User.objects.get(pk=response.json()["id"])

    event = AuditEvent.objects.get(action=AuditAction.CREATE)
    assert event.actor == admin_person
    assert event.actor_username == admin_person.username
    assert event.target_type == ContentType.objects.get_for_model(User)
    assert event.target_id == str(created.pk)
    assert event.changes["username"] == "new.person"
    assert event.changes["role"] == Role.CLIENT
    # A client's own account record is about that client.
    assert event.subject == created
    assert event.ip_address == "127.0.0.1"


def test_created_user_can_then_get_a_token(api, api_as, admin_person):
    api_as(admin_person).post(URL, payload(), format="json")
    response = api.post("/api/v1/auth/token/", {"username": "new.person", "password": STRONG_PASSWORD}, format="json")
    assert response.status_code == 200
    assert "token" in response.json()


# --- creating: invalid input (400, nothing written) ----------------------------------------------


def test_admin_creating_provider_staff_without_provider_gets_400_on_provider(api_as, admin_person):
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(role=Role.PROVIDER), format="json")
    assert response.status_code == 400
    assert "provider" in response.json()
    assert response.json()["provider"]
    assert snapshot() == before


def test_admin_creating_provider_staff_with_null_provider_gets_400_on_provider(api_as, admin_person):
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(role=Role.PROVIDER, provider=None), format="json")
    assert response.status_code == 400
    assert "provider" in response.json()
    assert snapshot() == before


def test_admin_creating_provider_staff_with_unknown_provider_gets_400_on_provider(api_as, admin_person):
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(role=Role.PROVIDER, provider=999_999), format="json")
    assert response.status_code == 400
    assert "provider" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PROVIDER])
def test_admin_giving_provider_for_non_provider_role_gets_400_on_provider(api_as, admin_person, role):
    provider = factories.ProviderFactory()
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(role=role, provider=provider.pk), format="json")
    assert response.status_code == 400
    assert "provider" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("role", ["wizard", "", "Admin", "social worker"])
def test_admin_giving_unknown_role_gets_400_on_role(api_as, admin_person, role):
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(role=role), format="json")
    assert response.status_code == 400
    assert "role" in response.json()
    assert response.json()["role"]
    assert snapshot() == before


@pytest.mark.parametrize("variant", [str.lower, str.upper, str.title])
def test_admin_reusing_a_username_in_any_case_gets_400_on_username(api_as, admin_person, variant):
    factories.ClientFactory(username="Ruth.Ellis")
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(username=variant("Ruth.Ellis")), format="json")
    assert response.status_code == 400
    assert "username" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "password",
    [
        "short-1",  # too short
        "password123",  # too common
        "12345678901234",  # entirely numeric
        "new.person.1",  # too like the username
    ],
)
def test_admin_giving_weak_password_gets_400_on_password(api_as, admin_person, password):
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(password=password), format="json")
    assert response.status_code == 400
    assert "password" in response.json()
    assert response.json()["password"]
    assert snapshot() == before


def test_admin_gets_every_problem_at_once(api_as, admin_person):
    factories.ClientFactory(username="taken")
    response = api_as(admin_person).post(
        URL, payload(username="TAKEN", password="short", role=Role.PROVIDER), format="json"
    )
    assert response.status_code == 400
    assert {"username", "password", "provider"} <= set(response.json())


@pytest.mark.parametrize("missing", ["username", "password", "role", "full_name"])
def test_admin_leaving_out_a_required_field_gets_400_on_that_field(api_as, admin_person, missing):
    data = payload()
    del data[missing]
    before = snapshot()
    response = api_as(admin_person).post(URL, data, format="json")
    assert response.status_code == 400
    assert missing in response.json()
    assert snapshot() == before


def test_admin_giving_blank_full_name_gets_400_on_full_name(api_as, admin_person):
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(full_name="   "), format="json")
    assert response.status_code == 400
    assert "full_name" in response.json()
    assert snapshot() == before


def test_admin_giving_invalid_email_gets_400_on_email(api_as, admin_person):
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(email="not-an-address"), format="json")
    assert response.status_code == 400
    assert "email" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("username", ["has space", "slash/name", "semi;colon"])
def test_admin_giving_username_the_user_model_refuses_gets_400_on_username(api_as, admin_person, username):
    # The user model's username field allows letters, digits and @ . + - _ only.
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(username=username), format="json")
    assert response.status_code == 400
    assert "username" in response.json()
    assert snapshot() == before


# --- creating: who may ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(NON_ADMIN_FIXTURES))
def test_non_admin_role_cannot_create_users_and_gets_403(request, api_as, role):
    caller = request.getfixturevalue(NON_ADMIN_FIXTURES[role])
    before = snapshot()
    response = api_as(caller).post(URL, payload(), format="json")
    assert response.status_code == 403
    assert "detail" in response.json()
    assert snapshot() == before
    assert not User.objects.filter(username="new.person").exists()


@pytest.mark.parametrize("role", list(NON_ADMIN_FIXTURES))
def test_non_admin_role_cannot_create_an_admin_either(request, api_as, role):
    caller = request.getfixturevalue(NON_ADMIN_FIXTURES[role])
    before = snapshot()
    response = api_as(caller).post(URL, payload(role=Role.ADMIN), format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_non_admin_with_a_browser_session_cannot_create_users(web_as, team_manager):
    client = web_as(team_manager)
    before = snapshot()
    response = client.post(URL, payload(), content_type="application/json")
    # A session-authenticated unsafe call is also CSRF-checked; either way nothing is created.
    assert response.status_code == 403
    assert snapshot() == before


def test_caller_without_credentials_gets_401_and_nothing_is_created(api):
    before = snapshot()
    response = api.post(URL, payload(), format="json")
    assert response.status_code == 401
    assert snapshot() == before


def test_deactivated_admin_cannot_create_users(api_as, admin_person):
    admin_person.is_active = False
    admin_person.save()
    before = snapshot()
    response = api_as(admin_person).post(URL, payload(), format="json")
    assert response.status_code in (401, 403)
    assert snapshot() == before


# --- reading -------------------------------------------------------------------------------------


def test_admin_lists_every_user_paginated(api_as, admin_person, client_user, social_worker):
    response = api_as(admin_person).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == User.objects.count() == 3
    assert {u["id"] for u in body["results"]} == {admin_person.pk, client_user.pk, social_worker.pk}
    assert all({"id", "username", "role"} <= set(u) for u in body["results"])
    assert all("password" not in u for u in body["results"])


@pytest.mark.parametrize("role", list(NON_ADMIN_FIXTURES))
def test_non_admin_role_cannot_list_users_and_gets_403(request, api_as, role):
    caller = request.getfixturevalue(NON_ADMIN_FIXTURES[role])
    response = api_as(caller).get(URL)
    assert response.status_code == 403


def test_caller_without_credentials_cannot_list_users_and_gets_401(api):
    assert api.get(URL).status_code == 401


@pytest.mark.parametrize("role", list(NON_ADMIN_FIXTURES))
def test_non_admin_role_reads_own_record(request, api_as, role):
    caller = request.getfixturevalue(NON_ADMIN_FIXTURES[role])
    response = api_as(caller).get(f"{URL}{caller.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == caller.pk
    assert body["username"] == caller.username
    assert body["role"] == role
    assert "password" not in body


@pytest.mark.parametrize("role", list(NON_ADMIN_FIXTURES))
def test_non_admin_role_gets_404_for_someone_elses_record(request, api_as, role):
    caller = request.getfixturevalue(NON_ADMIN_FIXTURES[role])
    other = factories.ClientFactory()
    response = api_as(caller).get(f"{URL}{other.pk}/")
    assert response.status_code == 404


def test_social_worker_gets_404_for_their_own_caseload_clients_account(api_as, caseload, social_worker, client_user):
    # The account record is not the client's case record: only the person themselves and admins read it.
    assert api_as(social_worker).get(f"{URL}{client_user.pk}/").status_code == 404


def test_client_gets_the_same_404_for_someone_elses_and_a_missing_record(api_as, client_user, admin_person):
    hidden = api_as(client_user).get(f"{URL}{admin_person.pk}/")
    missing = api_as(client_user).get(f"{URL}999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_admin_reads_anyones_record(api_as, admin_person, client_user):
    response = api_as(admin_person).get(f"{URL}{client_user.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == client_user.pk


def test_admin_gets_404_for_a_missing_record(api_as, admin_person):
    assert api_as(admin_person).get(f"{URL}999999/").status_code == 404


def test_caller_without_credentials_cannot_read_a_record_and_gets_401(api, client_user):
    assert api.get(f"{URL}{client_user.pk}/").status_code == 401

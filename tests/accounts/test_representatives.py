"""Representatives: the link between a representative and the clients they act for (model, the
services that add and remove it, `acts_for`, the client list), the people API, the admin, and the
"People acting for" section of a client's record.

The world: Ruth (client_user) is on Sam's (social_worker's) caseload, in Taylor's (team_manager's)
team; Pat (`representative`) acts for Ruth.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from accounts import permissions, selectors, services
from accounts.exceptions import (
    AlreadyRepresents,
    InvalidInput,
    NotAllowedToManageRepresentatives,
    NotVisible,
    RepresentationGone,
)
from accounts.models import AuditAction, AuditEvent, Representation, RepresentationKind, Role, User
from tests import factories
from tests.accounts.representative_fixtures import RepresentationFactory, RepresentativeFactory, representative_of

pytestmark = pytest.mark.django_db

USERS_URL = "/api/v1/users/"
STRONG_PASSWORD = "a-long-and-unusual-passphrase-42"


def snapshot():
    """What a refused call must leave as it was."""
    return (
        list(Representation.objects.order_by("pk").values_list("pk", "representative_id", "client_id", "kind")),
        User.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def other_client(db):
    """Ben, a client on another social worker's caseload in no team of Taylor's."""
    ben = factories.ClientFactory(full_name="Ben Clarke")
    factories.CaseloadAssignmentFactory(social_worker=factories.SocialWorkerFactory(full_name="Wren Oduya"), client=ben)
    return ben


@pytest.fixture
def newcomer(db):
    """A representative's account not yet linked to anyone."""
    return RepresentativeFactory(full_name="Ada Advocate")


# --- acts_for, can_view_client and the client list -------------------------------------------------


def test_a_client_acts_for_themselves_only(client_user, other_client):
    assert permissions.acts_for(client_user, client_user) is True
    assert permissions.acts_for(client_user, other_client) is False


def test_a_representative_acts_for_their_client_only(representative, client_user, other_client):
    assert permissions.acts_for(representative, client_user) is True
    assert permissions.acts_for(representative, other_client) is False


def test_a_representative_with_a_closed_account_acts_for_nobody(representative, client_user):
    representative.is_active = False
    representative.save()
    assert permissions.acts_for(representative, client_user) is False
    assert permissions.can_view_client(representative, client_user) is False
    assert list(selectors.client_list_visible_to(representative)) == []


def test_a_removed_representative_no_longer_acts_for_the_client(representative, client_user):
    Representation.objects.filter(representative=representative).delete()
    assert permissions.acts_for(representative, client_user) is False


@pytest.mark.parametrize("role_fixture", ["social_worker", "team_manager", "admin_person", "finance_user"])
def test_staff_see_a_client_but_do_not_act_as_them(request, caseload, client_user, role_fixture):
    assert permissions.acts_for(request.getfixturevalue(role_fixture), client_user) is False


def test_nobody_acts_for_a_user_who_is_not_a_client(representative, social_worker):
    assert permissions.acts_for(social_worker, social_worker) is False
    assert permissions.acts_for(representative, social_worker) is False


def test_an_anonymous_visitor_acts_for_nobody(client_user):
    assert permissions.acts_for(AnonymousUser(), client_user) is False
    assert permissions.acts_for(None, client_user) is False


def test_a_representative_sees_exactly_the_clients_they_act_for(client_user, other_client):
    third = factories.ClientFactory(full_name="Ivy Chen")
    pat = representative_of(client_user, third)
    assert set(selectors.client_list_visible_to(pat)) == {client_user, third}
    assert {c for c in User.objects.filter(role=Role.CLIENT) if permissions.can_view_client(pat, c)} == {
        client_user,
        third,
    }
    with pytest.raises(NotVisible):
        selectors.client_get_for(pat, other_client.pk)


def test_a_client_may_have_several_representatives(client_user):
    pat, ada = representative_of(client_user), representative_of(client_user, kind=RepresentationKind.ADVOCATE)
    assert selectors.representatives_of(client_user) == sorted([pat, ada], key=lambda u: (u.full_name, u.pk))


def test_only_open_accounts_are_told_what_the_client_is_told(representative, client_user):
    closed = representative_of(client_user, is_active=False)
    assert selectors.representatives_of(client_user) == [representative]
    assert closed not in selectors.representatives_of(client_user)


# --- the model's own rules ---------------------------------------------------------------------------


def test_the_database_refuses_the_same_pair_twice(representative, client_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Representation.objects.create(representative=representative, client=client_user, kind="advocate")


def test_the_database_refuses_an_unknown_kind(newcomer, client_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Representation.objects.create(representative=newcomer, client=client_user, kind="friend")


def test_the_database_refuses_a_link_to_oneself(client_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Representation.objects.create(representative=client_user, client=client_user, kind="advocate")


# --- representation_add ------------------------------------------------------------------------------


def test_social_worker_adds_a_representative_and_it_is_audited(caseload, social_worker, client_user, newcomer):
    link = services.representation_add(
        actor=social_worker, representative=newcomer, client=client_user, kind=RepresentationKind.ADVOCATE
    )
    assert (link.representative, link.client, link.kind, link.created_by) == (
        newcomer,
        client_user,
        "advocate",
        social_worker,
    )
    event = AuditEvent.objects.get(action=AuditAction.CREATE, target_id=str(link.pk))
    assert event.actor == social_worker
    assert event.subject == client_user
    assert event.changes == {"representative": newcomer.pk, "client": client_user.pk, "kind": "advocate"}
    assert permissions.acts_for(newcomer, client_user) is True


def test_admin_adds_a_representative_for_any_client(admin_person, other_client, newcomer):
    services.representation_add(
        actor=admin_person,
        representative=newcomer,
        client=other_client,
        kind=RepresentationKind.AUTHORISED_PERSON,
    )
    assert Representation.objects.filter(representative=newcomer, client=other_client).exists()


@pytest.mark.parametrize("role_fixture", ["team_manager", "client_user", "representative"])
def test_people_who_see_the_client_but_are_not_their_social_worker_cannot_add_and_nothing_changes(
    request, caseload, client_user, newcomer, role_fixture
):
    actor = request.getfixturevalue(role_fixture)
    before = snapshot()
    with pytest.raises(NotAllowedToManageRepresentatives):
        services.representation_add(actor=actor, representative=newcomer, client=client_user, kind="family_member")
    assert snapshot() == before


@pytest.mark.parametrize("role_fixture", ["case_manager", "finance_user", "provider_user"])
def test_people_who_cannot_see_the_client_are_told_it_does_not_exist_and_nothing_changes(
    request, caseload, client_user, newcomer, role_fixture
):
    actor = request.getfixturevalue(role_fixture)
    before = snapshot()
    with pytest.raises(NotVisible):
        services.representation_add(actor=actor, representative=newcomer, client=client_user, kind="family_member")
    assert snapshot() == before


def test_another_social_worker_cannot_add_a_representative_for_someone_elses_client(
    caseload, social_worker, other_client, newcomer
):
    before = snapshot()
    with pytest.raises(NotVisible):
        services.representation_add(actor=social_worker, representative=newcomer, client=other_client, kind="advocate")
    assert snapshot() == before


def test_a_social_worker_whose_allocation_ended_cannot_add(caseload, social_worker, client_user, newcomer):
    caseload.end_date = caseload.start_date
    caseload.save()
    with pytest.raises(NotVisible):
        services.representation_add(actor=social_worker, representative=newcomer, client=client_user, kind="advocate")
    assert not Representation.objects.filter(representative=newcomer).exists()


@pytest.mark.parametrize("role_fixture", ["client_user", "social_worker", "finance_user"])
def test_only_a_representative_can_be_linked_and_nothing_changes(request, caseload, admin_person, role_fixture):
    wrong = request.getfixturevalue(role_fixture)
    client = factories.ClientFactory()
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.representation_add(actor=admin_person, representative=wrong, client=client, kind="advocate")
    assert list(refused.value.as_dict()) == ["representative"]
    assert "is not a representative" in refused.value.as_dict()["representative"][0]
    assert snapshot() == before


def test_a_representative_with_a_closed_account_cannot_be_linked(caseload, social_worker, client_user):
    closed = RepresentativeFactory(is_active=False, full_name="Closed Account")
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.representation_add(actor=social_worker, representative=closed, client=client_user, kind="advocate")
    assert refused.value.as_dict() == {"representative": ["Closed Account's account is closed."]}
    assert snapshot() == before


def test_admin_linking_to_someone_who_is_not_a_client_is_told_the_role_is_wrong(admin_person, newcomer, social_worker):
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.representation_add(actor=admin_person, representative=newcomer, client=social_worker, kind="advocate")
    assert refused.value.as_dict() == {"client": [f"{social_worker} is not a client."]}
    assert snapshot() == before


def test_a_social_worker_linking_to_someone_who_is_not_a_client_is_told_it_does_not_exist(
    social_worker, newcomer, finance_user
):
    with pytest.raises(NotVisible):
        services.representation_add(actor=social_worker, representative=newcomer, client=finance_user, kind="advocate")


def test_an_unknown_kind_is_refused_and_nothing_changes(caseload, social_worker, client_user, newcomer):
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.representation_add(actor=social_worker, representative=newcomer, client=client_user, kind="friend")
    assert list(refused.value.as_dict()) == ["kind"]
    assert snapshot() == before


def test_adding_the_same_representative_twice_is_a_conflict_and_nothing_changes(
    caseload, social_worker, client_user, representative
):
    before = snapshot()
    with pytest.raises(AlreadyRepresents, match="Pat Ellis already acts for Ruth Ellis"):
        services.representation_add(
            actor=social_worker, representative=representative, client=client_user, kind="advocate"
        )
    assert snapshot() == before


# --- representation_remove ---------------------------------------------------------------------------


def test_social_worker_removes_a_representative_and_it_is_audited(caseload, social_worker, client_user, representative):
    link = Representation.objects.get(representative=representative)
    services.representation_remove(actor=social_worker, representation=link)
    assert not Representation.objects.filter(pk=link.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.DELETE, target_id=str(link.pk))
    assert event.actor == social_worker
    assert event.subject == client_user
    assert event.changes == {"representative": representative.pk, "client": client_user.pk, "kind": "family_member"}
    assert permissions.acts_for(representative, client_user) is False


@pytest.mark.parametrize(
    ("role_fixture", "refusal"),
    [
        ("team_manager", NotAllowedToManageRepresentatives),
        ("client_user", NotAllowedToManageRepresentatives),
        ("representative", NotAllowedToManageRepresentatives),
        ("case_manager", NotVisible),
        ("provider_user", NotVisible),
    ],
)
def test_others_cannot_remove_a_representative_and_nothing_changes(
    request, caseload, representative, role_fixture, refusal
):
    link = Representation.objects.get(representative=representative)
    actor = request.getfixturevalue(role_fixture)
    before = snapshot()
    with pytest.raises(refusal):
        services.representation_remove(actor=actor, representation=link)
    assert snapshot() == before


def test_removing_a_representative_already_removed_is_a_conflict(caseload, social_worker, representative):
    link = Representation.objects.get(representative=representative)
    services.representation_remove(actor=social_worker, representation=link)
    before = snapshot()
    with pytest.raises(RepresentationGone):
        services.representation_remove(actor=social_worker, representation=link)
    assert snapshot() == before


# --- POST /users/ with role representative, and what GET shows ---------------------------------------


def representative_payload(**overrides):
    data = {
        "username": "pat.ellis",
        "password": STRONG_PASSWORD,
        "role": "representative",
        "full_name": "Pat Ellis",
        "email": "pat@example.org",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_representative_linked_to_their_clients_in_one_go(api_as, admin_person, client_user):
    ivy = factories.ClientFactory(full_name="Ivy Chen")
    response = api_as(admin_person).post(
        USERS_URL,
        representative_payload(represents=[ivy.pk, client_user.pk], representation_kind="advocate"),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "representative"
    assert body["represents"] == sorted([ivy.pk, client_user.pk])
    pat = User.objects.get(pk=body["id"])
    assert set(Representation.objects.filter(representative=pat).values_list("client_id", "kind")) == {
        (ivy.pk, "advocate"),
        (client_user.pk, "advocate"),
    }
    links = Representation.objects.filter(representative=pat)
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, target_id__in=[str(k.pk) for k in links]).count() == 2
    assert pat.is_staff is False


def test_a_representative_is_a_family_member_unless_the_request_says_otherwise(api_as, admin_person, client_user):
    response = api_as(admin_person).post(USERS_URL, representative_payload(represents=[client_user.pk]), format="json")
    assert response.status_code == 201
    assert Representation.objects.get(representative_id=response.json()["id"]).kind == "family_member"


@pytest.mark.parametrize(
    ("represents", "message"),
    [
        (None, "A representative acts for at least one client: give their user ids."),
        ([], "A representative acts for at least one client: give their user ids."),
    ],
)
def test_a_representative_without_clients_is_refused_and_nothing_is_created(api_as, admin_person, represents, message):
    data = representative_payload() if represents is None else representative_payload(represents=represents)
    before = snapshot()
    response = api_as(admin_person).post(USERS_URL, data, format="json")
    assert response.status_code == 400
    assert response.json() == {"represents": [message]}
    assert snapshot() == before


def test_a_representative_of_someone_who_is_not_a_client_is_refused_and_nothing_is_created(
    api_as, admin_person, client_user, social_worker
):
    before = snapshot()
    response = api_as(admin_person).post(
        USERS_URL, representative_payload(represents=[client_user.pk, social_worker.pk]), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"represents": [f"Sam Patel (user {social_worker.pk}) is not a client."]}
    assert snapshot() == before


def test_a_client_listed_twice_is_refused(api_as, admin_person, client_user):
    before = snapshot()
    response = api_as(admin_person).post(
        USERS_URL, representative_payload(represents=[client_user.pk, client_user.pk]), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"represents": [f"Ruth Ellis (user {client_user.pk}) is listed more than once."]}
    assert snapshot() == before


def test_an_unknown_user_id_in_represents_is_refused(api_as, admin_person, client_user):
    before = snapshot()
    response = api_as(admin_person).post(
        USERS_URL, representative_payload(represents=[client_user.pk, 999_999]), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"represents": ["No user has the id 999999."]}
    assert snapshot() == before


def test_an_unknown_kind_of_representative_is_refused(api_as, admin_person, client_user):
    before = snapshot()
    response = api_as(admin_person).post(
        USERS_URL, representative_payload(represents=[client_user.pk], representation_kind="friend"), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["representation_kind"]
    assert snapshot() == before


def test_represents_for_any_other_role_is_refused(api_as, admin_person, client_user):
    before = snapshot()
    response = api_as(admin_person).post(
        USERS_URL, representative_payload(role="client", represents=[client_user.pk]), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "represents": ["Only representatives act for clients: leave this out for any other role."]
    }
    assert snapshot() == before


def test_other_problems_are_reported_with_the_missing_clients_together(api_as, admin_person, client_user):
    RepresentativeFactory(username="pat.ellis")  # the username is taken too
    before = snapshot()
    response = api_as(admin_person).post(USERS_URL, representative_payload(represents=[]), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"represents", "username"}
    assert snapshot() == before


@pytest.mark.parametrize("role_fixture", ["social_worker", "client_user", "representative"])
def test_only_administrators_create_representatives(request, api_as, client_user, role_fixture):
    api = api_as(request.getfixturevalue(role_fixture))
    before = snapshot()
    response = api.post(USERS_URL, representative_payload(represents=[client_user.pk]), format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_users_list_shows_whom_each_representative_acts_for(api_as, admin_person, representative, client_user):
    ivy = factories.ClientFactory()
    RepresentationFactory(representative=representative, client=ivy)
    body = api_as(admin_person).get(USERS_URL).json()
    by_id = {row["id"]: row for row in body["results"]}
    assert by_id[representative.pk]["represents"] == sorted([client_user.pk, ivy.pk])
    assert by_id[client_user.pk]["represents"] == []
    assert by_id[admin_person.pk]["represents"] == []


def test_a_representative_reads_their_own_account_with_whom_they_act_for(api_as, representative, client_user):
    api = api_as(representative)
    assert api.get("/api/v1/me/").json()["represents"] == [client_user.pk]
    assert api.get(f"{USERS_URL}{representative.pk}/").json()["represents"] == [client_user.pk]
    assert api.get(f"{USERS_URL}{client_user.pk}/").status_code == 404


def test_a_representative_sees_the_caseload_allocation_of_their_client_only(
    api_as, caseload, representative, other_client
):
    rows = api_as(representative).get("/api/v1/caseloads/").json()["results"]
    assert [row["client"] for row in rows] == [caseload.client_id]


# --- the admin -----------------------------------------------------------------------------------------


@pytest.fixture
def admin_web(client, admin_person):
    client.force_login(admin_person)
    return client


def test_admin_adds_a_link_in_the_admin_site_through_the_service(admin_web, admin_person, client_user, newcomer):
    response = admin_web.post(
        "/admin/accounts/representation/add/",
        {"representative": newcomer.pk, "client": client_user.pk, "kind": "advocate"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    link = Representation.objects.get(representative=newcomer, client=client_user)
    assert link.created_by == admin_person
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, target_id=str(link.pk), subject=client_user).exists()


def test_admin_site_refuses_a_pair_already_linked_and_nothing_changes(admin_web, client_user, representative):
    before = snapshot()
    response = admin_web.post(
        "/admin/accounts/representation/add/",
        {"representative": representative.pk, "client": client_user.pk, "kind": "advocate"},
    )
    assert response.status_code == 200
    assert "already acts for this client" in response.content.decode()
    assert snapshot() == before


def test_admin_site_offers_only_open_representatives_accounts(admin_web, client_user):
    closed = RepresentativeFactory(is_active=False)
    before = snapshot()
    response = admin_web.post(
        "/admin/accounts/representation/add/",
        {"representative": closed.pk, "client": client_user.pk, "kind": "advocate"},
    )
    assert response.status_code == 200
    assert snapshot() == before


def test_admin_removes_a_link_in_the_admin_site_and_it_is_audited(admin_web, representative, client_user):
    link = Representation.objects.get(representative=representative)
    response = admin_web.post(f"/admin/accounts/representation/{link.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Representation.objects.filter(pk=link.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, target_id=str(link.pk), subject=client_user).exists()


def test_a_link_cannot_be_edited_in_the_admin_site(admin_web, representative, client_user):
    link = Representation.objects.get(representative=representative)
    admin_web.post(
        f"/admin/accounts/representation/{link.pk}/change/",
        {"representative": representative.pk, "client": client_user.pk, "kind": "advocate"},
    )
    link.refresh_from_db()
    assert link.kind == "family_member"


# --- the client's record: "People acting for <client>" ---------------------------------------------------


def record(client_user) -> str:
    return f"/clients/{client_user.pk}/"


def test_social_worker_sees_who_acts_for_the_client_with_add_and_remove(
    web_as, caseload, social_worker, client_user, representative, newcomer
):
    html = web_as(social_worker).get(record(client_user)).content.decode()
    assert "People acting for Ruth Ellis" in html
    assert "Pat Ellis" in html and "Family member" in html
    assert f'action="/clients/{client_user.pk}/representatives/"' in html
    assert 'Remove<span class="govuk-visually-hidden"> Pat Ellis</span>' in html
    # The form offers open representatives' accounts not linked yet.
    assert f'<option value="{newcomer.pk}">Ada Advocate ({newcomer.username})</option>' in html
    assert f'<option value="{representative.pk}"' not in html


def test_social_worker_adds_a_representative_on_the_clients_record(
    web_as, caseload, social_worker, client_user, newcomer
):
    web = web_as(social_worker)
    response = web.post(
        f"/clients/{client_user.pk}/representatives/", {"representative": newcomer.pk, "kind": "authorised_person"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/clients/{client_user.pk}/#representatives"
    assert Representation.objects.get(representative=newcomer, client=client_user).kind == "authorised_person"
    assert "Ada Advocate can now act for Ruth Ellis." in web.get(response.headers["Location"]).content.decode()


def test_adding_without_choosing_shows_the_errors_and_nothing_changes(web_as, caseload, social_worker, client_user):
    web = web_as(social_worker)
    before = snapshot()
    response = web.post(f"/clients/{client_user.pk}/representatives/", {})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'href="#id_representative"' in html and 'href="#id_kind_0"' in html
    assert "Choose the person who will act for the client" in html
    assert snapshot() == before


def test_social_worker_removes_a_representative_on_the_clients_record(
    web_as, caseload, social_worker, client_user, representative
):
    link = Representation.objects.get(representative=representative)
    web = web_as(social_worker)
    response = web.post(f"/clients/{client_user.pk}/representatives/{link.pk}/remove/")
    assert response.status_code == 302
    assert not Representation.objects.filter(pk=link.pk).exists()
    assert "Pat Ellis no longer acts for Ruth Ellis." in web.get(response.headers["Location"]).content.decode()


@pytest.mark.parametrize("role_fixture", ["team_manager", "client_user", "representative"])
def test_people_who_see_the_record_see_who_acts_but_cannot_change_it(
    request, web_as, caseload, client_user, representative, newcomer, role_fixture
):
    web = web_as(request.getfixturevalue(role_fixture))
    html = web.get(record(client_user)).content.decode()
    assert "People acting for Ruth Ellis" in html and "Pat Ellis" in html
    assert "representatives/" not in html
    link = Representation.objects.get(representative=representative)
    before = snapshot()
    add = web.post(f"/clients/{client_user.pk}/representatives/", {"representative": newcomer.pk, "kind": "advocate"})
    remove = web.post(f"/clients/{client_user.pk}/representatives/{link.pk}/remove/")
    assert (add.status_code, remove.status_code) == (403, 403)
    assert snapshot() == before


@pytest.mark.parametrize("role_fixture", ["case_manager", "provider_user", "finance_user"])
def test_people_who_cannot_see_the_record_get_not_found_for_each_action(
    request, web_as, caseload, client_user, representative, newcomer, role_fixture
):
    web = web_as(request.getfixturevalue(role_fixture))
    link = Representation.objects.get(representative=representative)
    before = snapshot()
    add = web.post(f"/clients/{client_user.pk}/representatives/", {"representative": newcomer.pk, "kind": "advocate"})
    remove = web.post(f"/clients/{client_user.pk}/representatives/{link.pk}/remove/")
    assert (add.status_code, remove.status_code) == (404, 404)
    assert snapshot() == before


def test_a_link_of_another_client_cannot_be_removed_through_this_clients_record(
    web_as, caseload, social_worker, client_user, other_client
):
    others = RepresentationFactory(client=other_client)
    response = web_as(social_worker).post(f"/clients/{client_user.pk}/representatives/{others.pk}/remove/")
    assert response.status_code == 404
    assert Representation.objects.filter(pk=others.pk).exists()


def test_a_representative_opens_only_their_clients_record(web_as, caseload, representative, client_user, other_client):
    web = web_as(representative)
    assert web.get(record(client_user)).status_code == 200
    assert web.get(record(other_client)).status_code == 404


def test_a_representative_sees_whom_they_act_for_on_their_account(web_as, representative):
    html = web_as(representative).get("/account/").content.decode()
    assert "Representative" in html
    assert "You act for" in html and "Ruth Ellis (family member)" in html

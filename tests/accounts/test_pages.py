"""People pages: sign-in, caseload, team and allocation, a client's record."""

import pytest
from django.core import mail

from accounts.models import AuditAction, AuditEvent, CaseloadAssignment
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_client_signs_in_with_the_form_and_lands_home(client, client_user):
    response = client.post("/sign-in/", {"username": client_user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_shows_error_summary_and_field_state(client, client_user):
    response = client.post("/sign-in/", {"username": client_user.username, "password": "nope"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html and "Enter a correct username and password" in html
    assert "<title>Error: Sign in" in html


def test_locked_out_person_sees_a_page_saying_to_wait(client, client_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/sign-in/", {"username": client_user.username, "password": "nope"})
    response = client.post("/sign-in/", {"username": client_user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content


def test_sign_out_is_a_post_and_ends_the_session(web_as, client_user):
    web = web_as(client_user)
    assert web.post("/sign-out/").status_code == 302
    assert web.get("/").status_code == 302


def test_password_change_audited_and_new_password_works(web_as, client_user):
    web = web_as(client_user)
    response = web.post(
        "/password/change/",
        {"old_password": PASSWORD, "new_password1": "a-much-better-pass", "new_password2": "a-much-better-pass"},
    )
    assert response.status_code == 302
    client_user.refresh_from_db()
    assert client_user.check_password("a-much-better-pass")
    assert AuditEvent.objects.filter(actor=client_user, action=AuditAction.PASSWORD_CHANGED).exists()


def test_password_reset_sends_a_link_that_sets_a_new_password(client, client_user):
    response = client.post("/password/reset/", {"email": client_user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200 and b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "fresh-pass-9876", "new_password2": "fresh-pass-9876"}
    )
    assert done.status_code == 302
    client_user.refresh_from_db()
    assert client_user.check_password("fresh-pass-9876")


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client):
    response = client.post("/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_social_worker_sees_own_caseload_only(web_as, caseload, social_worker):
    other = factories.CaseloadAssignmentFactory(client__full_name="Someone Else")
    html = web_as(social_worker).get("/caseload/").content.decode()
    assert caseload.client.full_name in html
    assert other.client.full_name not in html


@pytest.mark.parametrize("role_fixture", ["client_user", "team_manager", "finance_user", "provider_user"])
def test_other_roles_cannot_open_the_caseload_page(role_fixture, request, web_as):
    assert web_as(request.getfixturevalue(role_fixture)).get("/caseload/").status_code == 403


def test_caseload_page_query_count_does_not_grow_with_clients(web_as, social_worker, django_assert_max_num_queries):
    web = web_as(social_worker)
    factories.CaseloadAssignmentFactory(social_worker=social_worker)
    with django_assert_max_num_queries(8) as small:
        web.get("/caseload/")
    factories.CaseloadAssignmentFactory.create_batch(30, social_worker=social_worker)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = web.get("/caseload/")
    assert response.content.decode().count('href="/clients/') == 31


def test_team_page_query_count_does_not_grow_with_team_size(web_as, team, team_manager, django_assert_max_num_queries):
    web = web_as(team_manager)
    first = factories.SocialWorkerFactory()  # one client already: an empty caseload skips the plan look-ups
    team.memberships.create(social_worker=first)
    factories.CaseloadAssignmentFactory(social_worker=first)
    web.get("/team/")  # warm this process's caches
    with django_assert_max_num_queries(20) as small:
        web.get("/team/")
    more = factories.SocialWorkerFactory.create_batch(5)
    for sw in more:
        team.memberships.create(social_worker=sw)
        factories.CaseloadAssignmentFactory.create_batch(4, social_worker=sw)
    factories.ClientFactory.create_batch(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert web.get("/team/").status_code == 200


def test_team_manager_allocates_an_unallocated_client_from_the_team_page(web_as, team, team_manager, social_worker):
    newcomer = factories.ClientFactory(full_name="New Person")
    response = web_as(team_manager).post("/team/", {"client": newcomer.pk, "social_worker": social_worker.pk})
    assert response.status_code == 302
    assert CaseloadAssignment.objects.get(client=newcomer, end_date__isnull=True).social_worker == social_worker


def test_allocation_form_refuses_a_client_already_with_that_worker_and_changes_nothing(
    web_as, caseload, team_manager, social_worker
):
    before = CaseloadAssignment.objects.count()
    response = web_as(team_manager).post("/team/", {"client": caseload.client.pk, "social_worker": social_worker.pk})
    assert response.status_code == 400
    assert "already on" in response.content.decode()
    assert CaseloadAssignment.objects.count() == before


def test_allocation_form_does_not_offer_another_teams_client(web_as, team, team_manager, social_worker):
    elsewhere = factories.CaseloadAssignmentFactory()  # a social worker in no team of Taylor's
    response = web_as(team_manager).post("/team/", {"client": elsewhere.client.pk, "social_worker": social_worker.pk})
    assert response.status_code == 400
    assert "Choose a client from the list" in response.content.decode()
    assert CaseloadAssignment.objects.get(client=elsewhere.client, end_date__isnull=True) == elsewhere


def test_allocation_form_with_nothing_chosen_shows_both_errors(web_as, team, team_manager):
    html = web_as(team_manager).post("/team/", {}).content.decode()
    assert "Choose the client to allocate" in html and "Choose the social worker" in html


def test_social_worker_opens_caseload_client_record_and_the_view_is_audited(web_as, caseload, social_worker):
    response = web_as(social_worker).get(f"/clients/{caseload.client.pk}/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert event.actor == social_worker and event.subject == caseload.client


def test_team_manager_opens_their_teams_client_record(web_as, caseload, team_manager):
    assert web_as(team_manager).get(f"/clients/{caseload.client.pk}/").status_code == 200


@pytest.mark.parametrize("role_fixture", ["case_manager", "finance_user", "provider_user"])
def test_roles_without_a_relationship_get_404_for_a_client_record(role_fixture, request, web_as, caseload):
    response = web_as(request.getfixturevalue(role_fixture)).get(f"/clients/{caseload.client.pk}/")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW).exists()


def test_social_worker_gets_404_for_a_client_not_on_their_caseload(web_as, social_worker):
    stranger = factories.CaseloadAssignmentFactory().client
    assert web_as(social_worker).get(f"/clients/{stranger.pk}/").status_code == 404


def test_another_client_gets_404_for_a_client_record(web_as, caseload):
    other_client = factories.ClientFactory()
    assert web_as(other_client).get(f"/clients/{caseload.client.pk}/").status_code == 404


def test_account_page_shows_the_clients_social_worker(web_as, caseload, client_user, social_worker):
    html = web_as(client_user).get("/account/").content.decode()
    assert social_worker.full_name in html

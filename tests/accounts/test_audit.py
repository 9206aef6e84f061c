"""The audit trail is append-only (in the app and in the database), and signing in and out of the
web pages is recorded."""

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.exceptions import AuditImmutable, StateConflict
from accounts.models import AuditAction, AuditEvent
from accounts.services import audit_record
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(client_user, admin_person):
    return audit_record(actor=admin_person, action=AuditAction.VIEW, target=client_user, message="original")


def stored(event):
    """The row as the database holds it, read without the model's help."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT action, message FROM accounts_auditevent WHERE id = %s", [event.pk])
        return cursor.fetchone()


# --- writing -------------------------------------------------------------------------------------


def test_audit_record_appends_a_row_with_a_snapshot_of_the_actor(event, admin_person, client_user):
    assert AuditEvent.objects.count() == 1
    assert event.actor == admin_person
    assert event.actor_username == admin_person.username
    assert event.target_id == str(client_user.pk)
    assert event.target_repr == str(client_user)
    # Viewing a client's record is about that client.
    assert event.subject == client_user
    assert event.at is not None


def test_audit_record_of_anonymous_action_keeps_the_name_given(db):
    event = audit_record(actor=None, action=AuditAction.LOGIN_FAILED, actor_username="someone")
    assert event.actor is None
    assert event.actor_username == "someone"


# --- the app refuses change ----------------------------------------------------------------------


def test_saving_an_existing_audit_event_raises_and_changes_nothing(event):
    event.message = "tampered"
    with pytest.raises(AuditImmutable):
        event.save()
    assert stored(event) == (AuditAction.VIEW, "original")


def test_saving_an_existing_audit_event_with_update_fields_raises(event):
    event.message = "tampered"
    with pytest.raises(AuditImmutable):
        event.save(update_fields=["message"])
    assert stored(event) == (AuditAction.VIEW, "original")


def test_saving_a_reloaded_audit_event_raises(event):
    reloaded = AuditEvent.objects.get(pk=event.pk)
    reloaded.action = AuditAction.DELETE
    with pytest.raises(AuditImmutable):
        reloaded.save()
    assert stored(event) == (AuditAction.VIEW, "original")


def test_deleting_an_audit_event_instance_raises_and_keeps_it(event):
    with pytest.raises(AuditImmutable):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_of_audit_events_raises_and_changes_nothing(event):
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(message="tampered")
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.all().update(message="tampered")
    assert stored(event) == (AuditAction.VIEW, "original")


def test_manager_update_of_audit_events_raises(event):
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.update(message="tampered")
    assert stored(event) == (AuditAction.VIEW, "original")


def test_queryset_delete_of_audit_events_raises_and_keeps_them(event):
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1


def test_bulk_update_of_audit_events_raises(event):
    event.message = "tampered"
    # bulk_update runs inside its own atomic block; give it a savepoint so the test can read on.
    with pytest.raises(AuditImmutable), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["message"])
    assert stored(event) == (AuditAction.VIEW, "original")


def test_audit_immutable_is_a_state_conflict_so_the_api_answers_409():
    assert issubclass(AuditImmutable, StateConflict)


# --- the database refuses change -----------------------------------------------------------------


def test_raw_sql_update_of_an_audit_event_is_refused_by_the_database(event):
    assert connection.vendor in ("sqlite", "postgresql")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET message = %s WHERE id = %s", ["tampered", event.pk])
    assert stored(event) == (AuditAction.VIEW, "original")


def test_raw_sql_update_of_every_audit_event_is_refused_by_the_database(event, admin_person):
    audit_record(actor=admin_person, action=AuditAction.LOGIN, message="second")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET action = %s", [AuditAction.DELETE])
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {AuditAction.VIEW, AuditAction.LOGIN}


def test_raw_sql_delete_of_an_audit_event_is_refused_by_postgresql(event):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps no DELETE trigger (it would block the test flush); the app refuses deletes there.")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_insert_of_an_audit_event_is_allowed(event):
    # Append-only means appending still works at the database level.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_auditevent (at, actor_username, action, target_id, target_repr, changes, message)"
            " VALUES (%s, '', %s, '', '', %s, '')",
            [event.at, AuditAction.LOGIN, "{}"],
        )
    assert AuditEvent.objects.count() == 2


# --- sign-in and sign-out ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory",
    [
        factories.ClientFactory,
        factories.SocialWorkerFactory,
        factories.TeamManagerFactory,
        factories.CaseManagerFactory,
        factories.ProviderStaffFactory,
        factories.FinanceFactory,
        factories.AdminFactory,
    ],
)
def test_web_sign_in_records_a_login_for_each_role(client, factory):
    user = factory()
    response = client.post("/sign-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert event.actor == user
    assert event.actor_username == user.username
    assert event.ip_address == "127.0.0.1"
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).exists()


def test_failed_web_sign_in_records_login_failed_with_the_username_tried(client, client_user):
    response = client.post("/sign-in/", {"username": client_user.username, "password": "not-the-password"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_username == client_user.username
    assert event.ip_address == "127.0.0.1"
    assert "not-the-password" not in f"{event.message} {event.changes}"
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()


def test_failed_web_sign_in_with_unknown_username_records_the_name_tried(client, db):
    response = client.post("/sign-in/", {"username": "nobody-here", "password": "whatever-it-is"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_username == "nobody-here"


def test_web_sign_out_records_a_logout(web_as, social_worker):
    client = web_as(social_worker)
    response = client.post("/sign-out/")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.LOGOUT)
    assert event.actor == social_worker
    assert event.actor_username == social_worker.username
    assert "_auth_user_id" not in client.session


def test_web_sign_in_then_sign_out_records_both_in_order(client, finance_user):
    client.post("/sign-in/", {"username": finance_user.username, "password": PASSWORD})
    client.post("/sign-out/")
    actions = list(AuditEvent.objects.filter(actor=finance_user).order_by("id").values_list("action", flat=True))
    assert actions == [AuditAction.LOGIN, AuditAction.LOGOUT]


def test_sign_out_without_being_signed_in_records_nothing(client, db):
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.LOGOUT).exists()


def test_client_address_ignores_forwarded_for_unless_proxies_are_trusted(rf, settings):
    from accounts.services import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7", REMOTE_ADDR="10.0.0.2")
    settings.TRUSTED_PROXY_ADDRESSES = ["10.0.0.0/8"]  # the proxy the request came through
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer entries than proxies: a forged or broken chain
    assert client_ip(request) == "10.0.0.2"

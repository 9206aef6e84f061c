"""Notifications (accounts.services): told in the app at once and by email once the change commits
— never the actor, an inactive person or anyone twice; each email sent once; people mark only
their own read; the notifications page shows each person only theirs."""

# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, then requested by name)

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from accounts.models import Notification
from accounts.services import notification_mark_read, notification_send, notifications_send_email
from careplans.models import CarePlan
from tests import factories
from tests.careplans.conftest import budget, make_budget, make_plan  # noqa: F401  (fixtures by name)

pytestmark = pytest.mark.django_db

PLAN_SUBJECT = "Cairn: a care plan has changed"
PLAIN_SUBJECT = "Cairn: something needs your attention"


@pytest.fixture
def plan(make_plan, client_user, budget):
    """Ruth's draft plan, something to be told about."""
    return make_plan(client_user, budget)


def rows() -> list[tuple]:
    return list(
        Notification.objects.order_by("pk").values_list(
            "recipient_id", "message", "link", "target_type_id", "target_id", "read_at", "emailed_at"
        )
    )


def send(**kwargs) -> list[int]:
    kwargs.setdefault("message", "Your care plan was approved.")
    kwargs.setdefault("actor", None)
    return notification_send(**kwargs)


# --- notification_send --------------------------------------------------------------------------


def test_each_recipient_is_told_once(client_user, social_worker):
    ids = send(recipients=[client_user, social_worker], link="/plans/1/")

    notes = list(Notification.objects.filter(pk__in=ids).order_by("pk"))
    assert [n.recipient for n in notes] == [client_user, social_worker]
    assert {(n.message, n.link, n.read_at, n.emailed_at) for n in notes} == {
        ("Your care plan was approved.", "/plans/1/", None, None)
    }
    assert Notification.objects.count() == 2


def test_nobody_the_actor_inactive_people_and_repeats_are_skipped(client_user, social_worker, team_manager):
    gone = factories.ClientFactory(full_name="Moved Away", is_active=False)

    ids = send(
        recipients=[None, client_user, social_worker, gone, client_user, team_manager, None],
        actor=social_worker,
    )

    assert list(Notification.objects.filter(pk__in=ids).order_by("pk").values_list("recipient", flat=True)) == [
        client_user.pk,
        team_manager.pk,
    ]
    assert Notification.objects.count() == 2


def test_no_one_left_to_tell_stores_nothing_and_queues_nothing(
    social_worker, django_capture_on_commit_callbacks, mailoutbox
):
    gone = factories.ClientFactory(is_active=False)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ids = send(recipients=[None, social_worker, gone], actor=social_worker)

    assert ids == []
    assert Notification.objects.count() == 0
    assert callbacks == []
    assert mailoutbox == []


def test_what_a_notification_is_about_is_stored(client_user, social_worker, plan):
    [pk] = send(recipients=[social_worker], target=plan)

    note = Notification.objects.get(pk=pk)
    assert (note.target_type, note.target_id) == (ContentType.objects.get_for_model(CarePlan), plan.pk)
    assert note.target == plan


def test_a_notification_about_nothing_in_particular_stores_no_target(client_user):
    [pk] = send(recipients=[client_user])

    note = Notification.objects.get(pk=pk)
    assert (note.target_type_id, note.target_id, note.target) == (None, None, None)


def test_a_long_message_is_cut_to_what_the_row_holds(client_user):
    [pk] = send(recipients=[client_user], message="x" * 600)

    assert Notification.objects.get(pk=pk).message == "x" * 500


def test_the_email_is_queued_until_the_change_commits(
    client_user, social_worker, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ids = send(recipients=[client_user, social_worker], link="/plans/1/")

    assert len(callbacks) == 1  # one task for everyone told
    assert mailoutbox == []
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()

    callbacks[0]()

    assert sorted(m.to[0] for m in mailoutbox) == sorted([client_user.email, social_worker.email])
    assert Notification.objects.filter(pk__in=ids, emailed_at__isnull=False).count() == 2


# --- notifications_send_email -------------------------------------------------------------------


def test_each_notification_is_emailed_once(client_user, social_worker, mailoutbox, settings):
    settings.CAIRN_SITE_URL = "https://cairn.example"
    ids = send(recipients=[client_user, social_worker], link="/plans/1/")

    assert notifications_send_email(notification_ids=ids) == 2

    assert sorted(m.to for m in mailoutbox) == sorted([[client_user.email], [social_worker.email]])
    body = mailoutbox[0].body
    assert "Your care plan was approved." in body
    assert "See it at https://cairn.example/plans/1/" in body
    assert Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).count() == 0


def test_emailing_the_same_notifications_again_sends_nothing(client_user, mailoutbox):
    ids = send(recipients=[client_user])
    notifications_send_email(notification_ids=ids)
    emailed_at = Notification.objects.get(pk=ids[0]).emailed_at

    assert notifications_send_email(notification_ids=ids) == 0

    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=ids[0]).emailed_at == emailed_at


def test_an_email_about_a_plan_says_a_care_plan_has_changed(social_worker, plan, mailoutbox):
    ids = send(recipients=[social_worker], target=plan)

    notifications_send_email(notification_ids=ids)

    assert [m.subject for m in mailoutbox] == [PLAN_SUBJECT]


def test_an_email_about_nothing_in_particular_says_something_needs_attention(client_user, mailoutbox):
    ids = send(recipients=[client_user])

    notifications_send_email(notification_ids=ids)

    assert [m.subject for m in mailoutbox] == [PLAIN_SUBJECT]


def test_an_email_about_an_invoice_says_an_invoice_has_changed(finance_user, mailoutbox):
    # Was a bug (fixed): the subject is built as f"Cairn: a {verbose name} has
    # changed", so an invoice notification (payments.services.invoice_decisions._tell, and every
    # invoice submission) is emailed as "Cairn: a invoice has changed".
    from payments.models import Invoice

    [pk] = send(recipients=[finance_user], message="Invoice INV-1 was disputed.")
    # Only the target's type and id are read, so no invoice (and plan, budget...) need exist.
    Notification.objects.filter(pk=pk).update(target_type=ContentType.objects.get_for_model(Invoice), target_id=1)

    notifications_send_email(notification_ids=[pk])

    assert [m.subject for m in mailoutbox] == ["Cairn: an invoice has changed"]


def test_someone_without_an_email_address_is_not_emailed(client_user, social_worker, mailoutbox):
    no_email = factories.ClientFactory(email="")
    ids = send(recipients=[no_email, social_worker])

    assert notifications_send_email(notification_ids=ids) == 1

    assert [m.to for m in mailoutbox] == [[social_worker.email]]
    assert Notification.objects.get(recipient=no_email).emailed_at is None


def test_a_notification_that_no_longer_exists_is_skipped(client_user, mailoutbox):
    ids = send(recipients=[client_user])

    assert notifications_send_email(notification_ids=[10**9, *ids]) == 1
    assert len(mailoutbox) == 1


class RefusingEmailBackend(BaseEmailBackend):
    """The mail server refuses the connection (what leaves the machine)."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


def test_an_email_that_failed_to_send_is_not_sent_again_on_retry(client_user, social_worker, settings, mailoutbox):
    """The mark is committed before the mail goes: a retry after a crash never sends two (the one
    that failed is lost, as the service says)."""
    ids = send(recipients=[client_user, social_worker])
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"

    with pytest.raises(ConnectionRefusedError):
        notifications_send_email(notification_ids=ids)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications_send_email(notification_ids=ids) == 1
    assert [m.to for m in mailoutbox] == [[social_worker.email]]


# --- notification_mark_read ---------------------------------------------------------------------


def test_marking_read_touches_only_the_actors_own(client_user, social_worker):
    mine = send(recipients=[client_user], message="Mine 1") + send(recipients=[client_user], message="Mine 2")
    theirs = send(recipients=[social_worker], message="Theirs")

    count = notification_mark_read(actor=client_user)

    assert count == 2
    assert Notification.objects.filter(pk__in=mine, read_at__isnull=True).count() == 0
    assert Notification.objects.get(pk=theirs[0]).read_at is None


def test_marking_someone_elses_notification_read_by_id_changes_nothing(client_user, social_worker):
    theirs = send(recipients=[social_worker])
    before = rows()

    assert notification_mark_read(actor=client_user, notification_ids=theirs) == 0

    assert rows() == before


def test_marking_read_by_id_marks_only_those(client_user):
    first, second = send(recipients=[client_user], message="First") + send(recipients=[client_user], message="Second")

    assert notification_mark_read(actor=client_user, notification_ids=[first]) == 1

    assert Notification.objects.get(pk=first).read_at is not None
    assert Notification.objects.get(pk=second).read_at is None


def test_marking_read_again_leaves_when_it_was_read(client_user):
    ids = send(recipients=[client_user])
    notification_mark_read(actor=client_user)
    read_at = Notification.objects.get(pk=ids[0]).read_at

    assert notification_mark_read(actor=client_user) == 0

    assert Notification.objects.get(pk=ids[0]).read_at == read_at


# --- the notifications page ---------------------------------------------------------------------


def test_the_page_lists_only_the_signed_in_persons_notifications(web_as, client_user, social_worker):
    send(recipients=[client_user], message="Your plan was approved.", link="/plans/1/")
    send(recipients=[social_worker], message="Ruth's plan is waiting for review.")

    html = web_as(client_user).get(reverse("notifications")).content.decode()

    assert 'href="/plans/1/">Your plan was approved.</a>' in html
    assert "waiting for review" not in html


def test_the_page_says_when_there_are_none(web_as, client_user, social_worker):
    send(recipients=[social_worker], message="Ruth's plan is waiting for review.")

    html = web_as(client_user).get(reverse("notifications")).content.decode()

    assert "You have no notifications." in html
    assert "waiting for review" not in html


def test_the_page_needs_signing_in(client):
    response = client.get(reverse("notifications"))

    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_the_page_query_count_does_not_grow_with_notifications(
    web_as, client_user, social_worker, django_assert_max_num_queries
):
    send(recipients=[client_user], message="Note 0")
    web = web_as(client_user)
    with django_assert_max_num_queries(20) as few:
        assert web.get(reverse("notifications")).status_code == 200

    for i in range(1, 30):
        send(recipients=[client_user], message=f"Note {i}", link=f"/plans/{i}/")
        send(recipients=[social_worker], message=f"Not yours {i}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        html = web.get(reverse("notifications")).content.decode()
    assert html.count("Note ") == 30
    assert "Not yours" not in html


def test_the_page_shows_fifty_and_links_to_the_older_ones(web_as, client_user):
    # Was a bug (fixed): includes/pagination.html shows its links only when
    # `is_paginated` is in the context, which ListView sets but NotificationListView (a
    # TemplateView with its own Paginator) does not — so past 50 notifications the older ones
    # cannot be reached from the page. InvoiceListView and PaymentRunListView share the pattern.
    for i in range(51):
        send(recipients=[client_user], message=f"Note {i:02d}")
    web = web_as(client_user)

    first = web.get(reverse("notifications")).content.decode()
    second = web.get(reverse("notifications") + "?page=2").content.decode()

    assert first.count("Note ") == 50 and "Note 00" not in first
    assert second.count("Note ") == 1 and "Note 00" in second
    assert 'href="?page=2"' in first


def test_marking_all_read_from_the_page_touches_only_the_signed_in_persons(web_as, client_user, social_worker):
    mine = send(recipients=[client_user])
    theirs = send(recipients=[social_worker])

    response = web_as(client_user).post(reverse("notifications"))

    assert response.status_code == 302
    assert Notification.objects.get(pk=mine[0]).read_at is not None
    assert Notification.objects.get(pk=theirs[0]).read_at is None

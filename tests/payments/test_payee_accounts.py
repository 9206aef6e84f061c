"""Payee accounts (payments.services.payees, PayeeAccount): a provider's account with a gateway is
stored once and audited, never swapped for another id, never shared with another payee; exactly one
payee per account row; and the provider staff's *Get paid* page for each gateway."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.exceptions import InvalidInput
from accounts.models import AuditAction, AuditEvent, Role
from payments.models import PayeeAccount
from payments.services import provider_payee_account_set
from tests import factories
from tests.factories import ROLE_FIXTURES
from tests.payments.payment_fixtures import stripe_account_id, stripe_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def brightside(db):
    return factories.ProviderFactory(name="Brightside Care")


@pytest.fixture
def riverside(db):
    return factories.ProviderFactory(name="Riverside Centre")


@pytest.fixture
def staff(brightside):
    return factories.ProviderStaffFactory(provider=brightside, full_name="Lee Carter")


def account_rows() -> list[tuple]:
    return list(
        PayeeAccount.objects.order_by("pk").values_list("provider_id", "person_id", "gateway", "account_id", "ready")
    )


def audit_of(account: PayeeAccount):
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(PayeeAccount), target_id=str(account.pk)
    ).order_by("at", "pk")


# --- provider_payee_account_set ----------------------------------------------------------------


def test_provider_staff_store_their_organisations_account_and_it_is_audited(staff, brightside):
    account = provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=False
    )

    stored = PayeeAccount.objects.get(pk=account.pk)
    assert (stored.provider_id, stored.person_id, stored.gateway, stored.account_id, stored.ready) == (
        brightside.pk,
        None,
        "stripe",
        "acct_1Brightside",
        False,
    )
    [event] = audit_of(account)
    assert (event.actor, event.action) == (staff, AuditAction.CREATE)
    assert event.changes == {"gateway": "stripe", "account_id": "acct_1Brightside", "ready": False}


def test_the_payment_service_storing_an_account_is_audited_under_its_name(brightside):
    account = provider_payee_account_set(
        actor=None, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
    )

    [event] = audit_of(account)
    assert (event.actor, event.actor_username, event.action) == (None, "payment service", AuditAction.CREATE)


def test_the_same_account_again_updates_whether_it_is_ready_and_is_audited(staff, brightside):
    first = provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=False
    )

    again = provider_payee_account_set(
        actor=None, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
    )

    assert again.pk == first.pk
    assert account_rows() == [(brightside.pk, None, "stripe", "acct_1Brightside", True)]
    events = list(audit_of(first))
    assert [e.action for e in events] == [AuditAction.CREATE, AuditAction.UPDATE]
    assert events[1].changes == {"gateway": "stripe", "account_id": "acct_1Brightside", "ready": True}


def test_the_same_account_with_nothing_new_changes_nothing_and_audits_nothing(staff, brightside):
    first = provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
    )
    updated_at = PayeeAccount.objects.get(pk=first.pk).updated_at

    provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
    )

    assert PayeeAccount.objects.get(pk=first.pk).updated_at == updated_at
    assert audit_of(first).count() == 1


def test_another_account_id_for_the_same_provider_and_gateway_is_refused_and_changes_nothing(staff, brightside):
    first = provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
    )
    rows, audits = account_rows(), AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as refused:
        provider_payee_account_set(
            actor=staff, provider=brightside, gateway_name="stripe", account_id="acct_1Elsewhere", ready=True
        )

    assert refused.value.field == "account_id"
    assert account_rows() == rows == [(brightside.pk, None, "stripe", "acct_1Brightside", True)]
    assert AuditEvent.objects.count() == audits
    assert audit_of(first).count() == 1


def test_the_same_provider_may_hold_one_account_with_each_gateway(brightside):
    provider_payee_account_set(actor=None, provider=brightside, gateway_name="stripe", account_id="acct_1B", ready=True)
    provider_payee_account_set(
        actor=None, provider=brightside, gateway_name="ledger", account_id="ledger_acct_1", ready=True
    )

    assert sorted(PayeeAccount.objects.filter(provider=brightside).values_list("gateway", flat=True)) == [
        "ledger",
        "stripe",
    ]


def test_an_account_id_another_provider_holds_is_refused_and_changes_nothing(brightside, riverside):
    provider_payee_account_set(
        actor=None, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
    )
    rows, audits = account_rows(), AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as refused:
        provider_payee_account_set(
            actor=None, provider=riverside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
        )

    assert refused.value.field == "account_id"
    assert account_rows() == rows
    assert not PayeeAccount.objects.filter(provider=riverside).exists()
    assert AuditEvent.objects.count() == audits


def test_an_account_id_another_provider_holds_is_refused_inside_a_callers_transaction(brightside, riverside):
    """The refused insert is rolled back to its own savepoint: the caller's transaction carries on
    (PostgreSQL would otherwise refuse every later query in it)."""
    provider_payee_account_set(
        actor=None, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
    )

    with transaction.atomic():
        with pytest.raises(InvalidInput):
            provider_payee_account_set(
                actor=None, provider=riverside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
            )
        assert PayeeAccount.objects.count() == 1


# --- the constraint: exactly one payee ---------------------------------------------------------


@pytest.mark.parametrize("payees", ["both", "neither"])
def test_an_account_row_must_name_exactly_one_payee(payees, brightside, client_user):
    provider_payee_account_set(
        actor=None, provider=brightside, gateway_name="stripe", account_id="acct_1Brightside", ready=True
    )
    rows = account_rows()
    fields = {"provider": brightside, "person": client_user} if payees == "both" else {}

    with pytest.raises(IntegrityError), transaction.atomic():
        PayeeAccount.objects.create(gateway="ledger", account_id="ledger_acct_x", ready=True, **fields)

    assert account_rows() == rows


def test_a_person_may_hold_an_account_of_their_own(client_user):
    PayeeAccount.objects.create(person=client_user, gateway="stripe", account_id="acct_1Ruth", ready=False)

    assert account_rows() == [(None, client_user.pk, "stripe", "acct_1Ruth", False)]


# --- the *Get paid* page -----------------------------------------------------------------------

SET_UP = "Set up payouts with Stripe"
CONTINUE = "Continue setting up payouts"
DONE = "Payouts are set up"
NOTHING = "there is nothing to set up here"


def page(web) -> str:
    response = web.get(reverse("payouts"))
    assert response.status_code == 200
    return response.content.decode()


def test_provider_staff_paid_through_the_ledger_have_nothing_to_set_up(web_as, staff, settings):
    settings.PAYMENT_GATEWAY = "ledger"

    html = page(web_as(staff))

    assert f"Brightside Care is paid by the council's own payment process: {NOTHING}." in html
    assert SET_UP not in html and DONE not in html and "govuk-button--start" not in html


def test_provider_staff_paid_through_stripe_see_the_set_up_button(web_as, staff, settings, stripe_fake):
    settings.PAYMENT_GATEWAY = "stripe"

    html = page(web_as(staff))

    assert SET_UP in html
    assert NOTHING not in html and DONE not in html
    assert stripe_fake.requests == []  # showing the page asks Stripe nothing


def test_provider_staff_who_started_set_up_are_asked_to_continue(web_as, staff, brightside, settings, stripe_fake):
    settings.PAYMENT_GATEWAY = "stripe"
    account = stripe_fake.create_account(email=brightside.email, onboarded=False)
    provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id=account["id"], ready=False
    )

    html = page(web_as(staff))

    assert CONTINUE in html
    assert SET_UP not in html and DONE not in html


def test_provider_staff_with_a_ready_account_see_payouts_are_set_up(web_as, staff, brightside, settings, stripe_fake):
    settings.PAYMENT_GATEWAY = "stripe"
    account = stripe_fake.create_account(email=brightside.email, onboarded=True)
    provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id=account["id"], ready=True
    )

    html = page(web_as(staff))

    assert DONE in html
    assert SET_UP not in html and CONTINUE not in html


def test_provider_staff_coming_back_from_onboarding_see_it_finished(web_as, staff, brightside, settings, stripe_fake):
    settings.PAYMENT_GATEWAY = "stripe"
    account = stripe_fake.create_account(email=brightside.email, onboarded=False)
    provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id=account["id"], ready=False
    )
    stripe_fake.complete_onboarding(account["id"])

    response = web_as(staff).get(reverse("payouts") + "?returned=1")

    assert response.status_code == 200
    assert DONE in response.content.decode()
    assert stripe_ready(brightside) is True
    assert stripe_account_id(brightside) == account["id"]


def test_provider_staff_coming_back_unfinished_are_still_asked_to_continue(
    web_as, staff, brightside, settings, stripe_fake
):
    settings.PAYMENT_GATEWAY = "stripe"
    account = stripe_fake.create_account(email=brightside.email, onboarded=False)
    stored = provider_payee_account_set(
        actor=staff, provider=brightside, gateway_name="stripe", account_id=account["id"], ready=False
    )

    response = web_as(staff).get(reverse("payouts") + "?returned=1")

    assert CONTINUE in response.content.decode()
    assert stripe_ready(brightside) is False
    assert audit_of(stored).count() == 1  # the creation only


OTHER_ROLES = sorted(name for role, name in ROLE_FIXTURES.items() if role != Role.PROVIDER)


@pytest.mark.parametrize("gateway_name", ["ledger", "stripe"])
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_may_not_open_the_get_paid_page(request, role, gateway_name, web_as, settings, stripe_fake):
    settings.PAYMENT_GATEWAY = gateway_name
    person = request.getfixturevalue(role)

    assert web_as(person).get(reverse("payouts")).status_code == 403
    assert web_as(person).post(reverse("payouts")).status_code == 403
    assert PayeeAccount.objects.count() == 0
    assert stripe_fake.requests == []


def test_someone_signed_out_is_sent_to_sign_in(client):
    response = client.get(reverse("payouts"))

    assert response.status_code == 302
    assert "next=" in response["Location"]

"""Paying contributions online (the `stripe` gateway): the person opens a Stripe Checkout session for
what they owe; its `checkout.session.completed` webhook records the payment once, however often it
is delivered; with the embedded `ledger` gateway there is no online payment (409), and finance
records money received instead."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

import json
from decimal import Decimal

from budgets.services.charging import financial_assessment_record
from payments import selectors, services
from payments.models import ContributionCheckout, ContributionPayment
from tests.payments.payment_fixtures import stripe_payments, worker_retries  # noqa: F401
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401
from tests.stripe_fake.fixtures import stripe_fake, stripe_fake_server  # noqa: F401
from tests.stripe_fake.server import TEST_WEBHOOK_SECRET, sign

D = Decimal


def billed(dp, finance_user, capture):
    """Ruth owes £120.00: the first period charged at £30.00 a week, nothing netted."""
    with capture(execute=True):
        financial_assessment_record(
            actor=finance_user,
            client=dp.budget.client,
            band="pension_age",
            income=[{"kind": "state_pension", "weekly_amount": D("258.70")}],
            date=dp.anchor,
        )
    services.contributions_charge_due()
    assert selectors.contributions_summary(dp.budget.client).arrears.amount == D("120.00")


def deliver(client, event):
    payload = json.dumps(event)
    return client.post(
        "/api/v1/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, TEST_WEBHOOK_SECRET),
    )


def test_the_person_pays_online_once_whatever_the_deliveries(
    dp, finance_user, stripe_payments, api_as, client, django_capture_on_commit_callbacks
):
    fake = stripe_payments
    fake.hold_webhooks = True
    billed(dp, finance_user, django_capture_on_commit_callbacks)

    started = api_as(dp.budget.client).post(f"/api/v1/clients/{dp.budget.client_id}/contributions/checkout/")

    assert started.status_code == 201, started.json()
    session = fake.checkout_sessions()[0]
    assert started.json()["url"] == session["url"] and session["amount_total"] == 12000
    assert session["client_reference_id"] == f"client-{dp.budget.client_id}"
    fake.complete_checkout(session["id"])
    [event] = [e for e in fake.held_events if e["type"] == "checkout.session.completed"]
    for _ in range(3):
        assert deliver(client, event).status_code == 200

    payment = ContributionPayment.objects.get()
    assert payment.amount.amount == D("120.00") and payment.method == "online"
    assert payment.checkout_session_id == session["id"]
    assert selectors.contributions_summary(dp.budget.client).arrears.amount == 0
    assert ContributionCheckout.objects.get().completed_at is not None


def test_the_page_offers_paying_online_to_the_person_only(
    dp, finance_user, stripe_payments, web_as, django_capture_on_commit_callbacks
):
    billed(dp, finance_user, django_capture_on_commit_callbacks)
    page = f"/clients/{dp.budget.client_id}/contributions/"
    assert "Pay £120.00 online" in web_as(dp.budget.client).get(page).content.decode()
    assert "Pay £120.00 online" not in web_as(finance_user).get(page).content.decode()
    response = web_as(dp.budget.client).post(page, {"pay_online": "1"})
    assert response.status_code == 302 and response["Location"] == stripe_payments.checkout_sessions()[0]["url"]


def test_nothing_owed_or_no_online_payments_is_a_409(dp, finance_user, api_as, django_capture_on_commit_callbacks):
    url = f"/api/v1/clients/{dp.budget.client_id}/contributions/checkout/"
    assert api_as(dp.budget.client).post(url).status_code == 409  # ledger gateway: nothing owed either
    billed(dp, finance_user, django_capture_on_commit_callbacks)
    response = api_as(dp.budget.client).post(url)
    assert response.status_code == 409 and "not available" in str(response.json())
    assert api_as(finance_user).post(url).status_code == 403
    assert not ContributionCheckout.objects.exists()

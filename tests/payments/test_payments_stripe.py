"""Paying through Stripe Connect, against the local Stripe fake (STACK.md, PRODUCT.md §8).

Every kind of failure on `POST /v1/transfers` ends with each invoice paid exactly once: the
payment's idempotency key is the same on every attempt, and an attempt that ended without an
answer is followed by a lookup of the run's transfer group before anything is sent again. A
definite refusal fails the payment with Stripe's message and tells finance. Providers set up
their payouts (a connected account) through Cairn's page.
"""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

from collections import defaultdict

import pytest
import requests

from accounts.exceptions import NotVisible
from accounts.models import Notification
from budgets.selectors import budget_figures
from payments import services
from payments.models import InvoiceStatus, PayeeAccount, Payment, PaymentStatus
from payments.services import provider_payee_account_set
from providers.models import Provider
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    assert_ledger_balances,
    gbp,
    onboard,
    pay_world,
    reload,
    run_payments,
    stripe_account_id,
    stripe_payments,
    stripe_ready,
    worker_retries,
)

pytestmark = pytest.mark.django_db

TRANSFERS = "POST /v1/transfers$"
# A fault after which the transfer exists at Stripe although Cairn heard no success.
DONE_FAULTS = {"timeout", "500_after", "connection_reset_after"}
# A fault after which nothing was done.
NOT_DONE_FAULTS = {"timeout_before", "500", "429", "connection_reset"}
ALL_FAULTS = sorted(DONE_FAULTS | NOT_DONE_FAULTS)


def transfer_posts(fake, payment=None) -> list:
    posts = [r for r in fake.requests if r.method == "POST" and r.path == "/v1/transfers"]
    if payment is not None:
        posts = [r for r in posts if (r.params.get("metadata") or {}).get("payment") == str(payment.pk)]
    return posts


def assert_each_invoice_paid_once(fake, world, invoices, run) -> None:
    """One transfer per invoice at Stripe, each matching its payment; every payment paid; the
    ledger's paid figure is the run's total and it balances."""
    assert fake.transfer_count() == len(invoices)
    transfers = {t["id"]: t for t in fake.transfers}
    payments = list(run.payments.all())
    assert len(payments) == len(invoices)
    assert {p.invoice_id for p in payments} == {i.pk for i in invoices}
    for payment in payments:
        assert payment.status == PaymentStatus.PAID, (payment.pk, payment.last_error)
        transfer = transfers[payment.transfer_id]
        assert transfer["metadata"]["payment"] == str(payment.pk)
        assert transfer["metadata"]["invoice"] == str(payment.invoice_id)
        assert transfer["amount"] == int(payment.amount.amount * 100)
        assert transfer["transfer_group"] == run.transfer_group
        assert transfer["destination"] == stripe_account_id(payment.provider)
        assert reload(payment.invoice).status == InvoiceStatus.PAID
    assert budget_figures(world.budget).paid == run.total
    assert_ledger_balances(world.budget)


def keys_by_payment(fake) -> dict[str, set[str]]:
    keys = defaultdict(set)
    for r in transfer_posts(fake):
        keys[r.params["metadata"]["payment"]].add(r.idempotency_key)
    return keys


@pytest.fixture
def stripe_world(pay_world, stripe_payments):
    onboard(pay_world, stripe_payments)
    return pay_world


def test_clean_stripe_run_pays_each_invoice_with_one_transfer(stripe_world, stripe_payments, run_payments):
    fake = stripe_payments
    invoices = stripe_world.invoices(2) + stripe_world.invoices(1, stripe_world.riverside)

    run = run_payments()

    assert run.gateway == "stripe"
    assert_each_invoice_paid_once(fake, stripe_world, invoices, run)
    assert len(transfer_posts(fake)) == 3
    assert all(r.method == "POST" for r in fake.requests)  # nothing to look up: no failure
    assert fake.balance() == 1_000_000_000 - 8000
    for payment in run.payments.all():
        assert payment.attempts == 1
        assert keys_by_payment(fake)[str(payment.pk)] == {payment.idempotency_key}


@pytest.mark.parametrize("times", [1, 2])
@pytest.mark.parametrize("kind", ALL_FAULTS)
def test_each_transfer_fault_still_pays_each_invoice_exactly_once(
    stripe_world, stripe_payments, run_payments, kind, times
):
    fake = stripe_payments
    invoices = stripe_world.invoices(2) + stripe_world.invoices(1, stripe_world.riverside)
    fake.fail_next(TRANSFERS, kind, times=times)

    run = run_payments()

    assert not fake.pending_faults()
    assert_each_invoice_paid_once(fake, stripe_world, invoices, run)
    first = run.payments.order_by("pk").first()
    # The first payment took the fault; the same key was sent on every attempt of every payment.
    assert first.attempts >= 2
    for payment in run.payments.all():
        assert keys_by_payment(fake)[str(payment.pk)] == {payment.idempotency_key}
    if kind in DONE_FAULTS:
        # The first attempt did it; the lookup found it, so it was never sent again.
        assert len(transfer_posts(fake, first)) == 1
        assert first.attempts == 2


@pytest.mark.parametrize("kind", ALL_FAULTS)
def test_an_unanswered_attempt_is_followed_by_a_lookup_before_any_resend(
    stripe_world, stripe_payments, run_payments, kind
):
    fake = stripe_payments
    stripe_world.invoices(2)
    fake.fail_next(TRANSFERS, kind)

    run = run_payments()

    first = run.payments.order_by("pk").first()
    log = fake.requests
    faulted = next(i for i, r in enumerate(log) if r.fault == kind)
    assert log[faulted].params["metadata"]["payment"] == str(first.pk)
    later_posts = [
        i
        for i, r in enumerate(log)
        if i > faulted and r.method == "POST" and r.params.get("metadata", {}).get("payment") == str(first.pk)
    ]
    lookups = [
        i
        for i, r in enumerate(log)
        if i > faulted
        and r.method == "GET"
        and r.path == "/v1/transfers"
        and r.params.get("transfer_group") == run.transfer_group
    ]
    assert lookups, "no lookup after the unanswered attempt"
    if later_posts:
        assert lookups[0] < later_posts[0]
    assert bool(later_posts) == (kind in NOT_DONE_FAULTS)
    assert reload(first).status == PaymentStatus.PAID


def test_every_unanswered_attempt_of_a_payment_looks_up_first(stripe_world, stripe_payments, run_payments):
    fake = stripe_payments
    stripe_world.invoice()
    fake.fail_next(TRANSFERS, "500", times=3)

    run = run_payments()

    payment = run.payments.get()
    sequence = [(r.method, r.path) for r in fake.requests]
    post, look = ("POST", "/v1/transfers"), ("GET", "/v1/transfers")
    assert sequence == [post, look, post, look, post, look, post]
    assert payment.status == PaymentStatus.PAID
    assert payment.attempts == 4
    assert fake.transfer_count() == 1


# --- definite refusals -------------------------------------------------------------------------


def test_a_destination_without_an_account_fails_with_stripes_message_and_tells_finance(
    stripe_world, stripe_payments, run_payments, finance_user
):
    fake = stripe_payments
    stranger = Provider.objects.get(pk=stripe_world.riverside.pk)
    PayeeAccount.objects.filter(provider=stranger).update(account_id="acct_1NoSuchAccount0000000000")
    good = stripe_world.invoice()
    bad = stripe_world.invoice(stripe_world.riverside)

    run = run_payments()

    failed = Payment.objects.get(invoice=bad)
    assert failed.status == PaymentStatus.FAILED
    assert "No such destination: 'acct_1NoSuchAccount0000000000'" in failed.last_error
    assert failed.transfer_id == ""
    assert reload(bad).status == InvoiceStatus.CONFIRMED
    assert len(transfer_posts(fake, failed)) == 1  # a definite no is not retried
    assert Payment.objects.get(invoice=good).status == PaymentStatus.PAID
    assert budget_figures(stripe_world.budget).paid == good.amount
    assert_ledger_balances(stripe_world.budget)
    note = Notification.objects.get(recipient=finance_user)
    assert f"Payment {failed.pk}" in note.message
    assert "No such destination" in note.message
    assert note.link == f"/payments/runs/{run.pk}/"
    assert reload(run).finished_at is not None


def test_insufficient_platform_balance_fails_the_payment_with_stripes_message(
    stripe_world, stripe_payments, run_payments, finance_user
):
    fake = stripe_payments
    fake.set_balance(100)  # £1: less than any invoice
    invoice = stripe_world.invoice()
    other_finance = type(finance_user).objects.create(username="fin-two", role="finance", full_name="Fin Two")

    run = run_payments()

    payment = run.payments.get()
    assert payment.status == PaymentStatus.FAILED
    assert "insufficient available funds" in payment.last_error
    assert fake.transfer_count() == 0
    assert reload(invoice).status == InvoiceStatus.CONFIRMED
    assert budget_figures(stripe_world.budget).paid == gbp("0")
    for person in (finance_user, other_finance):
        assert "insufficient available funds" in Notification.objects.get(recipient=person).message
    assert reload(run).finished_at is not None


def test_finance_retry_after_a_refusal_is_fixed_pays_it(
    stripe_world, stripe_payments, run_payments, finance_user, django_capture_on_commit_callbacks
):
    fake = stripe_payments
    fake.set_balance(100)
    stripe_world.invoice()
    payment = run_payments().payments.get()
    assert payment.status == PaymentStatus.FAILED
    fake.set_balance(1_000_000)

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_retry(actor=finance_user, payment=payment)

    payment = reload(payment)
    assert payment.status == PaymentStatus.PAID, payment.last_error
    assert fake.transfer_count() == 1


def test_without_a_broker_a_payment_needing_two_retries_does_not_stop_the_run(
    stripe_world, stripe_payments, run_payments, settings
):
    settings.CELERY_TASK_EAGER_PROPAGATES = True  # as configured when no broker is set
    invoices = stripe_world.invoices(3)
    stripe_payments.fail_next(TRANSFERS, "500", times=2)

    run = run_payments()

    assert_each_invoice_paid_once(stripe_payments, stripe_world, invoices, run)


# --- failing until the last retry --------------------------------------------------------------


def test_failing_every_retry_ends_failed_and_a_later_finance_retry_pays_it_once(
    stripe_world, stripe_payments, run_payments, settings, finance_user, web_as, django_capture_on_commit_callbacks
):
    fake = stripe_payments
    settings.PAYMENT_MAX_RETRIES = 2
    invoice = stripe_world.invoice()
    fake.fail_next(TRANSFERS, "500", times=100)

    run = run_payments()

    payment = run.payments.get()
    assert payment.status == PaymentStatus.FAILED
    assert payment.last_error.startswith("No definite answer after every retry")
    assert len(transfer_posts(fake, payment)) == 4  # the batch's attempt, then the task and 2 retries
    assert fake.transfer_count() == 0
    assert reload(invoice).status == InvoiceStatus.CONFIRMED
    assert reload(run).finished_at is not None
    assert "No definite answer" in Notification.objects.get(recipient=finance_user).message
    page = web_as(finance_user).get(f"/payments/runs/{run.pk}/").content.decode()
    assert "No definite answer after every retry" in page

    fake.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        response = web_as(finance_user).post(f"/payments/{payment.pk}/retry/")

    assert response.status_code == 302
    assert_each_invoice_paid_once(fake, stripe_world, [invoice], reload(run))
    # The retry looked the transfer up (none), then went out under a new key: the gateway
    # remembers the old key's answers.
    retried = reload(payment).idempotency_key
    assert retried.startswith(f"{payment.idempotency_key}-retry")
    assert keys_by_payment(fake)[str(payment.pk)] == {payment.idempotency_key, retried}


def test_giving_up_on_a_transfer_that_did_happen_then_retrying_still_pays_once(
    stripe_world, stripe_payments, run_payments, settings, finance_user, django_capture_on_commit_callbacks
):
    """The transfer was made but every answer and every lookup was lost: the payment gives up
    (failed); the retry, with the same key, ends with the one transfer."""
    fake = stripe_payments
    settings.PAYMENT_MAX_RETRIES = 1
    invoice = stripe_world.invoice()
    fake.fail_next(TRANSFERS, "500_after", times=100)
    fake.fail_next("GET /v1/transfers$", "500", times=100)

    run = run_payments()

    payment = run.payments.get()
    assert payment.status == PaymentStatus.FAILED
    assert fake.transfer_count() == 1
    assert budget_figures(stripe_world.budget).paid == gbp("0")

    fake.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_retry(actor=finance_user, payment=payment)

    assert_each_invoice_paid_once(fake, stripe_world, [invoice], reload(run))


def test_finance_retry_of_a_payment_that_gave_up_looks_the_transfer_up_first(
    stripe_world, stripe_payments, run_payments, settings, finance_user, django_capture_on_commit_callbacks
):
    fake = stripe_payments
    settings.PAYMENT_MAX_RETRIES = 0
    stripe_world.invoice()
    fake.fail_next(TRANSFERS, "500_after", times=100)
    fake.fail_next("GET /v1/transfers$", "500", times=100)
    payment = run_payments().payments.get()
    assert payment.status == PaymentStatus.FAILED
    fake.clear_faults()
    seen = len(fake.requests)

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_retry(actor=finance_user, payment=payment)

    first = fake.requests[seen]
    assert (first.method, first.path) == ("GET", "/v1/transfers")


# --- onboarding --------------------------------------------------------------------------------


@pytest.mark.parametrize("account", ["none", "not onboarded"])
def test_a_provider_not_onboarded_is_not_paid_and_the_payment_says_why(
    pay_world, stripe_payments, run_payments, finance_user, account, django_capture_on_commit_callbacks
):
    fake = stripe_payments
    onboard(pay_world, fake)
    riverside = pay_world.riverside
    if account == "none":
        PayeeAccount.objects.filter(provider=riverside).delete()
    else:
        PayeeAccount.objects.filter(provider=riverside).update(ready=False)
    invoice = pay_world.invoice(riverside)

    run = run_payments()

    payment = run.payments.get()
    assert payment.status == PaymentStatus.FAILED
    assert "has not finished setting up Stripe payouts" in payment.last_error
    assert transfer_posts(fake) == []
    assert "has not finished setting up Stripe payouts" in Notification.objects.get(recipient=finance_user).message

    account_id = stripe_account_id(riverside) if account != "none" else fake.create_account(onboarded=True)["id"]
    provider_payee_account_set(
        actor=None,
        provider=Provider.objects.get(pk=riverside.pk),
        gateway_name="stripe",
        account_id=account_id,
        ready=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_retry(actor=finance_user, payment=payment)

    assert_each_invoice_paid_once(fake, pay_world, [invoice], reload(run))


def test_provider_staff_set_up_payouts_through_stripe(pay_world, stripe_payments, web_as):
    fake = stripe_payments
    brightside = pay_world.brightside
    web = web_as(pay_world.staff[brightside.pk])
    page = web.get("/organisation/payouts/")
    assert page.status_code == 200
    assert "Set up payouts with Stripe" in page.content.decode()

    response = web.post("/organisation/payouts/")

    provider = reload(brightside)
    assert stripe_account_id(provider).startswith("acct_")
    assert stripe_ready(provider) is False
    assert response.status_code == 302
    assert response["Location"] == f"{fake.url}/onboarding/{stripe_account_id(provider)}"
    creations = fake.requests_to("POST", "/v1/accounts")
    assert len(creations) == 1
    assert creations[0].idempotency_key == f"cairn-account-{provider.pk}"
    assert creations[0].params["metadata"] == {"cairn_provider": str(provider.pk)}
    assert [a["id"] for a in fake.accounts] == [stripe_account_id(provider)]
    link = fake.requests_to("POST", "/v1/account_links")[0]
    assert link.params["return_url"] == "http://testserver/organisation/payouts/?returned=1"

    # Coming back before finishing: still not set up.
    assert stripe_ready(brightside) is False
    web.get("/organisation/payouts/?returned=1")
    assert stripe_ready(brightside) is False

    onboarding = requests.get(response["Location"], timeout=5)
    assert onboarding.status_code == 200
    back = web.get("/organisation/payouts/?returned=1")

    assert back.status_code == 200
    assert "Payouts are set up" in back.content.decode()
    assert stripe_ready(brightside) is True
    assert len(fake.requests_to("POST", "/v1/accounts")) == 1


def test_continuing_an_unfinished_set_up_reuses_the_account(pay_world, stripe_payments, web_as):
    fake = stripe_payments
    web = web_as(pay_world.staff[pay_world.brightside.pk])
    first = web.post("/organisation/payouts/")
    page = web.get("/organisation/payouts/").content.decode()
    assert "Continue setting up payouts" in page

    second = web.post("/organisation/payouts/")

    assert first["Location"] == second["Location"]
    assert len(fake.accounts) == 1
    assert len(fake.requests_to("POST", "/v1/accounts")) == 1
    assert len(fake.requests_to("POST", "/v1/account_links")) == 2


@pytest.mark.parametrize("kind", ["500", "500_after", "connection_reset_after"])
def test_stripe_failing_during_set_up_leaves_one_account_when_tried_again(pay_world, stripe_payments, web_as, kind):
    fake = stripe_payments
    web = web_as(pay_world.staff[pay_world.brightside.pk])
    fake.fail_next("POST /v1/accounts$", kind)

    failed = web.post("/organisation/payouts/", follow=True)

    assert failed.redirect_chain == [("/organisation/payouts/", 302)]
    assert "The payment service did not answer" in failed.content.decode()
    assert stripe_account_id(pay_world.brightside) == ""

    again = web.post("/organisation/payouts/")

    provider = reload(pay_world.brightside)
    assert again.status_code == 302
    assert again["Location"] == f"{fake.url}/onboarding/{stripe_account_id(provider)}"
    assert [a["id"] for a in fake.accounts] == [stripe_account_id(provider)]  # the same key: one account


@pytest.mark.parametrize("role", ["client_user", "finance_user", "social_worker"])
def test_only_provider_staff_set_up_payouts(request, role, pay_world, stripe_payments, web_as):
    web = web_as(request.getfixturevalue(role))

    assert web.get("/organisation/payouts/").status_code == 403
    assert web.post("/organisation/payouts/").status_code == 403
    assert stripe_payments.accounts == []


def test_provider_staff_cannot_onboard_another_organisation(pay_world, stripe_payments):
    staff = pay_world.staff[pay_world.riverside.pk]

    with pytest.raises(NotVisible):
        services.provider_payments_onboard(
            actor=staff, provider=pay_world.brightside, refresh_url="http://x/", return_url="http://x/"
        )

    assert stripe_payments.accounts == []
    assert stripe_account_id(pay_world.brightside) == ""

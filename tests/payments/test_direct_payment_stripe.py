"""A direct payment through Stripe: the person (or their representative) sets up their own
connected account on the account page; until it is ready a load is not paid; once it is, a
payment run pays the load as a Connect transfer to the person's account, once."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

import requests

from payments.models import LoadStatus, PayeeAccount, PaymentStatus
from tests.accounts.representative_fixtures import representative_of
from tests.payments.payment_fixtures import stripe_payments, worker_retries  # noqa: F401  (fixtures)
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401  (fixtures)
from tests.stripe_fake.fixtures import stripe_fake, stripe_fake_server  # noqa: F401  (fixtures)


def page(account) -> str:
    return f"/budgets/{account.budget_id}/direct-payment/"


def test_a_representative_sets_up_the_persons_account_then_loads_go_to_it(
    dp, stripe_payments, run_payments, web_as, django_capture_on_commit_callbacks
):
    fake = stripe_payments
    son = representative_of(dp.holder, full_name="Kwame Adeyemi")
    web = web_as(son)

    # Not set up yet: the due loads are not paid, and say why.
    run = run_payments()
    assert {p.status for p in run.payments.all()} == {PaymentStatus.FAILED}
    assert "has not finished setting up Stripe payouts" in run.payments.first().last_error
    assert fake.requests_to("POST", "/v1/transfers") == []

    assert "Set up how the money is received" in web.get(page(dp)).content.decode()
    response = web.post(page(dp), {"set_up_payouts": "1"})

    payee = PayeeAccount.objects.get(person=dp.holder, gateway="stripe")
    assert payee.ready is False and payee.provider is None
    assert response.status_code == 302 and response["Location"] == f"{fake.url}/onboarding/{payee.account_id}"
    creation = fake.requests_to("POST", "/v1/accounts")[0]
    assert creation.params["metadata"] == {"cairn_person": f"person-{dp.holder.pk}"}
    assert requests.get(response["Location"], timeout=5).status_code == 200  # the person finishes at Stripe
    back = web.get(f"{page(dp)}?returned=1").content.decode()
    assert "pays it into their Stripe account" in back
    payee.refresh_from_db()
    assert payee.ready is True

    # Finance retries the failed load payments: each is a transfer to the person's account, once.
    from payments import services

    with django_capture_on_commit_callbacks(execute=True):
        for payment in run.payments.all():
            services.payment_retry(actor=run.started_by, payment=payment)
    transfers = fake.requests_to("POST", "/v1/transfers")
    assert len(transfers) == 2 and {t.params["destination"] for t in transfers} == {payee.account_id}
    assert {load.status for load in dp.loads.filter(status=LoadStatus.PAID)} == {LoadStatus.PAID}
    assert dp.loads.filter(status=LoadStatus.PAID).count() == 2


def test_someone_who_cannot_spend_from_it_cannot_set_it_up(dp, stripe_payments, web_as, social_worker):
    web = web_as(social_worker)
    assert "Set up how the money is received" not in web.get(page(dp)).content.decode()
    assert web.post(page(dp), {"set_up_payouts": "1"}).status_code == 403
    assert not PayeeAccount.objects.exists()

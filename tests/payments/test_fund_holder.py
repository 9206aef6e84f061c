"""Naming who holds a direct payment: the client by default, or one of their representatives (an
authorised person); the client's social worker or an administrator decides; the named holder then
records the spending and is who the council pays."""

import pytest

from accounts.models import AuditEvent, Representation, Role
from payments import selectors
from payments.models import FundAccount
from tests import factories
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401  (pytest fixtures)


@pytest.fixture
def rep(client_user):
    person = factories.UserFactory(role=Role.REPRESENTATIVE, full_name="Pat Ellis")
    Representation.objects.create(representative=person, client=client_user, kind="authorised_person")
    return person


def url(account) -> str:
    return f"/api/v1/budgets/{account.budget_id}/direct-payment/holder/"


def test_the_social_worker_names_a_representative_holder(api_as, dp, rep, social_worker):  # noqa: F811
    response = api_as(social_worker).post(url(dp), {"holder": rep.pk}, format="json")

    assert response.status_code == 200 and response.json()["holder"] == rep.pk
    assert FundAccount.objects.get(pk=dp.pk).holder == rep
    assert AuditEvent.objects.filter(target_type__model="fundaccount", changes__holder=[dp.holder_id, rep.pk]).exists()
    assert api_as(rep).get(f"/api/v1/budgets/{dp.budget_id}/direct-payment/").json()["holder"] == rep.pk


def test_only_the_named_holder_records_spending_then(api_as, dp, rep, social_worker, client_user):  # noqa: F811
    api_as(social_worker).post(url(dp), {"holder": rep.pk}, format="json")
    dp.refresh_from_db()
    from payments.permissions import can_spend_from

    assert can_spend_from(rep, dp) and not can_spend_from(client_user, dp)


@pytest.mark.parametrize("who", ["client", "rep", "finance", "stranger"])
def test_others_may_not_name_the_holder(api_as, dp, rep, client_user, finance_user, who):  # noqa: F811
    actor = {
        "client": client_user,
        "rep": rep,
        "finance": finance_user,
        "stranger": factories.SocialWorkerFactory(),
    }[who]
    response = api_as(actor).post(url(dp), {"holder": rep.pk}, format="json")
    assert response.status_code == (404 if who == "stranger" else 403)
    assert FundAccount.objects.get(pk=dp.pk).holder == client_user


def test_the_holder_must_be_the_client_or_their_representative(api_as, dp, social_worker):  # noqa: F811
    someone_else = factories.UserFactory(role=Role.REPRESENTATIVE)
    response = api_as(social_worker).post(url(dp), {"holder": someone_else.pk}, format="json")
    assert response.status_code == 400 and "holder" in response.json()
    assert api_as(social_worker).post(url(dp), {"holder": "x"}, format="json").status_code == 400


def test_the_account_page_offers_the_choice_to_the_social_worker(client, dp, rep, social_worker):  # noqa: F811
    page = f"/budgets/{dp.budget_id}/direct-payment/"
    client.force_login(social_worker)
    assert "Who holds the money" in client.get(page).content.decode()
    response = client.post(page, {"holder": rep.pk})
    assert response.status_code == 302
    assert selectors.fund_get_for(social_worker, dp.budget_id, dp.kind).holder == rep
    client.force_login(rep)
    assert "Record a payment you made" in client.get(page).content.decode()

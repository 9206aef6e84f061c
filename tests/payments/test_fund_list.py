"""The list of direct payments and funds: finance sees every account, a social worker their
clients', a provider the funds it holds, a client none; its figures are summed in the query, so
the page takes the same number of queries however many accounts there are."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

from decimal import Decimal

import pytest
from django.utils import timezone

from payments import selectors
from payments.models import FundAccount, FundKind, Spending
from tests import factories
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401


@pytest.fixture
def loaded(dp, run_payments):
    run_payments()
    Spending.objects.create(account=dp, date=timezone.localdate(), amount=Decimal("60.00"), payee="Jo")
    return dp


def test_finance_sees_the_account_with_its_figures(client, finance_user, loaded):
    client.force_login(finance_user)
    page = client.get("/funds/").content.decode()
    assert "Ruth Ellis" in page and "£1,160.00" in page and "£60.00" in page and "£1,100.00" in page
    assert f"/budgets/{loaded.budget_id}/direct-payment/" in page


def test_each_role_sees_only_the_accounts_it_looks_after(loaded, social_worker, client_user, provider_user):
    assert list(selectors.funds_listed_for(social_worker)) == [loaded]
    assert list(selectors.funds_listed_for(factories.SocialWorkerFactory())) == []
    assert list(selectors.funds_listed_for(client_user)) == []
    assert list(selectors.funds_listed_for(provider_user)) == []
    isf = FundAccount.objects.create(
        budget=loaded.budget,
        kind=FundKind.INDIVIDUAL_SERVICE_FUND,
        holder_provider_id=provider_user.provider_id,
        anchor=loaded.anchor,
    )
    assert list(selectors.funds_listed_for(provider_user)) == [isf]


def test_the_page_takes_the_same_queries_for_one_account_or_many(
    client, finance_user, loaded, make_budget, django_assert_max_num_queries
):
    client.force_login(finance_user)
    with django_assert_max_num_queries(12) as one:
        client.get("/funds/")
    for _ in range(15):
        other = factories.ClientFactory()
        budget = make_budget(other, "5000.00")
        FundAccount.objects.create(budget=budget, kind=FundKind.DIRECT_PAYMENT, holder=other, anchor=loaded.anchor)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get("/funds/").status_code == 200


def test_a_provider_records_what_its_individual_service_fund_spent_on_its_page(loaded, provider_user, client):
    isf = FundAccount.objects.create(
        budget=loaded.budget,
        kind=FundKind.INDIVIDUAL_SERVICE_FUND,
        holder_provider_id=provider_user.provider_id,
        anchor=loaded.anchor,
    )
    page = f"/budgets/{loaded.budget_id}/individual-service-funds/{provider_user.provider_id}/"
    client.force_login(provider_user)

    shown = client.get(page)
    assert shown.status_code == 200 and "Individual service fund" in shown.content.decode()
    assert "Record a payment you made" in shown.content.decode()
    refused = client.post(page, {"date": str(timezone.localdate()), "amount": "10.00", "payee": "Taxi"})
    assert refused.status_code == 409 and "The individual service fund holds £0.00" in refused.content.decode()
    assert not isf.spending.exists()

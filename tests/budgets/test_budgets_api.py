"""GET /api/v1/budgets/, /budgets/{id}/ and /budgets/{id}/ledger/ (API.md, "Budgets";
PRODUCT.md §3): the four figures, who may see a budget, the list's visibility and query count,
and the ledger's transactions with their postings."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from accounts.models import CaseloadAssignment
from budgets.models import PersonalBudget
from budgets.services import ledger
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/budgets/"

VISIBLE_TO = ["client_user", "social_worker", "team_manager", "finance_user", "admin_person"]
HIDDEN_FROM = ["other_client", "other_worker", "other_manager", "case_manager", "provider_user"]


def detail_url(pk):
    return f"{URL}{pk}/"


def ledger_url(pk):
    return f"{URL}{pk}/ledger/"


def gbp(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


@pytest.fixture
def other_team():
    """A second team, with its own manager, social worker and client."""
    worker = factories.SocialWorkerFactory(full_name="Olu Adeyemi")
    team = factories.TeamFactory(name="Other Team", members=[worker])
    client = factories.ClientFactory(full_name="Nia Okafor")
    factories.CaseloadAssignmentFactory(social_worker=worker, client=client)
    return team


@pytest.fixture
def other_worker(other_team):
    return other_team.memberships.get().social_worker


@pytest.fixture
def other_client(other_worker):
    return CaseloadAssignment.objects.get(social_worker=other_worker).client


@pytest.fixture
def other_manager(other_team):
    return other_team.manager


@pytest.fixture
def budget(caseload, client_user, social_worker, make_budget):
    """Ruth's £10,000 budget (Ruth is on Sam's caseload, in Taylor's team)."""
    return make_budget(client_user, "10000.00", assessor=social_worker)


@pytest.fixture
def spent_budget(budget):
    """Ruth's budget with £2,500 committed to a plan, £1,000 of it paid."""
    ledger.commit(budget=budget, amount=Money("2500.00", "GBP"), key=f"test:{budget.pk}:commit")
    ledger.record_payment(budget=budget, amount=Money("1000.00", "GBP"), key=f"test:{budget.pk}:pay")
    return budget


def ids(results):
    return {row["id"] for row in results}


# --- one budget ----------------------------------------------------------------------------------


def test_budget_has_the_fields_of_api_md(api_as, budget, client_user):
    response = api_as(client_user).get(detail_url(budget.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    assert {"id", "client", "period_start", "period_end", "allocated", "committed", "paid", "available"} <= set(body)
    assert body["id"] == budget.pk
    assert body["client"] == client_user.pk
    assert body["period_start"] == budget.period_start.isoformat()
    assert body["period_end"] == budget.period_end.isoformat()
    assert body["allocated"] == gbp("10000.00")
    assert body["committed"] == gbp("0.00")
    assert body["paid"] == gbp("0.00")
    assert body["available"] == gbp("10000.00")


def test_figures_follow_commitments_and_payments(api_as, spent_budget, social_worker):
    body = api_as(social_worker).get(detail_url(spent_budget.pk)).json()
    assert body["allocated"] == gbp("10000.00")
    # Committed includes what has since been paid out of the commitment.
    assert body["committed"] == gbp("2500.00")
    assert body["paid"] == gbp("1000.00")
    assert body["available"] == gbp("7500.00")


def test_available_is_allocated_minus_committed(api_as, spent_budget, finance_user):
    body = api_as(finance_user).get(detail_url(spent_budget.pk)).json()
    amount = {k: float(body[k]["amount"]) for k in ("allocated", "committed", "available")}
    assert amount["available"] == amount["allocated"] - amount["committed"]


def test_a_reclaim_lowers_allocated_and_available(api_as, budget, admin_person):
    ledger.reclaim(budget=budget, amount=Money("1500.00", "GBP"), key=f"test:{budget.pk}:reclaim")
    body = api_as(admin_person).get(detail_url(budget.pk)).json()
    assert body["allocated"] == gbp("8500.00")
    assert body["available"] == gbp("8500.00")
    assert body["committed"] == gbp("0.00")


@pytest.mark.parametrize("name", VISIBLE_TO)
def test_budget_is_visible_to_the_client_their_workers_finance_and_admin(request, api_as, budget, name):
    response = api_as(request.getfixturevalue(name)).get(detail_url(budget.pk))
    assert response.status_code == 200, (name, response.content)
    assert response.json()["id"] == budget.pk


@pytest.mark.parametrize("name", HIDDEN_FROM)
def test_budget_is_hidden_from_everyone_else_404(request, api_as, budget, name):
    response = api_as(request.getfixturevalue(name)).get(detail_url(budget.pk))
    assert response.status_code == 404, (name, response.content)
    assert "detail" in response.json()


def test_budget_is_hidden_from_the_former_social_worker_once_the_client_moves_on(
    api_as, budget, caseload, social_worker
):
    caseload.end_date = timezone.localdate()
    caseload.save()
    assert api_as(social_worker).get(detail_url(budget.pk)).status_code == 404


def test_a_nonexistent_budget_gets_404(api_as, finance_user):
    assert api_as(finance_user).get(detail_url(987654)).status_code == 404


def test_reading_a_budget_without_a_token_gets_401(api, budget):
    assert api.get(detail_url(budget.pk)).status_code == 401


def test_budgets_are_read_only_through_the_api(api_as, budget, admin_person):
    caller = api_as(admin_person)
    assert caller.post(URL, {}, format="json").status_code == 405
    assert caller.delete(detail_url(budget.pk)).status_code == 405
    assert caller.patch(detail_url(budget.pk), {"period_end": "2099-01-01"}, format="json").status_code == 405
    assert PersonalBudget.objects.filter(pk=budget.pk).exists()


# --- the list ------------------------------------------------------------------------------------


@pytest.fixture
def three_budgets(budget, other_client, make_budget):
    """Ruth's (Sam's caseload, Taylor's team), Nia's (another team), and an unallocated client's."""
    unallocated = factories.ClientFactory(full_name="Uma Shah")
    return {
        "ruth": budget,
        "nia": make_budget(other_client, "5000.00"),
        "uma": make_budget(unallocated, "3000.00"),
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("client_user", {"ruth"}),
        ("social_worker", {"ruth"}),
        ("team_manager", {"ruth"}),
        ("finance_user", {"ruth", "nia", "uma"}),
        ("admin_person", {"ruth", "nia", "uma"}),
        ("other_client", {"nia"}),
        ("other_worker", {"nia"}),
        ("other_manager", {"nia"}),
        ("case_manager", set()),
        ("provider_user", set()),
    ],
)
def test_list_holds_only_the_budgets_the_caller_may_see(request, api_as, three_budgets, name, expected):
    response = api_as(request.getfixturevalue(name)).get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == len(expected)
    assert body["next"] is None
    assert body["previous"] is None
    assert ids(body["results"]) == {three_budgets[key].pk for key in expected}


def test_list_rows_carry_the_four_figures(api_as, spent_budget, social_worker):
    (row,) = api_as(social_worker).get(URL).json()["results"]
    assert row["id"] == spent_budget.pk
    assert row["client"] == spent_budget.client_id
    assert row["allocated"] == gbp("10000.00")
    assert row["committed"] == gbp("2500.00")
    assert row["paid"] == gbp("1000.00")
    assert row["available"] == gbp("7500.00")


def test_list_figures_are_per_budget(api_as, three_budgets, finance_user):
    rows = {row["id"]: row for row in api_as(finance_user).get(URL).json()["results"]}
    assert rows[three_budgets["ruth"].pk]["allocated"] == gbp("10000.00")
    assert rows[three_budgets["nia"].pk]["allocated"] == gbp("5000.00")
    assert rows[three_budgets["uma"].pk]["allocated"] == gbp("3000.00")


def test_team_manager_lists_a_client_once_however_many_budgets(
    api_as, budget, client_user, social_worker, team_manager, make_budget
):
    earlier = make_budget(client_user, "4000.00", period_start=budget.period_start - datetime.timedelta(days=365))
    body = api_as(team_manager).get(URL).json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [budget.pk, earlier.pk]


def test_listing_without_a_token_gets_401(api, budget):
    assert api.get(URL).status_code == 401


def _count_queries(caller):
    with CaptureQueriesContext(connection) as queries:
        response = caller.get(URL)
    assert response.status_code == 200
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("name", ["finance_user", "social_worker", "team_manager"])
def test_list_query_count_does_not_grow_with_the_number_of_budgets(
    request, api_as, caseload, team, social_worker, make_budget, django_assert_max_num_queries, name
):
    caller = api_as(request.getfixturevalue(name))

    def client_with_budget():
        client = factories.ClientFactory()
        factories.CaseloadAssignmentFactory(social_worker=social_worker, client=client)
        make_budget(client, "2500.00")

    client_with_budget()
    one, count = _count_queries(caller)
    assert count == 1
    for _ in range(19):
        client_with_budget()
    with django_assert_max_num_queries(one):
        response = caller.get(URL)
    assert response.json()["count"] == 20
    assert len(response.json()["results"]) == 20


# --- the ledger ----------------------------------------------------------------------------------


def test_ledger_lists_the_allocation_with_its_postings(api_as, budget, client_user):
    response = api_as(client_user).get(ledger_url(budget.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 1
    (tx,) = body["results"]
    assert tx["kind"] == "allocation"
    assert isinstance(tx["id"], int)
    postings = {(p["account"], p["amount"]["amount"], p["amount"]["currency"]) for p in tx["postings"]}
    assert postings == {
        ("council:funding", "-10000.00", "GBP"),
        (f"budget:{budget.pk}:available", "10000.00", "GBP"),
    }


def test_ledger_postings_of_every_transaction_sum_to_zero(api_as, spent_budget, finance_user):
    results = api_as(finance_user).get(ledger_url(spent_budget.pk)).json()["results"]
    assert [tx["kind"] for tx in results] == ["allocation", "commitment", "payment"]
    for tx in results:
        assert len(tx["postings"]) >= 2
        assert sum(float(p["amount"]["amount"]) for p in tx["postings"]) == 0


def test_ledger_shows_only_this_budgets_transactions(api_as, three_budgets, finance_user):
    results = api_as(finance_user).get(ledger_url(three_budgets["nia"].pk)).json()["results"]
    assert len(results) == 1
    accounts = {p["account"] for p in results[0]["postings"]}
    assert f"budget:{three_budgets['nia'].pk}:available" in accounts
    assert f"budget:{three_budgets['ruth'].pk}:available" not in accounts


@pytest.mark.parametrize("name", VISIBLE_TO)
def test_ledger_is_visible_to_whoever_may_see_the_budget(request, api_as, budget, name):
    response = api_as(request.getfixturevalue(name)).get(ledger_url(budget.pk))
    assert response.status_code == 200, (name, response.content)
    assert response.json()["count"] == 1


@pytest.mark.parametrize("name", HIDDEN_FROM)
def test_ledger_is_hidden_from_whoever_may_not_see_the_budget_404(request, api_as, budget, name):
    assert api_as(request.getfixturevalue(name)).get(ledger_url(budget.pk)).status_code == 404


def test_ledger_of_a_nonexistent_budget_gets_404(api_as, admin_person):
    assert api_as(admin_person).get(ledger_url(987654)).status_code == 404


def test_ledger_without_a_token_gets_401(api, budget):
    assert api.get(ledger_url(budget.pk)).status_code == 401

"""Object-level access to every direct payment endpoint and page: a representative of another
client (and that client) gets 404 for Ruth's account — reads and writes alike — and nothing changes;
Ruth's own representative gets what Ruth gets."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

import pytest

from accounts.models import AuditEvent
from payments.models import FundPolicy, Recovery, Spending
from tests.accounts.representative_fixtures import representative_of
from tests.factories import ClientFactory
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401

API = "/api/v1/budgets/{b}/"
READS = [
    "direct-payment/",
    "direct-payment/spending/",
    "direct-payment/recoveries/",
    "individual-service-funds/",
]
WRITES = [
    ("direct-payment/spending/", {"date": "2026-01-01", "amount": {"amount": "1.00", "currency": "GBP"}, "payee": "X"}),
    ("direct-payment/recoveries/", {"reason": "Unspent"}),
    ("direct-payment/recoveries/{r}/accept/", {}),
    ("direct-payment/recoveries/{r}/explain/", {"explanation": "Needed"}),
    ("direct-payment/recoveries/{r}/complete/", {}),
    ("direct-payment/recoveries/{r}/withdraw/", {}),
    ("direct-payment/holder/", {"holder": 1}),
    ("direct-payment/card/", {"line1": "1 High St", "city": "Leeds", "postal_code": "LS1 1AA"}),
    ("direct-payment/spending/{s}/", {"description": "x"}),
]
PAGES = ["/budgets/{b}/direct-payment/", "/budgets/{b}/direct-payment/spending/{s}/"]


@pytest.fixture
def world(dp, run_payments, finance_user):
    """Ruth's direct payment, loaded, with an open recovery and a card payment recorded."""
    FundPolicy.objects.update_or_create(pk=1, defaults={"buffer_weeks": 2, "prepaid_cards": True})
    run_payments()
    recovery = Recovery.objects.create(
        account=dp,
        reason="Unspent",
        surplus=870,
        amount=870,
        respond_by="2099-01-01",
        proposed_by=finance_user,
    )
    spending = Spending.objects.create(
        account=dp, date="2026-01-01", amount=5, payee="Shop", card_transaction_id="ipi_x"
    )
    return dp, recovery, spending


@pytest.fixture(params=["other client", "representative of another client"])
def outsider(request):
    other = ClientFactory()
    return other if request.param == "other client" else representative_of(other)


def fill(path: str, world) -> str:
    account, recovery, spending = world
    return path.format(b=account.budget_id, r=recovery.pk, s=spending.pk)


def snapshot():
    return (
        list(Recovery.objects.values_list("status", "amount")),
        list(Spending.objects.values_list("pk", "description")),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("path", READS)
def test_reads_are_404_for_outsiders(api_as, world, outsider, path):
    assert api_as(outsider).get(fill(API + path, world)).status_code == 404


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_writes_are_404_for_outsiders_and_change_nothing(api_as, world, outsider, path, body):
    before = snapshot()
    assert api_as(outsider).post(fill(API + path, world), body, format="json").status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_404_for_outsiders(client, world, outsider, path):
    client.force_login(outsider)
    assert client.get(fill(path, world)).status_code == 404
    assert client.post(fill(path, world), {"recovery": "accept"}).status_code == 404


def test_ruths_representative_sees_and_answers_as_ruth(api_as, world, representative):
    for path in READS[:3]:
        assert api_as(representative).get(fill(API + path, world)).status_code == 200
    answer = api_as(representative).post(fill(API + "direct-payment/recoveries/{r}/accept/", world))
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"

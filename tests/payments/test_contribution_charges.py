"""Contribution charges (docs/charging.md): once a period has ended it is charged — the person's
contribution for it, never more than the care cost — less what their loads already netted, the rest
billed; a later assessment adds a correction, never an edit; finance records money received and
arrears fall; the ledger agrees."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from budgets.models import AccountKind, LedgerAccount
from budgets.services.charging import financial_assessment_record
from payments import selectors, services
from payments.models import ChargeKind, ContributionCharge, ContributionPayment
from tests.accounts.representative_fixtures import representative_of
from tests.factories import ClientFactory
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401

D = Decimal


def gbp(value: str) -> dict:
    return {"amount": value, "currency": "GBP"}


def assess(finance_user, client, weekly: str, date):
    """An assessment giving `weekly` a week (income above the £228.70 pension-age MIG)."""
    return financial_assessment_record(
        actor=finance_user,
        client=client,
        band="pension_age",
        income=[{"kind": "state_pension", "weekly_amount": D("228.70") + D(weekly)}],
        date=date,
    )


def owed() -> Decimal:
    return LedgerAccount.objects.get(code=f"council:{AccountKind.CONTRIBUTIONS_OWED}").balance.amount


def test_a_period_netted_from_the_load_bills_nothing(
    dp, finance_user, run_payments, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, "30.00", dp.anchor)
    run_payments()

    assert services.contributions_charge(budget_id=dp.budget_id) == 1

    charge = ContributionCharge.objects.get()
    # The first 28-day period has ended: 4 weeks × £30.00, all of it taken from the load.
    assert (charge.amount.amount, charge.netted.amount, charge.billed.amount) == (D("120.00"), D("120.00"), D("0.00"))
    assert selectors.contributions_summary(dp.budget.client).arrears.amount == 0
    assert services.contributions_charge(budget_id=dp.budget_id) == 0  # once


def test_what_loads_did_not_net_is_billed_and_finance_records_money_received(
    dp, finance_user, run_payments, api_as, django_capture_on_commit_callbacks
):
    run_payments()  # loads paid gross: no assessment yet
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, "30.00", dp.anchor)

    services.contributions_charge_due()

    body = api_as(dp.budget.client).get(f"/api/v1/clients/{dp.budget.client_id}/contributions/").json()
    assert body["charged"] == gbp("120.00") and body["netted"] == gbp("0.00") and body["billed"] == gbp("120.00")
    assert body["arrears"] == gbp("120.00") and body["charges"][0]["status"] == "billed"
    assert owed() == D("120.00")

    paid = api_as(finance_user).post(
        "/api/v1/contribution-payments/",
        {"client": dp.budget.client_id, "amount": gbp("50.00"), "date": str(dp.anchor), "reference": "Cheque 101"},
        format="json",
    )
    assert paid.status_code == 201
    assert selectors.contributions_summary(dp.budget.client).arrears.amount == D("70.00")
    assert owed() == D("70.00")


def test_a_later_assessment_corrects_a_charge_never_edits_it(
    dp, finance_user, run_payments, django_capture_on_commit_callbacks
):
    run_payments()
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, "30.00", dp.anchor)
    services.contributions_charge_due()
    original = ContributionCharge.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, "20.00", dp.anchor)  # a review found less

    services.contributions_charge_due()

    original.refresh_from_db()
    assert original.amount.amount == D("120.00")  # untouched
    correction = ContributionCharge.objects.get(kind=ChargeKind.CORRECTION)
    assert correction.corrects == original and correction.amount.amount == D("-40.00")
    assert correction.billed.amount == D("-40.00")
    assert selectors.contributions_summary(dp.budget.client).arrears.amount == D("80.00") == owed()
    assert services.contributions_charge_due() == 0


def test_nobody_is_charged_without_an_assessment(dp, run_payments):
    run_payments()
    assert services.contributions_charge_due() == 0 and not ContributionCharge.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": gbp("0.00")}, "amount"),
        ({"date": "2999-01-01"}, "date"),
        ({"reference": "x" * 101}, "reference"),
        ({"reference": "BACS 1234\u202e5678"}, "reference"),  # a right-to-left override
        ({"reference": "BACS\x071234"}, "reference"),  # a control character
    ],
)
def test_a_bad_payment_is_a_400_and_records_nothing(api_as, finance_user, dp, change, field):
    body = {"client": dp.budget.client_id, "amount": gbp("10.00"), "date": str(dp.anchor), **change}
    response = api_as(finance_user).post("/api/v1/contribution-payments/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not ContributionPayment.objects.exists()


def test_who_sees_and_who_records(api_as, dp, finance_user, social_worker, client_user):
    url = f"/api/v1/clients/{client_user.pk}/contributions/"
    assert api_as(social_worker).get(url).status_code == 200
    assert api_as(representative_of(client_user)).get(url).status_code == 200
    assert api_as(ClientFactory()).get(url).status_code == 404
    assert api_as(representative_of(ClientFactory())).get(url).status_code == 404
    body = {"client": client_user.pk, "amount": gbp("10.00"), "date": str(dp.anchor)}
    assert api_as(client_user).post("/api/v1/contribution-payments/", body, format="json").status_code == 403
    assert api_as(social_worker).post("/api/v1/contribution-payments/", body, format="json").status_code == 403
    assert not ContributionPayment.objects.exists()


def test_the_page_shows_each_period_and_finance_records_money_received(
    client, dp, finance_user, run_payments, django_capture_on_commit_callbacks
):
    run_payments()
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, "30.00", dp.anchor)
    services.contributions_charge_due()
    page = f"/clients/{dp.budget.client_id}/contributions/"
    client.force_login(finance_user)
    shown = client.get(page).content.decode()
    assert "£120.00" in shown and "Record money received" in shown
    assert client.post(page, {"amount": "", "date": ""}).status_code == 400
    assert client.post(page, {"amount": "120.00", "date": str(dp.anchor), "reference": "BACS"}).status_code == 302
    assert selectors.contributions_summary(dp.budget.client).arrears.amount == 0
    assert AuditEvent.objects.filter(target_type__model="contributionpayment").count() == 1
    assert "Nobody owes anything" in client.get("/contributions/").content.decode()


def test_the_budget_page_and_statement_show_what_the_person_paid(
    client, dp, finance_user, run_payments, api_as, django_capture_on_commit_callbacks
):
    import io

    from pypdf import PdfReader

    run_payments()
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, "30.00", dp.anchor)
    services.contributions_charge_due()
    api_as(finance_user).post(
        "/api/v1/contribution-payments/",
        {"client": dp.budget.client_id, "amount": gbp("50.00"), "date": str(dp.anchor)},
        format="json",
    )
    client.force_login(dp.budget.client)
    page = client.get(f"/budgets/{dp.budget_id}/").content.decode()
    pdf = client.get(f"/budgets/{dp.budget_id}/statement.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for shown in (page, text):
        assert "£30.00 a week" in shown and "£120.00" in shown and "£50.00" in shown and "£70.00" in shown


def test_the_contributions_page_takes_the_same_queries_however_many_charges(
    client, dp, finance_user, django_assert_max_num_queries
):
    from datetime import timedelta

    from djmoney.money import Money

    def charge(n):
        start = dp.anchor - timedelta(days=28 * n)
        ContributionCharge.objects.create(
            client=dp.budget.client,
            budget=dp.budget,
            period_start=start,
            period_end=start + timedelta(days=27),
            amount=Money(10, "GBP"),
            netted=Money(0, "GBP"),
            billed=Money(10, "GBP"),
        )
        ContributionPayment.objects.create(
            client=dp.budget.client, amount=Money(5, "GBP"), date=start, method="recorded"
        )

    charge(1)
    client.force_login(finance_user)
    page = f"/clients/{dp.budget.client_id}/contributions/"
    with django_assert_max_num_queries(30) as one:
        client.get(page)
    for n in range(2, 12):
        charge(n)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert "£110.00" in client.get(page).content.decode()

"""Transparency spend (docs/open-data.md): each paid payment over £500 to an organisation in a
quarter, in the Transparency Code's fields; never a payment to a person. The fixture quarter's rows
are written out by hand."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
from decimal import Decimal

import pytest
from django.test import Client
from djmoney.money import Money

from careplans.models import MoneyManagement, PlanLine
from payments import transparency
from payments.models import FundAccount, Invoice, Load, Payment, PaymentRun, PaymentStatus
from tests.payments.payment_fixtures import pay_world  # noqa: F401

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
URL = "/api/v1/stats/transparency-spend/"
_days = itertools.count()


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def paid_invoice(world, provider, amount: str, paid_at: datetime.datetime, status=PaymentStatus.PAID) -> Payment:
    """A paid invoice and its payment, built directly in their final state."""
    line = world.lines[provider.pk]
    day = line.start + datetime.timedelta(days=next(_days))
    invoice = Invoice.objects.create(
        line=line,
        plan=world.plan,
        provider=provider,
        period_start=day,
        period_end=day,
        units=Decimal(1),
        unit_price=gbp(amount),
        amount=gbp(amount),
        status="paid",
        submitted_by=world.staff[provider.pk],
    )
    run = PaymentRun.objects.create(gateway="ledger")
    return Payment.objects.create(
        run=run,
        invoice=invoice,
        provider=provider,
        budget=world.budget,
        amount=gbp(amount),
        status=status,
        idempotency_key=f"test-invoice-{invoice.pk}",
        paid_at=paid_at if status != PaymentStatus.FAILED else None,
    )


def paid_load(world, *, kind: str, amount: str, paid_at: datetime.datetime, **holder) -> Payment:
    account, _ = FundAccount.objects.get_or_create(
        budget=world.budget, kind=kind, **holder, defaults={"anchor": world.plan.lines.first().start}
    )
    day = account.anchor + datetime.timedelta(days=28 * next(_days))
    load = Load.objects.create(
        account=account,
        plan=world.plan,
        period_start=day,
        period_end=day + datetime.timedelta(days=27),
        due=day,
        amount=gbp(amount),
        status="paid",
        paid_at=paid_at,
    )
    return Payment.objects.create(
        run=PaymentRun.objects.create(gateway="ledger"),
        kind=kind,
        load=load,
        provider=holder.get("holder_provider"),
        person=holder.get("holder"),
        budget=world.budget,
        amount=gbp(amount),
        status=PaymentStatus.PAID,
        idempotency_key=f"test-load-{load.pk}",
        paid_at=paid_at,
    )


@pytest.fixture
def quarter_payments(pay_world):  # noqa: F811  (pytest fixture by name)
    """2026-Q2 (April to June, UK time) and the payments around it."""
    w = pay_world
    bright, river = w.brightside, w.riverside
    # Riverside holds an individual service fund for its respite line.
    PlanLine.objects.filter(pk=w.lines[river.pk].pk).update(money_management=MoneyManagement.INDIVIDUAL_SERVICE_FUND)
    made = {
        # 23:30 UTC on 31 March is 00:30 on 1 April in London (summer time): in Q2.
        "first": paid_invoice(w, bright, "612.50", datetime.datetime(2026, 3, 31, 23, 30, tzinfo=UTC)),
        "exactly_500": paid_invoice(w, river, "500.00", datetime.datetime(2026, 5, 10, 12, tzinfo=UTC)),
        "just_over": paid_invoice(w, river, "500.01", datetime.datetime(2026, 5, 11, 12, tzinfo=UTC)),
        "reversed": paid_invoice(
            w, bright, "1200.00", datetime.datetime(2026, 5, 12, tzinfo=UTC), status=PaymentStatus.REVERSED
        ),
        "failed": paid_invoice(w, bright, "650.00", datetime.datetime(2026, 5, 13, tzinfo=UTC), PaymentStatus.FAILED),
        # 23:30 UTC on 30 June is 00:30 on 1 July in London: Q3.
        "next_quarter": paid_invoice(w, bright, "700.00", datetime.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)),
        "before": paid_invoice(w, bright, "800.00", datetime.datetime(2026, 3, 31, 22, 59, tzinfo=UTC)),
        "to_a_person": paid_load(
            w,
            kind="direct_payment",
            amount="800.00",
            paid_at=datetime.datetime(2026, 5, 1, 9, tzinfo=UTC),
            holder=w.client,
        ),
        "fund": paid_load(
            w,
            kind="individual_service_fund",
            amount="900.00",
            paid_at=datetime.datetime(2026, 5, 2, 9, tzinfo=UTC),
            holder_provider=river,
        ),
    }
    return made


def row(date: str, beneficiary: str, purpose: str, amount: str, payment: Payment) -> dict:
    return {
        "date": date,
        "department": "Adult Social Care",
        "beneficiary": beneficiary,
        "purpose": purpose,
        "amount": {"amount": amount, "currency": "GBP"},
        "transaction_number": str(payment.pk),
    }


def expected_rows(made) -> list[dict]:
    return [
        row("2026-04-01", "Brightside Care", "Personal care", "612.50", made["first"]),
        row("2026-05-02", "Riverside Centre", "Respite", "900.00", made["fund"]),
        row("2026-05-11", "Riverside Centre", "Respite", "500.01", made["just_over"]),
    ]


def test_the_quarters_rows_are_the_payments_over_500_to_organisations(quarter_payments):
    response = Client().get(URL, {"quarter": "2026-Q2"})
    assert response.status_code == 200
    body = response.json()
    assert body["quarter"] == "2026-Q2"
    assert body["threshold"] == {"amount": "500.00", "currency": "GBP"}
    assert body["results"] == expected_rows(quarter_payments)


def test_a_payment_to_a_person_is_never_listed_whatever_its_size(quarter_payments):
    person_payment = quarter_payments["to_a_person"]
    assert person_payment.person_id is not None and person_payment.amount > gbp("500")
    Payment.objects.filter(pk=person_payment.pk).update(amount=gbp("25000.00"))
    rows = Client().get(URL, {"quarter": "2026-Q2"}).json()["results"]
    assert str(person_payment.pk) not in {row["transaction_number"] for row in rows}
    assert all(row["beneficiary"] in {"Brightside Care", "Riverside Centre"} for row in rows)


def test_the_next_quarter_starts_at_midnight_uk_time(quarter_payments):
    rows = Client().get(URL, {"quarter": "2026-Q3"}).json()["results"]
    assert [(r["date"], r["transaction_number"]) for r in rows] == [
        ("2026-07-01", str(quarter_payments["next_quarter"].pk))
    ]
    q1 = Client().get(URL, {"quarter": "2026-Q1"}).json()["results"]
    assert [r["transaction_number"] for r in q1] == [str(quarter_payments["before"].pk)]


def test_csv_has_the_codes_columns_and_plain_pounds(quarter_payments):
    response = Client().get(URL, {"quarter": "2026-Q2", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="cairn-transparency-spend-2026-Q2.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == ["date", "department", "beneficiary", "purpose", "amount", "transaction_number"]
    expected = [{**r, "amount": r["amount"]["amount"]} for r in expected_rows(quarter_payments)]
    assert rows == expected


@pytest.mark.parametrize("quarter", [None, "", "2026-Q5", "2026Q2", "26-Q1", "Q2-2026", "1999-Q4"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_bad_quarter_is_a_400_with_a_field_message(db, quarter, fmt):
    params = {"format": fmt} | ({"quarter": quarter} if quarter is not None else {})
    response = Client().get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert list(response.json()) == ["quarter"]


def test_quarter_bounds():
    q = transparency.quarter_parse("2026-q4")
    assert (q.first_day, q.last_day, q.next_first_day) == (
        datetime.date(2026, 10, 1),
        datetime.date(2026, 12, 31),
        datetime.date(2027, 1, 1),
    )
    assert transparency.quarter_parse("2026-Q1").previous() == transparency.Quarter(2025, 4)
    assert transparency.quarter_of(datetime.date(2026, 6, 30)) == transparency.Quarter(2026, 2)


def test_queries_do_not_grow_with_payments(quarter_payments, pay_world, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(2):
        assert len(Client().get(URL, {"quarter": "2026-Q2"}).json()["results"]) == 3
    for n in range(10):
        paid_invoice(pay_world, pay_world.riverside, "750.00", datetime.datetime(2026, 6, 1, n, tzinfo=UTC))
        paid_load(
            pay_world,
            kind="individual_service_fund",
            amount="900.00",
            paid_at=datetime.datetime(2026, 6, 2, n, tzinfo=UTC),
            holder_provider=pay_world.riverside,
        )
    with django_assert_max_num_queries(2):
        assert len(Client().get(URL, {"quarter": "2026-Q2"}).json()["results"]) == 23


def test_the_public_page_shows_the_quarter_and_links_the_download(quarter_payments, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = Client().get("/statistics/transparency-spend/", {"quarter": "2026-Q2"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "April to June 2026" in page and "3 payments, £2,012.51 in all" in page
    assert f"{URL}?quarter=2026-Q2&amp;format=csv" in page
    assert page.count('<tr class="govuk-table__row"><td') == 3
    assert "Ruth Ellis" not in page


def test_the_public_page_shows_a_bad_quarter_as_a_form_error(db):
    response = Client().get("/statistics/transparency-spend/", {"quarter": "2026-Q9"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and 'href="#quarter"' in page and "govuk-table" not in page


def test_the_open_data_page_lists_every_dataset_with_its_licence(db):
    response = Client().get("/open-data/")
    assert response.status_code == 200
    page = response.content.decode()
    for address in (
        "/openreferral/",
        "/api/v1/stats/transparency-spend/",
        "/api/v1/stats/spend/",
        "/api/v1/stats/approval-times/",
        "/api/v1/stats/contribution-reviews/",
    ):
        assert f'href="{address}' in page, address
    assert page.count("Open Government Licence v3.0") >= 6
    assert 'href="/open-data/"' in Client().get("/statistics/spend/").content.decode()  # the footer

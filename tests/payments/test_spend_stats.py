"""Open spend statistics (PRODUCT.md §9, API.md "Open statistics"): what was paid to providers by
service category and month, from paid payments only (reversed, failed and unsent ones excluded),
with any group of fewer than 5 payments suppressed — no count and no amount. Public, as JSON,
CSV and a page."""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

import csv
import datetime
import io

import pytest
from django.utils import timezone

from payments import services
from payments.models import Payment, PaymentStatus
from tests.payments.payment_fixtures import pay_world, run_payments  # noqa: F401  (fixtures by name)
from tests.payments.test_load_concurrency import make_dp_holder  # noqa: F401  (fixture by name)

pytestmark = pytest.mark.django_db

API = "/api/v1/stats/spend/"
PAGE = "/statistics/spend/"


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def last_month_moment() -> datetime.datetime:
    """Noon on the 15th of last month, local time: well inside that month."""
    day = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=15)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def spend(pay_world, run_payments):
    """Brightside (personal care, £24.50 each): 5 payments paid last month and 6 this month;
    Riverside (respite, £31.00 each): 2 this month. Returns the world."""
    pay_world.invoices(5)
    run_payments()
    Payment.objects.update(paid_at=last_month_moment())
    pay_world.invoices(6)
    pay_world.invoices(2, pay_world.riverside)
    run_payments()
    assert Payment.objects.filter(status=PaymentStatus.PAID).count() == 13
    return pay_world


def personal_care(month: str, payments, amount) -> dict:
    return {
        "month": month,
        "category": "personal_care",
        "category_label": "Personal care",
        "payments": payments,
        "amount": amount,
        "suppressed": payments is None,
    }


RESPITE_SUPPRESSED = {
    "category": "respite",
    "category_label": "Respite",
    "payments": None,
    "amount": None,
    "suppressed": True,
}


def test_spend_is_summed_by_category_and_month_with_small_groups_suppressed(spend, api):
    response = api.get(API)

    assert response.status_code == 200
    body = response.json()
    assert body["suppressed_below"] == 5
    assert body["currency"] == "GBP"
    assert body["results"] == [
        personal_care(last_month_moment().strftime("%Y-%m"), 5, "122.50"),
        personal_care(this_month(), 6, "147.00"),
        {"month": this_month(), **RESPITE_SUPPRESSED},
    ]


def test_reversed_payments_are_left_out_and_a_group_falling_below_5_is_suppressed(spend, api):
    paid_now = Payment.objects.filter(provider=spend.brightside, status=PaymentStatus.PAID).order_by("-pk")

    services.payment_reverse(payment=paid_now[0], reason="Returned")
    five = api.get(API).json()["results"]
    services.payment_reverse(payment=paid_now[1], reason="Returned")
    four = api.get(API).json()["results"]

    assert personal_care(this_month(), 5, "122.50") in five  # exactly 5: shown
    assert personal_care(this_month(), None, None) in four  # 4: suppressed
    assert personal_care(last_month_moment().strftime("%Y-%m"), 5, "122.50") in four


def test_payments_not_yet_paid_or_failed_are_not_spend(spend, api, finance_user):
    before = api.get(API).json()["results"]
    spend.invoices(3, spend.riverside)
    run = services.payment_run_start(actor=finance_user)  # queued, not sent
    Payment.objects.filter(pk=run.payments.first().pk).update(status=PaymentStatus.FAILED)

    assert api.get(API).json()["results"] == before


def test_spend_is_grouped_by_the_month_it_was_paid(spend, api):
    moved = Payment.objects.filter(provider=spend.riverside)
    assert moved.count() == 2
    moved.update(paid_at=last_month_moment())

    results = api.get(API).json()["results"]

    assert [(r["month"], r["category"]) for r in results] == [
        (last_month_moment().strftime("%Y-%m"), "personal_care"),
        (last_month_moment().strftime("%Y-%m"), "respite"),
        (this_month(), "personal_care"),
    ]


def test_spend_as_csv(spend, api):
    response = api.get(API, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["month", "category", "category_label", "payments", "amount", "suppressed"],
        [last_month_moment().strftime("%Y-%m"), "personal_care", "Personal care", "5", "122.50", "False"],
        [this_month(), "personal_care", "Personal care", "6", "147.00", "False"],
        [this_month(), "respite", "Respite", "", "", "True"],
    ]


def test_spend_page_is_public_and_hides_small_groups(spend, client):
    response = client.get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Where the money goes" in html
    assert "£147.00" in html
    assert "£122.50" in html
    assert "Fewer than 5: not shown" in html
    assert "62.00" not in html  # the suppressed respite total
    assert f'href="{API}?format=csv"' in html
    for name in ("Ruth", "Brightside", "Riverside"):  # nobody identifiable
        assert name not in html


def test_spend_with_nothing_paid(pay_world, api, client):
    assert api.get(API).json()["results"] == []
    assert "Nothing paid yet." in client.get(PAGE).content.decode()
    assert (
        api.get(API, {"format": "csv"}).content.decode() == "month,category,category_label,payments,amount,suppressed\n"
    )


def test_spend_json_names_no_person_or_provider(spend, api):
    text = api.get(API).content.decode()

    for name in ("Ruth", "Brightside", "Riverside", "Sam"):
        assert name not in text


def test_loads_paid_into_a_direct_payment_are_labelled_as_such_not_none(make_dp_holder, run_payments, api, client):
    """A load buys no one service: its category is null, and its label says what it is (it was
    the text "None", on the page too)."""
    holder = make_dp_holder()
    assert len(holder.due) == 2
    run_payments()

    rows = api.get(API).json()["results"]
    loads = [row for row in rows if row["category"] is None]
    assert loads == [
        {
            "month": this_month(),
            "category": None,
            "category_label": "Direct payments and individual service funds",
            "payments": None,
            "amount": None,
            "suppressed": True,
        }
    ]
    page = client.get(PAGE).content.decode()
    assert "Direct payments and individual service funds" in page
    assert ">None<" not in page
    csv_rows = list(csv.DictReader(io.StringIO(api.get(API, {"format": "csv"}).content.decode())))
    assert [row["category_label"] for row in csv_rows if not row["category"]] == [
        "Direct payments and individual service funds"
    ]

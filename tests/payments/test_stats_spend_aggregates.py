"""The spend statistics on stored monthly totals (payments/stats.py) publish exactly what the old
computation — one grouping of every paid payment on each request, kept here as the reference —
publishes on the same data: payments spread over months (either side of a local month boundary),
reversed, failed, moved by bulk updates, and a service changing category; after a rebuild too.
Reads keep a constant number of queries, and the cached answer changes when a payment is paid."""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

import datetime
import random

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from accounts.api.open_data import SUPPRESS_BELOW
from payments import services, stats
from payments.models import Payment, PaymentStatus, SpendChange, SpendMonth
from payments.stats import FUND_LOADS_LABEL
from providers.models import ServiceCategory, ServiceOffering
from tests.payments.payment_fixtures import pay_world, run_payments  # noqa: F401  (fixtures by name)

pytestmark = pytest.mark.django_db

API = "/api/v1/stats/spend/"
PAGE = "/statistics/spend/"


def reference_spend():
    """The computation the stored totals replaced, unchanged but for the fund loads' label (the
    text "None" before)."""
    labels = {**dict(ServiceCategory.choices), None: FUND_LOADS_LABEL}
    rows = (
        Payment.objects.filter(status=PaymentStatus.PAID, paid_at__isnull=False)
        .annotate(month=TruncMonth("paid_at"))
        .values("month", "invoice__line__service__category")
        .annotate(payments=Count("id"), amount=Sum("amount"))
        .order_by("month", "invoice__line__service__category")
    )
    out = []
    for row in rows:
        suppressed = row["payments"] < SUPPRESS_BELOW
        category = row["invoice__line__service__category"]
        out.append(
            {
                "month": row["month"].strftime("%Y-%m"),
                "category": category,
                "category_label": str(labels.get(category, category)),
                "payments": None if suppressed else row["payments"],
                "amount": None if suppressed else f"{row['amount']:.2f}",
                "suppressed": suppressed,
            }
        )
    return out


# Moments either side of local month boundaries: 31 March 23:30 UTC is 1 April 00:30 in London
# (summer time); 31 October 23:30 UTC is still 31 October (winter time).
MOMENTS = [
    datetime.datetime(2025, 3, 31, 22, 59, 59, 999999, tzinfo=datetime.UTC),
    datetime.datetime(2025, 3, 31, 23, 30, tzinfo=datetime.UTC),
    datetime.datetime(2025, 10, 31, 23, 30, tzinfo=datetime.UTC),
    datetime.datetime(2025, 11, 1, 0, 0, tzinfo=datetime.UTC),
]


def spread(payments, rng: random.Random) -> None:
    """Give each payment a paid time somewhere in 2025, some right on a month boundary; saved in
    one bulk update, as payment runs save them."""
    for payment in payments:
        if rng.random() < 0.3:
            payment.paid_at = rng.choice(MOMENTS)
        else:
            payment.paid_at = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
                microseconds=rng.randrange(0, 330 * 86400 * 10**6)
            )
    Payment.objects.bulk_update(payments, ["paid_at"])


@pytest.fixture
def paid(pay_world, run_payments):
    """30 payments to Brightside (personal care) and 14 to Riverside (respite), all paid."""
    pay_world.invoices(30)
    pay_world.invoices(14, pay_world.riverside)
    run_payments()
    assert Payment.objects.filter(status=PaymentStatus.PAID).count() == 44
    return pay_world


def _api(api):
    response = api.get(API)
    assert response.status_code == 200
    return response.json()["results"]


def test_varied_spend_publishes_exactly_the_old_figures(paid, api):
    rng = random.Random(2025)
    spread(list(Payment.objects.order_by("pk")), rng)

    expected = reference_spend()
    assert _api(api) == expected
    assert len({row["month"] for row in expected}) >= 5
    assert any(row["suppressed"] for row in expected) and any(not row["suppressed"] for row in expected)
    assert not SpendChange.objects.exists()


def test_changes_after_the_first_read_keep_the_figures_exact(paid, api):
    rng = random.Random(99)
    payments = list(Payment.objects.order_by("pk"))
    spread(payments, rng)
    assert _api(api) == reference_spend()

    for payment in payments[:3]:  # through the service
        services.payment_reverse(payment=payment, reason="Returned by the bank")
    Payment.objects.filter(pk=payments[3].pk).update(status=PaymentStatus.FAILED)
    spread(payments[10:20], rng)
    Payment.objects.filter(pk=payments[20].pk).update(paid_at=MOMENTS[1])
    assert _api(api) == reference_spend()

    # A service moved to another category: every month it was paid in moves.
    ServiceOffering.objects.filter(pk=paid.lines[paid.riverside.pk].service_id).update(
        category=ServiceCategory.DAY_OPPORTUNITIES
    )
    assert SpendChange.objects.exists()
    assert _api(api) == reference_spend()
    assert not SpendChange.objects.exists()


def test_rebuild_and_check(paid, capsys):
    spread(list(Payment.objects.order_by("pk")), random.Random(4))
    stats.refresh()

    call_command("spend_stats_rebuild", "--check")
    assert "match a full rebuild" in capsys.readouterr().out

    SpendMonth.objects.filter(pk=SpendMonth.objects.order_by("pk").first().pk).update(payments=999)
    with pytest.raises(CommandError, match="differ from a full rebuild"):
        call_command("spend_stats_rebuild", "--check")
    call_command("spend_stats_rebuild")
    assert stats.spend_by_category() == reference_spend()


def test_a_new_payment_shows_up_in_the_cached_answer(pay_world, run_payments, api, client):
    pay_world.invoices(SUPPRESS_BELOW - 1)
    run_payments()
    [row] = _api(api)
    assert row["suppressed"] is True
    assert _api(api) == [row]  # cached
    assert b"Fewer than 5: not shown" in client.get(PAGE).content  # the page's table, cached too

    pay_world.invoices(1)
    run_payments()

    [row] = _api(api)
    assert row["payments"] == SUPPRESS_BELOW and row["suppressed"] is False
    assert _api(api) == reference_spend()
    page = client.get(PAGE).content.decode()
    assert f"£{row['amount']}" in page and "Fewer than 5: not shown" not in page


def test_reads_take_a_constant_number_of_queries(paid, api, client, django_assert_num_queries):
    payments = list(Payment.objects.order_by("pk"))
    spread(payments[:10], random.Random(1))
    stats.refresh()
    with django_assert_num_queries(2):  # any marks? then the stored totals
        few = _api(api)
    with django_assert_num_queries(1):  # cached: only the check for marks
        _api(api)

    spread(payments, random.Random(2))
    stats.refresh()
    with django_assert_num_queries(2):
        assert len(_api(api)) > len(few)
    with django_assert_num_queries(1):
        assert client.get(PAGE).status_code == 200

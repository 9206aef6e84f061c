"""Open statistics on spend: money paid to providers by service category and month, with small
groups suppressed so no one can be picked out.

Why stored aggregates: grouping every paid payment on each request grows with the years of
payments. Instead each month's totals by category are stored (`SpendMonth`, a small table the
endpoint and page read) and a month is worked out again, from its own payments on the `paid_at`
index, only when something in it changed: database triggers leave a `SpendChange` mark (the
`paid_at` concerned) whenever a payment is paid, reversed or moved, or a paid invoice's service
category changes, in the same transaction as the change, so bulk updates count too. Each month's
figures are the same query as before, limited to that month, so the published figures are the same.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.api.open_data import SUPPRESS_BELOW
from accounts.stats_cache import INLINE_LIMIT, bump, cached, lock, refresh_from_marks
from providers.models import ServiceCategory

from .models import Payment, PaymentStatus, SpendChange, SpendMonth

__all__ = [
    "FUND_LOADS_LABEL",
    "SPEND_CSV_FIELDS",
    "SUPPRESS_BELOW",
    "published",
    "rebuild",
    "refresh",
    "spend_by_category",
]

SPEND_CSV_FIELDS = ["month", "category", "category_label", "payments", "amount", "suppressed"]
CACHE_NAME = "spend"


def _totals(payments: QuerySet) -> list[SpendMonth]:
    """Paid payments (reversed ones excluded) by the local month they were paid and category."""
    rows = (
        payments.filter(status=PaymentStatus.PAID, paid_at__isnull=False)
        .annotate(month=TruncMonth("paid_at"))
        .values("month", "invoice__line__service__category")
        .annotate(payments=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    return [
        SpendMonth(
            month=row["month"].strftime("%Y-%m"),
            category=row["invoice__line__service__category"],
            payments=row["payments"],
            amount=row["amount"],
        )
        for row in rows
    ]


def _month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime.datetime, datetime.datetime]:
    """The first moment of a local month ("YYYY-MM") and of the month after."""
    first = datetime.date.fromisoformat(f"{month}-01")
    after = (first + datetime.timedelta(days=32)).replace(day=1)
    return (
        datetime.datetime.combine(first, datetime.time(), zone),
        datetime.datetime.combine(after, datetime.time(), zone),
    )


def _apply(marks: list[tuple[datetime.datetime]]) -> None:
    """Work out again every local month a mark falls in."""
    zone = timezone.get_current_timezone()
    months = {timezone.localtime(paid_at, zone).strftime("%Y-%m") for (paid_at,) in marks}
    for month in sorted(months):
        start, end = _month_bounds(month, zone)
        SpendMonth.objects.filter(month=month).delete()
        SpendMonth.objects.bulk_create(_totals(Payment.objects.filter(paid_at__gte=start, paid_at__lt=end)))


def refresh(*, limit: int | None = None) -> bool:
    """Take in every change marked so far (accounts.stats_cache.refresh_from_marks); a read passes
    `limit`, so it never waits for another refresh or takes in a pile of marks itself."""
    return refresh_from_marks(CACHE_NAME, SpendChange.objects.all(), ["paid_at"], _apply, limit=limit)


def rebuild() -> None:
    """Throw away the stored totals and work every month out again from the payments."""
    with transaction.atomic():
        lock(CACHE_NAME)
        SpendChange.objects.all().delete()
        SpendMonth.objects.all().delete()
        SpendMonth.objects.bulk_create(_totals(Payment.objects.all()), batch_size=2000)
    bump(CACHE_NAME)


FUND_LOADS_LABEL = "Direct payments and individual service funds"


def published() -> list[dict]:
    """What the stored totals publish now, uncached (spend_by_category() caches it). Loads paid
    into a direct payment or an individual service fund buy no one service, so their category is
    null; they are labelled as what they are, where the label was the text "None"."""
    labels = {**dict(ServiceCategory.choices), None: FUND_LOADS_LABEL}
    # Months in order, then categories as the database orders them (blank, for fund loads, last on
    # PostgreSQL and first on SQLite), as the grouping query always gave them.
    out = []
    for row in SpendMonth.objects.order_by("month", "category"):
        suppressed = row.payments < SUPPRESS_BELOW
        out.append(
            {
                "month": row.month,
                "category": row.category,
                "category_label": str(labels.get(row.category, row.category)),
                "payments": None if suppressed else row.payments,
                "amount": None if suppressed else f"{row.amount:.2f}",
                "suppressed": suppressed,
            }
        )
    return out


def spend_by_category() -> list[dict]:
    """Money paid to providers by service category and month (the month it was paid), from paid
    payments (reversed ones excluded). A group of fewer than 5 payments is suppressed: no count,
    no amount. Cached (accounts/stats_cache.py); any marked change is taken in first."""
    refresh(limit=INLINE_LIMIT)
    return cached(CACHE_NAME, published)

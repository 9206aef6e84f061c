"""Open statistics on spend: money paid to providers by service category and month, with small
groups suppressed so no one can be picked out."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from accounts.api.open_data import SUPPRESS_BELOW
from providers.models import ServiceCategory

from .models import Payment, PaymentStatus

__all__ = ["SPEND_CSV_FIELDS", "SUPPRESS_BELOW", "spend_by_category"]

SPEND_CSV_FIELDS = ["month", "category", "category_label", "payments", "amount", "suppressed"]


def spend_by_category() -> list[dict]:
    """Money paid to providers by service category and month (the month it was paid), from paid
    payments (reversed ones excluded). A group of fewer than 5 payments is suppressed: no count,
    no amount."""
    labels = dict(ServiceCategory.choices)
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

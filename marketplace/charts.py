"""Charts of the marketplace's own figures: each provider's client score month by month, for the
case manager's quality dashboard. Here because reviews are the marketplace's; the drawing is
`accounts.charts`'."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, DateField
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts import charts

from .models import Review

TREND_MONTHS = 6


@dataclass(frozen=True)
class MonthScore:
    month: datetime.date
    average: Decimal | None
    reviews: int


@dataclass(frozen=True)
class ProviderTrend:
    provider_id: int
    months: list[MonthScore]
    line: charts.Sparkline

    @property
    def reviews(self) -> int:
        return sum(score.reviews for score in self.months)


def trend_months(today: datetime.date, count: int = TREND_MONTHS) -> list[datetime.date]:
    """The first days of the last `count` months, this one last."""
    months = [today.replace(day=1)]
    while len(months) < count:
        months.insert(0, (months[0] - datetime.timedelta(days=1)).replace(day=1))
    return months


def provider_trends(provider_ids: list[int], today: datetime.date | None = None) -> dict[int, ProviderTrend]:
    """Each provider's average score (the reviews that count: not hidden) in each of the last
    `TREND_MONTHS` months, to one decimal place, with how many reviews it is of (one query)."""
    months = trend_months(today or timezone.localdate())
    since = timezone.make_aware(datetime.datetime.combine(months[0], datetime.time.min))
    rows = (
        Review.objects.filter(provider_id__in=provider_ids, hidden=False, created_at__gte=since)
        .annotate(month=TruncMonth("created_at", output_field=DateField()))
        .values("provider_id", "month")
        .annotate(average=Avg("rating"), reviews=Count("id"))
        .values_list("provider_id", "month", "average", "reviews")
        .order_by()
    )
    found: dict[tuple[int, datetime.date], tuple[Decimal, int]] = {}
    for provider_id, month, average, reviews in rows:
        month = month.date() if isinstance(month, datetime.datetime) else month
        found[(provider_id, month)] = (
            Decimal(str(average)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
            reviews,
        )
    trends = {}
    for provider_id in provider_ids:
        scores = [MonthScore(m, *found.get((provider_id, m), (None, 0))) for m in months]
        said = [f"{s.month:%B}: {s.average}" for s in scores if s.average is not None]
        label = "Average score by month, " + ("; ".join(said) if said else "no reviews in these months")
        trends[provider_id] = ProviderTrend(
            provider_id,
            scores,
            charts.sparkline([s.average for s in scores], label=label, low=1, high=5),
        )
    return trends

"""Open statistics of the budgets app: how long finance takes to answer a request to review a
financial assessment, by month answered (docs/api.md, "Open statistics"). Months with fewer than
`SUPPRESS_BELOW` answers show no figures, so no one can be picked out."""

from __future__ import annotations

import statistics

from django.utils import timezone

from accounts.api.open_data import SUPPRESS_BELOW

from .models import ContributionReview, ReviewStatus

REVIEW_CSV_FIELDS = ["month", "answered", "median_days", "on_time_percent", "suppressed"]


def review_times_by_month() -> list[dict]:
    """One row per month with answers: how many, the median days from request to answer, and the
    share answered by the deadline (whole percent)."""
    months: dict[str, list[tuple[int, bool]]] = {}
    rows = ContributionReview.objects.filter(status=ReviewStatus.COMPLETED, completed_at__isnull=False).values_list(
        "requested_at", "completed_at", "due"
    )
    for requested, completed, due in rows.iterator():
        answered_on = timezone.localdate(completed)
        days = (answered_on - timezone.localdate(requested)).days
        months.setdefault(f"{answered_on:%Y-%m}", []).append((days, answered_on <= due))
    results = []
    for month in sorted(months):
        answers = months[month]
        if len(answers) < SUPPRESS_BELOW:
            results.append(
                {"month": month, "answered": None, "median_days": None, "on_time_percent": None, "suppressed": True}
            )
            continue
        results.append(
            {
                "month": month,
                "answered": len(answers),
                "median_days": statistics.median(days for days, _ in answers),
                "on_time_percent": round(100 * sum(1 for _, on_time in answers if on_time) / len(answers)),
                "suppressed": False,
            }
        )
    return results

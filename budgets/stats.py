"""Open statistics of the budgets app: how long finance takes to answer a request to review a
financial assessment, by month answered (docs/api.md, "Open statistics"). Months with fewer than
`SUPPRESS_BELOW` answers show no figures, so no one can be picked out.

Why no stored aggregate here: requests to review an assessment are few (a person asks at most a
few times a year), so the answer comes straight from the reviews themselves, reading three columns
of answered ones. It is cached like the other open statistics (accounts/stats_cache.py); a review
saved or deleted bumps the cache version, at once and again when its transaction commits."""

from __future__ import annotations

import statistics

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.api.open_data import SUPPRESS_BELOW
from accounts.stats_cache import bump_now_and_on_commit, cached

from .models import ContributionReview, ReviewStatus

REVIEW_CSV_FIELDS = ["month", "answered", "median_days", "on_time_percent", "suppressed"]
CACHE_NAME = "contribution-reviews"


@receiver(post_save, sender=ContributionReview, dispatch_uid="budgets.stats.review_saved")
@receiver(post_delete, sender=ContributionReview, dispatch_uid="budgets.stats.review_deleted")
def _review_changed(sender, **kwargs) -> None:
    bump_now_and_on_commit(CACHE_NAME)


def review_times_by_month() -> list[dict]:
    """One row per month with answers: how many, the median days from request to answer, and the
    share answered by the deadline (whole percent). Cached."""
    return cached(CACHE_NAME, _review_times)


def _review_times() -> list[dict]:
    months: dict[str, list[tuple[int, bool]]] = {}
    rows = ContributionReview.objects.filter(status=ReviewStatus.COMPLETED, completed_at__isnull=False).values_list(
        "requested_at", "completed_at", "due"
    )
    # Read in one statement: `.iterator()` would open a server-side cursor on PostgreSQL (DECLARE,
    # FETCH, CLOSE: three round trips, and WITH HOLD outside a transaction) for rows that are few.
    for requested, completed, due in rows:
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

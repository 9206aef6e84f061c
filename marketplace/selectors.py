"""Reads about reviews and the case manager's quality dashboard."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from providers.models import Provider, RegulatorRating

from .models import ProviderRatingSummary, RatingPolicy, Review


def provider_reviews_for(user: User, provider: Provider) -> QuerySet[Review]:
    """The provider's visible reviews, plus the user's own hidden ones (marked), newest first."""
    return (
        Review.objects.filter(provider=provider)
        .filter(Q(hidden=False) | Q(author_id=user.pk))
        .select_related("author")
        .order_by("-created_at", "-pk")
    )


def rating_summary(provider: Provider) -> ProviderRatingSummary | None:
    return ProviderRatingSummary.objects.filter(provider=provider).first()


def providers_by_score(limit: int = 200) -> list[Provider]:
    return list(Provider.objects.filter(review_count__gt=0).order_by("rating", "-review_count", "name")[:limit])


def falling_providers(policy: RatingPolicy, today: datetime.date | None = None) -> list[dict]:
    """Providers whose mean over the last 90 days is at least `falling_drop` below the 90 days
    before, each window with at least `falling_min_reviews` visible reviews (one query)."""
    now = timezone.now() if today is None else timezone.make_aware(datetime.datetime.combine(today, datetime.time.max))
    recent_from, before_from = now - datetime.timedelta(days=90), now - datetime.timedelta(days=180)
    rows = (
        Review.objects.filter(hidden=False, created_at__gt=before_from, created_at__lte=now)
        .values("provider_id", "provider__name")
        .annotate(
            recent=Avg("rating", filter=Q(created_at__gt=recent_from)),
            recent_n=Count("id", filter=Q(created_at__gt=recent_from)),
            before=Avg("rating", filter=Q(created_at__lte=recent_from)),
            before_n=Count("id", filter=Q(created_at__lte=recent_from)),
        )
    )
    falling = []
    for row in rows:
        if row["recent_n"] < policy.falling_min_reviews or row["before_n"] < policy.falling_min_reviews:
            continue
        recent, before = Decimal(str(row["recent"])), Decimal(str(row["before"]))
        if before - recent >= policy.falling_drop:
            falling.append(
                {
                    "provider_id": row["provider_id"],
                    "name": row["provider__name"],
                    "recent": recent.quantize(Decimal("0.01")),
                    "before": before.quantize(Decimal("0.01")),
                    "recent_n": row["recent_n"],
                    "before_n": row["before_n"],
                }
            )
    return sorted(falling, key=lambda r: r["recent"] - r["before"])


def low_rated(policy: RatingPolicy) -> QuerySet[Provider]:
    return Provider.objects.filter(rating__lt=policy.low_rating_threshold, review_count__gt=0).order_by("rating")


def regulator_disagreements() -> QuerySet[Provider]:
    """Client score and regulator rating tell different stories: regulator Outstanding or Good but
    a score under 3, or regulator Inadequate but a score over 4."""
    good = [RegulatorRating.OUTSTANDING, RegulatorRating.GOOD]
    return Provider.objects.filter(
        Q(regulator_rating__in=good, rating__lt=3) | Q(regulator_rating=RegulatorRating.INADEQUATE, rating__gt=4),
        review_count__gt=0,
    ).order_by("name")


def spend_by_provider() -> dict[int, Decimal]:
    """Money paid to each provider (paid payments), for the dashboard."""
    from payments.models import Payment, PaymentStatus

    rows = Payment.objects.filter(status=PaymentStatus.PAID).values("provider_id").annotate(total=Sum("amount"))
    return {row["provider_id"]: row["total"] for row in rows}


def reviews_for_moderation(*, hidden: bool | None = None) -> QuerySet[Review]:
    reviews = Review.objects.select_related("provider", "author", "hidden_by").order_by("-created_at", "-pk")
    return reviews if hidden is None else reviews.filter(hidden=hidden)


def review_again_from(user: User, provider: Provider, policy: RatingPolicy) -> datetime.date | None:
    """When the user may next review the provider (None: now), by the policy's waiting period."""
    last = Review.objects.filter(author_id=user.pk, provider=provider).order_by("-created_at").first()
    if last is None:
        return None
    again = last.created_at + datetime.timedelta(days=policy.review_interval_days)
    return timezone.localdate(again) if again > timezone.now() else None

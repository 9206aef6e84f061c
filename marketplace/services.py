"""Writes about reviews and ratings (docs/ratings.md). Every write updates the provider's rating
summary, the totals of all reviews and the stored Bayesian score in the same transaction, and is
audited."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, Role, User
from accounts.permissions import has_role
from accounts.services import audit_record
from providers.models import Provider
from providers.services import provider_rating_update, provider_ratings_store

from .models import DIMENSIONS, ProviderRatingSummary, RatingPolicy, Review, ReviewTotals
from .permissions import can_answer_review, can_moderate_reviews, has_used_provider


class ReviewTooSoon(StateConflict):
    default_message = "You have reviewed this provider recently."


def rating_policy() -> RatingPolicy:
    policy, _ = RatingPolicy.objects.get_or_create(pk=1)
    return policy


def _stars(value, name: str, problems: dict, *, required: bool) -> int | None:
    if value in (None, ""):
        if required:
            problems[name] = ["Give a rating from 1 to 5 stars."]
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if str(value).strip() not in {"1", "2", "3", "4", "5"} or not 1 <= number <= 5:
        problems[name] = ["Give a whole number of stars from 1 to 5."]
        return None
    return number


def review_create(
    *, actor: User, provider: Provider, rating, text: str, request=None, now: datetime.datetime | None = None, **dims
) -> Review:
    """A client reviews a provider they have used. Enforces: a client with, or who had, an approved
    plan line with the provider (403, saying why); 1–5 stars, optional 1–5 dimension scores and
    some text (400); not within the policy's days of their last review of it (409, saying when).
    Locks the provider's summary row; refreshes its score."""
    if not has_role(actor, Role.CLIENT):
        raise ActionNotAllowed("Only people who use a provider's services can review it.")
    if not has_used_provider(actor, provider):
        raise ActionNotAllowed(
            "You can review a provider once you have had support from it under an approved care plan."
        )
    unknown = set(dims) - set(DIMENSIONS)
    if unknown:
        raise InvalidInput(f"Unknown scores: {', '.join(sorted(unknown))}.")
    problems: dict[str, list[str]] = {}
    stars = _stars(rating, "rating", problems, required=True)
    scores = {name: _stars(dims.get(name), name, problems, required=False) for name in DIMENSIONS}
    text = (text or "").strip()
    if not text:
        problems["text"] = ["Say something about the support you had."]
    elif len(text) > 5000:
        problems["text"] = ["Keep the review under 5,000 characters."]
    if problems:
        raise InvalidInput(errors=problems)
    now = now or timezone.now()
    days = rating_policy().review_interval_days
    with transaction.atomic():
        summary = _locked_summary(provider)
        last = Review.objects.filter(author=actor, provider=provider).order_by("-created_at").first()
        if last is not None and now < last.created_at + datetime.timedelta(days=days):
            again = timezone.localdate(last.created_at + datetime.timedelta(days=days))
            raise ReviewTooSoon(
                f"You reviewed {provider.name} on {timezone.localdate(last.created_at):%-d %B %Y}. "
                f"You can review it again from {again:%-d %B %Y}."
            )
        review = Review.objects.create(
            provider=provider, author=actor, rating=stars, text=text, created_at=now, **scores
        )
        _count_review(summary, stars, 1)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=review,
            request=request,
            changes={"provider": provider.pk, "rating": stars},
        )
    return review


def review_answer(*, actor: User, review: Review, text: str, request=None) -> Review:
    """The provider answers a review publicly, once (409 the second time)."""
    if not can_answer_review(actor, review):
        raise NotVisible("No such review.")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Write your answer.", field="text")
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.answered_at is not None:
            raise StateConflict("This review has already been answered; an answer is given once.")
        review.answer = text[:5000]
        review.answered_by = actor
        review.answered_at = timezone.now()
        review.save(update_fields=["answer", "answered_by", "answered_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, target=review, request=request, changes={"answer": True})
    return review


def review_hide(*, actor: User, review: Review, reason: str, request=None) -> Review:
    """A case manager hides a review, saying why (400 without a reason; 409 if already hidden).
    The review leaves the provider's score; its author still sees it, marked hidden."""
    if not can_moderate_reviews(actor):
        raise ActionNotAllowed("Only case managers moderate reviews.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give the reason for hiding the review.", field="reason")
    with transaction.atomic():
        summary = _locked_summary(review.provider)
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.hidden:
            raise StateConflict("This review is already hidden.")
        review.hidden, review.hidden_reason, review.hidden_by, review.hidden_at = (
            True,
            reason[:500],
            actor,
            timezone.now(),
        )
        review.save(update_fields=["hidden", "hidden_reason", "hidden_by", "hidden_at"])
        _count_review(summary, review.rating, -1)
        audit_record(actor=actor, action=AuditAction.UPDATE, target=review, request=request, message=reason,
                     changes={"hidden": True})  # fmt: skip
    return review


def review_restore(*, actor: User, review: Review, request=None) -> Review:
    """A case manager shows a hidden review again (409 if it is not hidden); it counts again."""
    if not can_moderate_reviews(actor):
        raise ActionNotAllowed("Only case managers moderate reviews.")
    with transaction.atomic():
        summary = _locked_summary(review.provider)
        review = Review.objects.select_for_update().get(pk=review.pk)
        if not review.hidden:
            raise StateConflict("This review is not hidden.")
        review.hidden, review.hidden_reason, review.hidden_by, review.hidden_at = False, "", None, None
        review.save(update_fields=["hidden", "hidden_reason", "hidden_by", "hidden_at"])
        _count_review(summary, review.rating, 1)
        audit_record(actor=actor, action=AuditAction.UPDATE, target=review, request=request, changes={"hidden": False})
    return review


def _locked_summary(provider: Provider) -> ProviderRatingSummary:
    ProviderRatingSummary.objects.get_or_create(provider=provider)
    return ProviderRatingSummary.objects.select_for_update().select_related("provider").get(provider=provider)


def _locked_totals() -> ReviewTotals:
    """The running sums of every visible review, locked. A database flushed since the migration
    has no row: it starts from the summaries, before this write changes one of them."""
    totals = ReviewTotals.objects.select_for_update().filter(pk=1).first()
    if totals is None:
        figures = _summed_summaries()
        ReviewTotals.objects.get_or_create(pk=1, defaults=figures)
        totals = ReviewTotals.objects.select_for_update().get(pk=1)
    return totals


def _summed_summaries() -> dict[str, int]:
    figures = ProviderRatingSummary.objects.aggregate(total=Sum("total"), count=Sum("count"))
    return {"count": figures["count"] or 0, "total": figures["total"] or 0}


def prior_mean() -> Decimal | None:
    """The mean star rating over every visible review (the Bayesian prior), from the summaries."""
    figures = _summed_summaries()
    return Decimal(figures["total"]) / figures["count"] if figures["count"] else None


def bayesian(total: int, count: int, prior: Decimal | None, weight: Decimal) -> Decimal | None:
    """(C·m + sum) / (C + n), to two places; None with no reviews."""
    if not count:
        return None
    m = prior if prior is not None else Decimal(total) / count
    return ((weight * m + total) / (weight + count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _count_review(summary: ProviderRatingSummary, stars: int, change: int) -> None:
    """One visible review of `stars` comes in (`change` 1) or goes out (-1): add it to the
    provider's summary and to the totals, and store the provider's score with the prior they give.

    Running sums, not a recount: the old recount read all of a provider's reviews and every summary
    on each write (49–59 ms p95 for a provider with 21,853 reviews, bench/search.py). The caller
    holds the summary's lock and changes the review in the same transaction, so the sums stay exact.
    """
    totals = _locked_totals()
    summary.count += change
    summary.total += change * stars
    setattr(summary, f"stars_{stars}", getattr(summary, f"stars_{stars}") + change)
    summary.save()
    totals.count += change
    totals.total += change * stars
    totals.save(update_fields=["count", "total"])
    provider_rating_update(
        provider=summary.provider,
        rating=bayesian(summary.total, summary.count, totals.prior, rating_policy().bayesian_weight),
        review_count=summary.count,
    )


REFRESH_CHUNK = 5000  # providers per transaction in the nightly refresh


def ratings_refresh_all() -> int:
    """Every provider's score with today's prior (the nightly job: the prior drifts as reviews
    come in). Returns how many providers have reviews.

    First the totals are recomputed from the summaries, so a drift in the running sums lasts a day
    at most. Then the summaries are read in chunks of `REFRESH_CHUNK` by provider id, each chunk
    locked while its scores are computed (with `bayesian`, as on every write: the same scores to
    the penny) and stored in one statement — a review written meanwhile waits, then stores a score
    of its own, which is never overwritten by one computed before it. One locked UPDATE per
    provider took 349 s for 54,252 providers (bench/search.py)."""
    weight = rating_policy().bayesian_weight
    with transaction.atomic():
        totals = _locked_totals()
        for name, value in _summed_summaries().items():
            setattr(totals, name, value)
        totals.save(update_fields=["count", "total"])
    prior = totals.prior
    rated, after = 0, 0
    while True:
        with transaction.atomic():
            chunk = list(
                ProviderRatingSummary.objects.select_for_update()
                .filter(provider_id__gt=after)
                .order_by("provider_id")
                .values_list("provider_id", "count", "total")[:REFRESH_CHUNK]
            )
            if not chunk:
                return rated
            provider_ratings_store(
                scores={pid: (bayesian(total, count, prior, weight), count) for pid, count, total in chunk}
            )
        after = chunk[-1][0]
        rated += sum(1 for _, count, _ in chunk if count)

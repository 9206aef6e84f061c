"""The scores kept by running sums on each review change, and the nightly refresh in chunks, against
the old computation (docs/ratings.md): every provider's visible reviews recounted, the prior taken
from every visible review, one provider at a time. All three must give the same score to the penny.

Reviews are written through the services by clients whose approved plans buy from every provider,
with stars drawn at random (seeded) and some hidden and restored by a case manager."""
# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

from __future__ import annotations

import datetime
import random
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace import services as review_services
from marketplace.models import ProviderRatingSummary, Review, ReviewTotals
from marketplace.services import bayesian, ratings_refresh_all, review_create, review_hide, review_restore
from providers.models import Provider
from providers.services import provider_ratings_store
from tests import factories
from tests.careplans.conftest import make_budget, make_provider, make_service  # noqa: F401
from tests.marketplace.review_fixtures import TEXT, plan_with, set_policy

pytestmark = pytest.mark.django_db

PROVIDERS = 6
CLIENTS = 4
ROUNDS = 3  # each client reviews each provider up to once per round, 91 days apart


def old_score(provider_id: int, weight: Decimal) -> tuple[Decimal | None, int]:
    """The computation the running sums replaced: recount the provider's visible reviews and take
    the prior from every visible review, now."""
    everyone = Review.objects.filter(hidden=False).aggregate(total=Sum("rating"), count=Count("id"))
    prior = Decimal(everyone["total"]) / everyone["count"] if everyone["count"] else None
    own = Review.objects.filter(provider_id=provider_id, hidden=False).aggregate(total=Sum("rating"), count=Count("id"))
    return bayesian(own["total"] or 0, own["count"], prior, weight), own["count"]


def stored(provider_id: int) -> tuple[Decimal | None, int]:
    return Provider.objects.filter(pk=provider_id).values_list("rating", "review_count").get()


def recounted_summary(provider_id: int) -> dict:
    visible = Review.objects.filter(provider_id=provider_id, hidden=False)
    figures = visible.aggregate(
        count=Count("id"), total=Sum("rating"), **{f"stars_{n}": Count("id", filter=Q(rating=n)) for n in range(1, 6)}
    )
    figures["total"] = figures["total"] or 0
    return figures


@pytest.fixture
def market(make_budget, make_provider, make_service, social_worker):
    """Six verified providers, each with one service, and four clients whose approved plans buy
    from all of them (so each may review each)."""
    providers = [make_provider(name=f"Provider {n}") for n in range(PROVIDERS)]
    services = [make_service(f"Support {n}", "20.00", provider=p) for n, p in enumerate(providers)]
    clients = [factories.ClientFactory(full_name=f"Client {n}") for n in range(CLIENTS)]
    for client in clients:
        plan_with(make_budget, client, social_worker, services)
    return providers, clients


@pytest.mark.parametrize(("seed", "weight"), [(1, Decimal("5")), (7, Decimal("2.5")), (42, Decimal("3"))])
def test_running_sums_the_nightly_refresh_and_the_old_recount_give_the_same_scores(market, case_manager, seed, weight):
    providers, clients = market
    set_policy(bayesian_weight=weight)
    rng = random.Random(seed)
    # Each provider has a quality of its own; a few are reviewed by only some clients.
    quality = {p.pk: rng.choice([1.5, 2.5, 3.5, 4.2, 4.8]) for p in providers}
    start = timezone.now() - datetime.timedelta(days=91 * ROUNDS)
    written: list[Review] = []
    for round_ in range(ROUNDS):
        when = start + datetime.timedelta(days=91 * round_)
        for client in clients:
            for provider in rng.sample(providers, rng.randint(2, PROVIDERS)):
                stars = min(5, max(1, round(rng.gauss(quality[provider.pk], 1.2))))
                written.append(review_create(actor=client, provider=provider, rating=stars, text=TEXT, now=when))
                # The write stored this provider's score with the prior of that moment.
                assert stored(provider.pk) == old_score(provider.pk, weight)
        for review in rng.sample(written, 3):
            if review.hidden:
                review = review_restore(actor=case_manager, review=review)
            else:
                review = review_hide(actor=case_manager, review=review, reason="Names a carer.")
            written[written.index(review)] = review
            assert stored(review.provider_id) == old_score(review.provider_id, weight)

    for provider in providers:
        summary = ProviderRatingSummary.objects.filter(provider=provider).values(*recounted_summary(provider.pk)).get()
        assert summary == recounted_summary(provider.pk)
    everyone = Review.objects.filter(hidden=False).aggregate(total=Sum("rating"), count=Count("id"))
    assert ReviewTotals.objects.values("count", "total").get(pk=1) == everyone

    # Other providers' scores were stored with older priors; the nightly refresh brings all to now.
    rated = ratings_refresh_all()
    assert rated == Review.objects.filter(hidden=False).values("provider").distinct().count()
    for provider in providers:
        assert stored(provider.pk) == old_score(provider.pk, weight)


def test_hiding_a_providers_only_review_leaves_it_unrated_and_the_refresh_agrees(market, case_manager):
    providers, clients = market
    only = review_create(actor=clients[0], provider=providers[0], rating=2, text=TEXT)
    review_create(actor=clients[1], provider=providers[1], rating=5, text=TEXT)
    review_hide(actor=case_manager, review=only, reason="Names a carer.")
    assert stored(providers[0].pk) == (None, 0)
    assert ratings_refresh_all() == 1
    assert stored(providers[0].pk) == (None, 0)
    assert stored(providers[1].pk) == old_score(providers[1].pk, Decimal("5"))


def test_the_nightly_refresh_corrects_totals_that_drifted(market):
    providers, clients = market
    review_create(actor=clients[0], provider=providers[0], rating=1, text=TEXT)
    review_create(actor=clients[1], provider=providers[1], rating=5, text=TEXT)
    ReviewTotals.objects.filter(pk=1).update(count=1000, total=5000)  # as if written outside the services
    ratings_refresh_all()
    assert ReviewTotals.objects.values_list("count", "total").get(pk=1) == (2, 6)
    for provider in providers[:2]:
        assert stored(provider.pk) == old_score(provider.pk, Decimal("5"))


def test_a_write_without_the_totals_row_starts_it_from_the_summaries(market):
    providers, clients = market
    review_create(actor=clients[0], provider=providers[0], rating=4, text=TEXT)
    ReviewTotals.objects.all().delete()  # a database flushed since the migration
    review_create(actor=clients[1], provider=providers[1], rating=2, text=TEXT)
    assert ReviewTotals.objects.values_list("count", "total").get(pk=1) == (2, 6)
    assert stored(providers[1].pk) == old_score(providers[1].pk, Decimal("5"))


def test_the_nightly_refresh_works_in_chunks_and_writes_only_changed_scores(
    market, monkeypatch, django_assert_max_num_queries
):
    providers, clients = market
    for client in clients:
        for provider in providers:
            review_create(actor=client, provider=provider, rating=1 + (client.pk + provider.pk) % 5, text=TEXT)
    monkeypatch.setattr(review_services, "REFRESH_CHUNK", 4)
    Provider.objects.filter(pk=providers[0].pk).update(rating=Decimal("1.00"), review_count=99)
    # Policy, totals (lock, sum, save), then per chunk of 4: summaries and stores (and an empty last read).
    with django_assert_max_num_queries(19):
        assert ratings_refresh_all() == PROVIDERS
    for provider in providers:
        assert stored(provider.pk) == old_score(provider.pk, Decimal("5"))
    # A second run finds nothing to change.
    assert provider_ratings_store(scores={p.pk: stored(p.pk) for p in providers}) == 0


def test_a_review_writes_queries_do_not_grow_with_the_providers_reviews(market, case_manager):
    providers, clients = market
    provider = providers[0]
    review_create(actor=clients[0], provider=provider, rating=3, text=TEXT)  # makes the summary

    def queries_of(call) -> int:
        with CaptureQueriesContext(connection) as queries:
            call()
        return len(queries.captured_queries)

    second = queries_of(lambda: review_create(actor=clients[1], provider=provider, rating=4, text=TEXT))
    fourth = [
        queries_of(lambda client=client: review_create(actor=client, provider=provider, rating=5, text=TEXT))
        for client in clients[2:]
    ]
    assert fourth == [second, second]
    last = Review.objects.filter(provider=provider).order_by("-pk").first()
    # No query reads the provider's reviews or every summary: the sums are kept, not recounted.
    for change in (
        lambda: review_create(actor=clients[0], provider=providers[1], rating=2, text=TEXT),
        lambda: review_hide(actor=case_manager, review=last, reason="Names a carer."),
        lambda: review_restore(actor=case_manager, review=last),
    ):
        with CaptureQueriesContext(connection) as queries:
            change()
        sums = [q["sql"] for q in queries.captured_queries if re.search(r"\b(SUM|COUNT)\(", q["sql"].upper())]
        assert sums == []


def test_the_refresh_stores_no_score_for_providers_whose_reviews_are_all_hidden(market, case_manager):
    providers, clients = market
    hidden = [review_create(actor=clients[0], provider=p, rating=4, text=TEXT) for p in providers[:2]]
    for review in hidden:
        review_hide(actor=case_manager, review=review, reason="Names a carer.")
    # A stale score (as if stored before the reviews were hidden): the only rows to change have no score.
    Provider.objects.filter(pk__in=[p.pk for p in providers[:2]]).update(rating=Decimal("4.00"), review_count=1)
    assert ratings_refresh_all() == 0
    assert [stored(p.pk) for p in providers[:2]] == [(None, 0), (None, 0)]

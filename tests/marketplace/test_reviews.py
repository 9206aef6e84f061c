"""Verified reviews and the ratings built from them (PRODUCT.md §7; API.md "Reviews" and "Providers
and services"): who may review, what a review must say, one review per provider per 90 days, the
provider's single public answer, the Bayesian score against hand-computed values, moderation, the
catalogue's rating ordering and filter, and the review prompt on an approved plan."""

# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.exceptions import ActionNotAllowed, InvalidInput
from accounts.models import AuditEvent, Role
from careplans.models import PlanStatus
from marketplace import services as review_services
from marketplace.models import ProviderRatingSummary, Review
from marketplace.services import ReviewTooSoon, ratings_refresh_all, review_create, review_hide, review_restore
from providers.models import Provider, ServiceOffering
from tests import factories
from tests.careplans.conftest import make_budget, make_provider, make_service  # noqa: F401
from tests.marketplace.review_fixtures import (
    TEXT,
    bayes,
    days_ago,
    plan_with,
    reload,
    review,
    set_policy,
    snapshot,
)

pytestmark = pytest.mark.django_db

NOT_USED = "once you have had support from it under an approved care plan"


@dataclass
class World:
    """Ruth (on Sam's caseload) has an approved plan buying Brightside Care's home care visits, and
    a rejected one that would have bought Riverside Centre's respite. Nobody has ever bought from
    "Never Used Care". `staff` work for Brightside, `other_staff` for Riverside."""

    client: object
    social_worker: object
    brightside: Provider
    riverside: Provider
    unused: Provider
    visits: ServiceOffering
    respite: ServiceOffering
    gardening: ServiceOffering
    plan: object
    rejected: object
    staff: object
    other_staff: object


@pytest.fixture
def world(make_budget, make_provider, make_service, client_user, social_worker, caseload):
    brightside = make_provider(name="Brightside Care", regulator_rating="good")
    riverside = make_provider(name="Riverside Centre", regulator_rating="outstanding")
    unused = make_provider(name="Never Used Care")
    visits = make_service("Home care visits", "24.50", provider=brightside)
    respite = make_service("Respite breaks", "30.00", provider=riverside, unit="night")
    gardening = make_service("Gardening help", "15.00", provider=unused)
    plan = plan_with(make_budget, client_user, social_worker, [visits])
    rejected = plan_with(make_budget, client_user, social_worker, [respite], status=PlanStatus.REJECTED)
    return World(
        client=client_user,
        social_worker=social_worker,
        brightside=brightside,
        riverside=riverside,
        unused=unused,
        visits=visits,
        respite=respite,
        gardening=gardening,
        plan=plan,
        rejected=rejected,
        staff=factories.ProviderStaffFactory(provider=brightside, full_name="Lee Carter"),
        other_staff=factories.ProviderStaffFactory(provider=riverside, full_name="Robin Hale"),
    )


def post_review(api_client, provider, **body):
    payload = {"provider": provider.pk if isinstance(provider, Provider) else provider, "rating": 4, "text": TEXT}
    payload.update(body)
    payload = {k: v for k, v in payload.items() if v is not ...}
    return api_client.post("/api/v1/reviews/", payload, format="json")


def audit_of(review_obj):
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(Review), target_id=str(review_obj.pk)
    )


def page_text(response) -> str:
    """The page's text without tags, whitespace collapsed."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- who may review ----------------------------------------------------------------------------


def test_client_who_never_used_a_provider_cannot_review_it_and_is_told_why(world, api_as):
    before = snapshot(world.unused)
    response = post_review(api_as(world.client), world.unused)
    assert response.status_code == 403
    assert NOT_USED in response.json()["detail"]
    assert snapshot(world.unused) == before


def test_client_who_never_used_a_provider_cannot_open_or_post_its_review_page(world, web_as):
    web = web_as(world.client)
    url = f"/providers/{world.unused.pk}/review/"
    assert web.get(url).status_code == 403
    before = snapshot(world.unused)
    assert web.post(url, {"rating": "5", "text": TEXT}).status_code == 403
    assert snapshot(world.unused) == before


def test_review_page_refusal_tells_the_client_why(world, web_as):
    response = web_as(world.client).get(f"/providers/{world.unused.pk}/review/")
    assert response.status_code == 403
    assert NOT_USED in page_text(response)


def test_client_whose_only_line_with_a_provider_was_on_a_rejected_plan_cannot_review_it(world, api_as, web_as):
    assert world.rejected.status == PlanStatus.REJECTED
    before = snapshot(world.riverside)
    response = post_review(api_as(world.client), world.riverside)
    assert response.status_code == 403
    assert NOT_USED in response.json()["detail"]
    assert web_as(world.client).get(f"/providers/{world.riverside.pk}/review/").status_code == 403
    assert snapshot(world.riverside) == before


@pytest.mark.parametrize("status", [PlanStatus.DRAFT, PlanStatus.SUBMITTED, PlanStatus.IN_REVIEW, PlanStatus.REJECTED])
def test_client_whose_plan_with_the_provider_was_never_approved_cannot_review_it(world, make_budget, api_as, status):
    olu = factories.ClientFactory(full_name="Olu Bankole")
    plan_with(make_budget, olu, world.social_worker, [world.respite], status=status)
    response = post_review(api_as(olu), world.riverside)
    assert response.status_code == 403
    assert not Review.objects.exists()


def test_client_with_an_approved_plan_line_reviews_the_provider(world, api_as):
    response = post_review(api_as(world.client), world.brightside, rating=5, kindness=4)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["provider"] == world.brightside.pk
    assert body["rating"] == 5
    assert body["kindness"] == 4
    assert body["reliability"] is None
    assert body["text"] == TEXT
    assert body["hidden"] is False
    assert body["yours"] is True
    stored = Review.objects.get(pk=body["id"])
    assert (stored.author, stored.provider, stored.rating) == (world.client, world.brightside, 5)
    event = audit_of(stored).get(action="create")
    assert event.actor == world.client


def test_client_who_had_a_line_on_a_now_superseded_plan_may_still_review_that_provider(world, make_budget, api_as):
    olu = factories.ClientFactory(full_name="Olu Bankole")
    old = plan_with(
        make_budget, olu, world.social_worker, [world.respite], status=PlanStatus.SUPERSEDED, replacement=[world.visits]
    )
    assert old.status == PlanStatus.SUPERSEDED
    # Riverside is only on the superseded version: Olu had support from it.
    assert post_review(api_as(olu), world.riverside).status_code == 201
    # Brightside is on the version now in force.
    assert post_review(api_as(olu), world.brightside).status_code == 201


def test_client_reviews_through_the_page_and_lands_on_the_provider_page(world, web_as):
    web = web_as(world.client)
    url = f"/providers/{world.brightside.pk}/review/"
    assert web.get(url).status_code == 200
    response = web.post(url, {"rating": "4", "text": TEXT, "reliability": "5", "kindness": ""})
    assert response.status_code == 302
    assert response["Location"] == f"/providers/{world.brightside.pk}/#reviews"
    stored = Review.objects.get()
    assert (stored.rating, stored.reliability, stored.kindness) == (4, 5, None)
    page = web.get(response["Location"])
    assert "your review of Brightside Care is published" in page_text(page)
    assert TEXT in page_text(page)


@pytest.mark.parametrize(
    "role",
    # A representative acts for Ruth, who may review Brightside; reviews stay the client's own.
    [Role.REPRESENTATIVE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.CASE_MANAGER, Role.FINANCE, Role.ADMIN],
)
def test_people_who_are_not_clients_cannot_review(world, api_as, web_as, request, role):
    person = request.getfixturevalue(factories.ROLE_FIXTURES[role])
    before = snapshot(world.brightside)
    response = post_review(api_as(person), world.brightside)
    assert response.status_code == 403
    assert response.json()["detail"] == "Only people who use a provider's services can review it."
    assert web_as(person).get(f"/providers/{world.brightside.pk}/review/").status_code == 403
    assert snapshot(world.brightside) == before


def test_provider_staff_cannot_review_even_their_own_provider(world, api_as, web_as):
    before = snapshot(world.brightside)
    assert post_review(api_as(world.staff), world.brightside).status_code == 403
    assert web_as(world.staff).get(f"/providers/{world.brightside.pk}/review/").status_code == 403
    assert snapshot(world.brightside) == before


def test_reviewing_an_unknown_provider_is_a_bad_request(world, api_as, web_as):
    response = post_review(api_as(world.client), 999_999)
    assert response.status_code == 400
    assert "provider" in response.json()
    assert web_as(world.client).get("/providers/999999/review/").status_code == 404
    assert not Review.objects.exists()


def test_reviewing_without_credentials_is_401(world, api):
    assert post_review(api, world.brightside).status_code == 401


# --- what a review must say --------------------------------------------------------------------


@pytest.mark.parametrize("rating", [0, 6, -1, "x", "4.5", None, ...], ids=repr)
def test_a_rating_outside_one_to_five_stars_is_refused(world, api_as, rating):
    before = snapshot(world.brightside)
    response = post_review(api_as(world.client), world.brightside, rating=rating)
    assert response.status_code == 400
    assert list(response.json()) == ["rating"]
    assert snapshot(world.brightside) == before


@pytest.mark.parametrize("score", [0, 6, "x"], ids=repr)
@pytest.mark.parametrize("dimension", ["reliability", "kindness", "communication", "value"])
def test_a_dimension_score_outside_one_to_five_is_refused(world, api_as, dimension, score):
    before = snapshot(world.brightside)
    response = post_review(api_as(world.client), world.brightside, **{dimension: score})
    assert response.status_code == 400
    assert list(response.json()) == [dimension]
    assert snapshot(world.brightside) == before


def test_dimension_scores_are_optional_and_kept_when_given(world, api_as):
    response = post_review(
        api_as(world.client), world.brightside, rating=3, reliability=1, kindness=5, communication=2, value=None
    )
    assert response.status_code == 201
    stored = Review.objects.get()
    assert (stored.reliability, stored.kindness, stored.communication, stored.value) == (1, 5, 2, None)


@pytest.mark.parametrize("text", ["", "   \n ", ...], ids=["empty", "blank", "missing"])
def test_a_review_without_text_is_refused(world, api_as, text):
    before = snapshot(world.brightside)
    response = post_review(api_as(world.client), world.brightside, text=text)
    assert response.status_code == 400
    assert list(response.json()) == ["text"]
    assert snapshot(world.brightside) == before


def test_several_problems_are_reported_together(world, api_as):
    response = post_review(api_as(world.client), world.brightside, rating=9, value=0, text="")
    assert response.status_code == 400
    assert set(response.json()) == {"rating", "value", "text"}
    assert not Review.objects.exists()


def test_the_review_page_shows_the_problems_and_writes_nothing(world, web_as):
    before = snapshot(world.brightside)
    response = web_as(world.client).post(f"/providers/{world.brightside.pk}/review/", {"rating": "7", "text": ""})
    assert response.status_code == 400
    text = page_text(response)
    assert "There is a problem" in text
    assert "Say something about the support you had" in text
    assert snapshot(world.brightside) == before


def test_service_refuses_unknown_scores_and_bad_values(world):
    with pytest.raises(InvalidInput):
        review_create(actor=world.client, provider=world.brightside, rating=4, text=TEXT, punctuality=5)
    with pytest.raises(InvalidInput) as refused:
        review_create(actor=world.client, provider=world.brightside, rating=True, text=TEXT)
    assert "rating" in refused.value.errors
    assert not Review.objects.exists()


# --- one review per provider per 90 days -------------------------------------------------------

T0 = datetime.datetime(2025, 1, 10, 10, 0, tzinfo=datetime.UTC)


def test_a_second_review_a_minute_before_90_days_is_refused_saying_when(world):
    review_create(actor=world.client, provider=world.brightside, rating=4, text=TEXT, now=T0)
    before = snapshot(world.brightside)
    almost = T0 + datetime.timedelta(days=89, hours=23, minutes=59)
    with pytest.raises(ReviewTooSoon) as refused:
        review_create(actor=world.client, provider=world.brightside, rating=2, text=TEXT, now=almost)
    assert refused.value.message == (
        "You reviewed Brightside Care on 10 January 2025. You can review it again from 10 April 2025."
    )
    assert snapshot(world.brightside) == before


def test_a_second_review_exactly_90_days_later_is_accepted(world):
    review_create(actor=world.client, provider=world.brightside, rating=4, text=TEXT, now=T0)
    again = review_create(
        actor=world.client, provider=world.brightside, rating=2, text=TEXT, now=T0 + datetime.timedelta(days=90)
    )
    assert again.created_at == T0 + datetime.timedelta(days=90)
    assert reload(world.brightside).review_count == 2


def test_api_answers_409_within_90_days_and_201_after(world, api_as):
    first = review(world.client, world.brightside, 4, ago=89 + 23 / 24 + 59 / 1440)
    response = post_review(api_as(world.client), world.brightside)
    assert response.status_code == 409
    again = timezone.localdate(first.created_at + datetime.timedelta(days=90))
    assert f"You can review it again from {again:%-d %B %Y}." in response.json()["detail"]
    assert Review.objects.count() == 1

    Review.objects.filter(pk=first.pk).update(created_at=days_ago(90))
    assert post_review(api_as(world.client), world.brightside).status_code == 201


def test_the_review_page_refuses_a_second_review_within_90_days(world, web_as):
    review(world.client, world.brightside, 4, ago=30)
    before = snapshot(world.brightside)
    response = web_as(world.client).post(f"/providers/{world.brightside.pk}/review/", {"rating": "1", "text": TEXT})
    assert response.status_code == 409
    assert "You can review it again from" in page_text(response)
    assert snapshot(world.brightside) == before


def test_the_provider_page_offers_a_review_only_outside_the_waiting_period(world, web_as):
    web = web_as(world.client)
    url = f"/providers/{world.brightside.pk}/"
    button = f'href="/providers/{world.brightside.pk}/review/"'
    assert button in web.get(url).content.decode()

    first = review(world.client, world.brightside, 4, ago=10)
    response = web.get(url)
    again = timezone.localdate(first.created_at + datetime.timedelta(days=90))
    assert f"You can review Brightside Care again from {again:%-d %B %Y}." in page_text(response)
    assert button not in response.content.decode()

    Review.objects.filter(pk=first.pk).update(created_at=days_ago(90))
    response = web.get(url)
    assert button in response.content.decode()
    assert "again from" not in page_text(response)
    # People who may not review it are offered neither.
    other = web_as(factories.ClientFactory()).get(url)
    assert button not in other.content.decode()
    assert "again from" not in page_text(other)


def test_the_interval_is_set_by_the_rating_policy(world):
    set_policy(review_interval_days=30)
    review_create(actor=world.client, provider=world.brightside, rating=4, text=TEXT, now=T0)
    with pytest.raises(ReviewTooSoon, match="again from 9 February 2025"):
        review_create(
            actor=world.client,
            provider=world.brightside,
            rating=4,
            text=TEXT,
            now=T0 + datetime.timedelta(days=29, hours=23, minutes=59),
        )
    review_create(
        actor=world.client, provider=world.brightside, rating=4, text=TEXT, now=T0 + datetime.timedelta(days=30)
    )
    assert Review.objects.count() == 2


def test_another_client_may_review_the_same_provider_the_same_day(world, make_budget, api_as):
    olu = factories.ClientFactory(full_name="Olu Bankole")
    plan_with(make_budget, olu, world.social_worker, [world.visits])
    assert post_review(api_as(world.client), world.brightside).status_code == 201
    assert post_review(api_as(olu), world.brightside).status_code == 201


def test_a_hidden_review_still_counts_towards_the_interval(world, case_manager):
    first = review(world.client, world.brightside, 1, ago=10)
    review_hide(actor=case_manager, review=first, reason="It names a carer.")
    with pytest.raises(ReviewTooSoon):
        review(world.client, world.brightside, 5)


# --- the provider's answer ---------------------------------------------------------------------


def answer(api_client, review_obj, text="Thank you; we are glad the visits help."):
    return api_client.post(f"/api/v1/reviews/{review_obj.pk}/answer/", {"text": text}, format="json")


def test_provider_staff_answer_a_review_once_publicly(world, api_as, web_as):
    written = review(world.client, world.brightside, 3)
    response = answer(api_as(world.staff), written)
    assert response.status_code == 200
    assert response.json()["answer"] == "Thank you; we are glad the visits help."
    assert response.json()["answered_at"]
    assert audit_of(written).filter(actor=world.staff, changes={"answer": True}).exists()

    second = answer(api_as(world.staff), written, text="And another thing")
    assert second.status_code == 409
    assert "already been answered" in second.json()["detail"]
    assert reload(written).answer == "Thank you; we are glad the visits help."

    # Anyone signed in sees the answer on the provider page.
    someone = factories.ClientFactory()
    page = page_text(web_as(someone).get(f"/providers/{world.brightside.pk}/"))
    assert "Brightside Care answered" in page
    assert "Thank you; we are glad the visits help." in page


def test_another_providers_staff_cannot_answer_and_the_review_looks_unknown(world, api_as):
    written = review(world.client, world.brightside, 3)
    before = snapshot(world.brightside)
    assert answer(api_as(world.other_staff), written).status_code == 404
    assert snapshot(world.brightside) == before


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SOCIAL_WORKER, Role.CASE_MANAGER])
def test_people_who_are_not_the_providers_staff_cannot_answer(world, api_as, request, role):
    written = review(world.client, world.brightside, 3)
    person = world.client if role == Role.CLIENT else request.getfixturevalue(factories.ROLE_FIXTURES[role])
    before = snapshot(world.brightside)
    # Only the provider's staff answer; to anyone else there is no review to answer.
    assert answer(api_as(person), written).status_code == 404
    assert snapshot(world.brightside) == before


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_answer_is_refused(world, api_as, text):
    written = review(world.client, world.brightside, 3)
    before = snapshot(world.brightside)
    response = answer(api_as(world.staff), written, text=text)
    assert response.status_code == 400
    assert list(response.json()) == ["text"]
    assert snapshot(world.brightside) == before


def test_provider_staff_answer_from_the_provider_page(world, web_as):
    written = review(world.client, world.brightside, 2)
    web = web_as(world.staff)
    page = page_text(web.get(f"/providers/{world.brightside.pk}/"))
    assert "Answer this review publicly (once)" in page
    response = web.post(f"/reviews/{written.pk}/answer/", {"text": "We are sorry; we have called you."})
    assert response.status_code == 302
    assert reload(written).answer == "We are sorry; we have called you."
    page = page_text(web.get(response["Location"]))
    assert "Your answer is published under the review." in page
    assert "Answer this review publicly (once)" not in page

    again = web.post(f"/reviews/{written.pk}/answer/", {"text": "Second answer"})
    assert again.status_code == 302
    assert reload(written).answer == "We are sorry; we have called you."
    assert web_as(world.other_staff).post(f"/reviews/{written.pk}/answer/", {"text": "Hi"}).status_code == 404


# --- the Bayesian score ------------------------------------------------------------------------


@dataclass
class Rated:
    """Brightside reviewed [5, 5, 4] (Ruth twice, Olu once); Riverside [3, 1] (Olu, Pat); nobody has
    reviewed "Never Used Care". All with the default weight C = 5, after the nightly refresh:
    m = 18/5 = 3.6, Brightside (5·3.6 + 14)/8 = 4.00, Riverside (5·3.6 + 4)/7 = 3.142… = 3.14."""

    world: World
    olu: object
    pat: object
    reviews: dict


@pytest.fixture
def rated(world, make_budget):
    olu = factories.ClientFactory(full_name="Olu Bankole")
    pat = factories.ClientFactory(full_name="Pat Quinn")
    plan_with(make_budget, olu, world.social_worker, [world.visits, world.respite])
    plan_with(make_budget, pat, world.social_worker, [world.respite])
    reviews = {
        "riverside": [review(olu, world.riverside, 3, ago=100), review(pat, world.riverside, 1, ago=10)],
        "brightside": [
            review(world.client, world.brightside, 5, ago=190),
            review(world.client, world.brightside, 5, ago=95),
            review(olu, world.brightside, 4, ago=5),
        ],
    }
    ratings_refresh_all()
    return Rated(world=world, olu=olu, pat=pat, reviews=reviews)


def stored(provider) -> tuple:
    return Provider.objects.filter(pk=provider.pk).values_list("rating", "review_count").get()


def test_each_review_stores_its_providers_score_with_the_prior_of_the_moment(world, make_budget):
    olu = factories.ClientFactory(full_name="Olu Bankole")
    pat = factories.ClientFactory(full_name="Pat Quinn")
    plan_with(make_budget, olu, world.social_worker, [world.visits, world.respite])
    plan_with(make_budget, pat, world.social_worker, [world.respite])
    assert stored(world.brightside) == (None, 0)

    review(olu, world.riverside, 3, ago=100)
    # One review: the prior is that review itself, so the score is its rating.
    assert stored(world.riverside) == (Decimal("3.00"), 1)
    review(pat, world.riverside, 1, ago=10)
    # m = 4/2 = 2; (5·2 + 4)/(5 + 2) = 2.00
    assert stored(world.riverside) == (Decimal("2.00"), 2)

    review(world.client, world.brightside, 5, ago=190)
    review(world.client, world.brightside, 5, ago=95)
    review(olu, world.brightside, 4, ago=5)
    # m = 18/5 = 3.6; (5·3.6 + 14)/(5 + 3) = 32/8 = 4.00
    assert stored(world.brightside) == (Decimal("4.00"), 3)
    assert stored(world.brightside)[0] == bayes([5, 5, 4], [3, 1, 5, 5, 4])
    # Riverside was not touched: it keeps the score made with the old prior until the nightly job.
    assert stored(world.riverside) == (Decimal("2.00"), 2)
    assert stored(world.unused) == (None, 0)


def test_the_nightly_refresh_recomputes_every_provider_with_todays_prior(rated):
    w = rated.world
    assert stored(w.brightside) == (Decimal("4.00"), 3)
    # (5·3.6 + 4)/(5 + 2) = 22/7 = 3.1428…
    assert stored(w.riverside) == (Decimal("3.14"), 2)
    assert stored(w.unused) == (None, 0)

    # Olu reviews Riverside again (100 days after the first): Riverside is refreshed at once…
    review(rated.olu, w.riverside, 5)
    # m = 23/6; Riverside (5·23/6 + 9)/(5 + 3) = 169/48 = 3.5208…
    assert stored(w.riverside) == (Decimal("3.52"), 3)
    # …Brightside keeps its score until the nightly job moves it to the new prior.
    assert stored(w.brightside) == (Decimal("4.00"), 3)
    assert ratings_refresh_all() == 2
    # (5·23/6 + 14)/8 = 199/48 = 4.1458…
    assert stored(w.brightside) == (Decimal("4.15"), 3)
    assert stored(w.riverside) == (Decimal("3.52"), 3)
    assert stored(w.brightside)[0] == bayes([5, 5, 4], [5, 5, 4, 3, 1, 5])


def test_the_weight_is_set_by_the_rating_policy(rated):
    set_policy(bayesian_weight=Decimal("2"))
    ratings_refresh_all()
    w = rated.world
    # m = 3.6; Brightside (2·3.6 + 14)/(2 + 3) = 21.2/5 = 4.24; Riverside (7.2 + 4)/4 = 2.80
    assert stored(w.brightside) == (Decimal("4.24"), 3)
    assert stored(w.riverside) == (Decimal("2.80"), 2)


def test_the_summary_keeps_count_sum_and_star_distribution(rated):
    w = rated.world
    summary = ProviderRatingSummary.objects.get(provider=w.brightside)
    assert (summary.count, summary.total) == (3, 14)
    assert summary.distribution == [(5, 2), (4, 1), (3, 0), (2, 0), (1, 0)]
    assert summary.mean == Decimal("4.67")
    other = ProviderRatingSummary.objects.get(provider=w.riverside)
    assert (other.count, other.total, other.stars_3, other.stars_1) == (2, 4, 1, 1)
    assert not ProviderRatingSummary.objects.filter(provider=w.unused).exists()


def test_the_api_gives_the_stored_score_and_count(rated, api_as):
    w = rated.world
    someone = api_as(factories.ClientFactory())
    body = someone.get(f"/api/v1/providers/{w.brightside.pk}/").json()
    assert (body["rating"], body["review_count"]) == ("4.00", 3)
    body = someone.get(f"/api/v1/providers/{w.unused.pk}/").json()
    assert (body["rating"], body["review_count"]) == (None, 0)


def test_the_provider_page_shows_score_count_and_distribution(rated, web_as):
    w = rated.world
    text = page_text(web_as(factories.ClientFactory()).get(f"/providers/{w.brightside.pk}/"))
    assert "4.00 out of 5 from 3 reviews" in text
    assert "5 stars 2 4 stars 1 3 stars 0 2 stars 0 1 star 0" in text
    unused = page_text(web_as(factories.ClientFactory()).get(f"/providers/{w.unused.pk}/"))
    assert "No reviews yet" in unused


def test_the_celery_task_refreshes_every_score(rated):
    from marketplace.tasks import ratings_refresh_all as task

    w = rated.world
    review(rated.olu, w.riverside, 5)
    assert stored(w.brightside) == (Decimal("4.00"), 3)
    assert task.name == "marketplace.ratings_refresh_all"
    assert task.delay().get() == 2
    assert stored(w.brightside) == (Decimal("4.15"), 3)


def test_the_refresh_is_on_the_beat_schedule():
    from marketplace.celery import app

    app.loader.import_default_modules()
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "marketplace.ratings_refresh_all"]
    assert len(entries) == 1
    assert "marketplace.ratings_refresh_all" in app.tasks


# --- moderation --------------------------------------------------------------------------------


def hide(api_client, review_obj, reason="It names one of the carers."):
    body = {} if reason is ... else {"reason": reason}
    return api_client.post(f"/api/v1/reviews/{review_obj.pk}/hide/", body, format="json")


def restore(api_client, review_obj):
    return api_client.post(f"/api/v1/reviews/{review_obj.pk}/restore/", {}, format="json")


def test_hiding_takes_a_review_out_of_the_score_and_restoring_puts_it_back(rated, api_as, case_manager):
    w = rated.world
    four = rated.reviews["brightside"][2]
    cm = api_as(case_manager)

    response = hide(cm, four)
    assert response.status_code == 200
    assert response.json()["hidden"] is True
    assert response.json()["hidden_reason"] == "It names one of the carers."
    # Visible: Brightside [5, 5], Riverside [3, 1]; m = 14/4 = 3.5; (5·3.5 + 10)/7 = 27.5/7 = 3.928…
    assert stored(w.brightside) == (Decimal("3.93"), 2)
    assert stored(w.brightside)[0] == bayes([5, 5], [5, 5, 3, 1])
    summary = ProviderRatingSummary.objects.get(provider=w.brightside)
    assert (summary.count, summary.total, summary.stars_4) == (2, 10, 0)

    response = restore(cm, four)
    assert response.status_code == 200
    assert response.json()["hidden"] is False
    assert stored(w.brightside) == (Decimal("4.00"), 3)
    summary = ProviderRatingSummary.objects.get(provider=w.brightside)
    assert (summary.count, summary.total, summary.stars_4) == (3, 14, 1)
    assert reload(four).hidden_reason == ""


def test_a_provider_with_every_review_hidden_has_no_score(rated, case_manager):
    w = rated.world
    for written in rated.reviews["riverside"]:
        review_hide(actor=case_manager, review=written, reason="Not about this provider.")
    assert stored(w.riverside) == (None, 0)


def test_each_moderation_writes_an_audit_event(rated, api_as, case_manager):
    four = rated.reviews["brightside"][2]
    cm = api_as(case_manager)
    hide(cm, four)
    hidden = audit_of(four).filter(actor=case_manager).order_by("pk")
    assert [(e.action, e.changes, e.message) for e in hidden] == [
        ("update", {"hidden": True}, "It names one of the carers.")
    ]
    restore(cm, four)
    assert [e.changes for e in hidden.all()] == [{"hidden": True}, {"hidden": False}]


@pytest.mark.parametrize("reason", [..., "", "   "], ids=["missing", "empty", "blank"])
def test_hiding_needs_a_reason(rated, api_as, case_manager, reason):
    four = rated.reviews["brightside"][2]
    before = snapshot(rated.world.brightside)
    response = hide(api_as(case_manager), four, reason=reason)
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    assert snapshot(rated.world.brightside) == before


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.PROVIDER, Role.FINANCE])
def test_only_case_managers_hide_and_restore(rated, api_as, case_manager, request, role):
    four = rated.reviews["brightside"][2]
    person = request.getfixturevalue(factories.ROLE_FIXTURES[role])
    before = snapshot(rated.world.brightside)
    assert hide(api_as(person), four).status_code == 403
    assert snapshot(rated.world.brightside) == before

    review_hide(actor=case_manager, review=four, reason="It names one of the carers.")
    before = snapshot(rated.world.brightside)
    # A hidden review is not even visible to them (none of them wrote it).
    assert restore(api_as(person), four).status_code == 404
    assert snapshot(rated.world.brightside) == before


def test_the_providers_own_staff_cannot_hide_a_review_of_it(rated, api_as):
    four = rated.reviews["brightside"][2]
    before = snapshot(rated.world.brightside)
    assert hide(api_as(rated.world.staff), four).status_code == 403
    assert snapshot(rated.world.brightside) == before


def test_services_refuse_moderation_by_others(rated):
    four = rated.reviews["brightside"][2]
    with pytest.raises(ActionNotAllowed):
        review_hide(actor=rated.world.client, review=four, reason="I changed my mind")
    with pytest.raises(ActionNotAllowed):
        review_restore(actor=rated.world.social_worker, review=four)


def test_hiding_twice_or_restoring_a_visible_review_is_a_conflict(rated, api_as, case_manager):
    four = rated.reviews["brightside"][2]
    cm = api_as(case_manager)
    before = snapshot(rated.world.brightside)
    response = restore(cm, four)
    assert response.status_code == 409
    assert response.json()["detail"] == "This review is not hidden."
    assert snapshot(rated.world.brightside) == before

    assert hide(cm, four).status_code == 200
    before = snapshot(rated.world.brightside)
    response = hide(cm, four, reason="Again")
    assert response.status_code == 409
    assert response.json()["detail"] == "This review is already hidden."
    assert snapshot(rated.world.brightside) == before


def test_the_author_still_sees_their_hidden_review_marked_hidden_and_others_do_not(rated, api_as, web_as, case_manager):
    w = rated.world
    four = rated.reviews["brightside"][2]  # Olu's
    review_hide(actor=case_manager, review=four, reason="It names one of the carers.")
    url = f"/api/v1/providers/{w.brightside.pk}/reviews/"

    mine = {r["id"]: r for r in api_as(rated.olu).get(url).json()["results"]}
    assert set(mine) == {r.pk for r in rated.reviews["brightside"]}
    assert (mine[four.pk]["hidden"], mine[four.pk]["hidden_reason"], mine[four.pk]["yours"]) == (
        True,
        "It names one of the carers.",
        True,
    )
    assert api_as(rated.olu).get(f"/api/v1/reviews/{four.pk}/").status_code == 200

    for other in (w.client, w.staff, rated.pat):
        seen = api_as(other).get(url).json()
        assert four.pk not in {r["id"] for r in seen["results"]}
        assert seen["count"] == 2
        assert api_as(other).get(f"/api/v1/reviews/{four.pk}/").status_code == 404

    moderated = {r["id"]: r for r in api_as(case_manager).get(url).json()["results"]}
    assert moderated[four.pk]["hidden"] is True
    assert moderated[four.pk]["hidden_reason"] == "It names one of the carers."
    assert moderated[four.pk]["yours"] is False

    # Visible reviews never carry a reason, and no one else's review is "yours".
    visible = mine[rated.reviews["brightside"][0].pk]
    assert (visible["hidden"], visible["hidden_reason"], visible["yours"]) == (False, "", False)


def test_the_provider_page_shows_the_author_their_hidden_review_and_hides_it_from_others(rated, web_as, case_manager):
    w = rated.world
    four = rated.reviews["brightside"][2]
    Review.objects.filter(pk=four.pk).update(text="The carer called Dana was late.")
    review_hide(actor=case_manager, review=reload(four), reason="It names one of the carers.")

    own = page_text(web_as(rated.olu).get(f"/providers/{w.brightside.pk}/"))
    assert "The carer called Dana was late." in own
    assert "Hidden Only you can see this review: It names one of the carers." in own
    assert "3.93 out of 5 from 2 reviews" in own

    for other in (w.client, w.staff):
        text = page_text(web_as(other).get(f"/providers/{w.brightside.pk}/"))
        assert "Dana" not in text
        assert "It names one of the carers." not in text


# --- the catalogue with ratings ----------------------------------------------------------------


def catalogue(api_client, **params):
    response = api_client.get("/api/v1/services/", params)
    assert response.status_code == 200, response.content
    return [
        (s["provider"]["name"], s["provider"]["rating"], s["provider"]["review_count"])
        for s in response.json()["results"]
    ]


def test_catalogue_api_orders_by_the_bayesian_score_then_unrated_last(rated, api_as):
    someone = api_as(factories.ClientFactory())
    assert catalogue(someone, ordering="-rating") == [
        ("Brightside Care", "4.00", 3),
        ("Riverside Centre", "3.14", 2),
        ("Never Used Care", None, 0),
    ]
    assert [name for name, _, _ in catalogue(someone, ordering="-review_count")] == [
        "Brightside Care",
        "Riverside Centre",
        "Never Used Care",
    ]


def test_catalogue_api_orders_by_score_not_by_the_plain_mean(rated, api_as, make_budget, make_service, make_provider):
    """A single 5-star review does not beat many good ones: its score is pulled towards the prior."""
    w = rated.world
    service = make_service("Newcomer visits", "20.00", provider=make_provider(name="Newcomer Care"))
    person = factories.ClientFactory()
    plan_with(make_budget, person, w.social_worker, [service])
    review(person, service.provider, 5)
    ratings_refresh_all()
    # m = 23/6; Brightside (5·m + 14)/8 = 4.1458…; Newcomer (5·m + 5)/6 = 145/36 = 4.027…;
    # Riverside (5·m + 4)/7 = 139/42 = 3.309…
    assert catalogue(api_as(person), ordering="-rating") == [
        ("Brightside Care", "4.15", 3),
        ("Newcomer Care", "4.03", 1),
        ("Riverside Centre", "3.31", 2),
        ("Never Used Care", None, 0),
    ]


@pytest.mark.parametrize(
    ("minimum", "names"),
    [
        ("4.00", ["Brightside Care"]),
        ("3.5", ["Brightside Care"]),
        ("3.14", ["Brightside Care", "Riverside Centre"]),
        ("0", ["Brightside Care", "Riverside Centre"]),
    ],
)
def test_catalogue_api_min_rating_keeps_providers_scoring_at_least_that(rated, api_as, minimum, names):
    found = catalogue(api_as(factories.ClientFactory()), min_rating=minimum, ordering="-rating")
    assert [name for name, _, _ in found] == names


@pytest.mark.parametrize("minimum", ["x", "-1", "NaN"])
def test_catalogue_api_refuses_a_min_rating_that_is_not_a_number(rated, api_as, minimum):
    response = api_as(factories.ClientFactory()).get("/api/v1/services/", {"min_rating": minimum})
    assert response.status_code == 400
    assert list(response.json()) == ["min_rating"]


def test_catalogue_page_sorts_by_rating_and_shows_it(rated, web_as):
    text = page_text(web_as(factories.ClientFactory()).get("/services/", {"ordering": "-rating"}))
    positions = [text.index(name) for name in ("Brightside Care", "Riverside Centre", "Never Used Care")]
    assert positions == sorted(positions)
    assert "Client rating: 4.00 out of 5 (3 reviews)" in text
    assert "Client rating: no reviews yet" in text


def test_catalogue_page_filters_by_minimum_rating(rated, web_as):
    text = page_text(web_as(factories.ClientFactory()).get("/services/", {"min_rating": "3.5"}))
    assert "Brightside Care" in text
    assert "Riverside Centre" not in text


def count_queries(web, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = web.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_catalogue_page_queries_do_not_grow_with_reviewed_providers(
    world, make_budget, make_provider, make_service, web_as
):
    review(world.client, world.brightside, 4)
    web = web_as(factories.ClientFactory())
    one = count_queries(web, "/services/", {"ordering": "-rating"})
    api_one = count_queries(web, "/api/v1/services/", {"ordering": "-rating"})

    extra = [
        make_service(f"Visits {n}", "20.00", provider=make_provider(name=f"Rated Care {n:02d}")) for n in range(29)
    ]
    plan_with(make_budget, world.client, world.social_worker, extra)
    for n, service in enumerate(extra):
        review(world.client, service.provider, 1 + n % 5)
    assert Provider.objects.filter(review_count__gt=0).count() == 30
    assert count_queries(web, "/services/", {"ordering": "-rating"}) == one
    assert count_queries(web, "/api/v1/services/", {"ordering": "-rating"}) == api_one


def test_provider_page_queries_do_not_grow_with_reviews(world, web_as, case_manager):
    # Ruth reviews Brightside every 91 days, oldest first; the page shows the latest ten.
    review(world.client, world.brightside, 4, ago=91 * 29)
    url = f"/providers/{world.brightside.pk}/"
    viewers = [world.client, world.staff, factories.ClientFactory()]
    one = [count_queries(web_as(v), url) for v in viewers]

    written = [review(world.client, world.brightside, 1 + k % 5, ago=91 * k) for k in range(28, -1, -1)]
    for r in written[-5:]:
        review_services.review_answer(actor=world.staff, review=r, text="Thank you for telling us.")
    review_hide(actor=case_manager, review=written[-1], reason="It names a carer.")
    assert Review.objects.filter(provider=world.brightside).count() == 30
    thirty = [count_queries(web_as(v), url) for v in viewers]
    assert thirty == one


# --- the prompt on an approved plan ------------------------------------------------------------

PROMPT = "Rate the providers you use"


def prompt(response) -> str:
    """The prompt's visible words (tags and screen-reader-only text removed)."""
    found = re.search(r'<div class="govuk-inset-text">(How is the support going\?.*?)</div>', response.content.decode())
    if not found:
        return ""
    shown = re.sub(r'<span class="govuk-visually-hidden">.*?</span>', "", found.group(1))
    return re.sub(r"<[^>]+>", "", shown)


def review_links(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'href="(/providers/\d+/review/)"', html)


def test_clients_approved_plan_page_prompts_them_to_rate_its_providers(world, make_budget, web_as):
    olu = factories.ClientFactory(full_name="Olu Bankole")
    plan = plan_with(make_budget, olu, world.social_worker, [world.visits, world.respite])
    response = web_as(olu).get(f"/plans/{plan.pk}/")
    assert response.status_code == 200
    assert PROMPT in page_text(response)
    assert review_links(response) == [
        f"/providers/{world.brightside.pk}/review/",
        f"/providers/{world.riverside.pk}/review/",
    ]
    assert prompt(response) == (
        "How is the support going? Rate the providers you use (each one once every 90 days): "
        "Brightside Care, Riverside Centre"
    )


@pytest.mark.parametrize("status", [PlanStatus.DRAFT, PlanStatus.SUBMITTED, PlanStatus.REJECTED])
def test_no_prompt_on_a_plan_that_is_not_approved(world, make_budget, web_as, status):
    olu = factories.ClientFactory(full_name="Olu Bankole")
    plan = plan_with(make_budget, olu, world.social_worker, [world.visits], status=status)
    response = web_as(olu).get(f"/plans/{plan.pk}/")
    assert response.status_code == 200
    assert PROMPT not in page_text(response)
    assert review_links(response) == []


def test_no_prompt_for_the_social_worker_or_team_manager(world, web_as, team_manager):
    for person in (world.social_worker, team_manager):
        response = web_as(person).get(f"/plans/{world.plan.pk}/")
        assert response.status_code == 200
        assert PROMPT not in page_text(response)
        assert review_links(response) == []


def test_prompt_names_each_provider_once_even_when_its_lines_are_apart(world, make_budget, make_service, web_as):
    sitting = make_service("Sitting service", "15.00", provider=world.brightside, unit="session")
    olu = factories.ClientFactory(full_name="Olu Bankole")
    plan = plan_with(make_budget, olu, world.social_worker, [world.visits, world.respite, sitting])
    links = review_links(web_as(olu).get(f"/plans/{plan.pk}/"))
    assert sorted(links) == sorted(set(links))

"""The once-every-90-days review rule is said before the review form is filled in: on the plan
page's "Rate" links and on the form page, as the provider page already does."""

# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

import pytest

from marketplace.models import Review
from tests.careplans.conftest import make_budget, make_provider, make_service  # noqa: F401
from tests.marketplace.review_fixtures import plan_with, review

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(make_budget, make_provider, make_service, client_user, social_worker, caseload):
    brightside = make_provider(name="Brightside Care")
    riverside = make_provider(name="Riverside Centre")
    visits = make_service("Home care visits", "24.50", provider=brightside)
    respite = make_service("Respite breaks", "30.00", provider=riverside, unit="night")
    plan = plan_with(make_budget, client_user, social_worker, [visits, respite])
    review(client_user, brightside, 4, ago=10)
    return plan, brightside, riverside


def test_the_plan_page_says_when_a_recently_rated_provider_can_be_rated_again(client, client_user, rated):
    plan, brightside, riverside = rated
    client.force_login(client_user)
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "each one once every 90 days" in page
    assert f'href="/providers/{brightside.pk}/review/"' not in page
    assert "Brightside Care (you rated it recently: you can rate it again from" in page
    assert f'href="/providers/{riverside.pk}/review/"' in page  # not rated yet: still a link


def test_the_review_form_says_so_before_it_is_filled_in_and_shows_no_form(client, client_user, rated):
    _, brightside, riverside = rated
    client.force_login(client_user)
    page = client.get(f"/providers/{brightside.pk}/review/").content.decode()
    assert "You can review it again from" in page
    assert '<form method="post" novalidate>' not in page
    fresh = client.get(f"/providers/{riverside.pk}/review/").content.decode()
    assert "You can review each provider once every 90 days." in fresh
    assert '<form method="post" novalidate>' in fresh


def test_a_review_posted_anyway_is_still_refused_saying_when(client, client_user, rated):
    _, brightside, _ = rated
    client.force_login(client_user)
    response = client.post(f"/providers/{brightside.pk}/review/", {"rating": "5", "text": "Again"})
    assert response.status_code == 409
    assert "You can review it again from" in response.content.decode()
    assert Review.objects.filter(provider=brightside).count() == 1

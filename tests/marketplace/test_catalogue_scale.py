"""The catalogue at national scale (docs/api.md, "Catalogue query"): the count is exact up to the
cap and the cap above it, flagged `count_capped` in the API and "More than …" on the page; pages
stop at the cap with a message saying to narrow the search; the count is one bounded query; the
number of queries does not grow with the matches.

The cap is the `CATALOGUE_COUNT_CAP` setting: 5 here instead of 1,000, so 4/5/6 matches stand for
999/1,000/1,001."""
# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money
from drf_spectacular.generators import SchemaGenerator
from rest_framework.serializers import ModelSerializer

from accounts.pagination import CappedCountPagination
from providers.api import ServiceSerializer
from providers.models import Provider, ServiceOffering
from tests.careplans.conftest import make_provider, make_service  # noqa: F401

pytestmark = pytest.mark.django_db

CAP = 5
NARROW = "Only the first 5 matches are listed. Add a filter or search words to narrow the search."


@pytest.fixture(autouse=True)
def small_cap(settings):
    settings.CATALOGUE_COUNT_CAP = CAP


@pytest.fixture
def catalogue(make_provider, make_service):
    """`catalogue(n)`: n respite services from one verified provider, and two other services
    that a search for respite does not find."""
    provider = make_provider(name="Harbour Care")
    make_service("Gardening help", provider=provider)
    make_service("Home care visits", provider=provider)

    def make(matches: int) -> None:
        for n in range(matches):
            make_service(f"Respite night {n}", provider=provider, unit="night")

    return make


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize(("matches", "count"), [(CAP - 1, CAP - 1), (CAP, CAP)])
def test_api_counts_exactly_up_to_the_cap_without_the_capped_flag(catalogue, api_as, client_user, matches, count):
    catalogue(matches)
    body = api_as(client_user).get("/api/v1/services/", {"q": "respite"}).json()
    assert body["count"] == count
    assert len(body["results"]) == count
    assert "count_capped" not in body


def test_api_count_stops_at_the_cap_and_says_so(catalogue, api_as, client_user):
    catalogue(CAP + 1)
    body = api_as(client_user).get("/api/v1/services/", {"q": "respite"}).json()
    assert body["count"] == CAP
    assert body["count_capped"] is True
    assert len(body["results"]) == CAP  # pages stop at the cap: the sixth match is not listed


def test_api_pages_stop_at_the_cap_with_a_message_saying_to_narrow_the_search(
    catalogue, api_as, client_user, monkeypatch
):
    monkeypatch.setattr(CappedCountPagination, "page_size", 2)
    catalogue(CAP + 3)
    api = api_as(client_user)
    last = api.get("/api/v1/services/", {"q": "respite", "page": 3}).json()
    assert (last["count"], last["count_capped"], len(last["results"]), last["next"]) == (CAP, True, 1, None)
    past = api.get("/api/v1/services/", {"q": "respite", "page": 4})
    assert past.status_code == 404
    assert past.json()["detail"] == f"Invalid page. {NARROW}"


def test_api_page_past_the_end_of_a_short_list_is_the_usual_404(catalogue, api_as, client_user, monkeypatch):
    monkeypatch.setattr(CappedCountPagination, "page_size", 2)
    catalogue(CAP - 1)
    response = api_as(client_user).get("/api/v1/services/", {"q": "respite", "page": 3})
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid page."


def test_api_count_is_one_query_counting_at_most_one_row_past_the_cap(catalogue, api_as, client_user):
    catalogue(CAP + 1)
    api = api_as(client_user)
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/services/", {"q": "respite", "ordering": "-rating"})
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert f"LIMIT {CAP + 1}" in counts[0]
    assert "ORDER BY" not in counts[0].upper()  # sorting rows only to count them was slower


@pytest.mark.parametrize(("matches", "wording"), [(CAP - 1, "4 services found"), (CAP, "5 services found")])
def test_page_gives_the_exact_count_up_to_the_cap(catalogue, web_as, client_user, matches, wording):
    catalogue(matches)
    text = page_text(web_as(client_user).get("/services/", {"q": "respite"}))
    assert wording in text
    assert "More than" not in text
    assert NARROW not in text


def test_page_says_more_than_the_cap_and_how_to_narrow_the_search(catalogue, web_as, client_user):
    catalogue(CAP + 1)
    text = page_text(web_as(client_user).get("/services/", {"q": "respite"}))
    assert "More than 5 services found" in text
    assert NARROW in text
    assert "6 services found" not in text


@pytest.mark.parametrize(
    ("matches", "count", "capped", "wording"),
    [
        (999, 999, False, "999 services found"),
        (1000, 1000, False, "1000 services found"),
        (1001, 1000, True, "More than 1,000 services found"),
    ],
)
def test_the_real_cap_of_1000_in_the_api_and_on_the_page(
    catalogue, api_as, web_as, client_user, settings, matches, count, capped, wording
):
    settings.CATALOGUE_COUNT_CAP = 1000
    provider = ServiceOffering.objects.filter(title="Gardening help").get().provider
    ServiceOffering.objects.bulk_create(
        ServiceOffering(provider=provider, title=f"Respite night {n}", category="respite", unit="night",
                        unit_price=Money("90.00", "GBP"))
        for n in range(matches)
    )  # fmt: skip
    body = api_as(client_user).get("/api/v1/services/", {"q": "respite"}).json()
    assert (body["count"], body.get("count_capped", False)) == (count, capped)
    text = page_text(web_as(client_user).get("/services/", {"q": "respite"}))
    assert wording in text
    assert ("Only the first 1,000 matches are listed." in text) is capped


def _queries(client, path: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, params).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("path", ["/services/", "/api/v1/services/"])
def test_queries_do_not_grow_with_the_matches_below_or_above_the_cap(
    catalogue, api_as, web_as, client_user, django_assert_max_num_queries, path
):
    client = web_as(client_user) if path == "/services/" else api_as(client_user)
    catalogue(2)
    few = _queries(client, path, {"q": "respite"})
    catalogue(CAP + 10)
    with django_assert_max_num_queries(few):
        client.get(path, {"q": "respite"})


def test_openapi_schema_shows_count_capped_as_optional_on_the_catalogue_only():
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    services = components["PaginatedServiceList"]
    assert services["properties"]["count_capped"]["type"] == "boolean"
    assert "count_capped" not in services.get("required", [])
    assert "count_capped" not in components["PaginatedProviderList"]["properties"]


def test_the_services_hand_written_representation_equals_drfs_field_by_field_one(make_provider, make_service):
    rated = make_provider(name="Harbour Care", regulator_rating="good")
    Provider.objects.filter(pk=rated.pk).update(rating=Decimal("4.5"), review_count=12)
    unrated = make_provider(name="Quay Support", regulator_rating="not_yet_rated")
    services = [
        make_service("Respite night", "180.00", provider=rated, unit="night", districts=("NF1", "NF2")),
        make_service("Gardening help", "15.5", provider=unrated, districts=()),
        make_service("Old visits", "24.99", provider=rated, retired_at=timezone.now(), description="Gone."),
    ]
    for service in ServiceOffering.objects.select_related("provider").filter(pk__in=[s.pk for s in services]):
        serializer = ServiceSerializer()
        assert serializer.to_representation(service) == ModelSerializer.to_representation(serializer, service)
    listed = ServiceSerializer(ServiceOffering.objects.select_related("provider").get(pk=services[0].pk)).data
    assert listed["provider"]["rating"] == "4.50" and listed["unit_price"] == {"amount": "180.00", "currency": "GBP"}

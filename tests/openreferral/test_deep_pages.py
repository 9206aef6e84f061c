"""Deep pages of the Open Referral UK directory: a page far from the first is read by its ids first
(marketplace/openreferral/directory.py, `published_keys`), and past `DEEP_OFFSET` rows the
published rule is stated another way. Whatever the page, status or filter, a page must be the same
slice of the same list as the naive reading gives, in as few queries as a first page."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.openreferral import directory, mapping
from providers.models import Provider, ProviderStatus, ServiceOffering

from .conftest import provider_in, service_of

pytestmark = pytest.mark.django_db

CATEGORIES = ("personal_care", "respite", "day_opportunities")
RATINGS = ("good", "outstanding", "")
DISTRICTS = (("NF1",), ("NF2",), ("NF1", "NF3"))
# 3 rows before a page already count as deep here, so small catalogues walk the deep form.
SHALLOW_ENOUGH = 3


@pytest.fixture
def catalogue(db):
    """Providers of every status, each with services of mixed categories and areas, some retired,
    their ids interleaved so the published ones are scattered through the id order."""
    statuses = itertools.cycle(
        [ProviderStatus.VERIFIED, ProviderStatus.PENDING, ProviderStatus.VERIFIED, ProviderStatus.SUSPENDED]
    )
    providers = [provider_in(next(statuses), name=f"Provider {n}", regulator_rating=RATINGS[n % 3]) for n in range(8)]
    for n in range(40):
        service_of(
            providers[n % len(providers)],
            f"Respite and care {n}" if n % 4 == 0 else f"Home help {n}",
            category=CATEGORIES[n % 3],
            districts=DISTRICTS[n % 5 % 3],
            retired_at=timezone.now() if n % 7 == 3 else None,
        )
    return providers


@pytest.fixture
def deep_from_three(monkeypatch):
    monkeypatch.setattr(directory, "DEEP_OFFSET", SHALLOW_ENOUGH)


def naive(path: str, *, category: str = "", rating: str = "", search: str = "", district: str = "") -> list[str]:
    """Every published id for these filters, worked out in Python from the models alone."""
    id_field = "oruk_id" if path.endswith("/services") else "oruk_service_at_location_id"
    found = []
    for service in ServiceOffering.objects.select_related("provider").order_by("id"):
        provider = service.provider
        if service.retired_at is not None or provider.status != ProviderStatus.VERIFIED:
            continue
        if category and service.category != category:
            continue
        if rating and provider.regulator_rating != rating:
            continue
        text = f"{service.title} {service.description} {provider.name}".lower()
        if search and search.lower() not in text:
            continue
        if district and district not in service.postcode_districts:
            continue
        found.append(str(getattr(service, id_field)))
    return found


def get_json(path: str, **params) -> dict:
    response = Client().get(path, params)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return response.json()


FILTERS = [
    ("/openreferral/services", {}, {}),
    (
        "/openreferral/services",
        {"taxonomy_term_id": str(mapping.CATEGORIES.term_id("respite"))},
        {"category": "respite"},
    ),
    (
        "/openreferral/services",
        {"taxonomy_term_id": str(mapping.REGULATOR_RATINGS.term_id("good"))},
        {"rating": "good"},
    ),
    ("/openreferral/services", {"search": "respite"}, {"search": "respite"}),
    ("/openreferral/service_at_locations", {}, {}),
    ("/openreferral/service_at_locations", {"postcode": "NF1"}, {"district": "NF1"}),
    (
        "/openreferral/service_at_locations",
        {"postcode": "NF1 2AB", "taxonomy_term_id": str(mapping.CATEGORIES.term_id("personal_care"))},
        {"district": "NF1", "category": "personal_care"},
    ),
]


@pytest.mark.parametrize("path, params, expected", FILTERS)
def test_every_page_is_the_naive_slice_of_the_published_list_with_any_filter(
    catalogue, deep_from_three, path, params, expected
):
    everything = naive(path, **expected)
    assert len(everything) >= 4, "too few published services for a page past the first"
    whole = get_json(path, **params, per_page=500)
    assert [item["id"] for item in whole["contents"]] == everything
    per_page = 2
    for page in range(1, len(everything) // per_page + 2):
        body = get_json(path, **params, per_page=per_page, page=page)
        start = (page - 1) * per_page
        # Byte for byte the items the one large page showed, in the same places.
        assert body["contents"] == whole["contents"][start : start + per_page], page
        assert body["total_items"] == len(everything)
        assert body["size"] == len(everything[start : start + per_page])


@pytest.mark.parametrize("path, params, expected", FILTERS)
def test_a_deep_page_is_the_same_whichever_form_walks_it(catalogue, monkeypatch, path, params, expected):
    query = {**params, "per_page": 3, "page": 2}
    monkeypatch.setattr(directory, "DEEP_OFFSET", 10**9)
    shallow_form = get_json(path, **query)
    monkeypatch.setattr(directory, "DEEP_OFFSET", 0)
    deep_form = get_json(path, **query)
    assert deep_form == shallow_form
    assert [item["id"] for item in deep_form["contents"]] == naive(path, **expected)[3:6]


@pytest.mark.parametrize("category", ["", "respite"])
def test_both_statements_of_the_published_rule_pick_the_same_services_whatever_the_status(catalogue, category):
    filters = directory.Filters(category=category)
    for status in ProviderStatus.values:  # move providers between statuses: the two forms follow together
        Provider.objects.filter(pk=catalogue[0].pk).update(status=status)
        catalogue_form = list(directory.published_keys(filters, skipping=0))
        restated = list(directory.published_keys(filters, skipping=directory.DEEP_OFFSET))
        assert restated == catalogue_form
        assert [row["id"] for row in restated] == [
            s.pk for s in ServiceOffering.objects.filter(pk__in=[r["id"] for r in catalogue_form]).order_by("id")
        ]
        assert any(row["id"] in {s.pk for s in catalogue[0].services.all()} for row in restated) == (
            status == ProviderStatus.VERIFIED
            and catalogue[0].services.filter(retired_at__isnull=True, category__startswith=category).exists()
        )


def test_an_unknown_term_is_an_empty_deep_page_without_reading_services(
    catalogue, deep_from_three, django_assert_max_num_queries
):
    with django_assert_max_num_queries(0):
        body = get_json("/openreferral/services", taxonomy_term_id="3f7b145d-84af-42d7-8fae-eaca714b02b2", page=5)
    assert body["empty"] and body["total_items"] == 0


@pytest.mark.parametrize("path, params, expected", FILTERS)
def test_a_deep_page_costs_the_queries_of_a_first_page(
    catalogue, deep_from_three, django_assert_max_num_queries, django_assert_num_queries, path, params, expected
):
    with django_assert_max_num_queries(2):  # its count and its rows
        deep = get_json(path, **params, per_page=1, page=SHALLOW_ENOUGH + 1)
    assert deep["size"] == 1
    with django_assert_num_queries(1):  # the same filters again: the total is kept
        get_json(path, **params, per_page=1, page=SHALLOW_ENOUGH + 2)

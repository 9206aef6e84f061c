"""The Open Referral UK directory at /openreferral/: public, CORS open, the profile's envelope and
bodies, only verified providers' live services, filters combined with AND, stable ids."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from marketplace.openreferral import mapping
from providers.models import Provider, ServiceOffering

from . import profile_rules as rules
from .conftest import provider_in, service_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def anon():
    return Client()


def get_json(anon, path: str, **params) -> dict:
    response = anon.get(path, params)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def ids(page: dict) -> list[str]:
    return [item["id"] for item in page["contents"]]


def test_root_names_the_profile_without_a_key(anon):
    body = get_json(anon, "/openreferral/")
    assert body == {
        "version": "3.0",
        "profile": "https://github.com/OpenReferralUK/uk-profile",
        "openapi_url": "https://raw.githubusercontent.com/OpenReferralUK/uk-profile/main/schema/openapi.json",
    }


def test_services_lists_only_verified_providers_live_services_in_the_profiles_envelope(anon, directory):
    page = get_json(anon, "/openreferral/services")
    assert rules.check(page, rules.PAGE) == []
    published = [directory[k] for k in ("visits", "sitting", "day")]
    assert ids(page) == [str(s.oruk_id) for s in sorted(published, key=lambda s: s.pk)]
    assert page["total_items"] == 3 and page["total_pages"] == 1 and page["page_number"] == 1
    assert page["size"] == 3 and page["first_page"] and page["last_page"] and not page["empty"]
    for item in page["contents"]:
        assert rules.check(item, rules.SERVICE_LIST) == []
        assert item["status"] == "active"


@pytest.mark.parametrize("hidden", ["retired", "pending", "suspended"])
def test_a_retired_service_or_an_unverified_providers_is_never_published(anon, directory, hidden):
    service = directory[hidden]
    assert str(service.oruk_id) not in ids(get_json(anon, "/openreferral/services", per_page=500))
    assert anon.get(f"/openreferral/services/{service.oruk_id}").status_code == 404
    sal = f"/openreferral/service_at_locations/{service.oruk_service_at_location_id}"
    assert anon.get(sal).status_code == 404
    assert str(service.oruk_service_at_location_id) not in ids(get_json(anon, "/openreferral/service_at_locations"))


def test_full_service_maps_provider_price_areas_category_and_ratings(anon, directory):
    visits, bright = directory["visits"], directory["bright"]
    body = get_json(anon, f"/openreferral/services/{visits.oruk_id}")
    assert rules.check(body, rules.SERVICE) == []
    assert body["id"] == str(visits.oruk_id) and body["name"] == "Home visits" and body["status"] == "active"
    assert body["organization_id"] == str(bright.oruk_id)
    assert [a["name"] for a in body["service_areas"]] == ["NF1", "NF2"]
    assert body["cost_options"][0]["amount"] == 20.0
    assert body["cost_options"][0]["amount_description"] == "per hour (GBP)"
    (category,) = body["attributes"]
    assert category["taxonomy_term_id"] == str(mapping.CATEGORIES.term_id("personal_care"))
    assert category["taxonomy_term"]["name"] == "Personal care"
    org = body["organization"]
    assert org["id"] == str(bright.oruk_id) and org["website"] == "https://brightside.example"
    assert org["organization_identifiers"] == [
        {
            "id": org["organization_identifiers"][0]["id"],
            "organization_id": str(bright.oruk_id),
            "identifier_type": "CQC location ID",
            "identifier": "1-111",
        }
    ]
    by_type = {a["link_type"]: a["taxonomy_term"] for a in org["attributes"]}
    assert by_type["regulator_rating"]["term"] == "good"
    assert by_type["client_rating"]["term"] == "4.25"
    assert by_type["client_review_count"]["term"] == "12"
    (sal,) = body["service_at_locations"]
    assert sal["id"] == str(visits.oruk_service_at_location_id)
    assert sal["location"]["description"] == "1 High Street, Northfield, NF1 4QT"


def test_an_unrated_provider_has_no_client_rating_and_no_empty_email(anon, directory):
    body = get_json(anon, f"/openreferral/services/{directory['day'].oruk_id}")
    assert rules.check(body, rules.SERVICE) == []
    org = body["organization"]
    assert "email" not in org and "email" not in body
    assert {a["link_type"] for a in org["attributes"]} == {"regulator_rating", "client_review_count"}
    assert org["organization_identifiers"] == []


def test_every_published_part_has_its_own_id(anon, directory):
    body = get_json(anon, f"/openreferral/services/{directory['visits'].oruk_id}")
    found = []

    def collect(node):
        if isinstance(node, dict):
            if "id" in node and "taxonomy" not in node:  # taxonomy terms are shared, by design
                found.append(node["id"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(body)
    # The organization and its location appear once each in the nesting; every other id is unique.
    assert len(set(found)) == len(found)


def test_ids_stay_the_same_across_renames_and_price_changes(anon, directory):
    visits = directory["visits"]
    before = get_json(anon, f"/openreferral/services/{visits.oruk_id}")
    ServiceOffering.objects.filter(pk=visits.pk).update(title="Visits at home", unit_price="21.00")
    Provider.objects.filter(pk=directory["bright"].pk).update(name="Brightside Homecare")
    after = get_json(anon, f"/openreferral/services/{visits.oruk_id}")
    assert after["name"] == "Visits at home" and after["organization"]["name"] == "Brightside Homecare"

    def id_tree(node):
        if isinstance(node, dict):
            return {k: id_tree(v) for k, v in node.items() if k.endswith("id") or isinstance(v, (dict, list))}
        if isinstance(node, list):
            return [id_tree(v) for v in node]
        return node

    assert id_tree(after) == id_tree(before)


def test_ids_are_stored_not_derived_from_database_ids(directory):
    visits = directory["visits"]
    assert visits.oruk_id.version == 4 and visits.oruk_service_at_location_id.version == 4
    fresh = service_of(directory["bright"], "Another")
    assert fresh.oruk_id != visits.oruk_id
    assert uuid.UUID(str(fresh.oruk_id)) != uuid.uuid5(mapping.NAMESPACE, str(fresh.pk))


def test_paging_follows_the_profile(anon, directory):
    first = get_json(anon, "/openreferral/services", per_page=2)
    assert (first["total_items"], first["total_pages"], first["size"], first["page_number"]) == (3, 2, 2, 1)
    assert first["first_page"] and not first["last_page"]
    second = get_json(anon, "/openreferral/services", per_page=2, page=2)
    assert second["size"] == 1 and second["last_page"] and not second["first_page"]
    assert set(ids(first)).isdisjoint(ids(second))
    beyond = get_json(anon, "/openreferral/services", per_page=2, page=9)
    assert beyond["empty"] and beyond["contents"] == [] and beyond["page_number"] == 9


def test_filters_combine_with_and(anon, directory):
    personal = str(mapping.CATEGORIES.term_id("personal_care"))
    outstanding = str(mapping.REGULATOR_RATINGS.term_id("outstanding"))
    day = str(mapping.CATEGORIES.term_id("day_opportunities"))
    assert ids(get_json(anon, "/openreferral/services", taxonomy_term_id=personal)) == [
        str(directory["visits"].oruk_id)
    ]
    assert ids(get_json(anon, "/openreferral/services", taxonomy_term_id=outstanding)) == [
        str(directory["day"].oruk_id)
    ]
    assert ids(get_json(anon, "/openreferral/services", search="night")) == [str(directory["sitting"].oruk_id)]
    both = get_json(anon, "/openreferral/services", search="day", taxonomy_term_id=day)
    assert ids(both) == [str(directory["day"].oruk_id)]
    neither = get_json(anon, "/openreferral/services", search="night", taxonomy_term_id=day)
    assert neither["empty"] and neither["total_items"] == 0
    in_taxonomy = get_json(anon, "/openreferral/services", taxonomy_id=str(mapping.CATEGORIES.id))
    assert in_taxonomy["total_items"] == 3
    assert get_json(anon, "/openreferral/services", taxonomy_id=str(uuid.uuid4()))["total_items"] == 0
    assert get_json(anon, "/openreferral/services", taxonomy_term_id=str(uuid.uuid4()))["total_items"] == 0


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"per_page": "501"}, "per_page"),
        ({"taxonomy_term_id": "personal_care"}, "taxonomy_term_id"),
        ({"taxonomy_id": "12"}, "taxonomy_id"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(anon, directory, params, field):
    response = anon.get("/openreferral/services", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_service_at_locations_list_detail_and_postcode(anon, directory):
    page = get_json(anon, "/openreferral/service_at_locations")
    assert rules.check(page, rules.PAGE) == []
    assert page["total_items"] == 3
    for item in page["contents"]:
        assert rules.check(item, rules.SERVICE_AT_LOCATION_LIST) == []
    nf2 = get_json(anon, "/openreferral/service_at_locations", postcode="nf2 7xy")
    expected = [str(directory[k].oruk_service_at_location_id) for k in ("visits", "day")]
    assert ids(nf2) == expected
    assert get_json(anon, "/openreferral/service_at_locations", postcode="NF9")["empty"]
    bad = anon.get("/openreferral/service_at_locations", {"postcode": "not a postcode"})
    assert bad.status_code == 400 and list(bad.json()) == ["postcode"]
    visits = directory["visits"]
    body = get_json(anon, f"/openreferral/service_at_locations/{visits.oruk_service_at_location_id}")
    assert rules.check(body, rules.SERVICE_AT_LOCATION) == []
    assert body["service"]["id"] == str(visits.oruk_id)
    assert body["location"]["external_identifier"] == "1-111"


def test_taxonomies_and_terms_list_and_read(anon, directory):
    taxonomies = get_json(anon, "/openreferral/taxonomies")
    assert rules.check(taxonomies, rules.PAGE) == []
    assert [t["name"] for t in taxonomies["contents"]] == ["Cairn service categories", "CQC overall rating"]
    for taxonomy in taxonomies["contents"]:
        assert rules.check(taxonomy, rules.TAXONOMY) == []
        assert get_json(anon, f"/openreferral/taxonomies/{taxonomy['id']}") == taxonomy
    terms = get_json(anon, "/openreferral/taxonomy_terms", per_page=100)
    assert terms["total_items"] == 15
    for term in terms["contents"]:
        assert rules.check(term, rules.TAXONOMY_TERM) == []
        assert get_json(anon, f"/openreferral/taxonomy_terms/{term['id']}") == term
    assert anon.get(f"/openreferral/taxonomy_terms/{uuid.uuid4()}").status_code == 404
    assert anon.get("/openreferral/taxonomies/not-a-uuid").status_code == 404


def test_read_only(anon, directory):
    response = anon.post("/openreferral/services", {}, content_type="application/json")
    assert response.status_code == 405
    assert ServiceOffering.objects.count() == 6


def test_page_queries_do_not_grow_with_services(anon, directory, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        get_json(anon, "/openreferral/services", per_page=500)
    with django_assert_max_num_queries(2):
        get_json(anon, "/openreferral/service_at_locations", per_page=500, postcode="NF1")
    for n in range(20):
        service_of(provider_in("verified", name=f"Provider {n}"), f"Service {n}")
    with django_assert_max_num_queries(2):
        assert get_json(anon, "/openreferral/services", per_page=500)["size"] == 23
    with django_assert_max_num_queries(1):
        get_json(anon, f"/openreferral/services/{directory['visits'].oruk_id}")


def test_the_total_is_kept_a_while_but_never_contradicts_its_page(anon, directory, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert get_json(anon, "/openreferral/services", per_page=2)["total_items"] == 3
    with django_assert_num_queries(1):  # the same filters again: the page only
        assert get_json(anon, "/openreferral/services", per_page=2)["total_items"] == 3
    more = [service_of(directory["river"], f"Extra {n}") for n in range(3)]
    # The last page now holds two services where the kept total said one: counted again.
    with django_assert_num_queries(2):
        last = get_json(anon, "/openreferral/services", per_page=2, page=2)
    assert (last["total_items"], last["total_pages"], last["size"], last["last_page"]) == (6, 3, 2, False)
    ServiceOffering.objects.filter(pk__in=[s.pk for s in more]).update(retired_at="2026-01-01T00:00Z")
    beyond = get_json(anon, "/openreferral/services", per_page=2, page=3)
    assert beyond["empty"] and beyond["total_items"] == 3 and beyond["last_page"]


def test_a_browsers_preflight_is_answered_for_any_origin(anon, directory):
    response = anon.options(
        "/openreferral/services",
        HTTP_ORIGIN="https://directory.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="accept",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "accept"

"""Service offerings and the catalogue (API.md "Providers and services"; PRODUCT.md §6):
`POST /api/v1/services/`, `GET`/`PATCH /api/v1/services/{id}/` and the catalogue listing
`GET /api/v1/services/` with its filters, orderings, result shape and query count."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from accounts.models import AuditAction, AuditEvent
from providers.models import Provider, ProviderStatus, RegulatorRating, ServiceArea, ServiceOffering
from tests import factories
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/"
PENDING, VERIFIED, SUSPENDED = ProviderStatus.PENDING, ProviderStatus.VERIFIED, ProviderStatus.SUSPENDED
NON_PROVIDER_ROLES = [name for name in ROLE_FIXTURES.values() if name != "provider_user"]


def detail_url(pk):
    return f"{URL}{pk}/"


def gbp(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


def new_service(**extra):
    return {
        "title": "Personal care visits",
        "category": "personal_care",
        "unit": "hour",
        "unit_price": gbp("24.50"),
        "postcode_districts": ["nf1", "NF2", "NF1"],
        "description": "Help with washing and dressing.",
        **extra,
    }


def make_service(provider, title="Home visits", **extra):
    fields = {"category": "personal_care", "unit": "hour", "unit_price": Money("20.00", "GBP"), **extra}
    districts = fields.setdefault("postcode_districts", ["NF1"])
    service = ServiceOffering.objects.create(provider=provider, title=title, **fields)
    ServiceArea.objects.bulk_create([ServiceArea(service=service, district=d) for d in districts])
    return service


def put_in_state(provider, status):
    Provider.objects.filter(pk=provider.pk).update(status=status)
    return Provider.objects.get(pk=provider.pk)


def service_audit(action):
    return AuditEvent.objects.filter(action=action, target_type=ContentType.objects.get_for_model(ServiceOffering))


def snapshot(service):
    s = ServiceOffering.objects.get(pk=service.pk)
    areas = sorted(ServiceArea.objects.filter(service=s).values_list("district", flat=True))
    return (s.title, s.category, s.unit, s.unit_price, s.postcode_districts, s.description, s.updated_at, areas)


@pytest.fixture
def own_provider(provider_user):
    """Lee's organisation, pending checks (as ProviderFactory makes it)."""
    return provider_user.provider


@pytest.fixture
def other_staff(db):
    """A member of staff of another, verified provider."""
    return factories.ProviderStaffFactory(full_name="Olive Grant", provider=factories.ProviderFactory(status=VERIFIED))


# --- POST /services/ -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [PENDING, VERIFIED])
def test_staff_list_a_service_for_their_own_provider(api_as, provider_user, own_provider, status):
    put_in_state(own_provider, status)
    response = api_as(provider_user).post(URL, new_service(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    service = ServiceOffering.objects.get(pk=body["id"])
    assert service.provider == own_provider
    assert service.title == "Personal care visits"
    assert service.unit_price == Money("24.50", "GBP")
    assert service.postcode_districts == ["NF1", "NF2"]
    assert sorted(service.areas.values_list("district", flat=True)) == ["NF1", "NF2"]
    assert service.retired_at is None
    assert body["unit_price"] == gbp("24.50")
    assert body["provider"]["id"] == own_provider.pk
    assert body["category"] == "personal_care" and body["unit"] == "hour"
    assert service_audit(AuditAction.CREATE).get().actor == provider_user


def test_a_provider_given_in_the_body_is_ignored(api_as, provider_user, own_provider):
    elsewhere = factories.ProviderFactory(status=VERIFIED)
    response = api_as(provider_user).post(URL, new_service(provider=elsewhere.pk), format="json")
    assert response.status_code == 201
    assert ServiceOffering.objects.get().provider == own_provider


def test_districts_and_description_are_optional(api_as, provider_user):
    body = {"title": "Equipment loan", "category": "equipment", "unit": "item", "unit_price": gbp("5")}
    response = api_as(provider_user).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    service = ServiceOffering.objects.get()
    assert service.postcode_districts == [] and service.description == ""
    assert response.json()["unit_price"] == gbp("5.00")


INVALID_SERVICES = [
    pytest.param({"unit_price": gbp("0")}, "unit_price", id="zero-price"),
    pytest.param({"unit_price": gbp("0.00")}, "unit_price", id="zero-pence-price"),
    pytest.param({"unit_price": gbp("-5.00")}, "unit_price", id="negative-price"),
    pytest.param({"unit_price": gbp("10.555")}, "unit_price", id="three-decimal-price"),
    pytest.param({"unit_price": gbp("abc")}, "unit_price", id="non-number-price"),
    pytest.param({"unit_price": {"amount": "10.00", "currency": "EUR"}}, "unit_price", id="euro-price"),
    pytest.param({"unit_price": "10.00"}, "unit_price", id="bare-price"),
    pytest.param({"unit_price": {"currency": "GBP"}}, "unit_price", id="price-without-amount"),
    pytest.param({"category": "gardening"}, "category", id="unknown-category"),
    pytest.param({"unit": "fortnight"}, "unit", id="unknown-unit"),
    pytest.param({"postcode_districts": ["123"]}, "postcode_districts", id="numeric-district"),
    pytest.param({"postcode_districts": ["NOTAPOSTCODE"]}, "postcode_districts", id="long-district"),
    pytest.param({"postcode_districts": ["NF1", "NF1 2AB"]}, "postcode_districts", id="full-postcode"),
    pytest.param({"postcode_districts": "NF1"}, "postcode_districts", id="district-not-a-list"),
    pytest.param({"title": ""}, "title", id="blank-title"),
    pytest.param({"title": "   "}, "title", id="spaces-title"),
]


@pytest.mark.parametrize(("change", "field"), INVALID_SERVICES)
def test_an_invalid_service_is_400_naming_the_field_and_nothing_is_written(api_as, provider_user, change, field):
    response = api_as(provider_user).post(URL, new_service(**change), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ServiceOffering.objects.exists()
    assert not ServiceArea.objects.exists()
    assert not service_audit(AuditAction.CREATE).exists()


@pytest.mark.parametrize("field", ["title", "category", "unit", "unit_price"])
def test_a_missing_required_field_is_400(api_as, provider_user, field):
    body = new_service()
    del body[field]
    response = api_as(provider_user).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ServiceOffering.objects.exists()


def test_every_problem_is_reported_at_once(api_as, provider_user):
    body = new_service(title="", category="gardening", unit="fortnight", unit_price=gbp("-1"))
    response = api_as(provider_user).post(URL, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"title", "category", "unit", "unit_price"}


@pytest.mark.parametrize("name", NON_PROVIDER_ROLES)
def test_other_roles_may_not_list_a_service(request, api_as, name):
    response = api_as(request.getfixturevalue(name)).post(URL, new_service(), format="json")
    assert response.status_code == 403
    assert not ServiceOffering.objects.exists()


def test_listing_a_service_without_a_token_is_401(api):
    assert api.post(URL, new_service(), format="json").status_code == 401
    assert not ServiceOffering.objects.exists()


# --- GET /services/{id}/ -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ROLE_FIXTURES.values()))
def test_a_verified_providers_live_service_reads_for_every_role(request, api_as, name):
    service = make_service(factories.ProviderFactory(status=VERIFIED))
    response = api_as(request.getfixturevalue(name)).get(detail_url(service.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == service.pk
    assert body["unit_price"] == gbp("20.00")
    assert body["retired"] is False


@pytest.mark.parametrize("status", [PENDING, SUSPENDED])
@pytest.mark.parametrize("name", ["client_user", "social_worker", "team_manager", "finance_user"])
def test_a_pending_or_suspended_providers_service_is_404_to_others(request, api_as, own_provider, name, status):
    service = make_service(put_in_state(own_provider, status))
    response = api_as(request.getfixturevalue(name)).get(detail_url(service.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("status", [PENDING, SUSPENDED])
def test_a_pending_or_suspended_providers_service_is_404_to_another_providers_staff(
    api_as, own_provider, other_staff, status
):
    service = make_service(put_in_state(own_provider, status))
    assert api_as(other_staff).get(detail_url(service.pk)).status_code == 404


@pytest.mark.parametrize("status", [PENDING, SUSPENDED])
@pytest.mark.parametrize("name", ["provider_user", "case_manager", "admin_person"])
def test_a_pending_or_suspended_providers_service_reads_for_its_staff_and_overseers(
    request, api_as, own_provider, name, status
):
    service = make_service(put_in_state(own_provider, status))
    response = api_as(request.getfixturevalue(name)).get(detail_url(service.pk))
    assert response.status_code == 200
    assert response.json()["id"] == service.pk


def test_a_retired_service_is_404_to_a_client_but_reads_for_its_staff(api_as, provider_user, own_provider, client_user):
    service = make_service(put_in_state(own_provider, VERIFIED), retired_at=timezone.now())
    assert api_as(client_user).get(detail_url(service.pk)).status_code == 404
    response = api_as(provider_user).get(detail_url(service.pk))
    assert response.status_code == 200
    assert response.json()["retired"] is True


def test_an_unknown_service_is_404(api_as, admin_person):
    assert api_as(admin_person).get(detail_url(999999)).status_code == 404


def test_reading_a_service_without_a_token_is_401(api):
    service = make_service(factories.ProviderFactory(status=VERIFIED))
    assert api.get(detail_url(service.pk)).status_code == 401


# --- PATCH /services/{id}/ -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [PENDING, VERIFIED, SUSPENDED])
def test_staff_change_their_own_service(api_as, provider_user, own_provider, status):
    service = make_service(put_in_state(own_provider, status), postcode_districts=["NF1"])
    response = api_as(provider_user).patch(
        detail_url(service.pk),
        {"title": "Evening visits", "unit_price": gbp("26.00"), "postcode_districts": ["nf3", "NF4"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["title"] == "Evening visits"
    assert body["unit_price"] == gbp("26.00")
    service.refresh_from_db()
    assert service.title == "Evening visits"
    assert service.unit_price == Money("26.00", "GBP")
    assert service.category == "personal_care"  # untouched
    assert service.postcode_districts == ["NF3", "NF4"]
    assert sorted(service.areas.values_list("district", flat=True)) == ["NF3", "NF4"]
    event = service_audit(AuditAction.UPDATE).get()
    assert event.actor == provider_user
    assert event.changes["title"] == {"from": "Home visits", "to": "Evening visits"}


def test_another_verified_providers_staff_get_403_and_nothing_changes(api_as, other_staff, own_provider):
    service = make_service(put_in_state(own_provider, VERIFIED))
    before = snapshot(service)
    response = api_as(other_staff).patch(detail_url(service.pk), {"title": "Hijacked"}, format="json")
    assert response.status_code == 403
    assert snapshot(service) == before


def test_another_providers_staff_get_404_for_a_pending_providers_service(api_as, other_staff, own_provider):
    # Not visible to them, so 404 (API.md: 404 "not visible to this user") rather than 403.
    service = make_service(own_provider)
    before = snapshot(service)
    response = api_as(other_staff).patch(detail_url(service.pk), {"title": "Hijacked"}, format="json")
    assert response.status_code == 404
    assert snapshot(service) == before


def test_a_client_gets_403_patching_a_listed_service(api_as, client_user):
    service = make_service(factories.ProviderFactory(status=VERIFIED))
    before = snapshot(service)
    response = api_as(client_user).patch(detail_url(service.pk), {"title": "Mine now"}, format="json")
    assert response.status_code == 403
    assert snapshot(service) == before


def test_a_client_gets_403_patching_a_pending_providers_service(api_as, client_user, own_provider):
    # The role may never change services, so it is refused before the service is looked up.
    service = make_service(own_provider)
    before = snapshot(service)
    response = api_as(client_user).patch(detail_url(service.pk), {"title": "Mine now"}, format="json")
    assert response.status_code == 403
    assert snapshot(service) == before


@pytest.mark.parametrize("name", ["case_manager", "admin_person", "social_worker", "team_manager", "finance_user"])
def test_only_the_providers_own_staff_may_patch(request, api_as, own_provider, name):
    service = make_service(put_in_state(own_provider, VERIFIED))
    before = snapshot(service)
    response = api_as(request.getfixturevalue(name)).patch(detail_url(service.pk), {"title": "X"}, format="json")
    assert response.status_code == 403
    assert snapshot(service) == before


def test_patching_without_a_token_is_401(api, own_provider):
    service = make_service(put_in_state(own_provider, VERIFIED))
    before = snapshot(service)
    assert api.patch(detail_url(service.pk), {"title": "X"}, format="json").status_code == 401
    assert snapshot(service) == before


INVALID_CHANGES = [
    pytest.param({"unit_price": gbp("0")}, "unit_price", id="zero-price"),
    pytest.param({"unit_price": gbp("-1.00")}, "unit_price", id="negative-price"),
    pytest.param({"unit_price": gbp("9.999")}, "unit_price", id="three-decimal-price"),
    pytest.param({"category": "gardening"}, "category", id="unknown-category"),
    pytest.param({"unit": "fortnight"}, "unit", id="unknown-unit"),
    pytest.param({"postcode_districts": ["123"]}, "postcode_districts", id="numeric-district"),
    pytest.param({"postcode_districts": ["NOTAPOSTCODE"]}, "postcode_districts", id="long-district"),
    pytest.param({"title": ""}, "title", id="blank-title"),
    pytest.param({"title": "Fine", "unit_price": gbp("0")}, "unit_price", id="one-good-one-bad"),
]


@pytest.mark.parametrize(("change", "field"), INVALID_CHANGES)
def test_an_invalid_patch_is_400_and_changes_nothing(api_as, provider_user, own_provider, change, field):
    service = make_service(put_in_state(own_provider, VERIFIED), postcode_districts=["NF1"])
    before = snapshot(service)
    response = api_as(provider_user).patch(detail_url(service.pk), change, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot(service) == before
    assert not service_audit(AuditAction.UPDATE).exists()


def test_put_and_delete_are_not_offered(api_as, provider_user, own_provider):
    service = make_service(own_provider)
    staff = api_as(provider_user)
    assert staff.put(detail_url(service.pk), new_service(), format="json").status_code == 405
    assert staff.delete(detail_url(service.pk)).status_code == 405
    assert ServiceOffering.objects.filter(pk=service.pk).exists()


# --- the catalogue: GET /services/ ---------------------------------------------------------------


@pytest.fixture
def catalogue(db):
    """Eight live services across three verified providers, plus a retired one and the services of a
    pending and a suspended provider, which never appear.

    Heron Care (good, rated 3.20 from 40 reviews), Kestrel Support (outstanding, 4.50 from 10),
    Otter Homecare (requires improvement, not yet rated by clients).
    """
    heron = factories.ProviderFactory(name="Heron Care", status=VERIFIED, regulator_rating=RegulatorRating.GOOD)
    kestrel = factories.ProviderFactory(
        name="Kestrel Support", status=VERIFIED, regulator_rating=RegulatorRating.OUTSTANDING
    )
    otter = factories.ProviderFactory(
        name="Otter Homecare", status=VERIFIED, regulator_rating=RegulatorRating.REQUIRES_IMPROVEMENT
    )
    wren = factories.ProviderFactory(name="Wren Services", status=PENDING, regulator_rating=RegulatorRating.GOOD)
    finch = factories.ProviderFactory(name="Finch Living", status=SUSPENDED, regulator_rating=RegulatorRating.GOOD)
    Provider.objects.filter(pk=heron.pk).update(rating=Decimal("3.20"), review_count=40)
    Provider.objects.filter(pk=kestrel.pk).update(rating=Decimal("4.50"), review_count=10)

    def add(provider, title, category, unit, price, districts, **extra):
        return make_service(
            provider, title, category=category, unit=unit, unit_price=Money(price, "GBP"),
            postcode_districts=districts, **extra,
        )  # fmt: skip

    services = {
        "respite": add(heron, "Respite breaks", "respite", "night", "120.00", ["NF1", "NF2"]),
        "morning": add(heron, "Morning personal care", "personal_care", "hour", "22.50", ["NF1"]),
        "visits": add(kestrel, "Personal care visits", "personal_care", "hour", "25.00", ["NF2", "NF3"]),
        "gardening": add(kestrel, "Community gardening group", "community_activities", "session", "15.00", ["NF3"]),
        "transport": add(kestrel, "Transport to appointments", "transport", "item", "12.00", ["NF1"]),
        "day": add(otter, "Day centre", "day_opportunities", "day", "60.00", ["NF2"]),
        "assistant": add(otter, "Personal assistant support", "personal_assistant", "hour", "18.00", ["NF1", "NF3"]),
        "therapy": add(otter, "Music therapy sessions", "therapy", "session", "35.00", ["NF4"]),
        # Never listed:
        "retired": add(heron, "Old respite stays", "respite", "night", "80.00", ["NF1"], retired_at=timezone.now()),
        "pending": add(wren, "Domestic help", "domestic_help", "hour", "19.00", ["NF1"]),
        "suspended": add(finch, "Physiotherapy", "therapy", "session", "40.00", ["NF1"]),
    }
    return services


LIVE = ["respite", "morning", "visits", "gardening", "transport", "day", "assistant", "therapy"]
BY_TITLE = ["gardening", "day", "morning", "therapy", "assistant", "visits", "respite", "transport"]


def listed(api_client, query=""):
    response = api_client.get(f"{URL}?{query}" if query else URL)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def pks(catalogue, *names):
    return [catalogue[n].pk for n in names]


@pytest.mark.parametrize("name", list(ROLE_FIXTURES.values()))
def test_every_role_sees_only_verified_providers_live_services(request, api_as, catalogue, name):
    response = api_as(request.getfixturevalue(name)).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == len(LIVE)
    assert sorted(r["id"] for r in body["results"]) == sorted(pks(catalogue, *LIVE))


def test_the_catalogue_needs_a_token(api, catalogue):
    assert api.get(URL).status_code == 401


def test_the_catalogue_is_ordered_by_title_by_default(api_as, client_user, catalogue):
    assert listed(api_as(client_user)) == pks(catalogue, *BY_TITLE)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # free text: a word of a title, of a provider's name
        ("q=respite", ["respite"]),
        ("q=Respite", ["respite"]),
        ("q=gardening", ["gardening"]),
        ("q=heron", ["morning", "respite"]),
        ("q=kestrel", ["gardening", "visits", "transport"]),
        ("q=zebra", []),
        # category
        ("category=personal_care", ["morning", "visits"]),
        ("category=respite", ["respite"]),
        ("category=therapy", ["therapy"]),
        ("category=domestic_help", []),
        # postcode district, any case
        ("postcode_district=NF1", ["morning", "assistant", "respite", "transport"]),
        ("postcode_district=nf3", ["gardening", "assistant", "visits"]),
        ("postcode_district=NF9", []),
        # max price, inclusive
        ("max_price=22.50", ["gardening", "morning", "assistant", "transport"]),
        ("max_price=22.49", ["gardening", "assistant", "transport"]),
        ("max_price=12", ["transport"]),
        ("max_price=0", []),
        # regulator rating
        ("regulator_rating=outstanding", ["gardening", "visits", "transport"]),
        ("regulator_rating=good", ["morning", "respite"]),
        ("regulator_rating=requires_improvement", ["day", "therapy", "assistant"]),
        ("regulator_rating=inadequate", []),
        # client rating: unrated providers never pass a minimum
        ("min_rating=4", ["gardening", "visits", "transport"]),
        ("min_rating=3.2", ["gardening", "morning", "visits", "respite", "transport"]),
        ("min_rating=0", ["gardening", "morning", "visits", "respite", "transport"]),
        ("min_rating=5", []),
        # combined
        ("category=personal_care&postcode_district=NF2", ["visits"]),
        ("category=personal_care&max_price=24", ["morning"]),
        ("q=heron&max_price=50", ["morning"]),
        ("q=kestrel&postcode_district=NF1", ["transport"]),
        ("regulator_rating=good&category=respite", ["respite"]),
        ("postcode_district=NF1&max_price=20&regulator_rating=requires_improvement", ["assistant"]),
        ("min_rating=3&postcode_district=NF3&category=community_activities", ["gardening"]),
        ("q=respite&postcode_district=NF3", []),
        # empty parameters are no filter
        ("q=&category=&postcode_district=&max_price=&regulator_rating=&min_rating=&ordering=", BY_TITLE),
    ],
)
def test_catalogue_filters(api_as, client_user, catalogue, query, expected):
    ordered = [name for name in BY_TITLE if name in expected]
    assert listed(api_as(client_user), query) == pks(catalogue, *ordered)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["transport", "gardening", "assistant", "morning", "visits", "therapy", "day", "respite"]),
        ("-price", ["respite", "day", "therapy", "visits", "morning", "assistant", "gardening", "transport"]),
        ("title", BY_TITLE),
        # Kestrel 4.50, then Heron 3.20, then unrated Otter last; ties by id.
        ("-rating", ["visits", "gardening", "transport", "respite", "morning", "day", "assistant", "therapy"]),
        # Heron 40 reviews, Kestrel 10, Otter 0; ties by id.
        ("-review_count", ["respite", "morning", "visits", "gardening", "transport", "day", "assistant", "therapy"]),
    ],
)
def test_catalogue_orderings(api_as, client_user, catalogue, ordering, expected):
    assert listed(api_as(client_user), f"ordering={ordering}") == pks(catalogue, *expected)


def test_an_ordering_applies_to_a_filtered_list(api_as, client_user, catalogue):
    got = listed(api_as(client_user), "postcode_district=NF1&ordering=-price")
    assert got == pks(catalogue, "respite", "morning", "assistant", "transport")


def test_equal_prices_are_ordered_by_id_both_ways(api_as, client_user, catalogue):
    # A tie must not make pages unstable: ids break it.
    ServiceOffering.objects.filter(pk__in=pks(catalogue, *LIVE)).update(unit_price=Money("10.00", "GBP"))
    client = api_as(client_user)
    ascending = sorted(pks(catalogue, *LIVE))
    assert listed(client, "ordering=price") == ascending
    assert listed(client, "ordering=-price") == ascending[::-1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=gardening", "category"),
        ("category=Personal_Care", "category"),
        ("ordering=rating", "ordering"),
        ("ordering=unit_price", "ordering"),
        ("ordering=-nonsense", "ordering"),
        ("regulator_rating=excellent", "regulator_rating"),
        ("max_price=abc", "max_price"),
        ("max_price=-1", "max_price"),
        ("max_price=NaN", "max_price"),
        ("min_rating=abc", "min_rating"),
        ("min_rating=-1", "min_rating"),
    ],
)
def test_a_bad_catalogue_parameter_is_400_naming_it(api_as, client_user, catalogue, query, field):
    response = api_as(client_user).get(f"{URL}?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_catalogue_results_have_the_contract_shape(api_as, social_worker, catalogue):
    body = api_as(social_worker).get(f"{URL}?q=kestrel&category=personal_care").json()
    (row,) = body["results"]
    assert set(row) >= {"id", "title", "category", "unit", "unit_price", "provider"}
    assert row["id"] == catalogue["visits"].pk
    assert row["title"] == "Personal care visits"
    assert row["category"] == "personal_care"
    assert row["unit"] == "hour"
    assert row["unit_price"] == {"amount": "25.00", "currency": "GBP"}
    provider = row["provider"]
    assert set(provider) >= {"id", "name", "rating", "review_count", "regulator_rating"}
    assert provider["id"] == catalogue["visits"].provider_id
    assert provider["name"] == "Kestrel Support"
    assert provider["rating"] == "4.50"
    assert provider["review_count"] == 10
    assert provider["regulator_rating"] == "outstanding"


def test_an_unrated_providers_rating_is_null_in_the_catalogue(api_as, client_user, catalogue):
    (row,) = api_as(client_user).get(f"{URL}?category=day_opportunities").json()["results"]
    assert row["provider"]["rating"] is None
    assert row["provider"]["review_count"] == 0


def test_the_catalogue_is_paginated(api_as, client_user):
    provider = factories.ProviderFactory(status=VERIFIED)
    for n in range(53):
        make_service(provider, f"Service {n:02d}")
    client = api_as(client_user)
    first = client.get(URL).json()
    assert first["count"] == 53 and len(first["results"]) == 50
    assert first["previous"] is None and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 3 and second["next"] is None


def _catalogue_of(n: int) -> None:
    """`n` live services spread over three verified providers."""
    providers = [factories.ProviderFactory(status=VERIFIED) for _ in range(3)]
    for i in range(n):
        make_service(providers[i % 3], f"Service {i:02d}", postcode_districts=["NF1", "NF2"])


def _count_queries(api_client, query="") -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "query", ["", "postcode_district=NF1&ordering=-rating", "category=personal_care&max_price=100&ordering=price"]
)
def test_the_catalogue_takes_the_same_number_of_queries_for_3_or_30_services(
    api_as, client_user, django_assert_max_num_queries, query
):
    client = api_as(client_user)
    _catalogue_of(3)
    with_three = _count_queries(client, query)
    _catalogue_of(27)
    with django_assert_max_num_queries(with_three):
        response = client.get(f"{URL}?{query}")
    assert response.json()["count"] == 30
    assert len(response.json()["results"]) == 30


def test_a_role_that_may_not_list_services_gets_403_even_with_a_bad_body(api_as, client_user):
    response = api_as(client_user).post("/api/v1/services/", {"title": ""}, format="json")
    assert response.status_code == 403
    assert not ServiceOffering.objects.exists()

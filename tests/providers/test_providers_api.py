"""`POST /api/v1/providers/`, `GET /api/v1/providers/` and `GET /api/v1/providers/{id}/` (API.md
"Providers and services"; PRODUCT.md §6): who may record and list providers, the list's filters and
pagination, and who may read a provider in each onboarding state."""

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.models import AuditAction, AuditEvent, Role
from providers.models import Provider, ProviderStatus, RegulatorRating
from tests import factories
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db

URL = "/api/v1/providers/"
OVERSEERS = ["admin_person", "case_manager"]
NOT_OVERSEERS = [name for name in ROLE_FIXTURES.values() if name not in OVERSEERS]
PENDING, VERIFIED, SUSPENDED = ProviderStatus.PENDING, ProviderStatus.VERIFIED, ProviderStatus.SUSPENDED


def detail_url(pk):
    return f"{URL}{pk}/"


def new_provider(**extra):
    return {"name": "Heron Care", "postcode": "nf1 2ab", "email": "office@heron.example", **extra}


def ids(response):
    return [row["id"] for row in response.json()["results"]]


# --- POST /providers/ ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", OVERSEERS)
def test_admin_and_case_manager_record_a_pending_provider(request, api_as, name):
    actor = request.getfixturevalue(name)
    response = api_as(actor).post(URL, new_provider(regulator_id="1-123456789", regulator_rating="good"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert isinstance(body["id"], int)
    provider = Provider.objects.get(pk=body["id"])
    assert provider.status == PENDING
    assert provider.name == "Heron Care"
    assert provider.postcode == "NF1 2AB"
    assert provider.email == "office@heron.example"
    assert provider.regulator_id == "1-123456789"
    assert provider.regulator_rating == RegulatorRating.GOOD
    assert body["regulator_rating"] == "good"
    assert body["rating"] is None and body["review_count"] == 0
    event = AuditEvent.objects.get(
        action=AuditAction.CREATE, target_type=ContentType.objects.get_for_model(Provider), target_id=str(provider.pk)
    )
    assert event.actor == actor


def test_regulator_fields_are_optional(api_as, case_manager):
    response = api_as(case_manager).post(URL, new_provider(), format="json")
    assert response.status_code == 201
    provider = Provider.objects.get(pk=response.json()["id"])
    assert provider.regulator_id is None
    assert provider.regulator_rating == RegulatorRating.NOT_YET_RATED


def test_two_providers_without_a_regulator_id_may_coexist(api_as, case_manager):
    cm = api_as(case_manager)
    assert cm.post(URL, new_provider(regulator_id=""), format="json").status_code == 201
    assert cm.post(URL, new_provider(name="Kestrel Support"), format="json").status_code == 201
    assert Provider.objects.filter(regulator_id__isnull=True).count() == 2


@pytest.mark.parametrize("rating", ["excellent", "Good", ""])
def test_an_unknown_regulator_rating_is_400_and_nothing_is_recorded(api_as, case_manager, rating):
    response = api_as(case_manager).post(URL, new_provider(regulator_rating=rating), format="json")
    assert response.status_code == 400
    assert "regulator_rating" in response.json()
    assert not Provider.objects.exists()


@pytest.mark.parametrize("given", ["1-123456789", " 1-123456789 "])
def test_a_duplicate_regulator_id_is_400_and_nothing_is_recorded(api_as, case_manager, given):
    factories.ProviderFactory(regulator_id="1-123456789")
    response = api_as(case_manager).post(URL, new_provider(regulator_id=given), format="json")
    assert response.status_code == 400
    assert "regulator_id" in response.json()
    assert Provider.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"postcode": "NF1 2AB"}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Heron Care", "email": "not-an-email"}, "email"),
    ],
)
def test_invalid_provider_details_are_400_with_the_field(api_as, case_manager, body, field):
    response = api_as(case_manager).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Provider.objects.exists()


def test_status_given_on_create_is_ignored(api_as, case_manager):
    response = api_as(case_manager).post(URL, new_provider(status="verified"), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert Provider.objects.get().status == PENDING


@pytest.mark.parametrize("name", NOT_OVERSEERS)
def test_other_roles_may_not_record_a_provider(request, api_as, name):
    actor = request.getfixturevalue(name)
    before = Provider.objects.count()
    response = api_as(actor).post(URL, new_provider(), format="json")
    assert response.status_code == 403
    assert Provider.objects.count() == before


def test_recording_a_provider_without_a_token_is_401(api):
    response = api.post(URL, new_provider(), format="json")
    assert response.status_code == 401
    assert not Provider.objects.exists()


# --- GET /providers/ -----------------------------------------------------------------------------


@pytest.fixture
def register(db):
    """Five providers across the three states."""
    return {
        "heron": factories.ProviderFactory(name="Heron Care", status=VERIFIED, regulator_id="1-111"),
        "kestrel": factories.ProviderFactory(name="Kestrel Support", status=VERIFIED, regulator_id="1-222"),
        "otter": factories.ProviderFactory(name="Otter Homecare", status=PENDING, regulator_id="1-333"),
        "wren": factories.ProviderFactory(name="Wren Care at Home", status=SUSPENDED),
        "finch": factories.ProviderFactory(name="Finch Living", status=PENDING),
    }


def expect(register, *names):
    return sorted((register[n] for n in names), key=lambda p: (p.name, p.pk))


@pytest.mark.parametrize("name", OVERSEERS)
def test_admin_and_case_manager_list_every_provider_by_name(request, api_as, register, name):
    response = api_as(request.getfixturevalue(name)).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 5
    assert ids(response) == [p.pk for p in expect(register, "heron", "kestrel", "otter", "wren", "finch")]
    assert set(body["results"][0]) >= {"id", "name", "status", "rating", "review_count", "regulator_rating"}


@pytest.mark.parametrize("name", NOT_OVERSEERS)
def test_other_roles_may_not_list_providers(request, api_as, register, name):
    response = api_as(request.getfixturevalue(name)).get(URL)
    assert response.status_code == 403


def test_listing_providers_without_a_token_is_401(api, register):
    assert api.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending", ["otter", "finch"]),
        ("status=verified", ["heron", "kestrel"]),
        ("status=suspended", ["wren"]),
        ("q=care", ["heron", "otter", "wren"]),
        ("q=HERON", ["heron"]),
        ("q=nobody", []),
        ("regulator_id=1-222", ["kestrel"]),
        ("regulator_id=9-999", []),
        ("status=verified&q=care", ["heron"]),
        ("status=pending&q=care", ["otter"]),
        ("status=pending&regulator_id=1-333", ["otter"]),
        ("status=verified&regulator_id=1-333", []),
        ("status=&q=&regulator_id=", ["heron", "kestrel", "otter", "wren", "finch"]),
    ],
)
def test_the_provider_list_filters(api_as, case_manager, register, query, expected):
    response = api_as(case_manager).get(f"{URL}?{query}")
    assert response.status_code == 200
    assert ids(response) == [p.pk for p in expect(register, *expected)]
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize("status", ["live", "VERIFIED", "retired"])
def test_an_unknown_status_filter_is_400(api_as, case_manager, register, status):
    response = api_as(case_manager).get(f"{URL}?status={status}")
    assert response.status_code == 400
    assert "status" in response.json()


def test_the_provider_list_is_paginated(api_as, admin_person):
    factories.ProviderFactory.create_batch(55)
    admin = api_as(admin_person)
    first = admin.get(URL).json()
    assert first["count"] == 55
    assert len(first["results"]) == 50
    assert first["previous"] is None and first["next"]
    second = admin.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None and second["previous"]
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


# --- GET /providers/{id}/ ------------------------------------------------------------------------


@pytest.fixture
def own_provider(provider_user):
    """Lee's organisation."""
    return provider_user.provider


def put_in_state(provider, status):
    Provider.objects.filter(pk=provider.pk).update(status=status)
    return Provider.objects.get(pk=provider.pk)


def test_a_provider_reads_with_its_rating_fields(api_as, client_user):
    provider = factories.ProviderFactory(
        name="Heron Care", status=VERIFIED, regulator_id="1-555", regulator_rating=RegulatorRating.OUTSTANDING
    )
    response = api_as(client_user).get(detail_url(provider.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == provider.pk
    assert body["name"] == "Heron Care"
    assert body["status"] == "verified"
    assert body["rating"] is None
    assert body["review_count"] == 0
    assert body["regulator_rating"] == "outstanding"
    assert body["regulator_id"] == "1-555"


def test_the_stored_rating_aggregate_is_shown_beside_the_regulator_rating(api_as, client_user):
    provider = factories.ProviderFactory(status=VERIFIED, regulator_rating=RegulatorRating.REQUIRES_IMPROVEMENT)
    Provider.objects.filter(pk=provider.pk).update(rating="4.25", review_count=12)
    body = api_as(client_user).get(detail_url(provider.pk)).json()
    assert body["rating"] == "4.25"
    assert body["review_count"] == 12
    assert body["regulator_rating"] == "requires_improvement"


@pytest.mark.parametrize("name", list(ROLE_FIXTURES.values()))
def test_any_signed_in_user_reads_a_verified_provider(request, api_as, name):
    provider = factories.ProviderFactory(status=VERIFIED)
    response = api_as(request.getfixturevalue(name)).get(detail_url(provider.pk))
    assert response.status_code == 200
    assert response.json()["id"] == provider.pk


@pytest.mark.parametrize("status", [PENDING, SUSPENDED])
@pytest.mark.parametrize("name", ["client_user", "social_worker", "team_manager", "finance_user", "provider_user"])
def test_a_pending_or_suspended_provider_is_404_to_others(request, api_as, name, status):
    # `provider_user` here is staff of a different provider.
    provider = factories.ProviderFactory(status=status)
    response = api_as(request.getfixturevalue(name)).get(detail_url(provider.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("status", [PENDING, SUSPENDED])
@pytest.mark.parametrize("name", OVERSEERS)
def test_admin_and_case_manager_read_a_pending_or_suspended_provider(request, api_as, name, status):
    provider = factories.ProviderFactory(status=status)
    response = api_as(request.getfixturevalue(name)).get(detail_url(provider.pk))
    assert response.status_code == 200
    assert response.json()["status"] == status


@pytest.mark.parametrize("status", [PENDING, VERIFIED, SUSPENDED])
def test_staff_read_their_own_provider_in_every_state(api_as, provider_user, own_provider, status):
    put_in_state(own_provider, status)
    response = api_as(provider_user).get(detail_url(own_provider.pk))
    assert response.status_code == 200
    assert response.json()["status"] == status


def test_a_pending_provider_is_404_to_another_providers_staff(api_as, own_provider):
    other_staff = factories.ProviderStaffFactory(provider=factories.ProviderFactory(status=VERIFIED))
    response = api_as(other_staff).get(detail_url(own_provider.pk))
    assert response.status_code == 404


def test_an_unknown_provider_is_404(api_as, admin_person):
    assert api_as(admin_person).get(detail_url(999999)).status_code == 404


def test_reading_a_provider_without_a_token_is_401(api):
    provider = factories.ProviderFactory(status=VERIFIED)
    assert api.get(detail_url(provider.pk)).status_code == 401


def test_a_provider_reads_the_same_through_a_browser_session(web_as, client_user):
    provider = factories.ProviderFactory(status=VERIFIED)
    response = web_as(client_user).get(detail_url(provider.pk), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["id"] == provider.pk


def test_a_role_fixture_exists_for_every_role():
    # Guards the parametrisations above: a new role must be placed in one group or the other.
    assert set(ROLE_FIXTURES) == set(Role.values)

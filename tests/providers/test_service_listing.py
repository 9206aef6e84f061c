"""The catalogue's search table on PostgreSQL (`ServiceListing`, migration providers 0011).

Two promises, checked after every kind of write that can move a service in or out of the
catalogue or change what it is filtered or sorted by — through the product's services and as raw
bulk writes (an import, COPY, the nightly refresh's one UPDATE), since the triggers must see both:
1. the table holds exactly one row for each live service of a verified provider, with every column
   equal to the service's and its provider's;
2. the catalogue read from it gives the same services, in the same order, as the catalogue read
   from the service and provider tables, for every filter and ordering.
"""
# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

from __future__ import annotations

import itertools
import random
import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, close_old_connections, connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from accounts.models import Role
from providers.models import (
    Provider,
    ProviderStatus,
    RegulatorRating,
    ServiceArea,
    ServiceCategory,
    ServiceListing,
    ServiceListingArea,
    ServiceOffering,
)
from providers.selectors import (
    ORDERINGS,
    CatalogueSearch,
    catalogue_from_listing,
    catalogue_from_tables,
    catalogue_services,
)
from providers.services import (
    provider_ratings_store,
    provider_reinstate,
    provider_suspend,
    service_retire,
    service_update,
)
from tests import factories
from tests.careplans.conftest import make_provider, make_service  # noqa: F401

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the search table is kept on PostgreSQL only"),
]

NAMES = ["Willow Care", "Harbour Homecare", "Oakwood Support", "Beacon Respite", "Meadow Day Centre"]
TITLES = ["Respite nights", "Personal care visits", "Dementia day care", "Gardening help", "Shopping trips"]
DISTRICTS = ["NF1", "NF2", "NF3", "NF12"]


def expected_rows() -> dict[int, tuple]:
    """What the table must hold, worked out from the service and provider tables in Python."""
    areas: dict[int, list[str]] = {}
    for service_id, district in ServiceArea.objects.values_list("service_id", "district"):
        areas.setdefault(service_id, []).append(district)
    rows = {}
    for s in ServiceOffering.objects.select_related("provider"):
        if s.retired_at is None and s.provider.status == ProviderStatus.VERIFIED:
            rows[s.pk] = (
                s.provider_id,
                s.title,
                s.category,
                s.unit_price.amount,
                sorted(areas.get(s.pk, [])),
                s.provider.rating,
                s.provider.review_count,
                s.provider.regulator_rating,
            )
    return rows


def stored_rows() -> dict[int, tuple]:
    return {
        row.service_id: (
            row.provider_id,
            row.title,
            row.category,
            row.unit_price,
            row.districts,
            row.rating,
            row.review_count,
            row.regulator_rating,
        )
        for row in ServiceListing.objects.all()
    }


def area_rows() -> tuple[list, list]:
    """(stored, expected): one row per district of each listed service, with its listing's columns."""
    stored = sorted(
        ServiceListingArea.objects.values_list(
            "service_id", "district", "title", "category", "unit_price", "rating", "review_count", "regulator_rating"
        )
    )
    expected = sorted(
        (pk, district, row[1], row[2], row[3], row[5], row[6], row[7])
        for pk, row in expected_rows().items()
        for district in row[4]
    )
    return stored, expected


def vectors_match() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM providers_servicelisting l JOIN providers_serviceoffering s ON s.id = l.service_id "
            "WHERE l.search_vector IS DISTINCT FROM s.search_vector"
        )
        return cursor.fetchone()[0] == 0


FILTERS = [
    {},
    {"q": "respite"},
    {"q": "Willow"},
    {"q": "care"},
    {"category": ServiceCategory.PERSONAL_CARE},
    {"district": "NF12"},
    {"district": "NF1", "category": ServiceCategory.PERSONAL_CARE},
    {"district": "NF2", "min_rating": Decimal("4"), "regulator_rating": RegulatorRating.GOOD},
    {"district": "NF3", "max_price": Decimal("25.00")},
    {"max_price": Decimal("25.00")},
    {"regulator_rating": RegulatorRating.GOOD},
    {"min_rating": Decimal("4")},
    {"q": "day", "district": "NF3", "min_rating": Decimal("3.5")},
]


def assert_catalogue_agrees(providers: list[Provider] = ()) -> None:
    assert stored_rows() == expected_rows()
    stored_areas, expected_areas = area_rows()
    assert stored_areas == expected_areas
    assert vectors_match()
    cases = [*FILTERS, *({"provider": p} for p in providers)]
    for filters, ordering in itertools.product(cases, ORDERINGS):
        search = CatalogueSearch(**filters, ordering=ordering)
        listed = catalogue_from_listing(search)
        from_listing = list(listed.values_list("id", flat=True))
        from_tables = list(catalogue_from_tables(search).values_list("id", flat=True))
        assert from_listing == from_tables, search
        assert listed.count_source.count() == len(from_tables), search
        if search.q:  # the name match left inside each statement (the Open Referral directory's form)
            inside = catalogue_from_listing(search, names_first=False)
            assert list(inside.values_list("id", flat=True)) == from_tables, search
            assert inside.count_source.count() == len(from_tables), search
        # Pages, as a paginator slices them: chosen on the search table, then joined.
        for page in (slice(0, 4), slice(3, 9), slice(len(from_tables), len(from_tables) + 4)):
            assert [s.id for s in listed[page]] == from_tables[page], (search, page)


@pytest.fixture
def market(make_provider):
    """Fifteen providers of every status with ratings that tie, and fifty services: some retired,
    some without any area, prices that tie."""
    rng = random.Random(20261203)
    statuses = [ProviderStatus.VERIFIED] * 3 + [ProviderStatus.PENDING, ProviderStatus.SUSPENDED]
    providers = []
    for n in range(15):
        providers.append(
            make_provider(
                status=statuses[n % len(statuses)],
                name=f"{NAMES[n % len(NAMES)]} {n}",
                regulator_rating=rng.choice(RegulatorRating.values),
            )
        )
    provider_ratings_store(
        scores={
            p.pk: (rng.choice([None, Decimal("3.50"), Decimal("4.00"), Decimal("4.75")]), rng.randint(0, 3))
            for p in providers
        }
    )
    for n in range(50):
        districts = rng.sample(DISTRICTS, rng.randint(0, 3))
        service = ServiceOffering.objects.create(
            provider=providers[n % len(providers)],
            title=f"{TITLES[n % len(TITLES)]} {n // 10}",
            category=rng.choice(ServiceCategory.values),
            unit="hour",
            unit_price=Money(rng.choice(["18.00", "22.50", "25.00", "31.00"]), "GBP"),
            description=rng.choice(["Short breaks and respite", "Help at home", "Day care for dementia", ""]),
            postcode_districts=districts,
            retired_at=timezone.now() if n % 9 == 0 else None,
        )
        ServiceArea.objects.bulk_create([ServiceArea(service=service, district=d) for d in districts])
    return providers


def test_the_table_equals_the_rule_and_the_catalogue_from_the_base_tables(market):
    assert ServiceListing.objects.count() > 10
    assert_catalogue_agrees(market[:3])


def test_the_catalogue_reads_the_search_tables_on_postgresql(market):
    assert "providers_servicelisting" in str(catalogue_services(q="respite", ordering="-rating").query)
    by_district = str(catalogue_services(postcode_district="NF1", category="personal_care", ordering="price").query)
    assert by_district.count("JOIN") == 2  # the area row and the provider: the filters and orders share one join
    assert "providers_servicearea" not in by_district


def test_product_changes_keep_the_table_equal(market):
    staff = factories.UserFactory(role=Role.PROVIDER, provider=market[0])
    case_manager = factories.UserFactory(role=Role.CASE_MANAGER)
    service = ServiceOffering.objects.filter(provider=market[0], retired_at__isnull=True).first()

    service_update(
        actor=staff,
        service=service,
        title="Overnight respite",
        unit_price=Money("19.00", "GBP"),
        category=ServiceCategory.RESPITE,
        description="Nights away for carers",
        postcode_districts=["NF12", "NF2"],
    )
    assert_catalogue_agrees(market[:1])
    assert ServiceListing.objects.get(pk=service.pk).districts == ["NF12", "NF2"]

    service_update(actor=staff, service=service, postcode_districts=[])
    assert_catalogue_agrees()

    service_retire(actor=staff, service=service)
    assert not ServiceListing.objects.filter(pk=service.pk).exists()
    assert_catalogue_agrees()

    provider_suspend(actor=case_manager, provider=market[0], reason="Safeguarding concern under review")
    assert not ServiceListing.objects.filter(provider=market[0]).exists()
    assert_catalogue_agrees()

    provider_reinstate(actor=case_manager, provider=market[0], reason="Concern resolved")
    assert ServiceListing.objects.filter(provider=market[0]).exists()
    assert_catalogue_agrees(market[:1])


def test_bulk_writes_keep_the_table_equal(market):
    # The nightly refresh: one UPDATE for many providers' scores.
    provider_ratings_store(scores={p.pk: (Decimal("2.25") + p.pk % 3, p.pk % 5) for p in market})
    assert_catalogue_agrees()
    # A regulator import's bulk update, and providers verified in bulk.
    Provider.objects.filter(pk__in=[p.pk for p in market[::2]]).update(regulator_rating=RegulatorRating.OUTSTANDING)
    Provider.objects.filter(status=ProviderStatus.PENDING).update(status=ProviderStatus.VERIFIED)
    assert_catalogue_agrees()
    # Prices and titles changed in bulk, services moved between providers, some retired.
    ServiceOffering.objects.filter(category=ServiceCategory.PERSONAL_CARE).update(unit_price=Decimal("21.00"))
    ServiceOffering.objects.filter(pk__in=ServiceOffering.objects.order_by("id").values("id")[:5]).update(
        title="Sitting service", provider=market[1]
    )
    ServiceOffering.objects.filter(pk__in=ServiceOffering.objects.order_by("-id").values("id")[:4]).update(
        retired_at=timezone.now()
    )
    assert_catalogue_agrees(market[:2])
    # Areas added, moved and removed in bulk.
    ServiceArea.objects.filter(district="NF2").update(district="NF9")
    ServiceArea.objects.filter(district="NF3").delete()
    ServiceArea.objects.bulk_create(
        [ServiceArea(service_id=pk, district="NF12") for pk in ServiceOffering.objects.values_list("id", flat=True)],
        ignore_conflicts=True,
    )
    assert_catalogue_agrees()
    # A service deleted outright (never done by the product, but the table must not keep it).
    gone = ServiceOffering.objects.first()
    ServiceArea.objects.filter(service=gone).delete()
    gone.delete()
    assert not ServiceListing.objects.filter(pk=gone.pk).exists()
    assert_catalogue_agrees()


def row_versions() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(service_id || ':' || ctid::text, ',' ORDER BY service_id) FROM providers_servicelisting"
        )
        return cursor.fetchone()[0]


def test_a_write_that_changes_nothing_listed_rewrites_no_row(market):
    """A provider's address, a service's unit, every score stored again as it is: none of it is
    in the table, so its rows stay as they were (no dead rows, no index churn on the nightly run)."""
    before = row_versions()
    Provider.objects.update(address="1 High Street")
    ServiceOffering.objects.update(unit="day")
    ServiceArea.objects.update(district=models.F("district"))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE providers_provider SET rating = rating, review_count = review_count")
    assert row_versions() == before
    Provider.objects.filter(pk=market[0].pk).update(review_count=99)
    assert row_versions() != before
    assert_catalogue_agrees()


@pytest.mark.django_db(transaction=True)
def test_a_service_edit_and_its_providers_new_score_at_once_leave_the_table_right(make_provider, make_service):
    """Two transactions: one edits a service's price and holds it, the other stores its provider's
    new score meanwhile. The score's refresh waits for the edit (it locks the services it reads), so
    the row ends with both changes — not the old price written back beside the new score."""
    provider = make_provider(name="Willow Care")
    service = make_service("Respite nights", provider=provider)
    edited = threading.Event()

    def edit():
        try:
            with transaction.atomic():
                ServiceOffering.objects.filter(pk=service.pk).update(unit_price=Decimal("30.00"))
                edited.set()
                threading.Event().wait(0.5)
        finally:
            edited.set()
            close_old_connections()
            connection.close()

    worker = threading.Thread(target=edit)
    worker.start()
    assert edited.wait(5)
    provider_ratings_store(scores={provider.pk: (Decimal("4.50"), 3)})
    worker.join(5)
    row = ServiceListing.objects.get(pk=service.pk)
    assert (row.unit_price, row.rating, row.review_count) == (Decimal("30.00"), Decimal("4.50"), 3)
    assert stored_rows() == expected_rows()
    Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.SUSPENDED)
    assert stored_rows() == expected_rows() == {}


def test_the_api_counts_on_the_search_table_alone(market, api_as, client_user):
    """The count needs no service rows: each search-table row is one listed service."""
    expected = len(catalogue_from_tables(CatalogueSearch(district="NF1")))
    with CaptureQueriesContext(connection) as queries:
        body = api_as(client_user).get("/api/v1/services/", {"postcode_district": "NF1"}).json()
    assert body["count"] == expected > 0
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "providers_servicelistingarea" in counts[0]
    assert "providers_serviceoffering" not in counts[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["score", "verify", "suspend"])
def test_a_new_service_and_its_providers_change_at_once_leave_the_table_right(make_provider, change):
    """One transaction creates a service (and its area) and holds; another changes its provider
    meanwhile. The new service is invisible to the provider's refresh, so the insert holds the
    provider: the change waits for the insert and then refreshes the new service too."""
    status = ProviderStatus.PENDING if change == "verify" else ProviderStatus.VERIFIED
    provider = make_provider(name="Willow Care", status=status)
    created = threading.Event()

    def create():
        try:
            with transaction.atomic():
                service = ServiceOffering.objects.create(
                    provider=provider, title="Respite nights", category="respite", unit="night",
                    unit_price=Money("95.00", "GBP"), postcode_districts=["NF1"],
                )  # fmt: skip
                ServiceArea.objects.create(service=service, district="NF1")
                created.set()
                threading.Event().wait(0.5)
        finally:
            created.set()
            connection.close()

    worker = threading.Thread(target=create)
    worker.start()
    assert created.wait(5)
    if change == "score":
        provider_ratings_store(scores={provider.pk: (Decimal("4.50"), 3)})
    else:
        new = ProviderStatus.VERIFIED if change == "verify" else ProviderStatus.SUSPENDED
        Provider.objects.filter(pk=provider.pk).update(status=new)
    worker.join(5)
    assert ServiceOffering.objects.filter(provider=provider).count() == 1
    assert stored_rows() == expected_rows()
    stored_areas, expected_areas = area_rows()
    assert stored_areas == expected_areas
    assert len(stored_areas) == (0 if change == "suspend" else 1)


@pytest.mark.django_db(transaction=True)
def test_refreshing_leaves_plan_lines_free_to_reference_the_services(make_provider, make_service):
    """The refresh's service locks (FOR NO KEY UPDATE) do not block the KEY SHARE lock that a plan
    line's foreign-key check takes on its service."""
    provider = make_provider(name="Willow Care")
    service = make_service("Respite nights", provider=provider)
    results: list[str] = []
    with transaction.atomic():
        provider_ratings_store(scores={provider.pk: (Decimal("4.50"), 3)})  # its services now locked
        locker = threading.Thread(target=_key_share_nowait, args=(service.pk, results))
        locker.start()
        locker.join(10)
    assert results == ["locked"]


def _key_share_nowait(service_id: int, results: list) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM providers_serviceoffering WHERE id = %s FOR KEY SHARE NOWAIT", [service_id])
            results.append("locked" if cursor.fetchone() else "not found")
    except OperationalError as exc:  # "could not obtain lock on row": the failing case
        results.append(str(exc))
    finally:
        connection.close()


def test_deleting_a_service_first_in_raw_sql_leaves_no_district_rows(market):
    service = ServiceListingArea.objects.values_list("service_id", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("DELETE FROM providers_serviceoffering WHERE id = %s", [service])
        cursor.execute("DELETE FROM providers_servicearea WHERE service_id = %s", [service])
    assert not ServiceListingArea.objects.filter(service_id=service).exists()
    assert_catalogue_agrees()


@pytest.mark.django_db(transaction=True)
def test_truncating_the_areas_or_the_services_keeps_the_tables_right(make_provider, make_service):
    provider = make_provider(name="Willow Care")
    make_service("Respite nights", provider=provider, districts=("NF1", "NF2"))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE providers_servicearea")
    assert ServiceListing.objects.get().districts == []
    assert stored_rows() == expected_rows() and area_rows()[0] == []
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE providers_serviceoffering CASCADE")
    assert not ServiceListing.objects.exists() and not ServiceListingArea.objects.exists()


def test_a_text_search_finds_the_named_providers_once_and_binds_them_to_both_statements(market, api_as, client_user):
    """The provider-name match runs once per request, and the count and the page carry its ids as
    values (an array the planner can see), not as a subquery each runs again."""
    expected = len(catalogue_from_tables(CatalogueSearch(q="Willow")))
    with CaptureQueriesContext(connection) as queries:
        body = api_as(client_user).get("/api/v1/services/", {"q": "Willow"}).json()
    assert body["count"] == expected > 0
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum("%>" in sql for sql in statements) == 1
    listing = [sql for sql in statements if "providers_servicelisting" in sql]
    assert len(listing) == 2
    for sql in listing:
        assert "ARRAY(SELECT" not in sql.upper()
        assert "::bigint[]" in sql


@pytest.mark.parametrize("pk", [7, 40_000, 3_000_000_000])
def test_provider_ids_of_any_size_are_matched_as_bigints(make_provider, pk):
    """The ids are bound as one bigint[] (psycopg alone would type a list of small numbers as
    smallint[]): ids past the smallint and integer ranges match too."""
    provider = make_provider(name=f"Kestrel Lodge {pk}")
    Provider.objects.filter(pk=provider.pk).update(id=pk)
    ServiceOffering.objects.create(
        provider_id=pk, title="Gardening help", category=ServiceCategory.values[0], unit="hour",
        unit_price=Money("20.00", "GBP"), description="", postcode_districts=[],
    )  # fmt: skip
    found = catalogue_services(q="Kestrel")
    assert [s.provider_id for s in found] == [pk]
    assert found.count_source.count() == 1

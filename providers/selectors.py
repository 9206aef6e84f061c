"""Reads about providers and the service catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.exceptions import NotVisible
from accounts.models import User

from .models import Provider, ProviderStatus, ServiceArea, ServiceListing, ServiceListingArea, ServiceOffering
from .permissions import can_list_all_providers, can_view_provider, can_view_service

# What the catalogue shows, and no more: the search vector and the provider's other columns stay
# on disk (selecting them made large sorts spill, bench/search.py). The provider's status is kept
# because the FSM model reads it when each row is loaded.
LISTED_FIELDS = (
    "id", "title", "category", "unit", "unit_price", "unit_price_currency", "postcode_districts", "description",
    "retired_at", "provider_id", "provider__id", "provider__name", "provider__status", "provider__rating",
    "provider__review_count", "provider__regulator_rating",
)  # fmt: skip

# The API's orderings (docs/api.md) → model orderings; every one ends in the id so pages are stable.
ORDERINGS = {
    "price": ["unit_price", "id"],
    "-price": ["-unit_price", "-id"],
    "title": ["title", "id"],
    "-title": ["-title", "-id"],
    "-rating": [F("provider__rating").desc(nulls_last=True), "id"],
    "-review_count": ["-provider__review_count", "id"],
}


def _search_table_orderings(relation: str) -> dict[str, list]:
    """The same orderings on a search table (PostgreSQL) reached through `relation`, each matching
    one of its indexes (migration 0011), so that a page is a walk down that index. Both search
    tables have the same sorted columns."""

    def column(name: str, descending: bool = False) -> str:
        path = f"{relation}__{name}" if relation else name
        return f"-{path}" if descending else path

    return {
        "price": [column("unit_price"), column("service_id")],
        "-price": [column("unit_price", True), column("service_id", True)],
        "title": [column("title"), column("service_id")],
        "-title": [column("title", True), column("service_id", True)],
        "-rating": [F(column("rating")).desc(nulls_last=True), column("service_id")],
        "-review_count": [column("review_count", True), column("service_id")],
    }


LISTING_ORDERINGS = _search_table_orderings("listing")
AREA_ORDERINGS = _search_table_orderings("listing_areas")  # each matching a (district, …) index
TABLE_ORDERINGS = _search_table_orderings("")  # on either search table itself


class ListedServices(QuerySet):
    """The catalogue read from the search tables, whose pages are chosen on the search table alone.

    Sliced, as a paginator slices it, it is the services whose ids are that slice of the search
    table's matching rows in order (`page_source`), joined to their service and provider rows for
    those ids only. With the joins in the same statement PostgreSQL costs joining every matching
    row before the top-N sort, so it walked an ordering index instead, filtering row by row: 23 ms
    past 13,876 rows where a bitmap scan and a top-50 sort took 16 (bench/search.py, query 9). Any
    other use — a filter, `first()`, `values()` — is an ordinary queryset: a clone has no
    `page_source`."""

    page_source: QuerySet | None = None
    page_ordering: list = []
    count_source: QuerySet | None = None

    def __getitem__(self, k):
        if isinstance(k, slice) and k.step is None and self.page_source is not None and self._result_cache is None:
            ids = self.page_source.values("service_id")[k]
            page = _listed_columns(ServiceOffering.objects.filter(pk__in=ids))
            return page.order_by(*self.page_ordering)
        return super().__getitem__(k)


@dataclass(frozen=True)
class CatalogueSearch:
    """One catalogue search, cleaned: the same for the search table and the base tables."""

    q: str = ""
    category: str = ""
    district: str = ""
    max_price: Decimal | None = None
    regulator_rating: str = ""
    min_rating: Decimal | None = None
    ordering: str = "title"
    provider: Provider | None = None


def catalogue_services(
    *,
    q: str = "",
    category: str = "",
    postcode_district: str = "",
    max_price: Decimal | None = None,
    regulator_rating: str = "",
    min_rating: Decimal | None = None,
    ordering: str = "title",
    provider: Provider | None = None,
    names_first: bool = True,
) -> QuerySet[ServiceOffering]:
    """Live services of verified providers, filtered and ordered. On PostgreSQL every filter and
    sort is on the search table (`ServiceListing`), free text is its stored search vector (GIN) or a
    trigram match on the provider's name; elsewhere the service and provider tables, with
    `icontains` on title, description and provider name. With `names_first` (PostgreSQL, free
    text) the providers the words name are found at once, by a query of their own, and bound as
    values; without it the match stays a subquery inside each statement (one query fewer, for a
    caller that counts its queries and keeps its count)."""
    search = CatalogueSearch(
        q=q.strip(),
        category=category,
        district=postcode_district.strip().upper(),
        max_price=max_price,
        regulator_rating=regulator_rating,
        min_rating=min_rating,
        ordering=ordering if ordering in ORDERINGS else "title",
        provider=provider,
    )
    if connection.vendor == "postgresql":
        return catalogue_from_listing(search, names_first=names_first)
    return catalogue_from_tables(search)


def _words(q: str) -> SearchQuery:
    return SearchQuery(q, search_type="websearch", config="english")


def _named_providers(q: str) -> QuerySet[Provider]:
    """Providers whose name matches `q` (trigram word similarity, indexed)."""
    return Provider.objects.filter(name__trigram_word_similar=q).order_by()


def _named(q: str) -> ArraySubquery:
    """The ids of `_named_providers`, as an array the services' provider id is matched against
    with `= ANY` (providers/lookups.py)."""
    return ArraySubquery(_named_providers(q).values("id"))


def _listed_columns(services: QuerySet[ServiceOffering]) -> QuerySet[ServiceOffering]:
    return services.select_related("provider").only(*LISTED_FIELDS)


def catalogue_from_listing(search: CatalogueSearch, *, names_first: bool = True) -> QuerySet[ServiceOffering]:
    """The catalogue read from the search tables (PostgreSQL only): a listing row is the rule
    "live, and its provider verified", and holds every column filtered or sorted by. A district
    without free text reads the per-district table instead: one walk down its (district, order)
    index. A page is chosen on the search table and only its rows are joined to their services
    (`ListedServices`); the count (`count_source`, read by accounts.pagination) reads the search
    table alone, since each of its rows is one listed service."""
    by_area = bool(search.district and not search.q)
    # The providers named by the words, found once here rather than in both the page and the count
    # statement; as values, not a subquery, so PostgreSQL plans with their number (bench/search.py:
    # the subquery was estimated at a few dozen rows and the name search walked 6,500 rows of the
    # review-count index in 91 ms).
    named: list[int] | ArraySubquery = []
    if search.q:
        named = list(_named_providers(search.q).values_list("id", flat=True)) if names_first else _named(search.q)
    if by_area:
        model, relation, orderings = ServiceListingArea, "listing_areas", AREA_ORDERINGS
    else:
        model, relation, orderings = ServiceListing, "listing", LISTING_ORDERINGS
    # One filter() call with one Q, so every condition and the ordering share one join to the row.
    through = _listing_conditions(search, f"{relation}__", by_area, named)
    services = ListedServices(model=ServiceOffering).filter(through)
    services = _listed_columns(services).order_by(*orderings[search.ordering])
    on_table = model.objects.filter(_listing_conditions(search, "", by_area, named))
    services.count_source = on_table
    if search.q and names_first and named:
        # Counted as two disjoint parts, the services the words match, then those of the named
        # providers the words do not match, so the count can stop at its cap inside either part's
        # index scan. As one OR under the cap's LIMIT, PostgreSQL chose a sequential scan, and
        # "Willow" (1,385 providers named) took 36 ms p50 against 10.5 ms (bench/search.py).
        words_part = model.objects.filter(_listing_conditions(search, "", by_area, []))
        names_part = model.objects.filter(_listing_conditions(search, "", by_area, named, names_only=True))
        services.count_source = words_part.values("pk").union(names_part.values("pk"), all=True)
    services.page_source = on_table.order_by(*TABLE_ORDERINGS[search.ordering])
    # A page's rows are put in order through their listing row: one per service, with the same
    # sorted columns as its district rows.
    services.page_ordering = LISTING_ORDERINGS[search.ordering]
    return services


def _listing_conditions(
    search: CatalogueSearch, prefix: str, by_area: bool, named: list[int] | ArraySubquery, *, names_only: bool = False
) -> Q:
    """The search's conditions on a search table's columns, named through `prefix` (the relation
    from the service, or nothing on the table itself); `named` is the providers the free text names.
    `names_only`: only the services of the named providers that the words do not match (the
    second of the count's two disjoint parts)."""
    conditions = Q() if by_area else Q(**{f"{prefix}pk__isnull": False})
    if search.provider is not None:
        provider = "service__provider" if by_area else "provider"  # the area row has no provider column
        conditions &= Q(**{f"{prefix}{provider}": search.provider})
    if search.q:
        words = Q(**{f"{prefix}search_vector": _words(search.q)})
        # No provider named: the words alone, so the planner weighs one condition, not an OR.
        some = isinstance(named, ArraySubquery) or bool(named)
        names = Q(**{f"{prefix}provider__id__any_of": named})
        if names_only:
            conditions &= names & ~words
        else:
            conditions &= words | names if some else words
    if search.category:
        conditions &= Q(**{f"{prefix}category": search.category})
    if search.district:
        if by_area:
            conditions &= Q(**{f"{prefix}district": search.district})
        else:
            conditions &= Q(**{f"{prefix}districts__contains": [search.district]})
    if search.max_price is not None:
        conditions &= Q(**{f"{prefix}unit_price__lte": search.max_price})
    if search.regulator_rating:
        conditions &= Q(**{f"{prefix}regulator_rating": search.regulator_rating})
    if search.min_rating is not None:
        conditions &= Q(**{f"{prefix}rating__gte": search.min_rating})
    return conditions


def catalogue_from_tables(search: CatalogueSearch) -> QuerySet[ServiceOffering]:
    """The catalogue read from the service and provider tables: SQLite's path, and on PostgreSQL
    the rule the search table's triggers are tested against."""
    services = _listed_columns(
        ServiceOffering.objects.filter(retired_at__isnull=True, provider__status=ProviderStatus.VERIFIED)
    )
    if search.provider is not None:
        services = services.filter(provider=search.provider)
    if search.q:
        if connection.vendor == "postgresql":
            services = services.filter(Q(search_vector=_words(search.q)) | Q(provider__id__any_of=_named(search.q)))
        else:
            services = services.filter(
                Q(title__icontains=search.q)
                | Q(description__icontains=search.q)
                | Q(provider__name__icontains=search.q)
            )
    if search.category:
        services = services.filter(category=search.category)
    if search.district:
        services = services.filter(Exists(ServiceArea.objects.filter(service=OuterRef("pk"), district=search.district)))
    if search.max_price is not None:
        services = services.filter(unit_price__lte=search.max_price)
    if search.regulator_rating:
        services = services.filter(provider__regulator_rating=search.regulator_rating)
    if search.min_rating is not None:
        services = services.filter(provider__rating__gte=search.min_rating)
    return services.order_by(*ORDERINGS[search.ordering])


def provider_get_for(user: User, provider_id: int) -> Provider:
    provider = Provider.objects.filter(pk=provider_id).first()
    if provider is None or not can_view_provider(user, provider):
        raise NotVisible("No such provider.")
    return provider


def service_get_for(user: User, service_id: int) -> ServiceOffering:
    service = ServiceOffering.objects.select_related("provider").filter(pk=service_id).first()
    if service is None or not can_view_service(user, service):
        raise NotVisible("No such service.")
    return service


def provider_list_for(user: User, *, status: str = "", q: str = "", regulator_id: str = "") -> QuerySet[Provider]:
    providers = Provider.objects.all() if can_list_all_providers(user) else Provider.objects.none()
    if status:
        providers = providers.filter(status=status)
    if q := q.strip():
        providers = providers.filter(name__icontains=q)
    if regulator_id:
        providers = providers.filter(regulator_id=regulator_id.strip())
    return providers.order_by("name", "id")


def services_compare(user: User, ids: list[int]) -> list[ServiceOffering]:
    """Up to three listed services, in the order asked, for the side-by-side comparison."""
    wanted = list(dict.fromkeys(ids))[:3]
    found = {s.pk: s for s in catalogue_services().filter(pk__in=wanted)}
    return [found[i] for i in wanted if i in found]

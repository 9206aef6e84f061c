"""The reads behind the Open Referral UK endpoints: which services are published, filtered and paged.

Published means a live service (not retired) of a verified provider — the catalogue's own rule,
taken from `providers.selectors.catalogue_services` so the directory and the catalogue can never
disagree (a deep page walks the same rule stated in a form cheaper to walk: `published_keys`). A
retired service is absent (not listed as `inactive`): Cairn never brings one back, and a directory
consumer treats a vanished id as withdrawn. A page is two queries (its count and its rows, the
provider joined; the count is kept a minute, see `published_page`); one service is one query (its
areas come from the row's district list).
"""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import QuerySet
from djmoney.money import Money

from accounts.exceptions import InvalidInput
from providers.models import Provider, ProviderStatus, ServiceOffering
from providers.selectors import catalogue_services

from .mapping import CATEGORIES, REGULATOR_RATINGS, TAXONOMIES, Taxonomy

COUNT_SECONDS = 60
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
# From how many rows before a page `published_keys` states the published rule its own way.
DEEP_OFFSET = 1000
# What a published service body reads, and no more (the search vector stays on disk).
PUBLISHED_FIELDS = (
    "id", "oruk_id", "oruk_service_at_location_id", "title", "category", "unit", "unit_price",
    "unit_price_currency", "description", "postcode_districts", "updated_at", "provider_id",
    "provider__id", "provider__oruk_id", "provider__name", "provider__status", "provider__description",
    "provider__email", "provider__website", "provider__address", "provider__postcode", "provider__regulator_id",
    "provider__regulator_rating", "provider__rating", "provider__review_count",
)  # fmt: skip
POSTCODE_RE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})?")


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _whole_number(params, name: str, default: int, low: int, high: int, errors: dict) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        errors[name] = [f"Give a whole number from {low} to {high}."]
        return default
    return value


def read_paging(params, errors: dict) -> Paging:
    """`page` (from 1) and `per_page` (1 to 500, default 50); a bad one is added to `errors`."""
    return Paging(
        page=_whole_number(params, "page", 1, 1, 1_000_000, errors),
        per_page=_whole_number(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE, errors),
    )


def paging_or_400(params) -> Paging:
    errors: dict[str, list[str]] = {}
    paging = read_paging(params, errors)
    if errors:
        raise InvalidInput(errors=errors)
    return paging


def _uuid(params, name: str, errors: dict) -> uuid.UUID | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        errors[name] = ["Give an id in UUID form, like 3f7b145d-84af-42d7-8fae-eaca714b02b2."]
        return None


def _district(params, errors: dict) -> str:
    raw = params.get("postcode", "").strip().upper()
    if not raw:
        return ""
    match = POSTCODE_RE.fullmatch(raw)
    if not match:
        errors["postcode"] = ["Give a postcode, like NF1 2AB, or its first part, like NF1."]
        return ""
    return match.group(1)


def term_lookup(term_id: uuid.UUID) -> tuple[Taxonomy, str] | None:
    """The taxonomy and code of one of Cairn's listed terms, or None."""
    for taxonomy in TAXONOMIES:
        for code, _, _ in taxonomy.terms:
            if taxonomy.term_id(code) == term_id:
                return taxonomy, code
    return None


@dataclass(frozen=True, slots=True)
class ProviderRow:
    pk: int
    oruk_id: uuid.UUID
    name: str
    description: str
    email: str
    website: str
    address: str
    postcode: str
    regulator_id: str | None
    regulator_rating: str
    rating: Decimal | None
    review_count: int


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """A listed service as the page's mapping reads it. A page of fifty model instances (and their
    providers, with the state machine's set-up) cost more than its query; plain rows do not."""

    oruk_id: uuid.UUID
    oruk_service_at_location_id: uuid.UUID
    title: str
    category: str
    unit: str
    unit_price: Money
    description: str
    postcode_districts: list[str]
    updated_at: datetime.datetime
    provider: ProviderRow


PROVIDER_ROW_FIELDS = tuple(f for f in ProviderRow.__slots__ if f != "pk")
SERVICE_ROW_FIELDS = tuple(f for f in ServiceRow.__slots__ if f not in ("unit_price", "provider"))


def _row(values: dict) -> ServiceRow:
    provider = ProviderRow(pk=values["provider_id"], **{f: values[f"provider__{f}"] for f in PROVIDER_ROW_FIELDS})
    return ServiceRow(
        **{f: values[f] for f in SERVICE_ROW_FIELDS},
        unit_price=Money(values["unit_price"], values["unit_price_currency"]),
        provider=provider,
    )


@dataclass(frozen=True)
class ServicePage:
    total_items: int
    rows: list[ServiceRow]
    paging: Paging


@dataclass(frozen=True)
class Filters:
    """The query's filters, read and checked: what both the count and the page's keys narrow by."""

    search: str = ""
    district: str = ""
    category: str = ""
    regulator_rating: str = ""
    nothing: bool = False  # a term or taxonomy Cairn does not list: nothing published matches

    @property
    def key(self) -> str:
        return repr((self.search, self.district, self.category, self.regulator_rating, self.nothing))


def read_filters(params, *, with_postcode: bool = False) -> tuple[Filters, Paging]:
    """The filters and the page asked for; `InvalidInput` naming every bad field."""
    errors: dict[str, list[str]] = {}
    paging = read_paging(params, errors)
    term_id = _uuid(params, "taxonomy_term_id", errors)
    taxonomy_id = _uuid(params, "taxonomy_id", errors)
    district = _district(params, errors) if with_postcode else ""
    if errors:
        raise InvalidInput(errors=errors)
    category = regulator_rating = ""
    # Every published service has a term of each of Cairn's taxonomies, and of no other.
    nothing = taxonomy_id is not None and taxonomy_id not in {taxonomy.id for taxonomy in TAXONOMIES}
    if term_id is not None:
        term = term_lookup(term_id)
        if term is None:
            nothing = True
        elif term[0] is CATEGORIES:
            category = term[1]
        elif term[0] is REGULATOR_RATINGS:
            regulator_rating = term[1]
    filters = Filters(
        search=params.get("search", "").strip(),
        district=district,
        category=category,
        regulator_rating=regulator_rating,
        nothing=nothing,
    )
    return filters, paging


def _narrowed(services: QuerySet[ServiceOffering], filters: Filters) -> QuerySet[ServiceOffering]:
    if filters.nothing:
        return services.none()
    if filters.category:
        services = services.filter(category=filters.category)
    if filters.regulator_rating:
        services = services.filter(provider__regulator_rating=filters.regulator_rating)
    return services


def published_services(filters: Filters) -> QuerySet[ServiceOffering]:
    """The published services matching the filters (all combined with AND), in a stable order
    (oldest first, by id)."""
    # The name match stays inside each statement (names_first=False): a page is two queries, one
    # when its total is kept, and a search should not add a third.
    services = catalogue_services(q=filters.search, postcode_district=filters.district, names_first=False)
    return _narrowed(services, filters).only(*PUBLISHED_FIELDS).order_by("id")


def published_keys(filters: Filters, *, skipping: int = 0) -> QuerySet[ServiceOffering]:
    """The ids of `published_services(filters)` in the same order: what a page's OFFSET walks.

    Why a deep page without a search, postcode or regulator rating states the published rule
    again: in the catalogue's form (joined to the provider, status verified) PostgreSQL looks up
    each skipped row's provider, ten thousand index probes for page 200 of 50. Stated as "not one
    of the providers that are not verified" it is a hashed list built once from a small partial
    index (providers migration 0010), and the walk reads only the live-services index (id,
    provider, category): page 200 of 500,000 services in a few milliseconds instead of ~100
    (bench/openreferral.py). Building the list costs a few milliseconds whatever the page, more
    than the probes of the first `DEEP_OFFSET` rows, so shallow pages keep the catalogue's form;
    so do the other filters, whose walks are driven by their own indexes (a postcode's service
    areas, the search vector) or need the provider anyway (its rating). Both forms select the
    same rows: tests/openreferral/test_deep_pages.py holds them equal for every status."""
    if filters.search or filters.district or filters.regulator_rating or skipping < DEEP_OFFSET:
        return published_services(filters).values("id")
    unlisted = Provider.objects.exclude(status=ProviderStatus.VERIFIED).values("id")
    services = ServiceOffering.objects.filter(retired_at__isnull=True).exclude(provider__in=unlisted)
    return _narrowed(services, filters).order_by("id").values("id")


def published_page(params, *, with_postcode: bool = False) -> ServicePage:
    """One page of published services and their total: two queries, or one when the total for
    these filters was counted in the last `COUNT_SECONDS`.

    Why the page is a deferred join (the page's ids by OFFSET/LIMIT in a subquery, then only
    those rows and their providers): OFFSET steps over every row before the page, so those rows
    are read as ids alone, from an index where one serves (`published_keys`), and only the
    page's own rows are read whole.

    Why the total is kept for a while: counting 400,000 published services exactly takes longer
    than a whole page may (bench/openreferral.py), and a directory reader pages through the same
    filters many times. The total is checked against the page it comes with and counted again when
    they disagree (a full page past it, a short page not ending at it, an empty page before it), so
    an envelope never contradicts its own contents; between those checks it may lag a change by up
    to `COUNT_SECONDS`."""
    filters, paging = read_filters(params, with_postcode=with_postcode)
    cache_key = "openreferral:count:" + hashlib.sha256(filters.key.encode()).hexdigest()
    columns = (
        *SERVICE_ROW_FIELDS, "unit_price", "unit_price_currency", "provider_id",
        *(f"provider__{f}" for f in PROVIDER_ROW_FIELDS),
    )  # fmt: skip
    keys = published_keys(filters, skipping=paging.offset)[paging.offset : paging.offset + paging.per_page]
    page = ServiceOffering.objects.filter(pk__in=keys).order_by("id").values(*columns)
    rows = [_row(values) for values in page]
    total = cache.get(cache_key)
    seen = paging.offset + len(rows)
    if total is None or not _total_fits(total, seen, len(rows), paging.per_page):
        total = published_services(filters).count()
        cache.set(cache_key, total, COUNT_SECONDS)
    return ServicePage(total_items=total, rows=rows, paging=paging)


def _total_fits(total: int, seen: int, size: int, per_page: int) -> bool:
    if size == per_page:
        return total >= seen
    if size:
        return total == seen
    return total <= seen


def published_service(**lookup) -> ServiceOffering | None:
    """One published service by its `oruk_id` or `oruk_service_at_location_id`, or None."""
    return catalogue_services().only(*PUBLISHED_FIELDS).filter(**lookup).first()


def taxonomy_lookup(taxonomy_id: uuid.UUID) -> Taxonomy | None:
    return next((taxonomy for taxonomy in TAXONOMIES if taxonomy.id == taxonomy_id), None)

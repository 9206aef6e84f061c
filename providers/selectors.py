"""Reads about providers and the service catalogue."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.exceptions import NotVisible
from accounts.models import User

from .models import Provider, ProviderStatus, ServiceArea, ServiceOffering
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
) -> QuerySet[ServiceOffering]:
    """Live services of verified providers, filtered and ordered. On PostgreSQL free text uses
    the stored search vector (GIN) or a trigram match on the provider's name; elsewhere
    `icontains` on title, description and provider name."""
    services = (
        ServiceOffering.objects.filter(retired_at__isnull=True, provider__status=ProviderStatus.VERIFIED)
        .select_related("provider")
        .only(*LISTED_FIELDS)
    )
    if provider is not None:
        services = services.filter(provider=provider)
    if q := q.strip():
        if connection.vendor == "postgresql":
            named = ArraySubquery(Provider.objects.filter(name__trigram_word_similar=q).order_by().values("id"))
            services = services.filter(
                Q(search_vector=SearchQuery(q, search_type="websearch", config="english"))
                | Q(provider__id__any_of=named)
            )
        else:
            services = services.filter(
                Q(title__icontains=q) | Q(description__icontains=q) | Q(provider__name__icontains=q)
            )
    if category:
        services = services.filter(category=category)
    if district := postcode_district.strip().upper():
        services = services.filter(Exists(ServiceArea.objects.filter(service=OuterRef("pk"), district=district)))
    if max_price is not None:
        services = services.filter(unit_price__lte=max_price)
    if regulator_rating:
        services = services.filter(provider__regulator_rating=regulator_rating)
    if min_rating is not None:
        services = services.filter(provider__rating__gte=min_rating)
    return services.order_by(*ORDERINGS.get(ordering, ORDERINGS["title"]))


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

"""Cairn's catalogue as Open Referral UK bodies (HSDS 3.0, UK profile; docs/open-data.md).

Pure functions of already-loaded rows: no queries here, so each endpoint's query count is fixed by
`directory`. Every body carries only properties the profile's compiled schemas define.

Ids: an organization, a service and a service-at-location publish UUIDs stored on their rows
(`oruk_id`, `oruk_service_at_location_id`), random and never reused. The parts that exist only as
part of one of them (its identifier, attributes, cost option, service areas, location) get a
name-based UUID (uuid5) under that stored UUID, so they are as stable as their parent and never
collide with another's. The fixed vocabularies (categories, CQC ratings) are named under
`NAMESPACE`, the same in every Cairn installation, so the same term has the same id everywhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from providers.models import Provider, RegulatorRating, ServiceCategory, ServiceOffering

HSDS_VERSION = "3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
OPENAPI_URL = "https://raw.githubusercontent.com/OpenReferralUK/uk-profile/main/schema/openapi.json"

# Never change: every published taxonomy and term id is derived from it.
NAMESPACE = uuid.UUID("6c0f5c9e-2b1a-5d3e-9a57-c41d0e6f3a10")

CATEGORY_DESCRIPTIONS = {
    ServiceCategory.PERSONAL_CARE: "Help with washing, dressing, eating, going to the toilet and medicines.",
    ServiceCategory.PERSONAL_ASSISTANT: "Someone the person chooses and directs, to support them as they wish.",
    ServiceCategory.DAY_OPPORTUNITIES: "Day centres and day-time activities away from home.",
    ServiceCategory.RESPITE: "Short breaks, for the person and for the people who care for them.",
    ServiceCategory.DOMESTIC_HELP: "Cleaning, laundry, shopping and meals at home.",
    ServiceCategory.COMMUNITY_ACTIVITIES: "Clubs, groups, befriending and outings in the community.",
    ServiceCategory.TRANSPORT: "Getting to appointments, activities and services.",
    ServiceCategory.EQUIPMENT: "Equipment and aids to live safely and independently.",
    ServiceCategory.THERAPY: "Therapies such as physiotherapy, occupational therapy and counselling.",
    ServiceCategory.OTHER: "Other support bought with a personal budget.",
}
UNIT_DESCRIPTIONS = {
    "hour": "per hour",
    "session": "per session",
    "day": "per day",
    "night": "per night",
    "week": "per week",
    "item": "per item",
}


@dataclass(frozen=True)
class Taxonomy:
    key: str
    name: str
    description: str
    terms: tuple[tuple[str, str, str], ...]  # (code, name, description)

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"taxonomy:{self.key}")

    def term_id(self, code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"term:{self.key}:{code}")


CATEGORIES = Taxonomy(
    key="service_category",
    name="Cairn service categories",
    description="The kinds of support a personal budget buys, as Cairn's catalogue files them.",
    terms=tuple((code, str(label), CATEGORY_DESCRIPTIONS[code]) for code, label in ServiceCategory.choices),
)
REGULATOR_RATINGS = Taxonomy(
    key="cqc_overall_rating",
    name="CQC overall rating",
    description="The Care Quality Commission's overall rating of a registered location.",
    terms=tuple(
        (code, str(label), f"The Care Quality Commission's overall rating: {label}.")
        for code, label in RegulatorRating.choices
    ),
)
TAXONOMIES = (CATEGORIES, REGULATOR_RATINGS)
# Values, not vocabularies: these terms are carried inline in attributes, not listed by id.
CLIENT_RATING = "Cairn client rating"
REVIEW_COUNT = "Cairn client review count"


def part_id(parent: uuid.UUID, name: str) -> str:
    """The id of a part that exists only within `parent` (a stored UUID), stable as the parent."""
    return str(uuid.uuid5(parent, name))


def root_body() -> dict:
    return {"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL}


def taxonomy_body(taxonomy: Taxonomy) -> dict:
    return {"id": str(taxonomy.id), "name": taxonomy.name, "description": taxonomy.description}


def term_body(taxonomy: Taxonomy, code: str) -> dict:
    _, name, description = next(term for term in taxonomy.terms if term[0] == code)
    return {
        "id": str(taxonomy.term_id(code)),
        "name": name,
        "description": description,
        "taxonomy": taxonomy.name,
        "taxonomy_id": str(taxonomy.id),
        "term": code,
    }


def all_terms() -> list[dict]:
    return [term_body(taxonomy, code) for taxonomy in TAXONOMIES for code, _, _ in taxonomy.terms]


def _attribute(link_id: uuid.UUID, link_type: str, term: dict) -> dict:
    return {
        "id": part_id(link_id, f"attribute:{link_type}"),
        "link_id": str(link_id),
        "taxonomy_term_id": term["id"],
        "link_type": link_type,
        "taxonomy_term": term,
    }


def _value_term(taxonomy: str, value: str, description: str) -> dict:
    return {
        "id": str(uuid.uuid5(NAMESPACE, f"value:{taxonomy}:{value}")),
        "name": value,
        "description": description,
        "taxonomy": taxonomy,
        "term": value,
    }


def provider_url(base_url: str, provider: Provider) -> str:
    return f"{base_url.rstrip('/')}/providers/{provider.pk}/"


def organization_summary(provider: Provider, base_url: str) -> dict:
    """The organization as list bodies carry it (one-to-one fields only)."""
    body = {
        "id": str(provider.oruk_id),
        "name": provider.name,
        "description": provider.description or f"{provider.name}: a care and support provider.",
        "uri": provider_url(base_url, provider),
    }
    if provider.email:
        body["email"] = provider.email
    if provider.website:
        body["website"] = provider.website
    return body


def organization_full(provider: Provider, base_url: str) -> dict:
    """With its CQC location ID as an identifier, and the regulator's rating, the client rating and
    the number of client reviews as attributes (the two ratings side by side, never merged)."""
    org_id = provider.oruk_id
    body = organization_summary(provider, base_url)
    body["organization_identifiers"] = (
        [
            {
                "id": part_id(org_id, "identifier:cqc_location"),
                "organization_id": str(org_id),
                "identifier_type": "CQC location ID",
                "identifier": provider.regulator_id,
            }
        ]
        if provider.regulator_id
        else []
    )
    attributes = [
        _attribute(org_id, "regulator_rating", term_body(REGULATOR_RATINGS, provider.regulator_rating)),
        _attribute(
            org_id,
            "client_review_count",
            _value_term(REVIEW_COUNT, str(provider.review_count), "Visible reviews by verified clients."),
        ),
    ]
    if provider.rating is not None:
        attributes.append(
            _attribute(
                org_id,
                "client_rating",
                _value_term(
                    CLIENT_RATING,
                    f"{provider.rating:.2f}",
                    "Verified clients' rating out of 5, weighted towards the average of all providers "
                    "while a provider has few reviews.",
                ),
            )
        )
    body["attributes"] = attributes
    return body


def _price_text(service: ServiceOffering) -> str:
    return f"£{service.unit_price.amount:,.2f} {UNIT_DESCRIPTIONS[service.unit]}"


def service_summary(service: ServiceOffering, base_url: str) -> dict:
    """The service as list bodies carry it: one-to-one fields and its organization."""
    provider = service.provider
    body = {
        "id": str(service.oruk_id),
        "organization_id": str(provider.oruk_id),
        "name": service.title,
        "description": service.description,
        "url": provider_url(base_url, provider),
        "status": "active",
        "fees": _price_text(service),
        "last_modified": service.updated_at.isoformat(),
        "organization": organization_summary(provider, base_url),
    }
    if provider.email:
        body["email"] = provider.email
    return body


def location_body(provider: Provider) -> dict:
    """Where the provider is. Cairn keeps an address as one line, so it is the description (the
    profile's structured address needs a town and county Cairn does not record)."""
    body = {
        "id": part_id(provider.oruk_id, "location"),
        "location_type": "physical",
        "name": provider.name,
    }
    where = ", ".join(part for part in (provider.address, provider.postcode) if part)
    if where:
        body["description"] = where
    if provider.regulator_id:
        body["external_identifier"] = provider.regulator_id
        body["external_identifier_type"] = "CQC location ID"
    return body


def _service_parts(service: ServiceOffering, districts: list[str], base_url: str) -> dict:
    """The one-to-many parts of a full service: areas, cost option, category, full organization."""
    service_id = service.oruk_id
    return {
        "service_areas": [
            {
                "id": part_id(service_id, f"service_area:{district}"),
                "service_id": str(service_id),
                "name": district,
                "service_area": f"Postcode district {district}",
            }
            for district in districts
        ],
        "cost_options": [
            {
                "id": part_id(service_id, "cost_option"),
                "service_id": str(service_id),
                "amount": float(Decimal(service.unit_price.amount)),
                "amount_description": f"{UNIT_DESCRIPTIONS[service.unit]} ({service.unit_price.currency})",
            }
        ],
        "attributes": [_attribute(service_id, "service_category", term_body(CATEGORIES, service.category))],
        "organization": organization_full(service.provider, base_url),
    }


def service_at_location_summary(service: ServiceOffering, base_url: str) -> dict:
    return {
        "id": str(service.oruk_service_at_location_id),
        "service_id": str(service.oruk_id),
        "location_id": part_id(service.provider.oruk_id, "location"),
        "location": location_body(service.provider),
        "service": service_summary(service, base_url),
    }


def service_full(service: ServiceOffering, districts: list[str], base_url: str) -> dict:
    """`/services/{id}`: the service with every part, and its one service-at-location."""
    body = service_summary(service, base_url)
    body.update(_service_parts(service, districts, base_url))
    body["service_at_locations"] = [
        {
            "id": str(service.oruk_service_at_location_id),
            "service_id": str(service.oruk_id),
            "location_id": part_id(service.provider.oruk_id, "location"),
            "location": location_body(service.provider),
        }
    ]
    return body


def service_at_location_full(service: ServiceOffering, districts: list[str], base_url: str) -> dict:
    """`/service_at_locations/{id}`: the location, and the full service without its own list of
    service-at-locations (the profile's compiled schema nests it that way)."""
    service_body = service_summary(service, base_url)
    service_body.update(_service_parts(service, districts, base_url))
    return {
        "id": str(service.oruk_service_at_location_id),
        "service_id": str(service.oruk_id),
        "location_id": part_id(service.provider.oruk_id, "location"),
        "location": location_body(service.provider),
        "service": service_body,
    }


def page_body(*, contents: list[dict], total_items: int, page_number: int, per_page: int) -> dict:
    """The profile's pagination envelope. `size` is the number of entities on this page."""
    total_pages = (total_items + per_page - 1) // per_page if total_items else 0
    return {
        "total_items": total_items,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }

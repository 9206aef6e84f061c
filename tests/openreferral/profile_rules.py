"""The Open Referral UK profile's rules for the bodies Cairn publishes, written out by hand from the
profile's compiled JSON schemas (OpenReferralUK/uk-profile, `schema/compiled/`; HSDS is licensed
CC BY-SA 4.0, so the schema files themselves are not copied here): for each object, the properties
it may have (nothing else is allowed), the required ones, and each one's type or format.
`check(body, rules)` returns every breach, with its path."""

from __future__ import annotations

import datetime
import re
import uuid
from urllib.parse import urlparse

S, N, INT, B = "string", "number", "integer", "boolean"
UUID, URI, EMAIL, DATETIME = "uuid", "uri", "email", "date-time"


def obj(required: tuple[str, ...], **props) -> dict:
    return {"required": required, "props": props}


TAXONOMY_TERM = obj(
    ("id", "name", "description"),
    id=UUID, name=S, description=S, parent_id=UUID, taxonomy=S, taxonomy_id=UUID, term_uri=URI, term=S,
)  # fmt: skip
TAXONOMY = obj(("id", "name", "description"), id=UUID, name=S, description=S, uri=URI, version=S)
ATTRIBUTE = obj(("id",), id=UUID, link_id=UUID, taxonomy_term_id=UUID, link_type=S, taxonomy_term=TAXONOMY_TERM)
ORGANIZATION_LIST = obj(
    ("id", "name", "description"),
    id=UUID, name=S, description=S, email=EMAIL, website=URI, logo=S, uri=URI, parent_organization_id=UUID,
)  # fmt: skip
ORGANIZATION = obj(
    ("id", "name", "description"),
    **ORGANIZATION_LIST["props"],
    organization_identifiers=[
        obj(
            ("id", "identifier_type", "identifier"),
            id=UUID,
            organization_id=UUID,
            identifier_scheme=S,
            identifier_type=S,
            identifier=S,
            attributes=[ATTRIBUTE],
        )
    ],
    attributes=[ATTRIBUTE],
)
SERVICE_ONE_TO_ONE = dict(
    id=UUID, organization_id=UUID, name=S, description=S, url=URI, email=EMAIL, status=S, fees=S,
    accreditations=S, minimum_age=N, maximum_age=N, assured_date=S, assurer_email=EMAIL, alert=S,
    last_modified=DATETIME,
)  # fmt: skip
SERVICE_STATUSES = {"active", "inactive", "defunct", "temporarily closed"}
SERVICE_LIST = obj(("id", "name", "status"), **SERVICE_ONE_TO_ONE, organization=ORGANIZATION_LIST)
LOCATION_LIST = obj(
    ("id", "location_type"),
    id=UUID, location_type=S, name=S, description=S, latitude=N, longitude=N, external_identifier=S,
    external_identifier_type=S,
)  # fmt: skip
ADDRESS = obj(
    ("id", "address_1", "city", "state_province", "postal_code", "country", "address_type"),
    id=UUID, location_id=UUID, attention=S, address_1=S, city=S, region=S, state_province=S, postal_code=S,
    country=S, address_type=S, attributes=[ATTRIBUTE],
)  # fmt: skip
LOCATION = obj(("id", "location_type"), **LOCATION_LIST["props"], addresses=[ADDRESS], attributes=[ATTRIBUTE])
SERVICE_PARTS = dict(
    service_areas=[
        obj(
            ("id",),
            id=UUID,
            service_id=UUID,
            name=S,
            extent=S,
            extent_type=S,
            uri=S,
            service_area=S,
        )
    ],
    cost_options=[
        obj(
            ("id",),
            id=UUID,
            service_id=UUID,
            valid_from=S,
            valid_to=S,
            option=S,
            amount=N,
            amount_description=S,
        )
    ],
    attributes=[ATTRIBUTE],
    organization=ORGANIZATION,
)
SERVICE = obj(
    ("id", "name", "status"),
    **SERVICE_ONE_TO_ONE,
    **SERVICE_PARTS,
    service_at_locations=[obj(("id",), id=UUID, service_id=UUID, location_id=UUID, location=LOCATION)],
)
SERVICE_AT_LOCATION_LIST = obj(
    ("id",), id=UUID, service_id=UUID, location_id=UUID, location=LOCATION_LIST, service=SERVICE_LIST
)
SERVICE_AT_LOCATION = obj(
    ("id",),
    id=UUID,
    service_id=UUID,
    location_id=UUID,
    location=LOCATION,
    service=obj(("id", "name", "status"), **SERVICE_ONE_TO_ONE, **SERVICE_PARTS),
)
PAGE = obj(
    ("total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"),
    total_items=INT, total_pages=INT, page_number=INT, size=INT, first_page=B, last_page=B, empty=B, contents=list,
)  # fmt: skip


def _format_ok(kind: str, value) -> bool:
    if not isinstance(value, str):
        return False
    if kind == S:
        return True
    if kind == UUID:
        try:
            return str(uuid.UUID(value)) == value
        except ValueError:
            return False
    if kind == URI:
        parts = urlparse(value)
        return bool(parts.scheme in ("http", "https") and parts.netloc)
    if kind == EMAIL:
        return bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value))
    if kind == DATETIME:
        try:
            return "T" in value and datetime.datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    raise ValueError(kind)


def check(body, rules: dict, path: str = "") -> list[str]:
    """Every way `body` breaks `rules`: a missing required property, one the profile does not
    define, or a value of the wrong type or format."""
    if not isinstance(body, dict):
        return [f"{path or '.'}: not an object"]
    problems = [f"{path}.{name}: required" for name in rules["required"] if name not in body]
    for name, value in body.items():
        here = f"{path}.{name}"
        rule = rules["props"].get(name)
        if rule is None:
            problems.append(f"{here}: not defined by the profile")
        elif isinstance(rule, dict):
            problems += check(value, rule, here)
        elif isinstance(rule, list):
            if not isinstance(value, list):
                problems.append(f"{here}: not an array")
            else:
                for i, item in enumerate(value):
                    problems += check(item, rule[0], f"{here}[{i}]")
        elif rule is list:
            if not isinstance(value, list):
                problems.append(f"{here}: not an array")
        elif rule == N:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"{here}: not a number")
        elif rule == INT:
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{here}: not an integer")
        elif rule == B:
            if not isinstance(value, bool):
                problems.append(f"{here}: not a boolean")
        elif not _format_ok(rule, value):
            problems.append(f"{here}: not a {rule}: {value!r}")
    return problems

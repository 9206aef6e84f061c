"""Writes about providers: records, onboarding transitions, profiles, services, rating aggregate."""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django_fsm import can_proceed
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, StateConflict
from accounts.models import AuditAction, User
from accounts.money import CURRENCIES, round_penny
from accounts.services import audit_record

from .models import Provider, RegulatorRating, ServiceArea, ServiceCategory, ServiceOffering, ServiceUnit
from .permissions import (
    can_add_providers,
    can_edit_provider_profile,
    can_manage_services,
    can_onboard_providers,
)
from .validators import clean_cqc_location_id, clean_phone, clean_postcode

# An outward postcode ("district"): NF1, B33, SW1A, EC1V, W1.
DISTRICT_RE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")
PROFILE_FIELDS = (
    "name", "postcode", "address", "email", "phone", "website", "description", "areas_served",
    "regulator_id", "regulator_rating", "regulator_rating_date",
)  # fmt: skip


PAST = {"verify": "verified", "suspend": "suspended", "reinstate": "reinstated"}


class WrongProviderState(StateConflict):
    default_message = "The provider is not in a state that allows this."


def normalise_districts(values, field: str = "postcode_districts") -> list[str]:
    """Upper-cased, de-duplicated postcode districts, or `InvalidInput` naming the bad ones."""
    if not isinstance(values, (list, tuple)):
        raise InvalidInput('Give postcode districts as a list, like ["NF1", "NF2"].', field=field)
    cleaned, bad = [], []
    for value in values:
        district = str(value).strip().upper()
        if not DISTRICT_RE.fullmatch(district):
            bad.append(str(value))
        elif district not in cleaned:
            cleaned.append(district)
    if bad:
        raise InvalidInput(
            f"These are not postcode districts: {', '.join(bad)}. A district is the first part of a "
            "postcode, like NF1 or SW1A.",
            field=field,
        )
    return cleaned


def _check_price(price: Money, errors: dict[str, list[str]]) -> None:
    if str(price.currency) not in CURRENCIES:
        errors.setdefault("unit_price", []).append(f"Prices are in {', '.join(CURRENCIES)}.")
    elif price.amount <= 0:
        errors.setdefault("unit_price", []).append("The price must be more than £0.")
    elif Decimal(price.amount) != round_penny(price.amount):
        errors.setdefault("unit_price", []).append("Give the price in pounds and pence, like 24.50.")


def _checked_contact(
    errors: dict[str, list[str]], *, postcode: str | None = "", phone: str | None = "", regulator_id: str | None = None
) -> tuple[str, str, str | None]:
    """Postcode, phone and CQC location ID in their usual form (see `providers.validators`); each
    one that is not a real one adds its message to `errors` under its field."""
    values = []
    for field, cleaner, value in (
        ("postcode", clean_postcode, postcode),
        ("phone", clean_phone, phone),
        ("regulator_id", clean_cqc_location_id, regulator_id),
    ):
        try:
            values.append(cleaner(value))
        except ValueError as exc:
            errors[field] = [str(exc)]
            values.append("")
    return values[0], values[1], values[2] or None


@transaction.atomic
def provider_create(
    *,
    actor: User,
    name: str,
    postcode: str = "",
    email: str = "",
    phone: str = "",
    regulator_id: str | None = None,
    regulator_rating: str = RegulatorRating.NOT_YET_RATED,
    **profile,
) -> Provider:
    """Record a provider organisation, pending checks. Administrators and case managers; audited.
    A regulator location ID may belong to one provider only."""
    if not can_add_providers(actor):
        raise ActionNotAllowed("Only administrators and case managers can add providers.")
    errors: dict[str, list[str]] = {}
    if not name or not name.strip():
        errors["name"] = ["Enter the provider's name."]
    if regulator_rating not in RegulatorRating.values:
        errors["regulator_rating"] = [f"Choose one of: {', '.join(RegulatorRating.values)}."]
    postcode, phone, regulator_id = _checked_contact(errors, postcode=postcode, phone=phone, regulator_id=regulator_id)
    if regulator_id and Provider.objects.filter(regulator_id=regulator_id).exists():
        errors["regulator_id"] = [f"A provider with CQC location ID {regulator_id} is already recorded."]
    if errors:
        raise InvalidInput(errors=errors)
    provider = Provider.objects.create(
        name=name.strip(),
        postcode=postcode,
        email=email.strip(),
        phone=phone,
        regulator_id=regulator_id,
        regulator_rating=regulator_rating,
        **profile,
    )
    audit_record(actor=actor, action=AuditAction.CREATE, target=provider, changes={"name": provider.name})
    return provider


def provider_update_profile(*, actor: User, provider: Provider, **changes) -> Provider:
    """Change a provider's profile: its own staff, case managers or administrators. The status
    is not a profile field: it changes only through the onboarding transitions."""
    if not can_edit_provider_profile(actor, provider):
        raise ActionNotAllowed("You can change only your own organisation's profile.")
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    if "name" in changes and not str(changes["name"]).strip():
        raise InvalidInput("Enter the provider's name.", field="name")
    if "areas_served" in changes:
        changes["areas_served"] = normalise_districts(changes["areas_served"], "areas_served")
    if "regulator_rating" in changes and changes["regulator_rating"] not in RegulatorRating.values:
        raise InvalidInput(f"Choose one of: {', '.join(RegulatorRating.values)}.", field="regulator_rating")
    checked = {k: changes[k] for k in ("postcode", "phone", "regulator_id") if k in changes}
    if checked:
        errors: dict[str, list[str]] = {}
        values = _checked_contact(errors, **checked)
        if errors:
            raise InvalidInput(errors=errors)
        for key, value in zip(("postcode", "phone", "regulator_id"), values, strict=True):
            if key in changes:
                changes[key] = value
    if changes.get("regulator_id"):
        clash = Provider.objects.filter(regulator_id=changes["regulator_id"]).exclude(pk=provider.pk).exists()
        if clash:
            raise InvalidInput("Another provider has that CQC location ID.", field="regulator_id")
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        before = {k: str(getattr(provider, k)) for k in changes}
        for key, value in changes.items():
            setattr(provider, key, value.strip() if isinstance(value, str) else value)
        provider.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=provider,
            changes={k: {"from": before[k], "to": str(getattr(provider, k))} for k in changes},
        )
    return provider


def _transition(
    *, actor: User, provider: Provider, name: str, reason: str = "", require_reason: bool = False
) -> Provider:
    """One onboarding edge: lock, check the state and the role after the lock, transition, save,
    audit — in one transaction."""
    if not can_onboard_providers(actor):
        raise ActionNotAllowed("Only case managers verify, suspend and reinstate providers.")
    if require_reason and not reason.strip():
        raise InvalidInput("Give the reason: the provider and the audit trail will see it.", field="reason")
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        method = getattr(provider, name)
        if not can_proceed(method):
            raise WrongProviderState(
                f"{provider} is {provider.get_status_display().lower()}, so it cannot be {PAST[name]}."
            )
        before = provider.status
        method()
        provider.status_reason = reason.strip()
        provider.status_changed_at = timezone.now()
        provider.save()
        audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            target=provider,
            changes={"from": before, "to": provider.status},
            message=reason.strip(),
        )
    return provider


def provider_verify(*, actor: User, provider: Provider, reason: str = "") -> Provider:
    return _transition(actor=actor, provider=provider, name="verify", reason=reason)


def provider_suspend(*, actor: User, provider: Provider, reason: str) -> Provider:
    return _transition(actor=actor, provider=provider, name="suspend", reason=reason, require_reason=True)


def provider_reinstate(*, actor: User, provider: Provider, reason: str = "") -> Provider:
    return _transition(actor=actor, provider=provider, name="reinstate", reason=reason)


def provider_rating_update(*, provider: Provider, rating: Decimal | None, review_count: int) -> None:
    """Store the client-rating aggregate the catalogue sorts by. Called by the ratings
    capability (a higher app) whenever reviews change."""
    Provider.objects.filter(pk=provider.pk).update(rating=rating, review_count=review_count)


def provider_ratings_store(*, scores: dict[int, tuple[Decimal | None, int]]) -> int:
    """Store many providers' client-rating aggregates at once, `{provider id: (rating, review
    count)}`: the nightly refresh of every score, one statement for thousands of providers rather
    than one each. Only rows whose figures change are written, so an unchanged score leaves no dead
    row or index entry behind. Returns how many providers changed."""
    if not scores:
        return 0
    ids = list(scores)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE providers_provider p "
                "SET rating = v.rating, review_count = v.review_count "
                "FROM unnest(%s::bigint[], %s::numeric[], %s::integer[]) AS v (id, rating, review_count) "
                "WHERE p.id = v.id AND (p.rating IS DISTINCT FROM v.rating OR p.review_count <> v.review_count)",
                [ids, [scores[pk][0] for pk in ids], [scores[pk][1] for pk in ids]],
            )
            return cursor.rowcount
    stored = Provider.objects.filter(pk__in=ids).values_list("pk", "rating", "review_count")
    changed = [
        Provider(pk=pk, rating=scores[pk][0], review_count=scores[pk][1])
        for pk, rating, review_count in stored
        if (rating, review_count) != scores[pk]
    ]
    return Provider.objects.bulk_update(changed, ["rating", "review_count"], batch_size=500)


def _validate_service(fields: dict, *, partial: bool) -> dict[str, list[str]]:
    """Per-field problems; with `partial`, only the fields given are checked."""
    errors: dict[str, list[str]] = {}

    def checking(name: str) -> bool:
        return not partial or name in fields

    if checking("title") and not str(fields.get("title", "")).strip():
        errors["title"] = ["Enter a title, like “Personal care visits”."]
    if checking("category") and fields.get("category") not in ServiceCategory.values:
        errors["category"] = [f"Choose one of: {', '.join(ServiceCategory.values)}."]
    if checking("unit") and fields.get("unit") not in ServiceUnit.values:
        errors["unit"] = [f"Choose one of: {', '.join(ServiceUnit.values)}."]
    if checking("unit_price"):
        price = fields.get("unit_price")
        if not isinstance(price, Money):
            errors["unit_price"] = ["Give a price."]
        else:
            _check_price(price, errors)
    return errors


def _set_areas(service: ServiceOffering, districts: list[str]) -> None:
    ServiceArea.objects.filter(service=service).delete()
    ServiceArea.objects.bulk_create([ServiceArea(service=service, district=d) for d in districts])


def service_create(
    *,
    actor: User,
    title: str,
    category: str,
    unit: str,
    unit_price: Money,
    postcode_districts: list[str] | None = None,
    description: str = "",
) -> ServiceOffering:
    """List a service for the actor's own organisation (also while it is pending checks).
    Enforces: provider staff only; known category and unit; a positive price in whole pence;
    valid postcode districts. Audited."""
    provider = actor.provider if actor.is_authenticated and actor.provider_id else None
    if provider is None or not can_manage_services(actor, provider):
        raise ActionNotAllowed("Only a provider's own staff can list its services.")
    fields = {"title": title, "category": category, "unit": unit, "unit_price": unit_price}
    errors = _validate_service(fields, partial=False)
    try:
        districts = normalise_districts(postcode_districts or [])
    except InvalidInput as exc:
        errors["postcode_districts"] = [exc.message]
    if errors:
        raise InvalidInput(errors=errors)
    with transaction.atomic():
        service = ServiceOffering.objects.create(
            provider=provider,
            title=title.strip(),
            category=category,
            unit=unit,
            unit_price=unit_price,
            description=description.strip(),
            postcode_districts=districts,
        )
        _set_areas(service, districts)
        audit_record(actor=actor, action=AuditAction.CREATE, target=service, changes={"price": str(unit_price)})
    return service


def service_update(*, actor: User, service: ServiceOffering, **changes) -> ServiceOffering:
    """Change a service: its provider's staff only. Plans already agreed keep the price they
    copied, so a price change affects only new plan lines. Audited."""
    if not can_manage_services(actor, service.provider):
        raise ActionNotAllowed("You can change only your own organisation's services.")
    allowed = {"title", "category", "unit", "unit_price", "postcode_districts", "description"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    errors = _validate_service(changes, partial=True)
    if "postcode_districts" in changes:
        try:
            changes["postcode_districts"] = normalise_districts(changes["postcode_districts"])
        except InvalidInput as exc:
            errors["postcode_districts"] = [exc.message]
    if errors:
        raise InvalidInput(errors=errors)
    with transaction.atomic():
        service = ServiceOffering.objects.select_for_update().get(pk=service.pk)
        before = {k: str(getattr(service, k)) for k in changes}
        for key, value in changes.items():
            setattr(service, key, value.strip() if isinstance(value, str) else value)
        service.save()
        if "postcode_districts" in changes:
            _set_areas(service, service.postcode_districts)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=service,
            changes={k: {"from": before[k], "to": str(getattr(service, k))} for k in changes},
        )
    return service


def service_retire(*, actor: User, service: ServiceOffering) -> ServiceOffering:
    """Take a service out of the catalogue for good. Plan lines that bought it keep their copy."""
    if not can_manage_services(actor, service.provider):
        raise ActionNotAllowed("You can retire only your own organisation's services.")
    with transaction.atomic():
        service = ServiceOffering.objects.select_for_update().get(pk=service.pk)
        if service.retired_at is not None:
            raise StateConflict("This service is already retired.")
        service.retired_at = timezone.now()
        service.save(update_fields=["retired_at", "updated_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, target=service, changes={"retired": True})
    return service

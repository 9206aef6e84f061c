"""Writes for providers and services that come from another service directory (an Open Referral UK
import: marketplace/openreferral/importer.py reads the file, these write it; docs/open-data.md).

Rules: a provider or service is keyed by the id it has in that directory (`external_id`), so a
re-import updates the same row and a second import never duplicates it. A new provider is always
*pending*: nothing imported is listed until a case manager verifies it, and an import never
changes any provider's status. Only fields the directory gives are written, only when they differ,
and every create and change is audited with where it came from. A service the directory no longer
marks active is retired (never deleted). Callers hold the transaction; each function locks the row
it changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed
from accounts.models import AuditAction, User
from accounts.services import audit_record

from .models import Provider, ServiceOffering
from .permissions import can_add_providers
from .regulator_import.writing import _update_provider
from .services import _set_areas

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
NOT_CREATED = "not created"  # a service the directory does not mark active, that Cairn does not have


@dataclass(frozen=True)
class ImportedProvider:
    external_id: str
    name: str
    description: str = ""
    email: str = ""
    website: str = ""
    regulator_id: str | None = None


@dataclass(frozen=True)
class ImportedService:
    external_id: str
    title: str
    description: str
    category: str
    unit: str
    unit_price: Money | None  # None only for a service not live: its price is then left alone
    postcode_districts: tuple[str, ...]
    live: bool


def _changes(row, fields: dict) -> dict:
    return {k: v for k, v in fields.items() if v not in ("", None, []) and getattr(row, k) != v}


def imports_check_actor(actor: User | None) -> None:
    """`actor=None` is the command line, run by an operator; otherwise administrators and case
    managers, who may add providers."""
    if actor is not None and not can_add_providers(actor):
        raise ActionNotAllowed("Only administrators and case managers can import a service directory.")


def regulator_id_holder(regulator_id: str, *, except_external_id: str) -> Provider | None:
    """Another provider already recorded with this CQC location ID (it may belong to one only)."""
    return Provider.objects.filter(regulator_id=regulator_id).exclude(external_id=except_external_id).first()


def imported_provider_save(*, actor: User | None, data: ImportedProvider, source: str) -> tuple[Provider, str]:
    """Create the provider (pending) or update its profile from the directory; never its status."""
    imports_check_actor(actor)
    fields = {
        "name": data.name,
        "description": data.description,
        "email": data.email,
        "website": data.website,
    }
    if data.regulator_id:
        fields["regulator_id"] = data.regulator_id
    provider = Provider.objects.select_for_update().filter(external_id=data.external_id).first()
    if provider is None:
        provider = Provider.objects.create(external_id=data.external_id, **fields)
        audit_record(
            actor=actor, action=AuditAction.CREATE, target=provider, changes={"name": provider.name}, message=source
        )
        return provider, CREATED
    if _update_provider(provider, _changes(provider, fields), actor, source):
        return provider, UPDATED
    return provider, UNCHANGED


def imported_service_save(
    *, actor: User | None, provider: Provider, data: ImportedService, source: str
) -> tuple[ServiceOffering | None, str]:
    """Create, update or retire the provider's service from the directory. A service not live in
    the directory is retired if Cairn has it, and not created if not (`None`, `NOT_CREATED`)."""
    imports_check_actor(actor)
    fields = {
        "title": data.title,
        "description": data.description,
        "category": data.category,
        "unit": data.unit,
        "unit_price": data.unit_price,
        "postcode_districts": list(data.postcode_districts),
    }
    service = ServiceOffering.objects.select_for_update().filter(external_id=data.external_id).first()
    if service is None:
        if not data.live:
            return None, NOT_CREATED
        service = ServiceOffering.objects.create(provider=provider, external_id=data.external_id, **fields)
        _set_areas(service, service.postcode_districts)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=service,
            changes={"price": str(service.unit_price)},
            message=source,
        )
        return service, CREATED
    changes = _changes(service, fields)
    if service.provider_id != provider.pk:
        changes["provider"] = provider
    if not data.live and service.retired_at is None:
        changes["retired_at"] = timezone.now()
    if not changes:
        return service, UNCHANGED
    before = {k: str(getattr(service, k)) for k in changes}
    for key, value in changes.items():
        setattr(service, key, value)
    service.save()
    if "postcode_districts" in changes:
        _set_areas(service, service.postcode_districts)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=service,
        changes={k: {"from": before[k], "to": str(getattr(service, k))} for k in changes},
        message=source,
    )
    return service, UPDATED

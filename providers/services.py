"""Writes about provider organisations."""

from __future__ import annotations

from django.db import transaction

from accounts.exceptions import ActionNotAllowed, InvalidInput
from accounts.models import AuditAction, Role, User
from accounts.permissions import has_role
from accounts.services import audit_record

from .models import Provider


@transaction.atomic
def provider_create(*, actor: User, name: str, postcode: str = "", email: str = "", phone: str = "") -> Provider:
    """Record a provider organisation. Administrators and case managers only; audited.

    Onboarding checks (verification, regulator data) belong to the providers capability.
    """
    if not has_role(actor, Role.ADMIN, Role.CASE_MANAGER):
        raise ActionNotAllowed("Only administrators and case managers can add providers.")
    if not name.strip():
        raise InvalidInput("Enter the provider's name.", field="name")
    provider = Provider.objects.create(
        name=name.strip(), postcode=postcode.strip().upper(), email=email.strip(), phone=phone.strip()
    )
    audit_record(actor=actor, action=AuditAction.CREATE, target=provider, changes={"name": provider.name})
    return provider

"""Who may onboard providers, manage an organisation's profile and services, and see them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import Role
from accounts.permissions import has_role

from .models import ProviderStatus

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Provider, ServiceOffering


def can_add_providers(user: User) -> bool:
    return has_role(user, Role.ADMIN, Role.CASE_MANAGER)


def can_onboard_providers(user: User) -> bool:
    """Verify, suspend and reinstate: case managers."""
    return has_role(user, Role.CASE_MANAGER)


def can_list_all_providers(user: User) -> bool:
    return has_role(user, Role.ADMIN, Role.CASE_MANAGER)


def is_staff_of(user: User, provider: Provider) -> bool:
    return has_role(user, Role.PROVIDER) and user.provider_id == provider.pk


def can_view_provider(user: User, provider: Provider) -> bool:
    """Anyone signed in may read a verified provider; admins, case managers and the provider's
    own staff may read any."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return provider.status == ProviderStatus.VERIFIED or can_list_all_providers(user) or is_staff_of(user, provider)


def can_edit_provider_profile(user: User, provider: Provider) -> bool:
    return is_staff_of(user, provider) or has_role(user, Role.ADMIN, Role.CASE_MANAGER)


def can_manage_services(user: User, provider: Provider) -> bool:
    """Provider staff manage their own organisation's services (also while it is pending)."""
    return is_staff_of(user, provider)


def can_view_service(user: User, service: ServiceOffering) -> bool:
    if not can_view_provider(user, service.provider):
        return False
    listed = service.provider.status == ProviderStatus.VERIFIED and service.retired_at is None
    return listed or can_list_all_providers(user) or is_staff_of(user, service.provider)

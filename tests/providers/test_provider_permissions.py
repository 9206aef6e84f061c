"""Every predicate in `providers.permissions`, both ways, for every role (PRODUCT.md §6, "Roles";
API.md "Providers and services").

The world: Lee (provider_user) works for "our" provider; another provider has its own member of
staff. Each provider-shaped predicate is asked about our provider in every onboarding state, and
about the other provider, for one person of each role — plus a deactivated person and an
anonymous visitor, who may never do anything.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from djmoney.money import Money

from accounts.models import Role
from providers import permissions
from providers.models import Provider, ProviderStatus, ServiceOffering
from tests import factories
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db

ALL_ROLES = list(ROLE_FIXTURES)
STATUSES = list(ProviderStatus.values)
EVERYONE = set(ALL_ROLES)
OVERSEERS = {Role.ADMIN, Role.CASE_MANAGER}


def person(request, role):
    return request.getfixturevalue(ROLE_FIXTURES[role])


def deactivate(user):
    user.is_active = False
    user.save()
    return user


def set_status(provider: Provider, status: str) -> Provider:
    Provider.objects.filter(pk=provider.pk).update(status=status)
    provider.refresh_from_db()
    return provider


def cases(true_for):
    return [pytest.param(role, role in true_for, id=f"{role}-{role in true_for}") for role in ALL_ROLES]


def in_every_status(roles):
    return {status: set(roles) for status in STATUSES}


def status_cases(true_for_by_status):
    """(status, role, allowed) for every status and role."""
    return [
        pytest.param(
            status, role, role in true_for_by_status[status], id=f"{status}-{role}-{role in true_for_by_status[status]}"
        )
        for status in STATUSES
        for role in ALL_ROLES
    ]


@pytest.fixture
def own_provider(provider_user):
    """Lee's organisation (pending, as ProviderFactory makes it)."""
    return provider_user.provider


@pytest.fixture
def other_provider(db):
    return factories.ProviderFactory(name="Other Care Ltd", status=ProviderStatus.VERIFIED)


@pytest.fixture
def other_staff(other_provider):
    return factories.ProviderStaffFactory(full_name="Olive Grant", provider=other_provider)


def make_service(provider, *, retired=False):
    return ServiceOffering.objects.create(
        provider=provider,
        title="Home visits",
        category="personal_care",
        unit="hour",
        unit_price=Money("20.00", "GBP"),
        retired_at=timezone.now() if retired else None,
    )


# --- role-only predicates ------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), cases(OVERSEERS))
def test_can_add_providers_by_role(request, role, allowed):
    assert permissions.can_add_providers(person(request, role)) is allowed


@pytest.mark.parametrize(("role", "allowed"), cases({Role.CASE_MANAGER}))
def test_can_onboard_providers_by_role(request, role, allowed):
    assert permissions.can_onboard_providers(person(request, role)) is allowed


@pytest.mark.parametrize(("role", "allowed"), cases(OVERSEERS))
def test_can_list_all_providers_by_role(request, role, allowed):
    assert permissions.can_list_all_providers(person(request, role)) is allowed


@pytest.mark.parametrize(
    "predicate", [permissions.can_add_providers, permissions.can_onboard_providers, permissions.can_list_all_providers]
)
def test_role_predicates_refuse_a_deactivated_case_manager_and_admin(case_manager, admin_person, predicate):
    assert predicate(deactivate(case_manager)) is False
    assert predicate(deactivate(admin_person)) is False


@pytest.mark.parametrize(
    "predicate", [permissions.can_add_providers, permissions.can_onboard_providers, permissions.can_list_all_providers]
)
def test_role_predicates_refuse_an_anonymous_visitor(predicate):
    assert predicate(AnonymousUser()) is False


# --- is_staff_of ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), cases({Role.PROVIDER}))
def test_is_staff_of_own_provider_by_role(request, own_provider, role, allowed):
    assert permissions.is_staff_of(person(request, role), own_provider) is allowed


@pytest.mark.parametrize(("role", "allowed"), cases(set()))
def test_nobody_is_staff_of_another_provider(request, own_provider, other_provider, role, allowed):
    assert permissions.is_staff_of(person(request, role), other_provider) is allowed


def test_other_providers_staff_is_staff_of_their_own_provider_only(own_provider, other_provider, other_staff):
    assert permissions.is_staff_of(other_staff, other_provider) is True
    assert permissions.is_staff_of(other_staff, own_provider) is False


def test_deactivated_staff_is_not_staff_of_their_provider(provider_user, own_provider):
    assert permissions.is_staff_of(deactivate(provider_user), own_provider) is False


def test_anonymous_visitor_is_staff_of_nobody(own_provider):
    assert permissions.is_staff_of(AnonymousUser(), own_provider) is False


# --- can_view_provider ---------------------------------------------------------------------------

OWN_PROVIDER_VIEWERS = {
    ProviderStatus.PENDING: OVERSEERS | {Role.PROVIDER},
    ProviderStatus.VERIFIED: EVERYONE,
    ProviderStatus.SUSPENDED: OVERSEERS | {Role.PROVIDER},
}
OTHER_PROVIDER_VIEWERS = {
    ProviderStatus.PENDING: OVERSEERS,
    ProviderStatus.VERIFIED: EVERYONE,
    ProviderStatus.SUSPENDED: OVERSEERS,
}


@pytest.mark.parametrize(("status", "role", "allowed"), status_cases(OWN_PROVIDER_VIEWERS))
def test_can_view_own_provider_by_status_and_role(request, own_provider, status, role, allowed):
    set_status(own_provider, status)
    assert permissions.can_view_provider(person(request, role), own_provider) is allowed


@pytest.mark.parametrize(("status", "role", "allowed"), status_cases(OTHER_PROVIDER_VIEWERS))
def test_can_view_another_provider_by_status_and_role(request, own_provider, other_provider, status, role, allowed):
    # `provider_user` here is staff of a *different* provider.
    set_status(other_provider, status)
    assert permissions.can_view_provider(person(request, role), other_provider) is allowed


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("name", ["client_user", "case_manager", "admin_person", "provider_user"])
def test_a_deactivated_user_may_not_view_any_provider(request, own_provider, status, name):
    set_status(own_provider, status)
    user = deactivate(request.getfixturevalue(name))
    assert permissions.can_view_provider(user, own_provider) is False


@pytest.mark.parametrize("status", STATUSES)
def test_an_anonymous_visitor_may_not_view_any_provider(own_provider, status):
    set_status(own_provider, status)
    assert permissions.can_view_provider(AnonymousUser(), own_provider) is False


# --- can_edit_provider_profile -------------------------------------------------------------------


@pytest.mark.parametrize(("status", "role", "allowed"), status_cases(in_every_status(OVERSEERS | {Role.PROVIDER})))
def test_can_edit_own_provider_profile_by_status_and_role(request, own_provider, status, role, allowed):
    set_status(own_provider, status)
    assert permissions.can_edit_provider_profile(person(request, role), own_provider) is allowed


@pytest.mark.parametrize(("role", "allowed"), cases(OVERSEERS))
def test_can_edit_another_providers_profile_by_role(request, own_provider, other_provider, role, allowed):
    assert permissions.can_edit_provider_profile(person(request, role), other_provider) is allowed


@pytest.mark.parametrize("name", ["case_manager", "admin_person", "provider_user"])
def test_a_deactivated_user_may_not_edit_a_provider_profile(request, own_provider, name):
    user = deactivate(request.getfixturevalue(name))
    assert permissions.can_edit_provider_profile(user, own_provider) is False


def test_an_anonymous_visitor_may_not_edit_a_provider_profile(own_provider):
    assert permissions.can_edit_provider_profile(AnonymousUser(), own_provider) is False


# --- can_manage_services -------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "role", "allowed"), status_cases(in_every_status({Role.PROVIDER})))
def test_can_manage_own_providers_services_by_status_and_role(request, own_provider, status, role, allowed):
    # Provider staff manage their organisation's services in every state, pending included.
    set_status(own_provider, status)
    assert permissions.can_manage_services(person(request, role), own_provider) is allowed


@pytest.mark.parametrize(("role", "allowed"), cases(set()))
def test_nobody_may_manage_another_providers_services(request, own_provider, other_provider, role, allowed):
    assert permissions.can_manage_services(person(request, role), other_provider) is allowed


def test_other_staff_manage_their_own_services_not_ours(own_provider, other_provider, other_staff):
    assert permissions.can_manage_services(other_staff, other_provider) is True
    assert permissions.can_manage_services(other_staff, own_provider) is False


def test_deactivated_staff_may_not_manage_services(provider_user, own_provider):
    assert permissions.can_manage_services(deactivate(provider_user), own_provider) is False


def test_an_anonymous_visitor_may_not_manage_services(own_provider):
    assert permissions.can_manage_services(AnonymousUser(), own_provider) is False


# --- can_view_service ----------------------------------------------------------------------------

LIVE_SERVICE_VIEWERS = OWN_PROVIDER_VIEWERS
# A retired service is out of the catalogue: only those who may see everything, and its own staff.
RETIRED_SERVICE_VIEWERS = in_every_status(OVERSEERS | {Role.PROVIDER})


@pytest.mark.parametrize(("status", "role", "allowed"), status_cases(LIVE_SERVICE_VIEWERS))
def test_can_view_own_providers_live_service_by_status_and_role(request, own_provider, status, role, allowed):
    service = make_service(set_status(own_provider, status))
    assert permissions.can_view_service(person(request, role), service) is allowed


@pytest.mark.parametrize(("status", "role", "allowed"), status_cases(RETIRED_SERVICE_VIEWERS))
def test_can_view_own_providers_retired_service_by_status_and_role(request, own_provider, status, role, allowed):
    service = make_service(set_status(own_provider, status), retired=True)
    assert permissions.can_view_service(person(request, role), service) is allowed


@pytest.mark.parametrize(("status", "role", "allowed"), status_cases(OTHER_PROVIDER_VIEWERS))
def test_can_view_another_providers_live_service_by_status_and_role(
    request, own_provider, other_provider, status, role, allowed
):
    service = make_service(set_status(other_provider, status))
    assert permissions.can_view_service(person(request, role), service) is allowed


@pytest.mark.parametrize(("status", "role", "allowed"), status_cases(in_every_status(OVERSEERS)))
def test_can_view_another_providers_retired_service_by_status_and_role(
    request, own_provider, other_provider, status, role, allowed
):
    service = make_service(set_status(other_provider, status), retired=True)
    assert permissions.can_view_service(person(request, role), service) is allowed


@pytest.mark.parametrize("name", ["client_user", "case_manager", "admin_person", "provider_user"])
def test_a_deactivated_user_may_not_view_a_service(request, own_provider, name):
    service = make_service(set_status(own_provider, ProviderStatus.VERIFIED))
    user = deactivate(request.getfixturevalue(name))
    assert permissions.can_view_service(user, service) is False


def test_an_anonymous_visitor_may_not_view_a_service(own_provider):
    service = make_service(set_status(own_provider, ProviderStatus.VERIFIED))
    assert permissions.can_view_service(AnonymousUser(), service) is False

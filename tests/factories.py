"""factory-boy factories, one per model. Tests may build objects directly in any state."""

import datetime

import factory
from django.utils import timezone

from accounts.models import CaseloadAssignment, Role, Team, TeamMembership, User
from providers.models import Provider

PASSWORD = "correct-horse-battery"

# The conftest fixture that gives one person of each role.
ROLE_FIXTURES = {
    Role.CLIENT: "client_user",
    Role.REPRESENTATIVE: "representative",  # acts for client_user (tests/accounts/representative_fixtures.py)
    Role.SOCIAL_WORKER: "social_worker",
    Role.TEAM_MANAGER: "team_manager",
    Role.CASE_MANAGER: "case_manager",
    Role.PROVIDER: "provider_user",
    Role.FINANCE: "finance_user",
    Role.ADMIN: "admin_person",
}
NON_ADMIN_FIXTURES = {role: name for role, name in ROLE_FIXTURES.items() if role != Role.ADMIN}


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Care Provider {n}")
    postcode = "NF1 1AA"
    email = factory.Sequence(lambda n: f"office{n}@provider.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = Role.CLIENT
    password = factory.django.Password(PASSWORD)


class ClientFactory(UserFactory):
    role = Role.CLIENT
    username = factory.Sequence(lambda n: f"client{n}")
    postcode = "NF2 3EF"


class SocialWorkerFactory(UserFactory):
    role = Role.SOCIAL_WORKER
    username = factory.Sequence(lambda n: f"sw{n}")


class TeamManagerFactory(UserFactory):
    role = Role.TEAM_MANAGER
    username = factory.Sequence(lambda n: f"tm{n}")


class CaseManagerFactory(UserFactory):
    role = Role.CASE_MANAGER
    username = factory.Sequence(lambda n: f"cm{n}")


class FinanceFactory(UserFactory):
    role = Role.FINANCE
    username = factory.Sequence(lambda n: f"fin{n}")


class AdminFactory(UserFactory):
    role = Role.ADMIN
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


class ProviderStaffFactory(UserFactory):
    role = Role.PROVIDER
    username = factory.Sequence(lambda n: f"staff{n}")
    provider = factory.SubFactory(ProviderFactory)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Locality Team {n}")
    manager = factory.SubFactory(TeamManagerFactory)

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        for social_worker in extracted or []:
            TeamMembership.objects.create(team=self, social_worker=social_worker)


class CaseloadAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseloadAssignment

    social_worker = factory.SubFactory(SocialWorkerFactory)
    client = factory.SubFactory(ClientFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    end_date = None

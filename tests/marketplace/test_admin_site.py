"""The Django admin is usable for configuration by administrators, audited, and closed to others."""

import pytest

from accounts.models import AuditAction, AuditEvent, Role, User
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/",
    "/admin/accounts/user/",
    "/admin/accounts/user/add/",
    "/admin/accounts/team/",
    "/admin/accounts/team/add/",
    "/admin/accounts/caseloadassignment/",
    "/admin/accounts/auditevent/",
    "/admin/providers/provider/",
    "/admin/providers/provider/add/",
    "/admin/django_celery_beat/periodictask/",
    "/admin/budgets/rasscheme/",
    "/admin/budgets/rasscheme/add/",
    "/admin/budgets/budgetpolicy/",
    "/admin/budgets/assessment/",
    "/admin/budgets/personalbudget/",
    "/admin/budgets/ledgertransaction/",
]


@pytest.mark.parametrize("path", PAGES)
def test_administrator_opens_every_configuration_page(web_as, admin_person, path):
    assert web_as(admin_person).get(path).status_code == 200


def test_administrator_adds_a_provider_and_it_is_audited(web_as, admin_person):
    response = web_as(admin_person).post(
        "/admin/providers/provider/add/",
        {"name": "Sunrise Care", "postcode": "NF1 1AA", "regulator_rating": "not_yet_rated", "areas_served": "[]"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.CREATE, target_repr="Sunrise Care")
    assert event.actor == admin_person


def test_administrator_adds_a_social_worker_through_the_admin(web_as, admin_person):
    response = web_as(admin_person).post(
        "/admin/accounts/user/add/",
        {
            "username": "new.sw",
            "full_name": "New Worker",
            "email": "new.sw@example.org",
            "role": Role.SOCIAL_WORKER,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="new.sw").role == Role.SOCIAL_WORKER


def test_admin_refuses_provider_staff_without_a_provider(web_as, admin_person):
    before = User.objects.count()
    response = web_as(admin_person).post(
        "/admin/accounts/user/add/",
        {
            "username": "orphan",
            "full_name": "Orphan Staff",
            "role": Role.PROVIDER,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert "Provider staff must belong to a provider" in response.content.decode()
    assert User.objects.count() == before


def test_opening_a_client_in_the_admin_records_a_view(web_as, admin_person, client_user):
    web_as(admin_person).get(f"/admin/accounts/user/{client_user.pk}/change/")
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, subject=client_user, actor=admin_person).exists()


def test_audit_trail_is_read_only_in_the_admin(web_as, admin_person, client_user):
    web = web_as(admin_person)
    event = AuditEvent.objects.create(action=AuditAction.LOGIN, actor=client_user)
    assert web.get("/admin/accounts/auditevent/add/").status_code == 403
    assert web.get(f"/admin/accounts/auditevent/{event.pk}/delete/").status_code == 403


@pytest.mark.parametrize(
    "factory",
    [factories.ClientFactory, factories.SocialWorkerFactory, factories.TeamManagerFactory, factories.FinanceFactory],
)
def test_other_roles_cannot_use_the_admin(client, factory):
    client.force_login(factory())
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.headers["Location"]

"""Two managers allocating the same client at the same moment (PostgreSQL row locks)."""

import pytest
from django.db import connection

from accounts.exceptions import AlreadyAssigned
from accounts.models import CaseloadAssignment
from accounts.services import caseload_assign
from tests import factories
from tests.concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_two_admins_allocating_one_client_to_the_same_worker_at_once_create_one_allocation():
    admin_a, admin_b = factories.AdminFactory(), factories.AdminFactory()
    worker, client = factories.SocialWorkerFactory(), factories.ClientFactory()

    outcomes = race(
        [
            lambda: caseload_assign(actor=admin_a, social_worker=worker, client=client),
            lambda: caseload_assign(actor=admin_b, social_worker=worker, client=client),
        ]
    )

    assert sum(isinstance(o, CaseloadAssignment) for o in outcomes) == 1
    assert sum(isinstance(o, AlreadyAssigned) for o in outcomes) == 1
    assert CaseloadAssignment.objects.filter(client=client).count() == 1


def test_two_admins_allocating_one_client_to_different_workers_at_once_leave_one_open_allocation():
    admin_a, admin_b = factories.AdminFactory(), factories.AdminFactory()
    worker_a, worker_b, client = (
        factories.SocialWorkerFactory(),
        factories.SocialWorkerFactory(),
        factories.ClientFactory(),
    )

    outcomes = race(
        [
            lambda: caseload_assign(actor=admin_a, social_worker=worker_a, client=client),
            lambda: caseload_assign(actor=admin_b, social_worker=worker_b, client=client),
        ]
    )

    # The lock serialises them: the second is a transfer from the first, never two open allocations.
    assert all(isinstance(o, CaseloadAssignment) for o in outcomes)
    assert CaseloadAssignment.objects.filter(client=client, end_date__isnull=True).count() == 1
    assert CaseloadAssignment.objects.filter(client=client).count() == 2

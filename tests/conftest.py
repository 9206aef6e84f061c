"""Fixtures shared by every test: one person per role, a team with a caseload, API clients."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests import factories

# The local Stripe fake (STACK.md): `stripe_fake` and `stripe_fake_server` fixtures.
# Representatives: the `representative` fixture (a representative of `client_user`).
pytest_plugins = ["tests.stripe_fake.fixtures", "tests.accounts.representative_fixtures"]


@pytest.fixture(autouse=True)
def _celery_may_join():
    """An in-process Celery worker (celery.contrib.testing) marks the whole process as inside a
    worker, where waiting on a result is refused; a later test in the same process (one process
    per core runs many files) would then fail on an eager `.get()`. Each test starts unmarked."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty Django cache: cached open statistics and public rate-limit
    counts from one test must not leak into the next (the database is rolled back, the cache is
    not)."""
    from django.core.cache import cache

    cache.clear()


def _uses_database(request) -> tuple[bool, bool]:
    """(uses the database, transactionally) for the test asking, as pytest-django decides it."""
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in names or "live_server" in names
    if marker is not None:
        transactional = transactional or bool(marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    return (marker is not None or "db" in names or transactional), transactional


@pytest.fixture(autouse=True)
def _migration_data(request):
    """A test in a transaction sees the rows the data migrations ship (the example RAS scheme and
    charging policy), put back inside its transaction if a transactional test's flush emptied
    them. Serially, pytest-django runs transactional tests last; with one process per core
    (xdist) a process may run one before another file's tests, so the order cannot be relied on."""
    uses, transactional = _uses_database(request)
    if not uses or transactional:
        return
    request.getfixturevalue("_django_db_helper")
    import importlib

    from django.apps import apps

    from budgets import models as budget_models
    from budgets.ras_io import install_example_scheme

    if not budget_models.RasScheme.objects.exists():
        install_example_scheme(
            models=budget_models, budget_policy=budget_models.BudgetPolicy, ledger_account=budget_models.LedgerAccount
        )
    if not budget_models.ChargingPolicy.objects.exists():
        importlib.import_module("budgets.migrations.0010_example_charging_policy").add_example(apps, None)


@pytest.fixture
def client_user(db):
    return factories.ClientFactory(full_name="Ruth Ellis")


@pytest.fixture
def social_worker(db):
    return factories.SocialWorkerFactory(full_name="Sam Patel")


@pytest.fixture
def team_manager(db):
    return factories.TeamManagerFactory(full_name="Taylor Reid")


@pytest.fixture
def case_manager(db):
    return factories.CaseManagerFactory(full_name="Casey Brown")


@pytest.fixture
def finance_user(db):
    return factories.FinanceFactory(full_name="Farah Ahmed")


@pytest.fixture
def provider_user(db):
    return factories.ProviderStaffFactory(full_name="Lee Carter")


@pytest.fixture
def admin_person(db):
    return factories.AdminFactory(full_name="Alex Morgan")


@pytest.fixture
def team(team_manager, social_worker):
    """Taylor manages a team with Sam in it."""
    return factories.TeamFactory(manager=team_manager, members=[social_worker])


@pytest.fixture
def caseload(team, social_worker, client_user):
    """Ruth is on Sam's caseload."""
    return factories.CaseloadAssignmentFactory(social_worker=social_worker, client=client_user)


@pytest.fixture
def api():
    """An API client with no credentials."""
    return APIClient()


@pytest.fixture
def api_as():
    """`api_as(user)`: an API client that sends `user`'s token, as an integration would."""

    def make(user):
        client = APIClient()
        _, key = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def web_as(client):
    """`web_as(user)`: Django's test client signed in as `user` (session, as a browser is)."""

    def make(user):
        client.force_login(user)
        return client

    return make


@pytest.fixture
def example_scheme(db):
    """The example RAS scheme the data migration ships, put back if a transactional test's flush
    emptied the tables (pytest-django runs those after the others, against the same database)."""
    from budgets import models as budget_models
    from budgets.ras_io import install_example_scheme
    from budgets.selectors import active_scheme

    install_example_scheme(
        models=budget_models, budget_policy=budget_models.BudgetPolicy, ledger_account=budget_models.LedgerAccount
    )
    return active_scheme()

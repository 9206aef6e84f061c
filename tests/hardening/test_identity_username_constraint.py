"""Usernames are unique without regard to case in the database (accounts 0007), not only when an
account is created through the service: a direct insert of `Ruth` beside `ruth` is refused. The
migration stops, naming them, when existing accounts already differ only by case.

The migration test migrates accounts back to 0006 in-process (MigrationExecutor, so it runs on
SQLite and PostgreSQL alike) and always leaves the database at the latest migrations.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from tests import factories

BEFORE = ("accounts", "0006_api_tokens_expire")


def migrate_to(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def migrate_to_latest() -> None:
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db
@pytest.mark.parametrize("variant", ["Ruth", "RUTH", "rUtH"])
def test_a_direct_create_of_a_case_variant_is_refused_by_the_database(variant):
    factories.ClientFactory(username="ruth")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username=variant, full_name="Another Ruth")
    assert list(User.objects.filter(username__iexact="ruth").values_list("username", flat=True)) == ["ruth"]


@pytest.mark.django_db
def test_usernames_that_differ_otherwise_are_stored():
    factories.ClientFactory(username="ruth")
    User.objects.create(username="ruth2", full_name="Another Ruth")
    assert User.objects.count() == 2


@pytest.fixture
def at_latest_afterwards():
    yield
    User.objects.filter(username__in=["Ruth", "Olu.Ade"]).delete()
    migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_the_migration_stops_and_names_existing_case_variants(at_latest_afterwards):
    migrate_to([BEFORE])
    for username in ["ruth", "Ruth", "olu.ade", "Olu.Ade", "sam"]:
        User.objects.create(username=username, full_name=username)

    with pytest.raises(RuntimeError) as stopped:
        migrate_to_latest()

    message = str(stopped.value)
    assert message.startswith("2 usernames differ from another account's only by case")
    assert "Olu.Ade, olu.ade" in message and "Ruth, ruth" in message and "sam" not in message
    User.objects.filter(username__in=["Ruth", "Olu.Ade"]).delete()
    migrate_to_latest()  # with the clashes renamed away, it runs
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="SAM", full_name="Sam again")

"""accounts.bulk.update_each: each row gets its own values, in one statement per chunk."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.bulk import update_each
from accounts.models import Notification, Role, User


@pytest.fixture
def notes():
    user = User.objects.create(username="bulk-user", role=Role.CLIENT)
    kind = ContentType.objects.get_for_model(User)
    return Notification.objects.bulk_create(
        [
            Notification(recipient=user, message=f"before {n}", target_type=kind, target_id=user.pk, link=f"/{n}")
            for n in range(5)
        ]
    )


@pytest.mark.django_db
def test_each_row_gets_its_own_values_and_others_are_untouched(notes, django_assert_num_queries):
    rows = [(note.pk, f"after {n}", f"/new/{n}") for n, note in enumerate(notes[:3])]
    with django_assert_num_queries(1):
        assert update_each(Notification, ["message", "link"], rows) == 3
    got = {pk: (message, link) for pk, message, link in Notification.objects.values_list("pk", "message", "link")}
    assert [got[note.pk] for note in notes] == [
        ("after 0", "/new/0"),
        ("after 1", "/new/1"),
        ("after 2", "/new/2"),
        ("before 3", "/3"),
        ("before 4", "/4"),
    ]


@pytest.mark.django_db
def test_a_column_of_nulls_in_chunks(notes, monkeypatch):
    """Every value of a column NULL (PostgreSQL would read an untyped VALUES column as text)."""
    monkeypatch.setattr("accounts.bulk.CHUNK", 2)
    assert (
        update_each(Notification, ["target_type", "target_id", "message"], [(n.pk, None, None, "x") for n in notes])
        == 5
    )
    assert set(Notification.objects.values_list("target_type_id", "target_id", "message")) == {(None, None, "x")}


@pytest.mark.django_db
def test_nothing_to_do():
    assert update_each(Notification, ["message"], []) == 0

"""Representatives for tests: factories and the `representative` fixture (loaded by tests/conftest.py).

The fixture is Pat Ellis, Ruth's (`client_user`'s) daughter: a representative linked to Ruth as a
family member, so role-parametrised tests see a representative who acts for the conftest's client.
"""

import factory
import pytest

from accounts.models import Representation, RepresentationKind, Role
from tests.factories import ClientFactory, UserFactory


class RepresentativeFactory(UserFactory):
    role = Role.REPRESENTATIVE
    username = factory.Sequence(lambda n: f"rep{n}")


class RepresentationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Representation

    representative = factory.SubFactory(RepresentativeFactory)
    client = factory.SubFactory(ClientFactory)
    kind = RepresentationKind.FAMILY_MEMBER


def representative_of(*clients, **kwargs):
    """A new representative linked to each of `clients` (as a family member unless `kind=`)."""
    kind = kwargs.pop("kind", RepresentationKind.FAMILY_MEMBER)
    person = RepresentativeFactory(**kwargs)
    for client in clients:
        RepresentationFactory(representative=person, client=client, kind=kind)
    return person


@pytest.fixture
def representative(client_user):
    """Pat Ellis acts for Ruth (`client_user`) as a family member."""
    return representative_of(client_user, full_name="Pat Ellis")

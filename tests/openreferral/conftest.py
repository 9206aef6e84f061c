"""A small published directory: verified providers with live services, and the ones that must never
appear (a pending provider, a suspended one, a retired service)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from djmoney.money import Money

from providers.models import Provider, ProviderStatus, ServiceArea, ServiceOffering
from tests import factories


def provider_in(status: str, **fields) -> Provider:
    provider = factories.ProviderFactory(**fields)
    Provider.objects.filter(pk=provider.pk).update(status=status)
    provider.refresh_from_db()
    return provider


def service_of(provider, title, *, category="personal_care", price="20.00", unit="hour", districts=("NF1",), **fields):
    service = ServiceOffering.objects.create(
        provider=provider,
        title=title,
        category=category,
        unit=unit,
        unit_price=Money(price, "GBP"),
        postcode_districts=list(districts),
        description=fields.pop("description", f"{title}, from {provider.name}."),
        **fields,
    )
    ServiceArea.objects.bulk_create([ServiceArea(service=service, district=d) for d in districts])
    return service


@pytest.fixture
def directory(db):
    bright = provider_in(
        ProviderStatus.VERIFIED,
        name="Brightside Care",
        regulator_id="1-111",
        regulator_rating="good",
        website="https://brightside.example",
        address="1 High Street, Northfield",
        postcode="NF1 4QT",
    )
    Provider.objects.filter(pk=bright.pk).update(rating="4.25", review_count=12)
    bright.refresh_from_db()
    river = provider_in(ProviderStatus.VERIFIED, name="Riverside Centre", regulator_rating="outstanding", email="")
    pending = provider_in(ProviderStatus.PENDING, name="Pending Homes")
    suspended = provider_in(ProviderStatus.SUSPENDED, name="Suspended Care")
    return {
        "bright": bright,
        "river": river,
        "visits": service_of(bright, "Home visits", districts=("NF1", "NF2")),
        "sitting": service_of(bright, "Night sitting", category="respite", price="145.00", unit="night"),
        "day": service_of(
            river, "Day centre", category="day_opportunities", price="55.00", unit="day", districts=("NF2",)
        ),
        "retired": service_of(bright, "Old service", retired_at=timezone.now()),
        "pending": service_of(pending, "Pending visits"),
        "suspended": service_of(suspended, "Suspended visits"),
    }

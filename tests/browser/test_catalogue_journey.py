"""A client finds and compares services; a case manager verifies a new provider."""

import re

import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from providers.models import Provider, ProviderStatus, ServiceArea, ServiceOffering
from tests import factories
from tests.browser.test_assessment_journey import sign_in


def listed(name: str, services: list[tuple[str, str]], status=ProviderStatus.VERIFIED) -> Provider:
    provider = factories.ProviderFactory(name=name)
    Provider.objects.filter(pk=provider.pk).update(status=status)
    for title, price in services:
        s = ServiceOffering.objects.create(
            provider=provider, title=title, category="personal_care", unit="hour",
            unit_price=Money(price, "GBP"), postcode_districts=["NF1"],
        )  # fmt: skip
        ServiceArea.objects.create(service=s, district="NF1")
    return provider


@pytest.mark.django_db(transaction=True)
def test_client_searches_compares_two_services_and_opens_a_provider_page(live_server, page):
    listed("Brightside Care", [("Morning visits", "24.50")])
    listed("Riverside Care", [("Evening visits", "26.00")])
    client = factories.ClientFactory()

    sign_in(page, live_server, client)
    page.locator("main").get_by_role("link", name="Find support").click()
    page.get_by_label("Postcode district").fill("NF1")
    page.get_by_label("Sort by").select_option("price")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status")).to_have_text("2 services found")
    page.get_by_label("Compare Morning visits from Brightside Care").check()
    page.get_by_label("Compare Evening visits from Riverside Care").check()
    page.get_by_role("button", name="Compare selected services").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Compare services")
    expect(page.get_by_role("columnheader", name="Morning visits")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Evening visits")).to_be_visible()
    page.get_by_role("link", name="Riverside Care").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Riverside Care")
    expect(page.locator("main")).to_contain_text("£26.00 an hour")


@pytest.mark.django_db(transaction=True)
def test_case_manager_verifies_a_pending_provider(live_server, page):
    pending = listed("Harbour Homes", [("Residential respite", "950.00")], status=ProviderStatus.PENDING)
    case_manager = factories.CaseManagerFactory()

    sign_in(page, live_server, case_manager)
    page.locator("main").get_by_role("link", name="Providers").click()
    page.get_by_label("Status").select_option("pending")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Harbour Homes").click()
    page.get_by_role("button", name="Verify provider").click()
    expect(page.get_by_role("alert")).to_contain_text("Harbour Homes is now verified.")
    pending.refresh_from_db()
    assert pending.status == ProviderStatus.VERIFIED
    expect(page.get_by_role("button", name=re.compile("Suspend"))).to_be_visible()

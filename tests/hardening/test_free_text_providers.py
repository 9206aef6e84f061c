"""Providers' names, service titles, descriptions, addresses and reasons refuse control and
bidirectional-override characters, on the pages and through the API (accounts/text.py): 400 with
the field's message, nothing written."""

from __future__ import annotations

import pytest

from accounts.text import FREE_TEXT_MESSAGE, NAME_MESSAGE
from providers.models import Provider, ProviderStatus, ServiceOffering

pytestmark = pytest.mark.django_db

RLO = "\u202e"
BEL = "\u0007"

SERVICE = {"title": "Evening visits", "category": "personal_care", "unit": "hour", "unit_price": "26.00"}


def form_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


# --- Pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": f"Evening {RLO}stisiv"}, "title", NAME_MESSAGE),
        ({"title": f"Evening{BEL} visits"}, "title", NAME_MESSAGE),
        ({"description": f"Tea-time {RLO}sllac"}, "description", FREE_TEXT_MESSAGE),
    ],
)
def test_the_service_form_refuses_an_override_on_the_field(change, field, message, web_as, provider_user):
    response = web_as(provider_user).post("/my-organisation/services/add/", {**SERVICE, **change})
    assert response.status_code == 400
    assert form_errors(response, field) == [message]
    assert not ServiceOffering.objects.exists()


def test_a_service_description_may_have_line_breaks(web_as, provider_user):
    data = {**SERVICE, "description": "Tea-time calls.\r\nBedtime calls."}
    assert web_as(provider_user).post("/my-organisation/services/add/", data).status_code == 302


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": f"Bright {RLO}erac"}, "name", NAME_MESSAGE),
        ({"description": f"About {BEL}us"}, "description", FREE_TEXT_MESSAGE),
        ({"address": f"1 High {RLO}teerts"}, "address", FREE_TEXT_MESSAGE),
    ],
)
def test_the_profile_form_refuses_an_override_on_the_field(change, field, message, web_as, provider_user):
    before = Provider.objects.values().get(pk=provider_user.provider_id)
    response = web_as(provider_user).post("/my-organisation/edit/", {"name": "New Name Care", **change})
    assert response.status_code == 400
    assert form_errors(response, field) == [message]
    assert Provider.objects.values().get(pk=provider_user.provider_id) == before


def test_the_add_a_provider_form_refuses_an_override_in_the_name(web_as, case_manager):
    response = web_as(case_manager).post("/providers/add/", {"name": f"New {RLO}erac", "regulator_rating": "good"})
    assert response.status_code == 400
    assert form_errors(response, "name") == [NAME_MESSAGE]
    assert not Provider.objects.filter(name__startswith="New").exists()


def test_a_suspension_reason_with_an_override_is_refused_on_the_page(web_as, case_manager, provider_user):
    provider = provider_user.provider
    Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.VERIFIED)
    response = web_as(case_manager).post(
        f"/providers/{provider.pk}/manage/", {"action": "suspend", "reason": f"Safeguarding {RLO}nrecnoc"}
    )
    assert response.status_code == 400
    assert form_errors(response, "reason") == [FREE_TEXT_MESSAGE]
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.VERIFIED


# --- API -----------------------------------------------------------------------------------------


def test_adding_a_provider_with_an_override_in_the_name_is_a_400(api_as, case_manager):
    response = api_as(case_manager).post("/api/v1/providers/", {"name": f"New {RLO}erac"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": [NAME_MESSAGE]}
    assert not Provider.objects.filter(name__startswith="New").exists()


def test_adding_a_provider_with_an_email_longer_than_its_column_is_a_400(api_as, case_manager):
    """Django's email validator allows 320 characters; the column holds 254 (PostgreSQL: a 500)."""
    email = "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".org"
    response = api_as(case_manager).post("/api/v1/providers/", {"name": "New Care", "email": email}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()
    assert not Provider.objects.filter(name="New Care").exists()


def test_a_suspension_reason_with_an_override_is_a_400_through_the_api(api_as, case_manager, provider_user):
    provider = provider_user.provider
    Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.VERIFIED)
    response = api_as(case_manager).post(
        f"/api/v1/providers/{provider.pk}/suspend/", {"reason": f"Safeguarding{BEL}"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"reason": [FREE_TEXT_MESSAGE]}
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.VERIFIED


API_SERVICE = {**SERVICE, "unit_price": {"amount": "26.00", "currency": "GBP"}}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": f"Evening {RLO}stisiv"}, "title", NAME_MESSAGE),
        ({"description": f"Tea-time{BEL} calls"}, "description", FREE_TEXT_MESSAGE),
    ],
)
def test_a_service_with_an_override_is_a_400_through_the_api(change, field, message, api_as, provider_user):
    api = api_as(provider_user)
    response = api.post("/api/v1/services/", {**API_SERVICE, **change}, format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not ServiceOffering.objects.exists()
    created = api.post("/api/v1/services/", API_SERVICE, format="json").json()
    response = api.patch(f"/api/v1/services/{created['id']}/", change, format="json")
    assert response.status_code == 400
    assert ServiceOffering.objects.values_list("title", "description").get() == ("Evening visits", "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".org"}, "email"),
        ({"website": "https://care.example/" + "a" * 200}, "website"),
    ],
)
def test_the_profile_form_refuses_an_email_or_website_longer_than_its_column(change, field, web_as, provider_user):
    """Django's validators allow 320 and 2,048 characters; the columns hold 254 and 200 (PostgreSQL
    refused the row with a 500; SQLite stored it)."""
    before = Provider.objects.values().get(pk=provider_user.provider_id)
    response = web_as(provider_user).post("/my-organisation/edit/", {"name": "New Name Care", **change})
    assert response.status_code == 400
    assert form_errors(response, field)
    assert Provider.objects.values().get(pk=provider_user.provider_id) == before

"""Sense checks: a provider's postcode, phone number and CQC location ID are real ones however the
provider is recorded (page, API, service, CQC directory import, Open Referral import); removing a
plan line asks first, on a page of its own that works without JavaScript."""

# ruff: noqa: F811  (pytest fixtures imported from tests/approvals/conftest.py, requested by name)

import pytest

from accounts.exceptions import InvalidInput
from careplans.models import PlanLine
from marketplace.openreferral.importer import _regulator_id
from providers.models import Provider
from providers.regulator_import import import_cqc_directory
from providers.services import provider_create, provider_update_profile
from providers.validators import clean_cqc_location_id, clean_phone, clean_postcode
from tests.approvals.conftest import budget, draft_plan, make_budget, make_plan, make_provider, make_service, visits  # noqa: F401
from tests.providers.test_regulator_import import directory_text, location

pytestmark = pytest.mark.django_db

NONSENSE = {"name": "Nonsense Care", "postcode": "nonsense", "phone": "abc", "regulator_id": "xyz"}


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("nf1 4qt", "NF1 4QT"), ("SW1A1AA", "SW1A 1AA"), (" b33  8th ", "B33 8TH"), ("", "")],
)
def test_real_postcodes_are_kept_in_their_usual_form(raw, clean):
    assert clean_postcode(raw) == clean


@pytest.mark.parametrize("raw", ["nonsense", "NF1", "NF1 4Q", "12345", "NF1 4QTT"])
def test_postcodes_that_are_not_real_are_refused(raw):
    with pytest.raises(ValueError, match="Enter a real postcode"):
        clean_postcode(raw)


@pytest.mark.parametrize("raw", ["01632 960 001", "07700900982", "+44 808 157 0192", "(01632) 960-001", ""])
def test_uk_phone_numbers_are_accepted(raw):
    assert clean_phone(raw) == " ".join(raw.split())


@pytest.mark.parametrize("raw", ["abc", "123", "01632 960 001 ext 5", "+1 202 555 0100", "0163296000112"])
def test_phone_numbers_that_are_not_uk_numbers_are_refused(raw):
    with pytest.raises(ValueError, match="UK telephone number"):
        clean_phone(raw)


@pytest.mark.parametrize("raw", ["xyz", "1-", "2-123456789", "1-12345a", "123456789"])
def test_cqc_location_ids_must_be_1_dash_and_digits(raw):
    with pytest.raises(ValueError, match="CQC location ID"):
        clean_cqc_location_id(raw)
    assert clean_cqc_location_id("1-123456789") == "1-123456789"


def test_case_manager_adding_a_provider_with_nonsense_details_sees_each_error_by_its_field(client, case_manager):
    client.force_login(case_manager)
    response = client.post("/providers/add/", {**NONSENSE, "regulator_rating": "not_yet_rated"})
    assert response.status_code == 400
    page = response.content.decode()
    for field, message in [
        ("postcode", "Enter a real postcode, like NF1 4QT"),
        ("phone", "Enter a UK telephone number"),
        ("regulator_id", "Enter a CQC location ID: 1- and then digits"),
    ]:
        assert f'<a href="#id_{field}">{message}' in page
        assert f'id="id_{field}-error"' in page
    assert not Provider.objects.filter(name="Nonsense Care").exists()


def test_a_real_provider_is_recorded_with_its_details_tidied(client, case_manager):
    client.force_login(case_manager)
    response = client.post(
        "/providers/add/",
        {
            "name": "Heron Care",
            "postcode": "nf1 4qt",
            "phone": "01632 960 001",
            "regulator_id": "1-123456789",
            "regulator_rating": "good",
        },
    )
    assert response.status_code == 302
    provider = Provider.objects.get(name="Heron Care")
    assert (provider.postcode, provider.phone, provider.regulator_id) == ("NF1 4QT", "01632 960 001", "1-123456789")


def test_the_api_refuses_nonsense_details_with_a_400_naming_each_field(api_as, case_manager):
    response = api_as(case_manager).post("/api/v1/providers/", NONSENSE, format="json")
    assert response.status_code == 400
    assert {"postcode", "phone", "regulator_id"} <= set(response.json())
    assert not Provider.objects.filter(name="Nonsense Care").exists()


def test_the_services_refuse_nonsense_whoever_calls_them(case_manager):
    with pytest.raises(InvalidInput) as refused:
        provider_create(actor=case_manager, **NONSENSE)
    assert set(refused.value.errors) == {"postcode", "phone", "regulator_id"}
    provider = provider_create(actor=case_manager, name="Wren Care", postcode="nf2 7hd")
    with pytest.raises(InvalidInput):
        provider_update_profile(actor=case_manager, provider=provider, phone="abc")
    assert Provider.objects.get(pk=provider.pk).phone == ""


def test_the_cqc_directory_import_skips_rows_with_nonsense_saying_why():
    text = directory_text(
        [
            location(n=1),
            location(n=2, **{"CQC Location ID (for office use only)": "xyz"}),
            location(n=3, Postcode="nonsense"),
            location(n=4, **{"Phone number": "abc"}),
        ]
    )
    report = import_cqc_directory(text_or_path=text)
    assert report.created == 1
    reasons = " ".join(report.skipped)
    assert "“xyz” is not a CQC location ID" in reasons
    assert "“nonsense” is not a postcode" in reasons
    assert "“abc” is not a UK telephone number" in reasons


def test_the_open_referral_import_leaves_out_an_identifier_that_is_not_a_cqc_location_id():
    def org(value):
        return {"organization_identifiers": [{"identifier_type": "CQC location", "identifier": value}]}

    assert _regulator_id(org("1-123456789")) == "1-123456789"
    assert _regulator_id(org("xyz")) is None


def test_removing_a_line_asks_first_on_a_page_that_needs_no_javascript(client, client_user, draft_plan):
    line = draft_plan.lines.get()
    client.force_login(client_user)
    plan_page = client.get(f"/plans/{draft_plan.pk}/").content.decode()
    confirm_url = f"/plans/{draft_plan.pk}/lines/{line.pk}/remove/confirm/"
    assert f'href="{confirm_url}"' in plan_page
    assert f'action="/plans/{draft_plan.pk}/lines/{line.pk}/remove/"' not in plan_page  # no one-click removal
    confirm = client.get(confirm_url)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert f"Are you sure you want to remove {line.title}?" in page
    assert f'<form method="post" action="/plans/{draft_plan.pk}/lines/{line.pk}/remove/">' in page
    assert PlanLine.objects.filter(pk=line.pk).exists()  # asking removed nothing
    client.post(f"/plans/{draft_plan.pk}/lines/{line.pk}/remove/")
    assert not PlanLine.objects.filter(pk=line.pk).exists()


def test_someone_elses_line_confirmation_page_is_404(client, draft_plan):
    from tests import factories

    line = draft_plan.lines.get()
    client.force_login(factories.ClientFactory())
    assert client.get(f"/plans/{draft_plan.pk}/lines/{line.pk}/remove/confirm/").status_code == 404

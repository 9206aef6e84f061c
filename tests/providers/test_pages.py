"""Provider and catalogue pages: search, provider page, compare, staff's own services, and the
case manager's onboarding page."""

import pytest
from djmoney.money import Money

from accounts.models import AuditAction, AuditEvent
from providers.models import Provider, ProviderStatus, ServiceArea, ServiceOffering
from tests import factories

pytestmark = pytest.mark.django_db


def verified_provider(**fields) -> Provider:
    provider = factories.ProviderFactory(**fields)
    Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.VERIFIED)
    provider.refresh_from_db()
    return provider


def service(provider, title, price="20.00", category="personal_care", districts=("NF1",), **fields):
    s = ServiceOffering.objects.create(
        provider=provider,
        title=title,
        category=category,
        unit="hour",
        unit_price=Money(price, "GBP"),
        postcode_districts=list(districts),
        **fields,
    )
    ServiceArea.objects.bulk_create([ServiceArea(service=s, district=d) for d in districts])
    return s


@pytest.fixture
def catalogue():
    bright = verified_provider(name="Brightside Care")
    river = verified_provider(name="Riverside Centre")
    pending = factories.ProviderFactory(name="Pending Homes")
    return {
        "visits": service(bright, "Home care visits", "24.50", districts=("NF1", "NF2")),
        "cleaning": service(bright, "Cleaning", "18.00", category="domestic_help", districts=("NF3",)),
        "respite": service(river, "Respite breaks", "180.00", category="respite", districts=("NF1",)),
        "retired": service(river, "Old group", "10.00", retired_at="2026-01-01T00:00:00Z"),
        "pending": service(pending, "Pending care", "5.00"),
    }


def titles(response):
    return [s.title for s in response.context["object_list"]]


def test_client_searches_the_catalogue_and_sees_only_listed_services(web_as, client_user, catalogue):
    web = web_as(client_user)
    assert titles(web.get("/services/")) == ["Cleaning", "Home care visits", "Respite breaks"]
    assert titles(web.get("/services/?postcode_district=nf1&ordering=price")) == ["Home care visits", "Respite breaks"]
    assert titles(web.get("/services/?q=respite")) == ["Respite breaks"]
    assert titles(web.get("/services/?q=brightside&ordering=-price")) == ["Home care visits", "Cleaning"]
    assert titles(web.get("/services/?max_price=20")) == ["Cleaning"]
    assert titles(web.get("/services/?category=respite")) == ["Respite breaks"]


def test_bad_filter_shows_an_error_and_no_results(web_as, client_user, catalogue):
    response = web_as(client_user).get("/services/?max_price=cheap")
    html = response.content.decode()
    assert "There is a problem" in html and "Enter a price, like 25 or 25.50" in html
    assert titles(response) == []


def test_catalogue_query_count_does_not_grow_with_results(web_as, client_user, django_assert_max_num_queries):
    provider = verified_provider()
    service(provider, "First")
    web = web_as(client_user)
    with django_assert_max_num_queries(10) as few:
        web.get("/services/")
    for i in range(19):
        service(verified_provider(), f"Service {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(titles(web.get("/services/"))) == 20


def test_provider_page_shows_services_and_regulator_rating(web_as, client_user, catalogue):
    provider = catalogue["visits"].provider
    Provider.objects.filter(pk=provider.pk).update(regulator_rating="good", regulator_rating_date="2025-06-01")
    html = web_as(client_user).get(f"/providers/{provider.pk}/").content.decode()
    assert "Brightside Care" in html and "Home care visits" in html and "Cleaning" in html
    assert "Good, published 1 June 2025" in html and "No reviews yet" in html


def test_provider_page_query_count_does_not_grow_with_services(web_as, client_user, django_assert_max_num_queries):
    provider = verified_provider()
    service(provider, "One")
    web = web_as(client_user)
    web.get(f"/providers/{provider.pk}/")  # warm this process's caches (content types): a cold one adds queries
    with django_assert_max_num_queries(10) as few:
        web.get(f"/providers/{provider.pk}/")
    for i in range(15):
        service(provider, f"More {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert web.get(f"/providers/{provider.pk}/").status_code == 200


def test_pending_provider_page_is_404_for_clients_but_open_to_its_staff_and_case_managers(
    web_as, client_user, case_manager, catalogue
):
    pending = catalogue["pending"].provider
    assert web_as(client_user).get(f"/providers/{pending.pk}/").status_code == 404
    staff = factories.ProviderStaffFactory(provider=pending)
    assert web_as(staff).get(f"/providers/{pending.pk}/").status_code == 200
    assert web_as(case_manager).get(f"/providers/{pending.pk}/").status_code == 200


def test_compare_shows_up_to_three_listed_services_side_by_side(web_as, client_user, catalogue):
    web = web_as(client_user)
    ids = [catalogue[k].pk for k in ("visits", "respite", "cleaning")]
    response = web.get("/services/compare/", {"service": ids})
    assert [s.title for s in response.context["services"]] == ["Home care visits", "Respite breaks", "Cleaning"]
    extra = factories.ProviderFactory()  # pending: never compared
    response = web.get("/services/compare/", {"service": [*ids, catalogue["pending"].pk, extra.pk]})
    assert len(response.context["services"]) == 3 and response.context["too_many"]
    assert [
        s.title for s in web.get("/services/compare/", {"service": [catalogue["pending"].pk]}).context["services"]
    ] == []


def test_provider_staff_add_change_and_retire_their_services(web_as, provider_user):
    web = web_as(provider_user)
    response = web.post(
        "/my-organisation/services/add/",
        {"title": "Evening visits", "category": "personal_care", "unit": "hour", "unit_price": "26.00",
         "postcode_districts": "nf1, NF2", "description": "Tea-time and bedtime calls"},
    )  # fmt: skip
    assert response.status_code == 302
    created = ServiceOffering.objects.get(title="Evening visits")
    assert created.provider == provider_user.provider and created.postcode_districts == ["NF1", "NF2"]
    assert sorted(created.areas.values_list("district", flat=True)) == ["NF1", "NF2"]

    web.post(
        f"/my-organisation/services/{created.pk}/edit/",
        {"title": "Evening visits", "category": "personal_care", "unit": "hour", "unit_price": "27.50",
         "postcode_districts": "NF1"},
    )  # fmt: skip
    created.refresh_from_db()
    assert created.unit_price == Money("27.50", "GBP") and created.postcode_districts == ["NF1"]
    web.post(f"/my-organisation/services/{created.pk}/retire/")
    created.refresh_from_db()
    assert created.retired_at is not None
    assert AuditEvent.objects.filter(target_repr__startswith="Evening visits").count() == 3


def test_service_form_errors_name_the_field_and_write_nothing(web_as, provider_user):
    response = web_as(provider_user).post(
        "/my-organisation/services/add/",
        {"title": "", "category": "personal_care", "unit": "hour", "unit_price": "0", "postcode_districts": "123"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a title" in html and "The price must be more than £0" in html
    assert not ServiceOffering.objects.exists()


def test_invalid_districts_are_refused_with_the_bad_ones_named(web_as, provider_user):
    response = web_as(provider_user).post(
        "/my-organisation/services/add/",
        {
            "title": "Visits",
            "category": "personal_care",
            "unit": "hour",
            "unit_price": "20",
            "postcode_districts": "NF1 99X",
        },
    )
    assert response.status_code == 400
    assert "These are not postcode districts: 99X" in response.content.decode()
    assert not ServiceOffering.objects.exists()


def test_staff_cannot_touch_another_organisations_service(web_as, provider_user, catalogue):
    other = catalogue["visits"]
    web = web_as(provider_user)
    assert web.get(f"/my-organisation/services/{other.pk}/edit/").status_code == 404
    assert web.post(f"/my-organisation/services/{other.pk}/retire/").status_code == 404
    other.refresh_from_db()
    assert other.retired_at is None


@pytest.mark.parametrize("role_fixture", ["client_user", "social_worker", "case_manager"])
def test_only_provider_staff_have_an_organisation_page(role_fixture, request, web_as):
    assert web_as(request.getfixturevalue(role_fixture)).get("/my-organisation/").status_code == 403


def test_staff_update_their_profile(web_as, provider_user):
    response = web_as(provider_user).post(
        "/my-organisation/edit/",
        {"name": "New Name Care", "areas_served": "NF1 NF4", "website": "care.example", "email": ""},
    )
    assert response.status_code == 302
    provider = Provider.objects.get(pk=provider_user.provider_id)
    assert provider.name == "New Name Care" and provider.areas_served == ["NF1", "NF4"]
    assert provider.website == "https://care.example"


def test_case_manager_verifies_suspends_with_a_reason_and_reinstates(web_as, case_manager, catalogue):
    provider = catalogue["pending"].provider
    web = web_as(case_manager)
    assert b"Verify provider" in web.get(f"/providers/{provider.pk}/manage/").content
    web.post(f"/providers/{provider.pk}/manage/", {"action": "verify"})
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.VERIFIED
    response = web.post(f"/providers/{provider.pk}/manage/", {"action": "suspend", "reason": ""})
    assert response.status_code == 400 and "Give the reason" in response.content.decode()
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.VERIFIED
    web.post(f"/providers/{provider.pk}/manage/", {"action": "suspend", "reason": "Safeguarding concern"})
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.SUSPENDED and provider.status_reason == "Safeguarding concern"
    assert "Pending care" not in [s.title for s in web.get("/services/").context["object_list"]]
    web.post(f"/providers/{provider.pk}/manage/", {"action": "reinstate"})
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.VERIFIED
    assert AuditEvent.objects.filter(action=AuditAction.TRANSITION, actor=case_manager).count() == 3


def test_case_manager_adds_a_provider_and_duplicate_cqc_id_is_refused(web_as, case_manager):
    web = web_as(case_manager)
    data = {"name": "New Care", "regulator_id": "1-555", "regulator_rating": "good"}
    assert web.post("/providers/add/", data).status_code == 302
    response = web.post("/providers/add/", {**data, "name": "Copy Care"})
    assert response.status_code == 400 and "already recorded" in response.content.decode()
    assert Provider.objects.filter(regulator_id="1-555").count() == 1


def test_provider_list_filters_by_status(web_as, case_manager, catalogue):
    web = web_as(case_manager)
    names = [p.name for p in web.get("/providers/?status=pending").context["object_list"]]
    assert names == ["Pending Homes"]


@pytest.mark.parametrize("role_fixture", ["client_user", "social_worker", "provider_user", "finance_user"])
def test_only_case_managers_and_admins_see_the_provider_list(role_fixture, request, web_as, catalogue):
    web = web_as(request.getfixturevalue(role_fixture))
    assert web.get("/providers/").status_code == 403
    assert web.get(f"/providers/{catalogue['pending'].provider.pk}/manage/").status_code == 403

"""GET /api/v1/plans/{id}/pdf/: a readable document for the person, always application/pdf."""

import datetime
import io

import pytest
from pypdf import PdfReader

from tests import factories

pytestmark = pytest.mark.django_db


def day(budget, offset: int) -> str:
    return (budget.period_start + datetime.timedelta(days=offset)).isoformat()


@pytest.fixture
def plan(make_plan, make_service, make_provider, client_user, budget):
    visits = make_service("Home care visits", "24.69", provider=make_provider(name="Brightside Care"))
    respite = make_service("Respite breaks", "180.00", provider=make_provider(name="Riverside Centre"), unit="night")
    return make_plan(
        client_user,
        budget,
        outcomes=["Get out to the allotment every week"],
        lines=[
            # 24.69 × 50 × 7/7 = 1,234.50
            {"service": visits.pk, "units_per_week": "50", "start": day(budget, 0), "end": day(budget, 6)},
            # 180.00 × 2 = 360.00
            {"service": respite.pk, "quantity": "2", "start": day(budget, 30)},
        ],
        risks="Falls <b>& stairs",
        contacts="Sam & the duty team",
    )


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("accept", ["application/json", "application/pdf", "*/*", "text/html"])
def test_client_gets_the_plan_as_a_pdf_whatever_the_accept_header(accept, api_as, client_user, plan):
    response = api_as(client_user).get(f"/api/v1/plans/{plan.pk}/pdf/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_pdf_shows_the_person_their_lines_costs_total_and_page_numbers(api_as, client_user, plan):
    response = api_as(client_user).get(f"/api/v1/plans/{plan.pk}/pdf/", HTTP_ACCEPT="application/json")
    text = pdf_text(response.content)
    assert "Ruth Ellis" in text
    assert "Get out to the allotment every week" in text
    for words in ["Home care visits", "Respite breaks", "Brightside Care", "Riverside Centre"]:
        assert words in text
    for amount in ["£24.69", "£1,234.50", "£180.00", "£360.00"]:
        assert amount in text, amount
    assert "£1,594.50" in text  # the total
    assert "£10,000.00" in text  # the budget
    assert "Page 1 of" in text


def test_people_s_own_words_are_shown_literally_in_the_pdf(api_as, social_worker, plan):
    response = api_as(social_worker).get(f"/api/v1/plans/{plan.pk}/pdf/")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "<b>&" in text
    assert "Sam & the duty team" in text


@pytest.mark.parametrize("who", ["social_worker", "team_manager", "admin_person"])
def test_staff_who_can_see_the_plan_get_its_pdf(request, who, api_as, plan):
    response = api_as(request.getfixturevalue(who)).get(f"/api/v1/plans/{plan.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("who", ["case_manager", "provider_user", "finance_user"])
def test_roles_that_cannot_see_the_plan_get_404_for_its_pdf(request, who, api_as, plan):
    assert api_as(request.getfixturevalue(who)).get(f"/api/v1/plans/{plan.pk}/pdf/").status_code == 404


def test_another_client_gets_404_for_the_pdf(api_as, plan):
    assert api_as(factories.ClientFactory()).get(f"/api/v1/plans/{plan.pk}/pdf/").status_code == 404


def test_pdf_of_a_nonexistent_plan_is_404(api_as, client_user, plan):
    assert api_as(client_user).get(f"/api/v1/plans/{plan.pk + 1000}/pdf/").status_code == 404


def test_anonymous_gets_401_for_the_pdf(api, plan):
    assert api.get(f"/api/v1/plans/{plan.pk}/pdf/").status_code == 401

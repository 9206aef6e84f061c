"""A representative sees what the person they act for pays towards their care — the assessment's
working (page, PDF letter and API), its review request and the contributions page — and can ask
for a review on their behalf; a representative of someone else gets 404 for every one of them."""

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from budgets.models import ContributionReview, FinancialAssessment
from tests.accounts.representative_fixtures import representative_of
from tests.budgets.test_financial_assessments import BODY

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment_id(api_as, finance_user, client_user):
    response = api_as(finance_user).post(
        "/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


@pytest.fixture
def representative(client_user):
    """Pat Ellis acts for Ruth (`client_user`) as a family member."""
    return representative_of(client_user, full_name="Pat Ellis")


@pytest.fixture
def stranger(db):
    """A representative of another client only."""
    from tests import factories

    return representative_of(factories.ClientFactory(full_name="Someone Else"), full_name="Sam Stranger")


def pages(assessment_id, client_user) -> list[str]:
    return [
        f"/financial-assessments/{assessment_id}/",
        f"/financial-assessments/{assessment_id}/letter.pdf",
        f"/clients/{client_user.pk}/contributions/",
    ]


def test_a_representative_reads_the_working_the_letter_and_the_contributions(
    web_as,
    api_as,
    representative,
    client_user,
    assessment_id,
):
    web = web_as(representative)
    for url in pages(assessment_id, client_user):
        assert web.get(url).status_code == 200, url
    assert "£45.15" in web.get(f"/financial-assessments/{assessment_id}/").content.decode()
    api = api_as(representative)
    assert api.get(f"/api/v1/financial-assessments/{assessment_id}/").status_code == 200
    assert api.get(f"/api/v1/clients/{client_user.pk}/contributions/").status_code == 200


def test_a_representative_asks_for_a_review_for_the_person(web_as, representative, assessment_id):
    response = web_as(representative).post(f"/financial-assessments/{assessment_id}/", {"reason": "Her rent went up"})
    assert response.status_code in (200, 302)
    review = ContributionReview.objects.get()
    assert review.assessment_id == assessment_id
    assert review.due > timezone.localdate()


def test_a_representative_of_someone_else_gets_404_and_changes_nothing(
    web_as, api_as, stranger, client_user, assessment_id
):
    web = web_as(stranger)
    for url in pages(assessment_id, client_user):
        assert web.get(url).status_code == 404, url
    before = (ContributionReview.objects.count(), AuditEvent.objects.count(), FinancialAssessment.objects.count())
    assert web.post(f"/financial-assessments/{assessment_id}/", {"reason": "x"}).status_code == 404
    assert web.post(f"/clients/{client_user.pk}/contributions/", {"pay_online": "1"}).status_code == 404
    api = api_as(stranger)
    assert api.get(f"/api/v1/financial-assessments/{assessment_id}/").status_code == 404
    assert api.get(f"/api/v1/clients/{client_user.pk}/contributions/").status_code == 404
    review = api.post(f"/api/v1/financial-assessments/{assessment_id}/review/", {"reason": "x"}, format="json")
    assert review.status_code == 404
    assert (ContributionReview.objects.count(), AuditEvent.objects.count(), FinancialAssessment.objects.count()) == (
        before
    )
    assert [a.pk for a in FinancialAssessment.objects.all()] == [assessment_id]

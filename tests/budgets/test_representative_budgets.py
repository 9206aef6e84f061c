"""A representative sees the budget of the client they act for — the page, how it was worked out,
the ledger, the statements, the assessment, "My budget" — as the client does, and nothing of any
other client's. They do not decide budgets.

The world: Ruth (client_user) has a £10,000 budget and is on Sam's caseload; Pat (`representative`)
acts for Ruth. Ben, another client, has his own budget.
"""

import datetime

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from tests import factories
from tests.accounts.representative_fixtures import representative_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def ruths(make_budget, caseload, client_user, social_worker):
    return make_budget(client_user, "10000.00", assessor=social_worker)


@pytest.fixture
def bens(make_budget):
    ben = factories.ClientFactory(full_name="Ben Clarke")
    factories.CaseloadAssignmentFactory(social_worker=factories.SocialWorkerFactory(), client=ben)
    return make_budget(ben, "8000.00")


def this_month(budget) -> str:
    today = timezone.localdate()
    return f"/budgets/{budget.pk}/statements/{today.year}/{today.month}.pdf"


def test_my_budget_lists_each_person_the_representative_acts_for_with_a_link_to_their_budget(
    web_as, representative, ruths, bens
):
    ivy = factories.ClientFactory(full_name="Ivy Chen")
    representative.representations.create(client=ivy, kind="advocate")
    page = web_as(representative).get("/my-budget/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Budgets of the people you act for" in html
    assert f'href="/budgets/{ruths.pk}/">Budget for Ruth Ellis</a>' in html
    assert "Ivy Chen does not have a personal budget yet." in html
    assert "Ben Clarke" not in html and f"/budgets/{bens.pk}/" not in html


def test_my_budget_says_so_when_the_representative_acts_for_nobody(web_as):
    html = web_as(representative_of(full_name="Ada Advocate")).get("/my-budget/").content.decode()
    assert "You do not act for anyone yet." in html


def test_the_clients_own_my_budget_still_opens_their_budget(web_as, representative, client_user, ruths):
    response = web_as(client_user).get("/my-budget/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/budgets/{ruths.pk}/"


def test_representative_opens_ruths_budget_page_statements_and_assessment(web_as, representative, ruths):
    web = web_as(representative)
    page = web.get(f"/budgets/{ruths.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Budget for Ruth Ellis" in html and "How the budget was worked out" in html
    assert "Set the final budget" not in html
    for url in (f"/budgets/{ruths.pk}/statement.pdf", this_month(ruths)):
        response = web.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
    assert web.get(f"/assessments/{ruths.assessment_id}/").status_code == 200


def test_representative_reads_ruths_budget_ledger_and_assessment_through_the_api(api_as, representative, ruths, bens):
    api = api_as(representative)
    listed = api.get("/api/v1/budgets/").json()
    assert [row["id"] for row in listed["results"]] == [ruths.pk]
    assert api.get(f"/api/v1/budgets/{ruths.pk}/").json()["allocated"] == {"amount": "10000.00", "currency": "GBP"}
    assert api.get(f"/api/v1/budgets/{ruths.pk}/ledger/").status_code == 200
    assert api.get(f"/api/v1/assessments/{ruths.assessment_id}/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/budgets/{budget}/",
        "/budgets/{budget}/statement.pdf",
        "/budgets/{budget}/statements/{year}/{month}.pdf",
        "/assessments/{assessment}/",
        "/clients/{client}/",
        "/api/v1/budgets/{budget}/",
        "/api/v1/budgets/{budget}/ledger/",
        "/api/v1/assessments/{assessment}/",
    ],
)
def test_representative_gets_not_found_for_every_view_of_another_clients_budget(
    web_as, api_as, representative, ruths, bens, path
):
    today = timezone.localdate()
    url = path.format(
        budget=bens.pk, assessment=bens.assessment_id, client=bens.client_id, year=today.year, month=today.month
    )
    caller = api_as(representative) if url.startswith("/api/") else web_as(representative)
    assert caller.get(url).status_code == 404, url


def test_representative_may_not_set_the_final_budget_and_nothing_changes(web_as, representative, ruths):
    web = web_as(representative)
    audit_rows = AuditEvent.objects.count()
    response = web.post(f"/budgets/{ruths.pk}/final/", {"amount": "20000.00", "reason": "Pat says so"})
    assert response.status_code == 403
    ruths.refresh_from_db()
    assert ruths.final_amount is None
    assert AuditEvent.objects.count() == audit_rows


def test_representative_may_not_assess(web_as, api_as, representative, client_user, scheme):
    web = web_as(representative)
    assert web.post(f"/clients/{client_user.pk}/assess/").status_code in (403, 404)
    response = api_as(representative).post(
        "/api/v1/assessments/",
        {"client": client_user.pk, "answers": {}, "impairment": True, "wellbeing_impact": True},
        format="json",
    )
    assert response.status_code == 403


def test_a_representative_of_two_clients_sees_both_budgets_and_no_other(web_as, make_budget, ruths, bens):
    ivy = factories.ClientFactory(full_name="Ivy Chen")
    ivys = make_budget(ivy, "5000.00", period_start=datetime.date.today() - datetime.timedelta(days=10))
    pat = representative_of(ruths.client, ivy)
    web = web_as(pat)
    assert [web.get(f"/budgets/{b.pk}/").status_code for b in (ruths, ivys, bens)] == [200, 200, 404]

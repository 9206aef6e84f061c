"""A representative does for the client they act for what the client may do with care plans —
create, edit, submit, withdraw, read, the PDF, the history — on the pages and through the API,
and is told what the client is told. For any other client every one of those is "not found", and
nothing changes.

The world: Ruth (client_user) has a £10,000 budget and is on Sam's (social_worker's) caseload;
Pat (`representative`) acts for Ruth. Ben, another client with his own social worker, has a budget
and a draft plan of his own.
"""

import datetime

import pytest
from django_fsm_log.models import StateLog

from accounts.models import AuditEvent, Notification
from approvals import services as workflow
from careplans.models import CarePlan, PlanStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def ben(db):
    person = factories.ClientFactory(full_name="Ben Clarke")
    factories.CaseloadAssignmentFactory(
        social_worker=factories.SocialWorkerFactory(full_name="Wren Oduya"), client=person
    )
    return person


@pytest.fixture
def ben_budget(make_budget, ben):
    return make_budget(ben, "8000.00")


@pytest.fixture
def ben_plan(make_plan, ben, ben_budget, visits):
    start = ben_budget.period_start
    return make_plan(
        ben, ben_budget, lines=[{"service": visits.pk, "units_per_week": "1", "start": start, "end": start}]
    )


def line(budget, visits, units="2", days=28) -> dict:
    start = budget.period_start
    return {
        "service": visits.pk,
        "units_per_week": units,
        "start": start.isoformat(),
        "end": (start + datetime.timedelta(days=days - 1)).isoformat(),
    }


def snapshot() -> tuple:
    """What a refused call must leave as it was."""
    return (
        list(CarePlan.objects.order_by("pk").values_list("pk", "status", "risks", "total_cost")),
        StateLog.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


# --- pages ------------------------------------------------------------------------------------------


def test_representative_starts_a_plan_on_ruths_budget_page_and_edits_it(web_as, representative, budget, client_user):
    web = web_as(representative)
    page = web.get(f"/budgets/{budget.pk}/").content.decode()
    assert "Budget for Ruth Ellis" in page
    assert "Start a care plan" in page
    response = web.post(f"/budgets/{budget.pk}/plans/new/")
    assert response.status_code == 302
    plan = CarePlan.objects.get(budget=budget)
    assert (plan.client, plan.created_by, plan.status) == (client_user, representative, PlanStatus.DRAFT)

    response = web.post(
        f"/plans/{plan.pk}/details/",
        {"outcomes": "See my friends at the club", "risks": "Falls", "contacts": "Pat (daughter)"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.risks == "Falls"
    assert [o.text for o in plan.outcomes.all()] == ["See my friends at the club"]


def test_representative_submits_and_withdraws_ruths_plan_on_the_plan_page(
    web_as, representative, budget, visits, make_plan, client_user
):
    plan = make_plan(representative, budget, lines=[line(budget, visits)])
    web = web_as(representative)
    page = web.get(f"/plans/{plan.pk}/").content.decode()
    assert f'action="/plans/{plan.pk}/submit/"' in page
    assert f'action="/plans/{plan.pk}/withdraw/"' in page

    assert web.post(f"/plans/{plan.pk}/submit/").status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED

    assert web.post(f"/plans/{plan.pk}/withdraw/", {"comment": "Mum wants to think again"}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.WITHDRAWN


def test_representative_downloads_ruths_plan_pdf(web_as, representative, budget, visits, make_plan):
    plan = make_plan(representative, budget, lines=[line(budget, visits)])
    response = web_as(representative).get(f"/plans/{plan.pk}/plan.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_representative_is_not_offered_to_rate_providers_of_ruths_approved_plan(
    web_as, representative, client_user, budget, visits, make_plan, social_worker, checklist
):
    plan = make_plan(representative, budget, lines=[line(budget, visits)])
    workflow.plan_submit(actor=representative, plan=plan)
    workflow.plan_start_review(actor=social_worker, plan=plan)
    workflow.plan_approve(actor=social_worker, plan=plan, checklist=checklist)
    assert "Rate the providers you use" in web_as(client_user).get(f"/plans/{plan.pk}/").content.decode()
    assert "Rate the providers you use" not in web_as(representative).get(f"/plans/{plan.pk}/").content.decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/plans/{plan}/"),
        ("get", "/plans/{plan}/details/"),
        ("post", "/plans/{plan}/details/"),
        ("get", "/plans/{plan}/lines/add/"),
        ("get", "/plans/{plan}/plan.pdf"),
        ("post", "/plans/{plan}/submit/"),
        ("post", "/plans/{plan}/withdraw/"),
        ("post", "/plans/{plan}/new-version/"),
        ("get", "/budgets/{budget}/"),
        ("post", "/budgets/{budget}/plans/new/"),
    ],
)
def test_representative_gets_not_found_for_every_page_of_another_clients_plan(
    web_as, representative, ben_plan, method, path
):
    web = web_as(representative)
    url = path.format(plan=ben_plan.pk, budget=ben_plan.budget_id)
    before = snapshot()
    data = {"outcomes": "Taken over", "risks": "None"} if method == "post" else None
    response = getattr(web, method)(url, data) if data else getattr(web, method)(url)
    assert response.status_code == 404, url
    assert snapshot() == before


# --- the API ----------------------------------------------------------------------------------------


def test_representative_creates_edits_submits_and_withdraws_ruths_plan_through_the_api(
    api_as, representative, budget, visits, client_user
):
    api = api_as(representative)
    created = api.post(
        "/api/v1/plans/",
        {"budget": budget.pk, "outcomes": ["Get to the allotment"], "lines": [line(budget, visits)]},
        format="json",
    )
    assert created.status_code == 201, created.content
    plan_id = created.json()["id"]
    assert created.json()["client"] == client_user.pk

    edited = api.patch(f"/api/v1/plans/{plan_id}/", {"risks": "Falls: a pendant alarm"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["risks"] == "Falls: a pendant alarm"

    submitted = api.post(f"/api/v1/plans/{plan_id}/submit/", {}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"

    withdrawn = api.post(f"/api/v1/plans/{plan_id}/withdraw/", {"comment": "Not yet"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"

    history = api.get(f"/api/v1/plans/{plan_id}/history/").json()
    assert [(row["to"], row["by"]) for row in history] == [
        ("submitted", representative.pk),
        ("withdrawn", representative.pk),
    ]
    pdf = api.get(f"/api/v1/plans/{plan_id}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/plans/{plan}/", None),
        ("patch", "/api/v1/plans/{plan}/", {"risks": "Taken over"}),
        ("post", "/api/v1/plans/{plan}/submit/", {}),
        ("post", "/api/v1/plans/{plan}/withdraw/", {}),
        ("get", "/api/v1/plans/{plan}/history/", None),
        ("get", "/api/v1/plans/{plan}/pdf/", None),
        ("get", "/api/v1/budgets/{budget}/", None),
        ("get", "/api/v1/budgets/{budget}/ledger/", None),
    ],
)
def test_representative_gets_404_for_every_endpoint_of_another_clients_plan(
    api_as, representative, ben_plan, method, path, body
):
    api = api_as(representative)
    url = path.format(plan=ben_plan.pk, budget=ben_plan.budget_id)
    before = snapshot()
    response = getattr(api, method)(url, body, format="json") if body is not None else getattr(api, method)(url)
    assert response.status_code == 404, url
    assert snapshot() == before


def test_representative_cannot_create_a_plan_on_another_clients_budget(api_as, representative, ben_budget, visits):
    api = api_as(representative)
    before = snapshot()
    response = api.post(
        "/api/v1/plans/",
        {"budget": ben_budget.pk, "outcomes": ["x"], "lines": [line(ben_budget, visits)]},
        format="json",
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_a_removed_representative_loses_ruths_plan_at_once(api_as, representative, budget, visits, make_plan):
    plan = make_plan(representative, budget, lines=[line(budget, visits)])
    representative.representations.all().delete()
    api = api_as(representative)
    assert api.get(f"/api/v1/plans/{plan.pk}/").status_code == 404
    assert api.post(f"/api/v1/plans/{plan.pk}/submit/", {}, format="json").status_code == 404


def test_the_representatives_plan_needs_the_four_eyes_of_a_reviewer_like_the_clients(
    api_as, representative, budget, visits, make_plan
):
    """A representative is not a reviewer: they cannot start a review or approve (403)."""
    plan = make_plan(representative, budget, lines=[line(budget, visits)])
    workflow.plan_submit(actor=representative, plan=plan)
    api = api_as(representative)
    assert api.post(f"/api/v1/plans/{plan.pk}/start_review/", {}, format="json").status_code == 403
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED


# --- notifications -----------------------------------------------------------------------------------


def notes_for(user, plan) -> list[str]:
    return list(Notification.objects.filter(recipient=user, target_id=plan.pk).values_list("message", flat=True))


def test_representative_is_told_what_ruth_is_told_about_her_plan(
    representative, client_user, social_worker, budget, visits, make_plan, checklist, web_as
):
    plan = make_plan(client_user, budget, lines=[line(budget, visits)])
    workflow.plan_submit(actor=client_user, plan=plan)
    workflow.plan_start_review(actor=social_worker, plan=plan)
    workflow.plan_approve(actor=social_worker, plan=plan, checklist=checklist)

    ruth, pat = notes_for(client_user, plan), notes_for(representative, plan)
    assert len(pat) == 3  # submitted, review started, approved — Ruth submitted, so she is not told that
    assert set(ruth) <= set(pat)
    assert any("started reviewing" in m for m in pat) and any("is approved" in m for m in pat)
    page = web_as(representative).get("/notifications/").content.decode()
    assert "is approved" in page


def test_when_the_representative_acts_ruth_and_her_social_worker_are_told(
    representative, client_user, social_worker, budget, visits, make_plan
):
    plan = make_plan(representative, budget, lines=[line(budget, visits)])
    workflow.plan_submit(actor=representative, plan=plan)
    assert len(notes_for(client_user, plan)) == 1
    assert len(notes_for(social_worker, plan)) == 1
    assert notes_for(representative, plan) == []  # the actor knows what they did


def test_a_representative_with_a_closed_account_is_not_told(
    representative, client_user, social_worker, budget, visits, make_plan
):
    representative.is_active = False
    representative.save()
    plan = make_plan(client_user, budget, lines=[line(budget, visits)])
    workflow.plan_submit(actor=client_user, plan=plan)
    assert notes_for(representative, plan) == []


def test_representative_is_not_told_about_another_clients_plan(representative, ben, ben_plan):
    workflow.plan_submit(actor=ben, plan=ben_plan)
    assert Notification.objects.filter(recipient=representative).count() == 0
    assert Notification.objects.filter(target_id=ben_plan.pk).exists()

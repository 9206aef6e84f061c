# ruff: noqa: F811 (the fixtures imported below are used by name)
"""A budget has at most one care plan in progress (draft, submitted, in review, changes requested,
awaiting senior approval): "Start a care plan" opens it, the service refuses a second (409 in the
API), and two clicks at once still make one plan."""

import pytest
from django.db import connection

from careplans import services
from careplans.models import CarePlan, PlanStatus
from careplans.services import PlanInProgress
from tests.careplans.conftest import (  # noqa: F401 (fixtures)
    budget,
    make_budget,
    make_plan,
    make_provider,
    make_service,
    visits,
)
from tests.concurrency import race

IN_PROGRESS = [
    PlanStatus.DRAFT,
    PlanStatus.SUBMITTED,
    PlanStatus.IN_REVIEW,
    PlanStatus.CHANGES_REQUESTED,
    PlanStatus.AWAITING_SENIOR_APPROVAL,
]


def put_in(plan, status):
    CarePlan.objects.filter(pk=plan.pk).update(status=status)


@pytest.mark.parametrize("status", IN_PROGRESS)
def test_a_second_plan_is_refused_while_one_is_in_progress_and_nothing_is_written(
    client_user, budget, make_plan, status
):
    first = make_plan(client_user, budget)
    put_in(first, status)
    with pytest.raises(PlanInProgress) as refused:
        make_plan(client_user, budget)
    assert refused.value.plan.pk == first.pk
    assert f"plan {first.pk}, version 1" in refused.value.message
    assert CarePlan.objects.filter(budget=budget).count() == 1


@pytest.mark.parametrize("status", [PlanStatus.WITHDRAWN, PlanStatus.REJECTED])
def test_a_new_plan_may_start_once_the_last_one_is_withdrawn_or_rejected(client_user, budget, make_plan, status):
    put_in(make_plan(client_user, budget), status)
    assert make_plan(client_user, budget).status == PlanStatus.DRAFT


def test_a_new_version_is_refused_while_another_plan_is_in_progress(client_user, budget, make_plan):
    approved = make_plan(client_user, budget)
    put_in(approved, PlanStatus.APPROVED)
    make_plan(client_user, budget)  # an approved plan is not in progress: a draft may start
    approved.refresh_from_db()
    with pytest.raises(PlanInProgress):
        services.plan_new_version(actor=client_user, plan=approved)
    assert CarePlan.objects.filter(budget=budget).count() == 2


def test_start_a_care_plan_twice_opens_the_same_plan(web_as, client_user, budget):
    web = web_as(client_user)
    first = web.post(f"/budgets/{budget.pk}/plans/new/")
    second = web.post(f"/budgets/{budget.pk}/plans/new/", follow=True)
    plan = CarePlan.objects.get(budget=budget)
    assert first.headers["Location"] == second.redirect_chain[0][0] == f"/plans/{plan.pk}/"
    assert "already has a care plan in progress" in second.content.decode()


def test_the_budget_page_offers_the_plan_in_progress_instead_of_a_new_one(web_as, client_user, budget, make_plan):
    web = web_as(client_user)
    assert "Start a care plan" in web.get(f"/budgets/{budget.pk}/").content.decode()
    plan = make_plan(client_user, budget)
    page = web.get(f"/budgets/{budget.pk}/").content.decode()
    assert "Start a care plan" not in page
    assert f'href="/plans/{plan.pk}/">Carry on with the care plan</a>' in page
    put_in(plan, PlanStatus.SUBMITTED)
    assert (
        f'href="/plans/{plan.pk}/">See the care plan in progress</a>'
        in web.get(f"/budgets/{budget.pk}/").content.decode()
    )
    put_in(plan, PlanStatus.APPROVED)
    page = web.get(f"/budgets/{budget.pk}/").content.decode()
    assert "Start a care plan" not in page and "To change the approved plan" in page
    # Posting anyway (an old tab) opens the approved plan rather than a parallel first version.
    assert web.post(f"/budgets/{budget.pk}/plans/new/").headers["Location"] == f"/plans/{plan.pk}/"
    assert CarePlan.objects.filter(budget=budget).count() == 1


def test_someone_else_cannot_learn_of_a_plan_through_the_start_button(web_as, budget, make_plan, client_user):
    from tests import factories

    make_plan(client_user, budget)
    assert web_as(factories.ClientFactory()).post(f"/budgets/{budget.pk}/plans/new/").status_code == 404


def test_api_answers_409_naming_the_plan_in_progress(api_as, client_user, budget):
    api = api_as(client_user)
    created = api.post("/api/v1/plans/", {"budget": budget.pk}, format="json")
    assert created.status_code == 201
    again = api.post("/api/v1/plans/", {"budget": budget.pk}, format="json")
    assert again.status_code == 409
    assert f"plan {created.json()['id']}" in again.json()["detail"]
    assert CarePlan.objects.filter(budget=budget).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_clicks_at_once_make_one_plan(client_user, budget):
    outcomes = race([lambda: services.plan_create(actor=client_user, budget=budget)] * 2)
    made = [o for o in outcomes if isinstance(o, CarePlan)]
    refused = [o for o in outcomes if isinstance(o, PlanInProgress)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert CarePlan.objects.filter(budget=budget).count() == 1

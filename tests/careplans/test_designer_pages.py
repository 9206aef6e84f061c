"""The plan designer pages (full-page forms, no JavaScript needed)."""

import datetime

import pytest
from djmoney.money import Money

from careplans.models import CarePlan, PlanStatus

pytestmark = pytest.mark.django_db


def test_client_starts_a_plan_adds_two_lines_sees_the_total_and_removes_one(
    web_as, client_user, budget, visits, respite
):
    web = web_as(client_user)
    response = web.post(f"/budgets/{budget.pk}/plans/new/")
    plan = CarePlan.objects.get(budget=budget)
    assert response.headers["Location"] == f"/plans/{plan.pk}/"

    search = web.get(f"/plans/{plan.pk}/lines/add/", {"q": "respite"}).content.decode()
    assert "Respite breaks" in search and "Home care visits" not in search
    start = budget.period_start
    response = web.post(
        f"/plans/{plan.pk}/lines/add/",
        {
            "service": visits.pk,
            "frequency": "weekly",
            "amount": "2",
            "start": start,
            "end": start + datetime.timedelta(days=6),
        },
    )
    assert response.status_code == 302
    web.post(
        f"/plans/{plan.pk}/lines/add/", {"service": respite.pk, "frequency": "one_off", "amount": "2", "start": start}
    )
    plan.refresh_from_db()
    assert plan.total_cost == Money("409.00", "GBP")  # 24.50 × 2 × 7/7 + 180 × 2
    page = web.get(f"/plans/{plan.pk}/").content.decode()
    assert "£409.00" in page and "£9,591.00" in page and "Left over" in page

    line = plan.lines.get(title="Respite breaks")
    web.post(f"/plans/{plan.pk}/lines/{line.pk}/remove/")
    plan.refresh_from_db()
    assert plan.total_cost == Money("49.00", "GBP")


def test_going_over_budget_shows_a_warning(web_as, client_user, make_budget, caseload, respite):
    small = make_budget(client_user, "300.00")
    web = web_as(client_user)
    web.post(f"/budgets/{small.pk}/plans/new/")
    plan = CarePlan.objects.get(budget=small)
    web.post(
        f"/plans/{plan.pk}/lines/add/",
        {"service": respite.pk, "frequency": "one_off", "amount": "2", "start": small.period_start},
    )
    page = web.get(f"/plans/{plan.pk}/").content.decode()
    assert "more than the £300.00 available" in page and "Over budget by" in page


def test_a_line_outside_the_budget_period_is_refused_with_a_message(web_as, client_user, budget, visits):
    web = web_as(client_user)
    web.post(f"/budgets/{budget.pk}/plans/new/")
    plan = CarePlan.objects.get(budget=budget)
    too_late = budget.period_end + datetime.timedelta(days=1)
    response = web.post(
        f"/plans/{plan.pk}/lines/add/", {"service": visits.pk, "frequency": "one_off", "amount": "1", "start": too_late}
    )
    assert response.status_code == 400
    assert "The start date must be in the budget period" in response.content.decode()
    assert not plan.lines.exists()


def test_details_form_saves_outcomes_one_per_line(web_as, client_user, budget):
    web = web_as(client_user)
    web.post(f"/budgets/{budget.pk}/plans/new/")
    plan = CarePlan.objects.get(budget=budget)
    web.post(
        f"/plans/{plan.pk}/details/",
        {
            "outcomes": "See my grandchildren\n\nCook for myself",
            "money_management": "council_managed",
            "risks": "Falls",
        },
    )
    assert [o.text for o in plan.outcomes.all()] == ["See my grandchildren", "Cook for myself"]


def test_a_submitted_plan_cannot_be_changed_from_the_pages(web_as, client_user, budget, visits):
    web = web_as(client_user)
    web.post(f"/budgets/{budget.pk}/plans/new/")
    plan = CarePlan.objects.get(budget=budget)
    CarePlan.objects.filter(pk=plan.pk).update(status=PlanStatus.SUBMITTED)
    assert b"Add support" not in web.get(f"/plans/{plan.pk}/").content
    response = web.post(
        f"/plans/{plan.pk}/lines/add/",
        {"service": visits.pk, "frequency": "one_off", "amount": "1", "start": budget.period_start},
    )
    assert response.status_code == 409 and "cannot be changed" in response.content.decode()
    assert not plan.lines.exists()


@pytest.mark.parametrize("role_fixture", ["case_manager", "provider_user", "finance_user"])
def test_people_without_a_relationship_get_404_for_the_plan(role_fixture, request, web_as, client_user, budget):
    web_as(client_user).post(f"/budgets/{budget.pk}/plans/new/")
    plan = CarePlan.objects.get(budget=budget)
    web = web_as(request.getfixturevalue(role_fixture))
    assert web.get(f"/plans/{plan.pk}/").status_code == 404
    assert web.get(f"/plans/{plan.pk}/plan.pdf").status_code == 404


def test_plan_page_query_count_does_not_grow_with_lines(
    web_as, client_user, budget, make_budget, make_service, django_assert_max_num_queries
):
    from careplans.services import plan_create

    start = budget.period_start
    plan = plan_create(
        actor=client_user, budget=budget, lines=[{"service": make_service("A").pk, "quantity": "1", "start": start}]
    )
    web = web_as(client_user)
    with django_assert_max_num_queries(20) as few:
        web.get(f"/plans/{plan.pk}/")
    lines = [{"service": make_service(f"S{i}").pk, "quantity": "1", "start": start} for i in range(15)]
    plan_create(actor=client_user, budget=make_budget(client_user), lines=lines)  # one plan in progress a budget
    big = CarePlan.objects.latest("id")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert web.get(f"/plans/{big.pk}/").status_code == 200

# ruff: noqa: F811 (the fixtures imported below are used by name)
"""Units a week are capped by what a week holds of the unit (168 hours, 21 sessions, 7 days,
7 nights, 1 week, 1,000 items): in the service, the API (400 with the line's message) and the
designer's form (by the amount)."""

import datetime
from decimal import Decimal

import pytest

from accounts.exceptions import InvalidInput
from careplans.costing import MAX_UNITS_PER_WEEK, units_per_week_problem
from careplans.models import CarePlan, PlanLine
from tests.careplans.conftest import (  # noqa: F401
    budget,
    make_budget,
    make_plan,
    make_provider,
    make_service,
    respite,
    visits,
)


@pytest.mark.parametrize(
    ("unit", "most"),
    [("hour", 168), ("session", 21), ("day", 7), ("night", 7), ("week", 1), ("item", 1000)],
)
def test_each_unit_has_its_weekly_limit(unit, most):
    assert MAX_UNITS_PER_WEEK[unit] == most
    assert units_per_week_problem(unit, Decimal(most)) is None
    assert units_per_week_problem(unit, Decimal(most) + Decimal("0.01")).startswith(f"at most {most:,} {unit}s a week")


def weekly(service, units, budget):
    return {"service": service.pk, "units_per_week": units, "start": budget.period_start, "end": budget.period_end}


def test_forty_nights_of_respite_a_week_is_refused_and_nothing_is_written(client_user, budget, make_plan, respite):
    plan = make_plan(client_user, budget)
    with pytest.raises(InvalidInput) as refused:
        from careplans.services import plan_update

        plan_update(actor=client_user, plan=plan, lines=[weekly(respite, "40", budget)])
    assert refused.value.errors == {"lines": ["Line 1: units_per_week must be at most 7 nights a week (a week has 7)."]}
    assert not PlanLine.objects.filter(plan=plan).exists()


def test_seven_nights_a_week_is_fine(client_user, budget, make_plan, respite):
    plan = make_plan(client_user, budget, lines=[weekly(respite, "7", budget)])
    assert plan.lines.get().units_per_week == 7


def test_a_one_off_is_not_capped_by_the_week(client_user, budget, make_plan, respite):
    plan = make_plan(
        client_user, budget, lines=[{"service": respite.pk, "quantity": "14", "start": budget.period_start}]
    )
    assert plan.lines.get().quantity == 14


def test_an_own_arrangement_is_capped_by_its_typed_unit(client_user, budget, make_plan):
    with pytest.raises(InvalidInput) as refused:
        make_plan(
            client_user,
            budget,
            lines=[
                {
                    "description": "Personal assistant",
                    "unit": "hour",
                    "unit_price": "14.50",
                    "units_per_week": "169",
                    "start": budget.period_start,
                    "end": budget.period_end,
                    "money_management": "direct_payment",
                }
            ],
        )
    assert refused.value.errors["lines"] == [
        "Line 1: units_per_week must be at most 168 hours a week (a week has 168)."
    ]


def test_api_answers_400_with_the_lines_message(api_as, client_user, budget, respite):
    body = {"budget": budget.pk, "lines": [weekly(respite, "40", budget)]}
    body["lines"][0].update(start=str(budget.period_start), end=str(budget.period_end))
    response = api_as(client_user).post("/api/v1/plans/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"lines": ["Line 1: units_per_week must be at most 7 nights a week (a week has 7)."]}
    assert not CarePlan.objects.exists()


def test_api_refuses_a_quantity_too_large_to_store(api_as, client_user, budget, respite):
    line = {"service": respite.pk, "quantity": "1000000", "start": str(budget.period_start)}
    response = api_as(client_user).post("/api/v1/plans/", {"budget": budget.pk, "lines": [line]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"lines": ["Line 1: quantity must be less than 1,000,000."]}


def line_post(service, amount, budget, **more):
    start, end = budget.period_start, budget.period_end
    return {
        "service": service.pk,
        "frequency": "weekly",
        "amount": amount,
        **{f"start-{part}": getattr(start, part) for part in ("day", "month", "year")},
        **{f"end-{part}": getattr(end, part) for part in ("day", "month", "year")},
        **more,
    }


def test_the_designer_refuses_forty_nights_by_the_amount(web_as, client_user, budget, make_plan, respite):
    plan = make_plan(client_user, budget)
    response = web_as(client_user).post(f"/plans/{plan.pk}/lines/add/", line_post(respite, "40", budget))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_amount">The number of units must be at most 7 nights a week (a week has 7).</a>' in html
    assert 'id="id_amount-error"' in html
    assert not plan.lines.exists()


def test_the_designer_preview_says_so_too(web_as, client_user, budget, make_plan, respite):
    plan = make_plan(client_user, budget)
    response = web_as(client_user).post(
        f"/plans/{plan.pk}/lines/add/", line_post(respite, "40", budget, preview="1"), HTTP_HX_REQUEST="true"
    )
    assert "at most 7 nights a week" in response.content.decode()
    assert datetime.date.today() <= budget.period_end

# ruff: noqa: F811 (the fixtures imported below are used by name)
"""The designer's costing: dates as day, month and year; a new line starts today and support every
week ends with the budget unless told otherwise; the hint no longer contradicts "Every week"; the
cost shows as soon as the units are known, with JavaScript (htmx preview) and without ("Work out
the cost" posts the same preview)."""

import re
from decimal import Decimal

from django.utils import timezone

from careplans.costing import weekly_cost
from tests.careplans.conftest import budget, make_budget, make_plan, make_provider, make_service, visits  # noqa: F401


def money(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def boxes(html: str, name: str) -> tuple[str, str, str]:
    return tuple(
        re.search(rf'name="{name}-{part}" type="text" inputmode="numeric" value="([^"]*)"', html).group(1)
        for part in ("day", "month", "year")
    )


def line_cost(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'data-testid="line-cost">(.*?)</dd>', html, re.S).group(1)).strip()


def test_the_add_page_starts_today_and_ends_with_the_budget(web_as, client_user, budget, make_plan, visits):
    plan = make_plan(client_user, budget)
    html = web_as(client_user).get(f"/plans/{plan.pk}/lines/add/?service={visits.pk}").content.decode()
    today, end = timezone.localdate(), budget.period_end
    assert boxes(html, "start") == (str(today.day), str(today.month), str(today.year))
    assert boxes(html, "end") == (str(end.day), str(end.month), str(end.year))
    assert "Leave blank for a one-off" not in html
    assert f"Support every week runs to the end of the budget, {end:%-d %B %Y}" in html
    assert '<legend class="govuk-fieldset__legend">Start date</legend>' in html


def test_the_cost_shows_from_the_units_alone_with_javascript(web_as, client_user, budget, make_plan, visits):
    plan = make_plan(client_user, budget)
    post = {"service": visits.pk, "frequency": "weekly", "amount": "2", "preview": "1"}
    response = web_as(client_user).post(f"/plans/{plan.pk}/lines/add/", post, HTTP_HX_REQUEST="true")
    start = timezone.localdate()
    assert line_cost(response.content.decode()) == money(weekly_cost(Decimal("24.50"), 2, start, budget.period_end))


def test_the_cost_shows_from_the_units_alone_without_javascript(web_as, client_user, budget, make_plan, visits):
    plan = make_plan(client_user, budget)
    post = {"service": visits.pk, "frequency": "weekly", "amount": "3", "preview": "1"}
    html = web_as(client_user).post(f"/plans/{plan.pk}/lines/add/", post).content.decode()
    start = timezone.localdate()
    assert line_cost(html) == money(weekly_cost(Decimal("24.50"), 3, start, budget.period_end))
    assert "There is a problem" not in html


def test_no_units_yet_says_what_is_missing(web_as, client_user, budget, make_plan, visits):
    plan = make_plan(client_user, budget)
    post = {"service": visits.pk, "frequency": "weekly", "amount": "", "preview": "1"}
    html = web_as(client_user).post(f"/plans/{plan.pk}/lines/add/", post, HTTP_HX_REQUEST="true").content.decode()
    assert "Enter how many units to see what the support costs." in html


def test_a_weekly_line_saved_with_no_end_runs_to_the_budgets_end(web_as, client_user, budget, make_plan, visits):
    plan = make_plan(client_user, budget)
    start = budget.period_start
    post = {
        "service": visits.pk,
        "frequency": "weekly",
        "amount": "2",
        "start-day": start.day,
        "start-month": start.month,
        "start-year": start.year,
    }
    response = web_as(client_user).post(f"/plans/{plan.pk}/lines/add/", post)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert plan.lines.get().end == budget.period_end


def test_the_change_page_shows_the_lines_cost_at_once(web_as, client_user, budget, make_plan, visits):
    start = budget.period_start
    line = {"service": visits.pk, "units_per_week": "2", "start": start, "end": budget.period_end}
    plan = make_plan(client_user, budget, lines=[line])
    saved = plan.lines.get()
    html = web_as(client_user).get(f"/plans/{plan.pk}/lines/{saved.pk}/change/").content.decode()
    assert line_cost(html) == money(saved.cost.amount)
    assert boxes(html, "end") == (str(saved.end.day), str(saved.end.month), str(saved.end.year))

"""The budget over its period as a chart, for the budget page: `{% budget_year_chart budget is_own %}`.

A tag rather than a view's context so the chart (two queries, whatever the ledger's size) comes
with one include wherever a budget is shown; the figures come from `budgets.selectors.budget_year`
and the drawing from `accounts.charts`."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import template
from django.utils import timezone

from accounts import charts

from .. import selectors

register = template.Library()


def _offset(budget, day: datetime.date) -> int:
    """A day's place on the chart: days since the period began (its first day is 0)."""
    return (day - budget.period_start).days


def _money(value) -> str:
    return "–" if value is None else str(value)


def build_chart(budget, year: selectors.BudgetYear, *, whose: str) -> charts.Chart:
    figures, forecast, today = year.figures, year.forecast, year.today
    started = [m for m in year.months if m.paid is not None]
    committed_points = [(0, Decimal(0))] + [(_offset(budget, m.last_day) + 1, m.committed.amount) for m in started]
    paid_points = [(0, Decimal(0))] + [(_offset(budget, m.last_day) + 1, m.paid.amount) for m in started]
    end = _offset(budget, budget.period_end) + 1
    series = [
        charts.Series(
            "Allocated", [(0, figures.allocated.amount), (end, figures.allocated.amount)], charts.RED, "dotted", ""
        ),
        charts.Series("Committed", committed_points, charts.BLUE, "solid", "circle"),
        charts.Series("Paid", paid_points, charts.BLACK, "solid", "square"),
    ]
    if forecast is not None:
        ahead = [(_offset(budget, today) + 1, forecast.paid.amount)] + [
            (_offset(budget, m.last_day) + 1, m.forecast.amount)
            for m in year.months
            if m.forecast is not None and m.last_day > today
        ]
        series.append(charts.Series("Forecast", ahead, charts.PURPLE, "dashed", "ring"))
    every = 1 if len(year.months) <= 8 else 2
    x_ticks = [
        (_offset(budget, m.month if m.month >= budget.period_start else budget.period_start), m.month.strftime("%b"))
        for i, m in enumerate(year.months)
        if i % every == 0
    ]
    summary = (
        f"Allocated {figures.allocated}. By {min(today, budget.period_end):%-d %B %Y}, {figures.committed} "
        f"committed to care plans and {figures.paid} paid."
    )
    if forecast is not None:
        summary += f" At the rate paid so far, {forecast.at_end} would be paid by {budget.period_end:%-d %B %Y}."
    # Months shortened (as GOV.UK allows in tables) so that four columns fit a phone.
    rows = [[m.month.strftime("%b %Y"), _money(m.committed), _money(m.paid), _money(m.forecast)] for m in year.months]
    head = ["Month", "Committed so far", "Paid so far", "Forecast of paid"]
    if forecast is None:
        head, rows = head[:3], [row[:3] for row in rows]
    return charts.line_chart(
        key=f"budget-{budget.pk}-year",
        title=f"{whose} budget from {budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}",
        summary=summary,
        series=series,
        x_max=end,
        x_ticks=x_ticks,
        fmt=charts.pounds,
        y_top=figures.allocated.amount,
        table=charts.ChartTable(
            caption=(
                "The budget at the end of each month (the month under way: up to today), and the forecast of"
                " what will have been paid by the end of each month to come"
            ),
            head=head,
            rows=rows,
        ),
    )


@register.inclusion_tag("includes/chart_budget_year.html")
def budget_year_chart(budget, is_own: bool = False, today: datetime.date | None = None):
    year = selectors.budget_year(budget, today or timezone.localdate())
    whose = "Your" if is_own else f"{budget.client.full_name}'s"
    return {
        "budget": budget,
        "year": year,
        "forecast": year.forecast,
        "is_own": is_own,
        "chart": build_chart(budget, year, whose=whose),
    }

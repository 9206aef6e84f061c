"""The open statistics as charts by month, drawn from the rows their pages already have (so no
query of their own): `{% approval_times_chart stage rows %}` and `{% spend_chart rows threshold %}`.

Months are the statistics' "YYYY-MM"; the charts show the last `MONTHS_SHOWN` months from the
latest one with figures, every month in between given its place (a month without figures, or
with figures left out for privacy, is a gap, not a zero)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from decimal import Decimal

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from accounts import charts
from accounts.templatetags.words import month_name, pounds

register = template.Library()

MONTHS_SHOWN = 12


def month_date(month: str) -> datetime.date:
    return datetime.date.fromisoformat(f"{month}-01")


def month_run(months: list[str]) -> list[str]:
    """Every month from the earliest to the latest given, at most the last `MONTHS_SHOWN`."""
    if not months:
        return []
    first, last = month_date(min(months)), month_date(max(months))
    run, day = [], first
    while day <= last:
        run.append(day.strftime("%Y-%m"))
        day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return run[-MONTHS_SHOWN:]


def short(month: str) -> str:
    return f"{month_date(month):%b}"


def long(month: str) -> str:
    return f"{month_date(month):%B %Y}"


def _days(value) -> str:
    return "–" if value is None else f"{Decimal(str(value)):,.1f}"


def approval_chart(key: str, stage_label: str, rows: list[dict]) -> charts.Chart | None:
    """The median and 9-in-10 days of one stage, month by month; None when no month has enough
    plans to show (a chart of empty axes tells a reader nothing the table does not)."""
    run = month_run([row["month"] for row in rows])
    if not run:
        return None
    by_month = {row["month"]: row for row in rows}
    place = {month: i for i, month in enumerate(run)}

    def points(field: str):
        return [(place[m], (by_month.get(m) or {}).get(field)) for m in run]

    shown = [by_month[m] for m in run if m in by_month and not by_month[m]["suppressed"]]
    if not shown:  # every month had too few plans to show: the table below says so, an empty chart would not
        return None
    latest = shown[-1]
    summary = (
        f"From {long(run[0])} to {long(run[-1])}. In {long(latest['month'])}, half of the plans took "
        f"{_days(latest['median_days'])} days or less and 9 in 10 took {_days(latest['p90_days'])} days or less."
    )
    every = 1 if len(run) <= 8 else 2
    return charts.line_chart(
        key=key,
        title=f"{stage_label}: days taken, month by month",
        summary=summary,
        series=[
            charts.Series("9 in 10", points("p90_days"), charts.BLACK, "dashed", "square"),
            charts.Series("Median", points("median_days"), charts.BLUE, "solid", "circle"),
        ],
        x_min=-0.5,
        x_max=len(run) - 0.5,
        x_ticks=[(i, short(m)) for i, m in enumerate(run) if i % every == 0],
        fmt=charts.whole,
        table=None,
    )


@register.inclusion_tag("includes/chart_line.html")
def approval_times_chart(stage, rows):
    """A stage's chart; its numbers are the page's table for the stage, just below it."""
    return {"chart": approval_chart(f"approval-{stage.code}", stage.label, rows)}


def spend_chart_for(rows: list[dict], threshold: int) -> charts.Chart | None:
    """What was paid each month, all kinds of support together (groups left out for privacy are
    not in the total, and the table says how many there were)."""
    run = month_run([row["month"] for row in rows])
    if not run:
        return None
    totals = {m: Decimal(0) for m in run}
    shown_any = dict.fromkeys(run, False)
    hidden = dict.fromkeys(run, 0)
    for row in rows:
        if row["month"] not in totals:
            continue
        if row["suppressed"]:
            hidden[row["month"]] += 1
        else:
            totals[row["month"]] += Decimal(str(row["amount"]))
            shown_any[row["month"]] = True
    bars = [(short(m), totals[m] if shown_any[m] else None) for m in run]
    table_rows = [[long(m), f"£{totals[m]:,.2f}" if shown_any[m] else "–", str(hidden[m])] for m in run]
    shown = [m for m in run if shown_any[m]]
    summary = f"From {long(run[0])} to {long(run[-1])}."
    if shown:
        top = max(shown, key=lambda m: totals[m])
        summary += (
            f" The most was paid in {long(top)}: £{totals[top]:,.2f}. In {long(shown[-1])}: £{totals[shown[-1]]:,.2f}."
        )
    return charts.bar_chart(
        key="spend-by-month",
        title="Paid to providers each month",
        summary=summary,
        bars=bars,
        fmt=charts.pounds,
        table=charts.ChartTable(
            caption="Paid to providers each month, all kinds of support",
            head=["Month", "Paid", f"Groups of fewer than {threshold} payments not counted"],
            rows=table_rows,
        ),
    )


@register.inclusion_tag("includes/chart_bar.html")
def spend_chart(rows, threshold):
    return {"chart": spend_chart_for(rows, threshold)}


# The statistics pages' tables, row by row. Built here rather than in a template loop: five years
# of months on five stages is 300 rows, and as template variables and filters they took most of
# the time of a page whose figures had changed. Numbers need no escaping; every text is escaped.
CELL = '<td class="govuk-table__cell">{}</td>'
ROW = f'<tr class="govuk-table__row">{CELL}{{}}</tr>'
NUMERIC = '<td class="govuk-table__cell govuk-table__cell--numeric">{}</td>'
HIDDEN = '<td class="govuk-table__cell govuk-table__cell--numeric" colspan="{}">Fewer than {}: not shown</td>'
EMPTY = '<tr class="govuk-table__row"><td class="govuk-table__cell" colspan="4">{}</td></tr>'


@functools.lru_cache(maxsize=1024)
def _month_label(month: str) -> str:
    return escape(month_name(month))


def _table_rows(rows: list[dict], cells: Callable[[dict], str], empty: str) -> SafeString:
    if not rows:
        return format_html(EMPTY, empty)
    return mark_safe("\n  ".join(ROW.format(_month_label(row["month"]), cells(row)) for row in rows))


@register.simple_tag
def approval_times_rows(rows: list[dict], threshold: int) -> SafeString:
    """The table body of one stage: month, plans, median and 9 in 10, or "not shown"."""
    hidden = HIDDEN.format(3, int(threshold))
    figures = NUMERIC * 3

    def cells(row: dict) -> str:
        if row["suppressed"]:
            return hidden
        return figures.format(int(row["count"]), float(row["median_days"]), float(row["p90_days"]))

    return _table_rows(rows, cells, "No plans yet.")


@register.simple_tag
def spend_rows(rows: list[dict], threshold: int) -> SafeString:
    """The spend table's body: month, kind of support, payments and amount, or "not shown"."""
    hidden = HIDDEN.format(2, int(threshold))
    figures = NUMERIC * 2

    def cells(row: dict) -> str:
        label = CELL.format(escape(row["category_label"]))
        if row["suppressed"]:
            return label + hidden
        return label + figures.format(int(row["payments"]), escape(pounds(row["amount"])))

    return _table_rows(rows, cells, "Nothing paid yet.")

"""The care plan as a document a person would want to keep."""

from __future__ import annotations

from django.utils import timezone
from reportlab.platypus import Spacer

from accounts.money import format_money
from accounts.pdf import render, table, text
from budgets.selectors import budget_figures

from .costing import weekly_rate
from .models import CarePlan, LineKind
from .selectors import plan_available, plan_money_parts


def _when(line) -> str:
    if line.kind == LineKind.ONE_OFF:
        return f"{line.quantity.normalize():f} {line.unit}(s) on {line.start:%-d %b %Y}"
    return (
        f"{line.units_per_week.normalize():f} {line.unit}(s) a week, {line.start:%-d %b %Y} to {line.end:%-d %b %Y}"
        f" ({format_money(weekly_rate(line.unit_price.amount, line.units_per_week))} a week)"
    )


def plan_pdf(plan: CarePlan, *, history: list[tuple[str, str, str]] = ()) -> bytes:
    """`history`: (when, what, who) rows of the approval history, when there is one."""
    figures = budget_figures(plan.budget)
    available = plan_available(plan, figures)  # the plan page's figure, named the same
    # `text()` rather than `p()`: nothing here needs markup, people's words are shown literally
    # without escaping, and plain text is far cheaper to lay out (bench/plan_pdf.py).
    story = [
        text(f"Care plan for {plan.client.full_name}", "title"),
        text(f"Version {plan.version} · {plan.get_status_display()} · printed {timezone.localdate():%-d %B %Y}"),
        text(f"Budget period {plan.budget.period_start:%-d %B %Y} to {plan.budget.period_end:%-d %B %Y}"),
        Spacer(1, 8),
        text("What matters to me", "h2"),
    ]
    outcomes = list(plan.outcomes.all())
    story += [text(f"• {o.text}") for o in outcomes] or [text("No outcomes written yet.")]
    story += [Spacer(1, 8), text("My support and what it costs", "h2")]
    # Plain strings: `table` wraps each to its column and draws them all as one block of text.
    rows = [["Support", "Provider and how it is paid", "When", "Cost"]]
    for line in plan.lines.all():
        rows.append(
            [
                f"{line.title}\n{format_money(line.unit_price)} per {line.unit}",
                (line.provider.name if line.provider else "My own arrangement")
                + f"\n{line.get_money_management_display()}",
                _when(line),
                format_money(line.cost),
            ]
        )
    rows.append(["", "", "Total", format_money(plan.total_cost)])
    story.append(table(rows, [50, 40, 55, 25], money_columns=(3,)))
    story += [
        Spacer(1, 6),
        table(
            [
                ["", "Amount"],
                ["My budget for the year (allocated)", format_money(figures.allocated)],
                ["Available for this plan", format_money(available)],
                ["This plan costs", format_money(plan.total_cost)],
                [
                    "Over budget by" if available < plan.total_cost else "Left over",
                    format_money(abs(available - plan.total_cost)),
                ],
            ],
            [120, 50],
            money_columns=(1,),
        ),
        text(
            f"Available for this plan is the budget's available to plan ({format_money(figures.available)}), "
            f"plus what this plan or the approved version it replaces already has committed "
            f"({format_money(available - figures.available)}).",
            "small",
        ),
        Spacer(1, 8),
        text("How the money is managed", "h2"),
        table(
            [["", "Amount"]] + [[label, format_money(amount)] for label, amount in plan_money_parts(plan)],
            [120, 50],
            money_columns=(1,),
        ),
        text("Risks and how they are handled", "h2"),
        text(plan.risks or "None recorded."),
        text("Who to contact", "h2"),
        text(plan.contacts or "None recorded."),
    ]
    if plan.contingency_note:
        story += [text("If things change", "h2"), text(plan.contingency_note)]
    if history:
        story += [text("Approval history", "h2"), table([["When", "What", "Who"], *history], [40, 90, 40])]
    return render(story, title=f"Care plan for {plan.client.full_name}")

"""The budget statements a client can keep: the whole budget (figures, how it was worked out, the
ledger) and one month at a time (the figures then, and each payment)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from reportlab.platypus import Spacer

from accounts.money import format_money
from accounts.pdf import esc, p, render, table, text

from .models import PersonalBudget
from .ras import compile_scheme, explain, price_answered
from .selectors import (
    budget_contribution_figures,
    budget_figures,
    budget_figures_at,
    budget_fund_figures,
    latest_financial_assessment,
    ledger_list,
    transaction_size,
)


def budget_statement_pdf(budget: PersonalBudget) -> bytes:
    figures = budget_figures(budget)
    funds = budget_fund_figures(budget)
    assessment = budget.assessment
    compiled = compile_scheme(assessment.scheme)
    pricing = price_answered(compiled, assessment.answers, assessment.modifiers)

    story = [
        p("Personal budget statement", "title"),
        p(f"<b>{esc(budget.client.full_name)}</b>"),
        p(f"Budget period: {budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}"),
        p(f"Statement date: {timezone.localdate():%-d %B %Y}"),
        Spacer(1, 8),
        p("Your budget", "h2"),
        table(
            [
                ["", "Amount"],
                ["Allocated", format_money(figures.allocated)],
                ["Committed to your care plan", format_money(figures.committed)],
                [
                    "Paid to providers and into your direct payment" if funds else "Paid to providers",
                    format_money(figures.paid),
                ],
                ["Available to plan", format_money(figures.available)],
            ],
            [120, 50],
            money_columns=(1,),
        ),
    ]
    if funds is not None:
        story += [
            Spacer(1, 8),
            p("Your direct payment and funds", "h2"),
            p("Paid in advance out of what is committed to your plan; what was spent and taken back, pound by pound."),
            table(
                [
                    ["", "Amount"],
                    ["Paid in", format_money(funds.loaded)],
                    ["Spent", format_money(funds.spent)],
                    ["Taken back by the council", format_money(funds.recovered)],
                    ["Held now", format_money(funds.held)],
                ],
                [120, 50],
                money_columns=(1,),
            ),
        ]
    contributions = budget_contribution_figures(budget)
    assessment = latest_financial_assessment(budget.client)
    if assessment is not None or contributions is not None:
        story += [Spacer(1, 8), p("What you pay towards your care", "h2")]
        if assessment is not None:
            what = (
                "the full cost of your care"
                if assessment.full_cost
                else f"{format_money(assessment.weekly_contribution)} a week"
            )
            story.append(p(f"From your financial assessment of {assessment.date:%-d %B %Y}: {what}."))
        if contributions is not None:
            story.append(
                table(
                    [
                        ["", "Amount"],
                        ["Taken from your direct payment (paid to you net)", format_money(contributions.netted)],
                        ["Billed to you", format_money(contributions.billed)],
                        ["Paid by you", format_money(contributions.paid)],
                        ["Still owed", format_money(contributions.owed)],
                    ],
                    [120, 50],
                    money_columns=(1,),
                )
            )
    if budget.final_amount is not None:
        story.append(
            p(
                f"Your indicative budget was {format_money(budget.indicative_amount)}. "
                f"The final budget is {format_money(budget.final_amount)} because: {esc(budget.final_reason)}"
            )
        )
    story += [Spacer(1, 8), p("How your budget was worked out", "h2")]
    story.append(
        table(
            [["Area of your life", "Points"]] + [[label, str(points)] for label, points in pricing.domain_rows],
            [130, 40],
            money_columns=(1,),
        )
    )
    story += [Spacer(1, 4)] + [p(line) for line in explain(pricing)]
    story.append(p(f"Scheme: {compiled.name}, version {compiled.version}.", "small"))
    story += [Spacer(1, 8), p("Every movement of money", "h2")]
    rows = [["Date", "What", "Amount"]]
    for tx in ledger_list(budget):
        rows.append(
            [
                f"{timezone.localtime(tx.created_at):%-d %b %Y}",
                p(f"{tx.get_kind_display()}: {esc(tx.memo)}", "small"),
                format_money(transaction_size(tx)),
            ]
        )
    story.append(table(rows, [28, 112, 30], money_columns=(2,)))
    return render(story, title=f"Budget statement for {budget.client.full_name}")


def budget_month_statement_pdf(budget: PersonalBudget, month: datetime.date) -> bytes:
    """One month's statement: the figures at the start and end of the month, and every payment
    (and reversal or other movement) in it."""
    start = timezone.make_aware(datetime.datetime.combine(month, datetime.time.min))
    next_month = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    end = timezone.make_aware(datetime.datetime.combine(next_month, datetime.time.min))
    before, after = budget_figures_at(budget, start), budget_figures_at(budget, end)
    rows = [["", f"1 {month:%B %Y}", f"End of {month:%B %Y}"]]
    for label, attr in [
        ("Allocated", "allocated"),
        ("Committed to your care plan", "committed"),
        ("Paid to providers", "paid"),
        ("Available to plan", "available"),
    ]:
        rows.append([label, format_money(getattr(before, attr)), format_money(getattr(after, attr))])
    movements = [["Date", "What", "Amount"]]
    for tx in ledger_list(budget).filter(created_at__gte=start, created_at__lt=end):
        movements.append(
            [
                f"{timezone.localtime(tx.created_at):%-d %b %Y}",
                f"{tx.get_kind_display()}: {tx.memo}",
                format_money(transaction_size(tx)),
            ]
        )
    story = [
        text(f"Monthly statement: {month:%B %Y}", "title"),
        text(budget.client.full_name, "h2"),
        text(f"Budget period {budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}"),
        Spacer(1, 8),
        table(rows, [80, 45, 45], money_columns=(1, 2)),
        Spacer(1, 8),
        text("Payments and other movements this month", "h2"),
    ]
    if len(movements) > 1:
        story.append(table(movements, [28, 112, 30], money_columns=(2,)))
    else:
        story.append(text("Nothing moved this month."))
    return render(story, title=f"Statement for {budget.client.full_name}, {month:%B %Y}")


def financial_assessment_letter_pdf(assessment) -> bytes:
    """The letter telling the person what they pay and how it was worked out, line by line (the
    same lines as the page), and how to ask for a review."""
    from decimal import Decimal

    from .models import IncomeKind

    client = assessment.client
    if assessment.full_cost:
        headline = "You pay the full cost of your care."
    else:
        headline = f"You pay {format_money(assessment.weekly_contribution)} a week towards your care."
    rows = [["How it was worked out (a week)", "Amount"]]
    for line in assessment.explanation:
        rows.append([line["text"], "" if line["amount"] is None else format_money(Decimal(line["amount"]))])
    labels = dict(IncomeKind.choices)
    declared = [["What you told us", "A week"]]
    declared += [
        [labels.get(r["kind"], r["kind"]), format_money(Decimal(r["weekly_amount"]))] for r in assessment.income
    ]
    declared += [
        [f"Housing: {r['description']}", format_money(Decimal(r["weekly_amount"]))] for r in assessment.housing_costs
    ]
    declared += [
        [f"Disability-related: {r['description']}", format_money(Decimal(r["weekly_amount"]))]
        for r in assessment.disability_related_expenditure
    ]
    story = [
        text("Your contribution towards your care", "title"),
        text(client.full_name, "h2"),
        text(f"Financial assessment from {assessment.date:%-d %B %Y}; letter of {timezone.localdate():%-d %B %Y}"),
        Spacer(1, 8),
        text(headline, "h2"),
        text("Nobody is charged more than what their care costs: each four-weekly charge is capped at that cost."),
        Spacer(1, 8),
        table(rows, [130, 40], money_columns=(1,)),
        Spacer(1, 8),
        text(
            f"Your circumstances: {assessment.get_band_display()}. Savings and other capital: "
            f"{format_money(assessment.capital)}."
        ),
    ]
    if len(declared) > 1:
        story += [Spacer(1, 4), table(declared, [130, 40], money_columns=(1,))]
    story += [
        Spacer(1, 8),
        text(f"Rules used: {assessment.policy.name}."),
        text(
            "If something is wrong, or your circumstances change, ask for a review on the page "
            "'How your contribution was worked out' in Cairn, or ask your social worker."
        ),
    ]
    return render(story, title=f"Contribution letter for {client.full_name}")

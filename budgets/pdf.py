"""The budget statements a client can keep: the whole budget (figures, how it was worked out, and
the money in and out over a period) and one month at a time (the figures then, and each payment)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from itertools import groupby

from django.utils import timezone
from reportlab.platypus import Spacer

from accounts.money import format_money
from accounts.pdf import esc, p, render, table, text

from .models import PersonalBudget
from .ras import compile_scheme, explain, price_answered
from .selectors import (
    Figures,
    budget_contribution_figures,
    budget_figures,
    budget_figures_at,
    budget_fund_figures,
    day_start,
    latest_financial_assessment,
    ledger_entries_between,
    ledger_list,
    transaction_size,
)


def budget_statement_pdf(
    budget: PersonalBudget, start: datetime.date | None = None, end: datetime.date | None = None
) -> bytes:
    """The whole budget as it stands (the four figures, funds, contributions, how it was worked
    out), then the money in and out over a period, the budget period unless another is chosen:
    the balance it opened and closed with, and each movement, month by month.

    A period, not the whole ledger, so a busy budget's statement stays quick to make and short
    enough to read; the closing balance still accounts for everything before the period."""
    start = start or budget.period_start
    end = end or budget.period_end
    figures = budget_figures(budget)
    funds = budget_fund_figures(budget)
    assessment = budget.assessment
    compiled = compile_scheme(assessment.scheme)
    pricing = price_answered(compiled, assessment.answers, assessment.modifiers)

    story = [
        p("Personal budget statement", "title"),
        p(f"<b>{esc(budget.client.full_name)}</b>"),
        text(f"Budget period: {budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}"),
        text(f"Statement period: {start:%-d %B %Y} to {end:%-d %B %Y}"),
        text(f"Statement date: {timezone.localdate():%-d %B %Y}"),
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
    story += _period_story(budget, start, end)
    return render(story, title=f"Budget statement for {budget.client.full_name}")


def _figures_table(before: Figures, after: Figures, opened: str, closed: str, *, balance: bool = False):
    """The four figures at the start and at the end of a statement's period (and the balance,
    allocated less paid, where the statement counts money in and out of it)."""
    rows = [["", opened, closed]]
    labels = [
        ("Allocated", "allocated"),
        ("Committed to your care plan", "committed"),
        ("Paid to providers", "paid"),
        ("Available to plan", "available"),
    ]
    if balance:
        labels.append(("Balance (allocated, less paid)", "balance"))
    for label, attr in labels:
        rows.append([label, format_money(getattr(before, attr)), format_money(getattr(after, attr))])
    return table(rows, [80, 45, 45], money_columns=(1, 2))


def _signed(amount: Decimal) -> str:
    """'+£12.50' or '-£12.50': money in and out signed as people read them on a bank statement
    (an ASCII minus, which the PDF's standard font draws without a fallback font)."""
    return ("-" if amount < 0 else "+") + format_money(abs(amount))


def _period_story(budget: PersonalBudget, start: datetime.date, end: datetime.date) -> list:
    """The balance at the start and end of the period, the money in and out between, and each
    movement month by month (one table a month, with the month's totals above it)."""
    opens, closes = day_start(start), day_start(end + datetime.timedelta(days=1))
    before, after = budget_figures_at(budget, opens), budget_figures_at(budget, closes)
    entries = ledger_entries_between(budget, opens, closes)
    money_in = sum(e.change for e in entries if e.change > 0)
    money_out = sum(e.change for e in entries if e.change < 0)
    story = [
        Spacer(1, 8),
        text(f"Money in and out, {start:%-d %B %Y} to {end:%-d %B %Y}", "h2"),
        text(
            "Money in is money added to your budget (or coming back to it, such as a payment reversed). "
            "Money out is money paid from it: to providers, into your direct payment, and your contribution. "
            "Setting money aside for your care plan, or releasing it, moves it within your budget: "
            "it is listed, but is neither money in nor money out."
        ),
        Spacer(1, 4),
        _figures_table(before, after, f"Start of {start:%-d %B %Y}", f"End of {end:%-d %B %Y}", balance=True),
        Spacer(1, 4),
        table(
            [
                ["", "Amount"],
                [f"Opening balance on {start:%-d %B %Y}", format_money(before.balance)],
                ["Money in", _signed(money_in)],
                ["Money out", _signed(money_out)],
                [f"Closing balance on {end:%-d %B %Y}", format_money(after.balance)],
            ],
            [120, 50],
            money_columns=(1,),
        ),
    ]
    if not entries:
        return [*story, Spacer(1, 8), text("Nothing moved in this period.")]
    days = [timezone.localtime(e.created_at).date() for e in entries]
    for month, dated in groupby(zip(days, entries, strict=True), key=lambda pair: pair[0].replace(day=1)):
        dated = list(dated)
        month_in = sum(e.change for _, e in dated if e.change > 0)
        month_out = sum(e.change for _, e in dated if e.change < 0)
        rows = [["Date", "What", "Money in", "Money out"]]
        for day, e in dated:
            what = f"{e.kind}: {e.memo}" if e.memo else e.kind
            if not e.change:
                what += f" ({format_money(e.moved)} moved; no money in or out of your budget)"
            signed = _signed(e.change) if e.change else ""
            rows.append([f"{day:%-d %b %Y}", what, signed if e.change > 0 else "", signed if e.change < 0 else ""])
        story += [
            Spacer(1, 8),
            p(f"<b>{esc(f'{month:%B %Y}: money in {_signed(month_in)}, money out {_signed(month_out)}')}</b>"),
            table(rows, [24, 96, 25, 25], money_columns=(2, 3)),
        ]
    return story


def budget_month_statement_pdf(budget: PersonalBudget, month: datetime.date) -> bytes:
    """One month's statement: the figures at the start and end of the month, and every payment
    (and reversal or other movement) in it."""
    start = day_start(month)
    end = day_start((month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1))
    before, after = budget_figures_at(budget, start), budget_figures_at(budget, end)
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
        _figures_table(before, after, f"1 {month:%B %Y}", f"End of {month:%B %Y}"),
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

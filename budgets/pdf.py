"""The budget statements a client can keep: the whole budget (figures, how it was worked out, and
the money in and out over a period) and one month at a time (the figures then, and each payment)."""

from __future__ import annotations

import datetime
from bisect import bisect_right
from decimal import Decimal
from functools import cache
from itertools import groupby

from django.utils import timezone
from reportlab import rl_config
from reportlab.lib.rl_accel import escapePDF
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from accounts.money import format_money
from accounts.pdf import (
    CELL_BOLD_FONT,
    CELL_FONT,
    CELL_LEADING,
    CELL_PAD_X,
    CELL_SIZE,
    RULE_COLOUR,
    font_widths,
    p,
    render,
    split_lines,
    table,
    text,
)

from .models import PersonalBudget
from .ras import compile_scheme, explain, price_answered
from .selectors import (
    Figures,
    StatementEntry,
    budget_contribution_figures,
    budget_figures,
    budget_figures_at,
    budget_fund_figures,
    day_start,
    latest_financial_assessment,
    ledger_entries_between,
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
        p(budget.client.full_name, bold=True),
        text(f"Budget period: {budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}"),
        text(f"Statement period: {start:%-d %B %Y} to {end:%-d %B %Y}"),
        text(f"Statement date: {timezone.localdate():%-d %B %Y}"),
        Spacer(1, 8),
        p("Your budget", "h2"),
        table(
            [
                ["", "Amount"],
                ["Allocated: your budget", format_money(figures.allocated)],
                ["Committed to your care plan", format_money(figures.committed)],
                [
                    "  of which paid to providers and into your direct payment"
                    if funds
                    else "  of which paid to providers",
                    format_money(figures.paid),
                ],
                ["Available to plan (allocated less committed)", format_money(figures.available)],
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
                f"The final budget is {format_money(budget.final_amount)} because: {budget.final_reason}"
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
        ("  of which paid to providers", "paid"),
        ("Available to plan (allocated less committed)", "available"),
    ]
    if balance:
        labels.append(("Balance (allocated, less paid)", "balance"))
    for label, attr in labels:
        rows.append([label, format_money(getattr(before, attr)), format_money(getattr(after, attr))])
    return table(rows, [80, 45, 45], money_columns=(1, 2))


class _MovementsTable(Flowable):
    """A statement's movements: a table in the look of `table()` (fonts, rules, the header again
    on each page, right-aligned money; a little less padding, as a bank statement's rows), written
    as raw PDF operators, one run of text and one path of rules a page.

    Why: a year's statement of a busy budget has thousands of rows. Drawn cell by cell through
    reportlab's text objects (as `PlainTable` does, fine for the tens of rows of other documents)
    they took ~0.1 ms a row, most of the time of a 5,000-movement statement; formatting the
    operators directly is several times faster. Only the `wrap_columns` (the description) are
    broken into lines: dates and amounts fit their columns. Splitting between pages passes on a
    range of the rows already laid out, so a long table is not measured again on every page.
    A line the standard font's encoding cannot hold (rare: most text is Latin) is drawn through
    reportlab's text object, which finds a fallback font."""

    PAD_Y = 3

    def __init__(self, rows: list[list[str]], widths: list[float], *, right_columns=(), wrap_columns=(), _parts=None):
        super().__init__()
        self.hAlign = "CENTER"
        self.widths = [w * mm for w in widths]
        self.right_columns = frozenset(right_columns)
        self.wrap_columns = frozenset(wrap_columns)
        if _parts is None:
            space = [w - 2 * CELL_PAD_X for w in self.widths]
            header = [split_lines(cell, CELL_BOLD_FONT, CELL_SIZE, w) for cell, w in zip(rows[0], space, strict=True)]
            cells = [header] + [
                [_wrapped(cell, space[c]) if c in self.wrap_columns else [cell] for c, cell in enumerate(row)]
                for row in rows[1:]
            ]
            tops = [0.0]  # tops[r]: the height of rows 0..r-1
            for row in cells:
                tops.append(tops[-1] + max(map(len, row)) * CELL_LEADING + 2 * self.PAD_Y)
            _parts = (cells, tops, 1, len(cells))
        self.cells, self.tops, self.first, self.stop = _parts
        self.width = sum(self.widths)
        self.height = self.tops[1] + self.tops[self.stop] - self.tops[self.first]

    def _part(self, first: int, stop: int) -> _MovementsTable:
        parts = (self.cells, self.tops, first, stop)
        widths = [w / mm for w in self.widths]
        return _MovementsTable(
            [], widths, right_columns=self.right_columns, wrap_columns=self.wrap_columns, _parts=parts
        )

    def wrap(self, availWidth, availHeight):
        return self.width, self.height

    def split(self, availWidth, availHeight):
        if self.height <= availHeight + rl_config._FUZZ:
            return [self]
        # The last row whose bottom fits under the header.
        room = availHeight + rl_config._FUZZ - self.tops[1] + self.tops[self.first]
        stop = bisect_right(self.tops, room, self.first, self.stop + 1) - 1
        if stop <= self.first:  # not even one row under the header: start on the next page
            return []
        return [self._part(self.first, stop), self._part(stop, self.stop)]

    def draw(self):
        canv = self.canv
        edges = [0.0]
        for w in self.widths:
            edges.append(edges[-1] + w)
        top = self.height
        rules = []
        for font_name, rows in ((CELL_BOLD_FONT, [0]), (CELL_FONT, range(self.first, self.stop))):
            placed = []  # (x, y, line): each row's first lines left to right, then any more lines
            for r in rows:
                y = top - self.PAD_Y - CELL_SIZE
                more = []
                for c, lines in enumerate(self.cells[r]):
                    right = c in self.right_columns
                    for i, line in enumerate(lines):
                        if line:
                            x = edges[c + 1] - CELL_PAD_X - _width(line, font_name) if right else edges[c] + CELL_PAD_X
                            (more if i else placed).append((x, y - i * CELL_LEADING, line))
                placed += more
                top -= self.tops[r + 1] - self.tops[r]
                rules.append(top)
            self._draw_text(font_name, placed)
        colour = f"{RULE_COLOUR.red:.3f} {RULE_COLOUR.green:.3f} {RULE_COLOUR.blue:.3f} RG"
        path = [f"q 1 J 1 j {colour} 0.25 w"]
        path += [f"0 {y:.2f} m {self.width:.2f} {y:.2f} l" for y in rules[1:]]
        path.append(f"S 0 0 0 RG 1 w 0 {rules[0]:.2f} m {self.width:.2f} {rules[0]:.2f} l S Q")
        canv.addLiteral("\n".join(path))

    def _draw_text(self, font_name: str, placed: list[tuple[float, float, str]]) -> None:
        """Every line in one text object, each line after the first on a baseline placed from
        the one before (`Td`: no widths to measure). Encoded for the font in one go where it
        can be: the lines joined by a character the encoding holds and no line uses, so the
        encoded page splits back into its lines exactly (line by line otherwise)."""
        encoding = getFont(font_name).encName
        joined = _SEPARATOR.join(line for _, _, line in placed)
        try:
            if joined.count(_SEPARATOR) != len(placed) - 1:
                raise UnicodeEncodeError(encoding, joined, 0, 1, "a line holds the separator")
            encoded = joined.encode(encoding).split(_SEPARATOR.encode(encoding))
        except UnicodeEncodeError:  # a line holds it, or needs a fallback font: line by line
            encoded = []
            for x, y, line in placed:
                try:
                    encoded.append(line.encode(encoding))
                except UnicodeEncodeError:
                    encoded.append(None)
                    fallback = self.canv.beginText(x, y)
                    fallback.setFont(font_name, CELL_SIZE, CELL_LEADING)
                    fallback.textLine(line)
                    self.canv.drawText(fallback)
        ops = ["BT"]
        start = baseline = None  # where the last line drawn starts, and its baseline
        for (x, y, _), data in zip(placed, encoded, strict=True):
            if data is None:
                continue
            if y == baseline:
                ops.append(f"{x - start:.2f} 0 Td ({escapePDF(data)}) Tj")
            else:
                ops.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm ({escapePDF(data)}) Tj")
            start, baseline = x, y
        ops.append("ET")
        self.canv.setFont(font_name, CELL_SIZE, CELL_LEADING)  # after any fallback line, which sets its own
        self.canv.addLiteral("\n".join(ops))


@cache
def _char_widths(font_name: str) -> dict[str, float]:
    """The widths at 1 pt of the characters a standard font's encoding holds, in a plain dict:
    summing through it is several times faster than through `font_widths` (a dict subclass,
    whose item look-ups go through Python), and a statement measures thousands of lines."""
    measure = getFont(font_name).stringWidth
    latin = [chr(i) for i in (*range(32, 127), *range(160, 256))]
    latin += bytes(range(128, 160)).decode("cp1252", errors="ignore")  # €, ‘ ’, “ ”, – — …
    return {ch: measure(ch, 1) for ch in latin}


def _width(line: str, font_name: str) -> float:
    """The width of a line of a table's cell text (any character through `font_widths`)."""
    try:
        return sum(map(_char_widths(font_name).__getitem__, line)) * CELL_SIZE
    except KeyError:
        return font_widths(font_name).of(line, CELL_SIZE)


def _wrapped(words: str, width: float) -> list[str]:
    """`split_lines` of a table's cell, measuring a one-line cell (most are) with `_width`."""
    line = " ".join(words.split())
    if "\n" not in words and _width(line, CELL_FONT) <= width:
        return [line]
    return split_lines(words, CELL_FONT, CELL_SIZE, width)


# Joins a page's lines to encode them at once: in the standard fonts' encoding, rare in text
# (the encoding holds no control character, which would be the natural choice).
_SEPARATOR = "\u00a6"


# Room for a month's heading, the table's header and its first rows.
_MONTH_START = 80


def _signed(amount: Decimal) -> str:
    """'+£12.50' or '-£12.50' (an amount in pence): money in and out signed as people read them
    on a bank statement (an ASCII minus, which the PDF's standard font draws without a fallback)."""
    return f"{'-' if amount < 0 else '+'}£{abs(amount):,.2f}"


def _described(e: StatementEntry) -> tuple[str, str]:
    """A statement entry's description and its signed change to the balance ("" for a movement
    within the budget, which the description says moved nothing in or out)."""
    what = f"{e.kind}: {e.memo}" if e.memo else e.kind
    if not e.change:
        return f"{what} ({format_money(e.moved)} moved; no money in or out of your budget)", ""
    return what, _signed(e.change)


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
    dates: dict[datetime.date, str] = {}  # each day written once (a busy day has many movements)
    for month, group in groupby(entries, key=lambda e: e.day.replace(day=1)):
        group = list(group)
        month_in = sum(e.change for e in group if e.change > 0)
        month_out = sum(e.change for e in group if e.change < 0)
        rows = [["Date", "What", "Money in", "Money out"]]
        for e in group:
            what, signed = _described(e)
            if e.day not in dates:
                dates[e.day] = f"{e.day:%-d %b %Y}"
            rows.append([dates[e.day], what, signed if e.change > 0 else "", signed if e.change < 0 else ""])
        story += [
            Spacer(1, 8),
            CondPageBreak(_MONTH_START),  # a month's heading never alone at the foot of a page
            p(f"{month:%B %Y}: money in {_signed(month_in)}, money out {_signed(month_out)}", bold=True),
            _MovementsTable(rows, [22, 92, 28, 28], right_columns=(2, 3), wrap_columns=(1,)),
        ]
    return story


def budget_month_statement_pdf(budget: PersonalBudget, month: datetime.date) -> bytes:
    """One month's statement: the figures at the start and end of the month, and every payment
    (and reversal or other movement) in it."""
    start = day_start(month)
    end = day_start((month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1))
    before, after = budget_figures_at(budget, start), budget_figures_at(budget, end)
    # Each movement's change to the budget's balance, as the period statement and the budget page
    # give it. (It was the sum of the movement's positive postings, which counted a load twice:
    # it is posted both as paid and as held in the person's fund.)
    movements = [["Date", "What", "Money in or out"]]
    for e in ledger_entries_between(budget, start, end):
        movements.append([f"{e.day:%-d %b %Y}", *_described(e)])
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

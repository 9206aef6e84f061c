"""Reads: the scheme in force, budget figures, ledgers, and caseload statuses."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import DateField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from djmoney.money import Money

from accounts.models import CaseloadAssignment, Representation, Role, User
from accounts.money import CURRENCY, round_penny
from accounts.permissions import has_role
from accounts.selectors import client_list_visible_to, represented_clients

from .exceptions import NoActiveScheme, NotVisible
from .models import (
    AccountKind,
    Assessment,
    AssessmentStatus,
    FinancialAssessment,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    PersonalBudget,
    RasScheme,
    SchemeStatus,
    TransactionKind,
)
from .permissions import can_view_assessment, can_view_budget, can_view_financial_assessments


def active_scheme(on: datetime.date | None = None) -> RasScheme:
    """The published scheme in force on a day: the latest effective date on or before it."""
    on = on or timezone.localdate()
    scheme = (
        RasScheme.objects.filter(status=SchemeStatus.PUBLISHED, effective_from__lte=on)
        .order_by("-effective_from", "-version")
        .first()
    )
    if scheme is None:
        raise NoActiveScheme()
    return scheme


@dataclass(frozen=True)
class Figures:
    allocated: Money
    committed: Money
    paid: Money
    available: Money

    @property
    def balance(self) -> Money:
        """What the budget holds that has not been paid out (allocated less paid): the balance a
        statement opens and closes with, so money in and out add up to its change."""
        return self.allocated - self.paid


def _figures(balances: dict[str, Decimal], currency: str) -> Figures:
    available = balances.get(AccountKind.AVAILABLE, Decimal(0))
    committed = balances.get(AccountKind.COMMITTED, Decimal(0))
    paid = balances.get(AccountKind.PAID, Decimal(0))
    return Figures(
        allocated=Money(available + committed + paid, currency),
        committed=Money(committed + paid, currency),
        paid=Money(paid, currency),
        available=Money(available, currency),
    )


def budget_figures(budget: PersonalBudget) -> Figures:
    """The four figures from the accounts' running balances (one query)."""
    balances = dict(LedgerAccount.objects.filter(budget=budget).values_list("kind", "balance"))
    return _figures(balances, str(budget.indicative_amount.currency))


def budget_figures_many(budget_ids: list[int]) -> dict[int, Figures]:
    """Figures for many budgets in one query."""
    rows = LedgerAccount.objects.filter(budget_id__in=budget_ids).values_list("budget_id", "kind", "balance")
    by_budget: dict[int, dict[str, Decimal]] = {}
    for budget_id, kind, balance in rows:
        by_budget.setdefault(budget_id, {})[kind] = balance
    return {bid: _figures(by_budget.get(bid, {}), CURRENCY) for bid in budget_ids}


def budget_figures_from_postings(budget: PersonalBudget) -> Figures:
    """The same figures summed from the postings themselves: the ledger's own check on the
    running balances (they must always agree)."""
    sums = (
        LedgerPosting.objects.filter(account__budget=budget)
        .values("account__kind")
        .annotate(total=Sum("amount"))
        .values_list("account__kind", "total")
    )
    # SQLite sums decimals as floating point; the ledger is in pence, so round back to them.
    return _figures({kind: round_penny(total) for kind, total in sums}, str(budget.indicative_amount.currency))


@dataclass(frozen=True)
class FundLedgerFigures:
    """The money of a budget's direct payment and individual service funds, pound by pound from the
    ledger: paid in by loads, spent by their holders, taken back by the council, and held now
    (held = loaded − spent − recovered)."""

    loaded: Money
    spent: Money
    recovered: Money
    held: Money


def budget_fund_figures(budget: PersonalBudget) -> FundLedgerFigures | None:
    """None while the budget has never had money paid into a fund (one query)."""
    sums = dict(
        LedgerPosting.objects.filter(account__budget=budget, account__kind=AccountKind.FUND_HELD)
        .values("transaction__kind")
        .annotate(total=Sum("amount"))
        .values_list("transaction__kind", "total")
    )
    if not sums:
        return None
    currency = str(budget.indicative_amount.currency)

    def money(kind: str, sign: int) -> Money:
        # `or 0`: a negated zero is Decimal("-0"), which the page showed as "-£0.00".
        return Money(round_penny(sign * (sums.get(kind) or Decimal(0))) or Decimal(0), currency)

    # Reversals of loads come back out of what is held; count them against what was loaded.
    loaded = money(TransactionKind.FUND_LOAD, 1) + money(TransactionKind.REVERSAL, 1)
    spent = money(TransactionKind.FUND_SPENDING, -1)
    recovered = money(TransactionKind.FUND_RECOVERY, -1)
    return FundLedgerFigures(loaded, spent, recovered, loaded - spent - recovered)


@dataclass(frozen=True)
class ContributionLedgerFigures:
    """What the person has paid towards the care this budget pays for, from the ledger: taken from
    their direct payment or fund loads, billed to them, paid, and still owed."""

    netted: Money
    billed: Money
    paid: Money
    owed: Money


def budget_contribution_figures(budget: PersonalBudget) -> ContributionLedgerFigures | None:
    """None while nothing was ever netted or billed for this budget (one query)."""
    rows = (
        LedgerPosting.objects.filter(
            transaction__budget=budget,
            account__kind__in=[AccountKind.CONTRIBUTIONS, AccountKind.CONTRIBUTIONS_OWED],
            transaction__kind__in=[
                TransactionKind.CONTRIBUTION,
                TransactionKind.CONTRIBUTION_BILLED,
                TransactionKind.CONTRIBUTION_PAID,
            ],
        )
        .values("account__kind", "transaction__kind")
        .annotate(total=Sum("amount"))
        .values_list("account__kind", "transaction__kind", "total")
    )
    sums = {(account, kind): round_penny(total) for account, kind, total in rows}
    if not sums:
        return None
    currency = str(budget.indicative_amount.currency)
    netted = -sums.get((AccountKind.CONTRIBUTIONS, TransactionKind.CONTRIBUTION), Decimal(0))
    billed = -sums.get((AccountKind.CONTRIBUTIONS, TransactionKind.CONTRIBUTION_BILLED), Decimal(0))
    paid = -sums.get((AccountKind.CONTRIBUTIONS_OWED, TransactionKind.CONTRIBUTION_PAID), Decimal(0))
    return ContributionLedgerFigures(
        Money(netted, currency), Money(billed, currency), Money(paid, currency), Money(billed - paid, currency)
    )


def budget_get_for(user: User, budget_id: int) -> PersonalBudget:
    budget = PersonalBudget.objects.select_related("client", "assessment", "final_set_by").filter(pk=budget_id).first()
    if budget is None or not can_view_budget(user, budget):
        raise NotVisible("No such budget.")
    return budget


def budget_list_visible_to(user: User) -> QuerySet[PersonalBudget]:
    budgets = PersonalBudget.objects.select_related("client").order_by("-period_start", "-id")
    if has_role(user, Role.FINANCE, Role.ADMIN):
        return budgets
    return budgets.filter(client__in=client_list_visible_to(user))


def current_budget(client: User, on: datetime.date | None = None) -> PersonalBudget | None:
    """The client's budget whose period covers the day (the latest, if periods overlap)."""
    on = on or timezone.localdate()
    return (
        PersonalBudget.objects.filter(client=client, period_start__lte=on, period_end__gte=on)
        .order_by("-period_start", "-id")
        .first()
        or PersonalBudget.objects.filter(client=client).order_by("-period_start", "-id").first()
    )


def current_budgets_acted_for(representative: User) -> list[tuple[Representation, PersonalBudget | None]]:
    """Each client a representative acts for (by name) with their current budget, if any."""
    return [(link, current_budget(link.client)) for link in represented_clients(representative=representative)]


def ledger_list(budget: PersonalBudget) -> QuerySet[LedgerTransaction]:
    return (
        LedgerTransaction.objects.filter(budget=budget)
        .select_related("created_by")
        .prefetch_related("postings__account")
        .order_by("created_at", "id")
    )


LEDGER_PAGE_SIZE = 50

# The budget's money not yet paid out: its balance on a statement. Allocations come into it and
# payments, loads and contributions go out of it, while commitments and releases move money
# within it (between these two accounts), so they are neither money in nor money out.
BALANCE_KINDS = (AccountKind.AVAILABLE, AccountKind.COMMITTED)


def ledger_page(budget: PersonalBudget, number: str | int | None, per_page: int = LEDGER_PAGE_SIZE) -> Page:
    """One page of the budget's ledger, newest first, each transaction with its postings and
    their accounts (three queries whatever the page or the ledger's size; a page number that is
    not a page gives the nearest one, as the other paged lists do)."""
    transactions = (
        LedgerTransaction.objects.filter(budget=budget)
        .prefetch_related(Prefetch("postings", queryset=LedgerPosting.objects.select_related("account")))
        .order_by("-created_at", "-id")
    )
    return Paginator(transactions, per_page).get_page(number)


@dataclass(frozen=True)
class MonthTotals:
    """Money into and out of a budget's balance in one month (both as positive amounts), and
    how many ledger movements that month had."""

    month: datetime.date
    money_in: Money
    money_out: Money
    movements: int


def _balance_change(budget: PersonalBudget, via: str = "") -> Sum:
    """A transaction's net change to the balance: the sum of its postings to the budget's two
    balance accounts (`via`: the path to the postings, from a transaction "postings__")."""
    return Sum(f"{via}amount", filter=Q(**{f"{via}account__kind__in": BALANCE_KINDS, f"{via}account__budget": budget}))


def _month_date(value: object) -> datetime.date:
    """A bare cursor's month as a date: PostgreSQL's DATE_TRUNC gives a (naive, local)
    timestamp and SQLite gives text; the ORM's converters that would make either a date are
    bypassed by the raw query."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def ledger_month_totals(budget: PersonalBudget) -> list[MonthTotals]:
    """Money in and out of the budget's balance for each month it moved, newest first: in one
    query, summed by the database whatever the size of the ledger.

    Each transaction is netted first (a commitment takes from one account of the balance and
    adds to the other: no money in or out), then its net counts as money in or money out. The
    ORM cannot group a grouped query again, so the netting query (built by the ORM, with the
    database's own month in local time) is wrapped in one outer GROUP BY; a correlated subquery
    per transaction, the ORM's other way, took ~80 ms at 5,000 transactions on PostgreSQL."""
    netted = (
        LedgerPosting.objects.filter(transaction__budget=budget)
        .values("transaction_id")
        .annotate(month=TruncMonth("transaction__created_at", output_field=DateField()), net=_balance_change(budget))
        .values("month", "net")
        .order_by()
    )
    inner, params = netted.query.sql_with_params()
    # The ORM's own SQL, its values passed as parameters.
    sql = (
        "SELECT month, SUM(CASE WHEN net > 0 THEN net ELSE 0 END), SUM(CASE WHEN net < 0 THEN -net ELSE 0 END), "  # noqa: S608
        f"COUNT(*) FROM ({inner}) netted GROUP BY month ORDER BY month DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    currency = str(budget.indicative_amount.currency)
    # Bare cursor values: SQLite gives the month as text and the sums as numbers.
    return [
        MonthTotals(
            _month_date(month),
            Money(round_penny(Decimal(str(money_in))), currency),
            Money(round_penny(Decimal(str(money_out))), currency),
            movements,
        )
        for month, money_in, money_out, movements in rows
    ]


@dataclass(frozen=True)
class StatementEntry:
    """One ledger transaction on a statement: its change to the balance (+ in, − out, 0 for a
    movement within the budget) and how much it moved in all, in the budget's currency (bare
    decimals: a statement adds up thousands of them)."""

    day: datetime.date
    kind: str
    memo: str
    change: Decimal
    moved: Decimal


def ledger_entries_between(
    budget: PersonalBudget, start: datetime.datetime, end: datetime.datetime
) -> list[StatementEntry]:
    """The budget's transactions from `start` up to (not including) `end`, oldest first, each
    netted by the database and dated by its local day there (one query grouped by transaction;
    no postings or models are loaded: a year's statement of a busy budget has thousands)."""
    labels = dict(TransactionKind.choices)
    rows = (
        LedgerTransaction.objects.filter(budget=budget, created_at__gte=start, created_at__lt=end)
        .annotate(
            day=TruncDate("created_at"),
            change=_balance_change(budget, "postings__"),
            moved=Sum("postings__amount", filter=Q(postings__amount__gt=0)),
        )
        .order_by("created_at", "id")
        .values_list("day", "kind", "memo", "change", "moved")
    )
    return [
        StatementEntry(day, labels.get(kind, kind), memo, round_penny(change or 0), round_penny(moved or 0))
        for day, kind, memo, change, moved in rows
    ]


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of a day, local time: where statement periods begin and end."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def assessment_get_for(user: User, assessment_id: int) -> Assessment:
    assessment = Assessment.objects.select_related("client", "assessor", "scheme").filter(pk=assessment_id).first()
    if assessment is None or not can_view_assessment(user, assessment):
        raise NotVisible("No such assessment.")
    return assessment


def caseload_with_status(*, social_worker: User) -> QuerySet[CaseloadAssignment]:
    """A social worker's open caseload, each client annotated with their latest assessment and
    latest budget, in one query however many clients."""
    latest_assessment = Assessment.objects.filter(client=OuterRef("client")).order_by("-created_at", "-id")
    latest_budget = PersonalBudget.objects.filter(client=OuterRef("client")).order_by("-period_start", "-id")
    return (
        CaseloadAssignment.objects.filter(social_worker=social_worker, end_date__isnull=True)
        .select_related("client")
        .annotate(
            assessment_id=Subquery(latest_assessment.values("id")[:1]),
            assessment_status=Subquery(latest_assessment.values("status")[:1]),
            assessment_eligible=Subquery(latest_assessment.values("eligible")[:1]),
            budget_id=Subquery(latest_budget.values("id")[:1]),
            budget_period_end=Subquery(latest_budget.values("period_end")[:1]),
        )
        .order_by("client__full_name")
    )


def client_status(row) -> str:
    """Plain words for a caseload row annotated by `caseload_with_status`."""
    if row.budget_id:
        return "Budget set"
    if row.assessment_status == AssessmentStatus.DRAFT:
        return "Assessment in progress"
    if row.assessment_status == AssessmentStatus.COMPLETED:
        return "Assessed"
    return "Not assessed"


def budget_figures_at(budget: PersonalBudget, moment: datetime.datetime) -> Figures:
    """The four figures as they stood at `moment`, summed from the postings made before it."""
    sums = (
        LedgerPosting.objects.filter(account__budget=budget, transaction__created_at__lt=moment)
        .values("account__kind")
        .annotate(total=Sum("amount"))
        .values_list("account__kind", "total")
    )
    return _figures({kind: round_penny(total) for kind, total in sums}, str(budget.indicative_amount.currency))


def budget_months(budget: PersonalBudget, today: datetime.date) -> list[datetime.date]:
    """The first day of each month of the budget period up to this one, newest first."""
    months, day = [], budget.period_start.replace(day=1)
    last = min(today, budget.period_end)
    while day <= last:
        months.append(day)
        day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return months[::-1]


def latest_financial_assessment(client: User, on: datetime.date | None = None) -> FinancialAssessment | None:
    """The financial assessment that applies on a date: the latest dated on or before it."""
    on = on or timezone.localdate()
    return (
        FinancialAssessment.objects.filter(client=client, date__lte=on)
        .select_related("policy")
        .order_by("-date", "-pk")
        .first()
    )


def financial_assessment_get_for(user: User, assessment_id: int) -> FinancialAssessment:
    """The assessment for whoever may see the client's financial assessments, else `NotVisible`."""
    assessment = (
        FinancialAssessment.objects.select_related("client", "policy", "recorded_by").filter(pk=assessment_id).first()
    )
    if assessment is None or not can_view_financial_assessments(user, assessment.client):
        raise NotVisible("No such financial assessment.")
    return assessment


# --- The budget over its period, and a forecast of spend to its end ------------------------------
# The rule is described in docs/rules.md ("A forecast of spend to the period's end").

FORECAST_MIN_DAYS = 28
UNDERSPEND_SHARE = Decimal("0.10")


@dataclass(frozen=True)
class SpendForecast:
    """Paid so far, and where the same daily rate would take it by the period's last day.

    `warning` is "over" when the forecast is more than allocated (`runs_out_on` is the day paid
    would reach allocated, `weeks_ahead` the whole weeks from then to the period's end), "under"
    when it would leave more than `UNDERSPEND_SHARE` of allocated unspent (`unspent` says how much,
    `weeks_ahead` the whole weeks from today to the period's end), else None."""

    allocated: Money
    paid: Money
    days_gone: int
    days_in_period: int
    daily_rate: Decimal
    at_end: Money
    warning: str | None
    runs_out_on: datetime.date | None
    unspent: Money | None
    weeks_ahead: int


def spend_forecast(
    *,
    allocated: Decimal,
    paid: Decimal,
    period_start: datetime.date,
    period_end: datetime.date,
    today: datetime.date,
    currency: str = CURRENCY,
) -> SpendForecast | None:
    """Forecast at the current rate: what has been paid ÷ the days of the period gone (today
    counted) is the daily rate; the forecast at the end is paid + that rate × the days left. None
    before the period has run `FORECAST_MIN_DAYS` days (invoices lag the care, so the first weeks
    say little) and from its last day on (nothing left to forecast)."""
    days_in_period = (period_end - period_start).days + 1
    days_gone = (today - period_start).days + 1
    if days_gone < FORECAST_MIN_DAYS or today >= period_end:
        return None
    rate = paid / days_gone
    at_end = round_penny(paid + rate * (days_in_period - days_gone))
    warning, runs_out_on, unspent, weeks_ahead = None, None, None, 0
    if at_end > allocated:
        warning = "over"
        # The day of the period on which paid reaches allocated (the nth day is start + n − 1).
        nth_day = int((allocated / rate).to_integral_value(rounding=ROUND_CEILING))
        runs_out_on = max(today, period_start + datetime.timedelta(days=nth_day - 1))
        weeks_ahead = (period_end - runs_out_on).days // 7
    elif allocated - at_end > allocated * UNDERSPEND_SHARE:
        warning = "under"
        unspent = Money(allocated - at_end, currency)
        weeks_ahead = (period_end - today).days // 7
    return SpendForecast(
        allocated=Money(allocated, currency),
        paid=Money(paid, currency),
        days_gone=days_gone,
        days_in_period=days_in_period,
        daily_rate=rate,
        at_end=Money(at_end, currency),
        warning=warning,
        runs_out_on=runs_out_on,
        unspent=unspent,
        weeks_ahead=weeks_ahead,
    )


@dataclass(frozen=True)
class MonthPosition:
    """Where the budget stood at the end of one month of its period (or today, for the month
    under way): committed to plans (paid included, as the four figures count it) and paid, both
    running totals; `forecast` is the forecast of paid by the month's end, for the months from
    the current one on (None for the months before it, or without a forecast)."""

    month: datetime.date
    last_day: datetime.date
    committed: Money | None
    paid: Money | None
    forecast: Money | None


@dataclass(frozen=True)
class BudgetYear:
    figures: Figures
    months: list[MonthPosition]
    forecast: SpendForecast | None
    today: datetime.date


def _month_starts(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return months


def budget_year(budget: PersonalBudget, today: datetime.date | None = None) -> BudgetYear:
    """The budget month by month over its period with the forecast of spend (two queries: the
    four figures, and the committed and paid accounts' movements summed by month)."""
    today = today or timezone.localdate()
    figures = budget_figures(budget)
    currency = str(budget.indicative_amount.currency)
    rows = (
        LedgerPosting.objects.filter(
            account__budget=budget, account__kind__in=[AccountKind.COMMITTED, AccountKind.PAID]
        )
        .annotate(month=TruncMonth("transaction__created_at", output_field=DateField()))
        .values("month", "account__kind")
        .annotate(total=Sum("amount"))
        .values_list("month", "account__kind", "total")
        .order_by()
    )
    starts = _month_starts(budget.period_start, budget.period_end)
    by_month: dict[datetime.date, dict[str, Decimal]] = {}
    for month, kind, total in rows:
        # A movement before the period (a backdated budget) counts in its first month, and one
        # after it in its last, so the running totals end at the four figures.
        month = min(max(_month_date(month), starts[0]), starts[-1])
        sums = by_month.setdefault(month, {})
        sums[kind] = sums.get(kind, Decimal(0)) + round_penny(total)
    forecast = spend_forecast(
        allocated=figures.allocated.amount,
        paid=figures.paid.amount,
        period_start=budget.period_start,
        period_end=budget.period_end,
        today=today,
        currency=currency,
    )
    months, committed, paid = [], Decimal(0), Decimal(0)
    for start in starts:
        following = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        last_day = min(following - datetime.timedelta(days=1), budget.period_end)
        sums = by_month.get(start, {})
        committed += sums.get(AccountKind.COMMITTED, Decimal(0)) + sums.get(AccountKind.PAID, Decimal(0))
        paid += sums.get(AccountKind.PAID, Decimal(0))
        started = start <= today
        ahead = forecast is not None and last_day >= today
        months.append(
            MonthPosition(
                month=start,
                last_day=min(last_day, today) if started else last_day,
                committed=Money(committed, currency) if started else None,
                paid=Money(paid, currency) if started else None,
                forecast=Money(
                    round_penny(forecast.paid.amount + forecast.daily_rate * (last_day - today).days), currency
                )
                if ahead
                else None,
            )
        )
    return BudgetYear(figures=figures, months=months, forecast=forecast, today=today)

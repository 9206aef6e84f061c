"""The load schedule of a direct payment or individual service fund: pure arithmetic, no database.

Money for a fund is paid in advance, one load per period (28 days unless the fund policy says
otherwise), due on the period's first day (docs/direct-payments.md). The periods lie on a fixed
grid that starts at the fund's *anchor*: the later of the earliest fund line's start and the date
the plan was approved, so days before the approval are never loaded.

A load is what the fund's lines cost in its period. Each line's cost is spread over the periods
by rounding its running total to the penny at every period boundary (half up, like the line's own
cost), so a line's loads add up exactly to what the line costs over the days loaded: no penny is
lost or paid twice however the periods fall.

Re-scheduling when a new plan version is approved keeps the grid: a period already paid is never
changed or paid again; every period not yet paid, from the first unpaid one on, is priced again
from the new version's lines.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from accounts.money import round_penny

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class FundLine:
    """What the schedule needs of a plan line: weekly (units a week between two dates, inclusive)
    or once (a quantity on a date)."""

    unit_price: Decimal
    start: datetime.date
    end: datetime.date
    units_per_week: Decimal | None = None
    quantity: Decimal | None = None

    def exact_cost(self, first: datetime.date, last: datetime.date) -> Decimal:
        """The line's unrounded cost from `first` to `last` inclusive (clipped to its dates)."""
        lo, hi = max(first, self.start), min(last, self.end)
        if hi < lo:
            return Decimal(0)
        if self.units_per_week is None:
            return self.unit_price * self.quantity  # a one-off line's date lies within [lo, hi]
        return self.unit_price * self.units_per_week * ((hi - lo).days + 1) / 7


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    amount: Decimal

    @property
    def due(self) -> datetime.date:
        return self.start


def anchor(lines: Iterable[FundLine], approved_on: datetime.date) -> datetime.date | None:
    """Where a new fund's grid starts: the later of its earliest line and the approval. None when
    the fund has no line left to load after the approval."""
    lines = [line for line in lines if line.end >= approved_on]
    if not lines:
        return None
    return max(min(line.start for line in lines), approved_on)


def periods(
    lines: Iterable[FundLine], *, grid_start: datetime.date, from_date: datetime.date, period_days: int
) -> list[Period]:
    """The loads for every grid period that ends on or after `from_date` (itself a period start)
    up to the last line's end. Each line is loaded only for days on or after `from_date`; its
    share of a period is the change in its running total, rounded at the period's boundaries."""
    lines = list(lines)
    if period_days < 1:
        raise ValueError("A period is at least one day.")
    if (from_date - grid_start).days % period_days:
        raise ValueError("Schedules start on a period boundary.")
    live = [line for line in lines if line.end >= from_date]
    if not live:
        return []
    last_day = max(line.end for line in live)
    result = []
    start = from_date
    while start <= last_day:
        end = start + (period_days - 1) * DAY
        amount = sum(
            (
                round_penny(line.exact_cost(from_date, end)) - round_penny(line.exact_cost(from_date, start - DAY))
                for line in live
            ),
            Decimal(0),
        )
        result.append(Period(start=start, end=end, amount=amount))
        start = end + DAY
    return result


def loaded_total(lines: Iterable[FundLine], *, from_date: datetime.date) -> Decimal:
    """What the loads from `from_date` on add up to: each line's cost over those days, rounded once."""
    return sum(
        (round_penny(line.exact_cost(from_date, line.end)) for line in lines if line.end >= from_date), Decimal(0)
    )


def has_care(lines: Iterable[FundLine], day: datetime.date) -> bool:
    """Whether any of the lines runs on `day`: the days a contribution is charged for."""
    return any(line.start <= day <= line.end for line in lines)


def care_cost(lines: Iterable[FundLine], start: datetime.date, end: datetime.date) -> Decimal:
    """What the lines cost from `start` to `end` inclusive, rounded to the penny once: the cap on a
    period's contribution."""
    return round_penny(sum((line.exact_cost(start, end) for line in lines), Decimal(0)))


@dataclass(frozen=True)
class Charging:
    """From `since` on (until the next one), the person pays `weekly` a week, or (None) the full
    cost of their care: one financial assessment, as the schedule needs it."""

    since: datetime.date
    weekly: Decimal | None


def contribution(
    charging: list[Charging],
    start: datetime.date,
    end: datetime.date,
    cost: Decimal,
    covered: Callable[[datetime.date], bool] | None = None,
) -> Decimal:
    """The person's contribution for the days `start`..`end` (inclusive): each day at the weekly
    figure of the assessment in force that day (a seventh of it), or that day's share of the
    period's care `cost` where they pay the full cost; nothing before the first assessment, nor on a
    day `covered` says no approved plan covers. The care's cost is shared among the covered days
    only: it all falls on them. Never more than `cost`; rounded to the penny (half up) once, for the
    whole period."""
    ordered = sorted(charging, key=lambda c: c.since)
    if end < start or not ordered:
        return Decimal(0)
    days = [start + offset * DAY for offset in range((end - start).days + 1)]
    counted = [day for day in days if covered is None or covered(day)]
    if not counted:
        return Decimal(0)
    total = Decimal(0)
    for day in counted:
        current = None
        for item in ordered:
            if item.since <= day:
                current = item
            else:
                break
        if current is not None:
            total += cost / len(counted) if current.weekly is None else current.weekly / 7
    return min(round_penny(total), cost)


def netted_share(gross: Decimal, owed: Decimal, taken: Decimal) -> Decimal:
    """What a load of `gross` carries of a period's contribution `owed`, when the period's other
    loads already carry `taken`: the rest of what is owed, never below nothing nor above the load
    (the load is then paid `gross` less this). So a period's loads together never carry more than
    is owed, and each load plus its contribution is always its gross."""
    return min(gross, max(owed - taken, Decimal(0)))

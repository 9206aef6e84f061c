"""What a plan line costs: computed, never typed (docs/rules.md, "Care plans").

Dates are inclusive. A weekly line costs unit price × units per week × (end − start + 1 days) / 7,
rounded to the penny (half up) once, at the end; a one-off line costs unit price × quantity.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from accounts.money import round_penny


def days_inclusive(start: datetime.date, end: datetime.date) -> int:
    return (end - start).days + 1


def weekly_cost(unit_price: Decimal, units_per_week: Decimal, start: datetime.date, end: datetime.date) -> Decimal:
    return round_penny(Decimal(unit_price) * Decimal(units_per_week) * days_inclusive(start, end) / 7)


def one_off_cost(unit_price: Decimal, quantity: Decimal) -> Decimal:
    return round_penny(Decimal(unit_price) * Decimal(quantity))


def weekly_rate(unit_price: Decimal, units_per_week: Decimal) -> Decimal:
    """Cost of one full week of a weekly line, for showing people."""
    return round_penny(Decimal(unit_price) * Decimal(units_per_week))


# How many of each unit fit in a week (docs/rules.md, "Care plans"): a weekly line may not buy
# more, so 40 nights of respite a week is refused. A session is part of a day (at most three a
# day); an item has no natural weekly limit, so it has a sense limit.
MAX_UNITS_PER_WEEK = {
    "hour": Decimal(168),
    "session": Decimal(21),
    "day": Decimal(7),
    "night": Decimal(7),
    "week": Decimal(1),
    "item": Decimal(1000),
}
# Storage holds up to 999,999.99 of anything (units a week or a one-off quantity).
MAX_QUANTITY = Decimal("999999.99")


def units_per_week_problem(unit: str, units_per_week: Decimal) -> str | None:
    """Why `units_per_week` of `unit` cannot be bought in a week, or None when they can."""
    limit = MAX_UNITS_PER_WEEK.get(unit)
    if limit is None or units_per_week <= limit:
        return None
    words = f"{unit}s"
    if unit == "session":
        return f"at most {limit:,} {words} a week (three a day)."
    if unit == "item":
        return f"at most {limit:,} {words} a week."
    return f"at most {limit:,} {words} a week (a week has {limit:,})."

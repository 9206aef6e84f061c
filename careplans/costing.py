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

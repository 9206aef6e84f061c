"""The charging rules as one pure function (docs/charging.md): a financial assessment's figures in,
the weekly contribution and every line of its working out. No database, so every rule can be
checked by hand-worked examples.

    assessable = income counted + tariff income − housing costs − disability-related expenditure − MIG
    weekly contribution = max(0, assessable × taper), rounded to the penny

Full cost (no weekly figure; each charge is the period's plan cost) when the person declined the
assessment or their capital is above the upper limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from accounts.money import format_money

PENNY = Decimal("0.01")


@dataclass(frozen=True)
class Rules:
    lower_capital_limit: Decimal
    upper_capital_limit: Decimal
    tariff_step: Decimal
    taper_percent: Decimal
    minimum_income_guarantee: dict[str, Decimal]
    disregarded_income: frozenset[str]


@dataclass(frozen=True)
class Item:
    label: str  # an income kind, or a description of a cost
    weekly_amount: Decimal


@dataclass(frozen=True)
class Result:
    full_cost: bool
    weekly_contribution: Decimal | None
    tariff_income: Decimal
    income_counted: Decimal
    minimum_income_guarantee: Decimal
    explanation: list[tuple[str, Decimal | None]] = field(default_factory=list)


def tariff_income(capital: Decimal, rules: Rules) -> Decimal:
    """£1 a week for every `tariff_step`, or part of one, above the lower limit."""
    above = capital - rules.lower_capital_limit
    if above <= 0:
        return Decimal(0)
    return Decimal(math.ceil(above / rules.tariff_step))


def assess(
    rules: Rules,
    *,
    band: str,
    capital: Decimal,
    income: list[Item],
    housing_costs: list[Item],
    disability_related_expenditure: list[Item],
    declined: bool = False,
    income_labels: dict[str, str] | None = None,
) -> Result:
    labels = income_labels or {}
    mig = rules.minimum_income_guarantee[band]
    lines: list[tuple[str, Decimal | None]] = []
    if declined:
        lines.append(("You chose not to have a financial assessment, so you pay the full cost of your care.", None))
        return Result(True, None, Decimal(0), Decimal(0), mig, lines)
    if capital > rules.upper_capital_limit:
        lines.append(
            (
                f"Your savings and other capital ({format_money(capital)}) are above the upper limit of "
                f"{format_money(rules.upper_capital_limit)}, so you pay the full cost of your care.",
                capital,
            )
        )
        return Result(True, None, Decimal(0), Decimal(0), mig, lines)

    counted = Decimal(0)
    for item in income:
        name = labels.get(item.label, item.label)
        if item.label in rules.disregarded_income:
            lines.append((f"{name} ({format_money(item.weekly_amount)}): not counted (disregarded)", Decimal(0)))
        else:
            lines.append((f"{name}: counted", item.weekly_amount))
            counted += item.weekly_amount
    lines.append(("Weekly income counted", counted))
    tariff = tariff_income(capital, rules)
    if tariff:
        lines.append(
            (
                f"Tariff income: £1 a week for every {format_money(rules.tariff_step)} (or part) of your capital "
                f"({format_money(capital)}) above {format_money(rules.lower_capital_limit)}",
                tariff,
            )
        )
    else:
        lines.append(
            (
                f"Your capital ({format_money(capital)}) is not above {format_money(rules.lower_capital_limit)}: "
                "no tariff income",
                Decimal(0),
            )
        )
    housing = sum((item.weekly_amount for item in housing_costs), Decimal(0))
    for item in housing_costs:
        lines.append((f"Less housing cost: {item.label}", -item.weekly_amount))
    dre = sum((item.weekly_amount for item in disability_related_expenditure), Decimal(0))
    for item in disability_related_expenditure:
        lines.append((f"Less disability-related expenditure: {item.label}", -item.weekly_amount))
    lines.append(("Less the Minimum Income Guarantee for your circumstances", -mig))
    assessable = counted + tariff - housing - dre - mig
    lines.append(("What is left (assessable income)", assessable))
    charged = max(Decimal(0), assessable * rules.taper_percent / Decimal(100)).quantize(PENNY, rounding=ROUND_HALF_UP)
    if rules.taper_percent != 100:
        lines.append((f"Taper: {rules.taper_percent.normalize():f}% of it is charged", charged))
    if assessable <= 0:
        lines.append(("Nothing is left above what you need to live on, so you pay nothing each week.", Decimal(0)))
    lines.append(("Your weekly contribution (never more than the cost of your care)", charged))
    return Result(False, charged, tariff, counted, mig, lines)

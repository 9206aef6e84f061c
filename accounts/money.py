"""The one place that says how money is stored and rounded, for every app.

Amounts are django-money `Money` in pounds sterling by default, stored with two decimal places.
Arithmetic is `Decimal`; anything that is paid or shown is rounded to the penny, half up, as
people expect of money (not banker's rounding).
"""

from decimal import ROUND_HALF_UP, Decimal

from djmoney.models.fields import MoneyField
from djmoney.money import Money

MAX_DIGITS = 14
DECIMAL_PLACES = 2
CURRENCY = "GBP"
CURRENCIES = ("GBP",)
PENNY = Decimal("0.01")


def round_penny(value: Decimal) -> Decimal:
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def whole_pence(value) -> Decimal | None:
    """A `Money`, a money object's dict, a `Decimal` or a decimal string as an amount in whole
    pence, or None when it is not one (not a number, not finite, fractions of a penny, or too large
    to round). Callers add their own bounds and say what is wrong in their own words."""
    if isinstance(value, dict):
        value = value.get("amount")
    if isinstance(value, Money):
        value = value.amount
    try:
        amount = Decimal(str(value))
        if not amount.is_finite() or amount != round_penny(amount):
            return None
    except (ArithmeticError, TypeError, ValueError):
        return None
    return amount


def money(amount: Decimal | int | str, currency: str = CURRENCY) -> Money:
    """A `Money` rounded to the penny."""
    return Money(round_penny(Decimal(amount)), currency)


def zero(currency: str = CURRENCY) -> Money:
    return Money(Decimal("0.00"), currency)


def money_field(**kwargs) -> MoneyField:
    """A `MoneyField` with the project's precision and currency."""
    kwargs.setdefault("max_digits", MAX_DIGITS)
    kwargs.setdefault("decimal_places", DECIMAL_PLACES)
    kwargs.setdefault("default_currency", CURRENCY)
    kwargs.setdefault("currency_choices", [(c, c) for c in CURRENCIES])
    return MoneyField(**kwargs)


def to_pence(value: Money) -> int:
    """Integer pence, for gateways that want them (Stripe). Refuses sub-penny amounts."""
    amount = Decimal(value.amount)
    if amount != round_penny(amount):
        raise ValueError(f"{value} is not a whole number of pence.")
    return int(amount * 100)


def format_money(value: Money | Decimal) -> str:
    """'£1,234.50' — the way a person reads an amount, in pages and PDFs."""
    amount = value.amount if isinstance(value, Money) else Decimal(value)
    sign = "−" if amount < 0 else ""
    return f"{sign}£{abs(round_penny(amount)):,.2f}"

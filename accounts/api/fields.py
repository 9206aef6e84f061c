"""The money shape of docs/api.md, `{"amount": "1234.50", "currency": "GBP"}`, in and out."""

from decimal import Decimal, InvalidOperation

from djmoney.money import Money
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.money import CURRENCIES, DECIMAL_PLACES, MAX_DIGITS, round_penny


@extend_schema_field(
    {
        "type": "object",
        "properties": {"amount": {"type": "string", "example": "1234.50"}, "currency": {"type": "string"}},
        "required": ["amount", "currency"],
    }
)
class MoneyField(serializers.Field):
    default_error_messages = {
        # Doubled braces: DRF formats these messages with str.format.
        "shape": 'Give money as {{"amount": "1234.50", "currency": "GBP"}}.',
        "amount": 'The amount must be a number with at most two decimal places, like "1234.50".',
        "currency": "The currency must be one of: {currencies}.",
        "negative": "The amount must not be negative.",
        "too_big": "The amount is too large.",
    }

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def to_representation(self, value: Money) -> dict:
        return {"amount": f"{round_penny(value.amount):.2f}", "currency": str(value.currency)}

    def to_internal_value(self, data) -> Money:
        if not isinstance(data, dict) or "amount" not in data:
            self.fail("shape")
        currency = data.get("currency", CURRENCIES[0])
        if currency not in CURRENCIES:
            self.fail("currency", currencies=", ".join(CURRENCIES))
        try:
            amount = Decimal(str(data["amount"]))
        except (InvalidOperation, ValueError, TypeError):
            self.fail("amount")
        if not amount.is_finite() or amount.as_tuple().exponent < -DECIMAL_PLACES:
            self.fail("amount")
        if amount < 0 and not self.allow_negative:
            self.fail("negative")
        if abs(amount) >= Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES):
            self.fail("too_big")
        return Money(amount, currency)

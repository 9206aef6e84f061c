"""The money shape of docs/api.md, `{"amount": "1234.50", "currency": "GBP"}`, in and out."""

from decimal import Decimal, InvalidOperation

from djmoney.money import Money
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.money import CURRENCIES, DECIMAL_PLACES, MAX_DIGITS, round_penny

# The largest id a database row can have (ids are 64-bit), for `IntegerField(max_value=ID_MAX)`.
ID_MAX = 2**63 - 1
# The largest amount a money column holds; a field may set a lower `max_amount`.
MONEY_MAX = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES) - Decimal("0.01")


class MoneyField(serializers.Field):
    default_error_messages = {
        # Doubled braces: DRF formats these messages with str.format.
        "shape": 'Give money as {{"amount": "1234.50", "currency": "GBP"}}.',
        "amount": 'The amount must be a number with at most two decimal places, like "1234.50".',
        "currency": "The currency must be one of: {currencies}.",
        "negative": "The amount must not be negative.",
        "too_big": "The amount must be at most {max_amount}.",
    }

    def __init__(self, *, allow_negative: bool = False, max_amount: Decimal = MONEY_MAX, **kwargs):
        self.allow_negative = allow_negative
        self.max_amount = Decimal(max_amount)
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
        if abs(amount) > self.max_amount:
            self.fail("too_big", max_amount=f"{self.max_amount:,.2f}")
        return Money(amount, currency)


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    """Money in the schema as the server treats it: answers always carry `currency`; a request may
    leave it out (it is then GBP). `amount` is a decimal string of at most two places."""

    target_class = MoneyField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        sign = "-?" if field.allow_negative else ""
        return {
            "type": "object",
            "properties": {
                "amount": {
                    "type": "string",
                    "format": "decimal",
                    "pattern": rf"^{sign}[0-9]{{1,{MAX_DIGITS - DECIMAL_PLACES}}}(\.[0-9]{{1,{DECIMAL_PLACES}}})?$",
                    "example": "1234.50",
                    "description": f"At most {field.max_amount:,.2f}.",
                },
                "currency": {"type": "string", "enum": list(CURRENCIES), "default": CURRENCIES[0]},
            },
            "required": ["amount", "currency"] if direction == "response" else ["amount"],
        }


@extend_schema_field({"type": "string", "anyOf": [{"format": "email"}, {"maxLength": 0}]})
class EmailOrBlankField(serializers.CharField):
    """An email address, or blank where none is known: the schema says both, as the data has both."""


@extend_schema_field({"type": "string", "anyOf": [{"format": "uri"}, {"maxLength": 0}]})
class URLOrBlankField(serializers.CharField):
    """A web address, or blank where none is known."""

"""The RAS price editor's form: a draft version's base price per point, minimum and maximum
budget, the date it takes effect, and its price bands as rows of two boxes. Shapes only: the
rules (a draft only, prices above £0, distinct band limits) live in `services.schemes`.

Kept apart from `budgets.forms` because only the administrators' scheme pages use it.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms

from accounts.dates import date_field
from accounts.forms import pounds_field

# Empty band rows offered under the draft's own, to add bands without JavaScript.
SPARE_BANDS = 2


def _band_price(n: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=f"Band {n}: price per point, in pounds",
        required=False,
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={
            "invalid": f"Enter band {n}'s price per point, like 250.00",
            "min_value": f"Band {n}'s price per point must be more than £0",
            "max_digits": f"Enter band {n}'s price per point under £1,000,000",
            "max_decimal_places": f"Enter band {n}'s price per point in pounds and pence, like 250.00",
        },
    )


def _band_limit(n: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=f"Band {n}: up to how many points",
        help_text="Leave blank for a band with no upper limit (at most one)",
        required=False,
        min_value=1,
        max_value=1_000_000,
        error_messages={
            "invalid": f"Enter band {n}'s limit as a whole number of points, like 40",
            "min_value": f"Band {n}'s limit must be 1 point or more",
            "max_value": f"Band {n}'s limit must be under 1,000,000 points",
        },
    )


class SchemePricesForm(forms.Form):
    effective_from = date_field(
        "Takes effect on",
        help_text="The first day new assessments are priced with this version, once it is published. "
        "For example, 1 4 2027",
        required_message="Enter the date this version takes effect",
        noun="The date it takes effect",
    )
    price_per_point = pounds_field(
        "Base price per point, in pounds",
        noun="price per point",
        required_message="Enter the base price per point",
        example="250.00",
        help_text="Points above every band are priced at this",
    )
    min_budget = forms.DecimalField(
        label="Minimum budget a year, in pounds",
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        error_messages={
            "required": "Enter the minimum budget",
            "invalid": "Enter the minimum budget as an amount, like 2000.00",
            "min_value": "The minimum budget must be £0 or more",
            "max_digits": "Enter a minimum budget under £100,000,000",
            "max_decimal_places": "Enter the minimum budget in pounds and pence, like 2000.00",
        },
    )
    max_budget = forms.DecimalField(
        label="Maximum budget a year, in pounds",
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={
            "required": "Enter the maximum budget",
            "invalid": "Enter the maximum budget as an amount, like 60000.00",
            "min_value": "The maximum budget must be more than £0",
            "max_digits": "Enter a maximum budget under £100,000,000",
            "max_decimal_places": "Enter the maximum budget in pounds and pence, like 60000.00",
        },
    )

    def __init__(self, *args, band_rows: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.band_rows = band_rows
        for n in range(1, band_rows + 1):
            self.fields[f"band_{n}_up_to"] = _band_limit(n)
            self.fields[f"band_{n}_price"] = _band_price(n)

    def band_pairs(self):
        """(limit field, price field) per row, for the template."""
        return [(self[f"band_{n}_up_to"], self[f"band_{n}_price"]) for n in range(1, self.band_rows + 1)]

    def clean(self):
        cleaned = super().clean()
        for n in range(1, self.band_rows + 1):
            limit, price = cleaned.get(f"band_{n}_up_to"), cleaned.get(f"band_{n}_price")
            if limit is not None and price is None and f"band_{n}_price" not in self.errors:
                self.add_error(f"band_{n}_price", f"Enter band {n}'s price per point, or clear its limit too")
        return cleaned

    def bands(self) -> list[tuple[int | None, Decimal]]:
        """The rows with a price: (limit or None for no upper limit, price). Rows left blank are dropped."""
        rows = []
        for n in range(1, self.band_rows + 1):
            price = self.cleaned_data.get(f"band_{n}_price")
            if price is not None:
                rows.append((self.cleaned_data.get(f"band_{n}_up_to"), price))
        return rows

    @staticmethod
    def initial_for(scheme, bands) -> dict:
        initial = {
            "effective_from": scheme.effective_from,
            "price_per_point": scheme.price_per_point.amount,
            "min_budget": scheme.min_budget.amount,
            "max_budget": scheme.max_budget.amount,
        }
        for n, band in enumerate(bands, start=1):
            initial[f"band_{n}_up_to"] = band.up_to_points
            initial[f"band_{n}_price"] = band.price_per_point.amount
        return initial

"""Forms for provider staff and case managers. Shapes only; rules live in `providers.services`."""

from decimal import Decimal

from django import forms

from accounts.money import DECIMAL_PLACES, MAX_DIGITS
from accounts.text import FreeTextFormField, NameFormField

from .models import RegulatorRating, ServiceCategory, ServiceUnit
from .validators import validate_cqc_location_id, validate_phone, validate_postcode


def _districts(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


# The contact fields a provider's own profile and a case manager's "add a provider" share.
def _name_field() -> forms.CharField:
    return NameFormField(label="Organisation name", max_length=200, error_messages={"required": "Enter the name"})


def _postcode_field() -> forms.CharField:
    return forms.CharField(
        label="Postcode",
        required=False,
        max_length=10,
        validators=[validate_postcode],
        error_messages={"max_length": "Enter a real postcode, like NF1 4QT"},
    )


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label="Phone",
        required=False,
        max_length=40,
        validators=[validate_phone],
        error_messages={"max_length": "Enter a UK telephone number, like 01632 960 001"},
    )


def _email_field() -> forms.EmailField:
    # Bounded by the column (Django's validator allows 320 characters; PostgreSQL would refuse the row).
    return forms.EmailField(
        label="Email",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "Enter an email address, like name@example.org",
            "max_length": "Keep the email address to 254 characters",
        },
    )


class ServiceForm(forms.Form):
    title = NameFormField(label="Title", max_length=200, error_messages={"required": "Enter a title"})
    category = forms.ChoiceField(label="Type of support", choices=ServiceCategory.choices)
    unit = forms.ChoiceField(label="Charged per", choices=ServiceUnit.choices)
    unit_price = forms.DecimalField(
        label="Price per unit, in pounds",
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        min_value=Decimal("0.01"),
        error_messages={
            "required": "Enter the price",
            "invalid": "Enter the price as an amount, like 24.50",
            "min_value": "The price must be more than £0",
            "max_decimal_places": "Enter the price in pounds and pence, like 24.50",
        },
    )
    postcode_districts = forms.CharField(
        label="Postcode districts served",
        required=False,
        help_text="The first part of each postcode, separated by spaces or commas, like NF1 NF2",
    )
    description = FreeTextFormField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def districts(self) -> list[str]:
        return _districts(self.cleaned_data.get("postcode_districts", ""))


class ProfileForm(forms.Form):
    name = _name_field()
    description = FreeTextFormField(
        label="About the organisation", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    address = FreeTextFormField(label="Address", required=False, max_length=300)
    postcode = _postcode_field()
    phone = _phone_field()
    email = _email_field()
    website = forms.URLField(
        label="Website",
        required=False,
        assume_scheme="https",
        max_length=200,  # the column's (the validator allows 2,048 characters)
        error_messages={
            "invalid": "Enter a website address, like https://www.example.org",
            "max_length": "Keep the website address to 200 characters",
        },
    )
    areas_served = forms.CharField(
        label="Postcode districts served", required=False, help_text="Like NF1 NF2, separated by spaces or commas"
    )

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data["areas_served"] = _districts(data.get("areas_served", ""))
        return data


class ProviderAddForm(forms.Form):
    name = _name_field()
    postcode = _postcode_field()
    email = _email_field()
    phone = _phone_field()
    regulator_id = forms.CharField(
        label="CQC location ID (optional)",
        help_text="1- and then digits, like 1-123456789",
        required=False,
        max_length=30,
        validators=[validate_cqc_location_id],
        error_messages={"max_length": "Enter a CQC location ID: 1- and then digits, like 1-123456789"},
    )
    regulator_rating = forms.ChoiceField(
        label="CQC rating", choices=RegulatorRating.choices, initial=RegulatorRating.NOT_YET_RATED
    )


class ReasonForm(forms.Form):
    reason = FreeTextFormField(
        label="Reason",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

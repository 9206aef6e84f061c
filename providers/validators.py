"""Sense checks for a provider's contact details and regulator registration, shared by the forms,
the API, the services and the imports, so a provider saved any way has a postcode, phone number
and CQC location ID a person could use.

Each `clean_*` returns the value in its usual written form, or raises `ValueError` with a message
in plain English; an empty value is allowed (the fields are optional) and returned empty.
"""

from __future__ import annotations

import re

# A full UK postcode: outward code (area letters, district) and inward code (sector digit, unit
# letters), like NF1 4QT, SW1A 1AA, B33 8TH, W1A 0AX, M1 1AE, CR2 6XH; also the Girobank GIR 0AA.
POSTCODE_RE = re.compile(r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA)$")
# A UK telephone number: 10 or 11 digits from 0, or +44 and 9 or 10 digits (the leading 0 dropped).
PHONE_ALLOWED_RE = re.compile(r"^[0-9+()\- ]+$")
PHONE_DIGITS_RE = re.compile(r"^(?:0[0-9]{9,10}|\+44[1-9][0-9]{8,9})$")
# A CQC location ID: "1-" and digits, like 1-123456789.
CQC_LOCATION_RE = re.compile(r"^1-[0-9]{1,27}$")

POSTCODE_MESSAGE = "Enter a real postcode, like NF1 4QT"
PHONE_MESSAGE = "Enter a UK telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
CQC_MESSAGE = "Enter a CQC location ID: 1- and then digits, like 1-123456789"


def clean_postcode(value: str | None) -> str:
    """The postcode upper-cased with one space before the last three characters."""
    squeezed = "".join((value or "").split()).upper()
    if not squeezed:
        return ""
    if not POSTCODE_RE.match(squeezed):
        raise ValueError(POSTCODE_MESSAGE)
    return f"{squeezed[:-3]} {squeezed[-3:]}"


def clean_phone(value: str | None) -> str:
    """The number as typed (spaces kept), once it has only digits, spaces, brackets, dashes and a
    leading +, and they make a UK number."""
    value = " ".join((value or "").split())
    if not value:
        return ""
    digits = re.sub(r"[()\- ]", "", value)
    if not PHONE_ALLOWED_RE.match(value) or "+" in digits[1:] or not PHONE_DIGITS_RE.match(digits):
        raise ValueError(PHONE_MESSAGE)
    return value


def clean_cqc_location_id(value: str | None) -> str:
    value = "".join((value or "").split())
    if not value:
        return ""
    if not CQC_LOCATION_RE.match(value):
        raise ValueError(CQC_MESSAGE)
    return value


def is_valid(cleaner, value) -> bool:
    try:
        cleaner(value)
    except ValueError:
        return False
    return True


def django_validator(cleaner):
    """The check as a Django/DRF field validator (raises Django's `ValidationError`)."""
    from django.core.exceptions import ValidationError

    def validate(value):
        try:
            cleaner(value)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    validate.__name__ = f"validate_{cleaner.__name__.removeprefix('clean_')}"
    return validate


validate_postcode = django_validator(clean_postcode)
validate_phone = django_validator(clean_phone)
validate_cqc_location_id = django_validator(clean_cqc_location_id)

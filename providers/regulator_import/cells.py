"""Checking one cell of a regulator file: the CQC's dates, websites, postcodes and lengths.

Each check returns the cleaned value, or None when the cell is unusable, so the row it is in can
be skipped with a reason instead of failing the whole file.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ..models import Provider
from ..services import DISTRICT_RE

__all__ = [
    "CQC_DATE_RE",
    "MONTHS",
    "NUMERIC_DATE_RE",
    "POSTCODE_RE",
    "SCHEME_RE",
    "normalise_website",
    "outward_code",
    "parse_cqc_date",
    "parse_publication_date",
]

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
CQC_DATE_RE = re.compile(r"(\d{1,2})/([A-Za-z]{3})/(\d{4})(?:\s*-\s*(\d{1,2}):(\d{2}))?")
NUMERIC_DATE_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
POSTCODE_RE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})")
_url_validator = URLValidator(schemes=["http", "https"])


def _field_max(name: str) -> int:
    return Provider._meta.get_field(name).max_length


def parse_cqc_date(value: str) -> datetime.date | None:
    """The date of a check as the directory publishes it, "06/Aug/2019 - 10:15" (the time may be
    left off), or None."""
    match = CQC_DATE_RE.fullmatch(value.strip())
    if not match:
        return None
    day, month, year, hour, minute = match.groups()
    if month.lower() not in MONTHS or (hour is not None and (int(hour) > 23 or int(minute) > 59)):
        return None
    try:
        return datetime.date(int(year), MONTHS[month.lower()], int(day))
    except ValueError:
        return None


def parse_publication_date(value: str) -> datetime.date | None:
    """2024-05-01, 01/05/2024 (day first, as in the UK) or 01/May/2024."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    match = NUMERIC_DATE_RE.fullmatch(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return datetime.date(year, month, day)
        except ValueError:
            return None
    match = CQC_DATE_RE.fullmatch(value)
    if match and match.group(4) is None:
        return parse_cqc_date(value)
    return None


def normalise_website(value: str) -> str | None:
    """A website with its scheme ("www.example.org" → "https://www.example.org"), "" for none, or
    None if it is not a web address."""
    value = value.strip()
    if not value:
        return ""
    if not SCHEME_RE.match(value):
        value = "https://" + value
    try:
        _url_validator(value)
    except ValidationError:
        return None
    return value


def outward_code(postcode: str) -> str | None:
    """The district a postcode is in ("NF1 1AA" → "NF1"), or None if it is not a UK postcode."""
    match = POSTCODE_RE.fullmatch(postcode)
    if match and DISTRICT_RE.fullmatch(match.group(1)):
        return match.group(1)
    return None


def too_long(values: dict[str, Any], labels: dict[str, str]) -> str | None:
    """Why a row cannot be saved because a value exceeds its `Provider` field's length, or None:
    checked here so the row is skipped with a reason rather than refused by the database mid-import."""
    for name, label in labels.items():
        limit = _field_max(name)
        if isinstance(values.get(name), str) and len(values[name]) > limit:
            return f"the {label} is longer than {limit} characters."
    return None

"""The two files the CQC publishes that we import: the care directory and the ratings.

For each: the columns it has, and what makes one of its rows good (a `Location` or a `Rating`
ready to write) or the reason it is skipped. Nothing here touches the database beyond reading
field lengths and rating choices, so a whole file is checked before `writing` starts.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..models import RegulatorRating
from ..validators import clean_cqc_location_id, clean_phone, clean_postcode, is_valid
from .cells import normalise_website, outward_code, parse_cqc_date, parse_publication_date, too_long
from .csv_table import Column, Row, normalise_header, read_table
from .progress import Progress, ProgressCallback

__all__ = [
    "DIRECTORY_COLUMNS",
    "DIRECTORY_FIELDS",
    "DIRECTORY_LABELS",
    "RATINGS_COLUMNS",
    "RATING_BY_NAME",
    "Location",
    "Rating",
    "parse_directory",
    "parse_ratings",
]


def _check_rows(
    text: str,
    columns: Iterable[Column],
    parse_row: Callable[[Row, dict[str, int]], Any],
    description: str,
    progress: ProgressCallback | None,
) -> tuple[list[Any], list[tuple[int, str]], int]:
    """Read the table and run `parse_row` on each row: it returns the parsed row (which has
    `regulator_id`) or the reason to skip it. It is given the line each location ID was first
    seen on, so a location given twice is imported once, from its first line."""
    rows, skipped = read_table(text, columns, description=description)
    counter = Progress(progress, len(rows) + len(skipped), "checked")
    for _ in skipped:
        counter.step()
    good: list[Any] = []
    first_line: dict[str, int] = {}
    for row in rows:
        counter.step()
        result = parse_row(row, first_line)
        if isinstance(result, str):
            skipped.append((row.line, result))
        else:
            first_line[result.regulator_id] = row.line
            good.append(result)
    counter.finish()
    return good, skipped, counter.total


# ---------------------------------------------------------------------------------------------
# The care directory

DIRECTORY_COLUMNS = (
    Column("name", "Name"),
    Column("address", "Address"),
    Column("postcode", "Postcode"),
    Column("phone", "Phone number"),
    Column("website", "Service's website (if available)", aliases=("Service’s website (if available)", "Website")),
    Column("checked", "Date of latest check"),
    Column("location_id", "CQC Location ID (for office use only)", aliases=("CQC Location ID", "Location ID")),
    Column("provider_id", "CQC Provider ID (for office use only)", aliases=("CQC Provider ID", "Provider ID")),
    # Published and recognised (so the header is found), but not imported.
    Column("also_known_as", "Also known as", required=False),
    Column("service_types", "Service types", required=False),
    Column("specialisms", "Specialisms/services", required=False),
    Column("provider_name", "Provider name", required=False),
    Column("local_authority", "Local authority", required=False),
    Column("region", "Region", required=False),
    Column("location_url", "Location URL", required=False),
)
# Fields a directory row fills; an empty cell leaves what is recorded.
DIRECTORY_FIELDS = (
    "name", "address", "postcode", "phone", "website", "regulator_provider_id", "regulator_checked_at",
)  # fmt: skip
DIRECTORY_LABELS = {
    "name": "name",
    "address": "address",
    "postcode": "postcode",
    "phone": "phone number",
    "website": "website",
    "regulator_id": "CQC location ID",
    "regulator_provider_id": "CQC provider ID",
}


@dataclass
class Location:
    """One good directory row, ready to write."""

    line: int
    regulator_id: str
    fields: dict[str, Any]  # the DIRECTORY_FIELDS given (non-empty) in the row
    district: str | None


def parse_directory(
    text: str, *, progress: ProgressCallback | None = None
) -> tuple[list[Location], list[tuple[int, str]], int]:
    """Check a whole care directory file. Returns the good rows, (line, reason) for each row
    skipped, and the number of rows read. Raises `RegulatorFileInvalid` if the file is unusable."""
    return _check_rows(text, DIRECTORY_COLUMNS, _directory_row, "the CQC care directory", progress)


def _directory_row(row: Row, first_line: dict[str, int]) -> Location | str:
    """A good row, or why it is skipped."""
    cells = row.values
    location_id = cells["location_id"]
    if not location_id:
        return "no CQC location ID."
    if not is_valid(clean_cqc_location_id, location_id):
        return f"“{location_id}” is not a CQC location ID (1- and then digits, like 1-123456789)."
    if location_id in first_line:
        return f"CQC location ID {location_id} is already on line {first_line[location_id]}; only that row is imported."
    if not cells["name"]:
        return f"no name for CQC location ID {location_id}."
    checked = None
    if cells["checked"]:
        checked = parse_cqc_date(cells["checked"])
        if checked is None:
            return f"“{cells['checked']}” is not a date of latest check like 06/Aug/2019 - 10:15."
    website = normalise_website(cells["website"])
    if website is None:
        return f"“{cells['website']}” is not a website address."
    try:
        postcode = clean_postcode(cells["postcode"])
    except ValueError:
        return f"“{cells['postcode']}” is not a postcode."
    try:
        phone = clean_phone(cells["phone"])
    except ValueError:
        return f"“{cells['phone']}” is not a UK telephone number."
    values = {
        "name": " ".join(cells["name"].split()),
        "address": " ".join(cells["address"].split()),
        "postcode": postcode,
        "phone": phone,
        "website": website,
        "regulator_provider_id": cells["provider_id"],
        "regulator_checked_at": checked,
        "regulator_id": location_id,
    }
    problem = too_long(values, DIRECTORY_LABELS)
    if problem:
        return problem
    given = {k: values[k] for k in DIRECTORY_FIELDS if values[k] not in ("", None)}
    return Location(row.line, location_id, given, outward_code(postcode))


# ---------------------------------------------------------------------------------------------
# Ratings

RATINGS_COLUMNS = (
    Column("location_id", "Location ID", aliases=("CQC Location ID", "CQC Location ID (for office use only)")),
    Column("rating", "Overall rating", aliases=("Latest rating", "Rating")),
    Column("published", "Publication date"),
)
RATING_BY_NAME = {normalise_header(label): value for value, label in RegulatorRating.choices}


@dataclass
class Rating:
    line: int
    regulator_id: str
    rating: str
    published: datetime.date | None


def parse_ratings(
    text: str, *, progress: ProgressCallback | None = None
) -> tuple[list[Rating], list[tuple[int, str]], int]:
    """Check a whole ratings file: the good rows, (line, reason) per row skipped, rows read."""
    return _check_rows(text, RATINGS_COLUMNS, _ratings_row, "a CQC ratings file", progress)


def _ratings_row(row: Row, first_line: dict[str, int]) -> Rating | str:
    cells = row.values
    location_id = cells["location_id"]
    if not location_id:
        return "no location ID."
    if location_id in first_line:
        return f"location ID {location_id} is already on line {first_line[location_id]}; only that row is imported."
    rating = RATING_BY_NAME.get(normalise_header(cells["rating"]))
    if rating is None:
        names = ", ".join(label for _, label in RegulatorRating.choices)
        return f"“{cells['rating']}” is not an overall rating; use one of: {names}."
    published = None
    if cells["published"]:
        published = parse_publication_date(cells["published"])
        if published is None:
            return f"“{cells['published']}” is not a publication date like 2024-05-01, 01/05/2024 or 01/May/2024."
    elif rating != RegulatorRating.NOT_YET_RATED:
        return f"no publication date for the {RegulatorRating(rating).label} rating."
    return Rating(row.line, location_id, rating, published)

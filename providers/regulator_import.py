"""Importing the Care Quality Commission's data: its care directory (locations) and its ratings.

Two steps, in the house style of `budgets.ras_io`:
1. Read and check the whole file. A file we cannot use at all (unreadable, no header row, a
   required column missing or given twice) is refused with `RegulatorFileInvalid` and nothing is
   written. A row we cannot use (no location ID, no name, a bad date, a location ID already given
   on an earlier line...) is only skipped, with "line N: reason"; the other rows go ahead.
2. Write every good row in one transaction, auditing each provider created or updated.

Matching: a provider is the CQC *location* (its `regulator_id`), so importing the same file twice
creates nothing new — the second run reports every row as unchanged. An empty cell never erases
what is recorded (a provider's own website stays when the directory has none). New providers are
pending checks (the model's default); the directory import never touches a provider's status or
any rating, and the ratings import touches only `regulator_rating` and `regulator_rating_date`.

Line numbers are the file's own (the directory's preamble lines count), so an operator can open
the file at the line named. Column names are matched ignoring case and whitespace.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction

from accounts.exceptions import ActionNotAllowed, InvalidInput
from accounts.models import AuditAction, User
from accounts.services import audit_record

from .models import Provider, RegulatorRating
from .permissions import can_add_providers
from .services import DISTRICT_RE

ENCODING = "utf-8-sig"
PROGRESS_EVERY = 1_000
BATCH = 1_000  # existing providers are read this many location IDs at a time
HEADER_SEARCH_LINES = 20  # the header is looked for among the first rows (the directory has 4 lines of preamble)
DIRECTORY_SOURCE = "Imported from the CQC care directory"
RATINGS_SOURCE = "Imported from CQC ratings"

# Progress: `progress(done, total, stage)` with stage "checked" (while reading the file) or
# "written" (while saving), every PROGRESS_EVERY rows and once at the end of each stage.
ProgressCallback = Callable[[int, int, str], None]


class RegulatorFileInvalid(InvalidInput):
    default_message = "The file cannot be imported; nothing was written."


@dataclass
class ImportReport:
    """What an import did. `skipped` holds one "line N: reason" per row that was not imported."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.rows:,} {'row' if self.rows == 1 else 'rows'}: {self.created:,} created, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged, {len(self.skipped):,} skipped."
        )

    def __str__(self) -> str:
        return "\n".join([self.summary(), *(f"  {reason}" for reason in self.skipped)])


# ---------------------------------------------------------------------------------------------
# Reading a CSV file with a header row somewhere near the top


@dataclass(frozen=True)
class Column:
    """A column we read: its name as published, other names accepted, and whether the file is
    refused without it."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def names(self) -> set[str]:
        return {normalise_header(n) for n in (self.name, *self.aliases)}


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


def normalise_header(value: str) -> str:
    """The key a column name is matched by: case and every kind of whitespace are ignored, so
    "CQC Location ID (for office use only)" and " cqc location id(for office use only) " match."""
    return "".join(value.split()).casefold()


def _read_text(text_or_path: str | bytes | os.PathLike) -> str:
    """A path (`pathlib.Path` or any path-like) is read from disk; a `str` is the file's text;
    `bytes` are its content. Either way UTF-8, with or without a byte-order mark."""
    if isinstance(text_or_path, os.PathLike):
        path = Path(text_or_path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RegulatorFileInvalid(f"Cannot read {path}: {exc.strerror or exc}.", field="file") from exc
    elif isinstance(text_or_path, bytes):
        data = text_or_path
    else:
        return text_or_path.removeprefix("\ufeff")
    try:
        return data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise RegulatorFileInvalid(
            f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read). Save it as CSV UTF-8 and try again.",
            field="file",
        ) from exc


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the file line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise RegulatorFileInvalid(
            f"line {reader.line_num}: the file is not readable CSV ({exc}).", field="file"
        ) from exc


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def read_table(text: str, columns: Iterable[Column], *, description: str) -> tuple[list[Row], list[tuple[int, str]]]:
    """Find the header row, check the columns, and return every data row (blank lines dropped)
    with its cells keyed by `Column.key`, and (line, reason) for each row with the wrong number of
    cells.

    Raises `RegulatorFileInvalid` if no header row is found, or a required column is missing or
    given twice — before any row is looked at, so nothing is written."""
    columns = list(columns)
    wanted = {name: col for col in columns for name in col.names()}
    records = _csv_rows(text)
    header: list[str] | None = None
    header_line = 0
    for line, cells in records:
        if _blank(cells):
            continue
        matches = {wanted[normalise_header(c)].key for c in cells if normalise_header(c) in wanted}
        if len(matches) >= min(2, len(columns)):
            header, header_line = cells, line
            break
        if line > HEADER_SEARCH_LINES:
            break
    if header is None:
        raise RegulatorFileInvalid(
            f"No header row found in the first {HEADER_SEARCH_LINES} lines: this does not look like {description}. "
            f"The header row names the columns: {', '.join(c.name for c in columns)}.",
            field="file",
        )

    positions: dict[str, list[int]] = {}
    for index, cell in enumerate(header):
        col = wanted.get(normalise_header(cell))
        if col is not None:
            positions.setdefault(col.key, []).append(index)
    problems = []
    missing = [c.name for c in columns if c.required and c.key not in positions]
    if missing:
        problems.append(
            f"line {header_line}: the header has no {' or '.join(f'“{m}”' for m in missing)} "
            f"{'column' if len(missing) == 1 else 'columns'}."
        )
    for col in columns:
        if len(positions.get(col.key, ())) > 1:
            problems.append(f"line {header_line}: the “{col.name}” column is given twice.")
    if problems:
        raise RegulatorFileInvalid(errors={"file": problems})

    index_of = {key: found[0] for key, found in positions.items()}
    width = len(header)
    rows, skipped = [], []
    for line, cells in records:
        if _blank(cells):
            continue  # blank lines, trailing ones above all, are not rows
        if len(cells) < width or any(cell.strip() for cell in cells[width:]):
            skipped.append((line, f"this row has {len(cells)} cells but the header has {width}."))
            continue
        rows.append(Row(line, {key: cells[i].strip() for key, i in index_of.items()}))
    return rows, skipped


class _Progress:
    def __init__(self, callback: ProgressCallback | None, total: int, stage: str):
        self.callback, self.total, self.stage, self.done = callback, total, stage, 0

    def step(self) -> None:
        self.done += 1
        if self.callback and self.done % PROGRESS_EVERY == 0:
            self.callback(self.done, self.total, self.stage)

    def finish(self) -> None:
        if self.callback and self.done % PROGRESS_EVERY:
            self.callback(self.done, self.total, self.stage)


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
    counter = _Progress(progress, len(rows) + len(skipped), "checked")
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


def _reasons(skipped: list[tuple[int, str]]) -> list[str]:
    return [f"line {line}: {reason}" for line, reason in sorted(skipped, key=lambda item: item[0])]


# ---------------------------------------------------------------------------------------------
# Checking cells

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


def _too_long(values: dict[str, Any], labels: dict[str, str]) -> str | None:
    for name, label in labels.items():
        limit = _field_max(name)
        if isinstance(values.get(name), str) and len(values[name]) > limit:
            return f"the {label} is longer than {limit} characters."
    return None


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
    postcode = " ".join(cells["postcode"].upper().split())
    values = {
        "name": " ".join(cells["name"].split()),
        "address": " ".join(cells["address"].split()),
        "postcode": postcode,
        "phone": cells["phone"],
        "website": website,
        "regulator_provider_id": cells["provider_id"],
        "regulator_checked_at": checked,
        "regulator_id": location_id,
    }
    problem = _too_long(values, DIRECTORY_LABELS)
    if problem:
        return problem
    given = {k: values[k] for k in DIRECTORY_FIELDS if values[k] not in ("", None)}
    return Location(row.line, location_id, given, outward_code(postcode))


def _existing(regulator_ids: list[str]) -> dict[str, Provider]:
    """The providers already recorded for these location IDs, locked until the import commits."""
    found: dict[str, Provider] = {}
    for start in range(0, len(regulator_ids), BATCH):
        chunk = regulator_ids[start : start + BATCH]
        for provider in Provider.objects.select_for_update().filter(regulator_id__in=chunk):
            found[provider.regulator_id] = provider
    return found


def _check_actor(actor: User | None, what: str) -> None:
    """`actor=None` is the command line, run by an operator."""
    if actor is not None and not can_add_providers(actor):
        raise ActionNotAllowed(f"Only administrators and case managers can import {what}.")


def import_cqc_directory(
    *,
    text_or_path: str | bytes | os.PathLike,
    actor: User | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Create or update providers from the CQC care directory CSV, keyed by CQC location ID.

    Enforces: administrators and case managers only (or the command line, `actor=None`); the
    whole file is read and checked before anything is written, and an unusable file raises
    `RegulatorFileInvalid`; bad rows are skipped with their line and reason. Writes every good
    row in one transaction, locking the providers it may change; each provider created or updated
    gets an audit row. New providers are pending; no status or rating is changed. Queues nothing.
    """
    _check_actor(actor, "the CQC care directory")
    locations, skipped, total = parse_directory(_read_text(text_or_path), progress=progress)
    report = ImportReport(rows=total, skipped=_reasons(skipped))
    counter = _Progress(progress, len(locations), "written")
    with transaction.atomic():
        existing = _existing([loc.regulator_id for loc in locations])
        new: list[Location] = []
        for location in locations:
            counter.step()
            provider = existing.get(location.regulator_id)
            if provider is None:
                new.append(location)
                if len(new) == BATCH:
                    report.created += _create_from_directory(new, actor)
                    new = []
            elif _update_provider(
                provider, _directory_changes(provider, location), actor, f"{DIRECTORY_SOURCE}, line {location.line}"
            ):
                report.updated += 1
            else:
                report.unchanged += 1
        report.created += _create_from_directory(new, actor)
    counter.finish()
    return report


def _create_from_directory(locations: list[Location], actor: User | None) -> int:
    """Insert new providers a batch at a time and audit each. A batch insert halves the time a
    national directory takes; it needs the database to give back the new ids (PostgreSQL and
    SQLite 3.35+ do), so elsewhere the rows are inserted one by one."""
    unsaved = [
        Provider(
            regulator_id=location.regulator_id,
            areas_served=[location.district] if location.district else [],
            **location.fields,
        )
        for location in locations
    ]
    if connection.features.can_return_rows_from_bulk_insert:
        providers = Provider.objects.bulk_create(unsaved)
    else:
        providers = unsaved
        for provider in providers:
            provider.save()
    for location, provider in zip(locations, providers, strict=True):
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=provider,
            changes={"name": provider.name, "regulator_id": provider.regulator_id},
            message=f"{DIRECTORY_SOURCE}, line {location.line}",
        )
    return len(providers)


def _directory_changes(provider: Provider, location: Location) -> dict[str, Any]:
    changes = {k: v for k, v in location.fields.items() if getattr(provider, k) != v}
    if not provider.areas_served and location.district:
        changes["areas_served"] = [location.district]
    return changes


def _update_provider(provider: Provider, changes: dict[str, Any], actor: User | None, source: str) -> bool:
    """Save the changed fields (never the status) and audit them; False if nothing changed."""
    if not changes:
        return False
    before = {k: str(getattr(provider, k)) for k in changes}
    for key, value in changes.items():
        setattr(provider, key, value)
    provider.save(update_fields=[*changes, "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=provider,
        changes={k: {"from": before[k], "to": str(getattr(provider, k))} for k in changes},
        message=source,
    )
    return True


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


def import_regulator_ratings(
    *,
    text_or_path: str | bytes | os.PathLike,
    actor: User | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Set the CQC overall rating and its publication date of providers already recorded.

    Enforces: administrators and case managers only (or the command line, `actor=None`); the
    whole file is checked first (`RegulatorFileInvalid` if unusable, nothing written); rows for
    location IDs no provider has are skipped with a reason. Writes in one transaction, locking
    the providers it changes; each change is audited. Only `regulator_rating` and
    `regulator_rating_date` change. Queues nothing.
    """
    _check_actor(actor, "CQC ratings")
    ratings, skipped, total = parse_ratings(_read_text(text_or_path), progress=progress)
    report = ImportReport(rows=total)
    counter = _Progress(progress, len(ratings), "written")
    with transaction.atomic():
        existing = _existing([r.regulator_id for r in ratings])
        for rating in ratings:
            counter.step()
            provider = existing.get(rating.regulator_id)
            if provider is None:
                skipped.append((rating.line, f"no provider has CQC location ID {rating.regulator_id}."))
                continue
            changes = {
                k: v
                for k, v in (("regulator_rating", rating.rating), ("regulator_rating_date", rating.published))
                if getattr(provider, k) != v
            }
            if _update_provider(provider, changes, actor, f"{RATINGS_SOURCE}, line {rating.line}"):
                report.updated += 1
            else:
                report.unchanged += 1
    counter.finish()
    report.skipped = _reasons(skipped)
    return report

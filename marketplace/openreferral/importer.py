"""Importing another directory's Open Referral UK services (`manage.py import_openreferral FILE`;
docs/open-data.md). The house pattern of the regulator import, in two steps:

1. Read and check the whole file. The file holds `/services/{id}` bodies, one JSON object per line
   or one JSON list (a saved `/services` page, `{"contents": [...]}`, is read too). Anything that
   is not a service body Cairn can read — bad JSON, a service without an id, a name or a known
   status, without its organization's id and name, an id given twice — refuses the whole file,
   listing every problem with its position (line, or item in a list); nothing is written.
2. Write every good service in one transaction through `providers.imported`: unknown providers
   arrive pending (never published until a case manager verifies them), providers and services
   are keyed by their ORUK ids and updated in place on re-import. A service Cairn cannot take (no
   price, a CQC location ID another provider has, a new one not active) is skipped with its reason.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from djmoney.money import Money

from accounts.exceptions import InvalidInput
from accounts.models import User
from providers.imported import (
    CREATED,
    NOT_CREATED,
    UNCHANGED,
    UPDATED,
    ImportedProvider,
    ImportedService,
    imported_provider_save,
    imported_service_save,
    imports_check_actor,
    regulator_id_holder,
)
from providers.models import ServiceCategory, ServiceUnit
from providers.regulator_import.progress import Progress, ProgressCallback
from providers.regulator_import.writing import ImportReport
from providers.validators import clean_cqc_location_id, is_valid

from .mapping import CATEGORIES

SOURCE = "Imported from an Open Referral UK directory"
STATUSES = {"active", "inactive", "defunct", "temporarily closed"}
DISTRICT_RE = re.compile(r"(?:POSTCODE DISTRICT )?([A-Z]{1,2}[0-9][A-Z0-9]?)(?: ?[0-9][A-Z]{2})?")
UNIT_RE = re.compile(r"\b(hour|session|day|night|week|item)s?\b|\b(hourly|daily|nightly|weekly)\b", re.IGNORECASE)
ADVERBS = {"hourly": "hour", "daily": "day", "nightly": "night", "weekly": "week"}
DEFAULT_UNIT = ServiceUnit.SESSION


class DirectoryFileInvalid(InvalidInput):
    default_message = "The file cannot be imported; nothing was written."


@dataclass(frozen=True)
class Entry:
    """One service of the file, checked and read into what Cairn records."""

    position: str
    provider: ImportedProvider
    service: ImportedService | None  # None: skipped, for `skip_reason`
    skip_reason: str = ""


@dataclass
class DirectoryImportReport(ImportReport):
    """Services counted as the regulator import counts rows, and the providers beside them."""

    providers_created: int = 0
    providers_updated: int = 0
    providers_unchanged: int = 0

    def summary(self) -> str:
        services = (
            f"{self.rows:,} {'service' if self.rows == 1 else 'services'}: {self.created:,} created, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged, {len(self.skipped):,} skipped"
        )
        return (
            f"{services}; providers: {self.providers_created:,} created (pending checks), "
            f"{self.providers_updated:,} updated, {self.providers_unchanged:,} unchanged."
        )


# --- Step 1: reading and checking ------------------------------------------------------------


def _decode(text_or_path: str | bytes | os.PathLike) -> str:
    if isinstance(text_or_path, os.PathLike):
        try:
            data = Path(text_or_path).read_bytes()
        except OSError as exc:
            raise DirectoryFileInvalid(f"The file cannot be read: {exc.strerror or exc}.") from exc
    else:
        data = text_or_path
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DirectoryFileInvalid(f"The file is not UTF-8 text (byte {exc.start + 1}).") from exc
    return data


def _expand(value, position: str) -> list[tuple[str, object]]:
    """A list, or a saved page's `contents`, is its items; anything else is one service body."""
    if isinstance(value, dict) and isinstance(value.get("contents"), list):
        value = value["contents"]
    if isinstance(value, list):
        prefix = f"{position}, " if position else ""
        return [(f"{prefix}item {i}", item) for i, item in enumerate(value, start=1)]
    return [(position or "the file", value)]


def read_items(text: str, problems: list[str]) -> list[tuple[str, object]]:
    """The service bodies of the file with their positions: one JSON value (a list, a page or one
    service), or else one JSON object per line. JSON that cannot be read is a problem."""
    try:
        return _expand(json.loads(text), "")
    except json.JSONDecodeError as exc:
        whole_file_error = exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(lines) < 2 or not lines[0][1].lstrip().startswith("{"):
        exc = whole_file_error
        problems.append(f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}).")
        return []
    items: list[tuple[str, object]] = []
    for number, line in lines:
        try:
            items += _expand(json.loads(line), f"line {number}")
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}, column {exc.colno}: not valid JSON ({exc.msg}).")
    return items


def _text(body: dict, key: str, where: str, problems: list[str], *, required: bool = False, limit: int = 0) -> str:
    value = body.get(key)
    if value is None or (value == "" and not required):
        if required:
            problems.append(f"{where}: `{key}` is missing.")
        return ""
    if not isinstance(value, str):
        problems.append(f"{where}: `{key}` must be text.")
        return ""
    value = value.strip()
    if required and not value:
        problems.append(f"{where}: `{key}` is empty.")
    if limit and len(value) > limit:
        problems.append(f"{where}: `{key}` is longer than {limit} characters.")
    return value


def _list(body: dict, key: str, where: str, problems: list[str]) -> list[dict]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        problems.append(f"{where}: `{key}` must be a list of objects.")
        return []
    return value


def _valid_or_blank(value: str, validator) -> str:
    try:
        validator(value)
    except ValidationError:
        return ""
    return value


def _category(attributes: list[dict]) -> str:
    """The first attribute whose term is one of Cairn's categories (by id, code or name), else other."""
    by_name = {str(label).lower(): code for code, label in ServiceCategory.choices}
    for attribute in attributes:
        term = attribute.get("taxonomy_term") if isinstance(attribute.get("taxonomy_term"), dict) else {}
        for code in ServiceCategory.values:
            if attribute.get("taxonomy_term_id") == str(CATEGORIES.term_id(code)) or term.get("term") == code:
                return code
        name = str(term.get("name", "")).strip().lower()
        if name in by_name:
            return by_name[name]
    return ServiceCategory.OTHER


def _districts(areas: list[dict]) -> tuple[str, ...]:
    found: list[str] = []
    for area in areas:
        for key in ("name", "service_area"):
            match = DISTRICT_RE.fullmatch(str(area.get(key) or "").strip().upper())
            if match and match.group(1) not in found:
                found.append(match.group(1))
    return tuple(found)


def _price(cost_options: list[dict], where: str, problems: list[str]) -> tuple[Money | None, str, str]:
    """The first cost option with an amount: its price and unit, or a reason Cairn cannot take it."""
    for option in cost_options:
        amount = option.get("amount")
        if amount is None:
            continue
        if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
            problems.append(f"{where}: a cost option's `amount` must be a number.")
            return None, "", ""
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            problems.append(f"{where}: a cost option's `amount` must be a number.")
            return None, "", ""
        if value <= 0:
            return None, "", f"its price is £{value}: Cairn lists services with a price above £0."
        if value != value.quantize(Decimal("0.01")):
            return None, "", f"its price {value} is not in pounds and pence."
        match = UNIT_RE.search(str(option.get("amount_description") or ""))
        unit = (match.group(1) or ADVERBS[match.group(2).lower()]).lower() if match else DEFAULT_UNIT
        return Money(value, "GBP"), unit, ""
    return None, "", "no price: Cairn needs a cost option with an amount (a price per unit)."


def _regulator_id(organization: dict) -> str | None:
    for identifier in organization.get("organization_identifiers") or []:
        if isinstance(identifier, dict) and "CQC" in str(identifier.get("identifier_type", "")).upper():
            value = str(identifier.get("identifier") or "").strip()
            if value and is_valid(clean_cqc_location_id, value):  # not a CQC location ID: left out
                return value[:30]
    return None


def check_item(position: str, body, problems: list[str]) -> Entry | None:
    """One service body → an `Entry`; what makes the file unreadable goes to `problems`."""
    if not isinstance(body, dict):
        problems.append(f"{position}: not a service (a JSON object).")
        return None
    before = len(problems)
    service_id = _text(body, "id", position, problems, required=True, limit=100)
    name = _text(body, "name", position, problems, required=True, limit=200)
    status = _text(body, "status", position, problems, required=True)
    if status and status not in STATUSES:
        problems.append(f"{position}: `status` must be one of {', '.join(sorted(STATUSES))}.")
    organization = body.get("organization")
    if not isinstance(organization, dict):
        problems.append(f"{position}: the service needs its `organization` (an object with its id and name).")
        organization = {}
    org_where = f"{position}, organization"
    org_id = _text(organization, "id", org_where, problems, required=True, limit=100) if organization else ""
    org_name = _text(organization, "name", org_where, problems, required=True, limit=200) if organization else ""
    description = _text(body, "description", position, problems)
    org_description = _text(organization, "description", org_where, problems)
    email = _text(organization, "email", org_where, problems)
    website = _text(organization, "website", org_where, problems)
    areas = _list(body, "service_areas", position, problems)
    attributes = _list(body, "attributes", position, problems)
    cost_options = _list(body, "cost_options", position, problems)
    price, unit, price_problem = _price(cost_options, position, problems)
    if len(problems) > before:
        return None
    provider = ImportedProvider(
        external_id=org_id,
        name=org_name,
        description=org_description,
        email=_valid_or_blank(email, validate_email),
        website=_valid_or_blank(website, URLValidator(schemes=["http", "https"]))[:200],
        regulator_id=_regulator_id(organization),
    )
    live = status == "active"
    if live and price is None:
        return Entry(position, provider, None, price_problem)
    service = ImportedService(
        external_id=service_id,
        title=name,
        description=description,
        category=_category(attributes),
        unit=unit or DEFAULT_UNIT,
        unit_price=price,
        postcode_districts=_districts(areas),
        live=live,
    )
    return Entry(position, provider, service)


def read_directory_file(
    text_or_path: str | bytes | os.PathLike, *, progress: ProgressCallback | None = None
) -> list[Entry]:
    """Every service of the file, checked; `DirectoryFileInvalid` listing every problem if any."""
    problems: list[str] = []
    items = read_items(_decode(text_or_path), problems)
    counter = Progress(progress, len(items), "checked")
    entries: list[Entry] = []
    first_seen: dict[str, str] = {}
    for position, body in items:
        counter.step()
        entry = check_item(position, body, problems)
        if entry is None:
            continue
        key = entry.service.external_id if entry.service else str(body.get("id"))
        if key in first_seen:
            problems.append(f"{position}: service id {key} is given again (first at {first_seen[key]}).")
            continue
        first_seen[key] = position
        entries.append(entry)
    counter.finish()
    if not items and not problems:
        problems.append("The file has no services.")
    if problems:
        raise DirectoryFileInvalid(errors={"file": problems})
    return entries


# --- Step 2: writing ---------------------------------------------------------------------------


def import_openreferral(
    *,
    text_or_path: str | bytes | os.PathLike,
    actor: User | None = None,
    progress: ProgressCallback | None = None,
) -> DirectoryImportReport:
    """Import a directory's services. Enforces: administrators and case managers only (or the
    command line, `actor=None`); the whole file is checked before anything is written
    (`DirectoryFileInvalid`, nothing written); writes in one transaction through
    `providers.imported`, which locks and audits each row. New providers are pending. Queues nothing.
    """
    imports_check_actor(actor)
    entries = read_directory_file(text_or_path, progress=progress)
    report = DirectoryImportReport(rows=len(entries))
    counter = Progress(progress, len(entries), "written")
    providers: dict[str, object] = {}
    with transaction.atomic():
        for entry in entries:
            counter.step()
            if entry.service is None:
                report.skipped.append(f"{entry.position}: {entry.skip_reason}")
                continue
            provider = providers.get(entry.provider.external_id)
            if provider is None:
                if entry.provider.regulator_id and (
                    holder := regulator_id_holder(
                        entry.provider.regulator_id, except_external_id=entry.provider.external_id
                    )
                ):
                    report.skipped.append(
                        f"{entry.position}: its organization's CQC location ID {entry.provider.regulator_id} "
                        f"belongs to {holder.name}, already recorded; link them by hand."
                    )
                    continue
                provider, outcome = imported_provider_save(
                    actor=actor, data=entry.provider, source=f"{SOURCE}, {entry.position}"
                )
                providers[entry.provider.external_id] = provider
                _count_provider(report, outcome)
            _, outcome = imported_service_save(
                actor=actor, provider=provider, data=entry.service, source=f"{SOURCE}, {entry.position}"
            )
            if outcome == NOT_CREATED:
                report.skipped.append(f"{entry.position}: its status is not active, and Cairn does not have it.")
            else:
                setattr(report, outcome, getattr(report, outcome) + 1)
    counter.finish()
    return report


def _count_provider(report: DirectoryImportReport, outcome: str) -> None:
    name = {CREATED: "providers_created", UPDATED: "providers_updated", UNCHANGED: "providers_unchanged"}[outcome]
    setattr(report, name, getattr(report, name) + 1)

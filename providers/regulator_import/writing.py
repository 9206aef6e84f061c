"""Applying a checked regulator file: the two imports callers run.

Each import checks who is asking, has `formats` check the whole file first, then writes every good
row in one transaction with the providers it may change locked, auditing each provider created or
updated, and returns an `ImportReport`. Kept apart from reading so the rules about what is written
(never a status; an empty cell never erases) live in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from accounts.exceptions import ActionNotAllowed
from accounts.models import AuditAction, User
from accounts.services import audit_record

from ..models import Provider
from ..permissions import can_add_providers
from .csv_table import read_text
from .formats import Location, parse_directory, parse_ratings
from .progress import Progress, ProgressCallback

__all__ = [
    "BATCH",
    "DIRECTORY_SOURCE",
    "RATINGS_SOURCE",
    "ImportReport",
    "import_cqc_directory",
    "import_regulator_ratings",
]

BATCH = 1_000  # existing providers are read this many location IDs at a time
DIRECTORY_SOURCE = "Imported from the CQC care directory"
RATINGS_SOURCE = "Imported from CQC ratings"


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


def _reasons(skipped: list[tuple[int, str]]) -> list[str]:
    return [f"line {line}: {reason}" for line, reason in sorted(skipped, key=lambda item: item[0])]


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


# ---------------------------------------------------------------------------------------------
# The care directory


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
    locations, skipped, total = parse_directory(read_text(text_or_path), progress=progress)
    report = ImportReport(rows=total, skipped=_reasons(skipped))
    counter = Progress(progress, len(locations), "written")
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
    ratings, skipped, total = parse_ratings(read_text(text_or_path), progress=progress)
    report = ImportReport(rows=total)
    counter = Progress(progress, len(ratings), "written")
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

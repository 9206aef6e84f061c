"""Writes about RAS schemes: import, a new draft version from a published one, price changes on a
draft, publish, retire. A published scheme is never edited."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from djmoney.money import Money

from accounts.models import AuditAction, User
from accounts.services import audit_record

from .. import models as budget_models
from ..exceptions import NotAllowed, SchemeInvalid, SchemeNotEditable
from ..models import RasScheme, SchemeStatus
from ..permissions import can_manage_schemes
from ..ras import compile_scheme, content_digest, scheme_data
from ..ras_io import SchemeFileErrors, parse_scheme_text, write_scheme


def scheme_import(*, actor: User | None, text: str, publish: bool = False) -> RasScheme:
    """Create a draft (or published) scheme from a YAML or JSON file's text.

    Enforces: the whole file is valid (every problem listed with its line) before anything is
    written; the name and version are new. `actor=None` is the command line, run by an operator.
    """
    if actor is not None and not can_manage_schemes(actor):
        raise NotAllowed("Only administrators can import RAS schemes.")
    try:
        data = parse_scheme_text(text)
    except SchemeFileErrors as exc:
        raise SchemeInvalid(errors={"file": exc.errors}) from exc
    if RasScheme.objects.filter(name=data["name"], version=data["version"]).exists():
        raise SchemeInvalid(
            f"{data['name']} version {data['version']} already exists; give the new scheme a new version.",
            field="version",
        )
    with transaction.atomic():
        scheme = write_scheme(data, models=budget_models, created_by=actor)
        audit_record(actor=actor, action=AuditAction.CREATE, target=scheme, message="Imported from a file")
        if publish:
            scheme = scheme_publish(actor=actor, scheme=scheme)
    return scheme


def scheme_export(*, scheme: RasScheme) -> dict:
    return scheme_data(
        compile_scheme(scheme), effective_from=scheme.effective_from.isoformat(), description=scheme.description
    )


def scheme_publish(*, actor: User | None, scheme: RasScheme) -> RasScheme:
    """Freeze a draft: record its content digest and publication time. Locks the scheme row."""
    if actor is not None and not can_manage_schemes(actor):
        raise NotAllowed("Only administrators can publish RAS schemes.")
    with transaction.atomic():
        scheme = RasScheme.objects.select_for_update().get(pk=scheme.pk)
        if scheme.status != SchemeStatus.DRAFT:
            raise SchemeNotEditable(f"{scheme} is not a draft.")
        if not scheme.questions.exists():
            raise SchemeInvalid("A scheme needs at least one question before it can be published.")
        scheme.publish()
        scheme.published_at = timezone.now()
        scheme.content_digest = content_digest(scheme_export(scheme=scheme))
        scheme.save()
        audit_record(actor=actor, action=AuditAction.TRANSITION, target=scheme, changes={"status": "published"})
    return scheme


def scheme_retire(*, actor: User | None, scheme: RasScheme) -> RasScheme:
    if actor is not None and not can_manage_schemes(actor):
        raise NotAllowed("Only administrators can retire RAS schemes.")
    with transaction.atomic():
        scheme = RasScheme.objects.select_for_update().get(pk=scheme.pk)
        if scheme.status != SchemeStatus.PUBLISHED:
            raise SchemeNotEditable(f"{scheme} is not published.")
        scheme.retire()
        scheme.save()
        audit_record(actor=actor, action=AuditAction.TRANSITION, target=scheme, changes={"status": "retired"})
    return scheme


def scheme_draft_from(*, actor: User, scheme: RasScheme) -> RasScheme:
    """A new draft version copying a published scheme's questions, answers, modifiers, prices and
    bands, so its prices can be changed and tried in a what-if before publishing.

    Enforces: administrators only; the source is published (or retired); one draft per scheme
    name at a time (an existing draft is returned, not duplicated). Locks the source row so two
    administrators at once get the same draft. The draft takes the next version number and, until
    the administrator changes it, takes effect today.
    """
    if not can_manage_schemes(actor):
        raise NotAllowed("Only administrators can create RAS scheme versions.")
    with transaction.atomic():
        source = RasScheme.objects.select_for_update().get(pk=scheme.pk)
        if source.status == SchemeStatus.DRAFT:
            raise SchemeNotEditable("That scheme is already a draft: change it directly.")
        existing = RasScheme.objects.filter(name=source.name, status=SchemeStatus.DRAFT).order_by("-version").first()
        if existing is not None:
            return existing
        data = scheme_export(scheme=source)
        data["version"] = (RasScheme.objects.filter(name=source.name).aggregate(v=Max("version"))["v"] or 0) + 1
        data["effective_from"] = max(timezone.localdate(), source.effective_from)
        for question in data["questions"]:  # the export leaves out empty optional fields
            question.setdefault("help_text", "")
            for answer in question["answers"]:
                answer.setdefault("unable_reason", "")
        draft = write_scheme(data, models=budget_models, created_by=actor)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=draft,
            message=f"New draft from {source.name} version {source.version}",
        )
    return draft


def scheme_prices_update(
    *,
    actor: User,
    scheme: RasScheme,
    price_per_point: Decimal,
    min_budget: Decimal,
    max_budget: Decimal,
    effective_from: datetime.date,
    bands: list[tuple[int | None, Decimal]],
) -> RasScheme:
    """Change a draft's base price per point, minimum and maximum budget, effective date and price
    bands (each `(up_to_points or None for open-ended, price per point)`; the bands replace the
    draft's bands).

    Enforces: administrators only; the scheme is still a draft (checked under a row lock, so a
    publish at the same moment wins cleanly); prices above zero, minimum not negative and not above
    the maximum; band limits distinct, and at most one open-ended band. Every problem is reported
    at once, keyed by field.
    """
    if not can_manage_schemes(actor):
        raise NotAllowed("Only administrators can change RAS schemes.")
    errors: dict[str, list[str]] = {}
    if price_per_point <= 0:
        errors["price_per_point"] = ["Enter a price per point above £0"]
    if min_budget < 0:
        errors["min_budget"] = ["Enter a minimum budget of £0 or more"]
    if max_budget < min_budget:
        errors["max_budget"] = ["Enter a maximum budget that is not less than the minimum"]
    limits = [limit for limit, _ in bands]
    if len(set(limits)) != len(limits):
        errors["bands"] = ["Give each band a different “up to” number of points (and leave at most one open-ended)"]
    if any(price <= 0 for _, price in bands):
        errors.setdefault("bands", []).append("Enter a price per point above £0 for every band")
    if errors:
        raise SchemeInvalid(errors=errors)
    with transaction.atomic():
        locked = RasScheme.objects.select_for_update().get(pk=scheme.pk)
        if locked.status != SchemeStatus.DRAFT:
            raise SchemeNotEditable(f"{locked} is not a draft; start a new version to change its prices.")
        currency = str(locked.price_per_point.currency)
        before = scheme_export(scheme=locked)
        locked.price_per_point = Money(price_per_point, currency)
        locked.min_budget = Money(min_budget, currency)
        locked.max_budget = Money(max_budget, currency)
        locked.effective_from = effective_from
        locked.save(update_fields=["price_per_point", "min_budget", "max_budget", "effective_from"])
        locked.bands.all().delete()
        budget_models.RasBand.objects.bulk_create(
            [
                budget_models.RasBand(scheme=locked, up_to_points=limit, price_per_point=Money(price, currency))
                for limit, price in bands
            ]
        )
        after = scheme_export(scheme=locked)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=locked,
            changes={
                key: {"from": before[key], "to": after[key]}
                for key in ("price_per_point", "min_budget", "max_budget", "effective_from", "bands")
                if before[key] != after[key]
            },
        )
    return locked

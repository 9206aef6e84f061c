"""Writes about RAS schemes: import, publish, retire. A published scheme is never edited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

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

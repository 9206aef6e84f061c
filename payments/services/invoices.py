"""Providers' invoices against plan lines (docs/payments.md, "Invoices"): submitted only for support
delivered under an approved plan, within what the line commits, never twice. Confirming them is
`invoice_decisions`; paying them, `runs`."""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from decimal import ROUND_DOWN, Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput
from accounts.models import AuditAction, Role, User
from accounts.money import round_penny
from accounts.permissions import has_role
from accounts.services import audit_record
from accounts.text import NAME_MESSAGE, is_clean_name
from careplans.costing import days_inclusive
from careplans.models import CarePlan, LineKind, MoneyManagement, PlanLine, PlanStatus
from providers.models import ProviderStatus

from ..exceptions import InvoiceDuplicate, NotInvoiceable
from ..models import Invoice, InvoiceStatus
from .uploads import structure_problem

__all__ = ["MAX_FILE_BYTES", "InvoiceDuplicate", "committed_units", "invoice_submit", "sniff_file_type"]

MAX_FILE_BYTES = 5 * 1024 * 1024
# Checked by the file's first bytes, never by its name or the browser's claim.
SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def sniff_file_type(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def committed_units(line: PlanLine, start: datetime.date, end: datetime.date) -> Decimal:
    """The units the line commits within [start, end]: a weekly line's units per week for the
    overlapping days / 7, **not rounded** (rounding each period up would let many short invoices
    add up to more than the line commits); a one-off line's quantity when its date falls in it."""
    first, last = max(start, line.start), min(end, line.end)
    if last < first:
        return Decimal(0)
    if line.kind == LineKind.ONE_OFF:
        return line.quantity
    return line.units_per_week * days_inclusive(first, last) / 7


def line_lineage(line: PlanLine) -> list[int]:
    """The line and its copies in earlier and later versions of the plan (`copied_from`)."""
    ids = {line.pk}
    current = line
    while current.copied_from_id is not None and current.copied_from_id not in ids:
        ids.add(current.copied_from_id)
        current = PlanLine.objects.only("pk", "copied_from_id").get(pk=current.copied_from_id)
    frontier = set(ids)
    while frontier:
        frontier = set(PlanLine.objects.filter(copied_from_id__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return sorted(ids)


def _check_units(units: Decimal, problems: dict) -> Decimal | None:
    if not units.is_finite() or units <= 0:
        problems["units"] = ["The units must be more than 0."]
        return None
    if units.as_tuple().exponent < -2:
        problems["units"] = ["Give the units with at most two decimal places."]
        return None
    return units


@contextmanager
def stored_upload(field_file, upload: UploadedFile | None, kind: str, default_name: str):
    """Save a checked upload under a random name before its row is written, and yield its own name
    and type for the row; if writing the row fails, the stored file goes too (nothing is left)."""
    if upload is None:
        yield "", ""
        return
    field_file.save("upload", upload, save=False)
    try:
        yield (upload.name or default_name)[-200:], kind
    except BaseException:
        field_file.delete(save=False)
        raise


def check_upload(upload: UploadedFile | None, problems: dict, field: str = "supporting_file") -> str:
    """A supporting file or receipt: a PDF, PNG or JPEG by its first bytes and its whole structure
    (`uploads.structure_problem`), at most 5 MB. Returns its
    type, or "" with the problem noted under `field`."""
    if upload is None:
        return ""
    if upload.size > MAX_FILE_BYTES:
        problems[field] = ["The file must be 5 MB or smaller."]
        return ""
    kind = sniff_file_type(upload)
    if kind is None:
        problems[field] = ["The file must be a PDF, PNG or JPEG."]
        return ""
    problem = structure_problem(upload, kind)  # the whole file, by pypdf or Pillow (uploads.py)
    if problem:
        problems[field] = [problem]
        return ""
    return kind


def invoice_submit(
    *,
    actor: User,
    line: PlanLine,
    period_start: datetime.date,
    period_end: datetime.date,
    units: Decimal,
    reference: str = "",
    supporting_file: UploadedFile | None = None,
    request=None,
) -> Invoice:
    """A provider's member of staff invoices one plan line for delivered support. The edge (form or
    serializer) has already turned the input into dates and a `Decimal`.

    Enforces (each refusal a specific message, nothing written): provider staff (403); the line
    is their organisation's (400) and council-managed (409: a direct payment or an individual
    service fund is never invoiced to the council); the plan approved — or superseded, for periods before the new
    version took over (409); the period in order, ended by today and within the line's dates
    (400); units positive and no more than the line commits for the period less what is already
    invoiced for it (400); not a duplicate of the same line and period (409, also a database
    constraint); an optional PDF/PNG/JPEG of at most 5 MB, checked by content (400). The amount is
    units × the line's agreed price. Locks the line, so two invoices for it cannot both fit.
    """
    if not has_role(actor, Role.PROVIDER) or actor.provider_id is None:
        raise ActionNotAllowed("Only a provider's staff can send invoices.")
    if actor.provider.status != ProviderStatus.VERIFIED:
        raise NotInvoiceable(
            f"{actor.provider.name} is {actor.provider.get_status_display().lower()}: only verified providers "
            "can send invoices. Contact the council's case manager."
        )
    problems: dict[str, list[str]] = {}
    if line.provider_id != actor.provider_id:
        raise InvalidInput("This plan line is not one of your organisation's.", field="plan_line")
    if line.money_management != MoneyManagement.COUNCIL_MANAGED:
        how = (
            "paid to the person as a direct payment"
            if line.money_management == MoneyManagement.DIRECT_PAYMENT
            else "paid from an individual service fund your organisation holds"
        )
        raise NotInvoiceable(f"This support is {how}: the council does not pay invoices for it.")
    start, end = period_start, period_end
    amount_units = _check_units(units, problems)
    file_type = check_upload(supporting_file, problems)
    if not is_clean_name(reference or ""):
        # The provider's own invoice number, shown on one line in lists, statements and exports.
        problems["reference"] = [NAME_MESSAGE]
    if start and end:
        if end < start:
            problems.setdefault("period_end", []).append("The period must end on or after it starts.")
        elif end > timezone.localdate():
            problems.setdefault("period_end", []).append(
                "Invoice only for support already delivered: the period must end today or earlier."
            )
        elif start < line.start or end > line.end:
            problems.setdefault("period_start", []).append(
                f"The period must lie within the line's dates, {line.start:%-d %B %Y} to {line.end:%-d %B %Y}."
            )
    if problems:
        raise InvalidInput(errors=problems)
    with transaction.atomic():
        line = PlanLine.objects.select_for_update().select_related("plan").get(pk=line.pk)
        plan = line.plan
        _check_plan(plan, end)
        lineage = line_lineage(line)
        live = Invoice.objects.filter(line_id__in=lineage).exclude(status=InvoiceStatus.CANCELLED)
        if live.filter(period_start=start, period_end=end).exists():
            raise InvoiceDuplicate()
        overlapping = live.filter(period_start__lte=end, period_end__gte=start)
        already = overlapping.aggregate(total=Sum("units"))["total"] or Decimal(0)
        allowed = committed_units(line, start, end) - already
        # And never more, in all, than the line commits from its start to the end of this period.
        so_far = live.filter(period_start__lte=end).aggregate(total=Sum("units"))["total"] or Decimal(0)
        allowed = min(allowed, committed_units(line, line.start, end) - so_far)
        if amount_units > allowed:
            left = max(allowed, Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            raise InvalidInput(
                f"The line commits {left.normalize():f} more {line.unit}{'' if left == 1 else 's'} for this period "
                f"({already.normalize():f} already invoiced), so {amount_units.normalize():f} is too many.",
                field="units",
            )
        amount = Money(round_penny(amount_units * line.unit_price.amount), str(line.unit_price.currency))
        invoice = Invoice(
            line=line,
            plan=plan,
            provider_id=line.provider_id,
            period_start=start,
            period_end=end,
            units=amount_units,
            unit_price=line.unit_price,
            amount=amount,
            reference=(reference or "").strip()[:60],
            submitted_by=actor,
        )
        with stored_upload(invoice.supporting_file, supporting_file, file_type, "supporting-file") as (name, kind):
            invoice.supporting_file_name, invoice.supporting_file_type = name, kind
            try:
                with transaction.atomic():
                    invoice.save()
            except IntegrityError as exc:  # a duplicate that slipped past the check above
                raise InvoiceDuplicate() from exc
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=invoice,
            subject=plan.client,
            request=request,
            changes={"line": line.pk, "period": f"{start}..{end}", "units": str(amount_units), "amount": str(amount)},
        )
    return invoice


def _check_plan(plan: CarePlan, end: datetime.date) -> None:
    if plan.status == PlanStatus.APPROVED:
        return
    if plan.status == PlanStatus.SUPERSEDED:
        successor = CarePlan.objects.filter(previous=plan).only("approved_at").first()
        took_over = timezone.localdate(successor.approved_at) if successor and successor.approved_at else None
        if took_over is None or end < took_over:
            return
        raise NotInvoiceable(
            f"This plan was replaced on {took_over:%-d %B %Y}: invoice later support against the new version."
        )
    raise NotInvoiceable(f"The plan is {plan.get_status_display().lower()}: only an approved plan can be invoiced.")

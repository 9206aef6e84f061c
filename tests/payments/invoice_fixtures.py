"""Builders for the invoice tests: an approved plan whose period started 60 days ago, so some of its
support has already been delivered and can be invoiced.

Plain functions rather than fixtures, so each test module wraps them in its own fixture and no
fixture names need re-exporting (and `# noqa: F811`) here.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import AuditEvent
from approvals import services
from careplans.models import CarePlan, PlanLine
from payments.models import Invoice
from payments.services import invoice_submit
from tests import factories
from tests.sample_files import JPEG_BYTES, PDF_BYTES, PNG_BYTES  # noqa: F401  (real files: the check reads them whole)

STARTED_DAYS_AGO = 60
MB = 1024 * 1024

EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
TEXT_BYTES = b"Timesheet: 2 visits, both delivered.\n"


def today() -> datetime.date:
    return timezone.localdate()


def upload(content: bytes, name: str = "timesheet.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def pdf_of_size(size: int) -> bytes:
    """A real PDF of exactly `size` bytes: padded with a comment line before `startxref`, so every
    offset in it stays right."""
    head, tail = PDF_BYTES.rsplit(b"startxref", 1)
    padding = size - len(PDF_BYTES) - 2
    return head + b"%" + b"0" * padding + b"\n" + b"startxref" + tail


@dataclass
class Invoicing:
    """Ruth's approved plan, started 60 days ago, with three lines:

    - `line`: Brightside's home care visits, 2 hours a week at £24.50, from the period's first day
      for 10 weeks (so it runs on past today);
    - `short_line`: Brightside's sitting service, 1 session a week at £15.00 for the first 4 weeks
      (ended a month ago);
    - `other_line`: Riverside's respite, 1 night a week at £180.00 for 10 weeks, another provider.

    `staff` work for Brightside, `other_staff` for Riverside.
    """

    plan: CarePlan
    line: PlanLine
    short_line: PlanLine
    other_line: PlanLine
    staff: object
    other_staff: object
    start: datetime.date

    def day(self, n: int) -> datetime.date:
        """The plan's n-th day, counting its first day as day 1."""
        return self.start + datetime.timedelta(days=n - 1)


def approve(plan: CarePlan, *, submitter, reviewer, checklist: dict) -> CarePlan:
    plan = services.plan_submit(actor=submitter, plan=plan)
    plan = services.plan_start_review(actor=reviewer, plan=plan)
    return services.plan_approve(actor=reviewer, plan=plan, checklist=checklist)


def weekly(service, units: str, start: datetime.date, days: int) -> dict:
    return {
        "service": service.pk,
        "units_per_week": units,
        "start": start,
        "end": start + datetime.timedelta(days=days - 1),
    }


def build_invoicing(
    *, make_budget, make_plan, make_service, make_provider, client, social_worker, checklist
) -> Invoicing:
    start = today() - datetime.timedelta(days=STARTED_DAYS_AGO)
    budget = make_budget(client, "10000.00", period_start=start)
    brightside = make_provider(name="Brightside Care")
    riverside = make_provider(name="Riverside Centre")
    visits = make_service("Home care visits", "24.50", provider=brightside)
    sitting = make_service("Sitting service", "15.00", provider=brightside, unit="session")
    respite = make_service("Respite breaks", "180.00", provider=riverside, unit="night")
    plan = make_plan(
        client,
        budget,
        lines=[weekly(visits, "2", start, 70), weekly(sitting, "1", start, 28), weekly(respite, "1", start, 70)],
        risks="Falls: a pendant alarm",
        contacts="My daughter",
    )
    plan = approve(plan, submitter=client, reviewer=social_worker, checklist=checklist)
    line, short_line, other_line = plan.lines.order_by("position", "pk")
    return Invoicing(
        plan=plan,
        line=line,
        short_line=short_line,
        other_line=other_line,
        staff=factories.ProviderStaffFactory(provider=brightside, full_name="Lee Carter"),
        other_staff=factories.ProviderStaffFactory(provider=riverside, full_name="Robin Hale"),
        start=start,
    )


def other_client_with_invoice(*, make_budget, make_plan, checklist, service, start: datetime.date):
    """Another client (Olu), on another social worker's caseload, with an approved plan buying
    `service` and one invoice from its provider. Returns (client, social worker, invoice)."""
    person = factories.ClientFactory(full_name="Olu Bankole")
    worker = factories.SocialWorkerFactory(full_name="Wren Oduya")
    factories.CaseloadAssignmentFactory(social_worker=worker, client=person)
    budget = make_budget(person, "10000.00", period_start=start)
    plan = make_plan(person, budget, lines=[weekly(service, "2", start, 70)], risks="None", contacts="My son")
    plan = approve(plan, submitter=person, reviewer=worker, checklist=checklist)
    staff = service.provider.staff.first() or factories.ProviderStaffFactory(provider=service.provider)
    invoice = invoice_submit(
        actor=staff,
        line=plan.lines.get(),
        period_start=start,
        period_end=start + datetime.timedelta(days=6),
        units=Decimal(2),
    )
    return person, worker, invoice


def submit(setup: Invoicing, *, first: int = 1, last: int = 7, units: str = "2", line=None, actor=None, **extra):
    """An invoice through the service (days counted from the plan's first day)."""
    return invoice_submit(
        actor=actor or setup.staff,
        line=line or setup.line,
        period_start=setup.day(first),
        period_end=setup.day(last),
        units=Decimal(units),
        **extra,
    )


def stored_files(root) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def snapshot(media_root) -> tuple:
    """What a refused call must leave as it was: invoices, audit rows, stored files."""
    return (
        list(Invoice.objects.order_by("pk").values_list("pk", "status", "units")),
        AuditEvent.objects.count(),
        stored_files(media_root),
    )


def streamed(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)

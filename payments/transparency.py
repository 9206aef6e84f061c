"""Transparency spend: each payment over £500 to an organisation in a calendar quarter, in the
Local Government Transparency Code's fields (docs/open-data.md).

Which payments: paid ones (a reversed payment was taken back, so it is not spend) that went to a
provider organisation — invoices, and individual service funds' loads to the provider holding
them — for more than £500, paid in the quarter (UK time). A payment to a person (a direct payment
load, and so whatever the person then pays a personal assistant from it) is never listed, whatever
its amount: the Code publishes spend with organisations, and naming people would identify them.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from accounts.exceptions import InvalidInput
from careplans.models import MoneyManagement, PlanLine
from providers.models import ServiceCategory

from .models import Payment, PaymentKind, PaymentStatus

DEPARTMENT = "Adult Social Care"
THRESHOLD = Decimal("500.00")
CSV_FIELDS = ["date", "department", "beneficiary", "purpose", "amount", "transaction_number"]
# What the rows read, and no more (FSM states are loaded with their rows).
LOADED_FIELDS = (
    "id", "kind", "status", "amount", "amount_currency", "paid_at", "provider_id", "invoice_id", "load_id",
    "provider__name", "provider__status", "invoice__status", "invoice__line_id", "invoice__line__service_id",
    "invoice__line__service__category", "load__plan_id",
)  # fmt: skip
QUARTER_RE = re.compile(r"(\d{4})-Q([1-4])")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def next_first_day(self) -> datetime.date:
        if self.number == 4:
            return datetime.date(self.year + 1, 1, 1)
        return datetime.date(self.year, 3 * self.number + 1, 1)

    @property
    def last_day(self) -> datetime.date:
        return self.next_first_day - datetime.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.first_day:%B} to {self.last_day:%B %Y}"

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def quarter_of(day: datetime.date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def last_full_quarter() -> Quarter:
    """The quarter before today's: the latest one whose payments are all in."""
    return quarter_of(timezone.localdate()).previous()


def quarter_parse(value: str | None) -> Quarter:
    """`YYYY-Qn` (Q1 is January to March) → the quarter, or `InvalidInput` on `quarter`."""
    match = QUARTER_RE.fullmatch((value or "").strip().upper())
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise InvalidInput(
            "Give a quarter as the year, a dash, Q and its number, like 2026-Q3 (Q1 is January to March).",
            field="quarter",
        )
    return Quarter(int(match.group(1)), int(match.group(2)))


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _fund_purposes(loads: list[Payment]) -> dict[tuple[int, int], str]:
    """For each (plan, provider) of the fund loads: the categories of the plan's lines whose money
    that provider holds, in one query."""
    if not loads:
        return {}
    labels = dict(ServiceCategory.choices)
    plan_ids = {payment.load.plan_id for payment in loads}
    lines = (
        PlanLine.objects.filter(plan_id__in=plan_ids, money_management=MoneyManagement.INDIVIDUAL_SERVICE_FUND)
        .values_list("plan_id", "provider_id", "service__category")
        .order_by("plan_id", "provider_id", "service__category")
        .distinct()
    )
    categories: dict[tuple[int, int], list[str]] = defaultdict(list)
    for plan_id, provider_id, category in lines:
        if category:
            categories[(plan_id, provider_id)].append(str(labels.get(category, category)))
    return {key: "; ".join(names) for key, names in categories.items()}


def transparency_spend(quarter: Quarter) -> list[dict]:
    """The quarter's rows, oldest first; `amount` is a Decimal in pounds. Two queries at most."""
    payments = list(
        Payment.objects.filter(
            status=PaymentStatus.PAID,
            paid_at__gte=_start_of(quarter.first_day),
            paid_at__lt=_start_of(quarter.next_first_day),
            provider__isnull=False,
            person__isnull=True,
            amount__gt=THRESHOLD,
        )
        .filter(Q(kind=PaymentKind.INVOICE) | Q(kind=PaymentKind.INDIVIDUAL_SERVICE_FUND))
        .select_related("provider", "invoice__line__service", "load")
        .only(*LOADED_FIELDS)
        .order_by("paid_at", "id")
    )
    fund_purposes = _fund_purposes([p for p in payments if p.kind == PaymentKind.INDIVIDUAL_SERVICE_FUND])
    labels = dict(ServiceCategory.choices)
    rows = []
    for payment in payments:
        if payment.kind == PaymentKind.INVOICE:
            category = payment.invoice.line.service.category if payment.invoice.line.service_id else "other"
            purpose = str(labels.get(category, category))
        else:
            purpose = fund_purposes.get((payment.load.plan_id, payment.provider_id)) or "Individual service fund"
        rows.append(
            {
                "date": timezone.localtime(payment.paid_at).date().isoformat(),
                "department": DEPARTMENT,
                "beneficiary": payment.provider.name,
                "purpose": purpose,
                "amount": payment.amount.amount,
                "currency": str(payment.amount.currency),
                "transaction_number": str(payment.pk),
            }
        )
    return rows

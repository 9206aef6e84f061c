"""Documents of payment: the invoice, and remittance advice for a provider per payment run."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from reportlab.platypus import Spacer

from accounts.money import format_money
from accounts.pdf import render, table, text

from .models import Invoice, PaymentRun


def invoice_pdf(invoice: Invoice) -> bytes:
    line = invoice.line
    story = [
        text(f"Invoice {invoice.pk}", "title"),
        text(
            f"From {invoice.provider.name}" + (f" (their reference {invoice.reference})" if invoice.reference else "")
        ),
        text(f"For support to {invoice.plan.client.full_name}, under care plan version {invoice.plan.version}"),
        text(f"Status: {invoice.get_status_display()} · sent {timezone.localtime(invoice.submitted_at):%-d %B %Y}"),
        Spacer(1, 8),
        table(
            [
                ["Support", "Period", "Units", "Price", "Amount"],
                [
                    line.title,
                    f"{invoice.period_start:%-d %b %Y} to {invoice.period_end:%-d %b %Y}",
                    f"{invoice.units.normalize():f} {line.unit}(s)",
                    format_money(invoice.unit_price),
                    format_money(invoice.amount),
                ],
                ["", "", "", "Total", format_money(invoice.amount)],
            ],
            [50, 45, 25, 25, 25],
            money_columns=(3, 4),
        ),
    ]
    if invoice.dispute_reason:
        story += [Spacer(1, 6), text("Disputed", "h2"), text(invoice.dispute_reason)]
    if invoice.paid_at:
        story += [Spacer(1, 6), text(f"Paid on {timezone.localtime(invoice.paid_at):%-d %B %Y}.")]
    return render(story, title=f"Invoice {invoice.pk} from {invoice.provider.name}")


def remittance_pdf(run: PaymentRun, provider, payments: list) -> bytes:
    """What the council paid one provider in one run, invoice by invoice."""
    rows = [["Invoice", "Their reference", "For", "Period", "Amount"]]
    total = None
    for payment in payments:
        invoice = payment.invoice
        rows.append(
            [
                str(invoice.pk),
                invoice.reference or "–",
                invoice.line.title,
                f"{invoice.period_start:%-d %b} to {invoice.period_end:%-d %b %Y}",
                format_money(payment.amount),
            ]
        )
        total = payment.amount if total is None else total + payment.amount
    rows.append(["", "", "", "Total", format_money(total) if total is not None else "£0.00"])
    story = [
        text("Remittance advice", "title"),
        text(f"To {provider.name}, from {settings.CAIRN_COUNCIL_NAME}"),
        text(f"Payment run {run.pk}, {timezone.localtime(run.started_at):%-d %B %Y}"),
        Spacer(1, 8),
        table(rows, [20, 30, 55, 40, 25], money_columns=(4,)),
        Spacer(1, 6),
        text("Each payment is a separate transfer to your account. Quote the invoice number if you have a question."),
    ]
    return render(story, title=f"Remittance advice for {provider.name}, run {run.pk}")

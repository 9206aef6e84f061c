"""Invoice confirmation (docs/payments.md): the plan's client or social worker confirms or
disputes; nobody's silence for the policy's days confirms it automatically (unless disputed)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible
from accounts.models import AuditAction, User
from accounts.services import audit_record, notification_send
from accounts.text import FREE_TEXT_MESSAGE, is_clean_free_text

from .. import selectors
from ..exceptions import WrongInvoiceState
from ..models import Invoice, InvoiceStatus
from ..permissions import can_confirm_invoice, can_view_invoice

__all__ = ["invoice_cancel", "invoice_confirm", "invoice_dispute", "invoices_auto_confirm"]


def _check_reason(reason: str) -> None:
    """A reason is free text: no control or bidirectional-override characters (accounts/text.py)."""
    if not is_clean_free_text(reason):
        raise InvalidInput(FREE_TEXT_MESSAGE, field="reason")


def _locked(invoice: Invoice) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("plan__client", "provider", "line")
        .get(pk=invoice.pk)
    )


def _edge(invoice: Invoice, edge: str, *, actor: User | None, message: str = "", request=None, **fields) -> None:
    if not can_proceed(getattr(invoice, edge)):
        raise WrongInvoiceState(f"This invoice is {invoice.get_status_display().lower()}, so that cannot be done.")
    before = invoice.status
    getattr(invoice, edge)()
    for name, value in fields.items():
        setattr(invoice, name, value)
    invoice.save()
    audit_record(
        actor=actor,
        actor_username="" if actor else "auto-confirmation job",
        action=AuditAction.TRANSITION,
        target=invoice,
        subject=invoice.plan.client,
        request=request,
        changes={"from": before, "to": invoice.status, "transition": edge},
        message=message,
    )


def _tell(invoice: Invoice, recipients: list[User], message: str, *, actor: User | None) -> None:
    notification_send(
        recipients=recipients,
        message=message,
        actor=actor,
        link=reverse("invoice-detail", args=[invoice.pk]),
        target=invoice,
    )


def _provider_staff(invoice: Invoice) -> list[User]:
    return list(invoice.provider.staff.filter(is_active=True))


def _check_decider(actor: User, invoice: Invoice, verb: str) -> None:
    """Who may confirm or dispute: the plan's client or their social worker; others who can see
    the invoice get 403, who cannot 404."""
    if not can_view_invoice(actor, invoice):
        raise NotVisible("No such invoice.")
    if not can_confirm_invoice(actor, invoice):
        raise ActionNotAllowed(f"Only the client or their social worker {verb} an invoice.")


def invoice_confirm(*, actor: User, invoice: Invoice, request=None) -> Invoice:
    """The client or their social worker confirms the support was delivered (from submitted or
    disputed; else 409). Others who can see it: 403; who cannot: 404. Locks the invoice."""
    _check_decider(actor, invoice, "confirms")
    with transaction.atomic():
        invoice = _locked(invoice)
        _edge(invoice, "confirm", actor=actor, request=request, decided_by=actor, decided_at=timezone.now())
        _tell(
            invoice,
            _provider_staff(invoice),
            f"Invoice {invoice.pk} ({invoice.amount}) was confirmed and will be paid in the next payment run.",
            actor=actor,
        )
    return invoice


def invoice_dispute(*, actor: User, invoice: Invoice, reason: str, request=None) -> Invoice:
    """The client or their social worker disputes an invoice, saying why (400 without a reason);
    only a submitted one (409). A disputed invoice is never confirmed automatically."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say what is wrong with the invoice.", field="reason")
    _check_reason(reason)
    _check_decider(actor, invoice, "disputes")
    with transaction.atomic():
        invoice = _locked(invoice)
        _edge(
            invoice,
            "dispute",
            actor=actor,
            message=reason,
            request=request,
            dispute_reason=reason[:2000],
            decided_by=actor,
            decided_at=timezone.now(),
        )
        _tell(
            invoice,
            _provider_staff(invoice),
            f"Invoice {invoice.pk} ({invoice.amount}) was disputed: {reason}",
            actor=actor,
        )
    return invoice


def invoice_cancel(*, actor: User, invoice: Invoice, reason: str = "", request=None) -> Invoice:
    """The provider withdraws a disputed invoice (it may then send a corrected one)."""
    if not can_view_invoice(actor, invoice):
        raise NotVisible("No such invoice.")
    if actor.provider_id != invoice.provider_id:
        raise ActionNotAllowed("Only the provider that sent the invoice can cancel it.")
    _check_reason(reason or "")
    with transaction.atomic():
        invoice = _locked(invoice)
        _edge(invoice, "cancel", actor=actor, message=(reason or "").strip(), request=request)
    return invoice


def invoices_auto_confirm(*, today: datetime.date | None = None) -> int:
    """Confirm every invoice still waiting after the policy's days (disputed ones never): each
    under its own row lock and state check, so running twice — or twice at once — confirms
    each once. Returns how many were confirmed now."""
    today = today or timezone.localdate()
    days = selectors.invoice_policy().auto_confirm_days
    cutoff = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time.max))
    confirmed = 0
    due = Invoice.objects.filter(status=InvoiceStatus.SUBMITTED, submitted_at__lte=cutoff)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            invoice = (
                Invoice.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("plan__client", "provider")
                .filter(pk=pk, status=InvoiceStatus.SUBMITTED)
                .first()
            )
            if invoice is None:
                continue
            _edge(
                invoice,
                "confirm",
                actor=None,
                message=f"Nobody confirmed or disputed it within {days} days.",
                confirmed_automatically=True,
                decided_at=timezone.now(),
            )
            _tell(
                invoice,
                _provider_staff(invoice),
                f"Invoice {invoice.pk} ({invoice.amount}) was confirmed automatically after {days} days "
                "and will be paid in the next payment run.",
                actor=None,
            )
            confirmed += 1
    return confirmed

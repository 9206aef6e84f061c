"""Reads for invoices, payments and payee accounts: what each person may see, run progress,
remittances and the policy."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.exceptions import NotVisible
from accounts.models import Role, User
from accounts.permissions import has_role
from accounts.selectors import client_list_visible_to
from providers.models import Provider

from .models import Invoice, InvoicePolicy, InvoiceStatus, PayeeAccount, Payment, PaymentRun, PaymentStatus
from .permissions import can_view_invoice


def invoice_policy() -> InvoicePolicy:
    policy, _ = InvoicePolicy.objects.get_or_create(pk=1)
    return policy


def provider_payee_account(provider: Provider, gateway_name: str) -> PayeeAccount | None:
    """The provider's account with the gateway, if it has opened one."""
    return PayeeAccount.objects.filter(provider=provider, gateway=gateway_name).first()


def invoice_get_for(user: User, invoice_id: int) -> Invoice:
    """The invoice with its plan, client, provider and line, or `NotVisible` (404)."""
    invoice = Invoice.objects.select_related("plan__client", "provider", "line").filter(pk=invoice_id).first()
    if invoice is None or not can_view_invoice(user, invoice):
        raise NotVisible("No such invoice.")
    return invoice


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    """Invoices the user may see: their organisation's (provider staff), their own plan's
    (client), their caseload's or team's (social worker, team manager), all (finance, admin)."""
    invoices = Invoice.objects.select_related("plan__client", "provider", "line").order_by("-submitted_at", "-pk")
    if has_role(user, Role.FINANCE, Role.ADMIN):
        return invoices
    if has_role(user, Role.PROVIDER):
        return invoices.filter(provider_id=user.provider_id) if user.provider_id else invoices.none()
    if has_role(user, Role.CLIENT, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        return invoices.filter(plan__client__in=client_list_visible_to(user))
    return invoices.none()


def invoices_to_confirm_for(user: User) -> QuerySet[Invoice]:
    """Waiting for this person to confirm or dispute (client, social worker, team manager)."""
    if not has_role(user, Role.CLIENT, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        return Invoice.objects.none()
    return invoices_visible_to(user).filter(status=InvoiceStatus.SUBMITTED).order_by("submitted_at", "pk")


def payments_visible_to(user: User) -> QuerySet[Payment]:
    payments = Payment.objects.select_related("provider", "invoice").order_by("-pk")
    if has_role(user, Role.FINANCE, Role.ADMIN):
        return payments
    if has_role(user, Role.PROVIDER) and user.provider_id:
        return payments.filter(provider_id=user.provider_id)
    return payments.none()


def payment_run_counts(run: PaymentRun) -> dict[str, int]:
    """How many of the run's payments are in each state (one query)."""
    counts = dict(run.payments.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {
        "paid": counts.get(PaymentStatus.PAID, 0),
        "failed": counts.get(PaymentStatus.FAILED, 0),
        "reversed": counts.get(PaymentStatus.REVERSED, 0),
        "pending": counts.get(PaymentStatus.PENDING, 0) + counts.get(PaymentStatus.SENDING, 0),
        "total": sum(counts.values()),
    }


def run_remittances(run: PaymentRun) -> list[dict]:
    """Per provider: the run's paid payments and their total, for remittance advice."""
    rows: dict[int, dict] = {}
    for payment in run.payments.filter(status=PaymentStatus.PAID).select_related("provider", "invoice__line"):
        row = rows.setdefault(payment.provider_id, {"provider": payment.provider, "payments": [], "total": None})
        row["payments"].append(payment)
        row["total"] = payment.amount if row["total"] is None else row["total"] + payment.amount
    return sorted(rows.values(), key=lambda r: r["provider"].name)

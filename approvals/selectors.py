"""Reads for the workflow: authority, policy, the review queue, statutory reviews, notifications."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import NotVisible
from accounts.models import Role, TeamMembership, User
from accounts.permissions import has_role
from accounts.selectors import client_list_visible_to
from careplans.models import UNDER_REVIEW_STATUSES, Invoice, InvoiceStatus, PlanStatus
from careplans.permissions import can_view_invoice

from .models import (
    ApprovalAuthority,
    Notification,
    Payment,
    PaymentRun,
    PaymentStatus,
    PlanReview,
    StatutoryReview,
    WorkflowPolicy,
)

# Used when the admin has not configured a role (PRODUCT.md §5 defaults).
DEFAULT_LIMITS: dict[str, Decimal | None] = {Role.SOCIAL_WORKER: Decimal("20000"), Role.TEAM_MANAGER: None}


def workflow_policy() -> WorkflowPolicy:
    policy, _ = WorkflowPolicy.objects.get_or_create(pk=1)
    return policy


def authority_limit(user: User) -> Money | None:
    """The largest annual plan cost `user` may approve alone; None means no limit. Roles that do
    not review have no authority at all (Money 0)."""
    if user.role not in DEFAULT_LIMITS:
        return Money(0, "GBP")
    row = ApprovalAuthority.objects.filter(role=user.role).first()
    if row is None:
        limit = DEFAULT_LIMITS[user.role]
        return None if limit is None else Money(limit, "GBP")
    return row.annual_limit


def authority_covers(user: User, amount: Money) -> bool:
    """Equal to the limit is within it; a penny over is not."""
    limit = authority_limit(user)
    return limit is None or amount.amount <= limit.amount


def team_manager_of(social_worker: User | None) -> User | None:
    if social_worker is None:
        return None
    membership = TeamMembership.objects.select_related("team__manager").filter(social_worker=social_worker).first()
    return membership.team.manager if membership else None


def review_queue_for(user: User) -> QuerySet[PlanReview]:
    """Open reviews of plans whose clients the user can see, soonest due first."""
    if not has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        return PlanReview.objects.none()
    return (
        PlanReview.objects.filter(
            decided_at__isnull=True,
            plan__status__in=UNDER_REVIEW_STATUSES,
            plan__client__in=client_list_visible_to(user),
        )
        .select_related("plan__client", "plan__budget", "reviewer", "submitted_by")
        .order_by("due", "submitted_at", "pk")
    )


def statutory_reviews_for(user: User) -> QuerySet[StatutoryReview]:
    """Statutory reviews not yet done, of approved plans of clients the user can see."""
    if not has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        return StatutoryReview.objects.none()
    return (
        StatutoryReview.objects.filter(
            completed_at__isnull=True,
            plan__status=PlanStatus.APPROVED,
            plan__client__in=client_list_visible_to(user),
        )
        .select_related("plan__client")
        .order_by("due", "pk")
    )


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("plan").order_by("-created_at", "-pk")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def is_overdue(review: PlanReview, today: datetime.date | None = None) -> bool:
    return review.decided_at is None and review.due < (today or timezone.localdate())


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

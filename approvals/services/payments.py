"""Payments (PRODUCT.md §8): payment runs, sending through the configured gateway, Stripe
webhooks, reversals, reconciliation, and providers' Stripe onboarding.

Why it never pays twice:
- one payment per invoice — a partial unique constraint in the database, so two runs started at
  once cannot both take an invoice (the second one's insert skips it);
- each payment's idempotency key is fixed when the payment is created and sent with every
  attempt, so the gateway itself turns a resend into the same transfer;
- a payment whose last attempt ended without an answer (a timeout, a dropped connection, a 5xx, a
  crashed worker) is left `sending`, and the next attempt first looks the transfer up by its run's
  transfer group and the payment's reference before sending anything;
- marking a payment paid, posting it to the ledger (key `payment:<id>`) and marking its invoice
  paid happen in one transaction under the payment's row lock, and only from a non-paid state.
The gateway is never called inside a database transaction (STYLE.md).
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, Role, User
from accounts.services import audit_record
from budgets.gateways import GatewayAmbiguous, GatewayError, GatewayRefused, GatewayRetryLater, Transfer, gateway
from budgets.services import ledger
from careplans.models import Invoice, InvoiceStatus
from providers.models import Provider, ProviderStatus
from providers.services import provider_set_stripe_account

from ..models import Payment, PaymentRun, PaymentStatus, StripeEvent
from ..permissions import can_run_payments
from .workflow import _notify

__all__ = [
    "PaymentNotYetSent",
    "payment_give_up",
    "payment_retry",
    "payment_reverse",
    "payment_run_check_finished",
    "payment_run_reconcile",
    "payment_run_start",
    "payment_send",
    "payments_resume_stalled",
    "provider_payments_onboard",
    "provider_payments_refresh",
    "stripe_event_receive",
]

LIVE = [PaymentStatus.PENDING, PaymentStatus.SENDING, PaymentStatus.PAID, PaymentStatus.FAILED]
BATCH = 100


class PaymentNotYetSent(Exception):
    """The attempt ended without a definite answer: try again later (the same key, after a lookup)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _finance_users() -> list[User]:
    return list(User.objects.filter(role=Role.FINANCE, is_active=True))


def payment_run_start(*, actor: User, request=None) -> PaymentRun:
    """Finance pays every confirmed, unpaid invoice. Enforces: finance (403). Creates one payment
    per invoice — invoices another run already holds are skipped by the database's unique
    constraint, so two runs started at once pay each invoice once — then queues the sending, in
    batches, after the transaction commits. A run with nothing to pay is still recorded."""
    if not can_run_payments(actor):
        raise ActionNotAllowed("Only finance officers start payment runs.")
    from ..tasks import payments_send_batch

    with transaction.atomic():
        run = PaymentRun.objects.create(started_by=actor, gateway=settings.PAYMENT_GATEWAY)
        owed = (
            Invoice.objects.filter(status=InvoiceStatus.CONFIRMED)
            .exclude(payments__status__in=LIVE)
            .select_related("plan")
            .order_by("pk")
        )
        Payment.objects.bulk_create(
            [
                Payment(
                    run=run,
                    invoice_id=invoice.pk,
                    provider_id=invoice.provider_id,
                    budget_id=invoice.plan.budget_id,
                    amount=invoice.amount,
                    idempotency_key=f"cairn-invoice-{invoice.pk}-run-{run.pk}",
                )
                for invoice in owed.iterator(chunk_size=2000)
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        figures = run.payments.aggregate(total=Sum("amount"))
        run.payment_count = run.payments.count()
        run.total = Money(figures["total"] or Decimal(0), "GBP")
        if run.payment_count == 0:
            run.finished_at = timezone.now()
        run.save(update_fields=["payment_count", "total", "finished_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=run,
            request=request,
            changes={"payments": run.payment_count, "total": f"{run.total.amount:.2f}", "gateway": run.gateway},
        )
        ids = list(run.payments.values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            payments_send_batch.delay_on_commit(ids[start : start + BATCH])
    return run


def _destination(payment: Payment) -> str | None:
    provider = payment.provider
    if payment.run.gateway == "stripe":
        return provider.stripe_account_id if provider.stripe_account_id and provider.stripe_onboarded else None
    return f"provider-{provider.pk}"


def _lock(payment_id: int) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("run", "provider", "budget", "invoice")
        .get(pk=payment_id)
    )


def payment_send(*, payment_id: int, allow_failed: bool = False, check_run: bool = True) -> Payment:
    """One attempt at paying one payment. Safe to call any number of times, from any number of
    workers: a paid or reversed payment is left alone; a `sending` one (and a failed one finance
    retries) is looked up at the gateway before anything is sent; the send reuses the payment's
    key (a retried failed payment gets a new one, after the lookup). Raises `PaymentNotYetSent` when
    the outcome is unknown or the gateway asks to wait (the caller retries with backoff); a
    definite refusal marks it failed with the gateway's message. `allow_failed`: finance's retry
    of a failed payment. `check_run=False`: the caller (a batch) checks whether the run has
    finished once at its end, instead of after every payment."""
    with transaction.atomic():
        payment = _lock(payment_id)
        if payment.status in (PaymentStatus.PAID, PaymentStatus.REVERSED):
            return payment
        if payment.status == PaymentStatus.FAILED and not allow_failed:
            return payment
        if payment.provider.status != ProviderStatus.VERIFIED:
            # Only verified providers are paid (PRODUCT.md §6); finance retries once reinstated.
            return _fail(payment, f"{payment.provider.name} is {payment.provider.get_status_display().lower()}.")
        destination = _destination(payment)
        if destination is None:
            return _fail(payment, "The provider has not finished setting up Stripe payouts (onboarding).")
        # A `sending` payment's last attempt got no answer; a `failed` one being retried may have
        # failed after the gateway acted. Either way: look the transfer up before sending.
        unsure = payment.status in (PaymentStatus.SENDING, PaymentStatus.FAILED)
        retrying_failed = payment.status == PaymentStatus.FAILED
        payment.start_sending()
        payment.attempts += 1
        payment.sent_at = timezone.now()
        gw = gateway(payment.run.gateway)
        if gw.local:
            # The embedded gateway is this database: the whole payment is one transaction, so
            # there is no unanswered call to recover from (and one commit instead of three); the
            # `sending` state never needs to be written.
            transfer = gw.transfer(
                amount=payment.amount,
                destination=destination,
                key=payment.idempotency_key,
                group=payment.run.transfer_group,
                metadata={"payment": payment.reference, "invoice": payment.invoice_id, "run": payment.run_id},
            )
            return _complete_locked(payment, transfer, check_run=check_run)
        payment.save()
    group = payment.run.transfer_group
    try:
        if unsure:
            found = gw.find(group=group, payment_ref=payment.reference)
            if found is not None:
                return _complete(payment.pk, found)
        if retrying_failed:
            # The gateway remembers a refusal under its key (Stripe replays it for 24 hours), so a
            # retry the lookup has shown to be safe goes out under a new key, stored first.
            payment.idempotency_key = f"{payment.idempotency_key.split('-retry')[0]}-retry{payment.attempts}"
            Payment.objects.filter(pk=payment.pk).update(idempotency_key=payment.idempotency_key)
        transfer = gw.transfer(
            amount=payment.amount,
            destination=destination,
            key=payment.idempotency_key,
            group=group,
            metadata={"payment": payment.reference, "invoice": payment.invoice_id, "run": payment.run_id},
            description=f"Cairn invoice {payment.invoice_id}",
        )
    except (GatewayAmbiguous, GatewayRetryLater) as exc:
        _note_error(payment.pk, exc.message)
        raise PaymentNotYetSent(exc.message) from exc
    except GatewayRefused as exc:
        with transaction.atomic():
            return _fail(_lock(payment.pk), exc.message)
    return _complete(payment.pk, transfer)


def _note_error(payment_id: int, message: str) -> None:
    Payment.objects.filter(pk=payment_id).update(last_error=message[:500])


def _fail(payment: Payment, message: str) -> Payment:
    """Inside the caller's transaction, with `payment` locked."""
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.SENDING):
        payment.fail()
        payment.last_error = message[:500]
        payment.save()
        audit_record(
            actor=None,
            actor_username="payments",
            action=AuditAction.TRANSITION,
            target=payment,
            changes={"to": payment.status},
            message=message,
        )
        _notify(
            None,
            _finance_users(),
            f"Payment {payment.pk} of {payment.amount} to {payment.provider.name} failed: {message}",
            actor=None,
            link=reverse("payment-run-detail", args=[payment.run_id]),
        )
        _finish_run_if_done(payment.run_id)
    return payment


def _complete(payment_id: int, transfer: Transfer) -> Payment:
    """The gateway holds a transfer for this payment: mark it paid, post it to the ledger, mark
    the invoice paid — once, in one transaction."""
    with transaction.atomic():
        return _complete_locked(_lock(payment_id), transfer)


def _complete_locked(payment: Payment, transfer: Transfer, *, check_run: bool = True) -> Payment:
    """`_complete` inside the caller's transaction, with `payment` locked."""
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REVERSED):
        return payment
    if transfer.amount != payment.amount:
        return _fail(payment, f"The gateway's transfer {transfer.id} is for {transfer.amount}, not {payment.amount}.")
    payment.succeed()
    payment.transfer_id = transfer.id
    payment.paid_at = timezone.now()
    payment.last_error = ""
    payment.ledger_transaction = ledger.record_payment(
        budget=payment.budget,
        amount=payment.amount,
        key=f"payment:{payment.pk}",
        memo=f"Paid {payment.provider.name} for invoice {payment.invoice_id}"[:300],
    )
    payment.save()
    invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=payment.invoice_id)
    invoice.mark_paid()
    invoice.paid_at = payment.paid_at
    invoice.save()
    audit_record(
        actor=None,
        actor_username="payments",
        action=AuditAction.TRANSITION,
        target=payment,
        changes={"to": payment.status, "transfer": transfer.id},
    )
    if check_run:
        _finish_run_if_done(payment.run_id)
    return payment


def payment_run_check_finished(*, run_id: int) -> None:
    """Mark the run finished when none of its payments is still to send (or unmark it)."""
    _finish_run_if_done(run_id)


def _finish_run_if_done(run_id: int) -> None:
    if not Payment.objects.filter(run_id=run_id, status__in=[PaymentStatus.PENDING, PaymentStatus.SENDING]).exists():
        PaymentRun.objects.filter(pk=run_id, finished_at__isnull=True).update(finished_at=timezone.now())
    else:
        PaymentRun.objects.filter(pk=run_id, finished_at__isnull=False).update(finished_at=None)


def payment_give_up(*, payment_id: int, message: str) -> Payment:
    """After the last retry: failed, for finance to see (and retry when the cause is fixed).
    A later retry still looks the transfer up first, so giving up never risks paying twice."""
    with transaction.atomic():
        return _fail(_lock(payment_id), f"No definite answer after every retry: {message}")


def payment_retry(*, actor: User, payment: Payment, request=None) -> Payment:
    """Finance sends a failed payment again (same key; looked up first). Enforces finance (403)
    and a failed payment (409)."""
    if not can_run_payments(actor):
        raise ActionNotAllowed("Only finance officers retry payments.")
    if payment.status != PaymentStatus.FAILED:
        raise StateConflict(f"Payment {payment.pk} is {payment.get_status_display().lower()}, not failed.")
    from ..tasks import payment_send_task

    with transaction.atomic():
        PaymentRun.objects.filter(pk=payment.run_id).update(finished_at=None)
        audit_record(actor=actor, action=AuditAction.UPDATE, target=payment, request=request, message="Retry")
        payment_send_task.delay_on_commit(payment.pk, allow_failed=True)
    return payment


def payments_resume_stalled(*, older_than: datetime.timedelta = datetime.timedelta(minutes=5)) -> int:
    """Queue again every payment left pending or sending for longer than `older_than` — the work
    of a worker that died mid-run. Each attempt is safe to repeat (see `payment_send`)."""
    from ..tasks import payment_send_task

    cutoff = timezone.now() - older_than
    stalled = list(
        Payment.objects.filter(status__in=[PaymentStatus.PENDING, PaymentStatus.SENDING], created_at__lte=cutoff)
        .exclude(sent_at__gt=cutoff)
        .values_list("pk", flat=True)
    )
    for pk in stalled:
        payment_send_task.delay(pk)
    return len(stalled)


def payment_reverse(*, payment: Payment, transfer_id: str = "", reason: str = "") -> Payment:
    """The gateway reversed a transfer: the payment is reversed, its ledger posting reversed
    (paid → committed), and its invoice owed again. Idempotent: a reversed payment is left
    alone. A payment still `sending` when the reversal arrives is first completed (the transfer
    evidently existed), so events arriving out of order end in the same state."""
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.SENDING, PaymentStatus.FAILED) and transfer_id:
        payment = _complete(
            payment.pk,
            Transfer(id=transfer_id, amount=payment.amount, destination="", group=payment.run.transfer_group),
        )
    with transaction.atomic():
        payment = _lock(payment.pk)
        if payment.status != PaymentStatus.PAID:
            return payment
        ledger.reverse(
            original=payment.ledger_transaction,
            key=f"payment:{payment.pk}:reversed",
            memo=f"Transfer {payment.transfer_id} reversed by the gateway"[:300],
        )
        payment.reverse()
        payment.reversed_at = timezone.now()
        payment.last_error = (reason or "Reversed by the gateway")[:500]
        payment.save()
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=payment.invoice_id)
        invoice.payment_reversed()
        invoice.paid_at = None
        invoice.save()
        audit_record(
            actor=None,
            actor_username="payments",
            action=AuditAction.TRANSITION,
            target=payment,
            changes={"to": payment.status, "transfer": payment.transfer_id},
            message=reason,
        )
        _notify(
            None,
            _finance_users(),
            f"The transfer for payment {payment.pk} ({payment.amount} to {payment.provider.name}) was reversed; "
            f"invoice {payment.invoice_id} is owed again.",
            actor=None,
            link=reverse("payment-run-detail", args=[payment.run_id]),
        )
    return payment


# --- Stripe webhooks ------------------------------------------------------------------------


def stripe_event_receive(*, payload: bytes, signature: str) -> StripeEvent:
    """Verify a webhook's signature (400, nothing stored, when it is missing or wrong), store the
    event once by its id, and handle it once. A duplicate delivery returns the stored event."""
    import stripe

    if not settings.STRIPE_WEBHOOK_SECRET:
        raise InvalidInput("Webhooks are not configured (no STRIPE_WEBHOOK_SECRET).")
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise InvalidInput("The Stripe signature is missing or does not match.", field="signature") from exc
    data = event.to_dict() if hasattr(event, "to_dict") else dict(event)
    with transaction.atomic():
        stored, created = StripeEvent.objects.get_or_create(
            event_id=data["id"], defaults={"type": data.get("type", ""), "payload": data}
        )
    if created or stored.processed_at is None:
        outcome = _handle_event(data)
        StripeEvent.objects.filter(pk=stored.pk, processed_at__isnull=True).update(
            processed_at=timezone.now(), outcome=outcome[:300]
        )
        stored.refresh_from_db()
    return stored


def _payment_for(obj: dict) -> Payment | None:
    reference = (obj.get("metadata") or {}).get("payment")
    payment = None
    if reference and str(reference).isdigit():
        payment = Payment.objects.select_related("run").filter(pk=int(reference)).first()
    if payment is None and obj.get("id"):
        payment = Payment.objects.select_related("run").filter(transfer_id=obj["id"]).first()
    return payment


def _handle_event(data: dict) -> str:
    kind = data.get("type", "")
    obj = (data.get("data") or {}).get("object") or {}
    if kind in {"transfer.created", "transfer.updated", "transfer.reversed"}:
        payment = _payment_for(obj)
        if payment is None:
            return f"No payment for transfer {obj.get('id')}."
        if kind == "transfer.reversed" or obj.get("reversed") or obj.get("amount_reversed"):
            amount, reversed_amount = int(obj.get("amount") or 0), int(obj.get("amount_reversed") or 0)
            if not obj.get("reversed") and reversed_amount < amount:
                # A partial reversal: not undone automatically (paying the invoice again in full
                # would overpay); finance decides.
                _notify(
                    None,
                    _finance_users(),
                    f"Stripe reversed £{Decimal(reversed_amount) / 100:,.2f} of the £{Decimal(amount) / 100:,.2f} "
                    f"transfer for payment {payment.pk}: check it with the provider.",
                    actor=None,
                    link=reverse("payment-run-detail", args=[payment.run_id]),
                )
                return f"Partial reversal of payment {payment.pk}: finance told."
            payment_reverse(payment=payment, transfer_id=obj.get("id", ""), reason="Stripe reversed the transfer.")
            return f"Payment {payment.pk} reversed."
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.SENDING, PaymentStatus.FAILED):
            amount = Money(Decimal(obj.get("amount", 0)) / 100, str(obj.get("currency", "gbp")).upper())
            _complete(
                payment.pk, Transfer(id=obj["id"], amount=amount, destination="", group=payment.run.transfer_group)
            )
            return f"Payment {payment.pk} confirmed paid."
        return f"Payment {payment.pk} already {payment.status}."
    if kind == "account.updated":
        provider = Provider.objects.filter(stripe_account_id=obj.get("id", "")).first()
        if provider is None:
            return "No provider for that account."
        ready = bool(obj.get("details_submitted")) and bool(obj.get("payouts_enabled") or obj.get("charges_enabled"))
        provider_set_stripe_account(
            actor=None, provider=provider, account_id=provider.stripe_account_id, onboarded=ready
        )
        return f"Provider {provider.pk} onboarded: {ready}."
    return "Ignored."


# --- Reconciliation ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Difference:
    payment_id: int | None
    transfer_id: str
    problem: str


def payment_run_reconcile(*, run: PaymentRun) -> list[Difference]:
    """Compare the run's payments (and their ledger postings) with the gateway's transfers for the
    run's transfer group; every difference is listed. Raises `GatewayError` if the gateway
    cannot be asked."""
    transfers = {t.id: t for t in gateway(run.gateway).list_group(group=run.transfer_group)}
    by_reference = {t.metadata.get("payment"): t for t in transfers.values()}
    differences: list[Difference] = []
    seen: set[str] = set()
    for payment in run.payments.select_related("ledger_transaction").order_by("pk"):
        transfer = transfers.get(payment.transfer_id) if payment.transfer_id else by_reference.get(payment.reference)
        if transfer is not None:
            seen.add(transfer.id)
        status = payment.status
        if status in (PaymentStatus.PAID, PaymentStatus.REVERSED) and transfer is None:
            differences.append(
                Difference(payment.pk, payment.transfer_id, "Paid in Cairn, but the gateway has no transfer.")
            )
            continue
        if (
            status not in (PaymentStatus.PAID, PaymentStatus.REVERSED)
            and transfer is not None
            and not transfer.reversed
        ):
            differences.append(
                Difference(
                    payment.pk, transfer.id, f"The gateway has a transfer, but Cairn has the payment as {status}."
                )
            )
            continue
        if transfer is None:
            continue
        if transfer.amount != payment.amount:
            differences.append(
                Difference(
                    payment.pk, transfer.id, f"Amounts differ: Cairn {payment.amount}, gateway {transfer.amount}."
                )
            )
        if transfer.reversed and status != PaymentStatus.REVERSED:
            differences.append(Difference(payment.pk, transfer.id, "Reversed at the gateway, not in Cairn."))
        if status == PaymentStatus.REVERSED and not transfer.reversed:
            differences.append(Difference(payment.pk, transfer.id, "Reversed in Cairn, not at the gateway."))
        if status == PaymentStatus.PAID and (
            payment.ledger_transaction is None or payment.ledger_transaction.kind != "payment"
        ):
            differences.append(Difference(payment.pk, transfer.id, "Paid, but no payment posted to the ledger."))
    for transfer in transfers.values():
        if transfer.id not in seen:
            differences.append(
                Difference(None, transfer.id, f"A transfer of {transfer.amount} that matches no payment of this run.")
            )
    return differences


# --- Stripe onboarding ---------------------------------------------------------------------------


def provider_payments_onboard(*, actor: User, provider: Provider, refresh_url: str, return_url: str) -> str:
    """Provider staff set up payouts: create the organisation's Stripe connected account through
    the API when it has none (idempotently, keyed by the provider), store its id, and return the
    onboarding link to send them to. Enforces: the provider's own staff (404 otherwise)."""
    if actor.provider_id != provider.pk:
        raise NotVisible("No such provider.")
    gw = gateway()
    try:
        account = provider.stripe_account_id or gw.create_account(
            email=provider.email, name=provider.name, reference=str(provider.pk)
        )
        if not provider.stripe_account_id:
            provider = provider_set_stripe_account(actor=actor, provider=provider, account_id=account, onboarded=False)
        return gw.onboarding_link(account_id=account, refresh_url=refresh_url, return_url=return_url)
    except GatewayError as exc:
        raise StateConflict(f"The payment service did not answer: {exc.message} Try again in a few minutes.") from exc


def provider_payments_refresh(*, actor: User | None, provider: Provider) -> Provider:
    """Ask the gateway whether the provider's onboarding is complete, and store the answer."""
    if not provider.stripe_account_id:
        return provider
    try:
        ready = gateway().account_ready(account_id=provider.stripe_account_id)
    except GatewayError as exc:
        raise StateConflict(f"The payment service did not answer: {exc.message}") from exc
    return provider_set_stripe_account(
        actor=actor, provider=provider, account_id=provider.stripe_account_id, onboarded=ready
    )

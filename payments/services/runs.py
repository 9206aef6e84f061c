"""Payment runs (docs/payments.md): finance pays every confirmed invoice; each payment is sent
through the run's gateway, completed (ledger posting, invoice paid) or failed, retried, and
reversed when the gateway takes a transfer back.

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
An outside gateway is never called inside a database transaction; only a `transactional` one
(which writes to this database alone) is.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, StateConflict
from accounts.models import AuditAction, Role, User
from accounts.services import audit_record, notification_send
from budgets.models import LedgerTransaction
from budgets.services import ledger
from careplans.models import PlanStatus
from careplans.services import plan_paid_record
from providers.models import ProviderStatus

from ..exceptions import NothingToPay, PaymentNotYetSent
from ..gateways import GatewayAmbiguous, GatewayRefused, GatewayRetryLater, Transfer, gateway
from ..models import (
    Invoice,
    InvoiceStatus,
    Load,
    LoadStatus,
    PayeeAccount,
    Payment,
    PaymentKind,
    PaymentRun,
    PaymentStatus,
    PrepaidCard,
)
from ..permissions import can_run_payments

__all__ = [
    "PaymentNotYetSent",
    "load_contribution_memo",
    "loads_pay_due",
    "loads_settle_covered",
    "payment_give_up",
    "payment_retry",
    "payment_reverse",
    "payment_run_check_finished",
    "payment_run_start",
    "payment_send",
    "payments_resume_stalled",
]

LIVE = [PaymentStatus.PENDING, PaymentStatus.SENDING, PaymentStatus.PAID, PaymentStatus.FAILED]


def _finance_users() -> list[User]:
    return list(User.objects.filter(role=Role.FINANCE, is_active=True))


def tell_finance(payment: Payment, message: str) -> None:
    """Tell every finance officer about a payment that needs them (after the transaction commits)."""
    notification_send(
        recipients=_finance_users(),
        message=message,
        actor=None,
        link=reverse("payment-run-detail", args=[payment.run_id]),
        target=payment,
    )


def payment_run_start(*, actor: User, request=None, refuse_empty: bool = False) -> PaymentRun:
    """Finance pays every confirmed, unpaid invoice and every fund load that has fallen due.
    Enforces: finance (403). See `_run`. A run with nothing to pay is still recorded (the API's
    contract), unless `refuse_empty` (the web page): then `NothingToPay` is raised and no run is
    recorded, decided inside the run's transaction so a run started at the same moment that
    took the last invoices makes this one empty, not duplicated."""
    if not can_run_payments(actor):
        raise ActionNotAllowed("Only finance officers start payment runs.")
    loads_settle_covered()
    return _run(actor=actor, invoices=True, request=request, refuse_empty=refuse_empty)


def loads_pay_due(*, today: datetime.date | None = None) -> PaymentRun | None:
    """The daily job: a run of the fund loads that have fallen due (invoices wait for finance's
    runs). Nothing due: no run. Safe to run twice at once (see `_run`)."""
    today = today or timezone.localdate()
    loads_settle_covered(today=today)
    if not _due_loads(today).exists():
        return None
    return _run(actor=None, invoices=False)


def loads_settle_covered(*, today: datetime.date | None = None) -> int:
    """Due loads the person's contribution covers in full (nothing to pay): settled without a
    payment, the contribution recorded in the ledger, once each. Returns how many."""
    today = today or timezone.localdate()
    settled = 0
    covered = Load.objects.filter(
        status=LoadStatus.SCHEDULED, due__lte=today, plan__status=PlanStatus.APPROVED, amount=0, contribution__gt=0
    ).values_list("pk", flat=True)
    for load_id in list(covered):
        with transaction.atomic():
            load = (
                Load.objects.select_for_update(of=("self",))
                .select_related("account__budget", "plan")
                .filter(pk=load_id, status=LoadStatus.SCHEDULED, amount=0)
                .first()
            )
            if load is None:
                continue
            now = timezone.now()
            Load.objects.filter(pk=load.pk).update(status=LoadStatus.PAID, paid_at=now)
            _record_load_contribution(load, load.account.budget)
            settled += 1
    return settled


def _record_load_contribution(load: Load, budget) -> None:
    """The part of a load's period the person's contribution pays: paid out of the plan's
    commitment by the person, once per load (a load paid again after a reversal keeps it)."""
    key = f"load-contribution:{load.pk}"
    if load.contribution.amount <= 0 or LedgerTransaction.objects.filter(idempotency_key=key).exists():
        return
    plan_paid_record(plan_id=load.plan_id, amount=load.contribution)
    ledger.record_contribution(budget=budget, amount=load.contribution, key=key, memo=load_contribution_memo(load))


def load_contribution_memo(load: Load) -> str:
    return f"Contribution netted from the load for {load.period_start:%-d %b %Y} to {load.period_end:%-d %b %Y}"


def _due_loads(today: datetime.date):
    """Loads due by `today` of plans still in force, not held by another run's live payment."""
    return (
        Load.objects.filter(status=LoadStatus.SCHEDULED, due__lte=today, plan__status=PlanStatus.APPROVED, amount__gt=0)
        .exclude(payments__status__in=LIVE)
        .select_related("account")
        .order_by("due", "pk")
    )


def _run(*, actor: User | None, invoices: bool, request=None, refuse_empty: bool = False) -> PaymentRun:
    """One payment per invoice or load — those another run already holds are skipped by the
    database's unique constraints, so two runs started at once pay each once — then queue the
    sending after the transaction commits: up to `PAYMENT_RUN_WORKERS` tasks, each paying the
    run's payments a batch at a time until none is left (see `batches`)."""
    from ..tasks import payments_run_work

    with transaction.atomic():
        run = PaymentRun.objects.create(started_by=actor, gateway=settings.PAYMENT_GATEWAY)
        # The invoices and loads are read as plain values, not model objects: loading 10,000
        # invoices with their plans was a third of starting a run (bench/payment_run.py).
        rows = []
        if invoices:
            owed = (
                Invoice.objects.filter(status=InvoiceStatus.CONFIRMED)
                .exclude(payments__status__in=LIVE)
                .order_by("pk")
                .values_list("pk", "provider_id", "plan__budget_id", "amount", "amount_currency")
            )
            rows += [
                Payment(
                    run=run,
                    kind=PaymentKind.INVOICE,
                    invoice_id=pk,
                    provider_id=provider_id,
                    budget_id=budget_id,
                    amount=Money(amount, currency),
                    idempotency_key=f"cairn-invoice-{pk}-run-{run.pk}",
                )
                for pk, provider_id, budget_id, amount, currency in owed.iterator(chunk_size=2000)
            ]
        loads = _due_loads(timezone.localdate()).values_list(
            "pk", "account__kind", "account__holder_provider_id", "account__holder_id", "account__budget_id",
            "amount", "amount_currency",
        )  # fmt: skip
        rows += [
            Payment(
                run=run,
                kind=kind,
                load_id=pk,
                provider_id=provider_id,
                person_id=person_id,
                budget_id=budget_id,
                amount=Money(amount, currency),
                idempotency_key=f"cairn-load-{pk}-run-{run.pk}",
            )
            for pk, kind, provider_id, person_id, budget_id, amount, currency in loads.iterator(chunk_size=2000)
        ]
        Payment.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        figures = run.payments.aggregate(total=Sum("amount"))
        run.payment_count = run.payments.count()
        if run.payment_count == 0 and refuse_empty:
            raise NothingToPay()  # rolls back the run row: nothing is recorded
        run.total = Money(figures["total"] or Decimal(0), "GBP")
        if run.payment_count == 0:
            run.finished_at = timezone.now()
        run.save(update_fields=["payment_count", "total", "finished_at"])
        audit_record(
            actor=actor,
            actor_username="" if actor else "daily load job",
            action=AuditAction.CREATE,
            target=run,
            request=request,
            changes={"payments": run.payment_count, "total": f"{run.total.amount:.2f}", "gateway": run.gateway},
        )
        batches = -(-run.payment_count // settings.PAYMENT_SEND_BATCH_SIZE)
        for _ in range(min(settings.PAYMENT_RUN_WORKERS, batches)):
            payments_run_work.delay_on_commit(run.pk)
    return run


def _audit_transition(payment: Payment, *, transfer: str = "", message: str = "") -> None:
    """The audit row of a payment's state change, which the payments job (not a person) makes."""
    changes = {"to": payment.status, "transfer": transfer} if transfer else {"to": payment.status}
    audit_record(
        actor=None,
        actor_username="payments",
        action=AuditAction.TRANSITION,
        target=payment,
        changes=changes,
        message=message,
    )


def _destination(payment: Payment, gw) -> str | None:
    if payment.load_id and gw.issues_cards:
        # A direct payment on a prepaid card: the load goes to the card (it tops up the card balance).
        card = PrepaidCard.objects.filter(fund_id=payment.load.account_id, gateway=gw.name, active=True).first()
        if card is not None:
            return card.card_id
    account = None
    if gw.needs_account:
        payee = {"provider_id": payment.provider_id} if payment.provider_id else {"person_id": payment.person_id}
        account = PayeeAccount.objects.filter(gateway=gw.name, **payee).first()
    return gw.destination(payee=payment.payee_reference, account=account)


def _lock(payment_id: int) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("run", "provider", "person", "budget__client", "invoice", "load")
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
        if payment.provider_id and payment.provider.status != ProviderStatus.VERIFIED:
            # Only verified providers are paid; finance retries once reinstated.
            return _fail(payment, f"{payment.provider.name} is {payment.provider.get_status_display().lower()}.")
        gw = gateway(payment.run.gateway)
        destination = _destination(payment, gw)
        if destination is None:
            who = "The provider" if payment.provider_id else f"{payment.person.full_name}"
            return _fail(payment, f"{who} has not finished setting up {gw.label} payouts (onboarding).")
        # A `sending` payment's last attempt got no answer; a `failed` one being retried may have
        # failed after the gateway acted. Either way: look the transfer up before sending.
        unsure = payment.status in (PaymentStatus.SENDING, PaymentStatus.FAILED)
        retrying_failed = payment.status == PaymentStatus.FAILED
        payment.start_sending()
        payment.attempts += 1
        payment.sent_at = timezone.now()
        if gw.transactional:
            # The embedded gateway is this database: the whole payment is one transaction, so
            # there is no unanswered call to recover from (and one commit instead of three); the
            # `sending` state never needs to be written.
            transfer = gw.transfer(
                amount=payment.amount,
                destination=destination,
                key=payment.idempotency_key,
                group=payment.run.transfer_group,
                metadata=_metadata(payment),
            )
            return _complete_locked(payment, transfer, check_run=check_run)
        payment.save()
    group = payment.run.transfer_group
    try:
        if unsure:
            found = gw.find(group=group, payment_ref=payment.reference, destination=destination)
            if found is not None:
                return complete_payment(payment.pk, found, check_run=check_run)
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
            metadata=_metadata(payment),
            description=f"Cairn {payment.what}",
        )
    except (GatewayAmbiguous, GatewayRetryLater) as exc:
        _note_error(payment.pk, exc.message)
        raise PaymentNotYetSent(exc.message) from exc
    except GatewayRefused as exc:
        with transaction.atomic():
            return _fail(_lock(payment.pk), exc.message)
    return complete_payment(payment.pk, transfer, check_run=check_run)


def _metadata(payment: Payment) -> dict:
    """What the transfer carries to find the payment (and what it pays) again."""
    what = {"invoice": payment.invoice_id} if payment.invoice_id else {"load": payment.load_id}
    return {"payment": payment.reference, **what, "run": payment.run_id}


def _note_error(payment_id: int, message: str) -> None:
    Payment.objects.filter(pk=payment_id).update(last_error=message[:500])


def _fail(payment: Payment, message: str) -> Payment:
    """Inside the caller's transaction, with `payment` locked."""
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.SENDING):
        payment.fail()
        payment.last_error = message[:500]
        payment.claim = None
        payment.save()
        _audit_transition(payment, message=message)
        tell_finance(payment, f"Payment {payment.pk} of {payment.amount} to {payment.payee_name} failed: {message}")
        _finish_run_if_done(payment.run_id)
    return payment


def complete_payment(payment_id: int, transfer: Transfer, *, check_run: bool = True) -> Payment:
    """The gateway holds a transfer for this payment: mark it paid, post it to the ledger, mark
    the invoice paid — once, in one transaction."""
    with transaction.atomic():
        return _complete_locked(_lock(payment_id), transfer, check_run=check_run)


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
    payment.claim = None
    # The plan row before the ledger's rows: the order approving a plan takes them in, so a payment
    # and an approval of the plan's next version never wait on each other (a deadlock).
    plan_paid_record(plan_id=_plan_id(payment), amount=payment.amount)
    record = ledger.record_payment if payment.invoice_id else ledger.record_fund_load
    payment.ledger_transaction = record(
        budget=payment.budget,
        amount=payment.amount,
        key=f"payment:{payment.pk}",
        memo=f"Paid {payment.payee_name} for {payment.what}"[:300],
    )
    payment.save()
    if payment.invoice_id:
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=payment.invoice_id)
        invoice.mark_paid()
        invoice.paid_at = payment.paid_at
        invoice.save()
    else:
        Load.objects.filter(pk=payment.load_id).update(status=LoadStatus.PAID, paid_at=payment.paid_at)
        _record_load_contribution(payment.load, payment.budget)
        fund_id = payment.load.account_id
        # Only a gateway that issues cards can have paid onto one (no query for the others).
        if gateway(payment.run.gateway).issues_cards and PrepaidCard.objects.filter(fund_id=fund_id).exists():
            transaction.on_commit(lambda: _queue_card_limit_sync(fund_id))
    _audit_transition(payment, transfer=transfer.id)
    if check_run:
        _finish_run_if_done(payment.run_id)
    return payment


def _queue_card_limit_sync(fund_id: int) -> None:
    from ..tasks import card_limit_sync_task

    card_limit_sync_task.delay(fund_id)


def _plan_id(payment: Payment) -> int:
    """The plan whose commitment the payment draws on: the invoice's, or the plan that scheduled the load."""
    return payment.invoice.plan_id if payment.invoice_id else payment.load.plan_id


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
    of a worker that died mid-run. Each attempt is safe to repeat (see `payment_send`). Payments a
    live worker's batch holds (its claim's lock is held) are left to it, whatever their age; a dead
    worker's claims are cleared and its payments resumed at once."""
    from ..tasks import payment_send_task
    from .batches import claimer_alive

    cutoff = timezone.now() - older_than
    stalled = Payment.objects.filter(status__in=[PaymentStatus.PENDING, PaymentStatus.SENDING])
    claimed = set(stalled.filter(claim__isnull=False).values_list("claim", flat=True).distinct())
    dead = {claim for claim in claimed if not claimer_alive(claim)}
    stalled = list(
        stalled.filter(
            Q(claim__in=dead) | (Q(claim__isnull=True, created_at__lte=cutoff) & ~Q(sent_at__gt=cutoff))
        ).values_list("pk", flat=True)
    )
    if dead:
        Payment.objects.filter(claim__in=dead).update(claim=None)
    for pk in stalled:
        payment_send_task.delay(pk)
    return len(stalled)


def payment_reverse(*, payment: Payment, transfer_id: str = "", reason: str = "") -> Payment:
    """The gateway reversed a transfer: the payment is reversed, its ledger posting reversed
    (paid → committed), and its invoice owed again. Idempotent: a reversed payment is left
    alone. A payment still `sending` when the reversal arrives is first completed (the transfer
    evidently existed), so events arriving out of order end in the same state."""
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.SENDING, PaymentStatus.FAILED) and transfer_id:
        payment = complete_payment(
            payment.pk,
            Transfer(id=transfer_id, amount=payment.amount, destination="", group=payment.run.transfer_group),
        )
    with transaction.atomic():
        payment = _lock(payment.pk)
        if payment.status != PaymentStatus.PAID:
            return payment
        plan_paid_record(plan_id=_plan_id(payment), amount=-payment.amount)  # before the ledger rows
        ledger.reverse(
            original=payment.ledger_transaction,
            key=f"payment:{payment.pk}:reversed",
            memo=f"Transfer {payment.transfer_id} reversed by the gateway"[:300],
        )
        payment.reverse()
        payment.reversed_at = timezone.now()
        payment.last_error = (reason or "Reversed by the gateway")[:500]
        payment.save()
        if payment.invoice_id:
            invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=payment.invoice_id)
            invoice.payment_reversed()
            invoice.paid_at = None
            invoice.save()
        else:  # the load is owed again: the next run pays it
            Load.objects.filter(pk=payment.load_id).update(status=LoadStatus.SCHEDULED, paid_at=None)
        _audit_transition(payment, transfer=payment.transfer_id, message=reason)
        tell_finance(
            payment,
            f"The transfer for payment {payment.pk} ({payment.amount} to {payment.payee_name}) was reversed; "
            f"{payment.what} is owed again.",
        )
    return payment

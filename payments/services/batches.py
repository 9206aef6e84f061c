"""Payment runs paid in batches (docs/payments.md, "Batches and workers").

Why: paid one at a time, every payment cost about twenty statements and three commits, so a run of
thousands spent its time in the database, not at the gateway. A batch does the same work for many
payments with a handful of statements: the rows are claimed together, the ledger postings, state
changes and audit rows written together.

The guarantees are those of `runs.payment_send`, kept per payment:
- one payment per invoice or load (the database's constraints, unchanged);
- each payment's fixed idempotency key goes with its transfer;
- several workers may work on one run: each claims the next batch of the run's `pending`
  payments with `SELECT … FOR UPDATE SKIP LOCKED`, so no two claim the same payment;
- with Cairn's own (transactional) gateway the whole batch — transfers, ledger, states — is one
  transaction: a crash leaves nothing behind;
- with an outside gateway the calls are never made inside a transaction. The batch first marks its
  payments `sending` and commits, then sends, then completes the ones that were paid in one
  transaction. A worker killed in between leaves them `sending`, and every later attempt looks the
  transfer up before sending anything. On PostgreSQL the batch also holds a session-level advisory
  lock whose key it stores on its payments (`Payment.claim`): while the lock is held a live worker
  owns them and `payments_resume_stalled` leaves them alone; when the worker dies the database
  frees the lock, and they are resumed at once.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from django_fsm_log.models import StateLog

from accounts.bulk import update_each
from accounts.models import AuditAction
from accounts.services import audit_event, audit_record_many
from budgets.models import LedgerTransaction
from budgets.models import TransactionKind as Kind
from budgets.services import ledger
from careplans.services import plans_paid_record_many
from providers.models import ProviderStatus

from ..gateways import GatewayAmbiguous, GatewayError, GatewayRefused, GatewayRetryLater, Transfer, gateway
from ..models import (
    Invoice,
    InvoiceStatus,
    Load,
    LoadStatus,
    PayeeAccount,
    Payment,
    PaymentRun,
    PaymentStatus,
    PrepaidCard,
)
from .runs import (
    _fail,
    _finish_run_if_done,
    _lock,
    _metadata,
    _note_error,
    _plan_id,
    _queue_card_limit_sync,
    load_contribution_memo,
)

__all__ = ["claimer_alive", "payment_run_work"]

RELATED = ("run", "provider", "person", "budget__client", "invoice", "load")


def payment_run_work(*, run_id: int) -> int:
    """Pay the run's pending payments, a batch at a time, until none is left to claim. Any number
    of workers may call this for one run at once. Returns how many payments this call claimed."""
    run = PaymentRun.objects.get(pk=run_id)
    gw = gateway(run.gateway)
    claimed = 0
    if gw.transactional:
        while count := _transactional_batch(run, gw):
            claimed += count
    else:
        claimed = _outside_batches(run, gw)
    _finish_run_if_done(run_id)
    return claimed


def _claim(run: PaymentRun, size: int) -> list[Payment]:
    """The next `size` pending payments of the run that no other worker holds, locked."""
    return list(
        Payment.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(*RELATED)
        .filter(run_id=run.pk, status=PaymentStatus.PENDING)
        .order_by("pk")[:size]
    )


# The first key of the two-key advisory locks a transactional batch takes on its budgets (the
# two-key and one-key lock spaces do not overlap, so these never meet a batch's claim).
BUDGET_LOCKS = 0x43414952  # "CAIR"
CLAIM_ATTEMPTS = 5  # claims past budgets held elsewhere, before waiting for one of them


def _claim_whole_budgets(run: PaymentRun, size: int) -> list[Payment]:
    """The next claim of a transactional batch, kept to budgets no other batch is paying.

    Why: a batch locks its plans' rows and its budgets' ledger accounts until it commits, so two
    workers whose batches share a person wait for each other; with invoices of many people taken
    in turn, nearly every pair of batches did (two workers' statements waited for a lock in 39% of
    samples, bench/payment_run.py --clients 100). So the claim is taken in budget order and each
    of its budgets is held with a transaction-level advisory lock, taken without waiting. The
    payments of a budget another batch holds are left for later: their rows stay locked until this
    batch commits, so no one else claims them meanwhile, and they are pending again afterwards.
    A claim that finds only such budgets claims again past them, a few times; if every budget left
    is held elsewhere it waits for the first rather than spin. Only on PostgreSQL; elsewhere the
    claim is paid as claimed (one writer at a time)."""
    pending = (
        Payment.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(*RELATED)
        .filter(run_id=run.pk, status=PaymentStatus.PENDING)
        .order_by("budget_id", "pk")
    )
    if connection.vendor != "postgresql":
        return list(pending[:size])
    elsewhere: list[Payment] = []  # claimed, of budgets another batch holds
    for _ in range(CLAIM_ATTEMPTS):
        payments = list(pending.exclude(budget_id__in={p.budget_id for p in elsewhere})[:size])
        if not payments:
            break
        budgets = sorted({payment.budget_id for payment in payments})
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT b FROM unnest(%s::bigint[]) AS b WHERE pg_try_advisory_xact_lock(%s, (b %% 2147483647)::int)",
                [budgets, BUDGET_LOCKS],
            )
            held = {budget for (budget,) in cursor.fetchall()}
        if held:
            return [payment for payment in payments if payment.budget_id in held]
        elsewhere += payments
    if not elsewhere:
        return []
    first = min(payment.budget_id for payment in elsewhere)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, (%s %% 2147483647)::int)", [BUDGET_LOCKS, first])
    return [payment for payment in elsewhere if payment.budget_id == first]


def _screen(payments: list[Payment], gw) -> list[tuple[Payment, str]]:
    """The payments that can be sent, with where to: those to a provider no longer verified, or to
    a payee not yet set up with the gateway, fail (finance sees why and retries later)."""
    accounts: dict[tuple[str, int], PayeeAccount] = {}
    if gw.needs_account:
        providers = {p.provider_id for p in payments if p.provider_id}
        people = {p.person_id for p in payments if not p.provider_id}
        for account in PayeeAccount.objects.filter(gateway=gw.name, provider_id__in=providers):
            accounts["provider", account.provider_id] = account
        for account in PayeeAccount.objects.filter(gateway=gw.name, person_id__in=people):
            accounts["person", account.person_id] = account
    cards: dict[int, str] = {}
    if gw.issues_cards:
        funds = {p.load.account_id for p in payments if p.load_id}
        live_cards = PrepaidCard.objects.filter(fund_id__in=funds, gateway=gw.name, active=True)
        cards = dict(live_cards.values_list("fund_id", "card_id"))
    ready = []
    for payment in payments:
        if payment.provider_id and payment.provider.status != ProviderStatus.VERIFIED:
            _fail(payment, f"{payment.provider.name} is {payment.provider.get_status_display().lower()}.")
            continue
        destination = cards.get(payment.load.account_id) if payment.load_id else None
        if destination is None:
            payee = ("provider", payment.provider_id) if payment.provider_id else ("person", payment.person_id)
            destination = gw.destination(payee=payment.payee_reference, account=accounts.get(payee))
        if destination is None:
            who = "The provider" if payment.provider_id else payment.person.full_name
            _fail(payment, f"{who} has not finished setting up {gw.label} payouts (onboarding).")
            continue
        ready.append((payment, destination))
    return ready


def _start_sending(ready: list[tuple[Payment, str]]) -> None:
    """`start_sending` for the batch (checked and logged); each payment's own figures in memory."""
    if ready:
        _transitions([payment for payment, _ in ready], "start_sending")
    now = timezone.now()
    for payment, _ in ready:
        payment.attempts += 1
        payment.sent_at = now


def _transfer_args(payment: Payment, destination: str) -> dict:
    return {
        "amount": payment.amount,
        "destination": destination,
        "key": payment.idempotency_key,
        "group": payment.run.transfer_group,
        "metadata": _metadata(payment),
        "description": f"Cairn {payment.what}",
    }


def _transactional_batch(run: PaymentRun, gw) -> int:
    """Cairn's own gateway writes to this database only: one transaction pays the whole batch."""
    with transaction.atomic():
        payments = _claim_whole_budgets(run, settings.PAYMENT_BATCH_SIZE)
        if not payments:
            return 0
        ready = _screen(payments, gw)
        _start_sending(ready)
        items = [_transfer_args(payment, destination) for payment, destination in ready]
        try:
            transfers = gw.transfer_many(items) if hasattr(gw, "transfer_many") else None
        except GatewayRefused:
            transfers = None  # one of them was refused: send them one by one to tell which
        paid: list[tuple[Payment, Transfer]] = []
        for index, (payment, _) in enumerate(ready):
            if transfers is not None:
                paid.append((payment, transfers[index]))
                continue
            try:
                paid.append((payment, gw.transfer(**items[index])))
            except GatewayRefused as exc:
                _fail(payment, exc.message)
        _complete_many(paid)
    return len(payments)


@dataclass
class _OutBatch:
    """A batch whose transfers are out: its claim, its payments, and how to wait for the answers."""

    claim: int
    held: bool
    payments: list[Payment]
    ready: list[tuple[Payment, str]]
    answers: Callable[[], list[tuple[Payment, Transfer | GatewayError]]]

    def release(self) -> None:
        _release_claim(self.claim, self.held)

    def abandon(self) -> None:
        """Let its transfers come back before its claim is let go (the caller is failing)."""
        try:
            self.answers()
        finally:
            self.release()


def _outside_batches(run: PaymentRun, gw) -> int:
    """Pay the run's payments through an outside gateway a batch at a time; returns how many this
    call claimed. With `PAYMENT_SEND_CONCURRENCY` above one, the next batch is claimed and its
    transfers sent while this one is completed in the database: the worker's database work and
    the gateway's answers overlap instead of taking turns (each batch keeps every guarantee of
    `_outside_start` and `_outside_finish`)."""
    overlap = settings.PAYMENT_SEND_CONCURRENCY > 1
    claimed = 0
    batch = _outside_start(run, gw)
    while batch is not None:
        try:
            following = _outside_start(run, gw) if overlap else None
        except BaseException:
            batch.abandon()
            raise
        try:
            claimed += _outside_finish(batch)
        except BaseException:
            if following is not None:
                following.abandon()
            raise
        batch = following if overlap else _outside_start(run, gw)
    return claimed


def _outside_start(run: PaymentRun, gw) -> _OutBatch | None:
    """Claim the next batch, mark it `sending` with this worker's claim and commit; then start
    its transfers, outside any transaction. None when nothing is left to claim."""
    claim = secrets.randbits(62) + 1
    held = _hold_claim(claim)
    try:
        with transaction.atomic():
            payments = _claim(run, settings.PAYMENT_SEND_BATCH_SIZE)
            if not payments:
                _release_claim(claim, held)
                return None
            ready = _screen(payments, gw)
            _start_sending(ready)
            Payment.objects.filter(pk__in=[p.pk for p, _ in ready]).update(
                status=PaymentStatus.SENDING, attempts=F("attempts") + 1, sent_at=timezone.now(),
                claim=claim if held else None,
            )  # fmt: skip
        answers = _send_all(gw, ready)
    except BaseException:
        _release_claim(claim, held)
        raise
    return _OutBatch(claim, held, payments, ready, answers)


def _outside_finish(batch: _OutBatch) -> int:
    """Wait for the batch's answers; complete the paid ones together, fail the refused ones, and
    give each unanswered one its own retrying task (which looks the transfer up first)."""
    try:
        paid: list[tuple[int, Transfer]] = []
        later: list[int] = []
        for payment, outcome in batch.answers():
            if isinstance(outcome, Transfer):
                paid.append((payment.pk, outcome))
            elif isinstance(outcome, GatewayRefused):
                with transaction.atomic():
                    _fail(_lock(payment.pk), outcome.message)
            else:
                _note_error(payment.pk, outcome.message)
                later.append(payment.pk)
        with transaction.atomic():
            # Lock the paid ones again and take their state and attempts now (another attempt may
            # have completed one meanwhile). The rest of each payment, and what it is for, is as
            # claimed: those rows change only under the payment's lock, which the claim held or
            # this now holds. (Reading them all again cost as much as the claim itself.)
            claimed = {payment.pk: payment for payment, _ in batch.ready}
            states = Payment.objects.select_for_update(of=("self",)).filter(pk__in=[pk for pk, _ in paid])
            done = set()
            for pk, status, attempts in states.order_by("pk").values_list("pk", "status", "attempts"):
                claimed[pk].attempts = attempts
                if status in (PaymentStatus.PAID, PaymentStatus.REVERSED):
                    done.add(pk)
            _complete_many([(claimed[pk], transfer) for pk, transfer in sorted(paid) if pk not in done])
            Payment.objects.filter(pk__in=later).update(claim=None)
    finally:
        batch.release()
    if later:
        from ..tasks import payment_send_task

        for payment_id in later:
            payment_send_task.apply_async((payment_id,), countdown=settings.PAYMENT_RETRY_BACKOFF_SECONDS)
    return len(batch.payments)


def _send_all(gw, ready: list[tuple[Payment, str]]) -> Callable[[], list[tuple[Payment, Transfer | GatewayError]]]:
    """Start the batch's transfers, `PAYMENT_SEND_CONCURRENCY` at a time, and return how to wait
    for each payment's transfer or the gateway's error. Why at once: a gateway call is mostly
    waiting on the network (Stripe answers in a few hundred milliseconds), and sent one after
    another they leave a worker idle. Safe: every transfer carries its payment's own fixed key, and
    the threads only talk to the gateway — what comes back is written to the database by the
    caller, in its own thread. With one at a time they are sent here, before this returns."""

    def send(item: tuple[Payment, str]) -> tuple[Payment, Transfer | GatewayError]:
        payment, destination = item
        try:
            return payment, gw.transfer(**_transfer_args(payment, destination))
        except (GatewayAmbiguous, GatewayRetryLater, GatewayRefused) as exc:
            return payment, exc
        except GatewayError as exc:  # any other gateway error: not known to be sent, so look up later
            return payment, GatewayAmbiguous(exc.message)

    width = settings.PAYMENT_SEND_CONCURRENCY
    if width <= 1:
        answers = [send(item) for item in ready]
        return lambda: answers
    futures = [_sender(width).submit(send, item) for item in ready]
    return lambda: [future.result() for future in futures]


_senders: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _sender(width: int) -> ThreadPoolExecutor:
    """This process's sending threads, kept between batches so each keeps its HTTP connection
    open. Keyed by the process id too: a forked worker child makes its own."""
    key = (os.getpid(), width)
    if key not in _senders:
        _senders[key] = ThreadPoolExecutor(max_workers=width, thread_name_prefix="payment-send")
    return _senders[key]


def _complete_many(paid: list[tuple[Payment, Transfer]]) -> None:
    """`runs._complete_locked` for a batch, inside the caller's transaction with the payments
    locked: each is marked paid once, posted to the ledger once (key `payment:<id>`), its invoice
    or load marked paid, a load's contribution recorded once — in a few statements in all."""
    now = timezone.now()
    done: list[tuple[Payment, Transfer]] = []
    for payment, transfer in paid:
        if payment.status in (PaymentStatus.PAID, PaymentStatus.REVERSED):
            continue
        if transfer.amount != payment.amount:
            _fail(payment, f"The gateway's transfer {transfer.id} is for {transfer.amount}, not {payment.amount}.")
            continue
        payment.transfer_id = transfer.id
        done.append((payment, transfer))
    if not done:
        return
    # A transactional batch's payments are still `pending` in memory: they went through `sending`.
    _transitions([payment for payment, _ in done], "succeed", source=PaymentStatus.SENDING)
    loads = [payment.load for payment, _ in done if payment.load_id and payment.load.contribution.amount > 0]
    keys = {f"load-contribution:{load.pk}": load for load in loads}
    recorded = set(LedgerTransaction.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    contributions = {key: load for key, load in keys.items() if key not in recorded}

    # The plans' rows before the ledger's: the order one payment (and an approval) takes them in.
    by_plan: dict[int, Decimal] = defaultdict(Decimal)
    for payment, _ in done:
        by_plan[_plan_id(payment)] += payment.amount.amount
    for load in contributions.values():
        by_plan[load.plan_id] += load.contribution.amount
    plans_paid_record_many(by_plan)

    entries = []
    for payment, _ in done:
        entries.append(
            ledger.Entry(
                kind=Kind.PAYMENT if payment.invoice_id else Kind.FUND_LOAD,
                budget=payment.budget,
                amount=payment.amount,
                key=f"payment:{payment.pk}",
                memo=f"Paid {payment.payee_name} for {payment.what}"[:300],
            )
        )
        key = f"load-contribution:{payment.load_id}"
        if key in contributions:
            load = contributions[key]
            entries.append(
                ledger.Entry(
                    kind=Kind.CONTRIBUTION,
                    budget=payment.budget,
                    amount=load.contribution,
                    key=key,
                    memo=load_contribution_memo(load),
                )
            )
    transactions = ledger.record_many(entries)
    for payment, _ in done:
        payment.ledger_transaction = transactions[f"payment:{payment.pk}"]
    # What every payment of the batch now has in common, then what each has of its own. `attempts`
    # and `sent_at` are written here too: a transactional batch never wrote its `sending` step.
    ids = [payment.pk for payment, _ in done]
    sent = {payment.sent_at for payment, _ in done}
    Payment.objects.filter(pk__in=ids).update(
        status=PaymentStatus.PAID, paid_at=now, last_error="", claim=None,
        **({"sent_at": sent.pop()} if len(sent) == 1 else {}),
    )  # fmt: skip
    update_each(
        Payment,
        ["transfer_id", "ledger_transaction", "attempts"],
        [(p.pk, p.transfer_id, p.ledger_transaction.pk, p.attempts) for p, _ in done],
    )

    invoice_ids = [payment.invoice_id for payment, _ in done if payment.invoice_id]
    if invoice_ids:
        invoices = list(Invoice.objects.select_for_update(of=("self",)).filter(pk__in=invoice_ids).order_by("pk"))
        _transitions(invoices, "mark_paid")
        Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(status=InvoiceStatus.PAID, paid_at=now)
    load_payments = [payment for payment, _ in done if payment.load_id]
    if load_payments:
        Load.objects.filter(pk__in=[p.load_id for p in load_payments]).update(status=LoadStatus.PAID, paid_at=now)
        if gateway(load_payments[0].run.gateway).issues_cards:
            funds = {p.load.account_id for p in load_payments}
            for fund_id in set(PrepaidCard.objects.filter(fund_id__in=funds).values_list("fund_id", flat=True)):
                transaction.on_commit(lambda fund_id=fund_id: _queue_card_limit_sync(fund_id))
    audit_record_many(
        [
            audit_event(
                actor=None,
                actor_username="payments",
                action=AuditAction.TRANSITION,
                target=payment,
                changes={"to": PaymentStatus.PAID, "transfer": transfer.id},
            )
            for payment, transfer in done
        ]
    )


def _transitions(objects: list, name: str, *, source: str | None = None) -> str:
    """Check each object's workflow transition `name` from its state (or `source`) and write the
    rows django-fsm-log would write for it (none for a model it ignores), in one statement; returns the target state,
    which the caller writes with one UPDATE. Why not call the transition on each: fsm-log then
    inserts a row per object (nine tenths of a batch's time went there)."""
    model = type(objects[0])
    logged = f"{model.__module__}.{model.__qualname__}" not in settings.DJANGO_FSM_LOG_IGNORED_MODELS
    content_type = ContentType.objects.get_for_model(model)
    target, logs = "", []
    for obj in objects:
        state = source or obj.status
        transition = getattr(type(obj), name)._django_fsm.get_transition(state)
        if transition is None:
            raise TransitionNotAllowed(f"{obj} cannot {name} from {state}.", object=obj, method=name)
        target = transition.target
        logs.append(
            StateLog(content_type=content_type, object_id=obj.pk, transition=name, source_state=state, state=target)
        )
    if logged:  # as fsm-log itself does: models it is told to ignore get no rows
        StateLog.objects.bulk_create(logs)
    return target


def _hold_claim(claim: int) -> bool:
    """Take the advisory lock `claim` on this worker's database session while its batch is out
    (PostgreSQL); whether it is held. Elsewhere a claim cannot be checked, so none is stored and a
    stalled payment is resumed by its age, as before."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [claim])
    return True


def _release_claim(claim: int, held: bool) -> None:
    if held:
        with contextlib.suppress(Exception), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [claim])


def claimer_alive(claim: int) -> bool:
    """Whether the batch that stored `claim` is still out: its worker's session holds the lock. A
    free lock (the worker died, and its session with it) is taken and let go at once."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [claim])
        free = cursor.fetchone()[0]
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [claim])
    return not free

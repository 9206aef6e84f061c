"""Payment runs paid in batches by real Celery workers on Redis and PostgreSQL (the shape of
test_worker_crash.py, whose helpers and fixtures these reuse).

1. Cairn's own (ledger) gateway pays a batch in one transaction. A worker is SIGKILLed while a
   batch is inside that transaction — held there, from the test, by a second session that has
   locked one budget's ledger accounts, which the batch's `ledger.record_many` must lock too. The
   killed transaction leaves nothing behind (no transfer, no posting, no state); a new worker's
   `worker_ready` hook resumes what is left and the run finishes: every invoice and load paid once,
   one transfer each, the ledger in agreement with its postings.
2. Two worker processes (one pool process each) share one run of a few hundred invoices through
   the Stripe fake, in batches of ten claimed with SKIP LOCKED: every invoice paid exactly once,
   one transfer each at the fake, no idempotency key sent twice, and both workers did part of it.

Runs only with Redis and PostgreSQL (see tests/payments/worker_fixtures.py):

    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn \\
        .venv/bin/python -m pytest tests/payments/test_batch_worker_crash.py
"""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

from __future__ import annotations

import collections
import re
import time

import pytest
from django.db import connection

from accounts.models import AuditAction
from accounts.money import to_pence
from budgets.models import LedgerTransaction
from budgets.selectors import budget_figures
from payments import services
from payments.models import (
    Invoice,
    InvoiceStatus,
    LedgerGatewayTransfer,
    Load,
    LoadStatus,
    Payment,
    PaymentRun,
    PaymentStatus,
)
from tests.payments.payment_fixtures import assert_ledger_balances, gbp, onboard, pay_world  # noqa: F401
from tests.payments.test_batches import assert_paid_exactly_once, confirmed_invoices, other_session
from tests.payments.test_load_concurrency import audit_rows, make_dp_holder  # noqa: F401  (fixture)
from tests.payments.test_worker_crash import RESUMED, RUN_TIMEOUT, statuses, wait_until
from tests.payments.worker_fixtures import celery_workers, redis_and_postgresql  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WORKED = re.compile(r"payments\.payment_run_work\[[^\]]+\] succeeded in [^:]+: (\d+)")


def describe(run_id: int, workers) -> str:
    return f"payments: {dict(statuses(run_id))}\n" + "\n".join(
        f"--- worker {w.name} (pid {w.pid}):\n{w.tail()}" for w in workers.started
    )


def waiting_on(locker_pid: int) -> list[int]:
    """The sessions of this database waiting for a lock `locker_pid` holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND %s = ANY(pg_blocking_pids(pid))",
            [locker_pid],
        )
        return [row[0] for row in cursor.fetchall()]


def session_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] > 0


INVOICES = 45  # batches of ten: four of invoices, then five invoices and five of the six loads
HOLDERS = 3  # each with two loads due; the last one's budget is locked by the test


def test_worker_killed_inside_a_ledger_batch_transaction_leaves_nothing_and_a_new_worker_pays_each_once(
    redis_and_postgresql,
    pay_world,
    make_dp_holder,
    settings,
    celery_workers,
):
    assert settings.PAYMENT_GATEWAY == "ledger"
    invoices = confirmed_invoices(pay_world, INVOICES)
    holders = [make_dp_holder(started_days_ago=30, days=84) for _ in range(HOLDERS)]
    loads = [load for holder in holders for load in holder.due]
    count = len(invoices) + len(loads)
    budgets = [pay_world.budget] + [holder.budget for holder in holders]
    before = {budget.pk: budget_figures(budget) for budget in budgets}
    worker_env = {"PAYMENT_GATEWAY": "ledger", "PAYMENT_BATCH_SIZE": "10"}

    # 1. A worker, ready: its own worker_ready hook has already looked for stalled payments (none).
    first = celery_workers.start("first", **worker_env)
    assert int(first.wait_for_log(RESUMED.pattern, timeout=30).group(1)) == 0

    # 2. Another session locks the last holder's ledger accounts (as a payment of theirs would),
    #    then finance starts the run. Its payments are claimed in id order, ten at a time: the
    #    invoices' four batches are paid; the fifth, with that holder's first load, waits for the
    #    lock inside its transaction, having claimed its payments and written their transfers.
    locker = other_session()
    try:
        locker.autocommit = False
        locked = locker.execute(
            "SELECT id FROM budgets_ledgeraccount WHERE budget_id = %s ORDER BY id FOR UPDATE", [holders[-1].budget.pk]
        ).fetchall()
        assert len(locked) == 3
        run = services.payment_run_start(actor=pay_world.finance)
        assert run.payment_count == count
        blocked = wait_until(
            lambda: waiting_on(locker.info.backend_pid),
            timeout=30,
            what="the worker's batch to wait for the ledger lock",
            describe=lambda: describe(run.pk, celery_workers),
        )
        assert len(blocked) == 1, blocked
        wait_until(
            lambda: statuses(run.pk)[PaymentStatus.PAID] == 40,
            timeout=10,
            what="the four batches before it to be paid",
            describe=lambda: describe(run.pk, celery_workers),
        )

        # 3. SIGKILL the worker and its pool while its batch is inside the transaction; then let go.
        first.kill()
        killed_at = time.monotonic()
    finally:
        locker.close()
    # The dead worker's session gets the lock, fails to answer its client and rolls back.
    wait_until(lambda: not session_alive(blocked[0]), timeout=30, what="the killed worker's session to end")

    # 4. The killed transaction left nothing: 40 paid, the rest pending as if never claimed.
    run.refresh_from_db()
    assert run.finished_at is None
    assert statuses(run.pk) == {PaymentStatus.PAID: 40, PaymentStatus.PENDING: count - 40}
    paid = list(run.payments.filter(status=PaymentStatus.PAID))
    assert {p.invoice_id for p in paid} == {i.pk for i in invoices[:40]}
    assert set(LedgerGatewayTransfer.objects.values_list("idempotency_key", flat=True)) == {
        p.idempotency_key for p in paid
    }
    assert set(
        LedgerTransaction.objects.filter(idempotency_key__startswith="payment:").values_list(
            "idempotency_key", flat=True
        )
    ) == {f"payment:{p.pk}" for p in paid}
    pending = list(run.payments.filter(status=PaymentStatus.PENDING))
    assert {(p.attempts, p.sent_at, p.claim) for p in pending} == {(0, None, None)}
    assert audit_rows(Payment, [p.pk for p in pending], AuditAction.TRANSITION) == {}
    assert not Load.objects.filter(pk__in=[load.pk for load in loads], status=LoadStatus.PAID).exists()
    assert Invoice.objects.filter(pk__in=[i.pk for i in invoices], status=InvoiceStatus.PAID).count() == 40
    for budget in budgets:
        assert_ledger_balances(budget)

    # 5. A new worker: its worker_ready hook queues every payment left, and the run finishes.
    second = celery_workers.start("second", **worker_env)
    assert int(second.wait_for_log(RESUMED.pattern, timeout=30).group(1)) == count - 40
    wait_until(
        lambda: PaymentRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists(),
        timeout=RUN_TIMEOUT,
        what="the run to finish after the restart",
        describe=lambda: describe(run.pk, celery_workers),
        interval=0.05,
    )
    print(f"\nkill → run finished in {time.monotonic() - killed_at:.1f}s")

    # 6. Every invoice and load paid exactly once: one transfer, one ledger movement, one audit row
    #    each; each budget paid what its payments add up to, and agrees with its postings.
    payments = assert_paid_exactly_once(run)
    assert len(payments) == count == LedgerGatewayTransfer.objects.count()
    assert sorted(p.invoice_id for p in payments if p.invoice_id) == sorted(i.pk for i in invoices)
    assert sorted(p.load_id for p in payments if p.load_id) == sorted(load.pk for load in loads)
    for budget in budgets:
        spent = sum((p.amount for p in payments if p.budget_id == budget.pk), gbp(0))
        assert budget_figures(budget).paid - before[budget.pk].paid == spent
        assert_ledger_balances(budget)


SHARED_INVOICES = 300
TRANSFER_DELAY = 0.01  # seconds the fake takes over each transfer: the run lasts long enough to share


def test_two_workers_share_a_run_of_hundreds_and_pay_each_invoice_exactly_once(
    redis_and_postgresql,
    pay_world,
    stripe_fake,
    settings,
    celery_workers,
):
    fake = stripe_fake
    settings.PAYMENT_GATEWAY = "stripe"
    settings.PAYMENT_SEND_BATCH_SIZE = 10  # the run queues PAYMENT_RUN_WORKERS (4) tasks
    onboard(pay_world, fake)
    invoices = confirmed_invoices(pay_world, SHARED_INVOICES, units="0.1")
    owed = sum((invoice.amount for invoice in invoices), gbp(0))
    before = budget_figures(pay_world.budget)
    assert before.committed - before.paid >= owed
    worker_env = {
        "PAYMENT_GATEWAY": "stripe",
        "PAYMENT_SEND_BATCH_SIZE": "10",
        "PAYMENT_RETRY_BACKOFF_SECONDS": "1",
        "STRIPE_TIMEOUT_SECONDS": "5",
    }

    # 1. Two workers, each one process, both ready. (Either may take the other's worker_ready
    #    look for stalled payments: wait for both looks, in either log.)
    workers = [celery_workers.start("one", concurrency=1, **worker_env)]
    assert int(workers[0].wait_for_log(RESUMED.pattern, timeout=30).group(1)) == 0
    workers.append(celery_workers.start("two", concurrency=1, **worker_env))

    def looked() -> list[int] | None:
        found = [int(n) for w in workers for n in RESUMED.findall(w.log())]
        return found if len(found) == 2 else None

    looks = wait_until(
        looked,
        timeout=30,
        what="the second worker to be ready",
        describe=lambda: "\n".join(f"--- worker {w.name}:\n{w.tail()}" for w in workers),
    )
    assert looks == [0, 0]

    # 2. Finance starts the run: its tasks go to whichever worker is free; each claims batches of
    #    ten until none is left.
    fake.fail_next("POST /v1/transfers$", "timeout", times=1_000_000, sleep=TRANSFER_DELAY)
    run = services.payment_run_start(actor=pay_world.finance)
    assert (run.payment_count, run.total) == (SHARED_INVOICES, owed)
    wait_until(
        lambda: PaymentRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists(),
        timeout=RUN_TIMEOUT,
        what="the run to finish",
        describe=lambda: describe(run.pk, celery_workers),
        interval=0.05,
    )

    # 3. Both workers did part of it, and between them each payment was claimed once. (The run's
    #    last tasks, finding nothing left, log 0; wait for every one of them.)
    def claimed() -> list[list[int]]:
        return [[int(n) for n in WORKED.findall(worker.log())] for worker in workers]

    wait_until(
        lambda: sum(len(c) for c in claimed()) == settings.PAYMENT_RUN_WORKERS,
        timeout=30,
        what="every payment_run_work task to finish",
        describe=lambda: describe(run.pk, celery_workers),
    )
    by_worker = claimed()
    print(f"\npayments claimed by each worker's tasks: {by_worker}")
    assert all(sum(tasks) > 0 for tasks in by_worker), by_worker
    assert sum(sum(tasks) for tasks in by_worker) == SHARED_INVOICES

    # 4. Every invoice paid exactly once: one transfer each at the fake, of its amount, none twice;
    #    each idempotency key sent once.
    payments = list(Payment.objects.filter(run=run).order_by("pk"))
    assert collections.Counter(p.status for p in payments) == {PaymentStatus.PAID: SHARED_INVOICES}
    assert {(p.attempts, p.claim) for p in payments} == {(1, None)}
    assert fake.transfer_count() == SHARED_INVOICES
    transfers = fake.transfers
    by_payment = collections.Counter(t["metadata"]["payment"] for t in transfers)
    assert by_payment == {p.reference: 1 for p in payments}
    sent_keys = collections.Counter(r.idempotency_key for r in fake.requests_to("POST", "/v1/transfers"))
    assert sent_keys == {p.idempotency_key: 1 for p in payments}
    transfer_of = {t["metadata"]["payment"]: t for t in transfers}
    for payment in payments:
        transfer = transfer_of[payment.reference]
        assert payment.transfer_id == transfer["id"]
        assert transfer["amount"] == to_pence(payment.amount)
        assert transfer["metadata"]["invoice"] == str(payment.invoice_id)
    assert sorted(p.invoice_id for p in payments) == sorted(i.pk for i in invoices)
    assert not Invoice.objects.filter(pk__in=[i.pk for i in invoices]).exclude(status=InvoiceStatus.PAID).exists()
    pks = [p.pk for p in payments]
    assert audit_rows(Payment, pks, AuditAction.TRANSITION) == {str(pk): 1 for pk in pks}
    keys = [f"payment:{pk}" for pk in pks]
    assert collections.Counter(
        LedgerTransaction.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    ) == dict.fromkeys(keys, 1)
    assert fake.balance() == fake.initial_balance - to_pence(owed)

    # 5. The ledger: the run's total paid, once; the running balances agree with the postings.
    after = budget_figures(pay_world.budget)
    assert after.paid - before.paid == run.total == owed
    assert after.committed == before.committed
    assert_ledger_balances(pay_world.budget)

"""A Celery worker killed in the middle of a payment run (issue 7): a real worker on Redis, paying
through the Stripe fake, is SIGKILLed (with its pool processes) while one transfer is in flight —
made at the fake, its answer not yet received, its payment left `sending` — and two batches (of
ten, one per pool process) are half done. A new worker is started; its `worker_ready` hook queues
`payments_resume_stalled`, and the run finishes. Every invoice is then paid exactly once: one
transfer each at the fake, none twice, none missing, and the ledger agrees.

The Redis transport would redeliver the dead worker's unacknowledged batches only after its
visibility timeout (an hour), so this checks that the restart alone finishes the run.

Runs only with Redis and PostgreSQL (see tests/approvals/worker_fixtures.py):

    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn \\
        .venv/bin/python -m pytest tests/approvals/test_worker_crash.py
"""

from __future__ import annotations

import collections
import datetime
import re
import time

import pytest
from django.utils import timezone

from accounts.money import to_pence
from budgets.selectors import budget_figures, budget_figures_from_postings
from payments import services
from payments.models import Invoice, InvoiceStatus, Payment, PaymentRun, PaymentStatus
from tests.payments.payment_fixtures import gbp, onboard, pay_world  # noqa: F401
from tests.payments.worker_fixtures import celery_workers, redis_and_postgresql  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

INVOICES_PER_PROVIDER = 65  # 130 invoices: 13 batches of ten, two at a time (one per pool process)
TRANSFER_DELAY = 0.05  # seconds the fake takes over each transfer before the crash
CLIENT_TIMEOUT = 5.0  # the worker's Stripe timeout: the window in which the kill lands
HELD_FOR = 60.0  # the in-flight transfer's answer is held past the kill (cut short by the fake's reset)
RUN_TIMEOUT = 60.0
RESUMED = re.compile(r"payments\.payments_resume_stalled\[[^\]]+\] succeeded in [^:]+: (\d+)")


def wait_until(predicate, *, timeout: float, what: str, describe=lambda: "", interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout}s waiting for {what}.\n{describe()}")
        time.sleep(interval)


def statuses(run_id: int) -> collections.Counter:
    return collections.Counter(Payment.objects.filter(run_id=run_id).values_list("status", flat=True))


def kill_while_a_transfer_is_held(fake, worker, run_id: int, count: int, progress, *, what: str):
    """Once a quarter of the run's `count` payments are paid (both batches still going), hold the
    next transfer's answer (the fake makes it, then waits) and SIGKILL `worker` and its pool while
    that request is in flight. Returns the held request and when the worker was killed."""
    wait_until(
        lambda: statuses(run_id)[PaymentStatus.PAID] >= count // 4,
        timeout=30,
        what=f"{count // 4} of {count} {what} paid by the first worker",
        describe=progress,
    )
    seen = len(fake.requests)
    fake.clear_faults()
    fake.fail_next("POST /v1/transfers$", "timeout", times=1, sleep=HELD_FOR)

    def held_request():
        for record in fake.requests[seen:]:
            if record.method == "POST" and record.path == "/v1/transfers" and record.fault == "timeout":
                # `status` is set once the fake has made the transfer, before it holds the answer.
                return record if record.status is not None else None
        return None

    held = wait_until(held_request, timeout=10, what="the held transfer to be made", describe=progress, interval=0.005)
    worker.kill()
    return held, time.monotonic()


def confirmed_invoices(world, per_provider: int) -> list[Invoice]:
    """`per_provider` confirmed invoices on each of the world's plan lines, one day each, bulk
    inserted (the invoice workflow itself is tested elsewhere): one unit at the line's price."""
    now = timezone.now()
    rows = []
    for provider in world.providers:
        line = world.lines[provider.pk]
        assert line.start + datetime.timedelta(days=per_provider - 1) <= line.end
        for n in range(per_provider):
            day = line.start + datetime.timedelta(days=n)
            rows.append(
                Invoice(
                    line=line,
                    plan=world.plan,
                    provider_id=provider.pk,
                    period_start=day,
                    period_end=day,
                    units=1,
                    unit_price=line.unit_price,
                    amount=line.unit_price,
                    status=InvoiceStatus.CONFIRMED,
                    reference=f"CRASH-{provider.pk}-{n + 1:03d}",
                    submitted_by=world.staff[provider.pk],
                    decided_by=world.client,
                    decided_at=now,
                )
            )
    return Invoice.objects.bulk_create(rows)


def test_worker_killed_mid_run_restarts_and_pays_every_invoice_once(
    redis_and_postgresql,  # noqa: F811
    pay_world,  # noqa: F811
    stripe_fake,
    settings,
    celery_workers,  # noqa: F811
):
    fake = stripe_fake
    settings.PAYMENT_GATEWAY = "stripe"
    onboard(pay_world, fake)
    invoices = confirmed_invoices(pay_world, INVOICES_PER_PROVIDER)
    count = len(invoices)
    owed = sum((invoice.amount for invoice in invoices), gbp(0))
    budget = pay_world.budget
    before = budget_figures(budget)
    assert before.committed - before.paid >= owed, "the plan must have committed enough to pay every invoice"
    worker_env = {
        "PAYMENT_GATEWAY": "stripe",
        "PAYMENT_RETRY_BACKOFF_SECONDS": "1",
        # Batches of ten: the run is paid in steps the kill can land between (and inside).
        "PAYMENT_SEND_BATCH_SIZE": "10",
        "STRIPE_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT),
    }

    # 1. A worker, ready: its own worker_ready hook has already looked for stalled payments (none).
    first = celery_workers.start("first", **worker_env)
    assert int(first.wait_for_log(RESUMED.pattern, timeout=30).group(1)) == 0

    # 2. Finance starts the run: 130 payments, paid after its commit in batches of ten.
    fake.fail_next("POST /v1/transfers$", "timeout", times=1_000_000, sleep=TRANSFER_DELAY)
    run = services.payment_run_start(actor=pay_world.finance)
    assert run.payment_count == count
    assert run.total == owed

    def progress() -> str:
        return f"payments: {dict(statuses(run.pk))}; transfers at the fake: {fake.transfer_count()}\n" + "\n".join(
            f"--- worker {w.name} (pid {w.pid}):\n{w.tail()}" for w in celery_workers.started
        )

    # 3. A quarter paid, both batches still going: hold the next transfer's answer (the fake
    #    makes it, then waits), and SIGKILL the worker and its pool while that request is in flight.
    held, killed_at = kill_while_a_transfer_is_held(fake, first, run.pk, count, progress, what="payments")
    assert held.status == 200, held

    # 4. The run is left unfinished, one payment `sending` with a transfer the database does not know.
    run.refresh_from_db()
    assert run.finished_at is None
    after_crash = statuses(run.pk)
    assert 0 < after_crash[PaymentStatus.PAID] < count, progress()
    assert after_crash[PaymentStatus.FAILED] == 0, progress()
    in_flight = Payment.objects.get(pk=int(held.params["metadata"]["payment"]))
    assert in_flight.status == PaymentStatus.SENDING, progress()
    assert in_flight.idempotency_key == held.idempotency_key
    assert [t["metadata"]["payment"] for t in fake.transfers].count(in_flight.reference) == 1
    unfinished = after_crash[PaymentStatus.PENDING] + after_crash[PaymentStatus.SENDING]
    assert unfinished == count - after_crash[PaymentStatus.PAID]

    # 5. A new worker: its worker_ready hook queues every stalled payment again, and the run ends.
    second = celery_workers.start("second", **worker_env)
    resumed = int(second.wait_for_log(RESUMED.pattern, timeout=30).group(1))
    # Every payment the dead worker's batches held is resumed at once (their claims' locks died
    # with it); pending ones too, unless the run's own queued workers have claimed them first.
    assert after_crash[PaymentStatus.SENDING] <= resumed <= unfinished, progress()
    wait_until(
        lambda: PaymentRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists(),
        timeout=RUN_TIMEOUT,
        what="the run to finish after the restart",
        describe=progress,
        interval=0.05,
    )
    print(f"\nkill → run finished in {time.monotonic() - killed_at:.1f}s; after the crash: {dict(after_crash)}")

    # 6. Every invoice paid exactly once: one transfer each, of its amount, none twice, none lost.
    run.refresh_from_db()
    payments = list(Payment.objects.filter(run=run).order_by("pk"))
    assert len(payments) == count
    assert collections.Counter(p.status for p in payments) == {PaymentStatus.PAID: count}, progress()
    assert fake.transfer_count() == count
    transfers = fake.transfers
    by_payment = collections.Counter(t["metadata"]["payment"] for t in transfers)
    assert [ref for ref, n in by_payment.items() if n > 1] == []
    assert set(by_payment) == {p.reference for p in payments}
    assert {t["transfer_group"] for t in transfers} == {run.transfer_group}
    transfer_of = {t["metadata"]["payment"]: t for t in transfers}
    for payment in payments:
        transfer = transfer_of[payment.reference]
        assert payment.transfer_id == transfer["id"]
        assert transfer["amount"] == to_pence(payment.amount)
        assert transfer["metadata"]["invoice"] == str(payment.invoice_id)
    assert not Invoice.objects.filter(pk__in=[i.pk for i in invoices]).exclude(status=InvoiceStatus.PAID).exists()
    assert sorted(p.invoice_id for p in payments) == sorted(i.pk for i in invoices)
    # The in-flight payment was looked up, not sent again.
    in_flight.refresh_from_db()
    assert in_flight.transfer_id == transfer_of[in_flight.reference]["id"]
    assert len([r for r in fake.requests_to("POST", "/v1/transfers") if r.idempotency_key == held.idempotency_key]) == 1
    assert fake.balance() == fake.initial_balance - to_pence(owed)

    # 7. The ledger: the run's total paid, once, and the running balances agree with the postings.
    after = budget_figures(budget)
    assert after.paid - before.paid == run.total == owed
    assert after.committed == before.committed
    assert after == budget_figures_from_postings(budget)

"""A Celery worker killed while paying direct-payment loads: the daily job (`payments.loads_pay_due`,
queued as beat queues it) runs in a real worker on Redis and pays many people's due loads as
Connect transfers, through the Stripe fake, to each person's own connected account. The worker is
SIGKILLed (with its pool processes) while one transfer is in flight — made at the fake, its answer
not yet received, its payment left `sending` — and two batches (of ten) are half done. A new worker is
started; its `worker_ready` hook queues `payments_resume_stalled`, and the run finishes. Every load
is then paid exactly once: one transfer each to its holder, none twice, none missing, and the
ledger agrees (the same shape as test_worker_crash.py, which does this for invoices).

Runs only with Redis and PostgreSQL (see tests/payments/worker_fixtures.py):

    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn \\
        .venv/bin/python -m pytest tests/payments/test_load_worker_crash.py
"""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

from __future__ import annotations

import collections
import time

import pytest

from accounts.models import AuditAction
from accounts.money import to_pence
from budgets.models import AccountKind, LedgerAccount, LedgerTransaction, TransactionKind
from budgets.selectors import budget_figures
from careplans.models import CarePlan
from payments import selectors, services
from payments.models import Load, LoadStatus, Payment, PaymentKind, PaymentRun, PaymentStatus
from payments.tasks import loads_pay_due
from tests.payments.payment_fixtures import assert_ledger_balances, gbp
from tests.payments.test_load_concurrency import Holder, audit_rows, make_dp_holder  # noqa: F401  (fixture)
from tests.payments.test_worker_crash import (
    CLIENT_TIMEOUT,
    RESUMED,
    RUN_TIMEOUT,
    TRANSFER_DELAY,
    kill_while_a_transfer_is_held,
    statuses,
    wait_until,
)
from tests.payments.worker_fixtures import celery_workers, redis_and_postgresql  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

HOLDERS = 33  # each with four loads due: 132 payments, batches of ten, two at a time (one per pool process)
DUE_EACH = 4


@pytest.fixture
def dp_holders(make_dp_holder, stripe_fake) -> list[Holder]:
    """HOLDERS people, each with a direct payment whose line started 86 days ago for 140 days: four
    £580.00 loads due today and a fifth not yet; each with an onboarded connected account at the
    fake, recorded as ready. Made before the worker starts (the approvals run eagerly)."""
    holders = []
    for _ in range(HOLDERS):
        holder = make_dp_holder(started_days_ago=86, days=140)
        assert (len(holder.due), len(holder.later)) == (DUE_EACH, 1)
        account = stripe_fake.create_account(email=holder.person.email, onboarded=True)
        services.person_payee_account_set(
            actor=None, person=holder.person, gateway_name="stripe", account_id=account["id"], ready=True
        )
        holder.account_id = account["id"]
        holders.append(holder)
    return holders


def test_worker_killed_while_paying_loads_restarts_and_pays_every_load_once(
    redis_and_postgresql,
    dp_holders,
    stripe_fake,
    settings,
    celery_workers,
):
    fake, holders = stripe_fake, dp_holders
    settings.PAYMENT_GATEWAY = "stripe"
    loads = [load for h in holders for load in h.due]
    count = len(loads)
    owed = sum((load.amount for load in loads), gbp(0))
    before = {h.budget.pk: budget_figures(h.budget) for h in holders}
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

    # 2. The daily job, queued to the worker as beat queues it: one run of every due load, its
    #    132 payments, paid after its commit in batches of ten.
    fake.fail_next("POST /v1/transfers$", "timeout", times=1_000_000, sleep=TRANSFER_DELAY)
    loads_pay_due.delay()

    def workers() -> str:
        return "\n".join(f"--- worker {w.name} (pid {w.pid}):\n{w.tail()}" for w in celery_workers.started)

    run = wait_until(
        lambda: PaymentRun.objects.filter(started_by=None, payment_count__gt=0).first(),
        timeout=30,
        what="the daily job's run",
        describe=workers,
    )
    assert PaymentRun.objects.count() == 1
    assert run.payment_count == count
    assert run.total == owed

    def progress() -> str:
        return f"payments: {dict(statuses(run.pk))}; transfers at the fake: {fake.transfer_count()}\n{workers()}"

    # 3. A quarter paid, both batches still going: hold the next transfer's answer (the fake
    #    makes it, then waits), and SIGKILL the worker and its pool while that request is in flight.
    held, killed_at = kill_while_a_transfer_is_held(fake, first, run.pk, count, progress, what="load payments")
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
    assert held.params["metadata"]["load"] == str(in_flight.load_id)
    assert [t["metadata"]["payment"] for t in fake.transfers].count(in_flight.reference) == 1
    assert Load.objects.get(pk=in_flight.load_id).status == LoadStatus.SCHEDULED
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

    # 6. Every load paid exactly once: one transfer each, of its amount, to its holder's connected
    #    account, none twice, none lost; the loads not yet due untouched.
    run.refresh_from_db()
    assert PaymentRun.objects.count() == 1
    payments = list(Payment.objects.filter(run=run).select_related("load").order_by("pk"))
    assert len(payments) == count == Payment.objects.count()
    assert collections.Counter(p.status for p in payments) == {PaymentStatus.PAID: count}, progress()
    assert sorted(p.load_id for p in payments) == sorted(load.pk for load in loads)
    assert fake.transfer_count() == count
    transfers = fake.transfers
    by_payment = collections.Counter(t["metadata"]["payment"] for t in transfers)
    assert [ref for ref, n in by_payment.items() if n > 1] == []
    assert set(by_payment) == {p.reference for p in payments}
    assert collections.Counter(t["metadata"]["load"] for t in transfers) == {str(load.pk): 1 for load in loads}
    assert {t["transfer_group"] for t in transfers} == {run.transfer_group}
    transfer_of = {t["metadata"]["payment"]: t for t in transfers}
    account_of = {h.person.pk: h.account_id for h in holders}
    holder_of = {load.pk: h for h in holders for load in h.due}
    for payment in payments:
        transfer = transfer_of[payment.reference]
        assert payment.kind == PaymentKind.DIRECT_PAYMENT
        assert payment.person_id == holder_of[payment.load_id].person.pk and payment.provider_id is None
        assert payment.transfer_id == transfer["id"]
        assert transfer["destination"] == account_of[payment.person_id]
        assert transfer["amount"] == to_pence(payment.amount) == to_pence(payment.load.amount)
        assert transfer["metadata"]["load"] == str(payment.load_id)
    assert not Load.objects.filter(pk__in=[load.pk for load in loads]).exclude(status=LoadStatus.PAID).exists()
    later = [load.pk for h in holders for load in h.later]
    assert not Load.objects.filter(pk__in=later).exclude(status=LoadStatus.SCHEDULED).exists()
    # The in-flight payment was looked up, not sent again.
    in_flight.refresh_from_db()
    assert in_flight.status == PaymentStatus.PAID
    assert in_flight.transfer_id == transfer_of[in_flight.reference]["id"]
    assert len([r for r in fake.requests_to("POST", "/v1/transfers") if r.idempotency_key == held.idempotency_key]) == 1
    assert fake.balance() == fake.initial_balance - to_pence(owed)

    # 7. The ledger: each load moved once (committed → paid, funds issued → fund held), each
    #    holder's budget paid their loads' total once, each fund holds exactly its paid loads, and
    #    the running balances agree with the postings; one audit row per payment's state change.
    moved = LedgerTransaction.objects.filter(kind=TransactionKind.FUND_LOAD)
    assert sorted(moved.values_list("idempotency_key", flat=True)) == sorted(f"payment:{p.pk}" for p in payments)
    assert audit_rows(Payment, [p.pk for p in payments], AuditAction.TRANSITION) == {str(p.pk): 1 for p in payments}
    for holder in holders:
        paid = sum((load.amount for load in holder.due), gbp(0))
        was, now = before[holder.budget.pk], budget_figures(holder.budget)
        assert now.paid - was.paid == paid, holder.person
        assert (now.committed, now.available) == (was.committed, was.available)
        assert LedgerAccount.objects.get(budget=holder.budget, kind=AccountKind.FUND_HELD).balance == paid
        assert selectors.fund_figures(holder.fund).loaded == paid
        assert CarePlan.objects.get(pk=holder.due[0].plan_id).paid_amount == paid
        assert_ledger_balances(holder.budget)

"""Payment runs paid in batches (payments/services/batches.py, docs/payments.md "Batches and
workers"), on any database; the advisory-lock claims only on PostgreSQL.

- `ledger.record_many` moves money exactly as the one-at-a-time functions do on the same movements
  (balances, postings, memos, audit rows); a replayed key returns its transaction and writes
  nothing; a key reused for a different movement, or a list that together takes more than is
  committed, refuses the whole call and writes nothing.
- A ledger-gateway run takes a number of SQL queries that does not grow with its payments (the
  fund-load case is an expected failure for now: see its marker); with small batches everything is
  still paid exactly once, with one transfer, one ledger movement and one audit row per payment,
  and the workflow log (django-fsm-log) gets the same rows as paying one at a time gives it.
- A payment that cannot be paid (a suspended provider, a refused transfer) fails alone in its batch.
- Working on a finished run again pays nothing and changes nothing.
- (PostgreSQL) `payments_resume_stalled` leaves a batch whose claim's lock a live session holds,
  however old, and resumes it at once when that session is gone.
"""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

from __future__ import annotations

import collections
import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.models import AuditAction, AuditEvent, Notification
from budgets.exceptions import BudgetExceeded, IdempotencyConflict
from budgets.models import AccountKind, LedgerAccount, LedgerPosting, LedgerTransaction, TransactionKind
from budgets.selectors import budget_figures
from budgets.services import ledger
from careplans.models import CarePlan
from payments import services
from payments.models import (
    Invoice,
    InvoiceStatus,
    LedgerGatewayTransfer,
    Load,
    LoadStatus,
    PayeeAccount,
    Payment,
    PaymentRun,
    PaymentStatus,
)
from payments.services import batches
from providers.services import provider_suspend
from tests import factories
from tests.budgets.test_ledger import assert_ledger_consistent
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    assert_ledger_balances,
    gbp,
    pay_world,
    reload,
    run_payments,
)
from tests.payments.test_load_concurrency import audit_rows, make_dp_holder  # noqa: F401  (fixture)
from tests.payments.test_worker_crash import wait_until

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks need PostgreSQL")

DAYS_PER_LINE = 61  # pay_world's lines started 60 days ago: days 0‥60 are all in the past


# --- helpers ------------------------------------------------------------------------------------


def confirmed_invoices(world, count: int, *, units: str = "1") -> list[Invoice]:
    """`count` more confirmed invoices, bulk inserted (the invoice workflow is tested elsewhere),
    alternating between the world's two providers: each `units` of its line at the line's price,
    each for a period no other invoice of the line has (one day, then two, …, so a few hundred fit)."""
    start = getattr(world, "bulk_invoiced", 0)
    world.bulk_invoiced = start + count
    now = timezone.now()
    rows = []
    for n in range(start, start + count):
        provider = world.providers[n % 2]
        line = world.lines[provider.pk]
        slot = n // 2
        day = line.start + datetime.timedelta(days=slot % DAYS_PER_LINE)
        amount = gbp((line.unit_price.amount * Decimal(units)).quantize(Decimal("0.01")))
        rows.append(
            Invoice(
                line=line,
                plan=world.plan,
                provider_id=provider.pk,
                period_start=day,
                period_end=day + datetime.timedelta(days=slot // DAYS_PER_LINE),
                units=Decimal(units),
                unit_price=line.unit_price,
                amount=amount,
                status=InvoiceStatus.CONFIRMED,
                reference=f"BATCH-{provider.pk}-{n + 1:04d}",
                submitted_by=world.staff[provider.pk],
                decided_by=world.client,
                decided_at=now,
            )
        )
    return Invoice.objects.bulk_create(rows)


def start_run(finance) -> PaymentRun:
    """A run started by finance, nothing sent yet: in these (non-transactional) tests the tasks it
    queues on commit never run, so the test calls `payment_run_work` itself."""
    return services.payment_run_start(actor=finance)


def assert_paid_exactly_once(run: PaymentRun, *, attempts: bool = True) -> list[Payment]:
    """Every payment of the run paid once: one transfer at the ledger gateway under its key, for
    its amount; one ledger movement under `payment:<id>`, the payment's own; its invoice or load
    paid; one audit row for its change of state."""
    payments = list(run.payments.select_related("invoice", "load", "ledger_transaction").order_by("pk"))
    assert payments and {p.status for p in payments} == {PaymentStatus.PAID}
    transfers = LedgerGatewayTransfer.objects.filter(group=run.transfer_group)
    assert collections.Counter(transfers.values_list("idempotency_key", flat=True)) == {
        p.idempotency_key: 1 for p in payments
    }
    transfer_of = {t.idempotency_key: t for t in transfers}
    keys = [f"payment:{p.pk}" for p in payments]
    assert collections.Counter(
        LedgerTransaction.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    ) == dict.fromkeys(keys, 1)
    for payment in payments:
        transfer = transfer_of[payment.idempotency_key]
        assert (payment.transfer_id, payment.amount) == (transfer.transfer_id, transfer.amount)
        assert payment.claim is None and payment.paid_at is not None
        assert payment.attempts == 1 or not attempts
        tx = payment.ledger_transaction
        assert tx.idempotency_key == f"payment:{payment.pk}"
        assert tx.kind == (TransactionKind.PAYMENT if payment.invoice_id else TransactionKind.FUND_LOAD)
        assert tx.budget_id == payment.budget_id
        if payment.invoice_id:
            assert payment.invoice.status == InvoiceStatus.PAID and payment.invoice.paid_at is not None
        else:
            assert payment.load.status == LoadStatus.PAID and payment.load.paid_at is not None
    pks = [p.pk for p in payments]
    assert audit_rows(Payment, pks, AuditAction.TRANSITION) == {str(pk): 1 for pk in pks}
    tx_pks = [p.ledger_transaction_id for p in payments]
    assert audit_rows(LedgerTransaction, tx_pks, AuditAction.CREATE) == {str(pk): 1 for pk in tx_pks}
    assert reload(run).finished_at is not None
    return payments


# --- ledger.record_many -------------------------------------------------------------------------


@pytest.fixture
def twin_budgets(make_budget):
    """Two pairs of like budgets (£1,000 allocated, £600.00 committed): `many` — moved by
    `record_many` — and `one` — moved by the one-at-a-time functions."""

    def pair():
        budgets = []
        for _ in range(2):
            budget = make_budget(factories.ClientFactory(), "1000.00")
            ledger.commit(budget=budget, amount=gbp("600.00"), key=f"t:{budget.pk}:commit")
            budgets.append(budget)
        return budgets

    return {"many": pair(), "one": pair()}


ONE_AT_A_TIME = {
    TransactionKind.PAYMENT: ledger.record_payment,
    TransactionKind.FUND_LOAD: ledger.record_fund_load,
    TransactionKind.CONTRIBUTION: ledger.record_contribution,
}

# (which of the two budgets, kind, amount): the two budgets interleaved, each kind more than once.
MOVEMENTS = [
    (0, TransactionKind.PAYMENT, "100.00"),
    (1, TransactionKind.FUND_LOAD, "150.00"),
    (0, TransactionKind.FUND_LOAD, "250.00"),
    (0, TransactionKind.CONTRIBUTION, "20.00"),
    (1, TransactionKind.PAYMENT, "30.10"),
    (1, TransactionKind.CONTRIBUTION, "0.01"),
    (0, TransactionKind.PAYMENT, "230.00"),  # the last of budget 0's commitment: 600.00 in all
    (1, TransactionKind.FUND_LOAD, "50.00"),
]


def council_balances() -> dict[str, Decimal]:
    return dict(LedgerAccount.objects.filter(budget=None).values_list("code", "balance"))


def shape(tx: LedgerTransaction) -> tuple:
    """A transaction as it would look on any budget: kind, memo, postings by account kind."""
    postings = sorted(
        (p.account.kind if p.account.budget_id else p.account.code, p.amount)
        for p in tx.postings.select_related("account")
    )
    return (tx.kind, tx.memo, tx.fingerprint.split(":", 2)[2], tx.reverses_id, tx.created_by_id, postings)


def audit_shape(tx: LedgerTransaction) -> list[tuple]:
    events = AuditEvent.objects.filter(target_type__model="ledgertransaction", target_id=str(tx.pk))
    return [
        (
            e.action,
            e.actor_username,
            e.subject_id == tx.budget.client_id,
            e.message,
            e.changes["kind"],
            sorted((code.rsplit(":", 1)[-1], amount) for code, amount in e.changes["postings"].items()),
        )
        for e in events
    ]


def snapshot() -> tuple:
    """Everything a refused or replayed call must leave as it was."""
    return (
        LedgerTransaction.objects.count(),
        LedgerPosting.objects.count(),
        AuditEvent.objects.count(),
        sorted(LedgerAccount.objects.values_list("id", "balance")),
    )


def entries_for(budgets, prefix: str, movements=MOVEMENTS) -> list[ledger.Entry]:
    return [
        ledger.Entry(kind=kind, budget=budgets[b], amount=gbp(amount), key=f"{prefix}:{i}", memo=f"Movement {i}")
        for i, (b, kind, amount) in enumerate(movements)
    ]


def test_record_many_moves_money_exactly_as_one_at_a_time(twin_budgets):
    many, one = twin_budgets["many"], twin_budgets["one"]
    council_before = council_balances()

    done = ledger.record_many(entries_for(many, "many"))

    council_after_many = council_balances()
    for i, (b, kind, amount) in enumerate(MOVEMENTS):
        ONE_AT_A_TIME[kind](budget=one[b], amount=gbp(amount), key=f"one:{i}", memo=f"Movement {i}")
    council_after_one = council_balances()

    assert sorted(done) == sorted(f"many:{i}" for i in range(len(MOVEMENTS)))
    for i, (b, _, _) in enumerate(MOVEMENTS):
        tx = done[f"many:{i}"]
        assert tx.pk is not None and LedgerTransaction.objects.get(idempotency_key=f"many:{i}").pk == tx.pk
        assert tx.budget_id == many[b].pk
        twin = LedgerTransaction.objects.get(idempotency_key=f"one:{i}")
        assert shape(tx) == shape(twin), i
        assert audit_shape(tx) == audit_shape(twin), i
        assert len(audit_shape(tx)) == 1
    for m, o in zip(many, one, strict=True):
        assert budget_figures(m) == budget_figures(o)
        assert dict(m.accounts.values_list("kind", "balance")) == dict(o.accounts.values_list("kind", "balance"))
        assert_ledger_consistent(m)
        assert_ledger_consistent(o)
    delta_many = {code: council_after_many.get(code, 0) - council_before.get(code, 0) for code in council_after_one}
    delta_one = {code: council_after_one[code] - council_after_many.get(code, 0) for code in council_after_one}
    assert delta_many == delta_one
    assert any(delta_many.values())
    # The figures themselves: budget 0 paid its whole commitment, 250.00 of it into its funds.
    figures = budget_figures(many[0])
    assert (figures.committed, figures.paid, figures.available) == (gbp("600.00"), gbp("600.00"), gbp("400.00"))
    assert LedgerAccount.objects.get(budget=many[0], kind=AccountKind.FUND_HELD).balance == gbp("250.00")


def test_record_many_replays_a_key_with_the_same_transaction_and_writes_nothing(twin_budgets):
    many = twin_budgets["many"]
    first = ledger.record_many(entries_for(many, "k"))
    before = snapshot()

    again = ledger.record_many(entries_for(many, "k"))

    assert {key: tx.pk for key, tx in again.items()} == {key: tx.pk for key, tx in first.items()}
    assert snapshot() == before


def test_record_many_replays_keys_written_one_at_a_time_and_writes_only_the_new_ones(twin_budgets):
    budget = twin_budgets["many"][0]
    earlier = ledger.record_payment(budget=budget, amount=gbp("100.00"), key="k:0", memo="Movement 0")
    transactions, postings = LedgerTransaction.objects.count(), LedgerPosting.objects.count()

    done = ledger.record_many(
        [
            ledger.Entry(kind=TransactionKind.PAYMENT, budget=budget, amount=gbp("100.00"), key="k:0"),
            ledger.Entry(kind=TransactionKind.PAYMENT, budget=budget, amount=gbp("100.00"), key="k:1"),
            ledger.Entry(kind=TransactionKind.PAYMENT, budget=budget, amount=gbp("100.00"), key="k:1"),  # twice
        ]
    )

    assert done["k:0"].pk == earlier.pk
    assert LedgerTransaction.objects.filter(idempotency_key="k:1").count() == 1
    assert (LedgerTransaction.objects.count(), LedgerPosting.objects.count()) == (transactions + 1, postings + 2)
    assert budget_figures(budget).paid == gbp("200.00")
    assert_ledger_consistent(budget)


@pytest.mark.parametrize("where", ["seen before", "earlier in the list"])
def test_record_many_refuses_a_key_reused_for_a_different_amount_and_writes_nothing(twin_budgets, where):
    budget, other = twin_budgets["many"]
    if where == "seen before":
        ledger.record_payment(budget=budget, amount=gbp("100.00"), key="k:0")
    entries = [
        ledger.Entry(kind=TransactionKind.PAYMENT, budget=other, amount=gbp("10.00"), key="k:new"),
        ledger.Entry(kind=TransactionKind.FUND_LOAD, budget=budget, amount=gbp("20.00"), key="k:load"),
    ]
    if where == "earlier in the list":
        entries.append(ledger.Entry(kind=TransactionKind.PAYMENT, budget=budget, amount=gbp("100.00"), key="k:0"))
    entries.append(ledger.Entry(kind=TransactionKind.PAYMENT, budget=budget, amount=gbp("100.01"), key="k:0"))
    before = snapshot()

    with pytest.raises(IdempotencyConflict):
        ledger.record_many(entries)

    assert snapshot() == before
    assert not LedgerTransaction.objects.filter(idempotency_key__in=["k:new", "k:load"]).exists()
    assert not LedgerAccount.objects.filter(kind=AccountKind.FUND_HELD).exists()


def test_record_many_refuses_a_list_that_together_exceeds_the_commitment_and_writes_nothing(twin_budgets):
    budget, other = twin_budgets["many"]
    ledger.record_payment(budget=budget, amount=gbp("100.00"), key="k:paid")  # 500.00 left committed
    # Each fits on its own, and the other budget's are fine; together budget's take 500.01.
    entries = [
        ledger.Entry(kind=TransactionKind.PAYMENT, budget=other, amount=gbp("300.00"), key="k:other"),
        ledger.Entry(kind=TransactionKind.PAYMENT, budget=budget, amount=gbp("300.00"), key="k:1"),
        ledger.Entry(kind=TransactionKind.CONTRIBUTION, budget=budget, amount=gbp("0.01"), key="k:2"),
        ledger.Entry(kind=TransactionKind.FUND_LOAD, budget=budget, amount=gbp("200.00"), key="k:3"),
    ]
    before = snapshot()

    with pytest.raises(BudgetExceeded):
        ledger.record_many(entries)

    assert snapshot() == before
    assert not LedgerTransaction.objects.filter(idempotency_key__in=["k:other", "k:1", "k:2", "k:3"]).exists()
    # One penny less goes through, whole.
    ledger.record_many([*entries[:2], entries[3]])
    assert budget_figures(budget).paid == gbp("600.00")
    assert budget_figures(other).paid == gbp("300.00")
    assert_ledger_consistent(budget)
    assert_ledger_consistent(other)


# --- a ledger-gateway run -----------------------------------------------------------------------


def work_queries(run: PaymentRun) -> collections.Counter:
    """Pay the run (this process, one call); its SQL statements, counted by kind (the first words
    and table, savepoint names left out)."""
    with CaptureQueriesContext(connection) as queries:
        claimed = services.payment_run_work(run_id=run.pk)
    assert claimed == run.payment_count
    return collections.Counter(
        re.sub(r'"s\d+_x\d+"', "<savepoint>", " ".join(q["sql"].split()[:3]))[:60] for q in queries.captured_queries
    )


def assert_no_more_statements(few: collections.Counter, many: collections.Counter) -> None:
    """The bigger run took at most two statements more than the small one; the message names the
    statements there were more of."""
    grew = dict(many - few)
    assert many.total() <= few.total() + 2, f"{few.total()} → {many.total()} statements; more of: {grew}"


@pytest.fixture
def two_invoice_runs(pay_world, settings):
    """A run of 5 invoices and then one of 40, each paid by one `payment_run_work` in one batch:
    (the small run, its statements, the big run, its statements)."""
    settings.PAYMENT_BATCH_SIZE = 100
    confirmed_invoices(pay_world, 5)
    few = start_run(pay_world.finance)
    few_statements = work_queries(few)
    confirmed_invoices(pay_world, 40)
    many = start_run(pay_world.finance)
    many_statements = work_queries(many)
    assert (few.payment_count, many.payment_count) == (5, 40)
    assert_paid_exactly_once(few)
    assert_paid_exactly_once(many)
    assert_ledger_balances(pay_world.budget)
    return few, few_statements, many, many_statements


def test_a_run_of_invoices_takes_the_same_number_of_queries_however_many_it_pays(two_invoice_runs):
    _, few, _, many = two_invoice_runs

    assert_no_more_statements(few, many)
    assert many.total() <= 40, dict(many)  # a handful of statements, not one per payment


def test_a_run_of_fund_loads_takes_the_same_number_of_queries_however_many_it_pays(
    make_dp_holder, finance_user, settings
):
    settings.PAYMENT_BATCH_SIZE = 100
    small = make_dp_holder(started_days_ago=30, days=84)  # two loads due
    few = start_run(finance_user)
    few_statements = work_queries(few)
    big = make_dp_holder(started_days_ago=200, days=300)  # eight loads due
    many = start_run(finance_user)

    many_statements = work_queries(many)

    assert (few.payment_count, many.payment_count) == (len(small.due), len(big.due)) == (2, 8)
    assert_paid_exactly_once(few)
    assert_paid_exactly_once(many)
    assert_ledger_balances(big.budget)
    assert_no_more_statements(few_statements, many_statements)


def test_paying_many_holders_first_loads_opens_their_funds_held_accounts_together(
    make_dp_holder, finance_user, settings
):
    """Every holder's first load opens the budget's funds-held account: together, not a savepoint
    and two statements a holder."""
    settings.PAYMENT_BATCH_SIZE = 100
    first = [make_dp_holder(started_days_ago=0, days=28) for _ in range(2)]
    few = start_run(finance_user)
    few_statements = work_queries(few)
    later = [make_dp_holder(started_days_ago=0, days=28) for _ in range(6)]
    many = start_run(finance_user)

    many_statements = work_queries(many)

    assert (few.payment_count, many.payment_count) == (2, 6)
    assert_no_more_statements(few_statements, many_statements)
    for holder in first + later:
        held = holder.budget.accounts.get(kind="fund_held")
        assert held.balance.amount == sum(load.amount.amount for load in holder.due) > 0
        assert_ledger_balances(holder.budget)
    assert_paid_exactly_once(many)


def test_small_batches_pay_every_invoice_and_load_exactly_once(
    pay_world, make_dp_holder, run_payments, settings, monkeypatch
):
    settings.PAYMENT_BATCH_SIZE = 7
    invoices = confirmed_invoices(pay_world, 30)
    holder = make_dp_holder(started_days_ago=60, days=120)  # three loads due
    assert len(holder.due) == 3
    budgets = [pay_world.budget, holder.budget]
    before = {b.pk: budget_figures(b) for b in budgets}
    plans_before = dict(CarePlan.objects.values_list("pk", "paid_amount"))
    claims = []
    claim = batches._claim_whole_budgets

    def spy(run, size):
        claimed = claim(run, size)
        claims.append(len(claimed))
        return claimed

    monkeypatch.setattr(batches, "_claim_whole_budgets", spy)

    run = run_payments()

    assert run.payment_count == 33
    assert claims == [7, 7, 7, 7, 5, 0]
    payments = assert_paid_exactly_once(run)
    assert LedgerGatewayTransfer.objects.count() == len(payments) == 33
    assert sorted(p.invoice_id for p in payments if p.invoice_id) == sorted(i.pk for i in invoices)
    assert sorted(p.load_id for p in payments if p.load_id) == sorted(load.pk for load in holder.due)
    assert not Invoice.objects.exclude(status=InvoiceStatus.PAID).exists()
    assert (
        not Load.objects.filter(pk__in=[load.pk for load in holder.later]).exclude(status=LoadStatus.SCHEDULED).exists()
    )
    for budget in budgets:
        paid = sum((p.amount for p in payments if p.budget_id == budget.pk), gbp(0))
        now, was = budget_figures(budget), before[budget.pk]
        assert now.paid - was.paid == paid
        assert (now.committed, now.available) == (was.committed, was.available)
        assert_ledger_balances(budget)
    plans_after = dict(CarePlan.objects.values_list("pk", "paid_amount"))
    assert plans_after[pay_world.plan.pk] - plans_before[pay_world.plan.pk] == sum(i.amount.amount for i in invoices)
    held = LedgerAccount.objects.get(budget=holder.budget, kind=AccountKind.FUND_HELD)
    assert held.balance == sum((load.amount for load in holder.due), gbp(0))


def state_log(model, pks) -> dict[int, list[tuple]]:
    """Each object's workflow log (django-fsm-log): its transitions in order."""
    rows = StateLog.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=pks)
    log = collections.defaultdict(list)
    for object_id, *step in rows.order_by("pk").values_list("object_id", "source_state", "transition", "state"):
        log[object_id].append(tuple(step))
    return dict(log)


def test_a_batch_leaves_the_same_workflow_log_as_paying_one_at_a_time(pay_world, settings):
    settings.PAYMENT_BATCH_SIZE = 3
    confirmed_invoices(pay_world, 6)
    single = start_run(pay_world.finance)
    for payment in single.payments.order_by("pk"):
        services.payment_send(payment_id=payment.pk)
    confirmed_invoices(pay_world, 6)
    batched = start_run(pay_world.finance)

    services.payment_run_work(run_id=batched.pk)

    logs = {}
    for run in (single, batched):
        payments = list(reload(run).payments.order_by("pk"))
        assert {p.status for p in payments} == {PaymentStatus.PAID}
        invoice_log = state_log(Invoice, [p.invoice_id for p in payments])
        payment_log = state_log(Payment, [p.pk for p in payments])
        logs[run.pk] = (
            sorted(map(tuple, invoice_log.values())),
            len(invoice_log),
            sorted(map(tuple, payment_log.values())),
            len(payment_log),
        )
    assert logs[batched.pk] == logs[single.pk]
    assert logs[single.pk][:2] == ([(("confirmed", "mark_paid", "paid"),)] * 6, 6)


def test_a_suspended_providers_payment_fails_alone_in_its_batch(pay_world, run_payments, case_manager, settings):
    settings.PAYMENT_BATCH_SIZE = 100
    invoices = confirmed_invoices(pay_world, 9)  # alternating: Brightside, Riverside, Brightside, …
    provider_suspend(actor=case_manager, provider=pay_world.riverside, reason="Safeguarding concern")
    before = budget_figures(pay_world.budget)

    run = run_payments()

    assert run.finished_at is not None
    payments = {p.invoice_id: p for p in run.payments.all()}
    paid = [i for i in invoices if i.provider_id == pay_world.brightside.pk]
    failed = [i for i in invoices if i.provider_id == pay_world.riverside.pk]
    assert (len(paid), len(failed)) == (5, 4)
    for invoice in paid:
        assert payments[invoice.pk].status == PaymentStatus.PAID
        assert reload(invoice).status == InvoiceStatus.PAID
    for invoice in failed:
        payment = payments[invoice.pk]
        assert payment.status == PaymentStatus.FAILED
        assert payment.last_error == "Riverside Centre is suspended."
        assert (payment.transfer_id, payment.ledger_transaction_id, payment.claim) == ("", None, None)
        assert reload(invoice).status == InvoiceStatus.CONFIRMED
        assert audit_rows(Payment, [payment.pk], AuditAction.TRANSITION) == {str(payment.pk): 1}
        event = AuditEvent.objects.get(
            target_type__model="payment", target_id=str(payment.pk), action=AuditAction.TRANSITION
        )
        assert (event.changes["to"], event.message) == (PaymentStatus.FAILED, "Riverside Centre is suspended.")
        assert Notification.objects.filter(recipient=pay_world.finance, target_id=payment.pk).count() == 1
    keys = set(LedgerGatewayTransfer.objects.values_list("idempotency_key", flat=True))
    assert keys == {payments[i.pk].idempotency_key for i in paid}
    assert not LedgerTransaction.objects.filter(idempotency_key__in=[f"payment:{payments[i.pk].pk}" for i in failed])
    assert budget_figures(pay_world.budget).paid - before.paid == sum((i.amount for i in paid), gbp(0))
    assert_ledger_balances(pay_world.budget)


def test_a_transfer_the_gateway_refuses_fails_alone_and_the_rest_of_the_batch_is_paid(pay_world, settings):
    settings.PAYMENT_BATCH_SIZE = 100
    invoices = confirmed_invoices(pay_world, 6)
    run = start_run(pay_world.finance)
    refused = run.payments.get(invoice=invoices[2])
    # The key was used before for another amount: the gateway refuses this payment's transfer.
    LedgerGatewayTransfer.objects.create(
        transfer_id="ltr_elsewhere", idempotency_key=refused.idempotency_key, group="other", amount=gbp("1.00")
    )
    before = budget_figures(pay_world.budget)

    assert services.payment_run_work(run_id=run.pk) == 6

    refused.refresh_from_db()
    assert refused.status == PaymentStatus.FAILED
    assert refused.last_error == "This idempotency key was used for a different transfer."
    assert reload(invoices[2]).status == InvoiceStatus.CONFIRMED
    others = list(run.payments.exclude(pk=refused.pk))
    assert {p.status for p in others} == {PaymentStatus.PAID}
    assert LedgerGatewayTransfer.objects.count() == 6  # five paid, and the one made elsewhere
    assert LedgerGatewayTransfer.objects.get(idempotency_key=refused.idempotency_key).transfer_id == "ltr_elsewhere"
    for payment in others:
        assert LedgerGatewayTransfer.objects.get(idempotency_key=payment.idempotency_key).transfer_id == (
            payment.transfer_id
        )
    assert budget_figures(pay_world.budget).paid - before.paid == sum((p.amount for p in others), gbp(0))
    assert reload(run).finished_at is not None
    assert_ledger_balances(pay_world.budget)


def everything(run: PaymentRun) -> tuple:
    """The state a second go at a finished run must leave exactly as it was."""
    return (
        list(run.payments.order_by("pk").values()),
        list(Invoice.objects.order_by("pk").values_list("pk", "status", "paid_at")),
        list(PaymentRun.objects.order_by("pk").values()),
        LedgerTransaction.objects.count(),
        LedgerPosting.objects.count(),
        sorted(LedgerAccount.objects.values_list("id", "balance")),
        list(LedgerGatewayTransfer.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
        Notification.objects.count(),
        dict(CarePlan.objects.values_list("pk", "paid_amount")),
    )


def test_working_on_a_finished_run_again_pays_nothing_and_changes_nothing(
    pay_world, run_payments, case_manager, settings
):
    settings.PAYMENT_BATCH_SIZE = 4
    confirmed_invoices(pay_world, 9)
    provider_suspend(actor=case_manager, provider=pay_world.riverside, reason="Safeguarding concern")
    run = run_payments()
    assert collections.Counter(run.payments.values_list("status", flat=True)) == {
        PaymentStatus.PAID: 5,
        PaymentStatus.FAILED: 4,
    }
    assert run.finished_at is not None
    before = everything(run)

    assert services.payment_run_work(run_id=run.pk) == 0
    assert services.payment_run_work(run_id=run.pk) == 0

    assert everything(run) == before


# --- PostgreSQL: a live batch's claim ------------------------------------------------------------


def other_session():
    """A second, independent database session (as another worker's would be)."""
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(
        host=s.get("HOST") or "127.0.0.1",
        port=s.get("PORT") or 5432,
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
        dbname=s["NAME"],
        autocommit=True,
    )


def lock_free(claim: int) -> bool:
    """Whether no session holds the claim's lock, asked from a session of its own."""
    with other_session() as session:
        free = session.execute("SELECT pg_try_advisory_lock(%s)", [claim]).fetchone()[0]
        if free:
            session.execute("SELECT pg_advisory_unlock(%s)", [claim])
    return free


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_resume_stalled_leaves_a_live_claim_alone_however_old_and_resumes_it_once_its_session_is_gone(
    pay_world, monkeypatch
):
    from payments.tasks import payment_send_task, payments_run_work

    # The run's own workers are not started: the test plays them.
    monkeypatch.setattr(payments_run_work, "delay_on_commit", lambda *args, **kwargs: None)
    queued = []
    monkeypatch.setattr(payment_send_task, "delay", lambda payment_id, **kwargs: queued.append(payment_id))
    confirmed_invoices(pay_world, 4)
    run = services.payment_run_start(actor=pay_world.finance)
    live, dead, old, new = run.payments.order_by("pk")
    live_claim, dead_claim = 2**61 + 12345, 2**61 + 67890
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    # `live` and `dead` went out in batches an hour ago and a moment ago; `live`'s worker is still
    # there (its session holds the claim's lock), `dead`'s is gone. `old` was never claimed.
    Payment.objects.filter(pk=live.pk).update(
        status=PaymentStatus.SENDING, claim=live_claim, sent_at=an_hour_ago, created_at=an_hour_ago, attempts=1
    )
    Payment.objects.filter(pk=dead.pk).update(status=PaymentStatus.SENDING, claim=dead_claim, sent_at=timezone.now())
    Payment.objects.filter(pk=old.pk).update(created_at=an_hour_ago)
    worker = other_session()
    try:
        worker.execute("SELECT pg_advisory_lock(%s)", [live_claim])
        assert batches.claimer_alive(live_claim) is True
        assert batches.claimer_alive(dead_claim) is False
        assert lock_free(dead_claim)  # looking did not keep the lock

        resumed = services.payments_resume_stalled()

        assert resumed == 2
        assert sorted(queued) == sorted([dead.pk, old.pk])
        assert reload(live).claim == live_claim and reload(live).status == PaymentStatus.SENDING
        assert reload(dead).claim is None
        assert lock_free(dead_claim)
        assert not lock_free(live_claim)  # still the worker's

        queued.clear()
        assert services.payments_resume_stalled() == 1  # `old` again, not `live`
        assert queued == [old.pk]
    finally:
        worker.close()

    # The server ends a closed session's backend, and frees its locks, a moment after the client
    # hangs up (under load, after the next statement had already looked): wait for that.
    wait_until(lambda: lock_free(live_claim), timeout=20, what="the closed session's claim lock to be freed")
    queued.clear()
    resumed = services.payments_resume_stalled()

    assert resumed == 2  # `live`, at once, and `old` (still waiting)
    assert sorted(queued) == sorted([live.pk, old.pk])
    assert reload(live).claim is None
    assert reload(new).status == PaymentStatus.PENDING  # a moment old, unclaimed: not stalled
    # Resumed, each is paid once (looked up first: the ledger gateway holds no transfer yet).
    for payment in (live, dead, old, new):
        services.payment_send(payment_id=payment.pk)
    assert_paid_exactly_once(reload(run), attempts=False)
    assert reload(live).attempts == 2  # its batch's attempt, and this one
    assert_ledger_balances(pay_world.budget)


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1, 4])
def test_an_unexpected_error_while_sending_lets_the_batch_claim_go(pay_world, settings, monkeypatch, width):
    """A bug at the gateway (not a gateway error) ends the worker's call, but its batch's claim is
    let go, so `payments_resume_stalled` resumes the batch at once rather than never."""
    from payments.gateways.stripe import StripeGateway
    from payments.tasks import payments_run_work

    monkeypatch.setattr(payments_run_work, "delay_on_commit", lambda *args, **kwargs: None)
    settings.PAYMENT_GATEWAY = "stripe"
    settings.PAYMENT_SEND_CONCURRENCY = width
    for provider in (pay_world.brightside, pay_world.riverside):
        PayeeAccount.objects.create(provider=provider, gateway="stripe", account_id=f"acct_{provider.pk}", ready=True)
    confirmed_invoices(pay_world, 3)
    run = services.payment_run_start(actor=pay_world.finance)

    def broken(self, **kwargs):
        raise RuntimeError("a bug, not a gateway answer")

    monkeypatch.setattr(StripeGateway, "transfer", broken)

    with pytest.raises(RuntimeError):
        services.payment_run_work(run_id=run.pk)

    claims = set(run.payments.values_list("claim", flat=True))
    assert set(run.payments.values_list("status", flat=True)) == {PaymentStatus.SENDING}
    assert len(claims) == 1 and None not in claims
    assert lock_free(claims.pop())

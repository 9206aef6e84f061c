"""Two runs paying the same loads at the same moment (PostgreSQL): two payment runs started at once,
and a payment run racing the daily job (`loads_pay_due`), over the same due direct-payment loads —
each load gets one live payment, one transfer at the gateway (the ledger gateway, and the Stripe
fake to the person's connected account), one ledger movement and one audit row for its state change.

Each race runs in threads with their own database connections (`tests.concurrency.race`) and is
repeated ROUNDS times with fresh direct-payment holders. The runs' sending is queued after commit,
so in these transactional tests it runs in the racing thread (Celery is eager)."""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

from __future__ import annotations

import collections
import dataclasses
import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent
from accounts.money import to_pence
from budgets.models import AccountKind, LedgerAccount, LedgerTransaction, TransactionKind
from budgets.selectors import budget_figures
from careplans.models import CarePlan
from payments import selectors, services
from payments.models import (
    FundAccount,
    FundKind,
    LedgerGatewayTransfer,
    Load,
    LoadStatus,
    Payment,
    PaymentKind,
    PaymentRun,
    PaymentStatus,
)
from tests import factories
from tests.concurrency import race
from tests.payments.invoice_fixtures import approve
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    assert_ledger_balances,
    gbp,
    reload,
    stripe_payments,
    worker_retries,
)
from tests.payments.test_load_payments import pa

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

ROUNDS = 20
HOLDERS_PER_ROUND = 2
DAY = datetime.timedelta(days=1)


# --- direct-payment holders ---------------------------------------------------------------------


@dataclasses.dataclass
class Holder:
    """A person holding a direct payment, with the loads due today and the one not yet due."""

    fund: FundAccount
    due: list[Load]
    later: list[Load]
    account_id: str = ""  # the person's Stripe connected account, when they have one

    @property
    def person(self):
        return self.fund.holder

    @property
    def budget(self):
        return self.fund.budget


@pytest.fixture
def make_dp_holder(make_budget, make_plan, social_worker, team, checklist):
    """`make_dp_holder(started_days_ago=30, days=84)`: a new person on Sam's caseload with a £10,000
    budget and an approved plan of one direct-payment line (the `dp` fixture's PA, 10 hours a week
    at £14.50) from `started_days_ago` for `days`; the plan's approval is moved back to the line's
    start, as `dp` does, so every 28-day load whose period has begun is due today (£580.00 each:
    two, by default, and a third not yet due)."""

    def make(*, started_days_ago: int = 30, days: int = 84) -> Holder:
        person = factories.ClientFactory()
        factories.CaseloadAssignmentFactory(social_worker=social_worker, client=person)
        start = timezone.localdate() - started_days_ago * DAY
        budget = make_budget(person, "10000.00", period_start=start)
        plan = make_plan(person, budget, lines=[pa(start, days)], risks="Falls", contacts="My son")
        plan = approve(plan, submitter=person, reviewer=social_worker, checklist=checklist)
        # Approved today, the grid would start today: schedule it again as if approved on the first day.
        CarePlan.objects.filter(pk=plan.pk).update(approved_at=timezone.now() - started_days_ago * DAY)
        Load.objects.filter(account__budget=budget).delete()
        FundAccount.objects.filter(budget=budget).delete()
        services.funds_schedule(plan_id=plan.pk)
        fund = FundAccount.objects.select_related("holder", "budget").get(budget=budget, kind=FundKind.DIRECT_PAYMENT)
        loads = list(fund.loads.order_by("period_start"))
        today = timezone.localdate()
        return Holder(
            fund=fund,
            due=[load for load in loads if load.due <= today],
            later=[load for load in loads if load.due > today],
        )

    return make


# --- what each race must leave ------------------------------------------------------------------


def reraise_errors(outcomes) -> None:
    """Nothing in these races may raise: a deadlock, a unique violation or any other error in a
    racing thread fails the test with its own traceback."""
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    if errors:
        raise errors[0]


def audit_rows(target_model, pks, action) -> collections.Counter:
    rows = AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target_model),
        target_id__in=[str(pk) for pk in pks],
        action=action,
    )
    return collections.Counter(rows.values_list("target_id", flat=True))


def assert_round(runs: list[PaymentRun], holders: list[Holder], before: dict) -> None:
    """This round's runs paid this round's due loads between them, each once, and were audited."""
    due = [load for h in holders for load in h.due]
    runs = [reload(run) for run in runs]
    assert sum(run.payment_count for run in runs) == len(due), [(r.pk, r.payment_count) for r in runs]
    assert sum((run.total for run in runs), gbp(0)) == sum((load.amount for load in due), gbp(0))
    for run in runs:
        assert run.payments.count() == run.payment_count
        assert run.finished_at is not None, f"run {run.pk} left unfinished"
        assert {p.status for p in run.payments.all()} <= {PaymentStatus.PAID}
    assert sorted(Payment.objects.filter(run__in=runs).values_list("load_id", flat=True)) == sorted(
        load.pk for load in due
    )
    # One audit row per run started.
    assert audit_rows(PaymentRun, [r.pk for r in runs], AuditAction.CREATE) == {str(r.pk): 1 for r in runs}
    for holder in holders:
        was, now = before[holder.budget.pk], budget_figures(holder.budget)
        # Paid out of the commitment, once: what is committed (paid or not) and available stay put.
        assert now.paid - was.paid == sum((load.amount for load in holder.due), gbp(0)), holder.person
        assert (now.committed, now.available) == (was.committed, was.available)


def assert_each_load_paid_once(holders: list[Holder], gateway: str, fake=None) -> None:
    """Every holder's due loads (all rounds so far) paid exactly once, the later ones untouched;
    one transfer per load at the gateway; one ledger movement and one audit row per payment."""
    due = [load for h in holders for load in h.due]
    later = [load for h in holders for load in h.later]
    payments = list(Payment.objects.filter(load__in=due).select_related("load", "run"))
    # Only live payments exist at all: a run that lost a load never created a payment for it.
    assert Payment.objects.count() == len(payments) == len(due)
    assert collections.Counter(p.load_id for p in payments) == {load.pk: 1 for load in due}
    holder_of = {load.pk: h for h in holders for load in h.due}
    for payment in payments:
        holder = holder_of[payment.load_id]
        assert payment.status == PaymentStatus.PAID, (payment, payment.last_error)
        assert payment.kind == PaymentKind.DIRECT_PAYMENT
        assert (payment.person_id, payment.provider_id, payment.budget_id) == (holder.person.pk, None, holder.budget.pk)
        assert payment.amount == payment.load.amount
        assert payment.run.gateway == gateway
        assert payment.idempotency_key == f"cairn-load-{payment.load_id}-run-{payment.run_id}"
        assert payment.transfer_id
    assert not Load.objects.filter(pk__in=[load.pk for load in due]).exclude(status=LoadStatus.PAID).exists()
    assert not Load.objects.filter(pk__in=[load.pk for load in due], paid_at__isnull=True).exists()
    assert not Load.objects.filter(pk__in=[load.pk for load in later]).exclude(status=LoadStatus.SCHEDULED).exists()
    assert not Payment.objects.filter(load__in=later).exists()

    # The gateway: one transfer per load, of its amount, to its holder, the one its payment names.
    by_payment = {str(p.pk): p for p in payments}
    if gateway == "ledger":
        transfers = list(LedgerGatewayTransfer.objects.values("transfer_id", "metadata", "amount", "destination"))
        assert len(transfers) == len(due)
        assert collections.Counter(t["metadata"]["load"] for t in transfers) == {str(load.pk): 1 for load in due}
        for t in transfers:
            payment = by_payment[t["metadata"]["payment"]]
            assert t["transfer_id"] == payment.transfer_id
            assert t["destination"] == f"person-{payment.person_id}"
            assert gbp(t["amount"]) == payment.amount
    else:
        account_of = {h.person.pk: h.account_id for h in holders}
        transfers = fake.transfers
        assert len(transfers) == len(due)
        assert collections.Counter(t["metadata"]["load"] for t in transfers) == {str(load.pk): 1 for load in due}
        for t in transfers:
            payment = by_payment[t["metadata"]["payment"]]
            assert t["id"] == payment.transfer_id
            assert t["destination"] == account_of[payment.person_id]
            assert t["amount"] == to_pence(payment.amount)
            assert t["transfer_group"] == payment.run.transfer_group
        # Every transfer request (a resend after a timeout included) carried its payment's own key.
        sent = {r.idempotency_key for r in fake.requests_to("POST", "/v1/transfers")}
        assert sent <= {p.idempotency_key for p in payments}
        assert fake.balance() == fake.initial_balance - sum(to_pence(p.amount) for p in payments)

    # The ledger: one movement per load, under its payment's key; one audit row per state change
    # (pending → paid) and one per ledger movement.
    moved = LedgerTransaction.objects.filter(kind=TransactionKind.FUND_LOAD)
    assert sorted(moved.values_list("idempotency_key", flat=True)) == sorted(f"payment:{p.pk}" for p in payments)
    assert sorted(p.ledger_transaction_id for p in payments) == sorted(moved.values_list("pk", flat=True))
    assert audit_rows(Payment, [p.pk for p in payments], AuditAction.TRANSITION) == {str(p.pk): 1 for p in payments}
    assert audit_rows(LedgerTransaction, [p.ledger_transaction_id for p in payments], AuditAction.CREATE) == {
        str(p.ledger_transaction_id): 1 for p in payments
    }


def assert_funds_hold_their_loads(holders: list[Holder]) -> None:
    """Each fund account holds exactly its paid loads, in the ledger and in its figures, and the
    plan has recorded them as paid once."""
    for holder in holders:
        paid = sum((load.amount for load in holder.due), gbp(0))
        assert sum((load.amount for load in holder.fund.loads.filter(status=LoadStatus.PAID)), gbp(0)) == paid
        held = LedgerAccount.objects.get(budget=holder.budget, kind=AccountKind.FUND_HELD)
        assert held.balance == paid
        assert selectors.fund_figures(holder.fund).loaded == paid
        assert CarePlan.objects.get(pk=holder.due[0].plan_id).paid_amount == paid
        assert_ledger_balances(holder.budget)


def payment_ids_drawn() -> int:
    """How many payment ids PostgreSQL has handed out: a run whose insert the unique constraint
    turned away (ON CONFLICT DO NOTHING) still drew an id for each row it tried to insert."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('payments_payment', 'id')")
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}")  # noqa: S608
        return cursor.fetchone()[0]


# --- the races ----------------------------------------------------------------------------------


@pytest.fixture
def second_finance(finance_user):
    return type(finance_user).objects.create(username="fin-b", role="finance", full_name="Fin B")


def contenders(kind: str, finance_user, second_finance):
    """The two calls racing: two payment runs by two finance officers, or a run and the daily job."""
    if kind == "two runs":
        return [
            lambda: services.payment_run_start(actor=finance_user),
            lambda: services.payment_run_start(actor=second_finance),
        ]
    return [lambda: services.payment_run_start(actor=finance_user), lambda: services.loads_pay_due()]


def race_rounds(kind, make_holder, finance_user, second_finance, gateway, fake=None) -> collections.Counter:
    """ROUNDS races over fresh holders' due loads; returns how the rounds went (who paid how many
    loads, and whether the loser's insert reached the unique constraint)."""
    holders: list[Holder] = []
    rounds = collections.Counter()
    names = {finance_user.pk: "run A", second_finance.pk: "run B", None: "daily job"}
    for _ in range(ROUNDS):
        fresh = [make_holder() for _ in range(HOLDERS_PER_ROUND)]
        assert all(len(h.due) == 2 and len(h.later) == 1 for h in fresh)
        before = {h.budget.pk: budget_figures(h.budget) for h in fresh}
        drawn = payment_ids_drawn()

        outcomes = race(contenders(kind, finance_user, second_finance))

        reraise_errors(outcomes)
        runs = [o for o in outcomes if o is not None]
        assert all(isinstance(run, PaymentRun) for run in runs), outcomes
        if kind == "two runs":
            assert len(runs) == 2
        else:  # the daily job starts no run when it finds the finance run has taken every load
            assert len(runs) in (1, 2) and any(run.started_by_id == finance_user.pk for run in runs)
        assert_round(runs, fresh, before)
        holders += fresh
        assert_each_load_paid_once(holders, gateway, fake)
        assert_funds_hold_their_loads(fresh)
        split = ", ".join(sorted(f"{names[r.started_by_id]} {reload(r).payment_count}" for r in runs))
        turned_away = payment_ids_drawn() - drawn - sum(len(h.due) for h in fresh)
        rounds[f"{split}{'; the constraint turned the other away' if turned_away else ''}"] += 1
    assert len(holders) == ROUNDS * HOLDERS_PER_ROUND
    assert_funds_hold_their_loads(holders)
    return rounds


@pytest.mark.parametrize("kind", ["two runs", "a run and the daily job"])
def test_two_runs_paying_the_same_loads_at_once_make_one_payment_per_load(
    kind, make_dp_holder, finance_user, second_finance, settings
):
    settings.PAYMENT_GATEWAY = "ledger"

    rounds = race_rounds(kind, make_dp_holder, finance_user, second_finance, "ledger")

    print(f"\n{kind}, ledger gateway, {ROUNDS} rounds: {dict(rounds)}")


@pytest.mark.parametrize("kind", ["two runs", "a run and the daily job"])
def test_two_runs_at_once_through_stripe_make_one_transfer_per_load_to_the_person(
    kind, make_dp_holder, finance_user, second_finance, stripe_payments
):
    fake = stripe_payments

    def holder_with_account() -> Holder:
        holder = make_dp_holder()
        account = fake.create_account(email=holder.person.email, onboarded=True)
        services.person_payee_account_set(
            actor=None, person=holder.person, gateway_name="stripe", account_id=account["id"], ready=True
        )
        holder.account_id = account["id"]
        return holder

    rounds = race_rounds(kind, holder_with_account, finance_user, second_finance, "stripe", fake)

    print(f"\n{kind}, Stripe, {ROUNDS} rounds: {dict(rounds)}")

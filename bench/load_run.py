"""Benchmark: paying the direct-payment loads of 10,000 holders, against floors measured in the same run.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn_bench_loads \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/load_run.py [--holders N] [--skip-stripe]

The data, built in a forked process (so the paying process's peak memory is its own): N clients,
each with a £10,000 budget for the year from today and an approved plan of one own-arrangement
direct-payment line (a personal assistant, £14.50 an hour, 10 hours a week for 52 weeks:
£7,540.00), the fund account the approval makes for it and its load schedule: 13 loads of £580.00,
exactly one due today. The first 3 holders are made by the real services: the budget as the tests'
`make_budget` makes it (assessment row, `ledger.open_budget_accounts`, `ledger.allocate`), then
`plan_create`, `plan_submit`, `plan_start_review` and `plan_approve` by their social worker, whose
`plan_approved` event schedules the loads (`funds_schedule`). The others are bulk-inserted rows
worked out the same way (`careplans.costing.weekly_cost`, `payments.schedule.periods`, the
ledger's keys, fingerprints, postings and running balances) and checked against the real ones
before anything is timed: the same rows, holder for holder (ids aside), every account's balance
equal to its postings, one load due per holder. Not bulk-made, as paying neither reads nor writes
them: the approval's audit events, notifications, review record, workflow log, statutory reviews
and caseload rows. The built database is kept as a template and copied back before each phase,
so every phase pays the same N loads from the same state.

1. `ledger` gateway, in-process, eager Celery: `payment_run_start` by finance pays every load.
   Checked afterwards in a forked child (its memory is not the paying process's): N payments
   paid, each load paid once (a second run and the daily job then pay nothing), every account's
   running balance equal to its postings, every budget's figures (`budget_figures_many`;
   `budget_figures_from_postings` and `fund_figures` for a sample), the plans' paid amounts, the
   run's reconciliation (`payment_run_reconcile`, its differences printed).
   Floor: N bare balanced ledger writes shaped as `ledger.record_fund_load` makes them (a
   transaction row, four postings, four balance updates, one commit each) with no Cairn layers.
2. The daily job, `loads_pay_due`, on a fresh copy: the same payments with no finance run.
3. Queries per load: the whole run paid by `payment_run_work` (in batches) under
   CaptureQueriesContext, grouped by statement, with the database's share of the time.
4. Stripe: Connect transfers to each holder's own connected account (seeded in the project's local
   Stripe fake; a ready `PayeeAccount` per person as `person_payee_account_set` makes it) through a
   real Celery worker on Redis (concurrency 1), with the same checks and the worker's peak memory.
   Floor: N bare `stripe` client transfers to the same accounts from one process through one
   kept-alive client (Cairn's gateway keeps one client for a batch). Then the Stripe path's
   queries per load, as in 3.
Each ledger phase also reports its CPU time (this process's and its PostgreSQL backend's, from
/proc): the wall-clock ratio moves with whatever else the machine runs; the CPU ratio much less.
Targets: the ledger run and the Stripe run ≤ 2× their floors; the paying process's peak memory
≤ 300 MB. DEBUG is off, as in production (no query log). PROFILE=1 prints a cProfile of the ledger run instead
(PROFILE_SORT, PROFILE_LINES).
Not run by `make test` or CI. Helpers are copied from bench/payment_run.py rather than imported:
importing it would set DATABASE_URL to its own database.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cairn_bench_loads")
BROKER = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ["DATABASE_URL"] = DB_URL
os.environ["CELERY_BROKER_URL"] = BROKER  # the app talks to Redis; phases that want eager say so
os.environ["DEBUG"] = "False"
os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a line per eager task
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.base")
os.environ["PAYMENT_RETRY_BACKOFF_SECONDS"] = "1"

NAME = DB_URL.rsplit("/", 1)[1].split("?")[0]
SEED = f"{NAME}_seed"
ADMIN_URL = DB_URL.rsplit("/", 1)[0] + "/postgres"

SAMPLE = 3  # holders made by the real services
BUDGET = Decimal("10000.00")
PRICE, HOURS, WEEKS = Decimal("14.50"), Decimal("10"), 52
OUTCOME, RISKS, CONTACTS = "Get out to the allotment every week", "Falls", "My son"
CHUNK = 2000
LEDGER_GOAL, MEMORY_GOAL = 2.0, 300


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def recreate(name: str, template: str | None = None) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def restore() -> float:
    """The bench database back to the state the build left it in (a copy of the seed)."""
    from django.db import connections

    connections.close_all()
    began = time.perf_counter()
    recreate(NAME, template=SEED)
    return time.perf_counter() - began


def _report(queue, fn, args) -> None:
    import traceback

    try:
        queue.put(("ok", fn(*args)))
    except BaseException:  # reported to the parent, which raises
        queue.put(("error", traceback.format_exc()))


def in_child(fn, *args, fresh: bool = False):
    """Run `fn` in another process and return its result (its exception, re-raised here): forked
    (Django set up, its connections closed first), or, `fresh`, a new interpreter that has opened
    nothing (a fork after Celery has spoken to Redis shares its sockets, and kombu's after-fork
    clean-up then waits on one for ever)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn" if fresh else "fork")
    queue = context.Queue()
    child = context.Process(target=_report, args=(queue, fn, args))
    child.start()
    status, value = queue.get()
    child.join()
    if status != "ok":
        raise SystemExit(f"a child process failed:\n{value}")
    return value


# -- the data ----------------------------------------------------------------------------------


def pa_line(start: datetime.date) -> dict:
    return {
        "description": "Personal assistant",
        "unit": "hour",
        "unit_price": str(PRICE),
        "units_per_week": str(HOURS),
        "start": start,
        "end": start + datetime.timedelta(days=7 * WEEKS - 1),
        "money_management": "direct_payment",
    }


def build(n: int) -> dict:
    """Migrate, then make the staff, SAMPLE holders through the services and the rest in bulk."""
    from django.core.management import call_command
    from django.utils import timezone
    from djmoney.money import Money

    from accounts.models import CaseloadAssignment, Role, Team, TeamMembership, User
    from approvals.services import CHECKLIST, plan_approve, plan_start_review, plan_submit
    from budgets.models import Assessment, AssessmentStatus, PersonalBudget
    from budgets.selectors import active_scheme
    from budgets.services import ledger
    from careplans.services import plan_create
    from payments.models import Load
    from payments.services import funds_schedule

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - began
    today = timezone.localdate()
    scheme = active_scheme()
    User.objects.create(username="bench-finance", full_name="Bench Finance", role=Role.FINANCE)
    manager = User.objects.create(username="bench-manager", full_name="Bench Manager", role=Role.TEAM_MANAGER)
    worker = User.objects.create(username="bench-worker", full_name="Bench Worker", role=Role.SOCIAL_WORKER)
    team = Team.objects.create(name="Bench Team", manager=manager)
    TeamMembership.objects.create(team=team, social_worker=worker)

    began = time.perf_counter()
    sample = min(SAMPLE, n)
    for i in range(sample):
        client = User.objects.create(username=f"bench-dp-{i}", full_name=f"Holder {i}", role=Role.CLIENT)
        CaseloadAssignment.objects.create(
            social_worker=worker, client=client, start_date=today - datetime.timedelta(days=30)
        )
        assessment = Assessment.objects.create(
            client=client, assessor=client, scheme=scheme, status=AssessmentStatus.COMPLETED, eligible=True,
            indicative_budget=Money(BUDGET, "GBP"),
        )  # fmt: skip
        budget = PersonalBudget.objects.create(
            client=client, assessment=assessment, period_start=today,
            period_end=today + datetime.timedelta(days=364), indicative_amount=Money(BUDGET, "GBP"),
        )  # fmt: skip
        ledger.open_budget_accounts(budget)
        ledger.allocate(budget=budget, amount=Money(BUDGET, "GBP"), key=f"bench:{budget.pk}:allocation")
        plan = plan_create(
            actor=client, budget=budget, outcomes=[OUTCOME], lines=[pa_line(today)], risks=RISKS, contacts=CONTACTS
        )
        plan = plan_submit(actor=client, plan=plan)
        plan = plan_start_review(actor=worker, plan=plan)
        plan = plan_approve(actor=worker, plan=plan, checklist=dict.fromkeys(CHECKLIST, True))
        funds_schedule(plan_id=plan.pk)  # made already by the approval's event (eager Celery): changes nothing
        assert Load.objects.filter(plan=plan).count() == WEEKS * 7 // 28, "the approval made no load schedule"
    by_services = time.perf_counter() - began

    began = time.perf_counter()
    for start in range(sample, n, CHUNK):
        bulk_holders(range(start, min(start + CHUNK, n)), today=today, scheme=scheme, worker=worker)
    in_bulk = time.perf_counter() - began
    return {"migrate": migrated, "services": by_services, "bulk": in_bulk, "sample": sample}


def bulk_holders(numbers: range, *, today: datetime.date, scheme, worker) -> None:
    """The rows `build`'s service calls make for one holder, for each of `numbers`, in bulk."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone
    from djmoney.money import Money

    from accounts.models import Role, User
    from budgets.models import (
        AccountKind,
        Assessment,
        AssessmentStatus,
        LedgerAccount,
        LedgerPosting,
        LedgerTransaction,
        PersonalBudget,
        TransactionKind,
    )
    from budgets.services import ledger
    from careplans.costing import weekly_cost
    from careplans.models import CarePlan, LineKind, MoneyManagement, PlanLine, PlanOutcome, PlanStatus
    from payments import schedule
    from payments.models import FundAccount, FundKind, Load
    from payments.selectors import fund_policy

    gbp = lambda value: Money(value, "GBP")  # noqa: E731
    line = pa_line(today)
    cost = weekly_cost(PRICE, HOURS, line["start"], line["end"])
    periods = schedule.periods(
        [schedule.FundLine(unit_price=PRICE, start=line["start"], end=line["end"], units_per_week=HOURS)],
        grid_start=today,  # the anchor: the later of the line's start and the approval (both today)
        from_date=today,
        period_days=fund_policy().load_period_days,
    )
    now = timezone.now()
    with transaction.atomic():
        clients = User.objects.bulk_create(
            [User(username=f"bench-dp-{i}", full_name=f"Holder {i}", role=Role.CLIENT) for i in numbers]
        )
        assessments = Assessment.objects.bulk_create(
            [
                Assessment(
                    client=c, assessor=c, scheme=scheme, status=AssessmentStatus.COMPLETED, eligible=True,
                    indicative_budget=gbp(BUDGET),
                )
                for c in clients
            ]
        )  # fmt: skip
        budgets = PersonalBudget.objects.bulk_create(
            [
                PersonalBudget(
                    client=c, assessment=a, period_start=today, period_end=today + datetime.timedelta(days=364),
                    indicative_amount=gbp(BUDGET),
                )
                for c, a in zip(clients, assessments, strict=True)
            ]
        )  # fmt: skip
        balances = {AccountKind.AVAILABLE: BUDGET - cost, AccountKind.COMMITTED: cost, AccountKind.PAID: Decimal(0)}
        accounts = LedgerAccount.objects.bulk_create(
            [
                LedgerAccount(code=f"budget:{b.pk}:{kind}", kind=kind, budget=b, balance=gbp(balance))
                for b in budgets
                for kind, balance in balances.items()
            ]
        )
        available = {a.budget_id: a for a in accounts if a.kind == AccountKind.AVAILABLE}
        committed = {a.budget_id: a for a in accounts if a.kind == AccountKind.COMMITTED}
        plans = CarePlan.objects.bulk_create(
            [
                CarePlan(
                    budget=b, client=c, status=PlanStatus.APPROVED, risks=RISKS, contacts=CONTACTS,
                    total_cost=gbp(cost), approved_at=now, committed_amount=gbp(cost), created_by=c,
                )
                for b, c in zip(budgets, clients, strict=True)
            ]
        )  # fmt: skip
        PlanOutcome.objects.bulk_create([PlanOutcome(plan=p, text=OUTCOME, domain="", position=0) for p in plans])
        PlanLine.objects.bulk_create(
            [
                PlanLine(
                    plan=p, money_management=MoneyManagement.DIRECT_PAYMENT, title=line["description"],
                    unit=line["unit"], unit_price=gbp(PRICE), kind=LineKind.WEEKLY, units_per_week=HOURS,
                    start=line["start"], end=line["end"], cost=gbp(cost), position=1,
                )
                for p in plans
            ]
        )  # fmt: skip
        funding = ledger.council_account(AccountKind.FUNDING)
        transactions, postings = [], []
        for b, p in zip(budgets, plans, strict=True):
            allocation = LedgerTransaction(
                kind=TransactionKind.ALLOCATION, budget=b, idempotency_key=f"bench:{b.pk}:allocation",
                fingerprint=f"allocation:{b.pk}:{BUDGET:.2f}:", memo="Budget allocated",
            )  # fmt: skip
            commitment = LedgerTransaction(
                kind=TransactionKind.COMMITMENT, budget=b, idempotency_key=f"plan:{p.pk}:approve",
                fingerprint=f"commitment:{b.pk}:{cost:.2f}:", memo="Care plan version 1 approved", created_by=worker,
            )  # fmt: skip
            transactions += [allocation, commitment]
            postings += [
                LedgerPosting(transaction=allocation, account=funding, amount=gbp(-BUDGET)),
                LedgerPosting(transaction=allocation, account=available[b.pk], amount=gbp(BUDGET)),
                LedgerPosting(transaction=commitment, account=available[b.pk], amount=gbp(-cost)),
                LedgerPosting(transaction=commitment, account=committed[b.pk], amount=gbp(cost)),
            ]
        LedgerTransaction.objects.bulk_create(transactions)
        LedgerPosting.objects.bulk_create(postings)  # each takes its transaction's id, now it has one
        LedgerAccount.objects.filter(pk=funding.pk).update(balance=F("balance") - BUDGET * len(budgets))
        funds = FundAccount.objects.bulk_create(
            [
                FundAccount(budget=b, kind=FundKind.DIRECT_PAYMENT, holder=c, anchor=today)
                for b, c in zip(budgets, clients, strict=True)
            ]
        )
        Load.objects.bulk_create(
            [
                Load(account=f, plan=p, period_start=x.start, period_end=x.end, due=x.due, amount=gbp(x.amount))
                for f, p in zip(funds, plans, strict=True)
                for x in periods
                if x.amount > 0
            ],
            batch_size=5000,
        )


def holder_signature(budget_id: int) -> dict:
    """One holder's rows, every column of every model paying reads, with ids replaced by what they
    stand for, times by their day and the holder's own names left out."""
    import datetime as dt

    from budgets.models import LedgerAccount, LedgerPosting, LedgerTransaction, PersonalBudget
    from careplans.models import CarePlan, PlanLine, PlanOutcome
    from payments.models import FundAccount, Load

    budget = PersonalBudget.objects.select_related("client", "assessment").get(pk=budget_id)
    plans = list(CarePlan.objects.filter(budget=budget))
    accounts = list(LedgerAccount.objects.filter(budget=budget))
    transactions = list(LedgerTransaction.objects.filter(budget=budget))
    funds = list(FundAccount.objects.filter(budget=budget))
    rows = {
        "client": [budget.client],
        "assessment": [budget.assessment],
        "budget": [budget],
        "accounts": accounts,
        "transactions": transactions,
        "postings": list(LedgerPosting.objects.filter(transaction__in=transactions)),
        "plans": plans,
        "outcomes": list(PlanOutcome.objects.filter(plan__in=plans)),
        "lines": list(PlanLine.objects.filter(plan__in=plans)),
        "funds": funds,
        "loads": list(Load.objects.filter(account__in=funds)),
    }
    names = {(LedgerAccount, a.pk): a.code.replace(f"budget:{budget.pk}:", "budget:<budget>:") for a in accounts}
    names |= {(LedgerTransaction, t.pk): f"<{t.kind}>" for t in transactions}
    for key in ("client", "assessment", "budget", "plans", "funds"):
        names |= {(type(o), o.pk): f"<{key}>" for o in rows[key]}
    texts = [(f"plan:{p.pk}:", "plan:<plan>:") for p in plans] + [(f":{budget.pk}:", ":<budget>:")]

    def value(obj, field):
        v = getattr(obj, field.attname)
        if field.is_relation and v is not None:
            return names.get((field.related_model, v), v)  # anything else (scheme, staff) is shared
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, str):
            for old, new in texts:
                v = v.replace(old, new)
        return v

    def row(obj) -> tuple:
        skip = {"username", "full_name"} if obj is budget.client else set()
        fields = [
            f for f in obj._meta.concrete_fields
            if not f.primary_key and f.name not in skip and not getattr(f, "auto_now", False)
            and not getattr(f, "auto_now_add", False)
        ]  # fmt: skip
        return tuple((f.name, value(obj, f)) for f in fields)

    return {key: sorted((row(o) for o in objs), key=repr) for key, objs in rows.items()}


def ledger_consistency() -> tuple[int, int]:
    """(accounts whose running balance differs from their postings, transactions not summing to zero)."""
    from django.db import connection

    from budgets.models import LedgerAccount, LedgerPosting

    accounts, postings = LedgerAccount._meta.db_table, LedgerPosting._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {accounts} a LEFT JOIN (SELECT account_id, sum(amount) AS s FROM {postings} "
            f"GROUP BY account_id) p ON p.account_id = a.id WHERE a.balance <> coalesce(p.s, 0)"
        )
        off = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*) FROM (SELECT transaction_id FROM {postings} GROUP BY transaction_id "
            f"HAVING sum(amount) <> 0) x"
        )
        return off, cursor.fetchone()[0]


def check_build(n: int) -> dict:
    """The bulk-made holders are what the services made; one load per holder is due today."""
    from django.db.models import Count
    from django.utils import timezone

    from budgets.models import PersonalBudget
    from payments.models import Load, LoadStatus

    ids = list(PersonalBudget.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == n, f"{len(ids)} budgets for {n} holders"
    sample = min(SAMPLE, n)
    reference = holder_signature(ids[0])
    compared = ids[:sample] + ids[sample :: max(1, (n - sample) // 20)][:20] + ids[-1:]
    for budget_id in compared:
        got = holder_signature(budget_id)
        differ = {k: (reference[k], got[k]) for k in reference if reference[k] != got[k]}
        assert not differ, f"budget {budget_id} differs from the services' holder: {differ}"
    due = Load.objects.filter(status=LoadStatus.SCHEDULED, due__lte=timezone.localdate())
    per_holder = Counter(due.values("account_id").annotate(k=Count("pk")).values_list("k", flat=True))
    assert per_holder == {1: n}, f"loads due per holder: {dict(per_holder)}"
    off, unbalanced = ledger_consistency()
    assert (off, unbalanced) == (0, 0), f"{off} account balances off, {unbalanced} transactions unbalanced"
    return {"compared": len(set(compared)), "loads": Load.objects.count()}


# -- the phases --------------------------------------------------------------------------------


class Clock:
    """Wall time, and the CPU time of this process and of its PostgreSQL backend (read from /proc
    when the server is on this machine): what the work costs, whatever else the machine runs."""

    def __enter__(self) -> Clock:
        from django.db import connection

        connection.ensure_connection()
        self.backend = connection.connection.info.backend_pid
        self.db0, self.py0, self.wall0 = backend_cpu(self.backend), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.wall0
        self.python = time.process_time() - self.py0
        end = backend_cpu(self.backend)
        self.database = None if end is None or self.db0 is None else end - self.db0

    def cpu(self, n: int) -> str:
        """CPU milliseconds a unit of work, this process + its database backend."""
        if self.database is None:
            return f"CPU {self.python / n * 1000:.2f} ms each in this process (its database backend's unreadable)"
        total = (self.python + self.database) / n * 1000
        return (
            f"CPU {total:.2f} ms each (Python {self.python / n * 1000:.2f} + PostgreSQL {self.database / n * 1000:.2f})"
        )

    @property
    def cpu_seconds(self) -> float | None:
        return None if self.database is None else self.python + self.database


def backend_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def ledger_run(finance) -> tuple:
    from django.conf import settings

    from payments.services import payment_run_start

    settings.PAYMENT_GATEWAY = "ledger"
    with Clock() as clock:
        run = payment_run_start(actor=finance)  # eager Celery: every payment is sent before it returns
    return run, clock


def daily_run() -> tuple:
    from django.conf import settings

    from payments.services import loads_pay_due

    settings.PAYMENT_GATEWAY = "ledger"
    with Clock() as clock:
        run = loads_pay_due()
    return run, clock


def verify(run, n: int, finance=None) -> Counter:
    """Every load paid once, to its holder, and the ledger and the figures right. Returns the
    reconciliation's differences, counted by problem."""
    from django.db.models import Count, F
    from django.utils import timezone

    from budgets.models import AccountKind, LedgerAccount, LedgerTransaction, PersonalBudget, TransactionKind
    from budgets.selectors import budget_figures, budget_figures_from_postings, budget_figures_many
    from careplans.models import CarePlan
    from payments.models import FundAccount, Load, LoadStatus, PaymentKind
    from payments.selectors import fund_figures, payment_run_counts
    from payments.services import loads_pay_due, payment_run_reconcile, payment_run_start

    load = Decimal("580.00")
    cost = Decimal("7540.00")
    run.refresh_from_db()
    counts = payment_run_counts(run)
    assert run.finished_at is not None, "the run has not finished"
    assert run.payment_count == n and counts["paid"] == n == counts["total"], f"{counts} of {n}"
    assert run.total.amount == load * n, f"run total {run.total}"
    payments = run.payments.all()
    assert payments.filter(kind=PaymentKind.DIRECT_PAYMENT, load__account__holder_id=F("person_id")).count() == n
    assert payments.exclude(amount=F("load__amount")).count() == 0
    paid = Load.objects.filter(status=LoadStatus.PAID, paid_at__isnull=False)
    assert paid.count() == n, f"{paid.count()} loads paid of {n}"
    assert paid.annotate(k=Count("payments")).exclude(k=1).count() == 0, "a load with more than one payment"
    assert not Load.objects.filter(status=LoadStatus.SCHEDULED, due__lte=timezone.localdate()).exists()
    loads = LedgerTransaction.objects.filter(kind=TransactionKind.FUND_LOAD)
    assert loads.count() == n and loads.annotate(k=Count("postings")).exclude(k=4).count() == 0
    assert payments.filter(ledger_transaction__kind=TransactionKind.FUND_LOAD).count() == n
    off, unbalanced = ledger_consistency()
    assert (off, unbalanced) == (0, 0), f"{off} account balances off their postings, {unbalanced} unbalanced"
    ids = list(PersonalBudget.objects.values_list("pk", flat=True))
    wrong = [
        pk
        for pk, f in budget_figures_many(ids).items()
        if (f.allocated.amount, f.committed.amount, f.paid.amount, f.available.amount)
        != (BUDGET, cost, load, BUDGET - cost)
    ]
    assert not wrong, f"{len(wrong)} budgets with wrong figures, e.g. {wrong[:3]}"
    held = LedgerAccount.objects.filter(kind=AccountKind.FUND_HELD)
    assert held.count() == n and held.exclude(balance=load).count() == 0
    issued = LedgerAccount.objects.get(code=f"council:{AccountKind.FUNDS_ISSUED}")
    assert issued.balance.amount == -load * n
    assert CarePlan.objects.exclude(paid_amount=load).count() == 0, "a plan's paid amount is wrong"
    for budget in PersonalBudget.objects.order_by("pk")[: SAMPLE + 2]:
        assert budget_figures(budget) == budget_figures_from_postings(budget)
        figures = fund_figures(FundAccount.objects.get(budget=budget))
        assert figures.loaded.amount == figures.balance.amount == load
    differences = Counter(d.problem for d in payment_run_reconcile(run=run))
    if finance is not None:  # nothing left to pay
        assert payment_run_start(actor=finance).payment_count == 0
    assert loads_pay_due() is None
    return differences


def ledger_floor(n: int) -> Clock:
    """N load-shaped balanced transactions (four postings, four balance updates) written with the
    fewest statements the ORM allows, one commit each, to the accounts the run paid into."""
    from django.db import transaction
    from django.db.models import F
    from djmoney.money import Money

    from budgets.models import AccountKind, LedgerAccount, LedgerPosting, LedgerTransaction
    from payments.models import Load, LoadStatus

    kinds = (AccountKind.COMMITTED, AccountKind.PAID, AccountKind.FUND_HELD)
    accounts: dict[int, dict[str, int]] = {}
    for budget_id, kind, pk in LedgerAccount.objects.filter(kind__in=kinds).values_list("budget_id", "kind", "pk"):
        accounts.setdefault(budget_id, {})[kind] = pk
    issued = LedgerAccount.objects.get(code=f"council:{AccountKind.FUNDS_ISSUED}").pk
    budgets = list(
        Load.objects.filter(status=LoadStatus.PAID).order_by("due", "pk").values_list("account__budget_id", flat=True)
    )
    assert len(budgets) == n
    amount = Money("580.00", "GBP")
    with Clock() as clock:
        for i, budget_id in enumerate(budgets):
            mine = accounts[budget_id]
            moves = ((mine[AccountKind.COMMITTED], -amount), (mine[AccountKind.PAID], amount), (issued, -amount),
                     (mine[AccountKind.FUND_HELD], amount))  # fmt: skip
            with transaction.atomic():
                tx = LedgerTransaction.objects.create(
                    kind="fund_load",
                    budget_id=budget_id,
                    idempotency_key=f"floor:{i}",
                    fingerprint="floor",
                    memo="floor",
                )
                LedgerPosting.objects.bulk_create(
                    [LedgerPosting(transaction=tx, account_id=pk, amount=value) for pk, value in moves]
                )
                for pk, value in moves:
                    LedgerAccount.objects.filter(pk=pk).update(balance=F("balance") + value.amount)
    return clock


def statement(sql: str) -> str:
    """A query's verb and table, e.g. `UPDATE budgets_ledgeraccount`."""
    verb = sql.split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb
    match = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
    lock = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
    return f"{verb} {match.group(1) if match else '?'}{lock}"


def probe_queries(finance) -> dict:
    """Through the gateway settings.PAYMENT_GATEWAY names: the queries of making a run (its sending
    held back), then of paying it with `payment_run_work` (in batches), per load."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from payments.services import payment_run_start, payment_run_work

    original = transaction.on_commit
    transaction.on_commit = lambda *a, **k: None  # keep payment_run_start from queueing the work
    try:
        with CaptureQueriesContext(connection) as making:
            run = payment_run_start(actor=finance)
    finally:
        transaction.on_commit = original
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as paying:
        payment_run_work(run_id=run.pk)
    wall = time.perf_counter() - began
    sent = run.payments.count()
    per_load = Counter(statement(q["sql"]) for q in paying.captured_queries)
    db = sum(float(q["time"]) for q in paying.captured_queries)
    return {
        "making": len(making.captured_queries),
        "paying": len(paying.captured_queries),
        "per_load": len(paying.captured_queries) / sent,
        "by_statement": {k: v / sent for k, v in per_load.most_common()},
        "ms_per_load": wall / sent * 1000,
        "db_share": db / wall,
    }


# -- Stripe ------------------------------------------------------------------------------------


def point_at(fake) -> None:
    from django.conf import settings

    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = "sk_test_bench"  # noqa: S105  (the local fake's test key)
    settings.STRIPE_TIMEOUT_SECONDS = 10


def seed_payees(fake, accounts: list[str] | None = None) -> list[str]:
    """A connected account in the fake for every holder, onboarded (or `accounts`, made before),
    and its ready PayeeAccount: through `person_payee_account_set` for the sample, in bulk (the
    same row) for the rest."""
    from accounts.models import User
    from payments.models import FundAccount, FundKind, PayeeAccount
    from payments.services import person_payee_account_set

    funds = FundAccount.objects.filter(kind=FundKind.DIRECT_PAYMENT).order_by("pk")
    holders = list(funds.values_list("holder_id", flat=True))
    accounts = accounts or [fake.create_account(onboarded=True)["id"] for _ in holders]
    for holder, account in zip(holders[:SAMPLE], accounts, strict=False):
        person_payee_account_set(
            actor=None, person=User.objects.get(pk=holder), gateway_name="stripe", account_id=account, ready=True
        )
    PayeeAccount.objects.bulk_create(
        [
            PayeeAccount(person_id=holder, gateway="stripe", account_id=account, ready=True)
            for holder, account in zip(holders[SAMPLE:], accounts[SAMPLE:], strict=True)
        ],
        batch_size=5000,
    )
    return accounts


def start_worker(fake_url: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        CELERY_BROKER_URL=BROKER,
        PAYMENT_GATEWAY="stripe",
        STRIPE_API_BASE=fake_url,
        STRIPE_SECRET_KEY="sk_test_bench",  # noqa: S106  (the local fake's test key)
        STRIPE_WEBHOOK_SECRET="whsec_bench",  # noqa: S106
        STRIPE_TIMEOUT_SECONDS="10",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "--concurrency", "1", "--pool", "prefork",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def tree_peak_mb(pid: int) -> dict[int, float]:
    """VmHWM (peak resident set) of a process and its children, from /proc."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    peaks = {}
    for p in pids:
        try:
            for row in Path(f"/proc/{p}/status").read_text().splitlines():
                if row.startswith("VmHWM:"):
                    peaks[p] = int(row.split()[1]) / 1024
        except OSError:
            continue
    return peaks


def stripe_phase(finance, n: int, fake) -> dict:
    from payments.models import PaymentRun
    from payments.services import payment_run_start

    accounts = seed_payees(fake)
    point_at(fake)
    from marketplace.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    worker = start_worker(fake.url)
    try:
        waited = time.perf_counter()
        while not app.control.ping(timeout=0.5):
            if time.perf_counter() - waited > 60:
                raise SystemExit("the Celery worker did not answer in a minute")
        began = time.perf_counter()
        run = payment_run_start(actor=finance)
        while not PaymentRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
            time.sleep(0.2)
            if time.perf_counter() - began > 1800:
                raise SystemExit("the Stripe run did not finish in 30 minutes")
        elapsed = time.perf_counter() - began
        peaks = tree_peak_mb(worker.pid)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        app.conf.task_always_eager = True
    transfers = fake.transfers
    assert len(transfers) == n, f"{len(transfers)} transfers for {n} loads"
    assert len({t["destination"] for t in transfers}) == n and {t["destination"] for t in transfers} == set(accounts)
    by_payment = {t["metadata"]["payment"]: t for t in transfers}
    for payment in run.payments.select_related("person").order_by("pk")[:: max(1, n // 50)]:
        sent = by_payment[str(payment.pk)]
        assert sent["destination"] == payment.person.payee_accounts.get(gateway="stripe").account_id
        assert sent["amount"] == 58000 and sent["transfer_group"] == run.transfer_group
    return {"seconds": elapsed, "per_second": n / elapsed, "run": run, "worker_peaks": peaks, "accounts": accounts}


def stripe_floor(fake, accounts: list[str]) -> dict:
    """Bare client transfers to the fake, one per account, through one client (its connection kept
    alive, as Cairn's gateway keeps one client for a batch), from a new process (the fake serves
    from a thread of this one: a client here would share its interpreter lock, and the real worker
    is another process too)."""
    before = fake.transfer_count()
    result = in_child(_bare_transfers, fake.url, accounts, fresh=True)
    assert fake.transfer_count() == before + len(accounts)
    return result


def _bare_transfers(url: str, accounts: list[str]) -> dict:
    import stripe

    client = stripe.StripeClient(
        "sk_test_bench", base_addresses={"api": url}, max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=10),
    )  # fmt: skip
    began = time.perf_counter()
    for i, account in enumerate(accounts):
        client.v1.transfers.create(
            {"amount": 58000, "currency": "gbp", "destination": account, "transfer_group": "floor",
             "metadata": {"payment": str(i), "load": str(i), "run": "0"}},
            options={"idempotency_key": f"floor-{i}"},
        )  # fmt: skip
    elapsed = time.perf_counter() - began
    return {"seconds": elapsed, "per_second": len(accounts) / elapsed}


# -- main --------------------------------------------------------------------------------------


def differences_line(differences: Counter) -> str:
    if not differences:
        return "reconciliation: no differences"
    return "reconciliation: " + "; ".join(f"{count:,} × “{problem}”" for problem, count in differences.most_common())


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--holders", type=int, default=10_000)
    parser.add_argument("--skip-stripe", action="store_true")
    options = parser.parse_args()
    n = options.holders
    if n < 1:
        parser.error("--holders must be at least 1")
    recreate(NAME)

    import django

    django.setup()
    from marketplace.celery import app

    app.conf.task_always_eager = True  # the ledger phases run in-process
    began = time.perf_counter()
    made = in_child(build, n)
    built = time.perf_counter() - began
    checked = check_build(n)
    from django.db import connections

    connections.close_all()
    recreate(SEED, template=NAME)
    print(
        f"built {n:,} direct-payment holders in {built:.1f} s (migrate {made['migrate']:.1f} s; "
        f"{made['sample']} through the services {made['services']:.1f} s; the rest in bulk {made['bulk']:.1f} s); "
        f"{checked['loads']:,} loads, one due today per holder; {checked['compared']} holders' rows match the "
        "services' holder; every balance equals its postings"
    )

    from django.conf import settings

    from accounts.models import User

    finance = User.objects.get(username="bench-finance")
    if os.environ.get("PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(ledger_run, finance)
        stats = pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "cumtime"))
        stats.print_stats(int(os.environ.get("PROFILE_LINES", 40)))
        return

    run, paid = ledger_run(finance)
    run_peak = peak_mb()
    differences = in_child(verify, run, n, finance)  # the checks' memory is not the paying process's
    floor = ledger_floor(n)
    ratio = paid.seconds / floor.seconds
    print(
        f"ledger gateway, payment run: {n:,} loads in {paid.seconds:.2f} s = {n / paid.seconds:,.0f}/s "
        f"({paid.seconds / n * 1000:.2f} ms a load; {paid.cpu(n)}); checked: {n:,} payments paid, each load once, "
        "ledger balanced, every budget's figures and plan's paid amount right, a second run and the daily job pay "
        "nothing"
    )
    print(f"  {differences_line(differences)}")
    print(
        f"  floor (bare load-shaped ledger writes): {floor.seconds:.2f} s = {n / floor.seconds:,.0f}/s "
        f"({floor.seconds / n * 1000:.2f} ms a write; {floor.cpu(n)}); ratio {ratio:.2f}×"
        + (f", CPU ratio {paid.cpu_seconds / floor.cpu_seconds:.2f}×" if paid.cpu_seconds and floor.cpu_seconds else "")
    )

    restore_s = restore()
    daily, by_job = daily_run()
    memory = peak_mb()
    assert daily is not None and daily.started_by_id is None
    in_child(verify, daily, n)
    print(
        f"daily job (loads_pay_due), fresh copy ({restore_s:.1f} s to copy): {n:,} loads in {by_job.seconds:.2f} s = "
        f"{n / by_job.seconds:,.0f}/s ({by_job.cpu(n)}); ratio {by_job.seconds / floor.seconds:.2f}× the floor; "
        "same payments, same checks"
    )
    print(
        f"peak memory of the paying process: {run_peak:.0f} MB after the payment run, {memory:.0f} MB after the "
        "floor and the daily job (checks run in a forked child)"
    )

    restore()
    settings.PAYMENT_GATEWAY = "ledger"
    probe = probe_queries(finance)
    print(
        f"queries: making the run {probe['making']} for {n:,} loads; paying it in batches {probe['paying']} "
        f"= {probe['per_load']:.2f} a load, {probe['ms_per_load']:.2f} ms a load with queries captured, "
        f"{probe['db_share']:.0%} of it in the database"
    )
    print("  a load's queries: " + ", ".join(f"{v:.3g} {k}" for k, v in probe["by_statement"].items()))

    if not options.skip_stripe:
        from tests.stripe_fake.server import StripeFake

        restore()
        with StripeFake(initial_balance=10**13) as fake:
            sent = stripe_phase(finance, n, fake)
            stripe_differences = verify(sent["run"], n)  # in this process: a fork now would hang (in_child)
            bare = stripe_floor(fake, sent["accounts"])
            restore()
            seed_payees(fake, sent["accounts"])
            point_at(fake)
            stripe_probe = probe_queries(finance)
        peaks = ", ".join(f"{mb:.0f} MB" for mb in sent["worker_peaks"].values())
        stripe_ratio = sent["seconds"] / bare["seconds"]
        print(
            f"stripe fake, real worker: {n:,} loads in {sent['seconds']:.2f} s = {sent['per_second']:,.0f}/s "
            f"({sent['seconds'] / n * 1000:.2f} ms a load), each a transfer to the holder's own account; same checks; "
            f"worker peak memory {peaks}"
        )
        print(f"  {differences_line(stripe_differences)}")
        print(
            f"  floor (bare client transfers, one kept-alive client): {bare['seconds']:.2f} s = "
            f"{bare['per_second']:,.0f}/s ({bare['seconds'] / n * 1000:.2f} ms a transfer); ratio {stripe_ratio:.2f}×"
        )
        print(
            f"  queries: {stripe_probe['per_load']:.2f} a load; "
            + ", ".join(f"{v:.3g} {k}" for k, v in stripe_probe["by_statement"].items())
        )

    print(f"load average {os.getloadavg()[0]:.2f} (2 cores, shared machine)")
    print(f"target load-run-ledger: {ratio:.2f}x floor (goal <= {LEDGER_GOAL:.2f}x) {met(ratio <= LEDGER_GOAL)}")
    print(f"target load-run-memory: {memory:.0f} MB (goal <= {MEMORY_GOAL} MB) {met(memory <= MEMORY_GOAL)}")
    if not options.skip_stripe:
        print(f"target load-run-stripe: {stripe_ratio:.2f}x floor (goal <= 2.00x) {met(stripe_ratio <= 2.0)}")


if __name__ == "__main__":
    main()

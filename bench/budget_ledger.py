"""Benchmark: the budget page and the budget statement PDF of a budget with 10,000 ledger postings,
against floors measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn_bench_b .venv/bin/python bench/budget_ledger.py \\
        [--movements 5000] [--repeat 9] [--output statement.pdf]

The data (made once per database and reused: the ledger is append-only, so it is never cleared):
one client with a £1,000,000 budget whose year began 364 days ago, allocated and committed
through the ledger service, then `--movements` − 2 payments of £1.00 to £99.99 (kept from the
commitment, two postings each: 5,000 movements make 10,000 postings), written with
`ledger.record_many` day by day across the year (so about 14 a day and each month holds ~420).

Timed in-process through Django's test client as the client (middleware, session, view, template
or PDF, the whole response), each the median (and least) of `--repeat` requests after one to warm
up, with the CPU a request used, this process's and its PostgreSQL backend's (from /proc):
1. the budget page (`/budgets/<id>/`): the first page of the ledger, and a deep one (page 90);
2. the budget statement PDF (`/budgets/<id>/statement.pdf`, the plain link: the whole budget
   period, so all the movements) and one for a single month's dates;
3. for reference, the paginated ledger API (`/api/v1/budgets/<id>/ledger/`).
Floor of each: its own SQL, the queries the request ran (captured once), replayed on a bare
cursor with no ORM, templates or PDF: the database's part, which no rendering can go below.
Also printed: queries per request and the page's HTML size (bounded: 50 rows whatever the
ledger's size). DEBUG is off, as in production.
Targets: the page and the statement PDF each ≤ 300 ms at 10,000 postings. The machine is shared:
the load average is printed beside the timings; figures taken under load are slower.
Not run by `make test` or CI.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cairn_bench_b")
os.environ["DEBUG"] = "False"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.base")

GOAL_MS = 300


def build(movements: int):
    """The bench client and budget, made now unless this database already has them."""
    from djmoney.money import Money

    from accounts.models import Role, User
    from budgets.models import Assessment, AssessmentStatus, LedgerTransaction, PersonalBudget, TransactionKind
    from budgets.selectors import active_scheme
    from budgets.services import ledger

    username = f"bench.ledger.{movements}"
    client = User.objects.filter(username=username).first()
    if client is not None:
        budget = PersonalBudget.objects.get(client=client)
        made = LedgerTransaction.objects.filter(budget=budget).count()
        if made != movements:
            sys.exit(f"{username} has {made} movements, not {movements}: use another database")
        return client, budget, False
    from django.db import connection
    from django.utils import timezone

    client = User.objects.create(username=username, full_name="Bench Ledger Client", role=Role.CLIENT)
    today = timezone.localdate()
    start = today - datetime.timedelta(days=364)
    first = timezone.make_aware(datetime.datetime.combine(start, datetime.time(9)))
    with mock.patch("django.utils.timezone.now", return_value=first):
        assessment = Assessment.objects.create(
            client=client, assessor=client, scheme=active_scheme(), status=AssessmentStatus.COMPLETED,
            eligible=True, indicative_budget=Money("1000000", "GBP"),
        )  # fmt: skip
        budget = PersonalBudget.objects.create(
            client=client, assessment=assessment, period_start=start, period_end=today,
            indicative_amount=Money("1000000", "GBP"),
        )  # fmt: skip
        ledger.open_budget_accounts(budget)
        ledger.allocate(budget=budget, amount=Money("1000000", "GBP"), key=f"bench:{budget.pk}:allocation")
        ledger.commit(budget=budget, amount=Money("1000000", "GBP"), key=f"bench:{budget.pk}:commit", memo="Care plan")
    payments = movements - 2
    days = 365
    done = 0
    for day in range(days):
        count = payments * (day + 1) // days - done
        moment = first + datetime.timedelta(days=day, hours=1)
        entries = [
            ledger.Entry(
                TransactionKind.PAYMENT,
                budget,
                Money(f"{1 + n % 9999 / 100:.2f}", "GBP"),
                f"bench:{budget.pk}:pay:{n}",
                f"Invoice INV-{n:05d} from Brightside Care",
            )
            for n in range(done, done + count)
        ]
        with mock.patch("django.utils.timezone.now", return_value=moment):
            ledger.record_many(entries)
        done += count
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would leave them
    return client, budget, True


def backend_cpu() -> float:
    """Seconds of CPU this connection's PostgreSQL backend has used (0 elsewhere), from /proc."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(web, url: str, repeat: int, data: dict | None = None) -> tuple[float, float, float, object]:
    """The median and the least milliseconds of `repeat` GETs (after one to warm up), the CPU
    milliseconds a request used (this process's and its database backend's: on a shared machine
    the wall clock waits for other people's work, the CPU much less), and the last response."""
    response = web.get(url, data)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    cpu_before, backend_before = time.process_time(), backend_cpu()
    for _ in range(repeat):
        started = time.perf_counter()
        response = web.get(url, data)
        times.append((time.perf_counter() - started) * 1000)
    cpu = (time.process_time() - cpu_before + backend_cpu() - backend_before) * 1000 / repeat
    return statistics.median(times), min(times), cpu, response


def floor(web, url: str, repeat: int, data: dict | None = None) -> tuple[float, int]:
    """The median milliseconds of the request's own SQL replayed on a bare cursor, and how many
    queries it ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        web.get(url, data)
    queries = [q["sql"] for q in captured.captured_queries]
    replay = [q for q in queries if not q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    times = []
    with connection.cursor() as cursor:
        for _ in range(repeat + 1):
            started = time.perf_counter()
            for sql in replay:
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:]), len(queries)


def settings_storages() -> dict:
    from django.conf import settings

    return dict(settings.STORAGES)


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--movements", type=int, default=5000, help="ledger transactions (two postings each)")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--output", type=Path, help="also write the whole-period statement PDF here, to look at")
    options = parser.parse_args()

    import django

    django.setup()
    from django.test.utils import override_settings

    # Static files as they are named in the source (no collectstatic for a bench; production's
    # manifest is a dictionary look-up, no slower).
    static = "django.contrib.staticfiles.storage.StaticFilesStorage"
    override_settings(STORAGES={**settings_storages(), "staticfiles": {"BACKEND": static}}).enable()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.test import APIClient

    from budgets.models import LedgerPosting

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    client, budget, made = build(options.movements)
    postings = LedgerPosting.objects.filter(transaction__budget=budget).count()
    print(
        f"budget {budget.pk}: {options.movements:,} movements, {postings:,} postings "
        f"({'made' if made else 'reused'} in {time.perf_counter() - started:.1f} s) on {connection.vendor}"
    )
    print("load average at start: {:.2f} {:.2f} {:.2f} (the machine is shared)".format(*os.getloadavg()))
    web = Client()
    web.force_login(client)
    api = APIClient()
    api.force_authenticate(client)
    month = (budget.period_start.replace(day=1) + datetime.timedelta(days=40)).replace(day=1)  # a whole month
    month_end = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    one_month = {"start": month.isoformat(), "end": month_end.isoformat()}
    page_url, statement_url = f"/budgets/{budget.pk}/", f"/budgets/{budget.pk}/statement.pdf"
    cases = [
        ("page", web, page_url, None),
        ("page 90", web, page_url, {"page": 90}),
        ("statement PDF, budget period", web, statement_url, None),
        (f"statement PDF, {month:%B %Y}", web, statement_url, one_month),
        ("ledger API (reference)", api, f"/api/v1/budgets/{budget.pk}/ledger/", None),
    ]  # fmt: skip
    results = {}
    for name, who, url, data in cases:
        ms, least, cpu, response = timed(who, url, options.repeat, data)
        floor_ms, queries = floor(who, url, options.repeat, data)
        size = len(response.content)
        results[name] = ms
        print(
            f"{name:<30} {ms:6.1f} ms median of {options.repeat} (least {least:5.1f}; CPU {cpu:5.1f} ms incl. the "
            f"database's); floor (its {queries} queries, bare) {floor_ms:5.1f} ms, ratio {ms / floor_ms:4.1f}x; "
            f"{size:,} bytes; load {os.getloadavg()[0]:.2f}"
        )
        if options.output and name.startswith("statement PDF, budget"):
            options.output.write_bytes(response.content)
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    page, statement = results["page"], results["statement PDF, budget period"]
    print(f"target budget-page: {page:.0f} ms at {postings:,} postings (goal <= {GOAL_MS} ms) {met(page <= GOAL_MS)}")
    print(
        f"target budget-statement-pdf: {statement:.0f} ms at {postings:,} postings, the whole budget period "
        f"(goal <= {GOAL_MS} ms) {met(statement <= GOAL_MS)}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: the open statistics (GET /api/v1/stats/approval-times/, /stats/spend/,
/stats/contribution-reviews/ and the pages /statistics/approval-times/, /statistics/spend/) on
1,000,000 plans with their transitions and 10,000,000 ledger postings, against a floor measured
in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn_bench_c .venv/bin/python bench/open_stats.py \
        [--plans N] [--postings P] [--runs R]

1. Creates (or empties) the database named in DATABASE_URL, migrates it and loads, each table with
   one INSERT … SELECT generate_series (triggers and foreign-key checks off for the load, as for a
   restore): N/2 client users, assessments (5% never completed) and budgets, N plans (two versions
   per budget) spread over five years, their history in django-fsm-log (submitted, in review, then
   approved 70%, referred for senior approval then approved 20%, rejected 10%: 3.2 rows a plan),
   a plan line each on one of 100 services in 10 categories, N invoices and N payments (one a day's
   run, 3% reversed) paid over the five years, and P ledger postings (P/2 balanced transactions
   over 2 accounts a budget). No contribution reviews: they are few by nature, and that endpoint
   reads them directly. Then VACUUM (ANALYZE). Reports rows/s.
2. In a fresh process, the upgrade step: `approval_stats_rebuild` and `spend_stats_rebuild` (the
   product's own rebuild: every plan's history replayed, every month's spend grouped), timed.
3. In a fresh process, R timed requests per endpoint through Django's test client (real URLconf,
   middleware, DRF, JSON; DEBUG off; anonymous, as the public are; persistent database
   connections, CONN_MAX_AGE=60, like the floor's) after a warm-up:
   - cold: the statistics cache emptied before each request, so it checks for change marks, reads
     the stored aggregates and builds the answer — what the first reader after a change pays;
   - cached: the answer from the cache (the common case);
   - after a change: one new transition (or one payment paid) before each request, so the read
     takes the mark in — replays that plan and works its months out again — before answering.
   For each: p50, p95, the request's own SQL time (p95), and memory: the Python allocation peak of
   one cold request (tracemalloc) and the process's resident growth over all R cold requests.
4. The floor, measured in the same loop: per statistic the hand-written SQL an answer needs at
   least — the check for change marks and one SELECT of the stored rows (psycopg, no ORM, a
   connection of its own) — run right after each timed request, so the floor and the request see
   the same machine (on this shared 2-core machine the p95 of one statement, measured a
   minute apart, differed from itself by up to 3.5×); p95 over the same R runs.
Targets, on an otherwise idle machine (the load average is printed beside the figures: the
machine is shared, and figures taken under load are slower): cold p95 ≤ 100 ms for every
endpoint and page, and after a change too (the reader who takes a change in pays for it); each
cold request's SQL time p95 ≤ 2× the floor p95 (the whole request also builds JSON or HTML, which
the floor does not, so its ratio to the floor is printed but not a target). Ends with one
`target …` line each; a missed target prints MISSED; it does not fail the run.
Not run by `make test` or CI. For a quick run: --plans 100000 --postings 1000000 --runs 100.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.base")

WARMUP = 5
P95_TARGET_MS = 100.0
RATIO_TARGET = 2.0
DAYS = 1800  # five years of plans and payments

ENDPOINTS = {
    "approval-times API": ("/api/v1/stats/approval-times/", "approvals"),
    "approval-times page": ("/statistics/approval-times/", "approvals"),
    "spend API": ("/api/v1/stats/spend/", "spend"),
    "spend page": ("/statistics/spend/", "spend"),
    "contribution-reviews API": ("/api/v1/stats/contribution-reviews/", "reviews"),
}
FLOOR_SQL = {
    "approvals": [
        "SELECT EXISTS (SELECT 1 FROM approvals_approvalstatschange)",
        "SELECT stage, month, count, median_days, p90_days FROM approvals_approvaltimemonth",
    ],
    "spend": [
        "SELECT EXISTS (SELECT 1 FROM payments_spendchange)",
        "SELECT month, category, payments, amount FROM payments_spendmonth ORDER BY month, category",
    ],
    "reviews": [
        "SELECT requested_at, completed_at, due FROM budgets_contributionreview "
        "WHERE status = 'completed' AND completed_at IS NOT NULL",
    ],
}

# One statement per table; {n} plans, {c} clients (= budgets), {p} postings, {ct} the plan content type.
LOAD_SQL = [
    (
        "users",
        """INSERT INTO accounts_user (id, password, is_superuser, username, first_name, last_name, email,
        is_staff, is_active, date_joined, role, full_name, postcode)
        SELECT 100000 + g, '!', false, 'bench-client-' || g, '', '', '', false, true, now(), 'client',
        'Bench client ' || g, '' FROM generate_series(1, {c}) g""",
    ),
    (
        "assessments",
        """INSERT INTO budgets_assessment (id, status, answers, modifiers, notes, eligible, reasons,
        points, breakdown, indicative_budget_currency, indicative_budget, scheme_digest, created_at, updated_at,
        assessor_id, client_id, scheme_id, completed_at)
        SELECT g, 'completed', '{{}}', '{{}}', '', true, '[]', 0, '{{}}', 'GBP', 5000, '', now(), now(),
        100000 + g, 100000 + g, (SELECT min(id) FROM budgets_rasscheme),
        CASE WHEN g % 20 = 0 THEN NULL ELSE timestamptz '2021-01-01' + (g::float8 / {c}) * interval '{days} days'
            - (30 + random() * 60) * interval '1 day' END
        FROM generate_series(1, {c}) g""",
    ),
    (
        "budgets",
        """INSERT INTO budgets_personalbudget (id, period_start, period_end, indicative_amount_currency,
        indicative_amount, final_reason, created_at, assessment_id, client_id)
        SELECT g, date '2021-01-01', date '2026-12-31', 'GBP', 5000, '', now(), g, 100000 + g
        FROM generate_series(1, {c}) g""",
    ),
    (
        "plans",
        """INSERT INTO careplans_careplan (id, version, status, money_management, risks, contacts,
        contingency_note, total_cost_currency, total_cost, created_at, updated_at, budget_id, client_id,
        created_by_id, paid_amount, paid_amount_currency)
        SELECT g, 2 - g % 2, 'approved', 'council_managed', '', '', '', 'GBP', 100, now(), now(), (g + 1) / 2,
        100000 + (g + 1) / 2, 100000 + (g + 1) / 2, 0, 'GBP' FROM generate_series(1, {n}) g""",
    ),
    (
        "plan times",
        """CREATE UNLOGGED TABLE bench_plan AS
        SELECT p, t0, t1, t1 + random() * interval '20 days' AS t2, random() AS roll, random() AS r3
        FROM (SELECT p, t0, t0 + random() * interval '10 days' AS t1 FROM (
            SELECT p, timestamptz '2021-01-01' + (p::float8 / {n}) * interval '{days} days'
                + random() * interval '1 day' AS t0 FROM generate_series(1, {n}) p) a) b""",
    ),
    (
        "history",
        """INSERT INTO django_fsm_log_statelog (timestamp, state, transition, object_id, content_type_id,
        source_state)
        SELECT at, state, 'bench', p, {ct}, source FROM (
            SELECT p, t0 AS at, 'submitted' AS state, 'draft' AS source, 0 AS step FROM bench_plan
            UNION ALL SELECT p, t1, 'in_review', 'submitted', 1 FROM bench_plan
            UNION ALL SELECT p, t2, CASE WHEN roll < 0.7 THEN 'approved' WHEN roll < 0.9
                THEN 'awaiting_senior_approval' ELSE 'rejected' END, 'in_review', 2 FROM bench_plan
            UNION ALL SELECT p, t2 + r3 * interval '5 days', 'approved', 'awaiting_senior_approval', 3
                FROM bench_plan WHERE roll >= 0.7 AND roll < 0.9) h ORDER BY p, step""",
    ),
    (
        "providers",
        """INSERT INTO providers_provider (id, name, postcode, email, phone, created_at, address,
        areas_served, description, regulator_provider_id, regulator_rating, review_count, status, status_reason,
        updated_at, website)
        SELECT 100000 + g, 'Bench provider ' || g, 'NF1 1AA', '', '', now(), '', '[]', '', '', 'good', 0,
        'verified', '', now(), '' FROM generate_series(1, 50) g""",
    ),
    (
        "services",
        """INSERT INTO providers_serviceoffering (id, title, category, unit, unit_price_currency,
        unit_price, description, postcode_districts, created_at, updated_at, provider_id)
        SELECT 100000 + g, 'Bench service ' || g, (ARRAY['personal_care', 'personal_assistant',
        'day_opportunities', 'respite', 'domestic_help', 'community_activities', 'transport', 'equipment',
        'therapy', 'other'])[1 + g % 10], 'hour', 'GBP', 20, '', '[]', now(), now(), 100000 + 1 + g % 50
        FROM generate_series(1, 100) g""",
    ),
    (
        "plan lines",
        """INSERT INTO careplans_planline (id, title, unit, unit_price_currency, unit_price, kind,
        start, "end", cost_currency, cost, position, plan_id, money_management, service_id, provider_id,
        units_per_week)
        SELECT g, 'Bench line', 'hour', 'GBP', 20, 'weekly', date '2021-01-01', date '2026-12-31', 'GBP', 100, 0,
        g, 'council_managed', 100000 + 1 + g % 100, 100000 + 1 + (g % 100) % 50, 5 FROM generate_series(1, {n}) g""",
    ),
    (
        "invoices",
        """INSERT INTO payments_invoice (id, period_start, period_end, units, unit_price_currency,
        unit_price, amount_currency, amount, status, reference, supporting_file, supporting_file_name,
        supporting_file_type, submitted_at, confirmed_automatically, dispute_reason, line_id, plan_id,
        provider_id, submitted_by_id)
        SELECT g, date '2021-01-01', date '2021-01-07', 1, 'GBP', 20, 'GBP', 10 + g % 90, 'paid', 'B' || g, '',
        '', '', now(), false, '', g, g, 100000 + 1 + (g % 100) % 50, 100001 FROM generate_series(1, {n}) g""",
    ),
    (
        "payment runs",
        """INSERT INTO payments_paymentrun (id, started_at, gateway, payment_count, total_currency,
        total) SELECT g, timestamptz '2021-01-01' + g * interval '1 day', 'ledger', 0, 'GBP', 0
        FROM generate_series(0, {days}) g""",
    ),
    (
        "payments",
        """INSERT INTO payments_payment (id, amount_currency, amount, status, idempotency_key, attempts,
        last_error, transfer_id, created_at, budget_id, run_id, kind, invoice_id, provider_id, paid_at,
        reversed_at)
        SELECT g, 'GBP', 10 + g % 90, CASE WHEN g % 33 = 0 THEN 'reversed' ELSE 'paid' END, 'bench-' || g, 1,
        '', '', now(), (g + 1) / 2, (g::bigint * {days} / {n}), 'invoice', g, 100000 + 1 + (g % 100) % 50, at,
        CASE WHEN g % 33 = 0 THEN at + interval '3 days' END
        FROM (SELECT g, timestamptz '2021-01-01' + (g::float8 / {n}) * interval '{days} days'
            + random() * interval '20 hours' AS at FROM generate_series(1, {n}) g) s""",
    ),
    (
        "ledger accounts",
        """INSERT INTO budgets_ledgeraccount (id, code, kind, balance_currency, balance, budget_id)
        SELECT 100000 + g, 'bench-' || g, CASE WHEN g % 2 = 0 THEN 'available' ELSE 'paid' END, 'GBP', 0,
        (g + 1) / 2 FROM generate_series(1, 2 * {c}) g""",
    ),
    (
        "ledger transactions",
        """INSERT INTO budgets_ledgertransaction (id, kind, idempotency_key, fingerprint, memo,
        created_at, budget_id)
        SELECT 100000 + g, 'payment', 'bench-' || g, '', '', now(), 1 + g % {c} FROM generate_series(1, {p} / 2) g""",
    ),
    (
        "ledger postings",
        """INSERT INTO budgets_ledgerposting (amount_currency, amount, account_id, transaction_id)
        SELECT 'GBP', CASE WHEN side = 0 THEN -(10 + g % 90) ELSE 10 + g % 90 END,
        100000 + 2 * (1 + g % {c}) - side, 100000 + g
        FROM generate_series(1, {p} / 2) g, (VALUES (0), (1)) s(side)""",
    ),
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))]  # nearest rank


def setup_django() -> None:
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def phase_load(plans: int, postings: int) -> dict:
    setup_django()
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    from careplans.models import CarePlan

    call_command("migrate", verbosity=0)
    values = {"n": plans, "c": plans // 2, "p": postings, "days": DAYS}
    values["ct"] = ContentType.objects.get_for_model(CarePlan).pk
    tables = {}
    total_rows = 0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # As a restore does: no triggers (the statistics' change marks among them: the rebuild is
        # timed on its own next) and no per-row foreign-key checks.
        cursor.execute("SET session_replication_role = replica")
        for name, sql in LOAD_SQL:
            step = time.perf_counter()
            cursor.execute(sql.format(**values))
            rows = max(cursor.rowcount, 0)
            total_rows += rows if name != "plan times" else 0
            tables[name] = (rows, time.perf_counter() - step)
        cursor.execute("DROP TABLE bench_plan")
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in ("accounts_user", "django_fsm_log_statelog", "budgets_ledgerposting"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return {
        "tables": tables,
        "rows": total_rows,
        "seconds": seconds,
        "rows_per_s": total_rows / seconds,
        "vacuum_seconds": time.perf_counter() - started,
    }


def phase_rebuild() -> dict:
    setup_django()
    from django.db import connection

    from approvals import stats as approval_stats
    from payments import stats as spend_stats

    out = {}
    for name, module in (("approvals", approval_stats), ("spend", spend_stats)):
        started = time.perf_counter()
        module.rebuild()
        out[name] = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT count(*) FROM approvals_approvalstagetime")
        out["durations"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM approvals_approvaltimemonth")
        out["approval_rows"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM payments_spendmonth")
        out["spend_rows"] = cursor.fetchone()[0]
    out["peak_mb"] = peak_mb()
    return out


class SqlTimer:
    """Adds up the time the database takes for the statements a request sends."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def _change(kind: str, n: int) -> None:
    """One change of the kind a statistic is kept up to date for, now: a plan's next transition,
    or a payment paid."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone
    from django_fsm_log.models import StateLog

    from careplans.models import CarePlan

    if kind == "approvals":
        StateLog.objects.create(
            content_type=ContentType.objects.get_for_model(CarePlan),
            object_id=n,
            source_state="in_review",
            state="approved",
            transition="bench",
        )
    elif kind == "spend":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE payments_payment SET paid_at = %s WHERE id = %s", [timezone.now(), n])


def _floor_ms(conn, kind: str) -> float:
    started = time.perf_counter()
    for sql in FLOOR_SQL[kind]:
        conn.execute(sql).fetchall()
    return (time.perf_counter() - started) * 1000


def phase_api(runs: int, plans: int) -> dict:
    # Persistent database connections (the product's CONN_MAX_AGE setting), as the floor's: a new
    # connection per request would put PostgreSQL's per-connection start-up (catalogue reads on
    # the first statement) into every request's SQL time, a cost of the deployment, not the query.
    os.environ["CONN_MAX_AGE"] = "60"
    setup_django()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"public": "100000000/minute"}}
    from rest_framework.settings import api_settings

    api_settings.reload()
    import psycopg

    floor_conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None)
    client = Client()
    results = {}
    for label, (url, kind) in ENDPOINTS.items():
        for _ in range(WARMUP):
            assert client.get(url).status_code == 200
            _floor_ms(floor_conn, kind)
        row = {}
        modes = ["cold", "cached"] + (["after a change"] if kind != "reviews" else [])
        for mode in modes:
            times, sql_times, floor_times = [], [], []
            rss_before = peak_mb()
            for i in range(runs):
                if mode == "after a change":
                    _change(kind, plans - i)
                if mode != "cached":
                    cache.clear()
                timer = SqlTimer()
                with connection.execute_wrapper(timer):
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
                sql_times.append(timer.seconds * 1000)
                floor_times.append(_floor_ms(floor_conn, kind))
            row[mode] = {
                "floor_p95": percentile(floor_times, 95),
                "p50": percentile(times, 50),
                "p95": percentile(times, 95),
                "sql_p95": percentile(sql_times, 95),
                "rss_growth_mb": peak_mb() - rss_before,
            }
        cache.clear()
        tracemalloc.start()
        client.get(url)
        row["cold"]["alloc_peak_kb"] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
        row["bytes"] = len(client.get(url).content)
        results[label] = row
    floor_conn.close()
    return results


def run_phase(name: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, *args], check=True, capture_output=True, text=True, env=os.environ
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def mark(missed: bool) -> str:
    return " MISSED" if missed else " met"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=1_000_000)
    parser.add_argument("--postings", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=200, help="timed requests per endpoint and mode")
    parser.add_argument("--skip-load", action="store_true", help="measure the database loaded by an earlier run")
    parser.add_argument("--phase")
    options = parser.parse_args()
    if options.runs < 50:
        parser.error("--runs must be at least 50 for a meaningful p95")
    if options.phase:
        result = {
            "load": lambda: phase_load(options.plans, options.postings),
            "rebuild": phase_rebuild,
            "api": lambda: phase_api(options.runs, options.plans),
        }[options.phase]()
        print(json.dumps(result))
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database this benchmark may drop and recreate.")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not options.skip_load:
        ensure_database(url)
        load = run_phase("load", "--plans", str(options.plans), "--postings", str(options.postings))
        print(f"load:  {load['rows']:,} rows in {load['seconds']:.1f} s = {load['rows_per_s']:,.0f} rows/s "
              f"(INSERT … SELECT generate_series, triggers off); "
              f"VACUUM (ANALYZE) {load['vacuum_seconds']:.0f} s")  # fmt: skip
        for name, (rows, seconds) in load["tables"].items():
            print(f"       {name:<20} {rows:>12,} rows {seconds:8.1f} s")
        rebuilt = run_phase("rebuild")
        print(f"\nrebuild (the upgrade step): approval_stats_rebuild {rebuilt['approvals']:.1f} s "
              f"({rebuilt['durations']:,} stage durations, {rebuilt['approval_rows']:,} stage-months); "
              f"spend_stats_rebuild {rebuilt['spend']:.1f} s ({rebuilt['spend_rows']:,} month-categories); "
              f"peak {rebuilt['peak_mb']:.0f} MB")  # fmt: skip
    load_before = os.getloadavg()
    api = run_phase("api", "--runs", str(options.runs), "--plans", str(options.plans))
    load_after = os.getloadavg()
    print(f"\nrequests: {options.runs} timed per endpoint and mode after {WARMUP} warm-up, django.test.Client, "
          "anonymous, DEBUG off. Times in ms; SQL = the request's own database time.")  # fmt: skip
    print(
        "load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f} — the machine is "
        "shared (2 cores), so figures taken under load are slower than on an idle one\n".format(
            *load_before, *load_after
        )
    )
    print(f"{'endpoint':<26} {'mode':<15} {'p50':>7} {'p95':>7} {'SQL p95':>8} {'floor p95':>9} "
          f"{'SQL/floor':>9} {'req/floor':>9} {'RSS growth':>10}")  # fmt: skip
    worst_p95, worst_ratio, worst_change = (0.0, ""), (0.0, ""), (0.0, "")
    for label, row in api.items():
        for mode in ("cold", "cached", "after a change"):
            if mode not in row:
                continue
            m = row[mode]
            base = m["floor_p95"]
            print(f"{label:<26} {mode:<15} {m['p50']:7.2f} {m['p95']:7.2f} {m['sql_p95']:8.2f} {base:9.2f} "
                  f"{m['sql_p95'] / base:9.2f} {m['p95'] / base:9.1f} {m['rss_growth_mb']:8.1f} MB")  # fmt: skip
        cold = row["cold"]
        print(f"{'':<26} memory per cold request: Python allocation peak {cold['alloc_peak_kb']:.0f} kB; "
              f"answer {row['bytes']:,} bytes")  # fmt: skip
        worst_p95 = max(worst_p95, (cold["p95"], label))
        if "after a change" in row:
            worst_change = max(worst_change, (row["after a change"]["p95"], label))
        worst_ratio = max(worst_ratio, (cold["sql_p95"] / cold["floor_p95"], label))
    print("\nload average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"target cold-p95: {worst_p95[0]:.1f} ms, the slowest endpoint's (\"{worst_p95[1]}\"; load average "
          f"{load_after[0]:.2f}) (goal ≤ {P95_TARGET_MS:.0f} ms){mark(worst_p95[0] > P95_TARGET_MS)}")  # fmt: skip
    print(f"target after-change-p95: {worst_change[0]:.1f} ms (\"{worst_change[1]}\"; load average "
          f"{load_after[0]:.2f}) (goal ≤ {P95_TARGET_MS:.0f} ms){mark(worst_change[0] > P95_TARGET_MS)}")  # fmt: skip
    print(f"target sql-vs-floor: {worst_ratio[0]:.2f}× (\"{worst_ratio[1]}\") "
          f"(goal ≤ {RATIO_TARGET:.0f}× the hand-written SQL){mark(worst_ratio[0] > RATIO_TARGET)}")  # fmt: skip


if __name__ == "__main__":
    main()

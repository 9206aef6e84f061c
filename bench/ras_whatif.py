"""Benchmark: what-if re-pricing of 100,000 clients, against a floor measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn_bench .venv/bin/python bench/ras_whatif.py [--clients N]

1. Creates (or empties) the database named in DATABASE_URL, migrates it, and loads N clients, each
   with a completed assessment of the example scheme, with PostgreSQL COPY. Reports rows/s.
2. Makes a draft scheme version 2 (the example with dearer top bands) and runs Cairn's what-if job
   (`budgets.services.whatif.whatif_run`, as the Celery task would) in a fresh process.
3. Runs the floor in a fresh process: one SQL query for the same answers plus a plain-Python
   pricing loop over a dict, no Django models.
Each phase reports wall time and its process's peak RSS. Targets: load ≥ 20,000 rows/s,
what-if ≤ 2× the floor, peak memory ≤ 500 MB. Not run by `make test` or CI; `make bench` runs it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.base")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django():
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def phase_load(clients: int) -> dict:
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from budgets.ras import compile_scheme, price
    from budgets.selectors import active_scheme

    call_command("migrate", verbosity=0)
    scheme = active_scheme()
    compiled = compile_scheme(scheme)
    rng = random.Random(7)
    questions = list(compiled.questions.values())
    now = timezone.now()

    users = io.StringIO()
    assessments = io.StringIO()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_user")
        first_id = cursor.fetchone()[0] + 1
    assessor_id = first_id  # the first generated person assesses everyone (a social worker is not needed here)
    for i in range(clients):
        uid = first_id + i
        users.write(
            f"{uid}\t!unusable\t\\N\tf\tbench{uid}\t\t\tbench{uid}@example.org\tf\tt\t{now.isoformat()}\tclient\t"
            f"Bench Client {uid}\tNF1 1AA\t\\N\n"
        )
        answers = {}
        for q in questions:
            # Most people need help in a few areas: weight towards the lower answers.
            choices = list(q.answers)
            answers[q.code] = choices[min(len(choices) - 1, int(rng.expovariate(1.3)))]
        modifiers = ["unpaid_carer"] if rng.random() < 0.2 else []
        pricing = price(compiled, answers, modifiers)
        breakdown = json.dumps({"points_by_domain": pricing.points_by_domain})
        assessments.write(
            "\t".join(
                [
                    str(i + 1),
                    str(uid),
                    str(assessor_id),
                    str(scheme.pk),
                    "completed",
                    json.dumps(answers).replace("\\", "\\\\"),
                    json.dumps(modifiers),
                    "t",
                    "t",
                    "",
                    "t",
                    json.dumps(["bench"]),
                    str(pricing.points),
                    breakdown.replace("\\", "\\\\"),
                    f"{pricing.amount:.2f}",
                    "GBP",
                    scheme.content_digest,
                    now.isoformat(),
                    now.isoformat(),
                    now.isoformat(),
                ]
            )
            + "\n"
        )
    user_columns = (
        "id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, "
        "date_joined, role, full_name, postcode, provider_id"
    )
    assessment_columns = (
        "id, client_id, assessor_id, scheme_id, status, answers, modifiers, impairment, wellbeing_impact, notes, "
        "eligible, reasons, points, breakdown, indicative_budget, indicative_budget_currency, scheme_digest, "
        "created_at, updated_at, completed_at"
    )
    raw = connection.connection if connection.connection else None
    connection.ensure_connection()
    raw = connection.connection
    started = time.perf_counter()
    with raw.cursor() as cur:
        with cur.copy(f"COPY accounts_user ({user_columns}) FROM STDIN") as copy:
            copy.write(users.getvalue())
        with cur.copy(f"COPY budgets_assessment ({assessment_columns}) FROM STDIN") as copy:
            copy.write(assessments.getvalue())
        cur.execute("SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), (SELECT MAX(id) FROM accounts_user))")
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('budgets_assessment', 'id'), "
            "(SELECT MAX(id) FROM budgets_assessment))"
        )
    raw.commit()
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    rows = clients * 2
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "peak_mb": peak_mb()}


def phase_draft() -> dict:
    setup_django()
    from budgets.ras_io import parse_scheme_text
    from budgets.services.schemes import scheme_import

    text = (ROOT / "budgets" / "data" / "example_ras.yaml").read_text()
    data = parse_scheme_text(text)
    draft = text.replace("version: 1", "version: 2").replace('price_per_point: "520.00"}', 'price_per_point: "540.00"}')
    draft = draft.replace(
        '{up_to_points: 100, price_per_point: "400.00"}', '{up_to_points: 100, price_per_point: "410.00"}'
    )
    assert data["version"] == 1
    scheme = scheme_import(actor=None, text=draft)
    return {"scheme": scheme.pk}


def phase_job(scheme_id: int) -> dict:
    setup_django()
    from accounts.models import Role, User
    from budgets.models import WhatIfRun
    from budgets.services.whatif import whatif_run

    admin = User.objects.filter(role=Role.ADMIN).first() or User.objects.create_user(
        "bench-admin", password=None, role=Role.ADMIN, full_name="Bench Admin", is_staff=True, is_superuser=True
    )
    run = WhatIfRun.objects.create(scheme_id=scheme_id, requested_by=admin)
    started = time.perf_counter()
    run = whatif_run(run_id=run.pk)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak_mb(), "summary": run.summary}


def phase_floor(scheme_id: int) -> dict:
    """One SQL read and a plain-Python pricing loop: the least work for the same answer."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        points: dict[tuple[str, str], int] = {}
        with conn.cursor() as cur:
            cur.execute(
                "SELECT q.code, a.code, a.points FROM budgets_rasanswer a "
                "JOIN budgets_rasquestion q ON q.id = a.question_id WHERE q.scheme_id = %s",
                [scheme_id],
            )
            for q, a, p in cur:
                points[(q, a)] = p
            cur.execute(
                "SELECT percent FROM budgets_rasmodifier WHERE scheme_id = %s AND code = 'unpaid_carer'", [scheme_id]
            )
            carer = cur.fetchone()[0]
            cur.execute(
                "SELECT up_to_points, price_per_point FROM budgets_rasband WHERE scheme_id = %s "
                "ORDER BY up_to_points NULLS LAST",
                [scheme_id],
            )
            bands = cur.fetchall()
            cur.execute("SELECT min_budget, max_budget FROM budgets_rasscheme WHERE id = %s", [scheme_id])
            low, high = cur.fetchone()
            cur.execute(
                "SELECT DISTINCT ON (client_id) answers, modifiers, indicative_budget FROM budgets_assessment "
                "WHERE status = 'completed' ORDER BY client_id, completed_at DESC, id DESC"
            )
            total_change = Decimal(0)
            count = 0
            cent = Decimal("0.01")
            seen: dict[tuple, Decimal] = {}  # the job prices each distinct answer set once; so does the floor
            for answers, modifiers, current in cur:
                key = (tuple(answers.items()), tuple(modifiers))
                if key in seen:
                    total_change += seen[key] - current
                    count += 1
                    continue
                raw = sum(points[(q, a)] for q, a in answers.items())
                factor = 1 + (carer / 100 if "unpaid_carer" in modifiers else 0)
                p = (Decimal(raw) * factor).quantize(cent)
                amount, floor = Decimal(0), Decimal(0)
                for limit, unit in bands:
                    top = p if limit is None else min(p, Decimal(limit))
                    if top > floor:
                        amount += (top - floor) * unit
                        floor = top
                amount = min(max(amount.quantize(cent), low), high)
                seen[key] = amount
                total_change += amount - current
                count += 1
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak_mb(), "count": count, "total_change": f"{total_change:.2f}"}


def run_phase(name: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, *args], check=True, capture_output=True, text=True, env=os.environ
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--phase")
    parser.add_argument("arg", nargs="?")
    options = parser.parse_args()
    if options.phase:
        result = {
            "load": lambda: phase_load(options.clients),
            "draft": phase_draft,
            "job": lambda: phase_job(int(options.arg)),
            "floor": lambda: phase_floor(int(options.arg)),
        }[options.phase]()
        print(json.dumps(result))
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database this benchmark may drop and recreate.")
    ensure_database(url)
    load = run_phase("load", "--clients", str(options.clients))
    print(f"load:    {load['rows']:,} rows in {load['seconds']:.2f} s = {load['rows_per_s']:,.0f} rows/s "
          f"(target ≥ 20,000), peak {load['peak_mb']:.0f} MB")  # fmt: skip
    scheme = run_phase("draft")["scheme"]
    job = run_phase("job", str(scheme))
    floor = run_phase("floor", str(scheme))
    ratio = job["seconds"] / floor["seconds"]
    print(f"what-if: {job['seconds']:.2f} s, peak {job['peak_mb']:.0f} MB (target ≤ 500 MB); "
          f"summary {job['summary']['up']} up, {job['summary']['down']} down, {job['summary']['same']} same, "
          f"total change £{job['summary']['total_change']}")  # fmt: skip
    print(f"floor:   {floor['seconds']:.2f} s, peak {floor['peak_mb']:.0f} MB, {floor['count']:,} priced, "
          f"total change £{floor['total_change']}")  # fmt: skip
    print(f"ratio:   what-if / floor = {ratio:.2f} (target ≤ 2.0)")
    if floor["total_change"] != job["summary"]["total_change"]:
        sys.exit("The job and the floor disagree on the total change: the benchmark is not measuring like for like.")


if __name__ == "__main__":
    main()

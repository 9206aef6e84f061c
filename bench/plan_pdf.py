"""Benchmark: render the PDF of a 20-line care plan 500 times in one process.

    .venv/bin/python bench/plan_pdf.py [--documents 500] [--output plan.pdf]

Builds a throwaway SQLite database (migrated, with one client, budget, provider and a 20-line
plan), then renders `careplans.pdf.plan_pdf` repeatedly on one core. Prints documents per second,
time per document and peak memory (PROFILE=1 prints a cProfile of 50 renders instead, PROFILE_LINES
of it, sorted by PROFILE_SORT, cumtime unless set); --output writes the PDF, to check what is being
timed still looks right.
Target: ≥ 200 documents/s; it ends with a `target plan-pdf-rate: …` line, beside the load average.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--output", type=Path, help="also write the last PDF rendered here, to look at it")
    options = parser.parse_args()
    database = Path(tempfile.mkdtemp()) / "plan_pdf.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.base")

    import django

    django.setup()
    from django.core.management import call_command
    from djmoney.money import Money

    from accounts.models import Role, User
    from budgets.models import Assessment, AssessmentStatus, PersonalBudget
    from budgets.selectors import active_scheme
    from budgets.services import ledger
    from careplans.models import CarePlan
    from careplans.pdf import plan_pdf
    from careplans.services import plan_create
    from providers.models import Provider, ProviderStatus, ServiceOffering

    call_command("migrate", verbosity=0)
    client = User.objects.create(username="bench", full_name="Bench Client", role=Role.CLIENT)
    start = datetime.date(2027, 4, 1)
    assessment = Assessment.objects.create(
        client=client, assessor=client, scheme=active_scheme(), status=AssessmentStatus.COMPLETED,
        eligible=True, indicative_budget=Money("40000", "GBP"),
    )  # fmt: skip
    budget = PersonalBudget.objects.create(
        client=client, assessment=assessment, period_start=start,
        period_end=start + datetime.timedelta(days=364), indicative_amount=Money("40000", "GBP"),
    )  # fmt: skip
    ledger.open_budget_accounts(budget)
    ledger.allocate(budget=budget, amount=Money("40000", "GBP"), key="bench:allocation")
    provider = Provider.objects.create(name="Bench & Sons Care")
    Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.VERIFIED)
    lines = []
    for i in range(20):
        service = ServiceOffering.objects.create(
            provider=provider, title=f"Support {i}", category="personal_care", unit="hour",
            unit_price=Money(f"{15 + i}.50", "GBP"),
        )  # fmt: skip
        lines.append(
            {"service": service.pk, "units_per_week": "2", "start": start, "end": start + datetime.timedelta(days=180)}
        )
    plan = plan_create(
        actor=client, budget=budget, lines=lines, outcomes=["Live at home", "See friends every week"],
        risks="Falls at night; a pendant alarm is fitted.", contacts="My daughter, 01234 567890.",
    )  # fmt: skip
    plan = (
        CarePlan.objects.select_related("budget", "client")
        .prefetch_related("outcomes", "lines__provider")
        .get(pk=plan.pk)
    )

    plan_pdf(plan)  # warm up fonts and imports
    if os.environ.get("PROFILE"):
        import cProfile
        import pstats

        stats_file = str(database.parent / "profile")
        cProfile.runctx("for _ in range(50): plan_pdf(plan)", globals(), locals(), stats_file)
        order = os.environ.get("PROFILE_SORT", "cumtime")
        pstats.Stats(stats_file).sort_stats(order).print_stats(int(os.environ.get("PROFILE_LINES", 18)))
        return
    started = time.perf_counter()
    size = 0
    for _ in range(options.documents):
        size = len(plan_pdf(plan))
    seconds = time.perf_counter() - started
    if options.output:
        options.output.write_bytes(plan_pdf(plan))
    rate = options.documents / seconds
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"plan PDF: {options.documents} documents of 20 lines in {seconds:.2f} s = {rate:.0f} documents/s; "
        f"{seconds / options.documents * 1000:.2f} ms each; {size:,} bytes; peak {peak:.0f} MB; "
        f"load average {os.getloadavg()[0]:.2f} (2 cores, shared machine)"
    )
    print(f"target plan-pdf-rate: {rate:.0f} documents/s (goal >= 200) {'met' if rate >= 200 else 'MISSED'}")


if __name__ == "__main__":
    main()

"""Benchmark: the nightly rating refresh (`marketplace.services.ratings_refresh_all`) for 100,000
providers with 500,000 services and 1,000,000 client reviews, against a set-based SQL floor
measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn_bench_d .venv/bin/python bench/ratings_refresh.py \
        [--providers N] [--services M] [--reviews K] [--runs R] [--old-sample S]

1. Creates (or empties) the database named in DATABASE_URL, migrates it, and loads N providers
   and M services (default 500,000; 0 for none) exactly as bench/search.py does, then K reviews by
   K/20 clients (45% of providers unreviewed, the rest sharing the reviews by a Pareto weight, ~1%
   hidden), the summaries and the review totals, and VACUUM (ANALYZE). The services matter: every
   score stored moves the catalogue's search tables (providers migration 0011), whose triggers
   rewrite the rows of the services of each provider whose score changed — in both arms alike,
   since both write the provider rows.
2. R rounds, alternating the two arms. Before each arm every provider's stored score is cleared and
   the tables vacuumed (not timed), so each arm has every score to write — the worst night, when
   the prior has moved enough to change every score:
   - product: `ratings_refresh_all()` — the totals recomputed from the summaries, then chunks of
     5,000 summaries locked, scores computed in Python and stored with one UPDATE per chunk;
   - floor: one hand-written UPDATE … FROM (SELECT the prior, the summaries) computing the same
     (C·m + sum) / (C + n) in SQL, in one transaction: the least work that stores every score.
   After each product run every stored score is checked against the SQL formula's.
3. The product again with nothing to change (scores already current: the usual night).
4. The old job — one locked UPDATE per provider — on the first S summaries (default 2,000), to
   extrapolate what it would take for all (349 s for 54,252 reviewed providers when it was the
   product).
Target: the product's median ≤ 2× the floor's median. The load average is printed beside the
figures: the machine may be shared. Ends with one `target …` line. For a quick run:
--providers 10000 --services 50000 --reviews 100000. `--reuse` skips step 1 and runs on the data an
earlier run left (its sizes are read back from the database).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import search  # bench/search.py: the data and its loaders

GOAL = 2.0
CLEAR_SQL = (
    "UPDATE providers_provider SET rating = NULL, review_count = 0 WHERE rating IS NOT NULL OR review_count <> 0"
)
FLOOR_SQL = (
    f"UPDATE providers_provider p SET rating = f.score, review_count = f.count FROM ({search.SET_BASED_SCORE}) f "
    "WHERE p.id = f.provider_id AND (p.rating IS DISTINCT FROM f.score OR p.review_count <> f.count)"
)
DISAGREE_SQL = (
    f"SELECT count(*) FROM ({search.SET_BASED_SCORE}) f JOIN providers_provider p ON p.id = f.provider_id "
    "WHERE p.rating IS DISTINCT FROM f.score OR p.review_count <> f.count"
)


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def loaded_sizes() -> tuple[dict, dict]:
    """The sizes an earlier run loaded (--reuse), read back from the database, named as the loaders
    name them; the loading time is then 0."""
    search.setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM providers_provider), (SELECT count(*) FROM providers_serviceoffering), "
            "(SELECT count(*) FROM providers_servicelisting), (SELECT count(*) FROM marketplace_review), "
            "(SELECT count(DISTINCT author_id) FROM marketplace_review), count(*), count(*) FILTER (WHERE count > 0), "
            "coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY count), 0), coalesce(max(count), 0) "
            "FROM marketplace_providerratingsummary"
        )
        providers, services, listed, reviews, clients, summaries, reviewed, median, most = cursor.fetchone()
    if not summaries:
        sys.exit("--reuse: the database holds no reviews; run once without it first.")
    load = {"providers": providers, "services": services, "listed": listed, "seconds": 0.0}
    loaded = {
        "reviews": reviews, "clients": clients, "summaries": summaries, "reviewed_providers": reviewed,
        "median_per_provider": median, "max_per_provider": most, "seconds": 0.0,
    }  # fmt: skip
    return load, loaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--providers", type=int, default=100_000)
    parser.add_argument("--services", type=int, default=500_000, help="services, as bench/search.py; 0 for none")
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="rounds of product and floor")
    parser.add_argument("--old-sample", type=int, default=2000, help="summaries the old per-provider job runs over")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data an earlier run loaded (sizes are then read from it)"
    )
    options = parser.parse_args()
    if options.runs < 1 or options.reviews < 1:
        parser.error("--runs and --reviews must be at least 1")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database this benchmark may drop and recreate.")
    print(f"load average at start: {load_average()} (the machine is shared: figures under load are slower)")
    if options.reuse:
        load, loaded = loaded_sizes()
        options.providers, options.services = load["providers"], load["services"]
    else:
        search.ensure_database(url)
        load = search.phase_load(options.providers, options.services, options.reviews)
        loaded = search.load_reviews(options.providers, options.reviews)
    print(f"data: {options.providers:,} providers, {options.services:,} services ({load.get('listed', 0):,} listed), "
          f"{loaded['reviews']:,} reviews by {loaded['clients']:,} clients; "
          f"{loaded['summaries']:,} summaries ({loaded['reviewed_providers']:,} providers reviewed; per reviewed "
          f"provider median {loaded['median_per_provider']:,}, max {loaded['max_per_provider']:,}); "
          f"loading took {load['seconds'] + loaded['seconds']:.1f} s (not timed)")  # fmt: skip

    from django.db import connection, transaction

    from marketplace.models import ProviderRatingSummary
    from marketplace.services import bayesian, prior_mean, rating_policy, ratings_refresh_all
    from providers.services import provider_rating_update

    raw = connection.connection
    weight = rating_policy().bayesian_weight

    def reset() -> None:
        with raw.transaction(), raw.cursor() as cur:
            cur.execute(CLEAR_SQL)
        with connection.cursor() as cursor:
            # and the search tables the clearing rewrote, so each arm starts from the same state
            for table in ("providers_provider", "providers_servicelisting", "providers_servicelistingarea"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")

    def disagreements() -> int:
        with raw.cursor() as cur:
            return cur.execute(DISAGREE_SQL, {"w": weight}).fetchone()[0]

    product, floor, rated = [], [], 0
    for _ in range(options.runs):
        reset()
        started = time.perf_counter()
        rated = ratings_refresh_all()
        product.append(time.perf_counter() - started)
        if wrong := disagreements():
            sys.exit(f"{wrong} stored scores differ from the SQL formula's after ratings_refresh_all().")
        reset()
        started = time.perf_counter()
        with raw.transaction(), raw.cursor() as cur:
            cur.execute(FLOOR_SQL, {"w": weight})
            written = cur.rowcount
        floor.append(time.perf_counter() - started)
    load_mid = load_average()

    unchanged = []
    for _ in range(options.runs):
        started = time.perf_counter()
        ratings_refresh_all()
        unchanged.append(time.perf_counter() - started)

    # The old job, as it was: each provider under its summary's lock, one UPDATE each.
    prior = prior_mean()
    sample = list(ProviderRatingSummary.objects.order_by("pk").values_list("pk", flat=True)[: options.old_sample])
    started = time.perf_counter()
    for summary_id in sample:
        with transaction.atomic():
            summary = ProviderRatingSummary.objects.select_for_update().select_related("provider").get(pk=summary_id)
            provider_rating_update(
                provider=summary.provider,
                rating=bayesian(summary.total, summary.count, prior, weight),
                review_count=summary.count,
            )
    old_each = (time.perf_counter() - started) / max(1, len(sample))

    p, f = statistics.median(product), statistics.median(floor)
    ratio = p / f
    runs = ", ".join(f"{t:.2f}" for t in product)
    floor_runs = ", ".join(f"{t:.2f}" for t in floor)
    print(f"\nevery score changes ({options.runs} runs each, alternating; load average after: {load_mid}):")
    print(f"  product ratings_refresh_all(): median {p:.2f} s (runs: {runs}) for {loaded['summaries']:,} summaries, "
          f"{rated:,} with visible reviews; every stored score equals the SQL formula's")  # fmt: skip
    print(f"  floor, one UPDATE … FROM in SQL: median {f:.2f} s (runs: {floor_runs}); {written:,} rows written")
    print(f"  ratio product / floor: {ratio:.2f}")
    print(f"nothing to change (scores current): product median {statistics.median(unchanged):.2f} s")
    print(f"old job, one locked UPDATE per provider: {old_each * 1000:.2f} ms each over {len(sample):,} summaries "
          f"→ about {old_each * loaded['summaries']:.0f} s for all {loaded['summaries']:,}")  # fmt: skip
    print(f"load average at end: {load_average()}")
    print(f"target ratings-refresh: {ratio:.2f}x floor (goal <= {GOAL:.2f}x) {'met' if ratio <= GOAL else 'MISSED'}")


if __name__ == "__main__":
    main()

"""Benchmark: the Open Referral UK directory (GET /openreferral/services and
/openreferral/service_at_locations) on 100,000 providers and 500,000 services, against a floor
measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn_bench_oruk .venv/bin/python bench/openreferral.py \
        [--providers N] [--services M] [--runs R] [--reuse]

1. Creates (or empties) the database named in DATABASE_URL, migrates it and loads N providers and
   M services with their service areas — bench/search.py's loader (PostgreSQL COPY, the same word
   lists and shares; providers carry stored client ratings; the ORUK ids are filled by the
   database default) — then VACUUM (ANALYZE). `--reuse` skips this and measures the database as
   it is (it must hold a catalogue loaded by this script or bench/search.py).
2. In a fresh process, times typical directory requests, a page of 50 each, through Django's test
   client with no login (real URLconf, middleware, DRF, serialisation; DEBUG off): R timed runs
   each after a warm-up, round robin. The directory keeps a set of filters' total for a minute
   (marketplace/openreferral/directory.py), so the timed runs are what a reader paging through
   results meets: one SQL statement each. Untimed, each request is counted twice: the first for
   its filters (the count, then the page: two statements) and again (one).
3. In a fresh process, the floor: for each request the two hand-written statements it needs
   (psycopg, no ORM, never prepared — see bench/search.py), timed apart: the page's columns in the
   same order, and the exact count (the profile's envelope has `total_items` and `total_pages`) —
   what the first request for a set of filters pays on top of its page. No JSON, no HTTP. Page
   200's page statement is the least SQL that reaches it: its ids by OFFSET/LIMIT in a subquery
   that checks each provider against the unverified ones (a hashed list), then those rows joined
   (FLOOR_DEEP_PAGE). The plain join with OFFSET looks up each skipped row's provider and was
   several times slower than the API, no floor.
The floor's page ids and count must equal the API's for every request, or the run exits non-zero.
Targets: p95 ≤ 50 ms for every first-page request; the same for page 200, where both the API and
the floor step over the 9,950 rows before it (page-number paging, as the profile has it); at most
two SQL statements per page. Reported beside them, not targets: the ratio to the floor page's
p95, and the cost of the exact count. The machine is shared: the load average is printed at the
start, around the timings and at the end. A missed target prints MISSED; it does not fail the
run. Not run by `make test` or CI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.base")

import search as catalogue_bench  # noqa: E402  (bench/search.py: its loader, its helpers)

PAGE_SIZE = 50
WARMUP = catalogue_bench.WARMUP
P95_TARGET_MS = 50.0
QUERIES_PER_PAGE = 2
COUNT_SECONDS = 60  # marketplace/openreferral/directory.py keeps a total this long
# Ids of Cairn's fixed vocabularies (marketplace/openreferral/mapping.py), worked out in the phase.
PERSONAL_CARE = "term:service_category:personal_care"
RESPITE = "term:service_category:respite"

# label: (path, query parameters)
REQUESTS = {
    "1 services, first page": ("/openreferral/services", {}),
    "2 services, page 200": ("/openreferral/services", {"page": 200}),
    "3 services, category term": ("/openreferral/services", {"taxonomy_term_id": PERSONAL_CARE}),
    "4 services, search=respite": ("/openreferral/services", {"search": "respite"}),
    "5 services, search=dementia + term": (
        "/openreferral/services",
        {"search": "dementia", "taxonomy_term_id": PERSONAL_CARE},
    ),
    "6 service_at_locations, postcode NF12 4AB": ("/openreferral/service_at_locations", {"postcode": "NF12 4AB"}),
    "7 service_at_locations, postcode + term": (
        "/openreferral/service_at_locations",
        {"postcode": "NF3", "taxonomy_term_id": RESPITE},
    ),
}

FLOOR_COLUMNS = (
    "s.id, s.oruk_id, s.oruk_service_at_location_id, s.title, s.category, s.unit, s.unit_price, "
    "s.unit_price_currency, s.description, s.postcode_districts, s.updated_at, p.id, p.oruk_id, p.name, p.status, "
    "p.description, p.email, p.website, p.address, p.postcode, p.regulator_id, p.regulator_rating, p.rating, "
    "p.review_count"
)
# label: (WHERE conditions after the published-service conditions, params, page, id column)
FLOOR_SQL = {
    "1 services, first page": ("TRUE", {}, 1, "oruk_id"),
    "2 services, page 200": ("TRUE", {}, 200, "oruk_id"),
    "3 services, category term": ("s.category = %(category)s", {"category": "personal_care"}, 1, "oruk_id"),
    "4 services, search=respite": (catalogue_bench.FLOOR_TEXT, {"q": "respite"}, 1, "oruk_id"),
    "5 services, search=dementia + term": (
        f"{catalogue_bench.FLOOR_TEXT} AND s.category = %(category)s",
        {"q": "dementia", "category": "personal_care"},
        1,
        "oruk_id",
    ),
    "6 service_at_locations, postcode NF12 4AB": (
        catalogue_bench.FLOOR_AREA,
        {"district": "NF12"},
        1,
        "oruk_service_at_location_id",
    ),
    "7 service_at_locations, postcode + term": (
        f"{catalogue_bench.FLOOR_AREA} AND s.category = %(category)s",
        {"district": "NF3", "category": "respite"},
        1,
        "oruk_service_at_location_id",
    ),
}
assert FLOOR_SQL.keys() == REQUESTS.keys()
DEEP = {"2 services, page 200"}
# The deep page by hand, as marketplace/openreferral/directory.py reaches it (`published_keys`).
FLOOR_DEEP_PAGE = (
    f"SELECT {FLOOR_COLUMNS} FROM providers_serviceoffering s JOIN providers_provider p ON p.id = s.provider_id "
    "WHERE s.id IN (SELECT id FROM providers_serviceoffering WHERE retired_at IS NULL AND provider_id NOT IN "
    "(SELECT id FROM providers_provider WHERE status <> 'verified') ORDER BY id LIMIT {limit} OFFSET {offset}) "
    "ORDER BY s.id"
)


def percentile(values: list[float], pct: float) -> float:
    return catalogue_bench.percentile(values, pct)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def phase_load(providers: int, services: int) -> dict:
    return catalogue_bench.phase_load(providers, services, 0)


def _resolve(params: dict) -> dict:
    from marketplace.openreferral.mapping import CATEGORIES

    resolved = dict(params)
    term = resolved.get("taxonomy_term_id", "")
    if term.startswith("term:service_category:"):
        resolved["taxonomy_term_id"] = str(CATEGORIES.term_id(term.rsplit(":", 1)[1]))
    return resolved


def phase_api(runs: int) -> dict:
    os.environ["DEBUG"] = "false"
    catalogue_bench.setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # The public rate limit is per address; the test client is one address asking thousands of times.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "public": None},
    }
    from rest_framework.settings import api_settings

    api_settings.reload()
    assert not settings.DEBUG, "the API phase must run with DEBUG off"
    client = Client()
    requests = {label: (path, _resolve(params)) for label, (path, params) in REQUESTS.items()}

    def get(label: str):
        path, params = requests[label]
        response = client.get(path, {**params, "per_page": PAGE_SIZE})
        assert response.status_code == 200, (label, response.status_code, response.content[:500])
        return response

    for label in requests:
        for _ in range(WARMUP):
            get(label)
    before = load_average()
    times: dict[str, list[float]] = {label: [] for label in requests}
    for _ in range(runs):
        for label in requests:
            started = time.perf_counter()
            get(label)
            times[label].append((time.perf_counter() - started) * 1000)
    after = load_average()
    from django.core.cache import cache

    results = {}
    for label in requests:
        cache.clear()  # the first request for these filters: it counts
        with CaptureQueriesContext(connection) as cold:
            get(label)
        with CaptureQueriesContext(connection) as warm:  # as the timed runs were: the count is kept
            body = get(label).json()
        results[label] = {
            "ms": times[label],
            "count": body["total_items"],
            "size": body["size"],
            "ids": [item["id"] for item in body["contents"]],
            "queries": len(cold),
            "queries_warm": len(warm),
        }
    return {"queries": results, "load_before": before, "load_after": after, "peak_mb": catalogue_bench.peak_mb()}


def phase_floor(runs: int) -> dict:
    import psycopg

    statements = {}
    for label, (where, params, page, id_column) in FLOOR_SQL.items():
        page_sql = (
            FLOOR_DEEP_PAGE.format(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
            if label in DEEP
            else f"SELECT {FLOOR_COLUMNS} FROM {catalogue_bench.FLOOR_FROM} AND {where} ORDER BY s.id "
            f"LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}"
        )
        statements[label] = (
            f"SELECT count(*) FROM {catalogue_bench.FLOOR_FROM} AND {where}",
            page_sql,
            params,
            FLOOR_COLUMNS.split(", ").index(f"s.{id_column}"),
        )
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None) as conn:

        def run(label: str) -> tuple[int, list, float, float]:
            count_sql, page_sql, params, _ = statements[label]
            with conn.cursor() as cur:
                started = time.perf_counter()
                count = cur.execute(count_sql, params).fetchone()[0]
                counted = time.perf_counter()
                rows = cur.execute(page_sql, params).fetchall()
                return count, rows, (counted - started) * 1000, (time.perf_counter() - counted) * 1000

        for label in statements:
            for _ in range(WARMUP):
                run(label)
        count_ms: dict[str, list[float]] = {label: [] for label in statements}
        page_ms: dict[str, list[float]] = {label: [] for label in statements}
        for _ in range(runs):
            for label in statements:
                _, _, counting, paging = run(label)
                count_ms[label].append(counting)
                page_ms[label].append(paging)
        results = {}
        for label, (_, _, _, id_index) in statements.items():
            count, rows, _, _ = run(label)
            results[label] = {
                "page_ms": page_ms[label],
                "count_ms": count_ms[label],
                "count": count,
                "ids": [str(row[id_index]) for row in rows],
            }
    return {"queries": results, "peak_mb": catalogue_bench.peak_mb()}


def run_phase(name: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--providers", type=int, default=100_000)
    parser.add_argument("--services", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=100, help="timed runs per request (after a warm-up of 5)")
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is, without loading")
    parser.add_argument("--phase")
    options = parser.parse_args()
    if options.runs < 50:
        parser.error("--runs must be at least 50 for a meaningful p95")
    if options.phase:
        result = {
            "load": lambda: phase_load(options.providers, options.services),
            "api": lambda: phase_api(options.runs),
            "floor": lambda: phase_floor(options.runs),
        }[options.phase]()
        print(json.dumps(result, default=str))
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database this benchmark may drop and recreate.")
    print("load average at start: {:.2f} {:.2f} {:.2f} (a shared machine: figures move with it)".format(
        *load_average()))  # fmt: skip
    if options.reuse:
        print("load: skipped (--reuse); measuring the database as it is")
    else:
        catalogue_bench.ensure_database(url)
        load = run_phase("load", "--providers", str(options.providers), "--services", str(options.services))
        print(f"load:  {load['rows']:,} rows ({load['providers']:,} providers, {load['services']:,} services, "
              f"{load['areas']:,} service areas) in {load['seconds']:.2f} s = {load['rows_per_s']:,.0f} rows/s; "
              f"VACUUM (ANALYZE) {load['vacuum_seconds']:.1f} s")  # fmt: skip
    api = run_phase("api", "--runs", str(options.runs))
    floor = run_phase("floor", "--runs", str(options.runs))
    print(f"\ndirectory: {options.runs} timed runs per request after {WARMUP} warm-up runs; page size {PAGE_SIZE}; "
          "no login.")  # fmt: skip
    print("API = GET through django.test.Client, DEBUG off, as a reader paging with the same filters meets it: "
          f"the total kept from an earlier request (up to {COUNT_SECONDS} s), so one SQL statement.")  # fmt: skip
    print("floor page = the page SELECT alone (psycopg, no ORM); floor count = the exact count SELECT alone, "
          "what the first request for a set of filters pays on top.")  # fmt: skip
    print("ratio = API p95 / floor page p95. Times in ms.")
    before, after = api["load_before"][0], api["load_after"][0]
    print(f"SQL = statements per request: first for its filters (counts) / then. Load average during the API "
          f"timings: {before:.2f} before, {after:.2f} after (1-minute).\n")  # fmt: skip
    width = max(len(label) for label in REQUESTS)
    header = (
        f"{'request':<{width}} {'total':>8} {'SQL':>5}  {'API p50':>7} {'API p95':>7}  "
        f"{'floor page p50/p95':>18}  {'floor count p50/p95':>19}  {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    mismatches, worst, deep, most_queries = [], (0.0, ""), 0.0, 0
    for label in REQUESTS:
        a, f = api["queries"][label], floor["queries"][label]
        a50, a95 = percentile(a["ms"], 50), percentile(a["ms"], 95)
        p50, p95 = percentile(f["page_ms"], 50), percentile(f["page_ms"], 95)
        c50, c95 = percentile(f["count_ms"], 50), percentile(f["count_ms"], 95)
        if label in DEEP:
            deep = max(deep, a95)
        else:
            worst = max(worst, (a95, label))
        most_queries = max(most_queries, a["queries"], a["queries_warm"])
        note = f"MISSED p95 ≤ {P95_TARGET_MS:.0f} ms" if a95 > P95_TARGET_MS else ""
        sql = f"{a['queries']}/{a['queries_warm']}"
        print(f"{label:<{width}} {a['count']:>8,} {sql:>5}  {a50:>7.1f} {a95:>7.1f}  {p50:>8.1f} / {p95:>7.1f}  "
              f"{c50:>8.1f} / {c95:>8.1f}  {a95 / p95:>5.2f}×  {note}".rstrip())  # fmt: skip
        if a["ids"] != f["ids"] or a["count"] != f["count"]:
            mismatches.append(label)
        elif not a["ids"]:
            print(f"  note: {label} found nothing; the comparison is empty")
    print("-" * len(header))
    print(f"peak RSS: API {api['peak_mb']:.0f} MB, floor {floor['peak_mb']:.0f} MB")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*load_average()))
    loads = f"load average {api['load_before'][0]:.2f}/{api['load_after'][0]:.2f}"
    print(f"target openreferral-p95: {worst[0]:.1f} ms, the slowest first-page request's (\"{worst[1]}\"; {loads}) "
          f"(goal <= {P95_TARGET_MS:.0f} ms) {met(worst[0] <= P95_TARGET_MS)}")  # fmt: skip
    print(f"target openreferral-deep-page-p95: {deep:.1f} ms (page 200: the offset is stepped over, the floor too; "
          f"{loads}) (goal <= {P95_TARGET_MS:.0f} ms) {met(deep <= P95_TARGET_MS)}")  # fmt: skip
    print(f"target openreferral-queries: {most_queries} SQL statements per page at most, whatever the page or "
          f"filter (goal <= {QUERIES_PER_PAGE}) {met(most_queries <= QUERIES_PER_PAGE)}")  # fmt: skip
    if mismatches:
        for label in mismatches:
            a, f = api["queries"][label], floor["queries"][label]
            print(f"MISMATCH {label}: API count {a['count']} ids {a['ids'][:3]}…; floor count {f['count']} "
                  f"ids {f['ids'][:3]}…", file=sys.stderr)  # fmt: skip
        sys.exit("The API and the floor disagree: the benchmark is not measuring like for like.")


if __name__ == "__main__":
    main()

"""Benchmark: the service catalogue (GET /api/v1/services/) on 100,000 providers, 500,000
services and 1,000,000 client reviews, against a floor measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cairn_bench_search .venv/bin/python bench/search.py \
        [--providers N] [--services M] [--reviews K] [--runs R]

1. Creates (or empties) the database named in DATABASE_URL, migrates it, and loads N providers,
   M services and their service-area rows with PostgreSQL COPY (the search-vector trigger and the
   search table's triggers fire and are part of the load), in one transaction. Reports rows/s over all
   three tables, then runs VACUUM (ANALYZE): the statistics, and the visibility map index-only
   scans need — the state autovacuum reaches minutes after a bulk load.
   With --reviews K (default 1,000,000; 0 skips every review step) providers are loaded unrated,
   and then, in a fresh process: K/20 client users (unusable passwords) and K reviews with COPY in
   one transaction — 45% of providers have none, the rest share them by a Pareto weight (a few
   have thousands), 1–5 stars round each provider's own quality, created over a year, ~1% hidden;
   rows/s over both tables. Then the summaries in one INSERT … SELECT … GROUP BY (and the review
   totals from them), and every provider's Bayesian score stored by the product's
   `ratings_refresh_all()` (timed once; bench/ratings_refresh.py measures it properly), then by one
   set-based UPDATE for comparison — it must agree with the product's scores — and VACUUM (ANALYZE).
2. In a fresh process, signs one client in (`force_login`) and times five typical catalogue
   requests (eleven with reviews: six more sorted by -rating or -review_count and filtered by
   min_rating, with a text query or a postcode district, and min_rating alone) through Django's
   test client (real URLconf, middleware, session, DRF, pagination and serialisation; DEBUG off):
   R timed runs each after a warm-up.
3. In a fresh process, the floor: for each request one hand-written SQL statement (psycopg, no
   ORM) for the same first page — the columns the API shows, same order, page size 50 — plus one
   count statement of at most 1,001 rows, since the API counts that far (above 1,000 it says
   "count_capped"). Both read the catalogue's search table (`providers_servicelisting`, kept by
   triggers: migration providers 0011), as the API does on PostgreSQL: the count from it alone, the
   page's 50 rows chosen on it alone and then joined to their services and providers for the
   columns shown; a district
   without free text reads the per-district search table the same way. Two statements,
   not a window COUNT(*) OVER (): the window forces every matching row through the sort, where the
   page statement alone is a top-50 sort or an index walk; two statements is the least work. Free
   text is two index conditions on the search table (the GIN-indexed search vector, OR provider_id
   = ANY of the trigram-matched provider ids), which PostgreSQL combines with a BitmapOr; the
   matched ids are found first by one statement of their own and bound to both, as the API does.
   When a text query names providers, the count is of two disjoint parts (what the words match,
   UNION ALL the named providers' services the words do not match) under its cap, as the API
   counts: one OR under the cap's LIMIT was planned as a sequential scan.
   The floor connection never prepares statements: a prepared statement gets a generic plan,
   which can be many times slower than the plan for the actual values that the API gets.
4. With reviews, in a fresh process: one review write's score update — `_count_review` (running
   sums) inside the transaction that locks the summary row, as `review_create` runs it, rolled
   back — for the provider with the most reviews and a median one; and what the old recount read on
   every write (the provider's aggregate, `prior_mean()`), alone.
The floor's page ids and count must equal the API's for every query, or the run exits non-zero.
Targets: load ≥ 20,000 rows/s; p95 ≤ 50 ms per catalogue request, including those sorted and
filtered by rating, on an otherwise idle machine (the load average is printed beside the figures:
the machine may be shared), and ≤ 1.5× the floor's p95. The run ends with one `target …` line each;
a missed target prints MISSED; it does not fail the run. Not run by `make test` or CI; `make bench`
runs it. For a quick run: --providers 10000 --services 50000 --reviews 100000 --runs 50. With
--skip-load it measures the database an earlier run loaded (steps 2–4; no load target).
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

PAGE_SIZE = 50
WARMUP = 5
LOAD_TARGET = 20_000
P95_TARGET_MS = 50.0
RATIO_TARGET = 1.5
COUNT_CAP = 1000  # the catalogue counts at most this many matches (accounts/pagination.py)

# --- Word lists: provider names, service titles and descriptions ---------------------------------
NAME_WORDS = [
    "Oakwood", "Willow", "Heather", "Meadow", "Riverside", "Castle", "Hillside", "Beacon", "Ashford", "Bramble",
    "Cedar", "Elmfield", "Fernlea", "Foxglove", "Greenacre", "Hawthorn", "Holly", "Juniper", "Kingsway", "Larch",
    "Linden", "Maple", "Millbrook", "Northgate", "Orchard", "Primrose", "Rowan", "Saxon", "Silverdale", "Southfield",
    "Springwell", "Stonebridge", "Sycamore", "Thistle", "Valley", "Westbury", "Whitecross", "Woodland", "Yarrow",
    "Abbey", "Bluebell", "Clover", "Dovecote", "Eastleigh", "Fairview", "Glenmore", "Harbour", "Ivy", "Kestrel",
    "Lavender", "Moorland", "Newbridge", "Oakley", "Pinewood", "Quarry", "Redwood", "Seaview", "Tamar", "Upton",
    "Victoria", "Wren", "Ashdown", "Briar", "Chestnut", "Daisy", "Evergreen", "Falcon", "Granary", "Hazel", "Iris",
]  # fmt: skip
NAME_MIDDLES = ["", "", "", "Lane", "House", "Court", "Park", "Gardens", "Vale", "Green", "Lodge", "Mews"]
NAME_SUFFIXES = [
    "Care", "Homecare", "Care Services", "Support", "Home Support Ltd", "Care Ltd", "Community Care", "Care Partners",
    "Living", "Support Services", "Trust", "CIC", "Day Centre", "Domiciliary Care", "Care Agency",
]  # fmt: skip
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
STREETS = ["High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue", "Victoria Road", "Green Lane"]

# category: (share of services, units, price (median, spread), title stems, description phrases)
CATEGORIES = {
    "personal_care": (0.22, ["hour"], (24, 0.25), [
        "Personal care at home", "Home care visits", "Morning and evening care calls", "Washing and dressing support",
        "Medication prompting visits", "Dementia home care", "Live-in care", "Bedtime care calls",
    ], ["help with washing, dressing and getting up", "medication prompts and personal hygiene",
        "support with continence and mobility", "experienced carers trained in dementia care"]),
    "personal_assistant": (0.10, ["hour"], (18, 0.25), [
        "Personal assistant", "PA support", "Flexible personal assistant hours", "Self-employed PA",
        "Personal assistant for outings",
    ], ["a personal assistant you choose and direct", "flexible hours arranged around your week",
        "support with appointments, shopping and outings"]),
    "day_opportunities": (0.10, ["day", "session"], (55, 0.35), [
        "Day centre place", "Day opportunities", "Creative arts day", "Gardening day service", "Lunch club",
        "Skills for independence day",
    ], ["a friendly day centre with lunch included", "arts, crafts, music and gardening",
        "activities that build confidence and friendships"]),
    "respite": (0.07, ["night", "week", "day"], (140, 0.4), [
        "Short break respite", "Overnight respite", "Respite stay", "Carer break respite",
        "Emergency respite", "Respite at home",
    ], ["a short break so family carers can rest", "planned or emergency respite stays",
        "overnight respite in a homely setting"]),
    "domestic_help": (0.12, ["hour"], (19, 0.25), [
        "Cleaning and housework", "Domestic help", "Shopping and errands", "Laundry and ironing",
        "Meal preparation", "Home help",
    ], ["cleaning, laundry and light housework", "shopping, errands and meal preparation",
        "keeping your home safe and tidy"]),
    "community_activities": (0.10, ["session"], (30, 0.4), [
        "Community activities", "Walking group", "Swimming sessions", "Social club", "Befriending",
        "Men's shed sessions",
    ], ["activities in the community with support", "befriending and social outings",
        "sport, swimming and walking groups"]),
    "transport": (0.08, ["item", "hour"], (22, 0.4), [
        "Accessible transport", "Door-to-door transport", "Wheelchair taxi", "Escorted journeys",
        "Community transport",
    ], ["wheelchair accessible vehicles", "door-to-door journeys to appointments and activities",
        "an escort who stays with you"]),
    "equipment": (0.06, ["item", "week"], (60, 0.6), [
        "Mobility equipment hire", "Bathing aids", "Telecare alarm", "Stairlift hire", "Adapted equipment",
    ], ["equipment delivered, fitted and serviced", "telecare alarms with a 24-hour response",
        "bathing aids and mobility equipment"]),
    "therapy": (0.08, ["session", "hour"], (48, 0.35), [
        "Physiotherapy", "Occupational therapy", "Counselling", "Speech and language therapy",
        "Music therapy", "Massage and reflexology",
    ], ["qualified therapists visiting you at home", "sessions to improve strength and mobility",
        "talking therapy and emotional support"]),
    "other": (0.07, ["hour", "session", "item"], (35, 0.5), [
        "Advocacy", "Support planning", "Money management support", "Pet care support", "Digital skills support",
    ], ["independent advice and advocacy", "help planning and managing your support",
        "support with letters, bills and forms"]),
}  # fmt: skip
TITLE_QUALIFIERS = [
    "", "", "", "", "Weekend", "Evening", "Flexible", "Specialist", "Rural", "Dementia-friendly", "Accessible",
    "Bilingual", "Women-only", "Young adults'", "Older people's",
]  # fmt: skip
COMMON_PHRASES = [
    "All staff are DBS checked and trained.", "We cover towns and villages across the area.",
    "Call us to arrange a free visit.", "We can start at short notice.", "Continuity of carers matters to us.",
    "We work with direct payments and personal budgets.", "Welsh and Polish speaking staff available.",
    "Our team has over ten years' experience.", "Visits from 30 minutes.", "Available seven days a week.",
]  # fmt: skip
CARER_BREAK = "We can also arrange respite so family carers get a break."
DISTRICTS = [f"{area}{n}" for area in ("NF", "AB", "CD") for n in range(1, 100)] + ["EF1", "EF2", "EF3"]
NF = DISTRICTS[:99]
RATINGS = [("outstanding", 5), ("good", 60), ("requires_improvement", 14), ("inadequate", 3), ("not_yet_rated", 18)]

# The five typical catalogue requests. The q word of (5) is a provider-name word, not a service word.
QUERIES = {
    "1 category+district, by price": {"category": "personal_care", "postcode_district": "NF12", "ordering": "price"},
    "2 full text q=respite": {"q": "respite"},
    "3 max_price+category, by -rating": {"max_price": "40", "category": "domestic_help", "ordering": "-rating"},
    "4 district+regulator, by title": {"postcode_district": "NF3", "regulator_rating": "good", "ordering": "title"},
    "5 provider name q=Willow, by -reviews": {"q": "Willow", "ordering": "-review_count"},
}
# With reviews loaded (--reviews > 0): sorted and filtered by the stored score, with a text query
# and a postcode district as above, and the widest case — the whole catalogue, best rated first.
RATING_QUERIES = {
    "6 district NF12, by -rating": {"postcode_district": "NF12", "ordering": "-rating"},
    "7 category+district+min_rating=4, by -rating": {
        "category": "personal_care", "postcode_district": "NF5", "min_rating": "4", "ordering": "-rating",
    },
    "8 q=respite+min_rating=4, by -rating": {"q": "respite", "min_rating": "4", "ordering": "-rating"},
    "9 q=dementia+district NF3, by -reviews": {
        "q": "dementia", "postcode_district": "NF3", "ordering": "-review_count",
    },
    "10 district+min_rating=4.5, by -reviews": {
        "postcode_district": "NF7", "min_rating": "4.5", "ordering": "-review_count",
    },
    "11 min_rating=4, by -rating (no other filter)": {"min_rating": "4", "ordering": "-rating"},
}  # fmt: skip


def catalogue_queries(reviews: int) -> dict[str, dict]:
    return {**QUERIES, **RATING_QUERIES} if reviews else QUERIES


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[rank]


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


def copy_text(value: str) -> str:
    """A value escaped for COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def generate(
    providers: int, services: int, *, stored_ratings: bool = True
) -> tuple[io.BytesIO, io.BytesIO, io.BytesIO, int]:
    """The three tables as COPY text (UTF-8 bytes: a str buffer would hold 4 bytes a character):
    providers, services, service areas. Without `stored_ratings` every provider starts unrated
    (rating null, no reviews): the review phase loads real reviews and stores their scores. The
    random draws are made either way, so the rest of the data is the same."""
    rng = random.Random(11)
    now = "2025-01-15 09:00:00+00"
    rating_names = [r for r, _ in RATINGS]
    rating_weights = [w for _, w in RATINGS]
    provider_rows = io.BytesIO()
    for pid in range(1, providers + 1):
        name = " ".join(w for w in (rng.choice(NAME_WORDS), rng.choice(NAME_MIDDLES), rng.choice(NAME_SUFFIXES)) if w)
        draw = rng.random()
        status = "verified" if draw < 0.86 else "pending" if draw < 0.96 else "suspended"
        regulator_rating = rng.choices(rating_names, rating_weights)[0]
        rated = regulator_rating != "not_yet_rated"
        if rng.random() < 0.55:  # has visible client reviews
            reviews = max(1, int(rng.expovariate(1 / 25)))
            rating = f"{min(5.0, max(1.0, rng.gauss(4.1, 0.6))):.2f}"
        else:
            reviews, rating = 0, "\\N"
        if not stored_ratings:
            reviews, rating = 0, "\\N"
        district = rng.choice(NF) if rng.random() < 0.6 else rng.choice(DISTRICTS)
        areas = sorted({*rng.sample(DISTRICTS, rng.randint(1, 4)), district})
        provider_rows.write(
            "\t".join(
                [
                    str(pid),
                    copy_text(name),
                    status,
                    "" if status == "pending" else "Checks complete.",
                    now if status != "pending" else "\\N",
                    f"{district} {rng.randint(1, 9)}{''.join(rng.choices(POSTCODE_LETTERS, k=2))}",
                    f"{rng.randint(1, 200)} {rng.choice(STREETS)}",
                    f"office{pid}@example.org",
                    f"01632 {rng.randint(100000, 999999)}",
                    f"https://provider{pid}.example.org",
                    copy_text(f"{name} provides care and support in {', '.join(areas)}."),
                    json.dumps(areas),
                    f"1-{pid:09d}" if rated else "\\N",
                    f"1-{100_000_000 + pid // 3}" if rated else "",
                    regulator_rating,
                    f"202{rng.randint(0, 4)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}" if rated else "\\N",
                    f"2025-0{rng.randint(1, 9)}-0{rng.randint(1, 9)}" if rated else "\\N",
                    rating,
                    str(reviews),
                    now,
                    now,
                ]
            ).encode()
            + b"\n"
        )

    categories = list(CATEGORIES)
    shares = [CATEGORIES[c][0] for c in categories]
    service_rows = io.BytesIO()
    area_rows = io.BytesIO()
    area_id = 0
    for sid in range(1, services + 1):
        category = rng.choices(categories, shares)[0]
        _, units, (median, spread), stems, phrases = CATEGORIES[category]
        qualifier = rng.choice(TITLE_QUALIFIERS)
        title = f"{qualifier} {rng.choice(stems).lower()}" if qualifier else rng.choice(stems)
        sentences = [f"{rng.choice(phrases).capitalize()}.", *rng.sample(COMMON_PHRASES, rng.randint(1, 3))]
        if category != "respite" and rng.random() < 0.03:
            sentences.append(CARER_BREAK)
        price = min(300.0, max(10.0, rng.lognormvariate(0, spread) * median))
        districts = sorted(
            {rng.choice(NF) if rng.random() < 0.6 else rng.choice(DISTRICTS) for _ in range(rng.randint(1, 4))}
        )
        service_rows.write(
            "\t".join(
                [
                    str(sid),
                    str(rng.randint(1, providers)),
                    copy_text(title),
                    category,
                    rng.choice(units),
                    f"{price:.2f}",
                    "GBP",
                    copy_text(" ".join(sentences)),
                    json.dumps(districts),
                    now if rng.random() < 0.03 else "\\N",
                    now,
                    now,
                ]
            ).encode()
            + b"\n"
        )
        for district in districts:
            area_id += 1
            area_rows.write(f"{area_id}\t{sid}\t{district}\n".encode())
    return provider_rows, service_rows, area_rows, area_id


def copy_in(cur, table: str, columns: str, buffer: io.BytesIO) -> None:
    data = buffer.getbuffer()
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(data), 1 << 20):
            copy.write(data[start : start + (1 << 20)])
    data.release()


def phase_load(providers: int, services: int, reviews: int) -> dict:
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    provider_rows, service_rows, area_rows, areas = generate(providers, services, stored_ratings=not reviews)
    generate_seconds = time.perf_counter() - started
    provider_columns = (
        "id, name, status, status_reason, status_changed_at, postcode, address, email, phone, website, description, "
        "areas_served, regulator_id, regulator_provider_id, regulator_rating, regulator_rating_date, "
        "regulator_checked_at, rating, review_count, created_at, updated_at"
    )
    service_columns = (
        "id, provider_id, title, category, unit, unit_price, unit_price_currency, description, postcode_districts, "
        "retired_at, created_at, updated_at"
    )
    connection.ensure_connection()
    raw = connection.connection
    started = time.perf_counter()
    with raw.transaction(), raw.cursor() as cur:  # one transaction: deferred FK checks run at its commit
        copy_in(cur, "providers_provider", provider_columns, provider_rows)
        copy_in(cur, "providers_serviceoffering", service_columns, service_rows)
        copy_in(cur, "providers_servicearea", "id, service_id, district", area_rows)
        for table in ("providers_provider", "providers_serviceoffering", "providers_servicearea"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # ANALYZE, and VACUUM's visibility map, which lets index-only scans skip the heap: the state
        # autovacuum reaches minutes after a bulk load (it may be off on a bench server).
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT count(*) FROM providers_serviceoffering WHERE search_vector IS NULL")
        unindexed = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM providers_servicelisting")
        listed = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM providers_serviceoffering s JOIN providers_provider p ON p.id = s.provider_id "
            "WHERE s.retired_at IS NULL AND p.status = 'verified'"
        )
        listable = cursor.fetchone()[0]
    vacuum_seconds = time.perf_counter() - started
    if unindexed:
        raise SystemExit(f"{unindexed} services have no search vector: the trigger did not fire on COPY.")
    if listed != listable:
        raise SystemExit(f"The search table holds {listed} rows for {listable} listed services: its triggers missed.")
    rows = providers + services + areas
    return {
        "rows": rows,
        "providers": providers,
        "services": services,
        "areas": areas,
        "listed": listed,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "generate_seconds": generate_seconds,
        "vacuum_seconds": vacuum_seconds,
        "peak_mb": peak_mb(),
    }


# --- Reviews: 1,000,000 by default, skewed over the providers ------------------------------------
REVIEW_SENTENCES = [
    "The carers were kind and always on time.", "Visits were sometimes late.", "Communication could be better.",
    "They listened to what I wanted.", "Good value for money.", "Staff changed too often.",
    "My mother looks forward to every visit.", "Booking was easy.", "They went the extra mile.",
    "Cancelled twice without telling us.", "Friendly, patient and reliable.", "I would recommend them.",
]  # fmt: skip
NO_REVIEW_SHARE = 0.45  # providers nobody has reviewed
PARETO_ALPHA = 1.16  # how the reviewed providers share the reviews: a long tail of a few with very many
YEAR_SECONDS = 365 * 24 * 3600
SET_RUNS = 3  # timed runs of the set-based refresh
REVIEWS_END = 1_736_931_600  # 2025-01-15 09:00 UTC, the catalogue's "now"
SUMMARY_SQL = """
INSERT INTO marketplace_providerratingsummary
    (provider_id, count, total, stars_1, stars_2, stars_3, stars_4, stars_5, updated_at)
SELECT provider_id, count(*) FILTER (WHERE NOT hidden), coalesce(sum(rating) FILTER (WHERE NOT hidden), 0),
       count(*) FILTER (WHERE NOT hidden AND rating = 1), count(*) FILTER (WHERE NOT hidden AND rating = 2),
       count(*) FILTER (WHERE NOT hidden AND rating = 3), count(*) FILTER (WHERE NOT hidden AND rating = 4),
       count(*) FILTER (WHERE NOT hidden AND rating = 5), now()
FROM marketplace_review GROUP BY provider_id
"""
# The running sums the review writes keep (marketplace.models.ReviewTotals), from the summaries.
TOTALS_SQL = """
INSERT INTO marketplace_reviewtotals (id, count, total)
SELECT 1, coalesce(sum(count), 0), coalesce(sum(total), 0) FROM marketplace_providerratingsummary
ON CONFLICT (id) DO UPDATE SET count = excluded.count, total = excluded.total
"""
# The nightly refresh as one statement — the floor for `ratings_refresh_all` (chunks of 5,000
# providers, scores computed in Python): the same (C·m + sum) / (C + n), rounded half up to two places.
SET_BASED_SCORE = """
WITH prior AS (SELECT sum(total)::numeric / nullif(sum(count), 0) AS m FROM marketplace_providerratingsummary)
SELECT s.provider_id, CASE WHEN s.count > 0 THEN round((%(w)s * prior.m + s.total) / (%(w)s + s.count), 2) END AS score,
       s.count FROM marketplace_providerratingsummary s, prior
"""


def generate_reviews(providers: int, reviews: int, first_user_id: int) -> tuple[io.BytesIO, io.BytesIO, int, dict]:
    """Client users and their reviews as COPY text. 45% of providers have no review; the others
    share the reviews by a Pareto weight, so a few have thousands. Each provider has its own
    quality; a review's stars scatter round it. About 1% are hidden, 10% answered."""
    rng = random.Random(23)
    clients = max(100, reviews // 20)
    user_rows = io.BytesIO()
    joined = "2024-01-10 09:00:00+00"
    for uid in range(first_user_id, first_user_id + clients):
        user_rows.write(
            f"{uid}\t!{rng.getrandbits(160):040x}\t\\N\tf\tbench-client-{uid}\t\t\tclient{uid}@example.org\tf\tt\t"
            f"{joined}\tclient\tBench Client {uid}\t\t\\N\n".encode()
        )
    weights, quality = [], [0.0]
    for _ in range(providers):
        weights.append(0.0 if rng.random() < NO_REVIEW_SHARE else rng.paretovariate(PARETO_ALPHA))
        quality.append(min(5.0, max(1.5, rng.gauss(4.0, 0.6))))
    targets = rng.choices(range(1, providers + 1), weights=weights, k=reviews)
    per_provider: dict[int, int] = {}
    review_rows = io.BytesIO()
    write = review_rows.write
    for rid, pid in enumerate(targets, start=1):
        per_provider[pid] = per_provider.get(pid, 0) + 1
        stars = min(5, max(1, round(rng.gauss(quality[pid], 1.0))))
        created = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(REVIEWS_END - rng.randrange(YEAR_SECONDS)))
        text = " ".join(rng.sample(REVIEW_SENTENCES, rng.randint(1, 3)))
        draw = rng.random()
        hidden = ("t\tPersonal details removed.\t" + created) if draw < 0.01 else "f\t\t\\N"
        answer = ("Thank you for your feedback.\t" + created) if draw > 0.9 else "\t\\N"
        author = rng.randint(first_user_id, first_user_id + clients - 1)
        write(f"{rid}\t{pid}\t{author}\t{stars}\t{text}\t{created}\t{hidden}\t{answer}\n".encode())
    counts = sorted(per_provider.values())
    stats = {
        "reviewed_providers": len(counts),
        "max_per_provider": counts[-1] if counts else 0,
        "median_per_provider": counts[len(counts) // 2] if counts else 0,
        "p99_per_provider": counts[int(len(counts) * 0.99)] if counts else 0,
    }
    return user_rows, review_rows, clients, stats


def load_reviews(providers: int, reviews: int) -> dict:
    """Load the clients and reviews (COPY, one transaction), build the summaries (one INSERT …
    SELECT … GROUP BY) and the review totals, and VACUUM (ANALYZE) the new tables. Also used by
    bench/ratings_refresh.py."""
    setup_django()
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur:
        first_user_id = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM accounts_user").fetchone()[0]
    started = time.perf_counter()
    user_rows, review_rows, clients, stats = generate_reviews(providers, reviews, first_user_id)
    generate_seconds = time.perf_counter() - started
    user_columns = (
        "id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, "
        "date_joined, role, full_name, postcode, provider_id"
    )
    review_columns = (
        "id, provider_id, author_id, rating, text, created_at, hidden, hidden_reason, hidden_at, answer, answered_at"
    )
    started = time.perf_counter()
    with raw.transaction(), raw.cursor() as cur:  # deferred FK checks (author, provider) run at commit
        copy_in(cur, "accounts_user", user_columns, user_rows)
        copy_in(cur, "marketplace_review", review_columns, review_rows)
        for table in ("accounts_user", "marketplace_review"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    load_seconds = time.perf_counter() - started
    del user_rows, review_rows
    started = time.perf_counter()
    with raw.transaction(), raw.cursor() as cur:
        cur.execute(SUMMARY_SQL)
        summaries = cur.rowcount
        cur.execute(TOTALS_SQL)
    summary_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:  # the statistics a nightly job would find; not timed as part of it
        for table in ("accounts_user", "marketplace_review", "marketplace_providerratingsummary"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    analyze_seconds = time.perf_counter() - started
    return {
        "clients": clients,
        "reviews": reviews,
        "rows": clients + reviews,
        "seconds": load_seconds,
        "rows_per_s": (clients + reviews) / load_seconds,
        "generate_seconds": generate_seconds,
        "summaries": summaries,
        "summary_seconds": summary_seconds,
        "analyze_seconds": analyze_seconds,
        **stats,
    }


def phase_reviews(providers: int, reviews: int) -> dict:
    """Load the reviews (`load_reviews`), store every score with the product's
    `ratings_refresh_all`, then check them against the same refresh as one set-based UPDATE, and
    time that. bench/ratings_refresh.py measures the refresh properly, against this floor."""
    loaded = load_reviews(providers, reviews)
    from django.db import connection

    from marketplace.services import rating_policy, ratings_refresh_all

    raw = connection.connection
    weight = rating_policy().bayesian_weight
    started = time.perf_counter()
    refreshed = ratings_refresh_all()
    refresh_seconds = time.perf_counter() - started

    # The same scores in SQL: check they agree with the stored ones, then time it as one UPDATE.
    with raw.cursor() as cur:
        disagree = cur.execute(
            f"SELECT count(*) FROM ({SET_BASED_SCORE}) f JOIN providers_provider p ON p.id = f.provider_id "
            "WHERE p.rating IS DISTINCT FROM f.score OR p.review_count <> f.count",
            {"w": weight},
        ).fetchone()[0]
    set_times = []
    for _ in range(SET_RUNS):
        started = time.perf_counter()
        with raw.transaction(), raw.cursor() as cur:
            cur.execute(
                f"UPDATE providers_provider p SET rating = f.score, review_count = f.count "
                f"FROM ({SET_BASED_SCORE}) f WHERE p.id = f.provider_id",
                {"w": weight},
            )
            set_rows = cur.rowcount
        set_times.append(time.perf_counter() - started)
    started = time.perf_counter()
    with connection.cursor() as cursor:  # the updates left dead provider rows; the state autovacuum reaches
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute(
            "SELECT count(*) FILTER (WHERE rating IS NOT NULL), count(*) FILTER (WHERE rating >= 4), "
            "count(*) FILTER (WHERE rating >= 4.5), min(rating), max(rating) FROM providers_provider"
        )
        rated, four, four_half, low, high = cursor.fetchone()
        cursor.execute("SELECT sum(total)::numeric / sum(count) FROM marketplace_providerratingsummary")
        prior = cursor.fetchone()[0]
    vacuum_seconds = time.perf_counter() - started
    return {
        **loaded,
        "refreshed": refreshed,
        "refresh_seconds": refresh_seconds,
        "set_disagree": disagree,
        "set_rows": set_rows,
        "set_seconds": set_times,
        "vacuum_seconds": vacuum_seconds,
        "rated": rated,
        "rated_4": four,
        "rated_4_5": four_half,
        "score_range": [str(low), str(high)],
        "prior": f"{prior:.4f}" if prior is not None else None,
        "peak_mb": peak_mb(),
    }


def phase_write(runs: int) -> dict:
    """What one review write adds for the score: `_count_review` (the running sums of the provider's
    summary and of the totals, the prior from them, the score's UPDATE) inside the transaction that
    holds the summary's row lock, as `review_create` runs it, then rolled back so the data stays as
    loaded — for the provider with the most reviews and for a median one. What the old recount read
    on every write (the provider's aggregate and `prior_mean()`) is timed alone for comparison."""
    setup_django()
    from django.db import transaction
    from django.db.models import Count, Q, Sum

    from marketplace.models import ProviderRatingSummary, Review
    from marketplace.services import _count_review, _locked_summary, prior_mean

    reviewed = ProviderRatingSummary.objects.filter(count__gt=0)
    total = reviewed.count()
    picks = {
        "most reviews": reviewed.order_by("-count", "provider_id").first(),
        "median": reviewed.order_by("count", "provider_id")[total // 2],
    }
    results = {}
    for label, summary in picks.items():
        provider = summary.provider
        refresh, whole, aggregate, prior = [], [], [], []
        for run in range(WARMUP + runs):
            started = time.perf_counter()
            with transaction.atomic():
                locked = _locked_summary(provider)
                before = time.perf_counter()
                _count_review(locked, 5, 1)
                after = time.perf_counter()
                transaction.set_rollback(True)
            done = time.perf_counter()
            started_parts = time.perf_counter()
            Review.objects.filter(provider_id=provider.pk, hidden=False).aggregate(
                count=Count("id"),
                total=Sum("rating"),
                **{f"stars_{n}": Count("id", filter=Q(rating=n)) for n in range(1, 6)},
            )
            aggregated = time.perf_counter()
            prior_mean()
            priored = time.perf_counter()
            if run >= WARMUP:
                refresh.append((after - before) * 1000)
                whole.append((done - started) * 1000)
                aggregate.append((aggregated - started_parts) * 1000)
                prior.append((priored - aggregated) * 1000)
        results[label] = {
            "provider": provider.pk,
            "reviews": summary.count,
            "refresh_ms": refresh,
            "transaction_ms": whole,
            "aggregate_ms": aggregate,
            "prior_ms": prior,
        }
    return {"providers": results, "summaries": total, "peak_mb": peak_mb()}


def phase_api(runs: int, reviews: int) -> dict:
    os.environ["DEBUG"] = "false"
    setup_django()
    from django.conf import settings
    from django.test import Client

    from accounts.models import Role, User

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    assert not settings.DEBUG, "the API phase must run with DEBUG off"
    user = User.objects.filter(username="bench-search-client").first()
    if user is None:
        user = User(username="bench-search-client", role=Role.CLIENT, full_name="Bench Search Client")
        user.set_unusable_password()
        user.save()
    client = Client()
    client.force_login(user)
    queries = catalogue_queries(reviews)

    def get(label: str):
        response = client.get("/api/v1/services/", queries[label])
        assert response.status_code == 200, (label, response.status_code, response.content[:500])
        return response

    for label in queries:
        for _ in range(WARMUP):
            get(label)
    times: dict[str, list[float]] = {label: [] for label in queries}
    for _ in range(runs):  # round robin, so background load falls on every query alike
        for label in queries:
            started = time.perf_counter()
            get(label)
            times[label].append((time.perf_counter() - started) * 1000)
    results = {}
    for label in queries:
        body = get(label).json()
        results[label] = {
            "ms": times[label],
            "count": body["count"],
            "capped": body.get("count_capped", False),
            "ids": [s["id"] for s in body["results"]],
        }
    # What any signed-in catalogue request costs before its own SQL: the session and user look-ups,
    # middleware, DRF and an empty page — a district no service covers, so both statements are
    # index probes that find nothing. Printed beside the ratios, which the floor's SQL alone leaves out.
    empty = []
    for run in range(WARMUP + runs):
        started = time.perf_counter()
        response = client.get("/api/v1/services/", {"postcode_district": "ZZ9"})
        if run >= WARMUP:
            empty.append((time.perf_counter() - started) * 1000)
        assert response.json()["count"] == 0
    return {"queries": results, "empty_ms": empty, "peak_mb": peak_mb()}


# --- The floor: one hand-written page statement (plus one count statement) per request ----------
FLOOR_COLUMNS = (
    "s.id, s.title, s.category, s.unit, s.unit_price, s.unit_price_currency, s.postcode_districts, s.description, "
    "s.retired_at, p.id, p.name, p.rating, p.review_count, p.regulator_rating"
)
# The search table (providers.ServiceListing) is the rule "live service of a verified provider"
# with every filtered and sorted column on one row: the floor filters and sorts it, then joins the
# page's 50 rows to their service and provider for the columns shown. The count reads it alone.
FLOOR_COUNT_FROM = "providers_servicelisting l WHERE true"
# The page: its 50 rows chosen on the search table alone (the columns sorted by), then joined to
# their services and providers. With the joins inside, PostgreSQL costs joining every matching row
# before the top-50 sort and picks an index walk that filters row by row instead (query 9: 23 ms
# against 16). Both search tables have the sorted columns.
SORTED = "l.service_id, l.unit_price, l.title, l.rating, l.review_count"
PAGE_JOIN = "JOIN providers_serviceoffering s ON s.id = l.service_id JOIN providers_provider p ON p.id = s.provider_id"
# Free text: both arms are index conditions on the search table (the GIN-indexed search vector;
# the provider_id index, fed by the ids of the providers the trigram-indexed name match found —
# found once per request, by a statement of their own, and bound as one array to both).
# With no provider named, the words alone (as the API then sends).
FLOOR_WORDS = "l.search_vector @@ websearch_to_tsquery('english', %(q)s)"
FLOOR_TEXT = f"({FLOOR_WORDS} OR l.provider_id = ANY (%(named)s::bigint[]))"
FLOOR_NAMES_ONLY = f"(l.provider_id = ANY (%(named)s::bigint[]) AND NOT coalesce({FLOOR_WORDS}, false))"
NAMED_SQL = "SELECT id FROM providers_provider WHERE name %%> %(q)s"
FLOOR_AREA = "l.districts @> jsonb_build_array(%(district)s::text)"
# A district without free text: the per-district search table (providers_servicelistingarea), as
# the API reads it, aliased `l` too, since it has the same filtered and sorted columns.
IN_DISTRICT = "l.district = %(district)s"
AREA_COUNT_FROM = "providers_servicelistingarea l WHERE true"
BY_RATING = "l.rating DESC NULLS LAST, l.service_id"
BY_REVIEWS = "l.review_count DESC, l.service_id"
FLOOR_SQL = {
    "1 category+district, by price": (
        f"l.category = %(category)s AND {IN_DISTRICT}",
        "l.unit_price, l.service_id",
        {"category": "personal_care", "district": "NF12"},
    ),
    "2 full text q=respite": (FLOOR_TEXT, "l.title, l.service_id", {"q": "respite"}),
    "3 max_price+category, by -rating": (
        "l.category = %(category)s AND l.unit_price <= %(max_price)s",
        BY_RATING,
        {"category": "domestic_help", "max_price": 40},
    ),
    "4 district+regulator, by title": (
        f"{IN_DISTRICT} AND l.regulator_rating = %(rating)s",
        "l.title, l.service_id",
        {"district": "NF3", "rating": "good"},
    ),
    "5 provider name q=Willow, by -reviews": (FLOOR_TEXT, BY_REVIEWS, {"q": "Willow"}),
}
assert FLOOR_SQL.keys() == QUERIES.keys()
RATING_FLOOR_SQL = {
    "6 district NF12, by -rating": (IN_DISTRICT, BY_RATING, {"district": "NF12"}),
    "7 category+district+min_rating=4, by -rating": (
        f"l.category = %(category)s AND {IN_DISTRICT} AND l.rating >= %(min_rating)s",
        BY_RATING,
        {"category": "personal_care", "district": "NF5", "min_rating": Decimal("4")},
    ),
    "8 q=respite+min_rating=4, by -rating": (
        f"{FLOOR_TEXT} AND l.rating >= %(min_rating)s",
        BY_RATING,
        {"q": "respite", "min_rating": Decimal("4")},
    ),
    "9 q=dementia+district NF3, by -reviews": (
        f"{FLOOR_TEXT} AND {FLOOR_AREA}",
        BY_REVIEWS,
        {"q": "dementia", "district": "NF3"},
    ),
    "10 district+min_rating=4.5, by -reviews": (
        f"{IN_DISTRICT} AND l.rating >= %(min_rating)s",
        BY_REVIEWS,
        {"district": "NF7", "min_rating": Decimal("4.5")},
    ),
    "11 min_rating=4, by -rating (no other filter)": (
        "l.rating >= %(min_rating)s",
        BY_RATING,
        {"min_rating": Decimal("4")},
    ),
}
assert RATING_FLOOR_SQL.keys() == RATING_QUERIES.keys()


def phase_floor(runs: int, reviews: int) -> dict:
    import psycopg

    url = os.environ["DATABASE_URL"]
    results = {}

    def table(where: str) -> str:
        return AREA_COUNT_FROM if IN_DISTRICT in where else FLOOR_COUNT_FROM

    def count(where: str) -> str:
        if FLOOR_TEXT not in where:
            return f"SELECT count(*) FROM (SELECT 1 FROM {table(where)} AND {where} LIMIT {COUNT_CAP + 1}) capped"
        # Two disjoint parts, as the API counts: what the words match, then the named providers'
        # services the words do not match, so the cap stops the count inside either index scan.
        words, names = where.replace(FLOOR_TEXT, FLOOR_WORDS), where.replace(FLOOR_TEXT, FLOOR_NAMES_ONLY)
        return (
            f"SELECT count(*) FROM ((SELECT 1 FROM {table(where)} AND {words}) UNION ALL "
            f"(SELECT 1 FROM {table(where)} AND {names}) LIMIT {COUNT_CAP + 1}) capped"
        )

    def page(where: str, order: str) -> str:
        return (
            f"SELECT {FLOOR_COLUMNS} FROM (SELECT {SORTED} FROM {table(where)} AND {where} ORDER BY {order} "
            f"LIMIT {PAGE_SIZE}) l {PAGE_JOIN} ORDER BY {order}"
        )

    queries = {**FLOOR_SQL, **RATING_FLOOR_SQL} if reviews else FLOOR_SQL
    statements = {
        label: (count(where), page(where, order), params) for label, (where, order, params) in queries.items()
    }
    words_only = {
        label: (count(where.replace(FLOOR_TEXT, FLOOR_WORDS)), page(where.replace(FLOOR_TEXT, FLOOR_WORDS), order))
        for label, (where, order, _) in queries.items()
    }
    # No prepared statements: psycopg prepares a statement after 5 runs, and PostgreSQL then
    # plans it once for any parameters — a generic plan, up to 8× slower here (query 10 walked the
    # review_count index: 117 ms against 15 ms). Django binds on the client, so every API request
    # is planned for its values; so is every floor statement.
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:

        def run(label: str) -> tuple[int, list, float, float]:
            count_sql, page_sql, params = statements[label]
            with conn.cursor() as cur:
                started = time.perf_counter()
                if "q" in params:
                    named = [row[0] for row in cur.execute(NAMED_SQL, params)]
                    if named:
                        params = {**params, "named": named}
                    else:
                        count_sql, page_sql = words_only[label]
                count = cur.execute(count_sql, params).fetchone()[0]
                counted = time.perf_counter()
                rows = cur.execute(page_sql, params).fetchall()
                return count, rows, (counted - started) * 1000, (time.perf_counter() - counted) * 1000

        for label in statements:
            for _ in range(WARMUP):
                run(label)
        times: dict[str, list[float]] = {label: [] for label in statements}
        count_times: dict[str, list[float]] = {label: [] for label in statements}
        page_times: dict[str, list[float]] = {label: [] for label in statements}
        for _ in range(runs):  # round robin, as the API phase
            for label in statements:
                _, _, count_ms, page_ms = run(label)
                times[label].append(count_ms + page_ms)
                count_times[label].append(count_ms)
                page_times[label].append(page_ms)
        for label in statements:
            count, rows, _, _ = run(label)
            results[label] = {
                "ms": times[label],
                "count_ms": count_times[label],
                "page_ms": page_times[label],
                "count": min(count, COUNT_CAP),
                "capped": count > COUNT_CAP,
                "ids": [r[0] for r in rows],
            }
        # What a request would add if it opened its own connection (CONN_MAX_AGE = 0 under a real
        # WSGI server; Django's test client keeps the connection open between requests).
        connects = []
        for _ in range(20):
            started = time.perf_counter()
            psycopg.connect(url).close()
            connects.append((time.perf_counter() - started) * 1000)
    return {"queries": results, "connect_ms": connects, "peak_mb": peak_mb()}


def run_phase(name: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, *args], check=True, capture_output=True, text=True, env=os.environ
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def mark(missed: bool) -> str:
    return "  MISSED" if missed else ""


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--providers", type=int, default=100_000)
    parser.add_argument("--services", type=int, default=500_000)
    parser.add_argument("--reviews", type=int, default=1_000_000, help="client reviews to load; 0 skips them")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per query (after a warm-up of 5)")
    parser.add_argument("--phase")
    parser.add_argument(
        "--skip-load", action="store_true", help="measure the database an earlier run loaded (no load target)"
    )
    options = parser.parse_args()
    if options.runs < 50:
        parser.error("--runs must be at least 50 for a meaningful p95")
    if options.reviews < 0:
        parser.error("--reviews must be 0 or more")
    if options.phase:
        result = {
            "load": lambda: phase_load(options.providers, options.services, options.reviews),
            "reviews": lambda: phase_reviews(options.providers, options.reviews),
            "api": lambda: phase_api(options.runs, options.reviews),
            "floor": lambda: phase_floor(options.runs, options.reviews),
            "write": lambda: phase_write(options.runs),
        }[options.phase]()
        print(json.dumps(result))
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database this benchmark may drop and recreate.")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    load = reviews = None
    if not options.skip_load:
        ensure_database(url)
        sizes = ["--providers", str(options.providers), "--services", str(options.services)]
        load = run_phase("load", *sizes, "--reviews", str(options.reviews))
        print(f"load:  {load['rows']:,} rows ({load['providers']:,} providers, {load['services']:,} services, "
              f"{load['areas']:,} service areas) in {load['seconds']:.2f} s = {load['rows_per_s']:,.0f} rows/s "
              f"(target ≥ {LOAD_TARGET:,}){mark(load['rows_per_s'] < LOAD_TARGET)}")  # fmt: skip
        print(f"       COPY incl. the search-vector trigger, the search table's triggers ({load['listed']:,} rows "
              f"written, not counted above), indexes and FK checks; generating the rows took "
              f"{load['generate_seconds']:.1f} s (not timed), VACUUM (ANALYZE) {load['vacuum_seconds']:.1f} s; "
              f"peak {load['peak_mb']:.0f} MB")  # fmt: skip
        if options.reviews:
            reviews = run_phase("reviews", *sizes, "--reviews", str(options.reviews))
            r = reviews
            print(f"\nreviews: {r['reviews']:,} reviews by {r['clients']:,} client users over "
                  f"{r['reviewed_providers']:,} of {options.providers:,} providers (per reviewed provider: "
                  f"median {r['median_per_provider']:,}, p99 {r['p99_per_provider']:,}, "
                  f"max {r['max_per_provider']:,})")  # fmt: skip
            print(f"       load {r['rows']:,} rows (users + reviews) in {r['seconds']:.2f} s = "
                  f"{r['rows_per_s']:,.0f} rows/s (COPY incl. 8 review indexes and deferred FK checks at "
                  f"commit; generating took {r['generate_seconds']:.1f} s, not timed)")  # fmt: skip
            print(f"       summaries: INSERT … SELECT … GROUP BY, {r['summaries']:,} rows in "
                  f"{r['summary_seconds']:.2f} s; "
                  f"VACUUM (ANALYZE) of the new tables {r['analyze_seconds']:.1f} s (not timed)")  # fmt: skip
            per = r["refresh_seconds"] / max(1, r["summaries"]) * 1000
            print(f"       ratings_refresh_all(): {r['refresh_seconds']:.1f} s for {r['summaries']:,} providers "
                  f"({per:.2f} ms each; {r['refreshed']:,} with visible reviews) — in chunks of 5,000")  # fmt: skip
            runs = ", ".join(f"{t:.2f}" for t in r["set_seconds"])
            print(f"       set-based SQL, one UPDATE … FROM (same formula): {min(r['set_seconds']):.2f} s "
                  f"(runs: {runs} s; {r['set_rows']:,} rows); providers whose stored score differs from it: "
                  f"{r['set_disagree']}")  # fmt: skip
            print(f"       scores: prior m = {r['prior']}; {r['rated']:,} providers rated, {r['rated_4']:,} ≥ 4, "
                  f"{r['rated_4_5']:,} ≥ 4.5, range {r['score_range'][0]}–{r['score_range'][1]}; "
                  f"VACUUM (ANALYZE) {r['vacuum_seconds']:.1f} s; peak {r['peak_mb']:.0f} MB")  # fmt: skip
            if r["set_disagree"]:
                print("       MISMATCH: the set-based scores differ from ratings_refresh_all's", file=sys.stderr)
    load_before = os.getloadavg()
    api = run_phase("api", "--runs", str(options.runs), "--reviews", str(options.reviews))
    floor = run_phase("floor", "--runs", str(options.runs), "--reviews", str(options.reviews))
    load_after = os.getloadavg()
    print(f"\ncatalogue: {options.runs} timed runs per query after {WARMUP} warm-up runs; page size {PAGE_SIZE}.")
    print("API = GET /api/v1/services/ via django.test.Client, signed-in client, DEBUG off.")
    print(f"floor = one hand-written count SELECT (at most {COUNT_CAP + 1:,} rows, as the API counts) + one page "
          "SELECT (psycopg, no ORM), after one SELECT of the providers a text query names; split = count (with that "
          "SELECT) + page p50s.")  # fmt: skip
    print(f"ratio = API p95 / floor p95. Times in ms. count {COUNT_CAP:,}+ = capped (count_capped: true).")
    print(
        "load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f} — the machine is "
        "shared, so figures taken under load are slower than on an idle one\n".format(*load_before, *load_after)
    )
    width = max(38, *(len(label) for label in api["queries"]))
    header = (
        f"{'query':<{width}} {'count':>7}  {'API p50':>7} {'API p95':>7}  {'floor p50':>9} {'floor p95':>9} "
        f"{'split count+page':>16}  {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    mismatches = []
    worst_p95, worst_ratio = (0.0, ""), (0.0, "")
    for label in catalogue_queries(options.reviews):
        a, f = api["queries"][label], floor["queries"][label]
        a50, a95 = percentile(a["ms"], 50), percentile(a["ms"], 95)
        f50, f95 = percentile(f["ms"], 50), percentile(f["ms"], 95)
        ratio = a95 / f95
        worst_p95, worst_ratio = max(worst_p95, (a95, label)), max(worst_ratio, (ratio, label))
        notes = []
        if a95 > P95_TARGET_MS:
            notes.append(f"MISSED p95 ≤ {P95_TARGET_MS:.0f} ms")
        if ratio > RATIO_TARGET:
            notes.append(f"MISSED ≤ {RATIO_TARGET:.1f}× floor")
        split = f"{percentile(f['count_ms'], 50):.1f}+{percentile(f['page_ms'], 50):.1f}"
        shown = f"{a['count']:,}{'+' if a['capped'] else ''}"
        print(f"{label:<{width}} {shown:>7}  {a50:>7.1f} {a95:>7.1f}  {f50:>9.1f} {f95:>9.1f} {split:>16}  "
              f"{ratio:>5.2f}×  {'; '.join(notes)}".rstrip())  # fmt: skip
        if a["ids"] != f["ids"] or a["count"] != f["count"] or a["capped"] != f["capped"]:
            mismatches.append(label)
        elif not a["ids"]:
            print(f"  note: {label} found nothing; the comparison is empty")
    print("-" * len(header))
    print(f"goals: API p95 ≤ {P95_TARGET_MS:.0f} ms (on an otherwise idle machine, load average < 1) and ≤ "
          f"{RATIO_TARGET:.1f}× the floor's p95, for every query")  # fmt: skip
    empty = api["empty_ms"]
    print(f"a request that finds nothing (postcode_district=ZZ9) takes p50 {percentile(empty, 50):.1f} ms / p95 "
          f"{percentile(empty, 95):.1f} ms: what every request costs before its own SQL (session and user "
          "look-ups, middleware, DRF), which the floor leaves out")  # fmt: skip
    connect = floor["connect_ms"]
    print(f"a fresh PostgreSQL connection costs p50 {percentile(connect, 50):.1f} ms / p95 "
          f"{percentile(connect, 95):.1f} ms — what each request adds when connections are not kept "
          "(CONN_MAX_AGE 0); the test client keeps its connection")  # fmt: skip
    write = None
    if options.reviews:
        write = run_phase("write", "--runs", str(options.runs))
        print(f"\none review write's score update ({options.runs} runs after {WARMUP} warm-up; "
              f"{write['summaries']:,} providers with reviews). Times in ms, p50 / p95:")  # fmt: skip
        for label, w in write["providers"].items():
            figures = "; ".join(
                f"{name} {percentile(w[key], 50):.2f} / {percentile(w[key], 95):.2f}"
                for name, key in (
                    ("running sums and score", "refresh_ms"),
                    ("whole transaction (lock, sums, score; rolled back)", "transaction_ms"),
                    ("the old recount's reads alone: the provider's aggregate", "aggregate_ms"),
                    ("prior_mean()", "prior_ms"),
                )
            )
            print(f"  {label} (provider {w['provider']}, {w['reviews']:,} visible reviews): {figures}")
    peaks = [f"load {load['peak_mb']:.0f} MB"] if load else []
    if reviews:
        peaks.append(f"reviews {reviews['peak_mb']:.0f} MB")
    peaks += [f"API {api['peak_mb']:.0f} MB", f"floor {floor['peak_mb']:.0f} MB"]
    if write:
        peaks.append(f"write {write['peak_mb']:.0f} MB")
    print(f"peak RSS: {', '.join(peaks)}")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if load:
        print(f"target catalogue-load: {load['rows_per_s']:,.0f} rows/s (goal >= {LOAD_TARGET:,}) "
              f"{met(load['rows_per_s'] >= LOAD_TARGET)}")  # fmt: skip
    print(f"target catalogue-p95: {worst_p95[0]:.1f} ms, the slowest query's (\"{worst_p95[1]}\"; load average "
          f"{load_before[0]:.2f}/{load_after[0]:.2f}) (goal <= {P95_TARGET_MS:.0f} ms) "
          f"{met(worst_p95[0] <= P95_TARGET_MS)}")  # fmt: skip
    print(f"target catalogue-ratio: {worst_ratio[0]:.2f}x floor, the highest (\"{worst_ratio[1]}\") "
          f"(goal <= {RATIO_TARGET:.2f}x) {met(worst_ratio[0] <= RATIO_TARGET)}")  # fmt: skip
    if mismatches:
        for label in mismatches:
            a, f = api["queries"][label], floor["queries"][label]
            print(f"MISMATCH {label}: API count {a['count']} ids {a['ids'][:5]}…; "
                  f"floor count {f['count']} ids {f['ids'][:5]}…", file=sys.stderr)  # fmt: skip
        sys.exit("The API and the floor disagree: the benchmark is not measuring like for like.")
    if reviews and reviews["set_disagree"]:
        sys.exit("The set-based scores differ from ratings_refresh_all's.")


if __name__ == "__main__":
    main()

"""Caching of the public open statistics (docs/api.md, "Open statistics"), and bringing their
stored aggregates up to date from change marks.

Each statistic's answer is cached under a version key: `cached(name, compute)` reads the current
version of `name` and the answer stored under it; `bump(name)` starts a new version, so the next
read computes afresh. Why a version rather than deleting the answer: a reader that fetched the old
version before a change, and finishes computing after it, stores its answer under the old version,
which no one reads any more, so it cannot put a stale answer back.

Who bumps: a statistic whose stored aggregates are kept up to date by change marks (approval
times, spend) bumps when a read finds marks and brings the aggregates up to date, so a change is
seen on the very next read; one without (contribution review times) bumps from its model's save,
at once and again when the transaction commits. A version is a random token, so a cache that was
emptied or restarted can never hand back an answer stored under an earlier one. Answers also
expire after `TIMEOUT` seconds: a safety net for a change made without a bump (a raw SQL
correction), not the way changes are normally seen.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import QuerySet

T = TypeVar("T")

TIMEOUT = 300


def _version_key(name: str) -> str:
    return f"openstats:{name}:version"


def bump(name: str) -> None:
    """Start a new version of `name`: the next read computes its answer again."""
    cache.set(_version_key(name), uuid.uuid4().hex, None)


def bump_now_and_on_commit(name: str) -> None:
    """For a change saved in a transaction: bump at once (this connection already sees the change)
    and again once it commits (another reader may have cached the old answer under the new
    version in between)."""
    bump(name)
    transaction.on_commit(lambda: bump(name))


def version(name: str) -> str:
    """The current version of `name`'s answer: also the key of a page's cached fragment
    (`{% cache %}` in a template), so a page's rendered table is renewed with the answer."""
    current = cache.get(_version_key(name))
    if current is None:
        current = uuid.uuid4().hex
        if not cache.add(_version_key(name), current, None):
            current = cache.get(_version_key(name)) or current
    return current


def cached(name: str, compute: Callable[[], T]) -> T:
    """The cached answer of `name` for its current version, computed (and stored) if missing."""
    key = f"openstats:{name}:{version(name)}"
    answer = cache.get(key)
    if answer is None:
        answer = compute()
        cache.set(key, answer, TIMEOUT)
    return answer


def in_chunks(ids: Iterable[int], size: int = 2000) -> Iterator[list[int]]:
    """Ids in sorted chunks small enough for one `IN` list each."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


# The most change marks a read takes in itself. Reads are frequent, so marks rarely pile up past
# this; when they do (an upgrade, a mass correction), taking them in would hold one request for
# minutes, so the read answers from the stored figures and `<statistic>_stats_rebuild` takes
# them in (docs/architecture.md, "Open statistics").
INLINE_LIMIT = 5000


def lock(name: str, *, wait: bool = True) -> bool:
    """Hold `name`'s lock until the transaction ends (PostgreSQL advisory lock): one refresh of a
    statistic at a time, or two could each rewrite a month from what they saw and the later writer
    could leave the older figures. Without `wait`, False at once if someone else holds it. On
    SQLite a writer already holds the whole database."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"openstats:{name}"])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [f"openstats:{name}"])
        return cursor.fetchone()[0]


def refresh_from_marks(
    name: str, marks: QuerySet, fields: list[str], apply: Callable[[list[tuple]], None], *, limit: int | None = None
) -> bool:
    """Bring statistic `name`'s stored aggregates up to date: under its lock, hand every change
    mark so far (the `fields` of each) to `apply`, which rewrites what they touch, then delete
    exactly those marks and start a new cache version. Marks written by a transaction that commits
    meanwhile are not seen, so they stay for the next read. True if marks were taken in. The check
    for marks is the only query when there are none.

    With a `limit` (a read), give up rather than wait: when another refresh holds the lock (the
    reader answers from the figures as they stand; the refresh under way bumps the cache when it
    is done), or when more than `limit` marks are waiting (see `INLINE_LIMIT`)."""
    if not marks.exists():
        return False
    with transaction.atomic():
        if not lock(name, wait=limit is None):
            return False
        rows = list(
            marks.values_list("pk", *fields)[: limit + 1] if limit is not None else marks.values_list("pk", *fields)
        )
        if not rows or (limit is not None and len(rows) > limit):
            return False
        apply([row[1:] for row in rows])
        for chunk in in_chunks(row[0] for row in rows):
            marks.filter(pk__in=chunk).delete()
    bump(name)
    return True


def matches_full_rebuild(rebuild: Callable[[], None], published: Callable[[], T]) -> tuple[T, T]:
    """What is published now, and what a full rebuild from the source records would publish, the
    rebuild made in a transaction that is then rolled back: the check that the maintained
    aggregates have not drifted (`manage.py approval_stats_rebuild --check` and the like)."""
    with transaction.atomic():
        now = published()
        rebuild()
        fresh = published()
        transaction.set_rollback(True)
    return now, fresh


class RebuildCommand(BaseCommand):
    """`manage.py <statistic>_stats_rebuild [--check]`: work a statistic's stored aggregates out
    again from the source records (after an upgrade, to do up front what the first read would
    otherwise do; or to repair them). With `--check`, change nothing: compare what is published
    with what a full rebuild would publish, and exit 1 if they differ (for a scheduled check).
    Subclasses give `what` and `stats`, the module with `refresh`, `rebuild` and `published`."""

    what = ""
    stats = None

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Compare with a full rebuild; change nothing.")

    def handle(self, *args, check: bool, **options):
        if not check:
            self.stats.rebuild()
            self.stdout.write(f"The {self.what} statistics are rebuilt: {len(self.stats.published())} rows.")
            return
        self.stats.refresh()
        now, fresh = matches_full_rebuild(self.stats.rebuild, self.stats.published)
        if now != fresh:
            raise CommandError(
                f"The stored {self.what} statistics differ from a full rebuild ({len(now)} rows published, "
                f"{len(fresh)} rebuilt): rebuild them."
            )
        self.stdout.write(f"The stored {self.what} statistics match a full rebuild ({len(now)} rows).")

"""Real Celery workers on Redis, as subprocesses, for tests that kill them (issue 7).

Import the fixtures a test module needs explicitly:

    from tests.payments.worker_fixtures import celery_workers, redis_and_postgresql  # noqa: F401

- `redis_and_postgresql`: list it first, so the test is skipped before any other set-up.
- `celery_workers`: runs only with Redis (CELERY_BROKER_URL) and PostgreSQL (DATABASE_URL) —
  skipped otherwise, failed instead in CI (CI=true or CAIRN_REQUIRE_SERVICES=1). It needs a
  transactional test (the worker sees only committed rows) and gives a `CeleryWorkers`:
  `start(name)` runs `celery -A marketplace worker` (prefork, concurrency 2, no heartbeat, gossip,
  mingle or remote control) against the test's own database, in a process group of its own,
  logging to a file; `WorkerProcess.kill()` is SIGKILL for the whole group. Every worker is killed
  in the fixture's finalizer, whatever happened.
- Each test gets a queue of its own (`cairn-test-<hex>`) on the broker: this process sends the
  project's tasks there (`task.queue`), and the worker both consumes it and queues its own tasks
  there (`-- task.default_queue=<queue>` on its command line), so parallel runs (xdist, other
  checkouts) sharing the Redis never take each other's tasks. The queue, its bindings and the
  messages a killed worker left unacknowledged are deleted before and after the test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_SERVICES = os.environ.get("CI") == "true" or os.environ.get("CAIRN_REQUIRE_SERVICES") == "1"

if sys.platform.startswith("linux"):
    import ctypes

    _libc = ctypes.CDLL(None, use_errno=True)  # loaded here, not between fork and exec

    def _die_with_parent() -> None:
        """In the worker, before exec: SIGKILL it if this process dies without its finalizers
        (pytest itself killed), so no orphan keeps a connection to the test database."""
        _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

else:  # pragma: no cover
    _die_with_parent = None


def require_redis_and_postgresql() -> None:
    """Skip (or, in CI, fail) unless the broker is a reachable Redis and the database PostgreSQL:
    a worker in another process cannot share an eager in-memory broker or a SQLite test database."""
    problems = []
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith(("redis://", "rediss://")):
        problems.append(f"CELERY_BROKER_URL is {broker!r}, not Redis (tasks run eagerly)")
    else:
        import redis

        try:
            redis.Redis.from_url(broker, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis at {broker} does not answer ({exc})")
    if connection.vendor != "postgresql":
        problems.append(f"the database is {connection.vendor}, not PostgreSQL (set DATABASE_URL)")
    if problems:
        message = "Needs a real Celery worker on Redis and PostgreSQL: " + "; ".join(problems) + "."
        if REQUIRE_SERVICES:
            pytest.fail("CI must provide them. " + message)
        pytest.skip(message)


def subprocess_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's `test_…` one), for a subprocess."""
    s = connection.settings_dict
    auth = quote(s.get("USER") or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{quote(s['NAME'], safe='')}"


def purge_queue(broker_url: str, queue: str) -> int:
    """Delete the queue's lists, bindings and every unacknowledged message routed to it (a killed
    worker's reserved tasks, which the Redis transport would otherwise redeliver only after its
    visibility timeout, an hour). Other queues' keys and messages are left alone. Returns how many
    keys and unacknowledged messages were removed."""
    import redis

    client = redis.Redis.from_url(broker_url, socket_connect_timeout=2)
    removed = 0
    keys = list(client.scan_iter(match=f"*{queue}*", count=1000))
    if keys:
        removed += client.delete(*keys)
    stale = []
    for tag, raw in client.hscan_iter("unacked", count=1000):
        with contextlib.suppress(ValueError, TypeError):
            _message, exchange, routing_key = json.loads(raw)
            if queue in (exchange, routing_key):
                stale.append(tag)
    if stale:
        removed += client.hdel("unacked", *stale)
        client.zrem("unacked_index", *stale)
    return removed


@dataclasses.dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for_log(self, pattern: str, timeout: float) -> re.Match:
        """The first match of `pattern` in the worker's log; fails if the worker dies first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.log())
            if match:
                return match
            if not self.alive():
                pytest.fail(f"Worker {self.name} exited ({self.process.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Worker {self.name}: no {pattern!r} in its log after {timeout}s:\n{self.tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL for the worker and its pool processes (its own process group), then reap it."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Pool children are in the same group; make sure none outlives its parent.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


class CeleryWorkers:
    def __init__(self, *, queue: str, broker_url: str, database_url: str, log_dir: Path):
        self.queue = queue
        self.broker_url = broker_url
        self.database_url = database_url
        self.log_dir = log_dir
        self.started: list[WorkerProcess] = []

    def start(self, name: str, *, concurrency: int = 2, **env: str) -> WorkerProcess:
        """Start `celery -A marketplace worker` with the base settings (real, not eager, task
        sending inside the worker), this test's database and queue, the current environment
        (the Stripe fake's settings, when `stripe_fake` is in use) and `env` on top."""
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "marketplace.settings.base",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url,
            "DEBUG": "false",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        environment.pop("CELERY_RESULT_BACKEND", None)
        log_path = self.log_dir / f"worker-{name}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "marketplace", "worker",
            "--pool", "prefork", "--concurrency", str(concurrency),
            "--without-heartbeat", "--without-gossip", "--without-mingle",
            "--loglevel", "INFO", "--hostname", f"{self.queue}-{name}@%h", "--queues", self.queue,
            "--", f"task.default_queue={self.queue}", "worker.enable_remote_control=false",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603  (our own command line)
                command,
                cwd=ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # one prctl call: safe despite the fake's threads
            )
        worker = WorkerProcess(name=name, process=process, log_path=log_path)
        self.started.append(worker)
        return worker

    def kill_all(self) -> None:
        for worker in self.started:
            with contextlib.suppress(Exception):
                worker.kill()


@pytest.fixture
def redis_and_postgresql():
    """Skip (fail in CI) before any set-up unless Redis and PostgreSQL are there: list it first."""
    require_redis_and_postgresql()


@pytest.fixture
def celery_workers(redis_and_postgresql, transactional_db, tmp_path, monkeypatch):
    from marketplace.celery import app

    app.loader.import_default_modules()
    queue = f"cairn-test-{uuid.uuid4().hex[:12]}"
    broker_url = app.conf.broker_url or settings.CELERY_BROKER_URL
    purge_queue(broker_url, queue)
    # This process sends for real (the test settings make Celery eager) and to the test's queue.
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    for task in list(app.tasks.values()):
        if not task.name.startswith("celery."):
            monkeypatch.setattr(task, "queue", queue, raising=False)
            monkeypatch.setattr(task, "_exec_options", None)
    workers = CeleryWorkers(
        queue=queue, broker_url=broker_url, database_url=subprocess_database_url(), log_dir=tmp_path
    )
    try:
        yield workers
    finally:
        app.conf.task_always_eager = eager
        workers.kill_all()
        purge_queue(broker_url, queue)

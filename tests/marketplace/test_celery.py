"""Background jobs: eager without a broker, real through Redis when CELERY_BROKER_URL names one."""

import datetime
import os
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from marketplace.celery import app
from marketplace.tasks import clear_expired_sessions

REQUIRE_SERVICES = os.environ.get("CI") == "true" or os.environ.get("CAIRN_REQUIRE_SERVICES") == "1"


def _sessions(expired: int, live: int) -> None:
    now = timezone.now()
    for i in range(expired):
        Session.objects.create(
            session_key=f"old{i:030d}", session_data="", expire_date=now - datetime.timedelta(days=1)
        )
    for i in range(live):
        Session.objects.create(
            session_key=f"new{i:030d}", session_data="", expire_date=now + datetime.timedelta(days=1)
        )


@pytest.mark.django_db
def test_clear_expired_sessions_deletes_only_expired_ones():
    _sessions(expired=3, live=2)
    assert clear_expired_sessions.delay().get() == 3
    assert Session.objects.count() == 2


def test_beat_schedule_names_only_registered_tasks():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_task_travels_through_the_real_broker_to_a_worker():
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("memory://"):
        if REQUIRE_SERVICES:
            pytest.fail("CI must set CELERY_BROKER_URL to a real broker (Redis).")
        pytest.skip("No CELERY_BROKER_URL: tasks run eagerly here.")
    from celery.contrib.testing.worker import start_worker

    _sessions(expired=2, live=1)
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            clear_expired_sessions.delay()
            deadline = time.monotonic() + 20
            while Session.objects.count() != 1 and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        app.conf.task_always_eager = True
    assert Session.objects.count() == 1

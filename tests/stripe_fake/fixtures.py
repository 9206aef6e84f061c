"""Pytest fixtures for the fake Stripe server. Registered from tests/conftest.py with
`pytest_plugins = ["tests.stripe_fake.fixtures"]`.

- `stripe_fake_server` (session): the running `StripeFake`, one per test session (per xdist worker).
  Depend on it from session-scoped fixtures that start other processes (a Celery worker): its
  `url` is fixed for the session.
- `stripe_fake` (function): the same fake, `reset()` before and after the test, with Django's
  settings and the environment (inherited by subprocesses started during the test) pointing at it:
  STRIPE_API_BASE, STRIPE_SECRET_KEY="sk_test_cairn", STRIPE_WEBHOOK_SECRET="whsec_test_cairn",
  STRIPE_TIMEOUT_SECONDS=1.0 (so a "timeout" fault costs one second). Fails the test if the fake
  itself crashed while serving it.
- `stripe_fast_retries` (function): the stripe client's own retry back-off cut from 0.5–5 s to
  ~10 ms, in this process only.
"""

from __future__ import annotations

import pytest

from tests.stripe_fake.server import TEST_SECRET_KEY, TEST_WEBHOOK_SECRET, StripeFake

CLIENT_TIMEOUT_SECONDS = 1.0


@pytest.fixture(scope="session")
def stripe_fake_server():
    fake = StripeFake().start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_fake(stripe_fake_server, settings, monkeypatch):
    fake = stripe_fake_server
    fake.reset()
    values = {
        "STRIPE_API_BASE": fake.url,
        "STRIPE_SECRET_KEY": TEST_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": TEST_WEBHOOK_SECRET,
        "STRIPE_TIMEOUT_SECONDS": CLIENT_TIMEOUT_SECONDS,
    }
    for name, value in values.items():
        setattr(settings, name, value)
        monkeypatch.setenv(name, str(value))
    yield fake
    errors = fake.errors
    fake.reset()
    if errors:
        pytest.fail("The Stripe fake crashed while serving this test:\n" + "\n".join(errors))


@pytest.fixture
def stripe_fast_retries(monkeypatch):
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.05)

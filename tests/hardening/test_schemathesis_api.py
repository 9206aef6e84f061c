"""Property-based test of the whole API against its own OpenAPI schema (Schemathesis).

For a few roles, every operation of `/api/v1/schema/` gets a bounded number of generated
requests — valid ones and deliberately invalid ones (wrong types, missing fields, out-of-range
numbers) — sent in-process to the WSGI app (no network). The test fails on any 5xx, and on a
response whose status code or body the schema does not describe.

The number of examples per operation and role is `CAIRN_SCHEMATHESIS_EXAMPLES` (default 2, which
keeps the test under two minutes in CI on PostgreSQL); a bigger run by hand:

    CAIRN_SCHEMATHESIS_EXAMPLES=50 .venv/bin/python -m pytest -q -p no:cacheprovider \
        tests/hardening/test_schemathesis_api.py
"""

# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

from __future__ import annotations

import json
import os
from collections import Counter
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role
from tests.careplans.conftest import make_budget, make_plan, make_provider, make_service  # noqa: F401
from tests.factories import PASSWORD

EXAMPLES = int(os.environ.get("CAIRN_SCHEMATHESIS_EXAMPLES", "2"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# The Stripe webhook answers only signed requests (its own tests cover it); generated bodies can
# never be signed, so every one is a 400 — nothing for the property test to learn.
SKIPPED_PATHS = {"/api/v1/webhooks/stripe/"}


@pytest.fixture
def world(client_user, social_worker, team_manager, caseload, provider_user, finance_user, case_manager,
          admin_person, make_budget, make_plan, make_service):  # fmt: skip
    """A little of everything, so generated ids sometimes name real objects of each kind."""
    budget = make_budget(client_user, "10000.00")
    service = make_service("Home visits", "20.00")
    make_plan(
        social_worker,
        budget,
        lines=[
            {
                "service": service.pk,
                "units_per_week": "2",
                "start": budget.period_start.isoformat(),
                "end": budget.period_end.isoformat(),
            }
        ],
        risks="Falls at night.",
    )
    return {
        Role.CLIENT: client_user,
        Role.SOCIAL_WORKER: social_worker,
        Role.PROVIDER: provider_user,
        Role.FINANCE: finance_user,
        Role.ADMIN: admin_person,
    }


@pytest.fixture(scope="module")
def api_schema():
    """The schema the server publishes at /api/v1/schema/, driving the WSGI app in-process."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(generated)))
    schema.app = get_wsgi_application()
    return schema


@contextmanager
def same_connection():
    """Keep the test's database connection (and its rolled-back transaction) across requests, as
    Django's own test client does: the WSGI handler would otherwise close it at each request (on
    PostgreSQL; SQLite's in-memory test database ignores the close). Django's test client connects
    the handlers again after each of its own requests, so this wraps only the WSGI calls."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _operations(schema):
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in SKIPPED_PATHS:
            yield operation


def _exercise(operation, headers: dict[str, str], mode: GenerationMode, sent: Counter) -> None:
    """Send the generated requests for one operation and mode, counting them in `sent`."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        sent["requests"] += 1
        response = case.call(headers=headers)
        checks = CHECKS if mode == GenerationMode.POSITIVE else [not_a_server_error]
        case.validate_response(response, checks=checks, headers=headers)

    run()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SOCIAL_WORKER, Role.PROVIDER, Role.FINANCE, Role.ADMIN])
def test_no_server_error_and_responses_match_the_schema(role, world, api_schema):
    signed_in = APIClient().post(
        "/api/v1/auth/token/", {"username": world[role].username, "password": PASSWORD}, format="json"
    )
    headers = {"Authorization": f"Token {signed_in.json()['token']}"}
    failures = []
    sent: Counter = Counter()
    for operation in _operations(api_schema):
        sent["operations"] += 1
        # An operation with no parameters and no body has nothing to get wrong on purpose.
        has_input = any(list(part) for part in (operation.path_parameters, operation.query, operation.body))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_input else (GenerationMode.POSITIVE,):
            try:
                with same_connection():
                    _exercise(operation, headers, mode, sent)
            except Unsatisfiable:
                continue  # nothing can be invalid about it (a path parameter any text may fill)
            except (Exception, BaseExceptionGroup) as exc:  # collect them all: one run shows every broken operation
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {exc}"[:3000])
    # Shown with `-s`: what a run covered, for the record of a wide run.
    print(f"\n{role}: {sent['operations']} operations, {sent['requests']} requests, {len(failures)} failing")
    assert not failures, "\n\n".join(failures)

"""Fixtures for the workflow tests: the care plan fixtures, plus a submitted plan ready to review."""

import datetime

import pytest

from tests.careplans.conftest import (  # noqa: F401  (fixtures re-exported for these tests)
    budget,
    make_budget,
    make_plan,
    make_plan_alongside,
    make_provider,
    make_service,
    respite,
    visits,
)

CHECKLIST = {"outcomes": True, "costs": True, "risks": True, "management": True, "contacts": True}


@pytest.fixture
def checklist():
    return dict(CHECKLIST)


@pytest.fixture
def draft_plan(make_plan, client_user, budget, visits):  # noqa: F811  (pytest fixtures by name)
    """Ruth's draft plan: 2 visits a week for 4 weeks (£196.00), drafted by Ruth."""
    start = budget.period_start
    return make_plan(
        client_user,
        budget,
        lines=[{"service": visits.pk, "units_per_week": "2", "start": start, "end": start + datetime.timedelta(27)}],
        risks="Falls: a pendant alarm",
        contacts="My daughter",
    )

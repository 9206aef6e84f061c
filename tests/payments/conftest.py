"""Fixtures for the invoice and payment tests: the same as the workflow tests' (the care plan
fixtures, the sign-off checklist and a draft plan), shared rather than copied."""

from tests.approvals.conftest import (  # noqa: F401  (fixtures re-exported for these tests)
    CHECKLIST,
    budget,
    checklist,
    draft_plan,
    make_budget,
    make_plan,
    make_provider,
    make_service,
    respite,
    visits,
)

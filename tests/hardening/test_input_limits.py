"""Every list and text of a care plan is bounded (docs/api.md, "Limits"), on the API and the pages,
and the largest plan the bounds allow still renders its PDF and pages quickly."""

# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

from __future__ import annotations

import json
import time

import pytest

from careplans.models import (
    OUTCOME_MAX_LENGTH,
    PLAN_MAX_LINES,
    PLAN_MAX_OUTCOMES,
    PLAN_TEXT_MAX_LENGTH,
    CarePlan,
)
from careplans.pdf import plan_pdf
from careplans.selectors import plan_history_rows
from tests.careplans.conftest import budget, make_budget, make_plan, make_provider, make_service, visits  # noqa: F401

# What the largest plan may take, far above what it does take (see the measurement in the test), so
# a loaded CI machine does not fail it; the unbounded plans of the past took 53-60 s.
PDF_SECONDS = 10
PAGE_SECONDS = 10


def weekly(service, budget) -> dict:
    return {
        "service": service.pk,
        "units_per_week": "2",
        "start": budget.period_start.isoformat(),
        "end": budget.period_end.isoformat(),
    }


def largest(budget, service) -> dict:
    word = "Independence "
    return {
        "budget": budget.pk,
        "outcomes": [(f"{i} " + word * 100)[:OUTCOME_MAX_LENGTH] for i in range(PLAN_MAX_OUTCOMES)],
        "lines": [weekly(service, budget)] * PLAN_MAX_LINES,
        "risks": ("Falls at night. " * 400)[:PLAN_TEXT_MAX_LENGTH],
        "contacts": ("Call Sam on 01632 960001. " * 300)[:PLAN_TEXT_MAX_LENGTH],
        "contingency_note": ("If Sam is away, call the duty team. " * 200)[:PLAN_TEXT_MAX_LENGTH],
    }


@pytest.fixture
def rich_budget(make_budget, client_user, caseload):
    return make_budget(client_user, "9000000.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("outcomes", ["Cook"] * (PLAN_MAX_OUTCOMES + 1)),
        ("outcomes", ["x" * (OUTCOME_MAX_LENGTH + 1)]),
        ("outcomes", [{"text": "x" * (OUTCOME_MAX_LENGTH + 1)}]),
        ("risks", "x" * (PLAN_TEXT_MAX_LENGTH + 1)),
        ("contacts", "x" * (PLAN_TEXT_MAX_LENGTH + 1)),
        ("contingency_note", "x" * (PLAN_TEXT_MAX_LENGTH + 1)),
        ("lines", [{"service": 1, "description": "x" * 1001}]),
        ("lines", [{"service": 1, "note": "not a line's field"}]),
    ],
)
def test_a_plan_over_a_limit_is_a_400_naming_the_field_and_nothing_is_written(
    field, value, api_as, client_user, budget
):
    response = api_as(client_user).post(
        "/api/v1/plans/", {"budget": budget.pk, "outcomes": ["Cook"], field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not CarePlan.objects.exists()


def test_more_lines_than_a_plan_may_have_is_a_400(api_as, client_user, rich_budget, visits):
    body = largest(rich_budget, visits)
    body["lines"] = body["lines"] + [weekly(visits, rich_budget)]
    response = api_as(client_user).post("/api/v1/plans/", body, format="json")
    assert response.status_code == 400
    assert "lines" in response.json()


def test_a_patch_adding_a_line_past_the_limit_is_a_400(api_as, client_user, rich_budget, visits):
    plan = api_as(client_user).post("/api/v1/plans/", largest(rich_budget, visits), format="json").json()
    lines = [{"id": line["id"]} for line in plan["lines"]] + [weekly(visits, rich_budget)]
    response = api_as(client_user).patch(f"/api/v1/plans/{plan['id']}/", {"lines": lines}, format="json")
    assert response.status_code == 400
    assert len(CarePlan.objects.get(pk=plan["id"]).lines.all()) == PLAN_MAX_LINES


def test_a_request_body_over_the_cap_is_a_400_before_it_is_parsed(api_as, client_user, budget, settings):
    body = json.dumps({"budget": budget.pk, "outcomes": ["Cook"], "risks": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = api_as(client_user).generic("POST", "/api/v1/plans/", body, content_type="application/json")
    assert response.status_code == 400
    assert "too large" in response.json()["detail"]
    assert not CarePlan.objects.exists()


@pytest.mark.parametrize("field", ["risks", "contacts", "contingency_note"])
def test_the_plan_details_page_refuses_text_over_the_limit(field, web_as, client_user, budget, make_plan):
    plan = make_plan(client_user, budget)
    data = {"outcomes": "Cook", "risks": "", "contacts": "", "contingency_note": ""}
    data[field] = "x" * (PLAN_TEXT_MAX_LENGTH + 1)
    response = web_as(client_user).post(f"/plans/{plan.pk}/details/", data)
    assert response.status_code in (200, 400)
    plan.refresh_from_db()
    assert getattr(plan, field) == ""


def test_the_plan_details_page_refuses_more_outcomes_than_a_plan_may_have(web_as, client_user, budget, make_plan):
    plan = make_plan(client_user, budget)
    outcomes = "\n".join(f"Outcome {i}" for i in range(PLAN_MAX_OUTCOMES + 1))
    response = web_as(client_user).post(
        f"/plans/{plan.pk}/details/", {"outcomes": outcomes, "risks": "", "contacts": "", "contingency_note": ""}
    )
    assert response.status_code in (200, 400)
    assert plan.outcomes.count() == 1


def test_the_largest_plan_allowed_renders_its_pdf_and_pages_quickly(
    api_as, web_as, client_user, social_worker, rich_budget, visits
):
    response = api_as(client_user).post("/api/v1/plans/", largest(rich_budget, visits), format="json")
    assert response.status_code == 201, response.content[:500]
    plan = CarePlan.objects.get(pk=response.json()["id"])
    assert (plan.outcomes.count(), plan.lines.count()) == (PLAN_MAX_OUTCOMES, PLAN_MAX_LINES)

    started = time.perf_counter()
    pdf = plan_pdf(plan, history=plan_history_rows(plan))
    pdf_seconds = time.perf_counter() - started
    assert pdf.startswith(b"%PDF-")

    started = time.perf_counter()
    page = web_as(social_worker).get(f"/plans/{plan.pk}/")
    page_seconds = time.perf_counter() - started
    assert page.status_code == 200

    print(f"largest plan: PDF {len(pdf):,} bytes in {pdf_seconds:.2f} s; staff page in {page_seconds:.2f} s")
    assert pdf_seconds < PDF_SECONDS
    assert page_seconds < PAGE_SECONDS

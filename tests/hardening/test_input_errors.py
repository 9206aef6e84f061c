"""Unchecked input is a 400 or 404 with a message, never a 500, and changes nothing.

Each case here was a 500 (NUL characters only on PostgreSQL, which cannot store them in text).
"""

# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

from __future__ import annotations

import json

import pytest
from django.test import Client

from careplans.models import CarePlan, PlanOutcome
from providers.models import ServiceOffering
from tests.careplans.conftest import budget, make_budget, make_plan, make_provider, make_service, visits  # noqa: F401


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def post_raw(client, path: str, body: str):
    return client.generic("POST", path, body.encode("utf-8", "surrogatepass"), content_type="application/json")


def plan_body(budget, **extra) -> dict:
    return {"budget": budget.pk, "outcomes": ["Get out to the allotment"], **extra}


# --- Nested JSON -------------------------------------------------------------------------


def test_deeply_nested_json_is_a_400_when_signing_in(api):
    response = post_raw(api, "/api/v1/auth/token/", '{"username": ' + deep(1000) + ', "password": "x"}')
    assert response.status_code == 400
    assert "nested too deeply" in json.dumps(response.json())


def test_deeply_nested_json_is_a_400_with_the_field_named_and_no_plan_written(api_as, client_user, budget):
    body = json.dumps(plan_body(budget))[:-1] + ', "outcomes": [' + deep(500) + "]}"
    response = post_raw(api_as(client_user), "/api/v1/plans/", body)
    assert response.status_code == 400
    assert "outcomes" in response.json()
    assert not CarePlan.objects.exists()


def test_nesting_beyond_the_parsers_recursion_limit_is_a_400(api_as, client_user, budget):
    response = post_raw(api_as(client_user), "/api/v1/plans/", deep(100_000))
    assert response.status_code == 400


# --- Ids in paths and query strings ------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/plans/abc/",
        "/api/v1/plans/%C2%B2/",  # ² is a digit to str.isdigit, not to int()
        "/api/v1/plans/abc/pdf/",
        "/api/v1/budgets/abc/",
        "/api/v1/budgets/x/ledger/",
        "/api/v1/assessments/%0E/",
        "/api/v1/invoices/abc/",
        "/api/v1/invoices/abc/pdf/",
        "/api/v1/payments/abc/",
        "/api/v1/payment-runs/abc/",
        "/api/v1/providers/abc/",
        "/api/v1/services/abc/",
        "/api/v1/financial-assessments/abc/",
        "/api/v1/charging-policies/abc/",
        "/api/v1/users/abc/",
        "/api/v1/plans/99999999999999999999/",
        "/api/v1/budgets/99999999999999999999/",
        "/api/v1/services/99999999999999999999/",
    ],
)
def test_an_id_that_is_not_a_whole_number_is_a_404(path, api_as, admin_person):
    response = api_as(admin_person).get(path)
    assert response.status_code == 404, response.content[:300]


def test_an_id_too_long_for_the_database_in_a_payments_path_is_a_404(api_as, client_user):
    response = api_as(client_user).post("/api/v1/budgets/99999999999999999999/direct-payment/spending/1/", {})
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["²", "abc", "1.5", "99999999999999999999"])
def test_a_payments_filter_that_is_not_an_id_is_a_400_naming_it(value, api_as, finance_user):
    response = api_as(finance_user).get("/api/v1/payments/", {"provider": value})
    assert response.status_code == 400
    assert "provider" in response.json()


# --- NUL characters and lone surrogates ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "param"),
    [("/api/v1/services/", "q"), ("/api/v1/services/", "postcode_district"), ("/api/v1/providers/", "q")],
)
def test_a_nul_character_in_the_query_string_is_a_400_naming_the_parameter(path, param, api_as, case_manager):
    response = api_as(case_manager).get(f"{path}?{param}=care%00home")
    assert response.status_code == 400
    assert response.json() == {param: ["Must not contain NUL (%00) characters."]}


def test_a_nul_character_in_a_page_address_is_a_400(client: Client, case_manager):
    client.force_login(case_manager)
    assert client.get("/services/?q=care%00home").status_code == 400


@pytest.mark.parametrize(
    "extra",
    [
        {"risks": "Falls\u0000 at night"},
        {"outcomes": ["Get out\u0000"]},
        {"outcomes": [{"text": "Cook", "domain": "nutrition\u0000"}]},
        {"lines": [{"service": 1, "description": "A\u0000"}]},
    ],
)
def test_a_nul_character_in_plan_text_is_a_400_and_nothing_is_written(extra, api_as, client_user, budget):
    response = api_as(client_user).post("/api/v1/plans/", plan_body(budget, **extra), format="json")
    assert response.status_code == 400
    assert set(response.json()) == set(extra)
    assert not CarePlan.objects.exists()


@pytest.mark.parametrize("field", ["risks", "outcomes", "contacts"])
def test_a_lone_surrogate_is_a_400_and_nothing_is_written(field, api_as, client_user, budget):
    value = '["Cook \\ud800"]' if field == "outcomes" else '"Cook \\udfff"'
    body = json.dumps(plan_body(budget))[:-1] + f', "{field}": {value}}}'
    response = post_raw(api_as(client_user), "/api/v1/plans/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert not CarePlan.objects.exists()


# --- Lists where ids belong, and numbers too large --------------------------------------


@pytest.mark.parametrize("outcomes", [[5], [None], [["nested"]], [{"text": 5}], [{"text": "Cook", "domain": []}]])
def test_an_outcome_that_is_not_text_is_a_400_naming_outcomes(outcomes, api_as, client_user, budget):
    response = api_as(client_user).post("/api/v1/plans/", plan_body(budget, outcomes=outcomes), format="json")
    assert response.status_code == 400
    assert "outcomes" in response.json()
    assert not PlanOutcome.objects.exists()


@pytest.mark.parametrize("line", [5, [1], {"service": [1]}, {"service": {"id": 1}}, {"units_per_week": [2]}])
def test_a_line_of_the_wrong_shape_is_a_400_naming_lines(line, api_as, client_user, budget):
    response = api_as(client_user).post("/api/v1/plans/", plan_body(budget, lines=[line]), format="json")
    assert response.status_code == 400
    assert "lines" in response.json()
    assert not CarePlan.objects.exists()


@pytest.mark.parametrize("value", [[1], 99999999999999999999, "1e999999"])
def test_a_budget_that_is_not_an_id_is_a_400(value, api_as, client_user, budget):
    response = api_as(client_user).post("/api/v1/plans/", {**plan_body(budget), "budget": value}, format="json")
    assert response.status_code == 400
    assert "budget" in response.json()


@pytest.mark.parametrize("amount", ["999999999999.99", "100000.00", "1e999999"])
def test_a_service_price_beyond_what_a_plan_can_cost_is_a_400(amount, api_as, provider_user):
    response = api_as(provider_user).post(
        "/api/v1/services/",
        {"title": "Home visits", "category": "personal_care", "unit": "hour", "unit_price": {"amount": amount}},
        format="json",
    )
    assert response.status_code == 400
    assert "unit_price" in response.json()
    assert not ServiceOffering.objects.exists()


def test_the_largest_service_price_is_accepted_and_a_plan_can_cost_it(api_as, provider_user):
    response = api_as(provider_user).post(
        "/api/v1/services/",
        {"title": "Home visits", "category": "personal_care", "unit": "hour", "unit_price": {"amount": "99999.99"}},
        format="json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("param", "value"), [("max_price", "1e999999"), ("max_price", "Infinity"), ("min_rating", "6")]
)
def test_a_catalogue_filter_beyond_any_price_or_rating_is_a_400(param, value, api_as, client_user, visits):
    response = api_as(client_user).get("/api/v1/services/", {param: value})
    assert response.status_code == 400
    assert param in response.json()


def test_a_catalogue_price_filter_at_the_largest_price_finds_the_service(api_as, client_user, visits):
    response = api_as(client_user).get("/api/v1/services/", {"max_price": "9999999999.99"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [visits.pk]


def test_a_statement_year_of_twenty_digits_is_a_404(web_as, client_user, budget):
    response = web_as(client_user).get(f"/budgets/{budget.pk}/statements/99999999999999999999/1.pdf")
    assert response.status_code == 404

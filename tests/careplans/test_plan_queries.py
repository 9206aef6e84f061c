"""Reading a plan costs the same number of queries however many lines it has."""

import datetime

import pytest

pytestmark = pytest.mark.django_db


def weekly_line(service, budget) -> dict:
    start = budget.period_start
    return {
        "service": service.pk,
        "units_per_week": "1",
        "start": start.isoformat(),
        "end": (start + datetime.timedelta(days=6)).isoformat(),
    }


def test_reading_a_plan_with_30_lines_uses_no_more_queries_than_with_1(
    api_as, client_user, budget, make_budget, make_plan, make_service, django_assert_max_num_queries
):
    services = [make_service(f"Service {i}", "24.50") for i in range(30)]  # 30 providers too
    small = make_plan(client_user, budget, lines=[weekly_line(services[0], budget)])
    other = make_budget(client_user)  # a budget has one plan in progress
    large = make_plan(client_user, other, lines=[weekly_line(s, other) for s in services])
    api = api_as(client_user)
    api.get(f"/api/v1/plans/{small.pk}/")  # warm the token and content-type caches
    with django_assert_max_num_queries(20) as one:
        assert len(api.get(f"/api/v1/plans/{small.pk}/").json()["lines"]) == 1
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(api.get(f"/api/v1/plans/{large.pk}/").json()["lines"]) == 30


def test_the_pdf_query_count_does_not_grow_with_lines(
    api_as, client_user, budget, make_budget, make_plan, make_service, django_assert_max_num_queries
):
    services = [make_service(f"Service {i}", "24.50") for i in range(30)]
    small = make_plan(client_user, budget, lines=[weekly_line(services[0], budget)])
    other = make_budget(client_user)  # a budget has one plan in progress
    large = make_plan(client_user, other, lines=[weekly_line(s, other) for s in services])
    api = api_as(client_user)
    api.get(f"/api/v1/plans/{small.pk}/pdf/")
    with django_assert_max_num_queries(30) as one:
        assert api.get(f"/api/v1/plans/{small.pk}/pdf/").status_code == 200
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert api.get(f"/api/v1/plans/{large.pk}/pdf/").status_code == 200

"""The open approval-time statistics (PRODUCT.md §9): median and nearest-rank 90th percentile per
stage and month, counts under 5 suppressed, as JSON, CSV and a public page.

Plans are driven through the real services; the django-fsm-log rows they write are then moved to
known times, so every duration is exact."""

import csv
import datetime
import io

import pytest
from django_fsm_log.models import StateLog

from approvals import services
from budgets.models import Assessment
from tests import factories

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
URL = "/api/v1/stats/approval-times/"
PAGE = "/statistics/approval-times/"
CSV_HEADER = ["stage", "stage_label", "month", "count", "median_days", "p90_days", "suppressed"]


@pytest.fixture
def approved_plan_at(make_budget, make_plan, visits, social_worker, team, checklist):
    """`approved_plan_at(submitted, waiting_days, review_days, assessment_days=None)`: a new client
    on Sam's caseload whose plan is submitted, taken into review by Sam and approved by Sam; its
    history rows are then set to `submitted`, + `waiting_days`, + `review_days`. The assessment
    is marked completed `assessment_days` before the approval."""

    def make(submitted, waiting_days, review_days, assessment_days=None):
        person = factories.ClientFactory()
        factories.CaseloadAssignmentFactory(social_worker=social_worker, client=person)
        budget = make_budget(person, "5000.00")
        start = budget.period_start
        plan = make_plan(
            person,
            budget,
            lines=[{"service": visits.pk, "units_per_week": "1", "start": start, "end": start + datetime.timedelta(6)}],
        )
        services.plan_submit(actor=person, plan=plan)
        services.plan_start_review(actor=social_worker, plan=plan)
        services.plan_approve(actor=social_worker, plan=plan, checklist=checklist)
        logs = list(StateLog.objects.for_(plan).order_by("id"))
        assert [log.state for log in logs] == ["submitted", "in_review", "approved"]
        started = submitted + datetime.timedelta(days=waiting_days)
        approved = started + datetime.timedelta(days=review_days)
        for log, at in zip(logs, [submitted, started, approved], strict=True):
            StateLog.objects.filter(pk=log.pk).update(timestamp=at)
        completed = None if assessment_days is None else approved - datetime.timedelta(days=assessment_days)
        Assessment.objects.filter(pk=budget.assessment_id).update(completed_at=completed)
        return plan

    return make


def _rows(api, month=None):
    response = api.get(URL)
    assert response.status_code == 200
    rows = response.json()["results"]
    return {row["stage"]: row for row in rows if month is None or row["month"] == month}


MARCH = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WAITING = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
REVIEW = [1, 1, 1, 2, 2, 2, 3, 3, 4, 7]
ASSESSMENT = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


@pytest.fixture
def ten_plans_in_march(approved_plan_at):
    # Listed out of order: the statistics sort the values themselves.
    order = [9, 0, 4, 2, 7, 1, 8, 3, 6, 5]
    return [approved_plan_at(MARCH, WAITING[i], REVIEW[i], ASSESSMENT[i]) for i in order]


def test_the_approval_times_api_is_public(api):
    response = api.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["suppressed_below"] == 5
    assert body["results"] == []
    assert set(body["stages"]) == {
        "waiting_for_review",
        "review",
        "senior_approval",
        "submission_to_decision",
        "assessment_to_approved_plan",
    }


def test_median_and_nearest_rank_90th_percentile_per_stage_for_one_month(api, ten_plans_in_march):
    rows = _rows(api)

    assert set(rows) == {"waiting_for_review", "review", "submission_to_decision", "assessment_to_approved_plan"}
    assert {row["month"] for row in rows.values()} == {"2025-03"}
    # 1..10 days: median 5.5; nearest rank ceil(0.9 × 10) = 9th value = 9 (an interpolated p90 would be 9.1).
    assert rows["waiting_for_review"] == {
        "stage": "waiting_for_review",
        "stage_label": "From submission to the start of review",
        "month": "2025-03",
        "count": 10,
        "median_days": 5.5,
        "p90_days": 9.0,
        "suppressed": False,
    }
    # 1,1,1,2,2,2,3,3,4,7: median 2, 9th value 4.
    assert (rows["review"]["count"], rows["review"]["median_days"], rows["review"]["p90_days"]) == (10, 2.0, 4.0)
    # The sums 2,3,4,6,7,8,10,11,13,17: median 7.5, 9th value 13.
    decision = rows["submission_to_decision"]
    assert (decision["count"], decision["median_days"], decision["p90_days"]) == (10, 7.5, 13.0)
    assert all(row["suppressed"] is False for row in rows.values())


def test_assessment_to_approved_plan_counts_from_the_assessments_completion(api, ten_plans_in_march):
    row = _rows(api)["assessment_to_approved_plan"]

    assert row["stage_label"] == "From completed assessment to first approved plan"
    assert (row["month"], row["count"], row["median_days"], row["p90_days"]) == ("2025-03", 10, 55.0, 90.0)


def test_plans_without_a_completed_assessment_date_are_left_out_of_that_stage(api, approved_plan_at):
    for i in range(5):
        approved_plan_at(MARCH, 1 + i, 1)

    rows = _rows(api)

    assert "assessment_to_approved_plan" not in rows
    assert rows["waiting_for_review"]["count"] == 5


def test_exactly_five_plans_are_shown_with_fractional_days(api, approved_plan_at):
    # Waiting 12, 36, 60, 84 and 108 hours: 0.5 to 4.5 days.
    for hours in [60, 12, 108, 36, 84]:
        approved_plan_at(MARCH, hours / 24, 0.5)

    rows = _rows(api)

    waiting = rows["waiting_for_review"]
    assert (waiting["count"], waiting["median_days"], waiting["p90_days"]) == (5, 2.5, 4.5)
    assert waiting["suppressed"] is False
    review = rows["review"]
    assert (review["count"], review["median_days"], review["p90_days"]) == (5, 0.5, 0.5)


@pytest.fixture
def four_plans_in_april(approved_plan_at):
    april = datetime.datetime(2025, 4, 2, 12, 0, tzinfo=UTC)
    return [approved_plan_at(april, 1 + i, 1, 10) for i in range(4)]


def test_a_month_with_four_plans_is_suppressed_in_json(api, ten_plans_in_march, four_plans_in_april):
    april = _rows(api, "2025-04")
    march = _rows(api, "2025-03")

    assert set(april) == {"waiting_for_review", "review", "submission_to_decision", "assessment_to_approved_plan"}
    for row in april.values():
        assert (row["count"], row["median_days"], row["p90_days"], row["suppressed"]) == (None, None, None, True)
    assert march["waiting_for_review"]["count"] == 10  # other months are unaffected


def test_rows_come_in_stage_order_then_month_order(api, ten_plans_in_march, four_plans_in_april):
    rows = api.get(URL).json()["results"]

    assert [(row["stage"], row["month"]) for row in rows] == [
        ("waiting_for_review", "2025-03"),
        ("waiting_for_review", "2025-04"),
        ("review", "2025-03"),
        ("review", "2025-04"),
        ("submission_to_decision", "2025-03"),
        ("submission_to_decision", "2025-04"),
        ("assessment_to_approved_plan", "2025-03"),
        ("assessment_to_approved_plan", "2025-04"),
    ]


def test_the_csv_download_has_a_header_row_and_suppresses_small_groups(api, ten_plans_in_march, four_plans_in_april):
    response = api.get(URL, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="cairn-approval-times.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[0] == CSV_HEADER
    by_key = {(row[0], row[2]): dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]}
    assert len(by_key) == len(rows) - 1 == 8
    assert by_key[("waiting_for_review", "2025-03")] == {
        "stage": "waiting_for_review",
        "stage_label": "From submission to the start of review",
        "month": "2025-03",
        "count": "10",
        "median_days": "5.5",
        "p90_days": "9.0",
        "suppressed": "False",
    }
    for stage in ["waiting_for_review", "review", "submission_to_decision", "assessment_to_approved_plan"]:
        row = by_key[(stage, "2025-04")]
        assert (row["count"], row["median_days"], row["p90_days"], row["suppressed"]) == ("", "", "", "True")


def test_the_csv_download_is_public_and_has_a_header_even_with_no_data(api):
    response = api.get(URL, {"format": "csv"})

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode().splitlines() == [",".join(CSV_HEADER)]


def test_the_json_download_is_not_an_attachment(api):
    response = api.get(URL, {"format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "Content-Disposition" not in response


def test_the_public_page_needs_no_login_and_says_small_groups_are_not_shown(
    client, ten_plans_in_march, four_plans_in_april
):
    response = client.get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "How long care plan approval takes" in html
    assert "Fewer than 5: not shown" in html
    assert html.count("Fewer than 5: not shown") == 4  # one per stage for April
    assert "March 2025" in html and "April 2025" in html
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">5.5</td>' in html
    assert f'href="{URL}?format=csv"' in html


def test_the_public_page_with_no_data_says_so(client):
    response = client.get(PAGE)

    assert response.status_code == 200
    assert "No plans yet." in response.content.decode()


def test_a_stage_counts_in_the_london_month_it_ended(api, approved_plan_at):
    # Approved at 23:30 UTC on 30 June 2025, which is 00:30 on 1 July in London (BST).
    submitted = datetime.datetime(2025, 6, 28, 23, 30, tzinfo=UTC)
    for _ in range(5):
        approved_plan_at(submitted, 1, 1)

    rows = api.get(URL).json()["results"]

    months = {(row["stage"], row["month"]) for row in rows}
    assert ("waiting_for_review", "2025-06") in months  # review started 29 June 23:30 UTC (30 June, BST)
    assert ("review", "2025-07") in months
    assert ("review", "2025-06") not in months

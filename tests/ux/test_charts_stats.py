"""The open statistics as charts by month (approval times, spend) and the case manager's trend per
provider: each an image with a title and a description, the same numbers in a table, gaps for
months without figures, and a number of queries that does not grow with the data."""

import datetime
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import charts
from accounts.templatetags.stat_charts import approval_chart, month_run, spend_chart_for
from approvals.models import ApprovalTimeMonth
from marketplace.charts import provider_trends
from marketplace.models import Review
from payments.models import SpendMonth
from tests import factories

REVIEW_STAGE = "From the start of review to a decision or referral"


def test_nice_steps_are_round_numbers():
    assert charts.nice_step(Decimal("12000")) == Decimal("5000")
    assert charts.nice_step(Decimal("10")) == Decimal("5")
    assert charts.nice_step(Decimal("4")) == Decimal("1")
    assert charts.nice_step(Decimal("0")) == Decimal("1")


def test_month_run_fills_the_gaps_and_keeps_the_last_twelve():
    assert month_run(["2027-01", "2027-04"]) == ["2027-01", "2027-02", "2027-03", "2027-04"]
    run = month_run(["2025-11", "2027-04"])
    assert len(run) == 12 and run[0] == "2026-05" and run[-1] == "2027-04"


def test_a_month_left_out_for_privacy_is_a_gap_in_the_line_not_a_zero():
    rows = [
        {"month": "2027-01", "median_days": 3.5, "p90_days": 9.0, "suppressed": False, "count": 6},
        {"month": "2027-02", "median_days": None, "p90_days": None, "suppressed": True, "count": None},
        {"month": "2027-04", "median_days": 4.0, "p90_days": 10.0, "suppressed": False, "count": 7},
    ]
    chart = approval_chart("t", REVIEW_STAGE, rows)
    median = next(line for line in chart.lines if line.name == "Median")
    assert len(median.segments) == 2  # January, then a gap (February suppressed, March empty), April
    assert len(median.markers) == 2
    assert "In April 2027, half of the plans took 4.0 days or less and 9 in 10 took 10.0 days" in chart.summary
    # The two lines differ by more than colour: pattern and marker.
    nine = next(line for line in chart.lines if line.name == "9 in 10")
    assert (nine.dash, nine.marker) != (median.dash, median.marker)
    assert nine.dash and not median.dash


@pytest.mark.django_db
def test_approval_times_page_draws_each_stage_with_its_table(client):
    for month, count, median, p90 in [("2027-01", 6, 3.5, 9.0), ("2027-02", 2, 1, 2), ("2027-04", 7, 4.0, 10.0)]:
        ApprovalTimeMonth.objects.create(stage="review", month=month, count=count, median_days=median, p90_days=p90)
    html = client.get(reverse("stats-approval-times")).content.decode()
    assert 'role="img" aria-labelledby="approval-review-title approval-review-desc"' in html
    assert f'<title id="approval-review-title">{REVIEW_STAGE}: days taken, month by month</title>' in html
    assert "half of the plans took 4.0 days or less" in html
    assert f"{REVIEW_STAGE}: the figures month by month</caption>" in html


@pytest.mark.django_db
def test_a_stage_whose_every_month_is_left_out_has_its_table_and_no_empty_chart(client):
    ApprovalTimeMonth.objects.create(stage="review", month="2027-01", count=2, median_days=1, p90_days=2)
    assert approval_chart("t", REVIEW_STAGE, [{"month": "2027-01", "median_days": None, "p90_days": None,
                                               "suppressed": True, "count": None}]) is None  # fmt: skip
    html = client.get(reverse("stats-approval-times")).content.decode()
    assert 'aria-labelledby="approval-review-title' not in html
    assert f"{REVIEW_STAGE}: the figures month by month</caption>" in html
    assert "not shown" in html


def test_spend_chart_totals_each_month_and_counts_the_groups_left_out():
    rows = [
        {"month": "2027-01", "category_label": "Personal care", "payments": 6, "amount": "600.00", "suppressed": False},
        {"month": "2027-01", "category_label": "Respite", "payments": None, "amount": None, "suppressed": True},
        {"month": "2027-03", "category_label": "Care", "payments": 5, "amount": "1000.50", "suppressed": False},
        {"month": "2027-03", "category_label": "Transport", "payments": 9, "amount": "99.50", "suppressed": False},
    ]
    chart = spend_chart_for(rows, 5)
    assert chart.table.rows == [
        ["January 2027", "£600.00", "1"],
        ["February 2027", "–", "0"],
        ["March 2027", "£1,100.00", "0"],
    ]
    assert [bar.shown for bar in chart.bars] == [True, False, True]
    assert [mark.label for mark in chart.marks] == ["–"]  # the month without figures says so
    jan, _, mar = chart.bars
    assert mar.height > jan.height > 0


@pytest.mark.django_db
def test_spend_page_queries_stay_the_same_as_months_are_added(client):
    def add(month: str) -> None:
        SpendMonth.objects.create(month=month, category="personal_care", payments=7, amount=Decimal("700.00"))

    add("2027-01")
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("stats-spend"))
    html = response.content.decode()
    assert 'aria-labelledby="spend-by-month-title spend-by-month-desc"' in html
    assert '<caption class="govuk-table__caption govuk-table__caption--s">Paid to providers each month' in html
    for month in ("2027-02", "2027-03", "2027-05", "2027-06"):
        add(month)
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("stats-spend")).content.decode()
    assert len(many.captured_queries) <= len(few.captured_queries)
    assert "June 2027" in html and "April 2027" in html  # April's gap has its row


def review(provider, author, stars: int, day: datetime.date, hidden: bool = False) -> Review:
    return Review.objects.create(
        provider=provider,
        author=author,
        rating=stars,
        text="Fine.",
        created_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(12))),
        hidden=hidden,
        hidden_reason="Abusive" if hidden else "",
    )


@pytest.mark.django_db
def test_provider_trend_averages_each_month_and_leaves_out_hidden_reviews():
    provider, author = factories.ProviderFactory(), factories.ClientFactory()
    today = datetime.date(2027, 6, 15)
    review(provider, author, 5, datetime.date(2027, 1, 3))
    review(provider, author, 4, datetime.date(2027, 1, 20))  # January: (5 + 4) / 2 = 4.5
    review(provider, author, 1, datetime.date(2027, 1, 21), hidden=True)  # does not count
    review(provider, author, 2, datetime.date(2027, 6, 1))
    review(provider, author, 3, datetime.date(2027, 6, 2))
    review(provider, author, 3, datetime.date(2027, 6, 3))  # June: 8 / 3 = 2.67 → 2.7
    review(provider, author, 5, datetime.date(2026, 12, 31))  # before the six months
    trend = provider_trends([provider.pk], today)[provider.pk]
    assert [(s.month.month, s.average, s.reviews) for s in trend.months] == [
        (1, Decimal("4.5"), 2),
        (2, None, 0),
        (3, None, 0),
        (4, None, 0),
        (5, None, 0),
        (6, Decimal("2.7"), 3),
    ]
    assert trend.line.label == "Average score by month, January: 4.5; June: 2.7"
    assert trend.reviews == 5
    assert len(trend.line.points) == 2  # one dot a reading, the line joining them across the gap
    assert trend.line.path.count("L") == 1


@pytest.mark.django_db
def test_quality_dashboard_shows_the_trend_table_in_a_constant_number_of_queries(web_as, case_manager):
    author = factories.ClientFactory()
    today = timezone.localdate()

    def reviewed_provider(stars: int):
        provider = factories.ProviderFactory(rating=Decimal(stars), review_count=1)
        review(provider, author, stars, today)
        return provider

    first = reviewed_provider(4)
    browser = web_as(case_manager)
    browser.get(reverse("quality"))
    with CaptureQueriesContext(connection) as few:
        html = browser.get(reverse("quality")).content.decode()
    assert 'id="trend"' in html
    assert re.search(rf'<th scope="row" class="govuk-table__header">{first.name}\s*<span[^>]*>1 review</span>', html)
    assert f"Average score by month, {today:%B}: 4.0" in html
    for stars in (1, 2, 3, 5):
        reviewed_provider(stars)
    with CaptureQueriesContext(connection) as many:
        html = browser.get(reverse("quality")).content.decode()
    assert len(many.captured_queries) <= len(few.captured_queries)
    assert html.count('<svg viewBox="0 0 64 28"') == 5


@pytest.mark.django_db
def test_budget_chart_and_stats_charts_pass_with_a_date_mocked(client):
    """The approval chart with no figures at all is not drawn (nothing to show), and the page still is."""
    with mock.patch("django.utils.timezone.localdate", return_value=datetime.date(2027, 3, 1)):
        html = client.get(reverse("stats-approval-times")).content.decode()
    assert 'role="img"' not in html

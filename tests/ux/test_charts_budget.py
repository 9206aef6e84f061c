"""The budget over its period: committed and paid month by month, the forecast of spend at the
current rate, and the warning weeks ahead of an over- or under-spend (docs/rules.md, "A forecast
of spend to the period's end"). The arithmetic is worked by hand in each test's comments."""

import datetime
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from budgets import selectors
from budgets.models import Assessment, AssessmentStatus, PersonalBudget
from budgets.services import ledger
from tests import factories

GBP = "GBP"
# Every example question answered, two outcomes unachievable: the example scheme's lowest eligible need.
ANSWERS = {
    **dict.fromkeys(
        ["toilet", "dressing", "home_safety", "habitable_home", "relationships", "work_education", "community"],
        "independent",
    ),
    "caring_for_child": "independent",
    "nutrition": "some_help",
    "hygiene": "some_help",
    "night_support": "none",
    "risk": "low",
}
YEAR_2027 = {"period_start": datetime.date(2027, 1, 1), "period_end": datetime.date(2027, 12, 31)}


def forecast(allocated: str, paid: str, today: datetime.date, **period):
    return selectors.spend_forecast(
        allocated=Decimal(allocated), paid=Decimal(paid), today=today, **(period or YEAR_2027)
    )


def test_overspend_is_forecast_with_the_day_the_money_runs_out():
    # 1 January to 31 December 2027: 365 days. On 30 June, day 181, £6,600 has been paid:
    # £6,600 × 365 / 181 = £13,309.392… → £13,309.39 by the end, more than the £12,000.
    # £12,000 is reached after 12,000 × 181 / 6,600 = 329.09 days, so on day 330: 26 November
    # (day 334 is 30 November). 26 November to 31 December is 35 days: 5 weeks ahead.
    result = forecast("12000.00", "6600.00", datetime.date(2027, 6, 30))
    assert result.days_gone == 181
    assert result.days_in_period == 365
    assert result.at_end == Money("13309.39", GBP)
    assert result.warning == "over"
    assert result.runs_out_on == datetime.date(2027, 11, 26)
    assert result.weeks_ahead == 5
    assert result.unspent is None


def test_underspend_is_forecast_when_more_than_a_tenth_would_be_left():
    # On 31 March, day 90, £2,000 paid: £2,000 × 365 / 90 = £8,111.11 by the end, leaving
    # £3,888.89, more than a tenth of £12,000 (£1,200). 31 March to 31 December: 275 days, 39 weeks.
    result = forecast("12000.00", "2000.00", datetime.date(2027, 3, 31))
    assert result.at_end == Money("8111.11", GBP)
    assert result.warning == "under"
    assert result.unspent == Money("3888.89", GBP)
    assert result.weeks_ahead == 39
    assert result.runs_out_on is None


def test_spend_on_course_gives_no_warning():
    # Day 90, £2,900 paid: £2,900 × 365 / 90 = £11,761.11; £238.89 left is under £1,200.
    result = forecast("12000.00", "2900.00", datetime.date(2027, 3, 31))
    assert result.at_end == Money("11761.11", GBP)
    assert result.warning is None


def test_exactly_a_tenth_left_is_not_an_underspend():
    # 365 days, day 73 (14 March): £1,728 × 365 / 73 = £8,640, exactly 90% of £9,600.
    result = forecast("9600.00", "1728.00", datetime.date(2027, 3, 14))
    assert result.at_end == Money("8640.00", GBP)
    assert result.warning is None


def test_no_forecast_in_the_first_four_weeks_nor_from_the_last_day():
    assert forecast("12000.00", "900.00", datetime.date(2027, 1, 27)) is None  # day 27
    assert forecast("12000.00", "900.00", datetime.date(2027, 1, 28)) is not None  # day 28
    assert forecast("12000.00", "900.00", datetime.date(2027, 12, 31)) is None
    assert forecast("12000.00", "900.00", datetime.date(2026, 12, 1)) is None  # not begun


def test_an_overspend_already_due_runs_out_today_at_the_latest():
    # Day 100 (10 April), £11,990 paid of £12,000: the rate reaches £12,000 on day 101, 11 April.
    result = forecast("12000.00", "11990.00", datetime.date(2027, 4, 10))
    assert result.runs_out_on == datetime.date(2027, 4, 11)
    result = forecast("12000.00", "12000.00", datetime.date(2027, 4, 10))
    assert result.warning == "over"
    assert result.runs_out_on == datetime.date(2027, 4, 10)


@contextmanager
def at(day: datetime.date):
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def make_budget(client, amount: str, start: datetime.date, end: datetime.date, scheme) -> PersonalBudget:
    assessment = Assessment.objects.create(
        client=client,
        assessor=client,
        scheme=scheme,
        status=AssessmentStatus.COMPLETED,
        answers=ANSWERS,
        impairment=True,
        wellbeing_impact=True,
        eligible=True,
        indicative_budget=Money(amount, GBP),
    )
    budget = PersonalBudget.objects.create(
        client=client,
        assessment=assessment,
        period_start=start,
        period_end=end,
        indicative_amount=Money(amount, GBP),
    )
    ledger.open_budget_accounts(budget)
    with at(start):
        ledger.allocate(budget=budget, amount=Money(amount, GBP), key=f"t:{budget.pk}:allocation")
    return budget


@pytest.fixture
def spent_budget(db, example_scheme):
    """£12,000 for 2027: £9,000 committed on 5 January, £1,000 paid in January and £2,300 in
    March, £500 of the commitment released in March; the chart is read on 31 March (day 90)."""
    client = factories.ClientFactory(full_name="Ruth Okafor")
    budget = make_budget(client, "12000.00", datetime.date(2027, 1, 1), datetime.date(2027, 12, 31), example_scheme)
    with at(datetime.date(2027, 1, 5)):
        ledger.commit(budget=budget, amount=Money("9000.00", GBP), key="t:commit", memo="Plan approved")
    with at(datetime.date(2027, 1, 20)):
        ledger.record_payment(budget=budget, amount=Money("1000.00", GBP), key="t:p1")
    with at(datetime.date(2027, 3, 10)):
        ledger.record_payment(budget=budget, amount=Money("2300.00", GBP), key="t:p2")
        ledger.release(budget=budget, amount=Money("500.00", GBP), key="t:r1")
    return budget


def test_budget_year_runs_the_totals_month_by_month_and_forecasts_the_rest(spent_budget):
    year = selectors.budget_year(spent_budget, datetime.date(2027, 3, 31))
    rows = {m.month.month: m for m in year.months}
    assert len(year.months) == 12
    # Committed counts what is paid too (the four figures' meaning): January 9,000; March 8,500.
    assert (rows[1].committed, rows[1].paid) == (Money("9000.00", GBP), Money("1000.00", GBP))
    assert (rows[2].committed, rows[2].paid) == (Money("9000.00", GBP), Money("1000.00", GBP))
    assert (rows[3].committed, rows[3].paid) == (Money("8500.00", GBP), Money("3300.00", GBP))
    assert rows[4].paid is None and rows[4].committed is None
    # £3,300 in 90 days is £36.666… a day; by 30 April (30 days on) £3,300 + £1,100 = £4,400,
    # by 31 December (275 days on) £3,300 + £10,083.33 = £13,383.33: an overspend.
    assert rows[2].forecast is None
    assert rows[3].forecast == Money("3300.00", GBP)
    assert rows[4].forecast == Money("4400.00", GBP)
    assert rows[12].forecast == Money("13383.33", GBP)
    assert year.forecast.at_end == rows[12].forecast
    # £12,000 at £36.67 a day is reached after 327.27 days: day 328, 24 November; 5 weeks ahead.
    assert year.forecast.runs_out_on == datetime.date(2027, 11, 24)
    assert year.forecast.weeks_ahead == 5


def test_budget_page_shows_the_chart_the_table_and_the_warning(spent_budget, web_as):
    client = web_as(spent_budget.client)
    with mock.patch("django.utils.timezone.localdate", return_value=datetime.date(2027, 3, 31)):
        response = client.get(reverse("budget-detail", args=[spent_budget.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="img"' in html
    title = "Your budget from 1 January 2027 to 31 December 2027"
    assert f'<title id="budget-{spent_budget.pk}-year-title">{title}</title>' in html
    assert "this budget would run out on 24 November 2027, 5 weeks before the period ends" in html
    assert "£13,383.33 would be paid by 31 December 2027" in html
    assert "govuk-warning-text" in html
    # The same numbers in the table: March's running totals and April's forecast.
    assert '<th scope="row" class="govuk-table__header govuk-!-padding-right-2">Mar 2027</th>' in html
    for figure in ("£8,500.00", "£3,300.00", "£4,400.00"):
        assert figure in html


def test_budget_page_queries_do_not_grow_with_the_ledger(spent_budget, web_as, django_assert_max_num_queries):
    client = web_as(spent_budget.client)
    url = reverse("budget-detail", args=[spent_budget.pk])
    with mock.patch("django.utils.timezone.localdate", return_value=datetime.date(2027, 3, 31)):
        client.get(url)  # warm the session and the caches
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for month in (4, 5, 6):
            for i in range(5):
                with at(datetime.date(2027, month, i + 1)):
                    ledger.record_payment(budget=spent_budget, amount=Money("10.00", GBP), key=f"t:{month}:{i}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(url)
    assert response.status_code == 200


def test_no_forecast_and_no_warning_in_the_first_weeks(spent_budget, web_as):
    client = web_as(spent_budget.client)
    with mock.patch("django.utils.timezone.localdate", return_value=datetime.date(2027, 1, 20)):
        html = client.get(reverse("budget-detail", args=[spent_budget.pk])).content.decode()
    assert "govuk-warning-text" not in html
    assert "A forecast is shown once the period has run 28 days" in html


def test_an_underspend_is_warned_of_on_a_social_workers_view(db, example_scheme, web_as):
    client = factories.ClientFactory(full_name="Sam Patel")
    budget = make_budget(client, "12000.00", datetime.date(2027, 1, 1), datetime.date(2027, 12, 31), example_scheme)
    with at(datetime.date(2027, 1, 5)):
        ledger.commit(budget=budget, amount=Money("12000.00", GBP), key="t:commit")
    with at(datetime.date(2027, 2, 1)):
        ledger.record_payment(budget=budget, amount=Money("2000.00", GBP), key="t:p1")
    finance = factories.FinanceFactory()
    with mock.patch("django.utils.timezone.localdate", return_value=datetime.date(2027, 3, 31)):
        html = web_as(finance).get(reverse("budget-detail", args=[budget.pk])).content.decode()
    assert "Sam Patel&#x27;s budget from 1 January 2027" in html
    assert (
        "£3,888.89 of this budget would not be spent by the end of the period on 31 December 2027, in 39 weeks"
    ) in html

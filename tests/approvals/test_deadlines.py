"""Review deadlines in working days (England and Wales bank holidays), and the review clock that
`plan_submit` starts from the configurable workflow policy."""

import datetime

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals import services
from approvals.deadlines import add_working_days, is_working_day, working_days_between
from approvals.models import PlanReview, WorkflowPolicy

D = datetime.date


# --- is_working_day -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 12, 25),  # Christmas Day, a Friday
        D(2026, 12, 26),  # Boxing Day, a Saturday
        D(2026, 12, 28),  # Boxing Day observed on the Monday
        D(2027, 1, 1),  # New Year's Day, a Friday
        D(2027, 3, 26),  # Good Friday
        D(2027, 3, 29),  # Easter Monday
        D(2027, 5, 3),  # Early May bank holiday
        D(2027, 5, 31),  # Spring (late May) bank holiday
        D(2026, 8, 31),  # Summer bank holiday
        D(2027, 12, 27),  # Christmas Day 2027 (a Saturday) observed on the Monday
        D(2027, 12, 28),  # Boxing Day 2027 (a Sunday) observed on the Tuesday
        D(2027, 1, 2),  # a Saturday
        D(2027, 1, 3),  # a Sunday
    ],
)
def test_weekends_and_england_and_wales_bank_holidays_are_not_working_days(day):
    assert is_working_day(day) is False


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 12, 24),  # Christmas Eve is not a bank holiday
        D(2026, 12, 29),
        D(2026, 12, 31),
        D(2027, 1, 4),
        D(2027, 3, 25),  # Maundy Thursday
        D(2027, 3, 30),
        D(2027, 6, 1),
        D(2027, 3, 17),  # St Patrick's Day: a holiday in Northern Ireland only
        D(2026, 11, 30),  # St Andrew's Day: a holiday in Scotland only
    ],
)
def test_ordinary_weekdays_are_working_days(day):
    assert is_working_day(day) is True


# --- add_working_days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Mon 21 Dec 2026: 22, 23, 24 | 25 (Fri), 26-27 weekend, 28 (Boxing Day observed) |
        # 29, 30, 31 | 1 Jan (Fri), 2-3 weekend | 4, 5, 6, 7.
        (D(2026, 12, 21), D(2027, 1, 7)),
        # Fri 18 Dec 2026 (the last Friday before Christmas): 21-24, 29-31, 4-6 Jan.
        (D(2026, 12, 18), D(2027, 1, 6)),
        # Thu 24 Dec 2026 (Christmas Eve): 29, 30, 31, 4-8 Jan, 11, 12 Jan.
        (D(2026, 12, 24), D(2027, 1, 12)),
        # Wed 30 Dec 2026, across New Year: 31, 4-8 Jan, 11-14 Jan.
        (D(2026, 12, 30), D(2027, 1, 14)),
    ],
)
def test_ten_working_days_across_christmas_and_new_year_2026(start, expected):
    assert add_working_days(start, 10) == expected
    assert working_days_between(start, expected) == 10


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Wed 24 Mar 2027: 25 | Good Friday 26, weekend, Easter Monday 29 | 30, 31, 1-2 Apr, 5-9 Apr.
        (D(2027, 3, 24), D(2027, 4, 9)),
        # Thu 25 Mar 2027 (the day before Good Friday): 30, 31, 1, 2, 5-9, 12 Apr.
        (D(2027, 3, 25), D(2027, 4, 12)),
        # Mon 22 Mar 2027: 23, 24, 25, 30, 31, 1, 2, 5, 6, 7 Apr.
        (D(2027, 3, 22), D(2027, 4, 7)),
    ],
)
def test_ten_working_days_across_easter_2027(start, expected):
    assert add_working_days(start, 10) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Fri 28 May 2027, before the late May bank holiday Mon 31 May: 1-4 Jun, 7-11 Jun, 14 Jun.
        (D(2027, 5, 28), D(2027, 6, 14)),
        # Fri 22 May 2026, before Mon 25 May 2026: 26-29 May, 1-5 Jun, 8 Jun.
        (D(2026, 5, 22), D(2026, 6, 8)),
    ],
)
def test_ten_working_days_across_the_late_may_bank_holiday_weekend(start, expected):
    assert add_working_days(start, 10) == expected


def test_one_working_day_after_a_friday_is_the_monday():
    assert add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)


def test_one_working_day_after_the_friday_before_a_bank_holiday_monday_is_the_tuesday():
    assert add_working_days(D(2027, 5, 28), 1) == D(2027, 6, 1)


def test_ten_working_days_from_an_ordinary_friday_is_the_friday_two_weeks_later():
    assert add_working_days(D(2026, 3, 6), 10) == D(2026, 3, 20)


@pytest.mark.parametrize(
    "start",
    [
        D(2026, 12, 25),  # Christmas Day (Friday)
        D(2026, 12, 26),  # Boxing Day (Saturday)
        D(2026, 12, 27),  # Sunday
        D(2026, 12, 28),  # Boxing Day observed (Monday)
    ],
)
def test_submitting_on_a_bank_holiday_counts_from_the_next_working_day(start):
    # The first working day after the holidays is Tue 29 Dec; the tenth is Tue 12 Jan 2027.
    assert add_working_days(start, 1) == D(2026, 12, 29)
    assert add_working_days(start, 10) == D(2027, 1, 12)


def test_submitting_on_good_friday_counts_from_the_tuesday_after_easter():
    assert add_working_days(D(2027, 3, 26), 1) == D(2027, 3, 30)
    assert add_working_days(D(2027, 3, 26), 10) == D(2027, 4, 12)


@pytest.mark.parametrize("start", [D(2026, 3, 4), D(2026, 3, 7), D(2026, 12, 25)])
def test_zero_working_days_is_the_start_date_itself(start):
    assert add_working_days(start, 0) == start
    assert working_days_between(start, start) == 0


def test_working_days_between_counts_after_the_start_up_to_and_including_the_end():
    # After Thu 24 Dec 2026 up to Thu 31 Dec: 29, 30, 31.
    assert working_days_between(D(2026, 12, 24), D(2026, 12, 31)) == 3
    # An end on a holiday adds nothing: after 24 Dec up to 28 Dec.
    assert working_days_between(D(2026, 12, 24), D(2026, 12, 28)) == 0


def test_working_days_between_is_zero_when_the_end_is_before_the_start():
    assert working_days_between(D(2027, 1, 7), D(2026, 12, 21)) == 0


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31)),
    days=st.integers(min_value=1, max_value=60),
)
def test_adding_working_days_lands_on_a_working_day_after_the_start_that_many_working_days_on(start, days):
    due = add_working_days(start, days)

    assert is_working_day(due)
    assert due > start
    assert working_days_between(start, due) == days
    # ...and it is the first such day: the day before is still one working day short.
    assert working_days_between(start, due - datetime.timedelta(days=1)) == days - 1


@settings(max_examples=100, deadline=None)
@given(start=st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31)))
def test_adding_zero_working_days_round_trips_to_zero(start):
    assert add_working_days(start, 0) == start
    assert working_days_between(start, add_working_days(start, 0)) == 0


# --- the review clock on submission -------------------------------------------------------------


@pytest.mark.django_db
def test_submitting_a_plan_sets_the_review_due_date_ten_working_days_after_today(client_user, draft_plan):
    before = timezone.now()

    services.plan_submit(actor=client_user, plan=draft_plan)

    review = PlanReview.objects.get(plan=draft_plan)
    today = timezone.localdate(review.submitted_at)
    assert before <= review.submitted_at <= timezone.now()
    assert review.submitted_by == client_user
    assert review.decided_at is None and review.outcome == ""
    assert review.due == add_working_days(today, 10)
    assert working_days_between(today, review.due) == 10
    assert is_working_day(review.due)


@pytest.mark.django_db
def test_the_review_deadline_follows_the_workflow_policy(client_user, draft_plan):
    WorkflowPolicy.objects.update_or_create(pk=1, defaults={"review_working_days": 3})

    services.plan_submit(actor=client_user, plan=draft_plan)

    review = PlanReview.objects.get(plan=draft_plan)
    today = timezone.localdate(review.submitted_at)
    assert review.due == add_working_days(today, 3)
    assert working_days_between(today, review.due) == 3
    assert review.due < add_working_days(today, 10)


@pytest.mark.django_db
def test_the_submission_notification_tells_the_due_date(client_user, social_worker, draft_plan):
    services.plan_submit(actor=client_user, plan=draft_plan)

    review = PlanReview.objects.get(plan=draft_plan)
    note = social_worker.notifications.get()
    assert f"{review.due:%-d %B %Y}" in note.message

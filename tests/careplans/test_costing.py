"""What a plan line costs (PRODUCT.md §4): inclusive dates, unit price × units per week × days / 7,
rounded to the penny half up, once, at the end; a one-off costs unit price × quantity."""

import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from careplans.costing import days_inclusive, one_off_cost, weekly_cost, weekly_rate

D = Decimal
MONDAY = datetime.date(2027, 4, 5)
PENNY = D("0.01")


def days_after(start: datetime.date, n: int) -> datetime.date:
    return start + datetime.timedelta(days=n)


# --- exact examples -------------------------------------------------------------------------


def test_a_full_week_costs_unit_price_times_units():
    assert weekly_cost(D("24.50"), D("10"), MONDAY, days_after(MONDAY, 6)) == D("245.00")


def test_dates_are_inclusive_so_start_equal_to_end_is_one_seventh_of_a_week():
    assert days_inclusive(MONDAY, MONDAY) == 1
    assert weekly_cost(D("24.50"), D("7"), MONDAY, MONDAY) == D("24.50")
    assert weekly_cost(D("10.00"), D("1"), MONDAY, MONDAY) == D("1.43")  # 1.428571…


def test_a_part_week_of_ten_days_costs_ten_sevenths_of_a_week():
    assert days_inclusive(MONDAY, days_after(MONDAY, 9)) == 10
    assert weekly_cost(D("24.50"), D("3"), MONDAY, days_after(MONDAY, 9)) == D("105.00")  # 735 / 7
    assert weekly_cost(D("10.00"), D("1"), MONDAY, days_after(MONDAY, 9)) == D("14.29")  # 14.2857…


def test_fifty_two_weeks_costs_fifty_two_weekly_rates():
    end = days_after(MONDAY, 52 * 7 - 1)
    assert days_inclusive(MONDAY, end) == 364
    assert weekly_cost(D("24.50"), D("10"), MONDAY, end) == D("12740.00")
    # 19.99 × 12.5 = 249.875 a week: the year is rounded once (12,993.50), not 52 rounded weeks.
    assert weekly_cost(D("19.99"), D("12.5"), MONDAY, end) == D("12993.50")
    assert weekly_rate(D("19.99"), D("12.5")) * 52 == D("12993.76")


def test_weekly_cost_is_rounded_once_at_the_end_not_per_day():
    # 3.33 × 10 / 7 = 4.757… → 4.76; rounding the daily rate first would give 0.48 × 10 = 4.80.
    assert weekly_cost(D("3.33"), D("1"), MONDAY, days_after(MONDAY, 9)) == D("4.76")


def test_weekly_cost_rounds_half_a_penny_up_not_to_even():
    # 1.01 × 2.50 × 7 / 7 = 2.525 exactly: half up gives 2.53 (banker's rounding would give 2.52).
    assert weekly_cost(D("1.01"), D("2.50"), MONDAY, days_after(MONDAY, 6)) == D("2.53")
    # 0.05 × 2.50 × 7 / 7 = 0.125 → 0.13 (not 0.12).
    assert weekly_cost(D("0.05"), D("2.50"), MONDAY, days_after(MONDAY, 6)) == D("0.13")


def test_one_off_cost_is_price_times_quantity_rounded_half_up():
    assert one_off_cost(D("180.00"), D("2")) == D("360.00")
    assert one_off_cost(D("0.25"), D("0.50")) == D("0.13")  # 0.125, half up (not 0.12)
    assert one_off_cost(D("10.01"), D("0.50")) == D("5.01")  # 5.005, half up (not 5.00)
    assert one_off_cost(D("33.33"), D("1.5")) == D("50.00")  # 49.995 → 50.00


def test_weekly_rate_rounds_half_up():
    assert weekly_rate(D("1.01"), D("2.50")) == D("2.53")


# --- properties -----------------------------------------------------------------------------

prices = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)
amounts = st.decimals(min_value=D("0.01"), max_value=D("168.00"), places=2)
starts = st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2030, 12, 31))
lengths = st.integers(min_value=0, max_value=800)


def is_whole_pence(value: Decimal) -> bool:
    return value == value.quantize(PENNY) and value.as_tuple().exponent == -2


@given(price=prices, units=amounts, start=starts, length=lengths)
def test_weekly_cost_is_never_negative_and_always_whole_pence(price, units, start, length):
    cost = weekly_cost(price, units, start, days_after(start, length))
    assert cost >= 0
    assert is_whole_pence(cost)


@given(price=prices, quantity=amounts)
def test_one_off_cost_is_never_negative_and_always_whole_pence(price, quantity):
    cost = one_off_cost(price, quantity)
    assert cost >= 0
    assert is_whole_pence(cost)


@given(price=prices, units=amounts, start=starts, weeks=st.integers(min_value=1, max_value=104))
def test_n_full_weeks_cost_exactly_n_weekly_rates_when_the_rate_is_whole_pence(price, units, start, weeks):
    rate = price * units
    rate_is_exact = rate == rate.quantize(PENNY)
    cost = weekly_cost(price, units, start, days_after(start, 7 * weeks - 1))
    if rate_is_exact:
        assert weekly_rate(price, units) == rate
        assert cost == weekly_rate(price, units) * weeks
    else:
        # The whole period is rounded once, so it may differ from n rounded weekly rates, but
        # never by more than half a penny per week.
        assert abs(cost - weekly_rate(price, units) * weeks) <= D("0.005") * weeks + PENNY


@given(price=prices, units=st.decimals(min_value=D("0.01"), max_value=D("168.00"), places=0), start=starts)
def test_whole_units_give_n_weekly_rates_for_52_weeks(price, units, start):
    assert weekly_cost(price, units, start, days_after(start, 363)) == price * units * 52


@given(
    price=prices,
    units=amounts,
    start=starts,
    first=st.integers(min_value=0, max_value=400),
    second=st.integers(min_value=0, max_value=400),
)
def test_splitting_a_period_into_two_adjacent_lines_differs_by_at_most_a_penny(price, units, start, first, second):
    middle = days_after(start, first)
    end = days_after(middle, 1 + second)
    whole = weekly_cost(price, units, start, end)
    parts = weekly_cost(price, units, start, middle) + weekly_cost(price, units, days_after(middle, 1), end)
    assert abs(whole - parts) <= PENNY

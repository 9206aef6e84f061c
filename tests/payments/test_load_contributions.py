"""Loads are paid net of the person's contribution (docs/charging.md): a financial assessment
re-nets every unpaid load, a paid one never changes; a load the contribution covers is settled with
nothing to pay; the contribution is paid out of the commitment by the person in the ledger, once."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from budgets.models import AccountKind, LedgerAccount, LedgerTransaction
from budgets.selectors import budget_figures, budget_figures_from_postings
from budgets.services.charging import financial_assessment_record
from payments import schedule
from payments.models import LoadStatus, Payment
from tests.payments.test_load_concurrency import make_dp_holder  # noqa: F401
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401

DAY = datetime.timedelta(days=1)
D = Decimal


def gbp(value: str) -> dict:
    return {"amount": value, "currency": "GBP"}


def assess(finance_user, client, *, weekly_income: str, date=None, declined=False):
    """An assessment giving `weekly_income` − £228.70 (pension age MIG) a week."""
    return financial_assessment_record(
        actor=finance_user,
        client=client,
        band="pension_age",
        income=[{"kind": "state_pension", "weekly_amount": D(weekly_income)}],
        declined=declined,
        date=date,
    )


def test_a_new_assessment_nets_the_unpaid_loads_and_the_schedule_shows_it(
    dp, finance_user, api_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, weekly_income="258.70", date=dp.anchor)  # £30.00 a week

    loads = list(dp.loads.filter(status=LoadStatus.SCHEDULED).order_by("period_start"))
    # Each 28-day load of £580.00 (10 h × £14.50 × 4 weeks) less 4 × £30.00.
    assert [(load.amount.amount, load.contribution.amount) for load in loads[:2]] == [(D("460.00"), D("120.00"))] * 2
    body = api_as(dp.holder).get(f"/api/v1/budgets/{dp.budget_id}/direct-payment/").json()
    assert body["schedule"][0]["amount"] == gbp("460.00") and body["schedule"][0]["contribution"] == gbp("120.00")


def test_paying_a_net_load_records_the_contribution_once_and_the_ledger_adds_up(
    dp, finance_user, run_payments, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, weekly_income="258.70", date=dp.anchor)
    before = budget_figures(dp.budget)

    run_payments()

    after = budget_figures(dp.budget)
    assert sum(p.amount.amount for p in Payment.objects.all()) == D("920.00")  # two loads, net
    assert after.paid.amount - before.paid.amount == D("1160.00")  # the care paid: by the council and by her
    assert LedgerTransaction.objects.filter(kind="contribution").count() == 2
    contributions = LedgerAccount.objects.get(code=f"council:{AccountKind.CONTRIBUTIONS}")
    assert contributions.balance.amount == D("-240.00")
    assert budget_figures_from_postings(dp.budget) == after
    run_payments()
    assert LedgerTransaction.objects.filter(kind="contribution").count() == 2


def test_a_paid_load_never_changes_and_later_ones_follow_the_new_assessment(
    dp, finance_user, run_payments, django_capture_on_commit_callbacks
):
    run_payments()  # the first two loads paid gross
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, weekly_income="258.70")
    paid = list(dp.loads.filter(status=LoadStatus.PAID))
    assert {(load.amount.amount, load.contribution.amount) for load in paid} == {(D("580.00"), D("0.00"))}
    later = dp.loads.filter(status=LoadStatus.SCHEDULED).order_by("period_start").first()
    assert later.contribution.amount > 0


def test_full_cost_covers_the_load_which_is_settled_with_nothing_to_pay(
    dp, finance_user, run_payments, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, weekly_income="0", declined=True, date=dp.anchor)
    due = dp.loads.filter(due__lte=timezone.localdate())
    assert {(load.amount.amount, load.contribution.amount) for load in due} == {(D("0.00"), D("580.00"))}

    run = run_payments()

    assert run.payments.count() == 0
    assert set(dp.loads.filter(due__lte=timezone.localdate()).values_list("status", flat=True)) == {LoadStatus.PAID}
    assert budget_figures_from_postings(dp.budget) == budget_figures(dp.budget)


charging = st.lists(
    st.tuples(st.integers(0, 60), st.one_of(st.none(), st.decimals(0, 300, places=2))), min_size=0, max_size=4
)


@settings(max_examples=200, deadline=None)
@given(
    charging=charging,
    cost=st.decimals(0, 5000, places=2),
    days=st.integers(1, 60),
)
def test_a_periods_contribution_is_never_negative_nor_more_than_its_cost(charging, cost, days):
    start = datetime.date(2026, 4, 6)
    items = [schedule.Charging(since=start + (offset - 30) * DAY, weekly=weekly) for offset, weekly in charging]
    owed = schedule.contribution(items, start, start + (days - 1) * DAY, cost)
    assert D(0) <= owed <= cost and owed == owed.quantize(D("0.01"))


@pytest.mark.parametrize("weekly", ["0.00", "30.00", "145.00", "400.00"])
def test_each_load_plus_its_contribution_is_the_periods_direct_payment_cost(
    dp, finance_user, weekly, django_capture_on_commit_callbacks
):
    gross = {load.pk: load.amount.amount for load in dp.loads.all()}
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, dp.budget.client, weekly_income=str(D("228.70") + D(weekly)), date=dp.anchor)
    for load in dp.loads.all():
        assert load.amount.amount + load.contribution.amount == gross[load.pk]
        assert load.amount.amount >= 0 and load.contribution.amount >= 0


weekly_line = st.builds(
    lambda price, units, first, length: schedule.FundLine(
        unit_price=price,
        start=datetime.date(2026, 4, 6) + first * DAY,
        end=datetime.date(2026, 4, 6) + (first + length) * DAY,
        units_per_week=units,
    ),
    price=st.decimals(D("0.01"), D("99.99"), places=2),
    units=st.decimals(D("0.5"), D("40"), places=1),
    first=st.integers(0, 40),
    length=st.integers(0, 200),
)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(weekly_line, min_size=1, max_size=3), charging=charging)
def test_loads_paid_net_and_their_contributions_add_up_to_the_direct_payments_cost(lines, charging):
    """Whatever the lines and the assessments: every load is paid its gross less the contribution it
    carries, never below nothing; a period's contribution is never more than its care cost; and what
    is paid in plus what the person contributes is exactly what the direct payment costs."""
    grid = schedule.anchor(lines, datetime.date(2026, 4, 6))
    items = [schedule.Charging(since=grid + (offset - 30) * DAY, weekly=weekly) for offset, weekly in charging]
    paid_in = contributed = D(0)
    for period in schedule.periods(lines, grid_start=grid, from_date=grid, period_days=28):
        cost = schedule.care_cost(lines, period.start, period.end)
        owed = schedule.contribution(items, period.start, period.end, cost)
        netted = schedule.netted_share(period.amount, owed, D(0))
        assert D(0) <= netted <= min(owed, period.amount) and owed <= cost
        paid_in += period.amount - netted
        contributed += netted
        assert period.amount - netted >= 0
    assert paid_in + contributed == schedule.loaded_total(lines, from_date=grid)


@settings(max_examples=300, deadline=None)
@given(
    grosses=st.lists(st.decimals(0, 3000, places=2), min_size=1, max_size=4),
    owed=st.decimals(0, 5000, places=2),
)
def test_a_periods_loads_together_carry_what_is_owed_and_no_more(grosses, owed):
    """A period with a direct payment and individual service funds: its loads, netted in turn, carry
    the period's contribution between them up to what they are worth, and each stays its gross."""
    taken = D(0)
    for gross in grosses:
        netted = schedule.netted_share(gross, owed, taken)
        assert D(0) <= netted <= gross
        taken += netted
    assert taken == min(owed, sum(grosses, D(0)))


def test_a_last_period_with_one_day_of_care_carries_one_days_contribution(
    make_dp_holder, finance_user, django_capture_on_commit_callbacks
):
    """The plan's care ends one day into the last 28-day period: that period's load carries a
    seventh of the weekly figure (£30.00 a week: £4.29), as the period's charge counts it. It was
    charged four weeks' figures up to that day's whole cost (£20.71)."""
    holder = make_dp_holder(started_days_ago=30, days=85)  # 3 whole periods and 1 day
    with django_capture_on_commit_callbacks(execute=True):
        assess(finance_user, holder.fund.budget.client, weekly_income="258.70", date=holder.fund.anchor)

    loads = list(holder.fund.loads.order_by("period_start"))
    assert [load.contribution.amount for load in loads] == [D("120.00")] * 3 + [D("4.29")]
    last = loads[-1]
    assert last.amount.amount + last.contribution.amount == D("20.71")  # one day: 10 h × £14.50 ÷ 7


def test_full_cost_over_a_partly_covered_period_is_the_whole_cost_of_its_care():
    """Paying the full cost, the person pays what the care costs, however few of the period's days
    it falls on (shared over the covered days only; over all 28 it came to a quarter of it here)."""
    start = datetime.date(2026, 4, 6)
    full_cost = [schedule.Charging(since=start - 30 * DAY, weekly=None)]
    first_week = lambda day: day < start + 7 * DAY  # noqa: E731
    assert schedule.contribution(full_cost, start, start + 27 * DAY, D("101.50"), first_week) == D("101.50")
    weekly = [schedule.Charging(since=start - 30 * DAY, weekly=D("30.00"))]
    assert schedule.contribution(weekly, start, start + 27 * DAY, D("101.50"), first_week) == D("30.00")

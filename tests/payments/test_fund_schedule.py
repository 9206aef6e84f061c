"""Direct payment and individual service fund schedules: the arithmetic (hypothesis) and the
schedule an approval makes, keeps and re-makes."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careplans.models import PlanStatus
from payments import schedule, services
from payments.models import FundAccount, FundKind, Load, LoadStatus
from tests.payments.invoice_fixtures import approve

DAY = datetime.timedelta(days=1)
BASE = datetime.date(2027, 4, 1)


def weekly_line(price: str, units: str, start: datetime.date, end: datetime.date) -> schedule.FundLine:
    return schedule.FundLine(unit_price=Decimal(price), units_per_week=Decimal(units), start=start, end=end)


# --- The arithmetic ------------------------------------------------------------------------------

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("80"), places=2)


@st.composite
def fund_lines(draw):
    start = BASE + draw(st.integers(0, 200)) * DAY
    if draw(st.booleans()):
        return schedule.FundLine(unit_price=draw(prices), quantity=draw(amounts), start=start, end=start)
    end = start + draw(st.integers(0, 300)) * DAY
    return schedule.FundLine(unit_price=draw(prices), units_per_week=draw(amounts), start=start, end=end)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(fund_lines(), min_size=1, max_size=6), approved=st.integers(0, 250), days=st.integers(7, 31))
def test_loads_add_up_exactly_to_what_the_fund_lines_cost_from_the_first_day_loaded(lines, approved, days):
    start = schedule.anchor(lines, BASE + approved * DAY)
    if start is None:
        assert all(line.end < BASE + approved * DAY for line in lines)
        return
    periods = schedule.periods(lines, grid_start=start, from_date=start, period_days=days)

    assert sum(p.amount for p in periods) == schedule.loaded_total(lines, from_date=start)
    assert all(p.amount >= 0 for p in periods)
    assert all((p.start - start).days % days == 0 and (p.end - p.start).days == days - 1 for p in periods)
    assert [p.start for p in periods] == sorted({p.start for p in periods})


@settings(max_examples=200, deadline=None)
@given(
    old=st.lists(fund_lines(), min_size=1, max_size=4),
    new=st.lists(fund_lines(), min_size=1, max_size=4),
    paid_count=st.integers(0, 6),
)
def test_re_scheduling_never_loads_a_paid_period_again_and_loses_no_unpaid_day(old, new, paid_count):
    start = schedule.anchor(old, BASE)
    first = schedule.periods(old, grid_start=start, from_date=start, period_days=28)
    paid = first[:paid_count]
    resume = paid[-1].end + DAY if paid else start

    again = schedule.periods(new, grid_start=start, from_date=resume, period_days=28)

    assert not {p.start for p in paid} & {p.start for p in again}
    assert all(p.start >= resume for p in again)
    assert sum(p.amount for p in again) == schedule.loaded_total(new, from_date=resume)


def test_a_period_is_priced_by_its_days_and_rounded_at_its_boundaries():
    # £14.50 an hour, 10 hours a week, 28 days: exactly 4 weeks = £580.00 a period.
    line = weekly_line("14.50", "10", BASE, BASE + 55 * DAY)
    periods = schedule.periods([line], grid_start=BASE, from_date=BASE, period_days=28)
    assert [(p.start, p.end, p.amount) for p in periods] == [
        (BASE, BASE + 27 * DAY, Decimal("580.00")),
        (BASE + 28 * DAY, BASE + 55 * DAY, Decimal("580.00")),
    ]


def test_days_before_the_approval_are_never_loaded():
    line = weekly_line("7.00", "1", BASE, BASE + 27 * DAY)  # £1 a day
    start = schedule.anchor([line], BASE + 7 * DAY)
    assert start == BASE + 7 * DAY
    [period] = schedule.periods([line], grid_start=start, from_date=start, period_days=28)
    assert period.amount == Decimal("21.00")


def test_a_schedule_must_start_on_the_grid():
    line = weekly_line("7.00", "1", BASE, BASE + 60 * DAY)
    with pytest.raises(ValueError):
        schedule.periods([line], grid_start=BASE, from_date=BASE + DAY, period_days=28)


# --- What approval makes ---------------------------------------------------------------------------


def pa(start: datetime.date, days: int, money_management: str = "direct_payment", units: str = "10") -> dict:
    return {
        "description": "Personal assistant",
        "unit": "hour",
        "unit_price": "14.50",
        "units_per_week": units,
        "start": start,
        "end": start + (days - 1) * DAY,
        "money_management": money_management,
    }


@pytest.fixture
def dp_plan(make_plan, client_user, budget, visits, social_worker, checklist, django_capture_on_commit_callbacks):
    """Ruth's plan: a PA by direct payment for 56 days, home visits by ISF, respite council-managed."""
    start = budget.period_start
    plan = make_plan(
        client_user,
        budget,
        lines=[
            pa(start, 56),
            {
                "service": visits.pk,
                "units_per_week": "2",
                "start": start,
                "end": start + 27 * DAY,
                "money_management": "individual_service_fund",
            },
        ],
        risks="Falls",
        contacts="My daughter",
    )
    with django_capture_on_commit_callbacks(execute=True):
        return approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)


def test_approving_a_plan_makes_a_direct_payment_for_the_client_and_a_fund_for_the_isf_provider(dp_plan, visits):
    dp = FundAccount.objects.get(budget=dp_plan.budget, kind=FundKind.DIRECT_PAYMENT)
    isf = FundAccount.objects.get(budget=dp_plan.budget, kind=FundKind.INDIVIDUAL_SERVICE_FUND)

    assert dp.holder == dp_plan.client and dp.holder_provider is None
    assert isf.holder is None and isf.holder_provider == visits.provider
    assert [load.amount.amount for load in dp.loads.order_by("period_start")] == [Decimal("580.00")] * 2
    # Two visits a week at £24.50 for 28 days: £196.00, one load.
    assert [load.amount.amount for load in isf.loads.all()] == [Decimal("196.00")]
    assert set(Load.objects.values_list("status", flat=True)) == {LoadStatus.SCHEDULED}
    assert dp.loads.first().due == dp.anchor == dp_plan.budget.period_start


def test_making_the_schedule_again_changes_nothing(dp_plan):
    before = list(Load.objects.order_by("pk").values())

    assert services.funds_schedule(plan_id=dp_plan.pk) == []
    assert services.funds_schedule_missing() == 0
    assert list(Load.objects.order_by("pk").values()) == before


def test_a_council_managed_plan_makes_no_fund(make_plan, client_user, budget, visits, social_worker, checklist):
    start = budget.period_start
    plan = make_plan(
        client_user,
        budget,
        lines=[{"service": visits.pk, "units_per_week": "2", "start": start, "end": start + 27 * DAY}],
        risks="Falls",
        contacts="My daughter",
    )
    approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)
    assert not FundAccount.objects.exists() and not Load.objects.exists()


def test_a_new_version_keeps_paid_loads_and_re_schedules_the_rest(
    dp_plan, client_user, social_worker, checklist, django_capture_on_commit_callbacks
):
    from careplans.services import plan_new_version, plan_update

    dp = FundAccount.objects.get(budget=dp_plan.budget, kind=FundKind.DIRECT_PAYMENT)
    first, second = dp.loads.order_by("period_start")
    Load.objects.filter(pk=first.pk).update(status=LoadStatus.PAID)  # paid by a run (built directly)
    new = plan_new_version(actor=client_user, plan=dp_plan)
    start = dp_plan.budget.period_start
    plan_update(actor=client_user, plan=new, lines=[pa(start, 56, units="20")])  # more hours; the ISF ends

    with django_capture_on_commit_callbacks(execute=True):
        new = approve(new, submitter=client_user, reviewer=social_worker, checklist=checklist)

    dp.refresh_from_db()
    loads = list(dp.loads.order_by("period_start", "pk"))
    assert [(load.period_start, load.status, load.amount.amount) for load in loads] == [
        (first.period_start, LoadStatus.PAID, Decimal("580.00")),  # never changed, never paid again
        (second.period_start, LoadStatus.CANCELLED, Decimal("580.00")),
        (second.period_start, LoadStatus.SCHEDULED, Decimal("1160.00")),  # priced again from version 2
    ]
    assert loads[-1].plan == new
    isf = FundAccount.objects.get(budget=dp_plan.budget, kind=FundKind.INDIVIDUAL_SERVICE_FUND)
    assert set(isf.loads.values_list("status", flat=True)) == {LoadStatus.CANCELLED}
    assert new.status == PlanStatus.APPROVED


def test_the_daily_job_makes_a_schedule_a_lost_message_never_made(
    make_plan, client_user, budget, social_worker, checklist
):
    plan = make_plan(client_user, budget, lines=[pa(budget.period_start, 28)], risks="Falls", contacts="My son")
    approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)  # on-commit never runs here
    assert not Load.objects.exists()

    assert services.funds_schedule_missing() == 1
    assert Load.objects.get().amount.amount == Decimal("580.00")


# --- The API -------------------------------------------------------------------------------------


def dp_url(budget) -> str:
    return f"/api/v1/budgets/{budget.pk}/direct-payment/"


def test_the_client_sees_their_direct_payment_with_its_schedule_and_figures(api_as, dp_plan):
    response = api_as(dp_plan.client).get(dp_url(dp_plan.budget))

    assert response.status_code == 200
    body = response.json()
    assert body["holder"] == dp_plan.client.pk and body["holder_provider"] is None
    assert [row["amount"] for row in body["schedule"]] == [{"amount": "580.00", "currency": "GBP"}] * 2
    assert {row["status"] for row in body["schedule"]} == {"scheduled"}
    assert body["loaded"] == body["balance"] == body["surplus"] == {"amount": "0.00", "currency": "GBP"}
    assert body["flags"] == []


@pytest.mark.parametrize("who", ["social_worker", "finance_user"])
def test_the_social_worker_and_finance_see_the_same_account(api_as, dp_plan, who, request):
    assert api_as(request.getfixturevalue(who)).get(dp_url(dp_plan.budget)).status_code == 200


@pytest.mark.parametrize("who", ["provider_user", "case_manager"])
def test_people_who_may_not_see_the_budget_get_404(api_as, dp_plan, who, request):
    assert api_as(request.getfixturevalue(who)).get(dp_url(dp_plan.budget)).status_code == 404


def test_another_client_gets_404(api_as, dp_plan):
    from tests import factories

    assert api_as(factories.ClientFactory()).get(dp_url(dp_plan.budget)).status_code == 404


def test_a_budget_without_a_direct_payment_is_404(api_as, client_user, budget):
    assert api_as(client_user).get(dp_url(budget)).status_code == 404


def test_the_isf_provider_sees_its_own_fund_and_the_client_sees_all(api_as, dp_plan, visits):
    url = f"/api/v1/budgets/{dp_plan.budget.pk}/individual-service-funds/"
    staff = visits.provider.staff.first()
    if staff is None:
        from tests import factories

        staff = factories.ProviderStaffFactory(provider=visits.provider)

    mine = api_as(staff).get(url)
    everyone = api_as(dp_plan.client).get(url)

    assert mine.status_code == everyone.status_code == 200
    assert [fund["holder_provider"] for fund in mine.json()] == [visits.provider.pk]
    assert mine.json() == everyone.json()
    assert (
        api_as(dp_plan.client).get(f"/api/v1/budgets/{dp_plan.budget.pk + 999}/individual-service-funds/").status_code
        == 404
    )

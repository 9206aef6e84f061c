"""In Chromium, one journey for each of the plan and budget fixes: one plan in progress, the
budget period's limits, figures that add up, the GOV.UK date input with the cost shown from the
units alone, and units a week capped by the unit. Needs Debian's Chromium (tests/browser/conftest.py)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money
from playwright.sync_api import expect

from budgets.models import Assessment, PersonalBudget
from budgets.services import assessments as assessment_services
from budgets.services import ledger
from careplans import services as plan_services
from careplans.costing import weekly_cost
from careplans.models import CarePlan, PlanStatus
from tests import factories
from tests.browser.conftest import browser_type_launch_args  # noqa: F401 (Chromium, as in tests/browser)
from tests.browser.test_assessment_journey import sign_in
from tests.browser.test_plan_designer_journey import budget_for, offered

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _patient(page):
    """A shared CI machine can be slow to answer: wait longer than Playwright's defaults."""
    page.set_default_navigation_timeout(90_000)
    page.set_default_timeout(30_000)


def money(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def test_start_a_care_plan_twice_opens_the_one_plan(live_server, page, example_scheme):
    client = factories.ClientFactory(full_name="Ruth Ellis")
    budget = budget_for(client, example_scheme, "5000.00")
    sign_in(page, live_server, client)
    page.goto(f"{live_server.url}/budgets/{budget.pk}/")
    page.get_by_role("button", name="Start a care plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    first = page.url
    # An old tab (or the back button) still shows the button: pressing it again opens the same plan.
    page.go_back()
    page.reload()
    expect(page.get_by_role("button", name="Start a care plan")).to_have_count(0)
    page.get_by_role("link", name="Carry on with the care plan").click()
    assert page.url == first
    # The old tab's button, pressed again: the same plan, not a second draft.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    again = page.request.post(
        f"{live_server.url}/budgets/{budget.pk}/plans/new/",
        headers={"X-CSRFToken": token, "Referer": page.url},
        max_redirects=0,
    )
    assert again.status == 302 and first.endswith(again.headers["location"])
    assert CarePlan.objects.filter(budget=budget).count() == 1


def test_a_budget_period_that_has_ended_is_refused_by_the_date(live_server, page, example_scheme):
    social_worker = factories.SocialWorkerFactory(full_name="Sam Patel")
    client = factories.ClientFactory(full_name="Ruth Ellis")
    factories.CaseloadAssignmentFactory(social_worker=social_worker, client=client)
    answers = {
        q: "independent"
        for q in ("nutrition", "hygiene", "toilet", "dressing", "home_safety",
                  "habitable_home", "relationships", "work_education", "community", "caring_for_child")
    }  # fmt: skip
    answers.update(nutrition="some_help", hygiene="some_help", night_support="none", risk="low")
    assessment = assessment_services.assessment_create(
        actor=social_worker, client=client, answers=answers, impairment=True, wellbeing_impact=True, require_all=True
    )
    sign_in(page, live_server, social_worker)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/")
    group = page.get_by_role("group", name="When does the budget period start?")
    group.get_by_label("Day").fill("1")
    group.get_by_label("Month").fill("1")
    group.get_by_label("Year").fill("2020")
    page.get_by_role("button", name="Complete assessment and set up the budget").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The budget period cannot start before")
    expect(page.locator("#id_period_start-error")).to_contain_text("The budget period cannot start before")
    assert not PersonalBudget.objects.exists()
    assert Assessment.objects.get(pk=assessment.pk).status == "draft"


def test_the_budget_figures_add_up(live_server, page, example_scheme):
    client = factories.ClientFactory(full_name="Ruth Ellis")
    budget = budget_for(client, example_scheme, "10000.00")
    plan = plan_services.plan_create(actor=client, budget=budget)
    ledger.commit(budget=budget, amount=Money("6000.00", "GBP"), key="test:commit")
    ledger.record_payment(budget=budget, amount=Money("2000.00", "GBP"), key="test:pay")
    CarePlan.objects.filter(pk=plan.pk).update(
        status=PlanStatus.APPROVED, committed_amount=Money("6000.00", "GBP"), paid_amount=Money("2000.00", "GBP")
    )
    sign_in(page, live_server, client)
    page.goto(f"{live_server.url}/budgets/{budget.pk}/")

    def amount(testid: str) -> Decimal:
        return Decimal(re.sub(r"[£,]", "", page.get_by_test_id(testid).first.inner_text()))

    assert amount("allocated") == amount("committed") + amount("available")
    assert amount("committed") == amount("paid") + amount("still-to-pay")
    expect(page.get_by_text("of which paid to providers")).to_be_visible()
    page.goto(f"{live_server.url}/plans/{plan.pk}/")
    expect(page.get_by_test_id("available-why")).to_contain_text("The budget's £4,000.00 available to plan, plus the")
    expect(page.get_by_test_id("available-why")).to_contain_text("this plan already holds")


def test_weekly_support_is_costed_as_soon_as_the_units_are_typed(live_server, page, example_scheme):
    client = factories.ClientFactory(full_name="Ruth Ellis")
    budget = budget_for(client, example_scheme, "5000.00")
    plan = plan_services.plan_create(actor=client, budget=budget)
    service = offered("Brightside Care", "Morning visits", "20.00", "hour")
    sign_in(page, live_server, client)
    page.goto(f"{live_server.url}/plans/{plan.pk}/lines/add/?service={service.pk}")
    expect(page.get_by_role("radio", name="Every week", exact=True)).to_be_checked()
    end = page.get_by_role("group", name="End date, for support every week")
    expect(end.get_by_label("Day")).to_have_value(str(budget.period_end.day))
    expect(end.get_by_label("Month")).to_have_value(str(budget.period_end.month))
    expect(end.get_by_label("Year")).to_have_value(str(budget.period_end.year))
    expect(page.get_by_text("Leave blank for a one-off")).to_have_count(0)
    page.get_by_label("How many units").fill("2")
    start = max(timezone.localdate(), budget.period_start)
    expected = money(weekly_cost(Decimal("20.00"), 2, start, budget.period_end))
    # "Work out the cost" (the way without JavaScript): the units alone give the cost.
    page.get_by_role("button", name="Work out the cost").click()
    expect(page.get_by_test_id("line-cost")).to_have_text(expected)
    page.get_by_role("button", name="Add to plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    line = plan.lines.get()
    assert (line.start, line.end, money(line.cost.amount)) == (start, budget.period_end, expected)


def test_forty_nights_of_respite_a_week_is_refused(live_server, page, example_scheme):
    client = factories.ClientFactory(full_name="Ruth Ellis")
    budget = budget_for(client, example_scheme, "500000.00")
    plan = plan_services.plan_create(actor=client, budget=budget)
    service = offered("Riverside Lodge", "Respite nights", "120.00", "night")
    sign_in(page, live_server, client)
    page.goto(f"{live_server.url}/plans/{plan.pk}/lines/add/?service={service.pk}")
    page.get_by_label("How many units").fill("40")
    page.get_by_role("button", name="Add to plan").click()
    message = "The number of units must be at most 7 nights a week (a week has 7)."
    expect(page.locator(".govuk-error-summary")).to_contain_text(message)
    expect(page.locator("#id_amount-error")).to_contain_text(message)
    assert not plan.lines.exists()
    assert datetime.date.today() <= budget.period_end

"""A client builds a mixed plan in the browser: a catalogue service the council pays for, and a
personal assistant they arrange and pay themselves with a direct payment. They see the plan's cost
split by how it is managed, the mixed-plan note, and submit the plan."""

import datetime
import re
from decimal import Decimal

import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from careplans.models import CarePlan, PlanStatus
from tests import factories
from tests.browser.dates import fill_date
from tests.browser.test_assessment_journey import sign_in
from tests.browser.test_plan_designer_journey import HTMX_ABORT_NOISE, budget_for, offered, pounds, weekly_cost

DAYS = 14


def money_row(page, label: str):
    """The value cell of the "How the money is managed" row called `label`."""
    return page.locator(".govuk-summary-list__row", has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator(
        "dd"
    )


@pytest.mark.django_db(transaction=True)
def test_client_builds_a_plan_with_a_council_service_and_their_own_personal_assistant_and_submits_it(
    live_server, page, example_scheme
):
    client = factories.ClientFactory(full_name="Ruth Ellis")
    budget = budget_for(client, example_scheme, "5000.00")
    offered("Brightside Care", "Morning visits", "20.00", "hour")
    start = budget.period_start
    end = start + datetime.timedelta(days=DAYS - 1)
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))

    sign_in(page, live_server, client)
    page.locator("main").get_by_role("link", name="My budget").click()  # the home page task, not the header link
    page.get_by_role("button", name="Start a care plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    plan = CarePlan.objects.get(budget=budget)
    expect(page.get_by_text("Each piece of support says how it is paid when you add it.")).to_be_visible()

    # 1. A catalogue service, paid by the council: 2 hours a week of visits at £20.00.
    page.get_by_role("link", name="Add support").click()
    page.get_by_label("Search the catalogue").fill("visits")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Choose Morning visits from Brightside Care").click()
    expect(page.get_by_role("group", name="How it is paid")).to_be_visible()
    page.get_by_role("radio", name="The council pays the provider").check()
    page.get_by_role("radio", name="Every week", exact=True).check()
    page.get_by_label("How many units").fill("2")
    fill_date(page, "Start date", start)
    fill_date(page, "End date, for support every week", end)
    visits = weekly_cost("20.00", "2", DAYS)  # £80.00
    expect(page.get_by_test_id("line-cost")).to_have_text(pounds(visits))
    page.get_by_role("button", name="Add to plan").click()
    expect(page.get_by_role("alert")).to_contain_text("The support is added to your plan.")

    # 2. Her own personal assistant: £14.50 an hour, 10 hours a week, a direct payment.
    page.get_by_role("link", name="Add support").click()
    page.get_by_role("link", name="add support you arrange yourself").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add your own arrangement")
    expect(page.get_by_role("main")).to_contain_text("It is paid for with a direct payment")
    expect(page.get_by_role("group", name="How it is paid")).to_have_count(0)
    page.get_by_label("What is it?").fill("Personal assistant")
    page.get_by_label("Paid by the").select_option("hour")
    page.get_by_label("Price for each, in pounds").fill("14.50")
    page.get_by_role("radio", name="Every week", exact=True).check()
    page.get_by_label("How many units").fill("10")
    fill_date(page, "Start date", start)
    fill_date(page, "End date, for support every week", end)
    assistant = weekly_cost("14.50", "10", DAYS)  # £290.00
    # The running total includes the arrangement as the person types; nothing is saved yet.
    expect(page.get_by_test_id("line-cost")).to_have_text(pounds(assistant))
    expect(page.get_by_test_id("plan-total")).to_have_text(pounds(visits + assistant))
    assert plan.lines.count() == 1, "a preview saves nothing"
    page.get_by_role("button", name="Add to plan").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Your own arrangement is added to your plan, paid by direct payment."
    )

    # 3. The plan page: the cost by how it is managed, and the mixed-plan note.
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    expect(page.get_by_test_id("plan-total")).to_have_text(pounds(visits + assistant))
    assert visits + assistant == Decimal("370.00")
    expect(page.get_by_role("row", name=re.compile("Personal assistant"))).to_contain_text(
        "Your own arrangement · £14.50 per hour · Direct payment to me"
    )
    expect(page.get_by_role("row", name=re.compile("Morning visits"))).to_contain_text(
        "Brightside Care · £20.00 per hour · Council-managed account"
    )
    expect(money_row(page, "Council-managed account")).to_have_text(pounds(visits))
    expect(money_row(page, "Direct payment to me")).to_have_text(pounds(assistant))
    expect(money_row(page, "Individual service fund held by a provider")).to_have_count(0)
    expect(page.get_by_text("This is a mixed plan: its support is paid in more than one way.")).to_be_visible()

    # 4. She submits it.
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("alert")).to_contain_text("The plan is submitted.")
    expect(page.locator("main .govuk-caption-l")).to_have_text("Version 1 · Submitted")

    plan = CarePlan.objects.get(pk=plan.pk)
    assert plan.status == PlanStatus.SUBMITTED
    assert plan.total_cost == Money("370.00", "GBP")
    lines = list(plan.lines.order_by("position").values_list("title", "service_id", "money_management", "cost"))
    assert [(title, service is None, way, cost) for title, service, way, cost in lines] == [
        ("Morning visits", False, "council_managed", visits),
        ("Personal assistant", True, "direct_payment", assistant),
    ]

    csp_errors = [text for text in console_errors if "Content Security Policy" in text or "Refused to" in text]
    assert csp_errors == [], csp_errors
    others = [text for text in console_errors if not HTMX_ABORT_NOISE.match(text)]
    assert others == [], others

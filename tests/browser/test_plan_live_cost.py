"""The plan designer's live cost: on the add-a-line form, typing the number of units is enough for
the running-total panel (htmx) to show what the support costs. "Every week" is preselected and the
end date (a GOV.UK date input) already holds the budget's end, so nothing else need be typed; a
blank end still means "until the budget ends", and an earlier end is priced as typed. Nothing is
saved until "Add to plan" is pressed.

The panel is posted by the form itself (`hx-trigger="input delay:400ms"` on the <form>): every
box's `input` event bubbles to it, the day, month and year boxes included, and the server fills a
blank start and end with their defaults for a preview (careplans.views.LineForm)."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from careplans import services as plan_services
from careplans.costing import weekly_cost
from careplans.models import PlanLine
from tests import factories
from tests.browser.dates import fill_date
from tests.browser.test_assessment_journey import sign_in
from tests.browser.test_plan_designer_journey import budget_for, offered

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 30_000  # a shared machine may be slow to answer


def pounds(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


@pytest.mark.parametrize("reader", ["client", "social worker"])
def test_typing_the_units_shows_the_cost_without_typing_an_end_date(live_server, page, example_scheme, reader):
    client = factories.ClientFactory(full_name="Ruth Ellis")
    budget = budget_for(client, example_scheme, "5000.00")
    plan = plan_services.plan_create(actor=client, budget=budget)
    service = offered("Brightside Care", "Morning visits", "20.00", "hour")
    user = client
    if reader == "social worker":
        user = factories.SocialWorkerFactory(full_name="Sam Patel")
        factories.CaseloadAssignmentFactory(social_worker=user, client=client)
    previews = []
    page.on("request", lambda r: previews.append(r.url) if r.method == "POST" and r.headers.get("hx-request") else None)

    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/plans/{plan.pk}/lines/add/?service={service.pk}")
    main = page.locator("main")
    page.evaluate("window.__sameDocument = true")
    expect(main.get_by_role("radio", name="Every week", exact=True)).to_be_checked()
    end = main.get_by_role("group", name="End date, for support every week")
    for box, value in (("Day", budget.period_end.day), ("Month", budget.period_end.month)):
        expect(end.get_by_label(box, exact=True)).to_have_value(str(value))
    expect(end.get_by_label("Year", exact=True)).to_have_value(str(budget.period_end.year))
    whose = "your" if reader == "client" else "Ruth Ellis's"
    expect(main.get_by_role("heading", name=f"What this does to {whose} plan's total")).to_be_visible()
    panel = main.locator("#plan-costing")
    expect(panel.get_by_test_id("line-cost")).to_have_count(0)

    # The units, typed key by key: the panel shows the cost to the budget's end.
    main.get_by_label("How many units").press_sequentially("3", delay=50)
    start = max(datetime.date.today(), budget.period_start)
    to_the_end = pounds(weekly_cost(Decimal("20.00"), 3, start, budget.period_end))
    expect(panel.get_by_test_id("line-cost")).to_have_text(to_the_end, timeout=WAIT)
    expect(panel.get_by_test_id("plan-total")).to_have_text(to_the_end)
    expect(panel).to_contain_text("Plan total with this change")

    # An earlier end, typed into the date boxes, is priced as typed...
    four_weeks = start + datetime.timedelta(days=27)
    fill_date(main, "End date, for support every week", four_weeks)
    expect(panel.get_by_test_id("line-cost")).to_have_text(
        pounds(weekly_cost(Decimal("20.00"), 3, start, four_weeks)), timeout=WAIT
    )
    # ...and emptied boxes mean "until the budget ends" again.
    fill_date(main, "End date, for support every week", None)
    expect(panel.get_by_test_id("line-cost")).to_have_text(to_the_end, timeout=WAIT)

    assert page.evaluate("window.__sameDocument === true"), "the cost came by htmx, not a page load"
    assert previews, "htmx posted the previews"
    assert not PlanLine.objects.filter(plan=plan).exists(), "a preview saves nothing"

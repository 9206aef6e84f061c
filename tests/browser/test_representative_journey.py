"""A representative in a real browser: Pat signs in, finds Ruth (the client Pat acts for) on the
home page, opens Ruth's budget and then her care plan, and submits it for her."""

import re

import pytest
from playwright.sync_api import expect

from careplans import services as plan_services
from careplans.models import PlanStatus
from tests import factories
from tests.accounts.representative_fixtures import representative_of
from tests.browser.test_assessment_journey import sign_in
from tests.browser.test_plan_designer_journey import budget_for, offered


@pytest.mark.django_db(transaction=True)
def test_representative_opens_ruths_budget_and_plan_and_submits_it(live_server, page, example_scheme):
    ruth = factories.ClientFactory(full_name="Ruth Ellis")
    factories.CaseloadAssignmentFactory(social_worker=factories.SocialWorkerFactory(full_name="Sam Patel"), client=ruth)
    budget = budget_for(ruth, example_scheme, "5000.00")
    visits = offered("Brightside Care", "Morning visits", "20.00", "hour")
    start = budget.period_start
    plan = plan_services.plan_create(
        actor=ruth,
        budget=budget,
        outcomes=["Get out to the allotment every week"],
        lines=[{"service": visits.pk, "units_per_week": "2", "start": start, "end": start}],
    )
    pat = representative_of(ruth, full_name="Pat Ellis")

    sign_in(page, live_server, pat)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Pat")
    expect(page.get_by_role("heading", name="People you act for")).to_be_visible()
    expect(page.get_by_role("heading", name="Ruth Ellis", level=3)).to_be_visible()

    page.get_by_role("link", name="Budget for Ruth Ellis").click()
    expect(page).to_have_url(re.compile(rf"/budgets/{budget.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget for Ruth Ellis")
    expect(page.get_by_text("£5,000.00").first).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^Version 1")).click()
    expect(page).to_have_url(re.compile(rf"/plans/{plan.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    expect(page.get_by_text("Morning visits").first).to_be_visible()

    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.get_by_role("alert")).to_contain_text("The plan is submitted.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED

    # Nobody else's: another client's budget is not found.
    other = budget_for(factories.ClientFactory(full_name="Ben Clarke"), example_scheme, "100.00")
    response = page.goto(f"{live_server.url}/budgets/{other.pk}/")
    assert response.status == 404

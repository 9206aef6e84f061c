"""A social worker assesses a client in the browser; the client then reads their budget."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.factories import PASSWORD


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


@pytest.mark.django_db(transaction=True)
def test_social_worker_assesses_and_client_sees_how_the_budget_was_worked_out(live_server, page, example_scheme):
    social_worker = factories.SocialWorkerFactory(full_name="Sam Patel")
    client = factories.ClientFactory(full_name="Ruth Ellis")
    factories.CaseloadAssignmentFactory(social_worker=social_worker, client=client)

    sign_in(page, live_server, social_worker)
    page.locator("main").get_by_role("link", name="My caseload").click()
    expect(page.get_by_role("row", name=re.compile("Ruth Ellis"))).to_contain_text("Not assessed")
    page.get_by_role("button", name="Start assessment of Ruth Ellis").click()

    unable = {"Preparing meals and drinks, and eating and drinking": "Needs help with most meals",
              "Washing, bathing and keeping clean": "Needs help with washing most days"}  # fmt: skip
    for _ in range(20):
        heading = page.get_by_role("heading", level=1).inner_text()
        if heading == "Eligibility conditions":
            break
        for group in page.locator("fieldset").all():
            legend = group.locator("legend").inner_text()
            choice = unable.get(legend)
            (group.get_by_label(choice) if choice else group.locator("input[type=radio]").first).check()
        page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("group", name=re.compile("impairment or illness")).get_by_label("Yes").check()
    page.get_by_role("group", name=re.compile("impact on their wellbeing")).get_by_label("Yes").check()
    page.get_by_role("button", name="Save and check answers").click()

    expect(page.get_by_role("heading", name="Eligible for support")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=re.compile("Indicative budget"))).to_contain_text("£4,000.00")
    page.get_by_role("button", name="Complete assessment and set up the budget").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget for Ruth Ellis")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, client)
    page.locator("main").get_by_role("link", name="My budget").click()  # the home page task, not the header link
    expect(page.get_by_role("heading", level=1)).to_have_text("My budget")
    expect(page.get_by_text("Your answers scored 16 points.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("£4,000.00")

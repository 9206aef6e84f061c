"""Each role's first journey in a real browser: sign in, see their home page, sign out."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.accounts.representative_fixtures import RepresentativeFactory
from tests.factories import PASSWORD

ROLE_FACTORIES = {
    "client": (factories.ClientFactory, ["Your account"]),
    "representative": (RepresentativeFactory, ["Budgets of the people you act for", "Your account"]),
    "social_worker": (factories.SocialWorkerFactory, ["My caseload"]),
    "team_manager": (factories.TeamManagerFactory, ["My team"]),
    "case_manager": (factories.CaseManagerFactory, ["Your account"]),
    "provider": (factories.ProviderStaffFactory, ["Your account"]),
    "finance": (factories.FinanceFactory, ["Your account"]),
    "admin": (factories.AdminFactory, ["Administration", "API documentation"]),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", sorted(ROLE_FACTORIES))
def test_role_signs_in_sees_home_and_signs_out(role, live_server, page):
    factory, expected_links = ROLE_FACTORIES[role]
    user = factory(full_name=f"Pat {role.title()}")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Cairn")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Pat")
    main = page.locator("main")
    for link in expected_links:
        expect(main.get_by_role("link", name=link)).to_be_visible()
    if role != "admin":
        expect(main.get_by_role("link", name="Administration")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Cairn")
    page.goto(f"{live_server.url}/account/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))


@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_the_error_summary_with_focus(live_server, page):
    user = factories.ClientFactory()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    # GOV.UK Frontend's JavaScript ran (CSP allowed it) and moved focus to the summary.
    expect(summary).to_be_focused()


@pytest.mark.django_db(transaction=True)
def test_keyboard_user_reaches_the_skip_link_first(live_server, page):
    page.goto(f"{live_server.url}/sign-in/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    # Following an in-page link changes the URL a moment after the key press: wait for it.
    page.wait_for_url("**/sign-in/#main-content", timeout=5000)
    assert page.url.endswith("#main-content")

"""The approval workflow in the browser: the client submits, the social worker asks for changes,
the client changes the plan and submits again, the team manager approves, and the client reads
the history of who did what."""

import re

import pytest
from playwright.sync_api import expect

from approvals.models import PlanReview
from approvals.services import CHECKLIST
from careplans.models import CarePlan, PlanStatus
from tests.approvals.conftest import draft_plan  # noqa: F401  (pytest fixtures by name)
from tests.browser.test_assessment_journey import sign_in
from tests.careplans.conftest import (  # noqa: F401
    budget,
    make_budget,
    make_plan,
    make_provider,
    make_service,
    visits,
)

CHANGES = "Please add a phone number for your daughter, in case the carers cannot reach you."
NEW_CONTACTS = "My daughter, Jo Ellis: 07700 900123"


def collect_console_errors(page, errors: list[str]) -> None:
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))


def caption(page):
    return page.locator("main .govuk-caption-l")


def long_date(day) -> str:
    """The templates' `j F Y`: 7 March 2026."""
    return f"{day.day} {day:%B %Y}"


def open_review_from_queue(page, client_name: str, status: str) -> None:
    page.locator("main").get_by_role("link", name="Plans to review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plans to review")
    expect(page.get_by_role("row", name=re.compile(client_name))).to_contain_text(status)
    # The link says "Ruth Ellis – review version 1" (the second part is visually hidden).
    page.get_by_role("link", name=re.compile(rf"^{client_name}\s*– review version 1$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Review the care plan for {client_name}")
    expect(caption(page)).to_have_text(f"Version 1 · {status}")
    page.get_by_role("button", name="Start the review").click()
    expect(page.get_by_role("alert")).to_contain_text("You are reviewing the plan.")
    expect(caption(page)).to_have_text("Version 1 · In review")
    expect(page.get_by_role("heading", level=2, name="Your decision")).to_be_visible()


def submit_for_review(page, plan) -> None:
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The plan is submitted. You will be told when the review starts and what is decided."
    )
    expect(caption(page)).to_have_text("Version 1 · Submitted")
    due = PlanReview.objects.get(plan=plan, decided_at__isnull=True).due
    expect(page.locator("main")).to_contain_text(f"Review due by {long_date(due)}")
    expect(page.get_by_role("button", name="Submit for review")).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_submit_ask_for_changes_resubmit_approve_and_read_the_history(
    live_server,
    page,
    new_context,
    client_user,
    social_worker,
    team_manager,
    draft_plan,  # noqa: F811
):
    plan_url = f"{live_server.url}/plans/{draft_plan.pk}/"
    console_errors: list[str] = []
    collect_console_errors(page, console_errors)

    # 1. Ruth submits her draft plan.
    sign_in(page, live_server, client_user)
    page.goto(plan_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    expect(caption(page)).to_have_text("Version 1 · Draft")
    submit_for_review(page, draft_plan)

    # 2. Sam, in his own browser, starts the review and asks for changes.
    sam = new_context().new_page()
    collect_console_errors(sam, console_errors)
    sign_in(sam, live_server, social_worker)
    open_review_from_queue(sam, "Ruth Ellis", "Submitted")
    expect(sam.get_by_role("button", name="Approve the plan")).to_be_visible()  # Sam did not draft it
    sam.get_by_label("Comment", exact=True).fill(CHANGES)
    sam.get_by_role("button", name="Ask for changes").click()
    expect(sam.get_by_role("alert")).to_contain_text("The plan is sent back with your comment.")
    expect(sam.get_by_role("heading", level=1)).to_have_text("Plans to review")
    expect(sam.get_by_text("No plans are waiting for review.")).to_be_visible()
    expect(sam.get_by_role("link", name=re.compile("Ruth Ellis"))).to_have_count(0)

    # 3. Ruth reads the comment, changes her contacts and submits again.
    page.goto(plan_url)
    expect(caption(page)).to_have_text("Version 1 · Changes requested")
    expect(page.locator("main .govuk-inset-text")).to_have_text(f"Changes asked for: “{CHANGES}”")
    expect(page.get_by_text("Review due by")).to_have_count(0)
    page.get_by_role("link", name="Change outcomes, money, risks and contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan details")
    expect(page.get_by_label("Who to contact")).to_have_value("My daughter")
    page.get_by_label("Who to contact").fill(NEW_CONTACTS)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Your plan is saved as a draft.")
    expect(caption(page)).to_have_text("Version 1 · Changes requested")
    expect(page.locator("main")).to_contain_text(NEW_CONTACTS)
    submit_for_review(page, draft_plan)
    expect(page.get_by_text("Changes asked for")).to_have_count(0)

    # 4. Taylor, Sam's team manager, starts the second review and approves with the checklist.
    taylor = new_context().new_page()
    collect_console_errors(taylor, console_errors)
    sign_in(taylor, live_server, team_manager)
    open_review_from_queue(taylor, "Ruth Ellis", "Submitted")
    expect(taylor.locator("main")).to_contain_text(NEW_CONTACTS)
    checklist = taylor.get_by_role("group", name="Sign-off checklist")
    for label in CHECKLIST.values():
        checklist.get_by_label(label, exact=True).check()
    taylor.get_by_role("button", name="Approve the plan").click()
    expect(taylor.get_by_role("alert")).to_contain_text("The plan is approved and the money is set aside.")
    expect(taylor.get_by_role("heading", level=1)).to_have_text("Plans to review")
    expect(taylor.get_by_text("No plans are waiting for review.")).to_be_visible()

    # 5. Ruth sees the plan approved and who did what, oldest first.
    page.goto(plan_url)
    expect(caption(page)).to_have_text("Version 1 · Approved")
    expect(page.get_by_text("Review due by")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit for review")).to_have_count(0)
    expect(page.get_by_role("link", name="Change outcomes, money, risks and contacts")).to_have_count(0)
    history = page.get_by_role("list", name="History").get_by_role("listitem")
    expected = [
        ("Submitted", "Ruth Ellis", None),
        ("In review", "Sam Patel", None),
        ("Changes requested", "Sam Patel", CHANGES),
        ("Submitted", "Ruth Ellis", None),
        ("In review", "Taylor Reid", None),
        ("Approved", "Taylor Reid", None),
    ]
    expect(history).to_have_count(len(expected))
    for entry, (status, who, comment) in zip(history.all(), expected, strict=True):
        expect(entry.locator("strong")).to_have_text(status)
        expect(entry).to_contain_text(f" by {who}")
        if comment:
            expect(entry).to_contain_text(f"“{comment}”")
        else:
            expect(entry).not_to_contain_text("“")

    draft_plan.refresh_from_db()
    assert draft_plan.status == PlanStatus.APPROVED
    assert draft_plan.contacts == NEW_CONTACTS
    assert CarePlan.objects.get(pk=draft_plan.pk).committed_amount == draft_plan.total_cost
    csp_errors = [text for text in console_errors if "Content Security Policy" in text or "Refused to" in text]
    assert csp_errors == [], csp_errors
    assert console_errors == [], console_errors

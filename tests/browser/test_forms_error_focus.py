"""The error pattern in the browser: after a refused form the error summary has the focus (GOV.UK
Frontend's ErrorSummary, started by `data-module`), and its link takes the focus to the field."""

# ruff: noqa: F811  (pytest fixtures imported from tests/approvals/conftest.py, requested by name)

import pytest
from playwright.sync_api import expect

from approvals import services as workflow
from approvals.services import CHECKLIST
from marketplace.services import review_create
from tests.approvals.conftest import budget, draft_plan, make_budget, make_plan, make_provider, make_service, visits  # noqa: F401
from tests.browser.test_assessment_journey import sign_in


@pytest.fixture
def review(draft_plan, client_user, social_worker):
    workflow.plan_submit(actor=client_user, plan=draft_plan)
    workflow.plan_start_review(actor=social_worker, plan=draft_plan)
    plan = workflow.plan_approve(actor=social_worker, plan=draft_plan, checklist=dict.fromkeys(CHECKLIST, True))
    return review_create(actor=client_user, provider=plan.lines.get().provider, rating=2, text="They were late")


@pytest.mark.django_db(transaction=True)
def test_hiding_a_review_without_a_reason_focuses_the_summary_whose_link_focuses_the_box(
    live_server, page, case_manager, review
):
    sign_in(page, live_server, case_manager)
    page.goto(f"{live_server.url}/quality/reviews/")
    page.get_by_role("button", name=f"Hide review {review.pk}").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Enter the reason for hiding the review")).to_have_attribute(
        "href", "#id_reason"
    )
    expect(page.locator("#id_reason-error")).to_contain_text("Enter the reason for hiding the review")
    summary.get_by_role("link", name="Enter the reason for hiding the review").click()
    expect(page.locator("#id_reason")).to_be_focused()

    page.locator("#id_reason").fill("It names one of the carers")
    page.get_by_role("button", name="Hide the review").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("The review is hidden")

"""Reviews in the browser (issue 8): a client with an approved plan rates a provider and sees it on
the provider page; a case manager hides it; the client still sees it, marked hidden, but it leaves
the score, and nobody else sees it."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals import services
from approvals.services import CHECKLIST
from marketplace.models import Review
from tests.approvals.conftest import draft_plan  # noqa: F401  (pytest fixtures by name)
from tests.browser.test_approval_journey import collect_console_errors, long_date
from tests.browser.test_assessment_journey import sign_in
from tests.careplans.conftest import (  # noqa: F401
    budget,
    make_budget,
    make_plan,
    make_provider,
    make_service,
    visits,
)

TEXT = "The carers always came on time and took care to do things the way I like."
REASON = "It names one of the carers."


@pytest.fixture
def approved_plan(draft_plan, client_user, social_worker):  # noqa: F811
    """Ruth's plan with Brightside Care's home care visits, submitted by her and approved by Sam."""
    services.plan_submit(actor=client_user, plan=draft_plan)
    services.plan_start_review(actor=social_worker, plan=draft_plan)
    return services.plan_approve(actor=social_worker, plan=draft_plan, checklist=dict.fromkeys(CHECKLIST, True))


def open_home_task(page, title: str, heading: str | None = None) -> None:
    page.locator("main").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading or title)


def score_row(page):
    """The provider's summary-list row "Rating by people who use it"."""
    key = page.get_by_text("Rating by people who use it", exact=True)
    return page.locator(".govuk-summary-list__row", has=key).locator("dd")


@pytest.mark.django_db(transaction=True)
def test_client_reviews_a_provider_case_manager_hides_it_and_it_leaves_the_score(
    live_server, page, new_context, client_user, social_worker, case_manager, approved_plan
):
    provider = approved_plan.lines.get().provider
    provider_url = f"{live_server.url}/providers/{provider.pk}/"
    console_errors: list[str] = []
    collect_console_errors(page, console_errors)

    # 1. Ruth opens her approved plan from her budget and follows its prompt to rate Brightside Care.
    sign_in(page, live_server, client_user)
    open_home_task(page, "My budget")
    page.get_by_role("link", name="Version 1 – Approved").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    main = page.locator("main")
    expect(main).to_contain_text("How is the support going? Rate the providers you use (each one once every 90 days):")
    main.get_by_role("link", name="Rate Brightside Care", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review Brightside Care")
    expect(page.get_by_role("link", name="Back to Brightside Care")).to_be_visible()
    page.get_by_role("group", name="Overall, how was the support?").get_by_label("4 stars", exact=True).check()
    page.get_by_label("Tell others about it").fill(TEXT)
    page.get_by_role("group", name="Reliability (optional)").get_by_label("5 stars", exact=True).check()
    page.get_by_role("button", name="Publish the review").click()

    expect(page.get_by_role("alert")).to_contain_text("Thank you: your review of Brightside Care is published.")
    expect(page).to_have_url(f"{provider_url}#reviews")
    expect(page.get_by_role("heading", level=1)).to_have_text("Brightside Care")
    expect(score_row(page)).to_have_text("4.00 out of 5 from 1 review")
    expect(main).to_contain_text("4.00 out of 5 from 1 review (the score starts from the average")
    distribution = page.get_by_role("table", name="How many gave each number of stars")
    for stars, count in [("5 stars", "0"), ("4 stars", "1"), ("3 stars", "0"), ("2 stars", "0"), ("1 star", "0")]:
        expect(distribution.get_by_role("row", name=re.compile(rf"^{stars}\b"))).to_contain_text(count)
    own = page.get_by_role("heading", level=3, name="4 out of 5 – your review")
    expect(own).to_be_visible()
    expect(main).to_contain_text("by a person who used this provider under their care plan · reliability 5")
    expect(page.get_by_text(TEXT, exact=True)).to_be_visible()
    expect(page.get_by_text("Hidden", exact=True)).to_have_count(0)
    review = Review.objects.get(provider=provider, author=client_user)
    assert (review.rating, review.reliability, review.text, review.hidden) == (4, 5, TEXT, False)

    # 2. Casey, the case manager, in her own browser: Home, Quality dashboard, Moderate reviews.
    casey = new_context().new_page()
    collect_console_errors(casey, console_errors)
    sign_in(casey, live_server, case_manager)
    open_home_task(casey, "Quality dashboard")
    ranked = casey.get_by_role("row", name=re.compile(r"^Brightside Care")).first  # the ranking, not the trend
    expect(ranked).to_contain_text("4.00")
    casey.locator("main").get_by_role("link", name="Moderate reviews").click()
    expect(casey.get_by_role("heading", level=1)).to_have_text("Moderate reviews")
    entry = casey.get_by_role("heading", level=2, name=re.compile(r"^Review \d+: Brightside Care, 4 out of 5"))
    expect(entry).to_be_visible()
    expect(casey.locator("main")).to_contain_text(f"{long_date(timezone.localdate(review.created_at))} by Ruth Ellis")
    expect(casey.get_by_text(TEXT, exact=True)).to_be_visible()
    hide = casey.get_by_role("button", name=f"Hide review {review.pk}")
    # Without a reason the review is not hidden: the review comes back with its reason box, the
    # error in the summary (which takes focus) and by the box.
    hide.click()
    expect(casey.get_by_role("heading", level=1)).to_have_text(f"Hide review {review.pk}")
    summary = casey.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the reason for hiding the review")
    expect(summary).to_be_focused()
    review.refresh_from_db()
    assert not review.hidden
    # The form came back as a 400 (as a refused form should), which Chromium logs to the console.
    console_errors[:] = [error for error in console_errors if "status of 400" not in error]
    casey.get_by_label("Reason for hiding the review").fill(REASON)
    casey.get_by_role("button", name="Hide the review").click()
    expect(casey.get_by_role("alert")).to_contain_text("The review is hidden and no longer counts in the score.")
    expect(casey.get_by_role("heading", level=1)).to_have_text("Moderate reviews")
    expect(entry.get_by_text("Hidden", exact=True)).to_be_visible()
    review.refresh_from_db()
    hidden_on = long_date(timezone.localdate(review.hidden_at))
    expect(casey.locator("main")).to_contain_text(f"Hidden by Casey Brown on {hidden_on}: {REASON}")
    # The name is "Show it again : review N" in Chromium (the visually hidden part is its own box).
    show_again = casey.get_by_role("button", name=re.compile(rf"^Show it again\s*: review {review.pk}$"))
    expect(show_again).to_be_visible()
    expect(hide).to_have_count(0)

    # 3. Ruth reloads the provider page: her review is still there, marked hidden with the reason,
    # but it no longer counts.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Brightside Care")
    expect(own).to_be_visible()
    expect(main).to_contain_text(f"Hidden Only you can see this review: {REASON}")
    expect(main.get_by_text("Hidden", exact=True)).to_be_visible()
    expect(page.get_by_text(TEXT, exact=True)).to_be_visible()
    expect(page.get_by_text("No reviews yet.", exact=True)).to_be_visible()
    expect(score_row(page)).to_have_text("No reviews yet")
    expect(page.get_by_role("table", name="How many gave each number of stars")).to_have_count(0)

    # 4. Sam, the social worker, sees the provider page without the review.
    sam = new_context().new_page()
    collect_console_errors(sam, console_errors)
    sign_in(sam, live_server, social_worker)
    sam.goto(provider_url)
    expect(sam.get_by_role("heading", level=1)).to_have_text("Brightside Care")
    expect(sam.get_by_text("No reviews yet.", exact=True)).to_be_visible()
    expect(score_row(sam)).to_have_text("No reviews yet")
    expect(sam.get_by_text(TEXT)).to_have_count(0)
    expect(sam.get_by_role("heading", level=3, name=re.compile("out of 5"))).to_have_count(0)
    expect(sam.get_by_text("Only you can see this review")).to_have_count(0)

    review.refresh_from_db()
    assert (review.hidden, review.hidden_reason, review.hidden_by) == (True, REASON, case_manager)
    provider.refresh_from_db()
    assert (provider.rating, provider.review_count) == (None, 0)
    csp_errors = [text for text in console_errors if "Content Security Policy" in text or "Refused to" in text]
    assert csp_errors == [], csp_errors
    assert console_errors == [], console_errors

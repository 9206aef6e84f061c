"""Charging in a real browser: finance records a financial assessment from the client's budget page
(after the form first refuses one with no circumstances chosen, with the GOV.UK error summary), and
the client reads, line by line, how their contribution was worked out, downloads the letter and asks
for a review — on the page, in the PDF and in the database.

The figures are docs/charging.md's worked example under the example policy migration 0010 ships:
pension age, single; £15,000 capital; State Pension £221.20, Attendance Allowance £72.65, earnings
£50.00 (disregarded); council tax £10.00; extra heating £28.00, special diet £15.00, extra laundry
£10.00 → £5.15 a week."""

import datetime
import importlib
import io
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from budgets.models import Band, ChargingPolicy, ContributionReview, FinancialAssessment, ReviewStatus
from tests import factories
from tests.browser.test_approval_journey import collect_console_errors, long_date
from tests.browser.test_assessment_journey import sign_in
from tests.browser.test_plan_designer_journey import budget_for
from tests.browser.test_recovery_journey import figure, sign_out

EXAMPLE_POLICY = importlib.import_module("budgets.migrations.0010_example_charging_policy")
BAD_REQUEST = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
REASON = "My council tax reduction was taken away last month."
MINUS = "\N{MINUS SIGN}"
# Every line of the working, as the page's table shows it: (what, amount a week).
WORKING = [
    ("State Pension: counted", "£221.20"),
    ("Attendance Allowance: counted", "£72.65"),
    ("Earnings from work (£50.00): not counted (disregarded)", "£0.00"),
    ("Weekly income counted", "£293.85"),
    (
        "Tariff income: £1 a week for every £250.00 (or part) of your capital (£15,000.00) above £14,250.00",
        "£3.00",
    ),
    ("Less housing cost: Council tax", f"{MINUS}£10.00"),
    ("Less disability-related expenditure: Extra heating", f"{MINUS}£28.00"),
    ("Less disability-related expenditure: Special diet", f"{MINUS}£15.00"),
    ("Less disability-related expenditure: Extra laundry", f"{MINUS}£10.00"),
    ("Less the Minimum Income Guarantee for your circumstances", f"{MINUS}£228.70"),
    ("What is left (assessable income)", "£5.15"),
    ("Your weekly contribution (never more than the cost of your care)", "£5.15"),
]


@pytest.fixture
def example_charging_policy(db):
    """The example charging policy migration 0010 ships, put back if a transactional test's flush
    emptied the table (its own function: it does nothing when a policy exists)."""
    EXAMPLE_POLICY.add_example(apps, None)
    return ChargingPolicy.objects.get(is_example=True)


def field(page, label: str):
    return page.get_by_label(label, exact=True)


@pytest.mark.django_db(transaction=True)
def test_finance_records_an_assessment_and_the_client_reads_how_it_was_worked_out(
    live_server, page, example_scheme, example_charging_policy
):
    ruth = factories.ClientFactory(full_name="Ruth Ellis")
    budget = budget_for(ruth, example_scheme, "10000.00")
    finance = factories.FinanceFactory(full_name="Fran Okafor")
    today = timezone.localdate()
    console_errors: list[str] = []
    collect_console_errors(page, console_errors)

    # 1. Finance finds Ruth's budget and follows "Record a financial assessment".
    sign_in(page, live_server, finance)
    page.locator("main").get_by_role("link", name="Personal budgets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personal budgets")
    page.get_by_role("link", name="Ruth Ellis").click()
    expect(page).to_have_url(f"{live_server.url}/budgets/{budget.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget for Ruth Ellis")
    expect(page.get_by_role("heading", level=2, name="What Ruth Ellis pays towards their care")).to_be_visible()
    expect(page.get_by_text("No financial assessment has been recorded, so nothing is charged.")).to_be_visible()
    page.get_by_role("link", name="Record a financial assessment").click()
    expect(page).to_have_title(re.compile(r"^Financial assessment – Ruth Ellis"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a financial assessment")
    expect(page.get_by_text(example_charging_policy.name)).to_be_visible()

    # No circumstances chosen: the error summary, the group's own error, and nothing written.
    page.get_by_role("button", name="Work it out and record it").click()
    expect(page).to_have_title(re.compile(r"^Error: Financial assessment – Ruth Ellis"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    error_link = summary.get_by_role("link", name="Choose the person's circumstances")
    expect(error_link).to_be_visible()
    circumstances = page.get_by_role("group", name="Circumstances")
    expect(circumstances).to_have_accessible_description(re.compile(r"Error:\s+Choose the person's circumstances"))
    expect(page.locator("#id_band-error")).to_have_text("Error: Choose the person's circumstances")
    error_link.click()  # the summary's link takes the keyboard to the first choice
    expect(circumstances.get_by_role("radio", name="18 to 24, single")).to_be_focused()
    assert not FinancialAssessment.objects.exists()

    # The worked example, typed into the labelled fields.
    pension_age = page.get_by_label("Pension age, single", exact=True)
    pension_age.check()
    expect(pension_age).to_be_checked()
    field(page, "Savings and other capital, in pounds").fill("15000")
    field(page, "State Pension, a week").fill("221.20")
    field(page, "Attendance Allowance, a week").fill("72.65")
    field(page, "Earnings from work, a week").fill("50.00")
    field(page, "Housing cost 1: what it is").fill("Council tax")
    field(page, "Housing cost 1: a week").fill("10.00")
    for n, (what, weekly) in enumerate(
        [("Extra heating", "28.00"), ("Special diet", "15.00"), ("Extra laundry", "10.00")], start=1
    ):
        field(page, f"Disability-related cost {n}: what it is").fill(what)
        field(page, f"Disability-related cost {n}: a week").fill(weekly)
    record = page.get_by_role("button", name="Work it out and record it")
    record.focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("alert")).to_contain_text(
        "The financial assessment is recorded and the person has been told."
    )
    expect(page).to_have_title(re.compile(r"^How the contribution was worked out – Ruth Ellis"))
    expect(page.get_by_role("heading", level=1)).to_have_text("How the contribution was worked out")
    expect(page.get_by_text("Ruth Ellis pays £5.15 a week", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Ask for a review")).to_have_count(0)  # only the person asks
    expect(page.get_by_role("link", name="Record a new financial assessment")).to_be_visible()
    sign_out(page)

    # 2. Ruth reads how it was worked out, from her budget page.
    sign_in(page, live_server, ruth)
    page.locator("main").get_by_role("link", name="My budget").click()  # the home page task, not the header link
    expect(page).to_have_url(f"{live_server.url}/budgets/{budget.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My budget")
    expect(page.get_by_role("heading", level=2, name="What you pay towards your care")).to_be_visible()
    expect(page.get_by_text(f"£5.15 a week, from the financial assessment of {long_date(today)}.")).to_be_visible()
    expect(page.get_by_role("link", name="Record a financial assessment")).to_have_count(0)
    page.get_by_role("link", name="How your contribution was worked out").click()

    expect(page).to_have_title(re.compile(r"^How your contribution was worked out"))
    expect(page.get_by_role("heading", level=1)).to_have_text("How your contribution was worked out")
    expect(page.locator("main .govuk-caption-l")).to_have_text(f"Ruth Ellis · from {long_date(today)}")
    expect(page.get_by_text("You pay £5.15 a week", exact=True)).to_be_visible()
    working = page.get_by_role("table", name="Each line of the working, a week")
    rows = working.get_by_role("row")
    expect(rows).to_have_count(1 + len(WORKING))  # the header, then one row a line
    expect(rows.first.get_by_role("columnheader")).to_have_text(["What", "Amount"])
    for n, (what, amount) in enumerate(WORKING, start=1):
        expect(rows.nth(n).get_by_role("cell")).to_have_text([what, amount])
    taken_into_account = {
        "Circumstances": "Pension age, single",
        "Savings and other capital": "£15,000.00",
        "Rules": example_charging_policy.name,
    }
    for term, value in taken_into_account.items():
        expect(figure(page, term)).to_have_text(value)

    # The letter: a PDF download with the same figure and lines in it.
    letter_link = page.get_by_role("link", name="Download this as a letter (PDF)")
    with page.expect_download() as download_info:
        letter_link.click()
    download = download_info.value
    assessment = FinancialAssessment.objects.get()
    assert download.suggested_filename == f"contribution-{assessment.pk}.pdf"
    letter = download.path().read_bytes()
    assert letter.startswith(b"%PDF-")
    # The same address fetched with Ruth's session: a PDF response, not a page.
    response = page.request.get(f"{live_server.url}{letter_link.get_attribute('href')}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(letter)).pages)
    assert "You pay £5.15 a week towards your care." in text, text
    assert "Earnings from work (£50.00): not counted (disregarded)" in text, text
    assert "Extra laundry" in text and "£228.70" in text, text

    # Ruth asks for a review, from the keyboard.
    expect(page.get_by_role("heading", level=2, name="Asking for a review")).to_be_visible()
    reason = page.get_by_label("What do you think is wrong, or what has changed?")
    reason.fill(REASON)
    reason.press("Tab")
    ask = page.get_by_role("button", name="Ask for a review")
    expect(ask).to_be_focused()
    page.keyboard.press("Enter")

    due = today + datetime.timedelta(days=example_charging_policy.review_days)
    expect(page.get_by_role("alert")).to_contain_text(
        "Your request for a review has been sent. Finance will answer it by the date shown."
    )
    expect(page.get_by_text(f"Asked on {long_date(today)}: {REASON}")).to_be_visible()
    expect(page.get_by_text(f"Finance will answer by {long_date(due)}.")).to_be_visible()
    expect(page.get_by_role("button", name="Ask for a review")).to_have_count(0)  # one open request at a time

    # 3. The database agrees.
    assessment = FinancialAssessment.objects.get()
    assert assessment.client == ruth and assessment.recorded_by == finance
    assert assessment.policy == example_charging_policy and assessment.date == today
    assert assessment.band == Band.PENSION_AGE and not assessment.full_cost and not assessment.declined
    assert assessment.weekly_contribution.amount == Decimal("5.15")
    assert (
        assessment.capital.amount,
        assessment.income_counted.amount,
        assessment.tariff_income.amount,
        assessment.minimum_income_guarantee.amount,
    ) == (Decimal("15000.00"), Decimal("293.85"), Decimal("3.00"), Decimal("228.70"))
    assert [(line["text"], line["amount"]) for line in assessment.explanation] == [
        (what, amount.replace("£", "").replace(MINUS, "-").replace(",", "")) for what, amount in WORKING
    ]
    review = ContributionReview.objects.get()
    assert review.assessment == assessment and review.status == ReviewStatus.REQUESTED
    assert review.requested_by == ruth and review.reason == REASON and review.due == due
    # The only thing the browser complains of is the first, empty form's 400 (the form shown again).
    assert console_errors == [BAD_REQUEST], console_errors

"""Getting paid in the browser (issue 7): a provider invoices a line of an approved plan, the
client confirms the support was delivered, finance runs a payment and downloads the provider's
remittance advice, and the provider sees the invoice paid."""

import datetime
import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from approvals import services
from approvals.services import CHECKLIST
from payments.models import Invoice, InvoiceStatus
from tests import factories
from tests.browser.dates import fill_date
from tests.browser.test_approval_journey import caption, collect_console_errors, long_date
from tests.browser.test_assessment_journey import sign_in
from tests.careplans.conftest import (  # noqa: F401  (pytest fixtures by name)
    make_budget,
    make_plan,
    make_provider,
    make_service,
    visits,
)
from tests.sample_files import PNG_BYTES

# A real PNG: the upload check reads the whole image (Pillow), not the name or the first bytes.
PNG = PNG_BYTES
REFERENCE = "BC-0042"
AMOUNT = "£49.00"  # 2 hours of home care visits at £24.50


@pytest.fixture
def approved_plan(make_budget, make_plan, client_user, social_worker, caseload, visits):  # noqa: F811
    """Ruth's approved plan: 2 home care visits (£24.50 an hour) a week for 12 weeks, in a budget
    period that started 60 days ago, so its first weeks are delivered and can be invoiced."""
    start = datetime.date.today() - datetime.timedelta(days=60)
    budget = make_budget(client_user, "10000.00", period_start=start)
    line = {"service": visits.pk, "units_per_week": "2", "start": start, "end": start + datetime.timedelta(83)}
    plan = make_plan(client_user, budget, lines=[line])
    services.plan_submit(actor=client_user, plan=plan)
    services.plan_start_review(actor=social_worker, plan=plan)
    return services.plan_approve(actor=social_worker, plan=plan, checklist=dict.fromkeys(CHECKLIST, True))


def line_label(line) -> str:
    """How the invoice form names a plan line in its drop-down."""
    return (
        f"{line.plan.client.full_name}: {line.title} (plan v{line.plan.version}, "
        f"{line.start:%-d %b %Y} to {line.end:%-d %b %Y}, {line.unit_price} per {line.unit})"
    )


def open_home_task(page, title: str) -> None:
    page.locator("main").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, its runs of white space made single spaces."""
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def status_of(page):
    return page.locator(".govuk-summary-list__row", has=page.get_by_text("Status", exact=True)).locator("dd")


@pytest.mark.django_db(transaction=True)
def test_provider_invoices_client_confirms_finance_pays_and_downloads_the_remittance(
    live_server, page, new_context, client_user, finance_user, approved_plan
):
    line = approved_plan.lines.get()
    provider = line.provider
    staff = factories.ProviderStaffFactory(provider=provider, full_name="Lee Carter")
    first_day, seventh_day = line.start, line.start + datetime.timedelta(days=6)
    console_errors: list[str] = []
    collect_console_errors(page, console_errors)

    # 1. Lee, at Brightside Care, invoices the first week: 2 hours, with a timesheet.
    sign_in(page, live_server, staff)
    open_home_task(page, "Invoices")
    expect(page.get_by_text("No invoices yet.")).to_be_visible()
    page.get_by_role("link", name="Send an invoice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send an invoice")
    page.get_by_label("Which support").select_option(label=line_label(line))
    fill_date(page, "Period start", first_day)
    fill_date(page, "Period end", seventh_day)
    page.get_by_label("Units delivered").fill("2")
    page.get_by_label("Your invoice number (optional)").fill(REFERENCE)
    page.get_by_label("Supporting document (optional)").set_input_files(
        {"name": "timesheet.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.get_by_role("button", name="Send the invoice").click()

    invoice = Invoice.objects.get(line=line)
    expect(page.get_by_role("alert")).to_contain_text(f"Invoice {invoice.pk} for {AMOUNT} is sent for confirmation.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice.pk}")
    expect(caption(page)).to_have_text("Brightside Care")
    expect(status_of(page)).to_have_text("Waiting for confirmation")
    main = page.locator("main")
    expect(main).to_contain_text(f"{long_date(first_day)} to {long_date(seventh_day)}")
    expect(main).to_contain_text("2 hours at £24.50")
    expect(main).to_contain_text(REFERENCE)
    expect(page.get_by_role("link", name="Download the supporting document (timesheet.png)")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm the invoice")).to_have_count(0)  # not the provider's to confirm
    assert invoice.status == InvoiceStatus.SUBMITTED
    assert invoice.supporting_file_type == "image/png"

    # 2. Ruth, in her own browser, confirms the support was delivered.
    ruth = new_context().new_page()
    collect_console_errors(ruth, console_errors)
    sign_in(ruth, live_server, client_user)
    open_home_task(ruth, "Invoices")
    expect(ruth.get_by_role("heading", level=2, name="Waiting for you to confirm")).to_be_visible()
    waiting = ruth.get_by_role("link", name=re.compile(rf"^Invoice {invoice.pk} from Brightside Care: {AMOUNT}"))
    expect(waiting).to_contain_text("for Home care visits")
    waiting.click()
    expect(ruth.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice.pk}")
    expect(status_of(ruth)).to_have_text("Waiting for confirmation")
    expect(ruth.get_by_role("heading", level=2, name="Was this support delivered?")).to_be_visible()
    ruth.get_by_role("button", name="Confirm the invoice").click()
    expect(ruth.get_by_role("alert")).to_contain_text(
        "The invoice is confirmed. It will be paid in the next payment run."
    )
    expect(status_of(ruth)).to_have_text("Confirmed")
    expect(ruth.get_by_role("button", name="Confirm the invoice")).to_have_count(0)
    expect(ruth.get_by_role("button", name="Dispute the invoice")).to_have_count(0)
    ruth.get_by_role("link", name="Back to invoices").click()
    expect(ruth.get_by_role("heading", level=2, name="Waiting for you to confirm")).to_have_count(0)

    # 3. Farah, in finance, runs a payment and downloads Brightside Care's remittance advice.
    farah = new_context().new_page()
    collect_console_errors(farah, console_errors)
    sign_in(farah, live_server, finance_user)
    open_home_task(farah, "Payment runs")
    expect(farah.locator("main")).to_contain_text("1 confirmed invoice waiting to be paid.")
    expect(farah.get_by_text("No payment runs yet.")).to_be_visible()
    farah.get_by_role("button", name="Start a payment run").click()
    expect(farah.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Payment run \d+$"))
    run_number = farah.get_by_role("heading", level=1).inner_text().removeprefix("Payment run ")
    expect(farah.get_by_role("alert")).to_contain_text(f"Payment run {run_number} started: 1 payment, {AMOUNT}.")
    expect(farah.locator("main")).to_contain_text(f"1 payment, {AMOUNT} in all.")
    expect(farah.get_by_role("status")).to_have_text("Finished: 1 paid, 0 failed, 0 still to send, of 1.")
    expect(farah.get_by_role("progressbar", name="Payments sent")).to_have_attribute("value", "100")
    remittance = farah.get_by_role("link", name=f"Brightside Care: 1 payment, {AMOUNT} (PDF)")
    expect(remittance).to_be_visible()
    href = remittance.get_attribute("href")
    assert href == f"/payments/runs/{run_number}/remittance/{provider.pk}.pdf"
    # Served inline, so Chromium opens it in its viewer rather than saving it.
    with farah.expect_response(f"{live_server.url}{href}") as response_info:
        remittance.click()
    response = response_info.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'inline; filename="remittance-run-{run_number}-provider-{provider.pk}.pdf"'
    )
    # Chromium's PDF viewer takes over the response's body: fetch the file with Farah's session.
    download = farah.request.get(f"{live_server.url}{href}")
    assert download.ok
    assert download.headers["content-type"] == "application/pdf"
    pdf = download.body()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert text.startswith("Remittance advice To Brightside Care, from "), text
    assert f"Payment run {run_number}, " in text
    # The table's row: invoice, their reference, for, period, amount; then the total.
    assert f"{invoice.pk} {REFERENCE} Home care visits {first_day:%-d %b} to {seventh_day:%-d %b %Y} {AMOUNT}" in text
    assert f"Total {AMOUNT}" in text

    # 4. Lee sees the invoice paid.
    page.goto(f"{live_server.url}/")
    open_home_task(page, "Invoices")
    row = page.get_by_role("row", name=re.compile(rf"^Invoice {invoice.pk} \({REFERENCE}\)"))
    expect(row.locator(".govuk-tag")).to_have_text("Paid")
    expect(row).to_contain_text(AMOUNT)
    row.get_by_role("link", name=f"Invoice {invoice.pk}", exact=True).click()
    expect(status_of(page)).to_have_text("Paid")
    expect(page.locator("main")).to_contain_text(re.compile(r"Payment \d+: paid on "))
    # No page links Lee to the remittance advice, but the address Farah used lets him have it.
    lees_copy = page.request.get(f"{live_server.url}{href}")
    assert lees_copy.ok
    assert lees_copy.headers["content-type"] == "application/pdf"
    assert pdf_text(lees_copy.body()) == text

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.paid_at is not None
    csp_errors = [text for text in console_errors if "Content Security Policy" in text or "Refused to" in text]
    assert csp_errors == [], csp_errors
    assert console_errors == [], console_errors

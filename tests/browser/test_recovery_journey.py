"""Recovering a direct payment's surplus in a real browser: finance proposes taking it back (after
the form first refuses an empty proposal with the GOV.UK error summary), the client holding the
money explains what they still owe and sees the figure fall, and finance completes it and sees
what was taken back and what is left — on the page and in the database."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payments import selectors
from payments.models import FundAccount, FundKind, FundPolicy, Recovery, RecoveryPart, RecoveryStatus
from tests import factories
from tests.browser.test_approval_journey import collect_console_errors
from tests.browser.test_assessment_journey import sign_in
from tests.browser.test_direct_payment_spending_journey import ruth_with_a_loaded_direct_payment

REASON = "The account has built up more than two weeks of support it has not spent."
BAD_REQUEST = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
EXPLANATION = "I still owe my personal assistant for last month's wages."


@pytest.fixture
def surplus(example_scheme):
    """Ruth's direct payment, which she holds: a PA at £14.50 for 10 hours a week, two 28-day loads
    paid (£1,160.00), allowed to build up 2 weeks (£290.00), so its surplus is £870.00."""
    ruth, budget = ruth_with_a_loaded_direct_payment(example_scheme)
    FundPolicy.objects.update_or_create(pk=1, defaults={"buffer_weeks": 2})
    account = FundAccount.objects.get(budget=budget, kind=FundKind.DIRECT_PAYMENT)
    figures = selectors.fund_figures(account)
    assert account.holder == ruth
    assert (figures.loaded.amount, figures.buffer.amount, figures.surplus.amount) == (
        Decimal("1160.00"),
        Decimal("290.00"),
        Decimal("870.00"),
    )
    return account


def figure(page, name: str):
    """The value of one row of the account's summary list ("Left in the account" …)."""
    row = page.locator(".govuk-summary-list__row").filter(has=page.get_by_role("term").get_by_text(name, exact=True))
    return row.get_by_role("definition")


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_finance_proposes_the_holder_explains_and_finance_completes_a_recovery(live_server, page, surplus):
    account_url = f"{live_server.url}/budgets/{surplus.budget_id}/direct-payment/"
    ruth = surplus.holder
    finance = factories.FinanceFactory(full_name="Fran Okafor")
    console_errors: list[str] = []
    collect_console_errors(page, console_errors)

    # 1. Finance opens Ruth's direct payment and proposes taking back the surplus.
    sign_in(page, live_server, finance)
    page.goto(account_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Direct payment")
    expect(figure(page, "Left in the account")).to_have_text("£1,160.00")
    expect(figure(page, "Allowed to build up")).to_have_text("£290.00")
    expect(page.get_by_role("heading", level=2, name="Unspent money the council takes back")).to_be_visible()
    expect(page.get_by_text("The account holds £870.00 more than it is allowed to build up.")).to_be_visible()

    # An empty proposal: the error summary, the field's own error, and nothing written.
    page.get_by_role("button", name="Propose the recovery").click()
    expect(page).to_have_title(re.compile(r"^Error: Direct payment"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    error_link = summary.get_by_role("link", name="Say why the money is being taken back")
    expect(error_link).to_be_visible()
    reason = page.get_by_label("Why the money is being taken back")
    expect(reason).to_have_accessible_description(re.compile(r"Error:\s+Say why the money is being taken back"))
    expect(page.locator("#id_reason-error")).to_have_text("Error: Say why the money is being taken back")
    error_link.click()  # the summary's link takes the keyboard to the field
    expect(reason).to_be_focused()
    assert not Recovery.objects.exists()

    reason.fill(REASON)
    page.get_by_label("What the holder still owes, in pounds (optional)").fill("70.00")
    page.get_by_role("button", name="Propose the recovery").click()
    expect(page.get_by_role("alert")).to_contain_text("The recovery is proposed and the holder has been told.")
    expect(page.get_by_text("The council proposes to take back £800.00.")).to_be_visible()
    expect(page.get_by_text("£70.00 the council knows is still owed is left in it")).to_be_visible()
    expect(page.get_by_text("You can complete it once the holder answers")).to_be_visible()
    expect(page.get_by_role("button", name="Complete – take back the money")).to_have_count(0)
    expect(page.get_by_role("button", name="Propose the recovery")).to_have_count(0)
    recoveries = page.get_by_role("table", name="Recoveries")
    expect(recoveries.get_by_role("row", name=re.compile(re.escape(REASON)))).to_contain_text("Proposed")
    sign_out(page)

    # 2. Ruth sees the proposal and why, and explains that she still owes £100.00.
    sign_in(page, live_server, ruth)
    page.goto(account_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Direct payment")
    expect(page.get_by_text("The council proposes to take back £800.00.")).to_be_visible()
    expect(page.get_by_text(REASON).first).to_be_visible()
    expect(page.get_by_role("button", name="Accept – take back £800.00")).to_be_visible()
    expect(page.get_by_role("button", name="Propose the recovery")).to_have_count(0)
    expect(page.get_by_role("button", name="Complete – take back the money")).to_have_count(0)
    page.get_by_label("Why the money is still needed").fill(EXPLANATION)
    page.get_by_label("What you still owe from this money, in pounds (optional)").fill("100.00")
    send = page.get_by_role("button", name="Send my explanation")
    send.focus()
    page.keyboard.press("Enter")  # the buttons work from the keyboard
    expect(page.get_by_role("alert")).to_contain_text("Thank you. Your explanation has been sent to the council.")
    expect(page.get_by_text("The council proposes to take back £700.00.")).to_be_visible()
    expect(page.get_by_text("£100.00 the holder says is still owed is never taken")).to_be_visible()
    expect(page.get_by_text(EXPLANATION)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Accept"))).to_have_count(0)
    expect(figure(page, "Left in the account")).to_have_text("£1,160.00")  # nothing moves until finance completes
    sign_out(page)

    # 3. Finance sees the explanation and completes the recovery.
    sign_in(page, live_server, finance)
    page.goto(account_url)
    expect(page.get_by_text("The council proposes to take back £700.00.")).to_be_visible()
    expect(page.get_by_text(EXPLANATION)).to_be_visible()
    complete = page.get_by_role("button", name="Complete – take back the money")
    complete.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("The recovery is complete: the money has been taken back.")
    expect(figure(page, "Paid in so far")).to_have_text("£1,160.00")
    expect(figure(page, "Taken back by the council")).to_have_text("£700.00")
    expect(figure(page, "Left in the account")).to_have_text("£460.00")  # £1,160.00 − £700.00
    row = page.get_by_role("table", name="Recoveries").get_by_role("row", name=re.compile(re.escape(REASON)))
    expect(row.get_by_role("cell")).to_have_text(
        [timezone.localdate().strftime("%-d %b %Y"), REASON, "Completed", "£700.00"]
    )
    expect(page.get_by_text("The council proposes to take back")).to_have_count(0)
    expect(page.get_by_role("button", name="Complete – take back the money")).to_have_count(0)

    # The database agrees: taken back once, in the ledger and at the gateway.
    recovery = Recovery.objects.get()
    assert recovery.status == RecoveryStatus.COMPLETED
    assert (recovery.surplus.amount, recovery.owed.amount, recovery.declared_owed.amount) == (
        Decimal("870.00"),
        Decimal("70.00"),
        Decimal("100.00"),
    )
    assert recovery.amount.amount == recovery.recovered.amount == Decimal("700.00")
    assert recovery.proposed_by == finance and recovery.answered_by == ruth and recovery.closed_by == finance
    assert recovery.explanation == EXPLANATION and recovery.ledger_transaction_id is not None
    figures = selectors.fund_figures(surplus)
    assert (figures.loaded.amount, figures.spent.amount, figures.recovered.amount, figures.balance.amount) == (
        Decimal("1160.00"),
        Decimal("0.00"),
        Decimal("700.00"),
        Decimal("460.00"),
    )
    parts = RecoveryPart.objects.filter(recovery=recovery)
    assert sum(part.amount.amount for part in parts) == Decimal("700.00")
    assert all(part.done_at is not None for part in parts)
    # The only thing the browser complains of is the empty proposal's 400 (the form shown again).
    assert console_errors == [BAD_REQUEST], console_errors

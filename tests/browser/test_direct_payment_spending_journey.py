"""A representative in a real browser records PA wages from the direct payment of the client they
act for, with a timesheet, and sees the balance fall."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals import services as workflow
from budgets.models import PersonalBudget
from careplans import services as plan_services
from careplans.models import CarePlan
from payments import services
from payments.models import FundAccount, Load, Spending
from tests import factories
from tests.accounts.representative_fixtures import representative_of
from tests.browser.dates import fill_date
from tests.browser.test_assessment_journey import sign_in
from tests.browser.test_plan_designer_journey import budget_for
from tests.sample_files import PDF_BYTES

DAY = datetime.timedelta(days=1)
CHECKLIST = {"outcomes": True, "costs": True, "risks": True, "management": True, "contacts": True}


def ruth_with_a_loaded_direct_payment(scheme):
    """Ruth's approved plan (approved 30 days ago): a PA at £14.50 for 10 hours a week, paid by
    direct payment; its first two 28-day loads (£1,160.00) are paid. Returns (Ruth, her budget)."""
    ruth = factories.ClientFactory(full_name="Ruth Ellis")
    sam = factories.SocialWorkerFactory(full_name="Sam Patel")
    factories.CaseloadAssignmentFactory(social_worker=sam, client=ruth)
    start = timezone.localdate() - 30 * DAY
    budget = budget_for(ruth, scheme, "10000.00")
    PersonalBudget.objects.filter(pk=budget.pk).update(period_start=start, period_end=start + 364 * DAY)
    budget.refresh_from_db()
    pa = {
        "description": "Personal assistant",
        "unit": "hour",
        "unit_price": "14.50",
        "units_per_week": "10",
        "start": start,
        "end": start + 83 * DAY,
        "money_management": "direct_payment",
    }
    plan = plan_services.plan_create(actor=ruth, budget=budget, lines=[pa], risks="Falls", contacts="Pat")
    plan = workflow.plan_submit(actor=ruth, plan=plan)
    plan = workflow.plan_start_review(actor=sam, plan=plan)
    plan = workflow.plan_approve(actor=sam, plan=plan, checklist=dict(CHECKLIST))
    CarePlan.objects.filter(pk=plan.pk).update(approved_at=timezone.now() - 30 * DAY)
    Load.objects.all().delete()
    FundAccount.objects.all().delete()
    services.funds_schedule(plan_id=plan.pk)
    services.payment_run_start(actor=factories.FinanceFactory())  # eager: pays the two loads due (£1,160.00)
    return ruth, budget


@pytest.mark.django_db(transaction=True)
def test_representative_records_pa_wages_with_a_timesheet_and_sees_the_balance_fall(
    live_server, page, example_scheme, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    ruth, budget = ruth_with_a_loaded_direct_payment(example_scheme)
    pat = representative_of(ruth, full_name="Pat Ellis")
    timesheet = tmp_path / "timesheet.pdf"
    timesheet.write_bytes(PDF_BYTES)  # a real PDF: the upload check reads it whole

    sign_in(page, live_server, pat)
    page.goto(f"{live_server.url}/budgets/{budget.pk}/direct-payment/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Direct payment")
    expect(page.get_by_text("£1,160.00").first).to_be_visible()

    fill_date(page, "Date paid", timezone.localdate())
    page.get_by_label("Amount, in pounds").fill("145.00")
    page.get_by_label("Who you paid").fill("Jo Smith")
    page.get_by_label("What it was for").select_option(label="Personal assistant (£14.50 per hour)")
    page.get_by_label("Receipt or timesheet (optional)").set_input_files(str(timesheet))
    page.get_by_role("button", name="Record the payment").click()

    expect(page.get_by_role("alert")).to_contain_text("£145.00 to Jo Smith is recorded.")
    expect(page.get_by_text("£1,015.00").first).to_be_visible()
    spending = Spending.objects.get()
    assert spending.recorded_by == pat and spending.receipt_type == "application/pdf"

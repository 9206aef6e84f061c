"""Spending from a direct payment: the holder records it, the balance falls, every refusal says why
and writes nothing, and two spendings racing for the last pound cannot both succeed."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from budgets.models import AccountKind, LedgerAccount
from payments import selectors, services
from payments.models import Spending
from tests import factories
from tests.concurrency import race
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401  (pytest fixtures)
from tests.sample_files import PDF_BYTES, PNG_BYTES

DAY = datetime.timedelta(days=1)
PDF = PDF_BYTES  # a real PDF: the upload check reads it whole


@pytest.fixture
def loaded(dp, run_payments):  # noqa: F811
    """Ruth's direct payment with its first two loads paid: it holds £1,160.00."""
    run_payments()
    dp.refresh_from_db()
    return dp


def url(account) -> str:
    return f"/api/v1/budgets/{account.budget_id}/direct-payment/spending/"


def body(**extra) -> dict:
    return {
        "date": str(timezone.localdate() - DAY),
        "amount": {"amount": "58.00", "currency": "GBP"},
        "payee": "Jo Smith (my PA)",
        "description": "Four hours, Monday",
        **extra,
    }


def state(account) -> tuple:
    return (
        Spending.objects.count(),
        selectors.fund_figures(account).balance,
        LedgerAccount.objects.get(budget=account.budget, kind=AccountKind.FUND_HELD).balance,
        AuditEvent.objects.filter(target_type__model="spending").count(),
    )


def test_the_holder_records_pa_wages_and_the_balance_falls(api_as, loaded):
    pa_line = loaded.loads.first().plan.lines.get()

    response = api_as(loaded.holder).post(url(loaded), body(plan_line=pa_line.pk), format="json")

    assert response.status_code == 201
    assert response.json()["plan_line"] == pa_line.pk and response.json()["receipt_needed"] is True
    figures = selectors.fund_figures(loaded)
    assert figures.spent.amount == Decimal("58.00") and figures.balance.amount == Decimal("1102.00")
    held = LedgerAccount.objects.get(budget=loaded.budget, kind=AccountKind.FUND_HELD)
    assert held.balance.amount == Decimal("1102.00")
    listed = api_as(loaded.holder).get(url(loaded)).json()
    assert [row["payee"] for row in listed] == ["Jo Smith (my PA)"]


def test_a_receipt_is_kept_by_its_content_and_the_amount_may_come_as_a_string(api_as, loaded, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    receipt = SimpleUploadedFile("wages.pdf", PDF, content_type="application/pdf")

    response = api_as(loaded.holder).post(url(loaded), {**body(amount="75.50"), "receipt": receipt}, format="multipart")

    assert response.status_code == 201, response.json()
    spending = Spending.objects.get()
    assert spending.receipt_type == "application/pdf" and spending.amount.amount == Decimal("75.50")
    assert response.json()["has_receipt"] is True and response.json()["receipt_needed"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": str(datetime.date.today() + 2 * DAY)}, "date"),
        ({"date": "1900-01-01"}, "date"),  # before the budget's period: it was accepted
        ({"amount": {"amount": "0.00", "currency": "GBP"}}, "amount"),
        ({"amount": {"amount": "-5.00", "currency": "GBP"}}, "amount"),
        ({"amount": {"amount": "1.005", "currency": "GBP"}}, "amount"),
        ({"payee": ""}, "payee"),
        ({"plan_line": 999999}, "plan_line"),
    ],
)
def test_a_bad_spending_is_400_with_the_field_and_changes_nothing(api_as, loaded, change, field):
    before = state(loaded)

    response = api_as(loaded.holder).post(url(loaded), body(**change), format="json")

    assert response.status_code == 400 and field in response.json()
    assert state(loaded) == before


def test_a_date_before_the_budget_period_says_when_it_began(api_as, loaded):
    began = loaded.budget.period_start
    response = api_as(loaded.holder).post(url(loaded), body(date=str(began - DAY)), format="json")
    assert response.status_code == 400
    assert response.json()["date"] == [f"The date cannot be before the budget period began ({began:%-d %B %Y})."]
    assert api_as(loaded.holder).post(url(loaded), body(date=str(began)), format="json").status_code == 201


def test_a_receipt_that_is_not_a_pdf_png_or_jpeg_is_refused(api_as, loaded, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("wages.pdf", b"MZ not a pdf", content_type="application/pdf")
    before = state(loaded)

    response = api_as(loaded.holder).post(url(loaded), {**body(amount="10.00"), "receipt": fake}, format="multipart")

    assert response.status_code == 400 and "receipt" in response.json()
    assert state(loaded) == before and not list(tmp_path.rglob("*"))


def test_more_than_the_balance_is_409_and_changes_nothing(api_as, loaded):
    before = state(loaded)

    response = api_as(loaded.holder).post(
        url(loaded), body(amount={"amount": "1160.01", "currency": "GBP"}), format="json"
    )

    assert response.status_code == 409
    assert "£1,160.00" in response.json()["detail"]
    assert state(loaded) == before


def test_the_whole_balance_may_be_spent(api_as, loaded):
    response = api_as(loaded.holder).post(
        url(loaded), body(amount={"amount": "1160.00", "currency": "GBP"}), format="json"
    )
    assert response.status_code == 201
    assert selectors.fund_figures(loaded).balance.amount == 0


@pytest.mark.parametrize("who", ["social_worker", "finance_user"])
def test_people_who_see_the_account_cannot_spend_from_it(api_as, loaded, who, request):
    before = state(loaded)
    assert api_as(request.getfixturevalue(who)).post(url(loaded), body(), format="json").status_code == 403
    assert api_as(request.getfixturevalue(who)).get(url(loaded)).status_code == 200
    assert state(loaded) == before


def test_another_client_gets_404_for_the_account_and_its_spending(api_as, loaded):
    stranger = factories.ClientFactory()
    assert api_as(stranger).get(url(loaded)).status_code == 404
    assert api_as(stranger).post(url(loaded), body(), format="json").status_code == 404
    assert not Spending.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_spendings_racing_for_the_last_pounds_one_wins(loaded):
    last = selectors.fund_figures(loaded).balance.amount  # £1,160.00

    def spend():
        return services.spending_record(
            actor=loaded.holder, account=loaded, date=timezone.localdate(), amount=last - Decimal("100.00"), payee="PA"
        )

    calls = [spend, spend]

    outcomes = race(calls)

    assert sum(isinstance(o, Spending) for o in outcomes) == 1
    assert sum(isinstance(o, services.FundBalanceTooLow) for o in outcomes) == 1
    assert selectors.fund_figures(loaded).balance.amount == Decimal("100.00")


# --- The page ---------------------------------------------------------------------------------------


def page(account) -> str:
    return f"/budgets/{account.budget_id}/direct-payment/"


def test_the_holder_records_a_payment_on_the_page_and_sees_the_balance_fall(web_as, loaded, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    line = loaded.loads.first().plan.lines.get()
    browser = web_as(loaded.holder)

    form = browser.get(page(loaded))
    assert form.status_code == 200 and "Record a payment you made" in form.content.decode()
    response = browser.post(
        page(loaded),
        {
            "date": str(timezone.localdate()),
            "amount": "145.00",
            "payee": "Jo Smith",
            "line_id": line.pk,
            "receipt": SimpleUploadedFile("timesheet.png", PNG_BYTES, content_type="image/png"),
        },
    )

    assert response.status_code == 302
    html = browser.get(page(loaded)).content.decode()
    assert "£1,015.00" in html and "Jo Smith" in html
    assert Spending.objects.get().receipt_type == "image/png"


def test_a_bad_payment_on_the_page_says_why_and_writes_nothing(web_as, loaded):
    before = state(loaded)

    response = web_as(loaded.holder).post(page(loaded), {"date": "2999-01-01", "amount": "5000", "payee": ""})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Say who you paid" in html
    assert state(loaded) == before


def test_more_than_the_balance_on_the_page_is_409_with_the_balance(web_as, loaded):
    response = web_as(loaded.holder).post(
        page(loaded), {"date": str(timezone.localdate()), "amount": "1160.01", "payee": "Jo"}
    )
    assert response.status_code == 409 and "£1,160.00" in response.content.decode()


def test_the_social_worker_sees_the_account_but_no_form_and_cannot_post(web_as, loaded, social_worker):
    browser = web_as(social_worker)
    html = browser.get(page(loaded)).content.decode()
    assert "Left in the account" in html and "Record a payment you made" not in html
    assert (
        browser.post(page(loaded), {"date": str(timezone.localdate()), "amount": "1", "payee": "x"}).status_code == 403
    )


def test_another_client_gets_404_on_the_page(web_as, loaded):
    assert web_as(factories.ClientFactory()).get(page(loaded)).status_code == 404


def test_the_page_keeps_a_constant_number_of_queries(web_as, loaded, django_assert_max_num_queries):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    browser = web_as(loaded.holder)

    def spend(n):
        services.spending_record(
            actor=loaded.holder, account=loaded, date=timezone.localdate(), amount=Decimal("1.00"), payee=f"Shop {n}"
        )

    spend(0)
    browser.get(page(loaded))
    with CaptureQueriesContext(db) as one:
        browser.get(page(loaded))
    for n in range(15):
        spend(n + 1)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert browser.get(page(loaded)).status_code == 200


# --- An individual service fund's holder --------------------------------------------------------


@pytest.fixture
def isf(make_plan, make_budget, client_user, caseload, social_worker, visits, checklist, run_payments):  # noqa: F811
    """A provider holding Ruth's individual service fund: its first load (two visits a week,
    £196.00) paid."""
    from careplans.models import CarePlan
    from payments.models import FundAccount, Load
    from tests.payments.invoice_fixtures import approve

    start = timezone.localdate() - 10 * DAY
    budget = make_budget(client_user, "10000.00", period_start=start)
    line = {
        "service": visits.pk,
        "units_per_week": "2",
        "start": start,
        "end": start + 55 * DAY,
        "money_management": "individual_service_fund",
    }
    plan = make_plan(client_user, budget, lines=[line], risks="Falls", contacts="My son")
    plan = approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)
    CarePlan.objects.filter(pk=plan.pk).update(approved_at=timezone.now() - 10 * DAY)
    Load.objects.all().delete()
    FundAccount.objects.all().delete()
    services.funds_schedule(plan_id=plan.pk)
    run_payments()
    return FundAccount.objects.get(budget=budget, kind="individual_service_fund")


def test_the_isf_providers_staff_record_its_spending_and_see_only_their_fund(api_as, isf):
    staff = factories.ProviderStaffFactory(provider=isf.holder_provider)
    other = factories.ProviderStaffFactory()

    response = api_as(staff).post(url(isf), body(amount={"amount": "49.00", "currency": "GBP"}), format="json")

    assert response.status_code == 201
    assert selectors.fund_figures(isf).balance.amount == Decimal("147.00")
    assert [row["payee"] for row in api_as(staff).get(url(isf)).json()] == ["Jo Smith (my PA)"]
    assert api_as(other).post(url(isf), body(), format="json").status_code == 404
    assert api_as(isf.budget.client).post(url(isf), body(), format="json").status_code == 404  # no direct payment
    assert Spending.objects.count() == 1

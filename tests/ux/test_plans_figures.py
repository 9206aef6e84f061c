# ruff: noqa: F811 (the fixtures imported below are used by name)
"""The four figures add up on every page and PDF that shows them: allocated = committed to plans
+ available to plan, and paid is shown as part of committed ("of which paid", "still to pay"),
never as a fourth amount beside them. The plan page's "Available for this plan" says how it
meets the budget page's "Available to plan". The API keeps its meanings."""

import io
import re

from djmoney.money import Money
from pypdf import PdfReader

from accounts.money import format_money
from budgets.services import ledger
from careplans import selectors
from careplans.models import CarePlan, PlanStatus
from tests.careplans.conftest import budget, make_budget, make_plan, make_provider, make_service, visits  # noqa: F401


def gbp(amount: str) -> Money:
    return Money(amount, "GBP")


def approved_and_part_paid(budget, plan, committed="6000.00", paid="2000.00"):
    """The ledger of a £10,000 budget with a £6,000 plan approved and £2,000 paid."""
    ledger.commit(budget=budget, amount=gbp(committed), key=f"test:{plan.pk}:commit")
    ledger.record_payment(budget=budget, amount=gbp(paid), key=f"test:{plan.pk}:pay")
    CarePlan.objects.filter(pk=plan.pk).update(
        status=PlanStatus.APPROVED, committed_amount=gbp(committed), paid_amount=gbp(paid), total_cost=gbp(committed)
    )


def shown(html: str, name: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(rf'data-testid="{name}">(.*?)</', html, re.S).group(1)).strip()


def test_the_budget_page_shows_figures_that_add_up(web_as, client_user, budget, make_plan):
    approved_and_part_paid(budget, make_plan(client_user, budget))
    html = web_as(client_user).get(f"/budgets/{budget.pk}/").content.decode()
    assert shown(html, "allocated") == "£10,000.00"
    assert shown(html, "committed") == "£6,000.00"
    assert shown(html, "paid") == "£2,000.00"
    assert shown(html, "still-to-pay") == "£4,000.00"
    assert shown(html, "available") == "£4,000.00"
    assert "What has been paid is part of what is committed." in html
    assert "allocated £10,000.00 less committed £6,000.00" in html


def test_the_finance_list_shows_paid_as_part_of_committed(web_as, finance_user, client_user, budget, make_plan):
    approved_and_part_paid(budget, make_plan(client_user, budget))
    html = web_as(finance_user).get("/budgets/").content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html)
    assert headers[2:] == ["Allocated", "Committed to plans, of which paid", "Available to plan"]
    assert '£6,000.00<br><span class="govuk-body-s">of which paid £2,000.00, still to pay £4,000.00</span>' in html
    assert "Each row adds up" in html


def test_the_plan_page_says_why_available_for_this_plan_differs(web_as, client_user, budget, make_plan):
    plan = make_plan(client_user, budget)
    draft = web_as(client_user).get(f"/plans/{plan.pk}/").content.decode()
    assert shown(draft, "available-why") == "The same as the budget's available to plan"
    approved_and_part_paid(budget, plan)
    html = web_as(client_user).get(f"/plans/{plan.pk}/").content.decode()
    # The budget's £4,000 available to plan, plus what this plan already holds (paid or committed).
    available = selectors.plan_available(CarePlan.objects.get(pk=plan.pk))
    assert shown(html, "available") == format_money(available.amount)
    assert shown(html, "available-why") == (
        f"The budget's £4,000.00 available to plan, plus the {format_money(available.amount - 4000)} "
        "this plan already holds, paid or still committed"
    )


def pdf_text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_statement_pdf_names_paid_as_part_of_committed(web_as, client_user, budget, make_plan):
    approved_and_part_paid(budget, make_plan(client_user, budget))
    text = pdf_text(web_as(client_user).get(f"/budgets/{budget.pk}/statement.pdf"))
    assert "of which paid to providers" in text
    assert "Available to plan (allocated less committed)" in text


def test_the_plan_pdf_shows_the_plan_pages_figures(web_as, client_user, budget, make_plan):
    plan = make_plan(client_user, budget)
    approved_and_part_paid(budget, plan)
    text = pdf_text(web_as(client_user).get(f"/plans/{plan.pk}/plan.pdf"))
    available = selectors.plan_available(CarePlan.objects.get(pk=plan.pk))
    assert "Available for this plan" in text and format_money(available.amount) in text
    assert "Difference" not in text
    assert "budget's available to plan (£4,000.00)" in text


def test_the_api_keeps_its_meanings(api_as, client_user, budget, make_plan):
    approved_and_part_paid(budget, make_plan(client_user, budget))
    body = api_as(client_user).get(f"/api/v1/budgets/{budget.pk}/").json()
    assert [body[k]["amount"] for k in ("allocated", "committed", "paid", "available")] == [
        "10000.00",
        "6000.00",
        "2000.00",
        "4000.00",
    ]

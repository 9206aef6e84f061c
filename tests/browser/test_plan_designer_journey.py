"""A client designs a care plan in the browser: inline catalogue search, a live running total,
and the over-budget warning, all through htmx under the site's Content Security Policy."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from budgets.models import Assessment, AssessmentStatus, PersonalBudget
from budgets.services import ledger
from careplans.models import CarePlan, PlanLine
from providers.models import Provider, ProviderStatus, ServiceArea, ServiceOffering
from tests import factories
from tests.browser.dates import fill_date
from tests.browser.test_assessment_journey import sign_in

HTMX_ABORT_NOISE = re.compile(r"^htmx:(sendAbort|afterRequest), \[object HTML\w+Element\]$")
BUDGET = "500.00"  # small, so that going over is one change away


def offered(provider_name: str, title: str, price: str, unit: str) -> ServiceOffering:
    provider = factories.ProviderFactory(name=provider_name)
    Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.VERIFIED)
    service = ServiceOffering.objects.create(
        provider=provider, title=title, category="personal_care", unit=unit,
        unit_price=Money(price, "GBP"), postcode_districts=["NF1"],
    )  # fmt: skip
    ServiceArea.objects.create(service=service, district="NF1")
    return service


def budget_for(client, scheme, amount: str) -> PersonalBudget:
    """A completed assessment and a budget of `amount` allocated through the ledger, from today."""
    start = datetime.date.today()
    answers = {
        q: "independent"
        for q in ("nutrition", "hygiene", "toilet", "dressing", "home_safety",
                  "habitable_home", "relationships", "work_education", "community", "caring_for_child")
    }  # fmt: skip
    answers.update(nutrition="some_help", night_support="none", risk="low")
    assessment = Assessment.objects.create(
        client=client, assessor=client, scheme=scheme, status=AssessmentStatus.COMPLETED, answers=answers,
        impairment=True, wellbeing_impact=True, eligible=True, indicative_budget=Money(amount, "GBP"),
    )  # fmt: skip
    budget = PersonalBudget.objects.create(
        client=client, assessment=assessment, period_start=start,
        period_end=start + datetime.timedelta(days=364), indicative_amount=Money(amount, "GBP"),
    )  # fmt: skip
    ledger.open_budget_accounts(budget)
    ledger.allocate(budget=budget, amount=Money(amount, "GBP"), key=f"test:{budget.pk}:allocation")
    return budget


def pounds(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def weekly_cost(price: str, units: str, days: int) -> Decimal:
    """PRODUCT.md §4: price × units a week × days (inclusive) / 7, half up to the penny."""
    return (Decimal(price) * Decimal(units) * days / 7).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def search_and_choose(page, words: str, choose: str) -> None:
    """Type into the catalogue search and wait for the results, without pressing Search or Enter:
    only htmx can bring them. The page must not reload (a marker set on `window` survives)."""
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Search the catalogue").press_sequentially(words, delay=20)
    expect(page.locator("#search-results").get_by_role("status")).to_contain_text("found")
    link = page.get_by_role("link", name=choose)
    expect(link).to_be_visible()
    assert page.evaluate("window.__sameDocument === true"), "the results came by htmx, not a page load"
    expect(page).to_have_url(re.compile(r"\?q=" + r"(\+|%20)".join(map(re.escape, words.split()))))
    link.click()


def fill_line(page, *, frequency: str, amount: str, start: datetime.date, end: datetime.date | None = None) -> None:
    page.get_by_role("radio", name=frequency, exact=True).check()
    page.get_by_label("How many units").fill(amount)
    fill_date(page, "Start date", start)
    fill_date(page, "End date, for support every week", end)


@pytest.mark.django_db(transaction=True)
def test_client_designs_a_plan_with_a_live_total_and_sees_the_over_budget_warning(live_server, page, example_scheme):
    client = factories.ClientFactory(full_name="Ruth Ellis")
    budget = budget_for(client, example_scheme, BUDGET)
    offered("Brightside Care", "Morning visits", "20.00", "hour")
    offered("Oakfield Centre", "Day centre sessions", "35.50", "session")
    offered("Riverside Lodge", "Respite nights", "120.00", "night")
    start = budget.period_start
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))

    sign_in(page, live_server, client)
    page.locator("main").get_by_role("link", name="My budget").click()  # the home page task, not the header link
    expect(page.get_by_role("heading", level=1)).to_have_text("My budget")
    page.get_by_role("button", name="Start a care plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    plan = CarePlan.objects.get(budget=budget)
    expect(page.get_by_test_id("plan-total")).to_have_text("£0.00")

    lines = [
        # search words, link to choose, frequency, amount, days (None: once), price, line cost
        ("visits", "Choose Morning visits from Brightside Care", "Every week", "2", 14, "20.00"),
        ("day centre", "Choose Day centre sessions from Oakfield Centre", "Every week", "1", 10, "35.50"),
        ("respite", "Choose Respite nights from Riverside Lodge", "Once", "1", None, "120.00"),
    ]
    total = Decimal("0.00")
    for n, (words, choose, frequency, amount, days, price) in enumerate(lines, start=1):
        page.get_by_role("link", name="Add support").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Add support")
        search_and_choose(page, words, choose)

        shown_before = page.get_by_test_id("plan-total").inner_text()
        fill_line(
            page,
            frequency=frequency,
            amount=amount,
            start=start,
            end=start + datetime.timedelta(days=days - 1) if days else None,
        )
        cost = weekly_cost(price, amount, days) if days else Decimal(price) * Decimal(amount)
        total += cost
        # The running total changes as the person types: htmx posts a preview, nothing is saved.
        expect(page.get_by_test_id("plan-total")).not_to_have_text(shown_before)
        expect(page.get_by_test_id("plan-total")).to_have_text(pounds(total))
        expect(page.get_by_test_id("line-cost")).to_have_text(pounds(cost))
        expect(page.get_by_text("Plan total with this change")).to_be_visible()
        assert PlanLine.objects.filter(plan=plan).count() == n - 1, "a preview saves nothing"

        page.get_by_role("button", name="Add to plan").click()
        expect(page.get_by_role("alert")).to_contain_text("The support is added to your plan.")
        expect(page.get_by_test_id("plan-total")).to_have_text(pounds(total))

    assert total == Decimal("250.71")  # 80.00 + 50.71 + 120.00
    expect(page.get_by_test_id("difference")).to_have_text(pounds(Decimal(BUDGET) - total))
    expect(page.locator(".govuk-warning-text")).to_have_count(0)

    # Twenty hours a week of visits takes the plan over the £500 budget.
    page.get_by_role("link", name="Change Morning visits").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change Morning visits")
    page.get_by_label("How many units").fill("20")
    over_total = total - Decimal("80.00") + weekly_cost("20.00", "20", 14)
    assert over_total == Decimal("970.71")
    warning = f"With this change the plan would cost {pounds(over_total)}, which is more than the £500.00 available."
    expect(page.locator(".govuk-warning-text")).to_contain_text(warning)
    expect(page.get_by_test_id("plan-total")).to_have_text(pounds(over_total))
    expect(page.get_by_text("Over budget by")).to_be_visible()
    expect(page.get_by_test_id("difference")).to_have_text(pounds(over_total - Decimal(BUDGET)))
    assert CarePlan.objects.get(pk=plan.pk).total_cost == Money(total, "GBP"), "a preview saves nothing"

    page.get_by_role("button", name="Save the change").click()
    expect(page.get_by_role("alert")).to_contain_text("Morning visits is changed.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Care plan for Ruth Ellis")
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        f"This plan costs {pounds(over_total)}, which is more than the £500.00 available."
    )
    expect(page.get_by_test_id("plan-total")).to_have_text(pounds(over_total))
    assert CarePlan.objects.get(pk=plan.pk).total_cost == Money(over_total, "GBP")

    csp_errors = [text for text in console_errors if "Content Security Policy" in text or "Refused to" in text]
    assert csp_errors == [], csp_errors
    # Clicking a save button blurs the field, whose `change` fires one more preview; the page then
    # navigates away and htmx logs the aborted request as an error. Nothing else may be logged.
    others = [text for text in console_errors if not HTMX_ABORT_NOISE.match(text)]
    assert others == [], others

# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)
"""Staff pages name the person; the person's own pages say "you".

A social worker, team manager or finance officer reading a plan, its line pages or a financial
assessment reads "Ruth Ellis's plan", "Ruth Ellis pays", never "your plan" or "your care" (they
are not the person). The person, and a representative acting for them, keep "your"."""

from __future__ import annotations

import datetime
import html as html_lib
import re
from decimal import Decimal

import pytest

from budgets import charging, ras
from budgets.services.charging import financial_assessment_record
from budgets.views.voice import BUDGET, WORKING, about
from tests.accounts.representative_fixtures import representative_of
from tests.careplans.conftest import (  # noqa: F401 (fixtures)
    budget,
    make_budget,
    make_plan,
    make_provider,
    make_service,
    visits,
)

pytestmark = pytest.mark.django_db

YOU = re.compile(r"\b(you|your|yours|yourself)\b", re.I)
# "You" as the reader who is doing something (any role): not the person the page is about.
TO_THE_READER = ["Are you sure you want to remove", "unless you give an earlier date", "You can add it again later"]


def text_of(response) -> str:
    """The page's main text: tags dropped, entities decoded, whitespace squeezed."""
    page = response.content.decode()
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<script.*?</script>", " ", main, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def you_in(text: str) -> list[str]:
    """Each "you" in the text, with the words around it (for the failure message)."""
    return [text[max(0, m.start() - 60) : m.end() + 40] for m in YOU.finditer(text)]


@pytest.fixture
def plan(make_plan, client_user, budget, visits):
    """Ruth's draft plan: home care visits, and her own personal assistant (a direct payment)."""
    start = budget.period_start
    end = start + datetime.timedelta(days=13)
    return make_plan(
        client_user,
        budget,
        lines=[
            {"service": visits.pk, "units_per_week": "2", "start": start, "end": end},
            {
                "description": "Personal assistant",
                "unit": "hour",
                "unit_price": {"amount": "14.50", "currency": "GBP"},
                "units_per_week": "10",
                "start": start,
                "end": end,
                "money_management": "direct_payment",
            },
        ],
    )


def plan_pages(plan, visits) -> list[str]:
    own = plan.lines.get(service__isnull=True)
    return [
        f"/plans/{plan.pk}/",
        f"/plans/{plan.pk}/lines/add/",
        f"/plans/{plan.pk}/lines/add/?service={visits.pk}",
        f"/plans/{plan.pk}/lines/add-own/",
        f"/plans/{plan.pk}/lines/{own.pk}/change/",
        f"/plans/{plan.pk}/lines/{own.pk}/remove/confirm/",
        f"/plans/{plan.pk}/details/",
    ]


@pytest.mark.parametrize("staff", ["social_worker", "team_manager"])
def test_staff_read_the_plan_pages_about_the_person_by_name(request, web_as, plan, visits, staff):
    web = web_as(request.getfixturevalue(staff))
    for path in plan_pages(plan, visits):
        response = web.get(path)
        assert response.status_code == 200, path
        text = text_of(response)
        for words in TO_THE_READER:
            text = text.replace(words, "")
        assert not YOU.findall(text), (path, you_in(text))
    line_form = text_of(web.get(f"/plans/{plan.pk}/lines/add/?service={visits.pk}"))
    assert "What this does to Ruth Ellis's plan's total" in line_form
    assert "A direct payment to Ruth Ellis: they pay the provider" in line_form
    assert "the provider holds the money for Ruth Ellis" in line_form and " me" not in line_form
    plan_page = text_of(web.get(f"/plans/{plan.pk}/"))
    assert "Ruth Ellis's own arrangement · £14.50 per hour · Direct payment to Ruth Ellis" in plan_page
    assert "Direct payment to Ruth Ellis £290.00" in plan_page and "Direct payment to me" not in plan_page
    assert "Add Ruth Ellis's own arrangement" in text_of(web.get(f"/plans/{plan.pk}/lines/add-own/"))
    submit = text_of(web.get(f"/plans/{plan.pk}/"))
    assert "Ruth Ellis's social worker or their team manager reviews it within 10 working days" in submit
    assert "Ruth Ellis is told what they decide" in submit


def test_the_person_and_their_representative_read_your_plan(web_as, client_user, plan, visits):
    pat = representative_of(client_user, full_name="Pat Ellis")
    for reader in (client_user, pat):
        web = web_as(reader)
        line_form = text_of(web.get(f"/plans/{plan.pk}/lines/add/?service={visits.pk}"))
        assert "What this does to your plan's total" in line_form
        assert "A direct payment to me: I pay the provider" in line_form
        page = text_of(web.get(f"/plans/{plan.pk}/"))
        assert "Your own arrangement · £14.50 per hour · Direct payment to me" in page and "Ruth Ellis's" not in page
        assert "Your social worker reviews it within 10 working days and you will be told" in page
        assert "Add your own arrangement" in text_of(web.get(f"/plans/{plan.pk}/lines/add-own/"))


def test_a_social_worker_adding_support_is_told_it_is_added_to_the_persons_plan(web_as, social_worker, plan, visits):
    start = plan.budget.period_start
    form = {
        "service": visits.pk,
        "frequency": "one_off",
        "amount": "1",
        "start-day": start.day,
        "start-month": start.month,
        "start-year": start.year,
    }
    response = web_as(social_worker).post(f"/plans/{plan.pk}/lines/add/?service={visits.pk}", form, follow=True)
    assert response.status_code == 200
    assert "The support is added to Ruth Ellis's plan." in text_of(response)


# --- the financial assessment's working ------------------------------------------------------


@pytest.fixture
def assessment(finance_user, client_user):
    """Ruth's assessment: she pays £45.15 a week; the working says "your capital", "your care"."""
    return financial_assessment_record(
        actor=finance_user,
        client=client_user,
        band="pension_age",
        capital=Decimal("15000.00"),
        income=[{"kind": "state_pension", "weekly_amount": Decimal("221.20")}],
    )


def test_finance_and_the_social_worker_read_the_working_about_the_person(
    web_as, finance_user, social_worker, caseload, assessment
):
    for reader in (finance_user, social_worker):
        text = text_of(web_as(reader).get(f"/financial-assessments/{assessment.pk}/"))
        assert not YOU.findall(text), (reader, you_in(text))
        assert "Ruth Ellis pays £" in text
        assert "(or part) of Ruth Ellis's capital" in text
        assert "Less the Minimum Income Guarantee for Ruth Ellis's circumstances" in text
        assert "Ruth Ellis's weekly contribution (never more than the cost of their care)" in text


def test_the_person_and_their_representative_read_your_contribution(web_as, client_user, assessment):
    pat = representative_of(client_user, full_name="Pat Ellis")
    for reader in (client_user, pat):
        text = text_of(web_as(reader).get(f"/financial-assessments/{assessment.pk}/"))
        assert "You pay £" in text
        assert "Your weekly contribution (never more than the cost of your care)" in text
        assert "Ruth Ellis's" not in text


RULES = charging.Rules(
    lower_capital_limit=Decimal("14250"),
    upper_capital_limit=Decimal("23250"),
    tariff_step=Decimal("250"),
    taper_percent=Decimal("100"),
    minimum_income_guarantee={"pension_age": Decimal("228.70")},
    disregarded_income=frozenset({"earnings"}),
)


@pytest.mark.parametrize(
    "figures",
    [
        {"declined": True, "capital": Decimal(0)},
        {"capital": Decimal("30000")},  # above the upper limit: the full cost
        {"capital": Decimal("15000"), "income": [charging.Item("state_pension", Decimal("300"))]},  # tariff income
        {"capital": Decimal("1000"), "income": [charging.Item("state_pension", Decimal("100"))]},  # nothing left
    ],
)
def test_every_line_the_rules_can_write_reads_about_the_person_for_staff(figures):
    figures = {"income": [], **figures}
    result = charging.assess(
        RULES,
        band="pension_age",
        housing_costs=[charging.Item("Rent", Decimal("10"))],
        disability_related_expenditure=[],
        **figures,
    )
    assert any(YOU.search(text) for text, _ in result.explanation), "the stored lines speak to the person"
    for text, _ in result.explanation:
        about_ruth = about(text, "Ruth Ellis", WORKING)
        assert not YOU.search(about_ruth), about_ruth
        assert "Ruth Ellis" in about_ruth or not YOU.search(text)


# --- how the budget was worked out -----------------------------------------------------------


@pytest.mark.parametrize("clamped", [None, "min", "max"])
def test_every_line_of_a_budgets_explanation_reads_about_the_person_for_staff(clamped):
    band = ras.BandLine(Decimal(0), Decimal(8), Decimal(250), Decimal(2000))
    pricing = ras.Pricing(
        points_by_domain={},
        raw_points=8,
        modifiers=[ras.Modifier(code="unpaid_carer", text="An unpaid carer", percent=Decimal(-10))],
        points=Decimal("7.2"),
        band_lines=[band],
        unclamped=Decimal(1800),
        amount=Decimal(2000),
        clamped=clamped,
        min_budget=Decimal(2000),
        max_budget=Decimal(100000),
    )
    lines = ras.explain(pricing)
    assert any(YOU.search(line) for line in lines), "the explanation speaks to the person"
    for line in lines:
        about_ruth = about(line, "Ruth Ellis", BUDGET)
        assert not YOU.search(about_ruth), about_ruth
        assert "Ruth Ellis's" in about_ruth or not YOU.search(line)


def test_staff_read_how_the_budget_was_worked_out_about_the_person(web_as, social_worker, client_user, budget):
    web = web_as(social_worker)
    for path in (f"/budgets/{budget.pk}/", f"/assessments/{budget.assessment_id}/"):
        text = text_of(web.get(path))
        assert "Ruth Ellis's answers scored" in text, path
        assert "Your answers" not in text and "yours is" not in text, path
    own = text_of(web_as(client_user).get(f"/budgets/{budget.pk}/"))
    assert "Your answers scored" in own and "Ruth Ellis's answers" not in own

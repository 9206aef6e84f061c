# ruff: noqa: F811  (pytest fixtures imported from tests/budgets/conftest.py, requested by name)
"""The budget forms that drew their own errors now follow the one pattern: the error summary at
the top links to the field (`#id_…`), the same message is by the field (and the field points to
it with `aria-describedby`), and GOV.UK Frontend moves the focus to the summary. The final budget
form, the financial assessment's "chose not to have one" box, the assessment wizard's refusals,
and an own arrangement's description."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from djmoney.money import Money

from budgets.models import Assessment
from budgets.ras import compile_scheme
from budgets.selectors import budget_figures
from budgets.services import ledger
from budgets.views.charging import FinancialAssessmentForm
from tests.budgets.conftest import make_budget, scheme  # noqa: F401
from tests.careplans.conftest import make_plan  # noqa: F401

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # a right-to-left override


def summary(page: str) -> list[tuple[str | None, str]]:
    """The error summary's entries: (the id it links to, or None, and its words)."""
    block = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    entries = []
    for item in re.findall(r"<li>(.*?)</li>", block, re.S):
        link = re.match(r'<a href="#([^"]+)">(.*)</a>$', item.strip(), re.S)
        entries.append((link[1], html_lib.unescape(link[2])) if link else (None, html_lib.unescape(item.strip())))
    return entries


def by_field(page: str, field_id: str) -> str:
    """The message beside the field, without the hidden 'Error:'."""
    found = re.search(rf'<p id="{field_id}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert found, f"no message by {field_id}"
    text = re.sub(r"<[^>]+>", " ", found[1].replace('<span class="govuk-visually-hidden">Error:</span>', ""))
    return html_lib.unescape(" ".join(text.split()))


def control(page: str, field_id: str) -> str:
    """The tag of the input (or textarea) with this id."""
    found = re.search(rf'<(input|textarea)[^>]*\bid="{field_id}"[^>]*>', page)
    assert found, f"no control {field_id}"
    return found[0]


def assert_the_pattern(page: str, field_id: str, message: str, *, anchor: str | None = None) -> None:
    """The summary links `message` to the field (or its first option), the field says it too."""
    assert 'data-module="govuk-error-summary"' in page
    assert (anchor or field_id, message) in summary(page), summary(page)
    assert by_field(page, field_id) == message
    if anchor is None:
        assert f"{field_id}-error" in control(page, field_id)  # aria-describedby names the message


# --- the final budget ------------------------------------------------------------------------


@pytest.fixture
def final_page(web_as, caseload, make_budget, team_manager):
    budget = make_budget(caseload.client, "10000.00")
    web = web_as(team_manager)

    def post(**data):
        response = web.post(f"/budgets/{budget.pk}/final/", data)
        assert response.status_code == 400
        return response.content.decode()

    post.budget = budget
    return post


def test_the_final_budget_without_a_number_or_a_reason_links_each_to_its_box(final_page):
    page = final_page(amount="lots", reason="")
    assert_the_pattern(page, "id_amount", "Enter the final budget as an amount, like 12500 or 12500.50")
    assert_the_pattern(page, "id_reason", "Give the reason for the final budget")
    amount = control(page, "id_amount")
    assert 'type="text"' in amount and 'inputmode="decimal"' in amount and 'value="lots"' in amount
    assert '<div class="govuk-input__prefix" aria-hidden="true">£</div>' in page
    assert "<title>Error: " in page
    assert budget_figures(final_page.budget).allocated == Money("10000.00", "GBP")


def test_a_final_budget_too_large_says_so_in_the_same_words_by_the_box_and_in_the_summary(final_page):
    page = final_page(amount="123456789012345", reason="Panel")
    assert_the_pattern(page, "id_amount", "Final budget for the year, in pounds is too large")
    assert "Ensure that there are no more than" not in page  # Django's own wording, by the box before


def test_a_final_budget_below_what_is_committed_is_told_by_the_amount(final_page):
    budget = final_page.budget
    ledger.commit(budget=budget, amount=Money("6000.00", "GBP"), key="test:commit")
    page = final_page(amount="5000.00", reason="Less needed")
    assert_the_pattern(page, "id_amount", "Only £4,000.00 is uncommitted, so the budget cannot go down by £5,000.00.")
    assert budget_figures(budget).allocated == Money("10000.00", "GBP")


# --- the financial assessment's "declined" box -------------------------------------------------


def test_an_error_on_the_declined_box_is_linked_from_the_summary_and_shown_by_the_box(finance_user, client_user):
    form = FinancialAssessmentForm({"band": "pension_age", "declined": "on"})
    assert form.is_valid()
    form.add_error("declined", "Untick this box, or clear the figures")  # as a refusal naming it would be
    request = RequestFactory().get("/")
    request.user = finance_user
    page = render_to_string(
        "budgets/financial_assessment_form.html", {"form": form, "person": client_user, "policy": None}, request
    )
    assert_the_pattern(page, "id_declined", "Untick this box, or clear the figures")
    box = control(page, "id_declined")
    assert 'type="checkbox"' in box and "checked" in box
    assert page.count('id="id_declined"') == 1


def test_the_declined_box_without_an_error_is_a_plain_checkbox(web_as, finance_user, client_user):
    page = web_as(finance_user).get(f"/clients/{client_user.pk}/financial-assessment/new/").content.decode()
    box = control(page, "id_declined")
    assert "checked" not in box and "aria-describedby" not in box
    assert '<label class="govuk-label govuk-checkboxes__label" for="id_declined">' in page


# --- the assessment wizard ---------------------------------------------------------------------


@pytest.fixture
def draft(web_as, caseload, social_worker, client_user, scheme):
    web = web_as(social_worker)
    web.post(f"/clients/{client_user.pk}/assess/")
    assessment = Assessment.objects.get(client=client_user)
    compiled = compile_scheme(assessment.scheme)
    pages = [compiled.questions_in(domain) for domain in compiled.domains]
    return web, assessment, pages


def save_page_1_with_a_stale_answer_to(draft, question) -> str:
    """A saved answer that is no longer one of the question's answers (the scheme changed since),
    then page 1 saved as a draft: the service refuses it (400), and changes nothing."""
    web, assessment, _ = draft
    Assessment.objects.filter(pk=assessment.pk).update(answers={question.code: "no_longer_an_answer"})
    response = web.post(f"/assessments/{assessment.pk}/step/1/", {"draft": "1"})
    assert response.status_code == 400
    assert Assessment.objects.get(pk=assessment.pk).answers == {question.code: "no_longer_an_answer"}
    return response.content.decode()


def test_an_answer_the_service_refuses_is_shown_by_its_question(draft):
    question = draft[2][0][0]
    page = save_page_1_with_a_stale_answer_to(draft, question)
    message = f"Select an answer for “{question.text}”: the one saved is not one of its answers"
    assert_the_pattern(page, f"id_{question.code}", message, anchor=f"id_{question.code}_0")


def test_a_refusal_about_another_page_heads_the_summary_and_is_not_drawn_a_second_time(draft):
    elsewhere = draft[2][1][0]  # a question on page 2
    page = save_page_1_with_a_stale_answer_to(draft, elsewhere)
    message = f"The answer to “{elsewhere.text}” is not one of its answers: change it on its page"
    assert summary(page) == [(None, message)]
    assert "govuk-error-message" not in page  # no field is wrong on this page, and no second copy of it


# --- an own arrangement's description ---------------------------------------------------------


def test_an_own_arrangement_described_with_an_override_is_told_by_the_description(
    web_as, client_user, caseload, make_budget, make_plan
):
    budget = make_budget(client_user, "10000.00")
    plan = make_plan(client_user, budget)
    start = budget.period_start
    response = web_as(client_user).post(
        f"/plans/{plan.pk}/lines/add-own/",
        {
            "description": f"Swimming {RLO}snossel",
            "unit": "hour",
            "unit_price": "14.50",
            "frequency": "one_off",
            "amount": "2",
            "start": start.isoformat(),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert [field for field, _ in summary(page)] == ["id_description"]
    assert "right-to-left override" in by_field(page, "id_description")
    assert not plan.lines.exists()

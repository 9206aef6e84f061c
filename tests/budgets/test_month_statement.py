"""The monthly statement: the figures at the start and end of a month, and each movement in it."""

import io

import pytest
from django.utils import timezone
from djmoney.money import Money
from pypdf import PdfReader

from budgets.services import ledger

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_client_downloads_this_months_statement_with_its_payment(web_as, caseload, make_budget, client_user):
    budget = make_budget(client_user, "5000.00")
    ledger.commit(budget=budget, amount=Money("1000.00", "GBP"), key="t:commit")
    ledger.record_payment(budget=budget, amount=Money("123.45", "GBP"), key="t:pay", memo="Paid Brightside Care")
    month = timezone.localdate().replace(day=1)
    response = web_as(client_user).get(f"/budgets/{budget.pk}/statements/{month.year}/{month.month}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _text(response)
    assert f"Monthly statement: {month:%B %Y}" in text
    assert "Paid Brightside Care" in text and "£123.45" in text
    assert "£4,000.00" in text  # available at the end of the month: 5,000 less the 1,000 committed (paid from it)
    assert "Page 1 of 1" in text


def test_the_month_opens_with_the_figures_as_they_stood_then(web_as, caseload, make_budget, client_user):
    budget = make_budget(client_user, "5000.00")  # allocated now, so after the 1st of this month
    month = timezone.localdate().replace(day=1)
    text = _text(web_as(client_user).get(f"/budgets/{budget.pk}/statements/{month.year}/{month.month}.pdf"))
    row = text[text.index("Allocated") :].split("Committed")[0]
    assert row.index("£0.00") < row.index("£5,000.00")  # nothing on the 1st, £5,000 at the end


@pytest.mark.parametrize("when", ["future", "before", "nonsense"])
def test_months_outside_the_period_or_to_come_are_not_found(web_as, caseload, make_budget, client_user, when):
    budget = make_budget(client_user, "5000.00")
    today = timezone.localdate()
    year, month = {
        "future": (today.year + 1, today.month),
        "before": (today.year - 1, today.month),
        "nonsense": (today.year, 13),
    }[when]
    assert web_as(client_user).get(f"/budgets/{budget.pk}/statements/{year}/{month}.pdf").status_code == 404


def test_another_client_cannot_see_the_statement(web_as, caseload, make_budget, client_user):
    from tests import factories

    budget = make_budget(client_user, "5000.00")
    month = timezone.localdate().replace(day=1)
    other = web_as(factories.ClientFactory())
    assert other.get(f"/budgets/{budget.pk}/statements/{month.year}/{month.month}.pdf").status_code == 404


def test_a_load_into_a_direct_payment_is_shown_once_not_doubled(web_as, caseload, make_budget, client_user):
    """A load is posted both as paid and as held in the person's fund; the month's statement shows
    what left the budget (£294.00), as the budget page and the period statement do — it showed the
    two postings added up (£588.00)."""
    budget = make_budget(client_user, "5000.00")
    ledger.commit(budget=budget, amount=Money("1000.00", "GBP"), key="t:commit")
    ledger.record_fund_load(budget=budget, amount=Money("294.00", "GBP"), key="t:load", memo="Paid Ruth for load 29")
    ledger.record_payment(budget=budget, amount=Money("73.50", "GBP"), key="t:pay", memo="Paid Brightside Care")
    month = timezone.localdate().replace(day=1)
    text = _text(web_as(client_user).get(f"/budgets/{budget.pk}/statements/{month.year}/{month.month}.pdf"))
    assert "Paid Ruth for load 29" in text
    assert "-£294.00" in text and "588" not in text
    assert "-£73.50" in text
    assert "+£5,000.00" in text  # the allocation came in
    flat = " ".join(text.split())
    assert "£1,000.00 moved; no money in or out of your budget" in flat  # the commitment stays within it

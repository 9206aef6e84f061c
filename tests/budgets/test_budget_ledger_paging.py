"""The budget page's ledger a page at a time with money in and out per month, and the budget
statement PDF for a chosen period with its opening and closing balances."""

import datetime
import io
from contextlib import contextmanager
from unittest import mock

import pytest
from django.utils import timezone
from djmoney.money import Money
from pypdf import PdfReader

from budgets import selectors
from budgets.models import LedgerTransaction, TransactionKind
from budgets.services import ledger
from tests import factories

pytestmark = pytest.mark.django_db

GBP = "GBP"


@contextmanager
def at(moment: datetime.datetime):
    """Ledger rows written inside are dated `moment` (their `created_at` is set on insert)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def local(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def pdf_text(response) -> str:
    """The PDF's words with every run of spaces and line breaks as one space (cells come out a line each)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages).split())


def pay_many(budget, count: int, *, start: int = 0, amount: str = "1.00") -> None:
    """`count` payments of `amount` from what is committed, in one bulk write."""
    ledger.record_many(
        [
            ledger.Entry(TransactionKind.PAYMENT, budget, Money(amount, GBP), f"t:{budget.pk}:pay:{i}", f"Invoice {i}")
            for i in range(start, start + count)
        ]
    )


@pytest.fixture
def months():
    """The first days of last month and this month: a budget period that began last month."""
    this = timezone.localdate().replace(day=1)
    return (this - datetime.timedelta(days=1)).replace(day=1), this


@pytest.fixture
def budget(make_budget, client_user, caseload, months):
    """£10,000 allocated on the 2nd of last month; £5,000 committed (no money in or out) and
    £300 paid out there; £120 paid out this month, and £20 of it reversed (money back in)."""
    last, this = months
    with at(local(last + datetime.timedelta(days=1))):
        budget = make_budget(client_user, "10000.00", period_start=last)
        ledger.commit(budget=budget, amount=Money("5000.00", GBP), key="t:commit", memo="Care plan approved")
        ledger.record_payment(budget=budget, amount=Money("300.00", GBP), key="t:p1", memo="Brightside <Care> & Co")
    with at(local(this)):
        ledger.record_payment(budget=budget, amount=Money("100.00", GBP), key="t:p2", memo="Invoice 2")
        twenty = ledger.record_payment(budget=budget, amount=Money("20.00", GBP), key="t:p3", memo="Invoice 3")
        ledger.reverse(original=twenty, key="t:r3", memo="Paid twice")
    return budget


def test_month_totals_net_each_movement_and_count_commitments_as_neither(budget, months):
    last, this = months
    totals = {row.month: row for row in selectors.ledger_month_totals(budget)}
    assert list(totals) == [this, last]  # newest first
    assert totals[last].money_in == Money("10000.00", GBP)
    assert totals[last].money_out == Money("300.00", GBP)  # the £5,000 commitment is neither
    assert totals[last].movements == 3
    assert totals[this].money_in == Money("20.00", GBP)  # the reversal
    assert totals[this].money_out == Money("120.00", GBP)
    # The balance moves by exactly money in less money out.
    figures = selectors.budget_figures(budget)
    assert figures.balance == Money("10000.00", GBP) + Money("20.00", GBP) - Money("420.00", GBP)


def test_budget_page_shows_month_totals_newest_first_and_links_each_month_to_its_statement(
    web_as, client_user, budget, months
):
    last, this = months
    html = web_as(client_user).get(f"/budgets/{budget.pk}/").content.decode()
    assert "Money in and out each month" in html
    assert html.index(f"{this:%B %Y}<span") < html.index(f"{last:%B %Y}<span")
    assert f"/budgets/{budget.pk}/statements/{last.year}/{last.month}.pdf" in html
    assert "£10,000.00" in html and "£300.00" in html and "£120.00" in html
    # The four figures are as before: allocated, committed (incl. paid), paid, available.
    for figure in ("£10,000.00", "£5,000.00", "£400.00"):
        assert figure in html


def test_budget_page_shows_fifty_movements_newest_first_with_pages(web_as, client_user, make_budget, caseload):
    budget = make_budget(client_user, "1000.00")
    ledger.commit(budget=budget, amount=Money("1000.00", GBP), key="t:commit")
    pay_many(budget, 60)  # 62 movements: allocation, commitment, 60 payments
    web = web_as(client_user)
    first = web.get(f"/budgets/{budget.pk}/").content.decode()
    assert first.count("Payment: Invoice") == 50
    assert "Invoice 59" in first and "Invoice 10<" in first and "Invoice 9<" not in first  # newest first
    assert "62 movements, 50 to a page: showing 1 to 50" in first
    assert 'href="?page=2#movements" rel="next"' in first and 'rel="prev"' not in first
    second = web.get(f"/budgets/{budget.pk}/?page=2").content.decode()
    assert "Invoice 0<" in second and "Allocation" in second and "Invoice 59" not in second
    assert 'href="?page=1#movements" rel="prev"' in second
    # Not a page number, or past the end: the nearest page rather than an error.
    assert "Invoice 59" in web.get(f"/budgets/{budget.pk}/?page=first").content.decode()
    assert "Invoice 0<" in web.get(f"/budgets/{budget.pk}/?page=99").content.decode()


def test_budget_page_queries_and_size_stay_the_same_as_the_ledger_grows(
    web_as, client_user, make_budget, caseload, django_assert_max_num_queries
):
    budget = make_budget(client_user, "100000.00")
    ledger.commit(budget=budget, amount=Money("100000.00", GBP), key="t:commit")
    pay_many(budget, 60)
    web = web_as(client_user)
    with django_assert_max_num_queries(40) as small:
        small_html = web.get(f"/budgets/{budget.pk}/").content
    pay_many(budget, 600, start=60)  # ten times the movements
    with django_assert_max_num_queries(len(small.captured_queries)):
        large_html = web.get(f"/budgets/{budget.pk}/").content
    assert large_html.count(b"Payment: Invoice") == 50
    # Only the counts and figures grow a character or two; no row is added.
    assert abs(len(large_html) - len(small_html)) < 200


def test_the_plain_statement_link_covers_the_budget_period_with_opening_and_closing_balances(
    web_as, client_user, budget, months
):
    last, this = months
    response = web_as(client_user).get(f"/budgets/{budget.pk}/statement.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="budget-statement-{budget.pk}.pdf"'
    text = pdf_text(response)
    period = f"{budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}"
    assert f"Statement period: {period}" in text
    assert f"Opening balance on {budget.period_start:%-d %B %Y} £0.00" in text
    assert f"Closing balance on {budget.period_end:%-d %B %Y} £9,600.00" in text
    assert "Money in +£10,020.00" in text and "Money out -£420.00" in text
    assert f"{last:%B %Y}: money in +£10,000.00, money out -£300.00" in text
    assert f"{this:%B %Y}: money in +£20.00, money out -£120.00" in text
    assert "Brightside <Care> & Co" in text  # people's words shown as typed, not as markup
    assert "£5,000.00 moved; no money in or out of your budget" in text


def test_a_statement_for_chosen_dates_opens_with_what_came_before(web_as, client_user, budget, months):
    last, this = months
    response = web_as(client_user).get(f"/budgets/{budget.pk}/statement.pdf", {"start": this.isoformat()})
    assert response.status_code == 200
    assert f"-{this:%Y-%m-%d}-to-" in response["Content-Disposition"]
    text = pdf_text(response)
    assert f"Opening balance on {this:%-d %B %Y} £9,700.00" in text  # £10,000 in, £300 out last month
    assert f"Closing balance on {budget.period_end:%-d %B %Y} £9,600.00" in text
    assert "Money in +£20.00" in text and "Money out -£120.00" in text
    assert "Brightside" not in text and f"{last:%B %Y}: money" not in text


def test_a_period_with_nothing_in_it_says_so(web_as, client_user, budget, months):
    last, _ = months
    first = last.isoformat()  # everything last month happened on the 2nd
    text = pdf_text(web_as(client_user).get(f"/budgets/{budget.pk}/statement.pdf", {"start": first, "end": first}))
    assert "Nothing moved in this period." in text
    assert f"Closing balance on {last:%-d %B %Y} £0.00" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2027-05-01", "end": "2027-04-30"}, "The end date must be the same as or after the start date"),
        ({"start": "31/04/2027"}, "The start date must be a real date"),
        ({"end": "2027-02-30"}, "The end date must be a real date"),
        ({"start-day": "1", "start-year": "2027"}, "The start date must include a month"),
    ],
)
def test_a_bad_date_or_range_gets_the_form_back_with_what_is_wrong(web_as, client_user, budget, query, message):
    response = web_as(client_user).get(f"/budgets/{budget.pk}/statement.pdf", query)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "There is a problem" in html and message in html
    assert '<legend class="govuk-fieldset__legend">From</legend>' in html
    assert '<legend class="govuk-fieldset__legend">To</legend>' in html


def test_the_budget_page_offers_the_period_form_filled_with_the_budget_period(web_as, client_user, budget):
    html = web_as(client_user).get(f"/budgets/{budget.pk}/").content.decode()
    assert f'action="/budgets/{budget.pk}/statement.pdf"' in html
    for name, date in (("start", budget.period_start), ("end", budget.period_end)):
        for part in ("day", "month", "year"):
            assert f'name="{name}-{part}" type="text" inputmode="numeric" value="{getattr(date, part)}"' in html
    assert f'href="/budgets/{budget.pk}/statement.pdf"' in html  # the plain link still there


def test_another_client_gets_404_for_a_statement_of_any_period(web_as, budget):
    other = web_as(factories.ClientFactory())
    assert other.get(f"/budgets/{budget.pk}/statement.pdf", {"start": "2000-01-01"}).status_code == 404
    assert other.get(f"/budgets/{budget.pk}/statement.pdf", {"start": "nonsense"}).status_code == 404
    assert other.get(f"/budgets/{budget.pk}/?page=2").status_code == 404


def test_statement_balances_add_up_for_every_month(budget, months):
    """Closing = opening + money in − money out, month by month, from the ledger's own figures."""
    for month in months:
        opens = selectors.day_start(month)
        closes = selectors.day_start((month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1))
        entries = selectors.ledger_entries_between(budget, opens, closes)
        net = Money(sum(e.change for e in entries), GBP)
        opening, closing = selectors.budget_figures_at(budget, opens), selectors.budget_figures_at(budget, closes)
        assert closing.balance == opening.balance + net
    assert LedgerTransaction.objects.filter(budget=budget).count() == 6


def test_statement_shows_words_outside_the_pdf_fonts_encoding_and_its_separator(web_as, client_user, budget):
    """Movements are drawn as raw PDF text, a page's lines encoded at once: a line the font's
    encoding cannot hold (drawn with a fallback font) or one holding the character the lines
    are joined by must not lose or shift any other line."""
    ledger.record_payment(budget=budget, amount=Money("7.00", GBP), key="t:sep", memo="Taxi ¦ return")
    ledger.record_payment(budget=budget, amount=Money("8.00", GBP), key="t:enc", memo="Trip to Łódź (bus)")
    ledger.record_payment(budget=budget, amount=Money("9.00", GBP), key="t:after", memo="Back \\ (again)")
    text = pdf_text(web_as(client_user).get(f"/budgets/{budget.pk}/statement.pdf"))
    assert "Payment: Taxi ¦ return -£7.00" in text
    assert "-£8.00" in text and "Trip to" in text
    assert "Payment: Back \\ (again) -£9.00" in text
    assert "Payment: Invoice 2 -£100.00" in text

"""The direct payment page sums the holder's spending by part of the plan (beside what the plan
sets aside for it) and shows each load's contribution taken off, without more queries."""

import datetime
import re

from django.db import reset_queries
from django.utils import timezone

from payments import selectors
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401  (pytest fixtures)
from tests.payments.test_spending import (
    body,
    loaded,  # noqa: F401  (a pytest fixture)
    url,
)

DAY = datetime.timedelta(days=1)


def _page(client, account) -> str:
    return client.get(f"/budgets/{account.budget_id}/direct-payment/").content.decode()


def _table_after(html: str, heading: str) -> str:
    start = html.index(heading)
    return html[start : html.index("</table>", start)]


def test_spending_is_summed_by_plan_line_with_what_is_not_in_the_plan_last(api_as, web_as, loaded):  # noqa: F811
    line = loaded.loads.first().plan.lines.get()
    client = api_as(loaded.holder)
    for amount in ("58.00", "29.50"):
        response = client.post(url(loaded), body(plan_line=line.pk, amount=amount), format="json")
        assert response.status_code == 201, response.json()
    assert client.post(url(loaded), body(amount="12.00", payee="Corner shop"), format="json").status_code == 201

    table = _table_after(_page(web_as(loaded.holder), loaded), "Spent on each part of the plan")
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table, re.S)[1:]
    assert line.title in rows[0] and "£87.50" in rows[0] and ">2<" in rows[0]
    assert "Not in the plan" in rows[1] and "£12.00" in rows[1] and ">1<" in rows[1]


def test_by_line_lists_each_line_the_fund_pays_for_even_with_nothing_spent(loaded):  # noqa: F811
    lines = list(loaded.loads.first().plan.lines.all())
    rows = selectors.fund_spending_by_line(lines, [])
    assert [(r.title, r.spent.amount, r.payments) for r in rows] == [(lines[0].title, 0, 0)]
    assert rows[0].planned == lines[0].cost


def test_the_loads_table_shows_each_loads_contribution(web_as, loaded):  # noqa: F811
    load = loaded.loads.filter(status="paid").first()
    table = _table_after(_page(web_as(loaded.holder), loaded), "Payments from the council")
    assert "Contribution taken off" in table
    assert str(load.contribution) in table and str(load.amount) in table


def test_the_page_does_not_query_more_as_spending_grows(api_as, web_as, loaded, django_assert_max_num_queries):  # noqa: F811
    line = loaded.loads.first().plan.lines.get()
    client = api_as(loaded.holder)
    web = web_as(loaded.holder)
    client.post(url(loaded), body(plan_line=line.pk), format="json")
    reset_queries()  # the log is a bounded deque: full after the fixtures, it would capture nothing
    with django_assert_max_num_queries(1000) as first:
        _page(web, loaded)
    queries = len(first.captured_queries)  # read now: the context reads the connection's log lazily
    assert queries > 5
    for day in range(2, 12):
        spent = body(plan_line=line.pk, amount="1.00", date=str(timezone.localdate() - day * DAY))
        assert client.post(url(loaded), spent, format="json").status_code == 201
    reset_queries()
    with django_assert_max_num_queries(queries):
        _page(web, loaded)

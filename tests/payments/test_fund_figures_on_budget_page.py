"""The budget page's "Money paid to you or held for you" figures before anything was spent or
taken back: nought, not a negated nought ("-£0.00")."""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

import pytest

from tests.payments.payment_fixtures import pay_world, run_payments  # noqa: F401  (fixtures by name)
from tests.payments.test_load_concurrency import make_dp_holder  # noqa: F401  (fixture by name)

pytestmark = pytest.mark.django_db


def test_nothing_spent_or_taken_back_reads_as_nought(make_dp_holder, run_payments, web_as):
    holder = make_dp_holder()
    run_payments()  # its two loads are paid in
    budget = holder.fund.budget

    html = web_as(budget.client).get(f"/budgets/{budget.pk}/").content.decode()

    assert "Taken back by the council" in html
    assert "-£0.00" not in html
    assert '<dd class="govuk-summary-list__value">£0.00</dd>' in html

"""A representative's home page leads to the direct payment of the person they act for."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

from tests.accounts.representative_fixtures import representative_of
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401  (fixtures)


def test_the_representatives_home_links_to_the_direct_payment(dp, web_as):
    son = representative_of(dp.holder, full_name="Kwame Adeyemi")

    html = web_as(son).get("/").content.decode()

    assert f'href="/budgets/{dp.budget_id}/direct-payment/"' in html
    assert f"Direct payment for {dp.holder.full_name}" in html


def test_no_link_where_there_is_no_direct_payment(client_user, budget, web_as):
    son = representative_of(client_user, full_name="Pat Ellis")
    assert "/direct-payment/" not in web_as(son).get("/").content.decode()

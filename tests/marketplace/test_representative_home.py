"""A representative's home page lists the people they act for, each with their budget, their latest
care plan and the invoices waiting for a decision, and nothing of anyone else's.

The world: Ruth (client_user) is on Sam's caseload with an approved plan started 60 days ago and one
invoice waiting; Pat (`representative`) acts for Ruth and for Ivy, who has no budget yet.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests/careplans/conftest.py, requested by name)

import pytest

from accounts.models import RepresentationKind
from marketplace.home import acting_for
from tests import factories
from tests.accounts.representative_fixtures import representative_of
from tests.careplans.conftest import make_budget, make_plan, make_provider, make_service  # noqa: F401
from tests.payments.invoice_fixtures import build_invoicing, submit

pytestmark = pytest.mark.django_db

CHECKLIST = {"outcomes": True, "costs": True, "risks": True, "management": True, "contacts": True}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def inv(make_budget, make_plan, make_service, make_provider, client_user, social_worker, caseload):
    return build_invoicing(
        make_budget=make_budget,
        make_plan=make_plan,
        make_service=make_service,
        make_provider=make_provider,
        client=client_user,
        social_worker=social_worker,
        checklist=dict(CHECKLIST),
    )


@pytest.fixture
def ivy(representative):
    person = factories.ClientFactory(full_name="Ivy Chen")
    representative.representations.create(client=person, kind=RepresentationKind.ADVOCATE)
    return person


def main(response) -> str:
    return response.content.decode().split('id="main-content"')[1].split("</main>")[0]


def test_home_lists_each_person_with_their_budget_plan_and_invoices_to_confirm(web_as, representative, inv, ivy):
    invoice = submit(inv)
    html = main(web_as(representative).get("/"))
    assert "People you act for" in html
    assert "Ruth Ellis" in html and "Ivy Chen" in html
    assert f'href="/budgets/{inv.plan.budget_id}/">Budget for Ruth Ellis</a>' in html
    assert f'href="/plans/{inv.plan.pk}/">Care plan for Ruth Ellis, version 1</a> – Approved' in html
    assert "1 invoice for Ruth Ellis to confirm or dispute" in html
    assert "No budget yet" in html
    assert "Advocate" in html and "Family member" in html
    assert web_as(representative).get(f"/invoices/{invoice.pk}/").status_code == 200


def test_acting_for_names_the_latest_plan_and_counts_waiting_invoices_per_person(representative, inv, ivy):
    submit(inv)
    submit(inv, first=8, last=14)
    rows = {row.link.client.full_name: row for row in acting_for(representative)}
    assert list(rows) == ["Ivy Chen", "Ruth Ellis"]
    assert (rows["Ruth Ellis"].plan, rows["Ruth Ellis"].invoices_to_confirm) == (inv.plan, 2)
    assert (rows["Ivy Chen"].budget, rows["Ivy Chen"].plan, rows["Ivy Chen"].invoices_to_confirm) == (None, None, 0)


def test_home_shows_nobody_elses_clients(web_as, representative, inv, make_budget):
    ben = factories.ClientFactory(full_name="Ben Clarke")
    make_budget(ben, "8000.00")
    html = main(web_as(representative).get("/"))
    assert "Ben Clarke" not in html


def test_a_representative_who_acts_for_nobody_is_told_so(web_as):
    html = main(web_as(representative_of()).get("/"))
    assert "You do not act for anyone yet." in html


@pytest.mark.parametrize("role_fixture", ["client_user", "social_worker", "finance_user"])
def test_other_roles_have_no_people_you_act_for_section(request, web_as, role_fixture):
    person = request.getfixturevalue(role_fixture)
    assert acting_for(person) == []
    assert "People you act for" not in main(web_as(person).get("/"))

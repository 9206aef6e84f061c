"""The header's service navigation gives each role its main sections and marks the current one.

GOV.UK's service navigation component: the current section's item has `--active` and its link
`aria-current` ("page" on the section's own page, "true" on a page within it); no other does.
"""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db

# Per role: the sections the header must show (link text → address), in order after "Home".
EXPECTED = {
    Role.CLIENT: {"My budget": "/my-budget/", "Find support": "/services/", "Invoices": "/invoices/"},
    Role.REPRESENTATIVE: {"Budgets": "/my-budget/", "Find support": "/services/", "Invoices": "/invoices/"},
    Role.SOCIAL_WORKER: {
        "My caseload": "/caseload/",
        "Plans to review": "/reviews/",
        "Statutory reviews": "/reviews/statutory/",
        "Find support": "/services/",
    },
    Role.TEAM_MANAGER: {
        "My team": "/team/",
        "Plans to review": "/reviews/",
        "Statutory reviews": "/reviews/statutory/",
        "Find support": "/services/",
    },
    Role.CASE_MANAGER: {"Providers": "/providers/", "Quality": "/quality/", "Find support": "/services/"},
    Role.FINANCE: {
        "Budgets": "/budgets/",
        "Payment runs": "/payments/runs/",
        "Invoices": "/invoices/",
        "Funds": "/funds/",
        "Contributions": "/contributions/",
    },
    Role.PROVIDER: {
        "Your organisation": "/my-organisation/",
        "Invoices": "/invoices/",
        "Get paid": "/organisation/payouts/",
    },
    Role.ADMIN: {
        "Budgets": "/budgets/",
        "Resource Allocation System": "/ras/",
        "Quality": "/quality/",
        "Administration": "/admin/",
    },
}

_NAV = re.compile(r'<ul class="govuk-service-navigation__list".*?</ul>', re.S)
_ITEM = re.compile(
    r'<li class="govuk-service-navigation__item([^"]*)">\s*<a [^>]*href="([^"]+)"([^>]*)>(.*?)</a>', re.S
)


def _items(html: str) -> list[tuple[str, str, bool, str | None]]:
    """(text, href, active, aria-current) for each link item of the service navigation."""
    nav = _NAV.search(html)
    assert nav, "the page has no service navigation list"
    items = []
    for classes, href, attrs, inner in _ITEM.findall(nav.group(0)):
        text = re.sub(r"<[^>]+>", "", inner).strip()
        current = re.search(r'aria-current="([^"]+)"', attrs)
        items.append((text, href, "--active" in classes, current.group(1) if current else None))
    return items


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_main_sections_in_the_service_navigation(role, request, web_as):
    user = request.getfixturevalue(ROLE_FIXTURES[role])
    if role == Role.PROVIDER:
        assert user.provider_id is not None
    html = web_as(user).get("/").content.decode()
    items = _items(html)
    sections = {text: href for text, href, _active, _current in items[1:-1]}
    assert items[0][:2] == ("Home", "/")
    assert sections == EXPECTED[role]
    # On the home page, Home is the current page and nothing else is marked.
    assert [(text, current) for text, _h, active, current in items if active or current] == [("Home", "page")]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_section_is_marked_current_on_its_own_page(role, request, web_as):
    user = request.getfixturevalue(ROLE_FIXTURES[role])
    web = web_as(user)
    for title, href in EXPECTED[role].items():
        if href.startswith("/admin/"):
            continue  # the Django admin has its own layout
        response = web.get(href)
        assert response.status_code == 200, (role, href, response.status_code)
        marked = [(text, current) for text, _h, active, current in _items(response.content.decode()) if active]
        assert marked == [(title, "page")], (role, href, marked)


def test_a_page_within_a_section_marks_the_section_with_aria_current_true(caseload, social_worker, client_user, web_as):
    response = web_as(social_worker).get(f"/clients/{client_user.pk}/")
    assert response.status_code == 200
    marked = [(text, current) for text, _h, active, current in _items(response.content.decode()) if active]
    assert marked == [("My caseload", "true")]


def test_a_client_on_their_budget_page_is_in_my_budget(client_user, web_as, example_scheme):
    """A client's budget lives at /budgets/<id>/, not under /my-budget/: still "My budget"."""
    web = web_as(client_user)
    response = web.get("/my-budget/", follow=True)
    marked = [(text, current) for text, _h, active, current in _items(response.content.decode()) if active]
    assert marked and marked[0][0] == "My budget"


def test_signed_out_pages_have_no_sections(client):
    html = client.get("/sign-in/").content.decode()
    assert "govuk-service-navigation__list" not in html

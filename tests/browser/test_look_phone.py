"""On a 375 px phone no page scrolls sideways: a table wider than the screen scrolls inside its own
labelled, focusable region (GOV.UK's pattern: role="region", aria-label, tabindex="0")."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from marketplace.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 812}

# Per demo login: the pages with the widest tables (the plain ones first, then any reached by a link).
PAGES = {
    "farah.ahmed": ["/budgets/", "/payments/runs/", "/invoices/", "/funds/", "link:/budgets/"],
    "sam.patel": ["/caseload/", "/reviews/", "link:/caseload/"],
    "taylor.reid": ["/team/", "/reviews/"],
    "casey.brown": ["/providers/", "/quality/", "compare"],
    "george.mensah": ["/my-budget/", "/invoices/"],
    "admin": ["/ras/"],
}

BODY_OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
UNWRAPPED_WIDE_TABLES = """() => [...document.querySelectorAll('main table')]
  .filter(t => !t.closest('.cairn-table-scroll[role=region][aria-label][tabindex="0"]'))
  .filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth)
  .map(t => (t.caption && t.caption.textContent.trim()) || t.querySelector('th')?.textContent.trim())"""


@pytest.fixture
def demo(example_scheme):
    call_command("seed_demo", clients=8, stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    yield context
    context.close()


def _sign_in(page, username: str) -> None:
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)


def _resolve(page, entry: str) -> str:
    """A page address: as given, the first budget/client link on a list page, or a built one."""
    if entry.startswith("link:"):
        page.goto(entry[5:])
        href = page.locator("main table a[href^='/budgets/'], main table a[href^='/clients/']").first.get_attribute(
            "href"
        )
        return href
    if entry == "compare":
        page.goto("/services/")
        ids = page.eval_on_selector_all("input[name=service]", "boxes => boxes.slice(0, 3).map(b => b.value)")
        assert len(ids) >= 2
        return "/services/compare/?" + "&".join(f"service={i}" for i in ids)
    return entry


@pytest.mark.parametrize("username", sorted(PAGES))
def test_no_page_scrolls_sideways_on_a_phone(username, demo, phone):
    page = phone.new_page()
    _sign_in(page, username)
    problems = {}
    for entry in PAGES[username]:
        path = _resolve(page, entry)
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        overflow = page.evaluate(BODY_OVERFLOW)
        unwrapped = page.evaluate(UNWRAPPED_WIDE_TABLES)
        if overflow > 0 or unwrapped:
            problems[urlsplit(page.url).path] = {"overflow_px": overflow, "tables": unwrapped}
    assert not problems, f"{username} at 375 px: {problems}"


def test_a_wide_table_region_can_be_reached_and_scrolled_by_keyboard(demo, phone):
    page = phone.new_page()
    _sign_in(page, "farah.ahmed")
    page.goto("/budgets/")
    region = page.locator(".cairn-table-scroll").first
    assert region.get_attribute("role") == "region" and region.get_attribute("aria-label")
    assert region.evaluate("r => r.scrollWidth > r.clientWidth"), "the budget list should be wider than a phone"
    region.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.cairn-table-scroll').scrollLeft > 0")

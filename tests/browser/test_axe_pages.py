"""axe-core over every page each demo role's home page links to: no WCAG 2.0, 2.1 or 2.2 A/AA
violation on Cairn's own pages.

The demo data (`manage.py seed_demo`) gives each role something to look at; each role signs in,
reads its home page's same-site links, and each page (GET, at most `MAX_PAGES` a role) gets
axe-core (npm `axe-core`, installed by `make assets`) injected and run. Django's admin and the API
docs are left out: their markup comes from Django and drf-spectacular and is checked separately.
"""

from __future__ import annotations

import datetime
import json
import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from djmoney.money import Money

from approvals.models import ApprovalTimeMonth
from budgets.services import ledger
from marketplace.management.commands.seed_demo import DEMO_PASSWORD
from marketplace.models import Review
from payments.models import SpendMonth
from tests import factories
from tests.factories import PASSWORD
from tests.ux.test_charts_budget import make_budget

from .conftest import REQUIRE_BROWSER

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
MAX_PAGES = 40
# Django's admin, the API's own pages, the API docs, and files rather than pages.
LEFT_OUT_PREFIXES = ("/admin/", "/api/", "/static/", "/media/")
LEFT_OUT_SUFFIXES = (".pdf", ".csv", ".json", ".xml", ".zip")

DEMO_LOGINS = {
    "client": "ruth.ellis",
    "representative": "pat.ellis",
    "social_worker": "sam.patel",
    "team_manager": "taylor.reid",
    "case_manager": "casey.brown",
    "provider": "lee.brightside",
    "finance": "farah.ahmed",
    "admin": "admin",
}


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        message = f"axe-core not found at {AXE} (make assets)."
        if REQUIRE_BROWSER or os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def axe_page(browser, live_server):
    """A page whose context lets the test add axe-core's script (Cairn's CSP would refuse it)."""
    context = browser.new_context(bypass_csp=True, base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page, axe_source: str) -> list[dict]:
    """axe-core's WCAG A/AA violations on the page as loaded, each with the elements at fault."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "elements": [
                " ".join(node["target"]) if isinstance(node["target"], list) else node["target"] for node in v["nodes"]
            ][:5],
        }
        for v in result["violations"]
    ]


def same_site_links(page, base: str) -> list[str]:
    """The page's links to Cairn's own pages (no fragments, files, admin or API), in page order."""
    hrefs = page.eval_on_selector_all("a[href]:not([download])", "links => links.map(a => a.getAttribute('href'))")
    host = urlsplit(base).netloc
    seen, links = set(), []
    for href in hrefs:
        url, _ = urldefrag(urljoin(page.url, href))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != host:
            continue
        if parts.path.startswith(LEFT_OUT_PREFIXES) or parts.path.endswith(LEFT_OUT_SUFFIXES):
            continue
        if "sign-out" in parts.path or url in seen:
            continue
        seen.add(url)
        links.append(url)
    return links[:MAX_PAGES]


def sign_in(page, username: str) -> None:
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)


@pytest.fixture
def demo(example_scheme):
    call_command("seed_demo", clients=8, stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", sorted(DEMO_LOGINS))
def test_every_page_a_role_reaches_from_home_passes_axe(role, demo, axe_page, axe_source, live_server):
    page = axe_page
    sign_in(page, DEMO_LOGINS[role])
    page.goto("/")
    home = page.url
    pages = [home, *[url for url in same_site_links(page, live_server.url) if url != home]]
    assert len(pages) > 2, f"{role}'s home page links to almost nothing: {pages}"
    failures = {}
    for url in pages:
        response = page.goto(url)
        assert response is not None and response.status < 500, f"{url} answered {response and response.status}"
        if response.status >= 400 or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        violations = axe_violations(page, axe_source)
        if violations:
            failures[urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")] = violations
    assert not failures, f"axe-core WCAG A/AA violations for {role}:\n" + json.dumps(failures, indent=2)


@pytest.mark.django_db(transaction=True)
def test_axe_finds_a_violation_when_there_is_one(axe_page, axe_source, live_server):
    """The check can fail: an image without a text alternative and an unlabelled field are caught."""
    page = axe_page
    page.goto("/sign-in/")
    assert axe_violations(page, axe_source) == []
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<img src="/static/x.png"><input type="text" name="nameless">\')'
    )
    rules = {v["rule"] for v in axe_violations(page, axe_source)}
    assert {"image-alt", "label"} <= rules


@pytest.mark.django_db(transaction=True)
def test_the_charts_pass_axe_with_figures_to_draw(axe_page, axe_source, live_server, example_scheme):
    """The budget chart with its forecast warning, the statistics charts and the providers' trend,
    each drawn from data (the demo may have too little to draw some of them)."""
    today = datetime.date.today()
    start = (today.replace(day=1) - datetime.timedelta(days=100)).replace(day=1)
    person = factories.ClientFactory(full_name="Ruth Ellis")
    budget = make_budget(person, "12000.00", start, start + datetime.timedelta(days=364), example_scheme)
    ledger.commit(budget=budget, amount=Money("11000.00", "GBP"), key="axe:commit")
    ledger.record_payment(budget=budget, amount=Money("6000.00", "GBP"), key="axe:pay")
    for k, month in enumerate(["2027-01", "2027-02", "2027-04"]):
        ApprovalTimeMonth.objects.create(stage="review", month=month, count=3 + 3 * k, median_days=2 + k, p90_days=9)
        SpendMonth.objects.create(month=month, category="personal_care", payments=9, amount=Decimal(900 * (k + 1)))
    provider = factories.ProviderFactory(rating=Decimal(4), review_count=1)
    Review.objects.create(provider=provider, author=person, rating=4, text="Kind.", created_at=timezone.now())
    case_manager = factories.CaseManagerFactory()
    page = axe_page
    failures = {}
    for user, path in [
        (person, f"/budgets/{budget.pk}/"),
        (None, "/statistics/approval-times/"),
        (None, "/statistics/spend/"),
        (case_manager, "/quality/"),
    ]:
        if user is not None:
            page.context.clear_cookies()
            page.goto("/sign-in/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/sign-in/" not in url)
        page.goto(path)
        assert page.locator("svg[role=img]").count() >= 1, f"no chart on {path}"
        violations = axe_violations(page, axe_source)
        if violations:
            failures[path] = violations
    assert not failures, json.dumps(failures, indent=2)

"""Every link each demo login can see leads somewhere.

Signed in as each person `seed_demo` creates (plus a draft RAS scheme with a finished what-if run,
so the administrator's pages show their links too), the crawl follows every link on the home page
then every link on those pages, and every link on the pages those lead to (three levels, within
the site, the Django admin included), and fails on any 404 or 500. It is bounded: at most a few
pages per URL pattern per person (the tenth client's budget tells nothing the first did not), and it
never follows sign-out, static files or the API (the API has its own tests).
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve

from accounts.models import User
from budgets.models import RasScheme, SchemeStatus, WhatIfRun, WhatIfStatus
from budgets.services.schemes import scheme_draft_from
from budgets.services.whatif import whatif_start

pytestmark = pytest.mark.django_db

PER_PATTERN = 1
# The admin's own bookkeeping pages (history, delete confirmation) are Django's, alike for every model.
SKIP_ADMIN_SUFFIXES = ("/history/", "/delete/")
SKIP_PREFIXES = ("/admin/logout/", "/api/", "/static/", "/logout", "/accounts/logout", "/sign-out")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_on(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        href = urldefrag(href)[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue  # another site, mailto:, or an in-page anchor
        if href.startswith(SKIP_PREFIXES):
            continue
        if href.startswith("/admin/") and urlsplit(href).path.endswith(SKIP_ADMIN_SUFFIXES):
            continue
        found.append(href)
    return found


def _pattern(url: str) -> str:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return url  # unknown: crawl it, and the 404 will be reported
    return match.route or match.url_name or url


def crawl(client, start: str = "/", depth: int = 3) -> tuple[dict[str, int], dict[str, str]]:
    """Status of every page reached (within `depth` links of `start`) and where each was linked from."""
    seen: dict[str, int] = {}
    source: dict[str, str] = {start: "(start)"}
    per_pattern: dict[str, int] = {}
    frontier = [start]
    for level in range(depth + 1):
        following = []
        for url in frontier:
            if url in seen:
                continue
            response = client.get(url)
            seen[url] = response.status_code
            if level == depth or response.status_code != 200:
                continue
            if "text/html" not in response.get("Content-Type", ""):
                continue
            for link in links_on(response.content.decode()):
                if link in seen or link in source:
                    continue
                pattern = _pattern(link)
                if per_pattern.get(pattern, 0) >= PER_PATTERN:
                    continue
                per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
                source[link] = url
                following.append(link)
        frontier = following
    return seen, source


@pytest.fixture
def demo(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", clients=8)
    admin = User.objects.get(username="admin")
    published = RasScheme.objects.get(status=SchemeStatus.PUBLISHED)
    draft = scheme_draft_from(actor=admin, scheme=published)
    with django_capture_on_commit_callbacks(execute=True):  # the job is queued on commit; eager here
        run = whatif_start(actor=admin, scheme=draft)
    assert WhatIfRun.objects.get(pk=run.pk).status == WhatIfStatus.DONE
    return User.objects.filter(is_active=True).order_by("username")


def test_no_link_any_demo_login_can_see_leads_to_a_404_or_500(client, demo):
    broken = []
    crawled = 0
    for user in demo:
        client.force_login(user)
        seen, source = crawl(client)
        if user.is_staff:  # the administrator's other home: the Django admin site
            more, more_source = crawl(client, start="/admin/")
            seen.update(more)
            source = {**more_source, **source}
        crawled += len(seen)
        broken += [
            f"{user.username} ({user.role}): {url} answered {status}, linked from {source.get(url)}"
            for url, status in seen.items()
            if status in (404, 500)
        ]
        client.logout()
    assert crawled > 100, "the crawl reached too few pages to mean anything"
    assert not broken, "\n".join(broken)


def test_the_crawler_reports_a_dead_link(client, demo):
    """The crawler itself: a 404 is reported as one."""
    client.force_login(User.objects.get(username="admin"))
    seen, _ = crawl(client, start="/ras/what-if/999999/", depth=0)
    assert seen == {"/ras/what-if/999999/": 404}

"""The caseload and team pages show each client's budget, care plan status and what needs doing
next, in a fixed number of queries however many clients there are."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from django.core.management import call_command

from accounts.models import CaseloadAssignment, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(example_scheme):
    call_command("seed_demo", clients=8, stdout=io.StringIO())


def _row(html: str, name: str) -> str:
    """The text of the table row naming the client."""
    for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", html, re.S):
        if name in row:
            return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip())
    raise AssertionError(f"no row for {name}")


def test_caseload_shows_budget_plan_and_next_step_for_each_client(demo, web_as, django_assert_max_num_queries):
    worker = User.objects.get(username="sam.patel")
    clients = CaseloadAssignment.objects.filter(social_worker=worker, end_date__isnull=True).count()
    assert clients >= 2
    with django_assert_max_num_queries(30):
        response = web_as(worker).get("/caseload/")
    html = response.content.decode()
    assert "What needs doing next" in html and "Care plan" in html
    ruth = _row(html, "Ruth Ellis")  # a draft plan
    assert "Budget set" in ruth and "£" in ruth and "Draft" in ruth
    assert "Help Ruth finish the care plan" in ruth


def test_team_page_shows_each_clients_progress(demo, web_as, django_assert_max_num_queries):
    manager = User.objects.get(username="taylor.reid")
    with django_assert_max_num_queries(30):
        response = web_as(manager).get("/team/")
    html = response.content.decode()
    george = _row(html, "George Mensah")  # approved
    assert "Approved" in george and "support is in place" in george
    margaret = _row(html, "Margaret Lewis")  # in review
    assert "In review" in margaret and "Decide on the plan" in margaret
    peter = _row(html, "Peter Novak")  # assessment in progress
    assert "Assessment in progress" in peter and "Finish Peter's assessment" in peter


def test_queries_do_not_grow_with_the_caseload(example_scheme, web_as, django_assert_num_queries):
    """Twice the clients, the same number of queries."""
    from tests.factories import CaseloadAssignmentFactory, ClientFactory, SocialWorkerFactory

    worker = SocialWorkerFactory()
    web = web_as(worker)
    for _ in range(2):
        CaseloadAssignmentFactory(social_worker=worker, client=ClientFactory())
    web.get("/caseload/")  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        web.get("/caseload/")
    for _ in range(4):
        CaseloadAssignmentFactory(social_worker=worker, client=ClientFactory())
    with django_assert_num_queries(len(few.captured_queries)):
        web.get("/caseload/")

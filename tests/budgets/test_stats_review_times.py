"""The contribution-review statistics are cached (budgets/stats.py): a review answered through
the service shows up on the next read, and a read takes a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import FinancialAssessment
from budgets.services import charging as services
from tests.budgets.test_financial_assessments import BODY

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/contribution-reviews/"


@pytest.fixture
def answer_review(api_as, finance_user, client_user):
    """`answer_review()`: Ruth asks for a review of a new assessment of hers, and finance answers
    it, through the services."""

    def make():
        created = api_as(finance_user).post(
            "/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json"
        )
        assessment = FinancialAssessment.objects.get(pk=created.json()["id"])
        review = services.contribution_review_request(actor=client_user, assessment=assessment, reason="My rent rose")
        return services.contribution_review_complete(actor=finance_user, review=review, outcome="Reassessed")

    return make


def test_an_answered_review_shows_up_in_the_cached_answer(api, answer_review):
    for _ in range(4):
        answer_review()
    [month] = api.get(URL).json()["results"]
    assert month["suppressed"] is True
    assert api.get(URL).json()["results"] == [month]  # cached

    answer_review()

    [month] = api.get(URL).json()["results"]
    assert month["answered"] == 5 and month["suppressed"] is False and month["median_days"] == 0


def test_reads_take_a_constant_number_of_queries(api, answer_review, django_assert_num_queries):
    answer_review()
    with django_assert_num_queries(1):
        api.get(URL)
    with django_assert_num_queries(0):  # cached
        api.get(URL)
    for _ in range(5):
        answer_review()
    with django_assert_num_queries(1):
        assert api.get(URL).json()["results"][0]["answered"] == 6


def test_a_read_is_one_plain_select_not_a_server_side_cursor(api, answer_review):
    """On PostgreSQL `.iterator()` opens a cursor (DECLARE … WITH HOLD, FETCH, CLOSE): three round
    trips for a handful of rows; bench/open_stats.py measured the read at 3.6× its floor."""
    answer_review()
    with CaptureQueriesContext(connection) as queries:
        assert api.get(URL).status_code == 200
    [statement] = [q["sql"] for q in queries.captured_queries]
    assert statement.startswith("SELECT")

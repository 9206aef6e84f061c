# ruff: noqa: F811 (the fixtures imported below are used by name)
"""When a budget period may start: never a period that has already ended, never more than
BUDGET_BACKDATE_MAX_MONTHS back (default 3), never more than BUDGET_START_AHEAD_MAX_MONTHS ahead
(default 12; this also refuses years like 9999). A clear form error on the page, 400 with a
`period_start` message in the API, and nothing written either way."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accounts.exceptions import InvalidInput
from budgets.models import Assessment, AssessmentStatus, PersonalBudget
from budgets.services.budgets import budget_period_bounds, budget_period_check
from tests.budgets.conftest import answers_with, eligible_answers, scheme  # noqa: F401 (fixtures)
from tests.budgets.test_assessments_api import complete_url, draft, snapshot  # noqa: F401 (fixtures)
from tests.budgets.test_pages import _walk_wizard

TODAY = datetime.date(2026, 12, 3)


def test_the_default_limits_are_three_months_back_and_twelve_ahead():
    assert budget_period_bounds(TODAY) == (datetime.date(2026, 9, 3), datetime.date(2027, 12, 3))


@pytest.mark.parametrize(
    "start", [datetime.date(2026, 9, 3), TODAY, datetime.date(2027, 12, 3), datetime.date(2026, 11, 30)]
)
def test_a_start_within_the_limits_gives_its_period_end(start):
    assert budget_period_check(start, months=12, today=TODAY) == start + relativedelta(months=12, days=-1)


@pytest.mark.parametrize(
    ("start", "words"),
    [
        (datetime.date(2020, 1, 1), "cannot start before 3 September 2026"),
        (datetime.date(2026, 9, 2), "cannot start before 3 September 2026"),
        (datetime.date(1, 1, 1), "cannot start before 3 September 2026"),
        (datetime.date(2027, 12, 4), "cannot start after 3 December 2027"),
        (datetime.date(9999, 12, 31), "cannot start after 3 December 2027"),
    ],
)
def test_a_start_outside_the_limits_is_refused_on_period_start(start, words):
    with pytest.raises(InvalidInput) as refused:
        budget_period_check(start, months=12, today=TODAY)
    assert refused.value.field == "period_start" and words in refused.value.message


def test_a_period_that_has_already_ended_is_refused_even_within_the_backdating_limit(settings):
    settings.BUDGET_BACKDATE_MAX_MONTHS = 24
    with pytest.raises(InvalidInput) as refused:
        budget_period_check(datetime.date(2025, 1, 1), months=12, today=TODAY)
    assert "would have ended on 31 December 2025" in refused.value.message


def test_the_backdating_limit_is_a_setting(settings):
    settings.BUDGET_BACKDATE_MAX_MONTHS = 6
    assert budget_period_check(datetime.date(2026, 6, 3), months=12, today=TODAY) == datetime.date(2027, 6, 2)


@pytest.mark.parametrize(
    "start",
    [
        "2020-01-01",
        "0001-01-01",
        "9999-12-31",
        str(timezone.localdate() - relativedelta(months=4)),
        str(timezone.localdate() + relativedelta(months=13)),
    ],
)
def test_api_refuses_a_period_start_out_of_bounds_with_400_and_changes_nothing(api_as, draft, social_worker, start):
    before = snapshot()
    response = api_as(social_worker).post(complete_url(draft["id"]), {"period_start": start}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["period_start"]
    assert "The budget period cannot start" in response.json()["period_start"][0]
    assert snapshot() == before
    assert Assessment.objects.get(pk=draft["id"]).status == AssessmentStatus.DRAFT


def _ready_assessment(web, client_user):
    web.post(f"/clients/{client_user.pk}/assess/")
    assessment = Assessment.objects.get(client=client_user)
    _walk_wizard(web, assessment, answers_with({"nutrition": "some_help", "hygiene": "some_help"}))
    return assessment


def test_the_page_refuses_an_ended_period_by_the_date_and_creates_nothing(
    web_as,
    caseload,
    social_worker,
    client_user,
    scheme,
):
    web = web_as(social_worker)
    assessment = _ready_assessment(web, client_user)
    page = web.get(f"/assessments/{assessment.pk}/").content.decode()
    earliest, latest = budget_period_bounds()
    assert f"from {earliest:%-d %B %Y} to {latest:%-d %B %Y}" in page  # the limits, before typing
    response = web.post(
        f"/assessments/{assessment.pk}/complete/",
        {"period_start-day": "1", "period_start-month": "1", "period_start-year": "2020"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and 'href="#id_period_start"' in html
    assert f"The budget period cannot start before {earliest:%-d %B %Y}" in html
    assert 'id="id_period_start-error"' in html
    assert not PersonalBudget.objects.exists()

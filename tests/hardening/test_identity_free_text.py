"""Free text refuses control characters and bidirectional overrides on the API and the pages, with
a message on the field and nothing changed (accounts/text.py)."""

import datetime

import pytest

from tests.careplans.conftest import (  # noqa: F401  (fixtures by name)
    budget,
    make_budget,
    make_plan,
    make_provider,
    make_service,
    visits,
)

pytestmark = pytest.mark.django_db

RLO = "\u202e"


@pytest.fixture
def draft_plan(make_plan, client_user, budget, visits):  # noqa: F811
    start = budget.period_start
    return make_plan(
        client_user,
        budget,
        lines=[{"service": visits.pk, "units_per_week": "2", "start": start, "end": start + datetime.timedelta(27)}],
        risks="Falls: a pendant alarm",
    )


@pytest.mark.parametrize("bad", [f"Falls {RLO}mrala", "Falls\u0007", "Falls \u2066x\u2069"])
def test_plan_text_with_an_override_or_control_character_is_refused_by_the_api(api_as, client_user, draft_plan, bad):
    response = api_as(client_user).patch(f"/api/v1/plans/{draft_plan.pk}/", {"risks": bad}, format="json")
    assert response.status_code == 400
    assert "risks" in response.json()
    draft_plan.refresh_from_db()
    assert draft_plan.risks == "Falls: a pendant alarm"


def test_plan_text_with_line_breaks_is_accepted(api_as, client_user, draft_plan):
    response = api_as(client_user).patch(
        f"/api/v1/plans/{draft_plan.pk}/", {"risks": "Falls:\n\ta pendant alarm"}, format="json"
    )
    assert response.status_code == 200


def test_a_reviewer_comment_with_an_override_is_refused(api_as, client_user, social_worker, caseload, draft_plan):
    api_as(client_user).post(f"/api/v1/plans/{draft_plan.pk}/submit/", {}, format="json")
    reviewer = api_as(social_worker)
    reviewer.post(f"/api/v1/plans/{draft_plan.pk}/start_review/", {}, format="json")
    response = reviewer.post(
        f"/api/v1/plans/{draft_plan.pk}/request_changes/", {"comment": f"Fix {RLO}sgniht"}, format="json"
    )
    assert response.status_code == 400
    assert "comment" in response.json()


def test_the_plan_details_and_review_forms_refuse_an_override_on_the_field():
    from careplans.views import DetailsForm
    from marketplace.reviews import AnswerForm

    details = DetailsForm(data={"risks": f"Falls {RLO}mrala", "outcomes": "Walk\nSwim"})
    assert not details.is_valid() and "risks" in details.errors
    answer = AnswerForm(data={"text": f"Thanks {RLO}!"})
    assert not answer.is_valid() and "text" in answer.errors

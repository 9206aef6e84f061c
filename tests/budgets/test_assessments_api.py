"""POST/GET /api/v1/assessments/ and POST …/complete/ (API.md, "RAS and assessments";
PRODUCT.md §1–3): who may assess whom, the eligibility rule, RAS pricing, validation, and the
personal budget that completing an eligible assessment creates."""

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accounts.models import AuditEvent, CaseloadAssignment, Role
from budgets.models import (
    AccountKind,
    Assessment,
    AssessmentStatus,
    LedgerPosting,
    LedgerTransaction,
    PersonalBudget,
    TransactionKind,
)
from budgets.selectors import active_scheme, budget_figures
from tests import factories
from tests.budgets.conftest import OUTCOME_QUESTIONS, answers_with
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db

URL = "/api/v1/assessments/"


def detail_url(pk):
    return f"{URL}{pk}/"


def complete_url(pk):
    return f"{URL}{pk}/complete/"


def gbp(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


def payload(client, answers, *, impairment=True, wellbeing_impact=True, **extra):
    return {
        "client": client.pk,
        "answers": answers,
        "impairment": impairment,
        "wellbeing_impact": wellbeing_impact,
        **extra,
    }


def unable_in(count: int) -> dict[str, str]:
    """`count` of the ten outcomes answered 'some help' (unable), the rest independent."""
    return answers_with(dict.fromkeys(OUTCOME_QUESTIONS[:count], "some_help"))


def snapshot():
    """Everything creating or completing an assessment could write."""
    return (
        tuple(Assessment.objects.order_by("pk").values_list("pk", "status", "completed_at")),
        tuple(CaseloadAssignment.objects.order_by("pk").values_list("pk", "social_worker", "client", "end_date")),
        PersonalBudget.objects.count(),
        LedgerTransaction.objects.count(),
        LedgerPosting.objects.count(),
        AuditEvent.objects.count(),
    )


def create(caller, client, answers, **kwargs):
    response = caller.post(URL, payload(client, answers, **kwargs), format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def other_team():
    """A second team, with its own manager, social worker and client."""
    worker = factories.SocialWorkerFactory(full_name="Olu Adeyemi")
    team = factories.TeamFactory(name="Other Team", members=[worker])
    client = factories.ClientFactory(full_name="Nia Okafor")
    factories.CaseloadAssignmentFactory(social_worker=worker, client=client)
    return team


@pytest.fixture
def other_worker(other_team):
    return other_team.memberships.get().social_worker


@pytest.fixture
def other_client(other_worker):
    return CaseloadAssignment.objects.get(social_worker=other_worker).client


@pytest.fixture
def other_manager(other_team):
    return other_team.manager


@pytest.fixture
def unallocated_client(db):
    return factories.ClientFactory(full_name="Uma Shah")


@pytest.fixture
def draft(caseload, api_as, social_worker, client_user, eligible_answers):
    """An eligible draft assessment of Ruth, created by Sam through the API."""
    return create(api_as(social_worker), client_user, eligible_answers)


@pytest.fixture
def ineligible_draft(caseload, api_as, social_worker, client_user):
    """A fully answered draft assessment of Ruth that is not eligible (one outcome only)."""
    return create(api_as(social_worker), client_user, unable_in(1))


# --- creating: the response -----------------------------------------------------------------------


def test_social_worker_creates_assessment_for_caseload_client_and_gets_201(
    api_as, caseload, social_worker, client_user, eligible_answers
):
    response = api_as(social_worker).post(URL, payload(client_user, eligible_answers), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "status", "eligible", "reasons", "points", "indicative_budget"} <= set(body)
    assert isinstance(body["id"], int)
    assert body["status"] == "draft"
    assert body["eligible"] is True
    assert isinstance(body["reasons"], list) and body["reasons"]
    assert all(isinstance(r, str) and r for r in body["reasons"])
    assert Decimal(body["points"]) == 8
    assert body["indicative_budget"] == gbp("2000.00")

    assessment = Assessment.objects.get(pk=body["id"])
    assert assessment.status == AssessmentStatus.DRAFT
    assert assessment.client == client_user
    assert assessment.assessor == social_worker
    assert assessment.scheme == active_scheme()
    assert assessment.answers == eligible_answers
    assert assessment.eligible is True
    assert assessment.reasons == body["reasons"]


def test_creating_an_assessment_does_not_create_a_budget(
    api_as, caseload, social_worker, client_user, eligible_answers
):
    create(api_as(social_worker), client_user, eligible_answers)
    assert not PersonalBudget.objects.exists()
    assert not LedgerTransaction.objects.exists()


@pytest.mark.parametrize(
    ("unable", "night", "risk", "modifiers", "points", "amount"),
    [
        # 8 points at £250 = £2,000: the example scheme's lowest eligible need.
        ({"nutrition": "some_help", "hygiene": "some_help"}, "none", "low", [], "8", "2000.00"),
        # 24 points, all in the first band.
        (
            {"nutrition": "lots_of_help", "hygiene": "full_help", "toilet": "some_help"},
            "none",
            "low",
            [],
            "24",
            "6000.00",
        ),
        # 44 points: 40 at £250 and 4 at £400.
        (
            {"nutrition": "lots_of_help", "hygiene": "full_help", "toilet": "some_help"},
            "every_night",
            "low",
            [],
            "44",
            "11600.00",
        ),
        # An unpaid carer reduces 44 points by 10% to 39.6: all in the first band.
        (
            {"nutrition": "lots_of_help", "hygiene": "full_help", "toilet": "some_help"},
            "every_night",
            "low",
            ["unpaid_carer"],
            "39.6",
            "9900.00",
        ),
        # The highest need: 150 points, £60,000 (the scheme's maximum).
        (dict.fromkeys(OUTCOME_QUESTIONS, "full_help"), "every_night", "high", [], "150", "60000.00"),
    ],
)
def test_indicative_budget_is_priced_through_the_scheme_bands(
    api_as, caseload, social_worker, client_user, unable, night, risk, modifiers, points, amount
):
    body = create(api_as(social_worker), client_user, answers_with(unable, night=night, risk=risk), modifiers=modifiers)
    assert Decimal(body["points"]) == Decimal(points)
    assert body["indicative_budget"] == gbp(amount)


def test_indicative_budget_below_the_minimum_is_raised_to_it(api_as, caseload, social_worker, client_user):
    body = create(api_as(social_worker), client_user, unable_in(1))  # 4 points, £1,000 unclamped
    assert Decimal(body["points"]) == 4
    assert body["indicative_budget"] == gbp("2000.00")


# --- creating: eligibility ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("impairment", "unable_count", "wellbeing_impact", "eligible"),
    [
        (True, 2, True, True),
        (True, 10, True, True),
        (False, 2, True, False),
        (True, 1, True, False),
        (True, 0, True, False),
        (True, 2, False, False),
        (False, 0, False, False),
    ],
)
def test_eligible_only_with_impairment_two_unable_outcomes_and_wellbeing_impact(
    api_as, caseload, social_worker, client_user, impairment, unable_count, wellbeing_impact, eligible
):
    body = create(
        api_as(social_worker),
        client_user,
        unable_in(unable_count),
        impairment=impairment,
        wellbeing_impact=wellbeing_impact,
    )
    assert body["eligible"] is eligible
    assert Assessment.objects.get(pk=body["id"]).eligible is eligible


def test_high_points_in_other_domains_do_not_make_one_unable_outcome_eligible(
    api_as, caseload, social_worker, client_user
):
    answers = answers_with({"nutrition": "full_help"}, night="every_night", risk="high")
    body = create(api_as(social_worker), client_user, answers)
    assert body["eligible"] is False
    assert Decimal(body["points"]) == 42


def test_ineligible_assessment_states_why(api_as, caseload, social_worker, client_user):
    body = create(api_as(social_worker), client_user, unable_in(1), wellbeing_impact=False)
    reasons = " ".join(body["reasons"])
    assert "At least two" in reasons
    assert "No significant impact on their wellbeing" in reasons


# --- creating: invalid input (400, nothing created) -------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(lambda p: p["answers"].update(flying="unaided"), "answers", id="unknown-question-code"),
        pytest.param(lambda p: p["answers"].update(nutrition="telepathy"), "answers", id="unknown-answer-code"),
        pytest.param(lambda p: p["answers"].pop("risk"), "answers", id="question-left-unanswered"),
        pytest.param(lambda p: p["answers"].clear(), "answers", id="no-answers"),
        pytest.param(lambda p: p.update(modifiers=["rich_relative"]), "modifiers", id="unknown-modifier"),
        pytest.param(lambda p: p.pop("impairment"), "impairment", id="impairment-missing"),
        pytest.param(lambda p: p.pop("wellbeing_impact"), "wellbeing_impact", id="wellbeing-missing"),
        pytest.param(lambda p: p.update(answers=["nutrition"]), "answers", id="answers-not-an-object"),
        pytest.param(lambda p: p.update(client="Ruth"), "client", id="client-not-an-id"),
    ],
)
def test_invalid_assessment_gets_400_and_nothing_is_created(
    api_as, caseload, social_worker, client_user, eligible_answers, change, field
):
    body = payload(client_user, dict(eligible_answers))
    change(body)
    before = snapshot()
    response = api_as(social_worker).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert snapshot() == before


def test_unknown_question_code_is_named_in_the_error(api_as, caseload, social_worker, client_user, eligible_answers):
    body = payload(client_user, {**eligible_answers, "flying": "unaided"})
    response = api_as(social_worker).post(URL, body, format="json")
    assert response.status_code == 400
    assert any("flying" in message for message in response.json()["answers"])


def test_unanswered_question_is_named_in_the_error(api_as, caseload, social_worker, client_user, eligible_answers):
    answers = {k: v for k, v in eligible_answers.items() if k != "night_support"}
    response = api_as(social_worker).post(URL, payload(client_user, answers), format="json")
    assert response.status_code == 400
    assert any("night_support" in message for message in response.json()["answers"])


def test_invalid_assessment_of_unallocated_client_does_not_take_them_on(
    api_as, social_worker, unallocated_client, eligible_answers
):
    before = snapshot()
    body = payload(unallocated_client, {**eligible_answers, "nutrition": "telepathy"})
    response = api_as(social_worker).post(URL, body, format="json")
    assert response.status_code == 400
    assert snapshot() == before
    assert not CaseloadAssignment.objects.filter(client=unallocated_client).exists()


# --- creating: whose clients (404, nothing created) -----------------------------------------------


def test_social_worker_assessing_someone_elses_client_gets_404(
    api_as, caseload, social_worker, other_client, eligible_answers
):
    before = snapshot()
    response = api_as(social_worker).post(URL, payload(other_client, eligible_answers), format="json")
    assert response.status_code == 404
    assert "detail" in response.json()
    assert snapshot() == before


def test_social_worker_assessing_a_nonexistent_client_gets_404(api_as, social_worker, eligible_answers):
    before = snapshot()
    body = {"client": 987654, "answers": eligible_answers, "impairment": True, "wellbeing_impact": True}
    response = api_as(social_worker).post(URL, body, format="json")
    assert response.status_code == 404
    assert snapshot() == before


def test_assessing_a_user_who_is_not_a_client_gets_404(api_as, social_worker, other_worker, eligible_answers):
    before = snapshot()
    response = api_as(social_worker).post(URL, payload(other_worker, eligible_answers), format="json")
    assert response.status_code == 404
    assert snapshot() == before


def test_assessing_a_deactivated_client_gets_404(api_as, caseload, social_worker, client_user, eligible_answers):
    client_user.is_active = False
    client_user.save()
    before = snapshot()
    response = api_as(social_worker).post(URL, payload(client_user, eligible_answers), format="json")
    assert response.status_code == 404
    assert snapshot() == before


def test_social_worker_assessing_an_unallocated_client_takes_them_onto_their_caseload(
    api_as, social_worker, unallocated_client, eligible_answers
):
    body = create(api_as(social_worker), unallocated_client, eligible_answers)
    assignment = CaseloadAssignment.objects.get(client=unallocated_client)
    assert assignment.social_worker == social_worker
    assert assignment.end_date is None
    assert assignment.start_date == timezone.localdate()
    assert assignment.assigned_by == social_worker
    assert Assessment.objects.get(pk=body["id"]).client == unallocated_client


def test_social_worker_takes_on_a_client_whose_previous_allocation_ended(
    api_as, social_worker, other_worker, unallocated_client, eligible_answers
):
    factories.CaseloadAssignmentFactory(
        social_worker=other_worker,
        client=unallocated_client,
        start_date=timezone.localdate() - datetime.timedelta(days=90),
        end_date=timezone.localdate() - datetime.timedelta(days=10),
    )
    create(api_as(social_worker), unallocated_client, eligible_answers)
    current = CaseloadAssignment.objects.get(client=unallocated_client, end_date__isnull=True)
    assert current.social_worker == social_worker


def test_social_worker_assessing_own_client_again_adds_no_allocation(
    api_as, caseload, social_worker, client_user, eligible_answers
):
    create(api_as(social_worker), client_user, eligible_answers)
    create(api_as(social_worker), client_user, eligible_answers)
    assert list(CaseloadAssignment.objects.filter(client=client_user)) == [caseload]


def test_team_manager_assesses_their_teams_client_and_gets_201(
    api_as, caseload, team_manager, client_user, eligible_answers
):
    body = create(api_as(team_manager), client_user, eligible_answers)
    assessment = Assessment.objects.get(pk=body["id"])
    assert assessment.assessor == team_manager
    assert body["status"] == "draft"
    # The client stays with their social worker.
    assert list(CaseloadAssignment.objects.filter(client=client_user)) == [caseload]


def test_team_manager_assessing_another_teams_client_gets_404(
    api_as, caseload, team_manager, other_client, eligible_answers
):
    before = snapshot()
    response = api_as(team_manager).post(URL, payload(other_client, eligible_answers), format="json")
    assert response.status_code == 404
    assert snapshot() == before


def test_team_manager_assessing_an_unallocated_client_gets_404_and_takes_no_one_on(
    api_as, team, team_manager, unallocated_client, eligible_answers
):
    before = snapshot()
    response = api_as(team_manager).post(URL, payload(unallocated_client, eligible_answers), format="json")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.CLIENT, Role.CASE_MANAGER, Role.PROVIDER, Role.FINANCE, Role.ADMIN])
def test_other_roles_may_not_create_assessments_403(request, api_as, caseload, client_user, eligible_answers, role):
    caller = api_as(request.getfixturevalue(ROLE_FIXTURES[role]))
    before = snapshot()
    response = caller.post(URL, payload(client_user, eligible_answers), format="json")
    assert response.status_code == 403, response.content
    assert snapshot() == before


def test_creating_without_a_token_gets_401(api, caseload, client_user, eligible_answers):
    before = snapshot()
    response = api.post(URL, payload(client_user, eligible_answers), format="json")
    assert response.status_code == 401
    assert snapshot() == before


# --- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["client_user", "social_worker", "team_manager", "admin_person"])
def test_assessment_is_visible_to_the_client_their_social_worker_and_team_manager(request, api_as, draft, name):
    response = api_as(request.getfixturevalue(name)).get(detail_url(draft["id"]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == draft["id"]
    assert body["status"] == "draft"
    assert body["eligible"] is True
    assert body["indicative_budget"] == gbp("2000.00")
    assert body["reasons"] == draft["reasons"]


@pytest.mark.parametrize("name", ["case_manager", "provider_user", "finance_user"])
def test_assessment_is_hidden_from_roles_without_the_client_404(request, api_as, draft, name):
    response = api_as(request.getfixturevalue(name)).get(detail_url(draft["id"]))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["other_worker", "other_manager", "other_client"])
def test_assessment_is_hidden_from_another_team_and_another_client_404(request, api_as, draft, name):
    response = api_as(request.getfixturevalue(name)).get(detail_url(draft["id"]))
    assert response.status_code == 404


def test_assessment_is_hidden_from_a_social_worker_after_the_client_moves_on(api_as, draft, caseload, social_worker):
    caseload.end_date = timezone.localdate()
    caseload.save()
    assert api_as(social_worker).get(detail_url(draft["id"])).status_code == 404


def test_reading_a_nonexistent_assessment_gets_404(api_as, social_worker):
    assert api_as(social_worker).get(detail_url(987654)).status_code == 404


def test_reading_without_a_token_gets_401(api, draft):
    assert api.get(detail_url(draft["id"])).status_code == 401


def test_there_is_no_assessment_list_or_edit_or_delete_through_the_api(api_as, draft, social_worker):
    caller = api_as(social_worker)
    assert caller.get(URL).status_code == 405
    assert caller.delete(detail_url(draft["id"])).status_code == 405
    assert Assessment.objects.filter(pk=draft["id"]).exists()


# --- completing ----------------------------------------------------------------------------------


def test_social_worker_completes_an_eligible_assessment_and_a_budget_is_created(
    api_as, draft, social_worker, client_user
):
    response = api_as(social_worker).post(complete_url(draft["id"]), {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == draft["id"]
    assert body["status"] == "completed"
    assert isinstance(body["budget"], int)

    budget = PersonalBudget.objects.get(pk=body["budget"])
    assert budget.client == client_user
    assert budget.assessment_id == draft["id"]
    assert budget.indicative_amount.amount == Decimal(draft["indicative_budget"]["amount"])
    figures = budget_figures(budget)
    assert figures.allocated.amount == Decimal(draft["indicative_budget"]["amount"])
    assert figures.committed.amount == 0
    assert figures.paid.amount == 0
    assert figures.available == figures.allocated

    assessment = Assessment.objects.get(pk=draft["id"])
    assert assessment.status == AssessmentStatus.COMPLETED
    assert assessment.completed_at is not None


def test_completing_allocates_the_indicative_amount_in_one_balanced_ledger_transaction(api_as, draft, social_worker):
    budget_id = api_as(social_worker).post(complete_url(draft["id"]), {}, format="json").json()["budget"]
    tx = LedgerTransaction.objects.get(budget_id=budget_id)
    assert tx.kind == TransactionKind.ALLOCATION
    assert tx.created_by == social_worker
    postings = {p.account.kind: p.amount.amount for p in tx.postings.select_related("account")}
    assert postings == {AccountKind.FUNDING: Decimal("-2000.00"), AccountKind.AVAILABLE: Decimal("2000.00")}


def test_completed_budget_has_the_amount_shown_for_a_larger_need(api_as, caseload, social_worker, client_user):
    caller = api_as(social_worker)
    answers = answers_with({"nutrition": "lots_of_help", "hygiene": "full_help", "toilet": "some_help"}, "every_night")
    draft = create(caller, client_user, answers)
    budget_id = caller.post(complete_url(draft["id"]), {}, format="json").json()["budget"]
    budget = PersonalBudget.objects.get(pk=budget_id)
    assert draft["indicative_budget"] == gbp("11600.00")
    assert budget_figures(budget).allocated.amount == Decimal("11600.00")


def test_budget_period_defaults_to_twelve_months_from_today(api_as, draft, social_worker):
    budget_id = api_as(social_worker).post(complete_url(draft["id"]), {}, format="json").json()["budget"]
    budget = PersonalBudget.objects.get(pk=budget_id)
    today = timezone.localdate()
    assert budget.period_start == today
    assert budget.period_end == today + relativedelta(months=12) - datetime.timedelta(days=1)


@pytest.mark.parametrize(("days", "months"), [(1, 0), (0, 1), (0, 3)])
def test_budget_may_be_backdated_with_a_past_period_start(api_as, draft, social_worker, days, months):
    """Backdated to when the assessment began: up to 3 months back (BUDGET_BACKDATE_MAX_MONTHS)."""
    start = timezone.localdate() - relativedelta(months=months, days=days)
    response = api_as(social_worker).post(complete_url(draft["id"]), {"period_start": str(start)}, format="json")
    assert response.status_code == 200, response.content
    budget = PersonalBudget.objects.get(pk=response.json()["budget"])
    assert budget.period_start == start
    assert budget.period_end == start + relativedelta(months=12) - datetime.timedelta(days=1)


def test_completing_with_a_malformed_period_start_gets_400_and_changes_nothing(api_as, draft, social_worker):
    before = snapshot()
    response = api_as(social_worker).post(complete_url(draft["id"]), {"period_start": "last spring"}, format="json")
    assert response.status_code == 400
    assert "period_start" in response.json()
    assert snapshot() == before


def test_completed_assessment_reads_back_with_its_budget(api_as, draft, social_worker, client_user):
    budget_id = api_as(social_worker).post(complete_url(draft["id"]), {}, format="json").json()["budget"]
    body = api_as(client_user).get(detail_url(draft["id"])).json()
    assert body["status"] == "completed"
    assert body["budget"] == budget_id


def test_completing_twice_gets_409_and_creates_one_budget(api_as, draft, social_worker):
    caller = api_as(social_worker)
    assert caller.post(complete_url(draft["id"]), {}, format="json").status_code == 200
    before = snapshot()
    response = caller.post(complete_url(draft["id"]), {}, format="json")
    assert response.status_code == 409
    assert "detail" in response.json()
    assert snapshot() == before
    assert PersonalBudget.objects.count() == 1
    assert LedgerTransaction.objects.count() == 1


def test_completing_an_ineligible_assessment_gets_409_with_the_reasons_and_no_budget(
    api_as, ineligible_draft, social_worker
):
    before = snapshot()
    response = api_as(social_worker).post(complete_url(ineligible_draft["id"]), {}, format="json")
    assert response.status_code == 409, response.content
    detail = response.json()["detail"]
    assert "eligible" in detail.lower()
    for reason in ineligible_draft["reasons"]:
        assert reason in detail
    assert "At least two are needed" in detail
    assert snapshot() == before
    assert not PersonalBudget.objects.exists()
    assert Assessment.objects.get(pk=ineligible_draft["id"]).status == AssessmentStatus.DRAFT


def test_completing_without_impairment_gets_409_saying_so(api_as, caseload, social_worker, client_user):
    caller = api_as(social_worker)
    draft = create(caller, client_user, unable_in(3), impairment=False)
    response = caller.post(complete_url(draft["id"]), {}, format="json")
    assert response.status_code == 409
    assert "impairment" in response.json()["detail"]
    assert not PersonalBudget.objects.exists()


def test_team_manager_completes_their_teams_assessment(api_as, draft, team_manager):
    response = api_as(team_manager).post(complete_url(draft["id"]), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    assert PersonalBudget.objects.filter(pk=response.json()["budget"]).exists()


@pytest.mark.parametrize("name", ["other_worker", "other_manager"])
def test_completing_someone_elses_assessment_gets_404_and_changes_nothing(request, api_as, draft, name):
    caller = api_as(request.getfixturevalue(name))
    before = snapshot()
    response = caller.post(complete_url(draft["id"]), {}, format="json")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.CLIENT, Role.CASE_MANAGER, Role.PROVIDER, Role.FINANCE, Role.ADMIN])
def test_other_roles_may_not_complete_assessments_403(request, api_as, draft, role):
    caller = api_as(request.getfixturevalue(ROLE_FIXTURES[role]))
    before = snapshot()
    response = caller.post(complete_url(draft["id"]), {}, format="json")
    assert response.status_code == 403, response.content
    assert snapshot() == before


def test_completing_a_nonexistent_assessment_gets_404(api_as, social_worker):
    assert api_as(social_worker).post(complete_url(987654), {}, format="json").status_code == 404


def test_completing_without_a_token_gets_401(api, draft):
    before = snapshot()
    assert api.post(complete_url(draft["id"]), {}, format="json").status_code == 401
    assert snapshot() == before

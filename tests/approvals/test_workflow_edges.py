"""The plan workflow's edges (PRODUCT.md §5, API.md "Care plans and the approval workflow").

Through `POST /api/v1/plans/{id}/<action>/`: every edge from each of its source states and refused
(409) from every other state; every role both ways (403 for a role that sees the plan but may not
act, 404 for one that cannot see it); four eyes; delegated authority at the penny and as a setting;
the sign-off checklist; comments and the history; withdrawal; submission against the budget and
the review clock; notifications and their emails. A refused call changes nothing: same status, no
new StateLog row, no new transition audit row, no review, ledger or notification change.
"""

import datetime

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm_log.models import StateLog
from djmoney.money import Money

from accounts.models import AuditAction, AuditEvent, Notification
from approvals import services
from approvals.deadlines import add_working_days
from approvals.exceptions import CommentRequired, FourEyes
from approvals.models import ApprovalAuthority, PlanReview, ReviewOutcome, WorkflowPolicy
from budgets.models import LedgerTransaction
from careplans.models import CarePlan, PlanStatus
from tests import factories

pytestmark = pytest.mark.django_db

S = PlanStatus
ALL_STATES = list(S.values)

# Where each API action may start, and where it leads (careplans/models.py).
SOURCES = {
    "submit": [S.DRAFT, S.CHANGES_REQUESTED],
    "start_review": [S.SUBMITTED],
    "request_changes": [S.IN_REVIEW, S.AWAITING_SENIOR_APPROVAL],
    "approve": [S.IN_REVIEW, S.AWAITING_SENIOR_APPROVAL],
    "reject": [S.IN_REVIEW, S.AWAITING_SENIOR_APPROVAL],
    "withdraw": [S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED],
}
TARGET = {
    "submit": S.SUBMITTED,
    "start_review": S.IN_REVIEW,
    "request_changes": S.CHANGES_REQUESTED,
    "approve": S.APPROVED,
    "reject": S.REJECTED,
    "withdraw": S.WITHDRAWN,
}
# Someone whose role and relationship allow the action (so only the state decides).
ACTOR = {
    "submit": "client_user",
    "start_review": "social_worker",
    "request_changes": "team_manager",
    "approve": "team_manager",
    "reject": "team_manager",
    "withdraw": "client_user",
}
# States in which a plan has an open review (the clock is running).
OPEN_REVIEW_STATES = {S.SUBMITTED, S.IN_REVIEW, S.AWAITING_SENIOR_APPROVAL}

ALLOWED = [(action, state) for action, states in SOURCES.items() for state in states]
REFUSED = [(action, state) for action in SOURCES for state in ALL_STATES if state not in SOURCES[action]]

CHECKLIST = {"outcomes": True, "costs": True, "risks": True, "management": True, "contacts": True}


def body_for(action: str, **extra) -> dict:
    body = {
        "request_changes": {"comment": "Please add an evening visit."},
        "reject": {"comment": "This support does not meet the eligible needs."},
        "approve": {"checklist": dict(CHECKLIST)},
    }.get(action, {})
    return {**body, **extra}


def act(api_client, plan, action: str, body: dict | None = None):
    return api_client.post(
        f"/api/v1/plans/{plan.pk}/{action}/", body_for(action) if body is None else body, format="json"
    )


def reload(plan) -> CarePlan:
    return CarePlan.objects.get(pk=plan.pk)


def put_in(plan, status: str, submitted_by) -> CarePlan:
    """Put a plan straight into `status`, with the open review the services expect there."""
    CarePlan.objects.filter(pk=plan.pk).update(status=status)
    if status in OPEN_REVIEW_STATES:
        PlanReview.objects.create(
            plan=plan,
            submitted_by=submitted_by,
            submitted_at=timezone.now(),
            due=timezone.localdate() + datetime.timedelta(days=14),
        )
    return reload(plan)


def transition_audits(plan) -> int:
    return AuditEvent.objects.filter(action=AuditAction.TRANSITION, target_id=str(plan.pk)).count()


def snapshot(plan) -> dict:
    """Everything a workflow call may change, to show that a refused call changed none of it."""
    return {
        "plan": CarePlan.objects.filter(pk=plan.pk)
        .values("status", "approved_at", "committed_amount", "total_cost", "updated_at")
        .get(),
        "state_logs": StateLog.objects.for_(plan).count(),
        "transition_audits": AuditEvent.objects.filter(action=AuditAction.TRANSITION).count(),
        "reviews": list(PlanReview.objects.filter(plan=plan).order_by("pk").values()),
        "ledger": LedgerTransaction.objects.count(),
        "notifications": Notification.objects.count(),
    }


def last_log(plan) -> StateLog:
    return StateLog.objects.for_(plan).order_by("-timestamp", "-id").first()


@pytest.fixture
def stranger_client(db):
    return factories.ClientFactory(full_name="Olive Stranger")


@pytest.fixture
def other_social_worker(db):
    """A social worker in another team, without Ruth on their caseload."""
    worker = factories.SocialWorkerFactory(full_name="Morgan Other")
    factories.TeamFactory(members=[worker])
    return worker


@pytest.fixture
def other_team_manager(db):
    """A team manager whose team does not hold Ruth."""
    return factories.TeamFactory(members=[factories.SocialWorkerFactory()]).manager


@pytest.fixture
def big_budget(make_budget, client_user, caseload):
    """Ruth's £60,000 budget: room for plans either side of the £20,000 authority."""
    return make_budget(client_user, "60000.00")


@pytest.fixture
def costed_plan(make_service, make_plan_alongside, client_user):
    """`costed_plan(budget, "20000.00", actor=...)`: a draft with one one-off line (quantity 1) of
    exactly that price, so the plan's total is exactly that amount."""

    def make(budget, amount: str, actor=None):
        service = make_service(f"One-off support {amount}", amount, unit="item")
        plan = make_plan_alongside(
            actor or client_user,
            budget,
            lines=[{"service": service.pk, "quantity": "1", "start": budget.period_start}],
            risks="Falls: a pendant alarm",
            contacts="My daughter",
        )
        assert plan.total_cost == Money(amount, "GBP")
        return plan

    return make


# --- every edge from every state -------------------------------------------------------------


@pytest.mark.parametrize(("action", "state"), ALLOWED)
def test_each_edge_is_allowed_from_its_source_state_and_answers_the_plan(
    request, api_as, draft_plan, client_user, action, state
):
    plan = put_in(draft_plan, state, submitted_by=client_user)
    actor = request.getfixturevalue(ACTOR[action])
    logs, audits = StateLog.objects.for_(plan).count(), transition_audits(plan)

    response = act(api_as(actor), plan, action)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == plan.pk
    assert body["status"] == TARGET[action]
    assert body["total_cost"] == {"amount": "196.00", "currency": "GBP"}
    assert reload(plan).status == TARGET[action]
    assert StateLog.objects.for_(plan).count() == logs + 1
    log = last_log(plan)
    assert (log.source_state, log.state, log.by_id) == (state, TARGET[action], actor.pk)
    assert transition_audits(plan) == audits + 1
    audit = AuditEvent.objects.filter(action=AuditAction.TRANSITION, target_id=str(plan.pk)).first()
    assert audit.actor == actor
    assert audit.changes == {"from": state, "to": TARGET[action], "transition": action}
    # The actor is never notified of their own action.
    assert not Notification.objects.filter(recipient=actor).exists()


@pytest.mark.parametrize(("action", "state"), REFUSED)
def test_each_edge_is_refused_with_409_from_every_other_state_and_nothing_changes(
    request, api_as, draft_plan, client_user, action, state
):
    plan = put_in(draft_plan, state, submitted_by=client_user)
    actor = request.getfixturevalue(ACTOR[action])
    before = snapshot(plan)

    response = act(api_as(actor), plan, action)

    assert response.status_code == 409, response.json()
    assert response.json()["detail"]
    assert snapshot(plan) == before


def test_the_matrix_covers_every_action_in_every_state():
    assert len(ALLOWED) + len(REFUSED) == len(SOURCES) * len(ALL_STATES) == 54


# --- every role both ways --------------------------------------------------------------------

# The state each action is tried from, and the outcome for each role.
ROLE_SETUP = {
    "submit": S.DRAFT,
    "start_review": S.SUBMITTED,
    "request_changes": S.IN_REVIEW,
    "approve": S.IN_REVIEW,
    "reject": S.IN_REVIEW,
    "withdraw": S.DRAFT,
}
CANNOT_SEE = ["case_manager", "provider_user", "finance_user", "stranger_client", "other_social_worker",
              "other_team_manager"]  # fmt: skip
MAY = {
    "submit": ["client_user", "social_worker", "team_manager"],
    "start_review": ["social_worker", "team_manager"],
    "request_changes": ["social_worker", "team_manager"],
    "approve": ["social_worker", "team_manager"],
    "reject": ["social_worker", "team_manager"],
    "withdraw": ["client_user"],
}
# Admin sees every plan (careplans.permissions.can_view_plan) but neither edits nor reviews: 403.
SEES_BUT_MAY_NOT = {
    action: [r for r in ["client_user", "social_worker", "team_manager", "admin_person"] if r not in MAY[action]]
    for action in SOURCES
}
# Refusals by role happen before the plan is locked; only the allowed calls reach the lock.
ROLE_CASES = [
    pytest.param(action, role, code, marks=[])
    for action in SOURCES
    for role, code in [(r, 200) for r in MAY[action]]
    + [(r, 403) for r in SEES_BUT_MAY_NOT[action]]
    + [(r, 404) for r in CANNOT_SEE]
]


@pytest.mark.parametrize(("action", "role", "code"), ROLE_CASES)
def test_each_role_may_or_may_not_take_each_action(request, api_as, draft_plan, client_user, action, role, code):
    plan = put_in(draft_plan, ROLE_SETUP[action], submitted_by=client_user)
    actor = request.getfixturevalue(role)
    before = snapshot(plan)

    response = act(api_as(actor), plan, action)

    assert response.status_code == code, response.json()
    if code == 200:
        assert response.json()["status"] == TARGET[action]
        assert last_log(plan).by_id == actor.pk
    else:
        assert response.json()["detail"]
        assert snapshot(plan) == before


def test_admin_can_see_the_plan_so_a_workflow_action_is_403_not_404(api_as, admin_person, draft_plan):
    assert api_as(admin_person).get(f"/api/v1/plans/{draft_plan.pk}/").status_code == 200
    assert api_as(admin_person).get(f"/api/v1/plans/{draft_plan.pk}/history/").status_code == 200
    assert act(api_as(admin_person), draft_plan, "submit").status_code == 403


@pytest.mark.parametrize("action", list(SOURCES))
def test_an_action_on_a_plan_that_does_not_exist_is_404(api_as, team_manager, draft_plan, action):
    response = api_as(team_manager).post(f"/api/v1/plans/{draft_plan.pk + 999}/{action}/", {}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("action", list(SOURCES))
def test_an_action_without_credentials_is_401_and_changes_nothing(api, draft_plan, client_user, action):
    plan = put_in(draft_plan, ROLE_SETUP[action], submitted_by=client_user)
    before = snapshot(plan)
    assert act(api, plan, action).status_code == 401
    assert snapshot(plan) == before


# --- four eyes -------------------------------------------------------------------------------


def test_social_worker_who_drafted_the_plan_cannot_approve_it_but_the_team_manager_can(
    api_as, make_plan, budget, visits, client_user, social_worker, team_manager
):
    plan = make_plan(
        social_worker,
        budget,
        lines=[{"service": visits.pk, "quantity": "2", "start": budget.period_start}],
    )
    assert act(api_as(client_user), plan, "submit").status_code == 200
    assert act(api_as(social_worker), plan, "start_review").status_code == 200
    before = snapshot(plan)

    refused = act(api_as(social_worker), plan, "approve")

    assert refused.status_code == 403
    assert "someone else must approve" in refused.json()["detail"]
    assert snapshot(plan) == before
    approved = act(api_as(team_manager), plan, "approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == S.APPROVED


def test_social_worker_who_submitted_the_plan_cannot_approve_it_but_the_team_manager_can(
    api_as, draft_plan, social_worker, team_manager
):
    assert act(api_as(social_worker), draft_plan, "submit").status_code == 200
    assert act(api_as(social_worker), draft_plan, "start_review").status_code == 200
    before = snapshot(draft_plan)

    assert act(api_as(social_worker), draft_plan, "approve").status_code == 403
    assert snapshot(draft_plan) == before
    assert act(api_as(team_manager), draft_plan, "approve").json()["status"] == S.APPROVED


def test_team_manager_who_drafted_the_plan_cannot_approve_it_but_the_social_worker_can(
    api_as, make_plan, budget, visits, client_user, social_worker, team_manager
):
    plan = make_plan(
        team_manager,
        budget,
        lines=[{"service": visits.pk, "quantity": "2", "start": budget.period_start}],
    )
    assert act(api_as(client_user), plan, "submit").status_code == 200
    assert act(api_as(team_manager), plan, "start_review").status_code == 200

    assert act(api_as(team_manager), plan, "approve").status_code == 403
    assert act(api_as(social_worker), plan, "approve").json()["status"] == S.APPROVED


def test_client_who_submitted_the_plan_cannot_approve_it(api_as, draft_plan, client_user, social_worker):
    assert act(api_as(client_user), draft_plan, "submit").status_code == 200
    assert act(api_as(social_worker), draft_plan, "start_review").status_code == 200
    before = snapshot(draft_plan)

    assert act(api_as(client_user), draft_plan, "approve").status_code == 403
    assert snapshot(draft_plan) == before


def test_four_eyes_is_checked_by_the_service_too(draft_plan, social_worker, checklist):
    services.plan_submit(actor=social_worker, plan=draft_plan)
    services.plan_start_review(actor=social_worker, plan=draft_plan)
    with pytest.raises(FourEyes):
        services.plan_approve(actor=social_worker, plan=draft_plan, checklist=checklist)
    assert reload(draft_plan).status == S.IN_REVIEW


# --- delegated authority ---------------------------------------------------------------------


def in_review(api_as, plan, client_user, social_worker):
    assert act(api_as(client_user), plan, "submit").status_code == 200
    assert act(api_as(social_worker), plan, "start_review").status_code == 200
    return reload(plan)


def test_default_social_worker_authority_is_twenty_thousand_pounds_seeded_by_migration():
    row = ApprovalAuthority.objects.get(role="social_worker")
    assert row.annual_limit == Money("20000.00", "GBP")
    assert ApprovalAuthority.objects.get(role="team_manager").annual_limit is None


def test_social_worker_approves_a_plan_of_exactly_twenty_thousand_pounds(
    api_as, costed_plan, big_budget, client_user, social_worker
):
    plan = in_review(api_as, costed_plan(big_budget, "20000.00"), client_user, social_worker)

    response = act(api_as(social_worker), plan, "approve")

    assert response.status_code == 200
    assert response.json()["status"] == S.APPROVED
    assert reload(plan).committed_amount == Money("20000.00", "GBP")


def test_social_worker_refers_a_plan_a_penny_over_twenty_thousand_pounds_to_a_senior(
    api_as, costed_plan, big_budget, client_user, social_worker, team_manager
):
    plan = in_review(api_as, costed_plan(big_budget, "20000.01"), client_user, social_worker)
    ledger_before = LedgerTransaction.objects.count()

    response = act(api_as(social_worker), plan, "approve", {"checklist": CHECKLIST, "comment": "Looks right."})

    assert response.status_code == 200
    assert response.json()["status"] == S.AWAITING_SENIOR_APPROVAL
    plan = reload(plan)
    assert plan.approved_at is None and plan.committed_amount is None
    assert LedgerTransaction.objects.count() == ledger_before
    review = PlanReview.objects.get(plan=plan)
    assert review.decided_at is None and review.referred_at is not None
    assert review.checklist == CHECKLIST
    log = last_log(plan)
    assert (log.source_state, log.state, log.by_id) == (S.IN_REVIEW, S.AWAITING_SENIOR_APPROVAL, social_worker.pk)
    assert Notification.objects.filter(recipient=team_manager, target_id=plan.pk).exists()

    approved = act(api_as(team_manager), plan, "approve")

    assert approved.status_code == 200
    assert approved.json()["status"] == S.APPROVED
    assert reload(plan).committed_amount == Money("20000.01", "GBP")
    review.refresh_from_db()
    assert (review.outcome, review.decided_by) == (ReviewOutcome.APPROVED, team_manager)


@pytest.mark.parametrize("action", ["approve", "reject", "request_changes"])
def test_social_worker_cannot_decide_a_plan_awaiting_senior_approval(
    api_as, costed_plan, big_budget, client_user, social_worker, action
):
    plan = in_review(api_as, costed_plan(big_budget, "20000.01"), client_user, social_worker)
    assert act(api_as(social_worker), plan, "approve").json()["status"] == S.AWAITING_SENIOR_APPROVAL
    before = snapshot(plan)

    response = act(api_as(social_worker), plan, action)

    assert response.status_code == 403
    assert snapshot(plan) == before


def set_social_worker_limit(amount: str | None) -> None:
    row = ApprovalAuthority.objects.get(role="social_worker")
    row.annual_limit = None if amount is None else Money(amount, "GBP")
    row.save()


@pytest.mark.parametrize(
    ("limit", "amount", "outcome"),
    [
        ("500.00", "500.00", S.APPROVED),
        ("500.00", "500.01", S.AWAITING_SENIOR_APPROVAL),
        ("25000.00", "20000.01", S.APPROVED),
        (None, "50000.00", S.APPROVED),
    ],
)
def test_social_worker_authority_is_configurable(
    api_as, costed_plan, big_budget, client_user, social_worker, limit, amount, outcome
):
    set_social_worker_limit(limit)
    plan = in_review(api_as, costed_plan(big_budget, amount), client_user, social_worker)

    response = act(api_as(social_worker), plan, "approve")

    assert response.status_code == 200
    assert response.json()["status"] == outcome


def test_without_a_configured_row_the_product_default_of_twenty_thousand_applies(
    api_as, costed_plan, big_budget, client_user, social_worker
):
    ApprovalAuthority.objects.filter(role="social_worker").delete()
    plan = in_review(api_as, costed_plan(big_budget, "20000.01"), client_user, social_worker)
    assert act(api_as(social_worker), plan, "approve").json()["status"] == S.AWAITING_SENIOR_APPROVAL


def test_a_team_manager_limit_set_by_the_admin_applies_to_the_team_manager(
    api_as, costed_plan, big_budget, client_user, social_worker, team_manager
):
    row = ApprovalAuthority.objects.get(role="team_manager")
    row.annual_limit = Money("30000.00", "GBP")
    row.save()
    plan = in_review(api_as, costed_plan(big_budget, "30000.01"), client_user, social_worker)

    assert act(api_as(team_manager), plan, "approve").json()["status"] == S.AWAITING_SENIOR_APPROVAL
    before = snapshot(plan)
    assert act(api_as(team_manager), plan, "approve").status_code == 403
    assert snapshot(plan) == before


# --- the sign-off checklist ------------------------------------------------------------------

CHECKLIST_GAPS = (
    [pytest.param({k: v for k, v in CHECKLIST.items() if k != key}, id=f"missing-{key}") for key in CHECKLIST]
    + [pytest.param({**CHECKLIST, key: False}, id=f"false-{key}") for key in CHECKLIST]
    + [pytest.param({}, id="empty"), pytest.param(None, id="absent")]
)


@pytest.mark.parametrize("checklist_sent", CHECKLIST_GAPS)
def test_approval_without_the_whole_checklist_is_400_and_changes_nothing(
    api_as, draft_plan, client_user, team_manager, checklist_sent
):
    plan = put_in(draft_plan, S.IN_REVIEW, submitted_by=client_user)
    before = snapshot(plan)
    body = {} if checklist_sent is None else {"checklist": checklist_sent}

    response = act(api_as(team_manager), plan, "approve", body)

    assert response.status_code == 400
    assert "checklist" in response.json()
    assert snapshot(plan) == before


def test_approval_with_every_checklist_item_ticked_is_recorded_on_the_review(
    api_as, draft_plan, client_user, team_manager
):
    plan = put_in(draft_plan, S.IN_REVIEW, submitted_by=client_user)

    response = act(api_as(team_manager), plan, "approve", {"checklist": CHECKLIST})

    assert response.status_code == 200
    assert response.json()["status"] == S.APPROVED
    review = PlanReview.objects.get(plan=plan)
    assert review.checklist == CHECKLIST
    assert (review.outcome, review.decided_by) == (ReviewOutcome.APPROVED, team_manager)


# --- comments and history --------------------------------------------------------------------


@pytest.mark.parametrize("action", ["request_changes", "reject"])
@pytest.mark.parametrize("comment", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_request_changes_and_reject_without_a_comment_are_400_and_change_nothing(
    api_as, draft_plan, client_user, social_worker, action, comment
):
    plan = put_in(draft_plan, S.IN_REVIEW, submitted_by=client_user)
    before = snapshot(plan)

    response = act(api_as(social_worker), plan, action, {} if comment is None else {"comment": comment})

    assert response.status_code == 400
    assert "comment" in response.json()
    assert snapshot(plan) == before


@pytest.mark.parametrize("edge", ["plan_request_changes", "plan_reject"])
def test_the_services_refuse_a_blank_comment_too(draft_plan, client_user, social_worker, edge):
    plan = put_in(draft_plan, S.IN_REVIEW, submitted_by=client_user)
    before = snapshot(plan)
    with pytest.raises(CommentRequired) as refused:
        getattr(services, edge)(actor=social_worker, plan=plan, comment="  \n ")
    assert "comment" in refused.value.as_dict()
    assert snapshot(plan) == before


@pytest.mark.parametrize(
    ("action", "target", "outcome"),
    [
        ("request_changes", S.CHANGES_REQUESTED, ReviewOutcome.CHANGES_REQUESTED),
        ("reject", S.REJECTED, ReviewOutcome.REJECTED),
    ],
)
def test_the_comment_is_in_the_history_and_the_audit_row(
    api_as, draft_plan, client_user, social_worker, action, target, outcome
):
    plan = put_in(draft_plan, S.IN_REVIEW, submitted_by=client_user)
    comment = "Two visits a week is not enough for the evenings."

    response = act(api_as(social_worker), plan, action, {"comment": comment})

    assert response.status_code == 200
    assert response.json()["status"] == target
    history = api_as(client_user).get(f"/api/v1/plans/{plan.pk}/history/").json()
    assert history[-1]["from"] == S.IN_REVIEW
    assert history[-1]["to"] == target
    assert history[-1]["by"] == social_worker.pk
    assert history[-1]["comment"] == comment
    assert datetime.datetime.fromisoformat(history[-1]["at"].replace("Z", "+00:00"))
    audit = AuditEvent.objects.filter(action=AuditAction.TRANSITION, target_id=str(plan.pk)).first()
    assert audit.message == comment
    review = PlanReview.objects.get(plan=plan)
    assert review.comment == comment
    assert (review.outcome, review.decided_by) == (outcome, social_worker)


def test_history_lists_every_transition_oldest_first_as_a_plain_array(api_as, draft_plan, client_user, social_worker):
    steps = [
        (client_user, "submit", {"comment": "Ready for you"}),
        (social_worker, "start_review", {}),
        (social_worker, "request_changes", {"comment": "Add your daughter's number"}),
        (client_user, "submit", {}),
        (social_worker, "start_review", {}),
        (social_worker, "approve", {"checklist": CHECKLIST, "comment": "Agreed"}),
    ]
    for actor, action, body in steps:
        assert act(api_as(actor), draft_plan, action, body).status_code == 200

    history = api_as(client_user).get(f"/api/v1/plans/{draft_plan.pk}/history/").json()

    assert isinstance(history, list)
    assert [(h["from"], h["to"], h["by"], h["comment"]) for h in history] == [
        (S.DRAFT, S.SUBMITTED, client_user.pk, "Ready for you"),
        (S.SUBMITTED, S.IN_REVIEW, social_worker.pk, ""),
        (S.IN_REVIEW, S.CHANGES_REQUESTED, social_worker.pk, "Add your daughter's number"),
        (S.CHANGES_REQUESTED, S.SUBMITTED, client_user.pk, ""),
        (S.SUBMITTED, S.IN_REVIEW, social_worker.pk, ""),
        (S.IN_REVIEW, S.APPROVED, social_worker.pk, "Agreed"),
    ]
    ats = [h["at"] for h in history]
    assert ats == sorted(ats)


def test_history_is_not_shown_to_someone_who_cannot_see_the_plan(api_as, draft_plan, case_manager):
    assert api_as(case_manager).get(f"/api/v1/plans/{draft_plan.pk}/history/").status_code == 404


# --- withdraw --------------------------------------------------------------------------------


def test_client_withdrawing_a_submitted_plan_closes_its_open_review(api_as, draft_plan, client_user, social_worker):
    assert act(api_as(client_user), draft_plan, "submit").status_code == 200

    response = act(api_as(client_user), draft_plan, "withdraw", {"comment": "I have changed my mind"})

    assert response.status_code == 200
    assert response.json()["status"] == S.WITHDRAWN
    review = PlanReview.objects.get(plan=draft_plan)
    assert review.decided_at is not None
    assert (review.outcome, review.decided_by, review.comment) == (
        ReviewOutcome.WITHDRAWN,
        client_user,
        "I have changed my mind",
    )
    assert not PlanReview.objects.filter(plan=draft_plan, decided_at__isnull=True).exists()
    assert Notification.objects.filter(
        recipient=social_worker, target_id=draft_plan.pk, message__contains="withdrew"
    ).exists()


@pytest.mark.parametrize("state", [S.DRAFT, S.CHANGES_REQUESTED])
def test_client_withdrawing_a_plan_without_an_open_review_leaves_no_review_open(api_as, draft_plan, client_user, state):
    plan = put_in(draft_plan, state, submitted_by=client_user)
    assert act(api_as(client_user), plan, "withdraw").json()["status"] == S.WITHDRAWN
    assert not PlanReview.objects.filter(plan=plan, decided_at__isnull=True).exists()


# --- submit ----------------------------------------------------------------------------------


def test_submit_is_refused_when_the_plan_costs_a_penny_more_than_the_budget_has(
    api_as, costed_plan, budget, client_user
):
    plan = costed_plan(budget, "10000.01")
    before = snapshot(plan)

    response = act(api_as(client_user), plan, "submit")

    assert response.status_code == 409
    assert "£10,000.01" in response.json()["detail"]
    assert snapshot(plan) == before
    assert not PlanReview.objects.filter(plan=plan).exists()


def test_submit_is_allowed_when_the_plan_costs_exactly_what_the_budget_has(api_as, costed_plan, budget, client_user):
    plan = costed_plan(budget, "10000.00")
    response = act(api_as(client_user), plan, "submit")
    assert response.status_code == 200
    assert response.json()["status"] == S.SUBMITTED


def test_submit_measures_the_plan_against_what_is_still_available_not_the_allocation(
    api_as, costed_plan, draft_plan, budget, client_user, social_worker, team_manager
):
    # Another plan of the same budget approved first: £196.00 of the £10,000 is committed.
    in_review(api_as, draft_plan, client_user, social_worker)
    assert act(api_as(team_manager), draft_plan, "approve").status_code == 200
    over, exact = costed_plan(budget, "9804.01"), costed_plan(budget, "9804.00")

    assert act(api_as(client_user), over, "submit").status_code == 409
    assert reload(over).status == S.DRAFT
    assert act(api_as(client_user), exact, "submit").status_code == 200


def test_submit_is_refused_when_the_plan_has_no_lines(api_as, make_plan, budget, client_user):
    plan = make_plan(client_user, budget, lines=[])
    before = snapshot(plan)

    response = act(api_as(client_user), plan, "submit")

    # The service raises WrongPlanState (a state conflict, 409), though its docstring says 400.
    assert response.status_code == 409
    assert "at least one service" in response.json()["detail"]
    assert snapshot(plan) == before


def test_submit_starts_the_review_clock_in_working_days(api_as, draft_plan, client_user):
    assert act(api_as(client_user), draft_plan, "submit").status_code == 200
    review = PlanReview.objects.get(plan=draft_plan)
    assert review.submitted_by == client_user
    assert review.decided_at is None
    assert review.due == add_working_days(timezone.localdate(), 10)


def test_resubmission_after_changes_requested_opens_a_new_review_with_a_new_due_date(
    api_as, draft_plan, client_user, social_worker
):
    in_review(api_as, draft_plan, client_user, social_worker)
    assert act(api_as(social_worker), draft_plan, "request_changes").status_code == 200
    first = PlanReview.objects.get(plan=draft_plan)
    assert first.outcome == ReviewOutcome.CHANGES_REQUESTED
    # The policy changes between the two submissions, so the second clock is visibly its own.
    WorkflowPolicy.objects.filter(pk=1).update(review_working_days=3)

    assert act(api_as(client_user), draft_plan, "submit").status_code == 200

    reviews = list(PlanReview.objects.filter(plan=draft_plan).order_by("pk"))
    assert len(reviews) == 2
    second = reviews[1]
    assert second.pk != first.pk
    assert second.decided_at is None and second.outcome == ""
    assert second.due == add_working_days(timezone.localdate(), 3)
    assert second.due != first.due
    first.refresh_from_db()
    assert first.outcome == ReviewOutcome.CHANGES_REQUESTED  # the old review is left as it was decided
    assert PlanReview.objects.filter(plan=draft_plan, decided_at__isnull=True).count() == 1


def test_a_plan_never_has_two_open_reviews(draft_plan, client_user):
    plan = put_in(draft_plan, S.SUBMITTED, submitted_by=client_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanReview.objects.create(
            plan=plan, submitted_by=client_user, submitted_at=timezone.now(), due=timezone.localdate()
        )
    assert PlanReview.objects.filter(plan=plan, decided_at__isnull=True).count() == 1


# --- notifications ---------------------------------------------------------------------------


def test_client_submitting_notifies_and_emails_their_social_worker_not_themselves(
    api_as, draft_plan, client_user, social_worker, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert act(api_as(client_user), draft_plan, "submit").status_code == 200

    note = Notification.objects.get(recipient=social_worker, target_id=draft_plan.pk)
    assert "submitted for review" in note.message
    assert note.emailed_at is not None
    assert not Notification.objects.filter(recipient=client_user).exists()
    assert [m.to for m in mail.outbox] == [[social_worker.email]]
    assert "submitted for review" in mail.outbox[0].body
    assert f"/plans/{draft_plan.pk}/" in mail.outbox[0].body


def test_social_worker_submitting_notifies_the_client_not_themselves(
    api_as, draft_plan, client_user, social_worker, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert act(api_as(social_worker), draft_plan, "submit").status_code == 200

    assert Notification.objects.filter(recipient=client_user, target_id=draft_plan.pk).exists()
    assert not Notification.objects.filter(recipient=social_worker).exists()
    assert [m.to for m in mail.outbox] == [[client_user.email]]


def test_social_worker_approving_notifies_and_emails_the_client_not_themselves(
    api_as, draft_plan, client_user, social_worker, django_capture_on_commit_callbacks
):
    in_review(api_as, draft_plan, client_user, social_worker)
    Notification.objects.all().delete()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert act(api_as(social_worker), draft_plan, "approve").status_code == 200

    assert list(Notification.objects.values_list("recipient", flat=True)) == [client_user.pk]
    assert "is approved" in Notification.objects.get().message
    assert [m.to for m in mail.outbox] == [[client_user.email]]


def test_team_manager_approving_notifies_the_client_and_social_worker_not_themselves(
    api_as, draft_plan, client_user, social_worker, team_manager, django_capture_on_commit_callbacks
):
    in_review(api_as, draft_plan, client_user, social_worker)
    Notification.objects.all().delete()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert act(api_as(team_manager), draft_plan, "approve").status_code == 200

    assert set(Notification.objects.values_list("recipient", flat=True)) == {client_user.pk, social_worker.pk}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([client_user.email, social_worker.email])


def test_a_refused_action_sends_no_notification_or_email(
    api_as, draft_plan, client_user, social_worker, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert act(api_as(social_worker), draft_plan, "approve").status_code == 409
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_emails_are_sent_only_after_the_transaction_commits(api_as, draft_plan, client_user, social_worker):
    mail.outbox.clear()
    assert act(api_as(client_user), draft_plan, "submit").status_code == 200
    # The test's transaction never commits, so the email is queued but not sent.
    assert mail.outbox == []
    assert Notification.objects.get(recipient=social_worker).emailed_at is None

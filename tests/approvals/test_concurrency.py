"""Two reviewers deciding the same plan at the same moment, and escalation runs at once
(PostgreSQL row locks): one transition wins, the other gets a clear conflict, and nothing is
recorded twice.

The plans are put straight into the state each race starts from (factories may do that), so each
race exercises only the services being raced."""

import datetime
import functools
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.exceptions import StateConflict
from accounts.models import AuditAction, AuditEvent, Notification
from approvals import services
from approvals.deadlines import add_working_days
from approvals.exceptions import WrongPlanState
from approvals.models import PlanReview, ReviewOutcome
from budgets.models import LedgerTransaction, TransactionKind
from careplans.models import CarePlan, PlanStatus
from tests import factories
from tests.concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

ROUNDS = 20


def _reraise_database_errors(outcomes):
    """A database error in a racing thread is not a lost race: raise it as it happened."""
    for outcome in outcomes:
        if isinstance(outcome, DatabaseError):
            raise outcome


@pytest.fixture
def plan_in_state(make_plan_alongside, client_user, social_worker, budget, visits):
    """`plan_in_state(status, client=Ruth, budget=Ruth's)`: a fresh £24.50 plan (one visit a week
    for a week) put straight into `status`, with its open review (submitted by its client, due
    in 10 working days; for `in_review`, picked up by Sam)."""

    def make(status, client=None, budget_=None):
        client = client or client_user
        budget_ = budget_ or budget
        start = budget_.period_start
        plan = make_plan_alongside(  # several states of one budget's plans in a test
            client,
            budget_,
            lines=[{"service": visits.pk, "units_per_week": "1", "start": start, "end": start + datetime.timedelta(6)}],
        )
        CarePlan.objects.filter(pk=plan.pk).update(status=status)
        now = timezone.now()
        in_review = status == PlanStatus.IN_REVIEW
        PlanReview.objects.create(
            plan=plan,
            submitted_by=client,
            submitted_at=now,
            due=add_working_days(timezone.localdate(now), 10),
            reviewer=social_worker if in_review else None,
            started_at=now if in_review else None,
        )
        return CarePlan.objects.get(pk=plan.pk)

    return make


def _transitions(plan) -> int:
    return AuditEvent.objects.filter(
        action=AuditAction.TRANSITION, target_type=ContentType.objects.get_for_model(CarePlan), target_id=str(plan.pk)
    ).count()


def _commitments(plan) -> int:
    return LedgerTransaction.objects.filter(
        kind=TransactionKind.COMMITMENT, idempotency_key=f"plan:{plan.pk}:approve"
    ).count()


def _approve(actor, plan, checklist):
    return services.plan_approve(actor=actor, plan=plan, checklist=checklist)


def _reject(actor, plan, checklist):
    return services.plan_reject(actor=actor, plan=plan, comment="Not the right support.")


def _request_changes(actor, plan, checklist):
    return services.plan_request_changes(actor=actor, plan=plan, comment="Add a second visit.")


RESULT = {_approve: PlanStatus.APPROVED, _reject: PlanStatus.REJECTED, _request_changes: PlanStatus.CHANGES_REQUESTED}


# --- the lock every transition takes ------------------------------------------------------------


def test_a_transition_can_lock_the_plan_on_postgresql(client_user, draft_plan):
    services.plan_submit(actor=client_user, plan=draft_plan)

    assert CarePlan.objects.get(pk=draft_plan.pk).status == PlanStatus.SUBMITTED


# --- two decisions at once ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sams", "taylors"),
    [(_approve, _reject), (_approve, _approve), (_reject, _approve), (_approve, _request_changes)],
    ids=["sam-approves-taylor-rejects", "both-approve", "sam-rejects-taylor-approves", "approve-vs-changes"],
)
def test_two_reviewers_deciding_one_plan_at_once_exactly_one_wins(
    sams, taylors, plan_in_state, social_worker, team_manager, checklist
):
    winners = []
    for _ in range(ROUNDS):
        plan = plan_in_state(PlanStatus.IN_REVIEW)
        logs, transitions = StateLog.objects.for_(plan).count(), _transitions(plan)

        outcomes = race(
            [
                functools.partial(sams, social_worker, plan, checklist),
                functools.partial(taylors, team_manager, plan, checklist),
            ]
        )

        _reraise_database_errors(outcomes)
        won = [o for o in outcomes if isinstance(o, CarePlan)]
        lost = [o for o in outcomes if isinstance(o, Exception)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert isinstance(lost[0], WrongPlanState) and isinstance(lost[0], StateConflict), outcomes
        assert "so it cannot be" in lost[0].message
        plan.refresh_from_db()
        assert plan.status == won[0].status
        assert StateLog.objects.for_(plan).count() == logs + 1
        assert _transitions(plan) == transitions + 1
        assert _commitments(plan) == (1 if plan.status == PlanStatus.APPROVED else 0)
        review = PlanReview.objects.get(plan=plan)
        assert review.decided_at is not None and review.outcome == plan.status
        winners.append(plan.status)
    assert set(winners) <= {RESULT[sams], RESULT[taylors]}


def test_the_same_reviewer_approving_twice_at_once_commits_once(plan_in_state, social_worker, checklist):
    for _ in range(ROUNDS):
        plan = plan_in_state(PlanStatus.IN_REVIEW)

        outcomes = race([functools.partial(_approve, social_worker, plan, checklist)] * 2)

        _reraise_database_errors(outcomes)
        assert sum(isinstance(o, CarePlan) for o in outcomes) == 1, outcomes
        assert sum(isinstance(o, WrongPlanState) for o in outcomes) == 1, outcomes
        assert _commitments(plan) == 1
        assert StateLog.objects.for_(plan).filter(state=PlanStatus.APPROVED).count() == 1
        assert _transitions(plan) == 1


def test_two_reviewers_starting_the_same_review_at_once_one_wins(plan_in_state, social_worker, team_manager):
    for _ in range(ROUNDS):
        plan = plan_in_state(PlanStatus.SUBMITTED)

        outcomes = race(
            [
                functools.partial(services.plan_start_review, actor=social_worker, plan=plan),
                functools.partial(services.plan_start_review, actor=team_manager, plan=plan),
            ]
        )

        _reraise_database_errors(outcomes)
        assert sum(isinstance(o, CarePlan) for o in outcomes) == 1, outcomes
        assert sum(isinstance(o, WrongPlanState) for o in outcomes) == 1, outcomes
        assert StateLog.objects.for_(plan).count() == 1
        assert _transitions(plan) == 1


def test_withdrawing_while_the_review_starts_one_wins(plan_in_state, client_user, social_worker):
    for _ in range(ROUNDS):
        plan = plan_in_state(PlanStatus.SUBMITTED)

        outcomes = race(
            [
                functools.partial(services.plan_withdraw, actor=client_user, plan=plan),
                functools.partial(services.plan_start_review, actor=social_worker, plan=plan),
            ]
        )

        _reraise_database_errors(outcomes)
        assert sum(isinstance(o, CarePlan) for o in outcomes) == 1, outcomes
        assert sum(isinstance(o, WrongPlanState) for o in outcomes) == 1, outcomes
        plan.refresh_from_db()
        assert plan.status in {PlanStatus.WITHDRAWN, PlanStatus.IN_REVIEW}
        assert StateLog.objects.for_(plan).count() == 1
        review = PlanReview.objects.get(plan=plan)
        assert (review.outcome == ReviewOutcome.WITHDRAWN) == (plan.status == PlanStatus.WITHDRAWN)


# --- escalation runs at once --------------------------------------------------------------------


@pytest.fixture
def overdue_reviews_of_different_clients(plan_in_state, make_budget, social_worker):
    """`make(n)`: n open reviews, each of a different client on Sam's caseload, all overdue the
    day returned with them."""

    def make(n):
        plans = []
        for _ in range(n):
            person = factories.ClientFactory()
            factories.CaseloadAssignmentFactory(social_worker=social_worker, client=person)
            plans.append(plan_in_state(PlanStatus.SUBMITTED, client=person, budget_=make_budget(person, "1000.00")))
        reviews = PlanReview.objects.filter(plan__in=plans)
        return plans, reviews, max(r.due for r in reviews) + datetime.timedelta(days=1)

    return make


@pytest.mark.parametrize("runs", [2, 3])
def test_concurrent_escalation_runs_escalate_each_review_once(runs, overdue_reviews_of_different_clients, team_manager):
    for _ in range(5):
        plans, reviews, today = overdue_reviews_of_different_clients(4)
        notes_before = Notification.objects.filter(recipient=team_manager, message__contains="overdue").count()

        outcomes = race([functools.partial(services.reviews_escalate_overdue, today=today)] * runs)

        _reraise_database_errors(outcomes)
        assert all(isinstance(o, int) for o in outcomes), outcomes
        assert sum(outcomes) == 4, outcomes
        assert reviews.filter(escalated_at__isnull=False, escalated_to=team_manager).count() == 4
        notes = Notification.objects.filter(recipient=team_manager, message__contains="overdue").count()
        assert notes == notes_before + 4
        for plan in plans:
            assert AuditEvent.objects.filter(target_id=str(plan.pk), actor_username="escalation job").count() == 1
        assert services.reviews_escalate_overdue(today=today) == 0


def test_an_escalation_run_does_not_skip_a_review_another_run_is_not_escalating(plan_in_state):
    # Two overdue reviews of Ruth's plans. Another run is in the middle of escalating the first:
    # it holds that review's lock exactly as the service takes it.
    first, second = plan_in_state(PlanStatus.SUBMITTED), plan_in_state(PlanStatus.SUBMITTED)
    today = PlanReview.objects.get(plan=second).due + datetime.timedelta(days=1)
    locked, release = threading.Event(), threading.Event()

    def other_run_escalating_the_first():
        try:
            with transaction.atomic():
                review = (
                    PlanReview.objects.select_for_update(skip_locked=True)
                    .select_related("plan__client")
                    .get(plan=first)
                )
                assert review is not None
                locked.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_run_escalating_the_first)
    other.start()
    try:
        assert locked.wait(timeout=20)
        escalated = services.reviews_escalate_overdue(today=today)
    finally:
        release.set()
        other.join(timeout=30)

    assert escalated == 1  # the second review: nobody else was escalating it
    assert PlanReview.objects.get(plan=second).escalated_at is not None
    assert PlanReview.objects.get(plan=first).escalated_at is None

"""After approval: the statutory reviews a social worker holds with the person, and the job that
escalates overdue plan reviews to the team manager (once per review, safe to run any number of
times at once)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.exceptions import InvalidInput, NotVisible
from accounts.models import AuditAction, User
from accounts.services import audit_record
from careplans.models import CarePlan, MoneyManagement

from .. import selectors
from ..deadlines import add_months
from ..exceptions import WrongPlanState
from ..models import DP_REVIEW_KINDS, PlanReview, StatutoryReview, StatutoryReviewKind
from ..permissions import can_review_plan
from .people import notify_about_plan, people_of

__all__ = ["reviews_escalate_overdue", "schedule_statutory_reviews", "statutory_review_complete"]


def schedule_statutory_reviews(plan: CarePlan, approved_on: datetime.date) -> None:
    """The reviews an approved plan needs: the first and the annual statutory reviews, and, for a
    plan with a direct payment, the direct payment's review. A new version carries on the direct
    payment review its predecessor was waiting for; a direct payment new in this version is first
    reviewed its policy's months after its first load (the later of its first line and approval,
    as payments schedules it; docs/direct-payments.md)."""
    policy = selectors.workflow_policy()
    reviews = [
        StatutoryReview(
            plan=plan,
            kind=StatutoryReviewKind.FIRST,
            due=approved_on + datetime.timedelta(weeks=policy.first_review_weeks),
        ),
        StatutoryReview(
            plan=plan, kind=StatutoryReviewKind.ANNUAL, due=add_months(approved_on, policy.review_interval_months)
        ),
    ]
    dp_lines = [line for line in plan.lines.all() if line.money_management == MoneyManagement.DIRECT_PAYMENT]
    if dp_lines:
        waiting = (
            StatutoryReview.objects.filter(
                plan__budget_id=plan.budget_id, kind__in=DP_REVIEW_KINDS, completed_at__isnull=True
            )
            .exclude(plan=plan)
            .order_by("due")
            .first()
        )
        if waiting is not None:
            reviews.append(StatutoryReview(plan=plan, kind=waiting.kind, due=waiting.due))
        elif not StatutoryReview.objects.filter(plan__budget_id=plan.budget_id, kind__in=DP_REVIEW_KINDS).exists():
            first_load = max(min(line.start for line in dp_lines), approved_on)
            reviews.append(
                StatutoryReview(
                    plan=plan,
                    kind=StatutoryReviewKind.DP_FIRST,
                    due=add_months(first_load, policy.dp_first_review_months),
                )
            )
    StatutoryReview.objects.bulk_create(reviews, ignore_conflicts=True)


def statutory_review_complete(
    *, actor: User, review: StatutoryReview, outcome: str = "", request=None
) -> StatutoryReview:
    """Record that a review took place, with its outcome (required for a direct payment review,
    400 without); when no other of its family (statutory, or direct payment) is pending, schedule
    the next: the annual statutory review, or the direct payment review a year on.
    Enforces: the client's social worker or team manager (404 otherwise); once (409)."""
    if not can_review_plan(actor, review.plan):
        raise NotVisible("No such review.")
    outcome = (outcome or "").strip()
    if review.kind in DP_REVIEW_KINDS and not outcome:
        raise InvalidInput("Say what the review of the direct payment found and decided.", field="outcome")
    if len(outcome) > 5000:
        raise InvalidInput("Keep the outcome under 5,000 characters.", field="outcome")
    with transaction.atomic():
        review = StatutoryReview.objects.select_for_update().select_related("plan__client").get(pk=review.pk)
        if review.completed_at is not None:
            raise WrongPlanState("This review is already recorded as done.")
        review.completed_at = timezone.now()
        review.outcome = outcome
        review.save(update_fields=["completed_at", "outcome"])
        # The annual review scheduled at approval still stands after the first review; only when
        # none of the same family is pending does completing one schedule the next.
        policy = selectors.workflow_policy()
        dp = review.kind in DP_REVIEW_KINDS
        family = DP_REVIEW_KINDS if dp else (StatutoryReviewKind.FIRST, StatutoryReviewKind.ANNUAL)
        if not StatutoryReview.objects.filter(plan=review.plan, kind__in=family, completed_at__isnull=True).exists():
            interval = policy.dp_review_interval_months if dp else policy.review_interval_months
            StatutoryReview.objects.get_or_create(
                plan=review.plan,
                kind=StatutoryReviewKind.DP_ANNUAL if dp else StatutoryReviewKind.ANNUAL,
                due=add_months(timezone.localdate(review.completed_at), interval),
            )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=review.plan,
            subject=review.plan.client,
            request=request,
            changes={"statutory_review": review.kind, "due": review.due.isoformat(), "done": True},
        )
    return review


def reviews_escalate_overdue(*, today: datetime.date | None = None) -> int:
    """Flag every open review past its due date and tell the client's team manager — once per
    review (the `escalated_at` mark is set under a row lock, so the beat job may run any number
    of times, or twice at once). Returns how many were escalated now."""
    today = today or timezone.localdate()
    escalated = 0
    candidates = PlanReview.objects.filter(decided_at__isnull=True, escalated_at__isnull=True, due__lt=today)
    for review_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            review = (
                # `of=("self",)`: lock the review row only, so a run busy with one of a client's
                # reviews never makes another run skip that client's other reviews.
                PlanReview.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("plan__client")
                .filter(pk=review_id, decided_at__isnull=True, escalated_at__isnull=True)
                .first()
            )
            if review is None:
                continue
            plan = review.plan
            people = people_of(plan)
            review.escalated_at = timezone.now()
            review.escalated_to = people["team_manager"]
            review.save(update_fields=["escalated_at", "escalated_to"])
            audit_record(
                actor=None,
                actor_username="escalation job",
                action=AuditAction.UPDATE,
                target=plan,
                subject=plan.client,
                changes={"review_due": review.due.isoformat(), "escalated_to": str(review.escalated_to or "nobody")},
                message="Review overdue: escalated to the team manager.",
            )
            notify_about_plan(
                plan,
                [people["team_manager"]],
                f"The review of {plan.client.full_name}'s care plan was due on {review.due:%-d %B %Y} and is overdue.",
                actor=None,
            )
            escalated += 1
    return escalated

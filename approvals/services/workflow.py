"""The approval workflow: one service per edge of the plan's state machine.

Every edge runs in the order docs/architecture.md gives ("A state change"): lock the plan row
(`select_for_update`), re-check the state and the per-plan rules *after* the lock, run the
transition (django-fsm-2; django-fsm-log records who, when and the comment as it runs), save,
write the audit row and any ledger entries, and queue emails with `transaction.on_commit` — all
in one transaction, so a refusal or a lost race changes nothing. Refusals: `NotVisible` 404 (not
the caller's plan), role/four-eyes/authority 403, wrong state 409, missing comment or checklist
400, cost above the budget 409.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm
from djmoney.money import Money

from accounts.exceptions import InvalidInput, NotVisible
from accounts.models import AuditAction, User
from accounts.money import format_money
from accounts.services import audit_record
from budgets.exceptions import BudgetExceeded, NotAllowed
from budgets.permissions import can_set_final_budget
from budgets.services import ledger
from budgets.services.budgets import budget_set_final
from careplans.events import plan_approved
from careplans.models import CarePlan, PlanStatus
from careplans.permissions import can_view_plan
from careplans.selectors import plan_available, plan_remaining_commitment

from .. import selectors
from ..deadlines import add_working_days
from ..exceptions import AboveAuthority, ChecklistIncomplete, CommentRequired, FourEyes, NotAReviewer, WrongPlanState
from ..models import PlanReview, ReviewOutcome
from ..permissions import can_review_plan, can_submit_plan, can_withdraw_plan, drafted_or_submitted, is_reviewer
from .people import notify_about_plan, people_of
from .reviews import schedule_statutory_reviews

__all__ = [
    "CHECKLIST",
    "plan_approve",
    "plan_reject",
    "plan_request_changes",
    "plan_start_review",
    "plan_submit",
    "plan_withdraw",
]

FINAL_BUDGET_FIELDS = {"amount": "final_budget", "reason": "final_budget_reason"}

CHECKLIST = {
    "outcomes": "The outcomes are stated",
    "costs": "The costs are within the budget",
    "risks": "The risks have been considered",
    "management": "How the support is managed is clear",
    "contacts": "Who to contact is recorded",
}

# Past tense for messages: "This plan is approved, so it cannot be submitted."
_VERB = {
    "submit": "submitted",
    "start_review": "reviewed",
    "request_changes": "sent back for changes",
    "approve": "approved",
    "refer_to_senior": "referred for senior approval",
    "reject": "rejected",
    "withdraw": "withdrawn",
}


def _visible(actor: User, plan: CarePlan) -> None:
    if not can_view_plan(actor, plan):
        raise NotVisible("No such plan.")


def _lock(plan: CarePlan) -> CarePlan:
    # `of=("self",)`: lock the plan row only. PostgreSQL refuses FOR UPDATE on the nullable side
    # of the outer join to `previous`, and the budget and client rows need no lock here.
    return (
        CarePlan.objects.select_for_update(of=("self",)).select_related("budget", "client", "previous").get(pk=plan.pk)
    )


def _check_state(plan: CarePlan, edge: str, actor: User) -> None:
    """After the lock: the edge from the plan's state as it now is (409), then the transition's
    own `permission=` (403) — django-fsm-2 does not enforce it when the method is called."""
    method = getattr(plan, edge)
    if not can_proceed(method):
        raise WrongPlanState(
            f"This plan is {plan.get_status_display().lower()}, so it cannot be {_VERB[edge]}.",
        )
    if not has_transition_perm(method, actor):
        raise NotAReviewer()


def _transition(plan: CarePlan, edge: str, *, actor: User, comment: str = "", request=None) -> None:
    before = plan.status
    getattr(plan, edge)(by=actor, description=comment or None)
    plan.save()
    audit_record(
        actor=actor,
        action=AuditAction.TRANSITION,
        target=plan,
        subject=plan.client,
        request=request,
        changes={"from": before, "to": plan.status, "transition": edge},
        message=comment,
    )


def _require_comment(comment: str, what: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise CommentRequired(f"Write a comment saying {what}.", field="comment")
    return comment


def _open_review(plan: CarePlan) -> PlanReview | None:
    return PlanReview.objects.select_for_update().filter(plan=plan, decided_at__isnull=True).first()


def _close_review(review: PlanReview | None, *, actor: User, outcome: str, comment: str = "", checklist=None) -> None:
    if review is None:
        return
    review.decided_at = timezone.now()
    review.decided_by = actor
    review.outcome = outcome
    review.comment = comment
    if checklist is not None:
        review.checklist = checklist
    review.save()


def plan_submit(*, actor: User, plan: CarePlan, comment: str = "", request=None) -> CarePlan:
    """Send a draft (or a plan sent back for changes) for review.

    Enforces: the client or their social worker/team manager (else 404/403); state draft or
    changes requested (409); at least one line (409: the plan is not ready); the plan's cost within what the budget has
    available — for a new version, plus what the approved version still has committed
    (`BudgetExceeded`, 409). Starts the review clock: due after the policy's working days.
    Locks the plan. Queues notification emails.
    """
    _visible(actor, plan)
    if not can_submit_plan(actor, plan):
        raise NotAReviewer("Only the client or their social worker can submit this plan.")
    with transaction.atomic():
        plan = _lock(plan)
        _check_state(plan, "submit", actor)
        if not plan.lines.exists():
            raise WrongPlanState("Add at least one service to the plan before submitting it.")
        available = plan_available(plan)
        if plan.total_cost > available:
            raise BudgetExceeded(
                f"This plan costs {format_money(plan.total_cost)}, which is more than the {format_money(available)} "
                "available. Remove or reduce some support, then submit it."
            )
        _transition(plan, "submit", actor=actor, comment=comment.strip(), request=request)
        now = timezone.now()
        review = PlanReview.objects.create(
            plan=plan,
            submitted_by=actor,
            submitted_at=now,
            due=add_working_days(timezone.localdate(now), selectors.workflow_policy().review_working_days),
        )
        people = people_of(plan)
        notify_about_plan(
            plan,
            [people["client"], people["social_worker"]],
            f"Care plan version {plan.version} for {plan.client.full_name} was submitted for review "
            f"(review due by {review.due:%-d %B %Y}).",
            actor=actor,
        )
    return plan


def plan_start_review(*, actor: User, plan: CarePlan, request=None) -> CarePlan:
    """A social worker or team manager picks up a submitted plan. Enforces: reviewer role (403),
    the client on their caseload or team (404), state submitted (409). Records the reviewer on
    the review clock. Locks the plan."""
    _visible(actor, plan)
    if not is_reviewer(actor) or not can_review_plan(actor, plan):
        raise NotAReviewer()
    with transaction.atomic():
        plan = _lock(plan)
        _check_state(plan, "start_review", actor)
        _transition(plan, "start_review", actor=actor, request=request)
        review = _open_review(plan)
        if review is not None:
            review.reviewer = actor
            review.started_at = timezone.now()
            review.save(update_fields=["reviewer", "started_at"])
        notify_about_plan(
            plan,
            [plan.client],
            f"{actor.full_name} has started reviewing care plan version {plan.version}.",
            actor=actor,
        )
    return plan


def _check_senior(actor: User, plan: CarePlan) -> None:
    """A plan awaiting senior approval can be decided only by someone whose authority covers it."""
    if plan.status == PlanStatus.AWAITING_SENIOR_APPROVAL and not selectors.authority_covers(actor, plan.total_cost):
        raise AboveAuthority(
            f"This plan costs {format_money(plan.total_cost)} a year, more than you may approve. "
            "It is waiting for a senior approver."
        )


def plan_request_changes(*, actor: User, plan: CarePlan, comment: str, request=None) -> CarePlan:
    """Send a plan back to the client with what to change. Enforces: a comment (400), reviewer
    role and caseload (403/404), state in review or awaiting senior approval (409), and for the
    latter the senior's authority (403). Closes the review. Locks the plan."""
    return _send_back(
        actor=actor,
        plan=plan,
        edge="request_changes",
        outcome=ReviewOutcome.CHANGES_REQUESTED,
        comment=_require_comment(comment, "what needs to change"),
        message="Changes were asked for on care plan version {version}: {comment}",
        request=request,
    )


def plan_reject(*, actor: User, plan: CarePlan, comment: str, request=None) -> CarePlan:
    """Refuse a plan, saying why. Same rules as requesting changes. Closes the review."""
    return _send_back(
        actor=actor,
        plan=plan,
        edge="reject",
        outcome=ReviewOutcome.REJECTED,
        comment=_require_comment(comment, "why the plan is rejected"),
        message="Care plan version {version} was rejected: {comment}",
        request=request,
    )


def _send_back(
    *, actor: User, plan: CarePlan, edge: str, outcome: str, comment: str, message: str, request
) -> CarePlan:
    """A reviewer's decision other than approval: checks, transition, the review closed with the
    comment, the client and social worker told."""
    _visible(actor, plan)
    if not is_reviewer(actor) or not can_review_plan(actor, plan):
        raise NotAReviewer()
    with transaction.atomic():
        plan = _lock(plan)
        _check_state(plan, edge, actor)
        _check_senior(actor, plan)
        _transition(plan, edge, actor=actor, comment=comment, request=request)
        _close_review(_open_review(plan), actor=actor, outcome=outcome, comment=comment)
        people = people_of(plan)
        notify_about_plan(
            plan,
            [people["client"], people["social_worker"]],
            message.format(version=plan.version, comment=comment),
            actor=actor,
        )
    return plan


def plan_withdraw(*, actor: User, plan: CarePlan, comment: str = "", request=None) -> CarePlan:
    """The client takes their plan back (from draft, submitted or changes requested; else 409).
    Closes any open review. Locks the plan."""
    _visible(actor, plan)
    if not can_withdraw_plan(actor, plan):
        raise NotAReviewer("Only the client can withdraw their plan.")
    with transaction.atomic():
        plan = _lock(plan)
        _check_state(plan, "withdraw", actor)
        _transition(plan, "withdraw", actor=actor, comment=comment.strip(), request=request)
        _close_review(_open_review(plan), actor=actor, outcome=ReviewOutcome.WITHDRAWN, comment=comment.strip())
        notify_about_plan(
            plan,
            [people_of(plan)["social_worker"]],
            f"{plan.client.full_name} withdrew care plan version {plan.version}.",
            actor=actor,
        )
    return plan


def _check_checklist(checklist) -> dict[str, bool]:
    if not isinstance(checklist, dict):
        checklist = {}
    missing = [label for key, label in CHECKLIST.items() if checklist.get(key) is not True]
    if missing:
        raise ChecklistIncomplete(errors={"checklist": [f"Confirm: {label.lower()}." for label in missing]})
    return {key: True for key in CHECKLIST}


def plan_approve(
    *,
    actor: User,
    plan: CarePlan,
    checklist: dict,
    comment: str = "",
    final_budget: Money | None = None,
    final_budget_reason: str = "",
    request=None,
) -> CarePlan:
    """Approve a plan in review (or awaiting senior approval), or refer it to a senior.

    Enforces: the whole sign-off checklist (400); reviewer role and caseload (403/404); state
    (409); four eyes — not whoever drafted or submitted it (403); delegated authority — a
    reviewer whose authority is below the plan's annual cost moves it to awaiting senior approval
    instead, and only someone whose authority covers it may then decide (403).
    On approval, in one transaction: the final budget if given (team manager, with a reason), the
    plan's cost committed in the ledger (key per plan, so a retry commits once), and for a new
    version the old version's remaining commitment released and the old version superseded;
    statutory reviews scheduled. Locks the plan, then the version it replaces.
    """
    ticked = _check_checklist(checklist)
    comment = (comment or "").strip()
    _visible(actor, plan)
    if not is_reviewer(actor) or not can_review_plan(actor, plan):
        raise NotAReviewer()
    if final_budget is not None and not can_set_final_budget(actor, plan.budget):
        # Refused whatever happens next (approval or referral): a refused part refuses the whole.
        raise NotAllowed("Only the client's team manager can set the final budget.")
    with transaction.atomic():
        plan = _lock(plan)
        _check_state(plan, "approve", actor)
        review = _open_review(plan)
        if drafted_or_submitted(actor, plan, review.submitted_by_id if review else None):
            raise FourEyes()
        _check_senior(actor, plan)
        people = people_of(plan)
        if not selectors.authority_covers(actor, plan.total_cost):
            _transition(plan, "refer_to_senior", actor=actor, comment=comment, request=request)
            if review is not None:
                review.referred_at = timezone.now()
                review.checklist = ticked
                review.save(update_fields=["referred_at", "checklist"])
            notify_about_plan(
                plan,
                [people["team_manager"], people["client"]],
                f"Care plan version {plan.version} for {plan.client.full_name} costs {format_money(plan.total_cost)} a "
                "year and needs a senior approver.",
                actor=actor,
            )
            return plan
        if final_budget is not None:
            try:
                budget_set_final(
                    actor=actor, budget=plan.budget, amount=final_budget, reason=final_budget_reason, request=request
                )
            except InvalidInput as exc:
                # Name the fields as the approve request does (`final_budget`, `final_budget_reason`).
                raise InvalidInput(
                    errors={FINAL_BUDGET_FIELDS.get(k, k): v for k, v in exc.as_dict().items()} or None,
                    message=None if exc.as_dict() else exc.message,
                ) from exc
        previous = (
            CarePlan.objects.select_for_update().get(pk=plan.previous_id) if plan.previous_id is not None else None
        )
        replacing = previous if previous is not None and previous.status == PlanStatus.APPROVED else None
        remaining = plan_remaining_commitment(replacing) if replacing else None
        # A new version costs the whole period again, including support the version it replaces
        # has already paid for: that money is spent, not available, so the new version carries it
        # as paid and commits only the rest (committing it all counted the paid part twice).
        carried = replacing.paid_amount if replacing is not None else Money(0, str(plan.total_cost.currency))
        to_commit = plan.total_cost - carried
        _transition(plan, "approve", actor=actor, comment=comment, request=request)
        plan.approved_at = timezone.now()
        plan.committed_amount = plan.total_cost if to_commit.amount >= 0 else carried
        plan.paid_amount = carried
        plan.save(update_fields=["approved_at", "committed_amount", "paid_amount", "updated_at"])
        if to_commit.amount > 0:
            ledger.commit(
                budget=plan.budget,
                amount=to_commit,
                key=f"plan:{plan.pk}:approve",
                actor=actor,
                memo=f"Care plan version {plan.version} approved",
                extra_headroom=remaining if remaining is not None and remaining.amount > 0 else None,
            )
        if replacing is not None:
            if remaining is not None and remaining.amount > 0:
                ledger.release(
                    budget=plan.budget,
                    amount=remaining,
                    key=f"plan:{replacing.pk}:superseded",
                    actor=actor,
                    memo=f"Care plan version {replacing.version} replaced by version {plan.version}",
                )
            _transition(
                replacing, "supersede", actor=actor, comment=f"Replaced by version {plan.version}.", request=request
            )
        _close_review(review, actor=actor, outcome=ReviewOutcome.APPROVED, comment=comment, checklist=ticked)
        schedule_statutory_reviews(plan, timezone.localdate(plan.approved_at))
        approved_id = plan.pk
        transaction.on_commit(lambda: plan_approved.send(sender=CarePlan, plan_id=approved_id))
        notify_about_plan(
            plan,
            [people["client"], people["social_worker"]],
            f"Care plan version {plan.version} for {plan.client.full_name} is approved. "
            f"{format_money(plan.total_cost)} is set aside for it.",
            actor=actor,
        )
    return plan

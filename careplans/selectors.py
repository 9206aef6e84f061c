"""Reads about care plans."""

from __future__ import annotations

from django.utils import timezone
from django_fsm_log.models import StateLog
from djmoney.money import Money

from accounts.exceptions import NotVisible
from accounts.models import User
from budgets.selectors import Figures, budget_figures

from .models import EDITABLE_STATUSES, MIXED, UNDER_REVIEW_STATUSES, CarePlan, MoneyManagement, PlanStatus
from .permissions import can_view_plan


def plan_get_for(user: User, plan_id: int) -> CarePlan:
    """The plan with its budget, outcomes and lines, or `NotVisible` (404)."""
    plan = (
        CarePlan.objects.select_related("budget", "client", "created_by")
        .prefetch_related("outcomes", "lines__provider")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None or not can_view_plan(user, plan):
        raise NotVisible("No such plan.")
    return plan


# A plan being written or decided: a budget has at most one (careplans.services.plan_create).
IN_PROGRESS_STATUSES = (*EDITABLE_STATUSES, *UNDER_REVIEW_STATUSES)


def plan_in_progress(budget_id: int) -> CarePlan | None:
    """The budget's plan in progress (draft, submitted, in review, changes requested or awaiting
    senior approval), if it has one."""
    return CarePlan.objects.filter(budget_id=budget_id, status__in=IN_PROGRESS_STATUSES).order_by("-id").first()


def plan_in_force(budget_id: int) -> CarePlan | None:
    """The budget's approved plan, if it has one (a new version replaces it only when approved)."""
    return CarePlan.objects.filter(budget_id=budget_id, status=PlanStatus.APPROVED).order_by("-version", "-id").first()


def plan_remaining_commitment(plan: CarePlan) -> Money:
    """What an approved plan still has set aside in the ledger: what it holds of the budget
    (`committed_amount`, paid or not) less what has been paid against it (`paid_amount`, which
    starts with what the versions it replaced had paid; a reversed payment is taken off again)."""
    currency = str(plan.total_cost.currency)
    if plan.status != PlanStatus.APPROVED or plan.committed_amount is None:
        return Money(0, currency)
    return plan.committed_amount - plan.paid_amount


def plan_available(plan: CarePlan, figures: Figures | None = None) -> Money:
    """What this plan may cost: the budget's uncommitted money, plus what is already set aside
    for this plan — its own commitment once approved, or, for a new version not yet approved,
    what the approved version it replaces holds (that version's approval releases what it has
    not paid, and carries what it has paid). A plan's cost covers its whole period, paid part
    included, so what it holds counts whole: with only what is still committed, a plan with
    anything paid looked over budget. Used by the designer's running total and by the submit
    check alike. `figures`: the budget's figures when the caller already has them (one query
    fewer)."""
    available = (figures or budget_figures(plan.budget)).available
    if plan.status == PlanStatus.APPROVED:
        return available + _plan_holds(plan)
    previous = plan.previous if plan.previous_id else None
    if previous is not None and previous.status == PlanStatus.APPROVED:
        available = available + _plan_holds(previous)
    return available


def _plan_holds(plan: CarePlan) -> Money:
    """What an approved plan holds of its budget, paid or still committed."""
    if plan.committed_amount is None:
        return Money(0, str(plan.total_cost.currency))
    return plan.committed_amount


def plan_cost_by_money_management(plan: CarePlan) -> dict[str, Money]:
    """What the plan's lines cost, by how their money is managed (from the prefetched lines)."""
    parts = {choice: Money(0, "GBP") for choice in MoneyManagement.values}
    for line in plan.lines.all():
        parts[line.money_management] += line.cost
    return parts


def plan_money_parts(plan: CarePlan) -> list[tuple[str, Money]]:
    """The ways the plan's money is managed that it uses, each with its label and cost, for people
    to read (pages and the PDF)."""
    labels = dict(MoneyManagement.choices)
    return [(labels[way], amount) for way, amount in plan_cost_by_money_management(plan).items() if amount.amount]


def plan_money_management(plan: CarePlan) -> str:
    """How the plan's money is managed: the one way all its lines share, or "mixed"; a plan with
    no lines yet says its default."""
    ways = {line.money_management for line in plan.lines.all()}
    if not ways:
        return plan.money_management
    return ways.pop() if len(ways) == 1 else MIXED


def plan_versions(plan: CarePlan) -> list[CarePlan]:
    """Every version in this plan's chain, oldest first, from one query over the budget's plans."""
    rows = CarePlan.objects.filter(budget_id=plan.budget_id).only("id", "version", "status", "previous_id")
    by_id = {p.pk: p for p in rows}
    by_previous = {p.previous_id: p for p in by_id.values() if p.previous_id}
    first = by_id.get(plan.pk, plan)
    while first.previous_id and first.previous_id in by_id:
        first = by_id[first.previous_id]
    chain = [first]
    while chain[-1].pk in by_previous:
        chain.append(by_previous[chain[-1].pk])
    return chain


def plan_history(plan: CarePlan) -> list[dict]:
    """The plan's workflow history, oldest first: `{"from", "to", "by", "at", "comment"}` from
    django-fsm-log's record of every transition (one query)."""
    logs = StateLog.objects.for_(plan).select_related("by").order_by("timestamp", "id")
    return [
        {
            "from": log.source_state,
            "to": log.state,
            "from_display": PlanStatus(log.source_state).label if log.source_state in PlanStatus.values else "",
            "to_display": PlanStatus(log.state).label if log.state in PlanStatus.values else log.state,
            "by": log.by,
            "at": log.timestamp,
            "comment": log.description or "",
        }
        for log in logs
    ]


def plan_history_rows(plan: CarePlan) -> list[tuple[str, str, str]]:
    """The history as (when, what, who) text rows, for the plan PDF."""
    rows = []
    for entry in plan_history(plan):
        what = f"{entry['from_display'] or 'New'} → {entry['to_display']}"
        if entry["comment"]:
            what += f": {entry['comment']}"
        when = timezone.localtime(entry["at"]).strftime("%-d %b %Y %H:%M")
        rows.append((when, what, entry["by"].full_name if entry["by"] else "Cairn"))
    return rows

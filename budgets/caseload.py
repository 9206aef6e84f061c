"""Where each client on a caseload has got to, and what needs doing next: for a social worker's
caseload and a team manager's team page.

Three queries however many clients: the clients with their latest assessment and budget, those
budgets, and their plans. Plans belong to `careplans`, which this app may not import; they are read
through the budget's `plans` relation, and their status words come from the plan itself.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Subquery
from django.utils import timezone
from djmoney.money import Money

from accounts.models import User

from .models import Assessment, AssessmentStatus, PersonalBudget

# Plan statuses (careplans.models.PlanStatus values) and what the social worker does next.
_NEXT_FOR_PLAN = {
    "draft": "Help {name} finish the care plan and send it for review",
    "changes_requested": "Help {name} make the changes asked for, then send the plan again",
    "submitted": "Start the review of the plan",
    "in_review": "Decide on the plan: approve, ask for changes or reject",
    "awaiting_senior_approval": "Waiting for a team manager to approve the plan",
    "approved": "Nothing now: support is in place until the next review",
    "rejected": "Talk to {name} about a new care plan",
    "withdrawn": "Talk to {name} about a new care plan",
}


@dataclass(frozen=True)
class ClientProgress:
    status: str  # "Not assessed", "Assessment in progress", "Not eligible", "Assessed", "Budget set"
    assessment_id: int | None
    budget_id: int | None
    budget_amount: Money | None  # the final budget where set, else the indicative one
    budget_end: datetime.date | None
    plan_id: int | None
    plan_version: int | None
    plan_status: str  # the plan's own words ("Draft", "Approved"), or "" with no plan
    next_step: str


def client_progress(client_ids: Iterable[int], *, today: datetime.date | None = None) -> dict[int, ClientProgress]:
    """{client id: ClientProgress} for each of the clients, in three queries."""
    today = today or timezone.localdate()
    ids = list(dict.fromkeys(client_ids))
    if not ids:
        return {}
    latest_assessment = Assessment.objects.filter(client=OuterRef("pk")).order_by("-created_at", "-id")
    latest_budget = PersonalBudget.objects.filter(client=OuterRef("pk")).order_by("-period_start", "-id")
    clients = list(
        User.objects.filter(pk__in=ids)
        .annotate(
            _assessment_id=Subquery(latest_assessment.values("id")[:1]),
            _assessment_status=Subquery(latest_assessment.values("status")[:1]),
            _budget_id=Subquery(latest_budget.values("id")[:1]),
        )
        .only("pk", "full_name")
    )
    budget_ids = [c._budget_id for c in clients if c._budget_id]
    plans = PersonalBudget._meta.get_field("plans").related_model.objects.order_by("-version", "-id")
    budgets = {
        b.pk: b
        for b in PersonalBudget.objects.filter(pk__in=budget_ids).prefetch_related(
            Prefetch("plans", queryset=plans.only("pk", "budget", "version", "status"), to_attr="_plans")
        )
    }
    return {c.pk: _progress(c, budgets.get(c._budget_id), today) for c in clients}


def _progress(client: User, budget: PersonalBudget | None, today: datetime.date) -> ClientProgress:
    name = (client.full_name or "").split(" ")[0] or "the client"
    plan = budget._plans[0] if budget is not None and budget._plans else None
    if budget is not None:
        status = "Budget set"
    elif client._assessment_status == AssessmentStatus.DRAFT:
        status = "Assessment in progress"
    elif client._assessment_status == AssessmentStatus.NOT_ELIGIBLE:
        status = "Not eligible"
    elif client._assessment_status == AssessmentStatus.COMPLETED:
        status = "Assessed"
    else:
        status = "Not assessed"

    if status == "Not assessed":
        next_step = f"Start {name}'s assessment"
    elif status == "Assessment in progress":
        next_step = f"Finish {name}'s assessment"
    elif status == "Not eligible":
        next_step = "Nothing: not eligible (reassess if their needs change)"
    elif status == "Assessed":
        next_step = "Set up the budget"
    elif budget.period_end < today:
        next_step = f"The budget ended on {budget.period_end:%-d %B %Y}: reassess {name}"
    elif plan is None:
        next_step = f"Start a care plan with {name}"
    else:
        next_step = _NEXT_FOR_PLAN.get(plan.status, "").format(name=name)

    return ClientProgress(
        status=status,
        assessment_id=client._assessment_id,
        budget_id=budget.pk if budget else None,
        budget_amount=(budget.final_amount or budget.indicative_amount) if budget else None,
        budget_end=budget.period_end if budget else None,
        plan_id=plan.pk if plan else None,
        plan_version=plan.version if plan else None,
        plan_status=plan.get_status_display() if plan else "",
        next_step=next_step,
    )

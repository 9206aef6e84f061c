"""Open statistics on how long approval takes (docs/approval-workflow.md): per stage and month,
the median and 90th-percentile time in days and the count; groups of fewer than 5 plans are
suppressed so no one can be picked out.

Computed from django-fsm-log's record of every plan transition (the same rows that make each
plan's history), plus the completed assessment for "assessment to approved plan". A stage's
duration is counted in the month it ended.
"""

from __future__ import annotations

import datetime
import math
import statistics
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.api.open_data import SUPPRESS_BELOW
from careplans.models import CarePlan, PlanStatus

S = PlanStatus
DECISIONS = {S.APPROVED, S.REJECTED}


@dataclass(frozen=True)
class Stage:
    code: str
    label: str


STAGES = [
    Stage("waiting_for_review", "From submission to the start of review"),
    Stage("review", "From the start of review to a decision or referral"),
    Stage("senior_approval", "Waiting for senior approval"),
    Stage("submission_to_decision", "From submission to approval or rejection"),
    Stage("assessment_to_approved_plan", "From completed assessment to first approved plan"),
]
STAGE_LABELS = {s.code: s.label for s in STAGES}


def _days(start: datetime.datetime, end: datetime.datetime) -> float:
    return max((end - start).total_seconds(), 0) / 86400


def _durations() -> list[tuple[str, datetime.datetime, float]]:
    """(stage, ended at, days) for every stage every plan has passed through."""
    content_type = ContentType.objects.get_for_model(CarePlan)
    rows = (
        StateLog.objects.filter(content_type=content_type)
        .order_by("object_id", "timestamp", "id")
        .values_list("object_id", "source_state", "state", "timestamp")
    )
    out: list[tuple[str, datetime.datetime, float]] = []
    entered: dict[str, datetime.datetime] = {}
    current = None
    first_approval: dict[int, datetime.datetime] = {}
    for plan_id, source, target, at in rows.iterator(chunk_size=5000):
        if plan_id != current:
            current, entered = plan_id, {}
        if source == S.SUBMITTED and target == S.IN_REVIEW and S.SUBMITTED in entered:
            out.append(("waiting_for_review", at, _days(entered[S.SUBMITTED], at)))
        if source == S.IN_REVIEW and S.IN_REVIEW in entered:
            out.append(("review", at, _days(entered[S.IN_REVIEW], at)))
        if source == S.AWAITING_SENIOR_APPROVAL and S.AWAITING_SENIOR_APPROVAL in entered:
            out.append(("senior_approval", at, _days(entered[S.AWAITING_SENIOR_APPROVAL], at)))
        if target in DECISIONS and S.SUBMITTED in entered:
            out.append(("submission_to_decision", at, _days(entered[S.SUBMITTED], at)))
        if target == S.APPROVED:
            first_approval.setdefault(plan_id, at)
        entered[target] = at
    out += _assessment_to_approval(first_approval)
    return out


def _assessment_to_approval(first_approval: dict[int, datetime.datetime]) -> list[tuple[str, datetime.datetime, float]]:
    """For each budget, from its assessment's completion to its first approved plan."""
    plans = (
        CarePlan.objects.filter(pk__in=list(first_approval))
        .values_list("pk", "budget_id", "budget__assessment__completed_at")
        .order_by()
    )
    earliest: dict[int, tuple[datetime.datetime, datetime.datetime | None]] = {}
    for plan_id, budget_id, completed in plans:
        approved = first_approval[plan_id]
        if budget_id not in earliest or approved < earliest[budget_id][0]:
            earliest[budget_id] = (approved, completed)
    return [
        ("assessment_to_approved_plan", approved, _days(completed, approved))
        for approved, completed in earliest.values()
        if completed is not None
    ]


def _p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile: the value 90% of the group are at or below."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def approval_times() -> list[dict]:
    """One row per stage and month (stage order, then month): count, median and p90 in days
    (one decimal place), or `suppressed` with no figures when fewer than 5 plans are in it."""
    groups: dict[tuple[str, str], list[float]] = {}
    for stage, ended, days in _durations():
        month = timezone.localtime(ended).strftime("%Y-%m")
        groups.setdefault((stage, month), []).append(days)
    order = {s.code: i for i, s in enumerate(STAGES)}
    rows = []
    for (stage, month), values in sorted(groups.items(), key=lambda item: (order[item[0][0]], item[0][1])):
        suppressed = len(values) < SUPPRESS_BELOW
        rows.append(
            {
                "stage": stage,
                "stage_label": STAGE_LABELS[stage],
                "month": month,
                "count": None if suppressed else len(values),
                "median_days": None if suppressed else round(statistics.median(values), 1),
                "p90_days": None if suppressed else round(_p90(values), 1),
                "suppressed": suppressed,
            }
        )
    return rows


CSV_FIELDS = ["stage", "stage_label", "month", "count", "median_days", "p90_days", "suppressed"]

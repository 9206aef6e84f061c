"""Open statistics on how long approval takes (docs/approval-workflow.md): per stage and month,
the median and 90th-percentile time in days and the count; groups of fewer than 5 plans are
suppressed so no one can be picked out.

Worked out from django-fsm-log's record of every plan transition (the same rows that make each
plan's history), plus the completed assessment for "assessment to approved plan". A stage's
duration is counted in the month it ended.

Why stored aggregates: replaying every plan's history on each request took seconds and hundreds of
megabytes at 100,000 plans. Instead each duration is stored once (`ApprovalStageTime`, whole
microseconds), and each stage and month's published figures once (`ApprovalTimeMonth`), so a
request reads one small table. Medians and percentiles cannot be added up month by month, so a
month's figures are worked out again from its stored durations whenever one of them changes.
Database triggers leave an `ApprovalStatsChange` mark for every plan whose history changes and
every assessment whose completion changes, in the same transaction as the change;
`refresh()` replays just those plans, rewrites their durations and the figures of the months they
touch, and consumes the marks. The figures are exactly today's replay of the whole history: same
durations to the microsecond, same median, same nearest-rank 90th percentile, same rounding.
"""

from __future__ import annotations

import datetime
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Min, QuerySet
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.api.open_data import SUPPRESS_BELOW
from accounts.stats_cache import INLINE_LIMIT, bump, cached, in_chunks, lock, refresh_from_marks
from careplans.models import CarePlan, PlanStatus

from .models import ApprovalStageTime, ApprovalStatsChange, ApprovalTimeMonth

S = PlanStatus
DECISIONS = {S.APPROVED, S.REJECTED}
CACHE_NAME = "approval-times"
ASSESSMENT_TO_APPROVAL = "assessment_to_approved_plan"


@dataclass(frozen=True)
class Stage:
    code: str
    label: str


STAGES = [
    Stage("waiting_for_review", "From submission to the start of review"),
    Stage("review", "From the start of review to a decision or referral"),
    Stage("senior_approval", "Waiting for senior approval"),
    Stage("submission_to_decision", "From submission to approval or rejection"),
    Stage(ASSESSMENT_TO_APPROVAL, "From completed assessment to first approved plan"),
]
STAGE_LABELS = {s.code: s.label for s in STAGES}
CSV_FIELDS = ["stage", "stage_label", "month", "count", "median_days", "p90_days", "suppressed"]


def _microseconds(start: datetime.datetime, end: datetime.datetime) -> int:
    """Whole microseconds from start to end, never negative (a clock set back counts as no time)."""
    return max((end - start) // datetime.timedelta(microseconds=1), 0)


def _days(microseconds: int) -> float:
    """Days as the published figures count them: `timedelta.total_seconds() / 86400`, to the bit."""
    return microseconds / 10**6 / 86400


def _month(at: datetime.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m")


def _stage_times(plan_id: int, history: Iterable[tuple[str, str, datetime.datetime]]) -> Iterator[ApprovalStageTime]:
    """The stages one plan went through, from its history rows in order: a stage ends when the
    plan leaves it, and lasts from the last time the plan entered it."""
    entered: dict[str, datetime.datetime] = {}
    for source, target, at in history:
        ended = []
        if source == S.SUBMITTED and target == S.IN_REVIEW and S.SUBMITTED in entered:
            ended.append(("waiting_for_review", entered[S.SUBMITTED]))
        if source == S.IN_REVIEW and S.IN_REVIEW in entered:
            ended.append(("review", entered[S.IN_REVIEW]))
        if source == S.AWAITING_SENIOR_APPROVAL and S.AWAITING_SENIOR_APPROVAL in entered:
            ended.append(("senior_approval", entered[S.AWAITING_SENIOR_APPROVAL]))
        if target in DECISIONS and S.SUBMITTED in entered:
            ended.append(("submission_to_decision", entered[S.SUBMITTED]))
        for stage, start in ended:
            yield ApprovalStageTime(
                plan_id=plan_id, stage=stage, month=_month(at), ended_at=at, duration_us=_microseconds(start, at)
            )
        entered[target] = at


def _history() -> Iterable:
    return StateLog.objects.filter(content_type=ContentType.objects.get_for_model(CarePlan))


# How many stored durations each (stage, month) group gained (or, negative, lost). `update` adds,
# and keeps a group whose changes cancel out: its figures are still worked out again.
Groups = Counter[tuple[str, str]]


def _remove(old: QuerySet) -> Groups:
    """Delete these stored durations; how many each (stage, month) group lost (as negatives)."""
    lost = old.values_list("stage", "month").annotate(n=Count("id")).order_by()
    groups = Counter({(stage, month): -n for stage, month, n in lost})
    old.delete()
    return groups


def _add(groups: Groups, new: list[ApprovalStageTime]) -> Groups:
    """Store these durations; add how many each group gained to `groups`."""
    ApprovalStageTime.objects.bulk_create(new, batch_size=2000)
    groups.update((time.stage, time.month) for time in new)
    return groups


def _replay_plans(plan_ids: list[int]) -> Groups:
    """Rewrite the stage durations of these plans from their histories; the (stage, month) groups
    whose figures may have moved, with how many durations each gained or lost."""
    groups = _remove(ApprovalStageTime.objects.filter(plan_id__in=plan_ids).exclude(stage=ASSESSMENT_TO_APPROVAL))
    rows = _history().filter(object_id__in=plan_ids).order_by("object_id", "timestamp", "id")
    by_plan: dict[int, list[tuple[str, str, datetime.datetime]]] = {}
    for plan_id, source, target, at in rows.values_list("object_id", "source_state", "state", "timestamp"):
        by_plan.setdefault(plan_id, []).append((source, target, at))
    return _add(groups, [time for plan_id, history in by_plan.items() for time in _stage_times(plan_id, history)])


def _replay_budgets(budget_ids: list[int]) -> Groups:
    """Rewrite "assessment to approved plan" for these budgets: from the assessment's completion
    to the earliest first approval of any of the budget's plans."""
    groups = _remove(ApprovalStageTime.objects.filter(stage=ASSESSMENT_TO_APPROVAL, budget_id__in=budget_ids))
    plans = dict(
        (pk, (budget_id, completed))
        for pk, budget_id, completed in CarePlan.objects.filter(budget_id__in=budget_ids)
        .values_list("pk", "budget_id", "budget__assessment__completed_at")
        .order_by()
    )
    first_approvals = (
        _history()
        .filter(state=S.APPROVED, object_id__in=list(plans))
        .values("object_id")
        .annotate(first=Min("timestamp"))
        .order_by()
    )
    earliest: dict[int, tuple[datetime.datetime, int, datetime.datetime | None]] = {}
    for row in first_approvals:
        budget_id, completed = plans[row["object_id"]]
        if budget_id not in earliest or row["first"] < earliest[budget_id][0]:
            earliest[budget_id] = (row["first"], row["object_id"], completed)
    new = [
        ApprovalStageTime(
            plan_id=plan_id,
            budget_id=budget_id,
            stage=ASSESSMENT_TO_APPROVAL,
            month=_month(approved),
            ended_at=approved,
            duration_us=_microseconds(completed, approved),
        )
        for budget_id, (approved, plan_id, completed) in earliest.items()
        if completed is not None
    ]
    return _add(groups, new)


def _summarise(groups: Groups) -> None:
    """Work out again the published figures of these (stage, month) groups: each group's count
    is its stored count plus what it gained or lost (counting the durations again took most of
    a read after a change: 18 ms at a million plans), then only the one or two middle values and
    the nearest-rank 90th percentile are read, on the (stage, month, duration) index. A count so
    far above its stored durations that those reads run past them (a figure edited by hand) is
    counted again."""
    if not groups:
        return
    stored = {
        (stage, month): (pk, count)
        for pk, stage, month, count in ApprovalTimeMonth.objects.filter(
            stage__in={stage for stage, _ in groups}, month__in={month for _, month in groups}
        ).values_list("pk", "stage", "month", "count")
    }
    figures, emptied = [], []
    for (stage, month), change in sorted(groups.items()):
        durations = (
            ApprovalStageTime.objects.filter(stage=stage, month=month)
            .order_by("duration_us")
            .values_list("duration_us", flat=True)
        )
        pk, count = stored.get((stage, month), (None, 0))
        count += change
        read = _order_statistics(durations, count) if count >= 0 else None
        if read is None:
            count = durations.count()
            read = _order_statistics(durations, count)
        if count:
            middle, p90 = read
            figures.append(
                ApprovalTimeMonth(
                    pk=pk,
                    stage=stage,
                    month=month,
                    count=count,
                    median_days=round(statistics.median(middle), 1),
                    p90_days=round(p90, 1),
                )
            )
        elif pk is not None:
            emptied.append(pk)
    # A group's row is updated where it stands: no indexed column changes, so PostgreSQL keeps the
    # new version on the same page and prunes the old one itself (a delete and insert per change
    # left thousands of dead rows in this 300-row table while autovacuum was busy elsewhere).
    ApprovalTimeMonth.objects.filter(pk__in=emptied).delete()
    ApprovalTimeMonth.objects.bulk_update(
        [f for f in figures if f.pk is not None], ["count", "median_days", "p90_days"], batch_size=1000
    )
    ApprovalTimeMonth.objects.bulk_create([f for f in figures if f.pk is None], batch_size=1000)


def _order_statistics(durations: QuerySet, count: int) -> tuple[list[float], float] | None:
    """The middle value or two and the nearest-rank 90th percentile of `count` sorted durations,
    in days; None if a read runs past the durations, so there are fewer than `count` (catching
    every wrong count would cost as much as counting: that drift is what
    `approval_stats_rebuild --check` finds)."""
    if count == 0:
        return [], 0.0
    middle = list(durations[(count - 1) // 2 : count // 2 + 1])
    # The 90th percentile is read from the top of the index, walking a tenth of the group rather
    # than nine tenths (equal durations are equal whichever way they are walked).
    above = count - max(math.ceil(0.9 * count), 1)
    p90 = list(durations.reverse()[above : above + 1])
    if len(middle) != 2 - count % 2 or not p90:
        return None
    return [_days(us) for us in middle], _days(p90[0])


def _apply(marks: list[tuple[int | None, int | None]]) -> None:
    """Rewrite the durations of the marked plans, and "assessment to approved plan" for their
    budgets and those of the marked assessments, then the figures of every month touched."""
    plan_ids = {plan_id for plan_id, _ in marks if plan_id is not None}
    assessment_ids = {assessment_id for _, assessment_id in marks if assessment_id is not None}
    groups: Groups = Counter()
    budget_ids = set()
    for chunk in in_chunks(plan_ids):
        groups.update(_replay_plans(chunk))
        budget_ids |= set(CarePlan.objects.filter(pk__in=chunk).values_list("budget_id", flat=True).order_by())
    for chunk in in_chunks(assessment_ids):
        budget_ids |= set(
            CarePlan.objects.filter(budget__assessment_id__in=chunk).values_list("budget_id", flat=True).order_by()
        )
    for chunk in in_chunks(budget_ids):
        groups.update(_replay_budgets(chunk))
    _summarise(groups)


def refresh(*, limit: int | None = None) -> bool:
    """Take in every change marked so far (accounts.stats_cache.refresh_from_marks); a read passes
    `limit`, so it never waits for another refresh or takes in a pile of marks itself."""
    return refresh_from_marks(
        CACHE_NAME, ApprovalStatsChange.objects.all(), ["plan_id", "assessment_id"], _apply, limit=limit
    )


def rebuild() -> None:
    """Throw away the stored durations and figures and work them all out again from the history
    (to repair them, or up front after an upgrade rather than on the first read)."""
    with transaction.atomic():
        lock(CACHE_NAME)
        ApprovalStatsChange.objects.all().delete()
        ApprovalStageTime.objects.all().delete()
        ApprovalTimeMonth.objects.all().delete()
        plan_ids = _history().values_list("object_id", flat=True).distinct().order_by()
        _apply([(plan_id, None) for plan_id in plan_ids])
    bump(CACHE_NAME)


def published() -> list[dict]:
    """What the stored figures publish now, uncached (approval_times() caches it)."""
    order = {s.code: i for i, s in enumerate(STAGES)}
    months = sorted(ApprovalTimeMonth.objects.all(), key=lambda m: (order[m.stage], m.month))
    rows = []
    for month in months:
        suppressed = month.count < SUPPRESS_BELOW
        rows.append(
            {
                "stage": month.stage,
                "stage_label": STAGE_LABELS[month.stage],
                "month": month.month,
                "count": None if suppressed else month.count,
                "median_days": None if suppressed else month.median_days,
                "p90_days": None if suppressed else month.p90_days,
                "suppressed": suppressed,
            }
        )
    return rows


def approval_times() -> list[dict]:
    """One row per stage and month (stage order, then month): count, median and p90 in days
    (one decimal place), or `suppressed` with no figures when fewer than 5 plans are in it.
    Cached (accounts/stats_cache.py); any marked change is taken in first."""
    refresh(limit=INLINE_LIMIT)
    return cached(CACHE_NAME, published)

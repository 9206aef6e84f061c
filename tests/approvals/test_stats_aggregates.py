# ruff: noqa: F811  (pytest fixtures imported from test_stats, then requested by name)
"""The approval-time statistics on stored aggregates (approvals/stats.py) publish exactly what the
old computation — a replay of every plan's history on each request, kept here as the reference —
publishes on the same data: varied histories over many months and every stage (resubmissions,
senior approval, rejections, withdrawals), durations to the microsecond, ties, months either
side of the clock change, groups under 5 suppressed; after transitions through the services,
after bulk corrections of the history, and after a rebuild. Reads keep a constant number of
queries, and the cached answer changes when the data does."""

import csv
import datetime
import io
import math
import random
import statistics

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts import stats_cache
from accounts.api.open_data import SUPPRESS_BELOW
from approvals import stats
from approvals.models import ApprovalStageTime, ApprovalStatsChange, ApprovalTimeMonth
from budgets.models import Assessment, PersonalBudget
from careplans.models import CarePlan, PlanStatus
from tests import factories
from tests.approvals.test_stats import approved_plan_at  # noqa: F401  (fixture by name)

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/approval-times/"
PAGE = "/statistics/approval-times/"
S = PlanStatus


# The computation the aggregates replaced, unchanged: the reference every figure must equal.


def _ref_days(start, end):
    return max((end - start).total_seconds(), 0) / 86400


def _ref_durations():
    content_type = ContentType.objects.get_for_model(CarePlan)
    rows = (
        StateLog.objects.filter(content_type=content_type)
        .order_by("object_id", "timestamp", "id")
        .values_list("object_id", "source_state", "state", "timestamp")
    )
    out, entered, current, first_approval = [], {}, None, {}
    for plan_id, source, target, at in rows.iterator(chunk_size=5000):
        if plan_id != current:
            current, entered = plan_id, {}
        if source == S.SUBMITTED and target == S.IN_REVIEW and S.SUBMITTED in entered:
            out.append(("waiting_for_review", at, _ref_days(entered[S.SUBMITTED], at)))
        if source == S.IN_REVIEW and S.IN_REVIEW in entered:
            out.append(("review", at, _ref_days(entered[S.IN_REVIEW], at)))
        if source == S.AWAITING_SENIOR_APPROVAL and S.AWAITING_SENIOR_APPROVAL in entered:
            out.append(("senior_approval", at, _ref_days(entered[S.AWAITING_SENIOR_APPROVAL], at)))
        if target in {S.APPROVED, S.REJECTED} and S.SUBMITTED in entered:
            out.append(("submission_to_decision", at, _ref_days(entered[S.SUBMITTED], at)))
        if target == S.APPROVED:
            first_approval.setdefault(plan_id, at)
        entered[target] = at
    plans = (
        CarePlan.objects.filter(pk__in=list(first_approval))
        .values_list("pk", "budget_id", "budget__assessment__completed_at")
        .order_by()
    )
    earliest = {}
    for plan_id, budget_id, completed in plans:
        approved = first_approval[plan_id]
        if budget_id not in earliest or approved < earliest[budget_id][0]:
            earliest[budget_id] = (approved, completed)
    out += [
        ("assessment_to_approved_plan", approved, _ref_days(completed, approved))
        for approved, completed in earliest.values()
        if completed is not None
    ]
    return out


def _ref_p90(values):
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def reference_approval_times():
    groups = {}
    for stage, ended, days in _ref_durations():
        groups.setdefault((stage, timezone.localtime(ended).strftime("%Y-%m")), []).append(days)
    order = {s.code: i for i, s in enumerate(stats.STAGES)}
    rows = []
    for (stage, month), values in sorted(groups.items(), key=lambda item: (order[item[0][0]], item[0][1])):
        suppressed = len(values) < SUPPRESS_BELOW
        rows.append(
            {
                "stage": stage,
                "stage_label": stats.STAGE_LABELS[stage],
                "month": month,
                "count": None if suppressed else len(values),
                "median_days": None if suppressed else round(statistics.median(values), 1),
                "p90_days": None if suppressed else round(_ref_p90(values), 1),
                "suppressed": suppressed,
            }
        )
    return rows


# Varied histories, written straight into django-fsm-log's table as transitions would.

NEXT = {
    S.DRAFT: [S.SUBMITTED],
    S.SUBMITTED: [S.IN_REVIEW, S.IN_REVIEW, S.IN_REVIEW, S.WITHDRAWN],
    S.IN_REVIEW: [S.APPROVED, S.APPROVED, S.REJECTED, S.CHANGES_REQUESTED, S.AWAITING_SENIOR_APPROVAL],
    S.AWAITING_SENIOR_APPROVAL: [S.APPROVED, S.REJECTED, S.IN_REVIEW],
    S.CHANGES_REQUESTED: [S.SUBMITTED],
}
# Around the clock change (30 March 2025, 01:00 UTC) and a month end in summer time.
BOUNDARIES = [
    datetime.datetime(2025, 3, 31, 22, 30, tzinfo=datetime.UTC),
    datetime.datetime(2025, 6, 30, 23, 30, tzinfo=datetime.UTC),
    datetime.datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=datetime.UTC),
]


def _gap(rng: random.Random) -> datetime.timedelta:
    kind = rng.random()
    if kind < 0.3:  # whole days: ties, and medians exactly between two tenths
        return datetime.timedelta(days=rng.choice([1, 2, 3, 5, 8]))
    if kind < 0.4:  # figures that round on the half (0.05, 0.15, ... days)
        return datetime.timedelta(days=rng.choice([0.05, 0.15, 1.25, 2.35]))
    if kind < 0.45:
        return datetime.timedelta(0)
    return datetime.timedelta(microseconds=rng.randrange(1, 40 * 86400 * 10**6))


def write_histories(plan_ids, rng: random.Random, *, start=None) -> list[StateLog]:
    """A random walk through the workflow for each plan id, as django-fsm-log rows."""
    content_type = ContentType.objects.get_for_model(CarePlan)
    logs = []
    for plan_id in plan_ids:
        state = S.DRAFT
        if start is not None:
            at = start
        elif rng.random() < 0.15:
            at = rng.choice(BOUNDARIES) - datetime.timedelta(days=rng.choice([0, 1, 2]))
        else:
            at = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
                microseconds=rng.randrange(0, 200 * 86400 * 10**6)
            )
        for _ in range(rng.randrange(2, 9)):
            if state not in NEXT:
                break
            target = rng.choice(NEXT[state])
            logs.append(
                StateLog(
                    content_type=content_type,
                    object_id=plan_id,
                    source_state=state,
                    state=target,
                    transition=f"to_{target}",
                    timestamp=at,
                )
            )
            state, at = target, at + _gap(rng)
    return StateLog.objects.bulk_create(logs)


@pytest.fixture
def budgets_with_plans(make_budget, example_scheme):
    """`budgets_with_plans(n, plans_each)`: n budgets with real (draft) plans, for "assessment to
    approved plan"; their assessments completed at varied times, some never."""

    def make(n, plans_each=2):
        rng = random.Random(n)
        plan_ids = []
        for i in range(n):
            person = factories.ClientFactory()
            budget = make_budget(person, "5000.00")
            completed = (
                None
                if i % 7 == 0
                else datetime.datetime(2024, 12, 1, tzinfo=datetime.UTC)
                + datetime.timedelta(microseconds=rng.randrange(0, 150 * 86400 * 10**6))
            )
            Assessment.objects.filter(pk=budget.assessment_id).update(completed_at=completed)
            for version in range(plans_each):
                plan = CarePlan.objects.create(budget=budget, client=person, created_by=person, version=version + 1)
                plan_ids.append(plan.pk)
        return plan_ids

    return make


def _api_rows(api):
    response = api.get(URL)
    assert response.status_code == 200
    return response.json()["results"]


def test_varied_histories_publish_exactly_the_old_figures(api, budgets_with_plans):
    rng = random.Random(20250301)
    real = budgets_with_plans(30)
    write_histories(real, rng)
    write_histories(range(10**6, 10**6 + 500), rng)  # history of plans not (or no longer) on file
    # Another model's history is not a plan's.
    StateLog.objects.create(
        content_type=ContentType.objects.get_for_model(PersonalBudget),
        object_id=real[0],
        source_state=S.SUBMITTED,
        state=S.IN_REVIEW,
        transition="x",
    )

    expected = reference_approval_times()
    assert _api_rows(api) == expected
    assert {row["stage"] for row in expected} == {s.code for s in stats.STAGES}
    assert any(row["suppressed"] for row in expected) and any(not row["suppressed"] for row in expected)
    assert len({row["month"] for row in expected}) >= 6
    assert not ApprovalStatsChange.objects.exists()


def test_incremental_changes_keep_the_figures_exact(api, budgets_with_plans):
    rng = random.Random(7)
    real = budgets_with_plans(20)
    write_histories(real[:20], rng)
    write_histories(range(10**6, 10**6 + 300), rng)
    assert _api_rows(api) == reference_approval_times()

    # More transitions, corrections of the history in bulk, a completion moved, a plan's history
    # moved to another plan: each is marked and taken in on the next read.
    write_histories(real[20:], rng)
    write_histories(range(10**6 + 300, 10**6 + 400), rng)
    moved = StateLog.objects.filter(object_id__in=range(10**6, 10**6 + 50))
    moved.update(timestamp=datetime.datetime(2025, 5, 5, 5, 5, tzinfo=datetime.UTC))
    StateLog.objects.filter(object_id=10**6 + 60).update(object_id=10**6 + 61)
    Assessment.objects.filter(budget__plans__pk=real[3]).update(completed_at=None)
    Assessment.objects.filter(budget__plans__pk=real[5]).update(
        completed_at=datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)
    )
    assert ApprovalStatsChange.objects.exists()

    assert _api_rows(api) == reference_approval_times()
    assert not ApprovalStatsChange.objects.exists()


def test_counts_are_carried_forward_and_a_count_too_big_for_its_durations_is_counted_again(
    api, budgets_with_plans, django_assert_max_num_queries
):
    """A group's count after a change is its stored count plus what changed; a stored count larger
    than the durations it summarises (edited by hand) is found by the reads and counted again."""
    rng = random.Random(13)
    write_histories(budgets_with_plans(10), rng)
    write_histories(range(10**6, 10**6 + 200), rng)
    assert _api_rows(api) == reference_approval_times()
    groups = dict.fromkeys(ApprovalTimeMonth.objects.values_list("stage", "month"), 0)

    ApprovalTimeMonth.objects.update(count=10**6)
    stats._summarise(groups)
    stats_cache.bump(stats.CACHE_NAME)
    assert _api_rows(api) == reference_approval_times()

    # With the stored counts right, working a group out again reads no count.
    with django_assert_max_num_queries(1 + 2 * len(groups) + len(stats.STAGES) + 1) as taken:
        stats._summarise(groups)
    assert not any("COUNT(" in query["sql"] for query in taken.captured_queries)


def test_a_month_whose_last_duration_goes_loses_its_row_and_the_others_are_updated_in_place(api, budgets_with_plans):
    rng = random.Random(17)
    write_histories(range(10**6, 10**6 + 60), rng)
    lonely = write_histories([10**6 + 99], rng, start=datetime.datetime(2019, 3, 10, tzinfo=datetime.UTC))
    assert _api_rows(api) == reference_approval_times()
    assert ApprovalTimeMonth.objects.filter(month__startswith="2019-").exists()

    def ids():
        rows = ApprovalTimeMonth.objects.values_list("pk", "stage", "month")
        return {(stage, month): pk for pk, stage, month in rows}

    before = ids()
    assert any(month == "2025-03" for _, month in before)

    # The lonely plan's history moves into a month the others already have: its 2019 rows go, and
    # the rows it joins keep their ids (updated where they stand, not deleted and written again).
    StateLog.objects.filter(pk__in=[log.pk for log in lonely]).update(
        timestamp=datetime.datetime(2025, 3, 3, tzinfo=datetime.UTC)
    )
    assert _api_rows(api) == reference_approval_times()
    after = ids()
    assert not any(month.startswith("2019-") for _, month in after)
    assert {group: pk for group, pk in before.items() if not group[1].startswith("2019-")} == after


def test_rebuild_and_check_agree_with_the_history(budgets_with_plans, capsys):
    rng = random.Random(11)
    write_histories(budgets_with_plans(10), rng)
    write_histories(range(10**6, 10**6 + 200), rng)
    stats.refresh()
    stored = set(ApprovalStageTime.objects.values_list("plan_id", "stage", "month", "duration_us"))

    call_command("approval_stats_rebuild", "--check")
    assert "match a full rebuild" in capsys.readouterr().out

    # Drift (a figure changed behind the statistics' back) is found, and a rebuild repairs it.
    ApprovalTimeMonth.objects.filter(pk=ApprovalTimeMonth.objects.order_by("pk").first().pk).update(count=999)
    with pytest.raises(CommandError, match="differ from a full rebuild"):
        call_command("approval_stats_rebuild", "--check")
    call_command("approval_stats_rebuild")
    assert stats.approval_times() == reference_approval_times()
    assert set(ApprovalStageTime.objects.values_list("plan_id", "stage", "month", "duration_us")) == stored


def test_an_upgrade_works_the_figures_out_on_the_first_read(api, budgets_with_plans):
    """The migration marks every plan with history; nothing else is needed before the first read."""
    write_histories(range(10**6, 10**6 + 100), random.Random(3))
    ApprovalStageTime.objects.all().delete()
    ApprovalTimeMonth.objects.all().delete()
    ApprovalStatsChange.objects.all().delete()
    ApprovalStatsChange.objects.bulk_create(
        ApprovalStatsChange(plan_id=plan_id)
        for plan_id in StateLog.objects.values_list("object_id", flat=True).distinct().order_by()
    )

    assert _api_rows(api) == reference_approval_times() != []


@pytest.fixture
def approve(approved_plan_at):
    """`approve()`: a new client, assessed 10 days ago, whose plan is submitted, taken into review
    and approved by Sam through the services, its history ending now."""
    hour = 1 / 24
    return lambda: approved_plan_at(timezone.now() - datetime.timedelta(hours=2), hour, hour, 10)


def test_transitions_through_the_services_update_the_aggregates(approve):
    plan = approve()

    # One mark per history row written, and per row moved, and one for the assessment.
    assert ApprovalStatsChange.objects.filter(plan_id=plan.pk).count() == 6
    assert ApprovalStatsChange.objects.filter(assessment_id=plan.budget.assessment_id).count() == 1
    stats.refresh()
    assert not ApprovalStatsChange.objects.exists()
    assert set(ApprovalStageTime.objects.filter(plan_id=plan.pk).values_list("stage", flat=True)) == {
        "waiting_for_review",
        "review",
        "submission_to_decision",
        "assessment_to_approved_plan",
    }
    this_month = timezone.localdate().strftime("%Y-%m")
    assert ApprovalTimeMonth.objects.get(stage="review", month=this_month).count == 1


def test_a_new_approval_shows_up_in_the_cached_answer(api, client, approve):
    this_month = timezone.localdate().strftime("%Y-%m")
    for _ in range(SUPPRESS_BELOW - 1):
        approve()
    [review] = [row for row in _api_rows(api) if row["stage"] == "review"]
    assert review["month"] == this_month and review["suppressed"] is True
    assert _api_rows(api) == reference_approval_times()  # served from the cache
    assert b"Fewer than 5: not shown" in client.get(PAGE).content  # the page's table, cached too

    approve()

    [review] = [row for row in _api_rows(api) if row["stage"] == "review"]
    assert review["count"] == SUPPRESS_BELOW and review["suppressed"] is False
    assert _api_rows(api) == reference_approval_times()
    page = client.get(PAGE).content.decode()
    assert f'<td class="govuk-table__cell govuk-table__cell--numeric">{SUPPRESS_BELOW}</td>' in page
    assert "Fewer than 5: not shown" not in page


def test_reads_take_a_constant_number_of_queries(api, client, budgets_with_plans, django_assert_num_queries):
    write_histories(range(10**6, 10**6 + 300), random.Random(5))
    stats.refresh()
    with django_assert_num_queries(2):  # any marks? then the stored figures
        small = _api_rows(api)
    with django_assert_num_queries(1):  # cached: only the check for marks
        assert _api_rows(api) == small
    assert client.get(PAGE).status_code == 200

    write_histories(range(2 * 10**6, 2 * 10**6 + 1500), random.Random(6))
    stats.refresh()
    with django_assert_num_queries(2):
        assert len(_api_rows(api)) >= len(small)
    with django_assert_num_queries(1):
        assert client.get(PAGE).status_code == 200


def test_csv_is_the_old_figures_in_the_old_columns(api):
    write_histories(range(10**6, 10**6 + 200), random.Random(9))

    response = api.get(URL, {"format": "csv"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == stats.CSV_FIELDS
    expected = [{k: "" if v is None else str(v) for k, v in row.items()} for row in reference_approval_times()]
    assert rows == expected


def test_a_pile_of_marks_is_left_to_the_rebuild_not_taken_in_by_a_read(api, monkeypatch):
    """An upgrade or a mass correction can leave more marks than a request should take in: a read
    then answers from the figures as they stand, and `approval_stats_rebuild` takes them in."""
    write_histories(range(10**6, 10**6 + 20), random.Random(8))
    monkeypatch.setattr(stats, "INLINE_LIMIT", 10)

    assert _api_rows(api) == []
    assert ApprovalStatsChange.objects.count() > 10

    call_command("approval_stats_rebuild")
    assert _api_rows(api) == reference_approval_times() != []
    assert not ApprovalStatsChange.objects.exists()

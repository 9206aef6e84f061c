"""Reassessing everyone when a new charging policy starts (docs/charging.md).

Finance or an administrator starts a run for a policy; a background job works out each client's
latest financial assessment again, with exactly the figures they declared, under that policy's rules
(`budgets.charging.assess`), updating its progress as it goes, and stores each person's old and new
weekly contribution with a summary: how many would pay more, less or the same, and the total weekly
change. The run changes nothing. Confirming a finished run records a new financial assessment,
through `financial_assessment_record` (which tells the person and re-nets their loads), for each
person whose contribution changes.

Who is included: active clients whose latest assessment is dated before the policy starts. Anyone
whose latest assessment is dated on or after that day was assessed under this policy (or a later
one) already; they are counted as `already` and left alone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, CairnError, StateConflict
from accounts.models import AuditAction, Role, User
from accounts.services import audit_record

from .. import charging
from ..models import (
    ChargingPolicy,
    FinancialAssessment,
    IncomeKind,
    ReassessmentOutcome,
    ReassessmentRow,
    ReassessmentRun,
    ReassessmentStatus,
)
from ..permissions import can_reassess
from .charging import financial_assessment_record, rules_of

PROGRESS_EVERY = 500
CSV_HEADER = [
    "client_id",
    "username",
    "name",
    "current_weekly",
    "current_full_cost",
    "new_weekly",
    "new_full_cost",
    "change",
    "outcome",
    "new_assessment_id",
    "not_recorded_because",
]


def _policy_figures(policy: ChargingPolicy) -> dict:
    """The policy's rules as plain JSON, to notice an edit between a run and its confirmation."""
    rules = rules_of(policy)
    return {
        "lower_capital_limit": f"{rules.lower_capital_limit:.2f}",
        "upper_capital_limit": f"{rules.upper_capital_limit:.2f}",
        "tariff_step": f"{rules.tariff_step:.2f}",
        "taper_percent": f"{rules.taper_percent:.2f}",
        "minimum_income_guarantee": {band: f"{amount:.2f}" for band, amount in rules.minimum_income_guarantee.items()},
        "disregarded_income": sorted(rules.disregarded_income),
    }


def reassessment_start(*, actor: User, policy: ChargingPolicy, request=None) -> ReassessmentRun:
    """Queue a run for `policy` (any policy, past, present or future) once this transaction
    commits. Finance and administrators only (403)."""
    if not can_reassess(actor):
        raise ActionNotAllowed("Only finance or an administrator can reassess everyone under a policy.")
    from ..tasks import reassessment_run_task

    with transaction.atomic():
        run = ReassessmentRun.objects.create(policy=policy, requested_by=actor, rules=_policy_figures(policy))
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=run,
            request=request,
            changes={"policy": policy.pk, "effective_from": str(policy.effective_from)},
        )
        reassessment_run_task.delay_on_commit(run.pk)
    return run


def latest_financial_assessments():
    """Each active client's financial assessments, latest first within a client, streamed: take the
    first row of each client."""
    return (
        FinancialAssessment.objects.filter(client__role=Role.CLIENT, client__is_active=True)
        .order_by("client_id", "-date", "-pk")
        .values_list(
            "pk",
            "client_id",
            "date",
            "band",
            "capital",
            "income",
            "housing_costs",
            "disability_related_expenditure",
            "declined",
            "weekly_contribution",
            "full_cost",
        )
        .iterator(chunk_size=2000)
    )


def _items(rows: list[dict], key: str) -> list[charging.Item]:
    return [charging.Item(row[key], Decimal(str(row["weekly_amount"]))) for row in rows or []]


def _outcome(old_full: bool, old: Decimal | None, new_full: bool, new: Decimal | None) -> str:
    if old_full and new_full:
        return ReassessmentOutcome.SAME
    if old_full or new_full:  # the full cost is always at least the weekly contribution
        return ReassessmentOutcome.MORE if new_full else ReassessmentOutcome.LESS
    if new > old:
        return ReassessmentOutcome.MORE
    return ReassessmentOutcome.LESS if new < old else ReassessmentOutcome.SAME


def _money(amount: Decimal | None) -> Money | None:
    return None if amount is None else Money(amount, "GBP")


def reassessment_run(*, run_id: int) -> ReassessmentRun:
    """Do the run. Changes no assessment. Safe to call again: a finished or confirmed run is left
    as it is; an interrupted one starts again from the beginning."""
    run = ReassessmentRun.objects.select_related("policy").get(pk=run_id)
    if run.status in {ReassessmentStatus.DONE, ReassessmentStatus.CONFIRMED}:
        return run
    policy = run.policy
    rules = rules_of(policy)
    labels = dict(IncomeKind.choices)
    total = (
        FinancialAssessment.objects.filter(client__role=Role.CLIENT, client__is_active=True)
        .values("client_id")
        .distinct()
        .count()
    )
    ReassessmentRow.objects.filter(run=run).delete()
    ReassessmentRun.objects.filter(pk=run.pk).update(
        status=ReassessmentStatus.RUNNING,
        total=total,
        done=0,
        started_at=timezone.now(),
        error="",
        rules=_policy_figures(policy),
    )
    counts = dict.fromkeys(["assessed", "already", "more", "less", "same", "full_cost_now"], 0)
    total_change = Decimal(0)
    done = 0
    last_client = None
    pending: list[ReassessmentRow] = []
    # Many people declare the same figures; work each distinct set out once.
    results: dict[tuple, charging.Result] = {}
    try:
        for (
            pk,
            client_id,
            date,
            band,
            capital,
            income,
            housing,
            dre,
            declined,
            old_weekly,
            old_full,
        ) in latest_financial_assessments():
            if client_id == last_client:
                continue
            last_client = client_id
            done += 1
            if date >= policy.effective_from:
                counts["already"] += 1
            else:
                key = (band, capital, json.dumps([income, housing, dre], sort_keys=True), declined)
                result = results.get(key)
                if result is None:
                    result = results[key] = charging.assess(
                        rules,
                        band=band,
                        capital=Decimal(capital),
                        income=_items(income, "kind"),
                        housing_costs=_items(housing, "description"),
                        disability_related_expenditure=_items(dre, "description"),
                        declined=declined,
                        income_labels=labels,
                    )
                new_weekly = None if result.full_cost else result.weekly_contribution
                old_weekly = None if old_full else old_weekly
                outcome = _outcome(old_full, old_weekly, result.full_cost, new_weekly)
                change = None if old_weekly is None or new_weekly is None else new_weekly - old_weekly
                counts["assessed"] += 1
                counts[outcome] += 1
                counts["full_cost_now"] += result.full_cost
                total_change += change or 0
                pending.append(
                    ReassessmentRow(
                        run=run,
                        client_id=client_id,
                        assessment_id=pk,
                        old_weekly=_money(old_weekly),
                        old_full_cost=old_full,
                        new_weekly=_money(new_weekly),
                        new_full_cost=result.full_cost,
                        change=_money(change),
                        outcome=outcome,
                    )
                )
            if done % PROGRESS_EVERY == 0:
                ReassessmentRow.objects.bulk_create(pending)
                pending = []
                ReassessmentRun.objects.filter(pk=run.pk).update(done=done)
        ReassessmentRow.objects.bulk_create(pending)
    except Exception as exc:
        ReassessmentRun.objects.filter(pk=run.pk).update(status=ReassessmentStatus.FAILED, error=str(exc)[:2000])
        raise
    run.refresh_from_db()
    run.summary = {**counts, "total_weekly_change": f"{total_change:.2f}"}
    run.total = max(total, done)
    run.done = done
    run.status = ReassessmentStatus.DONE
    run.finished_at = timezone.now()
    run.save()
    return run


def reassessment_confirm(*, actor: User, run: ReassessmentRun, request=None) -> ReassessmentRun:
    """Record the new assessments of a finished run: one for each person whose contribution
    changes, with the figures they declared, dated the day the policy starts. Finance and
    administrators only (403).

    The date is always the policy's `effective_from`, never today: the new rules apply from the
    day the policy says, and that date is the one on which `financial_assessment_record` picks
    this same policy (today could already fall under a later one). A policy that has started
    is therefore applied from its start, and the contribution charges correct any period already
    charged. An assessment cannot be dated in the future, so a run for a policy that has not
    started yet can only be confirmed from that day (409 before it).

    409 as well for a run that has not finished, or failed, or is already confirmed (once only),
    and when the policy's figures were edited after the run (run it again). A person assessed
    again since the run is left alone (their newer assessment stands), as is anyone who can no
    longer be assessed; each such row says why. One transaction: all of it or none."""
    if not can_reassess(actor):
        raise ActionNotAllowed("Only finance or an administrator can confirm a reassessment.")
    today = timezone.localdate()
    with transaction.atomic():
        run = ReassessmentRun.objects.select_for_update().select_related("policy").get(pk=run.pk)
        policy = run.policy
        if run.status == ReassessmentStatus.CONFIRMED:
            raise StateConflict("This reassessment has already been confirmed: its new assessments are recorded.")
        if run.status != ReassessmentStatus.DONE:
            raise StateConflict("Only a finished reassessment can be confirmed.")
        if policy.effective_from > today:
            raise StateConflict(
                f"This policy starts on {policy.effective_from:%-d %B %Y}. Confirm on or after that day: "
                "an assessment cannot be dated in the future."
            )
        if _policy_figures(policy) != run.rules:
            raise StateConflict("The policy's figures have changed since this run. Run it again, then confirm.")
        rows = list(
            run.rows.filter(outcome__in=[ReassessmentOutcome.MORE, ReassessmentOutcome.LESS]).select_related(
                "client", "assessment"
            )
        )
        latest = _latest_assessment_ids({row.client_id for row in rows})
        recorded = skipped = 0
        for row in rows:
            if latest.get(row.client_id) != row.assessment_id:
                row.skipped_reason = "Assessed again since this run: the newer assessment stands."
                skipped += 1
                continue
            old = row.assessment
            try:
                row.new_assessment = financial_assessment_record(
                    actor=actor,
                    client=row.client,
                    date=policy.effective_from,
                    band=old.band,
                    capital=old.capital,
                    income=old.income,
                    housing_costs=old.housing_costs,
                    disability_related_expenditure=old.disability_related_expenditure,
                    declined=old.declined,
                    request=request,
                )
            except CairnError as exc:
                row.skipped_reason = exc.message[:500]
                skipped += 1
            else:
                recorded += 1
        ReassessmentRow.objects.bulk_update(rows, ["new_assessment", "skipped_reason"], batch_size=1000)
        run.status = ReassessmentStatus.CONFIRMED
        run.confirmed_by = actor
        run.confirmed_at = timezone.now()
        run.summary = {**run.summary, "recorded": recorded, "skipped": skipped}
        run.save(update_fields=["status", "confirmed_by", "confirmed_at", "summary"])
        audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            target=run,
            request=request,
            changes={
                "from": ReassessmentStatus.DONE,
                "to": ReassessmentStatus.CONFIRMED,
                "policy": policy.pk,
                "date": str(policy.effective_from),
                "recorded": recorded,
                "skipped": skipped,
            },
        )
    return run


def _latest_assessment_ids(client_ids: set[int]) -> dict[int, int]:
    """Each of these clients' latest financial assessment, by id."""
    latest: dict[int, int] = {}
    ids = sorted(client_ids)
    for start in range(0, len(ids), 1000):
        for client_id, pk in (
            FinancialAssessment.objects.filter(client_id__in=ids[start : start + 1000])
            .order_by("client_id", "-date", "-pk")
            .values_list("client_id", "pk")
        ):
            latest.setdefault(client_id, pk)
    return latest


def reassessment_csv_lines(run: ReassessmentRun) -> Iterator[str]:
    """Every row of a run as CSV, a line at a time (for a streamed download)."""
    out = io.StringIO()
    writer = csv.writer(out)

    def line(values) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue()

    yield line(CSV_HEADER)
    rows = (
        run.rows.order_by("client__full_name", "client_id")
        .values_list(
            "client_id",
            "client__username",
            "client__full_name",
            "old_weekly",
            "old_full_cost",
            "new_weekly",
            "new_full_cost",
            "change",
            "outcome",
            "new_assessment_id",
            "skipped_reason",
        )
        .iterator(chunk_size=2000)
    )
    for client_id, username, name, old, old_full, new, new_full, change, outcome, new_id, reason in rows:
        yield line(
            [
                client_id,
                username,
                _csv_safe(name),
                "" if old is None else f"{old:.2f}",
                "yes" if old_full else "no",
                "" if new is None else f"{new:.2f}",
                "yes" if new_full else "no",
                "" if change is None else f"{change:.2f}",
                outcome,
                new_id or "",
                reason,
            ]
        )


def _csv_safe(text: str) -> str:
    """A name a spreadsheet will not run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


__all__ = [
    "can_reassess",
    "reassessment_confirm",
    "reassessment_csv_lines",
    "reassessment_run",
    "reassessment_start",
]

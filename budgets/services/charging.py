"""Charging policies and financial assessments (docs/charging.md).

An administrator adds a dated policy (next April's can wait ahead of time); finance, or the client's
social worker or team manager, records a financial assessment, which is worked out at once by the
rules of the policy in force on its date (`budgets.charging.assess`) and stored with every line of
its working. The person, and whoever acts for them, can ask for it to be reviewed; finance answers
by the policy's deadline. Every refusal is specific and writes nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, Role, User
from accounts.money import whole_pence
from accounts.permissions import acts_for
from accounts.selectors import representatives_of
from accounts.services import audit_record, notification_send
from accounts.text import FREE_TEXT_MESSAGE, NAME_MESSAGE, is_clean_free_text, is_clean_name

from .. import charging
from ..events import financial_assessment_recorded
from ..models import Band, ChargingPolicy, ContributionReview, FinancialAssessment, IncomeKind
from ..permissions import (
    can_manage_charging_policies,
    can_record_financial_assessment,
    can_view_financial_assessments,
)

MAX_AMOUNT = Decimal("100000000")
MAX_ITEMS = 30


def policy_in_force(on: datetime.date) -> ChargingPolicy | None:
    return ChargingPolicy.objects.filter(effective_from__lte=on).order_by("-effective_from").first()


def rules_of(policy: ChargingPolicy) -> charging.Rules:
    return charging.Rules(
        lower_capital_limit=policy.lower_capital_limit.amount,
        upper_capital_limit=policy.upper_capital_limit.amount,
        tariff_step=policy.tariff_step.amount,
        taper_percent=policy.taper_percent,
        minimum_income_guarantee={band: Decimal(str(value)) for band, value in policy.minimum_income_guarantee.items()},
        disregarded_income=frozenset(policy.disregarded_income or []),
    )


def _amount(value, field: str, problems: dict, *, label: str = "amount") -> Decimal:
    """A non-negative amount in whole pence (a Money, a money object's dict, a Decimal or a decimal
    string)."""
    amount = whole_pence(value)
    if amount is None or amount < 0 or amount >= MAX_AMOUNT:
        problems.setdefault(field, []).append(f"Give the {label} in pounds and pence, £0 or more (like 120.00).")
        return Decimal(0)
    return amount


def charging_policy_create(
    *,
    actor: User,
    name: str,
    effective_from: datetime.date,
    lower_capital_limit,
    upper_capital_limit,
    tariff_step,
    taper_percent,
    minimum_income_guarantee: dict,
    disregarded_income: list[str],
    review_days: int = 28,
    request=None,
) -> ChargingPolicy:
    """An administrator adds a policy (403 otherwise). It must define all six bands, know every
    disregarded kind, keep the limits in order; its date may be past or future, but not one another
    policy already starts on (400)."""
    if not can_manage_charging_policies(actor):
        raise ActionNotAllowed("Only administrators change the charging policy.")
    problems: dict[str, list[str]] = {}
    name = (name or "").strip() or f"Charging policy from {effective_from:%-d %B %Y}"
    lower = _amount(lower_capital_limit, "lower_capital_limit", problems, label="lower capital limit")
    upper = _amount(upper_capital_limit, "upper_capital_limit", problems, label="upper capital limit")
    step = _amount(tariff_step, "tariff_step", problems, label="tariff step")
    if "lower_capital_limit" not in problems and "upper_capital_limit" not in problems and lower > upper:
        problems["upper_capital_limit"] = ["The upper capital limit must not be below the lower one."]
    if "tariff_step" not in problems and step <= 0:
        problems["tariff_step"] = ["The tariff step must be more than £0 (usually £250)."]
    try:
        taper = Decimal(str(taper_percent))
    except (InvalidOperation, TypeError, ValueError):
        taper = Decimal("NaN")
    if not taper.is_finite() or not (0 <= taper <= 100) or taper != taper.quantize(Decimal("0.01")):
        problems["taper_percent"] = ["Give the taper as a percentage from 0 to 100 (usually 100)."]
    mig: dict[str, str] = {}
    if not isinstance(minimum_income_guarantee, dict):
        problems["minimum_income_guarantee"] = ["Give an amount for each band."]
    else:
        unknown = sorted(set(minimum_income_guarantee) - set(Band.values))
        missing = [band for band in Band.values if band not in minimum_income_guarantee]
        if unknown:
            problems["minimum_income_guarantee"] = [f"Unknown band: {', '.join(unknown)}."]
        elif missing:
            problems["minimum_income_guarantee"] = [f"Give an amount for every band; missing: {', '.join(missing)}."]
        else:
            for band in Band.values:
                mig[band] = f"{_amount(minimum_income_guarantee[band], 'minimum_income_guarantee', problems):.2f}"
    if not isinstance(disregarded_income, list) or not all(isinstance(k, str) for k in disregarded_income):
        problems["disregarded_income"] = ["Give a list of income kinds."]
    elif unknown_kinds := sorted(set(disregarded_income) - set(IncomeKind.values)):
        problems["disregarded_income"] = [f"Unknown income kind: {', '.join(unknown_kinds)}."]
    if not isinstance(review_days, int) or not (1 <= review_days <= 365):
        problems["review_days"] = ["Give the days to answer a review, from 1 to 365."]
    if problems:
        raise InvalidInput(errors=problems)
    try:
        with transaction.atomic():
            policy = ChargingPolicy.objects.create(
                name=name[:200],
                effective_from=effective_from,
                lower_capital_limit=Money(lower, "GBP"),
                upper_capital_limit=Money(upper, "GBP"),
                tariff_step=Money(step, "GBP"),
                taper_percent=taper,
                minimum_income_guarantee=mig,
                disregarded_income=sorted(set(disregarded_income)),
                review_days=review_days,
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                target=policy,
                request=request,
                changes={"effective_from": str(effective_from), "name": policy.name},
            )
    except IntegrityError as exc:
        raise InvalidInput("A charging policy already starts on that date.", field="effective_from") from exc
    return policy


def _items(values, field: str, problems: dict, *, kinds: bool) -> list[charging.Item]:
    if values in (None, ""):
        return []
    if not isinstance(values, list):
        problems[field] = ["Give a list."]
        return []
    if len(values) > MAX_ITEMS:
        problems[field] = [f"Give at most {MAX_ITEMS} lines."]
        return []
    items = []
    for position, value in enumerate(values, start=1):
        if not isinstance(value, dict):
            problems.setdefault(field, []).append(
                f"Line {position}: give {'a kind' if kinds else 'a description'} and a weekly amount."
            )
            continue
        if kinds:
            label = value.get("kind")
            if label not in IncomeKind.values:
                problems.setdefault(field, []).append(f"Line {position}: unknown income kind {label!r}.")
                continue
        else:
            label = str(value.get("description") or "").strip()
            if not label or len(label) > 200:
                problems.setdefault(field, []).append(f"Line {position}: say what it is (up to 200 characters).")
                continue
            if not is_clean_name(label):
                problems.setdefault(field, []).append(f"Line {position}: {NAME_MESSAGE}")
                continue
        amount = _amount(value.get("weekly_amount"), field, problems, label=f"weekly amount on line {position}")
        items.append(charging.Item(label, amount))
    return items


def _as_rows(items: list[charging.Item], key: str) -> list[dict]:
    return [{key: item.label, "weekly_amount": f"{item.weekly_amount:.2f}"} for item in items]


def financial_assessment_record(
    *,
    actor: User,
    client: User,
    band: str,
    capital=Decimal(0),
    income=None,
    housing_costs=None,
    disability_related_expenditure=None,
    declined: bool = False,
    date: datetime.date | None = None,
    request=None,
) -> FinancialAssessment:
    """Record and work out a client's financial assessment: finance, or the client's social worker
    or team manager (others who may see the client: 403; anyone else: 404). 400 for bad input, the
    date in the future or no policy in force on it."""
    if not can_record_financial_assessment(actor, client):
        if can_view_financial_assessments(actor, client):
            raise ActionNotAllowed("Only finance, or the client's social worker, records a financial assessment.")
        raise NotVisible("No such client.")
    date = date or timezone.localdate()
    problems: dict[str, list[str]] = {}
    if date > timezone.localdate():
        problems["date"] = ["The date cannot be in the future: an assessment applies from the day it is made."]
    if band not in Band.values:
        problems["band"] = ["Choose the person's circumstances (age band, single or a couple)."]
    capital_amount = _amount(capital, "capital", problems, label="capital")
    income_items = _items(income, "income", problems, kinds=True)
    housing = _items(housing_costs, "housing_costs", problems, kinds=False)
    dre = _items(disability_related_expenditure, "disability_related_expenditure", problems, kinds=False)
    policy = policy_in_force(date) if "date" not in problems else None
    if policy is None and "date" not in problems:
        problems["date"] = ["No charging policy is in force on that date."]
    if problems:
        raise InvalidInput(errors=problems)
    result = charging.assess(
        rules_of(policy),
        band=band,
        capital=capital_amount,
        income=income_items,
        housing_costs=housing,
        disability_related_expenditure=dre,
        declined=bool(declined),
        income_labels=dict(IncomeKind.choices),
    )
    with transaction.atomic():
        assessment = FinancialAssessment.objects.create(
            client=client,
            date=date,
            policy=policy,
            band=band,
            capital=Money(capital_amount, "GBP"),
            income=_as_rows(income_items, "kind"),
            housing_costs=_as_rows(housing, "description"),
            disability_related_expenditure=_as_rows(dre, "description"),
            declined=bool(declined),
            tariff_income=Money(result.tariff_income, "GBP"),
            income_counted=Money(result.income_counted, "GBP"),
            minimum_income_guarantee=Money(result.minimum_income_guarantee, "GBP"),
            weekly_contribution=None if result.full_cost else Money(result.weekly_contribution, "GBP"),
            full_cost=result.full_cost,
            explanation=[
                {"text": text, "amount": None if amount is None else f"{amount:.2f}"}
                for text, amount in result.explanation
            ],
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=assessment,
            subject=client,
            request=request,
            changes={
                "date": str(date),
                "policy": policy.pk,
                "full_cost": result.full_cost,
                "weekly_contribution": None if result.full_cost else f"{result.weekly_contribution:.2f}",
            },
        )
        client_id = client.pk
        transaction.on_commit(
            lambda: financial_assessment_recorded.send(sender=FinancialAssessment, client_id=client_id)
        )
        what = "the full cost of your care" if result.full_cost else f"£{result.weekly_contribution:,.2f} a week"
        notification_send(
            recipients=[client, *representatives_of(client)],
            message=f"Your financial assessment is done: you pay {what} towards your care from {date:%-d %B %Y}.",
            actor=actor,
            link=reverse("financial-assessment", args=[assessment.pk]),
            target=assessment,
        )
    return assessment


def contribution_review_request(
    *, actor: User, assessment: FinancialAssessment, reason: str, request=None
) -> ContributionReview:
    """The person (or whoever acts for them) asks for their assessment to be looked at again; due
    within the policy's days. One open request per assessment (409)."""
    client = assessment.client
    if not acts_for(actor, client):
        if can_view_financial_assessments(actor, client):
            raise ActionNotAllowed("Only the person, or someone acting for them, asks for a review.")
        raise NotVisible("No such financial assessment.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say what you think is wrong, or what has changed.", field="reason")
    if len(reason) > 2000:
        raise InvalidInput("Keep it under 2,000 characters.", field="reason")
    if not is_clean_free_text(reason):
        raise InvalidInput(FREE_TEXT_MESSAGE, field="reason")
    try:
        with transaction.atomic():
            review = ContributionReview.objects.create(
                assessment=assessment,
                reason=reason,
                requested_by=actor,
                due=timezone.localdate() + datetime.timedelta(days=assessment.policy.review_days),
            )
            audit_record(actor=actor, action=AuditAction.CREATE, target=review, subject=client, request=request)
            notification_send(
                recipients=User.objects.filter(role=Role.FINANCE, is_active=True),
                message=(
                    f"{client.full_name} asks for their financial assessment to be reviewed "
                    f"(due {review.due:%-d %B %Y})."
                ),
                actor=actor,
                link=reverse("financial-assessment", args=[assessment.pk]),
                target=review,
            )
    except IntegrityError as exc:
        raise StateConflict("A review of this assessment is already under way.") from exc
    return review


def contribution_review_complete(
    *,
    actor: User,
    review: ContributionReview,
    outcome: str,
    new_assessment: FinancialAssessment | None = None,
    request=None,
) -> ContributionReview:
    """Finance (or the client's social worker) answers the review: an explanation, and the new
    assessment where one was recorded. 409 when already answered."""
    client = review.assessment.client
    if not can_record_financial_assessment(actor, client):
        if can_view_financial_assessments(actor, client):
            raise ActionNotAllowed("Only finance, or the client's social worker, answers a review.")
        raise NotVisible("No such review.")
    outcome = (outcome or "").strip()
    if not outcome:
        raise InvalidInput("Say what the review found.", field="outcome")
    if not is_clean_free_text(outcome):
        raise InvalidInput(FREE_TEXT_MESSAGE, field="outcome")
    if new_assessment is not None and new_assessment.client_id != client.pk:
        raise InvalidInput("That assessment is for someone else.", field="new_assessment")
    with transaction.atomic():
        review = ContributionReview.objects.select_for_update().get(pk=review.pk)
        if not can_proceed(review.complete):
            raise StateConflict("This review has already been answered.")
        review.complete()
        review.outcome = outcome[:2000]
        review.new_assessment = new_assessment
        review.completed_by = actor
        review.completed_at = timezone.now()
        review.save()
        audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            target=review,
            subject=client,
            request=request,
            changes={
                "from": "requested",
                "to": "completed",
                "new_assessment": new_assessment.pk if new_assessment else None,
            },
        )
        notification_send(
            recipients=[client, *representatives_of(client)],
            message=f"The review of your financial assessment is done: {outcome}"[:1000],
            actor=actor,
            link=reverse("financial-assessment", args=[(new_assessment or review.assessment).pk]),
            target=review,
        )
    return review


__all__ = [
    "charging_policy_create",
    "contribution_review_complete",
    "contribution_review_request",
    "financial_assessment_record",
    "policy_in_force",
    "rules_of",
]

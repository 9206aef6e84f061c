"""Assessments: answering the RAS questions, deciding eligibility, and creating the budget."""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed
from djmoney.money import Money

from accounts.models import AuditAction, CaseloadAssignment, Role, User
from accounts.services import audit_record, caseload_take_on

from ..exceptions import (
    AssessmentClosed,
    AssessmentIncomplete,
    ClientNotVisible,
    InvalidInput,
    NotAllowed,
    NotEligible,
)
from ..models import Assessment, AssessmentStatus, PersonalBudget
from ..permissions import can_assess_client, can_edit_assessment
from ..ras import CompiledScheme, answer_errors, answered, compile_scheme, decide, modifier_errors, price
from ..selectors import active_scheme
from . import ledger
from .budgets import budget_period_check


def _apply(assessment: Assessment, compiled: CompiledScheme) -> None:
    """Recompute the decision and pricing from the answers given so far."""
    answers = answered(compiled, assessment.answers)
    pricing = price(compiled, answers, assessment.modifiers)
    decision = decide(compiled, answers, impairment=assessment.impairment, wellbeing_impact=assessment.wellbeing_impact)
    assessment.eligible = decision.eligible
    assessment.reasons = decision.reasons
    assessment.points = pricing.points
    assessment.breakdown = {**pricing.as_dict(), "unable_outcomes": decision.unable_outcomes}
    assessment.indicative_budget = Money(pricing.amount, compiled.currency)
    assessment.scheme_digest = compiled.digest


def _validate(compiled: CompiledScheme, answers: dict, modifiers: list, *, require_all: bool) -> None:
    errors = {}
    if not isinstance(answers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in answers.items()):
        raise InvalidInput('Give answers as {"question code": "answer code"}.', field="answers")
    answer_problems = answer_errors(compiled, answers, require_all=require_all)
    if answer_problems:
        errors["answers"] = [f"{code}: {msg}" for code, msgs in answer_problems.items() for msg in msgs]
    modifier_problems = modifier_errors(compiled, modifiers)
    if modifier_problems:
        errors["modifiers"] = modifier_problems
    if errors:
        raise (AssessmentIncomplete if require_all and answer_problems else InvalidInput)(errors=errors)


def assessment_create(
    *,
    actor: User,
    client: User,
    answers: dict | None = None,
    modifiers: list[str] | None = None,
    impairment: bool | None = None,
    wellbeing_impact: bool | None = None,
    require_all: bool = False,
    request=None,
) -> Assessment:
    """Start an assessment of a client with the scheme in force today.

    Enforces: the actor may assess this client (a social worker's caseload or an unallocated
    client, whom they then take on; a team manager's team) — anyone else gets `ClientNotVisible`
    (404); every code is known; with `require_all`, every question is answered. Audited.
    """
    if not can_assess_client(actor, client):
        raise ClientNotVisible()
    scheme = active_scheme()
    compiled = compile_scheme(scheme)
    answers = answers or {}
    modifiers = list(modifiers or [])
    _validate(compiled, answers, modifiers, require_all=require_all)
    with transaction.atomic():
        if (
            actor.role == Role.SOCIAL_WORKER
            and not CaseloadAssignment.objects.filter(client=client, end_date__isnull=True).exists()
        ):
            caseload_take_on(actor=actor, client=client, request=request)
        assessment = Assessment(
            client=client,
            assessor=actor,
            scheme=scheme,
            answers=answers,
            modifiers=modifiers,
            impairment=impairment,
            wellbeing_impact=wellbeing_impact,
        )
        _apply(assessment, compiled)
        assessment.save()
        audit_record(actor=actor, action=AuditAction.CREATE, target=assessment, subject=client, request=request)
    return assessment


_UNSET = object()


def assessment_update(
    *,
    actor: User,
    assessment: Assessment,
    answers: dict | None = None,
    modifiers: list[str] | object = _UNSET,
    impairment: bool | object | None = _UNSET,
    wellbeing_impact: bool | object | None = _UNSET,
    notes: str | object = _UNSET,
    request=None,
) -> Assessment:
    """Save answers (merged into those already given) and conditions on a draft assessment.

    Enforces: the actor may edit it; it is still a draft (`AssessmentClosed`, 409); codes are
    known. Locks the assessment row so two browser tabs cannot interleave. Audited.
    """
    if not can_edit_assessment(actor, assessment):
        raise NotAllowed("You cannot change this assessment.")
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().select_related("scheme").get(pk=assessment.pk)
        if assessment.status != AssessmentStatus.DRAFT:
            raise AssessmentClosed()
        compiled = compile_scheme(assessment.scheme)
        merged = {**assessment.answers, **(answers or {})}
        new_modifiers = assessment.modifiers if modifiers is _UNSET else list(modifiers)
        _validate(compiled, merged, new_modifiers, require_all=False)
        assessment.answers = merged
        assessment.modifiers = new_modifiers
        if impairment is not _UNSET:
            assessment.impairment = impairment
        if wellbeing_impact is not _UNSET:
            assessment.wellbeing_impact = wellbeing_impact
        if notes is not _UNSET:
            assessment.notes = notes
        _apply(assessment, compiled)
        assessment.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=assessment,
            subject=assessment.client,
            request=request,
            changes={"answers": answers or {}},
        )
    return assessment


def budget_period_end(start: datetime.date, months: int) -> datetime.date:
    return start + relativedelta(months=months) - datetime.timedelta(days=1)


def assessment_complete(
    *, actor: User, assessment: Assessment, period_start: datetime.date | None = None, request=None
) -> PersonalBudget:
    """Complete an eligible assessment: freeze it, create the personal budget for one period
    from `period_start` (default today; may be earlier, to backdate to the assessment, within
    the limits of `budgets.budget_period_check`) and
    allocate the indicative amount in the ledger — all in one transaction.

    Enforces: permission; still a draft (`AssessmentClosed`, 409); every question answered and
    both conditions recorded (400); eligible (`NotEligible`, 409, with the reasons). Locks the
    assessment row, so a double click completes once.
    """
    if not can_edit_assessment(actor, assessment):
        raise NotAllowed("You cannot complete this assessment.")
    if period_start is not None:  # not over, not too far back or ahead (400 on period_start)
        budget_period_check(period_start, months=ledger.policy().period_months)
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().select_related("scheme", "client").get(pk=assessment.pk)
        if not can_proceed(assessment.complete):
            raise AssessmentClosed()
        compiled = compile_scheme(assessment.scheme)
        _validate(compiled, assessment.answers, assessment.modifiers, require_all=True)
        missing = {}
        if assessment.impairment is None:
            missing["impairment"] = ["Record whether the needs arise from an impairment or illness."]
        if assessment.wellbeing_impact is None:
            missing["wellbeing_impact"] = ["Record whether there is a significant impact on wellbeing."]
        if missing:
            raise AssessmentIncomplete(errors=missing)
        _apply(assessment, compiled)
        if not assessment.eligible:
            raise NotEligible("Not eligible: " + " ".join(r for r in assessment.reasons))
        assessment.complete()
        assessment.completed_at = timezone.now()
        assessment.save()

        start = period_start or timezone.localdate()
        budget = PersonalBudget.objects.create(
            client=assessment.client,
            assessment=assessment,
            period_start=start,
            period_end=budget_period_end(start, ledger.policy().period_months),
            indicative_amount=assessment.indicative_budget,
        )
        ledger.open_budget_accounts(budget)
        ledger.allocate(
            budget=budget,
            amount=assessment.indicative_budget,
            key=f"budget:{budget.pk}:allocation",
            actor=actor,
            memo=f"Indicative budget from assessment {assessment.pk}",
        )
        audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            target=assessment,
            subject=assessment.client,
            request=request,
            changes={"status": "completed", "budget": budget.pk},
        )
        audit_record(actor=actor, action=AuditAction.CREATE, target=budget, subject=assessment.client, request=request)
    return budget


def assessment_record_not_eligible(*, actor: User, assessment: Assessment, request=None) -> Assessment:
    """Close a fully answered assessment whose decision is 'not eligible', keeping its reasons,
    so the person can be told why in writing. Refused if the answers make them eligible."""
    if not can_edit_assessment(actor, assessment):
        raise NotAllowed("You cannot close this assessment.")
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().select_related("scheme", "client").get(pk=assessment.pk)
        if not can_proceed(assessment.record_not_eligible):
            raise AssessmentClosed()
        compiled = compile_scheme(assessment.scheme)
        _validate(compiled, assessment.answers, assessment.modifiers, require_all=True)
        if assessment.impairment is None or assessment.wellbeing_impact is None:
            raise AssessmentIncomplete("Record both eligibility conditions first.")
        _apply(assessment, compiled)
        if assessment.eligible:
            raise InvalidInput("The answers make this person eligible: complete the assessment instead.")
        assessment.record_not_eligible()
        assessment.completed_at = timezone.now()
        assessment.save()
        audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            target=assessment,
            subject=assessment.client,
            request=request,
            changes={"status": "not_eligible"},
        )
    return assessment

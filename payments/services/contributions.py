"""Contribution charges and their collection (docs/charging.md).

Once a charging period has ended (the same 4-weekly grid as the budget's direct payment, or from
the budget's start), a charge is raised for it: the person's contribution for the days an approved
plan covered (`payments.schedule.contribution`, from the financial assessments in force), never more
than what the care cost in the period. Part of it was already taken from the direct payment and fund
loads (netted when they were paid); the rest is billed. A later change — a new assessment dated in
the past, a new plan — adds a correction with the differences: a charge is never edited. The daily
job raises and corrects; it is safe to run any number of times (one charge per budget and period,
under the budget's row lock).

What is billed is owed until paid: online (the gateway's hosted checkout; its completion webhook
records the payment once) or recorded by finance. Ledger: billing moves people's contributions to
"owed"; a payment moves it from "owed" back to the council's funding.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, Role, User
from accounts.money import format_money, whole_pence
from accounts.permissions import acts_for
from accounts.selectors import representatives_of
from accounts.services import audit_record, notification_send
from accounts.text import NAME_MESSAGE, is_clean_name
from budgets.models import FinancialAssessment, LedgerTransaction, PersonalBudget
from budgets.permissions import can_view_financial_assessments
from budgets.selectors import current_budget
from budgets.services import ledger
from careplans.models import CarePlan, PlanStatus

from .. import schedule
from ..gateways import CheckoutCompleted, GatewayError, gateway
from ..models import (
    ChargeKind,
    ContributionCharge,
    ContributionCheckout,
    ContributionPayment,
    ContributionPaymentMethod,
    FundKind,
    Load,
    LoadStatus,
)
from ..permissions import can_run_payments
from ..selectors import contributions_summary, fund_policy
from .funds import _charging_of, _fund_line

__all__ = [
    "contribution_checkout_completed",
    "contribution_checkout_start",
    "contribution_payment_record",
    "contributions_charge",
    "contributions_charge_due",
]

logger = logging.getLogger(__name__)

MAX_PAYMENT = Decimal("1000000")


def _anchor(budget: PersonalBudget) -> datetime.date:
    """Charges follow the budget's direct payment grid (so a period's netting lines up), else any
    fund's, else the budget's own start."""
    funds = sorted(budget.funds.all(), key=lambda f: (f.kind != FundKind.DIRECT_PAYMENT, f.pk))
    return funds[0].anchor if funds else budget.period_start


def _periods(budget: PersonalBudget, today: datetime.date, days: int) -> list[tuple[datetime.date, datetime.date]]:
    """Every period of the grid that has ended by `today` and lies in the budget's period."""
    anchor = _anchor(budget)
    found = []
    start = anchor
    while start <= budget.period_end:
        end = min(start + datetime.timedelta(days=days - 1), budget.period_end)
        if end >= today:
            break
        if end >= budget.period_start:
            found.append((max(start, budget.period_start), end))
        start += datetime.timedelta(days=days)
    return found


def _netted(budget: PersonalBudget, start: datetime.date, end: datetime.date) -> Decimal:
    """What the person's contribution already paid through loads whose period begins in this one."""
    loads = Load.objects.filter(
        account__budget=budget, status=LoadStatus.PAID, period_start__gte=start, period_start__lte=end
    ).values_list("pk", "contribution")
    keys = {f"load-contribution:{pk}": amount for pk, amount in loads}
    recorded = set(LedgerTransaction.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    return sum((Decimal(keys[key]) for key in recorded), Decimal(0))


def contributions_charge(*, budget_id: int, today: datetime.date | None = None) -> int:
    """Raise (or correct) the charge of every ended period of one budget. Returns how many charge
    rows were written. Nobody is charged before a financial assessment."""
    today = today or timezone.localdate()
    written = 0
    with transaction.atomic():
        budget = PersonalBudget.objects.select_for_update().select_related("client").get(pk=budget_id)
        plan = CarePlan.objects.filter(budget=budget, status=PlanStatus.APPROVED).prefetch_related("lines").first()
        charging = _charging_of(budget.client_id)
        if plan is None or plan.approved_at is None or not charging:
            return 0
        lines = [_fund_line(line) for line in plan.lines.all()]
        approved_on = timezone.localdate(plan.approved_at)

        def covered(day: datetime.date) -> bool:
            return day >= approved_on and schedule.has_care(lines, day)

        latest = FinancialAssessment.objects.filter(client=budget.client).order_by("-date", "-pk").first()
        existing: dict[datetime.date, list[ContributionCharge]] = {}
        for charge in ContributionCharge.objects.filter(budget=budget):
            existing.setdefault(charge.period_start, []).append(charge)
        first_assessed = min(c.since for c in charging)
        for start, end in _periods(budget, today, fund_policy().load_period_days):
            if end < first_assessed:
                continue
            cost = schedule.care_cost(lines, start, end)
            amount = schedule.contribution(charging, start, end, cost, covered)
            netted = _netted(budget, start, end)
            rows = existing.get(start, [])
            if not rows:
                written += _write(budget, start, end, amount, netted, kind=ChargeKind.CHARGE, assessment=latest)
                continue
            had_amount = sum((r.amount.amount for r in rows), Decimal(0))
            had_netted = sum((r.netted.amount for r in rows), Decimal(0))
            if amount != had_amount or netted != had_netted:
                original = next(r for r in rows if r.kind == ChargeKind.CHARGE)
                written += _write(
                    budget,
                    start,
                    end,
                    amount - had_amount,
                    netted - had_netted,
                    kind=ChargeKind.CORRECTION,
                    assessment=latest,
                    corrects=original,
                )
    return written


def _write(budget, start, end, amount, netted, *, kind, assessment, corrects=None) -> int:
    billed = amount - netted
    charge = ContributionCharge.objects.create(
        client=budget.client,
        budget=budget,
        period_start=start,
        period_end=end,
        kind=kind,
        corrects=corrects,
        amount=Money(amount, "GBP"),
        netted=Money(netted, "GBP"),
        billed=Money(billed, "GBP"),
        assessment=assessment,
        explanation=(
            "A new financial assessment or plan changed this period's contribution."
            if kind == ChargeKind.CORRECTION
            else ""
        ),
    )
    if billed:
        charge.ledger_transaction = ledger.record_contribution_billed(
            budget=budget,
            amount=Money(abs(billed), "GBP"),
            key=f"contribution-charge:{charge.pk}",
            credit=billed < 0,
            memo=f"Contribution for {start:%-d %b %Y} to {end:%-d %b %Y}"
            + (" (correction)" if kind == ChargeKind.CORRECTION else ""),
        )
        charge.save(update_fields=["ledger_transaction"])
    audit_record(
        actor=None,
        actor_username="charging job",
        action=AuditAction.CREATE,
        target=charge,
        subject=budget.client,
        changes={"period": str(start), "amount": f"{amount:.2f}", "netted": f"{netted:.2f}", "kind": kind},
    )
    if billed > 0 and kind == ChargeKind.CHARGE:
        notification_send(
            recipients=[budget.client, *representatives_of(budget.client)],
            message=f"Your contribution for {start:%-d %B} to {end:%-d %B %Y} is {format_money(billed)}.",
            actor=None,
            link=reverse("contributions", args=[budget.client_id]),
            target=charge,
        )
    return 1


def contributions_charge_due(*, today: datetime.date | None = None) -> int:
    """The daily job: raise and correct the charges of every budget with an approved plan whose
    client has a financial assessment."""
    assessed = FinancialAssessment.objects.values("client_id")
    budget_ids = (
        CarePlan.objects.filter(status=PlanStatus.APPROVED, client_id__in=assessed)
        .values_list("budget_id", flat=True)
        .distinct()
    )
    return sum(contributions_charge(budget_id=budget_id, today=today) for budget_id in sorted(set(budget_ids)))


def _pounds(value, problems: dict) -> Decimal:
    amount = whole_pence(value)
    if amount is None or amount <= 0 or amount >= MAX_PAYMENT:
        problems["amount"] = ["Give the amount in pounds and pence, more than £0 (like 120.00)."]
    return amount


def _pay(client: User, amount: Decimal, *, date, reference, method, actor, session_id=None) -> ContributionPayment:
    budget = current_budget(client)
    if budget is None:
        raise StateConflict(f"{client.full_name} has no budget to record contributions against.")
    payment = ContributionPayment.objects.create(
        client=client,
        amount=Money(amount, "GBP"),
        date=date,
        reference=reference,
        method=method,
        recorded_by=actor,
        checkout_session_id=session_id,
    )
    payment.ledger_transaction = ledger.record_contribution_paid(
        budget=budget,
        amount=payment.amount,
        key=f"contribution-payment:{payment.pk}",
        actor=actor,
        memo=f"Contribution paid ({payment.get_method_display().lower()})",
    )
    payment.save(update_fields=["ledger_transaction"])
    audit_record(
        actor=actor,
        actor_username="" if actor else "payment service",
        action=AuditAction.CREATE,
        target=payment,
        subject=client,
        changes={"amount": f"{amount:.2f}", "method": method, "reference": reference},
    )
    return payment


def contribution_payment_record(
    *, actor: User, client: User, amount, date: datetime.date, reference: str = "", request=None
) -> ContributionPayment:
    """Finance records money a person paid towards their care (403 for others; 400 for a bad
    amount, a date in the future, a long reference). Arrears fall by it."""
    if not can_run_payments(actor):
        if client.role == Role.CLIENT and can_view_financial_assessments(actor, client):
            raise ActionNotAllowed("Only finance records money received.")
        raise NotVisible("No such client.")
    if client.role != Role.CLIENT:
        raise NotVisible("No such client.")
    problems: dict[str, list[str]] = {}
    value = _pounds(amount, problems)
    if date > timezone.localdate():
        problems["date"] = ["The date cannot be in the future."]
    reference = (reference or "").strip()
    if len(reference) > 100:
        problems["reference"] = ["Keep the reference under 100 characters."]
    elif not is_clean_name(reference):
        problems["reference"] = [NAME_MESSAGE]
    if problems:
        raise InvalidInput(errors=problems)
    with transaction.atomic():
        return _pay(
            client, value, date=date, reference=reference, method=ContributionPaymentMethod.RECORDED, actor=actor
        )


def contribution_checkout_start(*, actor: User, client: User, return_url: str) -> ContributionCheckout:
    """The person (or whoever acts for them) pays what they owe online: a hosted checkout for the
    arrears now. 409 when nothing is owed or the gateway takes no payments."""
    if not acts_for(actor, client):
        if can_view_financial_assessments(actor, client):
            raise ActionNotAllowed("Only the person, or someone acting for them, pays online.")
        raise NotVisible("No such client.")
    gw = gateway()
    if not gw.takes_payments:
        raise StateConflict("Paying online is not available; pay the council another way.")
    owed = contributions_summary(client).arrears
    if owed.amount <= 0:
        raise StateConflict("Nothing is owed.")
    try:
        session = gw.checkout(
            amount=owed,
            reference=f"client-{client.pk}",
            description="Your contribution towards your care",
            success_url=f"{return_url}?paid=1",
            cancel_url=return_url,
            email=client.email,
        )
    except GatewayError as exc:
        raise StateConflict(f"Paying online did not start: {exc.message}") from exc
    return ContributionCheckout.objects.create(
        client=client, gateway=gw.name, session_id=session.id, url=session.url, amount=owed, started_by=actor
    )


def contribution_checkout_completed(change: CheckoutCompleted, gateway_name: str) -> str:
    """A hosted checkout was paid: one payment for it, whatever the number of deliveries."""
    checkout = ContributionCheckout.objects.filter(gateway=gateway_name, session_id=change.session_id).first()
    if checkout is None:
        return f"No contribution checkout {change.session_id}."
    if ContributionPayment.objects.filter(checkout_session_id=change.session_id).exists():
        return f"Checkout {change.session_id} already recorded."
    try:
        with transaction.atomic():
            payment = _pay(
                checkout.client,
                change.amount.amount,
                date=timezone.localdate(),
                reference=change.session_id,
                method=ContributionPaymentMethod.ONLINE,
                actor=None,
                session_id=change.session_id,
            )
            ContributionCheckout.objects.filter(pk=checkout.pk).update(completed_at=timezone.now())
    except IntegrityError:
        return f"Checkout {change.session_id} already recorded."
    return f"Checkout {change.session_id}: payment {payment.pk} of {payment.amount} recorded."

"""Direct payments and individual service funds: the accounts that hold them and their load
schedules (docs/direct-payments.md).

A plan's direct-payment lines make one fund for the budget, held by the client; its individual
service fund lines make one fund per provider holding them. Approving a plan (or a new version)
makes the schedule: one load per period, paid in advance. Re-making it keeps every paid load and
prices again every period not yet paid, from the first unpaid one on, from the version now in
force (`payments.schedule` has the arithmetic). Nothing here pays anything: loads are paid by
payment runs and the daily job.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible
from accounts.models import AuditAction, User
from accounts.permissions import can_manage_representatives
from accounts.selectors import representatives_of
from accounts.services import audit_record, notification_send
from budgets.models import FinancialAssessment, LedgerTransaction
from careplans.models import CarePlan, MoneyManagement, PlanLine, PlanStatus

from .. import schedule
from ..models import FundAccount, FundKind, Load, LoadStatus
from ..selectors import KIND_OF_LINE, can_see_fund, fund_policy

__all__ = ["fund_holder_set", "funds_schedule", "funds_schedule_missing", "loads_net", "loads_net_for_client"]


def _fund_line(line: PlanLine) -> schedule.FundLine:
    return schedule.FundLine(
        unit_price=line.unit_price.amount,
        start=line.start,
        end=line.end,
        units_per_week=line.units_per_week,
        quantity=line.quantity,
    )


def _first_unpaid(account: FundAccount, period_days: int) -> datetime.date:
    """The first grid period with no paid load: loads are paid in order, so after the last paid."""
    last_paid = account.loads.filter(status=LoadStatus.PAID).order_by("-period_start").first()
    if last_paid is None:
        return account.anchor
    return last_paid.period_start + datetime.timedelta(days=period_days)


def funds_schedule(*, plan_id: int) -> list[Load]:
    """Make or re-make the load schedule of an approved plan's fund lines. Idempotent: a plan whose
    schedule is already made changes nothing. A plan no longer approved (superseded, say) makes
    nothing: the version in force does. Locks the plan and the budget's funds; audited."""
    policy = fund_policy()
    with transaction.atomic():
        plan = CarePlan.objects.select_for_update(of=("self",)).select_related("budget", "client").get(pk=plan_id)
        if plan.status != PlanStatus.APPROVED or plan.approved_at is None:
            return []
        accounts = {
            (a.kind, a.holder_provider_id): a
            for a in FundAccount.objects.select_for_update().filter(budget_id=plan.budget_id)
        }
        stale = Load.objects.filter(account__budget_id=plan.budget_id, status=LoadStatus.SCHEDULED).exclude(plan=plan)
        if not stale.exists() and Load.objects.filter(plan=plan).exists():
            return []  # made already
        groups: dict[tuple[str, int | None], list[PlanLine]] = defaultdict(list)
        for line in plan.lines.exclude(money_management=MoneyManagement.COUNCIL_MANAGED):
            kind = KIND_OF_LINE[line.money_management]
            groups[(kind, line.provider_id if kind == FundKind.INDIVIDUAL_SERVICE_FUND else None)].append(line)
        now = timezone.now()
        # Every unpaid load of an earlier version goes; the version in force schedules its own.
        cancelled = stale.update(status=LoadStatus.CANCELLED, cancelled_at=now)
        approved_on = timezone.localdate(plan.approved_at)
        made: list[Load] = []
        for (kind, provider_id), lines in groups.items():
            fund_lines = [_fund_line(line) for line in lines]
            account = accounts.get((kind, provider_id))
            if account is None:
                start = schedule.anchor(fund_lines, approved_on)
                if start is None:
                    continue
                account = FundAccount.objects.create(
                    budget=plan.budget,
                    kind=kind,
                    holder=plan.client if kind == FundKind.DIRECT_PAYMENT else None,
                    holder_provider_id=provider_id,
                    anchor=start,
                )
            periods = schedule.periods(
                fund_lines,
                grid_start=account.anchor,
                from_date=_first_unpaid(account, policy.load_period_days),
                period_days=policy.load_period_days,
            )
            made += Load.objects.bulk_create(
                [
                    Load(
                        account=account,
                        plan=plan,
                        period_start=p.start,
                        period_end=p.end,
                        due=p.due,
                        amount=Money(p.amount, "GBP"),
                    )
                    for p in periods
                    if p.amount > 0
                ]
            )
        loads_net(budget_id=plan.budget_id)
        audit_record(
            actor=None,
            actor_username="payments",
            action=AuditAction.UPDATE,
            target=plan,
            subject=plan.client,
            changes={"loads_scheduled": len(made), "loads_cancelled": cancelled},
            message="Load schedule made for the plan's direct payments and individual service funds.",
        )
    return made


def _charging_of(client_id: int) -> list[schedule.Charging]:
    return [
        schedule.Charging(since=a.date, weekly=None if a.full_cost else a.weekly_contribution.amount)
        for a in FinancialAssessment.objects.filter(client_id=client_id).order_by("date", "pk")
    ]


def loads_net(*, budget_id: int) -> int:
    """Net every unpaid load of the budget's funds with the person's contribution for its period
    (docs/charging.md): the contribution is the period's share of the weekly figure of the financial
    assessment in force each day (or the care's cost, for full cost), never more than what the
    plan's care costs in the period; it is taken from the direct payment's load first, then the
    individual service funds', never more than a load. A paid load is never changed. Returns how
    many loads changed. Runs inside the caller's transaction or its own; locks the funds."""
    with transaction.atomic():
        accounts = list(FundAccount.objects.select_for_update().filter(budget_id=budget_id).select_related("budget"))
        if not accounts:
            return 0
        charging = _charging_of(accounts[0].budget.client_id)
        order = {FundKind.DIRECT_PAYMENT: 0, FundKind.INDIVIDUAL_SERVICE_FUND: 1}
        accounts.sort(key=lambda a: (order[a.kind], a.pk))
        rank = {a.pk: i for i, a in enumerate(accounts)}
        loads = sorted(
            Load.objects.select_for_update(of=("self",))
            .filter(account__in=accounts, status=LoadStatus.SCHEDULED)
            .select_related("plan"),
            key=lambda load: (load.period_start, rank[load.account_id]),
        )
        # A load whose contribution the ledger already holds (paid, then reversed) keeps it.
        settled = set(
            LedgerTransaction.objects.filter(
                idempotency_key__in=[f"load-contribution:{load.pk}" for load in loads]
            ).values_list("idempotency_key", flat=True)
        )
        plan_lines: dict[int, list[schedule.FundLine]] = {}
        taken: dict[datetime.date, Decimal] = defaultdict(Decimal)
        changed = 0
        for load in loads:
            if f"load-contribution:{load.pk}" in settled:
                taken[load.period_start] += load.contribution.amount
                continue
            if load.plan_id not in plan_lines:
                plan_lines[load.plan_id] = [_fund_line(line) for line in load.plan.lines.all()]
            lines = plan_lines[load.plan_id]
            cost = schedule.care_cost(lines, load.period_start, load.period_end)
            # Only the days the plan's lines run are charged for, as the period's charge counts them:
            # the last period of a budget may have care on one day of its 28 (it was charged a
            # whole period's weekly figures, up to that day's cost).
            owed = schedule.contribution(
                charging,
                load.period_start,
                load.period_end,
                cost,
                lambda day, lines=lines: schedule.has_care(lines, day),
            )
            gross = load.amount.amount + load.contribution.amount
            netted = schedule.netted_share(gross, owed, taken[load.period_start])
            taken[load.period_start] += netted
            if netted != load.contribution.amount:
                Load.objects.filter(pk=load.pk).update(
                    amount=Money(gross - netted, "GBP"), contribution=Money(netted, "GBP")
                )
                changed += 1
    return changed


def loads_net_for_client(*, client_id: int) -> int:
    """After a new financial assessment: re-net the unpaid loads of each of the client's budgets."""
    budget_ids = set(FundAccount.objects.filter(budget__client_id=client_id).values_list("budget_id", flat=True))
    return sum(loads_net(budget_id=budget_id) for budget_id in sorted(budget_ids))


def funds_schedule_missing() -> int:
    """The daily safety net: schedule every approved plan whose schedule was never made (a lost
    message, a worker that died): one with fund lines and no loads, or one whose budget still has
    unpaid loads of an earlier version. Returns how many plans it scheduled."""
    fund_ways = [MoneyManagement.DIRECT_PAYMENT, MoneyManagement.INDIVIDUAL_SERVICE_FUND]
    approved = CarePlan.objects.filter(status=PlanStatus.APPROVED, approved_at__isnull=False)
    never = approved.filter(lines__money_management__in=fund_ways).exclude(loads__isnull=False)
    stale_budgets = Load.objects.filter(status=LoadStatus.SCHEDULED).exclude(plan__status=PlanStatus.APPROVED)
    replaced = approved.filter(budget_id__in=stale_budgets.values("account__budget_id"))
    done = 0
    for plan_id in sorted(set(never.values_list("pk", flat=True)) | set(replaced.values_list("pk", flat=True))):
        done += bool(funds_schedule(plan_id=plan_id))
    return done


def fund_holder_set(*, actor: User, account: FundAccount, holder_id: int, request=None) -> FundAccount:
    """Name who holds a direct payment: the client, or one of their representatives (an authorised
    person when the client lacks capacity). The client's social worker or an administrator decides
    (others who may see it: 403; anyone else: 404). Loads not yet paid go to the new holder."""
    client = account.budget.client
    if account.kind != FundKind.DIRECT_PAYMENT:
        raise InvalidInput("An individual service fund is held by its provider.", field="holder")
    if not can_manage_representatives(actor, client):
        if can_see_fund(actor, account):
            raise ActionNotAllowed("Only the client's social worker or an administrator names who holds the money.")
        raise NotVisible("No such direct payment.")
    allowed = {client.pk: client, **{rep.pk: rep for rep in representatives_of(client)}}
    holder = allowed.get(holder_id)
    if holder is None:
        raise InvalidInput(f"Choose {client.full_name} or one of their representatives.", field="holder")
    with transaction.atomic():
        account = FundAccount.objects.select_for_update(of=("self",)).select_related("holder").get(pk=account.pk)
        before = account.holder
        if before.pk == holder.pk:
            return account
        account.holder = holder
        account.save(update_fields=["holder"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=account,
            subject=client,
            request=request,
            changes={"holder": [before.pk, holder.pk]},
        )
        notification_send(
            recipients=[before, holder, client],
            message=f"{holder.full_name} now holds {client.full_name}'s direct payment.",
            actor=actor,
            link=reverse("direct-payment", args=[account.budget_id]),
            target=account,
        )
    return account

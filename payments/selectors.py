"""Reads for invoices, payments, payee accounts and funds (direct payments and individual service
funds): what each person may see, run progress, remittances, fund figures and the policies."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import NotVisible
from accounts.models import Role, User
from accounts.money import round_penny
from accounts.permissions import has_role, is_admin
from accounts.selectors import client_list_visible_to
from budgets.models import PersonalBudget
from budgets.permissions import can_view_budget
from budgets.selectors import budget_get_for
from providers.models import Provider

from .models import (
    ContributionCharge,
    ContributionPayment,
    FundAccount,
    FundKind,
    FundPolicy,
    Invoice,
    InvoicePolicy,
    InvoiceStatus,
    Load,
    LoadStatus,
    PayeeAccount,
    Payment,
    PaymentRun,
    PaymentStatus,
    PrepaidCard,
    Recovery,
    RecoveryStatus,
    Spending,
)
from .permissions import can_view_invoice

# How a plan line's money management names the fund that holds it.
KIND_OF_LINE = {"direct_payment": FundKind.DIRECT_PAYMENT, "individual_service_fund": FundKind.INDIVIDUAL_SERVICE_FUND}


def fund_policy() -> FundPolicy:
    policy, _ = FundPolicy.objects.get_or_create(pk=1)
    return policy


def invoice_policy() -> InvoicePolicy:
    policy, _ = InvoicePolicy.objects.get_or_create(pk=1)
    return policy


def provider_payee_account(provider: Provider, gateway_name: str) -> PayeeAccount | None:
    """The provider's account with the gateway, if it has opened one."""
    return PayeeAccount.objects.filter(provider=provider, gateway=gateway_name).first()


def invoice_get_for(user: User, invoice_id: int) -> Invoice:
    """The invoice with its plan, client, provider and line, or `NotVisible` (404)."""
    invoice = Invoice.objects.select_related("plan__client", "provider", "line").filter(pk=invoice_id).first()
    if invoice is None or not can_view_invoice(user, invoice):
        raise NotVisible("No such invoice.")
    return invoice


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    """Invoices the user may see: their organisation's (provider staff), their own plan's
    (client) or those of the clients they act for (representative), their caseload's or team's
    (social worker, team manager), all (finance, admin)."""
    invoices = Invoice.objects.select_related("plan__client", "provider", "line").order_by("-submitted_at", "-pk")
    if has_role(user, Role.FINANCE, Role.ADMIN):
        return invoices
    if has_role(user, Role.PROVIDER):
        return invoices.filter(provider_id=user.provider_id) if user.provider_id else invoices.none()
    if has_role(user, Role.CLIENT, Role.REPRESENTATIVE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        return invoices.filter(plan__client__in=client_list_visible_to(user))
    return invoices.none()


def invoices_to_confirm_for(user: User) -> QuerySet[Invoice]:
    """Waiting for this person to confirm or dispute (client, representative, social worker, team
    manager)."""
    if not has_role(user, Role.CLIENT, Role.REPRESENTATIVE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        return Invoice.objects.none()
    return invoices_visible_to(user).filter(status=InvoiceStatus.SUBMITTED).order_by("submitted_at", "pk")


def payments_visible_to(user: User) -> QuerySet[Payment]:
    payments = Payment.objects.select_related("provider", "invoice").order_by("-pk")
    if has_role(user, Role.FINANCE, Role.ADMIN):
        return payments
    if has_role(user, Role.PROVIDER) and user.provider_id:
        return payments.filter(provider_id=user.provider_id)
    return payments.none()


def payment_run_counts(run: PaymentRun) -> dict[str, int]:
    """How many of the run's payments are in each state (one query)."""
    counts = dict(run.payments.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {
        "paid": counts.get(PaymentStatus.PAID, 0),
        "failed": counts.get(PaymentStatus.FAILED, 0),
        "reversed": counts.get(PaymentStatus.REVERSED, 0),
        "pending": counts.get(PaymentStatus.PENDING, 0) + counts.get(PaymentStatus.SENDING, 0),
        "total": sum(counts.values()),
    }


def run_remittances(run: PaymentRun) -> list[dict]:
    """Per provider: the run's paid payments and their total, for remittance advice."""
    rows: dict[int, dict] = {}
    paid = run.payments.filter(status=PaymentStatus.PAID, invoice__isnull=False)
    for payment in paid.select_related("provider", "invoice__line"):
        row = rows.setdefault(payment.provider_id, {"provider": payment.provider, "payments": [], "total": None})
        row["payments"].append(payment)
        row["total"] = payment.amount if row["total"] is None else row["total"] + payment.amount
    return sorted(rows.values(), key=lambda r: r["provider"].name)


@dataclass(frozen=True)
class FundFigures:
    """A fund's figures (docs/direct-payments.md): what has been loaded into it, spent from it and
    recovered by the council; the balance; the buffer it may hold; and the surplus above that."""

    loaded: Money
    spent: Money
    recovered: Money
    balance: Money
    buffer: Money
    surplus: Money


def fund_get_for(user: User, budget_id: int, kind: str) -> FundAccount:
    """The budget's direct payment for whoever may see the budget, or `NotVisible` (404): also
    while the budget has no direct payment yet."""
    budget = budget_get_for(user, budget_id)
    account = FundAccount.objects.filter(budget=budget, kind=kind).select_related("budget").first()
    if account is None:
        raise NotVisible("This budget has no direct payment.")
    return account


def fund_spent_from_by(user: User, budget_id: int) -> FundAccount:
    """The fund a spending record on this budget is about: for a provider's staff, the individual
    service fund their organisation holds for it; for everyone else, the budget's direct payment.
    `NotVisible` (404) when there is none the user may see."""
    if has_role(user, Role.PROVIDER) and user.provider_id:
        account = (
            FundAccount.objects.filter(
                budget_id=budget_id, kind=FundKind.INDIVIDUAL_SERVICE_FUND, holder_provider_id=user.provider_id
            )
            .select_related("budget")
            .first()
        )
        if account is None:
            raise NotVisible("No such budget.")
        return account
    return fund_get_for(user, budget_id, FundKind.DIRECT_PAYMENT)


def funds_isf_for(user: User, budget_id: int) -> list[FundAccount]:
    """The budget's individual service funds: all of them for whoever may see the budget; only its
    own for a provider's staff holding one; `NotVisible` (404) for anyone else."""
    budget = PersonalBudget.objects.filter(pk=budget_id).first()
    if budget is None:
        raise NotVisible("No such budget.")
    funds = FundAccount.objects.filter(budget=budget, kind=FundKind.INDIVIDUAL_SERVICE_FUND).order_by("pk")
    if can_view_budget(user, budget):
        return list(funds)
    if has_role(user, Role.PROVIDER) and user.provider_id and funds.filter(holder_provider_id=user.provider_id):
        return list(funds.filter(holder_provider_id=user.provider_id))
    raise NotVisible("No such budget.")


def funds_visible_for(user: User, budget_id: int) -> list[FundAccount]:
    """Every fund of the budget the user may see (the budget's viewers: all; a holding provider's
    staff: their own); `NotVisible` (404) when none."""
    budget = PersonalBudget.objects.filter(pk=budget_id).first()
    if budget is None:
        raise NotVisible("No such budget.")
    funds = [
        fund for fund in FundAccount.objects.filter(budget=budget).select_related("budget") if can_see_fund(user, fund)
    ]
    if not funds and not can_view_budget(user, budget):
        raise NotVisible("No such budget.")
    return funds


def receipt_threshold() -> Decimal:
    """Spending above this needs a receipt (`FundPolicy.receipt_required_above`)."""
    return fund_policy().receipt_required_above.amount


def can_see_fund(user: User, account: FundAccount) -> bool:
    """The budget's viewers see its funds; a holding provider's staff see the fund it holds."""
    if can_view_budget(user, account.budget):
        return True
    return (
        bool(account.holder_provider_id)
        and has_role(user, Role.PROVIDER)
        and (user.provider_id == account.holder_provider_id)
    )


def fund_spending(account: FundAccount) -> list[Spending]:
    return list(account.spending.select_related("line").order_by("-date", "-pk"))


@dataclass(frozen=True)
class LineSpending:
    """What a fund has paid out for one part of the plan, beside what that part costs in the plan
    in force (None for a line of an earlier version, or for spending not in the plan)."""

    title: str
    planned: Money | None
    spent: Money
    payments: int


def fund_spending_by_line(lines: list, spending: list[Spending]) -> list[LineSpending]:
    """The holder's spending summed by plan line, from the lists the account page already has
    (no query): each line the fund pays for in the plan in force, even with nothing spent yet,
    then lines of earlier versions, then what was not for anything in the plan."""
    currency = "GBP"
    totals: dict[int | None, list] = {}
    titles: dict[int | None, str] = {line.pk: line.title for line in lines}
    for entry in spending:
        currency = str(entry.amount.currency)
        total = totals.setdefault(entry.line_id, [Decimal(0), 0])
        total[0] += entry.amount.amount
        total[1] += 1
        if entry.line_id is not None:
            titles.setdefault(entry.line_id, entry.line.title)
    planned = {line.pk: line.cost for line in lines}
    order = [line.pk for line in lines] + [pk for pk in totals if pk is not None and pk not in planned]
    rows = [
        LineSpending(
            title=titles[pk],
            planned=planned.get(pk),
            spent=Money(totals.get(pk, [Decimal(0)])[0], currency),
            payments=totals.get(pk, [0, 0])[1],
        )
        for pk in order
    ]
    if None in totals:
        rows.append(LineSpending("Not in the plan", None, Money(totals[None][0], currency), totals[None][1]))
    return rows


def fund_loads(account: FundAccount) -> list[Load]:
    return list(account.loads.select_related("plan").order_by("period_start", "pk"))


QUIET_WEEKS = 8  # no spending for this long, with money loaded, is worth a look


def fund_flags(account: FundAccount, figures: FundFigures, loads: list[Load], spending: list[Spending]) -> list[str]:
    """What the person, their social worker and finance should look at, in plain words. Light:
    nothing here stops anything; it is what a review of the account would ask about."""
    flags = []
    if figures.surplus.amount > 0:
        flags.append(f"The account holds {figures.surplus} more than its buffer of {figures.buffer}.")
    first_paid = min((load.paid_at for load in loads if load.paid_at), default=None)
    quiet_since = timezone.now() - datetime.timedelta(weeks=QUIET_WEEKS)
    last_spent = max((entry.date for entry in spending), default=None)
    if first_paid and first_paid < quiet_since and (last_spent is None or last_spent < quiet_since.date()):
        flags.append(f"Nothing has been spent for {QUIET_WEEKS} weeks.")
    unlinked = sum(1 for entry in spending if entry.line_id is None)
    if unlinked:
        flags.append(f"{unlinked} payment{'s' if unlinked != 1 else ''} not for anything in the plan.")
    threshold = receipt_threshold()
    missing = sum(1 for entry in spending if not entry.receipt and entry.amount.amount > threshold)
    if missing:
        flags.append(f"{missing} receipt{'s' if missing != 1 else ''} missing (needed above £{threshold:,.2f}).")
    return flags


def fund_plan_in_force(loads: list[Load]):
    """The plan version whose lines the fund's schedule now follows (its latest live load's)."""
    return next((load.plan for load in reversed(loads) if load.status != LoadStatus.CANCELLED), None)


def fund_holds(account: FundAccount, line) -> bool:
    """Whether a plan line's money goes through this fund."""
    if KIND_OF_LINE.get(line.money_management) != account.kind:
        return False
    return account.kind == FundKind.DIRECT_PAYMENT or line.provider_id == account.holder_provider_id


def funds_listed_for(user: User) -> QuerySet[FundAccount]:
    """The accounts a person watches, with their figures summed in the same query: finance and
    administrators all of them; social workers and team managers their clients'; provider staff the
    individual service funds their organisation holds; nobody else any."""
    funds = FundAccount.objects.select_related("budget__client", "holder", "holder_provider")
    if has_role(user, Role.FINANCE) or is_admin(user):
        pass
    elif has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER):
        funds = funds.filter(budget__client__in=client_list_visible_to(user))
    elif has_role(user, Role.PROVIDER) and user.provider_id:
        funds = funds.filter(kind=FundKind.INDIVIDUAL_SERVICE_FUND, holder_provider_id=user.provider_id)
    else:
        return funds.none()

    def total(model, field: str, **where):
        rows = model.objects.filter(**where).values("account").annotate(t=Sum(field)).values("t")
        money = DecimalField(max_digits=14, decimal_places=2)
        return Coalesce(Subquery(rows[:1]), Value(Decimal(0)), output_field=money)

    return funds.annotate(
        loaded_total=total(Load, "amount", account=OuterRef("pk"), status=LoadStatus.PAID),
        spent_total=total(Spending, "amount", account=OuterRef("pk")),
        recovered_total=total(Recovery, "recovered", account=OuterRef("pk"), status=RecoveryStatus.COMPLETED),
    ).order_by("budget__client__full_name", "kind", "pk")


def fund_page_url(account: FundAccount) -> str:
    """The account's page: the direct payment's, or the holding provider's fund's."""
    if account.kind == FundKind.INDIVIDUAL_SERVICE_FUND:
        return reverse("individual-service-fund", args=[account.budget_id, account.holder_provider_id])
    return reverse("direct-payment", args=[account.budget_id])


def fund_card(account: FundAccount) -> PrepaidCard | None:
    return PrepaidCard.objects.filter(fund=account).first()


def fund_recoveries(account: FundAccount) -> list[Recovery]:
    return list(account.recoveries.select_related("proposed_by", "answered_by", "closed_by").order_by("-pk"))


def fund_figures(account: FundAccount, loads: list[Load] | None = None) -> FundFigures:
    """From the fund's loads, spending and completed recoveries. The buffer is the
    policy's weeks of the weekly cost of the fund's lines in the plan now in force."""
    loads = fund_loads(account) if loads is None else loads
    zero = Money(0, "GBP")
    loaded = sum((load.amount for load in loads if load.status == LoadStatus.PAID), zero)
    spent = Money(account.spending.aggregate(total=Sum("amount"))["total"] or Decimal(0), "GBP")
    recovered = Money(
        account.recoveries.filter(status=RecoveryStatus.COMPLETED).aggregate(total=Sum("recovered"))["total"]
        or Decimal(0),
        "GBP",
    )
    balance = loaded - spent - recovered
    weeks = fund_policy().buffer_weeks
    in_force = fund_plan_in_force(loads)
    weekly = Decimal(0)
    if in_force is not None:
        weekly = sum(
            (
                line.unit_price.amount * line.units_per_week
                for line in in_force.lines.all()
                if line.units_per_week is not None and fund_holds(account, line)
            ),
            Decimal(0),
        )
    buffer = Money(round_penny(weekly * weeks), "GBP")
    surplus = max(balance - buffer, zero)
    return FundFigures(loaded, spent, recovered, balance, buffer, surplus)


@dataclass(frozen=True)
class ContributionsSummary:
    """What a person pays towards their care, all of it (docs/charging.md)."""

    weekly_contribution: Money | None  # None: no assessment, or the full cost
    full_cost: bool
    charged: Money
    netted: Money
    billed: Money
    paid: Money
    arrears: Money
    charges: list[ContributionCharge]
    payments: list[ContributionPayment]


def contributions_summary(client: User) -> ContributionsSummary:
    """Every charge and correction (oldest first), every payment, and the totals: what was charged,
    taken from loads, billed and paid, and what is owed (arrears = billed − paid). A few queries,
    however many charges."""
    from budgets.selectors import latest_financial_assessment

    charges = list(ContributionCharge.objects.filter(client=client).order_by("period_start", "pk"))
    payments = list(ContributionPayment.objects.filter(client=client).order_by("-date", "-pk"))
    zero = Money(0, "GBP")

    def total(rows, field):
        return sum((getattr(row, field) for row in rows), zero)

    billed, paid = total(charges, "billed"), total(payments, "amount")
    latest = latest_financial_assessment(client)
    return ContributionsSummary(
        weekly_contribution=latest.weekly_contribution if latest is not None else None,
        full_cost=bool(latest and latest.full_cost),
        charged=total(charges, "amount"),
        netted=total(charges, "netted"),
        billed=billed,
        paid=paid,
        arrears=billed - paid,
        charges=charges,
        payments=payments,
    )


def arrears_list() -> list[dict]:
    """Finance's list: everyone who owes something, most owed first (one query)."""
    billed = dict(
        ContributionCharge.objects.values("client_id").annotate(t=Sum("billed")).values_list("client_id", "t")
    )
    paid = dict(ContributionPayment.objects.values("client_id").annotate(t=Sum("amount")).values_list("client_id", "t"))
    owing = {cid: round_penny(b - (paid.get(cid) or Decimal(0))) for cid, b in billed.items()}
    people = {u.pk: u for u in User.objects.filter(pk__in=[cid for cid, owed in owing.items() if owed > 0])}
    rows = [{"client": people[cid], "arrears": Money(owed, "GBP")} for cid, owed in owing.items() if owed > 0]
    return sorted(rows, key=lambda row: (-row["arrears"].amount, row["client"].full_name))

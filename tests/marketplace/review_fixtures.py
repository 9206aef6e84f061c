"""Builders for the review and quality-dashboard tests (PRODUCT.md §7): people with care plans in a
given state, reviews placed in time, and the rating figures worked out by hand.

Plain functions rather than fixtures (as tests/approvals/invoice_fixtures.py), so each test module
wraps them in its own fixtures. The care plan fixtures they need (`make_budget`, `make_provider`,
`make_service`) are passed in by the caller.

Plans are made the way people make them: `careplans.services.plan_create`, then the workflow
services (`plan_submit` by the client, `plan_start_review` and `plan_approve` or `plan_reject` by
their social worker). Reviews go through `marketplace.services.review_create`, with `now=` to place
them in time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, CaseloadAssignment, User
from approvals import services as workflow
from budgets.models import PersonalBudget
from careplans import services as plan_services
from careplans.models import CarePlan, PlanStatus
from marketplace.models import ProviderRatingSummary, RatingPolicy, Review
from marketplace.services import review_create
from providers.models import Provider, ServiceOffering
from tests import factories

CHECKLIST = {"outcomes": True, "costs": True, "risks": True, "management": True, "contacts": True}
# Budgets start this long ago, so reviews placed months back fall inside the time the person had support.
BUDGET_STARTED_DAYS_AGO = 200
LINE_DAYS = 28
# Audit rows that record a change (signing in, which the test client does, writes others).
WRITES = [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE, AuditAction.TRANSITION]
TEXT = "The carers came on time and did things the way I like."


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def set_policy(**fields) -> RatingPolicy:
    """Change the rating policy an administrator would change in the admin."""
    policy, _ = RatingPolicy.objects.get_or_create(pk=1)
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()
    return policy


def weekly(service: ServiceOffering, start: datetime.date, days: int = LINE_DAYS, units: str = "1") -> dict:
    return {"service": service.pk, "units_per_week": units, "start": start, "end": start + datetime.timedelta(days - 1)}


def on_caseload(client: User, social_worker: User) -> None:
    if not CaseloadAssignment.objects.filter(client=client, social_worker=social_worker).exists():
        factories.CaseloadAssignmentFactory(social_worker=social_worker, client=client)


def budget_of(make_budget, client: User) -> PersonalBudget:
    """The client's budget (made once, £10,000, started BUDGET_STARTED_DAYS_AGO)."""
    budget = PersonalBudget.objects.filter(client=client).order_by("pk").first()
    if budget is None:
        start = timezone.localdate() - datetime.timedelta(days=BUDGET_STARTED_DAYS_AGO)
        budget = make_budget(client, "10000.00", period_start=start)
    return budget


def approve(plan: CarePlan, *, submitter: User, reviewer: User) -> CarePlan:
    plan = workflow.plan_submit(actor=submitter, plan=plan)
    plan = workflow.plan_start_review(actor=reviewer, plan=plan)
    return workflow.plan_approve(actor=reviewer, plan=plan, checklist=dict(CHECKLIST))


def plan_with(
    make_budget,
    client: User,
    social_worker: User,
    services: list[ServiceOffering],
    *,
    status: str = PlanStatus.APPROVED,
    replacement: list[ServiceOffering] | None = None,
) -> CarePlan:
    """A plan of `client` buying `services` (1 unit a week for four weeks from the budget's start),
    taken through the workflow to `status`: draft, submitted, in_review, rejected, approved or
    superseded (approved, then replaced by an approved new version buying `replacement`)."""
    on_caseload(client, social_worker)
    budget = budget_of(make_budget, client)
    start = budget.period_start
    plan = plan_services.plan_create(
        actor=client,
        budget=budget,
        outcomes=["Stay living in my own home"],
        lines=[weekly(s, start) for s in services],
        risks="Falls: a pendant alarm",
        contacts="My daughter",
    )
    if status == PlanStatus.DRAFT:
        return plan
    plan = workflow.plan_submit(actor=client, plan=plan)
    if status == PlanStatus.SUBMITTED:
        return plan
    plan = workflow.plan_start_review(actor=social_worker, plan=plan)
    if status == PlanStatus.IN_REVIEW:
        return plan
    if status == PlanStatus.REJECTED:
        return workflow.plan_reject(actor=social_worker, plan=plan, comment="This is not what was assessed.")
    plan = workflow.plan_approve(actor=social_worker, plan=plan, checklist=dict(CHECKLIST))
    if status == PlanStatus.APPROVED:
        return plan
    assert status == PlanStatus.SUPERSEDED, status
    assert replacement, "a superseded plan needs the services its new version buys instead"
    new = plan_services.plan_new_version(actor=client, plan=plan)
    plan_services.plan_update(actor=client, plan=new, lines=[weekly(s, start) for s in replacement])
    approve(new, submitter=client, reviewer=social_worker)
    plan = reload(plan)
    assert plan.status == PlanStatus.SUPERSEDED
    return plan


def review(client: User, provider: Provider, rating, *, ago: float = 0, text: str = TEXT, **dims) -> Review:
    """`client` reviews `provider`, `ago` days ago (through the service)."""
    return review_create(actor=client, provider=provider, rating=rating, text=text, now=days_ago(ago), **dims)


def bayes(own: list[int], everyone: list[int], weight: int | Decimal = 5) -> Decimal:
    """The score by hand: (C·m + sum) / (C + n), m the mean of every visible review, to 2 places."""
    m = Decimal(sum(everyone)) / len(everyone)
    value = (Decimal(weight) * m + sum(own)) / (Decimal(weight) + len(own))
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def snapshot(provider: Provider) -> tuple:
    """What a refused call must leave as it was: reviews, audit rows of changes, the provider's figures."""
    summary = ProviderRatingSummary.objects.filter(provider=provider).values().first()
    if summary:
        summary.pop("updated_at")
    stored = Provider.objects.filter(pk=provider.pk).values_list("rating", "review_count").get()
    return (
        list(Review.objects.order_by("pk").values_list("pk", "rating", "hidden", "answer")),
        AuditEvent.objects.filter(action__in=WRITES).count(),
        summary,
        stored,
    )


# --- the quality dashboard's world -------------------------------------------------------------

BEFORE_DAYS_AGO = 150  # in the 90 days before the last 90
RECENT_DAYS_AGO = 30  # in the last 90 days

# name → (regulator rating, star ratings 90–180 days ago, star ratings in the last 90 days).
# Each list's n-th rating is given by the n-th client, so no one reviews a provider twice in 90 days.
DASHBOARD = {
    "Falling Care": ("good", [5, 5, 4, 4], [4, 4, 4]),  # 4.50 → 4.00: a fall of exactly 0.5
    "Steady Care": ("outstanding", [5, 5, 4, 4, 4], [4, 4, 4]),  # 4.40 → 4.00: 0.4, not enough
    "Thin Recent Care": ("good", [5, 5, 5], [3, 3]),  # a big fall, but 2 recent reviews
    "Thin Before Care": ("good", [5, 5], [3, 3, 3]),  # a big fall, but 2 reviews before
    "Poor Care": ("good", [1, 1, 1, 1, 1], [1, 2, 1]),  # low, and the regulator says good
    "Surprising Care": ("inadequate", [5, 5, 5, 5, 5], [5, 5, 5]),  # regulator inadequate, clients love it
    "Honest Care": ("inadequate", [2, 2, 2], [3, 2, 2]),  # inadequate and middling: they agree
    "Middling Care": ("requires_improvement", [3, 3, 3], [3, 3, 3]),
}
DASHBOARD_CLIENTS = max(max(len(before), len(recent)) for _, before, recent in DASHBOARD.values())


@dataclass
class Dashboard:
    providers: dict[str, Provider]
    clients: list[User]
    social_worker: User
    reviews: dict[str, list[Review]] = field(default_factory=dict)

    def provider(self, name: str) -> Provider:
        return reload(self.providers[name])

    def ratings(self, name: str) -> list[int]:
        _, before, recent = DASHBOARD[name]
        return before + recent

    def everyone(self) -> list[int]:
        return [r for name in DASHBOARD for r in self.ratings(name)]

    def score(self, name: str) -> Decimal:
        return bayes(self.ratings(name), self.everyone())


def build_dashboard(*, make_budget, make_provider, make_service) -> Dashboard:
    """Eight verified providers, each with one service; five clients whose approved plans buy from
    all of them; their reviews as in DASHBOARD; then the nightly refresh, so every stored score uses
    the same prior."""
    from marketplace.services import ratings_refresh_all

    providers, offerings = {}, []
    for name, (regulator, _, _) in DASHBOARD.items():
        providers[name] = make_provider(name=name, regulator_rating=regulator)
        offerings.append(make_service(f"Visits by {name}", "20.00", provider=providers[name]))
    social_worker = factories.SocialWorkerFactory(full_name="Sam Patel")
    clients = [factories.ClientFactory(full_name=f"Client {n + 1}") for n in range(DASHBOARD_CLIENTS)]
    for client in clients:
        plan_with(make_budget, client, social_worker, offerings)
    world = Dashboard(providers=providers, clients=clients, social_worker=social_worker)
    for name, (_, before, recent) in DASHBOARD.items():
        world.reviews[name] = [
            review(clients[n], providers[name], stars, ago=BEFORE_DAYS_AGO) for n, stars in enumerate(before)
        ] + [review(clients[n], providers[name], stars, ago=RECENT_DAYS_AGO) for n, stars in enumerate(recent)]
    ratings_refresh_all()
    return world

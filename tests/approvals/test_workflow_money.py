"""What the workflow does to the budget's ledger (PRODUCT.md §3-§5, API.md "Care plans").

Approval commits the plan's total (once); a new version of an approved plan may use the old
version's commitment, which its approval releases while superseding the old version, all in one
transaction; the team manager may set the final budget on approval, in the same transaction.
After every step the running balances agree with the postings.
"""

from decimal import Decimal

import pytest
from django.db import transaction
from django_fsm_log.models import StateLog
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals import services
from approvals.exceptions import WrongPlanState
from approvals.models import PlanReview, ReviewOutcome
from budgets.exceptions import BudgetExceeded
from budgets.models import BudgetPolicy, LedgerTransaction, PersonalBudget, TransactionKind
from budgets.selectors import budget_figures, budget_figures_from_postings
from careplans.models import CarePlan, PlanStatus
from careplans.selectors import plan_available
from careplans.services import plan_new_version, plan_update

pytestmark = pytest.mark.django_db

S = PlanStatus
CHECKLIST = {"outcomes": True, "costs": True, "risks": True, "management": True, "contacts": True}


def gbp(amount) -> Money:
    return Money(Decimal(str(amount)), "GBP")


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def act(api_client, plan, action: str, body: dict | None = None):
    return api_client.post(f"/api/v1/plans/{plan.pk}/{action}/", body or {}, format="json")


def assert_ledger_balances(budget) -> None:
    assert budget_figures_from_postings(budget) == budget_figures(budget)


def ledger_state(budget) -> tuple:
    """The budget's figures and every ledger row: what a refused call must leave as it was."""
    budget = reload(budget)
    return (
        budget_figures(budget),
        LedgerTransaction.objects.count(),
        budget.final_amount,
        budget.final_reason,
    )


@pytest.fixture
def one_off(make_service):
    """`one_off(budget, "6000.00")`: the line dict of a one-off service costing exactly that."""

    def make(budget, amount: str) -> dict:
        service = make_service(f"One-off support {amount}", amount, unit="item")
        return {"service": service.pk, "quantity": "1", "start": budget.period_start}

    return make


@pytest.fixture
def costed_plan(make_plan_alongside, one_off, client_user):
    """`costed_plan(budget, amount)`: Ruth's draft costing exactly `amount`, drafted by Ruth."""

    def make(budget, amount: str, actor=None):
        plan = make_plan_alongside(
            actor or client_user, budget, lines=[one_off(budget, amount)], risks="Falls", contacts="My daughter"
        )
        assert plan.total_cost == gbp(amount)
        return plan

    return make


@pytest.fixture
def into_review(client_user, social_worker):
    """`into_review(plan)`: Ruth submits, Sam starts the review (so Sam or Taylor may decide)."""

    def run(plan):
        services.plan_submit(actor=client_user, plan=plan)
        return services.plan_start_review(actor=social_worker, plan=plan)

    return run


@pytest.fixture
def approved(into_review, team_manager):
    """`approved(plan)`: through review and approved by Taylor (unlimited authority)."""

    def run(plan):
        into_review(plan)
        return services.plan_approve(actor=team_manager, plan=plan, checklist=dict(CHECKLIST))

    return run


# --- approval commits the plan's cost --------------------------------------------------------


def test_approval_commits_the_plan_total_in_the_ledger(api_as, costed_plan, budget, into_review, social_worker):
    plan = into_review(costed_plan(budget, "6000.00"))
    before = budget_figures(budget)

    response = act(api_as(social_worker), plan, "approve", {"checklist": CHECKLIST})

    assert response.status_code == 200, response.json()
    after = budget_figures(budget)
    assert after.committed == before.committed + gbp("6000.00")
    assert after.available == before.available - gbp("6000.00")
    assert after.allocated == before.allocated == gbp("10000.00")
    plan = reload(plan)
    assert plan.status == S.APPROVED
    assert plan.committed_amount == plan.total_cost == gbp("6000.00")
    assert plan.approved_at is not None
    commitment = LedgerTransaction.objects.get(kind=TransactionKind.COMMITMENT, budget=budget)
    assert commitment.idempotency_key == f"plan:{plan.pk}:approve"
    assert_ledger_balances(budget)


def test_a_referral_to_a_senior_commits_nothing_until_the_senior_approves(
    make_budget, client_user, caseload, costed_plan, into_review, social_worker, team_manager
):
    budget = make_budget(client_user, "60000.00")
    plan = into_review(costed_plan(budget, "25000.00"))

    services.plan_approve(actor=social_worker, plan=plan, checklist=dict(CHECKLIST))

    assert reload(plan).status == S.AWAITING_SENIOR_APPROVAL
    assert budget_figures(budget).committed == gbp("0")
    services.plan_approve(actor=team_manager, plan=plan, checklist=dict(CHECKLIST))
    assert budget_figures(budget).committed == gbp("25000.00")
    assert_ledger_balances(budget)


def test_approving_an_approved_plan_again_is_a_conflict_and_commits_nothing_more(
    api_as, costed_plan, budget, approved, team_manager
):
    plan = approved(costed_plan(budget, "6000.00"))
    before = ledger_state(budget)
    logs = StateLog.objects.for_(plan).count()

    with pytest.raises(WrongPlanState):
        services.plan_approve(actor=team_manager, plan=plan, checklist=dict(CHECKLIST))
    assert act(api_as(team_manager), plan, "approve", {"checklist": CHECKLIST}).status_code == 409

    assert ledger_state(budget) == before
    assert budget_figures(budget).committed == gbp("6000.00")
    assert LedgerTransaction.objects.filter(kind=TransactionKind.COMMITMENT).count() == 1
    assert StateLog.objects.for_(plan).count() == logs
    assert reload(plan).committed_amount == gbp("6000.00")


# --- a new version of an approved plan ---------------------------------------------------------


@pytest.fixture
def new_version(one_off, client_user):
    """`new_version(approved_plan, amount)`: Ruth's next version, its lines replaced by one
    costing exactly `amount`."""

    def make(plan, amount: str):
        new = plan_new_version(actor=client_user, plan=plan)
        plan_update(actor=client_user, plan=new, lines=[one_off(plan.budget, amount)])
        new = reload(new)
        assert new.total_cost == gbp(amount)
        return new

    return make


def test_a_new_version_may_cost_more_than_is_available_up_to_the_old_commitment(
    costed_plan, budget, approved, new_version, client_user
):
    old = approved(costed_plan(budget, "6000.00"))
    new = new_version(old, "9000.00")

    assert budget_figures(budget).available == gbp("4000.00")
    assert plan_available(new) == gbp("10000.00")
    services.plan_submit(actor=client_user, plan=new)
    assert reload(new).status == S.SUBMITTED


def test_a_new_version_costing_more_than_available_plus_the_old_commitment_cannot_be_submitted(
    costed_plan, budget, approved, new_version, client_user
):
    old = approved(costed_plan(budget, "6000.00"))
    new = new_version(old, "10000.01")
    before = ledger_state(budget)

    with pytest.raises(BudgetExceeded):
        services.plan_submit(actor=client_user, plan=new)

    assert reload(new).status == S.DRAFT
    assert not PlanReview.objects.filter(plan=new).exists()
    assert ledger_state(budget) == before


def test_approving_a_new_version_releases_the_old_commitment_commits_the_new_and_supersedes_the_old(
    api_as, costed_plan, budget, approved, new_version, client_user, social_worker, team_manager
):
    old = approved(costed_plan(budget, "6000.00"))
    new = new_version(old, "9000.00")
    assert act(api_as(client_user), new, "submit").status_code == 200
    assert act(api_as(social_worker), new, "start_review").status_code == 200

    response = act(api_as(team_manager), new, "approve", {"checklist": CHECKLIST})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == S.APPROVED
    old, new = reload(old), reload(new)
    assert old.status == S.SUPERSEDED
    assert new.status == S.APPROVED
    assert new.committed_amount == gbp("9000.00")
    figures = budget_figures(budget)
    assert figures.committed == gbp("9000.00")
    assert figures.available == gbp("1000.00")
    assert figures.allocated == gbp("10000.00")
    release = LedgerTransaction.objects.get(kind=TransactionKind.RELEASE, budget=budget)
    assert release.idempotency_key == f"plan:{old.pk}:superseded"
    assert LedgerTransaction.objects.filter(kind=TransactionKind.COMMITMENT, budget=budget).count() == 2
    log = StateLog.objects.for_(old).order_by("-timestamp", "-id").first()
    assert (log.source_state, log.state, log.by_id) == (S.APPROVED, S.SUPERSEDED, team_manager.pk)
    assert_ledger_balances(budget)


def test_a_cheaper_new_version_gives_money_back_to_the_budget(
    costed_plan, budget, approved, new_version, into_review, team_manager
):
    old = approved(costed_plan(budget, "6000.00"))
    new = new_version(old, "2500.00")
    into_review(new)

    services.plan_approve(actor=team_manager, plan=new, checklist=dict(CHECKLIST))

    assert reload(old).status == S.SUPERSEDED
    assert budget_figures(budget).committed == gbp("2500.00")
    assert budget_figures(budget).available == gbp("7500.00")
    assert_ledger_balances(budget)


@pytest.fixture
def squeezed_new_version(costed_plan, budget, approved, new_version, into_review):
    """Old version £6,000 approved; new version £9,000 in review; then another plan of the same
    budget takes £1,500, so the new version now needs £500 more than available + old commitment."""
    old = approved(costed_plan(budget, "6000.00"))
    new = new_version(old, "9000.00")
    into_review(new)
    approved(costed_plan(budget, "1500.00"))
    assert budget_figures(budget).available == gbp("2500.00")
    return old, new


def test_a_new_version_that_no_longer_fits_is_refused_and_nothing_changes(
    api_as, squeezed_new_version, budget, team_manager
):
    old, new = squeezed_new_version
    before = ledger_state(budget)
    logs = (StateLog.objects.for_(old).count(), StateLog.objects.for_(new).count())

    response = act(api_as(team_manager), new, "approve", {"checklist": CHECKLIST})

    assert response.status_code == 409
    assert ledger_state(budget) == before
    old, new = reload(old), reload(new)
    assert old.status == S.APPROVED and old.committed_amount == gbp("6000.00")
    assert new.status == S.IN_REVIEW and new.committed_amount is None and new.approved_at is None
    assert (StateLog.objects.for_(old).count(), StateLog.objects.for_(new).count()) == logs
    assert PlanReview.objects.get(plan=new).decided_at is None
    assert_ledger_balances(budget)


def test_the_contingency_lets_a_new_version_exceed_what_is_free_by_that_percentage(
    squeezed_new_version, budget, team_manager
):
    old, new = squeezed_new_version
    # 5% of the £10,000 allocation: exactly the £500 the new version is short.
    BudgetPolicy.objects.update_or_create(pk=1, defaults={"contingency_percent": Decimal("5")})

    services.plan_approve(actor=team_manager, plan=new, checklist=dict(CHECKLIST))

    assert reload(old).status == S.SUPERSEDED
    assert reload(new).status == S.APPROVED
    figures = budget_figures(budget)
    assert figures.committed == gbp("10500.00")  # 9,000 + 1,500
    assert figures.available == gbp("-500.00")
    assert_ledger_balances(budget)


# --- the final budget ------------------------------------------------------------------------


def test_team_manager_sets_the_final_budget_on_approval_and_the_allocation_follows(
    api_as, costed_plan, budget, into_review, team_manager
):
    plan = into_review(costed_plan(budget, "6000.00"))

    response = act(
        api_as(team_manager),
        plan,
        "approve",
        {
            "checklist": CHECKLIST,
            "final_budget": {"amount": "12000.00", "currency": "GBP"},
            "final_budget_reason": "Night support the RAS does not price",
        },
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == S.APPROVED
    budget = reload(budget)
    assert budget.final_amount == gbp("12000.00")
    assert budget.final_reason == "Night support the RAS does not price"
    assert budget.final_set_by == team_manager
    figures = budget_figures(budget)
    assert figures.allocated == gbp("12000.00")
    assert figures.committed == gbp("6000.00")
    assert figures.available == gbp("6000.00")
    adjustment = LedgerTransaction.objects.get(kind=TransactionKind.ADJUSTMENT, budget=budget)
    assert "12,000.00" in adjustment.memo
    assert_ledger_balances(budget)


def test_the_final_budget_and_the_approval_are_one_transaction(api_as, costed_plan, budget, into_review, team_manager):
    # Lowering the budget to £5,000 is itself allowed, but then the £6,000 plan no longer fits:
    # the approval is refused and the lowered budget must not survive it.
    plan = into_review(costed_plan(budget, "6000.00"))
    before = ledger_state(budget)

    response = act(
        api_as(team_manager),
        plan,
        "approve",
        {
            "checklist": CHECKLIST,
            "final_budget": {"amount": "5000.00", "currency": "GBP"},
            "final_budget_reason": "Reassessed",
        },
    )

    assert response.status_code == 409
    assert ledger_state(budget) == before
    assert reload(budget).final_amount is None
    assert reload(plan).status == S.IN_REVIEW


def test_social_worker_cannot_set_the_final_budget_and_the_plan_is_not_approved(
    api_as, costed_plan, budget, into_review, social_worker
):
    plan = into_review(costed_plan(budget, "6000.00"))
    before = ledger_state(budget)

    response = act(
        api_as(social_worker),
        plan,
        "approve",
        {
            "checklist": CHECKLIST,
            "final_budget": {"amount": "12000.00", "currency": "GBP"},
            "final_budget_reason": "Night support",
        },
    )

    assert response.status_code == 403
    assert ledger_state(budget) == before
    plan = reload(plan)
    assert plan.status == S.IN_REVIEW and plan.committed_amount is None
    assert PlanReview.objects.get(plan=plan).decided_at is None


def test_social_worker_cannot_set_the_final_budget_when_referring_a_plan_to_a_senior(
    api_as, make_budget, client_user, caseload, costed_plan, into_review, social_worker
):
    budget = make_budget(client_user, "30000.00")
    plan = into_review(costed_plan(budget, "25000.00"))

    response = act(
        api_as(social_worker),
        plan,
        "approve",
        {
            "checklist": CHECKLIST,
            "final_budget": {"amount": "40000.00", "currency": "GBP"},
            "final_budget_reason": "Night support",
        },
    )

    assert response.status_code == 403
    assert reload(plan).status == S.IN_REVIEW


@pytest.mark.parametrize("reason", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_a_final_budget_without_a_reason_is_400_and_changes_nothing(
    api_as, costed_plan, budget, into_review, team_manager, reason
):
    plan = into_review(costed_plan(budget, "6000.00"))
    before = ledger_state(budget)
    body = {"checklist": CHECKLIST, "final_budget": {"amount": "12000.00", "currency": "GBP"}}
    if reason is not None:
        body["final_budget_reason"] = reason

    response = act(api_as(team_manager), plan, "approve", body)

    assert response.status_code == 400, response.json()
    assert ledger_state(budget) == before
    assert reload(plan).status == S.IN_REVIEW
    assert PlanReview.objects.get(plan=plan).decided_at is None


def test_a_final_budget_without_a_reason_names_the_final_budget_reason_field(
    api_as, costed_plan, budget, into_review, team_manager
):
    plan = into_review(costed_plan(budget, "6000.00"))
    response = act(
        api_as(team_manager),
        plan,
        "approve",
        {"checklist": CHECKLIST, "final_budget": {"amount": "12000.00", "currency": "GBP"}},
    )
    assert response.status_code == 400
    assert "final_budget_reason" in response.json()


# --- the money invariant over random plans -----------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    allocation=st.integers(min_value=100, max_value=6_000_000),
    versions=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=4),
)
def test_the_budget_balances_and_commits_exactly_the_latest_approved_version(
    make_budget, make_service, make_plan, client_user, social_worker, team_manager, caseload, allocation, versions
):
    """For random plan totals within the budget: approve one, then new versions each approved in
    turn. After each approval: available + committed == allocated (committed includes paid, and
    nothing is paid), the running balances equal the postings, and committed is exactly the total
    of the one approved version."""
    with transaction.atomic():
        budget = make_budget(client_user, f"{Decimal(allocation) / 100:.2f}")
        allocated = budget_figures(budget).allocated
        plan = None
        for i, share in enumerate(versions):
            pence = max(1, round(allocation * share))
            total = gbp(Decimal(pence) / 100)
            service = make_service(f"Support {i}", f"{total.amount:.2f}", unit="item")
            line = {"service": service.pk, "quantity": "1", "start": budget.period_start}
            if plan is None:
                plan = make_plan(client_user, budget, lines=[line])
            else:
                plan = plan_new_version(actor=client_user, plan=plan)
                plan_update(actor=client_user, plan=plan, lines=[line])
            services.plan_submit(actor=client_user, plan=plan)
            services.plan_start_review(actor=social_worker, plan=plan)
            services.plan_approve(actor=team_manager, plan=plan, checklist=dict(CHECKLIST))

            figures = budget_figures(budget)
            assert figures.paid == gbp(0)
            assert figures.available + figures.committed == figures.allocated == allocated
            assert figures.committed == total
            assert budget_figures_from_postings(budget) == figures
            live = CarePlan.objects.filter(budget=budget, status=S.APPROVED)
            assert [p.pk for p in live] == [plan.pk]
            assert reload(plan).committed_amount == total
            assert CarePlan.objects.filter(budget=budget).exclude(pk=plan.pk).exclude(status=S.SUPERSEDED).count() == 0
        assert PersonalBudget.objects.filter(pk=budget.pk).exists()
        assert PlanReview.objects.filter(plan__budget=budget, outcome=ReviewOutcome.APPROVED).count() == len(versions)
        transaction.set_rollback(True)

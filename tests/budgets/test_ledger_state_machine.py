"""Money invariants of the ledger under random sequences of movements (hypothesis, stateful).

The machine keeps its own model of each budget's three balances and drives the real services
with random penny amounts, retries with old keys and reversals. After every step: every
transaction balances, the running balances equal the postings and the model, available never
goes below zero (no contingency), paid <= committed <= allocated, earlier postings never change,
and a refused call writes nothing.
"""

import itertools
import uuid
from dataclasses import dataclass, field, fields
from decimal import Decimal

import pytest
from django.db.models import Sum
from djmoney.money import Money
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.money import round_penny
from budgets.exceptions import AlreadyReversed, BudgetExceeded, IdempotencyConflict
from budgets.models import BudgetPolicy, LedgerPosting, LedgerTransaction
from budgets.selectors import Figures, budget_figures, budget_figures_from_postings
from budgets.services import ledger
from tests import factories

AVAILABLE, COMMITTED, PAID = "available", "committed", "paid"

# An amount is chosen relative to the limit that applies: anything, exactly the limit, or one
# penny more than it, so both sides of every boundary are reached often.
amounts = st.tuples(st.sampled_from(["any", "limit", "over"]), st.integers(min_value=1, max_value=150_000))


def pounds(pence: int) -> Money:
    return Money(Decimal(pence) / 100, "GBP")


def to_pennies(figures: Figures) -> Figures:
    return Figures(*(Money(round_penny(getattr(figures, f.name).amount), "GBP") for f in fields(Figures)))


def resolve(choice, limit_pence: int) -> int:
    mode, pence = choice
    if mode == "limit":
        return max(limit_pence, 1)
    if mode == "over":
        return max(limit_pence, 0) + 1
    return pence


@dataclass
class Movement:
    """One transaction the machine made, and what it did to the budget's balances (pence)."""

    tx_id: int
    key: str
    service: str
    budget_index: int
    pence: int  # for a reversal: the original's tx id
    effect: dict[str, int]
    reversed: bool = False


@dataclass
class Model:
    balances: list[dict[str, int]] = field(default_factory=list)


SERVICES = {
    "allocate": (ledger.allocate, {AVAILABLE: 1}),
    "commit": (ledger.commit, {AVAILABLE: -1, COMMITTED: 1}),
    "release": (ledger.release, {COMMITTED: -1, AVAILABLE: 1}),
    "record_payment": (ledger.record_payment, {COMMITTED: -1, PAID: 1}),
    "reclaim": (ledger.reclaim, {AVAILABLE: -1}),
}


class LedgerMachine(RuleBasedStateMachine):
    # Set by the test that runs the machine: the `make_budget` fixture.
    make_budget = None

    def __init__(self):
        super().__init__()
        self.prefix = f"sm:{uuid.uuid4().hex}"
        self.counter = itertools.count()
        self.budgets = []
        self.model = Model()
        self.history: list[Movement] = []
        self.seen_postings: dict[int, tuple] = {}

    def key(self) -> str:
        return f"{self.prefix}:{next(self.counter)}"

    # --- set-up ---------------------------------------------------------------------------------

    @initialize(
        allocations=st.lists(st.integers(min_value=1, max_value=300_000), min_size=1, max_size=2),
    )
    def open_budgets(self, allocations):
        for pence in allocations:
            budget = type(self).make_budget(factories.ClientFactory(), f"{Decimal(pence) / 100:.2f}")
            self.budgets.append(budget)
            self.model.balances.append({AVAILABLE: pence, COMMITTED: 0, PAID: 0})
            tx = LedgerTransaction.objects.get(budget=budget)
            self.history.append(
                Movement(tx.pk, tx.idempotency_key, "allocate", len(self.budgets) - 1, pence, {AVAILABLE: pence})
            )
        self.remember_postings()

    # --- helpers --------------------------------------------------------------------------------

    def budget_ids(self):
        return [b.pk for b in self.budgets]

    def counts(self):
        return (
            LedgerTransaction.objects.filter(budget_id__in=self.budget_ids()).count(),
            LedgerPosting.objects.filter(transaction__budget_id__in=self.budget_ids()).count(),
        )

    def remember_postings(self):
        for row in LedgerPosting.objects.filter(transaction__budget_id__in=self.budget_ids()).values_list(
            "id", "transaction_id", "account_id", "amount", "amount_currency"
        ):
            self.seen_postings.setdefault(row[0], row)

    def limit(self, service: str, balances: dict[str, int]) -> int | None:
        """The most this service may move now, or None when there is no limit (allocation)."""
        return {
            "allocate": None,
            "commit": balances[AVAILABLE],
            "release": balances[COMMITTED],
            "record_payment": balances[COMMITTED],
            "reclaim": balances[AVAILABLE],
        }[service]

    def move(self, service: str, index: int, choice):
        index %= len(self.budgets)
        balances = self.model.balances[index]
        limit = self.limit(service, balances)
        pence = resolve(choice, limit if limit is not None else choice[1])
        call, signs = SERVICES[service]
        key = self.key()
        before = self.counts()
        if limit is not None and pence > limit:
            with pytest.raises(BudgetExceeded):
                call(budget=self.budgets[index], amount=pounds(pence), key=key)
            assert self.counts() == before
            assert not LedgerTransaction.objects.filter(idempotency_key=key).exists()
            return
        tx = call(budget=self.budgets[index], amount=pounds(pence), key=key)
        effect = {account: sign * pence for account, sign in signs.items()}
        for account, delta in effect.items():
            balances[account] += delta
        self.history.append(Movement(tx.pk, key, service, index, pence, effect))
        assert self.counts() == (before[0] + 1, before[1] + 2)
        self.remember_postings()

    # --- rules ----------------------------------------------------------------------------------

    @rule(index=st.integers(min_value=0, max_value=1), choice=amounts)
    def allocate(self, index, choice):
        self.move("allocate", index, choice)

    @rule(index=st.integers(min_value=0, max_value=1), choice=amounts)
    def commit(self, index, choice):
        self.move("commit", index, choice)

    @rule(index=st.integers(min_value=0, max_value=1), choice=amounts)
    def release(self, index, choice):
        self.move("release", index, choice)

    @rule(index=st.integers(min_value=0, max_value=1), choice=amounts)
    def record_payment(self, index, choice):
        self.move("record_payment", index, choice)

    @rule(index=st.integers(min_value=0, max_value=1), choice=amounts)
    def reclaim(self, index, choice):
        self.move("reclaim", index, choice)

    @precondition(lambda self: self.history)
    @rule(pick=st.integers(min_value=0))
    def reverse(self, pick):
        original = self.history[pick % len(self.history)]
        balances = self.model.balances[original.budget_index]
        key = self.key()
        before = self.counts()
        tx = LedgerTransaction.objects.get(pk=original.tx_id)
        if original.reversed:
            with pytest.raises(AlreadyReversed):
                ledger.reverse(original=tx, key=key)
            assert self.counts() == before
            return
        mirror = {account: -delta for account, delta in original.effect.items()}
        if any(balances[account] + delta < 0 for account, delta in mirror.items()):
            with pytest.raises(BudgetExceeded):
                ledger.reverse(original=tx, key=key)
            assert self.counts() == before
            return
        reversal = ledger.reverse(original=tx, key=key)
        original.reversed = True
        for account, delta in mirror.items():
            balances[account] += delta
        self.history.append(Movement(reversal.pk, key, "reverse", original.budget_index, original.tx_id, mirror))
        assert self.counts() == (before[0] + 1, before[1] + 2)
        mirrored = sorted((p.account_id, -p.amount.amount) for p in tx.postings.all())
        assert sorted((p.account_id, p.amount.amount) for p in reversal.postings.all()) == mirrored
        self.remember_postings()

    @precondition(lambda self: self.history)
    @rule(pick=st.integers(min_value=0), change=st.booleans())
    def retry_with_old_key(self, pick, change):
        """Same key and movement: the first transaction back, nothing moved, whatever the balances
        are now. Same key, different movement: refused."""
        old = self.history[pick % len(self.history)]
        budget = self.budgets[old.budget_index]
        before = self.counts()
        if old.service == "reverse":
            original = LedgerTransaction.objects.get(pk=old.pence)
            if change:
                other = [m for m in self.history if m.tx_id != old.pence and m.budget_index == old.budget_index]
                if not other:
                    return
                with pytest.raises(IdempotencyConflict):
                    ledger.reverse(original=LedgerTransaction.objects.get(pk=other[0].tx_id), key=old.key)
            else:
                assert ledger.reverse(original=original, key=old.key).pk == old.tx_id
        else:
            call, _ = SERVICES[old.service]
            if change:
                with pytest.raises(IdempotencyConflict):
                    call(budget=budget, amount=pounds(old.pence + 1), key=old.key)
            else:
                assert call(budget=budget, amount=pounds(old.pence), key=old.key).pk == old.tx_id
        assert self.counts() == before

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def every_transaction_balances(self):
        totals = (
            LedgerPosting.objects.filter(transaction__budget_id__in=self.budget_ids())
            .values("transaction_id")
            .annotate(total=Sum("amount"))
            .values_list("total", flat=True)
        )
        assert all(total == 0 for total in totals)

    @invariant()
    def stored_balances_equal_the_postings_and_the_model(self):
        for budget, balances in zip(self.budgets, self.model.balances, strict=True):
            stored = budget_figures(budget)
            # Penny-rounded: on SQLite the SUM of the postings is float arithmetic (0.0099999...),
            # a selector bug pinned exactly by test_ledger.py; here the sums must still agree.
            assert stored == to_pennies(budget_figures_from_postings(budget))
            allocated = balances[AVAILABLE] + balances[COMMITTED] + balances[PAID]
            assert stored.allocated == pounds(allocated)
            assert stored.committed == pounds(balances[COMMITTED] + balances[PAID])
            assert stored.paid == pounds(balances[PAID])
            assert stored.available == pounds(balances[AVAILABLE])

    @invariant()
    def the_figures_keep_their_order(self):
        for budget in self.budgets:
            figures = budget_figures(budget)
            assert figures.available.amount >= 0
            assert 0 <= figures.paid.amount <= figures.committed.amount <= figures.allocated.amount
            assert figures.available == figures.allocated - figures.committed

    @invariant()
    def earlier_postings_never_change(self):
        if not self.seen_postings:
            return
        now = {
            row[0]: row
            for row in LedgerPosting.objects.filter(pk__in=list(self.seen_postings)).values_list(
                "id", "transaction_id", "account_id", "amount", "amount_currency"
            )
        }
        assert now == self.seen_postings


@pytest.mark.django_db
def test_ledger_invariants_hold_under_random_movements(make_budget):
    BudgetPolicy.objects.update_or_create(pk=1, defaults={"contingency_percent": Decimal("0")})
    machine = type("LedgerMachineWithBudgets", (LedgerMachine,), {"make_budget": staticmethod(make_budget)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

"""The budget ledger services, both ways: what each movement does to the four figures, what each
refusal leaves unchanged, idempotency, reversals, the append-only rules (app and database) and the
approver's final budget."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Sum
from djmoney.money import Money

from accounts.models import AuditAction, AuditEvent
from budgets.exceptions import (
    AlreadyReversed,
    BudgetExceeded,
    IdempotencyConflict,
    InvalidInput,
    LedgerImmutable,
    NotAllowed,
)
from budgets.models import (
    AccountKind,
    BudgetPolicy,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    PersonalBudget,
    TransactionKind,
)
from budgets.selectors import budget_figures, budget_figures_from_postings, budget_figures_many
from budgets.services import ledger
from budgets.services.budgets import budget_set_final
from tests import factories

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL triggers")


def gbp(amount) -> Money:
    return Money(Decimal(str(amount)), "GBP")


def figures(budget) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(allocated, committed incl. paid, paid, available) as bare Decimals, from the running balances."""
    f = budget_figures(budget)
    return (f.allocated.amount, f.committed.amount, f.paid.amount, f.available.amount)


def snapshot(budget):
    """Everything a refused call must leave as it was."""
    return (
        LedgerTransaction.objects.count(),
        LedgerPosting.objects.count(),
        figures(budget),
        sorted(LedgerAccount.objects.values_list("id", "balance")),
    )


def assert_ledger_consistent(budget):
    """Every transaction balances, and the running balances agree with the postings."""
    unbalanced = (
        LedgerPosting.objects.values("transaction_id").annotate(total=Sum("amount")).exclude(total=Decimal("0"))
    )
    assert list(unbalanced) == []
    for tx in LedgerTransaction.objects.filter(budget=budget):
        assert tx.postings.count() >= 2
        assert {str(p.amount.currency) for p in tx.postings.all()} == {"GBP"}
    assert budget_figures(budget) == budget_figures_from_postings(budget)
    assert budget_figures_many([budget.pk])[budget.pk] == budget_figures(budget)
    for account in LedgerAccount.objects.all():
        total = account.postings.aggregate(total=Sum("amount"))["total"] or Decimal("0")
        assert account.balance.amount == total, account.code


def set_contingency(percent):
    BudgetPolicy.objects.update_or_create(pk=1, defaults={"contingency_percent": Decimal(percent)})


@pytest.fixture
def budget(make_budget, client_user):
    """Ruth's budget of £1,000, allocated through the ledger."""
    return make_budget(client_user, "1000.00")


MOVEMENTS = {
    "allocate": ledger.allocate,
    "commit": ledger.commit,
    "release": ledger.release,
    "record_payment": ledger.record_payment,
    "reclaim": ledger.reclaim,
}


# --- happy paths: the four figures -------------------------------------------------------------


def test_allocation_puts_the_whole_budget_in_available(budget):
    assert figures(budget) == (Decimal("1000.00"), Decimal("0"), Decimal("0"), Decimal("1000.00"))
    tx = LedgerTransaction.objects.get(budget=budget)
    assert tx.kind == TransactionKind.ALLOCATION
    postings = {p.account.code: p.amount for p in tx.postings.all()}
    assert postings == {"council:funding": gbp("-1000.00"), f"budget:{budget.pk}:available": gbp("1000.00")}
    assert_ledger_consistent(budget)


def test_a_second_allocation_adds_to_allocated_and_available(budget):
    ledger.allocate(budget=budget, amount=gbp("250.50"), key="t:alloc2")

    assert figures(budget) == (Decimal("1250.50"), Decimal("0"), Decimal("0"), Decimal("1250.50"))
    assert_ledger_consistent(budget)


def test_commitment_moves_money_from_available_to_committed(budget):
    tx = ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")

    assert tx.kind == TransactionKind.COMMITMENT
    assert figures(budget) == (Decimal("1000.00"), Decimal("400.00"), Decimal("0"), Decimal("600.00"))
    assert_ledger_consistent(budget)


def test_commitment_of_everything_available_leaves_nothing_available(budget):
    ledger.commit(budget=budget, amount=gbp("1000.00"), key="t:commit")

    assert figures(budget) == (Decimal("1000.00"), Decimal("1000.00"), Decimal("0"), Decimal("0"))
    assert_ledger_consistent(budget)


def test_release_gives_committed_money_back_to_available(budget):
    ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    tx = ledger.release(budget=budget, amount=gbp("150.00"), key="t:release")

    assert tx.kind == TransactionKind.RELEASE
    assert figures(budget) == (Decimal("1000.00"), Decimal("250.00"), Decimal("0"), Decimal("750.00"))
    assert_ledger_consistent(budget)


def test_payment_moves_committed_to_paid_and_committed_figure_includes_paid(budget):
    ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    tx = ledger.record_payment(budget=budget, amount=gbp("100.00"), key="t:pay")

    assert tx.kind == TransactionKind.PAYMENT
    assert figures(budget) == (Decimal("1000.00"), Decimal("400.00"), Decimal("100.00"), Decimal("600.00"))
    assert_ledger_consistent(budget)


def test_payment_of_the_whole_commitment_is_allowed(budget):
    ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    ledger.record_payment(budget=budget, amount=gbp("400.00"), key="t:pay")

    assert figures(budget) == (Decimal("1000.00"), Decimal("400.00"), Decimal("400.00"), Decimal("600.00"))
    assert_ledger_consistent(budget)


def test_reclaim_returns_available_money_to_the_council(budget):
    tx = ledger.reclaim(budget=budget, amount=gbp("200.00"), key="t:reclaim")

    assert tx.kind == TransactionKind.RECLAIM
    assert figures(budget) == (Decimal("800.00"), Decimal("0"), Decimal("0"), Decimal("800.00"))
    assert LedgerAccount.objects.get(code="council:reclaimed").balance == gbp("200.00")
    assert_ledger_consistent(budget)


def test_reclaim_of_everything_available_is_allowed(budget):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    ledger.reclaim(budget=budget, amount=gbp("700.00"), key="t:reclaim")

    assert figures(budget) == (Decimal("300.00"), Decimal("300.00"), Decimal("0"), Decimal("0"))
    assert_ledger_consistent(budget)


def test_figures_of_two_budgets_are_kept_apart(budget, make_budget):
    other = make_budget(factories.ClientFactory(), "500.00")
    ledger.commit(budget=budget, amount=gbp("100.00"), key="t:commit")

    many = budget_figures_many([budget.pk, other.pk])
    assert many[budget.pk] == budget_figures(budget)
    assert many[other.pk] == budget_figures(other)
    assert figures(other) == (Decimal("500.00"), Decimal("0"), Decimal("0"), Decimal("500.00"))
    assert_ledger_consistent(budget)
    assert_ledger_consistent(other)


# --- refusals change nothing -------------------------------------------------------------------


def test_commitment_one_penny_beyond_available_is_refused_and_changes_nothing(budget):
    ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.commit(budget=budget, amount=gbp("600.01"), key="t:commit2")

    assert snapshot(budget) == before
    assert not LedgerTransaction.objects.filter(idempotency_key="t:commit2").exists()


def test_with_ten_percent_contingency_a_commitment_up_to_available_plus_ten_percent_succeeds(budget):
    set_contingency("10")
    ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")

    # £600 available + 10% of the £1,000 allocation.
    ledger.commit(budget=budget, amount=gbp("700.00"), key="t:commit2")

    assert figures(budget) == (Decimal("1000.00"), Decimal("1100.00"), Decimal("0"), Decimal("-100.00"))
    assert_ledger_consistent(budget)


def test_with_ten_percent_contingency_one_penny_more_than_available_plus_ten_percent_is_refused(budget):
    set_contingency("10")
    ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.commit(budget=budget, amount=gbp("700.01"), key="t:commit2")

    assert snapshot(budget) == before


def test_contingency_is_used_once_not_once_per_commitment(budget):
    set_contingency("10")
    ledger.commit(budget=budget, amount=gbp("1100.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.commit(budget=budget, amount=gbp("0.01"), key="t:commit2")

    assert snapshot(budget) == before


def test_without_contingency_available_is_the_limit(budget):
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.commit(budget=budget, amount=gbp("1000.01"), key="t:commit")

    assert snapshot(budget) == before


def test_release_beyond_committed_is_refused_and_changes_nothing(budget):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.release(budget=budget, amount=gbp("300.01"), key="t:release")

    assert snapshot(budget) == before


def test_release_of_money_already_paid_is_refused_and_changes_nothing(budget):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    ledger.record_payment(budget=budget, amount=gbp("100.00"), key="t:pay")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.release(budget=budget, amount=gbp("200.01"), key="t:release")

    assert snapshot(budget) == before
    ledger.release(budget=budget, amount=gbp("200.00"), key="t:release")
    assert figures(budget) == (Decimal("1000.00"), Decimal("100.00"), Decimal("100.00"), Decimal("900.00"))


def test_payment_beyond_committed_is_refused_and_changes_nothing(budget):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    ledger.record_payment(budget=budget, amount=gbp("250.00"), key="t:pay")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.record_payment(budget=budget, amount=gbp("50.01"), key="t:pay2")

    assert snapshot(budget) == before


def test_payment_with_nothing_committed_is_refused(budget):
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.record_payment(budget=budget, amount=gbp("0.01"), key="t:pay")

    assert snapshot(budget) == before


def test_reclaim_beyond_available_is_refused_and_changes_nothing(budget):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.reclaim(budget=budget, amount=gbp("700.01"), key="t:reclaim")

    assert snapshot(budget) == before


@pytest.mark.parametrize("service", MOVEMENTS)
@pytest.mark.parametrize("amount", ["0", "0.00", "-0.01", "-100.00", "0.001", "10.005", "-0.001"])
def test_zero_negative_and_sub_penny_amounts_are_invalid_and_change_nothing(budget, service, amount):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(InvalidInput) as caught:
        MOVEMENTS[service](budget=budget, amount=gbp(amount), key=f"t:{service}:bad")

    assert caught.value.field == "amount"
    assert snapshot(budget) == before


@pytest.mark.parametrize("service", MOVEMENTS)
def test_a_movement_without_an_idempotency_key_is_invalid(budget, service):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(InvalidInput):
        MOVEMENTS[service](budget=budget, amount=gbp("1.00"), key="")

    assert snapshot(budget) == before


@pytest.mark.parametrize("service", MOVEMENTS)
def test_an_amount_in_another_currency_is_refused_not_booked_as_pounds(budget, service):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(InvalidInput):
        MOVEMENTS[service](budget=budget, amount=Money("1.00", "EUR"), key=f"t:{service}:eur")

    assert snapshot(budget) == before


# --- idempotency -------------------------------------------------------------------------------


@pytest.mark.parametrize("service", MOVEMENTS)
def test_the_same_key_and_movement_returns_the_first_transaction_and_moves_money_once(budget, service):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    first = MOVEMENTS[service](budget=budget, amount=gbp("50.00"), key="t:same")
    after_first = snapshot(budget)

    again = MOVEMENTS[service](budget=budget, amount=gbp("50.00"), key="t:same")

    assert again.pk == first.pk
    assert snapshot(budget) == after_first
    assert_ledger_consistent(budget)


@pytest.mark.parametrize("service", MOVEMENTS)
def test_the_same_key_with_a_different_amount_is_a_conflict_and_changes_nothing(budget, service):
    ledger.commit(budget=budget, amount=gbp("300.00"), key="t:commit")
    MOVEMENTS[service](budget=budget, amount=gbp("50.00"), key="t:same")
    before = snapshot(budget)

    with pytest.raises(IdempotencyConflict):
        MOVEMENTS[service](budget=budget, amount=gbp("50.01"), key="t:same")

    assert snapshot(budget) == before


def test_the_same_key_for_a_different_kind_of_movement_is_a_conflict(budget):
    ledger.commit(budget=budget, amount=gbp("50.00"), key="t:same")
    before = snapshot(budget)

    with pytest.raises(IdempotencyConflict):
        ledger.release(budget=budget, amount=gbp("50.00"), key="t:same")

    assert snapshot(budget) == before


def test_the_same_key_for_another_budget_is_a_conflict(budget, make_budget):
    other = make_budget(factories.ClientFactory(), "500.00")
    ledger.commit(budget=budget, amount=gbp("50.00"), key="t:same")
    before = snapshot(other)

    with pytest.raises(IdempotencyConflict):
        ledger.commit(budget=other, amount=gbp("50.00"), key="t:same")

    assert snapshot(other) == before


def test_the_same_amount_written_differently_is_the_same_movement(budget):
    first = ledger.commit(budget=budget, amount=gbp("50"), key="t:same")

    assert ledger.commit(budget=budget, amount=gbp("50.00"), key="t:same").pk == first.pk
    assert figures(budget)[1] == Decimal("50.00")


def test_a_retried_commitment_succeeds_even_when_available_has_since_dropped_below_it(budget):
    first = ledger.commit(budget=budget, amount=gbp("600.00"), key="t:plan1")
    ledger.commit(budget=budget, amount=gbp("400.00"), key="t:plan2")
    assert figures(budget)[3] == Decimal("0")
    before = snapshot(budget)

    again = ledger.commit(budget=budget, amount=gbp("600.00"), key="t:plan1")

    assert again.pk == first.pk
    assert snapshot(budget) == before


def test_a_refused_movement_does_not_use_up_its_key(budget):
    with pytest.raises(BudgetExceeded):
        ledger.commit(budget=budget, amount=gbp("1500.00"), key="t:plan")
    ledger.allocate(budget=budget, amount=gbp("500.00"), key="t:top-up")

    tx = ledger.commit(budget=budget, amount=gbp("1500.00"), key="t:plan")

    assert tx.idempotency_key == "t:plan"
    assert figures(budget) == (Decimal("1500.00"), Decimal("1500.00"), Decimal("0"), Decimal("0"))


# --- reversals ---------------------------------------------------------------------------------


def test_reversal_posts_the_mirror_image_and_restores_the_figures(budget):
    before = figures(budget)
    original = ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")

    reversal = ledger.reverse(original=original, key="t:undo")

    assert reversal.kind == TransactionKind.REVERSAL
    assert reversal.reverses_id == original.pk
    assert LedgerTransaction.objects.get(pk=original.pk).reversed_by.pk == reversal.pk
    mirror = sorted((p.account_id, -p.amount.amount) for p in original.postings.all())
    assert sorted((p.account_id, p.amount.amount) for p in reversal.postings.all()) == mirror
    assert figures(budget) == before
    assert_ledger_consistent(budget)


@pytest.mark.parametrize("kind", ["allocation", "release", "payment", "reclaim"])
def test_each_kind_of_movement_can_be_reversed(budget, kind):
    ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    before = figures(budget)
    original = {
        "allocation": lambda: ledger.allocate(budget=budget, amount=gbp("10.00"), key="t:o"),
        "release": lambda: ledger.release(budget=budget, amount=gbp("10.00"), key="t:o"),
        "payment": lambda: ledger.record_payment(budget=budget, amount=gbp("10.00"), key="t:o"),
        "reclaim": lambda: ledger.reclaim(budget=budget, amount=gbp("10.00"), key="t:o"),
    }[kind]()

    ledger.reverse(original=original, key="t:undo")

    assert figures(budget) == before
    assert_ledger_consistent(budget)


def test_a_transaction_can_be_reversed_only_once(budget):
    original = ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    ledger.reverse(original=original, key="t:undo")
    before = snapshot(budget)

    with pytest.raises(AlreadyReversed):
        ledger.reverse(original=original, key="t:undo-again")

    assert snapshot(budget) == before


def test_retrying_a_reversal_with_its_key_returns_the_same_reversal(budget):
    original = ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    first = ledger.reverse(original=original, key="t:undo")
    before = snapshot(budget)

    assert ledger.reverse(original=original, key="t:undo").pk == first.pk
    assert snapshot(budget) == before


def test_a_reversal_key_reused_for_another_transaction_is_a_conflict(budget):
    one = ledger.commit(budget=budget, amount=gbp("100.00"), key="t:c1")
    two = ledger.commit(budget=budget, amount=gbp("100.00"), key="t:c2")
    ledger.reverse(original=one, key="t:undo")
    before = snapshot(budget)

    with pytest.raises(IdempotencyConflict):
        ledger.reverse(original=two, key="t:undo")

    assert snapshot(budget) == before


def test_reversing_a_commitment_already_paid_is_refused_as_committed_would_go_below_zero(budget):
    original = ledger.commit(budget=budget, amount=gbp("400.00"), key="t:commit")
    ledger.record_payment(budget=budget, amount=gbp("300.00"), key="t:pay")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.reverse(original=original, key="t:undo")

    assert snapshot(budget) == before
    assert not LedgerTransaction.objects.filter(reverses=original).exists()


def test_reversing_an_allocation_already_committed_is_refused_as_available_would_go_below_zero(budget):
    allocation = LedgerTransaction.objects.get(budget=budget, kind=TransactionKind.ALLOCATION)
    ledger.commit(budget=budget, amount=gbp("0.01"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.reverse(original=allocation, key="t:undo")

    assert snapshot(budget) == before


def test_a_refused_reversal_can_succeed_once_the_money_is_back(budget):
    allocation = LedgerTransaction.objects.get(budget=budget, kind=TransactionKind.ALLOCATION)
    commitment = ledger.commit(budget=budget, amount=gbp("10.00"), key="t:commit")
    with pytest.raises(BudgetExceeded):
        ledger.reverse(original=allocation, key="t:undo")
    ledger.release(budget=budget, amount=gbp("10.00"), key="t:release")

    ledger.reverse(original=allocation, key="t:undo")

    assert commitment.pk
    assert figures(budget) == (Decimal("0"), Decimal("0"), Decimal("0"), Decimal("0"))
    assert_ledger_consistent(budget)


# --- adjusting the allocation ------------------------------------------------------------------


def test_adjusting_the_allocation_up_adds_to_allocated_and_available(budget):
    tx = ledger.adjust_allocation(budget=budget, delta=gbp("500.00"), key="t:adj")

    assert tx.kind == TransactionKind.ADJUSTMENT
    assert figures(budget) == (Decimal("1500.00"), Decimal("0"), Decimal("0"), Decimal("1500.00"))
    assert_ledger_consistent(budget)


def test_adjusting_the_allocation_down_to_exactly_the_uncommitted_money_is_allowed(budget):
    ledger.commit(budget=budget, amount=gbp("600.00"), key="t:commit")

    ledger.adjust_allocation(budget=budget, delta=gbp("-400.00"), key="t:adj")

    assert figures(budget) == (Decimal("600.00"), Decimal("600.00"), Decimal("0"), Decimal("0"))
    assert_ledger_consistent(budget)


def test_adjusting_the_allocation_down_below_the_uncommitted_money_is_refused(budget):
    ledger.commit(budget=budget, amount=gbp("600.00"), key="t:commit")
    before = snapshot(budget)

    with pytest.raises(BudgetExceeded):
        ledger.adjust_allocation(budget=budget, delta=gbp("-400.01"), key="t:adj")

    assert snapshot(budget) == before


def test_adjusting_the_allocation_by_nothing_posts_nothing(budget):
    before = snapshot(budget)

    assert ledger.adjust_allocation(budget=budget, delta=gbp("0.00"), key="t:adj") is None
    assert snapshot(budget) == before


@pytest.mark.parametrize("delta", ["0.001", "-0.005", "12.345"])
def test_adjusting_the_allocation_by_a_sub_penny_amount_is_invalid(budget, delta):
    before = snapshot(budget)

    with pytest.raises(InvalidInput):
        ledger.adjust_allocation(budget=budget, delta=gbp(delta), key="t:adj")

    assert snapshot(budget) == before


def test_adjusting_the_allocation_twice_with_one_key_moves_money_once(budget):
    first = ledger.adjust_allocation(budget=budget, delta=gbp("-100.00"), key="t:adj")

    assert ledger.adjust_allocation(budget=budget, delta=gbp("-100.00"), key="t:adj").pk == first.pk
    with pytest.raises(IdempotencyConflict):
        ledger.adjust_allocation(budget=budget, delta=gbp("100.00"), key="t:adj")
    assert figures(budget)[0] == Decimal("900.00")


def test_a_long_mixed_history_stays_balanced_and_agrees_with_its_postings(budget):
    ledger.allocate(budget=budget, amount=gbp("123.45"), key="t:1")
    c = ledger.commit(budget=budget, amount=gbp("700.00"), key="t:2")
    ledger.record_payment(budget=budget, amount=gbp("250.10"), key="t:3")
    ledger.release(budget=budget, amount=gbp("49.90"), key="t:4")
    ledger.reclaim(budget=budget, amount=gbp("100.00"), key="t:5")
    ledger.adjust_allocation(budget=budget, delta=gbp("-73.45"), key="t:6")
    r = ledger.commit(budget=budget, amount=gbp("0.01"), key="t:7")
    ledger.reverse(original=r, key="t:8")

    assert c.pk
    # 1123.45 − 100 − 73.45 = 950 allocated; 700 − 49.90 = 650.10 committed (250.10 paid).
    assert figures(budget) == (Decimal("950.00"), Decimal("650.10"), Decimal("250.10"), Decimal("299.90"))
    assert_ledger_consistent(budget)


# --- append-only -------------------------------------------------------------------------------


def test_saving_an_existing_transaction_is_refused(budget):
    tx = LedgerTransaction.objects.get(budget=budget)
    tx.memo = "changed"

    with pytest.raises(LedgerImmutable):
        tx.save()

    assert LedgerTransaction.objects.get(pk=tx.pk).memo != "changed"


def test_saving_an_existing_posting_is_refused(budget):
    posting = LedgerPosting.objects.filter(transaction__budget=budget).first()
    original = posting.amount
    posting.amount = gbp("999999.00")

    with pytest.raises(LedgerImmutable):
        posting.save()

    assert LedgerPosting.objects.get(pk=posting.pk).amount == original


@pytest.mark.parametrize("model", [LedgerTransaction, LedgerPosting])
def test_deleting_a_ledger_row_is_refused(budget, model):
    row = model.objects.first()

    with pytest.raises(LedgerImmutable):
        row.delete()

    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", [LedgerTransaction, LedgerPosting])
def test_queryset_update_and_delete_of_ledger_rows_are_refused(budget, model):
    count = model.objects.count()

    with pytest.raises(LedgerImmutable):
        model.objects.all().update(id=F("id"))
    with pytest.raises(LedgerImmutable):
        model.objects.all().delete()
    with pytest.raises(LedgerImmutable):
        model.objects.filter(pk__gt=0).delete()

    assert model.objects.count() == count


def test_related_managers_cannot_update_or_delete_ledger_rows(budget):
    tx = LedgerTransaction.objects.get(budget=budget)

    with pytest.raises(LedgerImmutable):
        budget.transactions.all().update(memo="changed")
    with pytest.raises(LedgerImmutable):
        tx.postings.all().delete()
    with pytest.raises(LedgerImmutable):
        tx.postings.update(amount=gbp("1.00"))

    assert tx.postings.count() == 2


def test_raw_sql_update_of_a_transaction_is_refused_by_the_database(budget):
    tx = LedgerTransaction.objects.get(budget=budget)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE budgets_ledgertransaction SET memo = %s WHERE id = %s", ["changed", tx.pk])

    assert LedgerTransaction.objects.get(pk=tx.pk).memo == tx.memo


def test_raw_sql_update_of_a_posting_is_refused_by_the_database(budget):
    posting = LedgerPosting.objects.filter(transaction__budget=budget).first()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE budgets_ledgerposting SET amount = amount + 1 WHERE id = %s", [posting.pk])

    assert LedgerPosting.objects.get(pk=posting.pk).amount == posting.amount


@on_postgresql
@pytest.mark.parametrize("table", ["budgets_ledgerposting", "budgets_ledgertransaction"])
def test_raw_sql_delete_of_ledger_rows_is_refused_by_postgresql(budget, table):
    count = LedgerPosting.objects.count() + LedgerTransaction.objects.count()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a fixed table name

    assert LedgerPosting.objects.count() + LedgerTransaction.objects.count() == count


def _bare_transaction(budget, key):
    return LedgerTransaction.objects.create(
        kind=TransactionKind.ADJUSTMENT, budget=budget, idempotency_key=key, fingerprint=key
    )


@on_postgresql
def test_an_unbalanced_posting_set_from_bulk_create_is_refused_by_the_deferred_check(budget):
    available = LedgerAccount.objects.get(budget=budget, kind=AccountKind.AVAILABLE)
    count = LedgerTransaction.objects.count()

    with pytest.raises(DatabaseError), transaction.atomic():
        tx = _bare_transaction(budget, "t:unbalanced")
        LedgerPosting.objects.bulk_create([LedgerPosting(transaction=tx, account=available, amount=gbp("5.00"))])
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert LedgerTransaction.objects.count() == count


@on_postgresql
def test_an_unbalanced_posting_set_from_raw_sql_is_refused_by_the_deferred_check(budget):
    available = LedgerAccount.objects.get(budget=budget, kind=AccountKind.AVAILABLE)
    funding = LedgerAccount.objects.get(code="council:funding")
    count = LedgerPosting.objects.count()

    with pytest.raises(DatabaseError), transaction.atomic():
        tx = _bare_transaction(budget, "t:unbalanced")
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO budgets_ledgerposting (transaction_id, account_id, amount, amount_currency) "
                "VALUES (%s, %s, %s, 'GBP')",
                [(tx.pk, funding.pk, Decimal("-5.00")), (tx.pk, available.pk, Decimal("5.01"))],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert LedgerPosting.objects.count() == count


@on_postgresql
def test_a_balanced_posting_set_passes_the_deferred_check(budget):
    available = LedgerAccount.objects.get(budget=budget, kind=AccountKind.AVAILABLE)
    funding = LedgerAccount.objects.get(code="council:funding")

    with transaction.atomic():
        tx = _bare_transaction(budget, "t:balanced")
        LedgerPosting.objects.bulk_create(
            [
                LedgerPosting(transaction=tx, account=funding, amount=gbp("-5.00")),
                LedgerPosting(transaction=tx, account=available, amount=gbp("5.00")),
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert tx.postings.count() == 2


# --- the approver's final budget ---------------------------------------------------------------


@pytest.fixture
def ruths_budget(make_budget, client_user, caseload):
    """Ruth (on Sam's caseload, in Taylor's team) has £1,000 allocated."""
    return make_budget(client_user, "1000.00")


def _final_state(budget):
    budget = PersonalBudget.objects.get(pk=budget.pk)
    return (budget.final_amount, budget.final_reason, budget.final_set_by_id, budget.final_set_at)


@pytest.mark.parametrize(("amount", "delta"), [("1200.00", "200.00"), ("750.50", "-249.50")])
def test_team_manager_sets_a_final_budget_with_a_reason(ruths_budget, team_manager, amount, delta):
    count = LedgerTransaction.objects.count()

    budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp(amount), reason="  Night support agreed ")

    assert LedgerTransaction.objects.count() == count + 1
    adjustment = LedgerTransaction.objects.get(budget=ruths_budget, kind=TransactionKind.ADJUSTMENT)
    assert adjustment.created_by == team_manager
    assert "Night support agreed" in adjustment.memo
    available = adjustment.postings.get(account__kind=AccountKind.AVAILABLE)
    assert available.amount == gbp(delta)
    assert figures(ruths_budget) == (Decimal(amount), Decimal("0"), Decimal("0"), Decimal(amount))
    final_amount, final_reason, final_set_by, final_set_at = _final_state(ruths_budget)
    assert final_amount == gbp(amount)
    assert final_reason == "Night support agreed"
    assert final_set_by == team_manager.pk
    assert final_set_at is not None
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, target_id=str(ruths_budget.pk)).get()
    assert event.actor == team_manager
    assert event.subject == ruths_budget.client
    assert event.changes["final_amount"] == amount
    assert event.changes["from"] == "1000.00"
    assert_ledger_consistent(ruths_budget)


def test_admin_may_set_the_final_budget(ruths_budget, admin_person):
    budget_set_final(actor=admin_person, budget=ruths_budget, amount=gbp("1100.00"), reason="Agreed at panel")

    assert figures(ruths_budget)[0] == Decimal("1100.00")


@pytest.mark.parametrize("reason", ["", "   "])
def test_final_budget_without_a_reason_is_invalid_and_changes_nothing(ruths_budget, team_manager, reason):
    before = snapshot(ruths_budget)

    with pytest.raises(InvalidInput) as caught:
        budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("1200.00"), reason=reason)

    assert "reason" in caught.value.errors
    assert snapshot(ruths_budget) == before
    assert _final_state(ruths_budget) == (None, "", None, None)


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_final_budget_of_nothing_or_less_is_invalid(ruths_budget, team_manager, amount):
    before = snapshot(ruths_budget)

    with pytest.raises(InvalidInput):
        budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp(amount), reason="Reason")

    assert snapshot(ruths_budget) == before


def test_final_budget_lower_than_committed_is_refused_and_changes_nothing(ruths_budget, team_manager):
    ledger.commit(budget=ruths_budget, amount=gbp("600.00"), key="t:commit")
    before = snapshot(ruths_budget)
    audits = AuditEvent.objects.count()

    with pytest.raises(BudgetExceeded):
        budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("599.99"), reason="Reduced need")

    assert snapshot(ruths_budget) == before
    assert AuditEvent.objects.count() == audits
    assert _final_state(ruths_budget) == (None, "", None, None)


def test_final_budget_equal_to_committed_is_allowed(ruths_budget, team_manager):
    ledger.commit(budget=ruths_budget, amount=gbp("600.00"), key="t:commit")

    budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("600.00"), reason="Reduced need")

    assert figures(ruths_budget) == (Decimal("600.00"), Decimal("600.00"), Decimal("0"), Decimal("0"))


@pytest.mark.parametrize("role_fixture", ["social_worker", "client_user", "finance_user", "case_manager"])
def test_only_the_team_manager_may_set_the_final_budget(request, ruths_budget, role_fixture):
    actor = request.getfixturevalue(role_fixture)
    before = snapshot(ruths_budget)

    with pytest.raises(NotAllowed):
        budget_set_final(actor=actor, budget=ruths_budget, amount=gbp("1200.00"), reason="Because")

    assert snapshot(ruths_budget) == before
    assert _final_state(ruths_budget) == (None, "", None, None)


def test_a_team_manager_of_another_team_may_not_set_the_final_budget(ruths_budget):
    other_manager = factories.TeamManagerFactory()
    factories.TeamFactory(manager=other_manager, members=[factories.SocialWorkerFactory()])
    before = snapshot(ruths_budget)

    with pytest.raises(NotAllowed):
        budget_set_final(actor=other_manager, budget=ruths_budget, amount=gbp("1200.00"), reason="Because")

    assert snapshot(ruths_budget) == before


def test_a_double_submission_of_the_final_budget_moves_money_once(ruths_budget, team_manager):
    budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("1200.00"), reason="Night support")
    budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("1200.00"), reason="Night support")

    assert LedgerTransaction.objects.filter(budget=ruths_budget, kind=TransactionKind.ADJUSTMENT).count() == 1
    assert figures(ruths_budget)[0] == Decimal("1200.00")
    assert_ledger_consistent(ruths_budget)


def test_final_budget_raised_lowered_and_raised_again_ends_at_the_last_amount(ruths_budget, team_manager):
    budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("1200.00"), reason="Night support")
    budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("1000.00"), reason="Carer returned")
    budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("1200.00"), reason="Carer left again")

    assert PersonalBudget.objects.get(pk=ruths_budget.pk).final_amount == gbp("1200.00")
    assert figures(ruths_budget)[0] == Decimal("1200.00")
    assert_ledger_consistent(ruths_budget)


def test_final_budget_with_a_sub_penny_amount_is_invalid(ruths_budget, team_manager):
    before = snapshot(ruths_budget)

    with pytest.raises(InvalidInput):
        budget_set_final(actor=team_manager, budget=ruths_budget, amount=gbp("1200.005"), reason="Night support")

    assert snapshot(ruths_budget) == before


def test_figures_from_postings_agree_with_the_running_balances_to_the_penny(make_budget, client_user):
    """0.01 + 2.00 − 2.00: a sum that binary floating point gets wrong (0.00999999999999979)."""
    budget = make_budget(client_user, "0.01")
    top_up = ledger.allocate(budget=budget, amount=gbp("2.00"), key="t:top-up")
    ledger.reverse(original=top_up, key="t:undo")

    recomputed = budget_figures_from_postings(budget)

    assert recomputed.allocated == gbp("0.01")
    assert recomputed.available == gbp("0.01")
    assert recomputed == budget_figures(budget)

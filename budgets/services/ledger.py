"""The budget ledger: the only code that moves money between accounts.

Every movement is one balanced `LedgerTransaction` (postings sum to zero, one currency) with a
unique idempotency key: calling again with the same key and the same movement returns the first
transaction; the same key with a different movement is refused. The budget's accounts are locked
(`select_for_update`, in id order so two movements cannot deadlock) before any balance is checked,
so two commitments racing for the last of a budget cannot both succeed. Nothing is ever updated
or deleted: a mistake is corrected with `reverse`.

Other apps call `allocate`, `commit`, `release`, `record_payment`, the fund movements
(`record_fund_load`, `record_fund_spending`, `record_fund_recovery`), `reclaim` and `reverse`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from djmoney.money import Money

from accounts.bulk import update_each
from accounts.models import AuditAction, User
from accounts.money import format_money, round_penny
from accounts.services import audit_event, audit_record, audit_record_many

from ..exceptions import AlreadyReversed, BudgetExceeded, IdempotencyConflict, InvalidInput, Unbalanced
from ..models import AccountKind, BudgetPolicy, LedgerAccount, LedgerPosting, LedgerTransaction, PersonalBudget
from ..models import TransactionKind as Kind

Movement = tuple[LedgerAccount, Decimal]


def policy() -> BudgetPolicy:
    return BudgetPolicy.objects.get_or_create(pk=1)[0]


def council_account(kind: str) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(code=f"council:{kind}", defaults={"kind": kind})
    return account


def _account_code(budget_id: int, kind: str) -> str:
    """A budget account's code: the one name by which people and the audit trail know it."""
    return f"budget:{budget_id}:{kind}"


def open_budget_accounts(budget: PersonalBudget) -> dict[str, LedgerAccount]:
    """Create the budget's three accounts (once)."""
    existing = {a.kind: a for a in budget.accounts.all()}
    for kind in (AccountKind.AVAILABLE, AccountKind.COMMITTED, AccountKind.PAID):
        if kind not in existing:
            existing[kind] = LedgerAccount.objects.create(code=_account_code(budget.pk, kind), kind=kind, budget=budget)
    return existing


def _locked_accounts(budget: PersonalBudget) -> dict[str, LedgerAccount]:
    return {a.kind: a for a in LedgerAccount.objects.select_for_update().filter(budget=budget).order_by("id")}


def _same_currency(amount: Money, budget: PersonalBudget) -> None:
    if str(amount.currency) != str(budget.indicative_amount.currency):
        raise InvalidInput(
            f"This budget is kept in {budget.indicative_amount.currency}, not {amount.currency}.", field="amount"
        )


def _positive(amount: Money, what: str, budget: PersonalBudget) -> Decimal:
    _same_currency(amount, budget)
    value = Decimal(amount.amount)
    if value != round_penny(value):
        raise InvalidInput(f"The {what} must be a whole number of pence.", field="amount")
    if value <= 0:
        raise InvalidInput(f"The {what} must be more than zero.", field="amount")
    return value


def _post(
    *,
    kind: str,
    budget: PersonalBudget,
    movements: list[Movement],
    key: str,
    actor: User | None,
    memo: str,
    currency: str,
    fingerprint: str,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction and move the running balances. Caller holds the locks."""
    if sum(amount for _, amount in movements) != 0 or any(amount == 0 for _, amount in movements):
        raise Unbalanced()
    tx = LedgerTransaction.objects.create(
        kind=kind,
        budget=budget,
        idempotency_key=key,
        fingerprint=fingerprint,
        memo=memo[:300],
        created_by=actor,
        reverses=reverses,
    )
    LedgerPosting.objects.bulk_create(
        [
            LedgerPosting(transaction=tx, account=account, amount=Money(amount, currency))
            for account, amount in movements
        ]
    )
    for account, amount in movements:
        LedgerAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=tx,
        subject=budget.client,
        changes={"kind": kind, "postings": {a.code: str(amount) for a, amount in movements}},
        message=memo,
    )
    return tx


def _fingerprint(kind: str, budget: PersonalBudget, value: Decimal, reverses: LedgerTransaction | None = None) -> str:
    return f"{kind}:{budget.pk}:{round_penny(value):.2f}:{reverses.pk if reverses else ''}"


def _idempotent(
    key: str,
    fingerprint: str,
    build: Callable[[dict[str, LedgerAccount]], list[Movement]],
    *,
    kind: str,
    budget: PersonalBudget,
    actor: User | None,
    memo: str,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Make one movement once per idempotency key. The budget's accounts are locked here;
    `build(accounts)` checks the rules against them and returns the postings, which are then
    written as one balanced transaction.

    A key seen before returns its transaction when the movement is the same (without re-checking
    balances: a retry of a movement that happened must not fail because it happened) and is
    refused otherwise. Two first calls racing with one key are settled by the unique constraint.
    """
    if not key:
        raise InvalidInput("Every ledger movement needs an idempotency key.", field="idempotency_key")

    def replay() -> LedgerTransaction | None:
        existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None and existing.fingerprint != fingerprint:
            raise IdempotencyConflict(f"The key “{key}” was already used for a different movement.")
        return existing

    existing = replay()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            # Take the budget's locks, then look again: a call with this key may have finished
            # while this one waited, and its retry must get that transaction, not a refusal.
            accounts = _locked_accounts(budget)
            existing = replay()
            if existing is not None:
                return existing
            return _post(
                kind=kind,
                budget=budget,
                movements=build(accounts),
                key=key,
                actor=actor,
                memo=memo,
                currency=str(budget.indicative_amount.currency),
                fingerprint=fingerprint,
                reverses=reverses,
            )
    except IntegrityError:
        existing = replay()
        if existing is None:
            raise
        return existing


def allocate(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """Put money into the budget: council funding → the budget's available account."""
    value = _positive(amount, "allocation", budget)
    fingerprint = _fingerprint(Kind.ALLOCATION, budget, value)

    def build(accounts):
        return [(council_account(AccountKind.FUNDING), -value), (accounts[AccountKind.AVAILABLE], value)]

    return _idempotent(
        key, fingerprint, build, kind=Kind.ALLOCATION, budget=budget, actor=actor, memo=memo or "Budget allocated"
    )


def adjust_allocation(
    *, budget: PersonalBudget, delta: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction | None:
    """Raise or lower the allocation (the approver's final budget). Lowering is refused when the
    money is already committed: the budget would then promise more than it holds."""
    _same_currency(delta, budget)
    value = Decimal(delta.amount)
    if value != round_penny(value):
        raise InvalidInput("The change must be a whole number of pence.", field="amount")
    if value == 0:
        return None
    fingerprint = _fingerprint(Kind.ADJUSTMENT, budget, value)

    def build(accounts):
        available = accounts[AccountKind.AVAILABLE]
        if value < 0 and available.balance.amount + value < 0:
            raise BudgetExceeded(
                f"Only {format_money(available.balance.amount)} is uncommitted, "
                f"so the budget cannot go down by {format_money(-value)}."
            )
        movements = [(council_account(AccountKind.FUNDING), -value), (available, value)]
        return movements

    return _idempotent(
        key, fingerprint, build, kind=Kind.ADJUSTMENT, budget=budget, actor=actor, memo=memo or "Final budget set"
    )


def commit(
    *,
    budget: PersonalBudget,
    amount: Money,
    key: str,
    actor: User | None = None,
    memo: str = "",
    extra_headroom: Money | None = None,
) -> LedgerTransaction:
    """Promise money to an approved plan: available → committed.

    Refused with `BudgetExceeded` when the amount is more than is available plus the policy's
    contingency (a % of the allocation) plus `extra_headroom` (for a new plan version, the old
    version's remaining commitment that its approval will release).
    """
    value = _positive(amount, "commitment", budget)
    if extra_headroom is not None:
        _same_currency(extra_headroom, budget)
    headroom = Decimal(extra_headroom.amount) if extra_headroom is not None else Decimal(0)
    fingerprint = _fingerprint(Kind.COMMITMENT, budget, value)

    def build(accounts):
        available = accounts[AccountKind.AVAILABLE].balance.amount
        allocated = sum((a.balance.amount for a in accounts.values()), Decimal(0))
        contingency = round_penny(allocated * policy().contingency_percent / 100)
        if value > available + contingency + headroom:
            raise BudgetExceeded(
                f"{format_money(value)} is more than the {format_money(available + contingency + headroom)} "
                "this budget can commit."
            )
        movements = [(accounts[AccountKind.AVAILABLE], -value), (accounts[AccountKind.COMMITTED], value)]
        return movements

    return _idempotent(
        key,
        fingerprint,
        build,
        kind=Kind.COMMITMENT,
        budget=budget,
        actor=actor,
        memo=memo or "Committed to a care plan",
    )


def _out_of_commitment(accounts: dict[str, LedgerAccount], value: Decimal, to: str) -> list[Movement]:
    """committed → `to`, never more than is committed and unpaid."""
    committed = accounts[AccountKind.COMMITTED]
    if value > committed.balance.amount:
        raise BudgetExceeded(f"Only {format_money(committed.balance.amount)} is committed and unpaid.")
    return [(committed, -value), (accounts[to], value)]


def release(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """Give back committed money that will not be spent: committed → available."""
    value = _positive(amount, "release", budget)
    fingerprint = _fingerprint(Kind.RELEASE, budget, value)

    def build(accounts):
        return _out_of_commitment(accounts, value, AccountKind.AVAILABLE)

    return _idempotent(
        key, fingerprint, build, kind=Kind.RELEASE, budget=budget, actor=actor, memo=memo or "Commitment released"
    )


def record_payment(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """Pay out of a commitment: committed → paid. Never more than is committed and unpaid."""
    value = _positive(amount, "payment", budget)
    fingerprint = _fingerprint(Kind.PAYMENT, budget, value)

    def build(accounts):
        return _payment_movements(accounts, value, budget)

    return _idempotent(key, fingerprint, build, kind=Kind.PAYMENT, budget=budget, actor=actor, memo=memo or "Payment")


def _payment_movements(
    accounts: dict[str, LedgerAccount], value: Decimal, budget: PersonalBudget, council=council_account
) -> list[Movement]:
    return _out_of_commitment(accounts, value, AccountKind.PAID)


def record_fund_load(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """A load paid into a direct payment or fund: paid out of the commitment like any payment
    (committed → paid), and held in the budget's funds until spent or recovered (council funds
    issued → fund held). One transaction, four postings; never more than is committed and unpaid."""
    value = _positive(amount, "load", budget)
    fingerprint = _fingerprint(Kind.FUND_LOAD, budget, value)

    def build(accounts):
        return _fund_load_movements(accounts, value, budget)

    return _idempotent(
        key, fingerprint, build, kind=Kind.FUND_LOAD, budget=budget, actor=actor, memo=memo or "Direct payment load"
    )


def _fund_load_movements(
    accounts: dict[str, LedgerAccount], value: Decimal, budget: PersonalBudget, council=council_account
) -> list[Movement]:
    if AccountKind.FUND_HELD not in accounts:
        accounts[AccountKind.FUND_HELD] = _open(budget, AccountKind.FUND_HELD)
    return [
        *_out_of_commitment(accounts, value, AccountKind.PAID),
        (council(AccountKind.FUNDS_ISSUED), -value),
        (accounts[AccountKind.FUND_HELD], value),
    ]


def record_contribution(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """The person's contribution pays part of the care: that part of the commitment is paid
    (committed → paid), by the person rather than the council (people's contributions → council
    funding, which gets back what it no longer pays). Never more than is committed and unpaid."""
    value = _positive(amount, "contribution", budget)
    fingerprint = _fingerprint(Kind.CONTRIBUTION, budget, value)

    def build(accounts):
        return _contribution_movements(accounts, value, budget)

    return _idempotent(
        key, fingerprint, build, kind=Kind.CONTRIBUTION, budget=budget, actor=actor, memo=memo or "Contribution"
    )


def _contribution_movements(
    accounts: dict[str, LedgerAccount], value: Decimal, budget: PersonalBudget, council=council_account
) -> list[Movement]:
    return [
        *_out_of_commitment(accounts, value, AccountKind.PAID),
        (council(AccountKind.CONTRIBUTIONS), -value),
        (council(AccountKind.FUNDING), value),
    ]


def record_contribution_billed(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = "", credit: bool = False
) -> LedgerTransaction:
    """A contribution billed to the person: they owe it (people's contributions → owed). With
    `credit`, the other way: a correction that lowers what they owe. The budget's own figures do not
    move: the council has paid (or committed) the care; this is what the person pays back."""
    value = _positive(amount, "contribution", budget)
    fingerprint = _fingerprint(Kind.CONTRIBUTION_BILLED, budget, -value if credit else value)
    sign = -1 if credit else 1

    def build(accounts):
        return [
            (council_account(AccountKind.CONTRIBUTIONS), -sign * value),
            (council_account(AccountKind.CONTRIBUTIONS_OWED), sign * value),
        ]

    return _idempotent(
        key,
        fingerprint,
        build,
        kind=Kind.CONTRIBUTION_BILLED,
        budget=budget,
        actor=actor,
        memo=memo or ("Contribution credited" if credit else "Contribution billed"),
    )


def record_contribution_paid(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """Money the person paid towards their care: what they owe falls and the council's funding gets
    it back (owed → council funding)."""
    value = _positive(amount, "payment", budget)
    fingerprint = _fingerprint(Kind.CONTRIBUTION_PAID, budget, value)

    def build(accounts):
        return [
            (council_account(AccountKind.CONTRIBUTIONS_OWED), -value),
            (council_account(AccountKind.FUNDING), value),
        ]

    return _idempotent(
        key,
        fingerprint,
        build,
        kind=Kind.CONTRIBUTION_PAID,
        budget=budget,
        actor=actor,
        memo=memo or "Contribution paid",
    )


def record_fund_spending(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """Money spent from a direct payment or fund leaves what the budget's funds hold (fund held →
    council funds issued). Never more than the budget's funds hold; the holder's own fund's balance
    is checked by the caller under that fund's lock."""
    value = _positive(amount, "spending", budget)
    fingerprint = _fingerprint(Kind.FUND_SPENDING, budget, value)

    def build(accounts):
        held = accounts.get(AccountKind.FUND_HELD)
        if held is None or value > held.balance.amount:
            raise BudgetExceeded("The direct payment does not hold that much.")
        return [(held, -value), (council_account(AccountKind.FUNDS_ISSUED), value)]

    return _idempotent(
        key, fingerprint, build, kind=Kind.FUND_SPENDING, budget=budget, actor=actor, memo=memo or "Spending"
    )


def record_fund_recovery(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """Surplus taken back from a direct payment or fund: it leaves what the budget's funds hold and
    goes to the council's `reclaimed` (fund held → reclaimed). The budget's `paid` is unchanged:
    the money was paid out, and has come back to the council, not to the budget."""
    value = _positive(amount, "recovery", budget)
    fingerprint = _fingerprint(Kind.FUND_RECOVERY, budget, value)

    def build(accounts):
        held = accounts.get(AccountKind.FUND_HELD)
        if held is None or value > held.balance.amount:
            raise BudgetExceeded("The direct payment does not hold that much.")
        return [(held, -value), (council_account(AccountKind.RECLAIMED), value)]

    return _idempotent(
        key, fingerprint, build, kind=Kind.FUND_RECOVERY, budget=budget, actor=actor, memo=memo or "Surplus recovered"
    )


def _open(budget: PersonalBudget, kind: str) -> LedgerAccount:
    """An account a budget gets only when first needed (its funds), under the budget's locks."""
    account, _ = LedgerAccount.objects.get_or_create(
        budget=budget, kind=kind, defaults={"code": _account_code(budget.pk, kind)}
    )
    return account


def reclaim(
    *, budget: PersonalBudget, amount: Money, key: str, actor: User | None = None, memo: str = ""
) -> LedgerTransaction:
    """Return unspent, uncommitted money to the council: available → reclaimed."""
    value = _positive(amount, "reclaim", budget)
    fingerprint = _fingerprint(Kind.RECLAIM, budget, value)

    def build(accounts):
        available = accounts[AccountKind.AVAILABLE]
        if value > available.balance.amount:
            raise BudgetExceeded(f"Only {format_money(available.balance.amount)} is available to reclaim.")
        movements = [(available, -value), (council_account(AccountKind.RECLAIMED), value)]
        return movements

    return _idempotent(
        key, fingerprint, build, kind=Kind.RECLAIM, budget=budget, actor=actor, memo=memo or "Unspent money reclaimed"
    )


def reverse(*, original: LedgerTransaction, key: str, actor: User | None = None, memo: str = "") -> LedgerTransaction:
    """Undo a transaction with its mirror image. Each transaction is reversed at most once, and
    not if that would leave one of the budget's accounts below zero."""
    budget = original.budget
    fingerprint = _fingerprint(Kind.REVERSAL, budget, Decimal(0), reverses=original)

    def build(accounts):
        if LedgerTransaction.objects.filter(reverses=original).exclude(idempotency_key=key).exists():
            raise AlreadyReversed()
        by_id = {a.pk: a for a in accounts.values()}
        movements = []
        for posting in original.postings.select_related("account"):
            account = by_id.get(posting.account_id, posting.account)
            value = -posting.amount.amount
            if account.budget_id and account.balance.amount + value < 0:
                raise BudgetExceeded(f"Reversing this would leave {account.get_kind_display().lower()} below zero.")
            movements.append((account, value))
        return movements

    try:
        return _idempotent(
            key,
            fingerprint,
            build,
            kind=Kind.REVERSAL,
            budget=budget,
            actor=actor,
            memo=memo or f"Reversal of {original}",
            reverses=original,
        )
    except IntegrityError as exc:  # another reversal of the same transaction won the race
        raise AlreadyReversed() from exc


# --- many movements at once (payment runs) ---------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One movement for `record_many`: what `record_payment`, `record_fund_load` or
    `record_contribution` would be called with."""

    kind: str
    budget: PersonalBudget
    amount: Money
    key: str
    memo: str = ""


_MANY = {
    Kind.PAYMENT: ("payment", _payment_movements, "Payment"),
    Kind.FUND_LOAD: ("load", _fund_load_movements, "Direct payment load"),
    Kind.CONTRIBUTION: ("contribution", _contribution_movements, "Contribution"),
}


def _currency(budget: PersonalBudget) -> str:
    return str(budget.indicative_amount.currency)


def _open_funds_held(entries: list[Entry], locked: dict[int, dict[str, LedgerAccount]]) -> None:
    """The funds-held accounts the call's loads need and their budgets do not have yet, opened
    together and locked (`_open` one at a time cost a savepoint and two statements a budget: a
    whole run's worth when every holder's first load is paid, as when direct payments start)."""
    missing = sorted(
        {
            entry.budget.pk
            for entry in entries
            if entry.kind == Kind.FUND_LOAD and AccountKind.FUND_HELD not in locked[entry.budget.pk]
        }
    )
    if not missing:
        return
    kind = AccountKind.FUND_HELD
    LedgerAccount.objects.bulk_create(
        [LedgerAccount(budget_id=pk, kind=kind, code=_account_code(pk, kind)) for pk in missing], ignore_conflicts=True
    )
    opened = LedgerAccount.objects.select_for_update().filter(budget_id__in=missing, kind=kind).order_by("id")
    for account in opened:
        locked[account.budget_id][kind] = account


def record_many(entries: list[Entry], *, actor: User | None = None) -> dict[str, LedgerTransaction]:
    """Payments, fund loads and contributions in bulk, by key: the same rules, checks and
    idempotency as one at a time, in a handful of statements however many there are.

    Why: a payment run of thousands spent most of its time here, several statements per movement.
    The budgets' accounts are locked together (in id order, as one movement locks them), keys
    seen before are replayed (a different movement under one is refused, the whole call with it),
    each movement is checked against the balances the earlier ones in the list left, and the
    budget accounts' new balances are written as absolute figures (they are locked); the council's
    accounts, shared by every budget, move by their totals with one atomic update each.
    """
    if not entries:
        return {}
    for entry in entries:
        if entry.kind not in _MANY:
            raise InvalidInput(f"{entry.kind} movements cannot be recorded in bulk.", field="kind")
    values = [_positive(entry.amount, _MANY[entry.kind][0], entry.budget) for entry in entries]
    fingerprints = [_fingerprint(e.kind, e.budget, v) for e, v in zip(entries, values, strict=True)]
    done: dict[str, LedgerTransaction] = {}
    with transaction.atomic():
        locked: dict[int, dict[str, LedgerAccount]] = defaultdict(dict)
        budget_ids = sorted({entry.budget.pk for entry in entries})
        for account in LedgerAccount.objects.select_for_update().filter(budget_id__in=budget_ids).order_by("id"):
            locked[account.budget_id][account.kind] = account
        _open_funds_held(entries, locked)
        keys = [entry.key for entry in entries]
        for tx in LedgerTransaction.objects.filter(idempotency_key__in=keys):
            done[tx.idempotency_key] = tx
        new: list[tuple[LedgerTransaction, list[Movement]]] = []
        council_accounts: dict[str, LedgerAccount] = {}

        def council(kind: str) -> LedgerAccount:  # each council account looked up once per call
            if kind not in council_accounts:
                council_accounts[kind] = council_account(kind)
            return council_accounts[kind]

        moved: dict[int, Decimal] = defaultdict(Decimal)
        touched: dict[int, LedgerAccount] = {}
        for entry, value, fingerprint in zip(entries, values, fingerprints, strict=True):
            if not entry.key:
                raise InvalidInput("Every ledger movement needs an idempotency key.", field="idempotency_key")
            if entry.key in done:
                if done[entry.key].fingerprint != fingerprint:
                    raise IdempotencyConflict(f"The key “{entry.key}” was already used for a different movement.")
                continue
            accounts = locked[entry.budget.pk]
            movements = _MANY[entry.kind][1](accounts, value, entry.budget, council)
            if sum(amount for _, amount in movements) != 0 or any(amount == 0 for _, amount in movements):
                raise Unbalanced()
            currency = _currency(entry.budget)
            for account, amount in movements:
                if account.budget_id is None:
                    moved[account.pk] += amount
                else:
                    account.balance = Money(account.balance.amount + amount, currency)
                    touched[account.pk] = account
            tx = LedgerTransaction(
                kind=entry.kind,
                budget=entry.budget,
                idempotency_key=entry.key,
                fingerprint=fingerprint,
                memo=(entry.memo or _MANY[entry.kind][2])[:300],
                created_by=actor,
            )
            done[entry.key] = tx
            new.append((tx, movements))
        if not new:
            return done
        LedgerTransaction.objects.bulk_create([tx for tx, _ in new])
        LedgerPosting.objects.bulk_create(
            [
                LedgerPosting(transaction=tx, account=account, amount=Money(amount, _currency(tx.budget)))
                for tx, movements in new
                for account, amount in movements
            ]
        )
        update_each(LedgerAccount, ["balance"], [(a.pk, a.balance.amount) for a in touched.values()])
        for account_id, delta in sorted(moved.items()):
            LedgerAccount.objects.filter(pk=account_id).update(balance=F("balance") + delta)
        audit_record_many(
            [
                audit_event(
                    actor=actor,
                    action=AuditAction.CREATE,
                    target=tx,
                    subject=tx.budget.client,
                    changes={"kind": tx.kind, "postings": {a.code: str(amount) for a, amount in movements}},
                    message=tx.memo,
                )
                for tx, movements in new
            ]
        )
    return done

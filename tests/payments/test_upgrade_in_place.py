"""Upgrade in place: a council's PostgreSQL database, filled by `seed_demo` on the schema from before
the `payments` app (commit 519a0ca), migrates to today's schema with every invoice, payment and
ledger figure unchanged.

`data/old_schema_seed_demo.sql.gz` is `pg_dump --no-owner --no-privileges` of that database after
`migrate` and `seed_demo` on the old code, with one change made by hand before dumping: the first
verified provider was given a Stripe connected account (`acct_upgrade_test`, onboarded), so the move
of that account from `providers_provider` onto `payments_payeeaccount` is exercised. The dump stands
for a live database: it is never regenerated from newer code.

The upgrade runs in a scratch database of its own, not in pytest-django's test database (which the
new migrations build from empty): load the dump with psql, read the old figures with raw SQL, run
today's `manage.py migrate` in a subprocess, then read the new figures with raw SQL and, in a second
subprocess, through the new code's ORM and `budgets.selectors`. Every comparison is exact: the same
ids, the same values, and Decimals with the same digits and places (1.50 is not 1.5).
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="upgrades a PostgreSQL dump in place: needs DATABASE_URL to name a PostgreSQL server",
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DUMP = Path(__file__).parent / "data" / "old_schema_seed_demo.sql.gz"
# Settings `manage.py` uses when DJANGO_SETTINGS_MODULE is unset: what an operator upgrading runs.
UPGRADE_SETTINGS = "marketplace.settings.base"
SUBPROCESS_TIMEOUT = 600
STRIPE_ACCOUNT_IN_DUMP = "acct_upgrade_test"
PENNY = Decimal("0.01")


@dataclass(frozen=True)
class MovedTable:
    """A table the `payments` app takes over, and the columns that must come through unchanged
    (besides `id`, which every comparison matches rows by)."""

    old: str
    new: str
    columns: tuple[str, ...]
    old_model: tuple[str, str]  # (app_label, model) in django_content_type before the move

    @property
    def new_model(self) -> tuple[str, str]:
        return ("payments", self.old_model[1])


MOVED_TABLES = (
    MovedTable(
        old="careplans_invoice",
        new="payments_invoice",
        columns=(
            "status",
            "amount",
            "amount_currency",
            "units",
            "unit_price",
            "unit_price_currency",
            "line_id",
            "provider_id",
            "plan_id",
            "paid_at",
        ),
        old_model=("careplans", "invoice"),
    ),
    MovedTable(
        old="approvals_paymentrun",
        new="payments_paymentrun",
        columns=("payment_count", "total", "total_currency", "gateway", "finished_at"),
        old_model=("approvals", "paymentrun"),
    ),
    MovedTable(
        old="approvals_payment",
        new="payments_payment",
        columns=(
            "status",
            "amount",
            "amount_currency",
            "run_id",
            "invoice_id",
            "provider_id",
            "budget_id",
            "idempotency_key",
            "transfer_id",
            "ledger_transaction_id",
            "paid_at",
        ),
        old_model=("approvals", "payment"),
    ),
    MovedTable(
        old="approvals_stripeevent",
        new="payments_stripeevent",
        columns=("event_id", "type", "payload", "received_at", "processed_at", "outcome"),
        old_model=("approvals", "stripeevent"),
    ),
    MovedTable(
        old="budgets_ledgergatewaytransfer",
        new="payments_ledgergatewaytransfer",
        columns=(
            "transfer_id",
            "idempotency_key",
            "group",
            "destination",
            "amount",
            "amount_currency",
            "metadata",
            "reversed",
        ),
        old_model=("budgets", "ledgergatewaytransfer"),
    ),
)

# The budgets ledger stays where it is (budgets/models/ledger.py): same tables before and after.
LEDGER_TABLES = ("budgets_ledgeraccount", "budgets_ledgertransaction", "budgets_ledgerposting")

Rows = dict[int, dict[str, Any]]


# --- The scratch database ----------------------------------------------------------------------


def _server() -> dict[str, str]:
    """Host, port, user and password of the server the suite's default database lives on."""
    default = settings.DATABASES["default"]
    return {
        "host": default.get("HOST") or "127.0.0.1",
        "port": str(default.get("PORT") or 5432),
        "user": default.get("USER") or "postgres",
        "password": default.get("PASSWORD") or "",
    }


def _connect(dbname: str) -> psycopg.Connection:
    server = _server()
    return psycopg.connect(
        host=server["host"],
        port=server["port"],
        user=server["user"],
        password=server["password"] or None,
        dbname=dbname,
        autocommit=True,
    )


def _database_url(dbname: str) -> str:
    server = _server()
    auth = quote(server["user"], safe="")
    if server["password"]:
        auth += ":" + quote(server["password"], safe="")
    return f"postgres://{auth}@{server['host']}:{server['port']}/{quote(dbname, safe='')}"


def _create_database(dbname: str) -> None:
    with _connect("postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def _drop_database(dbname: str) -> None:
    # FORCE: a failed subprocess may have left a connection open.
    with _connect("postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def _load_dump(dbname: str) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.fail("psql (the PostgreSQL client) is needed to load the old-schema dump; it is not on PATH.")
    server = _server()
    env = {**os.environ, "PGPASSWORD": server["password"]} if server["password"] else None
    connection_args = ["-h", server["host"], "-p", server["port"], "-U", server["user"], "-d", dbname]
    result = subprocess.run(  # noqa: S603  (our own command line)
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", *connection_args],
        input=gzip.decompress(DUMP.read_bytes()),
        capture_output=True,
        env=env,
        timeout=SUBPROCESS_TIMEOUT,
    )
    if result.returncode != 0:
        pytest.fail(f"psql could not load {DUMP.name} (exit {result.returncode}):\n{result.stderr.decode()}")


def _manage(dbname: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run today's `manage.py` from the repository root against the scratch database."""
    env = {**os.environ, "DATABASE_URL": _database_url(dbname), "DJANGO_SETTINGS_MODULE": UPGRADE_SETTINGS}
    return subprocess.run(  # noqa: S603  (our own command line)
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )


def _migrate(dbname: str) -> None:
    result = _manage(dbname, "migrate", "--no-input")
    if result.returncode != 0:
        pytest.fail(
            f"manage.py migrate failed on the old-schema database (exit {result.returncode}).\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )


# --- Reading figures with raw SQL ----------------------------------------------------------------


def _rows(cur: psycopg.Cursor, table: str, columns: tuple[str, ...]) -> Rows:
    """{id: {column: value}} for every row of the table."""
    query = sql.SQL("SELECT id, {columns} FROM {table} ORDER BY id").format(
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        table=sql.Identifier(table),
    )
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in cur.execute(query)}


def _next_id(cur: psycopg.Cursor, table: str) -> int:
    """The id the table's identity sequence will hand out next (read without consuming it)."""
    (sequence,) = cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table]).fetchone()
    assert sequence, f"{table}.id has no sequence"
    query = sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(sequence))
    last_value, is_called = cur.execute(query).fetchone()
    return last_value + 1 if is_called else last_value


def _table_exists(cur: psycopg.Cursor, table: str) -> bool:
    return cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{table}"]).fetchone()[0]


def _columns(cur: psycopg.Cursor, table: str) -> set[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
        [table],
    )
    return {name for (name,) in cur}


def _read_ledger(cur: psycopg.Cursor) -> dict[str, Any]:
    """The budgets ledger: row counts, every account with its running balance, and what the
    postings on each account add up to."""
    counts = {
        table: cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
        for table in LEDGER_TABLES
    }
    accounts = _rows(cur, "budgets_ledgeraccount", ("code", "kind", "budget_id", "balance", "balance_currency"))
    cur.execute(
        "SELECT account_id, amount_currency, sum(amount) FROM budgets_ledgerposting "
        "GROUP BY account_id, amount_currency ORDER BY account_id, amount_currency"
    )
    posting_sums = {(account_id, currency): total for account_id, currency, total in cur}
    return {"counts": counts, "accounts": accounts, "posting_sums": posting_sums}


def _figures_json(by_kind: dict[str, Decimal], currency: str) -> dict[str, list[str]]:
    """The four figures from per-kind amounts exactly as `budgets.selectors._figures` derives them
    (a missing kind counts as 0, `committed` includes what is paid, `allocated` is all three), in
    the JSON shape the ORM script prints."""
    available = by_kind.get("available", Decimal(0))
    committed = by_kind.get("committed", Decimal(0))
    paid = by_kind.get("paid", Decimal(0))
    return {
        "allocated": [str(available + committed + paid), currency],
        "committed": [str(committed + paid), currency],
        "paid": [str(paid), currency],
        "available": [str(available), currency],
    }


def _expected_budget_figures(cur: psycopg.Cursor) -> dict[str, dict[str, dict[str, list[str]]]]:
    """Each budget's figures as the two selectors derive them: `budget_figures` from the accounts'
    running balances, `budget_figures_from_postings` from the postings summed by account kind and
    rounded to the penny (an account without postings is then missing, so it reads as a bare 0)."""
    currencies = dict(cur.execute("SELECT id, indicative_amount_currency FROM budgets_personalbudget"))
    balances: dict[int, dict[str, Decimal]] = {budget_id: {} for budget_id in currencies}
    cur.execute("SELECT budget_id, kind, balance FROM budgets_ledgeraccount WHERE budget_id IS NOT NULL")
    for budget_id, kind, balance in cur:
        balances[budget_id][kind] = balance
    posted: dict[int, dict[str, Decimal]] = {budget_id: {} for budget_id in currencies}
    cur.execute(
        "SELECT a.budget_id, a.kind, sum(p.amount) FROM budgets_ledgerposting p "
        "JOIN budgets_ledgeraccount a ON a.id = p.account_id WHERE a.budget_id IS NOT NULL "
        "GROUP BY a.budget_id, a.kind"
    )
    for budget_id, kind, total in cur:
        posted[budget_id][kind] = total.quantize(PENNY, rounding=ROUND_HALF_UP)
    return {
        "budget_figures": {str(b): _figures_json(balances[b], currencies[b]) for b in sorted(currencies)},
        "budget_figures_from_postings": {str(b): _figures_json(posted[b], currencies[b]) for b in sorted(currencies)},
    }


def _totals_by_status(cur: psycopg.Cursor, table: str) -> list[list[Any]]:
    """[[status, currency, count, total]] in the JSON shape the ORM script prints."""
    cur.execute(
        sql.SQL(
            "SELECT status, amount_currency, count(*), sum(amount) FROM {} GROUP BY status, amount_currency"
        ).format(sql.Identifier(table))
    )
    return sorted([status, currency, count, str(total)] for status, currency, count, total in cur)


def _history(cur: psycopg.Cursor, app_label: str, model: str) -> dict[str, list[str]]:
    """The audit events and django-fsm-log state logs filed under one content type: the ids of
    the objects they are about."""
    cur.execute(
        "SELECT a.target_id FROM accounts_auditevent a JOIN django_content_type ct ON ct.id = a.target_type_id "
        "WHERE ct.app_label = %s AND ct.model = %s ORDER BY a.id",
        [app_label, model],
    )
    audit = [target_id for (target_id,) in cur]
    cur.execute(
        "SELECT s.object_id FROM django_fsm_log_statelog s JOIN django_content_type ct ON ct.id = s.content_type_id "
        "WHERE ct.app_label = %s AND ct.model = %s ORDER BY s.id",
        [app_label, model],
    )
    state_log = [str(object_id) for (object_id,) in cur]
    return {"audit events": audit, "state logs": state_log}


def _read_before(dbname: str) -> dict[str, Any]:
    """The old schema's figures, straight from its tables."""
    with _connect(dbname) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT id, stripe_account_id, stripe_onboarded FROM providers_provider "
            "WHERE stripe_account_id <> '' ORDER BY id"
        )
        stripe_accounts = cur.fetchall()
        return {
            "tables": {t.old: _rows(cur, t.old, t.columns) for t in MOVED_TABLES},
            "next_ids": {t.old: _next_id(cur, t.old) for t in MOVED_TABLES},
            "history": {t.old: _history(cur, *t.old_model) for t in MOVED_TABLES},
            "ledger": _read_ledger(cur),
            "stripe_accounts": stripe_accounts,
            "budget_figures": _expected_budget_figures(cur),
            "invoice_totals": _totals_by_status(cur, "careplans_invoice"),
            "payment_totals": _totals_by_status(cur, "approvals_payment"),
        }


def _read_after(dbname: str) -> dict[str, Any]:
    """The new schema's figures, straight from its tables (a missing table reads as None, so each
    test reports its own part of an incomplete upgrade)."""
    with _connect(dbname) as conn, conn.cursor() as cur:
        existing = {t.new for t in MOVED_TABLES if _table_exists(cur, t.new)}
        payee_accounts = None
        if _table_exists(cur, "payments_payeeaccount"):
            cur.execute(
                "SELECT provider_id, person_id, gateway, account_id, ready FROM payments_payeeaccount ORDER BY id"
            )
            payee_accounts = cur.fetchall()
        return {
            "tables": {t.new: _rows(cur, t.new, t.columns) if t.new in existing else None for t in MOVED_TABLES},
            "next_ids": {t.new: _next_id(cur, t.new) if t.new in existing else None for t in MOVED_TABLES},
            "old_tables_left": sorted(t.old for t in MOVED_TABLES if _table_exists(cur, t.old)),
            "history": {t.new: _history(cur, *t.new_model) for t in MOVED_TABLES},
            "ledger": _read_ledger(cur),
            "payee_accounts": payee_accounts,
            "provider_columns": _columns(cur, "providers_provider"),
        }


# --- Reading figures through the new code ---------------------------------------------------------

# Printed after a marker so nothing else the shell writes to stdout can spoil the JSON.
ORM_MARKER = "UPGRADE-FIGURES "
ORM_SCRIPT = """
import json
from django.db.models import Count, Sum
from budgets.models import PersonalBudget
from budgets.selectors import budget_figures, budget_figures_from_postings
from payments.models import Invoice, Payment

def as_json(figures):
    return {
        name: [str(getattr(figures, name).amount), str(getattr(figures, name).currency)]
        for name in ("allocated", "committed", "paid", "available")
    }

def totals_by_status(model):
    rows = model.objects.values("status", "amount_currency").annotate(n=Count("pk"), total=Sum("amount"))
    return sorted([row["status"], row["amount_currency"], row["n"], str(row["total"])] for row in rows)

budgets = list(PersonalBudget.objects.order_by("pk"))
print(MARKER + json.dumps({
    "budget_figures": {str(b.pk): as_json(budget_figures(b)) for b in budgets},
    "budget_figures_from_postings": {str(b.pk): as_json(budget_figures_from_postings(b)) for b in budgets},
    "invoice_totals": totals_by_status(Invoice),
    "payment_totals": totals_by_status(Payment),
}))
"""


def _read_through_orm(dbname: str) -> dict[str, Any] | str:
    """The figures as the new code reads them, or why the script failed (reported by the tests
    that need them, so the raw-SQL tests still report on their own)."""
    script = f"MARKER = {ORM_MARKER!r}\n{ORM_SCRIPT}"
    result = _manage(dbname, "shell", "--no-imports", "-c", script)
    lines = [line for line in result.stdout.splitlines() if line.startswith(ORM_MARKER)]
    if result.returncode != 0 or len(lines) != 1:
        return (
            f"the ORM figures script failed on the upgraded database (exit {result.returncode}).\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return json.loads(lines[0].removeprefix(ORM_MARKER))


# --- The upgrade, once for the module ----------------------------------------------------------


@dataclass(frozen=True)
class Upgrade:
    before: dict[str, Any]
    after: dict[str, Any]
    through_orm: dict[str, Any] | str  # a str says why the ORM script failed

    def __repr__(self) -> str:  # pytest prints fixtures in failure reports; the figures would swamp them
        return "Upgrade(...)"


@pytest.fixture(scope="module")
def upgrade() -> Iterator[Upgrade]:
    dbname = f"cairn_upgrade_{secrets.token_hex(6)}"
    _create_database(dbname)
    try:
        _load_dump(dbname)
        before = _read_before(dbname)
        _migrate(dbname)
        yield Upgrade(before=before, after=_read_after(dbname), through_orm=_read_through_orm(dbname))
    finally:
        _drop_database(dbname)


# --- Comparing ---------------------------------------------------------------------------------


def _identical(old: Any, new: Any) -> bool:
    """Equal and of the same type; a Decimal also with the same digits and places."""
    if type(old) is not type(new):
        return False
    if isinstance(old, Decimal):
        return old.as_tuple() == new.as_tuple()
    return old == new


def _row_differences(before: Rows, after: Rows) -> list[str]:
    """Every way `after` differs from `before`: ids lost or gained, then each changed value."""
    differences = []
    if lost := sorted(before.keys() - after.keys()):
        differences.append(f"rows lost: ids {lost}")
    if gained := sorted(after.keys() - before.keys()):
        differences.append(f"rows gained: ids {gained}")
    for row_id in sorted(before.keys() & after.keys()):
        for column, old in before[row_id].items():
            new = after[row_id][column]
            if not _identical(old, new):
                differences.append(f"id {row_id}, {column}: {old!r} became {new!r}")
    return differences


def _describe(differences: list[str]) -> str:
    return "\n  ".join(differences)


# --- The tests -----------------------------------------------------------------------------------


def test_the_old_schema_dump_holds_the_money_this_test_is_about(upgrade):
    """Guards the fixture: an empty dump would make every comparison below pass vacuously."""
    tables = upgrade.before["tables"]
    assert tables["careplans_invoice"], "the dump has no invoices"
    assert tables["approvals_payment"], "the dump has no payments"
    assert tables["approvals_paymentrun"], "the dump has no payment runs"
    assert tables["budgets_ledgergatewaytransfer"], "the dump has no ledger gateway transfers"
    assert all(upgrade.before["ledger"]["counts"].values()), "the dump's ledger is empty"
    assert [(account_id, onboarded) for _, account_id, onboarded in upgrade.before["stripe_accounts"]] == [
        (STRIPE_ACCOUNT_IN_DUMP, True)
    ]


@pytest.mark.parametrize("table", MOVED_TABLES, ids=lambda t: f"{t.old}->{t.new}")
def test_every_row_of_a_moved_table_comes_through_unchanged(upgrade, table):
    after = upgrade.after["tables"][table.new]
    assert after is not None, f"{table.new} does not exist after the upgrade"
    differences = _row_differences(upgrade.before["tables"][table.old], after)
    assert not differences, f"{table.old} -> {table.new}:\n  {_describe(differences)}"


@pytest.mark.parametrize("table", MOVED_TABLES, ids=lambda t: f"{t.old}->{t.new}")
def test_a_moved_table_never_hands_out_an_id_it_has_used(upgrade, table):
    """A table rebuilt and refilled rather than renamed restarts its sequence at 1: the next
    invoice or payment would then collide with an existing id."""
    next_id = upgrade.after["next_ids"][table.new]
    assert next_id is not None, f"{table.new} does not exist after the upgrade"
    assert next_id >= upgrade.before["next_ids"][table.old], (
        f"{table.new} would next use id {next_id}; {table.old} had reached {upgrade.before['next_ids'][table.old]}"
    )


def test_the_moved_tables_leave_no_copy_behind(upgrade):
    left = upgrade.after["old_tables_left"]
    assert left == [], f"old tables still exist beside the new ones: {left}"


def test_the_budgets_ledger_is_untouched(upgrade):
    before, after = upgrade.before["ledger"], upgrade.after["ledger"]
    assert after["counts"] == before["counts"]
    differences = _row_differences(before["accounts"], after["accounts"])
    assert not differences, f"budgets_ledgeraccount:\n  {_describe(differences)}"
    assert after["posting_sums"].keys() == before["posting_sums"].keys()
    changed = [
        f"account {key}: {old!r} became {after['posting_sums'][key]!r}"
        for key, old in before["posting_sums"].items()
        if not _identical(old, after["posting_sums"][key])
    ]
    assert not changed, f"budgets_ledgerposting sums:\n  {_describe(changed)}"


def test_a_providers_stripe_account_becomes_its_payee_account(upgrade):
    payee_accounts = upgrade.after["payee_accounts"]
    assert payee_accounts is not None, "payments_payeeaccount does not exist after the upgrade"
    (provider_id, _, _) = upgrade.before["stripe_accounts"][0]
    assert [row for row in payee_accounts if row[0] == provider_id] == [
        (provider_id, None, "stripe", STRIPE_ACCOUNT_IN_DUMP, True)
    ]
    # Every provider that had an account has exactly one payee account, and no other provider has one.
    expected = sorted(
        (pid, None, "stripe", account_id, onboarded) for pid, account_id, onboarded in upgrade.before["stripe_accounts"]
    )
    assert sorted(row for row in payee_accounts if row[0] is not None) == expected
    moved_columns = {"stripe_account_id", "stripe_onboarded"} & upgrade.after["provider_columns"]
    assert not moved_columns, f"providers_provider still has {sorted(moved_columns)}"


def _orm_figures(upgrade: Upgrade) -> dict[str, Any]:
    if isinstance(upgrade.through_orm, str):
        pytest.fail(upgrade.through_orm)
    return upgrade.through_orm


def test_budget_figures_through_the_new_code_match_the_old_ledger(upgrade):
    through_orm = _orm_figures(upgrade)
    expected = upgrade.before["budget_figures"]
    assert through_orm["budget_figures"] == expected["budget_figures"]
    assert through_orm["budget_figures_from_postings"] == expected["budget_figures_from_postings"]


def test_invoice_and_payment_totals_by_status_through_the_new_code_match_the_old_tables(upgrade):
    through_orm = _orm_figures(upgrade)
    assert through_orm["invoice_totals"] == upgrade.before["invoice_totals"]
    assert through_orm["payment_totals"] == upgrade.before["payment_totals"]


@pytest.mark.parametrize("table", MOVED_TABLES, ids=lambda t: f"{t.old}->{t.new}")
def test_the_history_of_a_moved_model_follows_it(upgrade, table):
    """Audit events and state logs name their object by content type. Audit events are append-only
    (a trigger refuses UPDATE), so the only way their history stays attached is for the old
    content type row itself to become payments.<model>: a fresh one made by `migrate` has none."""
    before = upgrade.before["history"][table.old]
    after = upgrade.after["history"][table.new]
    assert after == before, (
        f"{'.'.join(table.old_model)} had {len(before['audit events'])} audit events and "
        f"{len(before['state logs'])} state logs; {'.'.join(table.new_model)} has "
        f"{len(after['audit events'])} and {len(after['state logs'])}"
    )

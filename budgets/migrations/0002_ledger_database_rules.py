"""Rules the database enforces on the ledger, whatever code runs against it.

- Transactions and postings are append-only: UPDATE is refused (PostgreSQL and SQLite), DELETE
  too on PostgreSQL (on SQLite a DELETE trigger would also block Django's test flush).
- On PostgreSQL a deferred constraint trigger checks, when each database transaction commits,
  that every ledger transaction it touched has postings summing to zero in a single currency.
"""

from django.db import migrations

TABLES = ("budgets_ledgertransaction", "budgets_ledgerposting")

PG_FORWARD = """
CREATE OR REPLACE FUNCTION budgets_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER budgets_ledgertransaction_append_only BEFORE UPDATE OR DELETE ON budgets_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION budgets_ledger_refuse_change();
CREATE TRIGGER budgets_ledgerposting_append_only BEFORE UPDATE OR DELETE ON budgets_ledgerposting
    FOR EACH ROW EXECUTE FUNCTION budgets_ledger_refuse_change();

CREATE OR REPLACE FUNCTION budgets_ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    total numeric;
    currencies integer;
BEGIN
    SELECT COALESCE(SUM(amount), 0), COUNT(DISTINCT amount_currency) INTO total, currencies
      FROM budgets_ledgerposting WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 OR currencies <> 1 THEN
        RAISE EXCEPTION USING MESSAGE = 'ledger transaction ' || NEW.transaction_id
            || ' does not balance in one currency (sum ' || total || ', currencies ' || currencies || ')';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER budgets_ledgerposting_balanced AFTER INSERT ON budgets_ledgerposting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION budgets_ledger_check_balanced();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS budgets_ledgerposting_balanced ON budgets_ledgerposting;
DROP FUNCTION IF EXISTS budgets_ledger_check_balanced();
DROP TRIGGER IF EXISTS budgets_ledgertransaction_append_only ON budgets_ledgertransaction;
DROP TRIGGER IF EXISTS budgets_ledgerposting_append_only ON budgets_ledgerposting;
DROP FUNCTION IF EXISTS budgets_ledger_refuse_change();
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END;"
            )


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only;")


class Migration(migrations.Migration):
    dependencies = [("budgets", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]

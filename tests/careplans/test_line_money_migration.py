"""careplans 0008: existing lines take their plan's choice of how the money is managed, except
lines already invoiced (the council paid those providers, so they stay council-managed).

The test database is migrated back to careplans 0007 (where every line is council-managed, the
column's default), given plans managed each way, with and without invoices, and migrated forward
to the latest migrations, which it is always left at. In-process with Django's MigrationExecutor,
so it runs on SQLite and PostgreSQL alike (a transactional test: migrations cannot run inside the
test's transaction).
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from careplans.models import CarePlan, PlanLine
from payments.models import Invoice
from tests import factories
from tests.payments.invoice_fixtures import build_invoicing, submit

BEFORE = ("careplans", "0007_line_money_management")
COUNCIL = "council_managed"
DP = "direct_payment"
ISF = "individual_service_fund"
CHECKLIST = {"outcomes": True, "costs": True, "risks": True, "management": True, "contacts": True}


def migrate_to(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    migrate_to(executor.loader.graph.leaf_nodes())


@pytest.fixture
def at_latest_afterwards():
    """Whatever happens in the test, the database ends at the latest migrations."""
    yield
    migrate_to_latest()
    assert not MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes())


def plan_for(make_budget, make_plan, make_service, way: str, *, n_lines: int = 2) -> CarePlan:
    """A new client's draft plan of `n_lines` lines whose `money_management` is `way`."""
    person = factories.ClientFactory()
    budget = make_budget(person, "5000.00")
    start = budget.period_start
    lines = [
        {"service": make_service(f"Service {way} {i}").pk, "quantity": "1", "start": start} for i in range(n_lines)
    ]
    return make_plan(person, budget, lines=lines, money_management=way)


@pytest.mark.django_db(transaction=True)
def test_lines_take_their_plans_way_of_paying_unless_already_invoiced(
    at_latest_afterwards,
    make_budget,
    make_plan,
    make_service,
    make_provider,
    client_user,
    social_worker,
    caseload,
):
    # An approved plan with an invoice on one line, made council-managed through and through,
    # then (as a plan could say before lines had their own way) marked as a direct payment.
    inv = build_invoicing(
        make_budget=make_budget,
        make_plan=make_plan,
        make_service=make_service,
        make_provider=make_provider,
        client=client_user,
        social_worker=social_worker,
        checklist=dict(CHECKLIST),
    )
    invoice = submit(inv, first=1, last=7, units="2")
    CarePlan.objects.filter(pk=inv.plan.pk).update(money_management=DP)
    direct = plan_for(make_budget, make_plan, make_service, DP)
    fund = plan_for(make_budget, make_plan, make_service, ISF)
    council = plan_for(make_budget, make_plan, make_service, COUNCIL)
    empty = plan_for(make_budget, make_plan, make_service, DP, n_lines=0)

    executor = migrate_to([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    OldLine = old.get_model("careplans", "PlanLine")
    # At 0007 every line is council-managed, the new column's default.
    OldLine.objects.update(money_management=COUNCIL)
    assert set(OldLine.objects.values_list("money_management", flat=True)) == {COUNCIL}
    assert OldLine.objects.count() == 9

    migrate_to_latest()

    def ways(plan) -> list[str]:
        return list(PlanLine.objects.filter(plan=plan).order_by("position").values_list("money_management", flat=True))

    assert ways(inv.plan) == [COUNCIL, DP, DP]  # the invoiced line stays council-managed
    assert ways(direct) == [DP, DP]
    assert ways(fund) == [ISF, ISF]
    assert ways(council) == [COUNCIL, COUNCIL]
    assert ways(empty) == []
    # Nothing else about the lines, the plans or the invoice moved.
    assert Invoice.objects.get().pk == invoice.pk and Invoice.objects.get().line_id == inv.line.pk
    assert PlanLine.objects.get(pk=inv.line.pk).units_per_week == Decimal("2")
    assert CarePlan.objects.get(pk=inv.plan.pk).money_management == DP
    assert CarePlan.objects.get(pk=inv.plan.pk).total_cost == inv.plan.total_cost
    assert inv.start < datetime.date.today()


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_can_be_run_backwards_and_leaves_the_lines_as_they_are(
    at_latest_afterwards, make_budget, make_plan, make_service, client_user
):
    direct = plan_for(make_budget, make_plan, make_service, DP)
    assert set(PlanLine.objects.filter(plan=direct).values_list("money_management", flat=True)) == {DP}
    migrate_to([BEFORE])
    assert set(PlanLine.objects.filter(plan=direct).values_list("money_management", flat=True)) == {DP}
    migrate_to_latest()
    assert set(PlanLine.objects.filter(plan=direct).values_list("money_management", flat=True)) == {DP}

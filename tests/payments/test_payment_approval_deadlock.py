"""A payment completing while the next version of its plan is approved: both finish (PostgreSQL).

The payment holds the budget's ledger rows and then needs the plan row (what the plan has paid);
approving the next version holds the old version's row and then needs the ledger rows. Taken in
opposite orders, PostgreSQL detects a deadlock and one side fails. The threads are paused at the
worst moment to make the race certain."""

import threading

import pytest
from django.db import DatabaseError, connection, connections

import approvals.services.workflow as wf
import payments.services.runs as runs
from approvals import services as workflow
from careplans import services as plan_services
from payments import services
from payments.models import Payment, PaymentRun
from tests.payments.payment_fixtures import CHECKLIST, pay_world, reload  # noqa: F401  (pytest fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_a_payment_and_the_approval_of_the_plans_next_version_at_once_both_succeed(pay_world, monkeypatch):  # noqa: F811
    w = pay_world
    invoice = w.invoice()
    new = plan_services.plan_new_version(actor=w.client, plan=w.plan)
    workflow.plan_submit(actor=w.client, plan=new)
    workflow.plan_start_review(actor=w.social_worker, plan=new)
    run = PaymentRun.objects.create(started_by=w.finance, gateway="ledger")
    payment = Payment.objects.create(
        run=run,
        invoice=invoice,
        provider_id=invoice.provider_id,
        budget_id=invoice.plan.budget_id,
        amount=invoice.amount,
        idempotency_key="k-1",
    )

    a_has_ledger, b_has_prev = threading.Event(), threading.Event()
    orig_record = runs.ledger.record_payment
    orig_remaining = wf.plan_remaining_commitment

    def record(**kw):
        result = orig_record(**kw)
        if threading.current_thread().name == "A":
            a_has_ledger.set()
            b_has_prev.wait(5)
        return result

    def remaining(plan):
        if threading.current_thread().name == "B":
            b_has_prev.set()
        return orig_remaining(plan)

    monkeypatch.setattr(runs.ledger, "record_payment", record)
    monkeypatch.setattr(wf, "plan_remaining_commitment", remaining)
    outcomes = {}

    def a():
        try:
            outcomes["A"] = services.payment_send(payment_id=payment.pk)
        except Exception as exc:
            outcomes["A"] = exc
        finally:
            connections.close_all()

    def b():
        a_has_ledger.wait(5)
        try:
            outcomes["B"] = workflow.plan_approve(actor=w.social_worker, plan=reload(new), checklist=dict(CHECKLIST))
        except Exception as exc:
            outcomes["B"] = exc
        finally:
            connections.close_all()

    ta, tb = threading.Thread(target=a, name="A"), threading.Thread(target=b, name="B")
    ta.start()
    tb.start()
    ta.join(30)
    tb.join(30)

    assert not [o for o in outcomes.values() if isinstance(o, (DatabaseError, Exception))], outcomes
    assert reload(payment).status == "paid"
    assert reload(new).status == "approved"

"""Recovery of a direct payment's surplus: finance proposes the surplus less what is owed, the
holder accepts or explains (what they declare owed is never taken), finance completes (once: the
ledger moves fund held → council reclaimed, the gateway takes it back from the load transfers) or
withdraws; every refusal says why and changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Notification, Representation, Role
from budgets.models import AccountKind, LedgerAccount, LedgerTransaction
from budgets.selectors import budget_figures
from payments import selectors, services
from payments.gateways import TransferReversed
from payments.models import (
    FundPolicy,
    LedgerGatewayTransfer,
    Payment,
    PaymentStatus,
    Recovery,
    RecoveryPart,
    RecoveryStatus,
)
from payments.services import webhooks
from tests import factories
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401  (pytest fixtures)

DAY = datetime.timedelta(days=1)


@pytest.fixture
def surplus(dp, run_payments):  # noqa: F811
    """Ruth's direct payment holds £1,160.00 (two loads paid) and may build up 2 weeks of £145.00:
    its surplus is £870.00."""
    FundPolicy.objects.update_or_create(pk=1, defaults={"buffer_weeks": 2})
    run_payments()
    dp.refresh_from_db()
    assert selectors.fund_figures(dp).surplus.amount == Decimal("870.00")
    return dp


def url(account, *rest) -> str:
    tail = "".join(f"{part}/" for part in rest)
    return f"/api/v1/budgets/{account.budget_id}/direct-payment/recoveries/{tail}"


def gbp(value: str) -> dict:
    return {"amount": value, "currency": "GBP"}


def state(account) -> tuple:
    return (
        Recovery.objects.count(),
        list(Recovery.objects.values_list("status", "amount")),
        LedgerTransaction.objects.count(),
        selectors.fund_figures(account).balance,
        LedgerGatewayTransfer.objects.count(),
    )


def propose(api_as, finance_user, account, **extra):
    return api_as(finance_user).post(url(account), {"reason": "Unspent for months", **extra}, format="json")


def test_finance_proposes_the_surplus_less_what_is_owed_and_the_holder_is_told(api_as, finance_user, surplus):
    response = propose(api_as, finance_user, surplus, owed=gbp("70.00"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "proposed" and body["amount"] == gbp("800.00") and body["surplus"] == gbp("870.00")
    assert body["respond_by"] == str(timezone.localdate() + 14 * DAY)
    assert Notification.objects.filter(recipient=surplus.holder, message__contains="£800.00").exists()
    assert AuditEvent.objects.filter(target_type__model="recovery", action="create").count() == 1
    listed = api_as(surplus.holder).get(url(surplus)).json()
    assert [row["id"] for row in listed] == [body["id"]]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"owed": gbp("-1.00")}, "owed"),
        ({"owed": gbp("1.005")}, "owed"),
    ],
)
def test_a_bad_proposal_is_a_400_naming_the_field_and_writes_nothing(api_as, finance_user, surplus, data, field):
    before = state(surplus)
    response = api_as(finance_user).post(url(surplus), {"reason": "Unspent", **data}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert state(surplus) == before


def test_nothing_to_recover_or_one_already_open_is_a_409(api_as, finance_user, surplus):
    assert propose(api_as, finance_user, surplus, owed=gbp("870.00")).status_code == 409
    assert propose(api_as, finance_user, surplus).status_code == 201
    before = state(surplus)
    assert propose(api_as, finance_user, surplus).status_code == 409
    assert state(surplus) == before


def test_only_finance_proposes_and_strangers_see_nothing(api_as, surplus, social_worker, client_user):
    stranger = factories.ClientFactory()
    other_rep = factories.UserFactory(role=Role.REPRESENTATIVE)
    Representation.objects.create(representative=other_rep, client=stranger, kind="family_member")
    assert api_as(client_user).post(url(surplus), {"reason": "x"}, format="json").status_code == 403
    assert api_as(social_worker).post(url(surplus), {"reason": "x"}, format="json").status_code == 403
    assert api_as(stranger).post(url(surplus), {"reason": "x"}, format="json").status_code == 404
    assert api_as(stranger).get(url(surplus)).status_code == 404
    assert api_as(other_rep).get(url(surplus)).status_code == 404
    assert Recovery.objects.count() == 0


def test_accepted_then_completed_moves_the_money_once_in_the_ledger_and_at_the_gateway(
    api_as, finance_user, surplus, django_capture_on_commit_callbacks
):
    rid = propose(api_as, finance_user, surplus).json()["id"]
    paid_before = budget_figures(surplus.budget).paid

    assert api_as(surplus.holder).post(url(surplus, rid, "accept")).json()["status"] == "accepted"
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(finance_user).post(url(surplus, rid, "complete"))

    assert response.status_code == 200 and response.json()["recovered"] == gbp("870.00")
    figures = selectors.fund_figures(surplus)
    assert figures.recovered.amount == Decimal("870.00") and figures.balance.amount == Decimal("290.00")
    assert budget_figures(surplus.budget).paid == paid_before
    held = LedgerAccount.objects.get(budget=surplus.budget, kind=AccountKind.FUND_HELD)
    reclaimed = LedgerAccount.objects.get(code="council:reclaimed")
    assert held.balance.amount == Decimal("290.00") and reclaimed.balance.amount == Decimal("870.00")
    parts = list(RecoveryPart.objects.all())
    assert sum(p.amount.amount for p in parts) == Decimal("870.00") and all(p.done_at for p in parts)
    taken = LedgerGatewayTransfer.objects.filter(metadata__has_key="takes_back")
    assert sum(t.amount.amount for t in taken) == Decimal("870.00")
    assert Payment.objects.filter(status=PaymentStatus.PAID).count() == 2  # the loads stay paid

    before = state(surplus)
    again = api_as(finance_user).post(url(surplus, rid, "complete"))
    assert again.status_code == 409 and state(surplus) == before
    assert services.recovery_take_back(recovery_id=rid) == 0 and state(surplus) == before


def test_what_the_holder_declares_owed_is_never_taken(
    api_as, finance_user, surplus, django_capture_on_commit_callbacks
):
    rid = propose(api_as, finance_user, surplus, owed=gbp("70.00")).json()["id"]

    explained = api_as(surplus.holder).post(
        url(surplus, rid, "explain"),
        {"explanation": "Two weeks' wages unpaid", "declared_owed": gbp("300.00")},
        format="json",
    )

    assert explained.status_code == 200 and explained.json()["amount"] == gbp("500.00")
    with django_capture_on_commit_callbacks(execute=True):
        done = api_as(finance_user).post(url(surplus, rid, "complete"))
    assert done.json()["recovered"] == gbp("500.00")
    assert selectors.fund_figures(surplus).balance.amount == Decimal("660.00")


def test_money_spent_meanwhile_is_not_taken_twice(api_as, finance_user, surplus, django_capture_on_commit_callbacks):
    rid = propose(api_as, finance_user, surplus).json()["id"]
    services.spending_record(
        actor=surplus.holder,
        account=surplus,
        date=timezone.localdate(),
        amount=Decimal("600.00"),
        payee="Jo Smith (my PA)",
    )
    api_as(surplus.holder).post(url(surplus, rid, "accept"))

    with django_capture_on_commit_callbacks(execute=True):
        done = api_as(finance_user).post(url(surplus, rid, "complete"))

    assert done.json()["recovered"] == gbp("270.00")  # the surplus now, not the £870.00 proposed
    assert selectors.fund_figures(surplus).balance == selectors.fund_figures(surplus).buffer


def test_complete_waits_for_the_answer_or_the_end_of_the_notice(api_as, finance_user, surplus):
    rid = propose(api_as, finance_user, surplus).json()["id"]
    before = state(surplus)
    assert api_as(finance_user).post(url(surplus, rid, "complete")).status_code == 409
    assert state(surplus) == before

    Recovery.objects.filter(pk=rid).update(respond_by=timezone.localdate() - DAY)
    late = api_as(surplus.holder).post(url(surplus, rid, "accept"))
    assert late.status_code == 409 and "ended" in str(late.json())
    assert api_as(finance_user).post(url(surplus, rid, "complete")).status_code == 200


def test_withdrawn_moves_nothing_and_only_the_right_people_act(api_as, finance_user, surplus, social_worker):
    rid = propose(api_as, finance_user, surplus).json()["id"]
    assert api_as(finance_user).post(url(surplus, rid, "accept")).status_code == 403
    assert api_as(surplus.holder).post(url(surplus, rid, "complete")).status_code == 403
    assert api_as(social_worker).post(url(surplus, rid, "withdraw")).status_code == 403
    assert api_as(factories.ClientFactory()).post(url(surplus, rid, "accept")).status_code == 404
    before = state(surplus)

    assert api_as(finance_user).post(url(surplus, rid, "withdraw")).json()["status"] == "withdrawn"

    assert state(surplus)[2:] == before[2:]
    assert api_as(finance_user).post(url(surplus, rid, "complete")).status_code == 409
    transitions = AuditEvent.objects.filter(target_type__model="recovery", action="transition")
    assert [e.changes["to"] for e in transitions] == [RecoveryStatus.WITHDRAWN]


def test_a_reversal_webhook_for_a_take_back_leaves_the_load_paid(
    api_as, finance_user, surplus, django_capture_on_commit_callbacks
):
    rid = propose(api_as, finance_user, surplus).json()["id"]
    api_as(surplus.holder).post(url(surplus, rid, "accept"))
    with django_capture_on_commit_callbacks(execute=True):
        api_as(finance_user).post(url(surplus, rid, "complete"))
    part = RecoveryPart.objects.order_by("pk").first()
    payment = Payment.objects.get(transfer_id=part.transfer_id)

    outcome = webhooks._handle(
        TransferReversed(
            transfer_id=part.transfer_id,
            payment_ref=str(payment.pk),
            amount=payment.amount,
            amount_reversed=part.amount,
        ),
        "ledger",
    )

    assert "taken back by a recovery" in outcome
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID


def test_the_account_page_lets_finance_propose_and_the_holder_accept(client, finance_user, surplus):
    page = f"/budgets/{surplus.budget_id}/direct-payment/"
    client.force_login(finance_user)
    assert "Propose the recovery" in client.get(page).content.decode()
    empty = client.post(page, {"recovery": "propose", "reason": ""})
    assert empty.status_code == 400 and "Say why the money is being taken back" in empty.content.decode()
    assert Recovery.objects.count() == 0
    client.post(page, {"recovery": "propose", "reason": "Unspent for months"})
    assert Recovery.objects.get().status == RecoveryStatus.PROPOSED

    client.force_login(surplus.holder)
    shown = client.get(page).content.decode()
    assert "The council proposes to take back £870.00" in shown and "Accept" in shown
    client.post(page, {"recovery": "accept"})
    assert Recovery.objects.get().status == RecoveryStatus.ACCEPTED


def test_the_budget_page_and_statement_show_the_direct_payment_pound_by_pound(
    client, api_as, finance_user, surplus, django_capture_on_commit_callbacks
):
    import io

    from pypdf import PdfReader

    rid = propose(api_as, finance_user, surplus).json()["id"]
    api_as(surplus.holder).post(url(surplus, rid, "accept"))
    with django_capture_on_commit_callbacks(execute=True):
        api_as(finance_user).post(url(surplus, rid, "complete"))
    services.spending_record(
        actor=surplus.holder, account=surplus, date=timezone.localdate(), amount=Decimal("40.00"), payee="Jo Smith"
    )
    client.force_login(surplus.holder)

    page = client.get(f"/budgets/{surplus.budget_id}/").content.decode()
    pdf = client.get(f"/budgets/{surplus.budget_id}/statement.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)

    for shown in (page, text):
        assert "£1,160.00" in shown and "£40.00" in shown and "£870.00" in shown and "£250.00" in shown
    assert "Held now" in page and "Held now" in text


def test_a_debt_once_declared_is_not_offered_up_by_the_next_proposal(
    api_as, finance_user, surplus, django_capture_on_commit_callbacks, client
):
    rid = propose(api_as, finance_user, surplus, owed=gbp("70.00")).json()["id"]
    api_as(surplus.holder).post(
        url(surplus, rid, "explain"), {"explanation": "Wages due", "declared_owed": gbp("100.00")}, format="json"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert api_as(finance_user).post(url(surplus, rid, "complete")).json()["recovered"] == gbp("700.00")

    # The £170.00 left above the buffer is what is owed: proposing again without `owed` finds nothing.
    assert propose(api_as, finance_user, surplus).status_code == 409
    client.force_login(finance_user)
    page = client.get(f"/budgets/{surplus.budget_id}/direct-payment/").content.decode()
    assert "The last recovery left £170.00 the holder owes" in page and 'value="170.00"' in page
    # Said explicitly, it can still be taken (say the debts were paid from elsewhere).
    assert propose(api_as, finance_user, surplus, owed=gbp("0.00")).json()["amount"] == gbp("170.00")

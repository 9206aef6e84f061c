"""Payment runs with the embedded `ledger` gateway (PRODUCT.md §8, API.md "Invoices and payments"):
each confirmed, unpaid invoice paid once, the ledger moved from committed to paid, who may run
and see payments, and the finance pages (runs, progress, remittance advice, retry)."""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

import datetime
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from pypdf import PdfReader

from accounts.exceptions import ActionNotAllowed
from budgets.models import LedgerTransaction
from budgets.selectors import budget_figures
from payments import services
from payments.models import Invoice, InvoiceStatus, LedgerGatewayTransfer, Payment, PaymentRun, PaymentStatus
from tests import factories
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    assert_ledger_balances,
    gbp,
    live_payments,
    pay_world,
    reload,
    run_payments,
)

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/payment-runs/"
PAYMENTS = "/api/v1/payments/"


def _html(response) -> str:
    return response.content.decode()


def _pdf_text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


@pytest.fixture
def start_run_api(api_as, django_capture_on_commit_callbacks):
    """`start_run_api(user)`: POST /api/v1/payment-runs/ as `user`, the queued sending run."""

    def post(user):
        with django_capture_on_commit_callbacks(execute=True):
            return api_as(user).post(RUNS, {}, format="json")

    return post


# --- a run pays every confirmed, unpaid invoice once ------------------------------------------


def test_finance_run_pays_every_confirmed_invoice_once(pay_world, start_run_api, api_as, finance_user):
    invoices = pay_world.invoices(2) + pay_world.invoices(1, pay_world.riverside)

    response = start_run_api(finance_user)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= {"id", "status", "payment_count", "total"}
    assert body["payment_count"] == 3
    assert body["total"] == {"amount": "80.00", "currency": "GBP"}  # 2 × £24.50 + £31.00
    run = PaymentRun.objects.get(pk=body["id"])
    assert run.gateway == "ledger"
    for invoice in invoices:
        payments = list(Payment.objects.filter(invoice=invoice))
        assert [p.status for p in payments] == [PaymentStatus.PAID]
        assert payments[0].amount == invoice.amount
        assert payments[0].transfer_id.startswith("ltr_")
        assert reload(invoice).status == InvoiceStatus.PAID
        assert reload(invoice).paid_at is not None
    assert LedgerGatewayTransfer.objects.filter(group=run.transfer_group).count() == 3

    detail = api_as(finance_user).get(f"{RUNS}{run.pk}/")

    assert detail.status_code == 200
    figures = detail.json()
    assert figures["id"] == run.pk
    assert figures["status"] == "finished"
    assert (figures["payment_count"], figures["paid_count"], figures["failed_count"]) == (3, 3, 0)
    assert figures["total"] == {"amount": "80.00", "currency": "GBP"}


def test_run_with_nothing_to_pay_is_recorded_with_no_payments(pay_world, start_run_api, finance_user):
    response = start_run_api(finance_user)

    assert response.status_code == 201
    body = response.json()
    assert body["payment_count"] == 0
    assert body["total"] == {"amount": "0.00", "currency": "GBP"}
    assert body["status"] == "finished"
    assert PaymentRun.objects.filter(pk=body["id"]).exists()
    assert Payment.objects.count() == 0


def test_second_run_pays_no_invoice_again(pay_world, run_payments):
    invoices = pay_world.invoices(3)
    first = run_payments()
    paid_before = budget_figures(pay_world.budget).paid

    second = run_payments()

    assert (first.payment_count, second.payment_count) == (3, 0)
    assert second.total == gbp("0")
    for invoice in invoices:
        assert Payment.objects.filter(invoice=invoice).count() == 1
    assert LedgerGatewayTransfer.objects.count() == 3
    assert budget_figures(pay_world.budget).paid == paid_before
    assert LedgerTransaction.objects.filter(kind="payment").count() == 3


def test_a_second_run_pays_only_invoices_confirmed_since_the_first(pay_world, run_payments):
    old = pay_world.invoice()
    run_payments()
    new = pay_world.invoice()

    second = run_payments()

    assert second.payment_count == 1
    assert list(second.payments.values_list("invoice_id", flat=True)) == [new.pk]
    assert Payment.objects.filter(invoice=old).count() == 1


def test_disputed_and_submitted_invoices_are_not_paid(pay_world, run_payments, client_user):
    confirmed = pay_world.invoice()
    waiting = pay_world.invoice(confirm=False)
    disputed = pay_world.invoice(confirm=False)
    services.invoice_dispute(actor=client_user, invoice=disputed, reason="Nobody came that day")

    run = run_payments()

    assert run.payment_count == 1
    assert list(Payment.objects.values_list("invoice_id", flat=True)) == [confirmed.pk]
    assert reload(waiting).status == InvoiceStatus.SUBMITTED
    assert reload(disputed).status == InvoiceStatus.DISPUTED


def test_payment_moves_the_money_from_committed_to_paid_and_the_ledger_balances(pay_world, run_payments):
    pay_world.invoices(2)
    pay_world.invoices(2, pay_world.riverside)
    before = budget_figures(pay_world.budget)

    run = run_payments()

    after = budget_figures(pay_world.budget)
    assert run.total == gbp("111.00")  # 2 × £24.50 + 2 × £31.00
    assert after.paid == before.paid + run.total
    assert after.committed == before.committed  # committed includes paid: it does not move
    assert after.available == before.available
    assert_ledger_balances(pay_world.budget)
    for payment in run.payments.all():
        assert payment.ledger_transaction is not None
        assert payment.ledger_transaction.kind == "payment"
        assert payment.ledger_transaction.idempotency_key == f"payment:{payment.pk}"
    assert Invoice.objects.filter(status=InvoiceStatus.PAID).count() == 4


def test_budget_paid_figure_rises_in_the_budget_api(pay_world, run_payments, api_as, finance_user):
    pay_world.invoices(2)
    before = api_as(finance_user).get(f"/api/v1/budgets/{pay_world.budget.pk}/")
    assert before.status_code == 200, before.content

    run_payments()

    after = api_as(finance_user).get(f"/api/v1/budgets/{pay_world.budget.pk}/").json()
    paid_before = Decimal(before.json()["paid"]["amount"])
    assert Decimal(after["paid"]["amount"]) == paid_before + Decimal("49.00")


# --- the database's own guard ------------------------------------------------------------------


def test_database_refuses_a_second_live_payment_for_an_invoice(pay_world, run_payments, finance_user):
    invoice = pay_world.invoice()
    run = run_payments()
    first = Payment.objects.get(invoice=invoice)
    other_run = PaymentRun.objects.create(started_by=finance_user, gateway="ledger")

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            run=other_run,
            invoice=invoice,
            provider=first.provider,
            budget=first.budget,
            amount=first.amount,
            idempotency_key="another-key",
        )

    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert run.payments.count() == 1


def test_database_allows_a_new_payment_once_the_old_one_is_reversed(pay_world, run_payments, finance_user):
    invoice = pay_world.invoice()
    run_payments()
    first = Payment.objects.get(invoice=invoice)
    Payment.objects.filter(pk=first.pk).update(status=PaymentStatus.REVERSED)
    other_run = PaymentRun.objects.create(started_by=finance_user, gateway="ledger")

    again = Payment.objects.create(
        run=other_run,
        invoice=invoice,
        provider=first.provider,
        budget=first.budget,
        amount=first.amount,
        idempotency_key="another-key",
    )

    assert list(live_payments(invoice)) == [again]


def test_reversed_payment_lets_the_next_run_pay_the_invoice_again(pay_world, run_payments):
    invoice = pay_world.invoice()
    first_run = run_payments()
    payment = first_run.payments.get()

    services.payment_reverse(payment=payment, reason="Returned by the bank")

    assert reload(payment).status == PaymentStatus.REVERSED
    assert reload(invoice).status == InvoiceStatus.CONFIRMED
    assert budget_figures(pay_world.budget).paid == gbp("0")
    second_run = run_payments()
    assert second_run.payment_count == 1
    again = second_run.payments.get()
    assert again.pk != payment.pk
    assert again.idempotency_key != payment.idempotency_key
    assert again.status == PaymentStatus.PAID
    assert reload(invoice).status == InvoiceStatus.PAID
    assert budget_figures(pay_world.budget).paid == gbp("24.50")
    assert_ledger_balances(pay_world.budget)


# --- who may run payments ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance_user", "admin_person"])
def test_finance_and_admin_may_start_a_run(request, role, pay_world, start_run_api):
    pay_world.invoice()

    response = start_run_api(request.getfixturevalue(role))

    assert response.status_code == 201, response.json()
    assert response.json()["payment_count"] == 1


@pytest.mark.parametrize("role", ["client_user", "social_worker", "team_manager", "case_manager", "provider_user"])
def test_others_may_not_start_a_run(request, role, pay_world, start_run_api, api_as):
    pay_world.invoice()
    user = request.getfixturevalue(role)

    response = start_run_api(user)

    assert response.status_code == 403
    assert PaymentRun.objects.count() == 0
    assert Payment.objects.count() == 0
    assert api_as(user).get(RUNS).status_code == 403


def test_anonymous_may_not_start_or_see_runs(pay_world, api):
    pay_world.invoice()

    assert api.post(RUNS, {}, format="json").status_code == 401
    assert api.get(RUNS).status_code == 401
    assert api.get(PAYMENTS).status_code == 401
    assert PaymentRun.objects.count() == 0


def test_service_refuses_a_run_by_someone_not_in_finance(pay_world, social_worker):
    pay_world.invoice()

    with pytest.raises(ActionNotAllowed):
        services.payment_run_start(actor=social_worker)

    assert PaymentRun.objects.count() == 0


# --- listing payments --------------------------------------------------------------------------


@pytest.fixture
def two_runs(pay_world, run_payments):
    """Brightside paid twice and Riverside once (run 1); one Brightside payment failed (run 2)."""
    pay_world.invoices(2)
    pay_world.invoices(1, pay_world.riverside)
    run_payments()
    late = pay_world.invoice()
    services.payment_run_start(actor=pay_world.finance)  # not sent: the callbacks never run
    Payment.objects.filter(invoice=late).update(status=PaymentStatus.FAILED, last_error="Refused")
    return pay_world


def _ids(response) -> set[int]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["id"] for row in rows}


def test_finance_lists_payments_filtered_by_status_and_provider(two_runs, api_as, finance_user):
    finance = api_as(finance_user)
    brightside, riverside = two_runs.brightside, two_runs.riverside
    paid = set(Payment.objects.filter(status=PaymentStatus.PAID).values_list("pk", flat=True))
    failed = set(Payment.objects.filter(status=PaymentStatus.FAILED).values_list("pk", flat=True))

    assert _ids(finance.get(PAYMENTS)) == paid | failed
    assert _ids(finance.get(PAYMENTS, {"status": "paid"})) == paid
    assert _ids(finance.get(PAYMENTS, {"status": "failed"})) == failed
    assert _ids(finance.get(PAYMENTS, {"status": "reversed"})) == set()
    assert _ids(finance.get(PAYMENTS, {"provider": riverside.pk})) == set(
        Payment.objects.filter(provider=riverside).values_list("pk", flat=True)
    )
    assert len(_ids(finance.get(PAYMENTS, {"provider": brightside.pk, "status": "paid"}))) == 2


@pytest.mark.parametrize("params", [{"status": "lost"}, {"status": "PAID"}, {"provider": "abc"}])
def test_bad_payment_filters_are_refused(two_runs, api_as, finance_user, params):
    response = api_as(finance_user).get(PAYMENTS, params)

    assert response.status_code == 400
    assert list(response.json()) == list(params)  # {"field": ["message"]}


def test_provider_staff_see_only_their_own_organisations_payments(two_runs, api_as):
    staff = api_as(two_runs.staff[two_runs.riverside.pk])
    riverside_ids = set(Payment.objects.filter(provider=two_runs.riverside).values_list("pk", flat=True))
    brightside_payment = Payment.objects.filter(provider=two_runs.brightside).first()

    assert _ids(staff.get(PAYMENTS)) == riverside_ids
    assert _ids(staff.get(PAYMENTS, {"provider": two_runs.brightside.pk})) == set()
    assert staff.get(f"{PAYMENTS}{brightside_payment.pk}/").status_code == 404
    assert staff.get(f"{PAYMENTS}{min(riverside_ids)}/").status_code == 200


@pytest.mark.parametrize("role", ["client_user", "social_worker", "provider_user"])
def test_people_outside_finance_and_the_provider_see_no_payments(request, role, two_runs, api_as):
    response = api_as(request.getfixturevalue(role)).get(PAYMENTS)

    assert response.status_code == 200
    assert _ids(response) == set()


# --- pages -------------------------------------------------------------------------------------


def test_finance_starts_a_run_from_the_runs_page(pay_world, web_as, finance_user, django_capture_on_commit_callbacks):
    pay_world.invoices(2)
    web = web_as(finance_user)
    page = web.get("/payments/runs/")
    assert page.status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post("/payments/runs/")

    run = PaymentRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/payments/runs/{run.pk}/"
    assert run.payments.filter(status=PaymentStatus.PAID).count() == 2
    detail = web.get(response["Location"])
    html = _html(detail)
    assert detail.status_code == 200
    assert f"Payment run {run.pk}" in html
    assert "Finished: 2 paid, 0 failed" in html
    assert "Brightside Care: 2 payments" in html


def test_run_page_shows_progress_while_sending_and_the_fragment_polls(pay_world, web_as, finance_user):
    pay_world.invoices(3)
    run = services.payment_run_start(actor=finance_user)  # queued, not sent yet
    web = web_as(finance_user)

    page = _html(web.get(f"/payments/runs/{run.pk}/"))
    fragment = web.get(f"/payments/runs/{run.pk}/progress/")

    assert "0 paid, 0 failed, 3 still to send, of 3" in page
    assert fragment.status_code == 200
    text = _html(fragment)
    assert 'id="run-progress"' in text
    assert f'hx-get="/payments/runs/{run.pk}/progress/"' in text
    assert "<html" not in text  # a fragment, not a page
    assert 'value="0"' in text

    for payment in run.payments.all():
        services.payment_send(payment_id=payment.pk)

    done = _html(web.get(f"/payments/runs/{run.pk}/progress/"))
    assert "Finished: 3 paid, 0 failed" in done
    assert 'value="100"' in done
    assert "hx-get" not in done  # finished: it stops polling
    assert reload(run).finished_at is not None


@pytest.mark.parametrize("role", ["client_user", "social_worker", "provider_user"])
def test_payment_pages_are_for_finance_only(request, role, pay_world, run_payments, web_as):
    pay_world.invoice()
    run = run_payments()
    web = web_as(request.getfixturevalue(role))

    for url in ["/payments/runs/", f"/payments/runs/{run.pk}/", f"/payments/runs/{run.pk}/progress/"]:
        assert web.get(url).status_code == 403, url
    assert web.post("/payments/runs/").status_code == 403
    assert PaymentRun.objects.count() == 1


def test_anonymous_is_sent_to_sign_in_from_payment_pages(pay_world, client):
    response = client.get("/payments/runs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")
    assert client.post("/payments/runs/").status_code == 302
    assert PaymentRun.objects.count() == 0


def test_remittance_advice_lists_the_providers_invoices_and_total(pay_world, run_payments, web_as, finance_user):
    invoices = pay_world.invoices(2)
    pay_world.invoice(pay_world.riverside)
    run = run_payments()
    url = f"/payments/runs/{run.pk}/remittance/{pay_world.brightside.pk}.pdf"

    for user in [finance_user, pay_world.staff[pay_world.brightside.pk]]:
        response = web_as(user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = _pdf_text(response)
        assert "Brightside Care" in text
        for invoice in invoices:
            assert str(invoice.pk) in text
            assert invoice.reference in text
        assert "49.00" in text  # the total
        assert "Riverside" not in text


def test_remittance_advice_is_hidden_from_other_providers(pay_world, run_payments, web_as, client_user):
    pay_world.invoice()
    pay_world.invoice(pay_world.riverside)
    run = run_payments()
    url = f"/payments/runs/{run.pk}/remittance/{pay_world.brightside.pk}.pdf"

    assert web_as(pay_world.staff[pay_world.riverside.pk]).get(url).status_code == 404
    assert web_as(factories.ProviderStaffFactory()).get(url).status_code == 404
    assert web_as(client_user).get(url).status_code == 404


def test_remittance_advice_for_a_provider_the_run_did_not_pay_is_not_found(pay_world, run_payments, web_as):
    pay_world.invoice()
    run = run_payments()
    riverside_staff = pay_world.staff[pay_world.riverside.pk]

    response = web_as(riverside_staff).get(f"/payments/runs/{run.pk}/remittance/{pay_world.riverside.pk}.pdf")

    assert response.status_code == 404


# --- retrying a failed payment -----------------------------------------------------------------


@pytest.fixture
def failed_payment(pay_world, finance_user):
    """A run whose one payment failed (as after the last retry) before anything was sent."""
    pay_world.invoice()
    run = services.payment_run_start(actor=finance_user)
    payment = run.payments.get()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.FAILED, last_error="The gateway said no.")
    return reload(payment)


def test_finance_retries_a_failed_payment_and_it_is_paid_once(
    failed_payment, pay_world, web_as, finance_user, django_capture_on_commit_callbacks
):
    web = web_as(finance_user)
    page = _html(web.get(f"/payments/runs/{failed_payment.run_id}/"))
    assert f'action="/payments/{failed_payment.pk}/retry/"' in page
    assert "The gateway said no." in page

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(f"/payments/{failed_payment.pk}/retry/")

    assert response.status_code == 302
    assert response["Location"] == f"/payments/runs/{failed_payment.run_id}/"
    payment = reload(failed_payment)
    assert payment.status == PaymentStatus.PAID
    assert payment.last_error == ""
    assert LedgerGatewayTransfer.objects.filter(idempotency_key=payment.idempotency_key).count() == 1
    assert budget_figures(pay_world.budget).paid == gbp("24.50")
    assert reload(payment.invoice).status == InvoiceStatus.PAID
    assert reload(payment.run).finished_at is not None
    assert_ledger_balances(pay_world.budget)


def test_retrying_a_payment_that_is_not_failed_changes_nothing(
    pay_world, run_payments, web_as, finance_user, django_capture_on_commit_callbacks
):
    pay_world.invoice()
    payment = run_payments().payments.get()
    ledger_rows = LedgerTransaction.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = web_as(finance_user).post(f"/payments/{payment.pk}/retry/", follow=True)

    assert response.status_code == 200
    assert "not failed" in _html(response)
    assert reload(payment).status == PaymentStatus.PAID
    assert reload(payment).attempts == payment.attempts
    assert LedgerTransaction.objects.count() == ledger_rows


@pytest.mark.parametrize("role", ["social_worker", "provider_user"])
def test_only_finance_may_retry_a_payment(request, role, failed_payment, web_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = web_as(request.getfixturevalue(role)).post(f"/payments/{failed_payment.pk}/retry/")

    assert response.status_code == 403
    assert reload(failed_payment).status == PaymentStatus.FAILED
    assert LedgerGatewayTransfer.objects.count() == 0


def test_a_failed_payment_is_not_sent_by_a_plain_resend(failed_payment):
    services.payment_send(payment_id=failed_payment.pk)

    assert reload(failed_payment).status == PaymentStatus.FAILED
    assert LedgerGatewayTransfer.objects.count() == 0


def test_sending_a_paid_payment_again_does_nothing(pay_world, run_payments):
    pay_world.invoice()
    payment = run_payments().payments.get()

    services.payment_send(payment_id=payment.pk)
    services.payment_send(payment_id=payment.pk, allow_failed=True)

    assert reload(payment).attempts == 1
    assert LedgerGatewayTransfer.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1


def test_stalled_payments_are_resumed_and_paid_once(pay_world, finance_user):
    pay_world.invoices(2)
    run = services.payment_run_start(actor=finance_user)  # the worker "died": nothing sent
    first = run.payments.first()
    Payment.objects.filter(run=run).update(created_at=timezone.now() - datetime.timedelta(minutes=10))
    services.payment_send(payment_id=first.pk)

    resumed = services.payments_resume_stalled()

    assert resumed == 1
    assert run.payments.filter(status=PaymentStatus.PAID).count() == 2
    assert LedgerGatewayTransfer.objects.count() == 2

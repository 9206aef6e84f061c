"""Free text and names refuse control and bidirectional-override characters in the services, so
the API and the pages both refuse them (accounts/text.py): plan outcomes, risks and own-arrangement
descriptions; recovery reasons and explanations; invoice references and dispute and cancel reasons;
spending payees and descriptions. Each refusal is a 400 naming the field, and nothing is written.
A payee's name goes to the payment service without them."""

# ruff: noqa: F811  (pytest fixtures imported from other test modules, requested by name)

from __future__ import annotations

import datetime
import html as html_lib
import re

import pytest
from django.utils import timezone

from accounts.exceptions import InvalidInput
from accounts.models import AuditAction, AuditEvent
from budgets.models import ContributionReview
from careplans import services as plan_services
from careplans.models import CarePlan, PlanLine, PlanOutcome
from payments import services as pay_services
from payments.models import Invoice, InvoiceStatus, Recovery, Spending
from tests.approvals.conftest import checklist  # noqa: F401
from tests.budgets.test_financial_assessments import BODY
from tests.careplans.conftest import budget, make_budget, make_plan, make_provider, make_service, visits  # noqa: F401
from tests.payments.invoice_fixtures import PDF_BYTES, submit, upload
from tests.payments.test_invoices import inv, media_root  # noqa: F401  (media_root: uploads in a fresh folder)
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401
from tests.payments.test_recoveries import surplus  # noqa: F401
from tests.payments.test_spending import loaded  # noqa: F401

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # right-to-left override
BEL = "\u0007"  # a control character
DAY = datetime.timedelta(days=1)


def text_of(response) -> str:
    raw = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html_lib.unescape(raw).split())


def plan_rows() -> tuple:
    return (
        CarePlan.objects.count(),
        list(PlanLine.objects.values_list("pk", "title")),
        PlanOutcome.objects.count(),
        AuditEvent.objects.exclude(action=AuditAction.VIEW).count(),  # a page read may be audited
    )


# --- Plans ---------------------------------------------------------------------------------------


def own_line(budget, description: str) -> dict:
    start = budget.period_start
    return {
        "description": description,
        "unit": "hour",
        "unit_price": "14.50",
        "units_per_week": "10",
        "start": start.isoformat(),
        "end": (start + 13 * DAY).isoformat(),
        "money_management": "direct_payment",
    }


@pytest.mark.parametrize("bad", [f"PA {RLO}tnatsissa", f"PA{BEL}", "PA \u2066x\u2069"])
def test_an_own_arrangement_description_with_an_override_is_a_400_through_the_api(bad, api_as, client_user, budget):
    before = plan_rows()
    response = api_as(client_user).post(
        "/api/v1/plans/",
        {"budget": budget.pk, "money_management": "direct_payment", "lines": [own_line(budget, bad)]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "lines": ["Line 1: remove the control characters or right-to-left override characters from the description."]
    }
    assert plan_rows() == before


def test_an_own_arrangement_description_with_line_breaks_and_right_to_left_marks_is_kept(
    api_as,
    client_user,
    budget,
):
    response = api_as(client_user).post(
        "/api/v1/plans/",
        {"budget": budget.pk, "lines": [own_line(budget, "\u200fمساعد شخصي")]},
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_an_own_arrangement_description_with_an_override_is_refused_on_the_page(
    web_as,
    client_user,
    budget,
    make_plan,
):
    plan = make_plan(client_user, budget)
    web = web_as(client_user)  # signing in is audited
    before = plan_rows()
    start = budget.period_start
    response = web.post(
        f"/plans/{plan.pk}/lines/add-own/",
        {
            "description": f"Swimming {RLO}snossel",
            "unit": "hour",
            "unit_price": "14.50",
            "frequency": "weekly",
            "amount": "2",
            "start": start.isoformat(),
            "end": (start + 13 * DAY).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "Remove the control characters or right-to-left override characters" in text_of(response)
    assert plan_rows() == before


def test_an_outcome_with_an_override_is_a_400_through_the_api(api_as, client_user, budget):
    before = plan_rows()
    response = api_as(client_user).post(
        "/api/v1/plans/",
        {"budget": budget.pk, "outcomes": ["Walk to the shop", {"text": f"Swim {RLO}ylkeew", "domain": ""}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "outcomes": ["Outcome 2: remove the control characters or right-to-left override characters."]
    }
    assert plan_rows() == before


@pytest.mark.parametrize("field", ["risks", "contacts", "contingency_note"])
def test_plan_text_is_checked_by_the_service_for_every_caller(field, client_user, budget, make_plan):
    with pytest.raises(InvalidInput) as refused:
        plan_services.plan_create(actor=client_user, budget=budget, **{field: f"Falls{BEL}"})
    assert set(refused.value.as_dict()) == {field}
    assert not CarePlan.objects.exists()
    plan = make_plan(client_user, budget, risks="Falls")
    with pytest.raises(InvalidInput):
        plan_services.plan_update(actor=client_user, plan=plan, **{field: f"Falls {RLO}x"})
    plan.refresh_from_db()
    assert getattr(plan, field) == ("Falls" if field == "risks" else "")


# --- Recoveries ----------------------------------------------------------------------------------


def recoveries(account) -> str:
    return f"/api/v1/budgets/{account.budget_id}/direct-payment/recoveries/"


def test_a_recovery_reason_with_an_override_is_a_400(api_as, finance_user, surplus):
    response = api_as(finance_user).post(recoveries(surplus), {"reason": f"Unspent {RLO}shtnom"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"reason": ["Remove the control characters or right-to-left override characters."]}
    assert not Recovery.objects.exists()


def test_a_recovery_explanation_with_a_control_character_is_a_400(api_as, finance_user, surplus):
    rid = api_as(finance_user).post(recoveries(surplus), {"reason": "Unspent"}, format="json").json()["id"]
    response = api_as(surplus.holder).post(
        f"{recoveries(surplus)}{rid}/explain/", {"explanation": f"Wages{BEL} unpaid"}, format="json"
    )
    assert response.status_code == 400
    assert "explanation" in response.json()
    recovery = Recovery.objects.get()
    assert recovery.status == "proposed" and recovery.explanation == ""


# --- Invoices ------------------------------------------------------------------------------------


def test_an_invoice_reference_with_an_override_is_a_400_and_no_invoice_is_written(api_as, inv):
    response = api_as(inv.staff).post(
        "/api/v1/invoices/",
        {
            "plan_line": inv.line.pk,
            "period_start": inv.day(1).isoformat(),
            "period_end": inv.day(7).isoformat(),
            "units": "2",
            "reference": f"INV-{RLO}100",
            "supporting_file": upload(PDF_BYTES),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"reference"}
    assert not Invoice.objects.exists()


def test_a_dispute_reason_with_an_override_is_a_400_and_the_invoice_stays_submitted(api_as, inv, client_user):
    invoice = submit(inv)
    response = api_as(client_user).post(
        f"/api/v1/invoices/{invoice.pk}/dispute/", {"reason": f"Wrong {RLO}setad"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"reason": ["Remove the control characters or right-to-left override characters."]}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.SUBMITTED and invoice.dispute_reason == ""


def test_a_cancel_reason_with_a_control_character_is_refused_and_the_invoice_stays_disputed(inv, client_user):
    invoice = submit(inv)
    pay_services.invoice_dispute(actor=client_user, invoice=invoice, reason="Only one visit.")
    with pytest.raises(InvalidInput) as refused:
        pay_services.invoice_cancel(actor=inv.staff, invoice=invoice, reason=f"Sent{BEL} again")
    assert set(refused.value.as_dict()) == {"reason"}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DISPUTED


# --- Spending ------------------------------------------------------------------------------------


def spending(**extra) -> dict:
    return {
        "date": str(timezone.localdate() - DAY),
        "amount": {"amount": "58.00", "currency": "GBP"},
        "payee": "Jo Smith (my PA)",
        "description": "Four hours, Monday",
        **extra,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"payee": f"Jo {RLO}htimS"}, "payee"),
        ({"payee": "Jo\nSmith"}, "payee"),  # who was paid is a name, on one line
        ({"description": f"Four hours{BEL}"}, "description"),
        ({"description": f"Four {RLO}sruoh"}, "description"),
    ],
)
def test_a_spending_payee_or_description_with_a_control_character_is_a_400(change, field, api_as, loaded):
    response = api_as(loaded.holder).post(
        f"/api/v1/budgets/{loaded.budget_id}/direct-payment/spending/", spending(**change), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Spending.objects.exists()


def test_a_spending_description_may_have_line_breaks(api_as, loaded):
    response = api_as(loaded.holder).post(
        f"/api/v1/budgets/{loaded.budget_id}/direct-payment/spending/",
        spending(description="Monday: 4 hours\nTuesday: 2 hours"),
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_a_payee_with_an_override_is_refused_on_the_page(web_as, loaded):
    response = web_as(loaded.holder).post(
        f"/budgets/{loaded.budget_id}/direct-payment/",
        {"date": str(timezone.localdate() - DAY), "amount": "58.00", "payee": f"Jo {RLO}htimS"},
    )
    assert response.status_code == 400
    assert "Remove the control or invisible formatting characters" in text_of(response)
    assert not Spending.objects.exists()


# --- Payees --------------------------------------------------------------------------------------


def test_the_payment_service_is_given_the_payees_name_without_overrides(monkeypatch, make_provider, provider_user):
    """A name stored before names refused these characters must not reorder what the payment
    service shows."""
    given = {}

    class Gateway:
        name = "recording"

        def create_account(self, *, email, name, reference):
            given["name"] = name
            return "acct_1"

        def onboarding_link(self, *, account_id, refresh_url, return_url):
            return return_url

    monkeypatch.setattr("payments.services.payees.gateway", Gateway)
    provider = provider_user.provider
    type(provider).objects.filter(pk=provider.pk).update(name=f"Bright {RLO}edis")
    provider.refresh_from_db()
    pay_services.provider_payments_onboard(actor=provider_user, provider=provider, refresh_url="/r", return_url="/d")
    assert given["name"] == "Bright edis"


# --- Contribution reviews ------------------------------------------------------------------------


@pytest.fixture
def assessment_id(api_as, finance_user, client_user):
    created = api_as(finance_user).post(
        "/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json"
    )
    return created.json()["id"]


def test_a_review_request_with_an_override_is_a_400(api_as, client_user, assessment_id):
    response = api_as(client_user).post(
        f"/api/v1/financial-assessments/{assessment_id}/review/", {"reason": f"My rent {RLO}esor"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"reason": ["Remove the control characters or right-to-left override characters."]}
    assert not ContributionReview.objects.exists()


def test_a_review_answer_with_a_control_character_is_a_400(api_as, client_user, finance_user, assessment_id):
    api_as(client_user).post(
        f"/api/v1/financial-assessments/{assessment_id}/review/", {"reason": "My rent rose"}, format="json"
    )
    review = ContributionReview.objects.get()
    response = api_as(finance_user).post(
        f"/api/v1/contribution-reviews/{review.pk}/complete/", {"outcome": f"Checked{BEL}"}, format="json"
    )
    assert response.status_code == 400
    assert "outcome" in response.json()
    review.refresh_from_db()
    assert review.status != "completed" and review.outcome == ""

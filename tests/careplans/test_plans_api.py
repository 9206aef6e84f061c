"""POST/GET/PATCH /api/v1/plans/ (API.md "Care plans") and new versions of approved plans."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money

from accounts.exceptions import StateConflict
from accounts.models import AuditEvent
from careplans.models import CarePlan, PlanLine, PlanOutcome
from careplans.services import plan_new_version
from providers.models import ServiceOffering
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/plans/"


def day(budget, offset: int) -> str:
    return (budget.period_start + datetime.timedelta(days=offset)).isoformat()


def money(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


def weekly(service, budget, units="10", first=0, last=13) -> dict:
    return {"service": service.pk, "units_per_week": units, "start": day(budget, first), "end": day(budget, last)}


def one_off(service, budget, quantity="2", on=30) -> dict:
    return {"service": service.pk, "quantity": quantity, "start": day(budget, on)}


def payload(budget, *lines, **extra) -> dict:
    return {
        "budget": budget.pk,
        "outcomes": ["Get out to the allotment every week", {"text": "Wash safely", "domain": "personal_hygiene"}],
        "lines": list(lines),
        **extra,
    }


def counts() -> tuple[int, int, int, int]:
    return (CarePlan.objects.count(), PlanLine.objects.count(), PlanOutcome.objects.count(), AuditEvent.objects.count())


def set_status(plan, status: str) -> None:
    CarePlan.objects.filter(pk=plan.pk).update(status=status)


def reload(plan) -> CarePlan:
    return CarePlan.objects.get(pk=plan.pk)


# --- create ---------------------------------------------------------------------------------


def test_client_creates_a_draft_plan_for_their_own_budget_costed_as_product_md_says(
    api_as, client_user, budget, visits, respite
):
    response = api_as(client_user).post(
        URL,
        payload(
            budget,
            weekly(visits, budget, "10", 0, 13),
            one_off(respite, budget, "2"),
            weekly(visits, budget, "3", 20, 29),
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert isinstance(body["id"], int)
    # 24.50 × 10 × 14/7 = 490.00; 180.00 × 2 = 360.00; 24.50 × 3 × 10/7 = 105.00
    assert [(line["service"], line["unit_price"], line["cost"]) for line in body["lines"]] == [
        (visits.pk, money("24.50"), money("490.00")),
        (respite.pk, money("180.00"), money("360.00")),
        (visits.pk, money("24.50"), money("105.00")),
    ]
    assert all(isinstance(line["id"], int) for line in body["lines"])
    assert body["total_cost"] == money("955.00")
    plan = CarePlan.objects.get(pk=body["id"])
    assert plan.client == client_user and plan.budget == budget and plan.version == 1
    assert [(o.text, o.domain) for o in plan.outcomes.all()] == [
        ("Get out to the allotment every week", ""),
        ("Wash safely", "personal_hygiene"),
    ]


def test_line_cost_is_rounded_half_up_to_the_penny(api_as, client_user, budget, make_service):
    odd = make_service("Odd price", "1.01")
    response = api_as(client_user).post(URL, payload(budget, weekly(odd, budget, "2.50", 0, 6)), format="json")
    assert response.status_code == 201
    assert response.json()["lines"][0]["cost"] == money("2.53")  # 2.525 half up


@pytest.mark.parametrize("who", ["social_worker", "team_manager"])
def test_social_worker_and_team_manager_create_a_plan_for_a_caseload_client(request, who, api_as, budget, visits):
    actor = request.getfixturevalue(who)
    response = api_as(actor).post(URL, payload(budget, weekly(visits, budget)), format="json")
    assert response.status_code == 201, response.json()
    plan = CarePlan.objects.get(pk=response.json()["id"])
    assert plan.created_by == actor and plan.client == budget.client
    assert response.json()["total_cost"] == money("490.00")


def test_client_cannot_create_a_plan_on_another_clients_budget(api_as, client_user, budget, make_budget, visits):
    other = make_budget(factories.ClientFactory())
    before = counts()
    response = api_as(client_user).post(URL, payload(other, weekly(visits, other)), format="json")
    assert response.status_code == 404
    assert counts() == before


@pytest.mark.parametrize("who", ["social_worker", "team_manager"])
def test_staff_cannot_create_a_plan_for_a_client_not_on_their_caseload(
    request, who, api_as, budget, make_budget, visits
):
    stranger = factories.ClientFactory()
    factories.CaseloadAssignmentFactory(client=stranger)  # another social worker, in no team of ours
    other = make_budget(stranger)
    before = counts()
    response = api_as(request.getfixturevalue(who)).post(URL, payload(other, weekly(visits, other)), format="json")
    assert response.status_code == 404
    assert counts() == before


def test_creating_a_plan_for_a_nonexistent_budget_is_404(api_as, client_user, budget, visits):
    body = payload(budget, weekly(visits, budget))
    body["budget"] = budget.pk + 1000
    before = counts()
    assert api_as(client_user).post(URL, body, format="json").status_code == 404
    assert counts() == before


@pytest.mark.parametrize("who", ["case_manager", "provider_user", "finance_user", "admin_person"])
def test_other_roles_may_not_create_plans(request, who, api_as, budget, visits):
    before = counts()
    response = api_as(request.getfixturevalue(who)).post(URL, payload(budget, weekly(visits, budget)), format="json")
    assert response.status_code == 403
    assert counts() == before


def test_anonymous_cannot_create_a_plan(api, budget, visits):
    assert api.post(URL, payload(budget, weekly(visits, budget)), format="json").status_code == 401


# --- create: every invalid input is a 400 naming the problem, and writes nothing -------------


def bad_line_cases():
    """(name, line builder(budget, services) -> line, words expected in the message)."""
    return {
        "pending_provider": (lambda b, s: weekly(s["pending"], b), "not available"),
        "suspended_provider": (lambda b, s: weekly(s["suspended"], b), "not available"),
        "retired_service": (lambda b, s: weekly(s["retired"], b), "not available"),
        "unknown_service": (lambda b, s: {**weekly(s["visits"], b), "service": 999999}, "choose a service"),
        "zero_units": (lambda b, s: weekly(s["visits"], b, units="0"), "units_per_week must be more than 0"),
        "negative_units": (lambda b, s: weekly(s["visits"], b, units="-1"), "units_per_week must be more than 0"),
        "three_dp_units": (lambda b, s: weekly(s["visits"], b, units="1.005"), "at most two decimal places"),
        "zero_quantity": (lambda b, s: one_off(s["visits"], b, quantity="0"), "quantity must be more than 0"),
        "negative_quantity": (lambda b, s: one_off(s["visits"], b, quantity="-2"), "quantity must be more than 0"),
        "three_dp_quantity": (lambda b, s: one_off(s["visits"], b, quantity="0.125"), "at most two decimal places"),
        "not_a_number": (lambda b, s: weekly(s["visits"], b, units="lots"), "must be a number"),
        "end_before_start": (lambda b, s: weekly(s["visits"], b, first=10, last=9), "end date is before the start"),
        "start_before_period": (lambda b, s: weekly(s["visits"], b, first=-1, last=5), "in the budget period"),
        "start_after_period": (lambda b, s: one_off(s["visits"], b, on=365), "start date must be in the budget period"),
        "end_after_period": (lambda b, s: weekly(s["visits"], b, first=360, last=365), "end date must be on or before"),
        "both_units_and_quantity": (lambda b, s: {**weekly(s["visits"], b), "quantity": "1"}, "not both or neither"),
        "neither_units_nor_quantity": (
            lambda b, s: {"service": s["visits"].pk, "start": day(b, 0), "end": day(b, 6)},
            "not both or neither",
        ),
        "bad_date": (lambda b, s: {**weekly(s["visits"], b), "start": "next tuesday"}, "must be a date"),
    }  # fmt: skip


@pytest.fixture
def line_services(make_service, make_provider, visits):
    return {
        "visits": visits,
        "pending": make_service("Pending care", "5.00", provider=make_provider(status="pending")),
        "suspended": make_service("Suspended care", "5.00", provider=make_provider(status="suspended")),
        "retired": make_service("Old group", "10.00", retired_at="2026-01-01T00:00:00Z"),
    }


@pytest.mark.parametrize("case", list(bad_line_cases()))
def test_client_gets_400_naming_the_bad_line_and_nothing_is_written(case, api_as, client_user, budget, line_services):
    build, words = bad_line_cases()[case]
    good = weekly(line_services["visits"], budget)
    before = counts()
    response = api_as(client_user).post(URL, payload(budget, good, build(budget, line_services)), format="json")
    assert response.status_code == 400
    messages = response.json()["lines"]
    assert any(m.startswith("Line 2:") and words in m for m in messages), messages
    assert not any(m.startswith("Line 1:") for m in messages)
    assert counts() == before


def test_every_bad_line_is_reported_together(api_as, client_user, budget, line_services):
    lines = [weekly(line_services["pending"], budget), one_off(line_services["visits"], budget, quantity="0")]
    response = api_as(client_user).post(URL, payload(budget, *lines), format="json")
    assert response.status_code == 400
    messages = response.json()["lines"]
    assert any(m.startswith("Line 1:") for m in messages) and any(m.startswith("Line 2:") for m in messages)


def test_unknown_outcome_domain_is_400_and_writes_nothing(api_as, client_user, budget, visits):
    body = payload(budget, weekly(visits, budget))
    body["outcomes"] = [{"text": "Feel safe at home", "domain": "happiness"}]
    before = counts()
    response = api_as(client_user).post(URL, body, format="json")
    assert response.status_code == 400
    assert any("happiness" in m for m in response.json()["outcomes"])
    assert counts() == before


def test_unknown_money_management_is_400_and_writes_nothing(api_as, client_user, budget, visits):
    before = counts()
    response = api_as(client_user).post(
        URL, payload(budget, weekly(visits, budget), money_management="under_the_mattress"), format="json"
    )
    assert response.status_code == 400
    assert "money_management" in response.json()
    assert counts() == before


def test_money_management_defaults_to_a_council_managed_account_and_can_be_chosen(
    api_as, client_user, budget, make_budget
):
    default = api_as(client_user).post(URL, payload(budget), format="json")
    other = make_budget(client_user)  # a budget has one plan in progress
    chosen = api_as(client_user).post(URL, payload(other, money_management="direct_payment"), format="json")
    assert default.json()["money_management"] == "council_managed"
    assert chosen.json()["money_management"] == "direct_payment"


# --- read -----------------------------------------------------------------------------------


@pytest.fixture
def plan(make_plan, client_user, budget, visits, respite):
    return make_plan(
        client_user,
        budget,
        lines=[weekly(visits, budget), one_off(respite, budget)],
        risks="Falls at night",
    )


@pytest.mark.parametrize("who", ["client_user", "social_worker", "team_manager", "admin_person"])
def test_client_their_staff_and_admin_can_read_the_plan(request, who, api_as, plan):
    response = api_as(request.getfixturevalue(who)).get(f"{URL}{plan.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == plan.pk and body["status"] == "draft"
    assert body["total_cost"] == money("850.00")
    assert [line["cost"] for line in body["lines"]] == [money("490.00"), money("360.00")]


@pytest.mark.parametrize("who", ["case_manager", "provider_user", "finance_user"])
def test_other_roles_cannot_see_the_plan(request, who, api_as, plan):
    assert api_as(request.getfixturevalue(who)).get(f"{URL}{plan.pk}/").status_code == 404


def test_another_client_cannot_see_the_plan(api_as, plan):
    assert api_as(factories.ClientFactory()).get(f"{URL}{plan.pk}/").status_code == 404


def test_another_social_worker_cannot_see_the_plan(api_as, plan):
    assert api_as(factories.SocialWorkerFactory()).get(f"{URL}{plan.pk}/").status_code == 404


def test_reading_a_nonexistent_plan_is_404(api_as, client_user, plan):
    assert api_as(client_user).get(f"{URL}{plan.pk + 1000}/").status_code == 404


# --- edit -----------------------------------------------------------------------------------


def test_client_edits_outcomes_lines_and_risks_and_the_total_is_recomputed(api_as, client_user, plan, budget, respite):
    response = api_as(client_user).patch(
        f"{URL}{plan.pk}/",
        {
            "outcomes": [{"text": "See my grandchildren", "domain": "relationships"}],
            "lines": [one_off(respite, budget, quantity="3")],
            "risks": "Carer sometimes late",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["outcomes"] == [{"text": "See my grandchildren", "domain": "relationships"}]
    assert [line["cost"] for line in body["lines"]] == [money("540.00")]
    assert body["total_cost"] == money("540.00")
    assert body["risks"] == "Carer sometimes late"
    fresh = reload(plan)
    assert fresh.total_cost == Money("540.00", "GBP") and fresh.risks == "Carer sometimes late"
    assert PlanLine.objects.filter(plan=plan).count() == 1


def test_patch_without_lines_keeps_lines_and_total(api_as, social_worker, plan):
    response = api_as(social_worker).patch(f"{URL}{plan.pk}/", {"contacts": "Sam on 01234 567890"}, format="json")
    assert response.status_code == 200
    assert response.json()["total_cost"] == money("850.00") and len(response.json()["lines"]) == 2


def test_a_kept_line_keeps_its_copied_price_and_a_new_line_copies_the_new_price(
    api_as, client_user, plan, budget, visits
):
    kept = plan.lines.get(service=visits)
    ServiceOffering.objects.filter(pk=visits.pk).update(unit_price=Decimal("30.00"))
    response = api_as(client_user).patch(
        f"{URL}{plan.pk}/",
        {"lines": [{"id": kept.pk, **weekly(visits, budget, "10", 0, 13)}, weekly(visits, budget, "10", 0, 13)]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    lines = response.json()["lines"]
    assert [(line["unit_price"], line["cost"]) for line in lines] == [
        (money("24.50"), money("490.00")),
        (money("30.00"), money("600.00")),
    ]
    assert response.json()["total_cost"] == money("1090.00")


def test_a_price_change_on_the_offering_never_changes_an_existing_line(api_as, client_user, plan, visits):
    ServiceOffering.objects.filter(pk=visits.pk).update(unit_price=Decimal("99.99"), title="Renamed visits")
    line = PlanLine.objects.get(plan=plan, service=visits)
    assert line.unit_price == Money("24.50", "GBP") and line.cost == Money("490.00", "GBP")
    assert line.title == "Home care visits"
    body = api_as(client_user).get(f"{URL}{plan.pk}/").json()
    assert body["lines"][0]["unit_price"] == money("24.50") and body["total_cost"] == money("850.00")


def test_patch_with_a_bad_line_is_400_and_changes_nothing(api_as, client_user, plan, budget, visits):
    lines_before = list(PlanLine.objects.filter(plan=plan).values_list("pk", "cost"))
    response = api_as(client_user).patch(
        f"{URL}{plan.pk}/", {"risks": "changed", "lines": [weekly(visits, budget, units="0")]}, format="json"
    )
    assert response.status_code == 400
    assert list(PlanLine.objects.filter(plan=plan).values_list("pk", "cost")) == lines_before
    assert reload(plan).risks == "Falls at night"


def test_patch_giving_another_plans_line_id_is_400(api_as, client_user, plan, budget, make_budget, make_plan, visits):
    second = make_budget(client_user)  # a budget has one plan in progress
    other = make_plan(client_user, second, lines=[weekly(visits, second)])
    foreign = other.lines.get()
    response = api_as(client_user).patch(
        f"{URL}{plan.pk}/", {"lines": [{"id": foreign.pk, **weekly(visits, budget)}]}, format="json"
    )
    assert response.status_code == 400
    assert any(f"no line {foreign.pk}" in m for m in response.json()["lines"])


@pytest.mark.parametrize(
    "status", ["submitted", "in_review", "awaiting_senior_approval", "approved", "rejected", "withdrawn", "superseded"]
)
def test_patch_in_a_non_editable_state_is_409_and_changes_nothing(status, api_as, client_user, plan, budget, respite):
    set_status(plan, status)
    lines_before = list(PlanLine.objects.filter(plan=plan).values_list("pk", "unit_price", "cost"))
    outcomes_before = list(PlanOutcome.objects.filter(plan=plan).values_list("pk", "text"))
    audits_before = AuditEvent.objects.count()
    response = api_as(client_user).patch(
        f"{URL}{plan.pk}/",
        {"risks": "changed", "outcomes": ["new"], "lines": [one_off(respite, budget, "1")]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["detail"]
    fresh = reload(plan)
    assert fresh.status == status and fresh.risks == "Falls at night"
    assert fresh.total_cost == Money("850.00", "GBP")
    assert list(PlanLine.objects.filter(plan=plan).values_list("pk", "unit_price", "cost")) == lines_before
    assert list(PlanOutcome.objects.filter(plan=plan).values_list("pk", "text")) == outcomes_before
    assert AuditEvent.objects.count() == audits_before


def test_patch_when_changes_are_requested_is_allowed(api_as, social_worker, plan, budget, respite):
    set_status(plan, "changes_requested")
    response = api_as(social_worker).patch(
        f"{URL}{plan.pk}/", {"lines": [one_off(respite, budget, "1")]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "changes_requested"
    assert response.json()["total_cost"] == money("180.00")


@pytest.mark.parametrize("who", ["case_manager", "provider_user", "finance_user", "admin_person"])
def test_other_roles_may_not_edit_the_plan(request, who, api_as, plan):
    response = api_as(request.getfixturevalue(who)).patch(f"{URL}{plan.pk}/", {"risks": "x"}, format="json")
    assert response.status_code == 403
    assert reload(plan).risks == "Falls at night"


def test_another_client_cannot_edit_the_plan(api_as, plan):
    response = api_as(factories.ClientFactory()).patch(f"{URL}{plan.pk}/", {"risks": "x"}, format="json")
    assert response.status_code == 404
    assert reload(plan).risks == "Falls at night"


# --- new versions ---------------------------------------------------------------------------


def test_new_version_of_an_approved_plan_copies_outcomes_and_lines_at_their_agreed_prices(client_user, plan, visits):
    set_status(plan, "approved")
    ServiceOffering.objects.filter(pk=visits.pk).update(unit_price=Decimal("40.00"))
    new = plan_new_version(actor=client_user, plan=reload(plan))
    new = CarePlan.objects.get(pk=new.pk)
    assert new.status == "draft"
    assert new.version == 2 and new.previous_id == plan.pk
    assert new.budget_id == plan.budget_id and new.client_id == plan.client_id
    assert [(o.text, o.domain) for o in new.outcomes.all()] == [(o.text, o.domain) for o in plan.outcomes.all()]
    copy = ["service_id", "title", "unit_price", "kind", "units_per_week", "quantity", "start", "end", "cost"]
    assert [[getattr(line, f) for f in copy] for line in new.lines.all()] == [
        [getattr(line, f) for f in copy] for line in plan.lines.all()
    ]
    assert new.lines.get(service=visits).unit_price == Money("24.50", "GBP")
    assert new.total_cost == Money("850.00", "GBP")
    assert reload(plan).status == "approved"


@pytest.mark.parametrize(
    "status",
    [
        "draft",
        "submitted",
        "in_review",
        "changes_requested",
        "awaiting_senior_approval",
        "rejected",
        "withdrawn",
        "superseded",
    ],
)
def test_new_version_only_from_approved(status, client_user, plan):
    set_status(plan, status)
    before = counts()
    with pytest.raises(StateConflict):
        plan_new_version(actor=client_user, plan=reload(plan))
    assert counts() == before


def test_a_second_new_version_is_refused(client_user, social_worker, plan):
    set_status(plan, "approved")
    plan_new_version(actor=client_user, plan=reload(plan))
    before = counts()
    with pytest.raises(StateConflict):
        plan_new_version(actor=social_worker, plan=reload(plan))
    assert counts() == before
    assert CarePlan.objects.filter(previous=plan).count() == 1


def test_a_new_version_answers_409_through_the_api_error_mapping(client_user, plan):
    from accounts.api.errors import exception_handler

    with pytest.raises(StateConflict) as refused:
        plan_new_version(actor=client_user, plan=plan)
    response = exception_handler(refused.value, {})
    assert response.status_code == 409 and response.data["detail"]

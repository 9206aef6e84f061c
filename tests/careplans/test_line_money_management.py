"""How each plan line's money is managed (API.md "Plan lines and how their money is managed").

A line is council-managed, a direct payment or an individual service fund; a line that does not say
takes the plan's `money_management`. An own arrangement (no `service`: a typed description, unit
and price) is allowed only as a direct payment. Covered here: the API (create, update, new
versions, every refusal a 400 naming the line with nothing written), the designer pages (how it is
paid, adding and changing an own arrangement), the plan and review pages, and the plan PDF.

Costs are worked out here from PRODUCT.md §4, not with `careplans.costing`: a weekly line costs
unit price × units per week × (end − start + 1 days) / 7, half up to the penny once; a one-off
costs unit price × quantity.
"""

import datetime
import html as html_lib
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import IntegrityError, transaction
from djmoney.money import Money
from pypdf import PdfReader

from accounts.models import AuditEvent
from careplans.models import CarePlan, PlanLine, PlanOutcome
from careplans.services import plan_new_version

pytestmark = pytest.mark.django_db

URL = "/api/v1/plans/"
HTMX = {"HX-Request": "true"}
DAY = datetime.timedelta(days=1)

COUNCIL = "council_managed"
DP = "direct_payment"
ISF = "individual_service_fund"
LABELS = {
    COUNCIL: "Council-managed account",
    DP: "Direct payment to me",
    ISF: "Individual service fund held by a provider",
}
OWN_DESCRIPTION = "Personal assistant"


# --- helpers -------------------------------------------------------------------------------


def day(budget, offset: int) -> str:
    return (budget.period_start + datetime.timedelta(days=offset)).isoformat()


def money(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


def weekly_cost(price: str, units: str, days: int) -> Decimal:
    return (Decimal(price) * Decimal(units) * days / 7).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def one_off_cost(price: str, quantity: str) -> Decimal:
    return (Decimal(price) * Decimal(quantity)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def weekly(service, budget, units="10", first=0, last=13, **extra) -> dict:
    return {
        "service": service.pk,
        "units_per_week": units,
        "start": day(budget, first),
        "end": day(budget, last),
        **extra,
    }


def one_off(service, budget, quantity="2", on=30, **extra) -> dict:
    return {"service": service.pk, "quantity": quantity, "start": day(budget, on), **extra}


def own(budget, *, drop=(), **overrides) -> dict:
    """An own arrangement: a personal assistant, £14.50 an hour, 10 hours a week for 14 days
    (£290.00), as a direct payment. `drop` leaves keys out; `overrides` replace them."""
    line = {
        "description": OWN_DESCRIPTION,
        "unit": "hour",
        "unit_price": money("14.50"),
        "units_per_week": "10",
        "start": day(budget, 0),
        "end": day(budget, 13),
        "money_management": DP,
        **overrides,
    }
    return {key: value for key, value in line.items() if key not in drop}


def payload(budget, *lines, **extra) -> dict:
    return {"budget": budget.pk, "outcomes": ["Get out to the allotment every week"], "lines": list(lines), **extra}


def writes() -> tuple:
    """What a refusal must leave as it was: plans, lines (and their terms), outcomes, audit rows."""
    return (
        CarePlan.objects.count(),
        list(
            PlanLine.objects.order_by("pk").values_list(
                "pk", "service_id", "money_management", "title", "unit", "unit_price", "units_per_week", "cost"
            )
        ),
        PlanOutcome.objects.count(),
        AuditEvent.objects.count(),
    )


def set_status(plan, status: str) -> CarePlan:
    CarePlan.objects.filter(pk=plan.pk).update(status=status)
    return CarePlan.objects.get(pk=plan.pk)


def text_of(response) -> str:
    """The page's text: tags dropped, entities decoded, whitespace squeezed."""
    raw = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r" ([.,:;])", r"\1", " ".join(html_lib.unescape(raw).split()))


def money_section(response) -> str:
    """The HTML of the page's "How the money is managed" part, up to the next heading."""
    page = response.content.decode()
    after = page.split("How the money is managed</h2>", 1)[1]
    return after.split("<h2", 1)[0]


def money_rows(response) -> dict[str, str]:
    """The label → amount rows of the page's "How the money is managed" summary list."""
    rows = re.findall(
        r'<dt class="govuk-summary-list__key">(.*?)</dt>\s*<dd class="govuk-summary-list__value">(.*?)</dd>',
        money_section(response),
        re.S,
    )
    return {html_lib.unescape(label.strip()): html_lib.unescape(amount.strip()) for label, amount in rows}


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def mixed_plan(make_plan, client_user, budget, visits, respite):
    """Ruth's draft plan, each line paid a different way:

    - home care visits, 10 hours a week for 14 days, council-managed: £490.00
    - respite, 2 nights once, an individual service fund: £360.00
    - home care visits, 3 hours a week for 10 days, a direct payment: £105.00
    - her own personal assistant, £14.50 an hour, 10 hours a week for 14 days: £290.00
    """
    return make_plan(
        client_user,
        budget,
        lines=[
            weekly(visits, budget, "10", 0, 13, money_management=COUNCIL),
            one_off(respite, budget, "2", money_management=ISF),
            weekly(visits, budget, "3", 20, 29, money_management=DP),
            own(budget),
        ],
        risks="Falls at night",
    )


def own_line(plan) -> PlanLine:
    return plan.lines.get(service__isnull=True)


# --- API: creating lines paid in different ways ------------------------------------------------


def test_client_creates_a_plan_whose_lines_are_paid_in_different_ways_and_sees_the_split(
    api_as, client_user, budget, visits, respite
):
    response = api_as(client_user).post(
        URL,
        payload(
            budget,
            weekly(visits, budget, "10", 0, 13, money_management=COUNCIL),
            one_off(respite, budget, "2", money_management=ISF),
            weekly(visits, budget, "3", 20, 29, money_management=DP),
            own(budget),
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    fields = ["service", "provider", "money_management", "description", "title", "unit", "unit_price", "cost"]
    assert [[line[f] for f in fields] for line in body["lines"]] == [
        [visits.pk, visits.provider_id, COUNCIL, "", "Home care visits", "hour", money("24.50"), money("490.00")],
        [respite.pk, respite.provider_id, ISF, "", "Respite breaks", "night", money("180.00"), money("360.00")],
        [visits.pk, visits.provider_id, DP, "", "Home care visits", "hour", money("24.50"), money("105.00")],
        [None, None, DP, OWN_DESCRIPTION, OWN_DESCRIPTION, "hour", money("14.50"), money("290.00")],
    ]
    assert body["total_cost"] == money("1245.00")
    assert body["cost_by_money_management"] == {
        COUNCIL: money("490.00"),
        DP: money("395.00"),  # 105.00 + 290.00
        ISF: money("360.00"),
    }
    assert body["mixed"] is True
    assert body["money_management"] == COUNCIL  # the plan's default, for lines that do not say
    line = PlanLine.objects.get(plan_id=body["id"], service__isnull=True)
    assert (line.provider_id, line.title, line.unit, line.unit_price) == (
        None,
        OWN_DESCRIPTION,
        "hour",
        Money("14.50", "GBP"),
    )
    assert line.money_management == DP and line.cost == Money("290.00", "GBP")


def test_reading_the_plan_gives_every_line_its_money_management_and_description(api_as, social_worker, mixed_plan):
    body = api_as(social_worker).get(f"{URL}{mixed_plan.pk}/").json()
    assert [(line["money_management"], line["description"], line["service"]) for line in body["lines"]] == [
        (COUNCIL, "", mixed_plan.lines.get(position=1).service_id),
        (ISF, "", mixed_plan.lines.get(position=2).service_id),
        (DP, "", mixed_plan.lines.get(position=3).service_id),
        (DP, OWN_DESCRIPTION, None),
    ]
    assert body["mixed"] is True
    assert body["cost_by_money_management"][DP] == money("395.00")


@pytest.mark.parametrize("default", [DP, ISF, COUNCIL])
def test_lines_that_do_not_say_are_managed_the_plans_way_and_the_plan_is_not_mixed(
    default, api_as, client_user, budget, visits, respite
):
    response = api_as(client_user).post(
        URL,
        payload(budget, weekly(visits, budget), one_off(respite, budget), money_management=default),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [line["money_management"] for line in body["lines"]] == [default, default]
    assert body["mixed"] is False
    expected = {way: money("0.00") for way in LABELS}
    expected[default] = money("850.00")  # 490.00 + 360.00
    assert body["cost_by_money_management"] == expected


def test_an_own_arrangement_that_does_not_say_is_a_direct_payment_on_a_direct_payment_plan(
    api_as, client_user, budget, visits
):
    response = api_as(client_user).post(
        URL, payload(budget, own(budget, drop=["money_management"]), money_management=DP), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["money_management"] == DP
    assert response.json()["mixed"] is False


def test_lines_all_paid_one_way_other_than_the_plans_default_are_not_mixed(api_as, client_user, budget, visits):
    response = api_as(client_user).post(
        URL,
        payload(
            budget, weekly(visits, budget, money_management=ISF), weekly(visits, budget, "1", money_management=ISF)
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["money_management"] == COUNCIL
    assert response.json()["mixed"] is False


def test_a_plan_with_no_lines_is_not_mixed_and_costs_nothing_any_way(api_as, client_user, budget):
    body = api_as(client_user).post(URL, payload(budget), format="json").json()
    assert body["mixed"] is False
    assert body["cost_by_money_management"] == {way: money("0.00") for way in LABELS}


@pytest.mark.parametrize(
    "price", [money("14.50"), "14.50", "14.5", {"amount": "14.50"}], ids=["money", "string", "one_place", "no_currency"]
)
def test_an_own_arrangements_price_may_be_money_or_a_decimal_string_in_gbp(price, api_as, client_user, budget):
    response = api_as(client_user).post(URL, payload(budget, own(budget, unit_price=price)), format="json")
    assert response.status_code == 201, response.json()
    line = response.json()["lines"][0]
    assert line["unit_price"] == money("14.50") and line["cost"] == money("290.00")


@pytest.mark.parametrize(
    ("price", "amount", "days"),
    [
        ("14.57", "3", 10),  # 14.57 × 3 × 10 / 7 = 62.442857… → £62.44
        ("10.01", "0.5", 7),  # 5.005 exactly: half up gives £5.01 (banker's rounding would give £5.00)
        ("19.99", "1.25", 100),  # 356.964285… → £356.96
        ("99999.99", "1", 1),  # the dearest price allowed: 14,285.712857… → £14,285.71
        ("14.50", "3", None),  # a one-off: £43.50
    ],
)
def test_an_own_arrangement_is_costed_like_any_line(price, amount, days, api_as, client_user, budget):
    if days is None:
        line = own(budget, unit_price=price, drop=["units_per_week", "end"], quantity=amount)
        expected = one_off_cost(price, amount)
    else:
        line = own(budget, unit_price=price, units_per_week=amount, end=day(budget, days - 1))
        expected = weekly_cost(price, amount, days)
    response = api_as(client_user).post(URL, payload(budget, line), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["lines"][0]["cost"] == money(f"{expected:.2f}")
    assert body["total_cost"] == money(f"{expected:.2f}")
    assert body["cost_by_money_management"][DP] == money(f"{expected:.2f}")
    assert body["lines"][0]["kind"] == ("one_off" if days is None else "weekly")


def test_an_own_arrangements_description_may_be_200_characters_and_is_stored_trimmed(api_as, client_user, budget):
    longest = "P" * 200
    response = api_as(client_user).post(
        URL, payload(budget, own(budget, description=f"  {longest} "), own(budget)), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["description"] == longest


# --- API: every refusal is a 400 naming the line, and nothing is written -----------------------


def bad_own_cases():
    """name → (line 2 builder(budget, visits), words expected in its message)."""
    return {
        "own_council_managed": (lambda b, v: own(b, money_management=COUNCIL), "only be paid by direct payment"),
        "own_individual_service_fund": (lambda b, v: own(b, money_management=ISF), "only be paid by direct payment"),
        "own_plan_default_council": (lambda b, v: own(b, drop=["money_management"]), "only be paid by direct payment"),
        "own_unknown_money_management": (lambda b, v: own(b, money_management="cash"), "must be one of"),
        "catalogue_unknown_money_management": (
            lambda b, v: weekly(v, b, money_management="under_the_mattress"), "money_management must be one of"
        ),
        "unit_unknown": (lambda b, v: own(b, unit="fortnight"), "give the unit as one of"),
        "unit_missing": (lambda b, v: own(b, drop=["unit"]), "give the unit as one of"),
        "price_zero": (lambda b, v: own(b, unit_price="0"), "unit_price must be more than 0"),
        "price_zero_money": (lambda b, v: own(b, unit_price=money("0.00")), "unit_price must be more than 0"),
        "price_negative": (lambda b, v: own(b, unit_price="-14.50"), "unit_price must be more than 0"),
        "price_negative_money": (lambda b, v: own(b, unit_price=money("-1.00")), "unit_price must be more than 0"),
        "price_three_decimals": (lambda b, v: own(b, unit_price="14.505"), "at most two decimal places"),
        "price_three_decimals_money": (lambda b, v: own(b, unit_price=money("14.505")), "at most two decimal places"),
        "price_not_gbp": (lambda b, v: own(b, unit_price={"amount": "14.50", "currency": "EUR"}), "in GBP"),
        "price_not_a_number": (lambda b, v: own(b, unit_price="cheap"), "unit_price must be a number"),
        "price_missing": (lambda b, v: own(b, drop=["unit_price"]), "unit_price must be a number"),
        "price_too_big": (lambda b, v: own(b, unit_price="100000.00"), "unit_price must be less than"),
        "description_missing": (lambda b, v: own(b, drop=["description"]), "describe the support"),
        "description_blank": (lambda b, v: own(b, description="   "), "describe the support"),
        "description_not_text": (lambda b, v: own(b, description=42), "describe the support"),
        "description_too_long": (lambda b, v: own(b, description="P" * 201), "under 200 characters"),
        "service_with_description": (lambda b, v: weekly(v, b, description=OWN_DESCRIPTION), "not both"),
        "service_with_own_terms": (
            lambda b, v: weekly(v, b, description=OWN_DESCRIPTION, unit="hour", unit_price="14.5", money_management=DP),
            "not both",
        ),
        "service_with_unit_price": (lambda b, v: weekly(v, b, unit_price="14.50"), "not both"),
        "own_units_zero": (lambda b, v: own(b, units_per_week="0"), "units_per_week must be more than 0"),
        "own_outside_the_period": (lambda b, v: own(b, start=day(b, -1)), "in the budget period"),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(bad_own_cases()))
def test_creating_a_plan_with_a_bad_line_is_a_400_naming_it_and_writes_nothing(
    case, api_as, client_user, budget, visits
):
    build, words = bad_own_cases()[case]
    before = writes()
    response = api_as(client_user).post(
        URL, payload(budget, weekly(visits, budget), build(budget, visits)), format="json"
    )
    assert response.status_code == 400, response.json()
    messages = response.json()["lines"]
    assert any(m.startswith("Line 2:") and words in m for m in messages), messages
    assert not any(m.startswith("Line 1:") for m in messages), messages
    assert writes() == before


@pytest.mark.parametrize("case", ["own_council_managed", "price_zero", "description_too_long", "unit_unknown"])
def test_changing_a_plan_with_a_bad_line_is_a_400_and_changes_nothing(case, api_as, client_user, budget, mixed_plan):
    build, words = bad_own_cases()[case]
    kept = [{"id": line.pk, **weekly(line.service, budget)} for line in mixed_plan.lines.filter(position=1)]
    before = writes()
    response = api_as(client_user).patch(
        f"{URL}{mixed_plan.pk}/", {"risks": "changed", "lines": [*kept, build(budget, None)]}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert any(m.startswith("Line 2:") and words in m for m in response.json()["lines"])
    assert writes() == before
    assert CarePlan.objects.get(pk=mixed_plan.pk).risks == "Falls at night"


def test_every_bad_own_arrangement_problem_is_reported_together(api_as, client_user, budget):
    response = api_as(client_user).post(
        URL,
        payload(budget, own(budget, description="", unit="fortnight", unit_price="0", money_management=COUNCIL)),
        format="json",
    )
    assert response.status_code == 400
    messages = " ".join(response.json()["lines"])
    for words in ["describe the support", "give the unit", "unit_price must be more than 0", "direct payment"]:
        assert words in messages, messages


def test_the_database_refuses_an_own_arrangement_that_is_not_a_direct_payment(mixed_plan):
    line = own_line(mixed_plan)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanLine.objects.filter(pk=line.pk).update(money_management=COUNCIL)
    assert PlanLine.objects.get(pk=line.pk).money_management == DP


def test_the_database_refuses_a_line_with_a_provider_but_no_service(mixed_plan, visits):
    line = own_line(mixed_plan)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanLine.objects.filter(pk=line.pk).update(provider=visits.provider)


# --- API: changing lines ----------------------------------------------------------------------


def test_a_kept_own_arrangement_keeps_its_terms_and_payment_whatever_is_typed_again(
    api_as, client_user, budget, mixed_plan
):
    line = own_line(mixed_plan)
    response = api_as(client_user).patch(
        f"{URL}{mixed_plan.pk}/",
        {
            "lines": [
                {
                    "id": line.pk,
                    "description": "Cleaner",
                    "unit": "day",
                    "unit_price": "99.00",
                    "units_per_week": "5",
                    "start": day(budget, 0),
                    "end": day(budget, 20),
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    (body,) = response.json()["lines"]
    expected = weekly_cost("14.50", "5", 21)  # the agreed price, the new amount and dates: £217.50
    assert (body["id"], body["service"], body["description"], body["unit"], body["unit_price"]) == (
        line.pk,
        None,
        OWN_DESCRIPTION,
        "hour",
        money("14.50"),
    )
    assert body["money_management"] == DP and body["cost"] == money(f"{expected:.2f}")
    assert response.json()["cost_by_money_management"] == {
        COUNCIL: money("0.00"),
        DP: money(f"{expected:.2f}"),
        ISF: money("0.00"),
    }
    assert response.json()["mixed"] is False
    fresh = PlanLine.objects.get(pk=line.pk)
    assert (fresh.title, fresh.unit, fresh.unit_price, fresh.units_per_week) == (
        OWN_DESCRIPTION,
        "hour",
        Money("14.50", "GBP"),
        Decimal("5"),
    )


def test_a_kept_own_arrangement_cannot_become_council_managed(api_as, client_user, budget, mixed_plan):
    line = own_line(mixed_plan)
    before = writes()
    response = api_as(client_user).patch(
        f"{URL}{mixed_plan.pk}/",
        {
            "lines": [
                {
                    "id": line.pk,
                    "units_per_week": "10",
                    "start": day(budget, 0),
                    "end": day(budget, 13),
                    "money_management": COUNCIL,
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert any("only be paid by direct payment" in m for m in response.json()["lines"])
    assert writes() == before


def test_a_kept_catalogue_line_may_change_how_it_is_paid_at_its_agreed_price(
    api_as, client_user, budget, mixed_plan, visits
):
    line = mixed_plan.lines.get(position=1)  # council-managed visits
    response = api_as(client_user).patch(
        f"{URL}{mixed_plan.pk}/",
        {"lines": [{"id": line.pk, **weekly(visits, budget, "10", 0, 13), "money_management": ISF}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    (body,) = response.json()["lines"]
    assert (body["id"], body["money_management"], body["cost"]) == (line.pk, ISF, money("490.00"))
    assert PlanLine.objects.get(pk=line.pk).money_management == ISF


def test_kept_lines_keep_their_way_when_the_plans_default_changes_and_new_lines_take_the_new_default(
    api_as, client_user, budget, mixed_plan, visits
):
    council = mixed_plan.lines.get(position=1)
    isf = mixed_plan.lines.get(position=2)
    mine = own_line(mixed_plan)
    response = api_as(client_user).patch(
        f"{URL}{mixed_plan.pk}/",
        {
            "money_management": DP,
            "lines": [
                {"id": council.pk, **weekly(visits, budget, "10", 0, 13)},
                {"id": isf.pk, "quantity": "2", "start": day(budget, 30)},
                {"id": mine.pk, "units_per_week": "10", "start": day(budget, 0), "end": day(budget, 13)},
                weekly(visits, budget, "1", 0, 6),  # new, says nothing: £24.50
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["money_management"] == DP
    assert [line["money_management"] for line in body["lines"]] == [COUNCIL, ISF, DP, DP]
    assert body["cost_by_money_management"] == {
        COUNCIL: money("490.00"),
        DP: money("314.50"),  # 290.00 + 24.50
        ISF: money("360.00"),
    }
    assert body["mixed"] is True


def test_a_new_version_copies_how_each_line_is_paid_and_the_own_arrangement_terms(api_as, client_user, mixed_plan):
    approved = set_status(mixed_plan, "approved")
    new = plan_new_version(actor=client_user, plan=approved)
    copy = ["service_id", "provider_id", "money_management", "title", "unit", "unit_price", "kind", "cost"]
    rows = lambda plan: [[getattr(line, f) for f in copy] for line in plan.lines.order_by("position")]  # noqa: E731
    assert rows(new) == rows(mixed_plan)
    assert [line.money_management for line in new.lines.order_by("position")] == [COUNCIL, ISF, DP, DP]
    body = api_as(client_user).get(f"{URL}{new.pk}/").json()
    assert body["mixed"] is True
    assert body["cost_by_money_management"] == {
        COUNCIL: money("490.00"),
        DP: money("395.00"),
        ISF: money("360.00"),
    }
    assert body["lines"][3]["description"] == OWN_DESCRIPTION


# --- designer pages: how a catalogue line is paid ---------------------------------------------


def line_form(service, budget, **extra) -> dict:
    start = budget.period_start
    return {
        "service": service.pk,
        "frequency": "weekly",
        "amount": "2",
        "start": start,
        "end": start + 6 * DAY,
        **extra,
    }


@pytest.fixture
def empty_plan(make_plan, client_user, budget):
    return make_plan(client_user, budget)


def test_the_add_page_offers_support_arranged_yourself_and_asks_how_a_service_is_paid(
    web_as, client_user, empty_plan, visits
):
    web = web_as(client_user)
    search = web.get(f"/plans/{empty_plan.pk}/lines/add/").content.decode()
    assert f'href="/plans/{empty_plan.pk}/lines/add-own/"' in search
    assert "add support you arrange yourself" in search
    response = web.get(f"/plans/{empty_plan.pk}/lines/add/", {"service": visits.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert "How it is paid" in page
    for value in (COUNCIL, DP, ISF):
        assert f'name="money_management" type="radio" value="{value}"' in page


@pytest.mark.parametrize("way", [COUNCIL, DP, ISF])
def test_client_chooses_how_a_catalogue_line_is_paid(way, web_as, client_user, budget, empty_plan, visits):
    web = web_as(client_user)
    response = web.post(f"/plans/{empty_plan.pk}/lines/add/", line_form(visits, budget, money_management=way))
    assert response.status_code == 302, text_of(response)
    line = empty_plan.lines.get()
    assert line.money_management == way and line.service_id == visits.pk
    assert money_rows(web.get(f"/plans/{empty_plan.pk}/")) == {LABELS[way]: "£49.00"}  # 24.50 × 2 × 7/7


@pytest.mark.parametrize("default", [DP, ISF, COUNCIL])
def test_a_line_added_without_saying_how_it_is_paid_is_paid_the_plans_way(
    default, web_as, client_user, budget, make_plan, visits
):
    plan = make_plan(client_user, budget, money_management=default)
    web = web_as(client_user)
    response = web.post(f"/plans/{plan.pk}/lines/add/", line_form(visits, budget, money_management=""))
    assert response.status_code == 302
    assert plan.lines.get().money_management == default


@pytest.mark.parametrize("default", [DP, ISF])
def test_the_add_form_starts_on_the_plans_own_way_of_paying(default, web_as, client_user, budget, make_plan, visits):
    # Was a bug (fixed): the "How it is paid" radios start on "The council pays the provider" (the
    # field's fixed initial) whatever the plan's default, so a person adding support to a plan
    # that is paid by direct payment, who leaves the radios as they are, gets a council-managed
    # line. The form should start on the plan's choice (or on none, so that blank = the plan's).
    plan = make_plan(client_user, budget, money_management=default)
    page = web_as(client_user).get(f"/plans/{plan.pk}/lines/add/", {"service": visits.pk}).content.decode()
    checked = re.findall(r'name="money_management" type="radio" value="(\w+)" checked', page)
    assert checked in ([default], []), checked


def test_an_unknown_way_of_paying_is_refused_on_the_page_and_nothing_is_written(
    web_as, client_user, budget, empty_plan, visits
):
    web = web_as(client_user)  # signing in is audited: before the snapshot
    before = writes()
    response = web.post(f"/plans/{empty_plan.pk}/lines/add/", line_form(visits, budget, money_management="cash"))
    assert response.status_code == 400
    assert "Choose how it is paid" in text_of(response)
    assert writes() == before


def test_changing_a_catalogue_line_can_change_how_it_is_paid_and_the_form_starts_on_its_way(
    web_as, client_user, budget, mixed_plan, visits
):
    line = mixed_plan.lines.get(position=1)
    web = web_as(client_user)
    page = web.get(f"/plans/{mixed_plan.pk}/lines/{line.pk}/change/").content.decode()
    assert re.findall(r'name="money_management" type="radio" value="(\w+)" checked', page) == [COUNCIL]
    response = web.post(
        f"/plans/{mixed_plan.pk}/lines/{line.pk}/change/",
        {
            "service": visits.pk,
            "frequency": "weekly",
            "amount": "10",
            "start": day(budget, 0),
            "end": day(budget, 13),
            "money_management": ISF,
        },
    )
    assert response.status_code == 302, text_of(response)
    fresh = PlanLine.objects.get(pk=line.pk)
    assert (fresh.money_management, fresh.unit_price, fresh.cost) == (
        ISF,
        Money("24.50", "GBP"),
        Money("490.00", "GBP"),
    )


# --- designer pages: own arrangements ---------------------------------------------------------


def own_form(budget, **changes) -> dict:
    start = budget.period_start
    data = {
        "description": OWN_DESCRIPTION,
        "unit": "hour",
        "unit_price": "14.50",
        "frequency": "weekly",
        "amount": "10",
        "start": start.isoformat(),
        "end": (start + 13 * DAY).isoformat(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_own_arrangement_page_asks_what_it_is_its_unit_and_price_but_not_how_it_is_paid(
    web_as, client_user, empty_plan
):
    response = web_as(client_user).get(f"/plans/{empty_plan.pk}/lines/add-own/")
    assert response.status_code == 200
    page = response.content.decode()
    text = text_of(response)
    for label in ["What is it?", "Paid by the", "Price for each, in pounds", "How many units", "Start date"]:
        assert label in text, label
    assert "direct payment" in text
    assert 'name="money_management"' not in page and 'name="service"' not in page
    for unit in ["hour", "session", "day", "night", "week", "item"]:
        assert f'value="{unit}"' in page


@pytest.mark.parametrize("default", [COUNCIL, ISF, DP])
def test_client_adds_their_own_arrangement_and_it_is_a_direct_payment_whatever_the_plans_default(
    default, web_as, client_user, budget, make_plan
):
    plan = make_plan(client_user, budget, money_management=default)
    web = web_as(client_user)
    response = web.post(f"/plans/{plan.pk}/lines/add-own/", own_form(budget))
    assert response.status_code == 302, text_of(response)
    assert response.headers["Location"] == f"/plans/{plan.pk}/"
    line = plan.lines.get()
    assert (line.service_id, line.provider_id, line.title, line.unit) == (None, None, OWN_DESCRIPTION, "hour")
    assert (line.unit_price, line.units_per_week, line.money_management) == (Money("14.50", "GBP"), 10, DP)
    assert line.cost == Money("290.00", "GBP")
    page = web.get(f"/plans/{plan.pk}/")
    assert "Your own arrangement is added to your plan, paid by direct payment." in text_of(page)
    assert "Your own arrangement · £14.50 per hour · Direct payment to me" in text_of(page)


def test_client_adds_a_one_off_own_arrangement(web_as, client_user, budget, empty_plan):
    response = web_as(client_user).post(
        f"/plans/{empty_plan.pk}/lines/add-own/",
        own_form(budget, description="Taxi to the day centre", unit="item", unit_price="12.35", frequency="one_off",
                 amount="3", end=None),
    )  # fmt: skip
    assert response.status_code == 302, text_of(response)
    line = empty_plan.lines.get()
    assert (line.title, line.kind, line.quantity, line.cost) == (
        "Taxi to the day centre",
        "one_off",
        Decimal("3"),
        Money(one_off_cost("12.35", "3"), "GBP"),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"description": ""}, "Say what the support is"),
        ({"description": "P" * 201}, "Keep it under 200 characters"),
        ({"unit": ""}, "Choose what it is paid by"),
        ({"unit": "fortnight"}, "Choose what it is paid by"),
        ({"unit_price": ""}, "Enter the price"),
        ({"unit_price": "0"}, "The price must be more than £0"),
        ({"unit_price": "-14.50"}, "The price must be more than £0"),
        ({"unit_price": "14.505"}, "Enter the price in pounds and pence, like 14.50"),
        ({"unit_price": "cheap"}, "Enter a price, like 14.50"),
        ({"amount": ""}, "Enter how many units"),
        ({"end": "2000-01-01"}, "The end date is before the start date"),
        ({"amount": "0"}, "The number of units must be more than 0"),  # the service's words, on the page
        ({"start": "2000-01-01"}, "The start date must be in the budget period"),
    ],
    ids=lambda value: "&".join(f"{k}={v[:10]}" for k, v in value.items()) if isinstance(value, dict) else "",
)
def test_a_bad_own_arrangement_shows_the_problem_on_the_page_and_nothing_is_written(
    changes, message, web_as, client_user, budget, empty_plan
):
    web = web_as(client_user)
    before = writes()
    response = web.post(f"/plans/{empty_plan.pk}/lines/add-own/", own_form(budget, **changes))
    assert response.status_code == 400
    assert message in text_of(response), text_of(response)
    assert "There is a problem" in text_of(response)
    assert writes() == before


def test_a_price_above_the_services_limit_is_told_in_the_pages_words(web_as, client_user, budget, empty_plan):
    # Was a bug (fixed): the form accepts a price up to £999,999.99 but the service refuses £100,000 or
    # more, and the page then shows the API's words: "Unit_price must be less than £100,000."
    # (careplans.views._PAGE_WORDS translates units_per_week, quantity, start and end, not
    # unit_price).
    web = web_as(client_user)
    before = writes()
    response = web.post(f"/plans/{empty_plan.pk}/lines/add-own/", own_form(budget, unit_price="150000.00"))
    assert response.status_code == 400
    text = text_of(response)
    assert "£100,000" in text
    assert "unit_price" not in text.lower(), text
    assert writes() == before


def test_previewing_an_own_arrangement_with_htmx_prices_it_and_saves_nothing(web_as, client_user, budget, mixed_plan):
    web = web_as(client_user)
    before = writes()
    response = web.post(
        f"/plans/{mixed_plan.pk}/lines/add-own/", {**own_form(budget, amount="4"), "preview": "1"}, headers=HTMX
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    cost = weekly_cost("14.50", "4", 14)  # £116.00
    assert re.search(rf'data-testid="line-cost">{re.escape(f"£{cost:,.2f}")}<', page), page
    assert f"£{Decimal('1245.00') + cost:,.2f}" in page  # the plan's total with this change
    assert writes() == before


def test_the_change_page_of_an_own_arrangement_keeps_its_terms_and_does_not_ask_how_it_is_paid(
    web_as, client_user, budget, mixed_plan
):
    line = own_line(mixed_plan)
    response = web_as(client_user).get(f"/plans/{mixed_plan.pk}/lines/{line.pk}/change/")
    assert response.status_code == 200
    page, text = response.content.decode(), text_of(response)
    assert "Your own arrangement, paid by direct payment" in text
    assert f"Change {OWN_DESCRIPTION}" in text
    assert "The price stays at £14.50 per hour" in text
    assert 'name="money_management"' not in page and 'name="description"' not in page
    assert re.search(r'name="frequency" type="radio" value="weekly" checked', page)
    start = datetime.date.fromisoformat(str(day(budget, 0)))
    assert f'name="start-day" type="text" inputmode="numeric" value="{start.day}"' in page, page
    assert f'name="start-year" type="text" inputmode="numeric" value="{start.year}"' in page


def test_the_change_page_shows_the_number_of_units_as_the_person_typed_it(web_as, client_user, mixed_plan):
    # Was a bug (fixed): LineChangeView fills the amount with `Decimal.normalize()`, which writes 10 as
    # "1E+1" (and 20 as "2E+1", 100 as "1E+2"): the person changing their 10 hours a week sees
    # "1E+1" in the "How many units" box. Not new in this commit: any line of a round ten or more.
    line = own_line(mixed_plan)  # 10 hours a week
    page = web_as(client_user).get(f"/plans/{mixed_plan.pk}/lines/{line.pk}/change/").content.decode()
    amount = re.search(r'<input [^>]*name="amount"[^>]*>', page).group(0)
    assert 'value="10"' in amount, amount


def test_client_changes_their_own_arrangement_and_its_terms_and_payment_stay(web_as, client_user, budget, mixed_plan):
    line = own_line(mixed_plan)
    others = list(mixed_plan.lines.exclude(pk=line.pk).order_by("pk").values_list("pk", "money_management", "cost"))
    response = web_as(client_user).post(
        f"/plans/{mixed_plan.pk}/lines/{line.pk}/change/",
        {
            # What only a tampered form would send: none of it may change the arrangement.
            "money_management": COUNCIL,
            "service": mixed_plan.lines.get(position=1).service_id,
            "description": "Cleaner",
            "unit": "day",
            "unit_price": "99.00",
            # What the form asks.
            "frequency": "weekly",
            "amount": "6",
            "start": day(budget, 7),
            "end": day(budget, 27),
        },
    )
    assert response.status_code == 302, text_of(response)
    fresh = PlanLine.objects.get(pk=line.pk)
    assert (fresh.service_id, fresh.provider_id, fresh.title, fresh.unit, fresh.unit_price) == (
        None,
        None,
        OWN_DESCRIPTION,
        "hour",
        Money("14.50", "GBP"),
    )
    assert fresh.money_management == DP
    assert (fresh.units_per_week, fresh.start.isoformat(), fresh.end.isoformat()) == (
        Decimal("6"),
        day(budget, 7),
        day(budget, 27),
    )
    assert fresh.cost == Money(weekly_cost("14.50", "6", 21), "GBP")  # £261.00
    assert (
        list(mixed_plan.lines.exclude(pk=line.pk).order_by("pk").values_list("pk", "money_management", "cost"))
        == others
    )


def test_a_bad_change_to_an_own_arrangement_shows_the_problem_and_changes_nothing(
    web_as, client_user, budget, mixed_plan
):
    line = own_line(mixed_plan)
    web = web_as(client_user)
    before = writes()
    response = web.post(
        f"/plans/{mixed_plan.pk}/lines/{line.pk}/change/",
        {"frequency": "weekly", "amount": "0", "start": day(budget, 0), "end": day(budget, 13)},
    )
    assert response.status_code == 400
    assert "The number of units must be more than 0" in text_of(response)
    assert writes() == before


def test_removing_an_own_arrangement_keeps_the_other_lines_ways(web_as, client_user, mixed_plan):
    line = own_line(mixed_plan)
    web_as(client_user).post(f"/plans/{mixed_plan.pk}/lines/{line.pk}/remove/")
    assert list(mixed_plan.lines.order_by("position").values_list("money_management", flat=True)) == [
        COUNCIL,
        ISF,
        DP,
    ]
    assert CarePlan.objects.get(pk=mixed_plan.pk).total_cost == Money("955.00", "GBP")


# --- the plan page and the review page --------------------------------------------------------


def test_the_plan_page_shows_the_cost_by_how_it_is_managed_and_says_the_plan_is_mixed(web_as, client_user, mixed_plan):
    response = web_as(client_user).get(f"/plans/{mixed_plan.pk}/")
    assert response.status_code == 200
    assert money_rows(response) == {
        LABELS[COUNCIL]: "£490.00",
        LABELS[DP]: "£395.00",  # what is paid to the person: 105.00 + 290.00
        LABELS[ISF]: "£360.00",
    }
    assert "This is a mixed plan: its support is paid in more than one way." in text_of(response)
    text = text_of(response)
    assert "Brightside Care · £24.50 per hour · Council-managed account" in text
    assert "Riverside Centre · £180.00 per night · Individual service fund held by a provider" in text
    assert "Your own arrangement · £14.50 per hour · Direct payment to me" in text


def test_a_plan_paid_one_way_shows_one_part_and_is_not_called_mixed(web_as, client_user, budget, make_plan, visits):
    plan = make_plan(client_user, budget, lines=[weekly(visits, budget, "10", 0, 13)])
    response = web_as(client_user).get(f"/plans/{plan.pk}/")
    assert money_rows(response) == {LABELS[COUNCIL]: "£490.00"}
    assert "mixed plan" not in text_of(response)


def test_a_plan_with_no_support_yet_says_each_piece_says_how_it_is_paid(web_as, client_user, empty_plan):
    response = web_as(client_user).get(f"/plans/{empty_plan.pk}/")
    assert money_rows(response) == {}
    assert "Each piece of support says how it is paid when you add it." in text_of(response)


def test_the_approved_plan_page_of_a_plan_with_an_own_arrangement_offers_to_rate_only_real_providers(
    web_as, client_user, mixed_plan
):
    set_status(mixed_plan, "approved")
    response = web_as(client_user).get(f"/plans/{mixed_plan.pk}/")
    assert response.status_code == 200
    rate = re.search(r"Rate the providers you use[^:]*:(.*?)</div>", response.content.decode(), re.S).group(1)
    assert "Brightside Care" in rate and "Riverside Centre" in rate
    assert len(re.findall(r'href="/providers/\d+/', rate)) == 2


def test_the_review_page_shows_the_cost_by_how_it_is_managed_and_what_is_paid_to_the_person(
    web_as, social_worker, mixed_plan
):
    response = web_as(social_worker).get(f"/plans/{mixed_plan.pk}/review/")
    assert response.status_code == 200
    assert money_rows(response) == {  # the reviewer reads the direct payment about Ruth, not "to me"
        LABELS[COUNCIL]: "£490.00",
        "Direct payment to Ruth Ellis": "£395.00",
        LABELS[ISF]: "£360.00",
    }
    text = text_of(response)
    assert "Paid to the person as a direct payment: £395.00." in text
    assert f"{OWN_DESCRIPTION} Arranged by the person Direct payment to Ruth Ellis £290.00" in text
    assert "Home care visits Brightside Care Council-managed account £490.00" in text
    ratings = text.split("The providers' ratings", 1)[1].split("How the money is managed", 1)[0]
    assert "Brightside Care" in ratings and "Riverside Centre" in ratings and "Arranged" not in ratings


def test_the_review_page_of_a_plan_with_no_direct_payment_says_nothing_is_paid_to_the_person(
    web_as, social_worker, client_user, budget, make_plan, visits, respite
):
    plan = make_plan(
        client_user,
        budget,
        lines=[weekly(visits, budget, "10", 0, 13), one_off(respite, budget, "2", money_management=ISF)],
    )
    response = web_as(social_worker).get(f"/plans/{plan.pk}/review/")
    assert money_rows(response) == {LABELS[COUNCIL]: "£490.00", LABELS[ISF]: "£360.00"}
    assert "Paid to the person" not in text_of(response)


def lines_of_each_kind(budget, make_service, n: int) -> list[dict]:
    """n lines of each kind (council, direct payment, ISF, own arrangement), each catalogue line
    from a provider of its own."""
    lines = []
    for i in range(n):
        lines += [
            weekly(make_service(f"Council {i}"), budget, "1", 0, 6, money_management=COUNCIL),
            weekly(make_service(f"Direct {i}"), budget, "1", 0, 6, money_management=DP),
            weekly(make_service(f"Fund {i}"), budget, "1", 0, 6, money_management=ISF),
            own(budget, description=f"Assistant {i}"),
        ]
    return lines


@pytest.mark.parametrize(("who", "path"), [("client_user", "/plans/{pk}/"), ("social_worker", "/plans/{pk}/review/")])
def test_the_plan_and_review_pages_query_count_does_not_grow_with_lines_of_each_kind(
    request, who, path, web_as, client_user, budget, make_budget, make_plan, make_service, django_assert_max_num_queries
):
    small = make_plan(client_user, budget, lines=lines_of_each_kind(budget, make_service, 1))
    other = make_budget(client_user)  # a budget has one plan in progress
    large = make_plan(client_user, other, lines=lines_of_each_kind(other, make_service, 6))
    web = web_as(request.getfixturevalue(who))
    web.get(path.format(pk=small.pk))  # warm the session and content-type caches
    with django_assert_max_num_queries(40) as few:
        assert web.get(path.format(pk=small.pk)).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = web.get(path.format(pk=large.pk))
    assert response.status_code == 200
    assert text_of(response).count("Assistant ") >= 6


# --- the plan PDF ------------------------------------------------------------------------------


def test_the_pdf_shows_how_each_line_is_paid_the_own_arrangement_and_the_cost_by_way(api_as, client_user, mixed_plan):
    response = api_as(client_user).get(f"{URL}{mixed_plan.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "My own arrangement" in text
    assert "Direct payment to me" in text
    assert OWN_DESCRIPTION in text and "£14.50 per hour" in text
    assert "Council-managed account" in text
    assert "Individual service fund" in text
    for amount in ["£490.00", "£360.00", "£105.00", "£290.00", "£395.00", "£1,245.00"]:
        assert amount in text, amount
    how = text.split("How the money is managed", 1)[1].split("Risks", 1)[0]
    assert "Council-managed account £490.00" in how
    assert "Direct payment to me £395.00" in how


def test_the_pdf_of_a_plan_paid_one_way_lists_only_that_way(api_as, client_user, budget, make_plan, visits):
    plan = make_plan(client_user, budget, lines=[weekly(visits, budget, "10", 0, 13)])
    text = pdf_text(api_as(client_user).get(f"{URL}{plan.pk}/pdf/").content)
    how = text.split("How the money is managed", 1)[1].split("Risks", 1)[0]
    assert "Council-managed account £490.00" in how
    assert "Direct payment" not in how and "My own arrangement" not in text

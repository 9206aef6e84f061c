"""The plan designer's live running total, changing a line in place, and new versions.

Previewing a change (`preview=1`) prices it without saving: htmx (`HX-Request: true`) gets only
the running-total panel back, a browser without JavaScript gets the whole page. Costs here are
worked out independently of `careplans.costing`, from the rule in PRODUCT.md §4: a weekly line
costs unit price × units per week × (end − start + 1 days) / 7, rounded half up to the penny
once; a one-off costs unit price × quantity.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from accounts.models import AuditAction, AuditEvent
from careplans.models import CarePlan, PlanLine, PlanOutcome, PlanStatus
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
DAY = datetime.timedelta(days=1)


# --- helpers -------------------------------------------------------------------------------


def weekly_cost(price: str, units: str, start: datetime.date, end: datetime.date) -> Decimal:
    days = (end - start).days + 1
    return (Decimal(price) * Decimal(units) * days / 7).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def one_off_cost(price: str, quantity: str) -> Decimal:
    return (Decimal(price) * Decimal(quantity)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def gbp(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def weekly_form(service, units, start, end, **extra) -> dict:
    return {"service": service.pk, "frequency": "weekly", "amount": units, "start": start, "end": end, **extra}


def one_off_form(service, quantity, start, **extra) -> dict:
    return {"service": service.pk, "frequency": "one_off", "amount": quantity, "start": start, **extra}


def figure_raw(html: str, testid: str) -> str | None:
    """The HTML inside the costing panel's `data-testid` cell; None if there is no such cell."""
    match = re.search(rf'data-testid="{testid}">(.*?)</dd>', html, re.S)
    return match.group(1) if match else None


def figure(html: str, testid: str) -> str | None:
    """The text of the costing panel's `data-testid` cell, tags stripped; None if absent."""
    raw = figure_raw(html, testid)
    return None if raw is None else re.sub(r"<[^>]+>", "", raw).strip()


def input_values(html: str) -> dict[str, str]:
    """The form's text, number and hidden inputs, by name, as a browser would send them."""
    values = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and 'type="radio"' not in tag:
            values[name.group(1)] = value.group(1) if value else ""
    return values


def writes() -> tuple[int, int, int, int]:
    """What a preview must never change: lines, outcomes, plans and audit rows."""
    return (
        PlanLine.objects.count(),
        PlanOutcome.objects.count(),
        CarePlan.objects.count(),
        AuditEvent.objects.count(),
    )


def set_status(plan: CarePlan, status: str) -> CarePlan:
    """The approval workflow is not driven here: put the plan straight into `status`."""
    CarePlan.objects.filter(pk=plan.pk).update(status=status)
    return CarePlan.objects.get(pk=plan.pk)


# --- fixtures ------------------------------------------------------------------------------

VISITS_UNITS = "2"
VISITS_DAYS = 14


@pytest.fixture
def plan(make_plan, client_user, budget, visits):
    """Ruth's draft plan with one line already: home care visits, 2 hours a week for 14 days."""
    start = budget.period_start
    return make_plan(
        client_user,
        budget,
        lines=[
            {
                "service": visits.pk,
                "units_per_week": VISITS_UNITS,
                "start": start,
                "end": start + (VISITS_DAYS - 1) * DAY,
            }
        ],
    )


@pytest.fixture
def existing_cost(budget):
    start = budget.period_start
    return weekly_cost("24.50", VISITS_UNITS, start, start + (VISITS_DAYS - 1) * DAY)


# --- previewing a new line -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "frequency", "amount", "days"),
    [
        ("17.33", "weekly", "3", 31),  # 17.33 × 3 × 31 / 7 = 230.2414… → £230.24
        ("10.01", "weekly", "0.5", 7),  # 5.005 exactly: half up gives £5.01 (banker's would say £5.00)
        ("24.50", "weekly", "2", 10),  # part of a week: 24.50 × 2 × 10 / 7 = £70.00
        ("19.99", "weekly", "1.25", 100),  # 356.96428… → £356.96
        ("180.00", "one_off", "1.5", None),  # a one-off is price × quantity: £270.00
    ],
)
def test_client_previewing_a_new_line_with_htmx_gets_only_the_panel_with_the_right_figures(
    price, frequency, amount, days, web_as, client_user, budget, plan, existing_cost, make_service
):
    service = make_service("Day centre", price)
    start = budget.period_start + 7 * DAY
    if frequency == "weekly":
        end = start + (days - 1) * DAY
        data = weekly_form(service, amount, start, end, preview="1")
        line_cost = weekly_cost(price, amount, start, end)
    else:
        data = one_off_form(service, amount, start, preview="1")
        line_cost = one_off_cost(price, amount)
    if price == "10.01":
        assert line_cost == Decimal("5.01")  # the rule's own half-up case, checked in the test's arithmetic
    total = existing_cost + line_cost
    web = web_as(client_user)  # signing in is audited: do it before counting
    before, updated_at = writes(), plan.updated_at

    response = web.post(f"/plans/{plan.pk}/lines/add/", data, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<form" not in html, "htmx gets the panel only"
    assert "This support costs" in html and "Plan total with this change" in html and "Left over" in html
    assert figure(html, "line-cost") == gbp(line_cost)
    assert figure(html, "plan-total") == gbp(total)
    assert figure(html, "available") == "£10,000.00"
    assert figure(html, "difference") == gbp(Decimal("10000.00") - total)
    assert "govuk-warning-text" not in html
    # Nothing written: no line, no audit row, the stored total untouched.
    assert writes() == before
    plan.refresh_from_db()
    assert plan.total_cost == Money(existing_cost, "GBP") and plan.updated_at == updated_at


def test_client_previewing_without_javascript_gets_the_whole_page_with_the_figures(
    web_as, client_user, budget, plan, existing_cost, respite
):
    web = web_as(client_user)
    before = writes()
    response = web.post(f"/plans/{plan.pk}/lines/add/", one_off_form(respite, "2", budget.period_start, preview="1"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert '<h1 class="govuk-heading-l">Add support</h1>' in html
    assert "Respite breaks" in html, "the chosen service stays chosen"
    assert 'name="amount" value="2"' in html, "what was typed is kept"
    assert "Work out the cost" in html and "Add to plan" in html
    assert figure(html, "line-cost") == "£360.00"
    assert figure(html, "plan-total") == gbp(existing_cost + Decimal("360.00"))
    assert figure(html, "difference") == gbp(Decimal("10000.00") - existing_cost - Decimal("360.00"))
    assert writes() == before


def test_client_previewing_a_line_that_goes_over_budget_sees_the_warning_and_nothing_is_saved(
    web_as, client_user, make_budget, caseload, make_plan, respite
):
    small = make_budget(client_user, "300.00")
    plan = make_plan(client_user, small)
    web = web_as(client_user)
    before = writes()

    fragment = web.post(
        f"/plans/{plan.pk}/lines/add/", one_off_form(respite, "2", small.period_start, preview="1"), headers=HTMX
    ).content.decode()
    page = web.post(
        f"/plans/{plan.pk}/lines/add/", one_off_form(respite, "2", small.period_start, preview="1")
    ).content.decode()

    for html in (fragment, page):
        assert "With this change the plan would cost £360.00, which is more than the £300.00 available." in html
        assert "Remove or reduce some support before it can be submitted." in html
        assert "Over budget by" in html and "Left over" not in html
        assert "govuk-tag--red" in figure_raw(html, "difference")
        assert figure(html, "plan-total") == "£360.00" and figure(html, "available") == "£300.00"
    assert writes() == before
    assert not plan.lines.exists()


def test_over_budget_by_shows_the_amount_over_not_a_negative_difference(
    web_as, client_user, make_budget, caseload, make_plan, respite
):
    small = make_budget(client_user, "300.00")
    plan = make_plan(client_user, small)
    web = web_as(client_user)
    url = f"/plans/{plan.pk}/lines/add/"

    preview = web.post(url, one_off_form(respite, "2", small.period_start, preview="1"), headers=HTMX)
    assert figure(preview.content.decode(), "difference") == "£60.00"
    assert web.post(url, one_off_form(respite, "2", small.period_start)).status_code == 302
    page = web.get(f"/plans/{plan.pk}/").content.decode()
    assert "This plan costs £360.00, which is more than the £300.00 available." in page
    assert figure(page, "difference") == "£60.00"


BAD_INPUT = {
    "end before start": (
        lambda b, s: weekly_form(s, "2", b.period_start + 10 * DAY, b.period_start + 3 * DAY),
        "The end date is before the start date.",
    ),
    "no units": (
        lambda b, s: weekly_form(s, "0", b.period_start, b.period_start + 6 * DAY),
        "must be more than 0.",
    ),
    "negative units": (
        lambda b, s: one_off_form(s, "-1", b.period_start),
        "must be more than 0.",
    ),
    "start before the budget period": (
        lambda b, s: one_off_form(s, "1", b.period_start - DAY),
        "The start date must be in the budget period",
    ),
    "start after the budget period": (
        lambda b, s: one_off_form(s, "1", b.period_end + DAY),
        "The start date must be in the budget period",
    ),
    "end after the budget period": (
        lambda b, s: weekly_form(s, "1", b.period_start, b.period_end + DAY),
        "The end date must be on or before the end of the budget period",
    ),
    "units missing": (
        lambda b, s: weekly_form(s, "", b.period_start, b.period_start + 6 * DAY),
        "Enter how many units to see what the support costs.",
    ),
    "date not a date": (
        lambda b, s: one_off_form(s, "1", "next tuesday"),
        "The start date must be a real date",
    ),
}


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_client_previewing_bad_input_sees_the_problem_and_nothing_is_saved(
    case, htmx, web_as, client_user, budget, plan, existing_cost, visits
):
    make_data, message = BAD_INPUT[case]
    web = web_as(client_user)
    before = writes()

    response = web.post(
        f"/plans/{plan.pk}/lines/add/", {**make_data(budget, visits), "preview": "1"}, headers=HTMX if htmx else {}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert ("<html" in html) is not htmx
    # The panel falls back to the plan as it is: no proposed total, no line cost.
    assert "Plan total with this change" not in html and figure(html, "line-cost") is None
    assert figure(html, "plan-total") == gbp(existing_cost)
    assert writes() == before


def test_start_date_message_names_the_budget_period(web_as, client_user, budget, plan, visits):
    html = (
        web_as(client_user)
        .post(
            f"/plans/{plan.pk}/lines/add/",
            one_off_form(visits, "1", budget.period_start - DAY, preview="1"),
            headers=HTMX,
        )
        .content.decode()
    )
    assert f"{budget.period_start:%-d %B %Y} to {budget.period_end:%-d %B %Y}" in html


# --- changing a line -----------------------------------------------------------------------


def test_client_opens_the_change_page_prefilled_with_the_line(web_as, client_user, budget, plan, existing_cost):
    line = plan.lines.get()
    response = web_as(client_user).get(f"/plans/{plan.pk}/lines/{line.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Change Home care visits" in html
    assert "The price stays at £24.50 per hour" in html
    assert 'name="amount" value="2"' in html
    values = input_values(html)
    # Dates are shown as day, month and year (the GOV.UK date input), as they are typed.
    for name, date in (("start", line.start), ("end", line.end)):
        assert [values[f"{name}-{part}"] for part in ("day", "month", "year")] == [
            str(date.day),
            str(date.month),
            str(date.year),
        ]
    assert 'value="weekly" checked' in html
    assert figure(html, "plan-total") == gbp(existing_cost)


def test_client_saves_the_change_page_as_it_was_prefilled_with_only_the_units_changed(
    web_as, client_user, budget, plan
):
    line = plan.lines.get()
    web = web_as(client_user)
    values = input_values(web.get(f"/plans/{plan.pk}/lines/{line.pk}/change/").content.decode())

    response = web.post(
        f"/plans/{plan.pk}/lines/{line.pk}/change/",
        {**values, "frequency": "weekly", "amount": "5"},
    )

    assert response.status_code == 302, response.content.decode()
    changed = plan.lines.get()
    assert (changed.units_per_week, changed.start, changed.end) == (Decimal("5"), line.start, line.end)
    assert changed.cost == Money(weekly_cost("24.50", "5", line.start, line.end), "GBP")


def test_client_changes_units_and_the_cost_is_recomputed_at_the_price_agreed_not_the_new_one(
    web_as, client_user, budget, plan, visits, respite
):
    web = web_as(client_user)
    web.post(f"/plans/{plan.pk}/lines/add/", one_off_form(respite, "1", budget.period_start))
    visits.unit_price = Money("30.00", "GBP")  # the provider puts the price up afterwards
    visits.save()
    line = plan.lines.get(title="Home care visits")
    start, end = budget.period_start + 7 * DAY, budget.period_start + 27 * DAY
    audits = AuditEvent.objects.filter(action=AuditAction.UPDATE).count()

    response = web.post(f"/plans/{plan.pk}/lines/{line.pk}/change/", weekly_form(visits, "3.5", start, end))

    assert response.status_code == 302 and response.headers["Location"] == f"/plans/{plan.pk}/"
    plan.refresh_from_db()
    changed = plan.lines.get(title="Home care visits")
    assert changed.unit_price == Money("24.50", "GBP")
    assert changed.units_per_week == Decimal("3.5") and (changed.start, changed.end) == (start, end)
    expected = weekly_cost("24.50", "3.5", start, end)
    assert expected != weekly_cost("30.00", "3.5", start, end)
    assert changed.cost == Money(expected, "GBP")
    assert plan.total_cost == Money(expected + Decimal("180.00"), "GBP")
    assert plan.lines.count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == audits + 1
    page = web.get(f"/plans/{plan.pk}/").content.decode()
    assert "Home care visits is changed." in page
    assert figure(page, "plan-total") == gbp(expected + Decimal("180.00"))


def test_client_previewing_a_change_sees_the_line_priced_at_the_agreed_price_and_nothing_saved(
    web_as, client_user, budget, plan, visits
):
    visits.unit_price = Money("30.00", "GBP")
    visits.save()
    line = plan.lines.get()
    start, end = budget.period_start, budget.period_start + 20 * DAY
    web = web_as(client_user)
    before = writes()

    html = web.post(
        f"/plans/{plan.pk}/lines/{line.pk}/change/",
        weekly_form(visits, "4", start, end, preview="1"),
        headers=HTMX,
    ).content.decode()

    expected = weekly_cost("24.50", "4", start, end)
    assert figure(html, "line-cost") == gbp(expected)
    assert figure(html, "plan-total") == gbp(expected), "the changed line replaces the old one in the total"
    assert writes() == before
    line.refresh_from_db()
    assert line.units_per_week == Decimal(VISITS_UNITS)


def test_changing_a_weekly_line_to_a_one_off_is_costed_as_price_times_quantity(
    web_as, client_user, budget, plan, visits
):
    line = plan.lines.get()
    response = web_as(client_user).post(
        f"/plans/{plan.pk}/lines/{line.pk}/change/", one_off_form(visits, "3", budget.period_start)
    )
    assert response.status_code == 302
    changed = plan.lines.get()
    assert changed.kind == "one_off" and changed.quantity == Decimal("3") and changed.units_per_week is None
    assert changed.cost == Money("73.50", "GBP")


def test_saving_a_change_with_a_bad_date_shows_the_error_and_keeps_the_line(web_as, client_user, budget, plan, visits):
    line = plan.lines.get()
    web = web_as(client_user)
    before = writes()
    response = web.post(
        f"/plans/{plan.pk}/lines/{line.pk}/change/",
        weekly_form(visits, "2", budget.period_start + 9 * DAY, budget.period_start),
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert writes() == before
    assert plan.lines.get().pk == line.pk


def test_changing_a_line_of_another_plan_is_404(web_as, client_user, budget, make_budget, plan, make_plan, respite):
    second = make_budget(client_user)  # a budget has one plan in progress
    other = make_plan(
        client_user, second, lines=[{"service": respite.pk, "quantity": "1", "start": second.period_start}]
    )
    foreign = other.lines.get()
    web = web_as(client_user)
    before = writes()

    assert web.get(f"/plans/{plan.pk}/lines/{foreign.pk}/change/").status_code == 404
    saved = web.post(f"/plans/{plan.pk}/lines/{foreign.pk}/change/", one_off_form(respite, "5", budget.period_start))
    previewed = web.post(
        f"/plans/{plan.pk}/lines/{foreign.pk}/change/",
        one_off_form(respite, "5", budget.period_start, preview="1"),
        headers=HTMX,
    )
    assert saved.status_code == previewed.status_code == 404
    assert web.get(f"/plans/{plan.pk}/lines/999999/change/").status_code == 404
    assert writes() == before
    foreign.refresh_from_db()
    assert foreign.quantity == Decimal("1")


# --- plans that cannot be changed, and people who may not change them ------------------------


def _designer_requests(plan, line, service, start):
    return {
        "add page": ("get", f"/plans/{plan.pk}/lines/add/", {"service": service.pk}, {}),
        "add preview": ("post", f"/plans/{plan.pk}/lines/add/", one_off_form(service, "1", start, preview="1"), HTMX),
        "add save": ("post", f"/plans/{plan.pk}/lines/add/", one_off_form(service, "1", start), {}),
        "change page": ("get", f"/plans/{plan.pk}/lines/{line.pk}/change/", {}, {}),
        "change preview": (
            "post",
            f"/plans/{plan.pk}/lines/{line.pk}/change/",
            one_off_form(service, "1", start, preview="1"),
            HTMX,
        ),
        "change save": ("post", f"/plans/{plan.pk}/lines/{line.pk}/change/", one_off_form(service, "1", start), {}),
    }


DESIGNER_REQUESTS = ["add page", "add preview", "add save", "change page", "change preview", "change save"]


@pytest.mark.parametrize("request_name", DESIGNER_REQUESTS)
@pytest.mark.parametrize(
    "status", [PlanStatus.SUBMITTED, PlanStatus.IN_REVIEW, PlanStatus.APPROVED, PlanStatus.WITHDRAWN]
)
def test_client_gets_409_cannot_be_changed_for_a_plan_that_is_not_editable(
    status, request_name, web_as, client_user, budget, plan, respite
):
    plan = set_status(plan, status)
    method, url, data, headers = _designer_requests(plan, plan.lines.get(), respite, budget.period_start)[request_name]
    web = web_as(client_user)
    before = writes()

    response = getattr(web, method)(url, data, headers=headers)

    assert response.status_code == 409
    assert "cannot be changed" in response.content.decode()
    assert writes() == before


def test_changes_requested_plan_can_still_be_changed(web_as, client_user, budget, plan):
    plan = set_status(plan, PlanStatus.CHANGES_REQUESTED)
    line = plan.lines.get()
    assert web_as(client_user).get(f"/plans/{plan.pk}/lines/{line.pk}/change/").status_code == 200


@pytest.mark.parametrize("request_name", DESIGNER_REQUESTS)
@pytest.mark.parametrize("who", ["other_client", "case_manager", "provider_user", "finance_user", "admin_person"])
def test_people_who_may_not_edit_the_plan_get_404(who, request_name, request, web_as, budget, plan, respite):
    person = factories.ClientFactory() if who == "other_client" else request.getfixturevalue(who)
    method, url, data, headers = _designer_requests(plan, plan.lines.get(), respite, budget.period_start)[request_name]
    web = web_as(person)
    before = writes()

    response = getattr(web, method)(url, data, headers=headers)

    assert response.status_code == 404
    assert writes() == before


@pytest.mark.parametrize("who", ["social_worker", "team_manager"])
def test_the_clients_social_worker_and_team_manager_may_use_the_designer(who, request, web_as, budget, plan, visits):
    web = web_as(request.getfixturevalue(who))
    line = plan.lines.get()
    assert web.get(f"/plans/{plan.pk}/lines/{line.pk}/change/").status_code == 200
    preview = web.post(
        f"/plans/{plan.pk}/lines/add/", one_off_form(visits, "2", budget.period_start, preview="1"), headers=HTMX
    )
    assert preview.status_code == 200 and figure(preview.content.decode(), "line-cost") == "£49.00"


def test_signed_out_visitor_is_sent_to_sign_in(client, plan):
    response = client.get(f"/plans/{plan.pk}/lines/add/")
    assert response.status_code == 302 and "sign-in" in response.headers["Location"]


# --- new versions --------------------------------------------------------------------------


@pytest.fixture
def approved(make_plan, client_user, budget, visits, respite):
    """Ruth's approved version 1: two outcomes, a weekly and a one-off line."""
    start = budget.period_start
    plan = make_plan(
        client_user,
        budget,
        outcomes=["Get out to the allotment every week", "Have a break away twice a year"],
        lines=[
            {"service": visits.pk, "units_per_week": "3", "start": start, "end": start + 27 * DAY},
            {"service": respite.pk, "quantity": "2", "start": start + 30 * DAY},
        ],
        risks="Falls at night",
    )
    return set_status(plan, PlanStatus.APPROVED)


def test_client_starts_a_new_version_of_an_approved_plan_as_a_draft_with_the_same_lines(
    web_as, client_user, approved, visits
):
    web = web_as(client_user)
    page = web.get(f"/plans/{approved.pk}/").content.decode()
    assert "Start a new version" in page and "Add support" not in page
    visits.unit_price = Money("40.00", "GBP")  # a later price rise must not reach the copied lines
    visits.save()
    creates = AuditEvent.objects.filter(action=AuditAction.CREATE).count()

    response = web.post(f"/plans/{approved.pk}/new-version/")

    new = CarePlan.objects.get(previous=approved)
    assert response.status_code == 302 and response.headers["Location"] == f"/plans/{new.pk}/"
    assert (new.version, new.status, new.budget_id, new.client_id) == (
        2,
        PlanStatus.DRAFT,
        approved.budget_id,
        approved.client_id,
    )
    assert new.total_cost == approved.total_cost and new.risks == "Falls at night"
    fields = ("title", "unit", "unit_price", "kind", "units_per_week", "quantity", "start", "end", "cost", "position")
    assert [tuple(getattr(line, f) for f in fields) for line in new.lines.all()] == [
        tuple(getattr(line, f) for f in fields) for line in approved.lines.all()
    ]
    assert [o.text for o in new.outcomes.all()] == [o.text for o in approved.outcomes.all()]
    assert AuditEvent.objects.filter(action=AuditAction.CREATE).count() == creates + 1
    approved.refresh_from_db()
    assert approved.status == PlanStatus.APPROVED, "the approved version stays in force"

    new_page = web.get(f"/plans/{new.pk}/").content.decode()
    assert "Version 2 is a draft. Version 1 stays in force until it is approved." in new_page
    assert '<h2 class="govuk-heading-m">Versions</h2>' in new_page
    assert f'<a class="govuk-link" href="/plans/{approved.pk}/">Version 1 (approved)</a>' in new_page
    assert "Version 2 (draft) – this one" in new_page
    assert "Add support" in new_page and "Start a new version" not in new_page

    old_page = web.get(f"/plans/{approved.pk}/").content.decode()
    assert f'<a class="govuk-link" href="/plans/{new.pk}/">Version 2 (draft)</a>' in old_page
    assert "Version 1 (approved) – this one" in old_page
    assert "Start a new version" not in old_page, "only the latest version can be amended"


def test_a_second_new_version_attempt_shows_an_error_and_creates_nothing(web_as, client_user, approved):
    web = web_as(client_user)
    web.post(f"/plans/{approved.pk}/new-version/")
    before = writes()

    response = web.post(f"/plans/{approved.pk}/new-version/", follow=True)

    assert response.redirect_chain == [(f"/plans/{approved.pk}/", 302)]
    assert "A new version of this plan already exists." in response.content.decode()
    assert writes() == before
    assert CarePlan.objects.filter(previous=approved).count() == 1


def test_a_new_version_of_a_draft_is_refused(web_as, client_user, plan):
    web = web_as(client_user)
    before = writes()
    response = web.post(f"/plans/{plan.pk}/new-version/", follow=True)

    assert response.redirect_chain == [(f"/plans/{plan.pk}/", 302)]
    assert "Only an approved plan can be amended with a new version." in response.content.decode()
    assert writes() == before
    assert "Start a new version" not in response.content.decode()


@pytest.mark.parametrize("who", ["client_user", "social_worker", "team_manager"])
def test_people_who_may_edit_see_start_a_new_version_on_the_approved_plan(who, request, web_as, approved):
    page = web_as(request.getfixturevalue(who)).get(f"/plans/{approved.pk}/").content.decode()
    assert "Start a new version" in page and f'action="/plans/{approved.pk}/new-version/"' in page


def test_admin_may_read_the_approved_plan_but_not_start_a_new_version(web_as, admin_person, approved):
    web = web_as(admin_person)
    page = web.get(f"/plans/{approved.pk}/")
    assert page.status_code == 200 and "Start a new version" not in page.content.decode()
    before = writes()
    assert web.post(f"/plans/{approved.pk}/new-version/").status_code == 404
    assert writes() == before


@pytest.mark.parametrize("who", ["other_client", "case_manager", "provider_user", "finance_user"])
def test_people_without_a_relationship_cannot_start_a_new_version(who, request, web_as, approved):
    person = factories.ClientFactory() if who == "other_client" else request.getfixturevalue(who)
    web = web_as(person)
    before = writes()
    assert web.post(f"/plans/{approved.pk}/new-version/").status_code == 404
    assert writes() == before


def test_a_plan_with_one_version_lists_no_versions(web_as, client_user, approved):
    assert "Versions</h2>" not in web_as(client_user).get(f"/plans/{approved.pk}/").content.decode()


# --- queries -------------------------------------------------------------------------------


def _queries(web, method, url, data=None, headers=None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(web, method)(url, data or {}, headers=headers or {})
    assert response.status_code == 200, response.content.decode()[:500]
    return [q["sql"] for q in captured.captured_queries]


def test_change_page_and_previews_use_the_same_queries_for_1_line_as_for_30(
    web_as, client_user, budget, make_budget, make_plan, make_service
):
    start = budget.period_start
    services = [make_service(f"Service {i}", "24.50") for i in range(30)]  # 30 providers too
    lines = [{"service": s.pk, "units_per_week": "1", "start": start, "end": start + 6 * DAY} for s in services]
    small = make_plan(client_user, budget, lines=lines[:1])
    large = make_plan(client_user, make_budget(client_user), lines=lines)  # a budget has one plan in progress
    extra = make_service("Extra", "10.00")
    web = web_as(client_user)
    web.get(f"/plans/{small.pk}/")  # warm the session and content-type caches

    def change_page(plan):
        return _queries(web, "get", f"/plans/{plan.pk}/lines/{plan.lines.first().pk}/change/")

    def change_preview(plan):
        url = f"/plans/{plan.pk}/lines/{plan.lines.first().pk}/change/"
        return _queries(web, "post", url, weekly_form(services[0], "2", start, start + 13 * DAY, preview="1"), HTMX)

    def add_preview(plan):
        return _queries(web, "post", f"/plans/{plan.pk}/lines/add/", one_off_form(extra, "1", start, preview="1"), HTMX)

    def add_preview_no_js(plan):
        return _queries(web, "post", f"/plans/{plan.pk}/lines/add/", one_off_form(extra, "1", start, preview="1"))

    for request_queries in (change_page, change_preview, add_preview, add_preview_no_js):
        one, thirty = request_queries(small), request_queries(large)
        assert len(thirty) == len(one), (request_queries.__name__, one, thirty)
        assert len(one) <= 15, (request_queries.__name__, one)

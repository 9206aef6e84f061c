"""Invoices only for council-managed lines (API.md "Plan lines and how their money is managed"):
a direct payment or an individual service fund is never invoiced to the council, so
`POST /api/v1/invoices/` against such a line of the provider's own is a 409, while a line of
another organisation (an own arrangement has none) stays a 400. The invoice form lists only
council-managed lines. Every refusal is checked to write nothing: no invoice, no audit row, no file.
"""

import datetime

import pytest
from django.test import Client

from payments.models import Invoice
from tests import factories
from tests.payments.invoice_fixtures import (
    PDF_BYTES,
    STARTED_DAYS_AGO,
    approve,
    snapshot,
    today,
    upload,
    weekly,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices/"
COUNCIL = "council_managed"
DP = "direct_payment"
ISF = "individual_service_fund"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files land in a fresh directory, so a test can see exactly what was stored."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


class Ways:
    """Ruth's approved plan, started 60 days ago, whose default is a direct payment, with lines
    paid each way (each weekly from the first day for 10 weeks):

    - `council`: Brightside's home care visits, 2 hours a week, council-managed (said on the line);
    - `direct`: Brightside's sitting service, 1 session a week, a direct payment;
    - `fund`: Brightside's home care visits, 1 hour a week, an individual service fund;
    - `own`: Ruth's own personal assistant, £14.50 an hour, 10 hours a week (a direct payment);
    - `other_council` / `other_direct`: Riverside's respite, council-managed / a direct payment.
    """

    def __init__(self, plan, staff, other_staff, start):
        lines = list(plan.lines.order_by("position"))
        self.council, self.direct, self.fund, self.own, self.other_council, self.other_direct = lines
        self.plan, self.staff, self.other_staff, self.start = plan, staff, other_staff, start

    def day(self, n: int) -> datetime.date:
        return self.start + datetime.timedelta(days=n - 1)


@pytest.fixture
def ways(make_budget, make_plan, make_service, make_provider, client_user, social_worker, caseload, checklist):
    start = today() - datetime.timedelta(days=STARTED_DAYS_AGO)
    budget = make_budget(client_user, "10000.00", period_start=start)
    brightside = make_provider(name="Brightside Care")
    riverside = make_provider(name="Riverside Centre")
    visits = make_service("Home care visits", "24.50", provider=brightside)
    sitting = make_service("Sitting service", "15.00", provider=brightside, unit="session")
    respite = make_service("Respite breaks", "180.00", provider=riverside, unit="night")
    plan = make_plan(
        client_user,
        budget,
        lines=[
            {**weekly(visits, "2", start, 70), "money_management": COUNCIL},
            weekly(sitting, "1", start, 70),  # the plan's default: a direct payment
            {**weekly(visits, "1", start, 70), "money_management": ISF},
            {
                "description": "Personal assistant",
                "unit": "hour",
                "unit_price": "14.50",
                "units_per_week": "10",
                "start": start,
                "end": start + datetime.timedelta(days=69),
            },
            {**weekly(respite, "1", start, 70), "money_management": COUNCIL},
            weekly(respite, "1", start, 70),
        ],
        money_management=DP,
        risks="Falls: a pendant alarm",
        contacts="My daughter",
    )
    plan = approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)
    ways = Ways(
        plan,
        factories.ProviderStaffFactory(provider=brightside, full_name="Lee Carter"),
        factories.ProviderStaffFactory(provider=riverside, full_name="Robin Hale"),
        start,
    )
    assert [line.money_management for line in (ways.council, ways.direct, ways.fund, ways.own)] == [
        COUNCIL,
        DP,
        ISF,
        DP,
    ]
    assert ways.own.provider_id is None and ways.other_direct.money_management == DP
    return ways


def post(api, ways, line, *, units="1"):
    """An invoice for the plan's first week, as multipart with a PDF attached, so a refusal also
    shows that no file was stored."""
    return api.post(
        URL,
        {
            "plan_line": line.pk,
            "period_start": ways.day(1).isoformat(),
            "period_end": ways.day(7).isoformat(),
            "units": units,
            "supporting_file": upload(PDF_BYTES),
        },
        format="multipart",
    )


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "words"),
    [("direct", "paid to the person as a direct payment"), ("fund", "individual service fund")],
)
def test_provider_invoicing_their_own_direct_payment_or_fund_line_gets_409_and_nothing_is_written(
    which, words, api_as, ways, media_root
):
    api = api_as(ways.staff)
    before = snapshot(media_root)
    response = post(api, ways, getattr(ways, which))
    assert response.status_code == 409, response.json()
    assert words in response.json()["detail"]
    assert "does not pay invoices" in response.json()["detail"]
    assert snapshot(media_root) == before


def test_the_same_providers_council_managed_line_is_invoiced_on_a_plan_whose_default_is_a_direct_payment(api_as, ways):
    response = post(api_as(ways.staff), ways, ways.council, units="2")
    assert response.status_code == 201, response.json()
    invoice = Invoice.objects.get()
    assert invoice.line_id == ways.council.pk and str(invoice.amount.amount) == "49.00"


def test_invoicing_another_organisations_own_arrangement_is_400_and_nothing_is_written(api_as, ways, media_root):
    api = api_as(ways.staff)
    before = snapshot(media_root)
    response = post(api, ways, ways.own)
    assert response.status_code == 400, response.json()
    assert "not one of your organisation's" in " ".join(response.json()["plan_line"])
    assert snapshot(media_root) == before


def test_invoicing_another_organisations_direct_payment_line_is_400_not_409(api_as, ways, media_root):
    """Whose line it is is checked first: a provider learns nothing about another's lines."""
    api = api_as(ways.staff)
    before = snapshot(media_root)
    response = post(api, ways, ways.other_direct)
    assert response.status_code == 400, response.json()
    assert "plan_line" in response.json()
    assert snapshot(media_root) == before


def test_the_other_provider_may_invoice_its_council_managed_line_but_not_its_direct_payment(api_as, ways, media_root):
    api = api_as(ways.other_staff)
    assert post(api, ways, ways.other_council).status_code == 201
    before = snapshot(media_root)
    assert post(api, ways, ways.other_direct).status_code == 409
    assert snapshot(media_root) == before


# --- the invoice form --------------------------------------------------------------------------


def line_choices(response) -> set[int]:
    return {int(value) for value, _ in response.context["form"].fields["line"].choices if value}


def test_the_invoice_form_lists_only_council_managed_lines(ways):
    brightside = browser(ways.staff).get("/invoices/new/")
    assert brightside.status_code == 200
    assert line_choices(brightside) == {ways.council.pk}
    assert "Sitting service" not in brightside.content.decode()
    assert "Personal assistant" not in brightside.content.decode()
    assert line_choices(browser(ways.other_staff).get("/invoices/new/")) == {ways.other_council.pk}


def test_a_provider_whose_lines_are_all_direct_payments_has_nothing_to_invoice(ways):
    riverside_only_dp = factories.ProviderStaffFactory(provider=ways.other_direct.provider)
    ways.plan.lines.filter(pk=ways.other_council.pk).update(money_management=DP)  # put straight into the state
    response = browser(riverside_only_dp).get("/invoices/new/")
    assert line_choices(response) == set()
    assert "There is nothing to invoice yet" in response.content.decode()


@pytest.mark.parametrize("which", ["direct", "fund", "own"])
def test_posting_the_form_for_a_line_it_does_not_list_is_refused_and_nothing_is_written(which, ways, media_root):
    page = browser(ways.staff)  # signing in is audited: before the snapshot
    before = snapshot(media_root)
    response = page.post(
        "/invoices/new/",
        {
            "line": str(getattr(ways, which).pk),
            "period_start": ways.day(1).isoformat(),
            "period_end": ways.day(7).isoformat(),
            "units": "1",
            "supporting_file": upload(PDF_BYTES),
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["line"] == ["Choose the support you delivered"]
    assert snapshot(media_root) == before


def test_posting_the_form_for_the_council_managed_line_sends_the_invoice(ways):
    response = browser(ways.staff).post(
        "/invoices/new/",
        {
            "line": str(ways.council.pk),
            "period_start": ways.day(1).isoformat(),
            "period_end": ways.day(7).isoformat(),
            "units": "2",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Invoice.objects.get().line_id == ways.council.pk

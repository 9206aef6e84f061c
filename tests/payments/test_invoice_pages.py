"""Invoice pages: the list per role, the provider's form to send an invoice, the invoice page with
its Confirm / Dispute / Cancel buttons, and the invoice PDF."""

import datetime
import re

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import CaptureQueriesContext

from careplans.services import plan_new_version
from payments import services
from payments.models import Invoice, InvoiceStatus
from tests import factories
from tests.payments.invoice_fixtures import (
    EXE_BYTES,
    PDF_BYTES,
    approve,
    build_invoicing,
    other_client_with_invoice,
    pdf_text,
    snapshot,
    stored_files,
    submit,
    today,
    upload,
    weekly,
)

pytestmark = pytest.mark.django_db

NOT_PROVIDERS = ["client_user", "social_worker", "team_manager", "case_manager", "finance_user", "admin_person"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def inv(make_budget, make_plan, make_service, make_provider, client_user, social_worker, caseload, checklist):
    """Ruth's approved plan, started 60 days ago (see `invoice_fixtures.Invoicing`)."""
    return build_invoicing(
        make_budget=make_budget,
        make_plan=make_plan,
        make_service=make_service,
        make_provider=make_provider,
        client=client_user,
        social_worker=social_worker,
        checklist=checklist,
    )


@pytest.fixture
def olu(inv, make_budget, make_plan, checklist):
    """Olu, another client on another social worker's caseload, with an invoice from Brightside."""
    return other_client_with_invoice(
        make_budget=make_budget, make_plan=make_plan, checklist=checklist, service=inv.line.service, start=inv.start
    )


def browser(user) -> Client:
    """A separate signed-in browser per person, so two people can be used in one test."""
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def linked_invoices(text: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/invoices/(\d+)/"', text)}


def sections(response) -> tuple[str, str]:
    """The page's "waiting for you" part and its "All invoices" table."""
    waiting, _, table = html(response).partition("All invoices")
    return waiting, table


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- /invoices/ --------------------------------------------------------------------------------


@pytest.fixture
def three_invoices(inv, olu):
    """Ruth's Brightside invoice, Ruth's Riverside invoice, Olu's Brightside invoice."""
    ours = submit(inv, units="2")
    riverside = submit(inv, line=inv.other_line, actor=inv.other_staff, units="1")
    return ours, riverside, olu[2]


def test_provider_staff_see_their_organisations_invoices_only(inv, three_invoices):
    ours, _, olus = three_invoices

    response = browser(inv.staff).get("/invoices/")

    assert response.status_code == 200
    waiting, table = sections(response)
    assert linked_invoices(table) == {ours.pk, olus.pk}
    assert "Waiting for you to confirm" not in waiting
    assert 'href="/invoices/new/"' in waiting
    assert "Riverside" not in html(response)


def test_client_sees_their_own_invoices_and_those_waiting_for_them(inv, client_user, three_invoices):
    ours, riverside, _ = three_invoices

    response = browser(client_user).get("/invoices/")

    assert response.status_code == 200
    waiting, table = sections(response)
    assert "Waiting for you to confirm" in waiting
    assert linked_invoices(waiting) == {ours.pk, riverside.pk}
    assert linked_invoices(table) == {ours.pk, riverside.pk}
    assert "Olu Bankole" not in html(response)
    assert 'href="/invoices/new/"' not in html(response)


def test_decided_invoices_no_longer_wait_for_the_client(inv, client_user, three_invoices):
    ours, riverside, _ = three_invoices
    services.invoice_confirm(actor=client_user, invoice=ours)
    services.invoice_dispute(actor=client_user, invoice=riverside, reason="No night that week.")

    response = browser(client_user).get("/invoices/")

    waiting, table = sections(response)
    assert "Waiting for you to confirm" not in waiting
    assert linked_invoices(table) == {ours.pk, riverside.pk}


def test_social_worker_sees_their_caseloads_invoices_waiting(inv, social_worker, three_invoices):
    ours, riverside, _ = three_invoices

    response = browser(social_worker).get("/invoices/")

    waiting, table = sections(response)
    assert linked_invoices(waiting) == {ours.pk, riverside.pk}
    assert linked_invoices(table) == {ours.pk, riverside.pk}
    assert "Olu Bankole" not in html(response)


def test_finance_sees_every_invoice_with_nothing_to_confirm(inv, finance_user, three_invoices):
    response = browser(finance_user).get("/invoices/")

    waiting, table = sections(response)
    assert linked_invoices(table) == {invoice.pk for invoice in three_invoices}
    assert "Waiting for you to confirm" not in waiting


def test_case_manager_sees_the_page_but_no_invoice(inv, case_manager, three_invoices):
    """The list is open to anyone signed in and shows what they may see: a case manager sees
    providers and ratings, not clients' invoices."""
    response = browser(case_manager).get("/invoices/")

    assert response.status_code == 200
    assert linked_invoices(html(response)) == set()
    assert "No invoices yet." in html(response)
    for secret in ("Ruth Ellis", "Olu Bankole", "Home care visits", "£49.00"):
        assert secret not in html(response)


def test_invoice_list_needs_signing_in(client, inv):
    response = client.get("/invoices/")

    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(django_settings.LOGIN_URL))


@pytest.mark.parametrize("who", ["finance_user", "client_user"])
def test_invoice_list_query_count_does_not_grow_with_the_invoices(request, inv, who):
    page = browser(request.getfixturevalue(who))
    submit(inv, first=1, last=1, units="0.25")
    page.get("/invoices/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as one:
        assert page.get("/invoices/").status_code == 200
    for day in range(2, 21):
        submit(inv, first=day, last=day, units="0.25")
    with CaptureQueriesContext(connection) as twenty:
        response = page.get("/invoices/")

    assert len(linked_invoices(sections(response)[1])) == 20
    assert len(twenty) == len(one), [q["sql"] for q in twenty.captured_queries]


# --- /invoices/new/ ----------------------------------------------------------------------------


def line_choices(response) -> set[int]:
    return {int(value) for value, _ in response.context["form"].fields["line"].choices if value}


def test_form_lists_only_the_providers_lines_of_approved_plans(inv, olu, make_plan, client_user):
    draft = make_plan(client_user, inv.plan.budget, lines=[weekly(inv.line.service, "1", inv.start, 28)])

    response = browser(inv.staff).get("/invoices/new/")

    assert response.status_code == 200
    olus_line = olu[2].line_id
    assert line_choices(response) == {inv.line.pk, inv.short_line.pk, olus_line}
    assert draft.lines.get().pk not in line_choices(response)
    assert "Respite breaks" not in html(response)
    assert 'enctype="multipart/form-data"' in html(response)


def test_form_says_when_there_is_nothing_to_invoice(inv):
    newcomer = factories.ProviderStaffFactory()

    response = browser(newcomer).get("/invoices/new/")

    assert response.status_code == 200
    assert "There is nothing to invoice yet" in html(response)


@pytest.mark.parametrize("who", NOT_PROVIDERS)
def test_only_provider_staff_open_the_invoice_form(request, inv, who):
    page = browser(request.getfixturevalue(who))

    assert page.get("/invoices/new/").status_code == 403
    assert page.post("/invoices/new/", form_data(inv)).status_code == 403
    assert Invoice.objects.count() == 0


def form_data(inv, *, line=None, first=1, last=7, units="2", **extra) -> dict:
    return {
        "line": str((line or inv.line).pk),
        "period_start": inv.day(first).isoformat(),
        "period_end": inv.day(last).isoformat(),
        "units": units,
        "reference": "BS-0042",
        **extra,
    }


def test_provider_sends_an_invoice_with_a_timesheet(inv, media_root):
    page = browser(inv.staff)

    response = page.post("/invoices/new/", form_data(inv, supporting_file=upload(PDF_BYTES)))

    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/invoices/{invoice.pk}/"
    assert invoice.amount.amount == 49 and invoice.reference == "BS-0042"
    assert invoice.supporting_file_type == "application/pdf"
    assert len(stored_files(media_root)) == 1
    shown = page.get(response["Location"])
    assert f"Invoice {invoice.pk} for £49.00 is sent for confirmation." in html(shown)


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"units": "2.01"}, "units", 400),
        ({"units": "0"}, "units", 400),
        ({"units": "1.555"}, "units", 400),
        ({"units": ""}, "units", 400),
        ({"last": 6, "first": 7}, "period_end", 400),
        ({"first": 0}, "period_start", 400),
        ({"period_end": "not a date"}, "period_end", 400),
        ({"supporting_file": "exe"}, "supporting_file", 400),
        ({"line": "other"}, "line", 400),
    ],
)
def test_form_shows_each_problem_on_its_field_and_saves_nothing(inv, media_root, change, field, status):
    page = browser(inv.staff)
    data = form_data(inv, **{k: v for k, v in change.items() if k in ("first", "last", "units")})
    if "period_end" in change:
        data["period_end"] = change["period_end"]
    if change.get("supporting_file") == "exe":
        data["supporting_file"] = upload(EXE_BYTES, "timesheet.pdf")
    else:
        data["supporting_file"] = upload(PDF_BYTES)
    if change.get("line") == "other":
        data["line"] = str(inv.other_line.pk)
    before = snapshot(media_root)

    response = page.post("/invoices/new/", data)

    assert response.status_code == status
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert f'id="id_{field}-error"' in html(response)
    assert f'href="#id_{field}"' in html(response)
    assert snapshot(media_root) == before


def test_form_refuses_a_period_ending_after_today_on_the_end_field(inv, media_root):
    now = (today() - inv.start).days + 1
    page = browser(inv.staff)
    before = snapshot(media_root)

    response = page.post("/invoices/new/", form_data(inv, first=now, last=now + 1, units="0.1"))

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["period_end"]
    assert "already delivered" in response.context["form"].errors["period_end"][0]
    assert snapshot(media_root) == before


def test_form_shows_a_duplicate_as_a_409_problem_for_the_whole_form(inv, media_root):
    submit(inv, first=1, last=3, units="0.5")
    page = browser(inv.staff)
    before = snapshot(media_root)

    response = page.post(
        "/invoices/new/", form_data(inv, first=1, last=3, units="0.1", supporting_file=upload(PDF_BYTES))
    )

    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [
        "This line has already been invoiced for exactly this period."
    ]
    assert "There is a problem" in html(response)
    assert snapshot(media_root) == before


def test_form_refuses_the_superseded_versions_line_after_the_new_version_took_over(
    inv, media_root, client_user, social_worker, checklist
):
    new = plan_new_version(actor=client_user, plan=inv.plan)
    approve(new, submitter=client_user, reviewer=social_worker, checklist=checklist)
    page = browser(inv.staff)
    assert {inv.line.pk, new.lines.get(service=inv.line.service).pk} <= line_choices(page.get("/invoices/new/"))
    now = (today() - inv.start).days + 1
    before = snapshot(media_root)

    response = page.post("/invoices/new/", form_data(inv, first=now, last=now, units="0.2"))

    assert response.status_code == 409
    assert "replaced" in response.context["form"].non_field_errors()[0]
    assert snapshot(media_root) == before


def test_form_needs_signing_in(client, inv):
    response = client.get("/invoices/new/")

    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(django_settings.LOGIN_URL))


# --- /invoices/<id>/ ---------------------------------------------------------------------------


@pytest.fixture
def invoice(inv):
    return submit(inv, units="2")


CONFIRM = "Confirm the invoice"
DISPUTE = "Dispute the invoice"
CANCEL = "Cancel this invoice"


@pytest.mark.parametrize("who", ["client_user", "social_worker", "team_manager"])
def test_client_and_their_workers_see_confirm_and_dispute_while_submitted(request, inv, invoice, who):
    response = browser(request.getfixturevalue(who)).get(f"/invoices/{invoice.pk}/")

    assert response.status_code == 200
    assert CONFIRM in html(response) and DISPUTE in html(response)
    assert CANCEL not in html(response)
    assert "£49.00" in html(response)


@pytest.mark.parametrize("who", ["staff", "finance_user", "admin_person"])
def test_others_who_see_the_invoice_get_no_confirm_or_dispute(request, inv, invoice, who):
    person = inv.staff if who == "staff" else request.getfixturevalue(who)

    response = browser(person).get(f"/invoices/{invoice.pk}/")

    assert response.status_code == 200
    assert CONFIRM not in html(response) and DISPUTE not in html(response)
    assert CANCEL not in html(response)


def test_disputed_invoice_offers_confirm_to_the_client_and_cancel_to_the_provider(inv, client_user, invoice):
    services.invoice_dispute(actor=client_user, invoice=invoice, reason="Only one visit happened.")

    as_client = html(browser(client_user).get(f"/invoices/{invoice.pk}/"))
    as_staff = html(browser(inv.staff).get(f"/invoices/{invoice.pk}/"))

    assert CONFIRM in as_client and DISPUTE not in as_client and CANCEL not in as_client
    assert "Only one visit happened." in as_client
    assert CANCEL in as_staff and CONFIRM not in as_staff


def test_confirmed_invoice_offers_no_decision(inv, client_user, invoice):
    services.invoice_confirm(actor=client_user, invoice=invoice)

    for person in (client_user, inv.staff):
        page = html(browser(person).get(f"/invoices/{invoice.pk}/"))
        assert CONFIRM not in page and DISPUTE not in page and CANCEL not in page


def test_auto_confirmed_invoice_says_so(inv, client_user, invoice):
    services.invoices_auto_confirm(today=today() + datetime.timedelta(days=14))

    page = html(browser(client_user).get(f"/invoices/{invoice.pk}/"))

    assert "automatically, nobody confirmed or disputed it" in page


@pytest.mark.parametrize("who", ["other_staff", "other_client", "other_social_worker", "case_manager"])
def test_people_who_cannot_see_the_invoice_get_404(inv, olu, invoice, case_manager, who):
    person = {
        "other_staff": inv.other_staff,
        "other_client": olu[0],
        "other_social_worker": olu[1],
        "case_manager": case_manager,
    }[who]
    page = browser(person)

    assert page.get(f"/invoices/{invoice.pk}/").status_code == 404
    assert page.get(f"/invoices/{invoice.pk}/invoice.pdf").status_code == 404
    for decision in ("confirm", "dispute", "cancel"):
        assert page.post(f"/invoices/{invoice.pk}/{decision}/", {"reason": "No"}).status_code == 404
    assert reload(invoice).status == InvoiceStatus.SUBMITTED


@pytest.mark.parametrize("who", ["client_user", "social_worker", "team_manager"])
def test_posting_confirm_confirms_the_invoice(request, inv, invoice, who):
    person = request.getfixturevalue(who)

    response = browser(person).post(f"/invoices/{invoice.pk}/confirm/", follow=True)

    assert response.redirect_chain == [(f"/invoices/{invoice.pk}/", 302)]
    assert "The invoice is confirmed." in html(response)
    assert reload(invoice).status == InvoiceStatus.CONFIRMED
    assert reload(invoice).decided_by == person


def test_posting_dispute_with_a_reason_disputes_the_invoice(inv, client_user, invoice):
    response = browser(client_user).post(
        f"/invoices/{invoice.pk}/dispute/", {"reason": "The Tuesday visit did not happen."}, follow=True
    )

    assert response.redirect_chain == [(f"/invoices/{invoice.pk}/", 302)]
    assert "The invoice is disputed." in html(response)
    invoice = reload(invoice)
    assert invoice.status == InvoiceStatus.DISPUTED
    assert invoice.dispute_reason == "The Tuesday visit did not happen."


def test_posting_dispute_without_a_reason_shows_the_problem_and_changes_nothing(inv, client_user, invoice):
    response = browser(client_user).post(f"/invoices/{invoice.pk}/dispute/", {"reason": "  "})

    assert response.status_code == 400
    assert "Say what is wrong with the invoice." in html(response)
    assert "There is a problem" in html(response)
    assert reload(invoice).status == InvoiceStatus.SUBMITTED


@pytest.mark.parametrize("decision", ["confirm", "dispute"])
@pytest.mark.parametrize("who", ["staff", "finance_user"])
def test_people_who_may_not_decide_get_403_when_posting(request, inv, invoice, decision, who):
    person = inv.staff if who == "staff" else request.getfixturevalue(who)

    response = browser(person).post(f"/invoices/{invoice.pk}/{decision}/", {"reason": "Looks wrong"})

    assert response.status_code == 403
    assert reload(invoice).status == InvoiceStatus.SUBMITTED


def test_confirming_a_confirmed_invoice_again_is_a_409_with_the_reason(inv, client_user, social_worker, invoice):
    services.invoice_confirm(actor=client_user, invoice=invoice)

    response = browser(social_worker).post(f"/invoices/{invoice.pk}/confirm/")

    assert response.status_code == 409
    assert "This invoice is confirmed, so that cannot be done." in html(response)
    assert reload(invoice).decided_by == client_user


def test_provider_cancels_a_disputed_invoice_from_its_page(inv, client_user, invoice):
    services.invoice_dispute(actor=client_user, invoice=invoice, reason="Wrong week.")

    response = browser(inv.staff).post(f"/invoices/{invoice.pk}/cancel/", follow=True)

    assert "The invoice is cancelled." in html(response)
    assert reload(invoice).status == InvoiceStatus.CANCELLED


def test_provider_cannot_cancel_a_submitted_invoice(inv, invoice):
    response = browser(inv.staff).post(f"/invoices/{invoice.pk}/cancel/")

    assert response.status_code == 409
    assert reload(invoice).status == InvoiceStatus.SUBMITTED


def test_unknown_decision_is_404(inv, client_user, invoice):
    assert browser(client_user).post(f"/invoices/{invoice.pk}/approve/").status_code == 404
    assert reload(invoice).status == InvoiceStatus.SUBMITTED


# --- The invoice PDF ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "client_user", "social_worker", "finance_user"])
def test_invoice_pdf_opens_and_shows_the_amount(request, inv, invoice, who):
    person = inv.staff if who == "staff" else request.getfixturevalue(who)

    response = browser(person).get(f"/invoices/{invoice.pk}/invoice.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert f"Invoice {invoice.pk}" in text
    assert "£49.00" in text
    assert "Brightside Care" in text and "Ruth Ellis" in text


def test_invoice_pdf_shows_the_dispute(inv, client_user, invoice):
    services.invoice_dispute(actor=client_user, invoice=invoice, reason="Only one visit happened.")

    text = pdf_text(browser(inv.staff).get(f"/invoices/{invoice.pk}/invoice.pdf").content)

    assert "Disputed" in text and "Only one visit happened." in text


def test_api_invoice_pdf_is_a_pdf_whatever_the_accept_header(api_as, inv, invoice):
    response = api_as(inv.staff).get(f"/api/v1/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "£49.00" in pdf_text(response.content)

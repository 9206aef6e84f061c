"""A representative confirms or disputes the invoices of the client they act for, on the pages and
through the API, and reads them and their PDFs; every invoice of another client is "not found" and
stays as it was.

The world: Ruth's (client_user's) approved plan started 60 days ago (`invoice_fixtures.Invoicing`);
Pat (`representative`) acts for Ruth. Olu, another client of another social worker, has an invoice
from the same provider.
"""

import pytest

from payments.models import InvoiceStatus
from tests.payments.invoice_fixtures import build_invoicing, other_client_with_invoice, snapshot, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def inv(make_budget, make_plan, make_service, make_provider, client_user, social_worker, caseload, checklist):
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
def ruths(inv):
    """Brightside's invoice for Ruth's first week, waiting for a decision."""
    return submit(inv)


@pytest.fixture
def olus(inv, make_budget, make_plan, checklist):
    _, _, invoice = other_client_with_invoice(
        make_budget=make_budget, make_plan=make_plan, checklist=checklist, service=inv.line.service, start=inv.start
    )
    return invoice


def test_representative_sees_ruths_invoice_waiting_and_not_olus(web_as, api_as, representative, ruths, olus):
    page = web_as(representative).get("/invoices/").content.decode()
    assert "Waiting for you to confirm" in page
    assert f"/invoices/{ruths.pk}/" in page
    assert f"/invoices/{olus.pk}/" not in page
    listed = api_as(representative).get("/api/v1/invoices/").json()["results"]
    assert [row["id"] for row in listed] == [ruths.pk]


def test_representative_confirms_ruths_invoice_on_its_page(web_as, representative, ruths):
    web = web_as(representative)
    page = web.get(f"/invoices/{ruths.pk}/").content.decode()
    assert f'action="/invoices/{ruths.pk}/confirm/"' in page
    assert f'action="/invoices/{ruths.pk}/dispute/"' in page
    assert web.post(f"/invoices/{ruths.pk}/confirm/").status_code == 302
    ruths.refresh_from_db()
    assert ruths.status == InvoiceStatus.CONFIRMED
    assert ruths.decided_by == representative


def test_representative_disputes_ruths_invoice_on_its_page(web_as, representative, ruths):
    response = web_as(representative).post(
        f"/invoices/{ruths.pk}/dispute/", {"reason": "Mum says one visit was missed."}
    )
    assert response.status_code == 302
    ruths.refresh_from_db()
    assert ruths.status == InvoiceStatus.DISPUTED
    assert ruths.dispute_reason == "Mum says one visit was missed."


def test_representative_confirms_ruths_invoice_through_the_api(api_as, representative, ruths):
    response = api_as(representative).post(f"/api/v1/invoices/{ruths.pk}/confirm/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"


def test_representative_disputes_ruths_invoice_through_the_api(api_as, representative, ruths):
    response = api_as(representative).post(
        f"/api/v1/invoices/{ruths.pk}/dispute/", {"reason": "Not delivered."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "disputed"


def test_representative_reads_ruths_invoice_and_its_pdf(web_as, api_as, representative, ruths):
    assert api_as(representative).get(f"/api/v1/invoices/{ruths.pk}/").json()["id"] == ruths.pk
    for response in (
        web_as(representative).get(f"/invoices/{ruths.pk}/invoice.pdf"),
        api_as(representative).get(f"/api/v1/invoices/{ruths.pk}/pdf/"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/invoices/{pk}/", None),
        ("get", "/invoices/{pk}/invoice.pdf", None),
        ("get", "/invoices/{pk}/file", None),
        ("post", "/invoices/{pk}/confirm/", {}),
        ("post", "/invoices/{pk}/dispute/", {"reason": "Not delivered."}),
        ("get", "/api/v1/invoices/{pk}/", None),
        ("get", "/api/v1/invoices/{pk}/pdf/", None),
        ("post", "/api/v1/invoices/{pk}/confirm/", {}),
        ("post", "/api/v1/invoices/{pk}/dispute/", {"reason": "Not delivered."}),
    ],
)
def test_representative_gets_not_found_for_another_clients_invoice_and_nothing_changes(
    web_as, api_as, representative, media_root, olus, method, path, body
):
    caller = api_as(representative) if path.startswith("/api/") else web_as(representative)
    url = path.format(pk=olus.pk)
    before = snapshot(media_root)
    kwargs = {"format": "json"} if path.startswith("/api/") else {}
    response = getattr(caller, method)(url, body, **kwargs) if body is not None else getattr(caller, method)(url)
    assert response.status_code == 404, url
    assert snapshot(media_root) == before


def test_a_removed_representative_can_no_longer_confirm(api_as, representative, media_root, ruths):
    representative.representations.all().delete()
    before = snapshot(media_root)
    response = api_as(representative).post(f"/api/v1/invoices/{ruths.pk}/confirm/", {}, format="json")
    assert response.status_code == 404
    assert snapshot(media_root) == before

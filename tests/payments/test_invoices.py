"""Invoices (PRODUCT.md §8, API.md "Invoices and payments"): a provider's staff invoice a plan line
for support already delivered; the client or their social worker (or team manager) confirms or
disputes; nobody's silence for the policy's days confirms it automatically.

Every refusal is checked to change nothing: no invoice row, no audit row, no file stored.
"""

import contextlib
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, AuditEvent, Notification
from approvals import services as workflow
from careplans.models import CarePlan, PlanStatus
from careplans.services import plan_new_version
from payments import services
from payments.models import Invoice, InvoicePolicy, InvoiceStatus
from payments.services import committed_units
from providers.models import Provider, ProviderStatus, ServiceOffering
from tests import factories
from tests.payments.invoice_fixtures import (
    EXE_BYTES,
    JPEG_BYTES,
    MB,
    PDF_BYTES,
    PNG_BYTES,
    TEXT_BYTES,
    approve,
    build_invoicing,
    other_client_with_invoice,
    pdf_of_size,
    snapshot,
    stored_files,
    streamed,
    submit,
    today,
    upload,
    weekly,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices/"
NON_PROVIDER_ROLES = ["client_user", "social_worker", "team_manager", "case_manager", "finance_user", "admin_person"]
CONFIRMERS = ["client_user", "social_worker", "team_manager"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files land in a fresh directory, so a test can see exactly what was stored."""
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
    """Another client, Olu, on another social worker's caseload, buying Brightside's visits too,
    with one invoice. Returns (client, social worker, invoice)."""
    return other_client_with_invoice(
        make_budget=make_budget, make_plan=make_plan, checklist=checklist, service=inv.line.service, start=inv.start
    )


def body(inv, *, first=1, last=7, units="2", line=None, **extra) -> dict:
    return {
        "plan_line": (line or inv.line).pk,
        "period_start": inv.day(first).isoformat(),
        "period_end": inv.day(last).isoformat(),
        "units": units,
        **extra,
    }


def post(api, inv, *, with_file=True, **kwargs):
    """POST an invoice as multipart, with a valid PDF attached unless told otherwise, so every
    refusal also shows that no file was stored."""
    data = body(inv, **kwargs)
    if with_file and "supporting_file" not in data:
        data["supporting_file"] = upload(PDF_BYTES)
    return api.post(URL, data, format="multipart")


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def audit_rows(invoice) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            target_type=ContentType.objects.get_for_model(Invoice), target_id=str(invoice.pk)
        ).order_by("pk")
    )


def sent_on(invoice, date: datetime.date) -> None:
    """Pretend the invoice was sent at noon on `date`."""
    noon = timezone.make_aware(datetime.datetime.combine(date, datetime.time(12)))
    Invoice.objects.filter(pk=invoice.pk).update(submitted_at=noon)


# --- Sending an invoice: the happy path --------------------------------------------------------


def test_provider_staff_invoice_for_delivered_support_is_created(api_as, inv):
    response = api_as(inv.staff).post(URL, body(inv, units="2"), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "submitted"
    assert data["amount"] == {"amount": "49.00", "currency": "GBP"}
    assert data["plan_line"] == inv.line.pk and data["plan"] == inv.plan.pk
    invoice = Invoice.objects.get(pk=data["id"])
    assert invoice.status == InvoiceStatus.SUBMITTED
    assert invoice.amount == Money("49.00", "GBP") and invoice.unit_price == Money("24.50", "GBP")
    assert invoice.provider_id == inv.staff.provider_id and invoice.submitted_by == inv.staff
    [row] = audit_rows(invoice)
    assert row.action == AuditAction.CREATE and row.actor == inv.staff and row.subject == inv.plan.client


def test_provider_staff_can_read_their_invoice(api_as, inv):
    invoice = submit(inv, units="1.5", reference="BS-0042")

    response = api_as(inv.staff).get(f"{URL}{invoice.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert data["id"] == invoice.pk and data["status"] == "submitted"
    assert data["amount"] == {"amount": "36.75", "currency": "GBP"}
    assert data["unit_price"] == {"amount": "24.50", "currency": "GBP"}
    assert data["reference"] == "BS-0042" and data["has_file"] is False
    assert data["period_start"] == inv.day(1).isoformat() and data["period_end"] == inv.day(7).isoformat()


def test_amount_uses_the_lines_agreed_price_after_the_service_price_changes(api_as, inv):
    ServiceOffering.objects.filter(pk=inv.line.service_id).update(unit_price=Money("99.00", "GBP"))

    response = api_as(inv.staff).post(URL, body(inv, units="1.5"), format="json")

    assert response.status_code == 201
    assert response.json()["amount"] == {"amount": "36.75", "currency": "GBP"}  # 1.5 × £24.50, not × £99


def test_one_off_line_is_invoiced_on_its_date(
    api_as, inv, make_plan, make_service, client_user, social_worker, checklist
):
    gadget = make_service("Grab rail fitted", "60.00", provider=inv.line.provider, unit="item")
    plan = make_plan(
        client_user, inv.plan.budget, lines=[{"service": gadget.pk, "quantity": "2", "start": inv.day(10)}]
    )
    plan = approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)
    line = plan.lines.get()

    too_many = api_as(inv.staff).post(URL, body(inv, first=10, last=10, units="2.01", line=line), format="json")
    response = api_as(inv.staff).post(URL, body(inv, first=10, last=10, units="2", line=line), format="json")

    assert too_many.status_code == 400 and "units" in too_many.json()
    assert response.status_code == 201
    assert response.json()["amount"] == {"amount": "120.00", "currency": "GBP"}


def test_invoicing_needs_credentials(api, inv):
    assert api.post(URL, body(inv), format="json").status_code == 401
    assert Invoice.objects.count() == 0


# --- Refusals: who ---------------------------------------------------------------------------


def test_another_providers_staff_cannot_invoice_the_line(api_as, inv, media_root):
    before = snapshot(media_root)

    response = post(api_as(inv.other_staff), inv)

    assert response.status_code == 400
    assert "plan_line" in response.json()
    assert snapshot(media_root) == before


def test_unknown_plan_line_is_refused(api_as, inv, media_root):
    before = snapshot(media_root)

    response = api_as(inv.staff).post(
        URL, {**body(inv), "plan_line": 999999, "supporting_file": upload(PDF_BYTES)}, format="multipart"
    )

    assert response.status_code == 400 and "plan_line" in response.json()
    assert snapshot(media_root) == before


@pytest.mark.parametrize("role_fixture", NON_PROVIDER_ROLES)
def test_people_who_are_not_provider_staff_cannot_invoice(request, api_as, inv, media_root, role_fixture):
    person = request.getfixturevalue(role_fixture)
    before = snapshot(media_root)

    response = post(api_as(person), inv)

    assert response.status_code == 403
    assert snapshot(media_root) == before


def test_service_refuses_non_provider_actor(inv, client_user):
    with pytest.raises(ActionNotAllowed):
        submit(inv, actor=client_user)
    assert Invoice.objects.count() == 0


# --- Refusals: the plan's state ----------------------------------------------------------------


def _plan_in(status, *, inv, make_plan, client_user, social_worker):
    plan = make_plan(
        client_user,
        inv.plan.budget,
        lines=[weekly(inv.line.service, "1", inv.start, 28)],
        risks="Falls",
        contacts="My daughter",
    )
    if status == PlanStatus.WITHDRAWN:
        return workflow.plan_withdraw(actor=client_user, plan=plan)
    if status == PlanStatus.DRAFT:
        return plan
    plan = workflow.plan_submit(actor=client_user, plan=plan)
    if status == PlanStatus.SUBMITTED:
        return plan
    plan = workflow.plan_start_review(actor=social_worker, plan=plan)
    if status == PlanStatus.IN_REVIEW:
        return plan
    if status == PlanStatus.REJECTED:
        return workflow.plan_reject(actor=social_worker, plan=plan, comment="Not what we agreed.")
    return workflow.plan_request_changes(actor=social_worker, plan=plan, comment="Add the evening visit.")


@pytest.mark.parametrize(
    "status",
    [
        PlanStatus.DRAFT,
        PlanStatus.SUBMITTED,
        PlanStatus.IN_REVIEW,
        PlanStatus.CHANGES_REQUESTED,
        PlanStatus.REJECTED,
        PlanStatus.WITHDRAWN,
    ],
)
def test_line_of_a_plan_not_approved_cannot_be_invoiced(
    api_as, inv, make_plan, client_user, social_worker, media_root, status
):
    plan = _plan_in(status, inv=inv, make_plan=make_plan, client_user=client_user, social_worker=social_worker)
    assert reload(plan).status == status
    before = snapshot(media_root)

    response = post(api_as(inv.staff), inv, line=plan.lines.get())

    assert response.status_code == 409
    assert "approved" in response.json()["detail"]
    assert snapshot(media_root) == before


@pytest.fixture
def new_version(inv, client_user, social_worker, checklist):
    """Ruth's plan amended (same lines) and the new version approved today: the old one is
    superseded."""
    new = plan_new_version(actor=client_user, plan=inv.plan)
    new = approve(new, submitter=client_user, reviewer=social_worker, checklist=checklist)
    assert reload(inv.plan).status == PlanStatus.SUPERSEDED
    return new


def _day_of(inv, date: datetime.date) -> int:
    return (date - inv.start).days + 1


def test_superseded_plan_is_invoiced_for_support_before_the_new_version_only(api_as, inv, new_version, media_root):
    yesterday, now = _day_of(inv, today() - datetime.timedelta(days=1)), _day_of(inv, today())
    staff = api_as(inv.staff)

    before_take_over = post(staff, inv, first=yesterday - 6, last=yesterday, units="1")
    before = snapshot(media_root)
    on_take_over_day = post(staff, inv, first=now, last=now, units="0.2")

    assert before_take_over.status_code == 201, before_take_over.json()
    assert on_take_over_day.status_code == 409
    assert "replaced" in on_take_over_day.json()["detail"]
    assert snapshot(media_root) == before


def test_superseded_plan_refuses_periods_after_the_new_version_was_approved(api_as, inv, new_version, media_root):
    took_over = today() - datetime.timedelta(days=10)
    CarePlan.objects.filter(pk=new_version.pk).update(
        approved_at=timezone.make_aware(datetime.datetime.combine(took_over, datetime.time(9)))
    )
    day = _day_of(inv, took_over)
    staff = api_as(inv.staff)

    earlier = post(staff, inv, first=day - 7, last=day - 1, units="2")
    before = snapshot(media_root)
    later = post(staff, inv, first=day + 1, last=day + 5, units="1")
    across = post(staff, inv, first=day - 1, last=day + 1, units="0.5")

    assert earlier.status_code == 201, earlier.json()
    assert later.status_code == 409 and across.status_code == 409
    assert snapshot(media_root) == before


def test_new_version_line_is_invoiced_for_support_after_its_approval(api_as, inv, new_version):
    line = new_version.lines.get(service=inv.line.service)
    now = _day_of(inv, today())

    response = api_as(inv.staff).post(URL, body(inv, first=now - 2, last=now, units="0.5", line=line), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["plan"] == new_version.pk


def test_week_invoiced_on_superseded_version_cannot_be_invoiced_again_on_the_new_version(api_as, inv, new_version):
    first = api_as(inv.staff).post(URL, body(inv, units="2"), format="json")
    assert first.status_code == 201
    copy = new_version.lines.get(service=inv.line.service)

    again = api_as(inv.staff).post(URL, body(inv, units="2", line=copy), format="json")

    assert again.status_code in (400, 409), again.json()
    assert Invoice.objects.count() == 1


def test_suspended_provider_cannot_invoice(api_as, inv):
    Provider.objects.filter(pk=inv.staff.provider_id).update(status=ProviderStatus.SUSPENDED)

    response = api_as(inv.staff).post(URL, body(inv, units="1"), format="json")

    assert response.status_code in (403, 409)
    assert Invoice.objects.count() == 0


# --- Refusals: the period ----------------------------------------------------------------------


def test_period_ending_after_today_is_refused(api_as, inv, media_root):
    before = snapshot(media_root)

    response = post(api_as(inv.staff), inv, first=_day_of(inv, today()), last=_day_of(inv, today()) + 1, units="0.1")

    assert response.status_code == 400
    assert "period_end" in response.json()
    assert snapshot(media_root) == before


def test_period_ending_today_is_accepted(api_as, inv):
    now = _day_of(inv, today())

    response = post(api_as(inv.staff), inv, first=now - 6, last=now, units="2")

    assert response.status_code == 201, response.json()


def test_period_ending_before_it_starts_is_refused(api_as, inv, media_root):
    before = snapshot(media_root)

    response = post(api_as(inv.staff), inv, first=7, last=6, units="0.1")

    assert response.status_code == 400
    assert "period_end" in response.json()
    assert snapshot(media_root) == before


@pytest.mark.parametrize(
    ("which", "first", "last"),
    [
        ("line", 0, 6),  # starts the day before the line
        ("short_line", 22, 29),  # the short line ended on day 28
        ("short_line", 29, 35),  # wholly after it
    ],
)
def test_period_outside_the_lines_dates_is_refused(api_as, inv, media_root, which, first, last):
    before = snapshot(media_root)

    response = post(api_as(inv.staff), inv, line=getattr(inv, which), first=first, last=last, units="0.5")

    assert response.status_code == 400
    assert "period_start" in response.json()
    assert "line's dates" in response.json()["period_start"][0]
    assert snapshot(media_root) == before


def test_period_on_the_lines_last_day_is_accepted(api_as, inv):
    response = post(api_as(inv.staff), inv, line=inv.short_line, first=22, last=28, units="1")

    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == {"amount": "15.00", "currency": "GBP"}


# --- Refusals: the units -----------------------------------------------------------------------


@pytest.mark.parametrize("units", ["0", "-1", "1.555", "abc", ""])
def test_units_must_be_a_positive_number_of_at_most_two_decimals(api_as, inv, media_root, units):
    before = snapshot(media_root)

    response = post(api_as(inv.staff), inv, units=units)

    assert response.status_code == 400
    assert "units" in response.json()
    assert snapshot(media_root) == before


@pytest.mark.parametrize("units", ["0", "-1", "1.555", "NaN", "Infinity"])
def test_service_refuses_bad_units(inv, units):
    with pytest.raises(InvalidInput) as refused:
        submit(inv, units=units)
    assert "units" in refused.value.as_dict()
    assert Invoice.objects.count() == 0


def test_a_week_of_a_two_a_week_line_allows_two_units(api_as, inv, media_root):
    staff = api_as(inv.staff)
    before = snapshot(media_root)

    too_many = post(staff, inv, units="2.01")
    assert too_many.status_code == 400
    assert "units" in too_many.json() and "commits 2 more" in too_many.json()["units"][0]
    assert snapshot(media_root) == before

    assert post(staff, inv, units="2").status_code == 201


def test_units_already_invoiced_for_an_overlapping_period_count_against_it(api_as, inv, media_root):
    staff = api_as(inv.staff)
    assert post(staff, inv, first=1, last=7, units="0.5").status_code == 201
    # Days 1-3 commit 2 × 3/7 = 0.857… units (not rounded); 0.5 of the week are already invoiced.
    assert committed_units(inv.line, inv.day(1), inv.day(3)) == Decimal(2) * 3 / 7
    before = snapshot(media_root)

    over = post(staff, inv, first=1, last=3, units="0.36")

    assert over.status_code == 400 and "0.35 more" in over.json()["units"][0]
    assert snapshot(media_root) == before
    assert post(staff, inv, first=1, last=3, units="0.35").status_code == 201


def test_after_one_and_a_half_units_for_days_1_to_7_nothing_remains_for_days_1_to_3(api_as, inv, media_root):
    staff = api_as(inv.staff)
    assert post(staff, inv, first=1, last=7, units="1.5").status_code == 201
    before = snapshot(media_root)

    # What the line commits for days 1-3 (0.857…) less what is already invoiced over them (1.5).
    response = post(staff, inv, first=1, last=3, units="0.01")

    assert response.status_code == 400
    assert "commits 0 more" in response.json()["units"][0]
    assert snapshot(media_root) == before
    # The next week is untouched.
    assert post(staff, inv, first=8, last=14, units="2").status_code == 201


def test_cancelled_invoice_units_no_longer_count(inv, client_user):
    first = submit(inv, units="2")
    services.invoice_dispute(actor=client_user, invoice=first, reason="Only one visit happened.")
    services.invoice_cancel(actor=inv.staff, invoice=first)

    again = submit(inv, first=1, last=6, units="1.71")

    assert again.units == Decimal("1.71")


def test_one_day_invoices_never_add_up_to_more_than_the_week_commits(inv):
    accepted = Decimal(0)
    for day in range(1, 8):
        with contextlib.suppress(InvalidInput):  # refusing once the week is used up is the fix
            accepted += submit(inv, first=day, last=day, units="0.29").units

    assert accepted <= committed_units(inv.line, inv.day(1), inv.day(7)) == Decimal("2")


# --- Refusals: duplicates ----------------------------------------------------------------------


def test_exact_duplicate_is_refused_with_409(api_as, inv, media_root):
    staff = api_as(inv.staff)
    assert post(staff, inv, first=1, last=3, units="0.5").status_code == 201
    before = snapshot(media_root)

    response = post(staff, inv, first=1, last=3, units="0.1")

    assert response.status_code == 409
    assert "already been invoiced" in response.json()["detail"]
    assert snapshot(media_root) == before


def test_duplicate_of_a_confirmed_invoice_is_still_refused(api_as, inv, client_user, media_root):
    staff = api_as(inv.staff)
    first = submit(inv, first=1, last=3, units="0.5")
    services.invoice_confirm(actor=client_user, invoice=first)
    before = snapshot(media_root)

    response = post(staff, inv, first=1, last=3, units="0.1")

    assert response.status_code == 409
    assert snapshot(media_root) == before


def test_same_period_may_be_invoiced_again_after_the_first_was_cancelled(api_as, inv, client_user):
    first = submit(inv, first=1, last=3, units="0.85")
    services.invoice_dispute(actor=client_user, invoice=first, reason="Wrong dates.")
    services.invoice_cancel(actor=inv.staff, invoice=first)

    response = post(api_as(inv.staff), inv, first=1, last=3, units="0.85")

    assert response.status_code == 201, response.json()
    assert reload(first).status == InvoiceStatus.CANCELLED


def test_same_period_on_another_line_is_not_a_duplicate(api_as, inv):
    submit(inv, first=1, last=7, units="2")

    response = post(api_as(inv.staff), inv, line=inv.short_line, first=1, last=7, units="1")

    assert response.status_code == 201


# --- The supporting file -----------------------------------------------------------------------


def test_png_named_pdf_is_accepted_as_png(api_as, inv):
    response = post(api_as(inv.staff), inv, supporting_file=upload(PNG_BYTES, "timesheet.pdf"))

    assert response.status_code == 201, response.json()
    invoice = Invoice.objects.get(pk=response.json()["id"])
    assert invoice.supporting_file_type == "image/png"
    assert invoice.supporting_file_name == "timesheet.pdf"
    assert response.json()["has_file"] is True


def test_jpeg_named_png_is_accepted_as_jpeg(api_as, inv):
    response = post(api_as(inv.staff), inv, supporting_file=upload(JPEG_BYTES, "photo.png", "image/png"))

    assert response.status_code == 201
    assert Invoice.objects.get().supporting_file_type == "image/jpeg"


@pytest.mark.parametrize(
    ("content", "name", "claimed"),
    [
        (TEXT_BYTES, "timesheet.pdf", "application/pdf"),
        (EXE_BYTES, "timesheet.pdf", "application/pdf"),
        (EXE_BYTES, "setup.exe", "application/octet-stream"),
        (b"", "empty.pdf", "application/pdf"),
    ],
)
def test_file_that_is_not_pdf_png_or_jpeg_by_content_is_refused(api_as, inv, media_root, content, name, claimed):
    before = snapshot(media_root)

    response = post(api_as(inv.staff), inv, supporting_file=upload(content, name, claimed))

    assert response.status_code == 400
    assert "supporting_file" in response.json()
    assert snapshot(media_root) == before


def test_file_over_five_megabytes_is_refused(api_as, inv, media_root):
    before = snapshot(media_root)

    response = post(api_as(inv.staff), inv, supporting_file=upload(pdf_of_size(5 * MB + 1)))

    assert response.status_code == 400
    assert "5 MB" in response.json()["supporting_file"][0]
    assert snapshot(media_root) == before


def test_file_of_exactly_five_megabytes_is_accepted(api_as, inv, media_root):
    response = post(api_as(inv.staff), inv, supporting_file=upload(pdf_of_size(5 * MB)))

    assert response.status_code == 201, response.json()
    [stored] = stored_files(media_root)
    assert stored.stat().st_size == 5 * MB


def test_supporting_file_is_stored_outside_the_web_root_under_a_new_name(api_as, inv, media_root, settings):
    response = post(api_as(inv.staff), inv, supporting_file=upload(PNG_BYTES, "Ruth Ellis timesheet.pdf"))
    invoice = Invoice.objects.get(pk=response.json()["id"])

    [stored] = stored_files(media_root)
    assert stored.read_bytes() == PNG_BYTES
    assert stored.resolve() == Path(invoice.supporting_file.path).resolve()
    assert "timesheet" not in str(stored) and "Ruth" not in str(stored)
    for web_root in [django_settings.STATIC_ROOT, *django_settings.STATICFILES_DIRS]:
        assert not stored.resolve().is_relative_to(Path(web_root).resolve())


def test_supporting_file_is_not_served_by_its_storage_path(web_as, inv):
    invoice = submit(inv, supporting_file=upload(PNG_BYTES, "timesheet.png", "image/png"))
    browser = web_as(inv.staff)

    for path in (f"/{invoice.supporting_file.name}", f"/media/{invoice.supporting_file.name}"):
        response = browser.get(path, follow=True)
        assert response.status_code != 200 or PNG_BYTES not in streamed(response)


@pytest.fixture
def with_file(inv):
    return submit(inv, supporting_file=upload(PNG_BYTES, "timesheet.pdf"))


@pytest.mark.parametrize("who", ["staff", "client_user", "social_worker", "team_manager", "finance_user"])
def test_people_who_can_see_the_invoice_download_its_file_as_an_attachment(request, api_as, inv, with_file, who):
    person = inv.staff if who == "staff" else request.getfixturevalue(who)

    response = api_as(person).get(f"{URL}{with_file.pk}/file/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="timesheet.pdf"' in response["Content-Disposition"]
    assert streamed(response) == PNG_BYTES


def test_file_page_serves_the_file_as_an_attachment(web_as, inv, with_file):
    response = web_as(inv.staff).get(f"/invoices/{with_file.pk}/file")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment")
    assert streamed(response) == PNG_BYTES


@pytest.mark.parametrize("who", ["other_staff", "other_client", "other_social_worker", "case_manager"])
def test_people_who_cannot_see_the_invoice_get_404_for_its_file(
    request, api_as, web_as, inv, olu, with_file, case_manager, who
):
    person = {
        "other_staff": inv.other_staff,
        "other_client": olu[0],
        "other_social_worker": olu[1],
        "case_manager": case_manager,
    }[who]

    api_response = api_as(person).get(f"{URL}{with_file.pk}/file/")
    page_response = web_as(person).get(f"/invoices/{with_file.pk}/file")

    assert api_response.status_code == 404
    assert page_response.status_code == 404
    assert PNG_BYTES not in streamed(api_response) + streamed(page_response)


def test_invoice_without_a_file_has_no_file_to_download(api_as, web_as, inv):
    invoice = submit(inv)

    assert api_as(inv.staff).get(f"{URL}{invoice.pk}/file/").status_code == 404
    assert web_as(inv.staff).get(f"/invoices/{invoice.pk}/file").status_code == 404


# --- Reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_staff", "other_client", "other_social_worker", "case_manager"])
def test_people_who_cannot_see_an_invoice_get_404(api_as, inv, olu, case_manager, who):
    invoice = submit(inv)
    person = {
        "other_staff": inv.other_staff,
        "other_client": olu[0],
        "other_social_worker": olu[1],
        "case_manager": case_manager,
    }[who]

    assert api_as(person).get(f"{URL}{invoice.pk}/").status_code == 404
    assert api_as(person).get(f"{URL}{invoice.pk}/pdf/").status_code == 404


def test_list_shows_each_person_only_the_invoices_they_may_see(api_as, inv, olu, client_user, finance_user):
    ours = submit(inv)
    theirs = submit(inv, line=inv.other_line, actor=inv.other_staff, units="1")
    olus = olu[2]

    def ids(person):
        response = api_as(person).get(URL)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids(inv.staff) == {ours.pk, olus.pk}
    assert ids(inv.other_staff) == {theirs.pk}
    assert ids(client_user) == {ours.pk, theirs.pk}
    assert ids(olu[0]) == {olus.pk}
    assert ids(olu[1]) == {olus.pk}
    assert ids(finance_user) == {ours.pk, theirs.pk, olus.pk}


def test_list_query_count_does_not_grow_with_the_invoices(api_as, inv, finance_user):
    api = api_as(finance_user)
    submit(inv, first=1, last=1, units="0.25")
    with CaptureQueriesContext(connection) as one:
        assert api.get(URL).json()["count"] == 1
    for day in range(2, 21):
        submit(inv, first=day, last=day, units="0.25")
    with CaptureQueriesContext(connection) as twenty:
        assert api.get(URL).json()["count"] == 20

    assert len(twenty) == len(one), [q["sql"] for q in twenty.captured_queries]


# --- Confirm and dispute -----------------------------------------------------------------------


@pytest.fixture
def invoice(inv):
    return submit(inv, units="2")


@pytest.mark.parametrize("who", CONFIRMERS)
def test_client_social_worker_and_team_manager_may_confirm(request, api_as, inv, invoice, who):
    person = request.getfixturevalue(who)

    response = api_as(person).post(f"{URL}{invoice.pk}/confirm/")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    invoice = reload(invoice)
    assert invoice.status == InvoiceStatus.CONFIRMED
    assert invoice.decided_by == person and invoice.decided_at is not None
    assert invoice.confirmed_automatically is False
    row = audit_rows(invoice)[-1]
    assert row.action == AuditAction.TRANSITION and row.actor == person
    assert row.changes == {"from": "submitted", "to": "confirmed", "transition": "confirm"}
    [note] = Notification.objects.filter(recipient=inv.staff)
    assert "confirmed" in note.message and note.link == f"/invoices/{invoice.pk}/"


@pytest.mark.parametrize("who", CONFIRMERS)
def test_client_social_worker_and_team_manager_may_dispute_with_a_reason(request, api_as, inv, invoice, who):
    person = request.getfixturevalue(who)

    response = api_as(person).post(
        f"{URL}{invoice.pk}/dispute/", {"reason": "The Tuesday visit did not happen."}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "disputed"
    assert response.json()["dispute_reason"] == "The Tuesday visit did not happen."
    invoice = reload(invoice)
    assert invoice.status == InvoiceStatus.DISPUTED and invoice.decided_by == person
    assert audit_rows(invoice)[-1].message == "The Tuesday visit did not happen."
    [note] = Notification.objects.filter(recipient=inv.staff)
    assert "The Tuesday visit did not happen." in note.message


def _unchanged(invoice, status=InvoiceStatus.SUBMITTED) -> tuple:
    return reload(invoice).status == status, len(audit_rows(invoice)), Notification.objects.count()


@pytest.mark.parametrize("action", ["confirm", "dispute"])
@pytest.mark.parametrize("who", ["staff", "finance_user", "admin_person"])
def test_people_who_see_but_may_not_decide_get_403(request, api_as, inv, invoice, action, who):
    person = inv.staff if who == "staff" else request.getfixturevalue(who)
    before = _unchanged(invoice)

    response = api_as(person).post(f"{URL}{invoice.pk}/{action}/", {"reason": "Looks wrong"}, format="json")

    assert response.status_code == 403
    assert _unchanged(invoice) == before


@pytest.mark.parametrize("action", ["confirm", "dispute"])
@pytest.mark.parametrize("who", ["other_staff", "other_client", "other_social_worker", "case_manager"])
def test_people_who_cannot_see_the_invoice_get_404_when_deciding(api_as, inv, olu, invoice, case_manager, action, who):
    person = {
        "other_staff": inv.other_staff,
        "other_client": olu[0],
        "other_social_worker": olu[1],
        "case_manager": case_manager,
    }[who]
    before = _unchanged(invoice)

    response = api_as(person).post(f"{URL}{invoice.pk}/{action}/", {"reason": "Looks wrong"}, format="json")

    assert response.status_code == 404
    assert _unchanged(invoice) == before


@pytest.mark.parametrize("payload", [{}, {"reason": ""}, {"reason": "   "}])
def test_dispute_needs_a_reason(api_as, client_user, invoice, payload):
    before = _unchanged(invoice)

    response = api_as(client_user).post(f"{URL}{invoice.pk}/dispute/", payload, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    assert _unchanged(invoice) == before


def test_disputed_invoice_may_then_be_confirmed(api_as, client_user, social_worker, invoice):
    services.invoice_dispute(actor=client_user, invoice=invoice, reason="Only one visit.")

    response = api_as(social_worker).post(f"{URL}{invoice.pk}/confirm/")

    assert response.status_code == 200
    assert reload(invoice).status == InvoiceStatus.CONFIRMED


@pytest.mark.parametrize("action", ["confirm", "dispute"])
def test_confirmed_invoice_cannot_be_confirmed_or_disputed_again(api_as, client_user, invoice, action):
    services.invoice_confirm(actor=client_user, invoice=invoice)
    before = _unchanged(invoice, InvoiceStatus.CONFIRMED)

    response = api_as(client_user).post(f"{URL}{invoice.pk}/{action}/", {"reason": "Too late"}, format="json")

    assert response.status_code == 409
    assert _unchanged(invoice, InvoiceStatus.CONFIRMED) == before


def test_disputed_invoice_cannot_be_disputed_again(api_as, client_user, invoice):
    services.invoice_dispute(actor=client_user, invoice=invoice, reason="Only one visit.")

    response = api_as(client_user).post(f"{URL}{invoice.pk}/dispute/", {"reason": "Again"}, format="json")

    assert response.status_code == 409
    assert reload(invoice).dispute_reason == "Only one visit."


def test_inactive_provider_staff_are_not_notified(api_as, inv, client_user, invoice):
    inv.staff.is_active = False
    inv.staff.save(update_fields=["is_active"])
    colleague = factories.ProviderStaffFactory(provider=inv.staff.provider)

    api_as(client_user).post(f"{URL}{invoice.pk}/confirm/")

    notes = Notification.objects.filter(link=f"/invoices/{invoice.pk}/")
    assert list(notes.values_list("recipient", flat=True)) == [colleague.pk]


# --- Cancel (the provider, only from disputed) -------------------------------------------------


def test_provider_cancels_a_disputed_invoice(inv, client_user, invoice):
    services.invoice_dispute(actor=client_user, invoice=invoice, reason="Wrong week.")

    services.invoice_cancel(actor=inv.staff, invoice=invoice, reason="Sending a corrected one.")

    invoice = reload(invoice)
    assert invoice.status == InvoiceStatus.CANCELLED
    assert audit_rows(invoice)[-1].changes["to"] == "cancelled"


@pytest.mark.parametrize("setup_state", ["submitted", "confirmed"])
def test_provider_cannot_cancel_an_invoice_that_is_not_disputed(inv, client_user, invoice, setup_state):
    if setup_state == "confirmed":
        services.invoice_confirm(actor=client_user, invoice=invoice)
    rows = len(audit_rows(invoice))

    with pytest.raises(StateConflict):
        services.invoice_cancel(actor=inv.staff, invoice=invoice)

    assert reload(invoice).status == setup_state and len(audit_rows(invoice)) == rows


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("client_user", ActionNotAllowed),
        ("social_worker", ActionNotAllowed),
        ("finance_user", ActionNotAllowed),
        ("other_staff", NotVisible),
    ],
)
def test_only_the_invoicing_provider_cancels(request, inv, client_user, invoice, who, error):
    services.invoice_dispute(actor=client_user, invoice=invoice, reason="Wrong week.")
    person = inv.other_staff if who == "other_staff" else request.getfixturevalue(who)

    with pytest.raises(error):
        services.invoice_cancel(actor=person, invoice=invoice)

    assert reload(invoice).status == InvoiceStatus.DISPUTED


# --- Automatic confirmation --------------------------------------------------------------------


def test_invoices_waiting_fourteen_days_are_confirmed_automatically(inv, client_user):
    due = submit(inv, first=1, last=7)
    overdue = submit(inv, first=8, last=14)
    not_yet = submit(inv, first=15, last=21)
    disputed = submit(inv, first=22, last=28)
    services.invoice_dispute(actor=client_user, invoice=disputed, reason="No visits that week.")
    sent_on(due, today() - datetime.timedelta(days=14))
    sent_on(overdue, today() - datetime.timedelta(days=30))
    sent_on(not_yet, today() - datetime.timedelta(days=13))
    sent_on(disputed, today() - datetime.timedelta(days=60))

    assert services.invoices_auto_confirm(today=today()) == 2

    for invoice in (due, overdue):
        invoice = reload(invoice)
        assert invoice.status == InvoiceStatus.CONFIRMED
        assert invoice.confirmed_automatically is True
        assert invoice.decided_by is None and invoice.decided_at is not None
        [row] = [r for r in audit_rows(invoice) if r.action == AuditAction.TRANSITION]
        assert row.actor is None and row.actor_username == "auto-confirmation job"
        assert row.changes == {"from": "submitted", "to": "confirmed", "transition": "confirm"}
    assert reload(not_yet).status == InvoiceStatus.SUBMITTED
    assert reload(disputed).status == InvoiceStatus.DISPUTED


def test_running_auto_confirmation_twice_confirms_once(inv):
    invoices = [submit(inv, first=first, last=first + 6) for first in (1, 8, 15)]
    for invoice in invoices:
        sent_on(invoice, today() - datetime.timedelta(days=20))

    assert services.invoices_auto_confirm(today=today()) == 3
    audit_after_first = AuditEvent.objects.count()
    assert services.invoices_auto_confirm(today=today()) == 0

    assert AuditEvent.objects.count() == audit_after_first
    for invoice in invoices:
        assert len([r for r in audit_rows(invoice) if r.action == AuditAction.TRANSITION]) == 1


def test_auto_confirmation_days_are_configurable(inv):
    InvoicePolicy.objects.update_or_create(pk=1, defaults={"auto_confirm_days": 3})
    three = submit(inv, first=1, last=7)
    two = submit(inv, first=8, last=14)
    sent_on(three, today() - datetime.timedelta(days=3))
    sent_on(two, today() - datetime.timedelta(days=2))

    assert services.invoices_auto_confirm(today=today()) == 1

    assert reload(three).status == InvoiceStatus.CONFIRMED
    assert reload(two).status == InvoiceStatus.SUBMITTED


def test_auto_confirmation_counts_from_the_day_it_is_run_for(inv):
    invoice = submit(inv)

    assert services.invoices_auto_confirm(today=today() + datetime.timedelta(days=13)) == 0
    assert services.invoices_auto_confirm(today=today() + datetime.timedelta(days=14)) == 1
    assert reload(invoice).confirmed_automatically is True


def test_auto_confirmation_leaves_invoices_already_decided(inv, client_user):
    confirmed = submit(inv, first=1, last=7)
    services.invoice_confirm(actor=client_user, invoice=confirmed)
    sent_on(confirmed, today() - datetime.timedelta(days=30))

    assert services.invoices_auto_confirm(today=today()) == 0
    assert reload(confirmed).confirmed_automatically is False
    assert reload(confirmed).decided_by == client_user


def test_celery_task_confirms_due_invoices(inv):
    from payments import tasks

    invoice = submit(inv)
    sent_on(invoice, today() - datetime.timedelta(days=15))

    assert tasks.invoices_auto_confirm.delay().get() == 1
    assert reload(invoice).status == InvoiceStatus.CONFIRMED
    assert tasks.invoices_auto_confirm.delay().get() == 0


def test_beat_schedule_runs_auto_confirmation():
    from marketplace.celery import app
    from payments import tasks

    entries = [
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == tasks.invoices_auto_confirm.name
    ]
    assert len(entries) == 1
    assert tasks.invoices_auto_confirm.name in app.tasks

"""One error pattern everywhere: an error summary whose entries link to their fields
(`href="#id_field"`), the message again by the field, plain English instead of Django's default
wording; the dispute form and hiding a review without a reason follow it too."""

# ruff: noqa: F811  (pytest fixtures imported from tests/approvals/conftest.py, requested by name)

import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.template.loader import render_to_string

from approvals import services as workflow
from approvals.services import CHECKLIST
from marketplace.models import Review
from marketplace.services import review_create
from payments.models import Invoice, InvoiceStatus
from tests.approvals.conftest import budget, draft_plan, make_budget, make_plan, make_provider, make_service, visits  # noqa: F401

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
FIELDS = re.compile(r'includes/(field|radios|checkboxes|date_input)\.html|<textarea|class="govuk-input')


class _Plain(forms.Form):
    reason = forms.CharField(label="Reason for the change", max_length=5)
    amount = forms.DecimalField(label="Amount")
    when = forms.DateField(label="Start date")
    choice = forms.ChoiceField(label="Kind of support", choices=[("a", "A")], widget=forms.RadioSelect)
    own = forms.CharField(label="Own", error_messages={"required": "Say something of your own"})


def test_djangos_default_wording_becomes_plain_english_in_the_summary_and_by_the_field():
    form = _Plain({"reason": "far too long", "amount": "lots", "when": "31/02", "choice": "z"})
    assert not form.is_valid()
    summary = render_to_string("includes/error_summary.html", {"form": form})
    by_field = "".join(
        render_to_string("includes/field.html", {"field": form[name]}) for name in ("reason", "amount", "when", "own")
    ) + render_to_string("includes/radios.html", {"field": form["choice"]})
    for message, anchor in [
        ("Reason for the change must be 5 characters or fewer", "id_reason"),
        ("Amount must be a number", "id_amount"),
        ("Start date must be a real date", "id_when"),
        ("Choose kind of support from the list", "id_choice_0"),
        ("Say something of your own", "id_own"),
    ]:
        assert f'<a href="#{anchor}">{message}</a>' in summary
        assert message in by_field
    for default in ("This field is required", "Enter a number", "Ensure this value", "Enter a valid date"):
        assert default not in summary + by_field
    assert 'data-module="govuk-error-summary"' in summary


def test_a_required_field_left_empty_says_enter_and_names_it():
    form = _Plain({})
    form.is_valid()
    summary = render_to_string("includes/error_summary.html", {"form": form})
    assert '<a href="#id_reason">Enter reason for the change</a>' in summary
    assert '<a href="#id_choice_0">Select kind of support</a>' in summary


# Lists with a small form on each row: a refusal is shown on a page of its own that has the
# pattern (the form again, its error by the box and in the summary). Partials: the pages including them.
ERRORS_SHOWN_ON = {
    "marketplace/moderation.html": ["marketplace/review_hide.html"],
    "marketplace/provider.html": ["marketplace/review_answer.html"],
    "marketplace/quality.html": ["providers/provider_manage.html"],
    "approvals/statutory_reviews.html": ["approvals/statutory_review_done.html"],
    "careplans/_line_form.html": ["careplans/line_add.html", "careplans/line_change.html"],
    "payments/_recovery.html": ["payments/direct_payment.html"],
    # The plan's workflow buttons take optional comments; what refuses them is the plan's state,
    # not a box, so the summary names the problem without a link (GOV.UK: errors not about a field).
    "approvals/plan_detail.html": [],
}


def test_every_template_with_a_form_field_shows_errors_through_the_shared_summary():
    """A page that asks for typed input includes `includes/error_summary.html` (or its refusals are
    shown on a page that does), so its errors link to their fields."""
    missing = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if "includes" in path.parts:
            continue
        name = str(path.relative_to(TEMPLATES))
        text = path.read_text(encoding="utf-8")
        if not FIELDS.search(text) or "includes/error_summary.html" in text or 'method="get"' in text:
            continue
        shown_on = ERRORS_SHOWN_ON.get(name)
        if shown_on is None or any(
            "includes/error_summary.html" not in (TEMPLATES / other).read_text(encoding="utf-8") for other in shown_on
        ):
            missing.append(name)
    assert missing == [], f"templates asking for input without the shared error summary: {missing}"


@pytest.fixture
def approved_plan(draft_plan, client_user, social_worker):
    workflow.plan_submit(actor=client_user, plan=draft_plan)
    workflow.plan_start_review(actor=social_worker, plan=draft_plan)
    return workflow.plan_approve(actor=social_worker, plan=draft_plan, checklist=dict.fromkeys(CHECKLIST, True))


def test_disputing_an_invoice_without_a_reason_links_to_the_box_and_says_so_beside_it(
    client, client_user, approved_plan, provider_user
):
    from decimal import Decimal

    from django.utils import timezone

    from payments import services as payment_services
    from tests import factories

    line = approved_plan.lines.get()
    staff = factories.ProviderStaffFactory(provider=line.provider)
    day = min(line.start, timezone.localdate())
    invoice = payment_services.invoice_submit(
        actor=staff, line=line, period_start=day, period_end=day, units=Decimal("0.25"), reference="INV-1"
    )
    client.force_login(client_user)
    response = client.post(f"/invoices/{invoice.pk}/dispute/", {"reason": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<a href="#dispute-reason">Say what is wrong with the invoice.</a>' in page
    assert 'id="dispute-reason-error"' in page
    assert 'aria-describedby="dispute-reason-hint dispute-reason-error"' in page
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.SUBMITTED


def test_hiding_a_review_without_a_reason_shows_the_form_with_its_error_not_a_banner(
    client, client_user, case_manager, approved_plan
):
    review = review_create(actor=client_user, provider=approved_plan.lines.get().provider, rating=4, text="Kind staff")
    client.force_login(case_manager)
    response = client.post(f"/quality/reviews/{review.pk}/hide/", {"reason": "  ", "next": "/quality/reviews/"})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<a href="#id_reason">Enter the reason for hiding the review</a>' in page
    assert 'id="id_reason-error"' in page
    assert "govuk-notification-banner" not in page
    assert not Review.objects.get(pk=review.pk).hidden
    ok = client.post(f"/quality/reviews/{review.pk}/hide/", {"reason": "Names a carer", "next": "/quality/reviews/"})
    assert ok.status_code == 302 and ok["Location"] == "/quality/reviews/"
    assert Review.objects.get(pk=review.pk).hidden


def test_an_empty_answer_to_a_review_shows_the_box_again_with_its_error(client, client_user, approved_plan):
    from tests import factories

    provider = approved_plan.lines.get().provider
    review = review_create(actor=client_user, provider=provider, rating=3, text="Fine")
    client.force_login(factories.ProviderStaffFactory(provider=provider))
    response = client.post(f"/reviews/{review.pk}/answer/", {"text": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<a href="#id_text">Enter your answer to the review</a>' in page
    assert 'id="id_text-error"' in page
    assert Review.objects.get(pk=review.pk).answer == ""

"""What-if re-pricing from the web: an administrator starts a draft version from the published
scheme, changes its prices and bands on a GOV.UK form, runs the what-if (the background job,
eager in tests) and publishes it; the published version never changes."""

# ruff: noqa: F811  (pytest fixtures imported from tests/budgets/conftest.py, requested by name)

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from budgets.models import Assessment, RasScheme, SchemeStatus, WhatIfRun, WhatIfStatus
from budgets.ras import compile_scheme, price_amount
from budgets.selectors import active_scheme
from budgets.services.schemes import scheme_draft_from, scheme_export
from tests import factories
from tests.budgets.conftest import make_budget, scheme  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return factories.AdminFactory()


def _prices(scheme, **changes):
    data = {
        "effective_from": timezone.localdate().isoformat(),
        "price_per_point": f"{scheme.price_per_point.amount:.2f}",
        "min_budget": f"{scheme.min_budget.amount:.2f}",
        "max_budget": f"{scheme.max_budget.amount:.2f}",
    }
    for n, band in enumerate(scheme.bands.all(), start=1):
        data[f"band_{n}_up_to"] = "" if band.up_to_points is None else str(band.up_to_points)
        data[f"band_{n}_price"] = f"{band.price_per_point.amount:.2f}"
    data.update(changes)
    return data


def test_administrator_drafts_reprices_runs_a_whatif_and_publishes(
    client, admin_user, scheme, make_budget, django_capture_on_commit_callbacks
):
    make_budget(factories.ClientFactory(), "5000.00")
    published_before = scheme_export(scheme=scheme)
    client.force_login(admin_user)

    page = client.get("/ras/").content.decode()
    assert f'action="/ras/{scheme.pk}/new-version/"' in page
    response = client.post(f"/ras/{scheme.pk}/new-version/")
    draft = RasScheme.objects.get(name=scheme.name, status=SchemeStatus.DRAFT)
    assert draft.version == scheme.version + 1
    assert response["Location"] == f"/ras/{draft.pk}/edit/"
    assert draft.questions.count() == scheme.questions.count()

    form = client.get(f"/ras/{draft.pk}/edit/").content.decode()
    assert 'name="price_per_point"' in form and 'name="band_1_price"' in form

    doubled = {
        f"band_{n}_price": f"{band.price_per_point.amount * 2:.2f}" for n, band in enumerate(draft.bands.all(), 1)
    }
    response = client.post(
        f"/ras/{draft.pk}/edit/",
        _prices(draft, price_per_point=f"{draft.price_per_point.amount * 2:.2f}", **doubled),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.price_per_point.amount == scheme.price_per_point.amount * 2
    assert AuditEvent.objects.filter(target_id=str(draft.pk), action="update").exists()

    with django_capture_on_commit_callbacks(execute=True):  # the job, queued on commit, runs eagerly
        client.post(f"/ras/{draft.pk}/what-if/")
    run = WhatIfRun.objects.get(scheme=draft)
    assert run.status == WhatIfStatus.DONE
    assert run.summary["priced"] == 1
    # The run priced the client's answers with the prices just saved, not the published ones.
    assessment = Assessment.objects.get()
    proposed = price_amount(compile_scheme(draft), assessment.answers, assessment.modifiers)
    assert proposed != price_amount(compile_scheme(scheme), assessment.answers, assessment.modifiers)
    assert f",{proposed:.2f}," in run.csv_file.open("rb").read().decode()
    assert client.get(f"/ras/what-if/{run.pk}/clients.csv").status_code == 200

    response = client.post(f"/ras/{draft.pk}/publish/", follow=True)
    draft.refresh_from_db()
    assert draft.status == SchemeStatus.PUBLISHED
    assert "is published" in response.content.decode()
    assert active_scheme().pk == draft.pk
    assert scheme_export(scheme=RasScheme.objects.get(pk=scheme.pk)) == published_before


def test_a_second_new_version_opens_the_draft_already_started(client, admin_user, scheme):
    client.force_login(admin_user)
    first = client.post(f"/ras/{scheme.pk}/new-version/")["Location"]
    second = client.post(f"/ras/{scheme.pk}/new-version/")["Location"]
    assert first == second
    assert RasScheme.objects.filter(status=SchemeStatus.DRAFT).count() == 1


def test_nonsense_prices_show_each_error_by_its_field_and_save_nothing(client, admin_user, scheme):
    draft = scheme_draft_from(actor=admin_user, scheme=scheme)
    before = scheme_export(scheme=draft)
    client.force_login(admin_user)
    response = client.post(
        f"/ras/{draft.pk}/edit/",
        _prices(draft, price_per_point="abc", max_budget="1.00", band_1_price="0"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert '<a href="#id_price_per_point">Enter a price per point, like 250.00</a>' in page
    assert '<a href="#id_band_1_price">Band 1&#x27;s price per point must be more than £0</a>' in page
    assert 'id="id_price_per_point-error"' in page
    assert scheme_export(scheme=RasScheme.objects.get(pk=draft.pk)) == before


def test_maximum_below_minimum_is_refused_by_the_service_on_its_field(client, admin_user, scheme):
    draft = scheme_draft_from(actor=admin_user, scheme=scheme)
    client.force_login(admin_user)
    response = client.post(f"/ras/{draft.pk}/edit/", _prices(draft, min_budget="5000.00", max_budget="100.00"))
    assert response.status_code == 400
    assert '<a href="#id_max_budget">Enter a maximum budget that is not less than the minimum</a>' in (
        response.content.decode()
    )


def test_a_published_version_cannot_be_edited(client, admin_user, scheme):
    client.force_login(admin_user)
    response = client.post(f"/ras/{scheme.pk}/edit/", _prices(scheme, price_per_point="1.00"))
    assert response.status_code == 302
    assert RasScheme.objects.get(pk=scheme.pk).price_per_point == scheme.price_per_point


@pytest.mark.parametrize("path", ["/ras/{pk}/new-version/", "/ras/{pk}/edit/", "/ras/{pk}/publish/"])
def test_only_administrators_may_reprice(client, scheme, path, finance_user):
    client.force_login(finance_user)
    assert client.post(path.format(pk=scheme.pk)).status_code == 403
    assert not RasScheme.objects.filter(status=SchemeStatus.DRAFT).exists()


def test_the_draft_takes_effect_today_unless_changed(admin_user, scheme):
    draft = scheme_draft_from(actor=admin_user, scheme=scheme)
    assert draft.effective_from == max(timezone.localdate(), scheme.effective_from)
    assert draft.effective_from >= datetime.date(2000, 1, 1)
    assert Decimal(draft.price_per_point.amount) == scheme.price_per_point.amount

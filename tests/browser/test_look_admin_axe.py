"""axe-core on the parts of Django's admin and the API docs that Cairn controls: the RAS scheme's
money fields and inline rows have accessible names, list filter links are big enough to hit (WCAG
2.2 target size), breadcrumb links are underlined, and the API docs page declares its language."""

from __future__ import annotations

import json

import pytest
from django.db.models import Max
from django.utils import timezone

from tests.factories import PASSWORD, AdminFactory, ProviderFactory

from .test_axe_pages import axe_page, axe_source, axe_violations  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_signed_in(axe_page, live_server):  # noqa: F811
    admin = AdminFactory()
    page = axe_page
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)
    return page, admin


def _draft_scheme(example_scheme, admin):
    from budgets.models import RasScheme
    from budgets.services.schemes import scheme_export, scheme_import

    data = scheme_export(scheme=example_scheme)
    data["version"] = RasScheme.objects.filter(name=example_scheme.name).aggregate(v=Max("version"))["v"] + 1
    data["effective_from"] = max(timezone.localdate(), example_scheme.effective_from)
    return scheme_import(actor=admin, text=json.dumps(data, default=str))


def _check(page, axe_source, path):  # noqa: F811
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    return axe_violations(page, axe_source)


def test_a_draft_ras_scheme_in_the_admin_passes_axe(admin_signed_in, axe_source, example_scheme):  # noqa: F811
    page, admin = admin_signed_in
    draft = _draft_scheme(example_scheme, admin)
    violations = _check(page, axe_source, f"/admin/budgets/rasscheme/{draft.pk}/change/")
    assert violations == [], json.dumps(violations, indent=2)
    # The money fields' two parts are named apart.
    assert page.get_attribute("#id_price_per_point_1", "aria-label") == "Price per point: currency"


def test_list_filters_and_breadcrumbs_in_the_admin_pass_axe(admin_signed_in, axe_source):  # noqa: F811
    page, _admin = admin_signed_in
    ProviderFactory()
    for path in ["/admin/providers/provider/", "/admin/providers/provider/?status__exact=pending"]:
        violations = _check(page, axe_source, path)
        assert violations == [], (path, json.dumps(violations, indent=2))
    box = page.locator("#changelist-filter li a").first.bounding_box()
    assert box["height"] >= 24 and box["width"] >= 24


def test_the_api_docs_page_declares_its_language(admin_signed_in, axe_source):  # noqa: F811
    page, _admin = admin_signed_in
    page.goto("/api/v1/docs/")
    assert page.get_attribute("html", "lang") == "en-GB"
    rules = {v["rule"] for v in axe_violations(page, axe_source)}
    assert "html-has-lang" not in rules

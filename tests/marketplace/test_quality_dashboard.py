"""The case manager's quality dashboard and review moderation pages (PRODUCT.md §7): who may see
them; falling, low-rated and regulator-disagreeing providers against a fixture worked out by hand;
what each provider has been paid; suspending from the dashboard; hiding and restoring reviews."""

# ruff: noqa: F811  (pytest fixtures imported from other test modules, requested by name)

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent, Role
from marketplace import selectors
from marketplace.models import Review
from marketplace.services import rating_policy, review_hide
from payments.models import Payment, PaymentStatus
from providers.models import Provider, ProviderStatus
from tests import factories
from tests.careplans.conftest import make_budget, make_provider, make_service  # noqa: F401
from tests.marketplace.review_fixtures import (
    DASHBOARD,
    build_dashboard,
    days_ago,
    plan_with,
    reload,
    review,
    set_policy,
)
from tests.payments.payment_fixtures import pay_world, run_payments  # noqa: F401

pytestmark = pytest.mark.django_db

FORBIDDEN = [Role.CLIENT, Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.PROVIDER, Role.FINANCE]
PAGES = ["/quality/", "/quality/reviews/"]


@pytest.fixture
def dashboard(make_budget, make_provider, make_service):
    """DASHBOARD's eight providers and their reviews (see review_fixtures.py), default policy."""
    return build_dashboard(make_budget=make_budget, make_provider=make_provider, make_service=make_service)


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def names(rows) -> list[str]:
    return [row["name"] if isinstance(row, dict) else row.name for row in rows]


def section(response, heading: str) -> str:
    """The dashboard's text under one `<h2>` heading, up to the next."""
    parts = re.split(r'<h2 class="govuk-heading-m">', response.content.decode())
    for part in parts[1:]:
        title, _, rest = part.partition("</h2>")
        if title.strip() == heading:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rest))
    raise AssertionError(f"no section {heading!r}")


# --- who may see them --------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_case_managers_see_the_dashboard_and_the_moderation_list(web_as, case_manager, url):
    response = web_as(case_manager).get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", FORBIDDEN)
def test_other_roles_may_not_see_them(web_as, request, role, url):
    person = request.getfixturevalue(factories.ROLE_FIXTURES[role])
    assert web_as(person).get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_signed_out_people_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/sign-in/?next={url}"


# --- the dashboard's rules ---------------------------------------------------------------------


def test_every_stored_score_matches_the_hand_computed_one(dashboard):
    # Every visible review: 184 stars over 53 reviews, so m = 184/53 = 3.4717…; C = 5.
    assert (sum(dashboard.everyone()), len(dashboard.everyone())) == (184, 53)
    expected = {
        "Falling Care": "3.95",  # (5m + 30)/12
        "Steady Care": "3.95",  # (5m + 34)/13
        "Thin Recent Care": "3.84",  # (5m + 21)/10
        "Thin Before Care": "3.64",  # (5m + 19)/10
        "Poor Care": "2.03",  # (5m + 8)/13
        "Surprising Care": "4.41",  # (5m + 40)/13
        "Honest Care": "2.76",  # (5m + 13)/11
        "Middling Care": "3.21",  # (5m + 18)/11
    }
    for name, value in expected.items():
        provider = dashboard.provider(name)
        assert provider.rating == Decimal(value) == dashboard.score(name), name
        assert provider.review_count == len(dashboard.ratings(name)), name


def test_falling_providers_are_those_down_half_a_star_with_three_reviews_in_each_window(dashboard):
    falling = selectors.falling_providers(rating_policy())
    # Falling Care 4.50 → 4.00 (exactly 0.5). Not: Steady Care (a 0.4 fall), Thin Recent Care (two
    # recent reviews), Thin Before Care (two earlier reviews).
    assert falling == [
        {
            "provider_id": dashboard.providers["Falling Care"].pk,
            "name": "Falling Care",
            "recent": Decimal("4.00"),
            "before": Decimal("4.50"),
            "recent_n": 3,
            "before_n": 4,
        }
    ]


def test_the_dashboard_lists_falling_low_rated_and_disagreeing_providers(dashboard, web_as, case_manager):
    response = web_as(case_manager).get("/quality/")
    assert response.status_code == 200
    assert names(response.context["falling"]) == ["Falling Care"]
    assert names(response.context["low"]) == ["Poor Care"]  # 2.03, the only score under 2.50
    # Poor Care: regulator Good, clients 2.03 (< 3); Surprising Care: regulator Inadequate, clients 4.41 (> 4).
    # Not Honest Care (Inadequate, 2.76), Falling Care (Good, 3.95), Steady Care (Outstanding, 3.95).
    assert names(response.context["disagreements"]) == ["Poor Care", "Surprising Care"]
    # Every reviewed provider, lowest score first, so the worst are at the top.
    assert [p.name for p in response.context["by_score"]][:3] == ["Poor Care", "Honest Care", "Middling Care"]
    assert len(response.context["by_score"]) == len(DASHBOARD)

    falling = section(response, "Falling")
    assert "Falling Care : 4.50 → 4.00 (4 then 3 reviews)" in falling
    assert "Steady Care" not in falling
    assert "Poor Care : 2.03 from 8 reviews (verified)" in section(response, "Low rated")
    disagree = section(response, "Clients and the regulator disagree")
    assert "Poor Care : regulator Good, clients 2.03" in disagree
    assert "Surprising Care : regulator Inadequate, clients 4.41" in disagree
    assert "Honest Care" not in disagree


def test_a_hidden_review_leaves_the_falling_count(dashboard, case_manager):
    recent = dashboard.reviews["Falling Care"][-1]
    review_hide(actor=case_manager, review=recent, reason="Not about this provider.")
    assert selectors.falling_providers(rating_policy()) == []


def test_reviews_older_than_180_days_are_not_in_either_window(dashboard):
    # Move Falling Care's earlier reviews back beyond the two windows: there is nothing to compare.
    earlier = [r.pk for r in dashboard.reviews["Falling Care"][:4]]
    Review.objects.filter(pk__in=earlier).update(created_at=days_ago(181))
    assert selectors.falling_providers(rating_policy()) == []


def test_the_falling_rule_follows_the_policy(dashboard):
    set_policy(falling_drop=Decimal("0.40"))
    assert names(selectors.falling_providers(rating_policy())) == ["Falling Care", "Steady Care"]
    set_policy(falling_drop=Decimal("0.50"), falling_min_reviews=2)
    # Sorted by the size of the fall, largest first (both thin ones fall by 2 stars; Falling Care by 0.5).
    found = names(selectors.falling_providers(rating_policy()))
    assert sorted(found[:2]) == ["Thin Before Care", "Thin Recent Care"]
    assert found[2:] == ["Falling Care"]


def test_the_low_rating_threshold_follows_the_policy(dashboard):
    set_policy(low_rating_threshold=Decimal("2.80"))
    assert names(selectors.low_rated(rating_policy())) == ["Poor Care", "Honest Care"]
    set_policy(low_rating_threshold=Decimal("2.03"))
    assert names(selectors.low_rated(rating_policy())) == []


def test_providers_without_reviews_are_never_flagged(dashboard, make_provider):
    make_provider(name="Unreviewed Good Care", regulator_rating="good")
    make_provider(name="Unreviewed Inadequate Care", regulator_rating="inadequate")
    assert "Unreviewed Good Care" not in names(selectors.regulator_disagreements())
    assert "Unreviewed Inadequate Care" not in names(selectors.regulator_disagreements())
    assert not any(p.name.startswith("Unreviewed") for p in selectors.low_rated(rating_policy()))
    assert not any(p.name.startswith("Unreviewed") for p in selectors.providers_by_score())


def test_the_dashboard_keeps_its_query_count_as_providers_are_added(
    dashboard, web_as, case_manager, make_budget, make_provider, make_service
):
    web = web_as(case_manager)
    with CaptureQueriesContext(connection) as before:
        assert web.get("/quality/").status_code == 200
    extra = [make_service(f"Visits {n}", "20.00", provider=make_provider(name=f"More Care {n}")) for n in range(10)]
    plan_with(make_budget, dashboard.clients[0], dashboard.social_worker, extra)
    for n, service in enumerate(extra):
        review(dashboard.clients[0], service.provider, 1 + n % 5)
    with CaptureQueriesContext(connection) as after:
        assert web.get("/quality/").status_code == 200
    assert len(after) == len(before)


# --- spend beside each provider ----------------------------------------------------------------


def test_the_dashboard_shows_what_each_provider_has_been_paid(pay_world, run_payments, web_as, case_manager):
    brightside, riverside = pay_world.brightside, pay_world.riverside
    pay_world.invoices(2, brightside)  # 2 × £24.50
    pay_world.invoice(riverside)  # £31.00
    run = run_payments()
    assert Payment.objects.filter(run=run, status=PaymentStatus.PAID).count() == 3
    # Confirmed after the run, so not yet paid: it does not count.
    pay_world.invoice(brightside)
    review(pay_world.client, brightside, 4)
    review(pay_world.client, riverside, 2)

    assert selectors.spend_by_provider() == {brightside.pk: Decimal("49.00"), riverside.pk: Decimal("31.00")}
    response = web_as(case_manager).get("/quality/")
    spend = {p.name: p.spend for p in response.context["by_score"]}
    assert spend == {"Brightside Care": Decimal("49.00"), "Riverside Centre": Decimal("31.00")}
    rows = section(response, "Providers by score")
    # Riverside: m = (4 + 2)/2 = 3, (5·3 + 2)/6 = 2.83; Brightside, reviewed first: 4.00.
    assert "Riverside Centre (verified) 2.83 1 Not yet rated £31.00" in rows
    assert "Brightside Care (verified) 4.00 1 Not yet rated £49.00" in rows


def test_a_provider_paid_nothing_shows_a_dash(pay_world, web_as, case_manager):
    review(pay_world.client, pay_world.brightside, 4)
    response = web_as(case_manager).get("/quality/")
    assert [(p.name, p.spend) for p in response.context["by_score"]] == [("Brightside Care", None)]
    assert "£" not in section(response, "Providers by score")


def test_only_paid_payments_count_as_spend(pay_world, run_payments):
    pay_world.invoices(2, pay_world.brightside)
    run_payments()
    first, second = Payment.objects.filter(provider=pay_world.brightside).order_by("pk")
    # A payment that failed is not money the provider has had.
    Payment.objects.filter(pk=second.pk).update(status=PaymentStatus.FAILED)
    assert selectors.spend_by_provider() == {pay_world.brightside.pk: first.amount.amount}


# --- suspending from the dashboard -------------------------------------------------------------


def suspend_form(text_html: str, provider: Provider) -> re.Match | None:
    return re.search(
        rf'<form method="post" action="/providers/{provider.pk}/manage/"[^>]*>'
        r'.*?name="action" value="suspend".*?</form>',
        text_html,
        re.S,
    )


def test_a_case_manager_suspends_a_provider_from_the_dashboard(dashboard, web_as, case_manager, api_as):
    poor = dashboard.provider("Poor Care")
    web = web_as(case_manager)
    html = web.get("/quality/").content.decode()
    assert suspend_form(html, poor), "the dashboard offers to suspend a verified provider"

    response = web.post(f"/providers/{poor.pk}/manage/", {"action": "suspend", "reason": "Scores keep falling."})
    assert response.status_code == 302
    assert response["Location"] == f"/providers/{poor.pk}/manage/"
    poor = reload(poor)
    assert poor.status == ProviderStatus.SUSPENDED
    assert poor.status_reason == "Scores keep falling."
    assert AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(Provider), target_id=str(poor.pk), actor=case_manager
    ).exists()

    # Still on the dashboard (its reviews still count), marked suspended, with no suspend form.
    response = web.get("/quality/")
    assert "Poor Care (suspended)" in page_text(response)
    assert not suspend_form(response.content.decode(), poor)
    # And out of the catalogue.
    titles = [s["title"] for s in api_as(dashboard.clients[0]).get("/api/v1/services/").json()["results"]]
    assert "Visits by Poor Care" not in titles


def test_suspending_from_the_dashboard_needs_a_reason(dashboard, web_as, case_manager):
    poor = dashboard.provider("Poor Care")
    response = web_as(case_manager).post(f"/providers/{poor.pk}/manage/", {"action": "suspend", "reason": ""})
    assert response.status_code == 400
    assert reload(poor).status == ProviderStatus.VERIFIED


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SOCIAL_WORKER, Role.PROVIDER, Role.FINANCE])
def test_other_roles_cannot_suspend(dashboard, web_as, request, role):
    poor = dashboard.provider("Poor Care")
    person = request.getfixturevalue(factories.ROLE_FIXTURES[role])
    response = web_as(person).post(f"/providers/{poor.pk}/manage/", {"action": "suspend", "reason": "No"})
    assert response.status_code in {403, 404}
    assert reload(poor).status == ProviderStatus.VERIFIED


# --- the moderation page -----------------------------------------------------------------------


def test_the_moderation_page_lists_every_review_newest_first_with_its_author(dashboard, web_as, case_manager):
    response = web_as(case_manager).get("/quality/reviews/")
    shown = list(response.context["reviews"])
    assert len(shown) == 50  # a page of 50, of the 53
    assert [r.created_at for r in shown] == sorted((r.created_at for r in shown), reverse=True)
    text = page_text(response)
    assert "by Client 1" in text
    assert response.context["page_obj"].paginator.count == 53


def test_a_case_manager_hides_and_restores_a_review_from_the_moderation_page(dashboard, web_as, case_manager):
    poor_one = dashboard.reviews["Poor Care"][-1]
    web = web_as(case_manager)
    before = dashboard.provider("Poor Care").rating

    response = web.post(
        f"/quality/reviews/{poor_one.pk}/hide/", {"reason": "Written about another provider.", "next": "/quality/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/quality/"
    hidden = reload(poor_one)
    assert (hidden.hidden, hidden.hidden_reason, hidden.hidden_by) == (
        True,
        "Written about another provider.",
        case_manager,
    )
    assert dashboard.provider("Poor Care").review_count == 7
    assert dashboard.provider("Poor Care").rating != before

    listing = web.get("/quality/reviews/?show=hidden")
    assert [r.pk for r in listing.context["reviews"]] == [poor_one.pk]
    text = page_text(listing)
    assert "Hidden by Casey Brown" in text
    assert "Written about another provider." in text

    response = web.post(f"/quality/reviews/{poor_one.pk}/restore/", {"next": "/quality/reviews/?show=hidden"})
    assert response.status_code == 302
    assert response["Location"] == "/quality/reviews/?show=hidden"
    assert reload(poor_one).hidden is False
    assert dashboard.provider("Poor Care").rating == before
    assert "shown again" in page_text(web.get(response["Location"]))


def test_the_moderation_page_redirects_to_itself_without_next(dashboard, web_as, case_manager):
    target = dashboard.reviews["Middling Care"][0]
    response = web_as(case_manager).post(f"/quality/reviews/{target.pk}/hide/", {"reason": "Abusive."})
    assert response.status_code == 302
    assert response["Location"] == "/quality/reviews/"


def test_hiding_from_the_page_without_a_reason_changes_nothing_and_says_why(dashboard, web_as, case_manager):
    target = dashboard.reviews["Middling Care"][0]
    web = web_as(case_manager)
    response = web.post(f"/quality/reviews/{target.pk}/hide/", {"reason": "  "}, follow=True)
    assert response.status_code == 400  # the form again, with the error by the reason box
    assert "Enter the reason for hiding the review" in page_text(response)
    assert reload(target).hidden is False


def test_restoring_a_visible_review_from_the_page_says_it_is_not_hidden(dashboard, web_as, case_manager):
    target = dashboard.reviews["Middling Care"][0]
    response = web_as(case_manager).post(f"/quality/reviews/{target.pk}/restore/", follow=True)
    assert "This review is not hidden." in page_text(response)
    assert reload(target).hidden is False


def test_an_unknown_moderation_action_or_review_is_404(dashboard, web_as, case_manager):
    target = dashboard.reviews["Middling Care"][0]
    web = web_as(case_manager)
    assert web.post(f"/quality/reviews/{target.pk}/delete/", {"reason": "x"}).status_code == 404
    assert web.post("/quality/reviews/999999/hide/", {"reason": "x"}).status_code == 404
    assert reload(target).hidden is False


@pytest.mark.parametrize("role", FORBIDDEN)
def test_other_roles_cannot_moderate_from_the_page(dashboard, web_as, request, role):
    target = dashboard.reviews["Middling Care"][0]
    person = request.getfixturevalue(factories.ROLE_FIXTURES[role])
    response = web_as(person).post(f"/quality/reviews/{target.pk}/hide/", {"reason": "Mine to hide"})
    assert response.status_code == 403
    assert reload(target).hidden is False


@pytest.mark.parametrize("elsewhere", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"])
def test_the_moderation_redirect_stays_on_this_site(dashboard, web_as, case_manager, elsewhere):
    target = dashboard.reviews["Middling Care"][0]
    response = web_as(case_manager).post(
        f"/quality/reviews/{target.pk}/hide/", {"reason": "Abusive.", "next": elsewhere}
    )
    assert response.status_code == 302
    assert response["Location"] == "/quality/reviews/"
    assert reload(target).hidden is True

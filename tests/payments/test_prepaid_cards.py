"""Prepaid cards (Stripe Issuing) for a direct payment: the holder gets a card with the policy's
blocked merchant categories; each load tops up the council's Issuing balance (once, looked up
after a lost answer) and raises the card's all-time limit to what the account may spend; card
payments come back by signed webhook and each becomes one spending record, whatever the order or
number of deliveries; the holder adds what it was for and the receipt; a recovery lowers the limit."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from budgets.models import AccountKind, LedgerAccount
from payments import selectors
from payments.models import FundPolicy, LoadStatus, PaymentStatus, PrepaidCard, RecoveryPart, Spending, StripeEvent
from tests.payments.payment_fixtures import stripe_payments, worker_retries  # noqa: F401
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401
from tests.sample_files import PDF_BYTES
from tests.stripe_fake.fixtures import stripe_fake, stripe_fake_server  # noqa: F401
from tests.stripe_fake.server import TEST_WEBHOOK_SECRET

WEBHOOK = "/api/v1/webhooks/stripe/"
ADDRESS = {"line1": "1 High Street", "city": "Leeds", "postal_code": "LS1 1AA"}


def card_url(account) -> str:
    return f"/api/v1/budgets/{account.budget_id}/direct-payment/card/"


def spending_url(account, sid=None) -> str:
    tail = f"{sid}/" if sid else ""
    return f"/api/v1/budgets/{account.budget_id}/direct-payment/spending/{tail}"


@pytest.fixture
def cards(stripe_payments):
    FundPolicy.objects.update_or_create(pk=1, defaults={"prepaid_cards": True})
    stripe_payments.hold_webhooks = True
    return stripe_payments


@pytest.fixture
def carded(dp, cards, api_as, run_payments, django_capture_on_commit_callbacks):
    """Ruth's direct payment on a card, with its two due loads (£1,160.00) paid onto it."""
    with django_capture_on_commit_callbacks(execute=True):
        assert api_as(dp.holder).post(card_url(dp), ADDRESS, format="json").status_code == 201
        run_payments()
    dp.refresh_from_db()
    return dp


def deliver(client, event: dict):
    payload = json.dumps(event)
    return client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=f"{_sign(payload)}")


def _sign(payload: str) -> str:
    from tests.stripe_fake.server import sign

    return sign(payload, TEST_WEBHOOK_SECRET)


def held(fake, kind: str) -> list[dict]:
    return [event for event in fake.held_events if event["type"] == kind]


def test_the_holder_gets_a_card_with_the_policys_blocked_categories(
    dp, cards, api_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(dp.holder).post(card_url(dp), ADDRESS, format="json")

    assert response.status_code == 201, response.json()
    card = PrepaidCard.objects.get(fund=dp)
    assert response.json()["card"] == {
        "last4": card.last4,
        "active": True,
        "limit": {"amount": "0.00", "currency": "GBP"},
    }
    at_stripe = cards.get_card(card.card_id)
    assert "betting_casino_gambling" in at_stripe["spending_controls"]["blocked_categories"]
    assert [(x["amount"], x["interval"]) for x in at_stripe["spending_controls"]["spending_limits"]] == [
        (0, "all_time")
    ]
    again = api_as(dp.holder).post(card_url(dp), ADDRESS, format="json")
    assert again.status_code == 409 and PrepaidCard.objects.count() == 1 and len(cards.cards()) == 1


def test_no_card_where_the_council_issues_none_or_for_bad_input(dp, stripe_payments, api_as, social_worker):
    assert api_as(dp.holder).post(card_url(dp), ADDRESS, format="json").status_code == 409
    FundPolicy.objects.update_or_create(pk=1, defaults={"prepaid_cards": True})
    bad = api_as(dp.holder).post(card_url(dp), {**ADDRESS, "postal_code": ""}, format="json")
    assert bad.status_code == 400 and "postal_code" in bad.json()
    assert api_as(social_worker).post(card_url(dp), ADDRESS, format="json").status_code == 403
    assert not PrepaidCard.objects.exists() and stripe_payments.cards() == []


def test_loads_top_up_the_issuing_balance_once_and_raise_the_cards_limit(carded, cards):
    topups = cards.topups()
    assert len(topups) == 2 and {t["destination_balance"] for t in topups} == {"issuing"}
    assert sum(t["amount"] for t in topups) == 116000
    assert cards.requests_to("POST", "/v1/transfers") == []
    assert carded.loads.filter(status=LoadStatus.PAID).count() == 2
    card = PrepaidCard.objects.get(fund=carded)
    assert card.limit.amount == Decimal("1160.00")
    assert cards.get_card(card.card_id)["spending_controls"]["spending_limits"][0]["amount"] == 116000


def test_a_lost_top_up_answer_is_looked_up_not_sent_twice(
    dp, cards, api_as, run_payments, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api_as(dp.holder).post(card_url(dp), ADDRESS, format="json")
    cards.fail_next("POST /v1/topups", "timeout")
    with django_capture_on_commit_callbacks(execute=True):
        run = run_payments()
    assert {p.status for p in run.payments.all()} == {PaymentStatus.PAID}
    assert len(cards.topups()) == 2


def test_card_payments_become_spending_once_whatever_the_order(carded, cards, client):
    card = PrepaidCard.objects.get(fund=carded)
    blocked = cards.authorize(card.card_id, 2000, category="betting_casino_gambling", merchant_name="Bet Shop")
    assert blocked["approved"] is False
    first = cards.authorize(card.card_id, 5800, category="grocery_stores_supermarkets", merchant_name="Corner Shop")
    second = cards.authorize(card.card_id, 4250, category="taxicabs_limousines", merchant_name="Town Taxis")
    cards.capture(first["id"])
    cards.capture(second["id"])
    captured = held(cards, "issuing_transaction.created")
    assert len(captured) == 2

    for event in [captured[1], captured[0], captured[1], captured[0]]:  # reordered, each twice
        assert deliver(client, event).status_code == 200

    spent = Spending.objects.filter(account=carded).order_by("amount")
    assert [(s.payee, s.amount.amount) for s in spent] == [
        ("Town Taxis", Decimal("42.50")),
        ("Corner Shop", Decimal("58.00")),
    ]
    assert all(s.card_transaction_id and s.recorded_by is None for s in spent)
    figures = selectors.fund_figures(carded)
    assert figures.balance.amount == Decimal("1059.50")
    held_account = LedgerAccount.objects.get(budget=carded.budget, kind=AccountKind.FUND_HELD)
    assert held_account.balance.amount == Decimal("1059.50")
    assert StripeEvent.objects.filter(type="issuing_transaction.created").count() == 2


def test_a_card_payment_over_the_limit_is_declined_at_the_till(carded, cards):
    card = PrepaidCard.objects.get(fund=carded)
    assert cards.authorize(card.card_id, 116001, category="grocery_stores_supermarkets")["approved"] is False
    assert cards.authorize(card.card_id, 116000, category="grocery_stores_supermarkets")["approved"] is True


def test_a_badly_signed_card_event_is_refused_and_stores_nothing(carded, cards, client):
    card = PrepaidCard.objects.get(fund=carded)
    cards.capture(cards.authorize(card.card_id, 1000, category="grocery_stores_supermarkets")["id"])
    event = held(cards, "issuing_transaction.created")[0]
    response = client.post(
        WEBHOOK, json.dumps(event), content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00"
    )
    assert response.status_code == 400
    assert not Spending.objects.exists() and not StripeEvent.objects.exists()


def test_the_holder_adds_what_a_card_payment_was_for_and_its_receipt(carded, cards, client, api_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    card = PrepaidCard.objects.get(fund=carded)
    cards.capture(cards.authorize(card.card_id, 5800, category="grocery_stores_supermarkets")["id"])
    deliver(client, held(cards, "issuing_transaction.created")[0])
    spending = Spending.objects.get()
    line = carded.loads.first().plan.lines.get()
    receipt = SimpleUploadedFile("r.pdf", PDF_BYTES, content_type="application/pdf")

    response = api_as(carded.holder).post(
        spending_url(carded, spending.pk),
        {"plan_line": line.pk, "description": "PA's shopping", "receipt": receipt},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["plan_line"] == line.pk and response.json()["has_receipt"] is True
    assert response.json()["by_card"] is True
    again = SimpleUploadedFile("r2.pdf", PDF_BYTES, content_type="application/pdf")
    assert (
        api_as(carded.holder)
        .post(spending_url(carded, spending.pk), {"receipt": again}, format="multipart")
        .status_code
        == 409
    )


def test_spending_by_hand_is_refused_once_the_money_is_on_a_card(carded, api_as):
    body = {"date": str(timezone.localdate()), "amount": {"amount": "5.00", "currency": "GBP"}, "payee": "Someone"}
    response = api_as(carded.holder).post(spending_url(carded), body, format="json")
    assert response.status_code == 409 and "prepaid card" in str(response.json())


def test_a_recovery_lowers_the_cards_limit_and_takes_nothing_back_by_transfer(
    carded, cards, api_as, finance_user, django_capture_on_commit_callbacks
):
    FundPolicy.objects.filter(pk=1).update(buffer_weeks=2)
    base = f"/api/v1/budgets/{carded.budget_id}/direct-payment/recoveries/"
    rid = api_as(finance_user).post(base, {"reason": "Unspent"}, format="json").json()["id"]
    api_as(carded.holder).post(f"{base}{rid}/accept/")
    with django_capture_on_commit_callbacks(execute=True):
        assert api_as(finance_user).post(f"{base}{rid}/complete/").status_code == 200

    card = PrepaidCard.objects.get(fund=carded)
    assert card.limit.amount == Decimal("290.00") and not RecoveryPart.objects.exists()
    assert cards.get_card(card.card_id)["spending_controls"]["spending_limits"][0]["amount"] == 29000
    assert cards.authorize(card.card_id, 29001, category="grocery_stores_supermarkets")["approved"] is False


def test_the_account_page_offers_the_card_and_then_links_card_payments_to_their_details(dp, cards, web_as, client):
    page = f"/budgets/{dp.budget_id}/direct-payment/"
    web = web_as(dp.holder)
    assert "Issue a prepaid card" in web.get(page).content.decode()
    empty = web.post(page, {"issue_card": "1", "line1": "", "city": "Leeds", "postal_code": "LS1 1AA"})
    assert empty.status_code == 400 and "Enter the first line of the address" in empty.content.decode()
    assert web.post(page, {"issue_card": "1", **ADDRESS}).status_code == 302
    shown = web.get(page).content.decode()
    assert "Prepaid card" in shown and "Record a payment you made" not in shown


def test_the_holder_adds_the_details_on_the_card_payments_page(carded, cards, client, web_as):
    card = PrepaidCard.objects.get(fund=carded)
    cards.capture(cards.authorize(card.card_id, 5800, category="grocery_stores_supermarkets")["id"])
    deliver(client, held(cards, "issuing_transaction.created")[0])
    spending = Spending.objects.get()
    line = carded.loads.first().plan.lines.get()
    page = f"/budgets/{carded.budget_id}/direct-payment/spending/{spending.pk}/"
    web = web_as(carded.holder)

    shown = web.get(page).content.decode()
    assert "What this card payment was for" in shown and "Date paid" not in shown

    assert web.post(page, {"line_id": line.pk, "description": "Shopping with my PA"}).status_code == 302
    spending.refresh_from_db()
    assert spending.line == line and spending.description == "Shopping with my PA"
    assert "Add what it was for" in web.get(f"/budgets/{carded.budget_id}/direct-payment/").content.decode()

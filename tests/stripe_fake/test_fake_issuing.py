"""Tests of the fake's Stripe Issuing (cardholders, cards, spending controls, test-mode authorizations
and transactions, the Issuing balance and their webhooks), through the real, unmodified `stripe` client."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
import stripe
from werkzeug.wrappers import Response

from tests.stripe_fake.server import TEST_WEBHOOK_SECRET, StripeFakeError

pytest_plugins = ["tests.stripe_fake.fixtures"]

ADDRESS = {"line1": "1 High Street", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"}


@pytest.fixture
def client(stripe_fake):
    return stripe_fake.client(api_key="sk_test_x", timeout=5.0)


@pytest.fixture
def holder(stripe_fake):
    return stripe_fake.create_cardholder(name="Sam Patel", email="sam@example.org", first_name="Sam", last_name="Patel")


@pytest.fixture
def card(stripe_fake, holder):
    return stripe_fake.create_card(holder["id"], metadata={"budget": "b-1"})


def cardholder_params(**extra):
    return {
        "type": "individual",
        "name": "Sam Patel",
        "email": "sam@example.org",
        "phone_number": "+447700900123",
        "billing": {"address": ADDRESS},
        "individual": {"first_name": "Sam", "last_name": "Patel"},
        "metadata": {"person": "p-7"},
        **extra,
    }


def authorization_params(card_id, amount, category="grocery_stores_supermarkets", **extra):
    return {
        "card": card_id,
        "amount": amount,
        "currency": "gbp",
        "merchant_data": {"category": category, "name": "Corner Shop", "city": "Leeds", "country": "GB"},
        **extra,
    }


def reason(authorization):
    return authorization["request_history"][-1]["reason"]


# --- cardholders ---------------------------------------------------------------------------------


def test_cardholder_create_idempotent_replay_and_idempotency_error(stripe_fake, client):
    first = client.v1.issuing.cardholders.create(cardholder_params(), options={"idempotency_key": "ch-1"})
    again = client.v1.issuing.cardholders.create(cardholder_params(), options={"idempotency_key": "ch-1"})
    assert first.id.startswith("ich_") and again.id == first.id
    assert first.to_dict() == again.to_dict()
    assert first.object == "issuing.cardholder"
    assert (first.type, first.name, first.email, first.phone_number, first.status) == (
        "individual",
        "Sam Patel",
        "sam@example.org",
        "+447700900123",
        "active",
    )
    assert first.billing.address.to_dict() == {**ADDRESS, "line2": None, "state": None}
    assert (first.individual.first_name, first.individual.last_name) == ("Sam", "Patel")
    assert first.metadata.to_dict() == {"person": "p-7"}
    assert first.company is None and first.livemode is False
    assert first.spending_controls.spending_limits == []
    posts = stripe_fake.requests_to("POST", "/v1/issuing/cardholders")
    assert [(r.status, r.replayed) for r in posts] == [(200, False), (200, True)]

    with pytest.raises(stripe.IdempotencyError) as changed:
        client.v1.issuing.cardholders.create(cardholder_params(name="Other"), options={"idempotency_key": "ch-1"})
    assert changed.value.http_status == 400
    assert changed.value.json_body["error"]["type"] == "idempotency_error"
    assert len(stripe_fake.cardholders()) == 1


@pytest.mark.parametrize(
    ("drop", "param"),
    [
        ("name", "name"),
        ("billing", "billing"),
        ("city", "billing[address][city]"),
        ("line1", "billing[address][line1]"),
        ("postal_code", "billing[address][postal_code]"),
        ("country", "billing[address][country]"),
    ],
)
def test_cardholder_missing_params_are_400s_with_param_and_not_stored(stripe_fake, client, drop, param):
    params = cardholder_params()
    if drop in ("name", "billing"):
        del params[drop]
    else:
        params["billing"] = {"address": {k: v for k, v in ADDRESS.items() if k != drop}}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.issuing.cardholders.create(params, options={"idempotency_key": "ch-bad"})
    error = exc.value
    assert (error.http_status, error.code, error.param) == (400, "parameter_missing", param)
    assert error.json_body["error"]["type"] == "invalid_request_error"
    fixed = client.v1.issuing.cardholders.create(cardholder_params(), options={"idempotency_key": "ch-bad"})
    assert fixed.name == "Sam Patel"  # a validation error is not kept against the key
    assert len(stripe_fake.cardholders()) == 1


def test_cardholder_invalid_type_retrieve_404_and_update(stripe_fake, client):
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.issuing.cardholders.create(cardholder_params(type="robot"))
    assert (bad.value.http_status, bad.value.param) == (400, "type")
    created = client.v1.issuing.cardholders.create(cardholder_params(type="company", company={"tax_id": "123"}))
    assert created.company.tax_id_provided is True
    assert client.v1.issuing.cardholders.retrieve(created.id).to_dict() == created.to_dict()
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.issuing.cardholders.retrieve("ich_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    updated = client.v1.issuing.cardholders.update(created.id, {"status": "inactive", "metadata": {"x": "1"}})
    assert updated.status == "inactive"
    assert updated.metadata.to_dict() == {"person": "p-7", "x": "1"}


def test_cardholder_list_by_email_with_pagination(stripe_fake, client):
    ids = [stripe_fake.create_cardholder(name=f"P{i}", email="same@example.org")["id"] for i in range(5)]
    other = stripe_fake.create_cardholder(name="Other", email="other@example.org")
    first = client.v1.issuing.cardholders.list({"email": "same@example.org", "limit": 2})
    assert first.object == "list" and first.url == "/v1/issuing/cardholders" and first.has_more is True
    assert [c.id for c in first.data] == [ids[4], ids[3]]
    second = client.v1.issuing.cardholders.list(
        {"email": "same@example.org", "limit": 2, "starting_after": first.data[-1].id}
    )
    assert [c.id for c in second.data] == [ids[2], ids[1]]
    everyone = [c.id for c in client.v1.issuing.cardholders.list({"limit": 2}).auto_paging_iter()]
    assert everyone == [other["id"], *reversed(ids)]
    with pytest.raises(stripe.InvalidRequestError) as bad_cursor:
        client.v1.issuing.cardholders.list({"starting_after": "ich_nope"})
    assert bad_cursor.value.param == "starting_after"


# --- cards ---------------------------------------------------------------------------------------


def test_card_create_shape_and_idempotency(stripe_fake, client, holder):
    params = {
        "cardholder": holder["id"],
        "currency": "gbp",
        "type": "virtual",
        "spending_controls": {
            "blocked_categories": ["betting_casino_gambling", "package_stores_beer_wine_and_liquor"],
            "spending_limits": [
                {"amount": 50_000, "interval": "all_time"},
                {"amount": 5_000, "interval": "per_authorization", "categories": ["taxicabs_limousines"]},
            ],
        },
        "metadata": {"budget": "b-9"},
    }
    first = client.v1.issuing.cards.create(params, options={"idempotency_key": "card-1"})
    again = client.v1.issuing.cards.create(params, options={"idempotency_key": "card-1"})
    assert again.id == first.id and len(stripe_fake.cards()) == 1
    assert first.object == "issuing.card" and first.id.startswith("ic_")
    assert (first.brand, first.currency, first.type, first.status) == ("Visa", "gbp", "virtual", "inactive")
    assert len(first.last4) == 4 and first.last4.isdigit()
    assert 1 <= first.exp_month <= 12 and first.exp_year > dt.date.today().year
    assert first.cardholder.object == "issuing.cardholder"  # expanded on cards, as Stripe returns it
    assert first.cardholder.id == holder["id"] and first.cardholder.email == "sam@example.org"
    controls = first.spending_controls
    assert controls.blocked_categories == ["betting_casino_gambling", "package_stores_beer_wine_and_liquor"]
    assert controls.allowed_categories is None
    assert [limit.to_dict() for limit in controls.spending_limits] == [
        {"amount": 50_000, "categories": None, "interval": "all_time"},
        {"amount": 5_000, "categories": ["taxicabs_limousines"], "interval": "per_authorization"},
    ]
    assert controls.spending_limits_currency == "gbp"
    assert first.metadata.to_dict() == {"budget": "b-9"}
    assert "number" not in first and "cvc" not in first
    expanded = client.v1.issuing.cards.retrieve(first.id, {"expand": ["number", "cvc"]})
    assert expanded.number.endswith(first.last4) and len(expanded.number) == 16 and len(expanded.cvc) == 3
    assert stripe_fake.get_card(first.id)["cardholder"]["id"] == holder["id"]

    with pytest.raises(stripe.IdempotencyError):
        client.v1.issuing.cards.create({**params, "type": "physical"}, options={"idempotency_key": "card-1"})


def test_card_create_errors(stripe_fake, client, holder):
    base = {"cardholder": holder["id"], "currency": "gbp", "type": "virtual"}
    for missing in ("cardholder", "currency", "type"):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.issuing.cards.create({k: v for k, v in base.items() if k != missing})
        assert (exc.value.http_status, exc.value.code, exc.value.param) == (400, "parameter_missing", missing)
    with pytest.raises(stripe.InvalidRequestError) as usd:
        client.v1.issuing.cards.create({**base, "currency": "usd"})
    assert usd.value.param == "currency"
    with pytest.raises(stripe.InvalidRequestError) as bad_category:
        client.v1.issuing.cards.create({**base, "spending_controls": {"blocked_categories": ["casinos_and_fun"]}})
    assert bad_category.value.param == "spending_controls[blocked_categories][0]"
    with pytest.raises(stripe.InvalidRequestError) as both:
        client.v1.issuing.cards.create(
            {**base, "spending_controls": {"blocked_categories": ["bakeries"], "allowed_categories": ["florists"]}}
        )
    assert both.value.param == "spending_controls[blocked_categories]"
    with pytest.raises(stripe.InvalidRequestError) as bad_limit:
        client.v1.issuing.cards.create({**base, "spending_controls": {"spending_limits": [{"interval": "daily"}]}})
    assert (bad_limit.value.code, bad_limit.value.param) == (
        "parameter_missing",
        "spending_controls[spending_limits][0][amount]",
    )
    with pytest.raises(stripe.InvalidRequestError) as bad_interval:
        client.v1.issuing.cards.create(
            {**base, "spending_controls": {"spending_limits": [{"amount": 5, "interval": "hourly"}]}}
        )
    assert bad_interval.value.param == "spending_controls[spending_limits][0][interval]"
    with pytest.raises(stripe.InvalidRequestError) as physical:
        client.v1.issuing.cards.create({**base, "type": "physical"})
    assert (physical.value.code, physical.value.param) == ("parameter_missing", "shipping")

    # an unknown cardholder is a refusal Stripe keeps against the key
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.issuing.cards.create({**base, "cardholder": "ich_gone"}, options={"idempotency_key": "c-gone"})
    assert (gone.value.http_status, gone.value.code, gone.value.param) == (400, "resource_missing", "cardholder")
    with pytest.raises(stripe.InvalidRequestError) as replayed:
        client.v1.issuing.cards.create({**base, "cardholder": "ich_gone"}, options={"idempotency_key": "c-gone"})
    assert replayed.value.headers["Idempotent-Replayed"] == "true"
    assert stripe_fake.cards() == []
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.issuing.cards.retrieve("ic_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_card_update_status_controls_and_metadata(stripe_fake, client, holder):
    card = stripe_fake.create_card(
        holder["id"],
        status="inactive",
        spending_controls={
            "blocked_categories": ["bakeries"],
            "spending_limits": [{"amount": 100, "interval": "daily"}, {"amount": 900, "interval": "all_time"}],
        },
        metadata={"budget": "b-1", "plan": "p-1"},
    )
    updated = client.v1.issuing.cards.update(
        card["id"],
        {
            "status": "active",
            "spending_controls": {"spending_limits": [{"amount": 2_000, "interval": "monthly"}]},
            "metadata": {"plan": "", "review": "r-3"},
        },
        options={"idempotency_key": "upd-1"},
    )
    assert updated.status == "active"
    # spending_limits are replaced wholesale; the sub-fields not sent stay as they were
    assert [limit.to_dict() for limit in updated.spending_controls.spending_limits] == [
        {"amount": 2_000, "categories": None, "interval": "monthly"}
    ]
    assert updated.spending_controls.blocked_categories == ["bakeries"]
    assert updated.metadata.to_dict() == {"budget": "b-1", "review": "r-3"}
    assert updated.cardholder.id == holder["id"]

    cleared = client.v1.issuing.cards.update(card["id"], {"spending_controls": {"spending_limits": ""}})
    assert cleared.spending_controls.spending_limits == []
    assert cleared.spending_controls.spending_limits_currency is None

    canceled = client.v1.issuing.cards.update(card["id"], {"status": "canceled", "cancellation_reason": "lost"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "lost")
    with pytest.raises(stripe.InvalidRequestError) as revive:
        client.v1.issuing.cards.update(card["id"], {"status": "active"})
    assert (revive.value.http_status, revive.value.param) == (400, "status")
    with pytest.raises(stripe.InvalidRequestError) as bad_status:
        client.v1.issuing.cards.update(card["id"], {"status": "frozen"})
    assert bad_status.value.param == "status"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.issuing.cards.update("ic_nope", {"status": "active"})
    assert missing.value.http_status == 404


def test_card_list_by_cardholder_and_status_with_pagination(stripe_fake, client, holder):
    other = stripe_fake.create_cardholder(name="Other")
    mine = [stripe_fake.create_card(holder["id"])["id"] for _ in range(3)]
    stripe_fake.create_card(other["id"])
    inactive = stripe_fake.create_card(holder["id"], status="inactive")["id"]

    page = client.v1.issuing.cards.list({"cardholder": holder["id"], "limit": 2})
    assert (page.url, page.has_more) == ("/v1/issuing/cards", True)
    assert [c.id for c in page.data] == [inactive, mine[2]]
    assert page.data[0].cardholder.id == holder["id"]
    rest = client.v1.issuing.cards.list({"cardholder": holder["id"], "limit": 2, "starting_after": mine[2]})
    assert ([c.id for c in rest.data], rest.has_more) == ([mine[1], mine[0]], False)
    active = client.v1.issuing.cards.list({"cardholder": holder["id"], "status": "active"}).auto_paging_iter()
    assert [c.id for c in active] == list(reversed(mine))
    assert len(client.v1.issuing.cards.list({"limit": 100}).data) == 5


# --- authorizations: spending controls -----------------------------------------------------------


def test_authorization_approved_shape_and_idempotent_replay(stripe_fake, client, card, holder):
    before = stripe_fake.issuing_balance()
    params = authorization_params(card["id"], 1_250)
    auth = client.v1.test_helpers.issuing.authorizations.create(params, options={"idempotency_key": "a-1"})
    again = client.v1.test_helpers.issuing.authorizations.create(params, options={"idempotency_key": "a-1"})
    assert again.id == auth.id and len(stripe_fake.authorizations()) == 1
    assert auth.object == "issuing.authorization" and auth.id.startswith("iauth_")
    assert (auth.approved, auth.status, auth.amount, auth.currency) == (True, "pending", 1_250, "gbp")
    assert (auth.merchant_amount, auth.merchant_currency) == (1_250, "gbp")
    assert auth.card.id == card["id"] and auth.card.object == "issuing.card"  # expanded
    assert auth.card.cardholder.id == holder["id"]
    assert auth.cardholder == holder["id"]
    merchant = auth.merchant_data
    assert (merchant.category, merchant.category_code, merchant.name, merchant.city, merchant.country) == (
        "grocery_stores_supermarkets",
        "5411",
        "Corner Shop",
        "Leeds",
        "GB",
    )
    [request] = auth.request_history
    assert (request.approved, request.amount, request.currency) == (True, 1_250, "gbp")
    assert request.authorization_code.startswith("S") and len(request.authorization_code) == 7
    assert auth.transactions == []
    assert [(b.type, b.amount) for b in auth.balance_transactions] == [("issuing_authorization_hold", -1_250)]
    assert stripe_fake.issuing_balance() == before - 1_250  # approved authorizations hold funds
    assert client.v1.issuing.authorizations.retrieve(auth.id).to_dict() == auth.to_dict()
    with pytest.raises(stripe.IdempotencyError):
        client.v1.test_helpers.issuing.authorizations.create(
            authorization_params(card["id"], 999), options={"idempotency_key": "a-1"}
        )


def test_authorization_missing_params_and_unknown_card(stripe_fake, client, card):
    with pytest.raises(stripe.InvalidRequestError) as no_card:
        client.v1.test_helpers.issuing.authorizations.create({"amount": 100})
    assert (no_card.value.code, no_card.value.param) == ("parameter_missing", "card")
    with pytest.raises(stripe.InvalidRequestError) as no_amount:
        client.v1.test_helpers.issuing.authorizations.create({"card": card["id"]})
    assert (no_amount.value.code, no_amount.value.param) == ("parameter_missing", "amount")
    with pytest.raises(stripe.InvalidRequestError) as bad_category:
        client.v1.test_helpers.issuing.authorizations.create(authorization_params(card["id"], 5, category="nope"))
    assert bad_category.value.param == "merchant_data[category]"
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.test_helpers.issuing.authorizations.create(authorization_params("ic_gone", 5))
    assert (gone.value.http_status, gone.value.code, gone.value.param) == (400, "resource_missing", "card")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.issuing.authorizations.retrieve("iauth_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    assert stripe_fake.authorizations() == []


def test_blocked_and_allowed_categories_decline(stripe_fake, client, holder):
    blocked = stripe_fake.create_card(
        holder["id"], spending_controls={"blocked_categories": ["betting_casino_gambling"]}
    )
    declined = client.v1.test_helpers.issuing.authorizations.create(
        authorization_params(blocked["id"], 500, category="betting_casino_gambling")
    )
    assert (declined.approved, declined.status, declined.amount) == (False, "closed", 500)
    assert declined.request_history[0].reason == "spending_controls"
    assert declined.request_history[0].authorization_code is None
    assert declined.balance_transactions == []
    assert client.v1.test_helpers.issuing.authorizations.create(authorization_params(blocked["id"], 500)).approved

    allowed = stripe_fake.create_card(
        holder["id"], spending_controls={"allowed_categories": ["grocery_stores_supermarkets", "taxicabs_limousines"]}
    )
    assert stripe_fake.authorize(allowed["id"], 500, category="taxicabs_limousines")["approved"] is True
    bakery = stripe_fake.authorize(allowed["id"], 500, category="bakeries")
    assert (bakery["approved"], reason(bakery)) == (False, "spending_controls")


def test_all_time_limit_declines_once_exceeded_and_approves_after_raising_it(stripe_fake, client, holder):
    card = stripe_fake.create_card(
        holder["id"], spending_controls={"spending_limits": [{"amount": 10_000, "interval": "all_time"}]}
    )
    first = client.v1.test_helpers.issuing.authorizations.create(authorization_params(card["id"], 6_000))
    assert first.approved
    over = client.v1.test_helpers.issuing.authorizations.create(authorization_params(card["id"], 4_001))
    assert (over.approved, over.status, over.request_history[0].reason) == (False, "closed", "spending_controls")
    client.v1.test_helpers.issuing.authorizations.capture(first.id)  # captured spending still counts
    assert stripe_fake.authorize(card["id"], 4_001)["approved"] is False
    exactly = stripe_fake.authorize(card["id"], 4_000)
    assert exactly["approved"] is True  # 6,000 + 4,000 reaches the limit, not past it
    assert reason(stripe_fake.authorize(card["id"], 1)) == "spending_controls"

    client.v1.issuing.cards.update(
        card["id"], {"spending_controls": {"spending_limits": [{"amount": 15_000, "interval": "all_time"}]}}
    )
    assert client.v1.test_helpers.issuing.authorizations.create(authorization_params(card["id"], 5_000)).approved
    assert stripe_fake.authorize(card["id"], 1)["approved"] is False

    # a reversed authorization gives its amount back to the limit
    stripe_fake.reverse(exactly["id"])
    assert stripe_fake.authorize(card["id"], 4_000)["approved"] is True


def test_limits_respect_their_categories_and_per_authorization(stripe_fake, holder):
    card = stripe_fake.create_card(
        holder["id"],
        spending_controls={
            "spending_limits": [
                {"amount": 3_000, "interval": "all_time", "categories": ["taxicabs_limousines"]},
                {"amount": 2_000, "interval": "per_authorization"},
            ]
        },
    )
    assert stripe_fake.authorize(card["id"], 2_000, category="taxicabs_limousines")["approved"]
    assert not stripe_fake.authorize(card["id"], 1_500, category="taxicabs_limousines")["approved"]
    # taxi spending does not count against groceries, which only the per-authorization limit caps
    assert stripe_fake.authorize(card["id"], 2_000, category="grocery_stores_supermarkets")["approved"]
    assert stripe_fake.authorize(card["id"], 2_000, category="grocery_stores_supermarkets")["approved"]
    too_big = stripe_fake.authorize(card["id"], 2_001, category="grocery_stores_supermarkets")
    assert (too_big["approved"], reason(too_big)) == (False, "spending_controls")


def test_daily_limit_starts_again_at_midnight_utc(stripe_fake, holder):
    now = [dt.datetime(2026, 3, 10, 23, 0, tzinfo=dt.UTC).timestamp()]
    stripe_fake.issuing_clock = lambda: now[0]
    card = stripe_fake.create_card(
        holder["id"], spending_controls={"spending_limits": [{"amount": 1_000, "interval": "daily"}]}
    )
    assert stripe_fake.authorize(card["id"], 800)["approved"]
    assert not stripe_fake.authorize(card["id"], 300)["approved"]
    now[0] += 2 * 3600  # 01:00 the next day
    assert stripe_fake.authorize(card["id"], 1_000)["approved"]
    assert not stripe_fake.authorize(card["id"], 1)["approved"]


def test_weekly_limit_starts_on_sunday(stripe_fake, holder):
    saturday = dt.datetime(2026, 3, 14, 12, 0, tzinfo=dt.UTC)  # 2026-03-14 is a Saturday
    now = [saturday.timestamp()]
    stripe_fake.issuing_clock = lambda: now[0]
    card = stripe_fake.create_card(
        holder["id"], spending_controls={"spending_limits": [{"amount": 1_000, "interval": "weekly"}]}
    )
    assert stripe_fake.authorize(card["id"], 1_000)["approved"]
    assert not stripe_fake.authorize(card["id"], 1)["approved"]
    now[0] = (saturday + dt.timedelta(days=1)).timestamp()  # Sunday: a new week
    assert stripe_fake.authorize(card["id"], 1_000)["approved"]


def test_cardholder_limits_apply_across_their_cards(stripe_fake, client):
    holder = stripe_fake.create_cardholder(
        spending_controls={"spending_limits": [{"amount": 1_000, "interval": "all_time"}]}
    )
    one, two = stripe_fake.create_card(holder["id"]), stripe_fake.create_card(holder["id"])
    assert stripe_fake.authorize(one["id"], 700)["approved"]
    assert reason(stripe_fake.authorize(two["id"], 301)) == "spending_controls"
    assert stripe_fake.authorize(two["id"], 300)["approved"]


def test_inactive_and_canceled_cards_and_inactive_cardholders_decline(stripe_fake, client, holder, card):
    inactive = stripe_fake.create_card(holder["id"], status="inactive")
    declined = client.v1.test_helpers.issuing.authorizations.create(authorization_params(inactive["id"], 100))
    assert (declined.approved, declined.request_history[0].reason) == (False, "card_inactive")
    client.v1.issuing.cards.update(inactive["id"], {"status": "active"})
    assert stripe_fake.authorize(inactive["id"], 100)["approved"] is True

    client.v1.issuing.cards.update(card["id"], {"status": "canceled"})
    canceled = stripe_fake.authorize(card["id"], 100)
    assert (canceled["approved"], reason(canceled)) == (False, "card_canceled")

    stripe_fake.update_cardholder(holder["id"], status="inactive")
    assert reason(stripe_fake.authorize(inactive["id"], 100)) == "cardholder_inactive"
    with pytest.raises(stripe.InvalidRequestError) as only_stripe_blocks:
        client.v1.issuing.cardholders.update(holder["id"], {"status": "blocked"})
    assert only_stripe_blocks.value.param == "status"
    stripe_fake.update_cardholder(holder["id"], status="blocked")  # as Stripe itself may
    assert reason(stripe_fake.authorize(inactive["id"], 100)) == "cardholder_blocked"


def test_issuing_balance_too_low_declines(stripe_fake, client, card):
    stripe_fake.set_issuing_balance(1_000)
    poor = client.v1.test_helpers.issuing.authorizations.create(authorization_params(card["id"], 1_001))
    assert (poor.approved, poor.request_history[0].reason) == (False, "insufficient_funds")
    assert stripe_fake.issuing_balance() == 1_000
    assert stripe_fake.authorize(card["id"], 1_000)["approved"] is True
    assert stripe_fake.issuing_balance() == 0
    assert reason(stripe_fake.authorize(card["id"], 1)) == "insufficient_funds"


# --- capture, reverse, refund, balance -----------------------------------------------------------


def test_capture_makes_a_negative_capture_transaction_and_moves_the_balance(stripe_fake, client, card, holder):
    stripe_fake.set_issuing_balance(50_000)
    auth = client.v1.test_helpers.issuing.authorizations.create(authorization_params(card["id"], 2_000))
    assert stripe_fake.issuing_balance() == 48_000
    captured = client.v1.test_helpers.issuing.authorizations.capture(
        auth.id, {"capture_amount": 1_800}, options={"idempotency_key": "cap-1"}
    )
    replay = client.v1.test_helpers.issuing.authorizations.capture(
        auth.id, {"capture_amount": 1_800}, options={"idempotency_key": "cap-1"}
    )
    assert replay.to_dict() == captured.to_dict()
    assert captured.status == "closed"
    [transaction] = captured.transactions
    assert transaction.object == "issuing.transaction" and transaction.id.startswith("ipi_")
    assert (transaction.type, transaction.amount, transaction.merchant_amount) == ("capture", -1_800, -1_800)
    assert (transaction.card, transaction.cardholder, transaction.authorization) == (card["id"], holder["id"], auth.id)
    assert transaction.merchant_data.category == "grocery_stores_supermarkets"
    assert transaction.balance_transaction.startswith("txn_")
    assert [(b.type, b.amount) for b in captured.balance_transactions] == [
        ("issuing_authorization_hold", -2_000),
        ("issuing_authorization_release", 2_000),
    ]
    assert stripe_fake.issuing_balance() == 50_000 - 1_800  # the hold released, the capture debited
    assert len(stripe_fake.issuing_transactions()) == 1
    assert client.v1.issuing.transactions.retrieve(transaction.id).to_dict() == transaction.to_dict()

    balance = client.v1.balance.retrieve()
    assert [(b.amount, b.currency) for b in balance.issuing.available] == [(48_200, "gbp")]
    assert [(b.amount, b.currency) for b in balance.available] == [(stripe_fake.balance(), "gbp")]

    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.test_helpers.issuing.authorizations.capture(auth.id)
    assert twice.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.test_helpers.issuing.authorizations.capture("iauth_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as missing_txn:
        client.v1.issuing.transactions.retrieve("ipi_nope")
    assert missing_txn.value.http_status == 404


def test_declined_authorizations_cannot_be_captured(stripe_fake, client, holder):
    card = stripe_fake.create_card(holder["id"], status="inactive")
    declined = stripe_fake.authorize(card["id"], 100)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.issuing.authorizations.capture(declined["id"])
    with pytest.raises(StripeFakeError):
        stripe_fake.capture(declined["id"])


def test_reverse_releases_the_hold(stripe_fake, client, card):
    stripe_fake.set_issuing_balance(10_000)
    auth = client.v1.test_helpers.issuing.authorizations.create(authorization_params(card["id"], 3_000))
    part = client.v1.test_helpers.issuing.authorizations.reverse(auth.id, {"reverse_amount": 1_000})
    assert (part.status, part.amount) == ("pending", 2_000)
    assert stripe_fake.issuing_balance() == 8_000
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.test_helpers.issuing.authorizations.reverse(auth.id, {"reverse_amount": 2_001})
    assert too_much.value.param == "reverse_amount"
    rest = client.v1.test_helpers.issuing.authorizations.reverse(auth.id)
    assert (rest.status, rest.amount, rest.transactions) == ("reversed", 0, [])
    assert stripe_fake.issuing_balance() == 10_000
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.issuing.authorizations.capture(auth.id)


def test_refund_of_a_capture_force_capture_and_unlinked_refund(stripe_fake, client, card):
    stripe_fake.set_issuing_balance(10_000)
    auth = stripe_fake.authorize(card["id"], 4_000)
    capture = stripe_fake.capture(auth["id"])
    assert (capture["type"], capture["amount"]) == ("capture", -4_000)
    assert stripe_fake.issuing_balance() == 6_000

    answer = client.v1.test_helpers.issuing.transactions.refund(
        capture["id"], {"refund_amount": 1_500}, options={"idempotency_key": "rf-1"}
    )
    client.v1.test_helpers.issuing.transactions.refund(
        capture["id"], {"refund_amount": 1_500}, options={"idempotency_key": "rf-1"}
    )
    assert answer.id == capture["id"] and answer.type == "capture"  # Stripe answers with the refunded capture
    refunds = [t for t in stripe_fake.issuing_transactions() if t["type"] == "refund"]
    assert [(t["amount"], t["authorization"], t["card"]) for t in refunds] == [(1_500, auth["id"], card["id"])]
    assert stripe_fake.issuing_balance() == 7_500
    linked = client.v1.issuing.authorizations.retrieve(auth["id"])
    assert [(t.type, t.amount) for t in linked.transactions] == [("capture", -4_000), ("refund", 1_500)]

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.test_helpers.issuing.transactions.refund(capture["id"], {"refund_amount": 2_501})
    assert too_much.value.param == "refund_amount"
    rest = stripe_fake.refund(capture["id"])  # the Python helper returns the new refund
    assert (rest["type"], rest["amount"]) == ("refund", 2_500)
    assert stripe_fake.issuing_balance() == 10_000
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.issuing.transactions.refund(rest["id"])  # a refund cannot be refunded

    forced = client.v1.test_helpers.issuing.transactions.create_force_capture(
        {"card": card["id"], "amount": 700, "merchant_data": {"category": "taxicabs_limousines", "name": "Cabs"}}
    )
    assert (forced.type, forced.amount, forced.authorization) == ("capture", -700, None)
    assert forced.merchant_data.category_code == "4121"
    unlinked = client.v1.test_helpers.issuing.transactions.create_unlinked_refund({"card": card["id"], "amount": 200})
    assert (unlinked.type, unlinked.amount, unlinked.authorization) == ("refund", 200, None)
    assert stripe_fake.issuing_balance() == 10_000 - 700 + 200
    with pytest.raises(stripe.InvalidRequestError) as no_amount:
        client.v1.test_helpers.issuing.transactions.create_force_capture({"card": card["id"]})
    assert (no_amount.value.code, no_amount.value.param) == ("parameter_missing", "amount")


def test_transaction_list_by_card_and_cardholder_with_pagination(stripe_fake, client, holder, card):
    other_holder = stripe_fake.create_cardholder(name="Other")
    other_card = stripe_fake.create_card(other_holder["id"])
    second_card = stripe_fake.create_card(holder["id"])
    mine = [stripe_fake.capture(stripe_fake.authorize(card["id"], 100 + i)["id"])["id"] for i in range(4)]
    theirs = stripe_fake.force_capture(other_card["id"], 50)["id"]
    also_mine = stripe_fake.force_capture(second_card["id"], 60)["id"]

    page = client.v1.issuing.transactions.list({"card": card["id"], "limit": 3})
    assert (page.url, page.has_more) == ("/v1/issuing/transactions", True)
    assert [t.id for t in page.data] == [mine[3], mine[2], mine[1]]
    rest = client.v1.issuing.transactions.list({"card": card["id"], "limit": 3, "starting_after": mine[1]})
    assert ([t.id for t in rest.data], rest.has_more) == ([mine[0]], False)
    by_holder = client.v1.issuing.transactions.list({"cardholder": holder["id"], "limit": 2}).auto_paging_iter()
    assert [t.id for t in by_holder] == [also_mine, *reversed(mine)]
    assert [t.id for t in client.v1.issuing.transactions.list({"cardholder": other_holder["id"]}).data] == [theirs]
    assert [t["id"] for t in stripe_fake.issuing_transactions(card=card["id"])] == mine


# --- webhooks ------------------------------------------------------------------------------------


@pytest.fixture
def hook(stripe_fake, httpserver):
    """The fake's webhooks go to a local endpoint that verifies each with the test secret."""
    received = []

    def handler(request):
        received.append(
            stripe.Webhook.construct_event(request.get_data(), request.headers["Stripe-Signature"], TEST_WEBHOOK_SECRET)
        )
        return Response("ok")

    httpserver.expect_request("/stripe/webhook", method="POST").respond_with_handler(handler)
    stripe_fake.webhook_url = httpserver.url_for("/stripe/webhook")
    stripe_fake.webhook_secret = TEST_WEBHOOK_SECRET
    return received


def test_http_path_emits_signed_issuing_events(stripe_fake, client, card, holder, hook):
    auth = client.v1.test_helpers.issuing.authorizations.create(authorization_params(card["id"], 900))
    client.v1.test_helpers.issuing.authorizations.capture(auth.id)
    deliveries = stripe_fake.wait_for_deliveries()
    assert sorted((d["status"], d["error"]) for d in deliveries) == [(200, None)] * 3
    by_type = {event.type: event for event in hook}
    assert set(by_type) == {
        "issuing_authorization.created",
        "issuing_transaction.created",
        "issuing_authorization.updated",
    }
    created = by_type["issuing_authorization.created"].data.object
    assert (created.id, created.approved, created.status, created.card.id) == (auth.id, True, "pending", card["id"])
    updated = by_type["issuing_authorization.updated"]
    assert (updated.data.object.status, updated.data.previous_attributes.status) == ("closed", "pending")
    txn_event = by_type["issuing_transaction.created"]
    assert txn_event.object == "event" and txn_event.livemode is False
    txn = txn_event.data.object
    assert txn.object == "issuing.transaction"
    assert (txn.type, txn.amount, txn.currency) == ("capture", -900, "gbp")
    assert (txn.card, txn.cardholder, txn.authorization) == (card["id"], holder["id"], auth.id)
    assert txn.merchant_data.name == "Corner Shop"
    assert isinstance(txn.created, int)


def test_python_helpers_emit_the_same_events_and_card_events_on_request(stripe_fake, card, hook):
    stripe_fake.webhook_events |= {"issuing_card.updated"}
    stripe_fake.update_card(card["id"], status="inactive")
    declined = stripe_fake.authorize(card["id"], 100)
    stripe_fake.update_card(card["id"], status="active")
    auth = stripe_fake.authorize(card["id"], 500)
    capture = stripe_fake.capture(auth["id"])
    refund = stripe_fake.refund(capture["id"], 200)
    stripe_fake.wait_for_deliveries()
    events = [(e.type, e.data.object.id) for e in hook]
    assert sorted(events) == sorted(
        [
            ("issuing_card.updated", card["id"]),
            ("issuing_authorization.created", declined["id"]),
            ("issuing_card.updated", card["id"]),
            ("issuing_authorization.created", auth["id"]),
            ("issuing_transaction.created", capture["id"]),
            ("issuing_authorization.updated", auth["id"]),
            ("issuing_transaction.created", refund["id"]),
        ]
    )
    refund_event = next(e for e in hook if e.data.object.id == refund["id"])
    assert (refund_event.data.object.type, refund_event.data.object.amount) == ("refund", 200)
    card_updates = [e for e in hook if e.type == "issuing_card.updated"]
    assert {e.data.previous_attributes.status for e in card_updates} == {"active", "inactive"}


def test_a_test_can_deliver_an_issuing_event_twice_and_out_of_order(stripe_fake, card, hook):
    stripe_fake.hold_webhooks = True
    auth = stripe_fake.authorize(card["id"], 500)
    capture = stripe_fake.capture(auth["id"])
    held = stripe_fake.held_events
    assert [e["type"] for e in held] == [
        "issuing_authorization.created",
        "issuing_transaction.created",
        "issuing_authorization.updated",
    ]
    assert hook == [] and stripe_fake.deliveries == []

    created, txn_created, updated = (e["id"] for e in held)
    records = stripe_fake.release_webhooks([updated, txn_created])  # the update before the creation
    assert [r["status"] for r in records] == [200, 200]
    assert [e.type for e in hook] == ["issuing_authorization.updated", "issuing_transaction.created"]
    assert [e["id"] for e in stripe_fake.held_events] == [created]
    stripe_fake.release_webhooks()
    assert stripe_fake.held_events == []

    again = stripe_fake.redeliver(txn_created)  # Stripe retrying the same event
    assert again["status"] == 200
    txn_events = [e for e in hook if e.type == "issuing_transaction.created"]
    assert [e.id for e in txn_events] == [txn_created, txn_created]
    assert txn_events[0].data.object.to_dict() == txn_events[1].data.object.to_dict()
    assert txn_events[0].data.object.id == capture["id"]
    assert [e.type for e in hook] == [
        "issuing_authorization.updated",
        "issuing_transaction.created",
        "issuing_authorization.created",
        "issuing_transaction.created",
    ]
    assert len(stripe_fake.deliveries) == 4

    # automatic deliveries can be repeated the same way
    stripe_fake.hold_webhooks = False
    refund = stripe_fake.refund(capture["id"])
    [delivery] = [d for d in stripe_fake.wait_for_deliveries() if d["event"]["data"]["object"]["id"] == refund["id"]]
    stripe_fake.redeliver(delivery["event"])
    assert [e.id for e in hook if e.data.object.id == refund["id"]] == [delivery["event"]["id"]] * 2


def test_held_events_need_a_url_only_when_released(stripe_fake, card):
    stripe_fake.hold_webhooks = True
    stripe_fake.authorize(card["id"], 100)
    assert len(stripe_fake.held_events) == 1
    with pytest.raises(RuntimeError):
        stripe_fake.release_webhooks()
    with pytest.raises(KeyError):
        stripe_fake.release_webhooks(["evt_nope"])


def test_no_issuing_events_without_a_webhook_url(stripe_fake, card):
    stripe_fake.capture(stripe_fake.authorize(card["id"], 100)["id"])
    assert stripe_fake.wait_for_deliveries() == []
    assert stripe_fake.events == []


def test_reset_forgets_issuing_state(stripe_fake, card):
    stripe_fake.set_issuing_balance(5)
    stripe_fake.hold_webhooks = True
    stripe_fake.authorize(card["id"], 1)
    stripe_fake.reset()
    assert (stripe_fake.cardholders(), stripe_fake.cards(), stripe_fake.authorizations()) == ([], [], [])
    assert stripe_fake.issuing_transactions() == [] and stripe_fake.held_events == []
    assert stripe_fake.issuing_balance() == stripe_fake.initial_issuing_balance
    assert stripe_fake.hold_webhooks is False


def test_raw_form_encoding_of_spending_limits(stripe_fake, holder):
    """What the wire looks like: indexed arrays, and `spending_limits=` (empty) to unset."""
    headers = {"Authorization": "Bearer sk_test_x", "Content-Type": "application/x-www-form-urlencoded"}
    body = (
        f"cardholder={holder['id']}&currency=gbp&type=virtual&status=active"
        "&spending_controls[spending_limits][0][amount]=500&spending_controls[spending_limits][0][interval]=all_time"
        "&spending_controls[spending_limits][0][categories][0]=bakeries"
    )
    created = requests.post(f"{stripe_fake.url}/v1/issuing/cards", data=body, headers=headers, timeout=5)
    assert created.status_code == 200, created.text
    card = created.json()
    assert card["spending_controls"]["spending_limits"] == [
        {"amount": 500, "categories": ["bakeries"], "interval": "all_time"}
    ]
    cleared = requests.post(
        f"{stripe_fake.url}/v1/issuing/cards/{card['id']}",
        data="spending_controls[spending_limits]=",
        headers=headers,
        timeout=5,
    )
    assert json.loads(cleared.text)["spending_controls"]["spending_limits"] == []


def test_a_top_up_funds_the_issuing_balance_once_per_key(stripe_fake, client):
    before = stripe_fake.issuing_balance()
    params = {"amount": 5800, "currency": "gbp", "destination_balance": "issuing", "metadata": {"payment": "7"}}

    first = client.v1.topups.create(params, options={"idempotency_key": "load-7"})
    again = client.v1.topups.create(params, options={"idempotency_key": "load-7"})

    assert first.id == again.id and first.status == "succeeded"
    assert stripe_fake.issuing_balance() == before + 5800
    listed = client.v1.topups.list({"limit": 100})
    assert [t.id for t in listed.data] == [first.id] and client.v1.topups.retrieve(first.id).metadata["payment"] == "7"

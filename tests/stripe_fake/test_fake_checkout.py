"""Tests of the fake's Stripe Checkout Sessions (create, retrieve, list, expire, the hosted page that
pays them and `checkout.session.completed`), through the real, unmodified `stripe` client."""

from __future__ import annotations

import pytest
import requests
import stripe
from werkzeug.wrappers import Response

from tests.stripe_fake.server import TEST_WEBHOOK_SECRET, StripeFakeError

pytest_plugins = ["tests.stripe_fake.fixtures"]

SUCCESS_URL = "https://cairn.example/contributions/7?paid=1&session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://cairn.example/contributions/7"


@pytest.fixture
def client(stripe_fake):
    return stripe_fake.client(api_key="sk_test_x", timeout=5.0)


def line(name="Care contribution", unit_amount=1500, quantity=1, currency="gbp"):
    return {
        "price_data": {"currency": currency, "unit_amount": unit_amount, "product_data": {"name": name}},
        "quantity": quantity,
    }


def session_params(**extra):
    return {
        "mode": "payment",
        "line_items": [line(unit_amount=1500, quantity=2), line(name="Day centre", unit_amount=250)],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": "client-7",
        "customer_email": "ruth@example.org",
        "metadata": {"cairn": "client-7"},
        "payment_intent_data": {"metadata": {"contribution": "c-9"}},
        **extra,
    }


@pytest.fixture
def session(stripe_fake, client):
    return client.v1.checkout.sessions.create(session_params())


# --- create --------------------------------------------------------------------------------------


def test_create_shape_and_amounts_from_the_line_items(stripe_fake, client):
    session = client.v1.checkout.sessions.create(session_params())

    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert session.url == f"{stripe_fake.url}/checkout/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_subtotal, session.amount_total, session.currency) == (3250, 3250, "gbp")
    assert (session.client_reference_id, session.customer_email) == ("client-7", "ruth@example.org")
    assert session.metadata.to_dict() == {"cairn": "client-7"}
    assert (session.success_url, session.cancel_url) == (SUCCESS_URL, CANCEL_URL)
    assert session.payment_intent is None and session.customer is None and session.customer_details is None
    assert session.livemode is False and session.ui_mode == "hosted_page"
    assert session.payment_method_types == ["card"]
    assert session.total_details.to_dict() == {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
    assert isinstance(session.created, int) and session.expires_at == session.created + 24 * 3600
    assert "line_items" not in session.to_dict()  # only when expanded, as Stripe

    expanded = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["line_items"]})
    items = expanded.line_items.data
    assert [(i.object, i.description, i.quantity, i.amount_total, i.currency) for i in items] == [
        ("item", "Care contribution", 2, 3000, "gbp"),
        ("item", "Day centre", 1, 250, "gbp"),
    ]
    assert (items[0].price.object, items[0].price.unit_amount, items[0].price.type) == ("price", 1500, "one_time")
    listed = client.v1.checkout.sessions.line_items.list(session.id, {"limit": 1})
    assert [i.id for i in listed.data] == [items[0].id] and listed.has_more is True
    assert stripe_fake.checkout_sessions() == [stripe_fake.get_checkout_session(session.id)]


def test_create_with_expires_at_and_no_optional_params(stripe_fake, client):
    import time

    expires_at = int(time.time()) + 3600
    session = client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [line()], "success_url": SUCCESS_URL, "expires_at": expires_at}
    )
    assert session.expires_at == expires_at
    assert (session.cancel_url, session.client_reference_id, session.customer_email) == (None, None, None)
    assert session.metadata.to_dict() == {}


def test_create_idempotent_replay_and_idempotency_error(stripe_fake, client):
    first = client.v1.checkout.sessions.create(session_params(), options={"idempotency_key": "co-1"})
    again = client.v1.checkout.sessions.create(session_params(), options={"idempotency_key": "co-1"})

    assert again.id == first.id and again.to_dict() == first.to_dict()
    posts = stripe_fake.requests_to("POST", "/v1/checkout/sessions")
    assert [(r.status, r.replayed) for r in posts] == [(200, False), (200, True)]
    with pytest.raises(stripe.IdempotencyError) as changed:
        client.v1.checkout.sessions.create(
            session_params(line_items=[line(unit_amount=999)]), options={"idempotency_key": "co-1"}
        )
    assert changed.value.http_status == 400
    assert changed.value.json_body["error"]["type"] == "idempotency_error"
    assert len(stripe_fake.checkout_sessions()) == 1


def test_an_ambiguous_failure_is_retried_safely_with_the_same_key(stripe_fake, client):
    stripe_fake.fail_next("POST /v1/checkout/sessions$", "500_after")
    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.create(session_params(), options={"idempotency_key": "co-2"})
    retried = client.v1.checkout.sessions.create(session_params(), options={"idempotency_key": "co-2"})
    assert [s["id"] for s in stripe_fake.checkout_sessions()] == [retried.id]


def _without(params, path):
    """`params` with the nested key at `path` (a tuple) removed."""
    node = params
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return params


@pytest.mark.parametrize(
    ("path", "param"),
    [
        (("mode",), "mode"),
        (("line_items",), "line_items"),
        (("success_url",), "success_url"),
        (("line_items", 1, "quantity"), "line_items[1][quantity]"),
        (("line_items", 0, "price_data"), "line_items[0][price_data]"),
        (("line_items", 0, "price_data", "currency"), "line_items[0][price_data][currency]"),
        (("line_items", 0, "price_data", "unit_amount"), "line_items[0][price_data][unit_amount]"),
        (("line_items", 0, "price_data", "product_data"), "line_items[0][price_data][product_data]"),
        (
            ("line_items", 1, "price_data", "product_data", "name"),
            "line_items[1][price_data][product_data][name]",
        ),
    ],
)
def test_missing_params_are_400s_with_param_and_not_stored(stripe_fake, client, path, param):
    params = session_params()
    params["line_items"][1]["price_data"]["product_data"]["description"] = "Weekly"  # not empty without name
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(_without(params, path), options={"idempotency_key": "co-bad"})
    error = exc.value
    assert (error.http_status, error.code, error.param) == (400, "parameter_missing", param)
    assert error.json_body["error"]["type"] == "invalid_request_error"
    fixed = client.v1.checkout.sessions.create(session_params(), options={"idempotency_key": "co-bad"})
    assert fixed.status == "open"  # a validation error is not kept against the key
    assert len(stripe_fake.checkout_sessions()) == 1


@pytest.mark.parametrize("mode", ["subscription", "setup", "donation"])
def test_modes_other_than_payment_are_refused(stripe_fake, client, mode):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(session_params(mode=mode))
    assert (exc.value.http_status, exc.value.param) == (400, "mode")
    assert stripe_fake.checkout_sessions() == []


@pytest.mark.parametrize(
    ("change", "param", "code"),
    [
        ({"line_items": [line(quantity=0)]}, "line_items[0][quantity]", "parameter_invalid_integer"),
        ({"line_items": [line(unit_amount="12.50")]}, "line_items[0][price_data][unit_amount]", None),
        ({"line_items": [line(), line(currency="eur")]}, "line_items[1][price_data][currency]", None),
        ({"line_items": [{"price": "price_123", "quantity": 1}]}, "line_items[0][price]", "resource_missing"),
        ({"line_items": [line(unit_amount=29)]}, None, None),  # below Stripe's £0.30 minimum
        ({"success_url": "not a url"}, "success_url", None),
        ({"ui_mode": "embedded_page"}, "ui_mode", None),
        ({"expires_at": 1}, "expires_at", None),
        ({"expires_at": 4_000_000_000}, "expires_at", None),
    ],
)
def test_invalid_params_are_400s(stripe_fake, client, change, param, code):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(session_params(**change))
    assert exc.value.http_status == 400 and exc.value.param == param
    if code:
        assert exc.value.code == code
    assert stripe_fake.checkout_sessions() == []


# --- retrieve, list, expire ----------------------------------------------------------------------


def test_retrieve_and_404(stripe_fake, client, session):
    assert client.v1.checkout.sessions.retrieve(session.id).to_dict() == session.to_dict()
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (exc.value.http_status, exc.value.code, exc.value.param) == (404, "resource_missing", "session")
    assert stripe_fake.get_checkout_session("cs_test_nope") is None


def test_list_newest_first_with_pagination_and_filters(stripe_fake, client):
    ids = [client.v1.checkout.sessions.create(session_params(client_reference_id=f"c-{i}")).id for i in range(5)]
    stripe_fake.complete_checkout(ids[1])
    stripe_fake.expire_checkout(ids[3])

    first = client.v1.checkout.sessions.list({"limit": 2})
    assert [s.id for s in first.data] == [ids[4], ids[3]] and first.has_more is True
    rest = client.v1.checkout.sessions.list({"limit": 10, "starting_after": ids[3]})
    assert [s.id for s in rest.data] == [ids[2], ids[1], ids[0]] and rest.has_more is False
    assert [s.id for s in client.v1.checkout.sessions.list({"status": "open"}).data] == [ids[4], ids[2], ids[0]]
    assert [s.id for s in client.v1.checkout.sessions.list({"status": "complete"}).data] == [ids[1]]
    assert [s.id for s in client.v1.checkout.sessions.list({"status": "expired"}).data] == [ids[3]]
    paid = stripe_fake.get_checkout_session(ids[1])["payment_intent"]
    assert [s.id for s in client.v1.checkout.sessions.list({"payment_intent": paid}).data] == [ids[1]]
    assert [s["id"] for s in stripe_fake.checkout_sessions(status="open")] == [ids[0], ids[2], ids[4]]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.list({"starting_after": "cs_test_nope"})
    assert exc.value.param == "starting_after"


def test_expire_an_open_session_only(stripe_fake, client, session):
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.id, expired.status, expired.payment_status, expired.url) == (
        session.id,
        "expired",
        "unpaid",
        None,
    )
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.checkout.sessions.expire(session.id)
    assert again.value.http_status == 400 and "expired" in again.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.expire("cs_test_nope")
    assert missing.value.http_status == 404

    with pytest.raises(StripeFakeError):
        stripe_fake.complete_checkout(session.id)  # an expired session cannot be paid
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 410 and "has expired" in page.text and "<form" not in page.text
    paid = requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5)
    assert paid.status_code == 410 and "has expired" in paid.text
    assert stripe_fake.get_checkout_session(session.id)["status"] == "expired"


def test_a_completed_session_cannot_be_expired(stripe_fake, client, session):
    stripe_fake.complete_checkout(session.id)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.expire(session.id)
    assert exc.value.http_status == 400 and '"complete"' in exc.value.user_message
    with pytest.raises(StripeFakeError):
        stripe_fake.expire_checkout(session.id)


def test_sessions_expire_by_themselves_at_expires_at(stripe_fake, client, session):
    stripe_fake.webhook_events |= {"checkout.session.expired"}
    stripe_fake.hold_webhooks = True
    stripe_fake.checkout_clock = lambda: session.expires_at
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert [(e["type"], e["data"]["object"]["id"]) for e in stripe_fake.held_events] == [
        ("checkout.session.expired", session.id)
    ]


# --- paying --------------------------------------------------------------------------------------


def test_complete_via_the_helper_credits_the_balance_once(stripe_fake, client, session):
    before = stripe_fake.balance()
    done = stripe_fake.complete_checkout(session.id)

    assert (done["status"], done["payment_status"], done["url"]) == ("complete", "paid", None)
    assert done["payment_intent"].startswith("pi_")
    assert done["customer_details"]["email"] == "ruth@example.org"
    assert stripe_fake.balance() == before + 3250
    retrieved = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    intent = retrieved.payment_intent
    assert (intent.id, intent.object, intent.status) == (done["payment_intent"], "payment_intent", "succeeded")
    assert (intent.amount, intent.amount_received, intent.currency) == (3250, 3250, "gbp")
    assert intent.metadata.to_dict() == {"contribution": "c-9"}  # from payment_intent_data[metadata]
    assert client.v1.payment_intents.retrieve(intent.id).to_dict() == intent.to_dict()

    again = stripe_fake.complete_checkout(session.id)
    assert again == done and stripe_fake.balance() == before + 3250
    with pytest.raises(StripeFakeError):
        stripe_fake.complete_checkout("cs_test_nope")


def test_complete_via_the_hosted_page(stripe_fake, client, session):
    before = stripe_fake.balance()
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert f"action='/checkout/{session.id}/pay'" in page.text and ">Pay</button>" in page.text
    assert "£32.50" in page.text and "Day centre" in page.text and CANCEL_URL in page.text

    paid = requests.post(
        f"{stripe_fake.url}/checkout/{session.id}/pay",
        data={"email": "payer@example.org", "name": "Ruth Ellis"},
        allow_redirects=False,
        timeout=5,
    )
    assert paid.status_code == 303
    assert paid.headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid") and done.payment_intent.startswith("pi_")
    assert (done.customer_details.email, done.customer_details.name) == ("payer@example.org", "Ruth Ellis")
    assert stripe_fake.balance() == before + 3250

    shown = requests.get(session.url, timeout=5)
    assert shown.status_code == 200 and "already complete" in shown.text and "<form" not in shown.text
    twice = requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5)
    assert twice.status_code == 200 and "already complete" in twice.text
    assert stripe_fake.balance() == before + 3250
    assert client.v1.checkout.sessions.retrieve(session.id).payment_intent == done.payment_intent

    assert requests.get(f"{stripe_fake.url}/checkout/cs_test_nope", timeout=5).status_code == 404


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


def test_completion_emits_one_signed_checkout_session_completed(stripe_fake, client, session, hook):
    assert "checkout.session.completed" in stripe_fake.webhook_events  # on by default
    stripe_fake.hold_webhooks = True
    requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5)
    requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5)  # a double click
    stripe_fake.complete_checkout(session.id)  # and the helper: still one payment

    [held] = stripe_fake.held_events
    assert held["type"] == "checkout.session.completed" and hook == []
    [record] = stripe_fake.release_webhooks()
    assert (record["status"], record["error"]) == (200, None)

    [event] = hook
    assert isinstance(event, stripe.Event) and event.id == held["id"]
    assert (event.type, event.object, event.livemode) == ("checkout.session.completed", "event", False)
    obj = event.data.object
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert obj.to_dict() == done.to_dict()
    assert (obj.id, obj.object, obj.status, obj.payment_status) == (session.id, "checkout.session", "complete", "paid")
    assert (obj.amount_total, obj.currency, obj.client_reference_id) == (3250, "gbp", "client-7")
    assert obj.metadata.to_dict() == {"cairn": "client-7"} and obj.payment_intent.startswith("pi_")

    stripe_fake.redeliver(event.id)  # Stripe retrying: same id, same payload
    assert [e.id for e in hook] == [event.id, event.id]
    assert stripe_fake.held_events == []


def test_held_payload_verifies_with_the_test_secret(stripe_fake, session):
    import json

    stripe_fake.hold_webhooks = True
    stripe_fake.complete_checkout(session.id)
    [held] = stripe_fake.held_events
    payload = json.dumps(held)
    event = stripe.Webhook.construct_event(payload, stripe_fake.sign(payload, TEST_WEBHOOK_SECRET), TEST_WEBHOOK_SECRET)
    assert event.data.object.id == session.id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, stripe_fake.sign(payload, "whsec_other"), TEST_WEBHOOK_SECRET)


def test_automatic_delivery_without_holding(stripe_fake, session, hook):
    stripe_fake.complete_checkout(session.id)
    stripe_fake.complete_checkout(session.id)
    deliveries = stripe_fake.wait_for_deliveries()
    assert [(d["status"], d["event"]["type"]) for d in deliveries] == [(200, "checkout.session.completed")]
    assert [e.data.object.id for e in hook] == [session.id]


def test_no_events_without_a_webhook_url_and_reset_forgets_sessions(stripe_fake, session):
    stripe_fake.complete_checkout(session.id)
    assert stripe_fake.wait_for_deliveries() == [] and stripe_fake.events == []
    stripe_fake.reset()
    assert stripe_fake.checkout_sessions() == [] and stripe_fake.get_checkout_session(session.id) is None
    assert stripe_fake.balance() == stripe_fake.initial_balance

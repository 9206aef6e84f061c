"""A stateful fake Stripe API server for tests, spoken to by the real, unmodified `stripe` client.

It implements exactly the endpoints Cairn calls, with Stripe's response shapes, error shapes and
idempotency semantics:

    POST /v1/accounts                      GET /v1/accounts/{id}
    POST /v1/account_links                 GET /onboarding/{acct}   (HTML: "completes" onboarding)
    POST /v1/transfers                     GET /v1/transfers/{id}
    GET  /v1/transfers?transfer_group=&destination=&limit=&starting_after=&ending_before=
    POST /v1/transfers/{id}/reversals      GET /v1/transfers/{id}/reversals
    GET  /v1/balance                       (with `issuing.available`, the Issuing balance)
    POST /v1/topups                        GET /v1/topups/{id}    GET /v1/topups?status=&limit=&starting_after=

and Stripe Issuing, with the test-mode helpers a test-mode integration creates purchases with:

    POST /v1/issuing/cardholders           GET /v1/issuing/cardholders/{id}   POST /v1/issuing/cardholders/{id}
    GET  /v1/issuing/cardholders?email=&status=&type=&limit=&starting_after=&ending_before=
    POST /v1/issuing/cards                 GET /v1/issuing/cards/{id}         POST /v1/issuing/cards/{id}
    GET  /v1/issuing/cards?cardholder=&status=&type=&last4=&limit=&starting_after=&ending_before=
    GET  /v1/issuing/authorizations/{id}   GET /v1/issuing/authorizations?card=&cardholder=&status=&limit=...
    GET  /v1/issuing/transactions/{id}     GET /v1/issuing/transactions?card=&cardholder=&type=&limit=...
    POST /v1/test_helpers/issuing/authorizations              (approved or declined by spending controls)
    POST /v1/test_helpers/issuing/authorizations/{id}/capture  POST .../authorizations/{id}/reverse
    POST /v1/test_helpers/issuing/transactions/create_force_capture
    POST /v1/test_helpers/issuing/transactions/create_unlinked_refund
    POST /v1/test_helpers/issuing/transactions/{id}/refund     (answers with the refunded capture, as Stripe)

Issuing as Stripe documents it: cards are `inactive` unless created `active`, and show their cardholder
expanded. A test-mode authorization is declined (`approved: false`, status `closed`,
`request_history[0].reason`) when the card is not active (`card_inactive`, `card_canceled`), the
cardholder is not (`cardholder_inactive`, `cardholder_blocked`), the card's or the cardholder's
spending controls refuse it (`spending_controls`: allowed/blocked categories and merchant countries,
and spending limits, per_authorization or over all_time/daily/weekly/monthly/yearly intervals that
start at midnight UTC, weeks on Sunday, each limit counting only its own categories: the amount still
held by approved pending authorizations plus captures on the card, or on all the cardholder's cards),
or the Issuing balance is below the amount (`insufficient_funds`). An approved one is `pending` and
holds its amount from the Issuing balance; a capture releases the hold and creates an
`issuing.transaction` of type `capture` with a NEGATIVE amount (Stripe's sign: money leaving the
balance); refunds are type `refund`, positive, and credit the balance; a reversal releases the hold.
Events: `issuing_authorization.created` / `.updated` and `issuing_transaction.created` are delivered
by default once `webhook_url` is set; `issuing_card.*` and `issuing_cardholder.*` on request
(`fake.webhook_events |= {...}`). Not modelled: real-time authorization (`issuing_authorization.request`),
the other test helpers (expire, increment, finalize_amount, shipping), disputes, currency conversion
(the fake issues in its one currency), and Stripe's default card limits (opt in:
`issuing_default_daily_limit`, `issuing_per_authorization_cap`).

and Stripe Checkout, one-off payments on the hosted page:

    POST /v1/checkout/sessions             GET /v1/checkout/sessions/{id}     (expand[]=line_items, payment_intent)
    GET  /v1/checkout/sessions?status=&payment_intent=&limit=&starting_after=&ending_before=
    GET  /v1/checkout/sessions/{id}/line_items     POST /v1/checkout/sessions/{id}/expire   (open only)
    GET  /v1/payment_intents/{id}          (the succeeded PaymentIntent a completed session made)
    GET  /checkout/{id}                    (HTML: the hosted page, a "Pay" form)
    POST /checkout/{id}/pay                (pays: 303 to success_url, `{CHECKOUT_SESSION_ID}` filled in)

A session is `mode=payment` (setup and subscription are refused) with inline
`line_items[N][price_data][currency|unit_amount|product_data][name]` and `line_items[N][quantity]`
(`price` and `price_data[product]` ids are refused: the fake keeps no Prices or Products; one currency
for all items; Stripe's minimum total in gbp/usd/eur), `success_url` required (the hosted page is the
only `ui_mode`), `cancel_url`, `client_reference_id`, `customer_email`, `metadata`,
`payment_intent_data[metadata]` (lands on the PaymentIntent) and `expires_at` (30 minutes to 24 hours
ahead; default 24 hours) optional; other parameters are ignored. It is `open` / `unpaid` with `url`
on the fake; paid (the page, or `complete_checkout()`), it is `complete` / `paid` with `payment_intent`
set, `customer_details` filled and `url` null, the platform balance is credited with `amount_total`
and `checkout.session.completed` is emitted (by default), once: paying again does nothing. Expired
(`expire`, `expire_checkout()`, or `expires_at` passed on `checkout_clock`), it is `expired` and
`checkout.session.expired` is emitted (on request). Not modelled: Stripe fees and pending funds,
`payment_intent.*` / `charge.*` events, customers, discounts, tax, shipping, async payment methods.

The server runs in a background thread of the test process on 127.0.0.1 (a free port), serves
requests concurrently (one thread per connection, HTTP/1.1 keep-alive) and keeps all state in that
process behind one lock, so another process (a Celery worker started with
`STRIPE_API_BASE=<fake.url>`) talks to the same state. Tests drive it through the Python object
(`StripeFake`), never over HTTP: fault injection, inspection, reset, webhooks, and seeding and
driving Issuing (`create_cardholder`, `create_card`, `authorize`, `capture`, `refund`...) and Checkout
(`checkout_sessions`, `get_checkout_session`, `complete_checkout`, `expire_checkout`).

Webhooks: with `webhook_url` set the fake signs and POSTs the events it emits, each from its own
thread (so two events of one operation may arrive in either order, as with Stripe). To choose the
order, set `hold_webhooks = True` and send the held events with `release_webhooks([ids...])`; to
deliver one again (a Stripe retry: same id and payload), `redeliver(event_or_id)`.

Idempotency, as Stripe does it: a POST's `Idempotency-Key` is scoped to the API key (and the
`Stripe-Account` header). The first request that reaches an endpoint stores its status and body,
successes and business refusals alike (`balance_insufficient`, `resource_missing`); the same key
with the same method, path and parameters replays them (header `Idempotent-Replayed: true`) and does
nothing; the same key with another endpoint or other parameters is a 400 `idempotency_error`.
Parameter-validation errors (a missing or malformed parameter), 401s, 404s for unknown URLs and the
injected pre-operation faults store nothing, so a corrected retry with the same key goes through.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import fnmatch
import hashlib
import hmac
import html
import json
import re
import secrets
import socket
import string
import struct
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

try:  # the version the installed client asks for, so events look like they came from it
    from stripe._api_version import _ApiVersion

    API_VERSION = _ApiVersion.CURRENT
except Exception:  # pragma: no cover - only if the private module moves
    API_VERSION = "2026-10-28.endive"

TEST_SECRET_KEY = "sk_test_cairn"
TEST_WEBHOOK_SECRET = "whsec_test_cairn"
DEFAULT_BALANCE = 1_000_000_000  # £10m in pence: "large" unless a test says otherwise
DEFAULT_TIMEOUT_SLEEP = 5.0  # seconds a "timeout" fault holds the answer back (cut short by reset/stop)

PRE_FAULTS = {"timeout_before", "500", "429", "409", "connection_reset"}
POST_FAULTS = {"timeout", "500_after", "connection_reset_after"}
FAULT_KINDS = PRE_FAULTS | POST_FAULTS

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """An id shaped like Stripe's: `tr_1` and 23 letters and digits."""
    return f"{prefix}_1" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(23))


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send for `payload`: `t=<ts>,v1=<hex HMAC-SHA256
    of "<ts>.<payload>" keyed by the whole secret, whsec_ prefix included>`."""
    if isinstance(payload, bytes | bytearray):
        payload = bytes(payload).decode("utf-8")
    ts = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


# --- form decoding -------------------------------------------------------------------------------

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`[("metadata[payment]", "5"), ("expand[0]", "x")]` → `{"metadata": {"payment": "5"},
    "expand": ["x"]}`: Stripe's form encoding, nested. Values stay strings, as on the wire."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY_RE.match(key)
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))] if match else [key]
        node = root
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        last = path[-1]
        if last == "":  # `expand[]=a&expand[]=b`
            last = str(len(node))
        node[last] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() or k == "" for k in node):
        return [node[k] for k in sorted(node, key=lambda k: int(k or 0))]
    return node


# --- errors --------------------------------------------------------------------------------------


class StripeFakeError(Exception):
    """A Stripe-shaped error answer. `store=False` for errors raised before the endpoint "started"
    (validation), which Stripe does not keep against the idempotency key."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        store: bool = True,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.store = store

    def body(self) -> dict[str, Any]:
        return error_body(self.message, type=self.type, code=self.code, param=self.param)


def error_body(message: str, *, type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "type": type}
    if code:
        err["code"] = code
        err["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        err["param"] = param
    return {"error": err}


def _missing(param: str) -> StripeFakeError:
    return StripeFakeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param, store=False)


def _int_param(params: dict[str, Any], name: str, *, required: bool = False, minimum: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise _missing(name)
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise StripeFakeError(
            400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name, store=False
        ) from None
    if minimum is not None and value < minimum:
        raise StripeFakeError(
            400,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
            param=name,
            store=False,
        )
    return value


def _str_param(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise _missing(name)
        return None
    if not isinstance(raw, str):
        raise StripeFakeError(400, f"Invalid string: {raw!r}", param=name, store=False)
    return raw


def _metadata(params: dict[str, Any]) -> dict[str, str]:
    raw = params.get("metadata") or {}
    if not isinstance(raw, dict):
        raise StripeFakeError(400, "Invalid hash", param="metadata", store=False)
    return {str(k): str(v) for k, v in raw.items() if v != ""}


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


# --- records -------------------------------------------------------------------------------------


@dataclasses.dataclass
class RequestRecord:
    """One request the fake received (`fake.requests`). `status` is what the fake answered, or would
    have answered: None while in flight and for dropped connections; `fault` the injected kind."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    stripe_account: str | None
    api_key: str | None
    started: float
    status: int | None = None
    replayed: bool = False
    fault: str | None = None


@dataclasses.dataclass
class Fault:
    method: str | None
    pattern: str
    kind: str
    times: int
    sleep: float | None = None
    should_retry: bool | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        if "*" in self.pattern or "?" in self.pattern:
            return fnmatch.fnmatchcase(path, self.pattern)
        if self.pattern.endswith("$"):
            return path == self.pattern[:-1]
        return path.startswith(self.pattern)


@dataclasses.dataclass
class _Stored:
    endpoint: tuple[str, str]
    params: dict[str, Any]
    status: int
    body: bytes


@dataclasses.dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    replayed: bool = False


# --- the HTTP layer ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fake: StripeFake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Each answer leaves in one segment, at once: headers and body are buffered until `flush()`, and
    # TCP_NODELAY is set. Without both, Nagle's algorithm held the body behind the client's delayed ACK
    # and every reply stalled for ~40 ms, which hid the real cost of Cairn's Stripe path in benchmarks.
    disable_nagle_algorithm = True
    wbufsize = -1
    server_version = "stripe-fake/1.0"
    sys_version = ""
    server: _Server

    def do_GET(self):
        self.server.fake._serve(self)

    do_POST = do_DELETE = do_GET

    def log_message(self, format, *args):  # quiet: the fake keeps its own log
        pass

    def send_answer(self, answer: _Answer) -> None:
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)
            self.wfile.flush()
        except OSError:  # the client gave up (a "timeout" fault): nobody is listening
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without an answer: the client sees a reset / remote disconnect."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


# --- Issuing -------------------------------------------------------------------------------------

#: every Issuing event the fake emits; `DEFAULT_ISSUING_WEBHOOK_EVENTS` are delivered without opting in
ISSUING_EVENT_TYPES = frozenset(
    {
        "issuing_cardholder.created",
        "issuing_cardholder.updated",
        "issuing_card.created",
        "issuing_card.updated",
        "issuing_authorization.created",
        "issuing_authorization.updated",
        "issuing_transaction.created",
    }
)
DEFAULT_ISSUING_WEBHOOK_EVENTS = frozenset(
    {"issuing_authorization.created", "issuing_authorization.updated", "issuing_transaction.created"}
)
SPENDING_LIMIT_INTERVALS = ("all_time", "daily", "monthly", "per_authorization", "weekly", "yearly")
DEFAULT_MERCHANT_CATEGORY = "miscellaneous_general_merchandise"

#: Merchant category → MCC (https://docs.stripe.com/issuing/categories), for the categories a care budget
#: is likely to meet; any other valid category gets category_code "0000" (the fake does not know it).
MERCHANT_CATEGORY_CODES = {
    "automated_cash_disburse": "6011",
    "bakeries": "5462",
    "betting_casino_gambling": "7995",
    "book_stores": "5942",
    "bus_lines": "4131",
    "caterers": "5811",
    "charitable_and_social_service_organizations_fundraising": "8398",
    "child_care_services": "8351",
    "cleaning_and_maintenance": "7349",
    "commuter_transport_and_ferries": "4111",
    "computer_software_stores": "5734",
    "counseling_services": "7277",
    "dentists_orthodontists": "8021",
    "department_stores": "5311",
    "doctors": "8011",
    "drinking_places": "5813",
    "drug_stores_and_pharmacies": "5912",
    "eating_places_restaurants": "5812",
    "educational_services": "8299",
    "electronics_stores": "5732",
    "family_clothing_stores": "5651",
    "fast_food_restaurants": "5814",
    "government_services": "9399",
    "grocery_stores_supermarkets": "5411",
    "hardware_stores": "5251",
    "health_and_beauty_spas": "7298",
    "home_supply_warehouse_stores": "5200",
    "hospitals": "8062",
    "medical_services": "8099",
    "miscellaneous_food_stores": "5499",
    "miscellaneous_general_merchandise": "5399",
    "miscellaneous_general_services": "7299",
    "miscellaneous_recreation_services": "7999",
    "miscellaneous_specialty_retail": "5999",
    "nursing_personal_care": "8050",
    "opticians_eyeglasses": "8043",
    "orthopedic_goods_prosthetic_devices": "5976",
    "package_stores_beer_wine_and_liquor": "5921",
    "passenger_railways": "4112",
    "service_stations": "5541",
    "sports_clubs_fields": "7941",
    "taxicabs_limousines": "4121",
    "telecommunication_services": "4814",
    "utilities": "4900",
}


def _literal_strings(annotation: Any) -> list[str]:
    import typing

    found: list[str] = []
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            found.extend(a for a in typing.get_args(arg) if isinstance(a, str))
        else:
            found.extend(_literal_strings(arg))
    return found


try:  # Stripe's merchant categories, as the installed client's own parameter types list them
    from stripe.params.issuing._card_create_params import CardCreateParamsSpendingControls as _Controls

    ISSUING_CATEGORIES = frozenset(_literal_strings(_Controls.__annotations__["blocked_categories"]))
except Exception:  # pragma: no cover - only if the private module moves: categories go unchecked
    ISSUING_CATEGORIES = frozenset()


def _invalid(param: str, message: str | None = None) -> StripeFakeError:
    return StripeFakeError(400, message or f"Invalid {param}", param=param, store=False)


def _int_value(raw: Any, param: str, *, required: bool = False, minimum: int | None = None) -> int | None:
    """`_int_param` for a value already taken out of nested params (`param` is its full wire name)."""
    if raw is None or raw == "":
        if required:
            raise _missing(param)
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise StripeFakeError(
            400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=param, store=False
        ) from None
    if minimum is not None and value < minimum:
        raise StripeFakeError(
            400,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
            param=param,
            store=False,
        )
    return value


def _str_value(raw: Any, param: str, *, required: bool = False, choices: tuple[str, ...] = ()) -> str | None:
    if raw is None or raw == "":
        if required:
            raise _missing(param)
        return None
    if not isinstance(raw, str):
        raise _invalid(param, f"Invalid string: {raw!r}")
    if choices and raw not in choices:
        raise _invalid(param, f"Invalid {param}: must be one of {', '.join(choices)}")
    return raw


def _hash(raw: Any, param: str) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise _invalid(param, "Invalid hash")
    return raw


def _category(raw: Any, param: str) -> str:
    value = _str_value(raw, param, required=True)
    if ISSUING_CATEGORIES and value not in ISSUING_CATEGORIES:
        raise _invalid(
            param, f"Invalid {param}: must be one of the merchant categories at docs.stripe.com/issuing/categories"
        )
    return value  # type: ignore[return-value]


def _str_list(raw: Any, param: str, *, categories: bool = False) -> list[str] | None:
    """A list parameter: `""` (Stripe's "empty value", which unsets) → None."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, list):
        raise _invalid(param, "Invalid array")
    values = []
    for i, item in enumerate(raw):
        values.append(
            _category(item, f"{param}[{i}]") if categories else _str_value(item, f"{param}[{i}]", required=True)
        )
    return values or None


def _spending_limits(raw: Any, param: str) -> list[dict[str, Any]]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise _invalid(param, "Invalid array")
    limits = []
    for i, item in enumerate(raw):
        at = f"{param}[{i}]"
        if not isinstance(item, dict):
            raise _invalid(at, "Invalid hash")
        limits.append(
            {
                "amount": _int_value(item.get("amount"), f"{at}[amount]", required=True, minimum=0),
                "categories": _str_list(item.get("categories"), f"{at}[categories]", categories=True),
                "interval": _str_value(
                    item.get("interval"), f"{at}[interval]", required=True, choices=SPENDING_LIMIT_INTERVALS
                ),
            }
        )
    return limits


def _empty_spending_controls(empty_list: Any) -> dict[str, Any]:
    """Cards show unset lists as null, cardholders as [] (as Stripe's own examples do)."""
    return {
        "allowed_card_presences": None,
        "allowed_categories": copy.copy(empty_list),
        "allowed_merchant_countries": copy.copy(empty_list),
        "blocked_card_presences": None,
        "blocked_categories": copy.copy(empty_list),
        "blocked_merchant_countries": copy.copy(empty_list),
        "spending_limits": [],
        "spending_limits_currency": None,
    }


def _parse_spending_controls(
    raw: Any, current: dict[str, Any], *, currency: str, empty_list: Any, param: str = "spending_controls"
) -> dict[str, Any]:
    """`current` with the sub-fields given in `raw` replaced (each list wholesale, as Stripe does:
    `spending_limits` given replaces every limit; `""` unsets a list)."""
    raw = _hash(raw, param)
    controls = copy.deepcopy(current)
    for key in ("allowed_categories", "blocked_categories"):
        if key in raw:
            controls[key] = _str_list(raw[key], f"{param}[{key}]", categories=True) or copy.copy(empty_list)
    for key in ("allowed_merchant_countries", "blocked_merchant_countries"):
        if key in raw:
            countries = _str_list(raw[key], f"{param}[{key}]")
            controls[key] = [c.upper() for c in countries] if countries else copy.copy(empty_list)
    for key in ("allowed_card_presences", "blocked_card_presences"):
        if key in raw:
            controls[key] = _str_list(raw[key], f"{param}[{key}]")
    if "spending_limits" in raw:
        controls["spending_limits"] = _spending_limits(raw["spending_limits"], f"{param}[spending_limits]")
    controls["spending_limits_currency"] = currency if controls["spending_limits"] else None
    for allowed, blocked in (
        ("allowed_categories", "blocked_categories"),
        ("allowed_merchant_countries", "blocked_merchant_countries"),
    ):
        if controls[allowed] and controls[blocked]:
            raise _invalid(f"{param}[{blocked}]", f"You may not set both {allowed} and {blocked}.")
    return controls


def _address(raw: Any, param: str) -> dict[str, Any]:
    raw = _hash(raw, param)
    if not raw:
        raise _missing(param)
    address = {
        "city": _str_value(raw.get("city"), f"{param}[city]", required=True),
        "country": (_str_value(raw.get("country"), f"{param}[country]", required=True) or "").upper(),
        "line1": _str_value(raw.get("line1"), f"{param}[line1]", required=True),
        "line2": _str_value(raw.get("line2"), f"{param}[line2]"),
        "postal_code": _str_value(raw.get("postal_code"), f"{param}[postal_code]", required=True),
        "state": _str_value(raw.get("state"), f"{param}[state]"),
    }
    return address


def _metadata_update(current: dict[str, str], params: dict[str, Any]) -> dict[str, str]:
    """Stripe's metadata update: keys merge in, a key set to "" is removed, `metadata=""` clears all."""
    if "metadata" not in params:
        return dict(current)
    raw = params["metadata"]
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise _invalid("metadata", "Invalid hash")
    merged = dict(current)
    for key, value in raw.items():
        if value == "":
            merged.pop(str(key), None)
        else:
            merged[str(key)] = str(value)
    return merged


def _card_number(rng: secrets.SystemRandom) -> str:
    """A 16-digit Visa-shaped test number with a valid Luhn check digit."""
    body = "4000" + "".join(str(rng.randrange(10)) for _ in range(11))
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(body)):
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return body + str((10 - total % 10) % 10)


def _interval_start(interval: str, now: float) -> int | None:
    """The start of the spending-limit interval `now` falls in. Stripe: "All date-based intervals start
    at midnight UTC"; weekly "starting on Sunday", monthly on the 1st, yearly on January 1st."""
    import datetime as dt

    if interval == "all_time":
        return None
    midnight = dt.datetime.fromtimestamp(now, dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "weekly":
        midnight -= dt.timedelta(days=(midnight.weekday() + 1) % 7)  # Monday is 0, Sunday 6
    elif interval == "monthly":
        midnight = midnight.replace(day=1)
    elif interval == "yearly":
        midnight = midnight.replace(month=1, day=1)
    return int(midnight.timestamp())


class _Issuing:
    """Stripe Issuing for `StripeFake`: cardholders, cards and their spending controls, and the
    authorizations and transactions that test-mode helpers create. State lives in the fake's
    `_init_state`; every method here runs with `self._lock` held unless it takes it itself."""

    # set by StripeFake
    _lock: threading.RLock
    currency: str
    _cardholders: dict[str, dict[str, Any]]
    _cards: dict[str, dict[str, Any]]
    _card_secrets: dict[str, dict[str, str]]
    _authorizations: dict[str, dict[str, Any]]
    _auth_holds: dict[str, int]
    _issuing_transactions: dict[str, dict[str, Any]]
    _refunded: dict[str, int]
    _issuing_balance: dict[str, int]
    issuing_clock: Any
    issuing_per_authorization_cap: int | None
    issuing_default_daily_limit: int | None
    _emit: Any
    _page: Any

    _rng = secrets.SystemRandom()

    def _issuing_now(self) -> int:
        return int(self.issuing_clock())

    # -- lookups --

    def _cardholder_or(self, cardholder_id: str, *, status: int, param: str) -> dict[str, Any]:
        cardholder = self._cardholders.get(cardholder_id)
        if cardholder is None:
            raise StripeFakeError(
                status, f"No such cardholder: '{cardholder_id}'", code="resource_missing", param=param
            )
        return cardholder

    def _card_or(self, card_id: str, *, status: int, param: str) -> dict[str, Any]:
        card = self._cards.get(card_id)
        if card is None:
            raise StripeFakeError(status, f"No such card: '{card_id}'", code="resource_missing", param=param)
        return card

    def _authorization_or_404(self, authorization_id: str) -> dict[str, Any]:
        authorization = self._authorizations.get(authorization_id)
        if authorization is None:
            raise StripeFakeError(
                404, f"No such issuing authorization: '{authorization_id}'", code="resource_missing", param="id"
            )
        return authorization

    def _transaction_or_404(self, transaction_id: str) -> dict[str, Any]:
        transaction = self._issuing_transactions.get(transaction_id)
        if transaction is None:
            raise StripeFakeError(
                404, f"No such issuing transaction: '{transaction_id}'", code="resource_missing", param="id"
            )
        return transaction

    # -- views: what the API shows (cards carry their cardholder, authorizations their card) --

    def _card_view(self, card: dict[str, Any], expand: Any = ()) -> dict[str, Any]:
        view = copy.deepcopy(card)
        view["cardholder"] = copy.deepcopy(self._cardholders[card["cardholder"]])
        expand = expand if isinstance(expand, list) else []
        for field in ("number", "cvc"):
            if field in expand:
                view[field] = self._card_secrets[card["id"]][field]
        return view

    def _authorization_view(self, authorization: dict[str, Any]) -> dict[str, Any]:
        view = copy.deepcopy(authorization)
        view["card"] = self._card_view(self._cards[authorization["card"]])
        view["transactions"] = [copy.deepcopy(self._issuing_transactions[t]) for t in authorization["transactions"]]
        return view

    # -- cardholders --

    def _create_cardholder(self, params: dict[str, Any]) -> dict[str, Any]:
        name = _str_param(params, "name", required=True)
        billing = _hash(params.get("billing"), "billing")
        if not billing:
            raise _missing("billing")
        address = _address(billing.get("address"), "billing[address]")
        holder_type = _str_value(params.get("type"), "type", choices=("individual", "company")) or "individual"
        status = _str_value(params.get("status"), "status", choices=("active", "inactive")) or "active"
        individual_params = _hash(params.get("individual"), "individual")
        individual = None
        if individual_params or holder_type == "individual":
            dob = _hash(individual_params.get("dob"), "individual[dob]")
            individual = {
                "card_issuing": None,
                "dob": {
                    "day": _int_value(dob.get("day"), "individual[dob][day]"),
                    "month": _int_value(dob.get("month"), "individual[dob][month]"),
                    "year": _int_value(dob.get("year"), "individual[dob][year]"),
                }
                if dob
                else None,
                "first_name": _str_value(individual_params.get("first_name"), "individual[first_name]"),
                "last_name": _str_value(individual_params.get("last_name"), "individual[last_name]"),
                "verification": None,
            }
        company = None
        if holder_type == "company":
            company = {"tax_id_provided": bool(_hash(params.get("company"), "company").get("tax_id"))}
        raw_controls = _hash(params.get("spending_controls"), "spending_controls")
        limits_currency = _str_value(
            raw_controls.get("spending_limits_currency"), "spending_controls[spending_limits_currency]"
        )
        controls = _parse_spending_controls(
            raw_controls,
            _empty_spending_controls([]),
            currency=(limits_currency or self.currency).lower(),
            empty_list=[],
        )
        locales = params.get("preferred_locales")
        cardholder = {
            "id": new_id("ich"),
            "object": "issuing.cardholder",
            "billing": {"address": address},
            "company": company,
            "created": self._issuing_now(),
            "email": _str_param(params, "email"),
            "individual": individual,
            "livemode": False,
            "metadata": _metadata(params),
            "name": name,
            "phone_number": _str_param(params, "phone_number"),
            "preferred_locales": locales if isinstance(locales, list) else [],
            "requirements": {"disabled_reason": None, "past_due": []},
            "spending_controls": controls,
            "status": status,
            "type": holder_type,
        }
        self._cardholders[cardholder["id"]] = cardholder
        self._emit("issuing_cardholder.created", cardholder)
        return cardholder

    def _update_cardholder(
        self, cardholder_id: str, params: dict[str, Any], *, stripe_side: bool = False
    ) -> dict[str, Any]:
        """The API sets status active|inactive; `stripe_side` (the Python helper) may also set
        `blocked`, which only Stripe itself does."""
        cardholder = self._cardholder_or(cardholder_id, status=404, param="id")
        updated = copy.deepcopy(cardholder)
        if "status" in params:
            choices = ("active", "inactive", "blocked") if stripe_side else ("active", "inactive")
            updated["status"] = _str_value(params["status"], "status", required=True, choices=choices)
        for field in ("email", "phone_number"):
            if field in params:
                updated[field] = _str_param(params, field)
        if "billing" in params:
            updated["billing"] = {
                "address": _address(_hash(params["billing"], "billing").get("address"), "billing[address]")
            }
        if "spending_controls" in params:
            updated["spending_controls"] = _parse_spending_controls(
                params["spending_controls"], cardholder["spending_controls"], currency=self.currency, empty_list=[]
            )
        updated["metadata"] = _metadata_update(cardholder["metadata"], params)
        previous = {k: cardholder[k] for k in cardholder if cardholder[k] != updated[k]}
        self._cardholders[cardholder_id] = updated
        if previous:
            self._emit("issuing_cardholder.updated", updated, previous_attributes=previous)
        return updated

    def _h_issuing_create_cardholder(self, params):
        return self._create_cardholder(params)

    def _h_issuing_get_cardholder(self, params, cardholder_id):
        return self._cardholder_or(cardholder_id, status=404, param="id")

    def _h_issuing_update_cardholder(self, params, cardholder_id):
        return self._update_cardholder(cardholder_id, params)

    def _h_issuing_list_cardholders(self, params):
        items = list(reversed(self._cardholders.values()))
        for field in ("email", "phone_number", "status", "type"):
            if params.get(field):
                items = [c for c in items if c[field] == params[field]]
        return self._page(items, params, "/v1/issuing/cardholders", set(self._cardholders))

    # -- cards --

    def _create_card(self, params: dict[str, Any]) -> dict[str, Any]:
        cardholder_id = _str_param(params, "cardholder", required=True)
        currency = (_str_param(params, "currency", required=True) or "").lower()
        if currency != self.currency:
            raise _invalid(
                "currency", f"Invalid currency: {currency}. Cards on this account are issued in {self.currency}."
            )
        card_type = _str_value(params.get("type"), "type", required=True, choices=("physical", "virtual"))
        status = _str_value(params.get("status"), "status", choices=("active", "inactive")) or "inactive"
        shipping = None
        if card_type == "physical" or params.get("shipping"):
            raw = _hash(params.get("shipping"), "shipping")
            if not raw:
                raise _missing("shipping")
            shipping = {
                "address": _address(raw.get("address"), "shipping[address]"),
                "address_validation": None,
                "business_name": raw.get("business_name") or None,
                "carrier": None,
                "customs": None,
                "eta": None,
                "name": _str_value(raw.get("name"), "shipping[name]", required=True),
                "phone_number": raw.get("phone_number") or None,
                "require_signature": None,
                "service": _str_value(
                    raw.get("service"), "shipping[service]", choices=("express", "priority", "standard")
                )
                or "standard",
                "status": "pending",
                "tracking_number": None,
                "tracking_url": None,
                "type": _str_value(raw.get("type"), "shipping[type]", choices=("bulk", "individual")) or "individual",
            }
        controls = _parse_spending_controls(
            params.get("spending_controls"), _empty_spending_controls(None), currency=currency, empty_list=None
        )
        if not controls["spending_limits"] and self.issuing_default_daily_limit is not None:
            controls["spending_limits"] = [
                {"amount": self.issuing_default_daily_limit, "categories": None, "interval": "daily"}
            ]
            controls["spending_limits_currency"] = currency
        metadata = _metadata(params)
        exp_month = _int_value(params.get("exp_month"), "exp_month", minimum=1)
        exp_year = _int_value(params.get("exp_year"), "exp_year", minimum=2000)
        cardholder = self._cardholder_or(cardholder_id, status=400, param="cardholder")  # type: ignore[arg-type]
        now = self._issuing_now()
        today = time.gmtime(now)
        number = _card_number(self._rng)
        card = {
            "id": new_id("ic"),
            "object": "issuing.card",
            "brand": "Visa",
            "cancellation_reason": None,
            "cardholder": cardholder["id"],
            "created": now,
            "currency": currency,
            "exp_month": exp_month or today.tm_mon,
            "exp_year": exp_year or today.tm_year + 3,
            "financial_account": None,
            "last4": number[-4:],
            "latest_fraud_warning": None,
            "lifecycle_controls": None,
            "livemode": False,
            "metadata": metadata,
            "personalization_design": None,
            "replaced_by": None,
            "replacement_for": None,
            "replacement_reason": None,
            "second_line": None,
            "shipping": shipping,
            "spending_controls": controls,
            "status": status,
            "type": card_type,
            "wallets": {
                "apple_pay": {"eligible": True, "ineligible_reason": None},
                "google_pay": {"eligible": True, "ineligible_reason": None},
                "primary_account_identifier": None,
            },
        }
        self._cards[card["id"]] = card
        self._card_secrets[card["id"]] = {"number": number, "cvc": f"{self._rng.randrange(1000):03d}"}
        view = self._card_view(card)
        self._emit("issuing_card.created", view)
        return view

    def _update_card(self, card_id: str, params: dict[str, Any]) -> dict[str, Any]:
        card = self._card_or(card_id, status=404, param="id")
        updated = copy.deepcopy(card)
        if "status" in params:
            status = _str_value(params["status"], "status", required=True, choices=("active", "canceled", "inactive"))
            if card["status"] == "canceled" and status != "canceled":
                raise StripeFakeError(
                    400, "This card has been canceled and can no longer be activated.", param="status"
                )
            updated["status"] = status
        if "cancellation_reason" in params:
            updated["cancellation_reason"] = _str_value(
                params["cancellation_reason"], "cancellation_reason", choices=("lost", "stolen")
            )
        if "spending_controls" in params:
            updated["spending_controls"] = _parse_spending_controls(
                params["spending_controls"], card["spending_controls"], currency=card["currency"], empty_list=None
            )
        updated["metadata"] = _metadata_update(card["metadata"], params)
        previous = {k: copy.deepcopy(card[k]) for k in card if card[k] != updated[k]}
        self._cards[card_id] = updated
        view = self._card_view(updated)
        if previous:
            self._emit("issuing_card.updated", view, previous_attributes=previous)
        return view

    def _h_issuing_create_card(self, params):
        return self._create_card(params)

    def _h_issuing_get_card(self, params, card_id):
        return self._card_view(self._card_or(card_id, status=404, param="id"), params.get("expand"))

    def _h_issuing_update_card(self, params, card_id):
        return self._update_card(card_id, params)

    def _h_issuing_list_cards(self, params):
        items = list(reversed(self._cards.values()))
        for field in ("cardholder", "status", "type", "last4"):
            if params.get(field):
                items = [c for c in items if c[field] == params[field]]
        views = [self._card_view(c) for c in items]
        return self._page(views, params, "/v1/issuing/cards", set(self._cards))

    # -- spending controls --

    def _issuing_spent(self, card_ids: set[str], since: int | None, categories: list[str] | None) -> int:
        """What counts against a spending limit: the amount still held by approved pending
        authorizations, plus captures (force captures included), on `card_ids` since `since`, in
        `categories` (None: all). Refunds do not give spending back."""
        spent = 0
        for authorization in self._authorizations.values():
            if (
                authorization["card"] in card_ids
                and authorization["approved"]
                and authorization["status"] == "pending"
                and (since is None or authorization["created"] >= since)
                and (not categories or authorization["merchant_data"]["category"] in categories)
            ):
                spent += self._auth_holds.get(authorization["id"], 0)
        for transaction in self._issuing_transactions.values():
            if (
                transaction["card"] in card_ids
                and transaction["type"] == "capture"
                and (since is None or transaction["created"] >= since)
                and (not categories or transaction["merchant_data"]["category"] in categories)
            ):
                spent += -transaction["amount"]
        return spent

    def _controls_decline(self, controls: dict[str, Any], card_ids: set[str], amount: int, merchant: dict) -> bool:
        category, country = merchant["category"], merchant["country"]
        if controls["allowed_categories"] and category not in controls["allowed_categories"]:
            return True
        if controls["blocked_categories"] and category in controls["blocked_categories"]:
            return True
        if controls["allowed_merchant_countries"] and country not in controls["allowed_merchant_countries"]:
            return True
        if controls["blocked_merchant_countries"] and country in controls["blocked_merchant_countries"]:
            return True
        now = self._issuing_now()
        for limit in controls["spending_limits"]:
            if limit["categories"] and category not in limit["categories"]:
                continue  # "Each spending limit only applies to its own categories."
            if limit["interval"] == "per_authorization":
                if amount > limit["amount"]:
                    return True
                continue
            since = _interval_start(limit["interval"], now)
            if self._issuing_spent(card_ids, since, limit["categories"]) + amount > limit["amount"]:
                return True
        return False

    def _decide(self, card: dict[str, Any], amount: int, merchant: dict[str, Any]) -> str | None:
        """None: approve; else the `request_history[].reason` of the decline."""
        if card["status"] != "active":
            return "card_canceled" if card["status"] == "canceled" else "card_inactive"
        cardholder = self._cardholders[card["cardholder"]]
        if cardholder["status"] != "active":
            return "cardholder_blocked" if cardholder["status"] == "blocked" else "cardholder_inactive"
        if self._controls_decline(card["spending_controls"], {card["id"]}, amount, merchant):
            return "spending_controls"
        holder_cards = {c["id"] for c in self._cards.values() if c["cardholder"] == cardholder["id"]}
        if self._controls_decline(cardholder["spending_controls"], holder_cards, amount, merchant):
            return "spending_controls"
        if self.issuing_per_authorization_cap is not None and amount > self.issuing_per_authorization_cap:
            return "spending_controls"
        if self._issuing_balance.get(card["currency"], 0) < amount:
            return "insufficient_funds"
        return None

    # -- authorizations and transactions (test helpers) --

    def _merchant_data(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = _hash(params.get("merchant_data"), "merchant_data")
        category = _category(raw.get("category") or DEFAULT_MERCHANT_CATEGORY, "merchant_data[category]")
        return {
            "category": category,
            "category_code": MERCHANT_CATEGORY_CODES.get(category, "0000"),
            "city": raw.get("city") or None,
            "country": (raw.get("country") or "GB").upper(),
            "name": raw.get("name") or None,
            "network_id": raw.get("network_id") or "1234567890",
            "postal_code": raw.get("postal_code") or None,
            "state": raw.get("state") or None,
            "tax_id": None,
            "terminal_id": raw.get("terminal_id") or None,
            "url": raw.get("url") or None,
        }

    def _issuing_currency(self, params: dict[str, Any], card: dict[str, Any] | None) -> str:
        currency = (_str_param(params, "currency") or (card["currency"] if card else self.currency)).lower()
        if currency != self.currency:
            raise _invalid(
                "currency", f"Invalid currency: {currency}. The fake's Issuing works in {self.currency} only."
            )
        return currency

    def _balance_transaction(self, amount: int, currency: str, kind: str, source: str) -> dict[str, Any]:
        now = self._issuing_now()
        return {
            "id": new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": now,
            "balance_type": "issuing",
            "created": now,
            "currency": currency,
            "description": None,
            "exchange_rate": None,
            "fee": 0,
            "fee_details": [],
            "net": amount,
            "reporting_category": kind,
            "source": source,
            "status": "available",
            "type": kind,
        }

    def _create_authorization(self, params: dict[str, Any]) -> dict[str, Any]:
        card_id = _str_param(params, "card", required=True)
        merchant_amount = _int_param(params, "merchant_amount", minimum=0)
        amount = _int_param(params, "amount", required=merchant_amount is None, minimum=0)
        amount = merchant_amount if amount is None else amount
        merchant = self._merchant_data(params)
        method = (
            _str_value(
                params.get("authorization_method"),
                "authorization_method",
                choices=("chip", "contactless", "keyed_in", "online", "swipe"),
            )
            or "online"
        )
        wallet = _str_value(params.get("wallet"), "wallet", choices=("apple_pay", "google_pay", "samsung_pay"))
        details = _hash(params.get("amount_details"), "amount_details")
        card = self._card_or(card_id, status=400, param="card")  # type: ignore[arg-type]
        currency = self._issuing_currency(params, card)
        merchant_currency = (_str_param(params, "merchant_currency") or currency).lower()
        now = self._issuing_now()
        reason = self._decide(card, amount, merchant)  # type: ignore[arg-type]
        approved = reason is None
        authorization_id = new_id("iauth")
        balance_transactions = []
        if approved:
            self._issuing_balance[currency] = self._issuing_balance.get(currency, 0) - amount  # type: ignore[operator]
            self._auth_holds[authorization_id] = amount  # type: ignore[assignment]
            balance_transactions.append(
                self._balance_transaction(-amount, currency, "issuing_authorization_hold", authorization_id)  # type: ignore[operator]
            )
        amount_details = {
            "atm_fee": _int_value(details.get("atm_fee"), "amount_details[atm_fee]"),
            "cashback_amount": _int_value(details.get("cashback_amount"), "amount_details[cashback_amount]"),
        }
        verification = _hash(params.get("verification_data"), "verification_data")
        authorization = {
            "id": authorization_id,
            "object": "issuing.authorization",
            "amount": amount,
            "amount_details": amount_details,
            "approved": approved,
            "authorization_method": method,
            "balance_transactions": balance_transactions,
            "card": card["id"],
            "card_presence": None,
            "cardholder": card["cardholder"],
            "created": now,
            "currency": currency,
            "fleet": None,
            "fraud_challenges": [],
            "fuel": None,
            "livemode": False,
            "merchant_amount": amount,
            "merchant_currency": merchant_currency,
            "merchant_data": merchant,
            "metadata": {},
            "network_data": {
                "acquiring_institution_id": None,
                "system_trace_audit_number": None,
                "transaction_id": None,
            },
            "pending_request": None,
            "request_history": [
                {
                    "amount": amount,
                    "amount_details": amount_details,
                    "approved": approved,
                    "authorization_code": f"S{self._rng.randrange(1_000_000):06d}" if approved else None,
                    "created": now,
                    "currency": currency,
                    "merchant_amount": amount,
                    "merchant_currency": merchant_currency,
                    "network_risk_score": None,
                    "reason": reason or "card_active",
                    "reason_message": None,
                    "requested_at": now,
                }
            ],
            "status": "pending" if approved else "closed",
            "token": None,
            "transactions": [],
            "treasury": None,
            "verification_data": {
                "address_line1_check": verification.get("address_line1_check") or "not_provided",
                "address_postal_code_check": verification.get("address_postal_code_check") or "not_provided",
                "authentication_exemption": None,
                "cvc_check": verification.get("cvc_check") or "not_provided",
                "expiry_check": verification.get("expiry_check") or "not_provided",
                "postal_code": None,
                "three_d_secure": None,
            },
            "verified_by_fraud_challenge": None,
            "wallet": wallet,
        }
        self._authorizations[authorization_id] = authorization
        view = self._authorization_view(authorization)
        self._emit("issuing_authorization.created", view)
        return view

    def _new_transaction(
        self,
        *,
        kind: str,
        amount: int,
        card: dict[str, Any],
        currency: str,
        merchant: dict[str, Any],
        authorization: dict[str, Any] | None,
        purchase_details: Any = None,
    ) -> dict[str, Any]:
        """Record an issuing.transaction: `amount` is signed as Stripe signs it (a capture is
        negative, a refund positive) and moves the Issuing balance by that much."""
        now = self._issuing_now()
        transaction_id = new_id("ipi")
        balance_transaction = self._balance_transaction(amount, currency, "issuing_transaction", transaction_id)
        transaction = {
            "id": transaction_id,
            "object": "issuing.transaction",
            "amount": amount,
            "amount_details": {"atm_fee": None, "cashback_amount": None},
            "authorization": authorization["id"] if authorization else None,
            "balance_transaction": balance_transaction["id"],
            "card": card["id"],
            "cardholder": card["cardholder"],
            "created": now,
            "currency": currency,
            "dispute": None,
            "livemode": False,
            "merchant_amount": amount,
            "merchant_currency": currency,
            "merchant_data": copy.deepcopy(merchant),
            "metadata": {},
            "network_data": {
                "authorization_code": authorization["request_history"][0]["authorization_code"]
                if authorization
                else None,
                "processing_date": time.strftime("%Y-%m-%d", time.gmtime(now)),
                "transaction_id": None,
            },
            "purchase_details": purchase_details if isinstance(purchase_details, dict) else None,
            "token": None,
            "treasury": None,
            "type": kind,
            "wallet": authorization["wallet"] if authorization else None,
        }
        self._issuing_transactions[transaction_id] = transaction
        self._issuing_balance[currency] = self._issuing_balance.get(currency, 0) + amount
        if authorization is not None:
            authorization["transactions"].append(transaction_id)
        self._emit("issuing_transaction.created", transaction)
        return transaction

    def _release_hold(self, authorization: dict[str, Any], amount: int) -> None:
        held = self._auth_holds.get(authorization["id"], 0)
        amount = min(amount, held)
        if amount <= 0:
            return
        self._auth_holds[authorization["id"]] = held - amount
        currency = authorization["currency"]
        self._issuing_balance[currency] = self._issuing_balance.get(currency, 0) + amount
        authorization["balance_transactions"].append(
            self._balance_transaction(amount, currency, "issuing_authorization_release", authorization["id"])
        )

    def _pending_or_refuse(self, authorization: dict[str, Any], action: str) -> None:
        if not authorization["approved"]:
            raise StripeFakeError(400, f"Authorization {authorization['id']} was declined and cannot be {action}.")
        if authorization["status"] != "pending":
            raise StripeFakeError(
                400, f"Authorization {authorization['id']} is {authorization['status']} and cannot be {action}."
            )

    def _capture(self, authorization_id: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Returns (authorization view, the capture transaction)."""
        capture_amount = _int_param(params, "capture_amount", minimum=0)
        close = _bool(params["close_authorization"]) if params.get("close_authorization") not in (None, "") else True
        authorization = self._authorization_or_404(authorization_id)
        self._pending_or_refuse(authorization, "captured")
        held = self._auth_holds.get(authorization_id, 0)
        amount = held if capture_amount is None else capture_amount
        previous = {"status": authorization["status"]}
        # captures always succeed (spending controls and card status do not apply to them)
        self._release_hold(authorization, held if close else min(amount, held))
        if close:
            authorization["status"] = "closed"
        card = self._cards[authorization["card"]]
        transaction = self._new_transaction(
            kind="capture",
            amount=-amount,
            card=card,
            currency=authorization["currency"],
            merchant=authorization["merchant_data"],
            authorization=authorization,
            purchase_details=params.get("purchase_details"),
        )
        view = self._authorization_view(authorization)
        self._emit(
            "issuing_authorization.updated",
            view,
            previous_attributes=previous if close else {"transactions": view["transactions"][:-1]},
        )
        return view, transaction

    def _reverse(self, authorization_id: str, params: dict[str, Any]) -> dict[str, Any]:
        reverse_amount = _int_param(params, "reverse_amount", minimum=1)
        authorization = self._authorization_or_404(authorization_id)
        self._pending_or_refuse(authorization, "reversed")
        held = self._auth_holds.get(authorization_id, 0)
        amount = held if reverse_amount is None else reverse_amount
        if amount > held:
            raise StripeFakeError(
                400,
                f"The reverse_amount ({amount}) is greater than the amount still held by the authorization ({held}).",
                param="reverse_amount",
            )
        previous = {"amount": authorization["amount"], "merchant_amount": authorization["merchant_amount"]}
        self._release_hold(authorization, amount)
        authorization["amount"] -= amount
        authorization["merchant_amount"] -= amount
        if self._auth_holds.get(authorization_id, 0) == 0:
            previous["status"] = authorization["status"]
            authorization["status"] = "closed" if authorization["transactions"] else "reversed"
        view = self._authorization_view(authorization)
        self._emit("issuing_authorization.updated", view, previous_attributes=previous)
        return view

    def _refund(self, transaction_id: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Returns (the refunded capture, the new refund transaction)."""
        refund_amount = _int_param(params, "refund_amount", minimum=1)
        original = self._transaction_or_404(transaction_id)
        if original["type"] != "capture":
            raise StripeFakeError(
                400, f"Transaction {transaction_id} is a {original['type']}; only captures can be refunded."
            )
        remaining = -original["amount"] - self._refunded.get(transaction_id, 0)
        amount = remaining if refund_amount is None else refund_amount
        if amount <= 0 or amount > remaining:
            raise StripeFakeError(
                400,
                f"Refund amount ({amount}) is greater than what is left to refund of the transaction ({remaining}).",
                param="refund_amount",
            )
        self._refunded[transaction_id] = self._refunded.get(transaction_id, 0) + amount
        authorization = self._authorizations.get(original["authorization"] or "")
        refund = self._new_transaction(
            kind="refund",
            amount=amount,
            card=self._cards[original["card"]],
            currency=original["currency"],
            merchant=original["merchant_data"],
            authorization=authorization,
        )
        return copy.deepcopy(original), refund

    def _unlinked(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        card_id = _str_param(params, "card", required=True)
        amount = _int_param(params, "amount", required=True, minimum=1)
        merchant = self._merchant_data(params)
        card = self._card_or(card_id, status=400, param="card")  # type: ignore[arg-type]
        currency = self._issuing_currency(params, card)
        signed = -amount if kind == "capture" else amount  # type: ignore[operator]
        return self._new_transaction(
            kind=kind,
            amount=signed,
            card=card,
            currency=currency,
            merchant=merchant,
            authorization=None,
            purchase_details=params.get("purchase_details"),
        )

    def _h_issuing_test_create_authorization(self, params):
        return self._create_authorization(params)

    def _h_issuing_test_capture(self, params, authorization_id):
        return self._capture(authorization_id, params)[0]

    def _h_issuing_test_reverse(self, params, authorization_id):
        return self._reverse(authorization_id, params)

    def _h_issuing_test_force_capture(self, params):
        return self._unlinked(params, "capture")

    def _h_issuing_test_unlinked_refund(self, params):
        return self._unlinked(params, "refund")

    def _h_issuing_test_refund(self, params, transaction_id):
        return self._refund(transaction_id, params)[0]  # Stripe answers with the refunded capture

    def _h_issuing_get_authorization(self, params, authorization_id):
        return self._authorization_view(self._authorization_or_404(authorization_id))

    def _h_issuing_list_authorizations(self, params):
        items = list(reversed(self._authorizations.values()))
        for field in ("card", "cardholder", "status"):
            if params.get(field):
                items = [a for a in items if a[field] == params[field]]
        views = [self._authorization_view(a) for a in items]
        return self._page(views, params, "/v1/issuing/authorizations", set(self._authorizations))

    def _h_issuing_get_transaction(self, params, transaction_id):
        return self._transaction_or_404(transaction_id)

    def _h_issuing_list_transactions(self, params):
        items = list(reversed(self._issuing_transactions.values()))
        for field in ("card", "cardholder", "type"):
            if params.get(field):
                items = [t for t in items if t[field] == params[field]]
        return self._page(items, params, "/v1/issuing/transactions", set(self._issuing_transactions))

    _ISSUING_ROUTES = (
        ("POST", re.compile(r"^/v1/issuing/cardholders$"), "_h_issuing_create_cardholder"),
        ("GET", re.compile(r"^/v1/issuing/cardholders$"), "_h_issuing_list_cardholders"),
        ("GET", re.compile(r"^/v1/issuing/cardholders/([^/]+)$"), "_h_issuing_get_cardholder"),
        ("POST", re.compile(r"^/v1/issuing/cardholders/([^/]+)$"), "_h_issuing_update_cardholder"),
        ("POST", re.compile(r"^/v1/issuing/cards$"), "_h_issuing_create_card"),
        ("GET", re.compile(r"^/v1/issuing/cards$"), "_h_issuing_list_cards"),
        ("GET", re.compile(r"^/v1/issuing/cards/([^/]+)$"), "_h_issuing_get_card"),
        ("POST", re.compile(r"^/v1/issuing/cards/([^/]+)$"), "_h_issuing_update_card"),
        ("GET", re.compile(r"^/v1/issuing/authorizations$"), "_h_issuing_list_authorizations"),
        ("GET", re.compile(r"^/v1/issuing/authorizations/([^/]+)$"), "_h_issuing_get_authorization"),
        ("GET", re.compile(r"^/v1/issuing/transactions$"), "_h_issuing_list_transactions"),
        ("GET", re.compile(r"^/v1/issuing/transactions/([^/]+)$"), "_h_issuing_get_transaction"),
        ("POST", re.compile(r"^/v1/test_helpers/issuing/authorizations$"), "_h_issuing_test_create_authorization"),
        (
            "POST",
            re.compile(r"^/v1/test_helpers/issuing/authorizations/([^/]+)/capture$"),
            "_h_issuing_test_capture",
        ),
        (
            "POST",
            re.compile(r"^/v1/test_helpers/issuing/authorizations/([^/]+)/reverse$"),
            "_h_issuing_test_reverse",
        ),
        (
            "POST",
            re.compile(r"^/v1/test_helpers/issuing/transactions/create_force_capture$"),
            "_h_issuing_test_force_capture",
        ),
        (
            "POST",
            re.compile(r"^/v1/test_helpers/issuing/transactions/create_unlinked_refund$"),
            "_h_issuing_test_unlinked_refund",
        ),
        (
            "POST",
            re.compile(r"^/v1/test_helpers/issuing/transactions/([^/]+)/refund$"),
            "_h_issuing_test_refund",
        ),
    )

    # -- Python helpers for tests (no HTTP; the same checks, balance movements and webhooks) --

    def create_cardholder(
        self,
        *,
        name: str = "Jenny Rosen",
        email: str | None = None,
        phone_number: str | None = None,
        type: str = "individual",
        status: str = "active",
        first_name: str | None = None,
        last_name: str | None = None,
        address: dict[str, str] | None = None,
        spending_controls: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Seed a cardholder (a UK billing address unless `address` is given)."""
        params: dict[str, Any] = {
            "name": name,
            "type": type,
            "status": status,
            "billing": {
                "address": address
                or {"line1": "1 Test Street", "city": "London", "postal_code": "SW1A 1AA", "country": "GB"}
            },
            "metadata": metadata or {},
        }
        for key, value in (("email", email), ("phone_number", phone_number), ("spending_controls", spending_controls)):
            if value is not None:
                params[key] = value
        if first_name or last_name:
            params["individual"] = {"first_name": first_name or "", "last_name": last_name or ""}
        with self._lock:
            return copy.deepcopy(self._create_cardholder(params))

    def update_cardholder(self, cardholder_id: str, **changes: Any) -> dict[str, Any]:
        """`changes` as the API takes them: status= (also "blocked", as Stripe itself may set it),
        email=, phone_number=, spending_controls=, metadata=."""
        with self._lock:
            return copy.deepcopy(self._update_cardholder(cardholder_id, changes, stripe_side=True))

    def create_card(
        self,
        cardholder: str,
        *,
        status: str = "active",
        type: str = "virtual",
        currency: str | None = None,
        spending_controls: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Seed a card (active unless said otherwise; the API's own default is `inactive`)."""
        params: dict[str, Any] = {
            "cardholder": cardholder,
            "currency": currency or self.currency,
            "type": type,
            "status": status,
            "metadata": metadata or {},
        }
        if spending_controls is not None:
            params["spending_controls"] = spending_controls
        if type == "physical":
            params["shipping"] = {
                "name": "Jenny Rosen",
                "address": {"line1": "1 Test Street", "city": "London", "postal_code": "SW1A 1AA", "country": "GB"},
            }
        with self._lock:
            return copy.deepcopy(self._create_card(params))

    def update_card(self, card_id: str, **changes: Any) -> dict[str, Any]:
        """`changes` as the API takes them: status=, spending_controls=, metadata=, cancellation_reason=.
        `spending_controls={"spending_limits": [...]}` replaces every limit, as the API does."""
        with self._lock:
            return copy.deepcopy(self._update_card(card_id, changes))

    def cardholders(self) -> list[dict[str, Any]]:
        """Stored cardholders, oldest first (copies)."""
        with self._lock:
            return copy.deepcopy(list(self._cardholders.values()))

    def get_cardholder(self, cardholder_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._cardholders.get(cardholder_id))

    def cards(self, cardholder: str | None = None) -> list[dict[str, Any]]:
        """Stored cards as the API shows them (cardholder expanded), oldest first."""
        with self._lock:
            return [self._card_view(c) for c in self._cards.values() if cardholder in (None, c["cardholder"])]

    def get_card(self, card_id: str) -> dict[str, Any] | None:
        with self._lock:
            card = self._cards.get(card_id)
            return self._card_view(card) if card else None

    def authorize(
        self,
        card_id: str,
        amount: int,
        *,
        category: str = DEFAULT_MERCHANT_CATEGORY,
        merchant_name: str = "Test merchant",
        merchant_city: str = "London",
        merchant_country: str = "GB",
        currency: str | None = None,
    ) -> dict[str, Any]:
        """What `POST /v1/test_helpers/issuing/authorizations` does: an authorization on the card,
        approved (status "pending", the amount held) or declined (status "closed") by the card's and
        cardholder's status and spending controls and the Issuing balance. Emits
        `issuing_authorization.created`."""
        params: dict[str, Any] = {
            "card": card_id,
            "amount": str(amount),
            "merchant_data": {
                "category": category,
                "name": merchant_name,
                "city": merchant_city,
                "country": merchant_country,
            },
        }
        if currency:
            params["currency"] = currency
        with self._lock:
            return self._create_authorization(params)

    def capture(self, authorization_id: str, amount: int | None = None, *, close_authorization: bool = True) -> dict:
        """Capture an approved authorization (all it holds unless `amount`); returns the new
        `issuing.transaction` (type "capture", amount negative). Emits `issuing_transaction.created`
        then `issuing_authorization.updated`. (The HTTP helper answers with the authorization.)"""
        params: dict[str, Any] = {"close_authorization": "true" if close_authorization else "false"}
        if amount is not None:
            params["capture_amount"] = str(amount)
        with self._lock:
            return copy.deepcopy(self._capture(authorization_id, params)[1])

    def reverse(self, authorization_id: str, amount: int | None = None) -> dict[str, Any]:
        """Release what an approved authorization holds (all unless `amount`); returns the
        authorization. Emits `issuing_authorization.updated`."""
        params = {} if amount is None else {"reverse_amount": str(amount)}
        with self._lock:
            return self._reverse(authorization_id, params)

    def refund(self, transaction_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refund a capture (what is left of it unless `amount`); returns the NEW transaction (type
        "refund", amount positive). Emits `issuing_transaction.created`. (The HTTP helper answers
        with the refunded capture, as Stripe does.)"""
        params = {} if amount is None else {"refund_amount": str(amount)}
        with self._lock:
            return copy.deepcopy(self._refund(transaction_id, params)[1])

    def force_capture(
        self,
        card_id: str,
        amount: int,
        *,
        category: str = DEFAULT_MERCHANT_CATEGORY,
        merchant_name: str = "Test merchant",
    ) -> dict[str, Any]:
        """A capture with no authorization (spending controls do not apply); returns the transaction."""
        params = {
            "card": card_id,
            "amount": str(amount),
            "merchant_data": {"category": category, "name": merchant_name},
        }
        with self._lock:
            return copy.deepcopy(self._unlinked(params, "capture"))

    def unlinked_refund(
        self,
        card_id: str,
        amount: int,
        *,
        category: str = DEFAULT_MERCHANT_CATEGORY,
        merchant_name: str = "Test merchant",
    ) -> dict[str, Any]:
        """A refund linked to no authorization; returns the transaction (amount positive)."""
        params = {
            "card": card_id,
            "amount": str(amount),
            "merchant_data": {"category": category, "name": merchant_name},
        }
        with self._lock:
            return copy.deepcopy(self._unlinked(params, "refund"))

    def authorizations(self, card: str | None = None) -> list[dict[str, Any]]:
        """Authorizations as the API shows them, oldest first."""
        with self._lock:
            return [self._authorization_view(a) for a in self._authorizations.values() if card in (None, a["card"])]

    def get_authorization(self, authorization_id: str) -> dict[str, Any] | None:
        with self._lock:
            authorization = self._authorizations.get(authorization_id)
            return self._authorization_view(authorization) if authorization else None

    def issuing_transactions(self, card: str | None = None, cardholder: str | None = None) -> list[dict[str, Any]]:
        """Issuing transactions, oldest first."""
        with self._lock:
            return copy.deepcopy(
                [
                    t
                    for t in self._issuing_transactions.values()
                    if card in (None, t["card"]) and cardholder in (None, t["cardholder"])
                ]
            )

    def get_issuing_transaction(self, transaction_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._issuing_transactions.get(transaction_id))

    def issuing_balance(self, currency: str | None = None) -> int:
        """The available Issuing balance in pence: what `GET /v1/balance` shows as `issuing.available`
        (approved authorizations hold, captures and force captures debit, refunds credit)."""
        with self._lock:
            return self._issuing_balance.get((currency or self.currency).lower(), 0)

    def set_issuing_balance(self, pence: int, currency: str | None = None) -> None:
        with self._lock:
            self._issuing_balance[(currency or self.currency).lower()] = int(pence)


# --- Checkout ------------------------------------------------------------------------------------

#: every Checkout event the fake emits; `DEFAULT_CHECKOUT_WEBHOOK_EVENTS` are delivered without opting in
CHECKOUT_EVENT_TYPES = frozenset({"checkout.session.completed", "checkout.session.expired"})
DEFAULT_CHECKOUT_WEBHOOK_EVENTS = frozenset({"checkout.session.completed"})
CHECKOUT_MAX_LINE_ITEMS = 100
CHECKOUT_MIN_LIFETIME = 30 * 60  # `expires_at`: 30 minutes to 24 hours after creation (default 24 hours)
CHECKOUT_MAX_LIFETIME = 24 * 60 * 60
#: Stripe's minimum charge amounts (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts) for
#: the currencies the fake is likely to meet; a session in another currency goes unchecked
CHECKOUT_MINIMUM_AMOUNTS = {"gbp": 30, "usd": 50, "eur": 50}
_CURRENCY_SYMBOLS = {"gbp": "£", "usd": "$", "eur": "€"}
_HTML = "text/html; charset=utf-8"


def _checkout_session_id() -> str:
    """`cs_test_a1` and 56 letters and digits, as Stripe's test-mode session ids look."""
    return "cs_test_a1" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(56))


def _money(amount: int, currency: str) -> str:
    symbol = _CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount / 100:,.2f}" if symbol else f"{amount / 100:,.2f} {currency.upper()}"


def _page_html(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Stripe fake: {html.escape(title)}</title></head><body>{body}</body></html>"
    ).encode()


class _Checkout:
    """Stripe Checkout Sessions (`mode=payment`, inline `price_data`, the hosted page) for
    `StripeFake`. State lives in the fake's `_init_state`; every method here runs with `self._lock`
    held unless it takes it itself."""

    # set by StripeFake
    _lock: threading.RLock
    url: str
    _balance: dict[str, int]
    _checkout_sessions: dict[str, dict[str, Any]]
    _checkout_line_items: dict[str, list[dict[str, Any]]]
    _checkout_intent_data: dict[str, dict[str, Any]]
    _payment_intents: dict[str, dict[str, Any]]
    checkout_clock: Any
    _emit: Any
    _page: Any

    def _checkout_now(self) -> int:
        return int(self.checkout_clock())

    # -- lookups and views --

    def _checkout_or(self, session_id: str, *, status: int = 404, param: str = "session") -> dict[str, Any]:
        self._checkout_sweep()
        session = self._checkout_sessions.get(session_id)
        if session is None:
            raise StripeFakeError(
                status, f"No such checkout.session: '{session_id}'", code="resource_missing", param=param
            )
        return session

    def _checkout_view(self, session: dict[str, Any], expand: Any = ()) -> dict[str, Any]:
        """The session as the API shows it: `line_items` only when expanded (as Stripe), and
        `payment_intent` as the object when expanded."""
        view = copy.deepcopy(session)
        expand = expand if isinstance(expand, list) else []
        if "line_items" in expand:
            view["line_items"] = self._line_items_page(session["id"], {})
        if "payment_intent" in expand and session["payment_intent"]:
            view["payment_intent"] = copy.deepcopy(self._payment_intents[session["payment_intent"]])
        return view

    def _line_items_page(self, session_id: str, params: dict[str, Any]) -> dict[str, Any]:
        items = self._checkout_line_items[session_id]
        url = f"/v1/checkout/sessions/{session_id}/line_items"
        return self._page(copy.deepcopy(items), params, url, {item["id"] for item in items})

    def _checkout_sweep(self) -> None:
        """Expire the open sessions whose `expires_at` has passed (Stripe does it on its own)."""
        now = self._checkout_now()
        for session in list(self._checkout_sessions.values()):
            if session["status"] == "open" and session["expires_at"] <= now:
                self._expire(session)

    def _expire(self, session: dict[str, Any]) -> None:
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", self._checkout_view(session))

    # -- creation --

    def _line_items(self, raw: Any) -> list[dict[str, Any]]:
        if raw is None or raw == "":
            raise _missing("line_items")
        if not isinstance(raw, list):
            raise _invalid("line_items", "Invalid array")
        if len(raw) > CHECKOUT_MAX_LINE_ITEMS:
            raise _invalid("line_items", f"You may only specify up to {CHECKOUT_MAX_LINE_ITEMS} line items.")
        now = self._checkout_now()
        items: list[dict[str, Any]] = []
        for i, item in enumerate(raw):
            at = f"line_items[{i}]"
            if not isinstance(item, dict):
                raise _invalid(at, "Invalid hash")
            if item.get("price"):
                # the fake keeps no Price objects: only inline `price_data`
                raise StripeFakeError(
                    400, f"No such price: '{item['price']}'", code="resource_missing", param=f"{at}[price]"
                )
            price_data = _hash(item.get("price_data"), f"{at}[price_data]")
            if not price_data:
                raise StripeFakeError(
                    400,
                    "You must specify either `price` or `price_data` for each line item.",
                    code="parameter_missing",
                    param=f"{at}[price_data]",
                    store=False,
                )
            at_price = f"{at}[price_data]"
            currency = (_str_value(price_data.get("currency"), f"{at_price}[currency]", required=True) or "").lower()
            if not re.fullmatch(r"[a-z]{3}", currency):
                raise _invalid(f"{at_price}[currency]", f"Invalid currency: {currency}.")
            if price_data.get("recurring"):
                raise _invalid(
                    f"{at_price}[recurring]",
                    "You specified `payment` mode but passed a recurring price. Either switch to `subscription` "
                    "mode or use only one-time prices.",
                )
            if price_data.get("product"):
                raise StripeFakeError(
                    400,
                    f"No such product: '{price_data['product']}'",
                    code="resource_missing",
                    param=f"{at_price}[product]",
                )
            product_data = _hash(price_data.get("product_data"), f"{at_price}[product_data]")
            if not product_data:
                raise StripeFakeError(
                    400,
                    "You must specify either `product` or `product_data` when creating a price.",
                    code="parameter_missing",
                    param=f"{at_price}[product_data]",
                    store=False,
                )
            name = _str_value(product_data.get("name"), f"{at_price}[product_data][name]", required=True)
            unit_amount = _int_value(
                price_data.get("unit_amount"), f"{at_price}[unit_amount]", required=True, minimum=0
            )
            quantity = _int_value(item.get("quantity"), f"{at}[quantity]", required=True, minimum=1)
            if items and currency != items[0]["currency"]:
                raise _invalid(
                    f"{at_price}[currency]",
                    f"All line items must use the same currency: `{items[0]['currency']}` and `{currency}` were given.",
                )
            amount = unit_amount * quantity  # type: ignore[operator]
            items.append(
                {
                    "id": new_id("li"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": 0,
                    "amount_total": amount,
                    "currency": currency,
                    "description": name,
                    "metadata": {},
                    "price": {
                        "id": new_id("price"),
                        "object": "price",
                        "active": False,
                        "billing_scheme": "per_unit",
                        "created": now,
                        "currency": currency,
                        "custom_unit_amount": None,
                        "livemode": False,
                        "lookup_key": None,
                        "metadata": {},
                        "nickname": None,
                        "product": new_id("prod"),
                        "recurring": None,
                        "tax_behavior": "unspecified",
                        "tiers_mode": None,
                        "transform_quantity": None,
                        "type": "one_time",
                        "unit_amount": unit_amount,
                        "unit_amount_decimal": str(unit_amount),
                    },
                    "quantity": quantity,
                }
            )
        if not items:
            raise _missing("line_items")
        return items

    def _create_checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = _str_param(params, "mode", required=True)
        if mode != "payment":
            raise _invalid(
                "mode",
                f"Invalid mode: {mode}. The Stripe fake supports only `payment` mode"
                + ("." if mode in ("setup", "subscription") else "; Stripe's are payment, setup and subscription."),
            )
        ui_mode = _str_value(params.get("ui_mode"), "ui_mode") or "hosted_page"
        if ui_mode != "hosted_page":
            raise _invalid("ui_mode", f"Invalid ui_mode: {ui_mode}. The Stripe fake supports only `hosted_page`.")
        items = self._line_items(params.get("line_items"))
        success_url = _str_param(params, "success_url", required=True)
        cancel_url = _str_param(params, "cancel_url")
        for name, value in (("success_url", success_url), ("cancel_url", cancel_url)):
            if value is not None and not re.match(r"^https?://[^/\s]+", value):
                raise _invalid(name, f"Not a valid URL: {value}")
        client_reference_id = _str_param(params, "client_reference_id")
        customer_email = _str_param(params, "customer_email")
        metadata = _metadata(params)
        intent_data = _hash(params.get("payment_intent_data"), "payment_intent_data")
        raw_intent_metadata = _hash(intent_data.get("metadata"), "payment_intent_data[metadata]")
        intent_metadata = {str(k): str(v) for k, v in raw_intent_metadata.items() if v != ""}
        created = self._checkout_now()
        expires_at = _int_param(params, "expires_at")
        if expires_at is None:
            expires_at = created + CHECKOUT_MAX_LIFETIME
        elif expires_at < created + CHECKOUT_MIN_LIFETIME:
            raise _invalid(
                "expires_at", "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
            )
        elif expires_at > created + CHECKOUT_MAX_LIFETIME:
            raise _invalid(
                "expires_at", "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
            )
        currency = items[0]["currency"]
        total = sum(item["amount_total"] for item in items)
        minimum = CHECKOUT_MINIMUM_AMOUNTS.get(currency)
        if minimum is not None and total < minimum:
            raise StripeFakeError(
                400,
                f"The Checkout Session's total amount due must add up to at least {_money(minimum, currency)} "
                f"{currency}",
                store=False,
            )
        session_id = _checkout_session_id()
        session = {
            "id": session_id,
            "object": "checkout.session",
            "adaptive_pricing": None,
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": total,
            "amount_total": total,
            "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": cancel_url,
            "client_reference_id": client_reference_id,
            "client_secret": None,
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": created,
            "currency": currency,
            "currency_conversion": None,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": None,
            "customer_creation": "if_required",
            "customer_details": None,  # what the customer enters on the page, once complete
            "customer_email": customer_email,
            "discounts": [],
            "expires_at": expires_at,
            "invoice": None,
            "invoice_creation": {
                "enabled": False,
                "invoice_data": {
                    "account_tax_ids": None,
                    "custom_fields": None,
                    "description": None,
                    "footer": None,
                    "issuer": None,
                    "metadata": {},
                    "rendering_options": None,
                },
            },
            "livemode": False,
            "locale": None,
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "if_required",
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "saved_payment_method_options": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
            "url": f"{self.url}/checkout/{session_id}",
        }
        self._checkout_sessions[session_id] = session
        self._checkout_line_items[session_id] = items
        self._checkout_intent_data[session_id] = {"metadata": intent_metadata}
        return session

    # -- completing (what the customer does on the hosted page) --

    def _complete_checkout(
        self, session_id: str, *, email: str | None = None, name: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Pay an open session: (session, True). A session already complete: (session, False), nothing
        done. An expired one: a 400 StripeFakeError."""
        session = self._checkout_or(session_id)
        if session["status"] == "complete":
            return session, False
        if session["status"] != "open":
            raise StripeFakeError(
                400, f"Checkout Session {session_id} has status {session['status']!r} and cannot be paid."
            )
        now = self._checkout_now()
        amount, currency = session["amount_total"], session["currency"]
        intent_id = new_id("pi")
        self._payment_intents[intent_id] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": amount,
            "application_fee_amount": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(25)),
            "confirmation_method": "automatic",
            "created": now,
            "currency": currency,
            "customer": None,
            "description": None,
            "last_payment_error": None,
            "latest_charge": new_id("ch"),
            "livemode": False,
            "metadata": copy.deepcopy(self._checkout_intent_data[session_id]["metadata"]),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": new_id("pm"),
            "payment_method_types": ["card"],
            "receipt_email": None,
            "status": "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        }
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=intent_id,
            url=None,
            customer_details={
                "address": {
                    "city": None,
                    "country": "GB",
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "business_name": None,
                "email": email or session["customer_email"] or "customer@example.com",
                "individual_name": None,
                "name": name,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
        )
        self._balance[currency] = self._balance.get(currency, 0) + amount
        self._emit("checkout.session.completed", self._checkout_view(session))
        return session, True

    # -- endpoints --

    def _h_checkout_create_session(self, params):
        return self._checkout_view(self._create_checkout_session(params), params.get("expand"))

    def _h_checkout_get_session(self, params, session_id):
        return self._checkout_view(self._checkout_or(session_id), params.get("expand"))

    def _h_checkout_list_sessions(self, params):
        self._checkout_sweep()
        items = list(reversed(self._checkout_sessions.values()))
        for field in ("status", "payment_intent", "customer", "payment_link"):
            if params.get(field):
                items = [s for s in items if s[field] == params[field]]
        views = [self._checkout_view(s) for s in items]
        return self._page(views, params, "/v1/checkout/sessions", set(self._checkout_sessions))

    def _h_checkout_list_line_items(self, params, session_id):
        self._checkout_or(session_id)
        return self._line_items_page(session_id, params)

    def _h_checkout_expire_session(self, params, session_id):
        session = self._checkout_or(session_id)
        if session["status"] != "open":
            raise StripeFakeError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a '
                f'status of "{session["status"]}".',
            )
        self._expire(session)
        return self._checkout_view(session, params.get("expand"))

    def _h_get_payment_intent(self, params, intent_id):
        intent = self._payment_intents.get(intent_id)
        if intent is None:
            raise StripeFakeError(
                404, f"No such payment_intent: '{intent_id}'", code="resource_missing", param="intent"
            )
        return intent

    _CHECKOUT_ROUTES = (
        ("POST", re.compile(r"^/v1/checkout/sessions$"), "_h_checkout_create_session"),
        ("GET", re.compile(r"^/v1/checkout/sessions$"), "_h_checkout_list_sessions"),
        ("GET", re.compile(r"^/v1/checkout/sessions/([^/]+)$"), "_h_checkout_get_session"),
        ("GET", re.compile(r"^/v1/checkout/sessions/([^/]+)/line_items$"), "_h_checkout_list_line_items"),
        ("POST", re.compile(r"^/v1/checkout/sessions/([^/]+)/expire$"), "_h_checkout_expire_session"),
        ("GET", re.compile(r"^/v1/payment_intents/([^/]+)$"), "_h_get_payment_intent"),
    )

    # -- the hosted page: GET /checkout/{id}, POST /checkout/{id}/pay --

    def _checkout_page(self, method: str, rest: str, params: dict[str, Any]) -> _Answer:
        session_id, _, action = unquote(rest).partition("/")
        if (method, action) not in (("GET", ""), ("POST", "pay")):
            return _Answer(404, _page_html("Not found", "<h1>Not found</h1>"), content_type=_HTML)
        email = params.get("email") if isinstance(params.get("email"), str) else None
        name = params.get("name") if isinstance(params.get("name"), str) else None
        with self._lock:
            self._checkout_sweep()
            session = self._checkout_sessions.get(session_id)
            if session is None:
                page = _page_html("Not found", "<h1>No such Checkout Session</h1>")
                return _Answer(404, page, content_type=_HTML)
            paid_now = False
            if action == "pay" and session["status"] == "open":
                session, paid_now = self._complete_checkout(session_id, email=email or None, name=name or None)
            session = copy.deepcopy(session)
            lines = copy.deepcopy(self._checkout_line_items[session_id])
        if paid_now and session["success_url"]:
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
            return _Answer(303, b"", content_type=_HTML, headers={"Location": target})
        return self._checkout_page_answer(session, lines, status=410 if session["status"] == "expired" else 200)

    def _checkout_page_answer(self, session: dict[str, Any], lines: list[dict[str, Any]], *, status: int) -> _Answer:
        sid = html.escape(session["id"])
        total = html.escape(_money(session["amount_total"], session["currency"]))
        rows = "".join(
            f"<li>{html.escape(line['description'])} × {line['quantity']}: "
            f"{html.escape(_money(line['amount_total'], line['currency']))}</li>"
            for line in lines
        )
        summary = f"<ul id='line-items'>{rows}</ul><p>Total: <strong id='amount-total'>{total}</strong></p>"
        if session["status"] == "open":
            email = html.escape(session["customer_email"] or "")
            cancel = session["cancel_url"]
            back = f'<p><a id="cancel" href="{html.escape(cancel)}">Back</a></p>' if cancel else ""
            body = (
                f"<h1>Pay {total}</h1>{summary}"
                f"<form id='pay-form' method='post' action='/checkout/{sid}/pay'>"
                f"<label>Email <input name='email' type='email' value='{email}'></label> "
                "<label>Name on card <input name='name' value='Jenny Rosen'></label> "
                "<button id='pay' type='submit'>Pay</button></form>"
                f"{back}"
            )
            return _Answer(status, _page_html("Checkout", body), content_type=_HTML)
        if session["status"] == "complete":
            success = session["success_url"]
            link = (
                f'<p><a id="return" href="{html.escape(success.replace("{CHECKOUT_SESSION_ID}", session["id"]))}">'
                "Return to the merchant</a></p>"
                if success
                else ""
            )
            body = (
                f"<h1 id='status'>This Checkout Session is already complete</h1>"
                f"<p>{total} has been paid.</p>{summary}{link}"
            )
            return _Answer(status, _page_html("Payment complete", body), content_type=_HTML)
        body = (
            "<h1 id='status'>This Checkout Session has expired</h1>"
            f"<p>Session <code>{sid}</code> can no longer be paid.</p>"
        )
        return _Answer(status, _page_html("Checkout Session expired", body), content_type=_HTML)

    # -- Python helpers for tests (no HTTP; the same checks, balance movements and webhooks) --

    def checkout_sessions(self, status: str | None = None) -> list[dict[str, Any]]:
        """Checkout Sessions as the API shows them, oldest first (`status`: "open", "complete", "expired")."""
        with self._lock:
            self._checkout_sweep()
            return [self._checkout_view(s) for s in self._checkout_sessions.values() if status in (None, s["status"])]

    def get_checkout_session(self, session_id: str, *, expand: list[str] | None = None) -> dict[str, Any] | None:
        """A session as the API shows it (`expand=["line_items"]` adds them), or None."""
        with self._lock:
            self._checkout_sweep()
            session = self._checkout_sessions.get(session_id)
            return self._checkout_view(session, expand or []) if session else None

    def checkout_line_items(self, session_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._checkout_line_items[session_id])

    def complete_checkout(
        self, session_id: str, *, email: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """What paying on the hosted page does: status "complete", payment_status "paid", a succeeded
        PaymentIntent (`payment_intent`, with `payment_intent_data[metadata]`), the platform balance
        credited with `amount_total`, and `checkout.session.completed` emitted. A session already
        complete is returned as it is (no second event, no second credit); an expired one, or an
        unknown id, raises StripeFakeError."""
        with self._lock:
            return self._checkout_view(self._complete_checkout(session_id, email=email, name=name)[0])

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """What `POST /v1/checkout/sessions/{id}/expire` does (emits `checkout.session.expired`, an
        opt-in event); a session not open raises StripeFakeError (400)."""
        with self._lock:
            return self._h_checkout_expire_session({}, session_id)

    def get_payment_intent(self, intent_id: str) -> dict[str, Any] | None:
        """The PaymentIntent a completed session made (what `GET /v1/payment_intents/{id}` shows)."""
        with self._lock:
            return copy.deepcopy(self._payment_intents.get(intent_id))


# --- the fake ------------------------------------------------------------------------------------


class StripeFake(_Issuing, _Checkout):
    """The fake server and its control object. `start()` / `stop()` (or `with StripeFake() as f:`);
    `url` is `http://127.0.0.1:<port>`, the value for `STRIPE_API_BASE`."""

    def __init__(
        self,
        *,
        initial_balance: int = DEFAULT_BALANCE,
        currency: str = "gbp",
        host: str = "127.0.0.1",
        initial_issuing_balance: int = DEFAULT_BALANCE,
    ):
        self.initial_balance = initial_balance
        self.initial_issuing_balance = initial_issuing_balance
        self.currency = currency
        self.host = host
        self.url = ""
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._deliveries_done = threading.Condition(self._lock)
        self._init_state()

    def _init_state(self) -> None:
        self._accounts: dict[str, dict[str, Any]] = {}
        self._account_links: dict[str, dict[str, Any]] = {}  # latest link per account
        self._transfers: dict[str, dict[str, Any]] = {}  # insertion order = creation order
        self._topups: dict[str, dict[str, Any]] = {}
        self._balance: dict[str, int] = {self.currency: self.initial_balance}
        self._idempotency: dict[tuple[str, str, str], _Stored] = {}
        self._faults: list[Fault] = []
        self._requests: list[RequestRecord] = []
        self._events: list[dict[str, Any]] = []
        self._deliveries: list[dict[str, Any]] = []
        self._pending_deliveries = 0
        self._errors: list[str] = []
        self._in_flight = 0
        self._wake = threading.Event()
        #: seconds a "timeout"/"timeout_before" fault waits before answering (per fault: `sleep=`)
        self.timeout_sleep = DEFAULT_TIMEOUT_SLEEP
        #: where the fake delivers the events it emits by itself; None: emit nothing
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        #: which events the fake emits by itself once `webhook_url` is set (add more with `|=`; the
        #: Issuing ones it can emit are `ISSUING_EVENT_TYPES`, the Checkout ones `CHECKOUT_EVENT_TYPES`)
        self.webhook_events: set[str] = {
            "transfer.reversed",
            *DEFAULT_ISSUING_WEBHOOK_EVENTS,
            *DEFAULT_CHECKOUT_WEBHOOK_EVENTS,
        }
        #: True: emitted events are built (and listed in `events`) but kept back in `held_events`
        #: until `release_webhooks()` sends them, in the order a test asks for
        self.hold_webhooks = False
        self._held_events: list[dict[str, Any]] = []
        # Issuing
        self._cardholders: dict[str, dict[str, Any]] = {}
        self._cards: dict[str, dict[str, Any]] = {}  # cardholder as an id; the API shows it expanded
        self._card_secrets: dict[str, dict[str, str]] = {}  # number and cvc, shown only when expanded
        self._authorizations: dict[str, dict[str, Any]] = {}  # card and transactions as ids
        self._auth_holds: dict[str, int] = {}  # what each approved authorization still holds
        self._issuing_transactions: dict[str, dict[str, Any]] = {}
        self._refunded: dict[str, int] = {}  # capture id -> amount refunded so far
        self._issuing_balance: dict[str, int] = {self.currency: self.initial_issuing_balance}
        #: the clock Issuing objects are stamped with and spending-limit intervals are measured by
        self.issuing_clock = time.time
        #: Stripe puts a default daily limit (500 in the card's currency) on cards created without
        #: `spending_limits`, and caps every authorization (10,000); both off here unless set (pence)
        self.issuing_default_daily_limit: int | None = None
        self.issuing_per_authorization_cap: int | None = None
        # Checkout
        self._checkout_sessions: dict[str, dict[str, Any]] = {}
        self._checkout_line_items: dict[str, list[dict[str, Any]]] = {}
        self._checkout_intent_data: dict[str, dict[str, Any]] = {}  # payment_intent_data, for the PaymentIntent
        self._payment_intents: dict[str, dict[str, Any]] = {}  # made by completed sessions
        #: the clock Checkout Sessions are stamped (`created`) and expired (`expires_at`) by
        self.checkout_clock = time.time
        #: refuse transfers to accounts whose onboarding is not complete, as Stripe does
        #: (`insufficient_capabilities_for_transfer`); off by default
        self.enforce_capabilities = False

    # -- lifecycle --

    def start(self) -> StripeFake:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, 0), _Handler)
        server.fake = self
        self._server = server
        self.url = f"http://{self.host}:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="stripe-fake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> StripeFake:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def reset(self) -> None:
        """Forget everything (accounts, transfers, keys, faults, logs, webhook settings); restore the
        initial balance. Requests still sleeping in a "timeout" fault wake up and answer at once."""
        with self._lock:
            self._wake.set()
            self._init_state()

    def client(self, *, api_key: str = TEST_SECRET_KEY, timeout: float = 5.0, max_network_retries: int = 0, **kwargs):
        """A real `stripe.StripeClient` pointed at this fake, with a per-read `timeout` in seconds."""
        import stripe

        return stripe.StripeClient(
            api_key,
            base_addresses={"api": self.url},
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
            **kwargs,
        )

    # -- fault injection --

    def fail_next(
        self,
        target: str,
        kind: str,
        times: int = 1,
        *,
        sleep: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        """Make the next `times` requests matching `target` fail with `kind`.

        `target`: `"/v1/transfers"` (path prefix, any method), `"POST /v1/transfers"` (method and
        prefix: it also matches `/v1/transfers/tr_…/reversals`), `"POST /v1/transfers$"` (exact path)
        or a glob, `"POST /v1/transfers/*/reversals"`.

        `kind`:
        - `"timeout"`: performs the operation and stores the idempotent answer, then holds the
          answer back for `sleep` seconds (default `fake.timeout_sleep`) — an ambiguous failure.
        - `"timeout_before"`: holds the request for `sleep` seconds, does nothing, drops it.
        - `"500"`: answers 500 `api_error`, nothing done. `"500_after"`: does it, then answers 500
          (a retry with the same key replays the stored success).
        - `"429"`: answers 429 `rate_limit`, nothing done. `"409"`: 409 `idempotency_key_in_use`.
        - `"connection_reset"`: closes the connection unanswered, nothing done;
          `"connection_reset_after"`: does it first.

        `should_retry`: send `Stripe-Should-Retry: true/false` with a 500/429/409 (None: no header).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        method, _, pattern = target.strip().rpartition(" ")
        with self._lock:
            self._faults.append(
                Fault(method.upper() or None, pattern, kind, times, sleep=sleep, should_retry=should_retry)
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return [dataclasses.replace(f) for f in self._faults if f.times > 0]

    # -- inspection and direct state --

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request received since the last reset, oldest first (copies)."""
        with self._lock:
            return [dataclasses.replace(r) for r in self._requests]

    def requests_to(self, method: str, path_prefix: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.method == method.upper() and r.path.startswith(path_prefix)]

    @property
    def transfers(self) -> list[dict[str, Any]]:
        """Stored transfers, oldest first (copies)."""
        with self._lock:
            return copy.deepcopy(list(self._transfers.values()))

    def transfer_count(self) -> int:
        with self._lock:
            return len(self._transfers)

    def get_transfer(self, transfer_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._transfers.get(transfer_id))

    @property
    def accounts(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._accounts.values()))

    def get_account(self, account_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._accounts.get(account_id))

    def balance(self, currency: str | None = None) -> int:
        """The available platform balance, in pence."""
        with self._lock:
            return self._balance.get((currency or self.currency).lower(), 0)

    def set_balance(self, pence: int, currency: str | None = None) -> None:
        with self._lock:
            self._balance[(currency or self.currency).lower()] = int(pence)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of bugs in the fake itself (each also answered as a 500)."""
        with self._lock:
            return list(self._errors)

    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def create_account(
        self, *, email: str | None = None, onboarded: bool = False, metadata: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Seed an express connected account without HTTP (`onboarded=True`: onboarding complete)."""
        with self._lock:
            params: dict[str, Any] = {
                "type": "express",
                "country": "GB",
                "capabilities": {"transfers": {"requested": "true"}},
                "metadata": metadata or {},
            }
            if email:
                params["email"] = email
            account = self._new_account(params)
            if onboarded:
                self._complete_onboarding(account["id"], emit=False)
            return copy.deepcopy(self._accounts[account["id"]])

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """What the onboarding page does, without a browser."""
        with self._lock:
            self._complete_onboarding(account_id, emit=True)
            return copy.deepcopy(self._accounts[account_id])

    def create_transfer(
        self,
        *,
        amount: int,
        destination: str,
        transfer_group: str | None = None,
        metadata: dict[str, str] | None = None,
        currency: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Seed a transfer without HTTP (the same checks and balance movement as the API)."""
        params: dict[str, Any] = {
            "amount": str(amount),
            "currency": currency or self.currency,
            "destination": destination,
            "metadata": metadata or {},
        }
        if transfer_group:
            params["transfer_group"] = transfer_group
        if description:
            params["description"] = description
        with self._lock:
            return copy.deepcopy(self._create_transfer(params))

    # -- webhooks --

    def sign(self, payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
        return sign(payload, secret, timestamp)

    def build_event(
        self,
        event_type: str,
        data_object: dict[str, Any],
        *,
        event_id: str | None = None,
        created: int | None = None,
        account: str | None = None,
        previous_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": event_id or new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()) if created is None else int(created),
            "data": {"object": copy.deepcopy(data_object)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        if previous_attributes is not None:
            event["data"]["previous_attributes"] = previous_attributes
        if account:
            event["account"] = account
        with self._lock:
            self._events.append(copy.deepcopy(event))
        return event

    def send_event(
        self,
        url: str,
        event_type: str,
        data_object: dict[str, Any],
        secret: str,
        *,
        event_id: str | None = None,
        created: int | None = None,
        account: str | None = None,
        timestamp: int | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """Build an event, sign it with `secret` and POST it to `url` as Stripe does; returns
        (status code, response text). `timestamp` signs with another time (e.g. a stale one)."""
        event = self.build_event(event_type, data_object, event_id=event_id, created=created, account=account)
        return self.post_event(url, event, secret, timestamp=timestamp, timeout=timeout)

    def post_event(
        self, url: str, event: dict[str, Any], secret: str, *, timestamp: int | None = None, timeout: float = 10.0
    ) -> tuple[int, str]:
        import requests

        payload = json.dumps(event, indent=2).encode("utf-8")
        response = requests.post(
            url,
            data=payload,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign(payload, secret, timestamp),
            },
            timeout=timeout,
            allow_redirects=False,
        )
        return response.status_code, response.text

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event built (sent by `send_event` or emitted by the fake), oldest first."""
        with self._lock:
            return copy.deepcopy(self._events)

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Automatic deliveries to `webhook_url`: {"event", "status", "body", "error"}."""
        with self._lock:
            return copy.deepcopy(self._deliveries)

    def wait_for_deliveries(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until the automatic deliveries under way have finished; returns `deliveries`."""
        deadline = time.monotonic() + timeout
        with self._deliveries_done:
            while self._pending_deliveries:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self._pending_deliveries} webhook deliveries still under way")
                self._deliveries_done.wait(left)
        return self.deliveries

    @property
    def held_events(self) -> list[dict[str, Any]]:
        """Events kept back while `hold_webhooks` is on, oldest first (copies)."""
        with self._lock:
            return copy.deepcopy(self._held_events)

    def release_webhooks(self, order: list[str] | None = None, *, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Send held events to `webhook_url` now, one after another from this thread: all of them in
        the order emitted, or those whose ids `order` lists, in that order (an id listed twice is
        delivered twice); the others stay held. Returns the delivery records (also in `deliveries`)."""
        with self._lock:
            held = {event["id"]: event for event in self._held_events}
            ids = [event["id"] for event in self._held_events] if order is None else list(order)
            unknown = [event_id for event_id in ids if event_id not in held]
            if unknown:
                raise KeyError(f"not held: {unknown}")
            self._held_events = [event for event in self._held_events if event["id"] not in set(ids)]
        return [self._deliver_now(held[event_id], timeout=timeout) for event_id in ids]

    def redeliver(self, event: dict[str, Any] | str, *, timeout: float = 10.0) -> dict[str, Any]:
        """Send an event already built (the dict, e.g. `deliveries[0]["event"]`, or the id of one in
        `events`) to `webhook_url` again, signed afresh, same id and payload: Stripe retrying a
        delivery. Synchronous; returns the delivery record (also in `deliveries`)."""
        if isinstance(event, str):
            with self._lock:
                found = [e for e in self._events if e["id"] == event]
            if not found:
                raise KeyError(f"no event {event!r}")
            event = found[-1]
        return self._deliver_now(event, timeout=timeout)

    def _deliver_now(self, event: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        with self._lock:
            url, secret = self.webhook_url, self.webhook_secret or TEST_WEBHOOK_SECRET
        if not url:
            raise RuntimeError("set fake.webhook_url first")
        record: dict[str, Any] = {"event": copy.deepcopy(event), "status": None, "body": None, "error": None}
        try:
            record["status"], record["body"] = self.post_event(url, event, secret, timeout=timeout)
        except Exception as exc:
            record["error"] = repr(exc)
        with self._lock:
            self._deliveries.append(record)
        return copy.deepcopy(record)

    def _emit(self, event_type: str, data_object: dict[str, Any], **kwargs) -> None:
        """Queue an automatic delivery (lock held); it is sent after the API answer, from a thread.
        With `hold_webhooks`, keep the event back for `release_webhooks()` instead."""
        if event_type not in self.webhook_events:
            return
        if self.hold_webhooks:
            self._held_events.append(self.build_event(event_type, data_object, **kwargs))
            return
        if not self.webhook_url:
            return
        event = self.build_event(event_type, data_object, **kwargs)
        url, secret = self.webhook_url, self.webhook_secret or TEST_WEBHOOK_SECRET
        self._pending_deliveries += 1
        state = self._deliveries, self._deliveries_done

        def deliver():
            record: dict[str, Any] = {"event": event, "status": None, "body": None, "error": None}
            try:
                record["status"], record["body"] = self.post_event(url, event, secret)
            except Exception as exc:
                record["error"] = repr(exc)
            with self._lock:
                deliveries, done = state
                deliveries.append(record)
                if deliveries is self._deliveries:  # not reset meanwhile
                    self._pending_deliveries -= 1
                done.notify_all()

        threading.Thread(target=deliver, name="stripe-fake-webhook", daemon=True).start()

    # -- request handling --

    def _serve(self, h: _Handler) -> None:
        try:
            self._serve_inner(h)
        except Exception:
            with self._lock:
                self._errors.append(traceback.format_exc())
            body = json.dumps(error_body("The Stripe fake failed: see fake.errors.", type="api_error")).encode()
            h.send_answer(_Answer(500, body))

    def _serve_inner(self, h: _Handler) -> None:
        method = h.command.upper()
        split = urlsplit(h.path)
        path = split.path
        length = int(h.headers.get("Content-Length") or 0)
        raw_body = h.rfile.read(length) if length else b""
        query = split.query if method in ("GET", "DELETE") else raw_body.decode("utf-8")
        params = decode_params(parse_qsl(query, keep_blank_values=True))
        auth = h.headers.get("Authorization") or ""
        api_key = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else None
        idempotency_key = h.headers.get("Idempotency-Key") if method == "POST" else None
        stripe_account = h.headers.get("Stripe-Account")
        record = RequestRecord(
            method=method,
            path=path,
            params=params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
            api_key=api_key,
            started=time.time(),
        )
        with self._lock:
            self._requests.append(record)
            self._in_flight += 1
            wake = self._wake
            fault = self._take_fault(method, path)
            record.fault = fault.kind if fault else None
        try:
            self._answer(h, method, path, params, api_key, idempotency_key, stripe_account, record, fault, wake)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.matches(method, path):
                fault.times -= 1
                return fault
        return None

    def _hold(self, fault: Fault, wake: threading.Event) -> None:
        seconds = self.timeout_sleep if fault.sleep is None else fault.sleep
        deadline = time.monotonic() + seconds
        while not wake.is_set() and not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wake.wait(min(left, 0.05))

    def _answer(self, h, method, path, params, api_key, idempotency_key, stripe_account, record, fault, wake):
        kind = fault.kind if fault else None
        extra: dict[str, str] = {}
        if fault and fault.should_retry is not None:
            extra["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"

        if kind == "timeout_before":
            self._hold(fault, wake)
            h.drop()
            return
        if kind == "connection_reset":
            h.drop()
            return
        if kind in ("500", "429", "409"):
            status, body = {
                "500": (500, error_body("An unknown error occurred while processing your request.", type="api_error")),
                "429": (
                    429,
                    error_body(
                        "Request rate limit exceeded. Learn more about rate limits here "
                        "https://stripe.com/docs/rate-limits.",
                        type="invalid_request_error",
                        code="rate_limit",
                    ),
                ),
                "409": (
                    409,
                    error_body(
                        "There is currently another in-progress request using this Idempotent Key (that "
                        "probably means you submitted twice, and the other request is still going through): "
                        f"{idempotency_key}. Please try again later.",
                        type="invalid_request_error",
                        code="idempotency_key_in_use",
                    ),
                ),
            }[kind]
            record.status = status
            h.send_answer(_Answer(status, json.dumps(body).encode(), headers=self._headers(idempotency_key, extra)))
            return

        if path.startswith("/onboarding/"):
            answer = self._onboarding_page(unquote(path[len("/onboarding/") :]))
        elif path.startswith("/checkout/"):
            answer = self._checkout_page(method, path[len("/checkout/") :], params)
        else:
            answer = self._api(method, path, params, api_key, idempotency_key, stripe_account)
            answer.headers = {**self._headers(idempotency_key, extra), **answer.headers}
        record.status = answer.status
        record.replayed = answer.replayed

        if kind == "timeout":
            self._hold(fault, wake)
            h.send_answer(answer)
        elif kind == "500_after":
            body = error_body("An unknown error occurred while processing your request.", type="api_error")
            record.status = 500
            h.send_answer(_Answer(500, json.dumps(body).encode(), headers=self._headers(idempotency_key, extra)))
        elif kind == "connection_reset_after":
            h.drop()
        else:
            h.send_answer(answer)

    def _headers(self, idempotency_key: str | None, extra: dict[str, str]) -> dict[str, str]:
        headers = {"Request-Id": new_id("req"), "Stripe-Version": API_VERSION, **extra}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _api(self, method, path, params, api_key, idempotency_key, stripe_account) -> _Answer:
        def err(exc: StripeFakeError) -> _Answer:
            return _Answer(exc.status, json.dumps(exc.body()).encode())

        if not api_key:
            return err(
                StripeFakeError(
                    401,
                    "You did not provide an API key. You need to provide your API key in the Authorization "
                    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                )
            )
        if not api_key.startswith("sk_test_"):
            shown = api_key[:8] + "*" * max(0, len(api_key) - 12) + api_key[-4:]
            return err(StripeFakeError(401, f"Invalid API Key provided: {shown}", code="api_key_invalid"))
        route = self._route(method, path)
        if route is None:
            return err(
                StripeFakeError(
                    404,
                    f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can "
                    "help at https://support.stripe.com/.",
                )
            )
        handler, args = route
        with self._lock:
            scope = None
            if method == "POST" and idempotency_key:
                scope = (api_key, stripe_account or "", idempotency_key)
                stored = self._idempotency.get(scope)
                if stored is not None:
                    if stored.endpoint != (method, path):
                        return err(
                            StripeFakeError(
                                400,
                                "Keys for idempotent requests can only be used for the same endpoint they were "
                                f"first used for ('{' '.join(stored.endpoint)}' vs '{method} {path}'). Try using "
                                f"a key other than '{idempotency_key}' if you meant to execute a different request.",
                                type="idempotency_error",
                            )
                        )
                    if stored.params != params:
                        return err(
                            StripeFakeError(
                                400,
                                "Keys for idempotent requests can only be used with the same parameters they were "
                                f"first used with. Try using a key other than '{idempotency_key}' if you meant to "
                                "execute a different request.",
                                type="idempotency_error",
                            )
                        )
                    return _Answer(stored.status, stored.body, headers={"Idempotent-Replayed": "true"}, replayed=True)
            try:
                status, body, store = 200, json.dumps(handler(params, *args)).encode(), True
            except StripeFakeError as exc:
                status, body, store = exc.status, json.dumps(exc.body()).encode(), exc.store
            if scope is not None and store:
                self._idempotency[scope] = _Stored((method, path), copy.deepcopy(params), status, body)
            return _Answer(status, body)

    _ROUTES = (
        ("POST", re.compile(r"^/v1/accounts$"), "_h_create_account"),
        ("GET", re.compile(r"^/v1/accounts/([^/]+)$"), "_h_get_account"),
        ("POST", re.compile(r"^/v1/account_links$"), "_h_create_account_link"),
        ("POST", re.compile(r"^/v1/transfers$"), "_h_create_transfer"),
        ("GET", re.compile(r"^/v1/transfers$"), "_h_list_transfers"),
        ("GET", re.compile(r"^/v1/transfers/([^/]+)$"), "_h_get_transfer"),
        ("POST", re.compile(r"^/v1/transfers/([^/]+)/reversals$"), "_h_create_reversal"),
        ("GET", re.compile(r"^/v1/transfers/([^/]+)/reversals$"), "_h_list_reversals"),
        ("GET", re.compile(r"^/v1/balance$"), "_h_balance"),
        ("POST", re.compile(r"^/v1/topups$"), "_h_create_topup"),
        ("GET", re.compile(r"^/v1/topups$"), "_h_list_topups"),
        ("GET", re.compile(r"^/v1/topups/([^/]+)$"), "_h_get_topup"),
        *_Issuing._ISSUING_ROUTES,
        *_Checkout._CHECKOUT_ROUTES,
    )

    def _route(self, method: str, path: str):
        for route_method, pattern, name in self._ROUTES:
            match = pattern.match(path)
            if route_method == method and match:
                return getattr(self, name), [unquote(g) for g in match.groups()]
        return None

    # -- endpoints (lock held) --

    def _new_account(self, params: dict[str, Any]) -> dict[str, Any]:
        requested = params.get("capabilities") or {}
        if not isinstance(requested, dict):
            raise StripeFakeError(400, "Invalid hash", param="capabilities", store=False)
        capabilities = {
            name: "inactive"
            for name, spec in requested.items()
            if isinstance(spec, dict) and _bool(spec.get("requested"))
        }
        account = {
            "id": new_id("acct"),
            "object": "account",
            "type": params.get("type") or "standard",
            "country": params.get("country") or "GB",
            "email": params.get("email") or None,
            "default_currency": self.currency,
            "business_profile": {"name": None, "url": None, "mcc": None, **(params.get("business_profile") or {})},
            "business_type": params.get("business_type") or None,
            "capabilities": capabilities,
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "requirements": {
                "currently_due": ["external_account", "tos_acceptance.date", "tos_acceptance.ip"],
                "eventually_due": ["external_account", "tos_acceptance.date", "tos_acceptance.ip"],
                "past_due": [],
                "disabled_reason": "requirements.past_due",
            },
            "metadata": _metadata(params),
            "created": int(time.time()),
            "livemode": False,
        }
        self._accounts[account["id"]] = account
        return account

    def _h_create_account(self, params):
        if params.get("type") not in (None, "standard", "express", "custom"):
            raise StripeFakeError(400, f"Invalid type: {params.get('type')}", param="type", store=False)
        return self._new_account(params)

    def _account_or_404(self, account_id: str, param: str, status: int = 404) -> dict[str, Any]:
        account = self._accounts.get(account_id)
        if account is None:
            raise StripeFakeError(status, f"No such account: '{account_id}'", code="resource_missing", param=param)
        return account

    def _h_get_account(self, params, account_id):
        return self._account_or_404(account_id, "account")

    def _h_create_account_link(self, params):
        account_id = _str_param(params, "account", required=True)
        link_type = _str_param(params, "type", required=True)
        if link_type not in ("account_onboarding", "account_update"):
            raise StripeFakeError(400, f"Invalid type: {link_type}", param="type", store=False)
        refresh_url = _str_param(params, "refresh_url", required=True)
        return_url = _str_param(params, "return_url", required=True)
        self._account_or_404(account_id, "account", status=400)
        created = int(time.time())
        link = {
            "object": "account_link",
            "created": created,
            "expires_at": created + 300,
            "url": f"{self.url}/onboarding/{account_id}",
        }
        self._account_links[account_id] = {**link, "refresh_url": refresh_url, "return_url": return_url}
        return link

    def _complete_onboarding(self, account_id: str, *, emit: bool) -> None:
        account = self._accounts[account_id]
        previous = {k: account[k] for k in ("charges_enabled", "payouts_enabled", "details_submitted")}
        account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
        account["capabilities"] = {name: "active" for name in account["capabilities"] or {"transfers": "active"}}
        account["requirements"] = {"currently_due": [], "eventually_due": [], "past_due": [], "disabled_reason": None}
        if emit:
            self._emit("account.updated", account, account=account_id, previous_attributes=previous)

    def _onboarding_page(self, account_id: str) -> _Answer:
        with self._lock:
            if account_id not in self._accounts:
                page = "<!doctype html><title>Not found</title><h1>No such account</h1>"
                return _Answer(404, page.encode(), content_type="text/html; charset=utf-8")
            self._complete_onboarding(account_id, emit=True)
            link = self._account_links.get(account_id) or {}
        back = link.get("return_url")
        back_html = f'<p><a id="return" href="{html.escape(back)}">Return to the platform</a></p>' if back else ""
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Stripe fake: onboarding complete</title></head><body>"
            f"<h1>Onboarding complete</h1><p>Account <code>{html.escape(account_id)}</code> can now receive "
            f"transfers and payouts.</p>{back_html}</body></html>"
        )
        return _Answer(200, page.encode(), content_type="text/html; charset=utf-8")

    def _create_transfer(self, params):
        amount = _int_param(params, "amount", required=True, minimum=1)
        currency = (_str_param(params, "currency", required=True) or "").lower()
        destination = _str_param(params, "destination", required=True)
        metadata = _metadata(params)
        account = self._accounts.get(destination)
        if account is None:
            raise StripeFakeError(
                400, f"No such destination: '{destination}'", code="resource_missing", param="destination"
            )
        if self.enforce_capabilities and account["capabilities"].get("transfers") != "active":
            raise StripeFakeError(
                400,
                "Your destination account needs to have at least one of the following capabilities enabled: "
                "transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        if self._balance.get(currency, 0) < amount:
            raise StripeFakeError(
                400,
                "You have insufficient available funds in your Stripe account. Try adding funds directly to your "
                "available balance by creating Charges using the 4000000000000077 test card. "
                "See: https://stripe.com/docs/testing#available-balance",
                code="balance_insufficient",
            )
        self._balance[currency] -= amount
        transfer_id = new_id("tr")
        transfer = {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": new_id("txn"),
            "created": int(time.time()),
            "currency": currency,
            "description": params.get("description") or None,
            "destination": destination,
            "destination_payment": new_id("py"),
            "livemode": False,
            "metadata": metadata,
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": False,
            "source_transaction": params.get("source_transaction") or None,
            "source_type": "card",
            "transfer_group": params.get("transfer_group") or None,
        }
        self._transfers[transfer_id] = transfer
        self._emit("transfer.created", transfer)
        return transfer

    def _h_create_transfer(self, params):
        return self._create_transfer(params)

    def _transfer_or_404(self, transfer_id: str, param: str = "id") -> dict[str, Any]:
        transfer = self._transfers.get(transfer_id)
        if transfer is None:
            raise StripeFakeError(404, f"No such transfer: '{transfer_id}'", code="resource_missing", param=param)
        return transfer

    def _h_get_transfer(self, params, transfer_id):
        return self._transfer_or_404(transfer_id)

    @staticmethod
    def _page(items: list[dict[str, Any]], params: dict[str, Any], url: str, known: set[str]) -> dict[str, Any]:
        """One page of `items` (newest first), Stripe's cursor rules."""
        limit = _int_param(params, "limit", minimum=1) or 10
        if limit > 100:
            raise StripeFakeError(
                400, "This value must be less than or equal to 100.", code="parameter_invalid_integer", param="limit"
            )
        ids = [item["id"] for item in items]
        after, before = params.get("starting_after"), params.get("ending_before")
        for name, cursor in (("starting_after", after), ("ending_before", before)):
            if cursor and cursor not in known:
                raise StripeFakeError(400, f"No such object: '{cursor}'", code="resource_missing", param=name)
        if after:
            rest = items[ids.index(after) + 1 :] if after in ids else []
            page, has_more = rest[:limit], len(rest) > limit
        elif before:
            rest = items[: ids.index(before)] if before in ids else []
            page, has_more = rest[-limit:], len(rest) > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": page, "has_more": has_more, "url": url}

    def _h_list_transfers(self, params):
        items = list(reversed(self._transfers.values()))
        if params.get("transfer_group"):
            items = [t for t in items if t["transfer_group"] == params["transfer_group"]]
        if params.get("destination"):
            items = [t for t in items if t["destination"] == params["destination"]]
        return self._page(items, params, "/v1/transfers", set(self._transfers))

    def _h_create_reversal(self, params, transfer_id):
        transfer = self._transfer_or_404(transfer_id)
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = _int_param(params, "amount", minimum=1)
        if remaining == 0:
            raise StripeFakeError(400, f"Transfer {transfer_id} is already fully reversed.")
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise StripeFakeError(
                400,
                f"Amount ({amount}) is greater than the amount of the transfer that has not been reversed "
                f"({remaining}).",
                param="amount",
            )
        reversal = {
            "id": new_id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "created": int(time.time()),
            "currency": transfer["currency"],
            "destination_payment_refund": new_id("pyr"),
            "metadata": _metadata(params),
            "source_refund": None,
            "transfer": transfer_id,
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        reversals = transfer["reversals"]
        reversals["data"].insert(0, reversal)
        reversals["total_count"] += 1
        self._balance[transfer["currency"]] = self._balance.get(transfer["currency"], 0) + amount
        self._emit("transfer.reversed", transfer)
        return reversal

    def _h_create_topup(self, params):
        """A top-up from the platform's bank account: with `destination_balance=issuing` it funds
        the Issuing balance at once (test mode succeeds immediately)."""
        amount = _int_param(params, "amount", required=True, minimum=1)
        currency = (_str_param(params, "currency", required=True) or "").lower()
        if currency != self.currency:
            raise StripeFakeError(400, f"Invalid currency: {currency}.", param="currency", store=False)
        destination = params.get("destination_balance") or "payments"
        if destination not in ("issuing", "payments"):
            raise StripeFakeError(400, "Invalid destination_balance.", param="destination_balance", store=False)
        topup = {
            "id": new_id("tu"),
            "object": "topup",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "created": int(time.time()),
            "currency": currency,
            "description": params.get("description") or None,
            "destination_balance": destination,
            "expected_availability_date": int(time.time()),
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": _metadata(params),
            "source": None,
            "statement_descriptor": params.get("statement_descriptor") or None,
            "status": "succeeded",
            "transfer_group": params.get("transfer_group") or None,
        }
        self._topups[topup["id"]] = topup
        book = self._issuing_balance if destination == "issuing" else self._balance
        book[currency] = book.get(currency, 0) + amount
        return topup

    def _h_get_topup(self, params, topup_id):
        topup = self._topups.get(topup_id)
        if topup is None:
            raise StripeFakeError(404, f"No such topup: '{topup_id}'", code="resource_missing", param="id")
        return topup

    def _h_list_topups(self, params):
        items = list(reversed(self._topups.values()))
        if params.get("status"):
            items = [t for t in items if t["status"] == params["status"]]
        return self._page(items, params, "/v1/topups", set(self._topups))

    def topups(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._topups.values()))

    def _h_list_reversals(self, params, transfer_id):
        transfer = self._transfer_or_404(transfer_id)
        items = transfer["reversals"]["data"]
        page = self._page(items, params, f"/v1/transfers/{transfer_id}/reversals", {r["id"] for r in items})
        page["total_count"] = len(items)
        return page

    def _h_balance(self, params):
        return {
            "object": "balance",
            "available": [
                {"amount": amount, "currency": currency, "source_types": {"card": amount}}
                for currency, amount in self._balance.items()
            ],
            "pending": [{"amount": 0, "currency": currency, "source_types": {"card": 0}} for currency in self._balance],
            "connect_reserved": [{"amount": 0, "currency": currency} for currency in self._balance],
            "issuing": {
                "available": [
                    {"amount": amount, "currency": currency} for currency, amount in self._issuing_balance.items()
                ]
            },
            "livemode": False,
        }

"""A stateful fake Stripe API server for tests, spoken to by the real, unmodified `stripe` client.

It implements exactly the endpoints Cairn calls, with Stripe's response shapes, error shapes and
idempotency semantics:

    POST /v1/accounts                      GET /v1/accounts/{id}
    POST /v1/account_links                 GET /onboarding/{acct}   (HTML: "completes" onboarding)
    POST /v1/transfers                     GET /v1/transfers/{id}
    GET  /v1/transfers?transfer_group=&destination=&limit=&starting_after=&ending_before=
    POST /v1/transfers/{id}/reversals      GET /v1/transfers/{id}/reversals
    GET  /v1/balance

The server runs in a background thread of the test process on 127.0.0.1 (a free port), serves
requests concurrently (one thread per connection, HTTP/1.1 keep-alive) and keeps all state in that
process behind one lock, so another process (a Celery worker started with
`STRIPE_API_BASE=<fake.url>`) talks to the same state. Tests drive it through the Python object
(`StripeFake`), never over HTTP: fault injection, inspection, reset, webhooks.

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


# --- the fake ------------------------------------------------------------------------------------


class StripeFake:
    """The fake server and its control object. `start()` / `stop()` (or `with StripeFake() as f:`);
    `url` is `http://127.0.0.1:<port>`, the value for `STRIPE_API_BASE`."""

    def __init__(self, *, initial_balance: int = DEFAULT_BALANCE, currency: str = "gbp", host: str = "127.0.0.1"):
        self.initial_balance = initial_balance
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
        #: which events the fake emits by itself once `webhook_url` is set
        self.webhook_events: set[str] = {"transfer.reversed"}
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

    def _emit(self, event_type: str, data_object: dict[str, Any], **kwargs) -> None:
        """Queue an automatic delivery (lock held); it is sent after the API answer, from a thread."""
        if not self.webhook_url or event_type not in self.webhook_events:
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
            "livemode": False,
        }

"""A Stripe-compatible HTTP server for tests and the benchmark: the real stripe SDK talks to it over HTTP.

Every object it returns is a deep copy of Stripe's official example (`stripe-fixtures3.json` from
stripe/openapi, found by walking up from this file to `shared/reference/`, or at `$STRIPE_FIXTURES`) with the
fields that matter overridden, so shapes match API version 2026-10-28: billing periods live on subscription
items (`items.data[i].current_period_start/end`), an invoice names its subscription in
`parent.subscription_details` (there is no `invoice.subscription`), invoice lines carry `period.start/end`.
Like real Stripe, a renewal invoice's own `period_start/period_end` cover the period that just ENDED; only its
lines cover the new one.

    with FakeStripe(prices=[PriceSpec("price_pro_monthly", "Pro", 1500, "month")]) as fake:
        client = fake.client()  # stripe.StripeClient("sk_test_fake", base_addresses={"api": fake.url}, ...)
        session = client.v1.checkout.sessions.create(params={...})
        events = fake.complete_checkout(session.id)  # what the customer would do on the hosted page
        for event in events:
            payload, headers = fake.signed(event)  # deliver to the app under test yourself
            ...

API (form-encoded, `Authorization: Bearer sk_test_...`): customers (create, retrieve, update, list), prices
(retrieve, list), products (retrieve), checkout sessions (create with mode=subscription, retrieve, list, expire),
subscriptions (retrieve, list, update: cancel_at_period_end / items[0][id]+items[0][price] / metadata, cancel
with DELETE), invoices (retrieve, list, pay), billing portal sessions (create), events (retrieve, list). A POST
whose `Idempotency-Key` was seen before on the same path with the same parameters gets the stored answer back
with `Idempotent-Replayed: true`; with other parameters, 400 `idempotency_error`. `expand[]` is ignored.

Test controls: methods of `FakeStripe`, and the same over HTTP for another process (JSON bodies, JSON answers;
the ones that create events answer `{"events": [...]}`):

    GET  /_test/requests                      every /v1 request: method, path, query, form, idempotency key, status
    GET  /_test/events[?type=T]               every event, oldest first        GET /_test/deliveries
    GET  /_test/events/{id}/signed            {"payload": str, "headers": {...}} signed with the webhook secret
    POST /_test/events/{id}/deliver           re-send one event to the webhook URL (duplicates)
    GET|POST /_test/clock                     {"now": ts}: like a Stripe test clock; unset means wall-clock time
    POST /_test/prices                        {"price_id", "product_name", "unit_amount", "interval", "lookup_key"}
    POST /_test/checkout/{id}/complete        {"card": "ok"|"declined"}; declined answers 402 card_declined
    POST /_test/checkout/{id}/expire
    POST /_test/subscriptions/{id}/renew      {"outcome": "paid"|"failed"}: the billing cycle turns
    POST /_test/invoices/{id}/pay             a retry of a failed invoice succeeds
    POST /_test/fail_next                     {"method", "path_prefix", "status", "after_processing", "count"}
    POST /_test/hold_next                     {"method", "path_prefix", "seconds"}: processed, answer held back
    POST /_test/webhook                       {"url", "secret"}: the fake POSTs each new event there, signed
    POST /_test/reset                         forget everything but prices and the webhook settings

Webhooks: without a webhook URL, control calls return the events they created and the caller delivers them
(the app under test usually runs in-process over ASGI). With one, each event is POSTed, signed, in creation
order: synchronously within a control call, right after the response for events caused by an API request.
Failed deliveries are recorded in `deliveries`, never retried by themselves. Signatures use wall-clock time
(the SDK rejects timestamps older than 300 s), whatever the fake clock says.

Pages for humans (`make dev`): `GET /checkout/{id}` pays (or declines) and redirects to the success_url;
`GET /portal/{id}` lists the customer's subscriptions with cancel/resume buttons.

Standalone: `python -m tests.fakes.stripe_server --port P --webhook-url URL --webhook-secret S
--price price_pro_monthly:Pro:1500:month[:lookup_key] ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import calendar
import copy
import functools
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.background_server import BackgroundServer

JSON = dict[str, Any]

API_VERSION = "2026-10-28.endive"  # the version stripe 16.1.0 pins; events carry it like a real account's
DEFAULT_WEBHOOK_SECRET = "whsec_test_secret"
DEFAULT_API_KEY = "sk_test_fake"
FIXTURES_FILE = "stripe-fixtures3.json"
PORTAL_CONFIGURATION = "bpc_fakeDefaultPortalConfig"
ACCOUNT_NAME = "CV Improver (fake Stripe)"
_ALPHANUMERIC = string.ascii_letters + string.digits


# --- fixtures and small helpers -----------------------------------------------------------------------------


def _fixtures_path() -> Path:
    if env := os.environ.get("STRIPE_FIXTURES"):
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        for candidate in (parent / "shared" / "reference" / FIXTURES_FILE, parent / "reference" / FIXTURES_FILE):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"{FIXTURES_FILE} not found above {__file__}; set STRIPE_FIXTURES to its path")


@functools.cache
def _fixtures() -> JSON:
    resources: JSON = json.loads(_fixtures_path().read_text())["resources"]
    return resources


def _fixture(name: str) -> JSON:
    """A fresh copy of Stripe's example object `name`, to override."""
    return copy.deepcopy(_fixtures()[name])


def _new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def _add_interval(ts: int, interval: str, anchor_day: int) -> int:
    """One calendar month or year later, on the anchor's day of month when the month has it (Jan 31 -> Feb 28
    -> Mar 31), like Stripe's billing cycle."""
    start = datetime.fromtimestamp(ts, UTC)
    years, month0 = divmod(start.month - 1 + (12 if interval == "year" else 1), 12)
    year, month = start.year + years, month0 + 1
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def _day_of_month(ts: int) -> int:
    return datetime.fromtimestamp(ts, UTC).day


_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


def decode_form(pairs: Iterable[tuple[str, str]]) -> JSON:
    """Stripe's form encoding back into nested values: `a[b][c]=v` -> {"a": {"b": {"c": "v"}}}, and
    `items[0][price]=p` / `expand[]=x` -> lists. Metadata keys stay keys even when they look like numbers."""
    root: JSON = {}
    for key, value in pairs:
        head, bracket, rest = key.partition("[")
        parts = [head, *_KEY_PART.findall(bracket + rest)] if bracket else [head]
        node = root
        for i, part in enumerate(parts):
            part = part or str(len(node))
            if i == len(parts) - 1:
                node[part] = value
            else:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
    converted = _listify(root, None)
    assert isinstance(converted, dict)
    return converted


def _listify(node: Any, key: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    if key != "metadata" and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value: `t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">`."""
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


# --- errors and records -------------------------------------------------------------------------------------


class FakeStripeError(Exception):
    """An answer in Stripe's error shape; control methods raise it too (unknown id, impossible transition)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self) -> JSON:
        error: JSON = {"type": self.type, "code": self.code, "message": self.message, "param": self.param}
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": error}


class CardDeclined(FakeStripeError):
    def __init__(self) -> None:
        super().__init__(
            402, "Your card was declined.", type="card_error", code="card_declined", decline_code="generic_decline"
        )


def _missing(noun: str, object_id: str, *, param: str = "id", status: int = 404) -> FakeStripeError:
    return FakeStripeError(status, f"No such {noun}: '{object_id}'", code="resource_missing", param=param)


def _invalid(message: str, param: str | None = None, code: str | None = None) -> FakeStripeError:
    return FakeStripeError(400, message, param=param, code=code)


@dataclass(frozen=True)
class PriceSpec:
    """A price to seed: `PriceSpec("price_pro_monthly", "Pro", 1500, "month")`."""

    price_id: str
    product_name: str
    unit_amount: int
    interval: str
    lookup_key: str | None = None

    @classmethod
    def parse(cls, text: str) -> PriceSpec:
        """`price_pro_monthly:Pro:1500:month[:lookup_key]` (the command line form)."""
        parts = text.split(":")
        if len(parts) not in (4, 5):
            raise ValueError(f"expected price_id:product_name:unit_amount:interval[:lookup_key], got {text!r}")
        return cls(parts[0], parts[1], int(parts[2]), parts[3], parts[4] if len(parts) == 5 else None)

    @classmethod
    def of(cls, spec: PriceSpec | Mapping[str, Any]) -> PriceSpec:
        if isinstance(spec, PriceSpec):
            return spec
        data = dict(spec)
        if "id" in data:
            data["price_id"] = data.pop("id")
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: JSON
    form: JSON
    idempotency_key: str | None
    status: int
    replayed: bool
    request_id: str
    at: float = field(default_factory=time.time)

    @property
    def params(self) -> JSON:
        return {**self.query, **self.form}


@dataclass
class Delivery:
    event_id: str
    event_type: str
    url: str
    status: int | None
    error: str | None = None
    at: float = field(default_factory=time.time)


@dataclass
class _Failure:
    method: str
    path_prefix: str
    status: int
    after_processing: bool
    remaining: int


@dataclass
class _Hold:
    method: str
    path_prefix: str
    seconds: float


@dataclass
class _Stored:
    """An answer kept under its idempotency key."""

    method: str
    path: str
    params: JSON
    status: int
    body: bytes
    request_id: str


@dataclass(frozen=True)
class _Context:
    """Who caused a change: an API request (named in the event's `request`) or nobody (a control call)."""

    request_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class _CheckoutItem:
    price_id: str
    quantity: int
    subscription_metadata: dict[str, str]


@dataclass
class _Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    hold: float = 0.0  # seconds to wait before answering (outside the lock)


def render(body: JSON) -> bytes:
    """A body as Stripe sends it (API answers and webhook payloads): indented JSON."""
    return json.dumps(body, indent=2).encode()


# --- the account: objects and what happens to them -----------------------------------------------------------


class _Account:
    """All state, behind one re-entrant lock. Methods that change objects return the events they created."""

    def __init__(self, webhook_url: str | None, webhook_secret: str) -> None:
        self.lock = threading.RLock()
        self.delivery_lock = threading.Lock()
        self.public_url = ""
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.prices: dict[str, JSON] = {}
        self.products: dict[str, JSON] = {}
        self._clear()
        table: list[tuple[str, str, Callable[..., JSON]]] = [
            ("POST", r"/v1/customers", self.api_create_customer),
            ("GET", r"/v1/customers", self.api_list_customers),
            ("GET", r"/v1/customers/(?P<object_id>[^/]+)", self.api_retrieve_customer),
            ("POST", r"/v1/customers/(?P<object_id>[^/]+)", self.api_update_customer),
            ("GET", r"/v1/prices", self.api_list_prices),
            ("GET", r"/v1/prices/(?P<object_id>[^/]+)", self.api_retrieve_price),
            ("GET", r"/v1/products/(?P<object_id>[^/]+)", self.api_retrieve_product),
            ("POST", r"/v1/checkout/sessions", self.api_create_checkout_session),
            ("GET", r"/v1/checkout/sessions", self.api_list_checkout_sessions),
            ("GET", r"/v1/checkout/sessions/(?P<object_id>[^/]+)", self.api_retrieve_checkout_session),
            ("POST", r"/v1/checkout/sessions/(?P<object_id>[^/]+)/expire", self.api_expire_checkout_session),
            ("GET", r"/v1/subscriptions", self.api_list_subscriptions),
            ("GET", r"/v1/subscriptions/(?P<object_id>[^/]+)", self.api_retrieve_subscription),
            ("POST", r"/v1/subscriptions/(?P<object_id>[^/]+)", self.api_update_subscription),
            ("DELETE", r"/v1/subscriptions/(?P<object_id>[^/]+)", self.api_cancel_subscription),
            ("GET", r"/v1/invoices", self.api_list_invoices),
            ("GET", r"/v1/invoices/(?P<object_id>[^/]+)", self.api_retrieve_invoice),
            ("POST", r"/v1/invoices/(?P<object_id>[^/]+)/pay", self.api_pay_invoice),
            ("POST", r"/v1/billing_portal/sessions", self.api_create_portal_session),
            ("GET", r"/v1/events", self.api_list_events),
            ("GET", r"/v1/events/(?P<object_id>[^/]+)", self.api_retrieve_event),
        ]
        self.routes = [(method, re.compile(pattern + "$"), handler) for method, pattern, handler in table]

    def _clear(self) -> None:
        self.clock: int | None = None
        self.customers: dict[str, JSON] = {}
        self.sessions: dict[str, JSON] = {}
        self.checkout_items: dict[str, _CheckoutItem] = {}
        self.subscriptions: dict[str, JSON] = {}
        self.invoices: dict[str, JSON] = {}
        self.portal_sessions: dict[str, JSON] = {}
        self.events: dict[str, JSON] = {}
        self.undelivered: list[str] = []
        self.deliveries: list[Delivery] = []
        self.requests: list[RecordedRequest] = []
        self.idempotency: dict[str, _Stored] = {}
        self.failures: list[_Failure] = []
        self.holds: list[_Hold] = []

    def reset(self) -> None:
        with self.lock:
            self._clear()

    def now(self) -> int:
        return self.clock if self.clock is not None else int(time.time())

    def lookup(self, object_id: str) -> JSON:
        """Any object by id, for inspection."""
        with self.lock:
            for table in (
                self.customers,
                self.sessions,
                self.subscriptions,
                self.invoices,
                self.portal_sessions,
                self.events,
                self.prices,
                self.products,
            ):
                if object_id in table:
                    return copy.deepcopy(table[object_id])
        raise _missing("object", object_id)

    # prices and products

    def add_price(self, spec: PriceSpec) -> JSON:
        if spec.interval not in ("month", "year"):
            raise ValueError(f"interval must be 'month' or 'year', not {spec.interval!r}")
        if spec.unit_amount < 0:
            raise ValueError("unit_amount must be >= 0 (cents)")
        with self.lock:
            now = self.now()
            product = next((p for p in self.products.values() if p["name"] == spec.product_name), None)
            if product is None:
                product = _fixture("product")
                product.update(
                    id=_new_id("prod_", 14),
                    name=spec.product_name,
                    description=None,
                    created=now,
                    updated=now,
                    default_price=spec.price_id,
                    livemode=False,
                    metadata={},
                    images=[],
                    marketing_features=[],
                    package_dimensions=None,
                    shippable=None,
                    type="service",
                    url=None,
                )
                self.products[product["id"]] = product
            price = _fixture("price")
            price.update(
                id=spec.price_id,
                active=True,
                billing_scheme="per_unit",
                created=now,
                currency="usd",
                custom_unit_amount=None,
                livemode=False,
                lookup_key=spec.lookup_key,
                metadata={},
                nickname=None,
                product=product["id"],
                tax_behavior="unspecified",
                tiers_mode=None,
                transform_quantity=None,
                type="recurring",
                unit_amount=spec.unit_amount,
                unit_amount_decimal=str(spec.unit_amount),
            )
            price["recurring"] = {
                "interval": spec.interval,
                "interval_count": 1,
                "meter": None,
                "usage_type": "licensed",
                "trial_period_days": None,
            }
            self.prices[spec.price_id] = price
            return copy.deepcopy(price)

    def _price(self, price_id: Any, param: str) -> JSON:
        if not isinstance(price_id, str) or not price_id:
            raise FakeStripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)
        if price_id not in self.prices:
            raise _missing("price", price_id, param=param, status=400)
        return self.prices[price_id]

    def _plan(self, price: JSON) -> JSON:
        """The legacy `plan` view of a price that subscription items still carry."""
        plan = _fixture("plan")
        plan.update(
            id=price["id"],
            active=True,
            amount=price["unit_amount"],
            amount_decimal=str(price["unit_amount"]),
            billing_scheme="per_unit",
            created=price["created"],
            currency=price["currency"],
            interval=price["recurring"]["interval"],
            interval_count=1,
            livemode=False,
            metadata={},
            meter=None,
            nickname=None,
            product=price["product"],
            tiers_mode=None,
            transform_usage=None,
            trial_period_days=None,
            usage_type="licensed",
        )
        return plan

    # events and webhooks

    def _emit(self, event_type: str, obj: JSON, ctx: _Context | None = None, previous: JSON | None = None) -> JSON:
        event = _fixture("event")
        data: JSON = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        event.update(
            id=_new_id("evt_"),
            api_version=API_VERSION,
            created=self.now(),
            data=data,
            livemode=False,
            pending_webhooks=1 if self.webhook_url else 0,
            request={"id": ctx.request_id if ctx else None, "idempotency_key": ctx.idempotency_key if ctx else None},
            type=event_type,
        )
        self.events[event["id"]] = event
        if self.webhook_url:
            self.undelivered.append(event["id"])
        return event

    def signed(self, event: JSON | str, secret: str | None = None, timestamp: int | None = None) -> tuple[bytes, JSON]:
        with self.lock:
            if isinstance(event, str):
                if event not in self.events:
                    raise _missing("event", event)
                event = self.events[event]
            payload = render(event)
            secret = self.webhook_secret if secret is None else secret
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Stripe-Signature": sign_payload(payload, secret, timestamp),
            "Content-Type": "application/json",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        return payload, headers

    def flush_deliveries(self) -> list[Delivery]:
        """POST the events not yet delivered to the webhook URL, oldest first, one at a time."""
        with self.delivery_lock:
            with self.lock:
                pending = [self.events[event_id] for event_id in self.undelivered if event_id in self.events]
                self.undelivered.clear()
            return [self._post(event) for event in pending]

    def redeliver(self, event_ids: Iterable[str]) -> list[Delivery]:
        with self.lock:
            if not self.webhook_url:
                raise RuntimeError("no webhook URL: set one with set_webhook() or POST /_test/webhook")
            events = []
            for event_id in event_ids:
                if event_id not in self.events:
                    raise _missing("event", event_id)
                events.append(self.events[event_id])
        with self.delivery_lock:
            return [self._post(event) for event in events]

    def _post(self, event: JSON) -> Delivery:
        url = self.webhook_url or ""
        payload, headers = self.signed(event)
        try:
            status: int | None = httpx.post(url, content=payload, headers=headers, timeout=30).status_code
            error = None
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        delivery = Delivery(event["id"], event["type"], url, status, error)
        with self.lock:
            self.deliveries.append(delivery)
        return delivery

    # the HTTP API: authentication, failures to inject, idempotency, then the handler

    def handle_api(
        self, method: str, path: str, query: JSON, form: JSON, idempotency_key: str | None, authorization: str
    ) -> _Answer:
        request_id = _new_id("req_", 14)
        with self.lock:
            answer, replayed = self._answer(method, path, query, form, idempotency_key, authorization, request_id)
            answer.headers.update({"Request-Id": request_id, "Stripe-Version": API_VERSION})
            if idempotency_key:
                answer.headers["Idempotency-Key"] = idempotency_key
            for held in self.holds:
                if held.method in (method, "*") and path.startswith(held.path_prefix):
                    self.holds.remove(held)
                    answer.hold = held.seconds
                    break
            self.requests.append(
                RecordedRequest(method, path, query, form, idempotency_key, answer.status, replayed, request_id)
            )
            return answer

    def _answer(
        self,
        method: str,
        path: str,
        query: JSON,
        form: JSON,
        idempotency_key: str | None,
        authorization: str,
        request_id: str,
    ) -> tuple[_Answer, bool]:
        try:
            self._authenticate(authorization)
        except FakeStripeError as exc:
            return _Answer(exc.status, render(exc.body()), {}), False
        failure = self._take_failure(method, path)
        if failure and not failure.after_processing:
            return self._failure_answer(failure), False
        params = {**query, **form}
        if method == "POST" and idempotency_key and idempotency_key in self.idempotency:
            stored = self.idempotency[idempotency_key]
            if (stored.method, stored.path, stored.params) != (method, path, params):
                error = FakeStripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first used "
                    f"with. Try using a key other than '{idempotency_key}' if you meant to execute a different "
                    "request.",
                    type="idempotency_error",
                )
                return _Answer(400, render(error.body()), {}), False
            if failure:
                return self._failure_answer(failure), False
            headers = {"Idempotent-Replayed": "true", "Original-Request": stored.request_id}
            return _Answer(stored.status, stored.body, headers), True
        ctx = _Context(request_id, idempotency_key)
        try:
            answer = _Answer(200, render(self._dispatch(method, path, params, ctx)), {})
        except FakeStripeError as exc:
            answer = _Answer(exc.status, render(exc.body()), {})
        except Exception as exc:  # a bug of the fake: still answer in Stripe's shape, so the SDK says what it was
            error = FakeStripeError(500, f"The fake Stripe failed: {exc!r}", type="api_error")
            answer = _Answer(500, render(error.body()), {})
        # Like Stripe, answers of requests that ran are kept; a request refused before running can be retried.
        if method == "POST" and idempotency_key and (answer.status < 400 or answer.status == 402):
            self.idempotency[idempotency_key] = _Stored(method, path, params, answer.status, answer.body, request_id)
        if failure:
            return self._failure_answer(failure), False
        return answer, False

    @staticmethod
    def _authenticate(authorization: str) -> None:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() == "basic":  # `curl -u sk_test_...:` works with Stripe too
            try:
                key = base64.b64decode(key).decode().partition(":")[0]
            except ValueError:
                key = ""
            scheme = "bearer"
        if not authorization:
            raise FakeStripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if scheme.lower() != "bearer" or not key.startswith("sk_test_"):
            masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key
            raise FakeStripeError(401, f"Invalid API Key provided: {masked}", code="api_key_invalid")

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self.failures:
            if failure.method in (method, "*") and path.startswith(failure.path_prefix):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _failure_answer(failure: _Failure) -> _Answer:
        if failure.status == 429:
            error = FakeStripeError(429, "Too many requests hit the API too quickly.", code="rate_limit")
        else:
            error = FakeStripeError(
                failure.status,
                "An unknown error occurred while processing your request (injected by the fake).",
                type="api_error",
            )
        return _Answer(failure.status, render(error.body()), {})

    def _dispatch(self, method: str, path: str, params: JSON, ctx: _Context) -> JSON:
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if match and route_method == method:
                return handler(params, ctx, **match.groupdict())
        raise FakeStripeError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
            "https://support.stripe.com/.",
        )

    @staticmethod
    def _page(objects: Iterable[JSON], url: str, params: JSON) -> JSON:
        """One page of a list, newest first, honouring `limit` and `starting_after`."""
        newest_first = list(reversed(list(objects)))
        try:
            limit = min(max(int(params.get("limit", 10)), 1), 100)
        except ValueError as exc:
            raise _invalid("Invalid integer: limit", "limit") from exc
        if after := params.get("starting_after"):
            ids = [o["id"] for o in newest_first]
            if after not in ids:
                raise _missing("object", str(after), param="starting_after", status=400)
            newest_first = newest_first[ids.index(after) + 1 :]
        data = [copy.deepcopy(o) for o in newest_first[:limit]]
        return {"object": "list", "data": data, "has_more": len(newest_first) > limit, "url": url}

    @staticmethod
    def _flag(params: JSON, name: str) -> bool | None:
        value = params.get(name)
        if value is None:
            return None
        if value in ("true", "false"):
            return bool(value == "true")
        raise _invalid(f"Invalid boolean: {value}", name)

    @staticmethod
    def _metadata(params: JSON, current: JSON, param: str = "metadata") -> tuple[JSON, JSON]:
        """Stripe's merge: keys are set, an empty value removes its key, an empty string removes all. Returns the
        new metadata and the previous values of the keys that changed (None for added keys)."""
        new = params.get(param)
        if new is None:
            return current, {}
        if new == "":
            return {}, dict(current)
        if not isinstance(new, dict):
            raise _invalid("Invalid object", param)
        merged, previous = dict(current), {}
        for key, value in new.items():
            if value == "":
                if key in merged:
                    previous[key] = merged.pop(key)
            elif merged.get(key) != value:
                previous[key] = merged.get(key)
                merged[key] = str(value)
        return merged, previous

    # customers

    def _new_customer(self, email: str | None, name: str | None, metadata: JSON, ctx: _Context | None) -> JSON:
        customer = _fixture("customer")
        customer.update(
            id=_new_id("cus_", 14),
            address=None,
            balance=0,
            created=self.now(),
            currency=None,
            default_source=None,
            delinquent=False,
            description=None,
            discount=None,
            email=email,
            invoice_prefix=secrets.token_hex(4).upper(),
            livemode=False,
            metadata=metadata,
            name=name,
            next_invoice_sequence=1,
            phone=None,
            preferred_locales=[],
            shipping=None,
            tax_exempt="none",
            test_clock=None,
        )
        self.customers[customer["id"]] = customer
        self._emit("customer.created", customer, ctx)
        return customer

    def api_create_customer(self, params: JSON, ctx: _Context) -> JSON:
        metadata, _ = self._metadata(params, {})
        return self._new_customer(params.get("email"), params.get("name"), metadata, ctx)

    def api_retrieve_customer(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        if object_id not in self.customers:
            raise _missing("customer", object_id)
        return self.customers[object_id]

    def api_update_customer(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        customer = self.api_retrieve_customer(params, ctx, object_id)
        previous: JSON = {}
        metadata, changed = self._metadata(params, customer["metadata"])
        if changed:
            previous["metadata"] = changed
            customer["metadata"] = metadata
        for name in ("email", "name", "description", "phone"):
            if name in params and params[name] != customer[name]:
                previous[name] = customer[name]
                customer[name] = params[name] or None
        if previous:
            self._emit("customer.updated", customer, ctx, previous)
        return customer

    def api_list_customers(self, params: JSON, ctx: _Context) -> JSON:
        customers = [c for c in self.customers.values() if params.get("email") in (None, c["email"])]
        return self._page(customers, "/v1/customers", params)

    # prices and products

    def api_retrieve_price(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        if object_id not in self.prices:
            raise _missing("price", object_id)
        return self.prices[object_id]

    def api_list_prices(self, params: JSON, ctx: _Context) -> JSON:
        prices = list(self.prices.values())
        if lookup_keys := params.get("lookup_keys"):
            prices = [p for p in prices if p["lookup_key"] in lookup_keys]
        if product := params.get("product"):
            prices = [p for p in prices if p["product"] == product]
        if (active := self._flag(params, "active")) is not None:
            prices = [p for p in prices if p["active"] == active]
        return self._page(prices, "/v1/prices", params)

    def api_retrieve_product(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        if object_id not in self.products:
            raise _missing("product", object_id)
        return self.products[object_id]

    # checkout sessions

    def api_create_checkout_session(self, params: JSON, ctx: _Context) -> JSON:
        if params.get("mode") != "subscription":
            raise _invalid("The fake Stripe supports Checkout Sessions with mode=subscription only.", "mode")
        if not params.get("success_url"):
            raise FakeStripeError(400, "Missing required param: success_url.", code="parameter_missing")
        line_items = params.get("line_items")
        if not isinstance(line_items, list) or len(line_items) != 1 or not isinstance(line_items[0], dict):
            raise _invalid("The fake Stripe supports exactly one line item (line_items[0]).", "line_items")
        price = self._price(line_items[0].get("price"), "line_items[0][price]")
        try:
            quantity = int(line_items[0].get("quantity", 1))
        except ValueError as exc:
            raise _invalid("Invalid integer: line_items[0][quantity]", "line_items[0][quantity]") from exc
        customer_id, email = params.get("customer"), params.get("customer_email")
        if customer_id and email:
            raise _invalid("You may only specify one of these parameters: customer, customer_email.", "customer")
        if customer_id and customer_id not in self.customers:
            raise _missing("customer", customer_id, param="customer", status=400)
        metadata, _ = self._metadata(params, {})
        subscription_data = params.get("subscription_data") or {}
        subscription_metadata, _ = (
            self._metadata(subscription_data, {}) if isinstance(subscription_data, dict) else ({}, {})
        )
        now, session_id, amount = self.now(), _new_id("cs_test_", 58), price["unit_amount"] * quantity
        session = _fixture("checkout.session")
        session.update(
            id=session_id,
            adaptive_pricing={"enabled": False},
            after_expiration=None,
            amount_subtotal=amount,
            amount_total=amount,
            cancel_url=params.get("cancel_url"),
            client_reference_id=params.get("client_reference_id"),
            collected_information=None,
            consent=None,
            consent_collection=None,
            created=now,
            currency="usd",
            currency_conversion=None,
            custom_text={key: None for key in session["custom_text"]},
            customer=customer_id,
            customer_details=None,
            customer_email=email,
            discounts=[],
            expires_at=now + 24 * 3600,
            invoice=None,
            invoice_creation=None,
            livemode=False,
            managed_payments=None,
            metadata=metadata,
            mode="subscription",
            payment_intent=None,
            payment_method_collection="always",
            payment_method_configuration_details=None,
            payment_status="unpaid",
            saved_payment_method_options=None,
            setup_intent=None,
            shipping_address_collection=None,
            shipping_cost=None,
            status="open",
            subscription=None,
            success_url=params["success_url"],
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            ui_mode="hosted",
            url=f"{self.public_url}/checkout/{session_id}",
        )
        self.sessions[session_id] = session
        self.checkout_items[session_id] = _CheckoutItem(price["id"], quantity, subscription_metadata)
        return session

    def api_retrieve_checkout_session(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        if object_id not in self.sessions:
            raise _missing("checkout.session", object_id)
        return self.sessions[object_id]

    def api_list_checkout_sessions(self, params: JSON, ctx: _Context) -> JSON:
        sessions = [
            s
            for s in self.sessions.values()
            if all(params.get(name) in (None, s[name]) for name in ("customer", "subscription", "status"))
        ]
        return self._page(sessions, "/v1/checkout/sessions", params)

    def api_expire_checkout_session(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        self.expire_checkout(object_id, ctx)
        return self.sessions[object_id]

    def _open_session(self, session_id: str) -> JSON:
        if session_id not in self.sessions:
            raise _missing("checkout.session", session_id)
        session = self.sessions[session_id]
        if session["status"] != "open":
            raise _invalid(
                f"This Checkout Session is no longer open (status '{session['status']}').",
                code="checkout_session_not_open" if session["status"] == "complete" else "checkout_session_expired",
            )
        return session

    def complete_checkout(self, session_id: str, card: str) -> list[JSON]:
        """What paying on the hosted page does: customer (if needed), active subscription, paid invoice."""
        if card not in ("ok", "declined"):
            raise ValueError(f"card must be 'ok' or 'declined', not {card!r}")
        with self.lock:
            session = self._open_session(session_id)
            if card == "declined":
                raise CardDeclined()
            first_event = len(self.events)
            customer = self.customers.get(session["customer"] or "")
            if customer is None:
                customer = self._new_customer(session["customer_email"], None, {}, None)
            customer["currency"] = "usd"
            item = self.checkout_items[session_id]
            subscription = self._new_subscription(customer, self.prices[item.price_id], item)
            invoice = self._new_invoice(subscription, "subscription_create")
            subscription["latest_invoice"] = invoice["id"]
            self._emit("customer.subscription.created", subscription)
            self._bill(invoice, paid=True)
            details = _fixture("checkout.session")["customer_details"]
            details.update(email=customer["email"], name=customer["name"], tax_ids=[])
            session.update(
                status="complete",
                payment_status="paid",
                customer=customer["id"],
                customer_details=details,
                subscription=subscription["id"],
                invoice=invoice["id"],
                url=None,
            )
            self._emit("checkout.session.completed", session)
            return list(self.events.values())[first_event:]

    def expire_checkout(self, session_id: str, ctx: _Context | None = None) -> list[JSON]:
        with self.lock:
            session = self._open_session(session_id)
            session.update(status="expired", url=None)
            return [self._emit("checkout.session.expired", session, ctx)]

    # subscriptions

    def _new_item(self, subscription_id: str, price: JSON, quantity: int, start: int, end: int) -> JSON:
        item = _fixture("subscription_item")
        item.update(
            id=_new_id("si_", 14),
            billing_thresholds=None,
            created=start,
            current_period_start=start,
            current_period_end=end,
            discounts=[],
            metadata={},
            plan=self._plan(price),
            price=copy.deepcopy(price),
            quantity=quantity,
            subscription=subscription_id,
            tax_rates=[],
        )
        return item

    def _new_subscription(self, customer: JSON, price: JSON, checkout: _CheckoutItem) -> JSON:
        now, subscription_id = self.now(), _new_id("sub_")
        end = _add_interval(now, price["recurring"]["interval"], _day_of_month(now))
        subscription = _fixture("subscription")
        subscription.update(
            id=subscription_id,
            application_fee_percent=None,
            automatic_tax={"enabled": False, "liability": None, "disabled_reason": None},
            billing_cycle_anchor=now,
            billing_cycle_anchor_config=None,
            billing_mode={"type": "classic", "flexible": None},
            billing_schedules=[],
            billing_thresholds=None,
            cancel_at=None,
            cancel_at_period_end=False,
            canceled_at=None,
            cancellation_details={"comment": None, "feedback": None, "reason": None},
            created=now,
            currency="usd",
            customer=customer["id"],
            default_payment_method=None,
            description=None,
            discounts=[],
            ended_at=None,
            items={
                "object": "list",
                "data": [self._new_item(subscription_id, price, checkout.quantity, now, end)],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            latest_invoice=None,
            livemode=False,
            managed_payments=None,
            metadata=dict(checkout.subscription_metadata),
            next_pending_invoice_item_invoice=None,
            pause_collection=None,
            payment_settings={
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            pending_invoice_item_interval=None,
            pending_setup_intent=None,
            pending_update=None,
            schedule=None,
            start_date=now,
            status="active",
            test_clock=None,
            transfer_data=None,
            trial_end=None,
            trial_start=None,
        )
        self.subscriptions[subscription_id] = subscription
        return subscription

    def _subscription(self, subscription_id: str) -> JSON:
        if subscription_id not in self.subscriptions:
            raise _missing("subscription", subscription_id)
        return self.subscriptions[subscription_id]

    def api_retrieve_subscription(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        return self._subscription(object_id)

    def api_list_subscriptions(self, params: JSON, ctx: _Context) -> JSON:
        status = params.get("status")
        subscriptions = [
            s
            for s in self.subscriptions.values()
            if params.get("customer") in (None, s["customer"])
            and (status == "all" or s["status"] == status or (status is None and s["status"] != "canceled"))
            and params.get("price") in (None, *(i["price"]["id"] for i in s["items"]["data"]))
        ]
        return self._page(subscriptions, "/v1/subscriptions", params)

    def api_update_subscription(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        subscription = self._subscription(object_id)
        cancel_at_period_end = self._flag(params, "cancel_at_period_end")
        items = params.get("items")
        if subscription["status"] == "canceled" and (cancel_at_period_end is not None or items):
            raise _invalid("A canceled subscription can only update its cancellation_details and metadata.")
        metadata, _ = self._metadata(params, subscription["metadata"])
        self.update_subscription(
            subscription, cancel_at_period_end=cancel_at_period_end, items=items, metadata=metadata, ctx=ctx
        )
        return subscription

    def update_subscription(
        self,
        subscription: JSON,
        *,
        cancel_at_period_end: bool | None = None,
        items: Any = None,
        metadata: JSON | None = None,
        ctx: _Context | None = None,
    ) -> list[JSON]:
        """Cancel at period end, resume, swap an item's price (the period is kept), set metadata; one
        customer.subscription.updated event whose previous_attributes hold what changed."""
        item_changes = self._item_changes(subscription, items) if items else []
        previous: JSON = {}
        if metadata is not None and metadata != subscription["metadata"]:
            old = subscription["metadata"]
            previous["metadata"] = {k: old.get(k) for k in {*old, *metadata} if old.get(k) != metadata.get(k)}
            subscription["metadata"] = metadata
        if cancel_at_period_end is not None and cancel_at_period_end != subscription["cancel_at_period_end"]:
            for name in ("cancel_at_period_end", "cancel_at", "canceled_at", "cancellation_details"):
                previous[name] = copy.deepcopy(subscription[name])
            period_end = subscription["items"]["data"][0]["current_period_end"]
            subscription.update(
                cancel_at_period_end=cancel_at_period_end,
                cancel_at=period_end if cancel_at_period_end else None,
                canceled_at=self.now() if cancel_at_period_end else None,
                cancellation_details={
                    "comment": None,
                    "feedback": None,
                    "reason": "cancellation_requested" if cancel_at_period_end else None,
                },
            )
        old_items = copy.deepcopy(subscription["items"])
        if self._apply_item_changes(item_changes, self._plan):
            previous["items"] = old_items
        if not previous:
            return []
        return [self._emit("customer.subscription.updated", subscription, ctx, previous)]

    def _item_changes(self, subscription: JSON, items: Any) -> list[tuple[JSON, JSON | None, int | None]]:
        """Checks `items[i][id]` / `[price]` / `[quantity]` before anything changes: (item, new price, new qty)."""
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _invalid("Invalid array", "items")
        by_id = {item["id"]: item for item in subscription["items"]["data"]}
        changes: list[tuple[JSON, JSON | None, int | None]] = []
        for index, change in enumerate(items):
            if not change.get("id"):
                raise _invalid("The fake Stripe only changes existing items: pass items[i][id].", f"items[{index}][id]")
            if change["id"] not in by_id:
                raise _missing("subscription_item", change["id"], param=f"items[{index}][id]", status=400)
            price = self._price(change["price"], f"items[{index}][price]") if "price" in change else None
            try:
                quantity = int(change["quantity"]) if "quantity" in change else None
            except ValueError as exc:
                raise _invalid("Invalid integer", f"items[{index}][quantity]") from exc
            changes.append((by_id[change["id"]], price, quantity))
        return changes

    @staticmethod
    def _apply_item_changes(changes: list[tuple[JSON, JSON | None, int | None]], plan: Callable[[JSON], JSON]) -> bool:
        changed = False
        for item, price, quantity in changes:
            if price is not None and price["id"] != item["price"]["id"]:
                item.update(price=copy.deepcopy(price), plan=plan(price))
                changed = True
            if quantity is not None and quantity != item["quantity"]:
                item["quantity"] = quantity
                changed = True
        return changed

    def api_cancel_subscription(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        subscription = self._subscription(object_id)
        if subscription["status"] == "canceled":
            raise _invalid(f"This subscription has already been canceled: '{object_id}'", code="resource_missing")
        now = self.now()
        subscription.update(
            status="canceled",
            ended_at=now,
            canceled_at=now,
            cancel_at=None,
            cancellation_details={"comment": None, "feedback": None, "reason": "cancellation_requested"},
        )
        self._emit("customer.subscription.deleted", subscription, ctx)
        return subscription

    def renew(self, subscription_id: str, outcome: str) -> list[JSON]:
        """The billing cycle turns at the current period's end (the clock moves there if it is behind)."""
        if outcome not in ("paid", "failed"):
            raise ValueError(f"outcome must be 'paid' or 'failed', not {outcome!r}")
        with self.lock:
            subscription = self._subscription(subscription_id)
            if subscription["status"] == "canceled":
                raise _invalid(f"Subscription '{subscription_id}' is canceled; it does not renew.")
            first_event = len(self.events)
            period_end = subscription["items"]["data"][0]["current_period_end"]
            if self.now() < period_end:
                self.clock = period_end
            if subscription["cancel_at_period_end"]:
                subscription.update(status="canceled", ended_at=self.now(), cancel_at=period_end)
                self._emit("customer.subscription.deleted", subscription)
                return list(self.events.values())[first_event:]
            previous: JSON = {"items": copy.deepcopy(subscription["items"])}
            old_start = subscription["items"]["data"][0]["current_period_start"]
            anchor_day = _day_of_month(subscription["billing_cycle_anchor"])
            for item in subscription["items"]["data"]:
                new_start = item["current_period_end"]
                item["current_period_start"] = new_start
                item["current_period_end"] = _add_interval(
                    new_start, item["price"]["recurring"]["interval"], anchor_day
                )
            invoice = self._new_invoice(subscription, "subscription_cycle", period=(old_start, period_end))
            previous["latest_invoice"], subscription["latest_invoice"] = subscription["latest_invoice"], invoice["id"]
            self._emit("customer.subscription.updated", subscription, None, previous)
            self._bill(invoice, paid=outcome == "paid")
            return list(self.events.values())[first_event:]

    # invoices

    def _new_invoice(self, subscription: JSON, billing_reason: str, period: tuple[int, int] | None = None) -> JSON:
        """A draft invoice for the subscription's current period. `period` is the invoice's own
        period_start/period_end: for a renewal, Stripe reports the period that just ended there."""
        now, invoice_id = self.now(), _new_id("in_")
        customer = self.customers[subscription["customer"]]
        item = subscription["items"]["data"][0]
        price, quantity = item["price"], item["quantity"]
        amount = price["unit_amount"] * quantity
        product = self.products.get(price["product"], {}).get("name", price["product"])
        line = _fixture("line_item")
        line.update(
            id=_new_id("il_"),
            amount=amount,
            currency="usd",
            description=f"{quantity} × {product} (at ${price['unit_amount'] / 100:,.2f} / "
            f"{price['recurring']['interval']})",
            discount_amounts=[],
            discountable=True,
            discounts=[],
            invoice=invoice_id,
            livemode=False,
            metadata=dict(subscription["metadata"]),
            parent={
                "type": "subscription_item_details",
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription["id"],
                    "subscription_item": item["id"],
                },
            },
            period={"start": item["current_period_start"], "end": item["current_period_end"]},
            pretax_credit_amounts=[],
            pricing={
                "type": "price_details",
                "price_details": {"price": price["id"], "product": price["product"]},
                "unit_amount_decimal": str(price["unit_amount"]),
            },
            quantity=quantity,
            quantity_decimal=str(quantity),
            subscription=subscription["id"],
            subtotal=amount,
            taxes=[],
        )
        invoice = _fixture("invoice")
        invoice.pop("subscription", None)  # gone from the API since 2025-03-31: read parent.subscription_details
        period_start, period_end = period or (now, now)
        invoice.update(
            id=invoice_id,
            account_name=ACCOUNT_NAME,
            amount_due=amount,
            amount_overpaid=0,
            amount_paid=0,
            amount_remaining=amount,
            attempt_count=0,
            attempted=False,
            auto_advance=True,
            automatic_tax={
                "enabled": False,
                "liability": None,
                "status": None,
                "disabled_reason": None,
                "provider": None,
            },
            billing_reason=billing_reason,
            collection_method="charge_automatically",
            created=now,
            currency="usd",
            customer=customer["id"],
            customer_address=None,
            customer_email=customer["email"],
            customer_name=customer["name"],
            customer_shipping=None,
            due_date=None,
            effective_at=None,
            from_invoice=None,
            last_finalization_error=None,
            lines={
                "object": "list",
                "data": [line],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            livemode=False,
            metadata={},
            next_payment_attempt=None,
            number=None,
            parent={
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(subscription["metadata"]),
                    "subscription": subscription["id"],
                },
            },
            payment_settings={"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
            period_end=period_end,
            period_start=period_start,
            rendering=None,
            shipping_cost=None,
            shipping_details=None,
            status="draft",
            status_transitions={
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            subtotal=amount,
            subtotal_excluding_tax=amount,
            total=amount,
            total_excluding_tax=amount,
            total_pretax_credit_amounts=[],
            total_taxes=[],
            webhooks_delivered_at=None,
        )
        self.invoices[invoice_id] = invoice
        return invoice

    def _bill(self, invoice: JSON, *, paid: bool) -> None:
        """Create (draft), finalize, then charge: paid, or failed and the subscription past due."""
        self._emit("invoice.created", invoice)
        customer = self.customers[invoice["customer"]]
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}",
            effective_at=self.now(),
            ending_balance=0,
            starting_balance=0,
        )
        customer["next_invoice_sequence"] += 1
        invoice["status_transitions"]["finalized_at"] = self.now()
        self._emit("invoice.finalized", invoice)
        if paid:
            self._mark_paid(invoice, None)
            return
        invoice.update(
            attempted=True, attempt_count=invoice["attempt_count"] + 1, next_payment_attempt=self.now() + 3 * 86400
        )
        self._emit("invoice.payment_failed", invoice)
        subscription = self.subscriptions[invoice["parent"]["subscription_details"]["subscription"]]
        if subscription["status"] != "past_due":
            previous = {"status": subscription["status"]}
            subscription["status"] = "past_due"
            self._emit("customer.subscription.updated", subscription, None, previous)

    def _mark_paid(self, invoice: JSON, ctx: _Context | None) -> None:
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempted=True,
            attempt_count=invoice["attempt_count"] + 1,
            auto_advance=False,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = self.now()
        self._emit("invoice.paid", invoice, ctx)
        self._emit("invoice.payment_succeeded", invoice, ctx)
        subscription = self.subscriptions.get(invoice["parent"]["subscription_details"]["subscription"])
        if subscription and subscription["status"] in ("past_due", "unpaid", "incomplete"):
            previous = {"status": subscription["status"]}
            subscription["status"] = "active"
            self._emit("customer.subscription.updated", subscription, ctx, previous)

    def pay_invoice(self, invoice_id: str, ctx: _Context | None = None) -> list[JSON]:
        with self.lock:
            invoice = self._invoice(invoice_id)
            if invoice["status"] != "open":
                raise _invalid(f"Invoice is already {invoice['status']}", code="invoice_not_open")
            first_event = len(self.events)
            self._mark_paid(invoice, ctx)
            return list(self.events.values())[first_event:]

    def _invoice(self, invoice_id: str) -> JSON:
        if invoice_id not in self.invoices:
            raise _missing("invoice", invoice_id)
        return self.invoices[invoice_id]

    def latest_invoice(self, subscription_id: str) -> JSON:
        with self.lock:
            invoice_id = self._subscription(subscription_id)["latest_invoice"]
            if invoice_id is None:
                raise _missing("invoice", f"latest of {subscription_id}")
            return copy.deepcopy(self.invoices[invoice_id])

    def api_retrieve_invoice(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        return self._invoice(object_id)

    def api_pay_invoice(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        self.pay_invoice(object_id, ctx)
        return self.invoices[object_id]

    def api_list_invoices(self, params: JSON, ctx: _Context) -> JSON:
        invoices = [
            i
            for i in self.invoices.values()
            if params.get("customer") in (None, i["customer"])
            and params.get("subscription") in (None, i["parent"]["subscription_details"]["subscription"])
            and params.get("status") in (None, i["status"])
        ]
        return self._page(invoices, "/v1/invoices", params)

    # billing portal

    def api_create_portal_session(self, params: JSON, ctx: _Context) -> JSON:
        customer_id = params.get("customer")
        if not customer_id:
            raise FakeStripeError(400, "Missing required param: customer.", code="parameter_missing", param="customer")
        if customer_id not in self.customers:
            raise _missing("customer", customer_id, param="customer", status=400)
        portal = _fixture("billing_portal.session")
        portal_id = _new_id("bps_")
        portal.update(
            id=portal_id,
            configuration=params.get("configuration") or PORTAL_CONFIGURATION,
            created=self.now(),
            customer=customer_id,
            flow=None,
            livemode=False,
            locale=params.get("locale"),
            on_behalf_of=None,
            return_url=params.get("return_url"),
            url=f"{self.public_url}/portal/{portal_id}",
        )
        self.portal_sessions[portal_id] = portal
        return portal

    # events

    def api_retrieve_event(self, params: JSON, ctx: _Context, object_id: str) -> JSON:
        if object_id not in self.events:
            raise _missing("event", object_id)
        return self.events[object_id]

    def api_list_events(self, params: JSON, ctx: _Context) -> JSON:
        wanted = params.get("types") or ([params["type"]] if params.get("type") else None)
        events = [
            e
            for e in self.events.values()
            if wanted is None
            or any(e["type"] == t or (t.endswith(".*") and e["type"].startswith(t[:-1])) for t in wanted)
        ]
        return self._page(events, "/v1/events", params)


# --- the HTTP app ---------------------------------------------------------------------------------------------


async def _json_body(request: Request) -> JSON:
    raw = await request.body()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _error_response(exc: Exception) -> JSONResponse:
    if isinstance(exc, FakeStripeError):
        return JSONResponse(exc.body(), exc.status)
    return JSONResponse(FakeStripeError(400, str(exc)).body(), 400)


def _page_html(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:32rem;margin:3rem auto'><h1>{html.escape(title)}</h1>"
        f"{body}<p><small>Fake Stripe (test mode)</small></p></body></html>"
    )


def create_app(account: _Account) -> Starlette:
    def deliver_after(control: Callable[[], list[JSON]]) -> list[JSON]:
        events = copy.deepcopy(control())
        account.flush_deliveries()
        return events

    async def control(request: Request, action: Callable[[JSON], list[JSON]]) -> Response:
        """Run a control action in a thread: it may POST webhooks to an app that calls this server back."""
        try:
            data = await _json_body(request)
            events = await run_in_threadpool(lambda: deliver_after(lambda: action(data)))
        except (FakeStripeError, ValueError, TypeError, RuntimeError) as exc:
            return _error_response(exc)
        return JSONResponse({"events": events})

    async def api(request: Request) -> Response:
        raw = await request.body()
        query = decode_form(request.query_params.multi_items())
        form = decode_form(parse_qsl(raw.decode(), keep_blank_values=True)) if raw else {}
        answer = account.handle_api(
            request.method,
            request.url.path,
            query,
            form,
            request.headers.get("idempotency-key"),
            request.headers.get("authorization", ""),
        )
        if answer.hold:
            # Processed and stored already: like an answer lost on the way while the caller's process dies.
            await asyncio.sleep(answer.hold)
        background = BackgroundTask(account.flush_deliveries) if account.undelivered else None
        return Response(answer.body, answer.status, answer.headers, "application/json", background)

    async def test_requests(request: Request) -> Response:
        with account.lock:
            return JSONResponse([asdict(r) for r in account.requests])

    async def test_events(request: Request) -> Response:
        wanted = request.query_params.get("type")
        with account.lock:
            events = [e for e in account.events.values() if wanted in (None, e["type"])]
            return JSONResponse({"events": events})

    async def test_signed(request: Request) -> Response:
        try:
            payload, headers = account.signed(request.path_params["event_id"])
        except FakeStripeError as exc:
            return _error_response(exc)
        return JSONResponse({"payload": payload.decode(), "headers": headers})

    async def test_deliver(request: Request) -> Response:
        try:
            deliveries = await run_in_threadpool(account.redeliver, [request.path_params["event_id"]])
        except (FakeStripeError, RuntimeError) as exc:
            return _error_response(exc)
        return JSONResponse({"deliveries": [asdict(d) for d in deliveries]})

    async def test_deliveries(request: Request) -> Response:
        with account.lock:
            return JSONResponse({"deliveries": [asdict(d) for d in account.deliveries]})

    async def test_clock(request: Request) -> Response:
        if request.method == "POST":
            data = await _json_body(request)
            with account.lock:
                account.clock = None if data.get("now") is None else int(data["now"])
        return JSONResponse({"now": account.now(), "frozen": account.clock is not None})

    async def test_prices(request: Request) -> Response:
        try:
            price = account.add_price(PriceSpec.of(await _json_body(request)))
        except (ValueError, TypeError) as exc:
            return _error_response(exc)
        return JSONResponse(price)

    async def test_complete(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        return await control(request, lambda data: account.complete_checkout(session_id, data.get("card", "ok")))

    async def test_expire(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        return await control(request, lambda data: account.expire_checkout(session_id))

    async def test_renew(request: Request) -> Response:
        subscription_id = request.path_params["subscription_id"]
        return await control(request, lambda data: account.renew(subscription_id, data.get("outcome", "paid")))

    async def test_pay(request: Request) -> Response:
        invoice_id = request.path_params["invoice_id"]
        return await control(request, lambda data: account.pay_invoice(invoice_id))

    async def test_fail_next(request: Request) -> Response:
        data = await _json_body(request)
        failure = _Failure(
            str(data.get("method", "*")).upper(),
            str(data.get("path_prefix", "/v1/")),
            int(data.get("status", 500)),
            bool(data.get("after_processing", True)),
            int(data.get("count", 1)),
        )
        with account.lock:
            account.failures.append(failure)
        return JSONResponse(asdict(failure))

    async def test_hold_next(request: Request) -> Response:
        data = await _json_body(request)
        held = _Hold(str(data.get("method", "*")).upper(), str(data.get("path_prefix", "/v1/")), float(data["seconds"]))
        with account.lock:
            account.holds.append(held)
        return JSONResponse(asdict(held))

    async def test_webhook(request: Request) -> Response:
        data = await _json_body(request)
        with account.lock:
            account.webhook_url = data.get("url") or None
            account.webhook_secret = data.get("secret") or account.webhook_secret
        return JSONResponse({"url": account.webhook_url})

    async def test_reset(request: Request) -> Response:
        account.reset()
        return JSONResponse({"reset": True})

    async def checkout_page(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        with account.lock:
            session = copy.deepcopy(account.sessions.get(session_id))
            item = account.checkout_items.get(session_id)
            price = copy.deepcopy(account.prices[item.price_id]) if item else None
            product = account.products[price["product"]]["name"] if price else ""
        if session is None or price is None:
            return _page_html("Checkout not found", "<p>No such Checkout Session.</p>")
        message = ""
        if request.method == "POST" and session["status"] == "open":
            card = (await request.form()).get("card", "ok")
            try:
                await run_in_threadpool(lambda: deliver_after(lambda: account.complete_checkout(session_id, str(card))))
            except CardDeclined as exc:
                message = f"<p style='color:#b00'>{html.escape(exc.message)}</p>"
            else:
                return RedirectResponse(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id), 303)
        if session["status"] != "open":
            return _page_html("Checkout", f"<p>This Checkout Session is {html.escape(session['status'])}.</p>")
        amount = f"${session['amount_total'] / 100:,.2f} / {price['recurring']['interval']}"
        who = html.escape(session["customer_email"] or session["customer"] or "")
        cancel = f"<a href='{html.escape(session['cancel_url'])}'>Cancel</a>" if session["cancel_url"] else ""
        return _page_html(
            f"Subscribe to {product}",
            f"{message}<p>{html.escape(amount)} for {who}</p><form method='post'>"
            "<button name='card' value='ok'>Pay with a test card</button> "
            "<button name='card' value='declined'>Pay with a card that is declined</button></form>"
            f"<p>{cancel}</p>",
        )

    async def portal_page(request: Request) -> Response:
        portal_id = request.path_params["portal_id"]
        with account.lock:
            portal = copy.deepcopy(account.portal_sessions.get(portal_id))
        if portal is None:
            return _page_html("Billing portal", "<p>No such portal session.</p>")
        if request.method == "POST":
            form = await request.form()

            def change() -> list[JSON]:
                with account.lock:
                    subscription = account.subscriptions.get(str(form.get("subscription")))
                    if subscription is None or subscription["customer"] != portal["customer"]:
                        return []
                    if subscription["status"] == "canceled":
                        return []
                    cancel = form.get("action") == "cancel"
                    return account.update_subscription(subscription, cancel_at_period_end=cancel)

            await run_in_threadpool(lambda: deliver_after(change))
            return RedirectResponse(f"/portal/{portal_id}", 303)
        with account.lock:
            subscriptions = [s for s in account.subscriptions.values() if s["customer"] == portal["customer"]]
            rows = []
            for s in subscriptions:
                item = s["items"]["data"][0]
                product = account.products[item["price"]["product"]]["name"]
                ends = datetime.fromtimestamp(item["current_period_end"], UTC).date().isoformat()
                state = (
                    f"{s['status']}, cancels {ends}" if s["cancel_at_period_end"] else f"{s['status']}, renews {ends}"
                )
                button = ""
                if s["status"] != "canceled":
                    action = "resume" if s["cancel_at_period_end"] else "cancel"
                    button = (
                        f"<form method='post' style='display:inline'><input type='hidden' name='subscription' "
                        f"value='{s['id']}'><button name='action' value='{action}'>{action.title()}</button></form>"
                    )
                rows.append(f"<li>{html.escape(product)}: {html.escape(state)} {button}</li>")
        back = f"<p><a href='{html.escape(portal['return_url'])}'>Return</a></p>" if portal["return_url"] else ""
        return _page_html("Billing portal", f"<ul>{''.join(rows) or '<li>No subscriptions.</li>'}</ul>{back}")

    return Starlette(
        routes=[
            Route("/v1/{path:path}", api, methods=["GET", "POST", "DELETE"]),
            Route("/_test/requests", test_requests, methods=["GET"]),
            Route("/_test/events", test_events, methods=["GET"]),
            Route("/_test/events/{event_id}/signed", test_signed, methods=["GET"]),
            Route("/_test/events/{event_id}/deliver", test_deliver, methods=["POST"]),
            Route("/_test/deliveries", test_deliveries, methods=["GET"]),
            Route("/_test/clock", test_clock, methods=["GET", "POST"]),
            Route("/_test/prices", test_prices, methods=["POST"]),
            Route("/_test/checkout/{session_id}/complete", test_complete, methods=["POST"]),
            Route("/_test/checkout/{session_id}/expire", test_expire, methods=["POST"]),
            Route("/_test/subscriptions/{subscription_id}/renew", test_renew, methods=["POST"]),
            Route("/_test/invoices/{invoice_id}/pay", test_pay, methods=["POST"]),
            Route("/_test/fail_next", test_fail_next, methods=["POST"]),
            Route("/_test/hold_next", test_hold_next, methods=["POST"]),
            Route("/_test/webhook", test_webhook, methods=["POST"]),
            Route("/_test/reset", test_reset, methods=["POST"]),
            Route("/checkout/{session_id}", checkout_page, methods=["GET", "POST"]),
            Route("/portal/{portal_id}", portal_page, methods=["GET", "POST"]),
        ]
    )


# --- the Python handle ----------------------------------------------------------------------------------------


class FakeStripe(BackgroundServer):
    """The server on 127.0.0.1 and a free port, in a background thread. Use as a context manager or call
    `start()` / `stop()`; point the SDK at `url` (or use `client()`). Control methods return deep copies of the
    events they created, oldest first, and also POST them to the webhook URL when one is set."""

    name = "fake Stripe server"

    def __init__(
        self,
        *,
        prices: Iterable[PriceSpec | Mapping[str, Any]] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._account = _Account(webhook_url, webhook_secret)
        for spec in prices or ():
            self._account.add_price(PriceSpec.of(spec))
        super().__init__(create_app(self._account), host=host, port=port)

    def _bound(self) -> None:
        self._account.public_url = self.url

    def client(self, api_key: str = DEFAULT_API_KEY, **options: Any) -> Any:
        """A `stripe.StripeClient` pointed at this server, without network retries unless asked."""
        import stripe

        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(api_key, base_addresses={"api": self.url}, **options)

    # prices and the clock

    def add_price(
        self, price_id: str, *, product_name: str, unit_amount: int, interval: str, lookup_key: str | None = None
    ) -> JSON:
        """A recurring USD price (`unit_amount` in cents, `interval` "month" or "year"); prices of the same
        product name share one product."""
        return self._account.add_price(PriceSpec(price_id, product_name, unit_amount, interval, lookup_key))

    @property
    def now(self) -> int:
        return self._account.now()

    def set_clock(self, ts: int | None) -> None:
        """Freeze the fake's time at `ts` (None: back to wall-clock time). Every `created` and period uses it."""
        with self._account.lock:
            self._account.clock = None if ts is None else int(ts)

    def advance_clock(self, seconds: int) -> int:
        with self._account.lock:
            self._account.clock = self._account.now() + int(seconds)
            return self._account.clock

    # what customers and time do

    def _control(self, action: Callable[[], list[JSON]]) -> list[JSON]:
        events = copy.deepcopy(action())
        self._account.flush_deliveries()
        return events

    def complete_checkout(self, session_id: str, *, card: str = "ok") -> list[JSON]:
        """Pay on the hosted page. "ok": customer (if only an email was given), active subscription, paid invoice;
        events [customer.created,] customer.subscription.created, invoice.created, invoice.finalized,
        invoice.paid, invoice.payment_succeeded, checkout.session.completed. "declined": raises CardDeclined,
        the session stays open, no events."""
        return self._control(lambda: self._account.complete_checkout(session_id, card))

    def expire_checkout(self, session_id: str) -> list[JSON]:
        return self._control(lambda: self._account.expire_checkout(session_id))

    def renew(self, subscription_id: str, *, outcome: str = "paid") -> list[JSON]:
        """The billing cycle turns (the clock moves to the period end if behind). With cancel_at_period_end the
        subscription ends: customer.subscription.deleted. Otherwise the periods move one interval:
        customer.subscription.updated (previous_attributes: items, latest_invoice), invoice.created,
        invoice.finalized, then invoice.paid + invoice.payment_succeeded, or invoice.payment_failed +
        customer.subscription.updated (status past_due)."""
        return self._control(lambda: self._account.renew(subscription_id, outcome))

    def pay_invoice(self, invoice_id: str) -> list[JSON]:
        """A retry of an open invoice succeeds: invoice.paid, invoice.payment_succeeded and, if the subscription
        was past due, customer.subscription.updated (status active)."""
        return self._control(lambda: self._account.pay_invoice(invoice_id))

    def latest_invoice(self, subscription_id: str) -> JSON:
        return self._account.latest_invoice(subscription_id)

    def fail_next(
        self, method: str, path_prefix: str, *, status: int = 500, after_processing: bool = True, count: int = 1
    ) -> None:
        """The next `count` API requests matching (`method` or "*", path prefix) answer `status` with a Stripe
        error. after_processing=True: the request runs first and its answer is kept under its idempotency key
        (a lost response: a retry with the same key gets the real answer); False: nothing runs."""
        with self._account.lock:
            self._account.failures.append(_Failure(method.upper(), path_prefix, status, after_processing, count))

    def hold_next(self, method: str, path_prefix: str, *, seconds: float) -> None:
        """The next API request matching (`method` or "*", path prefix) runs and its answer is kept under its
        idempotency key, then the answer waits `seconds`: time for a test to kill the caller mid-call."""
        with self._account.lock:
            self._account.holds.append(_Hold(method.upper(), path_prefix, seconds))

    # inspection

    def get(self, object_id: str) -> JSON:
        """Any object by id (customer, checkout session, subscription, invoice, event, price, product...)."""
        return self._account.lookup(object_id)

    def _all(self, table: Callable[[], dict[str, JSON]]) -> list[JSON]:
        with self._account.lock:
            return copy.deepcopy(list(table().values()))

    @property
    def customers(self) -> list[JSON]:
        return self._all(lambda: self._account.customers)

    @property
    def checkout_sessions(self) -> list[JSON]:
        return self._all(lambda: self._account.sessions)

    @property
    def subscriptions(self) -> list[JSON]:
        return self._all(lambda: self._account.subscriptions)

    @property
    def invoices(self) -> list[JSON]:
        return self._all(lambda: self._account.invoices)

    @property
    def prices(self) -> list[JSON]:
        return self._all(lambda: self._account.prices)

    @property
    def events(self) -> list[JSON]:
        """Every event, oldest first."""
        return self._all(lambda: self._account.events)

    def events_of_type(self, event_type: str) -> list[JSON]:
        return [e for e in self.events if e["type"] == event_type]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._account.lock:
            return list(self._account.requests)

    # webhooks

    def signed(self, event: JSON | str) -> tuple[bytes, JSON]:
        """The event as Stripe delivers it: (JSON payload bytes, headers with Stripe-Signature at wall-clock
        time, signed with the webhook secret)."""
        return self._account.signed(event)

    def signed_with(
        self, event: JSON | str, *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[bytes, JSON]:
        """Like `signed`, with another secret or timestamp (bad signatures, stale deliveries)."""
        return self._account.signed(event, secret, timestamp)

    @property
    def webhook_secret(self) -> str:
        return self._account.webhook_secret

    def set_webhook(self, url: str | None, secret: str | None = None) -> None:
        """POST every new event, signed, to `url` (None: stop)."""
        with self._account.lock:
            self._account.webhook_url = url
            if secret is not None:
                self._account.webhook_secret = secret

    def deliver(self, event_ids: str | Iterable[str]) -> list[Delivery]:
        """Send these events to the webhook URL again (Stripe may deliver an event twice)."""
        return self._account.redeliver([event_ids] if isinstance(event_ids, str) else event_ids)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._account.lock:
            return list(self._account.deliveries)

    def reset(self) -> None:
        """Forget customers, sessions, subscriptions, invoices, events, requests, deliveries, idempotency keys,
        injected failures and the clock; prices and the webhook settings stay."""
        self._account.reset()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stripe-compatible fake server for tests and benchmarks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=None, help="POST every event there, signed")
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    parser.add_argument(
        "--price",
        action="append",
        default=[],
        type=PriceSpec.parse,
        help="price_id:product_name:unit_amount:interval[:lookup_key], repeatable",
    )
    args = parser.parse_args(argv)
    account = _Account(args.webhook_url, args.webhook_secret)
    account.public_url = f"http://{args.host}:{args.port}"
    for spec in args.price:
        account.add_price(spec)
    print(
        f"fake Stripe on {account.public_url} (prices: {', '.join(account.prices) or 'none'}; "
        f"webhooks: {args.webhook_url or 'none'})",
        flush=True,
    )
    uvicorn.run(create_app(account), host=args.host, port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()

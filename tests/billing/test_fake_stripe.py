"""The fake Stripe server, driven by the real stripe SDK over HTTP: shapes, flows, idempotency, webhooks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe

from tests.fakes.stripe_server import CardDeclined, FakeStripe, PriceSpec, decode_form

SECRET = "whsec_test_secret"
JAN_31 = int(datetime(2026, 1, 31, 12, tzinfo=UTC).timestamp())
FEB_28 = int(datetime(2026, 2, 28, 12, tzinfo=UTC).timestamp())
MAR_31 = int(datetime(2026, 3, 31, 12, tzinfo=UTC).timestamp())
PRICES = [
    PriceSpec("price_pro_monthly", "Pro", 1500, "month", "pro_monthly"),
    PriceSpec("price_pro_yearly", "Pro", 15000, "year"),
    PriceSpec("price_team_monthly", "Team", 4900, "month"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeStripe]:
    with FakeStripe(prices=PRICES) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeStripe) -> FakeStripe:
    server.reset()
    server.set_webhook(None)
    return server


@pytest.fixture
def client(fake: FakeStripe) -> Any:
    """The real SDK; typed Any because its Optional fields would need a None check in every assertion."""
    return stripe.StripeClient("sk_test_x", base_addresses={"api": fake.url}, max_network_retries=0)


def start_checkout(client: Any, price: str = "price_pro_monthly", **extra: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "client_reference_id": "user-42",
        "metadata": {"user_id": "42"},
        "subscription_data": {"metadata": {"user_id": "42", "plan": "pro"}},
        "success_url": "https://app.test/billing/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://app.test/billing",
        **extra,
    }
    if "customer" not in params:
        params["customer_email"] = "ada@example.com"
    return client.v1.checkout.sessions.create(params=params)


def subscribe(fake: FakeStripe, client: Any, price: str = "price_pro_monthly") -> Any:
    session = start_checkout(client, price)
    fake.complete_checkout(session.id)
    return client.v1.subscriptions.retrieve(fake.get(session.id)["subscription"])


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def test_forms_decode_into_nested_values() -> None:
    pairs = [
        ("line_items[0][price]", "p"),
        ("line_items[0][quantity]", "1"),
        ("metadata[0]", "zero"),
        ("expand[]", "a"),
        ("expand[]", "b"),
        ("subscription_data[metadata][user_id]", "42"),
    ]
    assert decode_form(pairs) == {
        "line_items": [{"price": "p", "quantity": "1"}],
        "metadata": {"0": "zero"},
        "expand": ["a", "b"],
        "subscription_data": {"metadata": {"user_id": "42"}},
    }


def test_an_api_key_is_required(fake: FakeStripe) -> None:
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_live_nope", base_addresses={"api": fake.url}).v1.customers.create()
    assert httpx.get(f"{fake.url}/v1/customers").status_code == 401


def test_a_replayed_create_returns_the_stored_customer(fake: FakeStripe, client: Any) -> None:
    params = {"email": "ada@example.com", "name": "Ada", "metadata": {"user_id": "42"}}
    first = client.v1.customers.create(params=params, options={"idempotency_key": "customer-42"})
    again = client.v1.customers.create(params=params, options={"idempotency_key": "customer-42"})

    assert again.id == first.id and again.metadata.to_dict() == {"user_id": "42"}
    assert again.last_response is not None and again.last_response.headers["Idempotent-Replayed"] == "true"
    assert [(r.idempotency_key, r.replayed) for r in fake.requests] == [("customer-42", False), ("customer-42", True)]
    assert len(fake.customers) == 1 and types(fake.events) == ["customer.created"]
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"email": "other@example.com"}, options={"idempotency_key": "customer-42"})

    updated = client.v1.customers.update(first.id, params={"metadata": {"plan": "pro", "user_id": ""}})
    assert updated.metadata.to_dict() == {"plan": "pro"}
    assert client.v1.customers.retrieve(first.id).metadata.to_dict() == {"plan": "pro"}


def test_prices_are_seeded_and_listed(client: Any) -> None:
    price = client.v1.prices.retrieve("price_pro_monthly")
    assert (price.unit_amount, price.currency, price.recurring.interval, price.lookup_key) == (
        1500,
        "usd",
        "month",
        "pro_monthly",
    )
    assert client.v1.prices.retrieve("price_pro_yearly").product == price.product  # one product per name
    assert [p.id for p in client.v1.prices.list(params={"lookup_keys": ["pro_monthly"]}).data] == ["price_pro_monthly"]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.prices.retrieve("price_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_checkout_completes_into_an_active_subscription(fake: FakeStripe, client: Any) -> None:
    fake.set_clock(JAN_31)
    session = start_checkout(client)
    assert (session.status, session.subscription, session.mode) == ("open", None, "subscription")
    assert session.url == f"{fake.url}/checkout/{session.id}"

    events = fake.complete_checkout(session.id)

    assert types(events) == [
        "customer.created",  # the session had only an e-mail
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.client_reference_id) == ("complete", "paid", "user-42")
    subscription = client.v1.subscriptions.retrieve(done.subscription, params={"expand": ["latest_invoice"]})
    item = subscription.items.data[0]
    assert (subscription.status, subscription.customer, subscription.cancel_at_period_end) == (
        "active",
        done.customer,
        False,
    )
    assert subscription.metadata.to_dict() == {"user_id": "42", "plan": "pro"}
    assert (item.price.id, item.current_period_start, item.current_period_end) == ("price_pro_monthly", JAN_31, FEB_28)
    assert client.v1.customers.retrieve(done.customer).email == "ada@example.com"

    invoice = client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (invoice.status, invoice.billing_reason, invoice.amount_paid) == ("paid", "subscription_create", 1500)
    assert invoice.parent.type == "subscription_details"
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert invoice.parent.subscription_details.metadata.to_dict() == {"user_id": "42", "plan": "pro"}
    assert (invoice.lines.data[0].period.start, invoice.lines.data[0].period.end) == (JAN_31, FEB_28)
    assert "subscription" not in invoice.to_dict()  # removed from the API in 2025

    snapshot = events[2]["data"]["object"]
    assert (snapshot["status"], events[4]["data"]["object"]["status"]) == ("draft", "paid")
    assert all(e["created"] == JAN_31 and e["livemode"] is False and e["object"] == "event" for e in events)
    assert [e["id"] for e in client.v1.events.list(params={"limit": 3}).data] == [e["id"] for e in events[:-4:-1]]


def test_checkout_validates_its_price_and_customer(client: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown_price:
        start_checkout(client, "price_nope")
    assert (unknown_price.value.http_status, unknown_price.value.code, unknown_price.value.param) == (
        400,
        "resource_missing",
        "line_items[0][price]",
    )
    with pytest.raises(stripe.InvalidRequestError) as unknown_customer:
        start_checkout(client, customer="cus_nope")
    assert unknown_customer.value.param == "customer"


def test_webhook_signatures_verify_with_the_sdk(fake: FakeStripe, client: Any) -> None:
    fake.set_clock(JAN_31)  # signatures still use wall-clock time
    session = start_checkout(client)
    completed = fake.complete_checkout(session.id)[-1]

    payload, headers = fake.signed(completed)
    event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], SECRET)
    assert (event.id, event.type, event.data.object.id) == (completed["id"], "checkout.session.completed", session.id)
    assert headers["Content-Type"] == "application/json"

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b"complete", b"expired"), headers["Stripe-Signature"], SECRET)
    stale, stale_headers = fake.signed_with(completed, timestamp=int(time.time()) - 600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(stale, stale_headers["Stripe-Signature"], SECRET)
    other, other_headers = fake.signed_with(completed, secret="whsec_other")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(other, other_headers["Stripe-Signature"], SECRET)


def test_a_declined_card_leaves_the_session_open(fake: FakeStripe, client: Any) -> None:
    session = start_checkout(client)
    with pytest.raises(CardDeclined) as declined:
        fake.complete_checkout(session.id, card="declined")
    assert (declined.value.status, declined.value.code) == (402, "card_declined")

    over_http = httpx.post(f"{fake.url}/_test/checkout/{session.id}/complete", json={"card": "declined"})
    assert over_http.status_code == 402
    assert over_http.json()["error"] | {"doc_url": None} == {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
        "param": None,
        "doc_url": None,
    }
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert fake.subscriptions == [] and fake.events == []


def test_an_expired_session_cannot_be_completed(fake: FakeStripe, client: Any) -> None:
    session = start_checkout(client)
    assert types(fake.expire_checkout(session.id)) == ["checkout.session.expired"]
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    with pytest.raises(Exception, match="no longer open"):
        fake.complete_checkout(session.id)


def test_renewals_paid_failed_and_retried(fake: FakeStripe, client: Any) -> None:
    fake.set_clock(JAN_31)
    subscription = subscribe(fake, client)

    paid = fake.renew(subscription.id)
    assert types(paid) == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    assert fake.now == FEB_28
    previous_item = paid[0]["data"]["previous_attributes"]["items"]["data"][0]
    assert (previous_item["current_period_start"], previous_item["current_period_end"]) == (JAN_31, FEB_28)
    renewed = client.v1.subscriptions.retrieve(subscription.id)
    assert (renewed.items.data[0].current_period_start, renewed.items.data[0].current_period_end) == (FEB_28, MAR_31)
    cycle = fake.latest_invoice(subscription.id)
    assert (cycle["billing_reason"], cycle["status"], cycle["lines"]["data"][0]["period"]) == (
        "subscription_cycle",
        "paid",
        {"start": FEB_28, "end": MAR_31},
    )

    failed = fake.renew(subscription.id, outcome="failed")
    assert types(failed)[-2:] == ["invoice.payment_failed", "customer.subscription.updated"]
    assert failed[-1]["data"]["previous_attributes"] == {"status": "active"}
    assert client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    open_invoice = fake.latest_invoice(subscription.id)
    assert (open_invoice["status"], open_invoice["attempt_count"]) == ("open", 1)

    retried = fake.pay_invoice(open_invoice["id"])
    assert types(retried) == ["invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"

    listed = client.v1.invoices.list(params={"subscription": subscription.id, "limit": 2})
    assert [i.id for i in listed.data] == [open_invoice["id"], cycle["id"]] and listed.has_more


def test_cancel_at_period_end_ends_at_renewal(fake: FakeStripe, client: Any) -> None:
    fake.set_clock(JAN_31)
    subscription = subscribe(fake, client)

    canceling = client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    assert (canceling.status, canceling.cancel_at_period_end, canceling.cancel_at) == ("active", True, FEB_28)
    updated = fake.events_of_type("customer.subscription.updated")[-1]
    assert updated["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert updated["request"]["id"] == fake.requests[-1].request_id

    resumed = client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": False})
    assert (resumed.cancel_at_period_end, resumed.cancel_at) == (False, None)
    client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})

    assert types(fake.renew(subscription.id)) == ["customer.subscription.deleted"]
    ended = client.v1.subscriptions.retrieve(subscription.id)
    assert (ended.status, ended.ended_at) == ("canceled", FEB_28)
    assert client.v1.subscriptions.list(params={"customer": ended.customer}).data == []
    assert [s.id for s in client.v1.subscriptions.list(params={"customer": ended.customer, "status": "all"})] == [
        subscription.id
    ]


def test_cancel_now(fake: FakeStripe, client: Any) -> None:
    subscription = subscribe(fake, client)
    canceled = client.v1.subscriptions.cancel(subscription.id)
    assert (canceled.status, canceled.ended_at) == ("canceled", fake.now)
    assert types(fake.events)[-1] == "customer.subscription.deleted"


def test_plan_change_swaps_the_price_and_keeps_the_period(fake: FakeStripe, client: Any) -> None:
    fake.set_clock(JAN_31)
    subscription = subscribe(fake, client)
    item = subscription.items.data[0]

    changed = client.v1.subscriptions.update(
        subscription.id,
        params={
            "items": [{"id": item.id, "price": "price_team_monthly"}],
            "proration_behavior": "none",
            "metadata": {"plan": "team"},
        },
    )
    new_item = changed.items.data[0]
    assert (new_item.id, new_item.price.id, new_item.plan.amount) == (item.id, "price_team_monthly", 4900)
    assert (new_item.current_period_start, new_item.current_period_end) == (JAN_31, FEB_28)
    assert changed.metadata.to_dict() == {"user_id": "42", "plan": "team"}
    previous = fake.events_of_type("customer.subscription.updated")[-1]["data"]["previous_attributes"]
    assert previous["items"]["data"][0]["price"]["id"] == "price_pro_monthly"
    assert previous["metadata"] == {"plan": "pro"}
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.subscriptions.update(subscription.id, params={"items": [{"id": item.id, "price": "price_nope"}]})
    assert unknown.value.param == "items[0][price]"


def test_billing_portal_session(fake: FakeStripe, client: Any) -> None:
    subscription = subscribe(fake, client)
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": subscription.customer, "return_url": "https://app.test/billing"}
    )
    assert (portal.customer, portal.return_url, portal.url) == (
        subscription.customer,
        "https://app.test/billing",
        f"{fake.url}/portal/{portal.id}",
    )
    assert "Pro: active, renews" in httpx.get(portal.url).text
    httpx.post(portal.url, data={"subscription": subscription.id, "action": "cancel"})
    assert client.v1.subscriptions.retrieve(subscription.id).cancel_at_period_end is True
    assert types(fake.events)[-1] == "customer.subscription.updated"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.billing_portal.sessions.create(params={"customer": "cus_nope"})
    assert (unknown.value.http_status, unknown.value.code) == (400, "resource_missing")


def test_a_lost_response_is_replayed_on_retry(fake: FakeStripe, client: Any) -> None:
    fake.fail_next("POST", "/v1/customers", status=500, after_processing=True)
    with pytest.raises(stripe.APIError):
        client.v1.customers.create(params={"email": "ada@example.com"}, options={"idempotency_key": "signup-42"})
    assert len(fake.customers) == 1  # it did happen

    retried = client.v1.customers.create(params={"email": "ada@example.com"}, options={"idempotency_key": "signup-42"})
    assert retried.id == fake.customers[0]["id"] and len(fake.customers) == 1
    assert [(r.status, r.replayed) for r in fake.requests] == [(500, False), (200, True)]

    fake.fail_next("POST", "/v1/customers", status=503, after_processing=False)
    with pytest.raises(stripe.APIError):
        client.v1.customers.create(params={"email": "bob@example.com"})
    assert len(fake.customers) == 1


def test_the_sdk_retries_through_an_injected_failure(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    client = fake.client(max_network_retries=1)
    fake.fail_next("POST", "/v1/customers", after_processing=True)
    customer = client.v1.customers.create(params={"email": "ada@example.com"})
    assert [c["id"] for c in fake.customers] == [customer.id]
    # the SDK generated one idempotency key and sent it again
    assert [(r.status, r.replayed) for r in fake.requests] == [(500, False), (200, True)]
    assert fake.requests[0].idempotency_key == fake.requests[1].idempotency_key is not None


class _Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint that verifies like the app does and reads the event back from the fake."""

    received: list[tuple[str, str]]
    stripe_url: str

    def do_POST(self) -> None:
        payload = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            event = stripe.Webhook.construct_event(payload, self.headers["Stripe-Signature"], SECRET)
        except stripe.SignatureVerificationError:
            self.send_response(400)
        else:
            client = stripe.StripeClient("sk_test_x", base_addresses={"api": self.stripe_url})
            client.v1.events.retrieve(event.id)  # calling the fake back must not deadlock
            self.received.append((event.id, event.type))
            self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(fake: FakeStripe) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    received: list[tuple[str, str]] = []
    handler = type("Receiver", (_Receiver,), {"received": received, "stripe_url": fake.url})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/webhooks/stripe", received
    httpd.shutdown()
    httpd.server_close()


def test_events_are_posted_signed_to_a_webhook_url(
    fake: FakeStripe, client: Any, receiver: tuple[str, list[tuple[str, str]]]
) -> None:
    url, received = receiver
    fake.set_webhook(url)
    session = start_checkout(client)
    events = fake.complete_checkout(session.id)
    assert received == [(e["id"], e["type"]) for e in events]  # synchronous, in order
    assert all(d.status == 200 and d.url == url for d in fake.deliveries)

    client.v1.subscriptions.update(events[-1]["data"]["object"]["subscription"], params={"cancel_at_period_end": True})
    deadline = time.monotonic() + 5  # events caused by an API request go out right after its response
    while len(received) == len(events) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert received[-1][1] == "customer.subscription.updated"

    fake.deliver(events[-1]["id"])
    assert received[-1] == (events[-1]["id"], "checkout.session.completed")

    duplicate = httpx.post(f"{fake.url}/_test/events/{events[0]['id']}/deliver")
    assert duplicate.json()["deliveries"][0]["status"] == 200 and received[-1][0] == events[0]["id"]


def test_another_process_drives_the_fake_over_http(fake: FakeStripe, client: Any) -> None:
    assert httpx.post(f"{fake.url}/_test/clock", json={"now": JAN_31}).json()["now"] == JAN_31
    price = httpx.post(
        f"{fake.url}/_test/prices",
        json={"price_id": "price_basic", "product_name": "Basic", "unit_amount": 500, "interval": "month"},
    )
    assert price.json()["id"] == "price_basic"
    session = start_checkout(client, "price_basic")
    completed = httpx.post(f"{fake.url}/_test/checkout/{session.id}/complete", json={"card": "ok"}).json()
    subscription_id = completed["events"][-1]["data"]["object"]["subscription"]
    renewed = httpx.post(f"{fake.url}/_test/subscriptions/{subscription_id}/renew", json={"outcome": "failed"}).json()
    invoice_id = renewed["events"][-1]["data"]["object"]["latest_invoice"]
    paid = httpx.post(f"{fake.url}/_test/invoices/{invoice_id}/pay").json()
    assert types(paid["events"]) == ["invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]

    signed = httpx.get(f"{fake.url}/_test/events/{paid['events'][0]['id']}/signed").json()
    event = stripe.Webhook.construct_event(signed["payload"], signed["headers"]["Stripe-Signature"], SECRET)
    assert event.type == "invoice.paid"
    assert [r["path"] for r in httpx.get(f"{fake.url}/_test/requests").json()] == ["/v1/checkout/sessions"]
    assert len(httpx.get(f"{fake.url}/_test/events", params={"type": "invoice.paid"}).json()["events"]) == 2

    httpx.post(f"{fake.url}/_test/fail_next", json={"method": "GET", "path_prefix": "/v1/prices", "status": 500})
    with pytest.raises(stripe.APIError):
        client.v1.prices.retrieve("price_basic")
    assert httpx.post(f"{fake.url}/_test/reset").json() == {"reset": True}
    assert fake.events == [] and fake.now != JAN_31


def test_the_checkout_page_pays_and_redirects(fake: FakeStripe, client: Any) -> None:
    session = start_checkout(client)
    assert "Subscribe to Pro" in httpx.get(session.url).text
    declined = httpx.post(session.url, data={"card": "declined"})
    assert "declined" in declined.text and fake.subscriptions == []

    paid = httpx.post(session.url, data={"card": "ok"})
    assert paid.status_code == 303
    assert paid.headers["location"] == f"https://app.test/billing/done?session={session.id}"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"

"""`POST /webhooks/stripe` and what the subscription workflow makes of Stripe's events: signatures, duplicates,
order, unknown customers, cancel and resume, plan changes, account deletion."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from models.billing import SubscriptionState, subscription_workflow_id
from models.tables import StripeEvent, Subscription
from tests.billing.conftest import HANDLED, WEBHOOK_SECRET, Billing


async def _audit(billing: Billing, user_id: uuid.UUID) -> list[tuple[str, str, str]]:
    return await billing.stack.services.billing.events_of(user_id)


async def _count_rows(billing: Billing, event_id: str) -> int:
    engine = create_async_engine(billing.stack.settings.database_url)
    try:
        async with engine.connect() as conn:
            return int(
                await conn.scalar(select(func.count()).select_from(StripeEvent).where(StripeEvent.event_id == event_id))
                or 0
            )
    finally:
        await engine.dispose()


async def test_unsigned_badly_signed_and_stale_deliveries_are_refused(billing: Billing) -> None:
    headers, _ = await billing.user()
    session = await billing.checkout(headers)
    events = await asyncio.to_thread(billing.stripe.complete_checkout, session["session_id"])
    completed = next(e for e in events if e["type"] == "checkout.session.completed")
    payload, good = billing.stripe.signed(completed)

    unsigned = await billing.http.post(
        "/webhooks/stripe", content=payload, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 400 and unsigned.json()["code"] == "invalid_webhook"
    assert "missing" in unsigned.json()["detail"]

    _, wrong_secret = billing.stripe.signed_with(completed, secret="whsec_someone_else")
    r = await billing.http.post("/webhooks/stripe", content=payload, headers=wrong_secret)
    assert r.status_code == 400

    tampered = payload.replace(b'"complete"', b'"open"')
    assert tampered != payload
    r = await billing.http.post("/webhooks/stripe", content=tampered, headers=good)
    assert r.status_code == 400

    _, stale = billing.stripe.signed_with(completed, timestamp=int(time.time()) - 301)
    r = await billing.http.post("/webhooks/stripe", content=payload, headers=stale)
    assert r.status_code == 400 and "too old" in r.json()["detail"]

    # None of those reached the workflow: the user is still waiting for the checkout.
    assert (await billing.subscription(headers))["status"] == "checkout_pending"
    ok = await billing.http.post("/webhooks/stripe", content=payload, headers=good)
    assert ok.status_code == 200 and ok.json()["action"] == "delivered"


async def test_unused_event_types_and_unknown_customers_are_acknowledged_and_ignored(billing: Billing) -> None:
    client = billing.stripe.client()
    stranger = await asyncio.to_thread(client.v1.customers.create, params={"email": "not-ours@example.com"})
    created = billing.stripe.events_of_type("customer.created")[-1]
    r = await billing.http.post(
        "/webhooks/stripe", content=billing.stripe.signed(created)[0], headers=billing.stripe.signed(created)[1]
    )
    assert r.status_code == 200 and r.json() == {
        "received": True,
        "action": "ignored",
        "reason": "customer.created is not used",
    }

    # A subscription event for a customer we never made (another app on the same Stripe account).
    foreign = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "customer.subscription.updated",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": "sub_foreign", "object": "subscription", "customer": stranger.id, "metadata": {}}},
    }
    payload, headers = billing.stripe.signed_with(foreign, secret=WEBHOOK_SECRET)
    r = await billing.http.post("/webhooks/stripe", content=payload, headers=headers)
    assert r.status_code == 200
    assert r.json()["action"] == "ignored" and r.json()["reason"] == "unknown customer"

    # A user id in the metadata that is not a user of ours.
    foreign["id"] = f"evt_{uuid.uuid4().hex[:24]}"
    foreign["data"]["object"]["metadata"] = {"user_id": str(uuid.uuid4())}  # type: ignore[index]
    payload, headers = billing.stripe.signed_with(foreign, secret=WEBHOOK_SECRET)
    r = await billing.http.post("/webhooks/stripe", content=payload, headers=headers)
    assert r.status_code == 200 and r.json()["reason"] == "unknown customer"


async def test_the_same_event_five_times_is_applied_once(billing: Billing) -> None:
    headers, user_id = await billing.user()
    subscription_id = await billing.subscribe(headers)
    before = await billing.subscription(headers)
    handle = billing.stack.client.get_workflow_handle(subscription_workflow_id(user_id))
    applied_before = (await handle.query("state", result_type=SubscriptionState)).events_applied
    events = await asyncio.to_thread(billing.stripe.renew, subscription_id, outcome="paid")
    paid = next(e for e in events if e["type"] == "invoice.paid")
    for _ in range(5):
        await billing.deliver([paid])
    state = await billing.wait_for(headers, lambda s: s["renewals"] == 1)
    assert state["current_period_end"] > before["current_period_end"]
    await asyncio.sleep(0.5)  # give any wrongly repeated application the time to show
    assert await _count_rows(billing, paid["id"]) == 1
    audit = [row for row in await _audit(billing, user_id) if row[0] == paid["id"]]
    assert audit == [(paid["id"], "invoice.paid", "applied")]
    state_after = await handle.query("state", result_type=SubscriptionState)
    assert state_after.events_applied == applied_before + 1
    assert state_after.recent_event_ids.count(paid["id"]) == 1


async def test_events_out_of_order_end_in_the_right_state(billing: Billing) -> None:
    headers, user_id = await billing.user()
    subscription_id = await billing.subscribe(headers)
    period_end = billing.stripe.get(subscription_id)["items"]["data"][0]["current_period_end"]
    try:
        failed = await asyncio.to_thread(billing.stripe.renew, subscription_id, outcome="failed")
        billing.stripe.set_clock(period_end + 3600)  # the retry succeeds an hour later
        invoice_id = billing.stripe.latest_invoice(subscription_id)["id"]
        recovered = await asyncio.to_thread(billing.stripe.pay_invoice, invoice_id)
    finally:
        billing.stripe.set_clock(None)
    # Stripe's order: failed, then paid. Delivered newest first, with the failure last.
    handled = [e for e in failed + recovered if e["type"] in HANDLED]
    await billing.deliver(list(reversed(handled)))
    state = await billing.wait_for(headers, lambda s: s["renewals"] == 1 and s["status"] == "active", timeout=20)
    assert state["plan"] == "pro" and state["grace_until"] is None
    await asyncio.sleep(0.3)
    assert (await billing.subscription(headers))["status"] == "active"
    outcomes = {event_id: outcome for event_id, _, outcome in await _audit(billing, user_id)}
    assert {outcomes[e["id"]] for e in handled} <= {"applied", "stale"}
    assert "stale" in {outcomes[e["id"]] for e in handled}


async def test_cancel_then_resume(billing: Billing) -> None:
    headers, _ = await billing.user()
    subscription_id = await billing.subscribe(headers)
    r = await billing.http.post("/billing/cancel", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "canceling" and r.json()["cancel_at_period_end"] is True
    assert r.json()["plan"] == "pro"  # paid until the period ends
    assert billing.stripe.get(subscription_id)["cancel_at_period_end"] is True
    again = await billing.http.post("/billing/cancel", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "already_canceling"

    r = await billing.http.post("/billing/resume", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active" and r.json()["cancel_at_period_end"] is False
    assert billing.stripe.get(subscription_id)["cancel_at_period_end"] is False
    again = await billing.http.post("/billing/resume", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "not_canceling"

    # Stripe's own notifications of those changes arrive afterwards and change nothing.
    await billing.deliver(billing.stripe.events_of_type("customer.subscription.updated")[-2:])
    await asyncio.sleep(0.3)
    assert (await billing.subscription(headers))["status"] == "active"

    # Canceled for good: at period end Stripe ends it and the user is back on Free.
    await billing.http.post("/billing/cancel", headers=headers)
    ended = await asyncio.to_thread(billing.stripe.renew, subscription_id)
    await billing.deliver(ended)
    state = await billing.wait_for(headers, lambda s: s["status"] == "canceled")
    assert state["plan"] == "free"
    usage = (await billing.http.get("/billing/usage", headers=headers)).json()
    assert usage["limit"] == 3


async def test_plan_change_moves_the_price_and_the_quota(billing: Billing) -> None:
    headers, _ = await billing.user()
    subscription_id = await billing.subscribe(headers, "pro")
    r = await billing.http.post("/billing/change-plan", headers=headers, json={"plan": "premium", "interval": "month"})
    assert r.status_code == 200, r.text
    assert r.json()["plan"] == "premium" and r.json()["subscribed_plan"] == "premium"
    item = billing.stripe.get(subscription_id)["items"]["data"][0]
    assert item["price"]["id"] == "price_premium_monthly"
    assert (await billing.http.get("/billing/usage", headers=headers)).json()["limit"] == 100
    same = await billing.http.post("/billing/change-plan", headers=headers, json={"plan": "premium"})
    assert same.status_code == 409 and same.json()["code"] == "same_plan"
    # Stripe's notification of the change, delivered late, does not undo anything.
    await billing.deliver(billing.stripe.events_of_type("customer.subscription.updated")[-1:])
    await asyncio.sleep(0.3)
    assert (await billing.subscription(headers))["plan"] == "premium"


async def test_account_deletion_cancels_the_subscription_at_stripe(billing: Billing) -> None:
    headers, user_id = await billing.user()
    subscription_id = await billing.subscribe(headers)
    r = await billing.http.delete("/me", headers=headers)
    assert r.status_code == 202
    handle = billing.stack.client.get_workflow_handle(r.json()["workflow_id"])
    result = await handle.result()
    assert result["user_deleted"] is True
    assert billing.stripe.get(subscription_id)["status"] == "canceled"
    # Stripe's notification of the cancel finds no live user and starts nothing.
    deleted = billing.stripe.events_of_type("customer.subscription.deleted")[-1]
    answers = await billing.deliver([deleted])
    assert answers[0].json()["reason"] == "unknown customer"
    engine = create_async_engine(billing.stack.settings.database_url)
    try:
        async with engine.connect() as conn:
            left = await conn.scalar(
                select(func.count()).select_from(Subscription).where(Subscription.user_id == user_id)
            )
            audit = await conn.scalar(
                select(func.count()).select_from(StripeEvent).where(StripeEvent.user_id == user_id)
            )
    finally:
        await engine.dispose()
    assert left == 0 and audit == 0
    description = await billing.stack.client.get_workflow_handle(subscription_workflow_id(user_id)).describe()
    assert description.status is not None and description.status.name in ("CANCELED", "TERMINATED")
    assert json.dumps(result)  # the result holds counts and ids only

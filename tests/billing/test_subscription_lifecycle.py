"""Months of a subscription on the time-skipping test server: renewals, lost webhooks found by reconciliation,
failed payments recovered or downgraded after the grace period, and continue-as-new along the way."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from models.billing import (
    SUBSCRIPTION_WORKFLOW,
    BillingTimings,
    SubscriptionInput,
    SubscriptionState,
    subscription_workflow_id,
)
from tests.billing.conftest import Billing

GRACE = timedelta(days=7)


async def _sync_clock(billing: Billing, env: WorkflowEnvironment) -> datetime:
    """Stripe's clock follows the test server's, as a Stripe test clock would."""
    now = await env.get_current_time()
    billing.stripe.set_clock(int(now.timestamp()))
    return now


def _period_end(billing: Billing, subscription_id: str) -> datetime:
    item = billing.stripe.get(subscription_id)["items"]["data"][0]
    return datetime.fromtimestamp(item["current_period_end"]).astimezone()


async def _sleep_until(env: WorkflowEnvironment, when: datetime) -> None:
    now = await env.get_current_time()
    if when > now:
        await env.sleep(when - now)


async def _state(billing: Billing, user_id: uuid.UUID) -> SubscriptionState:
    handle = billing.stack.client.get_workflow_handle(subscription_workflow_id(user_id))
    state: SubscriptionState = await handle.query("state", result_type=SubscriptionState)
    return state


async def _subscribed_user(billing: Billing, env: WorkflowEnvironment) -> tuple[dict[str, str], uuid.UUID, str]:
    headers, user_id = await billing.user()
    await _sync_clock(billing, env)
    return headers, user_id, await billing.subscribe(headers)


async def _deliver(billing: Billing, events: list[dict[str, Any]]) -> None:
    await billing.deliver(events, only_handled=True)


async def _renewal_fails(billing: Billing, env: WorkflowEnvironment, subscription_id: str) -> None:
    """The period ends and Stripe cannot charge the card; its events arrive."""
    await _sleep_until(env, _period_end(billing, subscription_id) + timedelta(minutes=1))
    await _sync_clock(billing, env)
    await _deliver(billing, await asyncio.to_thread(billing.stripe.renew, subscription_id, outcome="failed"))


async def _invoice_paid_late(billing: Billing, env: WorkflowEnvironment, subscription_id: str) -> None:
    """A retry of the failed invoice succeeds now; its events arrive."""
    await _sync_clock(billing, env)
    invoice_id = billing.stripe.latest_invoice(subscription_id)["id"]
    await _deliver(billing, await asyncio.to_thread(billing.stripe.pay_invoice, invoice_id))


def _renewed(times: int) -> Callable[[dict[str, Any]], bool]:
    return lambda state: bool(state["renewals"] == times)


async def test_fourteen_monthly_renewals_with_one_lost_invoice_paid_across_continue_as_new(
    billing_skipping: Billing, skipping_env: WorkflowEnvironment
) -> None:
    billing, env = billing_skipping, skipping_env
    headers, user_id = await billing.user()
    # Started ahead of the checkout with a short run, so fourteen months cross continue-as-new several times.
    client = billing.stack.client
    handle = await client.start_workflow(
        SUBSCRIPTION_WORKFLOW,
        SubscriptionInput(user_id, BillingTimings(max_events_per_run=6)),
        id=subscription_workflow_id(user_id),
        task_queue=billing.stack.settings.temporal_task_queue,
    )
    first_run = handle.result_run_id
    await _sync_clock(billing, env)
    subscription_id = await billing.subscribe(headers)

    for month in range(1, 15):
        await _sleep_until(env, _period_end(billing, subscription_id) + timedelta(minutes=1))
        await _sync_clock(billing, env)
        events = await asyncio.to_thread(billing.stripe.renew, subscription_id, outcome="paid")
        if month == 5:
            # invoice.paid and the subscription update never arrive: the reconcile timer (2 h after the period
            # end) asks Stripe.
            await env.sleep(timedelta(hours=3))
        else:
            await _deliver(billing, events)
        state = await billing.wait_for(headers, _renewed(month))
        assert state["status"] == "active" and state["plan"] == "pro"
        assert state["current_period_end"] is not None

    final = await _state(billing, user_id)
    assert final.renewals == 14 and final.status.value == "active"
    description = await client.get_workflow_handle(subscription_workflow_id(user_id)).describe()
    assert description.run_id != first_run, "the workflow should have continued as new"
    end = _period_end(billing, subscription_id)
    assert abs(final.current_period_end - end) < timedelta(seconds=1)  # type: ignore[operator]
    audit = await billing.stack.services.billing.events_of(user_id)
    assert len(audit) == len({event_id for event_id, _, _ in audit})  # each event once


async def test_a_failed_payment_keeps_the_plan_through_the_grace_period_then_downgrades(
    billing_skipping: Billing, skipping_env: WorkflowEnvironment
) -> None:
    billing, env = billing_skipping, skipping_env
    headers, user_id, subscription_id = await _subscribed_user(billing, env)
    await _renewal_fails(billing, env, subscription_id)
    state = await billing.wait_for(headers, lambda s: s["status"] == "past_due")
    assert state["plan"] == "pro" and state["grace_until"] is not None
    assert (await billing.http.get("/billing/usage", headers=headers)).json()["limit"] == 30

    await env.sleep(GRACE + timedelta(hours=1))
    state = await billing.wait_for(headers, lambda s: s["plan"] == "free")
    assert state["status"] == "past_due" and state["subscribed_plan"] == "pro"
    usage = (await billing.http.get("/billing/usage", headers=headers)).json()
    assert usage["plan"] == "free" and usage["limit"] == 3
    assert (await _state(billing, user_id)).entitled_plan == "free"

    # Paid late after all: the plan comes back.
    await _invoice_paid_late(billing, env, subscription_id)
    state = await billing.wait_for(headers, lambda s: s["status"] == "active")
    assert state["plan"] == "pro"


async def test_a_failed_payment_recovered_within_the_grace_period_keeps_the_plan(
    billing_skipping: Billing, skipping_env: WorkflowEnvironment
) -> None:
    billing, env = billing_skipping, skipping_env
    headers, _, subscription_id = await _subscribed_user(billing, env)
    await _renewal_fails(billing, env, subscription_id)
    await billing.wait_for(headers, lambda s: s["status"] == "past_due")

    await env.sleep(timedelta(days=2))  # Stripe's smart retry succeeds two days later
    await _invoice_paid_late(billing, env, subscription_id)
    state = await billing.wait_for(headers, lambda s: s["status"] == "active")
    assert state["plan"] == "pro" and state["grace_until"] is None

    await env.sleep(GRACE)  # the old grace deadline passes: nothing happens
    state = await billing.subscription(headers)
    assert state["status"] == "active" and state["plan"] == "pro"


async def test_a_lost_checkout_completion_is_found_by_reconciliation(
    billing_skipping: Billing, skipping_env: WorkflowEnvironment
) -> None:
    billing, env = billing_skipping, skipping_env
    headers, _ = await billing.user()
    await _sync_clock(billing, env)
    session = await billing.checkout(headers)
    await asyncio.to_thread(billing.stripe.complete_checkout, session["session_id"])  # no webhook arrives
    assert (await billing.subscription(headers))["status"] == "checkout_pending"
    await env.sleep(timedelta(hours=26))
    state = await billing.wait_for(headers, lambda s: s["status"] == "active")
    assert state["plan"] == "pro"


async def test_an_abandoned_checkout_is_dropped(billing_skipping: Billing, skipping_env: WorkflowEnvironment) -> None:
    billing, env = billing_skipping, skipping_env
    headers, _ = await billing.user()
    await _sync_clock(billing, env)
    await billing.checkout(headers)
    await env.sleep(timedelta(hours=26))
    state = await billing.wait_for(headers, lambda s: s["status"] == "none")
    assert state["plan"] == "free"

"""The activities of SubscriptionWorkflow: the only code that calls Stripe or writes the subscription
projection. Built once by the worker with its clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import stripe
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.billing.entitlements import EntitlementCache
from activities.billing.store import BillingStore, PlanNotForSale
from activities.billing.stripe_gateway import StripeGateway, is_permanent, snapshot_of
from activities.errors import NotFound
from activities.heartbeat import heartbeating
from models.billing import (
    CheckoutSession,
    CreateCheckoutInput,
    FetchSubscriptionInput,
    RecordResult,
    RecordSubscriptionInput,
    SubscriptionSnapshot,
    SubscriptionState,
    UpdateSubscriptionInput,
    UserRef,
)

NOT_CONFIGURED = "Billing is not configured."


@asynccontextmanager
async def stripe_errors(action: str) -> AsyncIterator[None]:
    """Turn Stripe's errors into Temporal's: a rejected request fails for good with a message a user can read;
    an outage or rate limit is retried by Temporal with the same idempotency key. Heartbeats while the call runs:
    a worker that dies mid-call is noticed within the heartbeat timeout."""
    try:
        async with heartbeating():
            yield
    except stripe.StripeError as exc:
        code = getattr(exc, "code", None) or type(exc).__name__
        if is_permanent(exc):
            raise ApplicationError(
                f"Stripe refused to {action} ({code}).", type="StripeRejected", non_retryable=True
            ) from None
        raise ApplicationError(f"Stripe could not {action} right now ({code}).", type="StripeUnavailable") from None


class SubscriptionActivities:
    def __init__(
        self,
        store: BillingStore,
        entitlements: EntitlementCache,
        gateway: StripeGateway | None,
        *,
        success_url: str,
        cancel_url: str,
    ) -> None:
        self._store = store
        self._entitlements = entitlements
        self._gateway = gateway
        self._success_url = success_url
        self._cancel_url = cancel_url

    def _stripe(self) -> StripeGateway:
        if self._gateway is None:
            raise ApplicationError(NOT_CONFIGURED, type="BillingNotConfigured", non_retryable=True)
        return self._gateway

    @activity.defn
    async def create_checkout_session(self, data: CreateCheckoutInput) -> CheckoutSession:
        """Create the Stripe customer on the first checkout, then a Checkout Session for the plan's price."""
        gateway = self._stripe()
        try:
            price = await self._store.price_for(data.plan, data.interval)
            customer_id = data.customer_id
            if customer_id is None:
                email = await self._store.email_of(data.user_id)
                async with stripe_errors("create the customer"):
                    # One customer per user, whatever retries or repeated checkouts happen.
                    customer_id = await gateway.create_customer(str(data.user_id), email, f"customer-{data.user_id}")
        except (PlanNotForSale, NotFound) as exc:
            raise ApplicationError(exc.message, type=type(exc).__name__, non_retryable=True) from None
        if data.previous_session_id:
            # Two open checkouts could both be paid: two subscriptions for one user.
            async with stripe_errors("close the earlier checkout"):
                status = await gateway.expire_checkout_session(data.previous_session_id)
            if status == "complete":
                raise ApplicationError(
                    "Your earlier checkout was just paid: the subscription starts in a moment.",
                    type="AlreadySubscribed",
                    non_retryable=True,
                )
        async with stripe_errors("start the checkout"):
            return await gateway.create_checkout_session(
                user_id=str(data.user_id),
                customer_id=customer_id,
                price_id=price,
                success_url=self._success_url,
                cancel_url=self._cancel_url,
                idempotency_key=data.idempotency_key,
            )

    @activity.defn
    async def fetch_subscription(self, data: FetchSubscriptionInput) -> SubscriptionSnapshot | None:
        """The subscription as Stripe has it now: events only say that something changed (and may come late,
        twice or out of order), so the workflow always applies the current object."""
        gateway = self._stripe()
        subscription: dict[str, Any] | None
        async with stripe_errors("read the subscription"):
            if data.subscription_id:
                subscription = await gateway.retrieve_subscription(data.subscription_id)
            elif data.customer_id:
                subscription = await gateway.newest_subscription(data.customer_id)
            else:
                return None
        if subscription is None:
            return None
        return snapshot_of(subscription, await self._store.plan_of_price())

    @activity.defn
    async def update_subscription(self, data: UpdateSubscriptionInput) -> SubscriptionSnapshot:
        """Cancel at period end, resume, or move to another plan's price (prorated)."""
        gateway = self._stripe()
        params: dict[str, Any] = {}
        if data.cancel_at_period_end is not None:
            params["cancel_at_period_end"] = data.cancel_at_period_end
        if data.plan is not None and data.interval is not None:
            try:
                price = await self._store.price_for(data.plan, data.interval)
            except (PlanNotForSale, NotFound) as exc:
                raise ApplicationError(exc.message, type=type(exc).__name__, non_retryable=True) from None
            async with stripe_errors("read the subscription"):
                current = await gateway.retrieve_subscription(data.subscription_id)
            item_id = current["items"]["data"][0]["id"]
            params["items"] = [{"id": item_id, "price": price}]
            params["proration_behavior"] = "create_prorations"
            params["cancel_at_period_end"] = False
        async with stripe_errors("change the subscription"):
            subscription = await gateway.update_subscription(data.subscription_id, params, data.idempotency_key)
        return snapshot_of(subscription, await self._store.plan_of_price())

    @activity.defn
    async def load_subscription(self, data: UserRef) -> SubscriptionState | None:
        return await self._store.load_state(data.user_id)

    @activity.defn
    async def record_subscription(self, data: RecordSubscriptionInput) -> RecordResult:
        """Write the projection and the audit row, then drop the cached entitlement."""
        result = await self._store.record(data)
        if result.user_exists:
            await self._entitlements.invalidate(data.user_id)
        return result

"""Every call this service makes to Stripe. SDK retries are off: Temporal retries activities, and every
creating call carries an idempotency key, so a retried call changes nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe

from activities.errors import DomainError
from models.billing import BillingInterval, CheckoutSession, SubscriptionSnapshot
from models.settings import Settings


class BillingUnavailable(DomainError):
    status = 503
    code = "billing_unavailable"
    title = "Billing temporarily unavailable"


# Errors a retry cannot fix: our request or account is wrong, or the card was declined.
PERMANENT_ERRORS: tuple[type[stripe.StripeError], ...] = (
    stripe.InvalidRequestError,
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.CardError,
    stripe.IdempotencyError,
)


def is_permanent(exc: stripe.StripeError) -> bool:
    return isinstance(exc, PERMANENT_ERRORS)


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


class StripeGateway:
    def __init__(self, secret_key: str, *, api_base: str | None = None, timeout_seconds: float = 20.0) -> None:
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
            http_client=stripe.HTTPXClient(timeout=timeout_seconds),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway | None:
        if not settings.billing_configured or settings.stripe_secret_key is None:
            return None
        return cls(settings.stripe_secret_key.get_secret_value(), api_base=settings.stripe_api_base)

    async def create_customer(self, user_id: str, email: str, idempotency_key: str) -> str:
        customer = await self._client.v1.customers.create_async(
            params={"email": email, "metadata": {"user_id": user_id}},
            options={"idempotency_key": idempotency_key},
        )
        return str(customer.id)

    async def create_checkout_session(
        self,
        *,
        user_id: str,
        customer_id: str,
        price_id: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutSession:
        session = await self._client.v1.checkout.sessions.create_async(
            params={
                "mode": "subscription",
                "customer": customer_id,
                "line_items": [{"price": price_id, "quantity": 1}],
                "client_reference_id": user_id,
                "metadata": {"user_id": user_id},
                "subscription_data": {"metadata": {"user_id": user_id}},
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
            options={"idempotency_key": idempotency_key},
        )
        return CheckoutSession(session_id=str(session.id), url=str(session.url), customer_id=customer_id)

    async def expire_checkout_session(self, session_id: str) -> str:
        """Close an open Checkout Session so it can no longer be paid; returns its final status (a session that
        was paid meanwhile stays `complete`)."""
        try:
            session = await self._client.v1.checkout.sessions.expire_async(session_id)
        except stripe.InvalidRequestError:
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        return str(session.status)

    async def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        subscription = await self._client.v1.subscriptions.retrieve_async(subscription_id)
        return subscription.to_dict()

    async def newest_subscription(self, customer_id: str) -> dict[str, Any] | None:
        page = await self._client.v1.subscriptions.list_async(
            params={"customer": customer_id, "status": "all", "limit": 10}
        )
        subscriptions = [s.to_dict() for s in page.data]
        return max(subscriptions, key=lambda s: int(s.get("created") or 0), default=None)

    async def update_subscription(
        self, subscription_id: str, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        subscription = await self._client.v1.subscriptions.update_async(
            subscription_id,
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
        return subscription.to_dict()

    async def cancel_subscription(self, subscription_id: str, idempotency_key: str) -> None:
        await self._client.v1.subscriptions.cancel_async(subscription_id, options={"idempotency_key": idempotency_key})

    async def create_portal_session(self, customer_id: str, return_url: str) -> str:
        """Called by the API in-process (no workflow: it changes nothing)."""
        try:
            session = await self._client.v1.billing_portal.sessions.create_async(
                params={"customer": customer_id, "return_url": return_url}
            )
        except stripe.StripeError as exc:
            raise BillingUnavailable(
                f"Stripe could not open the billing portal ({getattr(exc, 'code', None) or type(exc).__name__})."
            ) from None
        return str(session.url)


def first_item(subscription: dict[str, Any]) -> dict[str, Any]:
    items = (subscription.get("items") or {}).get("data") or []
    return dict(items[0]) if items else {}


def snapshot_of(
    subscription: dict[str, Any], plan_of_price: dict[str, tuple[str, BillingInterval]]
) -> SubscriptionSnapshot:
    """Our view of a Stripe subscription: the plan its price sells, and its current period (on the item since
    API version 2025-03-31)."""
    item = first_item(subscription)
    price = item.get("price") or {}
    plan, interval = plan_of_price.get(str(price.get("id")), (None, None))
    period_end = item.get("current_period_end") or subscription.get("current_period_end")
    return SubscriptionSnapshot(
        subscription_id=str(subscription["id"]),
        customer_id=str(subscription.get("customer")),
        stripe_status=str(subscription.get("status")),
        plan=plan,
        interval=interval,
        current_period_end=_timestamp(period_end),
        cancel_at_period_end=bool(subscription.get("cancel_at_period_end")),
        created=int(subscription.get("created") or 0),
    )

"""`POST /webhooks/stripe`: verify, find the user, signal their SubscriptionWorkflow, answer 200. Nothing is
written here: Temporal records the signal durably, and the workflow applies it."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from activities.billing.webhooks import InvalidWebhook, verify_event
from api.deps import ServicesDep
from api.problems import Problem
from api.subscriptions import deliver_stripe_event
from ops.metrics import ApiMetrics

log = logging.getLogger("cvimprover.webhooks")

router = APIRouter(tags=["webhooks"])


class WebhookReceived(BaseModel):
    received: bool = True
    action: str = Field(description="delivered (to the user's subscription workflow) or ignored.")
    reason: str | None = None


@router.post("/webhooks/stripe", response_model=WebhookReceived)
async def stripe_webhook(
    request: Request,
    services: ServicesDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookReceived:
    """Stripe's events. Signed with STRIPE_WEBHOOK_SECRET (unsigned, wrongly signed or older than 5 minutes:
    400); without a configured secret this endpoint does not exist (404)."""
    secret = services.settings.stripe_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise Problem(404, "not_found", "Not Found", "Not Found")
    payload = await request.body()
    metrics: ApiMetrics = request.app.state.metrics
    try:
        verified = verify_event(payload, stripe_signature, secret.get_secret_value())
    except InvalidWebhook as exc:
        # An unverified payload never chooses a label value.
        metrics.count_webhook("unknown", "invalid")
        raise Problem(400, "invalid_webhook", "Invalid Stripe webhook", str(exc)) from None
    event = verified.ref
    if not verified.handled:
        metrics.count_webhook(event.type, "ignored")
        return WebhookReceived(action="ignored", reason=f"{event.type} is not used")
    user_id = await services.billing.user_for_event(verified.user_hint, event.customer_id)
    if user_id is None:
        # Acknowledged so Stripe stops retrying: nothing here can ever own it.
        log.info("stripe event %s (%s) for no known user: ignored", event.id, event.type)
        metrics.count_webhook(event.type, "ignored")
        return WebhookReceived(action="ignored", reason="unknown customer")
    await deliver_stripe_event(services, user_id, event)
    metrics.count_webhook(event.type, "delivered")
    return WebhookReceived(action="delivered")

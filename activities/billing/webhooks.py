"""Verifying Stripe webhook deliveries and reducing an event to the IDs the subscription workflow needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import stripe

from models.billing import HANDLED_EVENT_TYPES, StripeEventRef


class InvalidWebhook(Exception):
    """Unsigned, wrongly signed, stale or malformed: answered 400, and Stripe's retries will not fix it."""


@dataclass(frozen=True)
class VerifiedEvent:
    ref: StripeEventRef
    user_hint: str | None  # the user id we put in the checkout or subscription metadata, if the event has it
    handled: bool


def verify_event(payload: bytes, signature: str | None, secret: str) -> VerifiedEvent:
    """Check the `Stripe-Signature` header with Stripe's default tolerance (300 s), then parse the event."""
    if not signature:
        raise InvalidWebhook("The Stripe-Signature header is missing.")
    try:
        # The tolerance must be passed: without it verify_header accepts a replay of any age.
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        raise InvalidWebhook("The Stripe-Signature header does not match this payload, or it is too old.") from None
    try:
        event = json.loads(payload)
        return reduce_event(event)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidWebhook("The payload is not a Stripe event.") from None


def _str(value: Any) -> str | None:
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return str(value) if value else None


def reduce_event(event: dict[str, Any]) -> VerifiedEvent:
    obj: dict[str, Any] = event["data"]["object"]
    kind = str(obj.get("object", ""))
    metadata: dict[str, Any] = dict(obj.get("metadata") or {})
    subscription_id: str | None = None
    if kind == "subscription":
        subscription_id = _str(obj.get("id"))
    elif kind == "checkout.session":
        subscription_id = _str(obj.get("subscription"))
        metadata.setdefault("user_id", obj.get("client_reference_id"))
    elif kind == "invoice":
        details = ((obj.get("parent") or {}).get("subscription_details")) or {}
        subscription_id = _str(details.get("subscription")) or _str(obj.get("subscription"))
        metadata = dict(details.get("metadata") or {}) or metadata
    ref = StripeEventRef(
        id=str(event["id"]),
        type=str(event["type"]),
        created=int(event["created"]),
        object_id=str(obj.get("id", "")),
        customer_id=_str(obj.get("customer")),
        subscription_id=subscription_id,
    )
    hint = metadata.get("user_id")
    return VerifiedEvent(ref=ref, user_hint=str(hint) if hint else None, handled=ref.type in HANDLED_EVENT_TYPES)

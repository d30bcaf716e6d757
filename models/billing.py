"""Plans, subscriptions and Stripe events: the inputs, outputs and state of SubscriptionWorkflow and its
activities. Only IDs, codes and timestamps: names, e-mails and addresses stay in Stripe and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from models.settings import Settings

SUBSCRIPTION_WORKFLOW = "SubscriptionWorkflow"
FREE_PLAN = "free"

# The Stripe events the product acts on; every other verified event is acknowledged and ignored.
HANDLED_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.expired",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)


def subscription_workflow_id(user_id: uuid.UUID) -> str:
    return f"subscription-{user_id}"


class BillingInterval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class SubscriptionStatus(StrEnum):
    NONE = "none"  # never subscribed: the Free plan
    CHECKOUT_PENDING = "checkout_pending"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELING = "canceling"  # active until the period ends, then canceled
    CANCELED = "canceled"


# Statuses in which the user holds a paid subscription (a checkout would buy a second one).
SUBSCRIBED = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.CANCELING})


@dataclass(frozen=True)
class BillingTimings:
    """How long the workflow waits; from settings at start, carried across continue-as-new."""

    grace_period_seconds: int = 7 * 24 * 3600
    # After a period ends, how long to wait for `invoice.paid` before asking Stripe (webhooks get lost).
    reconcile_after_seconds: int = 2 * 3600
    # A Checkout Session lives 24 hours at Stripe; after this the pending checkout is reconciled and dropped.
    checkout_timeout_seconds: int = 25 * 3600
    # Continue-as-new after this many events even if Temporal does not suggest it yet (keeps histories short).
    max_events_per_run: int = 500


@dataclass
class SubscriptionState:
    """What SubscriptionWorkflow knows; the `subscriptions` row is its projection."""

    status: SubscriptionStatus = SubscriptionStatus.NONE
    plan: str | None = None  # the plan paid for; None before the first subscription
    interval: BillingInterval | None = None
    entitled_plan: str = FREE_PLAN  # the plan whose quota applies now
    customer_id: str | None = None
    subscription_id: str | None = None
    subscription_created: int = 0
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    past_due_since: datetime | None = None
    grace_until: datetime | None = None
    checkout_session_id: str | None = None
    checkout_started_at: datetime | None = None
    next_reconcile_at: datetime | None = None
    renewals: int = 0
    events_applied: int = 0
    # The newest Stripe `created` applied: an event older than this describes a state already superseded.
    last_event_created: int = 0
    recent_event_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SubscriptionInput:
    user_id: uuid.UUID
    timings: BillingTimings = BillingTimings()
    state: SubscriptionState | None = None  # set by continue-as-new


def subscription_input(settings: Settings, user_id: uuid.UUID) -> SubscriptionInput:
    """How the API and the operator CLI start a user's SubscriptionWorkflow: timings from the settings."""
    return SubscriptionInput(
        user_id=user_id,
        timings=BillingTimings(
            grace_period_seconds=settings.billing_grace_days * 24 * 3600,
            reconcile_after_seconds=settings.billing_reconcile_after_minutes * 60,
        ),
    )


@dataclass(frozen=True)
class UserRef:
    user_id: uuid.UUID


@dataclass(frozen=True)
class StripeEventRef:
    """A verified Stripe event reduced to IDs: the workflow reads the current objects from Stripe itself."""

    id: str
    type: str
    created: int
    object_id: str
    customer_id: str | None = None
    subscription_id: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    plan: str
    interval: BillingInterval = BillingInterval.MONTH


@dataclass(frozen=True)
class CheckoutResult:
    checkout_url: str
    session_id: str
    workflow_id: str


@dataclass(frozen=True)
class PlanChange:
    plan: str
    interval: BillingInterval = BillingInterval.MONTH


# --- activity inputs and outputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateCheckoutInput:
    user_id: uuid.UUID
    plan: str
    interval: BillingInterval
    customer_id: str | None
    idempotency_key: str
    previous_session_id: str | None = None  # an open checkout of the same user, closed first


@dataclass(frozen=True)
class CheckoutSession:
    session_id: str
    url: str
    customer_id: str


@dataclass(frozen=True)
class FetchSubscriptionInput:
    """Which subscription to read: by id, or the customer's newest one."""

    subscription_id: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """The subscription as Stripe has it now."""

    subscription_id: str
    customer_id: str
    stripe_status: str  # Stripe's own: active, past_due, unpaid, canceled, incomplete, trialing, ...
    plan: str | None  # our plan code for its price; None for a price we do not sell
    interval: BillingInterval | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    created: int


@dataclass(frozen=True)
class UpdateSubscriptionInput:
    subscription_id: str
    idempotency_key: str
    cancel_at_period_end: bool | None = None
    plan: str | None = None
    interval: BillingInterval | None = None


@dataclass(frozen=True)
class AuditedEvent:
    event: StripeEventRef
    outcome: str = "applied"  # applied | stale | ignored
    reason: str = ""


@dataclass(frozen=True)
class RecordSubscriptionInput:
    """One state change: written to the projection, with the events that caused it in the audit table."""

    user_id: uuid.UUID
    state: SubscriptionState
    events: list[AuditedEvent] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True)
class RecordResult:
    user_exists: bool
    duplicate_event: bool = False

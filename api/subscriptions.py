"""Talking to a user's SubscriptionWorkflow from the API: Update-with-Start for checkout, updates for cancel,
resume and plan changes, signal-with-start for Stripe events. Workflow input is IDs and settings only."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from api.services import Services
from api.workflows import temporal_unavailable
from models.billing import (
    SUBSCRIPTION_WORKFLOW,
    CheckoutRequest,
    CheckoutResult,
    StripeEventRef,
    SubscriptionState,
    subscription_input,
    subscription_workflow_id,
)
from models.workflow_io import SA_CV_USER_ID

log = logging.getLogger("cvimprover.api")

# Update rejections a user can act on: (HTTP status, title).
REJECTIONS = {
    "AlreadySubscribed": (409, "Already subscribed"),
    "AlreadyCanceling": (409, "Already canceled"),
    "NotCanceling": (409, "Nothing to resume"),
    "NoSubscription": (409, "No subscription"),
    "SamePlan": (409, "Same plan"),
    "PlanNotForSale": (422, "This plan cannot be bought"),
    "NotFound": (404, "Not found"),
}


def billing_unavailable() -> Problem:
    return Problem(
        503,
        "billing_unavailable",
        "Billing temporarily unavailable",
        "Stripe could not be reached; nothing was charged or changed, please try again shortly.",
        retry_after=30,
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _problem_for(exc: WorkflowUpdateFailedError) -> Problem:
    cause: BaseException | None = exc.cause
    if isinstance(cause, ActivityError):
        cause = cause.cause
    if isinstance(cause, ApplicationError) and cause.type in REJECTIONS:
        status, title = REJECTIONS[cause.type]
        return Problem(status, _snake(cause.type), title, cause.message)
    if isinstance(cause, ApplicationError) and cause.type == "StripeRejected":
        return Problem(502, "stripe_rejected", "Stripe refused the request", cause.message)
    if isinstance(cause, ApplicationError) and cause.type == "BillingNotConfigured":
        return billing_not_configured()
    log.warning("subscription update failed: %s", type(cause).__name__ if cause else "unknown")
    return billing_unavailable()


def billing_not_configured() -> Problem:
    return Problem(503, "billing_not_configured", "Billing is not configured", "Billing is not configured.")


def _start_options(services: Services, user_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": subscription_workflow_id(user_id),
        "task_queue": services.settings.temporal_task_queue,
        "search_attributes": TypedSearchAttributes(
            [SearchAttributePair(SearchAttributeKey.for_keyword(SA_CV_USER_ID), str(user_id))]
        ),
        "static_summary": f"Subscription of user {user_id}: Stripe checkout, renewals, payment failures, cancel",
    }


async def start_checkout(
    services: Services, user_id: uuid.UUID, request: CheckoutRequest, request_key: str | None
) -> CheckoutResult:
    """Update-with-Start: creates the user's workflow if needed and answers the Checkout URL. The same
    Idempotency-Key answers the same checkout (Temporal deduplicates updates by id)."""
    operation: WithStartWorkflowOperation[Any, SubscriptionState] = WithStartWorkflowOperation(
        SUBSCRIPTION_WORKFLOW,
        subscription_input(services.settings, user_id),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        result_type=SubscriptionState,
        **_start_options(services, user_id),
    )
    update_id = f"checkout-{request_key}" if request_key else f"checkout-{uuid.uuid4()}"
    try:
        client = await services.connect_temporal()
        result: CheckoutResult = await client.execute_update_with_start_workflow(
            "start_checkout", request, start_workflow_operation=operation, id=update_id, result_type=CheckoutResult
        )
    except WorkflowUpdateFailedError as exc:
        raise _problem_for(exc) from None
    except (RPCError, RuntimeError, OSError, FailureError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        log.error("checkout for user %s failed: %s", user_id, type(exc).__name__)
        raise temporal_unavailable() from None
    return result


async def update_subscription(services: Services, user_id: uuid.UUID, update: str, *args: Any) -> SubscriptionState:
    """cancel, resume or change_plan on the user's running workflow."""
    try:
        client = await services.connect_temporal()
        handle = client.get_workflow_handle(subscription_workflow_id(user_id))
        state: SubscriptionState = await handle.execute_update(
            update, *args, id=f"{update}-{uuid.uuid4()}", result_type=SubscriptionState
        )
    except WorkflowUpdateFailedError as exc:
        raise _problem_for(exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Problem(409, "no_subscription", "No subscription", "There is no subscription to change.") from None
        raise temporal_unavailable() from None
    except (RuntimeError, OSError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise temporal_unavailable() from None
    return state


async def deliver_stripe_event(services: Services, user_id: uuid.UUID, event: StripeEventRef) -> None:
    """Signal-with-start: Temporal records the event durably before this returns; the workflow applies it."""
    try:
        client = await services.connect_temporal()
        await client.start_workflow(
            SUBSCRIPTION_WORKFLOW,
            subscription_input(services.settings, user_id),
            start_signal="stripe_event",
            start_signal_args=[event],
            **_start_options(services, user_id),
        )
    except (RPCError, RuntimeError, OSError) as exc:
        log.error("could not deliver Stripe event %s: %s", event.id, type(exc).__name__)
        # 503: Stripe delivers the event again later.
        raise temporal_unavailable() from None

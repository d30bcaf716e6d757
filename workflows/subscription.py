"""SubscriptionWorkflow: one long-lived workflow per user that owns their Stripe subscription.

Stripe events arrive as the `stripe_event` signal (IDs only) and are taken one at a time: duplicates are dropped
by event id, stale ones by their Stripe timestamp, and every other one makes the workflow read the subscription
as Stripe has it now, so late, repeated or reordered deliveries cannot leave a wrong state. Timers reconcile with
Stripe when a period ends without `invoice.paid` and end the grace period of an unpaid subscription. Updates
start a checkout, cancel, resume and change the plan. Every change is written to the `subscriptions` projection
by an activity."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.retry_policies import (
    STORAGE_RETRY,
    STORAGE_TIMEOUT,
    STRIPE_HEARTBEAT,
    STRIPE_INTERACTIVE_RETRY,
    STRIPE_RETRY,
    STRIPE_TIMEOUT,
)

with workflow.unsafe.imports_passed_through():
    from activities.billing.subscription_activities import SubscriptionActivities
    from models.billing import (
        FREE_PLAN,
        SUBSCRIBED,
        SUBSCRIPTION_WORKFLOW,
        AuditedEvent,
        CheckoutRequest,
        CheckoutResult,
        CreateCheckoutInput,
        FetchSubscriptionInput,
        PlanChange,
        RecordSubscriptionInput,
        StripeEventRef,
        SubscriptionInput,
        SubscriptionSnapshot,
        SubscriptionState,
        SubscriptionStatus,
        UpdateSubscriptionInput,
        UserRef,
    )
    from workflows.search_attributes import CV_PLAN, CV_SUBSCRIPTION_STATUS

# Enough to catch Stripe's repeated deliveries; older repeats are caught by the audit table's primary key.
RECENT_EVENT_IDS = 1000
# When reconciling finds the period not yet renewed at Stripe, ask again this much later.
RECONCILE_RETRY = timedelta(days=1)

ACTIVE_AT_STRIPE = {"active", "trialing"}
UNPAID_AT_STRIPE = {"past_due", "unpaid", "paused"}
ENDED_AT_STRIPE = {"canceled", "incomplete_expired"}


def reject(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


@workflow.defn(name=SUBSCRIPTION_WORKFLOW)
class SubscriptionWorkflow:
    @workflow.init
    def __init__(self, data: SubscriptionInput) -> None:
        self._user_id = data.user_id
        self._timings = data.timings
        self._state = data.state or SubscriptionState()
        self._loaded = data.state is not None
        self._inbox: list[StripeEventRef] = []
        self._lock = asyncio.Lock()
        self._events_this_run = 0
        self._user_gone = False

    # --- main loop ---------------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: SubscriptionInput) -> SubscriptionState:
        async with self._lock:
            await self._ensure_loaded()
        while not self._user_gone:
            deadline = self._next_deadline()
            try:
                await workflow.wait_condition(
                    lambda: bool(self._inbox) or self._run_is_long(),
                    timeout=None if deadline is None else max(deadline - workflow.now(), timedelta(0)),
                    timeout_summary=self._deadline_summary(),
                )
            except TimeoutError:  # the deadline came first
                async with self._lock:
                    await self._on_deadline()
            while self._inbox and not self._user_gone:
                # Everything waiting is taken together: one read of Stripe answers a burst of events.
                batch, self._inbox = self._inbox, []
                async with self._lock:
                    await self._take_events(batch)
            if self._run_is_long() and not self._user_gone:
                # Hand over only when no update is half done and no signal is waiting.
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._inbox:
                    workflow.continue_as_new(SubscriptionInput(self._user_id, self._timings, self._state))
        workflow.set_current_details(f"**Ended:** user {self._user_id} no longer exists.")
        return self._state

    def _run_is_long(self) -> bool:
        return (
            workflow.info().is_continue_as_new_suggested() or self._events_this_run >= self._timings.max_events_per_run
        )

    # --- messages ----------------------------------------------------------------------------------------------

    @workflow.signal
    def stripe_event(self, event: StripeEventRef) -> None:
        """A verified Stripe webhook, reduced to IDs by the API."""
        self._inbox.append(event)

    @workflow.query
    def state(self) -> SubscriptionState:
        return self._state

    @workflow.update
    async def start_checkout(self, request: CheckoutRequest) -> CheckoutResult:
        """Create a Stripe Checkout Session for a plan; the subscription starts when Stripe says it was paid."""
        async with self._lock:
            await self._ensure_loaded()
            self._check_checkout(request)
            state = self._state
            update_id = workflow.current_update_info()
            session = await workflow.execute_activity_method(
                SubscriptionActivities.create_checkout_session,
                CreateCheckoutInput(
                    user_id=self._user_id,
                    plan=request.plan,
                    interval=request.interval,
                    customer_id=state.customer_id,
                    idempotency_key=f"checkout-{self._user_id}-{update_id.id if update_id else 'none'}",
                    previous_session_id=state.checkout_session_id,
                ),
                start_to_close_timeout=STRIPE_TIMEOUT,
                heartbeat_timeout=STRIPE_HEARTBEAT,
                retry_policy=STRIPE_INTERACTIVE_RETRY,
                summary=f"Create a Stripe Checkout Session for {request.plan} ({request.interval.value}ly)",
            )
            state.customer_id = session.customer_id
            state.checkout_session_id = session.session_id
            state.checkout_started_at = workflow.now()
            if state.status not in SUBSCRIBED:
                state.status = SubscriptionStatus.CHECKOUT_PENDING
            await self._record(reason=f"checkout started for {request.plan}")
            return CheckoutResult(session.url, session.session_id, workflow.info().workflow_id)

    @start_checkout.validator
    def _validate_checkout(self, request: CheckoutRequest) -> None:
        self._check_checkout(request)

    def _check_checkout(self, request: CheckoutRequest) -> None:
        state = self._state
        if request.plan == FREE_PLAN:
            raise reject("The Free plan needs no checkout.", "PlanNotForSale")
        if state.status in SUBSCRIBED and request.plan == state.plan:
            raise reject(f"You already have the {request.plan} plan.", "AlreadySubscribed")
        if state.status in SUBSCRIBED:
            raise reject(
                f"You already have the {state.plan} plan: change the plan instead of buying a second one.",
                "AlreadySubscribed",
            )

    @workflow.update
    async def cancel(self) -> SubscriptionState:
        """Cancel at the end of the paid period: the plan stays until then."""
        async with self._lock:
            await self._ensure_loaded()
            self._check_cancel()
            return await self._change_at_stripe(
                "cancel", "Cancel at period end", "canceled at period end", cancel_at_period_end=True
            )

    @cancel.validator
    def _validate_cancel(self) -> None:
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self._state.status is SubscriptionStatus.CANCELING:
            raise reject("The subscription is already set to end at the end of this period.", "AlreadyCanceling")
        if self._state.status not in SUBSCRIBED:
            raise reject("There is no subscription to cancel.", "NoSubscription")

    @workflow.update
    async def resume(self) -> SubscriptionState:
        """Undo a cancel before the period ends."""
        async with self._lock:
            await self._ensure_loaded()
            self._check_resume()
            return await self._change_at_stripe(
                "resume", "Resume: keep renewing", "resumed", cancel_at_period_end=False
            )

    @resume.validator
    def _validate_resume(self) -> None:
        self._check_resume()

    def _check_resume(self) -> None:
        if self._state.status is not SubscriptionStatus.CANCELING:
            raise reject("Only a subscription set to end at period end can be resumed.", "NotCanceling")

    @workflow.update
    async def change_plan(self, change: PlanChange) -> SubscriptionState:
        """Move to another paid plan or billing interval now, prorated by Stripe."""
        async with self._lock:
            await self._ensure_loaded()
            self._check_change(change)
            return await self._change_at_stripe(
                "change",
                f"Change the plan to {change.plan} ({change.interval.value}ly)",
                f"plan changed to {change.plan}",
                plan=change.plan,
                interval=change.interval,
            )

    @change_plan.validator
    def _validate_change(self, change: PlanChange) -> None:
        self._check_change(change)

    def _check_change(self, change: PlanChange) -> None:
        state = self._state
        if change.plan == FREE_PLAN:
            raise reject("To go back to Free, cancel the subscription.", "PlanNotForSale")
        if state.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELING):
            raise reject("Only an active subscription can change its plan.", "NoSubscription")
        if change.plan == state.plan and change.interval == state.interval:
            raise reject(f"You already have the {change.plan} plan, billed {change.interval.value}ly.", "SamePlan")

    @workflow.update
    async def reconcile(self) -> SubscriptionState:
        """Read the subscription at Stripe now and apply it (`cvimprover ops subscription reconcile`): for a state
        that drifted, say a lost webhook whose reconcile timer is still far away."""
        async with self._lock:
            await self._ensure_loaded()
            self._check_reconcile()
            state = self._state
            snapshot = await self._fetch(
                FetchSubscriptionInput(state.subscription_id, None if state.subscription_id else state.customer_id),
                "Reconcile with Stripe, asked by an operator",
            )
            found = snapshot is not None and self._apply_snapshot(snapshot)
            await self._record(
                reason="reconciled with Stripe by an operator" + ("" if found else ": Stripe has no subscription")
            )
            return self._state

    @reconcile.validator
    def _validate_reconcile(self) -> None:
        # A run that has not loaded the projection yet cannot tell; the handler checks again once it has.
        if self._loaded:
            self._check_reconcile()

    def _check_reconcile(self) -> None:
        if self._state.customer_id is None and self._state.subscription_id is None:
            raise reject("There is no Stripe customer or subscription to reconcile with.", "NoSubscription")

    async def _change_at_stripe(self, action: str, summary: str, reason: str, **changes: Any) -> SubscriptionState:
        assert self._state.subscription_id is not None  # checked by the validators: a subscribed status
        update_info = workflow.current_update_info()
        snapshot = await workflow.execute_activity_method(
            SubscriptionActivities.update_subscription,
            UpdateSubscriptionInput(
                subscription_id=self._state.subscription_id,
                idempotency_key=f"{action}-{self._state.subscription_id}-{update_info.id if update_info else ''}",
                **changes,
            ),
            start_to_close_timeout=STRIPE_TIMEOUT,
            heartbeat_timeout=STRIPE_HEARTBEAT,
            retry_policy=STRIPE_INTERACTIVE_RETRY,
            summary=summary,
        )
        self._apply_snapshot(snapshot)
        await self._record(reason=reason)
        return self._state

    # --- events and timers -------------------------------------------------------------------------------------

    async def _take_events(self, events: list[StripeEventRef]) -> None:
        state = self._state
        fresh: list[StripeEventRef] = []
        for event in events:
            if event.id in state.recent_event_ids:
                continue
            state.recent_event_ids = [*state.recent_event_ids, event.id][-RECENT_EVENT_IDS:]
            self._events_this_run += 1
            state.events_applied += 1
            fresh.append(event)
        if not fresh:
            return
        audits: list[AuditedEvent] = []
        to_read: list[StripeEventRef] = []
        for event in sorted(fresh, key=lambda e: e.created):
            if event.created < state.last_event_created:
                audits.append(AuditedEvent(event, "stale", "older than the state already applied"))
                continue
            state.last_event_created = event.created
            if event.type == "checkout.session.expired":
                if event.object_id == state.checkout_session_id:
                    self._drop_checkout()
                audits.append(AuditedEvent(event, "applied", "checkout expired"))
                continue
            if event.type == "checkout.session.completed" and event.object_id == state.checkout_session_id:
                state.checkout_session_id = state.checkout_started_at = None
            if event.subscription_id is None and event.customer_id is None:
                audits.append(AuditedEvent(event, "ignored", "no subscription in the event"))
                continue
            to_read.append(event)
        if to_read:
            newest = to_read[-1]
            snapshot = await self._fetch(
                FetchSubscriptionInput(newest.subscription_id, None if newest.subscription_id else newest.customer_id),
                f"Read the subscription after {', '.join(sorted({e.type for e in to_read}))}",
            )
            applied = snapshot is not None and self._apply_snapshot(snapshot)
            outcome, reason = ("applied", "") if applied else ("ignored", "not the current subscription")
            audits += [AuditedEvent(event, outcome, reason) for event in to_read]
        await self._record(audits)

    def _next_deadline(self) -> datetime | None:
        state = self._state
        if state.status is SubscriptionStatus.PAST_DUE and state.entitled_plan != FREE_PLAN:
            return state.grace_until
        if state.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELING):
            return state.next_reconcile_at
        if state.status is SubscriptionStatus.CHECKOUT_PENDING and state.checkout_started_at is not None:
            return state.checkout_started_at + timedelta(seconds=self._timings.checkout_timeout_seconds)
        return None

    def _deadline_summary(self) -> str:
        status = self._state.status
        if status is SubscriptionStatus.PAST_DUE:
            return "End of the grace period: downgrade to Free unless paid"
        if status is SubscriptionStatus.CHECKOUT_PENDING:
            return "Drop the checkout if Stripe never completes it"
        if status is SubscriptionStatus.CANCELING:
            return "Period end: confirm the cancellation with Stripe"
        return "Period end: ask Stripe if invoice.paid has not arrived"

    async def _on_deadline(self) -> None:
        state = self._state
        now = workflow.now()
        if state.status is SubscriptionStatus.CHECKOUT_PENDING:
            snapshot = await self._fetch(
                FetchSubscriptionInput(customer_id=state.customer_id), "Look for a subscription the checkout made"
            )
            if snapshot is None or not self._apply_snapshot(snapshot):
                self._drop_checkout()
            await self._record(reason="checkout timed out: reconciled with Stripe")
            return
        before = state.current_period_end
        snapshot = await self._fetch(
            FetchSubscriptionInput(subscription_id=state.subscription_id), "Reconcile with Stripe"
        )
        if snapshot is not None:
            self._apply_snapshot(snapshot)
        reason = "reconciled with Stripe"
        if state.status is SubscriptionStatus.PAST_DUE and state.grace_until and now >= state.grace_until:
            state.entitled_plan = FREE_PLAN
            reason = "grace period over without payment: downgraded to Free"
        elif state.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELING) and before == (
            state.current_period_end
        ):
            state.next_reconcile_at = now + RECONCILE_RETRY
            reason = "reconciled with Stripe: period not renewed yet, asking again in a day"
        await self._record(reason=reason)

    # --- state ------------------------------------------------------------------------------------------------

    def _apply_snapshot(self, snap: SubscriptionSnapshot) -> bool:
        """Make the state what Stripe says; False for a subscription older than the one we follow."""
        state = self._state
        if (
            state.subscription_id is not None
            and snap.subscription_id != state.subscription_id
            and snap.created < state.subscription_created
        ):
            return False
        previous_end = state.current_period_end if snap.subscription_id == state.subscription_id else None
        state.subscription_id, state.subscription_created = snap.subscription_id, snap.created
        state.customer_id = snap.customer_id
        if snap.plan is not None:
            if snap.interval is state.interval and previous_end and snap.current_period_end:
                state.renewals += snap.current_period_end > previous_end
            state.plan, state.interval = snap.plan, snap.interval
        state.current_period_end = snap.current_period_end
        state.cancel_at_period_end = snap.cancel_at_period_end
        now = workflow.now()
        if snap.stripe_status in ACTIVE_AT_STRIPE:
            state.status = SubscriptionStatus.CANCELING if snap.cancel_at_period_end else SubscriptionStatus.ACTIVE
            state.past_due_since = state.grace_until = None
        elif snap.stripe_status in UNPAID_AT_STRIPE:
            state.status = SubscriptionStatus.PAST_DUE
            state.past_due_since = state.past_due_since or now
            state.grace_until = state.past_due_since + timedelta(seconds=self._timings.grace_period_seconds)
        elif snap.stripe_status in ENDED_AT_STRIPE:
            state.status = SubscriptionStatus.CANCELED
            state.cancel_at_period_end = False
            state.past_due_since = state.grace_until = None
        else:  # incomplete: the first payment is still being made
            state.status = SubscriptionStatus.CHECKOUT_PENDING
        if state.status is not SubscriptionStatus.CHECKOUT_PENDING:
            state.checkout_session_id = state.checkout_started_at = None
        in_grace = state.status is SubscriptionStatus.PAST_DUE and state.grace_until is not None
        entitled = state.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELING) or (
            in_grace and state.grace_until is not None and now < state.grace_until
        )
        state.entitled_plan = (state.plan or FREE_PLAN) if entitled else FREE_PLAN
        if state.current_period_end is not None and state.status in SUBSCRIBED:
            state.next_reconcile_at = state.current_period_end + timedelta(
                seconds=self._timings.reconcile_after_seconds
            )
        else:
            state.next_reconcile_at = None
        return True

    def _drop_checkout(self) -> None:
        state = self._state
        state.checkout_session_id = state.checkout_started_at = None
        if state.status is SubscriptionStatus.CHECKOUT_PENDING:
            state.status = SubscriptionStatus.CANCELED if state.subscription_id else SubscriptionStatus.NONE

    async def _fetch(self, which: FetchSubscriptionInput, summary: str) -> SubscriptionSnapshot | None:
        result: SubscriptionSnapshot | None = await workflow.execute_activity_method(
            SubscriptionActivities.fetch_subscription,
            which,
            start_to_close_timeout=STRIPE_TIMEOUT,
            heartbeat_timeout=STRIPE_HEARTBEAT,
            retry_policy=STRIPE_RETRY,
            summary=summary,
        )
        return result

    async def _ensure_loaded(self) -> None:
        """A first run for a user who had a subscription workflow before (ended or terminated by an operator)
        starts from the projection, so the Stripe customer is reused. Called under the lock by the run and by
        every handler: in the first activation an update can run before the main loop."""
        if self._loaded:
            return
        self._loaded = True
        loaded: SubscriptionState | None = await self._local(
            SubscriptionActivities.load_subscription, UserRef(self._user_id), "Load the saved subscription state"
        )
        if loaded is not None:
            self._state = loaded
            if loaded.current_period_end is not None and loaded.status in SUBSCRIBED:
                loaded.next_reconcile_at = loaded.current_period_end + timedelta(
                    seconds=self._timings.reconcile_after_seconds
                )
        self._publish()

    async def _record(self, events: list[AuditedEvent] | None = None, reason: str = "") -> None:
        events = events or []
        summary = reason or ", ".join(f"{a.event.type} ({a.outcome})" for a in events) or "state"
        result = await self._local(
            SubscriptionActivities.record_subscription,
            RecordSubscriptionInput(self._user_id, self._state, events, reason),
            f"Save: {summary}"[:200],
        )
        if not result.user_exists:
            self._user_gone = True
            return
        self._publish(reason or summary)

    async def _local(self, method: Callable[..., Awaitable[Any]], arg: Any, summary: str) -> Any:
        return await workflow.execute_local_activity_method(
            method, arg, start_to_close_timeout=STORAGE_TIMEOUT, retry_policy=STORAGE_RETRY, summary=summary
        )

    def _publish(self, reason: str = "") -> None:
        """Search attributes and current details for the Temporal UI."""
        state = self._state
        workflow.upsert_search_attributes(
            [CV_PLAN.value_set(state.entitled_plan), CV_SUBSCRIPTION_STATUS.value_set(state.status.value)]
        )
        lines = [
            f"**Status:** {state.status.value} · **plan:** {state.plan or FREE_PLAN}"
            + (f" ({state.interval.value}ly)" if state.interval else "")
            + f" · **entitled to:** {state.entitled_plan}",
            f"**Period ends:** {state.current_period_end.isoformat() if state.current_period_end else '-'}"
            + (" · cancels at period end" if state.cancel_at_period_end else ""),
            f"**Renewals:** {state.renewals} · **events applied:** {state.events_applied}",
        ]
        if state.grace_until:
            lines.append(f"**Grace until:** {state.grace_until.isoformat()}")
        if reason:
            lines.append(f"**Last change:** {reason}")
        workflow.set_current_details("\n\n".join(lines))

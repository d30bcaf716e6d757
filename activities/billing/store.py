"""PostgreSQL side of billing: the plan catalog, the `subscriptions` projection and the `stripe_events` audit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from activities.database import Sessions
from activities.errors import DomainError, NotFound
from models.billing import (
    FREE_PLAN,
    BillingInterval,
    RecordResult,
    RecordSubscriptionInput,
    SubscriptionState,
    SubscriptionStatus,
)
from models.tables import Plan, StripeEvent, Subscription, User


class PlanNotForSale(DomainError):
    status = 422
    code = "plan_not_for_sale"
    title = "This plan cannot be bought"


@dataclass(frozen=True)
class PlanInfo:
    code: str
    name: str
    monthly_quota: int
    price_monthly: str | None
    price_yearly: str | None

    def price(self, interval: BillingInterval) -> str | None:
        return self.price_monthly if interval is BillingInterval.MONTH else self.price_yearly


@dataclass(frozen=True)
class SubscriptionRecord:
    user_id: uuid.UUID
    status: SubscriptionStatus
    plan: str | None
    interval: BillingInterval | None
    entitled_plan: str
    customer_id: str | None
    subscription_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    past_due_since: datetime | None
    grace_until: datetime | None
    renewals: int
    events_applied: int
    updated_at: datetime | None


class BillingStore:
    def __init__(self, sessions: Sessions, price_overrides: dict[tuple[str, str], str] | None = None) -> None:
        self._sessions = sessions
        self._overrides = price_overrides or {}

    async def plans(self) -> list[PlanInfo]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(Plan).order_by(Plan.sort_order, Plan.code))).all()
        return [
            PlanInfo(
                code=p.code,
                name=p.name,
                monthly_quota=p.monthly_quota,
                price_monthly=self._overrides.get((p.code, "month"), p.stripe_price_monthly),
                price_yearly=self._overrides.get((p.code, "year"), p.stripe_price_yearly),
            )
            for p in rows
        ]

    async def plan(self, code: str) -> PlanInfo:
        for plan in await self.plans():
            if plan.code == code:
                return plan
        raise NotFound(f"There is no plan '{code}'.")

    async def price_for(self, code: str, interval: BillingInterval) -> str:
        plan = await self.plan(code)
        price = plan.price(interval)
        if code == FREE_PLAN or price is None:
            raise PlanNotForSale(f"The {plan.name} plan is not sold with {interval.value}ly billing.")
        return price

    async def plan_of_price(self) -> dict[str, tuple[str, BillingInterval]]:
        prices: dict[str, tuple[str, BillingInterval]] = {}
        for plan in await self.plans():
            for interval in BillingInterval:
                price = plan.price(interval)
                if price:
                    prices[price] = (plan.code, interval)
        return prices

    async def email_of(self, user_id: uuid.UUID) -> str:
        async with self._sessions() as session:
            email = await session.scalar(select(User.email).where(User.id == user_id))
        if email is None:
            raise NotFound("No such user.")
        return email

    async def subscription(self, user_id: uuid.UUID) -> SubscriptionRecord | None:
        async with self._sessions() as session:
            row = await session.get(Subscription, user_id)
            entitled = await session.scalar(select(User.plan_code).where(User.id == user_id))
        if row is None:
            return None
        return SubscriptionRecord(
            user_id=row.user_id,
            status=SubscriptionStatus(row.status),
            plan=row.plan_code,
            interval=BillingInterval(row.billing_interval) if row.billing_interval else None,
            entitled_plan=entitled or FREE_PLAN,
            customer_id=row.stripe_customer_id,
            subscription_id=row.stripe_subscription_id,
            current_period_end=row.current_period_end,
            cancel_at_period_end=row.cancel_at_period_end,
            past_due_since=row.past_due_since,
            grace_until=row.grace_until,
            renewals=row.renewals,
            events_applied=row.events_applied,
            updated_at=row.updated_at,
        )

    async def load_state(self, user_id: uuid.UUID) -> SubscriptionState | None:
        """The saved state of a user's subscription, for a workflow that starts again from scratch."""
        record = await self.subscription(user_id)
        if record is None:
            return None
        return SubscriptionState(
            status=record.status,
            plan=record.plan,
            interval=record.interval,
            entitled_plan=record.entitled_plan,
            customer_id=record.customer_id,
            subscription_id=record.subscription_id,
            current_period_end=record.current_period_end,
            cancel_at_period_end=record.cancel_at_period_end,
            past_due_since=record.past_due_since,
            grace_until=record.grace_until,
            renewals=record.renewals,
            events_applied=record.events_applied,
        )

    async def user_for_event(self, user_hint: str | None, customer_id: str | None) -> uuid.UUID | None:
        """The live account an event belongs to: the user id we put in the checkout and subscription metadata,
        else the owner of the Stripe customer. Unknown or deleted: None."""
        async with self._sessions() as session:
            if user_hint:
                try:
                    user_id = uuid.UUID(user_hint)
                except ValueError:
                    user_id = None
                if user_id is not None:
                    found = await session.scalar(
                        select(User.id).where(User.id == user_id, User.deletion_requested_at.is_(None))
                    )
                    if found is not None:
                        return found
            if customer_id:
                return await session.scalar(
                    select(Subscription.user_id)
                    .join(User, User.id == Subscription.user_id)
                    .where(Subscription.stripe_customer_id == customer_id, User.deletion_requested_at.is_(None))
                )
        return None

    async def record(self, data: RecordSubscriptionInput) -> RecordResult:
        """Write the workflow's state to the projection and the user's plan, and audit the event, in one
        transaction. Safe to repeat: the state is written whole and the event once per id."""
        state = data.state
        async with self._sessions.begin() as session:
            exists = await session.scalar(select(User.id).where(User.id == data.user_id).with_for_update())
            if exists is None:
                return RecordResult(user_exists=False)
            values = {
                "stripe_customer_id": state.customer_id,
                "stripe_subscription_id": state.subscription_id,
                "status": state.status.value,
                "plan_code": state.plan,
                "billing_interval": state.interval.value if state.interval else None,
                "current_period_end": state.current_period_end,
                "cancel_at_period_end": state.cancel_at_period_end,
                "past_due_since": state.past_due_since,
                "grace_until": state.grace_until,
                "renewals": state.renewals,
                "events_applied": state.events_applied,
                "updated_at": datetime.now(UTC),
            }
            await session.execute(
                insert(Subscription)
                .values(user_id=data.user_id, **values)
                .on_conflict_do_update(index_elements=[Subscription.user_id], set_=values)
            )
            await session.execute(update(User).where(User.id == data.user_id).values(plan_code=state.entitled_plan))
            duplicate = False
            if data.events:
                inserted = await session.execute(
                    insert(StripeEvent)
                    .values(
                        [
                            {
                                "event_id": audited.event.id,
                                "user_id": data.user_id,
                                "type": audited.event.type,
                                "object_id": audited.event.object_id,
                                "stripe_created": datetime.fromtimestamp(audited.event.created, UTC),
                                "outcome": audited.outcome,
                                "reason": audited.reason,
                                "status_after": state.status.value,
                            }
                            for audited in data.events
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=[StripeEvent.event_id])
                    .returning(StripeEvent.event_id)
                )
                duplicate = len(inserted.all()) < len(data.events)
        return RecordResult(user_exists=True, duplicate_event=duplicate)

    async def events_of(self, user_id: uuid.UUID) -> list[tuple[str, str, str]]:
        """(event id, type, outcome) of a user's audited events, oldest first."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(StripeEvent.event_id, StripeEvent.type, StripeEvent.outcome)
                .where(StripeEvent.user_id == user_id)
                .order_by(StripeEvent.received_at, StripeEvent.event_id)
            )
        return [(r.event_id, r.type, r.outcome) for r in rows]

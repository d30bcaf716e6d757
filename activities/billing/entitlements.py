"""What a user is entitled to now (plan and monthly quota), cached in Redis. The subscription activities
invalidate the entry on every state change; Redis being away only costs a PostgreSQL read."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from activities.database import Sessions
from activities.errors import NotFound
from activities.quota import effective_plan_code, utc_now
from models.billing import SubscriptionStatus
from models.tables import Plan, Subscription, User

log = logging.getLogger("cvimprover.billing")

CACHE_TTL_SECONDS = 300


def _key(user_id: uuid.UUID) -> str:
    return f"entitlement:{user_id}"


@dataclass(frozen=True)
class Entitlement:
    plan: str
    plan_name: str
    monthly_quota: int
    status: str


class EntitlementCache:
    def __init__(self, sessions: Sessions, redis: Redis) -> None:
        self._sessions = sessions
        self._redis = redis

    async def get(self, user_id: uuid.UUID) -> Entitlement:
        try:
            cached = await self._redis.get(_key(user_id))
        except RedisError:
            cached = None
        if cached is not None:
            return Entitlement(**json.loads(cached))
        entitlement = await self._load(user_id)
        try:
            await self._redis.set(_key(user_id), json.dumps(asdict(entitlement)), ex=CACHE_TTL_SECONDS)
        except RedisError:
            log.warning("entitlement cache unavailable")
        return entitlement

    async def invalidate(self, user_id: uuid.UUID) -> None:
        try:
            await self._redis.delete(_key(user_id))
        except RedisError:
            # The entry expires within CACHE_TTL_SECONDS; the quota step itself always reads PostgreSQL.
            log.warning("entitlement cache unavailable: entry for a changed subscription left to expire")

    async def _load(self, user_id: uuid.UUID) -> Entitlement:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(User.plan_code, Subscription.status, Subscription.grace_until)
                    .outerjoin(Subscription, Subscription.user_id == User.id)
                    .where(User.id == user_id)
                )
            ).one_or_none()
            if row is None:
                raise NotFound("No such user.")
            code = effective_plan_code(row.plan_code, row.status, row.grace_until, utc_now())
            plan = await session.get(Plan, code)
        assert plan is not None  # users.plan_code is a foreign key to plans
        return Entitlement(plan.code, plan.name, plan.monthly_quota, row.status or SubscriptionStatus.NONE.value)

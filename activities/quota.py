"""Monthly improvement quota: one `usage` row per improvement, reserved then consumed or refunded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from activities.database import Sessions
from activities.errors import NotFound, QuotaExhausted
from models.tables import Plan, QuotaGrant, Subscription, Usage, User


def period_start(day: date) -> date:
    return day.replace(day=1)


def next_period_start(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def utc_now() -> datetime:
    return datetime.now(UTC)


def today_utc() -> date:
    return utc_now().date()


def effective_plan_code(plan_code: str, status: str | None, grace_until: datetime | None, now: datetime) -> str:
    """The plan whose quota applies: a past-due subscription keeps its plan only until its grace period ends,
    even if the workflow's downgrade has not run yet."""
    if status == "past_due" and grace_until is not None and grace_until <= now:
        return "free"
    return plan_code


@dataclass(frozen=True)
class QuotaStatus:
    plan_code: str
    plan_name: str
    used: int
    limit: int
    period_start: date
    resets_on: date


async def quota_status(session: AsyncSession, user_id: uuid.UUID, day: date) -> QuotaStatus:
    """The user's plan, the units used this month and those an operator granted for it, in one query."""
    start = period_start(day)
    used = (
        select(func.count())
        .select_from(Usage)
        .where(Usage.user_id == user_id, Usage.period_start == start, Usage.status != "refunded")
        .scalar_subquery()
    )
    granted = (
        select(func.coalesce(func.sum(QuotaGrant.units), 0))
        .where(QuotaGrant.user_id == user_id, QuotaGrant.period_start == start)
        .scalar_subquery()
    )
    user = (
        await session.execute(
            select(
                User.plan_code,
                Subscription.status,
                Subscription.grace_until,
                used.label("used"),
                granted.label("granted"),
            )
            .outerjoin(Subscription, Subscription.user_id == User.id)
            .where(User.id == user_id)
        )
    ).one_or_none()
    if user is None:
        raise NotFound("No such user.")
    plan = await session.get(Plan, effective_plan_code(user.plan_code, user.status, user.grace_until, utc_now()))
    assert plan is not None  # users.plan_code is a foreign key to plans
    limit = plan.monthly_quota + int(user.granted or 0)
    return QuotaStatus(plan.code, plan.name, int(user.used or 0), limit, start, next_period_start(day))


def ensure_available(status: QuotaStatus) -> None:
    if status.used >= status.limit:
        raise QuotaExhausted(status.plan_name, status.limit, status.resets_on)


async def reserve_unit(session: AsyncSession, user_id: uuid.UUID, improvement_id: uuid.UUID, day: date) -> QuotaStatus:
    """Reserve one unit for this improvement; a second call for the same improvement changes nothing."""
    # Serialise reservations of one user so two parallel runs cannot both take the last unit.
    await session.execute(text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"quota:{user_id}"})
    existing = await session.scalar(select(Usage).where(Usage.improvement_id == improvement_id))
    status = await quota_status(session, user_id, day)
    if existing is not None:
        return status
    ensure_available(status)
    await session.execute(
        insert(Usage)
        .values(user_id=user_id, improvement_id=improvement_id, period_start=status.period_start, status="reserved")
        .on_conflict_do_nothing(index_elements=[Usage.improvement_id])
    )
    return QuotaStatus(
        status.plan_code, status.plan_name, status.used + 1, status.limit, status.period_start, status.resets_on
    )


async def settle_unit(session: AsyncSession, improvement_id: uuid.UUID, outcome: str) -> None:
    """Mark a reserved unit consumed or refunded; a consumed unit is never refunded afterwards."""
    await session.execute(
        update(Usage).where(Usage.improvement_id == improvement_id, Usage.status == "reserved").values(status=outcome)
    )


class QuotaStore:
    """Read side of the quota, for the API."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def status(self, user_id: uuid.UUID) -> QuotaStatus:
        async with self._sessions() as session:
            return await quota_status(session, user_id, today_utc())

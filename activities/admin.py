"""Operator functions on PostgreSQL, for `cvimprover ops`: find a user, list their improvements, grant or reset
this month's quota, make a failed improvement ready to run again. Every write is one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from activities.database import Sessions
from activities.errors import Conflict, NotFound
from activities.quota import QuotaStatus, period_start, quota_status, today_utc
from models.improvement import Stage
from models.tables import Improvement, QuotaGrant, Usage, User


@dataclass(frozen=True)
class UserSummary:
    id: uuid.UUID
    email: str
    plan_code: str
    deletion_requested_at: datetime | None


@dataclass(frozen=True)
class ImprovementSummary:
    id: uuid.UUID
    user_id: uuid.UUID
    cv_id: uuid.UUID
    workflow_id: str
    stage: str
    percent: int
    engine: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class QuotaReport:
    status: QuotaStatus
    granted: int  # extra units granted for this month, included in status.limit
    changed: int = 0  # units granted or refunded by the call that made this report


def _summary(row: Improvement) -> ImprovementSummary:
    return ImprovementSummary(
        id=row.id,
        user_id=row.user_id,
        cv_id=row.cv_id,
        workflow_id=row.workflow_id,
        stage=row.stage,
        percent=row.percent,
        engine=row.engine,
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


async def _report(session: AsyncSession, user_id: uuid.UUID) -> QuotaReport:
    status = await quota_status(session, user_id, today_utc())
    granted = await session.scalar(
        select(func.coalesce(func.sum(QuotaGrant.units), 0)).where(
            QuotaGrant.user_id == user_id, QuotaGrant.period_start == status.period_start
        )
    )
    return QuotaReport(status, int(granted or 0))


class AdminStore:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def find_user(self, who: str) -> UserSummary:
        """A user by id or e-mail address."""
        try:
            condition = User.id == uuid.UUID(who)
        except ValueError:
            condition = User.email == who.strip().lower()
        async with self._sessions() as session:
            row = await session.scalar(select(User).where(condition))
        if row is None:
            raise NotFound(f"No user {who}.")
        return UserSummary(row.id, row.email, row.plan_code, row.deletion_requested_at)

    async def improvements(self, user_id: uuid.UUID, limit: int = 50) -> list[ImprovementSummary]:
        """The user's improvements, newest first, with their stage and error."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Improvement)
                .where(Improvement.user_id == user_id)
                .order_by(Improvement.created_at.desc(), Improvement.id.desc())
                .limit(limit)
            )
            return [_summary(row) for row in rows]

    async def improvement(self, improvement_id: uuid.UUID) -> ImprovementSummary:
        async with self._sessions() as session:
            row = await session.get(Improvement, improvement_id)
        if row is None:
            raise NotFound(f"No improvement {improvement_id} (its CV or account may have been deleted).")
        return _summary(row)

    async def quota(self, user_id: uuid.UUID) -> QuotaReport:
        async with self._sessions() as session:
            return await _report(session, user_id)

    async def grant_quota(self, user_id: uuid.UUID, units: int, reason: str = "") -> QuotaReport:
        """Extra improvements for the current month only: the grant ends with the month, like the plan's units."""
        if units <= 0:
            raise Conflict("Grant at least one unit.")
        async with self._sessions.begin() as session:
            await quota_status(session, user_id, today_utc())  # NotFound for an unknown user
            session.add(QuotaGrant(user_id=user_id, period_start=period_start(today_utc()), units=units, reason=reason))
            await session.flush()
            return replace(await _report(session, user_id), changed=units)

    async def reset_quota(self, user_id: uuid.UUID) -> QuotaReport:
        """Refund every unit consumed this month, so the month starts over. The rows stay, marked refunded, as a
        record; units still reserved by running improvements are left to them."""
        async with self._sessions.begin() as session:
            await quota_status(session, user_id, today_utc())
            refunded = await session.scalars(
                update(Usage)
                .where(
                    Usage.user_id == user_id,
                    Usage.period_start == period_start(today_utc()),
                    Usage.status == "consumed",
                )
                .values(status="refunded")
                .returning(Usage.id)
            )
            count = len(refunded.all())
            return replace(await _report(session, user_id), changed=count)

    async def prepare_retry(self, improvement_id: uuid.UUID, *, workflow_closed: bool) -> ImprovementSummary:
        """Make an improvement that did not complete ready for a new run of its workflow: back to `queued`, its
        error cleared, and a refunded unit forgotten so the new run reserves one like any run. A unit still
        reserved (the run was terminated before it could refund) stays, and the new run keeps using it.
        `workflow_closed`: the caller checked that no run of its workflow is open."""
        async with self._sessions.begin() as session:
            row = await session.get(Improvement, improvement_id, with_for_update=True)
            if row is None:
                raise NotFound(f"No improvement {improvement_id} (its CV or account may have been deleted).")
            stage = Stage(row.stage)
            if stage is Stage.COMPLETED:
                raise Conflict(f"Improvement {improvement_id} completed: there is nothing to retry.")
            if stage is Stage.CANCELED:
                raise Conflict(f"Improvement {improvement_id} was canceled by its user: it is not retried.")
            if stage is not Stage.FAILED and not workflow_closed:
                raise Conflict(f"Improvement {improvement_id} is still {stage.value}.")
            await session.execute(
                delete(Usage).where(Usage.improvement_id == improvement_id, Usage.status == "refunded")
            )
            row.stage, row.percent = Stage.QUEUED.value, 0
            row.error_code = row.error_message = row.finished_at = None
            await session.flush()
            return _summary(row)

"""Improvements as the API sees them: create, read, list, fetch PDFs, delete. Scoped to their owner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from uuid6 import uuid7

from activities.blobs import delete_orphan_blobs, get_blob
from activities.database import Sessions
from activities.errors import Conflict, NotFound
from activities.quota import ensure_available, quota_status, today_utc
from models.improvement import Stage
from models.tables import Cv, Improvement, Rendition
from models.target import ImprovementTarget
from models.workflow_io import improvement_workflow_id


@dataclass(frozen=True)
class RenditionRecord:
    theme: str
    paper: str
    pages: int
    created_at: datetime


@dataclass(frozen=True)
class ImprovementRecord:
    id: uuid.UUID
    cv_id: uuid.UUID
    workflow_id: str
    target: dict[str, Any]
    stage: str
    percent: int
    engine: str | None
    result_resume: dict[str, Any] | None
    changes: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    scores: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    renditions: list[RenditionRecord]

    @property
    def finished(self) -> bool:
        return Stage(self.stage).terminal


def _record(row: Improvement, renditions: list[Rendition]) -> ImprovementRecord:
    return ImprovementRecord(
        id=row.id,
        cv_id=row.cv_id,
        workflow_id=row.workflow_id,
        target=row.target,
        stage=row.stage,
        percent=row.percent,
        engine=row.engine,
        result_resume=row.result_resume,
        changes=row.changes or [],
        warnings=row.warnings or [],
        scores=row.scores,
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
        renditions=[RenditionRecord(r.theme, r.paper, r.pages, r.created_at) for r in renditions],
    )


class ImprovementStore:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def create(self, user_id: uuid.UUID, cv_id: uuid.UUID, target: ImprovementTarget) -> ImprovementRecord:
        """Record a new improvement. Refuses early when the quota is used up; the workflow reserves for real."""
        improvement_id = uuid7()
        async with self._sessions.begin() as session:
            # Only the owner column: the CV's text and parsed JSON are not needed here.
            owner = await session.scalar(select(Cv.user_id).where(Cv.id == cv_id))
            if owner != user_id:
                raise NotFound("No CV with this id.")
            ensure_available(await quota_status(session, user_id, today_utc()))
            row = await session.scalar(
                insert(Improvement)
                .values(
                    id=improvement_id,
                    user_id=user_id,
                    cv_id=cv_id,
                    workflow_id=improvement_workflow_id(improvement_id),
                    target=target.model_dump(mode="json"),
                    stage=Stage.QUEUED.value,
                    percent=0,
                )
                .returning(Improvement)
            )
        if row is None:  # pragma: no cover - INSERT ... RETURNING always returns the row
            raise RuntimeError("insert returned no row")
        return _record(row, [])

    async def discard_unstarted(self, improvement_id: uuid.UUID) -> None:
        """Remove an improvement whose workflow could not be started (nothing was reserved for it yet)."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(Improvement).where(Improvement.id == improvement_id, Improvement.stage == Stage.QUEUED.value)
            )

    async def get(self, user_id: uuid.UUID, improvement_id: uuid.UUID) -> ImprovementRecord:
        async with self._sessions() as session:
            row = await session.get(Improvement, improvement_id)
            if row is None or row.user_id != user_id:
                raise NotFound("No improvement with this id.")
            renditions = (
                await session.scalars(
                    select(Rendition).where(Rendition.improvement_id == improvement_id).order_by(Rendition.id)
                )
            ).all()
        return _record(row, list(renditions))

    async def list_for_user(
        self, user_id: uuid.UUID, *, cv_id: uuid.UUID | None = None, limit: int = 50, offset: int = 0
    ) -> list[ImprovementRecord]:
        query = select(Improvement).where(Improvement.user_id == user_id)
        if cv_id is not None:
            query = query.where(Improvement.cv_id == cv_id)
        async with self._sessions() as session:
            rows = await session.scalars(
                query.order_by(Improvement.created_at.desc(), Improvement.id.desc()).limit(limit).offset(offset)
            )
            return [_record(row, []) for row in rows]

    async def pdf(self, user_id: uuid.UUID, improvement_id: uuid.UUID, theme: str | None, paper: str | None) -> bytes:
        """The PDF of a theme and paper size; without them, the one the improvement was asked for."""
        record = await self.get(user_id, improvement_id)
        theme = theme or str(record.target.get("theme", "classic"))
        paper = paper or str(record.target.get("paper", "A4"))
        async with self._sessions() as session:
            sha = await session.scalar(
                select(Rendition.pdf_sha256).where(
                    Rendition.improvement_id == improvement_id, Rendition.theme == theme, Rendition.paper == paper
                )
            )
            blob = await get_blob(session, sha) if sha else None
        if blob is None:
            if not record.finished:
                raise Conflict("The PDF is not ready yet: the improvement is still running.")
            raise NotFound(f"No PDF in theme '{theme}' and paper {paper} for this improvement.")
        return blob.data

    async def has_rendition(self, improvement_id: uuid.UUID, theme: str, paper: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(Rendition.id).where(
                    Rendition.improvement_id == improvement_id, Rendition.theme == theme, Rendition.paper == paper
                )
            )
        return found is not None

    async def delete(self, user_id: uuid.UUID, improvement_id: uuid.UUID) -> None:
        """Delete a finished improvement and its PDFs (the quota unit it used stays used)."""
        async with self._sessions.begin() as session:
            row = await session.get(Improvement, improvement_id, with_for_update=True)
            if row is None or row.user_id != user_id:
                raise NotFound("No improvement with this id.")
            if not Stage(row.stage).terminal:
                raise Conflict("The improvement is still running: cancel it first.")
            pdfs = set(
                await session.scalars(select(Rendition.pdf_sha256).where(Rendition.improvement_id == improvement_id))
            )
            await session.delete(row)
            await session.flush()
            await delete_orphan_blobs(session, pdfs)

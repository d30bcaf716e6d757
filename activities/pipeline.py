"""Activities of the CV improvement workflow. Each reads and writes PostgreSQL by improvement id, so CV text
never travels through Temporal; each announces its stage to the row and to the progress stream."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blobs import get_blob, put_blob
from activities.database import Sessions
from activities.documents import DocumentError, extract_document
from activities.documents.language import with_detected_language
from activities.errors import QuotaExhausted
from activities.heartbeat import heartbeating
from activities.llm import RewriteEngine
from activities.progress import ProgressBus, ProgressEvent
from activities.quota import reserve_unit, settle_unit, today_utc
from activities.rendering import PdfRenderer, UnknownTheme
from activities.scoring import score_keywords
from activities.tailoring import ats_score, tailor
from activities.verification import verify_rewrite
from models.improvement import (
    ENGINE_WARNING_CODES,
    STAGE_PERCENT,
    Change,
    RewriteResult,
    Scores,
    Stage,
    VerificationWarning,
)
from models.resume import Resume
from models.tables import Cv, Improvement, Rendition
from models.target import ImprovementTarget, PaperSize
from models.workflow_io import (
    ExtractionSummary,
    FailureInput,
    ImprovementRef,
    QuotaReservation,
    RenderInput,
    RenderSummary,
    ReserveQuotaInput,
    RewriteSummary,
    ScoreSummary,
    VerificationSummary,
)
from ops import metrics

# Lines carry the workflow, run, activity and request ids bound by ops.context's interceptor.
log = logging.getLogger("cvimprover.pipeline")


def _gone(improvement_id: uuid.UUID) -> ApplicationError:
    return ApplicationError(
        f"Improvement {improvement_id} no longer exists (its CV was deleted).",
        type="ImprovementGone",
        non_retryable=True,
    )


class CvPipelineActivities:
    def __init__(
        self,
        sessions: Sessions,
        progress: ProgressBus,
        engine: RewriteEngine,
        renderer: PdfRenderer,
        *,
        max_pages: int,
    ) -> None:
        self._sessions = sessions
        self._progress = progress
        self._engine = engine
        self._renderer = renderer
        self._max_pages = max_pages

    async def _enter(self, improvement_id: uuid.UUID, stage: Stage) -> Improvement:
        """Record the stage and return the row, in one round trip."""
        percent = STAGE_PERCENT[stage]
        async with self._sessions.begin() as session:
            row: Improvement | None = await session.scalar(
                update(Improvement)
                .where(Improvement.id == improvement_id)
                .values(stage=stage.value, percent=percent)
                .returning(Improvement)
            )
        if row is None:
            raise _gone(improvement_id)
        await self._progress.publish(improvement_id, ProgressEvent(stage.value, percent))
        log.info("improvement %s %s", improvement_id, stage.value)
        return row

    async def _load(self, improvement_id: uuid.UUID) -> Improvement:
        async with self._sessions() as session:
            row = await session.get(Improvement, improvement_id)
        if row is None:
            raise _gone(improvement_id)
        return row

    async def _save(self, improvement_id: uuid.UUID, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(Improvement).where(Improvement.id == improvement_id).values(**values))

    @activity.defn
    async def reserve_quota(self, data: ReserveQuotaInput) -> QuotaReservation:
        await self._enter(data.improvement_id, Stage.RESERVING)
        try:
            async with self._sessions.begin() as session:
                status = await reserve_unit(session, data.user_id, data.improvement_id, today_utc())
        except QuotaExhausted as exc:
            raise ApplicationError(exc.message, type="QuotaExhausted", non_retryable=True) from None
        return QuotaReservation(status.plan_code, status.used, status.limit, status.period_start)

    @activity.defn
    async def extract_cv(self, data: ImprovementRef) -> ExtractionSummary:
        """Snapshot the CV's structured content into the improvement; parse the file only if never parsed."""
        row = await self._enter(data.improvement_id, Stage.EXTRACTING)
        async with self._sessions() as session:
            cv = await session.get(Cv, row.cv_id)
            if cv is None:
                raise _gone(data.improvement_id)
            resume, text, kind, pages = cv.resume, cv.text, cv.kind, cv.pages
            if not resume:
                blob = await get_blob(session, cv.file_sha256)
                if blob is None:
                    raise _gone(data.improvement_id)
                try:
                    doc = await asyncio.to_thread(extract_document, blob.data, max_pages=self._max_pages)
                except DocumentError as exc:
                    raise ApplicationError(exc.message, type=f"Document:{exc.code}", non_retryable=True) from None
                resume, text = doc.resume.model_dump(mode="json"), doc.text
        # CVs stored before languages were detected get theirs here; the engines read it from `meta`.
        await self._save(data.improvement_id, original_resume=with_detected_language(resume, text))
        return ExtractionSummary(kind=kind, pages=pages, characters=len(text))

    @activity.defn
    async def rewrite_cv(self, data: ImprovementRef) -> RewriteSummary:
        row = await self._enter(data.improvement_id, Stage.REWRITING)
        original = Resume.model_validate(row.original_resume or {})
        target = ImprovementTarget.model_validate(row.target)
        async with heartbeating():
            result = await self._engine.rewrite(original, target)
        await self._save(
            data.improvement_id,
            engine=result.engine,
            result_resume=result.resume.model_dump(mode="json"),
            changes=[c.model_dump(mode="json") for c in result.changes],
            warnings=[w.model_dump(mode="json") for w in result.warnings],
        )
        return RewriteSummary(engine=result.engine, changes=len(result.changes))

    @activity.defn
    async def verify_rewrite(self, data: ImprovementRef) -> VerificationSummary:
        row = await self._enter(data.improvement_id, Stage.VERIFYING)
        original = Resume.model_validate(row.original_resume or {})
        draft = RewriteResult(
            resume=Resume.model_validate(row.result_resume or {}),
            changes=[Change.model_validate(c) for c in row.changes or []],
            engine=row.engine or "unknown",
        )
        checked = verify_rewrite(original, draft)
        # The engine's own caveats (stored by rewrite_cv) stay first; a retry does not repeat the fact check's.
        engine_warnings = [w for w in row.warnings or [] if w.get("code") in ENGINE_WARNING_CODES]
        await self._save(
            data.improvement_id,
            result_resume=checked.resume.model_dump(mode="json"),
            changes=[c.model_dump(mode="json") for c in checked.changes],
            warnings=[*engine_warnings, *(w.model_dump(mode="json") for w in checked.warnings)],
        )
        return VerificationSummary(kept=len(checked.changes), reverted=len(checked.warnings))

    @activity.defn
    async def score_cv(self, data: ImprovementRef) -> ScoreSummary:
        row = await self._enter(data.improvement_id, Stage.SCORING)
        target = ImprovementTarget.model_validate(row.target)
        original = Resume.model_validate(row.original_resume or {})
        improved = Resume.model_validate(row.result_resume or {})
        jd = target.job_description
        before = score_keywords(original, jd, position=target.position)
        after = score_keywords(improved, jd, position=target.position)
        scores = Scores(
            before=before,
            after=after,
            ats_before=ats_score(original, jd),
            ats_after=ats_score(improved, jd),
            tailoring=tailor(original, [Change.model_validate(c) for c in row.changes or []], jd),
        )
        await self._save(data.improvement_id, scores=scores.model_dump(mode="json"))
        return ScoreSummary(before=before.score, after=after.score)

    @activity.defn
    async def render_pdf(self, data: RenderInput) -> RenderSummary:
        if data.report_progress:
            row = await self._enter(data.improvement_id, Stage.RENDERING)
        else:
            row = await self._load(data.improvement_id)
        resume = Resume.model_validate(row.result_resume or row.original_resume or {})
        max_pages = ImprovementTarget.model_validate(row.target).max_pages
        try:
            async with heartbeating():
                rendered = await self._renderer.render(
                    resume, theme=data.theme, paper=PaperSize(data.paper), language=data.language, max_pages=max_pages
                )
        except UnknownTheme as exc:
            raise ApplicationError(str(exc), type="UnknownTheme", non_retryable=True) from None
        async with self._sessions.begin() as session:
            sha = await put_blob(session, rendered.pdf, "application/pdf")
            values = {
                "improvement_id": data.improvement_id,
                "theme": data.theme,
                "paper": data.paper,
                "pdf_sha256": sha,
                "pages": rendered.pages,
            }
            # One PDF per variant, however often the activity runs.
            await session.execute(
                insert(Rendition)
                .values(**values)
                .on_conflict_do_update(
                    constraint="uq_renditions_variant", set_={"pdf_sha256": sha, "pages": rendered.pages}
                )
            )
            if data.report_progress:
                # How the main PDF fits the page limit is told with the other warnings (replacing an earlier try's).
                fit = [
                    VerificationWarning(change_id=None, path="", code="page_fit", message=m).model_dump(mode="json")
                    for m in rendered.warnings
                ]
                kept = [w for w in row.warnings or [] if w.get("code") != "page_fit"]
                await session.execute(
                    update(Improvement).where(Improvement.id == data.improvement_id).values(warnings=kept + fit)
                )
        metrics.record_render(
            theme=data.theme, paper=data.paper, seconds=rendered.render_ms / 1000, rerender=not data.report_progress
        )
        return RenderSummary(pdf_sha256=sha, pages=rendered.pages, render_ms=rendered.render_ms)

    @activity.defn
    async def complete_improvement(self, data: ImprovementRef) -> None:
        await self._enter(data.improvement_id, Stage.STORING)
        async with self._sessions.begin() as session:
            await settle_unit(session, data.improvement_id, "consumed")
            await session.execute(
                update(Improvement)
                .where(Improvement.id == data.improvement_id)
                .values(stage=Stage.COMPLETED.value, percent=100, finished_at=datetime.now(UTC))
            )
        await self._progress.publish(data.improvement_id, ProgressEvent(Stage.COMPLETED.value, 100))

    @activity.defn
    async def fail_improvement(self, data: FailureInput) -> None:
        """Record a user-facing error and refund the quota unit, if one was reserved (compensation)."""
        stage = Stage.CANCELED if data.canceled else Stage.FAILED
        async with self._sessions.begin() as session:
            await settle_unit(session, data.improvement_id, "refunded")
            await session.execute(
                update(Improvement)
                .where(Improvement.id == data.improvement_id)
                .values(
                    stage=stage.value,
                    percent=100,
                    error_code=data.code,
                    error_message=data.message,
                    finished_at=datetime.now(UTC),
                )
            )
        await self._progress.publish(data.improvement_id, ProgressEvent(stage.value, 100, data.code, data.message))
        log.info("improvement %s %s while %s: %s", data.improvement_id, stage.value, data.stage, data.code)

"""Improvements: start, follow, download, re-render, cancel."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from activities.documents.language import stored_language
from activities.errors import NotFound
from activities.improvements import ImprovementRecord
from activities.progress import ProgressEvent
from activities.rendering import UnknownTheme, validate_theme
from activities.rendering.docx_export import DOCX_MEDIA_TYPE, resume_to_docx
from api.deps import CurrentUser, ServicesDep
from api.problems import Problem
from api.schemas import (
    CancelAccepted,
    ErrorOut,
    ExportFormat,
    ImprovementAccepted,
    ImprovementOut,
    ImprovementSummary,
    PdfOut,
    RenderAccepted,
    RenderRequest,
)
from api.services import Services
from api.workflows import cancel_workflows, render_status, start_improvement, start_render
from models.improvement import Change, Scores, Stage, VerificationWarning
from models.resume import Resume
from models.target import SUPPORTED_LANGUAGES, ImprovementTarget, PaperSize, default_output_language

router = APIRouter(tags=["improvements"])

SSE_POLL_SECONDS = 2.0


def _check_target(target: ImprovementTarget) -> None:
    try:
        validate_theme(target.theme)
    except UnknownTheme as exc:
        raise Problem(422, "unknown_theme", "Unknown theme", str(exc)) from None
    if target.output_language not in SUPPORTED_LANGUAGES:
        raise Problem(
            422,
            "unsupported_language",
            "Unsupported output language",
            f"Output language '{target.output_language}' is not supported; choose one of "
            f"{', '.join(sorted(SUPPORTED_LANGUAGES))}.",
        )


def _pdf_url(improvement_id: uuid.UUID, theme: str, paper: str) -> str:
    return f"/improvements/{improvement_id}/pdf?theme={theme}&paper={paper}"


def _summary(r: ImprovementRecord) -> ImprovementSummary:
    return ImprovementSummary(
        id=r.id,
        cv_id=r.cv_id,
        workflow_id=r.workflow_id,
        stage=r.stage,
        percent=r.percent,
        position=str(r.target.get("position", "")),
        created_at=r.created_at,
        finished_at=r.finished_at,
        status_url=f"/improvements/{r.id}",
    )


def _out(r: ImprovementRecord) -> ImprovementOut:
    done = r.stage == Stage.COMPLETED.value
    return ImprovementOut(
        **_summary(r).model_dump(),
        target=r.target,
        engine=r.engine,
        error=ErrorOut(code=r.error_code, message=r.error_message or "") if r.error_code else None,
        result=r.result_resume if done else None,
        input_language=stored_language(r.result_resume) if done else None,
        changes=[Change.model_validate(c) for c in r.changes] if done else [],
        warnings=[VerificationWarning.model_validate(w) for w in r.warnings] if done else [],
        scores=Scores.model_validate(r.scores) if r.scores and done else None,
        pdfs=[
            PdfOut(theme=p.theme, paper=p.paper, pages=p.pages, url=_pdf_url(r.id, p.theme, p.paper))
            for p in r.renditions
        ],
    )


@router.post("/cvs/{cv_id}/improvements", status_code=status.HTTP_202_ACCEPTED, response_model=ImprovementAccepted)
async def create_improvement(
    cv_id: uuid.UUID, target: ImprovementTarget, user: CurrentUser, services: ServicesDep
) -> JSONResponse:
    _check_target(target)
    if "output_language" not in target.model_fields_set:
        # Left out, the result stays in the CV's own language when we can write it.
        cv = await services.cvs.get(user.id, cv_id)
        target = target.model_copy(update={"output_language": default_output_language(stored_language(cv.resume))})
    record = await services.improvements.create(user.id, cv_id, target)
    # The row is committed before the workflow starts, so its first activity always finds it.
    try:
        run_id = await start_improvement(services, user, record, target)
    except Problem:
        await services.improvements.discard_unstarted(record.id)
        raise
    body = ImprovementAccepted(
        improvement_id=record.id,
        workflow_id=record.workflow_id,
        run_id=run_id,
        status_url=f"/improvements/{record.id}",
        events_url=f"/improvements/{record.id}/events",
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": f"/improvements/{record.id}"}
    )


@router.get("/improvements", response_model=list[ImprovementSummary])
async def list_improvements(
    user: CurrentUser,
    services: ServicesDep,
    cv_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,  # past bigint PostgreSQL fails: a 500, not a page
) -> list[ImprovementSummary]:
    rows = await services.improvements.list_for_user(user.id, cv_id=cv_id, limit=limit, offset=offset)
    return [_summary(r) for r in rows]


@router.get("/improvements/{improvement_id}", response_model=ImprovementOut)
async def get_improvement(improvement_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> ImprovementOut:
    return _out(await services.improvements.get(user.id, improvement_id))


def _sse(event: str, data: dict[str, object]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def _progress_stream(services: Services, user_id: uuid.UUID, improvement_id: uuid.UUID) -> AsyncIterator[str]:
    """Current state first, then each change, until the run ends. Redis pushes the changes; the row is re-read
    when nothing arrived for a while (or Redis is away), so a lost message cannot stall the stream."""
    last: tuple[str, int] | None = None
    async with services.progress.subscription(improvement_id, poll_seconds=SSE_POLL_SECONDS) as events:
        event: ProgressEvent | None = None
        while True:
            if event is None:
                try:
                    record = await services.improvements.get(user_id, improvement_id)
                except NotFound:
                    yield _sse("error", {"code": "not_found", "message": "The improvement was deleted."})
                    return
                event = ProgressEvent(record.stage, record.percent, record.error_code, record.error_message)
            if (event.stage, event.percent) != last:
                last = (event.stage, event.percent)
                payload: dict[str, object] = {"stage": event.stage, "percent": event.percent}
                if event.error_code:
                    payload |= {"error_code": event.error_code, "error_message": event.error_message}
                yield _sse("progress", payload)
            if Stage(event.stage).terminal:
                yield _sse("end", {"stage": event.stage})
                return
            event = await anext(events)


@router.get("/improvements/{improvement_id}/events", response_class=StreamingResponse)
async def improvement_events(improvement_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> StreamingResponse:
    """Server-sent events: `progress` on each stage, then `end` (or `error`)."""
    await services.improvements.get(user.id, improvement_id)
    return StreamingResponse(
        _progress_stream(services, user.id, improvement_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/improvements/{improvement_id}/pdf", response_class=Response)
async def get_improvement_pdf(
    improvement_id: uuid.UUID,
    user: CurrentUser,
    services: ServicesDep,
    theme: str | None = None,
    paper: PaperSize | None = None,
) -> Response:
    try:
        pdf = await services.improvements.pdf(user.id, improvement_id, theme, paper.value if paper else None)
    except NotFound:
        if theme and await render_status(services, improvement_id, theme, (paper or PaperSize.A4).value) == "running":
            raise Problem(
                409, "rendering", "Still rendering", "This PDF is being rendered; try again shortly.", retry_after=1
            ) from None
        raise
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="cv-{improvement_id}.pdf"'},
    )


@router.get("/improvements/{improvement_id}/resume.json")
async def get_improvement_resume(improvement_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    record = await services.improvements.get(user.id, improvement_id)
    if record.stage != Stage.COMPLETED.value or record.result_resume is None:
        raise Problem(409, "not_ready", "Not ready", f"The improvement is {record.stage}; no result yet.")
    return JSONResponse(
        record.result_resume,
        headers={"Content-Disposition": f'attachment; filename="resume-{improvement_id}.json"'},
    )


@router.get(
    "/improvements/{improvement_id}/export",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}, DOCX_MEDIA_TYPE: {}, "application/json": {}},
            "description": "The improved CV as a file to save.",
        }
    },
)
async def export_improvement(
    improvement_id: uuid.UUID,
    user: CurrentUser,
    services: ServicesDep,
    export_format: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.PDF,
    theme: str | None = None,
    paper: PaperSize | None = None,
) -> Response:
    """Download the improved CV: `pdf` (a rendered theme, as `/pdf`; `theme` and `paper` pick one), `docx` (Word,
    headings and dates in the output language, on `paper` or the improvement's paper) or `json` (JSON Resume)."""
    if export_format is ExportFormat.PDF:
        response = await get_improvement_pdf(improvement_id, user, services, theme, paper)
        response.headers["Content-Disposition"] = f'attachment; filename="cv-{improvement_id}.pdf"'
        return response
    if export_format is ExportFormat.JSON:
        return await get_improvement_resume(improvement_id, user, services)
    record = await services.improvements.get(user.id, improvement_id)
    if record.stage != Stage.COMPLETED.value or record.result_resume is None:
        raise Problem(409, "not_ready", "Not ready", f"The improvement is {record.stage}; no result yet.")
    resume = Resume.model_validate(record.result_resume)
    language = str(record.target.get("output_language", "en"))
    sheet = paper or PaperSize(str(record.target.get("paper", "A4")))
    # A few tens of milliseconds of pure Python: off the event loop all the same.
    docx = await asyncio.to_thread(resume_to_docx, resume, language=language, paper=sheet)
    return Response(
        docx,
        media_type=DOCX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="cv-{improvement_id}.docx"'},
    )


@router.post("/improvements/{improvement_id}/render", response_model=RenderAccepted)
async def render_improvement(
    improvement_id: uuid.UUID, body: RenderRequest, user: CurrentUser, services: ServicesDep
) -> JSONResponse:
    """Render a finished improvement in another theme or paper size: no LLM call, no quota."""
    record = await services.improvements.get(user.id, improvement_id)
    try:
        validate_theme(body.theme)
    except UnknownTheme as exc:
        raise Problem(422, "unknown_theme", "Unknown theme", str(exc)) from None
    if record.stage != Stage.COMPLETED.value:
        raise Problem(
            409,
            "not_ready",
            "Not ready",
            f"Only a completed improvement can be re-rendered; this one is {record.stage}.",
        )
    paper = (body.paper or PaperSize(str(record.target.get("paper", "A4")))).value
    url = _pdf_url(improvement_id, body.theme, paper)
    if await services.improvements.has_rendition(improvement_id, body.theme, paper):
        return JSONResponse(RenderAccepted(workflow_id=None, status="ready", pdf_url=url).model_dump(), status_code=200)
    language = str(record.target.get("output_language", "en"))
    workflow_id = await start_render(services, user, improvement_id, body.theme, paper, language)
    return JSONResponse(
        RenderAccepted(workflow_id=workflow_id, status="rendering", pdf_url=url).model_dump(), status_code=202
    )


@router.delete(
    "/improvements/{improvement_id}",
    responses={202: {"model": CancelAccepted}, 204: {"description": "Deleted"}},
    response_class=Response,
)
async def delete_improvement(improvement_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> Response:
    """A running improvement is cancelled (its quota unit refunded); a finished one is deleted with its PDFs."""
    record = await services.improvements.get(user.id, improvement_id)
    if not record.finished:
        await cancel_workflows(services, [record.workflow_id])
        return JSONResponse(CancelAccepted(workflow_id=record.workflow_id).model_dump(), status_code=202)
    await services.improvements.delete(user.id, improvement_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

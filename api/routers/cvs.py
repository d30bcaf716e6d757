"""Uploaded CVs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status

from activities.cvs import CvRecord
from activities.documents.language import stored_confidence, stored_language
from api.deps import CurrentUser, ServicesDep
from api.problems import Problem
from api.schemas import CvDetail, CvOut
from api.workflows import cancel_workflows

router = APIRouter(tags=["cvs"])


def _out(cv: CvRecord) -> CvOut:
    return CvOut(
        id=cv.id,
        filename=cv.filename,
        kind=cv.kind,
        content_type=cv.content_type,
        size_bytes=cv.size_bytes,
        pages=cv.pages,
        sha256=cv.sha256,
        created_at=cv.created_at,
        file_url=f"/cvs/{cv.id}/file",
    )


def _detail(cv: CvRecord) -> CvDetail:
    return CvDetail(
        **_out(cv).model_dump(),
        resume=cv.resume,
        language=stored_language(cv.resume),
        language_confidence=stored_confidence(cv.resume),
    )


def _too_large(limit: int) -> Problem:
    return Problem(
        413, "file_too_large", "File too large", f"The CV file is larger than the limit of {limit // (1024 * 1024)} MB."
    )


@router.post("/cvs", status_code=status.HTTP_201_CREATED, response_model=CvDetail)
async def upload_cv(
    request: Request,
    user: CurrentUser,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="PDF, DOCX, plain text, Markdown or JSON Resume")],
) -> CvDetail:
    limit = services.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    cv = await services.cvs.create(user.id, file.filename or "cv", data)
    return _detail(cv)


@router.get("/cvs", response_model=list[CvOut])
async def list_cvs(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,  # past bigint PostgreSQL fails: a 500, not a page
) -> list[CvOut]:
    return [_out(cv) for cv in await services.cvs.list_for_user(user.id, limit=limit, offset=offset)]


@router.get("/cvs/{cv_id}", response_model=CvDetail)
async def get_cv(cv_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> CvDetail:
    cv = await services.cvs.get(user.id, cv_id)
    return _detail(cv)


@router.get("/cvs/{cv_id}/file", response_class=Response)
async def get_cv_file(cv_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> Response:
    f = await services.cvs.get_file(user.id, cv_id)
    safe_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in f.filename)
    return Response(
        f.data, media_type=f.content_type, headers={"Content-Disposition": f'attachment; filename="{safe_name}"'}
    )


@router.delete("/cvs/{cv_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_cv(cv_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> Response:
    await services.cvs.get(user.id, cv_id)
    running = [
        i.workflow_id
        for i in await services.improvements.list_for_user(user.id, cv_id=cv_id, limit=100)
        if not i.finished
    ]
    await cancel_workflows(services, running)
    await services.cvs.delete(user.id, cv_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

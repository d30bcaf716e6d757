"""Versions of a CV, and applying the changes a user chose from an improvement (no LLM call, no quota)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from activities.versions import ChangeRefused, VersionRecord
from api.deps import CurrentUser, ServicesDep
from api.problems import Problem
from api.workflows import render_status, start_render
from models.versions import Difference, VersionSource

router = APIRouter(tags=["versions"])

MAX_ACCEPTED = 1000

VersionNumber = Annotated[int, Path(ge=1, description="1 is the uploaded original.")]


class VersionOut(BaseModel):
    cv_id: uuid.UUID
    number: int
    source: VersionSource
    created_at: datetime
    improvement_id: uuid.UUID | None = Field(description="The improvement whose changes made it (applied only).")
    accepted_change_ids: list[str] | None
    accepted_count: int | None
    note: str
    url: str = Field(description="GET: the version as JSON Resume.")


class ApplyRequest(BaseModel):
    accepted: list[str] = Field(
        max_length=MAX_ACCEPTED,
        description="Ids of the improvement's changes to keep (`changes[].id`); every other change is left out.",
    )


class ApplyAccepted(BaseModel):
    improvement_id: uuid.UUID
    cv_id: uuid.UUID
    version: int = Field(description="The CV version these changes made (the same one when applied before).")
    created: bool = Field(description="False when the same changes were applied before.")
    accepted_change_ids: list[str]
    status: Literal["rendering", "ready"]
    pdf_url: str
    resume_url: str
    render_workflow_ids: list[str]


def _version_out(v: VersionRecord) -> VersionOut:
    ids = v.accepted_change_ids
    return VersionOut(
        cv_id=v.cv_id,
        number=v.number,
        source=VersionSource(v.source),
        created_at=v.created_at,
        improvement_id=v.improvement_id,
        accepted_change_ids=ids,
        accepted_count=len(ids) if ids is not None else None,
        note=v.note,
        url=f"/cvs/{v.cv_id}/versions/{v.number}",
    )


@router.get("/cvs/{cv_id}/versions", response_model=list[VersionOut])
async def list_versions(cv_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> list[VersionOut]:
    """Every version of the CV, oldest first: 1 is the upload, then each set of changes applied or restore."""
    return [_version_out(v) for v in await services.versions.list_for_cv(user.id, cv_id)]


@router.get("/cvs/{cv_id}/versions/diff", response_model=list[Difference])
async def diff_versions(
    cv_id: uuid.UUID,
    user: CurrentUser,
    services: ServicesDep,
    from_number: Annotated[int | None, Query(alias="from", ge=1, description="Default: 1, the original.")] = None,
    to_number: Annotated[int | None, Query(alias="to", ge=1, description="Default: the latest version.")] = None,
) -> list[Difference]:
    """What differs between two versions, path by path (`work/0/highlights/1`), in reading order."""
    _, _, differences = await services.versions.diff(user.id, cv_id, from_number, to_number)
    return differences


@router.get("/cvs/{cv_id}/versions/{number}")
async def get_version(
    cv_id: uuid.UUID, number: VersionNumber, user: CurrentUser, services: ServicesDep
) -> JSONResponse:
    """The version as JSON Resume."""
    version = await services.versions.get(user.id, cv_id, number)
    return JSONResponse(version.resume)


@router.post("/cvs/{cv_id}/versions/{number}/restore", status_code=201, response_model=VersionOut)
async def restore_version(
    cv_id: uuid.UUID, number: VersionNumber, user: CurrentUser, services: ServicesDep
) -> JSONResponse:
    """A new version copying this one; the versions in between stay."""
    restored = _version_out(await services.versions.restore(user.id, cv_id, number))
    return JSONResponse(restored.model_dump(mode="json"), status_code=201, headers={"Location": restored.url})


@router.post(
    "/improvements/{improvement_id}/apply",
    status_code=202,
    response_model=ApplyAccepted,
    responses={200: {"model": ApplyAccepted, "description": "Applied before, and its PDF is ready."}},
)
async def apply_improvement_changes(
    improvement_id: uuid.UUID, body: ApplyRequest, user: CurrentUser, services: ServicesDep
) -> JSONResponse:
    """Build a CV version from the improvement's original and exactly the chosen changes, make it the
    improvement's result and render its PDFs again: no LLM call, no quota."""
    try:
        applied = await services.versions.apply(user.id, improvement_id, body.accepted)
    except ChangeRefused as exc:
        raise Problem(422, exc.code, exc.title, exc.message, change_ids=exc.change_ids) from None
    theme, paper = applied.theme, applied.paper
    to_render = applied.rerender
    if not to_render and not await services.improvements.has_rendition(improvement_id, theme, paper):
        # The result is the same, but its PDF is missing: rendering still, or lost on the way.
        if await render_status(services, improvement_id, theme, paper) != "running":
            to_render = [(theme, paper)]
        rendering = True
    else:
        rendering = bool(to_render)
    # Started after the version is committed: a render reads the new result.
    workflow_ids = [
        await start_render(services, user, improvement_id, t, p, applied.language, replace_running=True)
        for t, p in to_render
    ]
    body_out = ApplyAccepted(
        improvement_id=improvement_id,
        cv_id=applied.version.cv_id,
        version=applied.version.number,
        created=applied.created,
        accepted_change_ids=applied.version.accepted_change_ids or [],
        status="rendering" if rendering else "ready",
        pdf_url=f"/improvements/{improvement_id}/pdf?theme={theme}&paper={paper}",
        resume_url=f"/improvements/{improvement_id}/resume.json",
        render_workflow_ids=workflow_ids,
    )
    return JSONResponse(body_out.model_dump(mode="json"), status_code=202 if rendering else 200)

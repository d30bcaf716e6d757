"""Liveness, readiness and the theme catalogue."""

from __future__ import annotations

import asyncio
import hashlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from activities.rendering import UnknownTheme, list_themes, theme_preview_png
from api.deps import ServicesDep
from api.problems import Problem
from api.schemas import ThemeOut

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness only: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    """Readiness: PostgreSQL, Redis and Temporal answer within their timeouts."""

    async def temporal() -> None:
        client = await asyncio.wait_for(services.connect_temporal(), 3)
        await asyncio.wait_for(client.service_client.check_health(), 3)

    checks = {"postgres": services.health.postgres(), "redis": services.health.redis(), "temporal": temporal()}
    results = await asyncio.gather(*checks.values(), return_exceptions=True)
    report = {
        name: ("ok" if r is None else f"failed: {type(r).__name__}") for name, r in zip(checks, results, strict=True)
    }
    ready = all(v == "ok" for v in report.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": report}, status_code=200 if ready else 503
    )


@router.get("/themes", response_model=list[ThemeOut])
async def themes() -> list[ThemeOut]:
    return [
        ThemeOut(
            name=t.name,
            title=t.title,
            description=t.description,
            two_column=t.two_column,
            ats_friendly=t.ats_friendly,
            preview_url=f"/themes/{t.name}/preview.png",
        )
        for t in list_themes()
    ]


@router.get(
    "/themes/{name}/preview.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "Page one of a sample CV in the theme."}},
)
async def theme_preview(name: str, request: Request) -> Response:
    """Made on the first request (a second or two), then served from memory."""
    try:
        png = await theme_preview_png(name)
    except UnknownTheme as exc:
        raise Problem(404, "unknown_theme", "Unknown theme", str(exc)) from None
    etag = '"' + hashlib.sha256(png).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(png, media_type="image/png", headers=headers)

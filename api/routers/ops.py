"""Liveness, readiness and the theme catalogue."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from activities.rendering import list_themes
from api.deps import ServicesDep
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
    return [ThemeOut(name=t.name, title=t.title, description=t.description) for t in list_themes()]

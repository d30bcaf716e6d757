"""The FastAPI application: `uvicorn api.app:create_app --factory`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute

from api.problems import install_problem_handlers, problem_response
from api.routers import auth, cvs, improvements, ops
from api.services import Services
from models.settings import Settings, get_settings

# Multipart framing around an uploaded file: a body larger than the file limit plus this is refused unread.
MULTIPART_OVERHEAD = 64 * 1024


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.build(settings)
        app.state.services = services
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(
        title="CV Improver",
        version="0.1.0",
        description="Upload a CV, name the job you want, get back an improved CV and a polished PDF.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    install_problem_handlers(app)

    @app.middleware("http")
    async def refuse_oversized_bodies(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        limit = settings.max_upload_bytes + MULTIPART_OVERHEAD
        if length is not None and length.isdigit() and int(length) > limit:
            return problem_response(
                request,
                413,
                "file_too_large",
                "File too large",
                f"The request body is larger than the limit of {settings.max_upload_bytes // (1024 * 1024)} MB.",
            )
        return await call_next(request)

    for router in (auth.router, cvs.router, improvements.router, ops.router):
        app.include_router(router)
    logging.getLogger("cvimprover").setLevel(logging.INFO)
    return app

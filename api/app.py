"""The FastAPI application: `uvicorn api.app:create_app --factory`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import install_problem_handlers, problem_response
from api.request_context import RequestContextMiddleware
from api.routers import account, auth, billing, cvs, improvements, ops, versions, webhooks
from api.routers import google as google_signin
from api.routers import metrics as metrics_endpoint
from api.services import Services
from models.settings import Environment, Settings, get_settings
from ops.codec_server import codec_app
from ops.logging import configure_logging
from ops.metrics import ApiMetrics, HttpMetricsMiddleware
from ops.tracing import configure_tracing, instrument_app

# Multipart framing around an uploaded file: a body larger than the file limit plus this is refused unread.
MULTIPART_OVERHEAD = 64 * 1024


class BodySizeLimit:
    """Refuses a request whose declared body is over the upload limit before reading it (pure ASGI: the
    decorator-style middleware costs an extra task per request)."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > self.limit + MULTIPART_OVERHEAD:
                detail = f"The request body is larger than the limit of {self.limit // (1024 * 1024)} MB."
                response = problem_response(Request(scope), 413, "file_too_large", "File too large", detail)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _operation_id(route: APIRoute) -> str:
    return route.name


# Every error answer is an RFC 9457 problem (api/problems.py): documented once, as each operation's default
# response, so clients and schema checkers (tests/security/test_schemathesis.py) know 401, 404, 409, 422, 429...
PROBLEM_RESPONSE = {
    "description": "An RFC 9457 problem: `code` is stable for machines, `detail` is for people.",
    "content": {
        "application/problem+json": {
            "schema": {
                "type": "object",
                "required": ["type", "title", "status", "detail", "code"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                    "code": {"type": "string"},
                },
                "additionalProperties": True,
            }
        }
    },
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if settings.env is not Environment.TEST:
        # Tests build apps in-process and capture records with handlers of their own.
        configure_logging(settings)
    configure_tracing(settings, "cvimprover-api")

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

    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes)
    if settings.google_configured:
        # Only Google sign-in uses a session: a signed cookie holding state, nonce and PKCE verifier for 10 min.
        app.state.google = google_signin.GoogleSignIn(settings)
        app.add_middleware(
            SessionMiddleware,
            secret_key=settings.session_secret_value,
            session_cookie=google_signin.SESSION_COOKIE,
            max_age=google_signin.SESSION_MAX_AGE_SECONDS,
            same_site="lax",
            https_only=settings.public_api_url.startswith("https://"),
        )
    # Added last, so outermost: it also counts what the middleware above answers (413) and requests that raise.
    app.state.metrics = ApiMetrics()
    app.add_middleware(HttpMetricsMiddleware, metrics=app.state.metrics)
    # Outside the metrics too: every answer, even a 413, echoes X-Request-ID and is logged with it.
    app.add_middleware(RequestContextMiddleware)
    app.include_router(google_signin.router, responses={"default": PROBLEM_RESPONSE})
    app.include_router(metrics_endpoint.router, responses={"default": PROBLEM_RESPONSE})
    for router in (
        auth.router,
        account.router,
        cvs.router,
        improvements.router,
        versions.router,
        billing.router,
        webhooks.router,
        ops.router,
    ):
        app.include_router(router, responses={"default": PROBLEM_RESPONSE})
    if settings.codec_server_configured:
        # Operators read clear payloads in the Temporal UI and CLI through it; without keys and token it is 404.
        app.mount("/codec", codec_app(settings))
    logging.getLogger("cvimprover").setLevel(logging.INFO)
    # Outermost of all once the app is built: the server span covers every middleware.
    instrument_app(app)
    return app

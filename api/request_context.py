"""X-Request-ID: taken from the caller when it is a sane token, else made here; echoed in the response, bound to
every log line of the request (and, through Temporal headers, of the workflows and activities it starts), and
logged once per request with its status and duration."""

from __future__ import annotations

import logging
import re
import time
import uuid

import opentelemetry.trace
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops.context import log_context

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's or client's id is kept when it is a short token; anything else (long, spaces, control characters,
# non-ASCII) could forge or break log lines and is replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")

log = logging.getLogger("cvimprover.api.requests")


def request_id_from(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return str(uuid.uuid4())


class RequestContextMiddleware:
    """Pure ASGI, so the bound context is the request task's own (the user id bound by a dependency shows up in
    the closing line)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        span = opentelemetry.trace.get_current_span()
        if span.is_recording():
            span.set_attribute("http.request_id", request_id)
        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                # The path only: query strings can carry one-time codes (the Google callback's).
                elapsed_ms = (time.perf_counter() - started) * 1000
                log.info("%s %s %d %.1f ms", scope["method"], scope["path"], status, elapsed_ms)

"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from activities.database import STORAGE_OUTAGE_ERRORS, is_storage_outage
from activities.documents import DocumentError, UnsupportedDocument
from activities.errors import DomainError, QuotaExhausted
from models.problems import PROBLEM_JSON, problem_body

log = logging.getLogger("cvimprover.api")


class Problem(Exception):
    """An error answer: status, a stable code, a human title and a specific detail."""

    def __init__(self, status: int, code: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail, self.extra = status, code, title, detail, extra


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, code, title, detail, request.url.path, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return problem_response(request, exc.status, exc.code, exc.title, exc.detail, headers, **exc.extra)

    @app.exception_handler(QuotaExhausted)
    async def _quota(request: Request, exc: QuotaExhausted) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.code,
            exc.title,
            exc.message,
            plan=exc.plan,
            limit=exc.limit,
            resets_on=exc.resets_on.isoformat(),
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.title, exc.message)

    @app.exception_handler(DocumentError)
    async def _document(request: Request, exc: DocumentError) -> JSONResponse:
        if isinstance(exc, UnsupportedDocument):
            return problem_response(request, 415, exc.code, "Unsupported file type", exc.message)
        return problem_response(request, 422, exc.code, "The CV file cannot be used", exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": [str(p) for p in e.get("loc", ())], "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"location": [], "message": "invalid request"}
        where = ".".join(x for x in first["location"] if x not in ("body", "query", "path"))
        detail = f"{where}: {first['message']}" if where else str(first["message"])
        return problem_response(request, 422, "validation_error", "The request is not valid", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(exc.status_code, "http_error")
        return problem_response(request, exc.status_code, code, str(exc.detail), str(exc.detail))

    async def _storage(request: Request, exc: Exception) -> JSONResponse:
        if not is_storage_outage(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(
            request,
            503,
            "database_unavailable",
            "Service temporarily unavailable",
            "The database is not reachable right now; nothing was lost, please try again shortly.",
            {"Retry-After": "5"},
        )

    # One handler per type: Starlette gives the catch-all Exception handler's errors to the server too.
    for error_type in STORAGE_OUTAGE_ERRORS:
        app.add_exception_handler(error_type, _storage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal_error", "Internal error", "Something went wrong on our side.")

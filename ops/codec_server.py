"""The codec server: Temporal's remote codec protocol (`POST .../encode`, `POST .../decode`, a protobuf-JSON
`{"payloads": [...]}` in and out) so that `temporal workflow show --codec-endpoint` and the Temporal UI show clear
payloads to operators while the Temporal server keeps ciphertext.

Every call needs the operator token: `Authorization: Bearer <CODEC_SERVER_TOKEN>` (the `temporal` CLI's
`--codec-auth`), or the session cookie that `GET /session` (a small form asking for the token) sets for eight
hours, which the Temporal UI sends when its codec setting "include cross-origin credentials" is on (the UI passes
its own sign-in token, not ours, as a bearer token). Browsers may call it only from CODEC_CORS_ORIGINS.
The API mounts this app at `/codec` when encryption keys and the token are configured (`api/app.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from collections.abc import Awaitable, Callable, Sequence

from google.protobuf import json_format
from itsdangerous import BadSignature, TimestampSigner
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from models.problems import PROBLEM_JSON, problem_body
from models.settings import Settings
from ops.codec import PayloadDecryptionError, payload_codec

log = logging.getLogger("cvimprover.codec")

SESSION_COOKIE = "cvimprover_codec"
SESSION_MAX_AGE_SECONDS = 8 * 3600
ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Namespace")
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
}

Conversion = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


def _problem(request: Request, status: int, code: str, title: str, detail: str) -> JSONResponse:
    body = problem_body(status, code, title, detail, request.url.path)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class OperatorCheck:
    """The operator token, compared in constant time, and the session cookie signed with a key derived from it."""

    def __init__(self, token: str) -> None:
        self._token_digest = hashlib.sha256(token.encode()).digest()
        session_key = hmac.new(token.encode(), b"cvimprover-codec-session", hashlib.sha256).hexdigest()
        self._signer = TimestampSigner(session_key, salt="codec-session")

    def token_matches(self, candidate: str) -> bool:
        # Digests first: compare_digest is constant-time only for inputs of equal length.
        return hmac.compare_digest(hashlib.sha256(candidate.encode()).digest(), self._token_digest)

    def session_cookie(self) -> str:
        return self._signer.sign(b"operator").decode()

    def authorised(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip() and self.token_matches(credentials.strip()):
            return True
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            try:
                self._signer.unsign(cookie, max_age=SESSION_MAX_AGE_SECONDS)
            except BadSignature:
                return False
            return True
        return False


def _session_page(action: str, message: str = "") -> str:
    note = f"<p>{html.escape(message)}</p>" if message else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>CV Improver codec server</title></head>"
        "<body><h1>CV Improver codec server</h1>"
        "<p>Enter the operator token (CODEC_SERVER_TOKEN) to let this browser's Temporal UI show clear payloads"
        f" for {SESSION_MAX_AGE_SECONDS // 3600} hours.</p>{note}"
        f'<form method=post action="{html.escape(action)}">'
        "<input type=password name=token autocomplete=off required autofocus> <button>Sign in</button></form>"
        "</body></html>"
    )


def create_codec_app(
    codec: PayloadCodec, *, token: str, allowed_origins: Sequence[str], secure_cookie: bool
) -> Starlette:
    """The codec server as an ASGI app; its routes are `/encode`, `/decode` and `/session` under its mount."""
    if "*" in allowed_origins:
        raise ValueError("CODEC_CORS_ORIGINS must name origins: '*' would let any web page read decoded payloads")
    check = OperatorCheck(token)

    async def convert(request: Request, operation: Conversion, name: str) -> Response:
        if not check.authorised(request):
            detail = "The codec server needs the operator token: Authorization: Bearer <CODEC_SERVER_TOKEN>."
            return _problem(request, 401, "codec_unauthorized", "Operator token required", detail)
        try:
            payloads = json_format.Parse(await request.body(), Payloads(), ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError):
            detail = 'The body must be protobuf JSON of Temporal Payloads: {"payloads": [...]}.'
            return _problem(request, 400, "invalid_payloads", "Invalid payloads", detail)
        try:
            converted = await operation(payloads.payloads)
        except PayloadDecryptionError as exc:
            return _problem(request, 422, "undecryptable_payload", "A payload cannot be decrypted", str(exc))
        # Who asked for what is for the audit trail; the payloads themselves never reach a log.
        log.info("codec %s: %d payloads, namespace %r", name, len(converted), request.headers.get("x-namespace", ""))
        body = json_format.MessageToJson(Payloads(payloads=converted), indent=None)
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})

    async def encode(request: Request) -> Response:
        return await convert(request, codec.encode, "encode")

    async def decode(request: Request) -> Response:
        return await convert(request, codec.decode, "decode")

    async def session(request: Request) -> Response:
        action = request.url.path
        if request.method == "GET":
            return HTMLResponse(_session_page(action), headers=_PAGE_HEADERS)
        form = await request.form()
        candidate = form.get("token")
        if not isinstance(candidate, str) or not check.token_matches(candidate):
            page = _session_page(action, "That is not the operator token.")
            return HTMLResponse(page, status_code=401, headers=_PAGE_HEADERS)
        page = _session_page(action, "Signed in: the Temporal UI can now decode payloads through this server.")
        response = HTMLResponse(page, headers=_PAGE_HEADERS)
        # Cross-site (https) UIs need SameSite=None; a UI on the same host (another port) is same-site.
        response.set_cookie(
            SESSION_COOKIE,
            check.session_cookie(),
            max_age=SESSION_MAX_AGE_SECONDS,
            path=request.scope.get("root_path") or "/",
            secure=secure_cookie,
            httponly=True,
            samesite="none" if secure_cookie else "lax",
        )
        return response

    return Starlette(
        routes=[
            Route("/encode", encode, methods=["POST"]),
            Route("/decode", decode, methods=["POST"]),
            Route("/session", session, methods=["GET", "POST"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(allowed_origins),
                allow_methods=["POST", "OPTIONS"],
                allow_headers=list(ALLOWED_HEADERS),
                allow_credentials=True,
                max_age=600,
            )
        ],
    )


def codec_app(settings: Settings) -> Starlette:
    """The codec server for these settings; they must hold PAYLOAD_ENCRYPTION_KEYS and CODEC_SERVER_TOKEN."""
    codec = payload_codec(settings)
    if codec is None or settings.codec_server_token is None:
        raise ValueError("the codec server needs PAYLOAD_ENCRYPTION_KEYS and CODEC_SERVER_TOKEN")
    return create_codec_app(
        codec,
        token=settings.codec_server_token.get_secret_value(),
        allowed_origins=settings.codec_cors_origin_list,
        secure_cookie=settings.public_api_url.startswith("https://"),
    )

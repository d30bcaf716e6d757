"""Sign-up, sign-in, sessions (refresh, logout), password reset and the signed-in user."""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from activities.accounts import Account
from activities.ratelimit import Limit
from activities.revocation import RevocationUnavailable
from api.deps import CurrentSession, CurrentUser, ServicesDep
from api.problems import Problem
from api.schemas import (
    ForgotPasswordRequest,
    LoginRequest,
    LogoutRequest,
    MeResponse,
    QuotaOut,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenResponse,
    UpdateMeRequest,
)
from api.security import issue_access_token
from api.services import Services

router = APIRouter(tags=["auth"])
log = logging.getLogger("cvimprover.api.auth")


async def start_session(services: Services, user_id: uuid.UUID) -> TokenResponse:
    """Tokens for a new sign-in: a refresh family and an access token that names it (`sid`)."""
    issued = await services.sessions.start(user_id)
    token, ttl = issue_access_token(services.settings, user_id, issued.family_id)
    return TokenResponse(access_token=token, expires_in=ttl, refresh_token=issued.token)


def _client_address(request: Request) -> str:
    # The peer address as the server sees it; behind a proxy, run uvicorn with --proxy-headers (trusted only).
    return request.client.host if request.client else "unknown"


async def _rate_limit(
    services: Services, action: str, email: str, address: str, per_email: int, per_address: int
) -> None:
    window = services.settings.rate_limit_window_seconds
    decision = await services.rate_limiter.hit(
        Limit(f"{action}:email", email, per_email, window), Limit(f"{action}:address", address, per_address, window)
    )
    if not decision.allowed:
        raise Problem(
            429,
            "too_many_attempts",
            "Too many attempts",
            f"Too many attempts; try again in {decision.retry_after} seconds.",
            retry_after=decision.retry_after,
        )


async def _me(services: Services, account: Account) -> MeResponse:
    quota = await services.quota.status(account.id)
    return MeResponse(
        id=account.id,
        email=account.email,
        name=account.name,
        plan=quota.plan_code,
        quota=QuotaOut(plan=quota.plan_code, used=quota.used, limit=quota.limit, resets_on=quota.resets_on),
    )


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=MeResponse)
async def register(body: RegisterRequest, services: ServicesDep) -> MeResponse:
    account = await services.accounts.register(body.email, body.password, body.name)
    return await _me(services, account)


@router.post("/auth/login", response_model=TokenResponse)
async def login(body: LoginRequest, request: Request, services: ServicesDep) -> TokenResponse:
    """Rate limited per e-mail address and per client address (429 with Retry-After; fails open without Redis)."""
    settings = services.settings
    await _rate_limit(
        services,
        "login",
        str(body.email),
        _client_address(request),
        settings.login_limit_per_email,
        settings.login_limit_per_address,
    )
    account = await services.accounts.authenticate(body.email, body.password)
    return await start_session(services, account.id)


@router.post("/auth/refresh", response_model=TokenResponse)
async def refresh(body: RefreshRequest, services: ServicesDep) -> TokenResponse:
    """Exchanges a refresh token for a new pair (the old one is used up). A refresh token presented twice
    signs out every session of its family: 401 `refresh_token_reused`."""
    issued = await services.sessions.rotate(body.refresh_token)
    if await services.accounts.get(issued.user_id) is None:
        await services.sessions.revoke_family(issued.user_id, issued.family_id)
        raise Problem(401, "unauthorized", "Authentication required", "The account of this token no longer exists.")
    token, ttl = issue_access_token(services.settings, issued.user_id, issued.family_id)
    return TokenResponse(access_token=token, expires_in=ttl, refresh_token=issued.token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(current: CurrentSession, services: ServicesDep, body: LogoutRequest | None = None) -> Response:
    """Ends this session: revokes the refresh family the access token was issued with (and the family of
    `refresh_token` when given and the user's) and denies the access token until it expires. Other sign-ins
    of the user stay signed in."""
    user_id = current.account.id
    if current.claims.session_id is not None:
        await services.sessions.revoke_family(user_id, current.claims.session_id)
    if body is not None and body.refresh_token:
        family = await services.sessions.family_of(body.refresh_token, user_id)
        if family is not None:
            await services.sessions.revoke_family(user_id, family)
    try:
        await services.deny_list.deny(current.claims.jti, current.claims.expires_at)
    except RevocationUnavailable:
        raise Problem(
            503,
            "logout_unavailable",
            "Cannot sign out the access token",
            "The session's refresh token is revoked, but the access token cannot be revoked right now; retry.",
            retry_after=5,
        ) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _send_reset_mail(services: Services, email: str) -> None:
    """Runs after the 202 is sent, so known and unknown addresses answer alike and equally fast."""
    try:
        issued = await services.password_resets.issue(email)
        if issued is None:
            return
        link = f"{services.settings.public_app_url.rstrip('/')}/reset-password?{urlencode({'token': issued.token})}"
        minutes = services.settings.password_reset_ttl_seconds // 60
        body = (
            "Someone asked to reset the password of your CV Improver account.\n\n"
            f"To choose a new password, open this link within {minutes} minutes:\n{link}\n\n"
            "The link works once. If you did not ask for it, ignore this mail: your password stays as it is.\n"
        )
        await services.mailer.send(
            issued.email,
            "Reset your CV Improver password",
            body,
            purpose=f"password reset mail for user {issued.user_id}",
        )
    except Exception as exc:  # a background task: log (without secrets) and go on
        log.error("password reset mail failed: %s", type(exc).__name__)


@router.post("/auth/password/forgot", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
async def forgot_password(
    body: ForgotPasswordRequest, request: Request, services: ServicesDep, background: BackgroundTasks
) -> Response:
    """Always 202, whether or not an account has this address; when one has, a single-use reset link valid
    30 minutes is mailed to it. Rate limited per e-mail address and per client address."""
    settings = services.settings
    await _rate_limit(
        services,
        "forgot",
        str(body.email),
        _client_address(request),
        settings.password_forgot_limit_per_email,
        settings.password_forgot_limit_per_address,
    )
    background.add_task(_send_reset_mail, services, str(body.email))
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/auth/password/reset", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def reset_password(body: ResetPasswordRequest, services: ServicesDep) -> Response:
    """Sets the new password and signs the user out everywhere (refresh families revoked, access tokens issued
    before now denied). A used, expired or unknown token: 400 `invalid_reset_token`."""
    user_id = await services.password_resets.reset(body.token, body.password)
    try:
        await services.deny_list.deny_user_before(user_id, time.time())
    except RevocationUnavailable:
        log.warning("password reset for user %s: access tokens could not be denied (Redis down)", user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeResponse)
async def me(user: CurrentUser, services: ServicesDep) -> MeResponse:
    return await _me(services, user)


@router.patch("/me", response_model=MeResponse)
async def update_me(body: UpdateMeRequest, current: CurrentSession, services: ServicesDep) -> MeResponse:
    """Changes name, e-mail and/or password. A new e-mail or password needs `current_password` (403
    `wrong_current_password` otherwise); an e-mail in use answers 409. A password change signs out every other
    session of the user (this one stays)."""
    account = await services.accounts.update(
        current.account.id,
        current_password=body.current_password,
        name=body.name,
        set_name="name" in body.model_fields_set,
        email=str(body.email) if body.email is not None else None,
        password=body.password,
    )
    if body.password is not None:
        await services.sessions.revoke_all(account.id, except_family=current.claims.session_id)
    return await _me(services, account)

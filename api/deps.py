"""FastAPI dependencies: the services, and the signed-in user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from activities.accounts import Account
from activities.revocation import RevocationUnavailable
from api.problems import Problem
from api.security import AccessClaims, InvalidToken, decode_access_token
from api.services import Services
from ops.context import bind_user

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Authentication required", detail)


@dataclass(frozen=True)
class Authenticated:
    account: Account
    claims: AccessClaims


async def get_current_session(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Authenticated:
    """A valid, not revoked access token of an existing account. Revocation is read from the Redis deny-list;
    with Redis away, from the token's sign-in in PostgreSQL (logout, password reset and refresh-token reuse all
    end the sign-in there too), so an outage neither locks users out nor revives a signed-out token."""
    if credentials is None:
        raise _unauthorized("Send an access token in the Authorization header: 'Bearer <token>'.")
    try:
        claims = decode_access_token(services.settings, credentials.credentials)
    except InvalidToken:
        raise _unauthorized("The access token is invalid or expired; sign in again.") from None
    try:
        revoked = await services.deny_list.is_revoked(claims.jti, claims.user_id, claims.issued_at)
    except RevocationUnavailable:
        if claims.session_id is None:
            raise Problem(
                503,
                "session_check_unavailable",
                "Cannot check the session",
                "Whether this access token was signed out cannot be checked right now; try again shortly.",
                retry_after=5,
            ) from None
        revoked = await services.sessions.signed_out(claims.user_id, claims.session_id)
    if revoked:
        raise _unauthorized("This access token was signed out; sign in again.")
    account = await services.accounts.get(claims.user_id)
    if account is None:
        raise _unauthorized("The account of this token no longer exists.")
    bind_user(account.id)
    return Authenticated(account, claims)


async def get_current_user(session: Annotated[Authenticated, Depends(get_current_session)]) -> Account:
    return session.account


CurrentSession = Annotated[Authenticated, Depends(get_current_session)]
CurrentUser = Annotated[Account, Depends(get_current_user)]


async def get_optional_user(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Account | None:
    """The signed-in user, or None without an Authorization header (a bad token still answers 401)."""
    if credentials is None:
        return None
    return (await get_current_session(services, credentials)).account


OptionalUser = Annotated[Account | None, Depends(get_optional_user)]

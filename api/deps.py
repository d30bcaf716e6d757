"""FastAPI dependencies: the services, and the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from activities.accounts import Account
from api.problems import Problem
from api.security import InvalidToken, verify_access_token
from api.services import Services

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Authentication required", detail)


async def get_current_user(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Account:
    if credentials is None:
        raise _unauthorized("Send an access token in the Authorization header: 'Bearer <token>'.")
    try:
        user_id = verify_access_token(services.settings, credentials.credentials)
    except InvalidToken:
        raise _unauthorized("The access token is invalid or expired; sign in again.") from None
    account = await services.accounts.get(user_id)
    if account is None:
        raise _unauthorized("The account of this token no longer exists.")
    return account


CurrentUser = Annotated[Account, Depends(get_current_user)]

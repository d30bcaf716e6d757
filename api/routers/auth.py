"""Sign-up, sign-in and the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, status

from activities.accounts import Account
from api.deps import CurrentUser, ServicesDep
from api.schemas import LoginRequest, MeResponse, QuotaOut, RegisterRequest, TokenResponse
from api.security import issue_access_token
from api.services import Services

router = APIRouter(tags=["auth"])


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
async def login(body: LoginRequest, services: ServicesDep) -> TokenResponse:
    account = await services.accounts.authenticate(body.email, body.password)
    token, ttl = issue_access_token(services.settings, account.id)
    return TokenResponse(access_token=token, expires_in=ttl)


@router.get("/me", response_model=MeResponse)
async def me(user: CurrentUser, services: ServicesDep) -> MeResponse:
    return await _me(services, user)

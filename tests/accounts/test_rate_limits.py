"""Rate limits on sign-in and password-reset mail: 429 with Retry-After; failing open when Redis is down."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from models.settings import Settings
from tests.accounts.session_helpers import PASSWORD, assert_problem, login, new_email, register
from tests.conftest import Stack, open_stack


@asynccontextmanager
async def client_from(settings: Settings, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, seen as coming from `address` (no Temporal needed for accounts)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield http


def _random_address() -> str:
    return f"198.51.100.{random.randint(1, 254)}-{random.getrandbits(32)}"


async def test_login_is_limited_per_email(stack: Stack) -> None:
    email = new_email()
    await register(stack.http, email)
    limit = stack.settings.login_limit_per_email
    for _ in range(limit):
        r = await stack.http.post("/auth/login", json={"email": email, "password": "wrong password!"})
        assert r.status_code == 401
    # Even the right password is refused now, with how long to wait.
    r = await stack.http.post("/auth/login", json={"email": email, "password": PASSWORD})
    body = assert_problem(r, 429, "too_many_attempts")
    retry_after = int(r.headers["retry-after"])
    assert 0 < retry_after <= stack.settings.rate_limit_window_seconds
    assert str(retry_after) in body["detail"]
    # Another address is not affected.
    await register(stack.http, other := new_email())
    await login(stack.http, other)


async def test_login_and_forgot_are_limited_per_client_address(base_settings: Settings) -> None:
    settings = base_settings.model_copy(update={"login_limit_per_address": 3, "password_forgot_limit_per_address": 2})
    async with client_from(settings, _random_address()) as http:
        await register(http, email := new_email())
        for _ in range(3):
            r = await http.post("/auth/login", json={"email": new_email(), "password": "whatever it is"})
            assert r.status_code == 401
        r = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert_problem(r, 429, "too_many_attempts")
        assert int(r.headers["retry-after"]) > 0

        for _ in range(2):
            assert (await http.post("/auth/password/forgot", json={"email": new_email()})).status_code == 202
        r = await http.post("/auth/password/forgot", json={"email": new_email()})
        assert_problem(r, 429, "too_many_attempts")
        assert int(r.headers["retry-after"]) > 0


async def test_forgot_is_limited_per_email(stack: Stack) -> None:
    email = new_email()
    for _ in range(stack.settings.password_forgot_limit_per_email):
        assert (await stack.http.post("/auth/password/forgot", json={"email": email})).status_code == 202
    r = await stack.http.post("/auth/password/forgot", json={"email": email})
    assert_problem(r, 429, "too_many_attempts")
    assert int(r.headers["retry-after"]) > 0


async def test_without_redis_login_fails_open_and_sign_outs_still_hold(
    temporal_env: WorkflowEnvironment, base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = base_settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0", "login_limit_per_email": 1, "login_limit_per_address": 1}
    )
    caplog.set_level(logging.WARNING)
    async with open_stack(temporal_env, settings, worker=False) as dead:
        email = new_email()
        await register(dead.http, email)
        # Over every limit, yet allowed: the limiter fails open.
        for _ in range(3):
            tokens = await login(dead.http, email)
        assert any("rate limiter unavailable" in r.getMessage() for r in caplog.records)
        # Revocation is read from the sign-in in PostgreSQL: a live token works, a signed-out one does not.
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        r = await dead.http.get("/me", headers=headers)
        assert r.status_code == 200, r.text
        other = await login(dead.http, email)
        other_headers = {"Authorization": f"Bearer {other['access_token']}"}
        # Logout ends the sign-in in PostgreSQL, then asks to be retried for the Redis deny-list.
        assert_problem(await dead.http.post("/auth/logout", headers=other_headers), 503, "logout_unavailable")
        r = await dead.http.get("/me", headers=other_headers)
        assert_problem(r, 401, "unauthorized")
        assert (await dead.http.get("/me", headers=headers)).status_code == 200
        # Refresh needs PostgreSQL only.
        r = await dead.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200, r.text

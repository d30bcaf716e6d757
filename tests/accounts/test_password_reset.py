"""Password reset: no enumeration, single use, 30 minutes, and a reset signs the user out everywhere."""

from __future__ import annotations

import hashlib

from tests.accounts.session_helpers import (
    PASSWORD,
    assert_problem,
    bearer,
    capture_mail,
    login,
    new_email,
    register,
    sql,
)
from tests.conftest import Stack

NEW_PASSWORD = "another long passphrase"


async def test_forgot_for_an_unknown_address_answers_202_and_sends_nothing(stack: Stack) -> None:
    with capture_mail(stack) as outbox:
        r = await stack.http.post("/auth/password/forgot", json={"email": new_email()})
    assert r.status_code == 202 and r.content == b""
    assert outbox.sent == []


async def test_reset_sets_the_password_once_and_revokes_every_session(stack: Stack) -> None:
    email = new_email()
    await register(stack.http, email)
    sessions = [await login(stack.http, email) for _ in range(2)]

    with capture_mail(stack) as outbox:
        r = await stack.http.post("/auth/password/forgot", json={"email": email.upper()})
    assert r.status_code == 202 and r.content == b""
    [mail] = outbox.sent
    assert mail.to == email
    assert mail.body.count(f"{stack.settings.public_app_url}/reset-password?token=") == 1
    assert "30 minutes" in mail.body
    token = mail.reset_token
    assert len(token) >= 43

    r = await stack.http.post("/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 204, r.text

    assert_problem(
        await stack.http.post("/auth/login", json={"email": email, "password": PASSWORD}), 401, "invalid_credentials"
    )
    await login(stack.http, email, NEW_PASSWORD)
    for tokens in sessions:
        assert_problem(await stack.http.get("/me", headers=bearer(tokens)), 401, "unauthorized")
        r = await stack.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert_problem(r, 401, "invalid_refresh_token")

    # Single use.
    r = await stack.http.post("/auth/password/reset", json={"token": token, "password": "yet another passphrase"})
    assert_problem(r, 400, "invalid_reset_token")
    await login(stack.http, email, NEW_PASSWORD)


async def test_reset_token_late_unknown_or_superseded(stack: Stack) -> None:
    email = new_email()
    await register(stack.http, email)
    with capture_mail(stack) as outbox:
        for _ in range(3):
            assert (await stack.http.post("/auth/password/forgot", json={"email": email})).status_code == 202
    late, other, spare = (m.reset_token for m in outbox.sent)

    digest = hashlib.sha256(late.encode()).hexdigest()
    await sql(
        stack,
        "UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = :h",
        h=digest,
    )
    r = await stack.http.post("/auth/password/reset", json={"token": late, "password": NEW_PASSWORD})
    assert_problem(r, 400, "invalid_reset_token")
    r = await stack.http.post("/auth/password/reset", json={"token": "made-up-token", "password": NEW_PASSWORD})
    assert_problem(r, 400, "invalid_reset_token")
    await login(stack.http, email, PASSWORD)

    # Stored hashed; using one outstanding token uses up the others.
    r = await stack.http.post("/auth/password/reset", json={"token": other, "password": NEW_PASSWORD})
    assert r.status_code == 204
    r = await stack.http.post("/auth/password/reset", json={"token": spare, "password": "yet another passphrase"})
    assert_problem(r, 400, "invalid_reset_token")
    await login(stack.http, email, NEW_PASSWORD)

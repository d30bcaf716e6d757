"""Sessions: refresh rotation, reuse detection, logout, and every way an access token can be forged."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import jwt
import pytest
from sqlalchemy import text

from tests.accounts.session_helpers import PASSWORD, assert_problem, bearer, login, new_email, register, sql
from tests.conftest import Stack


async def test_refresh_rotates_and_the_new_pair_works(stack: Stack) -> None:
    email = new_email()
    await register(stack.http, email)
    first = await login(stack.http, email)
    assert first["expires_in"] == stack.settings.access_token_ttl_seconds

    r = await stack.http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (await stack.http.get("/me", headers=bearer(second))).status_code == 200

    r = await stack.http.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 200, r.text

    # Stored hashed, never in clear.
    async with stack.services.stores.engine.connect() as conn:
        hashes = set((await conn.execute(text("SELECT token_hash FROM refresh_tokens"))).scalars())
    assert first["refresh_token"] not in hashes
    assert hashlib.sha256(first["refresh_token"].encode()).hexdigest() in hashes


async def test_reused_refresh_token_revokes_the_whole_family(stack: Stack) -> None:
    email = new_email()
    await register(stack.http, email)
    stolen = await login(stack.http, email)
    other_device = await login(stack.http, email)  # another sign-in: another family, unaffected

    r = await stack.http.post("/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    newer = r.json()
    # The thief (or the user) presents the used token again: the family is revoked.
    r = await stack.http.post("/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    body = assert_problem(r, 401, "refresh_token_reused")
    assert "already used" in body["detail"]
    # ... so the newer token of the family stops working too.
    r = await stack.http.post("/auth/refresh", json={"refresh_token": newer["refresh_token"]})
    assert_problem(r, 401, "invalid_refresh_token")

    r = await stack.http.post("/auth/refresh", json={"refresh_token": other_device["refresh_token"]})
    assert r.status_code == 200, r.text


async def test_unknown_and_expired_refresh_tokens(stack: Stack) -> None:
    email = new_email()
    await register(stack.http, email)
    tokens = await login(stack.http, email)
    r = await stack.http.post("/auth/refresh", json={"refresh_token": "not-a-token-we-issued"})
    assert_problem(r, 401, "invalid_refresh_token")

    digest = hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    await sql(
        stack, "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = :h", h=digest
    )
    r = await stack.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(r, 401, "invalid_refresh_token")


async def test_logout_kills_the_access_token_and_the_refresh_family(stack: Stack) -> None:
    email = new_email()
    await register(stack.http, email)
    tokens = await login(stack.http, email)
    other = await login(stack.http, email)
    assert (await stack.http.get("/me", headers=bearer(tokens))).status_code == 200

    r = await stack.http.post("/auth/logout", headers=bearer(tokens))
    assert r.status_code == 204, r.text

    body = assert_problem(await stack.http.get("/me", headers=bearer(tokens)), 401, "unauthorized")
    assert "signed out" in body["detail"]
    r = await stack.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(r, 401, "invalid_refresh_token")
    assert_problem(await stack.http.post("/auth/logout", headers=bearer(tokens)), 401, "unauthorized")

    # The other sign-in is untouched...
    assert (await stack.http.get("/me", headers=bearer(other))).status_code == 200
    # ... until its refresh token is named in a logout body.
    third = await login(stack.http, email)
    r = await stack.http.post("/auth/logout", headers=bearer(third), json={"refresh_token": other["refresh_token"]})
    assert r.status_code == 204
    r = await stack.http.post("/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert_problem(r, 401, "invalid_refresh_token")


def _claims(stack: Stack, sub: str, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": sub,
        "iss": stack.settings.jwt_issuer,
        "aud": stack.settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(stack: Stack, claims: dict[str, object]) -> str:
    return jwt.encode(claims, stack.settings.jwt_secret.get_secret_value(), algorithm="HS256")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 forgery
async def test_forged_access_tokens_are_refused(stack: Stack) -> None:
    email = new_email()
    await register(stack.http, email)
    tokens = await login(stack.http, email)
    me = (await stack.http.get("/me", headers=bearer(tokens))).json()
    victim = (await stack.http.get("/me", headers=await stack.user())).json()
    sub = me["id"]
    now = int(time.time())

    # A tampered payload: the victim's id put in, signature kept.
    header, _payload, signature = tokens["access_token"].split(".")
    forged_payload = jwt.utils.base64url_encode(json.dumps(_claims(stack, victim["id"])).encode()).decode()
    bad_tokens = {
        "tampered payload": f"{header}.{forged_payload}.{signature}",
        "alg none": jwt.encode(_claims(stack, sub), "", algorithm="none"),
        "wrong secret": jwt.encode(_claims(stack, sub), "a-different-secret-of-32-bytes!!", algorithm="HS256"),
        "HS512": jwt.encode(_claims(stack, sub), stack.settings.jwt_secret.get_secret_value(), algorithm="HS512"),
        "expired": _sign(stack, _claims(stack, sub, iat=now - 120, nbf=now - 120, exp=now - 60)),
        "not yet valid": _sign(stack, _claims(stack, sub, nbf=now + 600, exp=now + 900)),
        "issued in the future": _sign(stack, _claims(stack, sub, iat=now + 600, exp=now + 900)),
        "no nbf": _sign(stack, _claims(stack, sub, nbf=None)),
        "no iat": _sign(stack, _claims(stack, sub, iat=None)),
        "wrong audience": _sign(stack, _claims(stack, sub, aud="another-api")),
        "wrong issuer": _sign(stack, _claims(stack, sub, iss="someone-else")),
        "unknown user": _sign(stack, _claims(stack, str(uuid.uuid4()))),
    }
    for name, token in bad_tokens.items():
        r = await stack.http.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, f"{name}: {r.status_code} {r.text}"
        assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
    # The same claims, properly signed, pass: the refusals above are for the reason named.
    r = await stack.http.get("/me", headers={"Authorization": f"Bearer {_sign(stack, _claims(stack, sub))}"})
    assert r.status_code == 200, r.text


async def test_patch_me(stack: Stack) -> None:
    email, taken = new_email(), new_email()
    await register(stack.http, email)
    await register(stack.http, taken)
    tokens = await login(stack.http, email)
    elsewhere = await login(stack.http, email)
    h = bearer(tokens)

    r = await stack.http.patch("/me", headers=h, json={"name": "Grace"})
    assert r.status_code == 200 and r.json()["name"] == "Grace", r.text

    new = new_email()
    assert_problem(await stack.http.patch("/me", headers=h, json={"email": new}), 403, "wrong_current_password")
    r = await stack.http.patch("/me", headers=h, json={"email": new, "current_password": "not the password"})
    assert_problem(r, 403, "wrong_current_password")
    r = await stack.http.patch("/me", headers=h, json={"email": taken, "current_password": PASSWORD})
    assert_problem(r, 409, "conflict")
    r = await stack.http.patch("/me", headers=h, json={"email": new.upper(), "current_password": PASSWORD})
    assert r.status_code == 200 and r.json()["email"] == new, r.text

    r = await stack.http.patch("/me", headers=h, json={"password": "a brand new passphrase"})
    assert_problem(r, 403, "wrong_current_password")
    r = await stack.http.patch(
        "/me", headers=h, json={"password": "a brand new passphrase", "current_password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    assert_problem(
        await stack.http.post("/auth/login", json={"email": new, "password": PASSWORD}), 401, "invalid_credentials"
    )
    await login(stack.http, new, "a brand new passphrase")
    # A password change signs out the other sessions, not this one.
    r = await stack.http.post("/auth/refresh", json={"refresh_token": elsewhere["refresh_token"]})
    assert_problem(r, 401, "invalid_refresh_token")
    r = await stack.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text

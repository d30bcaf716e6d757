"""Minimal accounts: register, sign in, who am I, and every way a token can be wrong."""

from __future__ import annotations

import time
import uuid

import jwt

from tests.conftest import Stack


def _assert_problem(r: object, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["status"] == status and body["code"] == code and body["detail"]
    return dict(body)


async def test_register_login_me(stack: Stack) -> None:
    email = f"Ada-{uuid.uuid4().hex[:8]}@Example.com"
    r = await stack.http.post("/auth/register", json={"email": email, "password": "a long passphrase", "name": "Ada"})
    assert r.status_code == 201, r.text
    assert r.json()["email"] == email.lower()
    assert r.json()["quota"] == {"plan": "free", "used": 0, "limit": 3, "resets_on": r.json()["quota"]["resets_on"]}

    r = await stack.http.post("/auth/login", json={"email": email.upper(), "password": "a long passphrase"})
    assert r.status_code == 200
    token = r.json()["access_token"]
    assert r.json()["expires_in"] == 900

    r = await stack.http.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["name"] == "Ada" and r.json()["plan"] == "free"


async def test_duplicate_email_and_bad_password(stack: Stack) -> None:
    email = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    assert (await stack.http.post("/auth/register", json={"email": email, "password": "0123456789"})).status_code == 201
    r = await stack.http.post("/auth/register", json={"email": email, "password": "0123456789"})
    _assert_problem(r, 409, "conflict")
    r = await stack.http.post("/auth/login", json={"email": email, "password": "wrong-password"})
    _assert_problem(r, 401, "invalid_credentials")
    r = await stack.http.post(
        "/auth/login", json={"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "whatever-it-is"}
    )
    _assert_problem(r, 401, "invalid_credentials")
    r = await stack.http.post("/auth/register", json={"email": "not-an-email", "password": "0123456789"})
    body = _assert_problem(r, 422, "validation_error")
    assert "email" in str(body["detail"])
    r = await stack.http.post("/auth/register", json={"email": "short@example.com", "password": "short"})
    _assert_problem(r, 422, "validation_error")


def _token(stack: Stack, **overrides: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "iss": stack.settings.jwt_issuer,
        "aud": stack.settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, stack.settings.jwt_secret.get_secret_value(), algorithm="HS256")


async def test_missing_expired_and_tampered_tokens(stack: Stack) -> None:
    headers = await stack.user()
    good = headers["Authorization"].removeprefix("Bearer ")
    me = (await stack.http.get("/me", headers=headers)).json()

    r = await stack.http.get("/me")
    assert "Authorization" in str(_assert_problem(r, 401, "unauthorized")["detail"])

    header, payload, signature = good.split(".")
    tampered = f"{header}.{payload[:-2]}xy.{signature}"
    wrong_key = jwt.encode({"sub": me["id"]}, "another-secret-entirely-32-bytes!", algorithm="HS256")
    unsigned = jwt.encode(
        {
            "sub": me["id"],
            "iss": stack.settings.jwt_issuer,
            "aud": stack.settings.jwt_audience,
            "exp": int(time.time()) + 60,
            "iat": int(time.time()),
            "jti": "x",
        },
        "",
        algorithm="none",
    )
    for bad in (
        tampered,
        wrong_key,
        unsigned,
        _token(stack, sub=me["id"], exp=int(time.time()) - 10),
        _token(stack, sub=me["id"], aud="someone-else"),
        _token(stack, sub=me["id"], iss="someone-else"),
        _token(stack, sub=me["id"], jti=None),
        _token(stack),  # a well-signed token of a user that does not exist
        "not.a.jwt",
    ):
        r = await stack.http.get("/me", headers={"Authorization": f"Bearer {bad}"})
        _assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
    assert (
        await stack.http.get("/me", headers={"Authorization": f"Bearer {_token(stack, sub=me['id'])}"})
    ).status_code == 200

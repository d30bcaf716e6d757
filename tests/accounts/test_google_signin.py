"""Google sign-in end to end against a real OpenID Connect provider (oauth2-mock-server on 127.0.0.1): discovery,
authorization code with PKCE, state and nonce, id_token validated against the provider's JWKS."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from models.settings import Environment, Settings
from tests.accounts.oidc_fixture import (  # noqa: F401 - fixtures
    API_BASE,
    CLIENT_ID,
    OidcProvider,
    google_stack,
    oidc_provider,
)
from tests.conftest import Stack


def _google_user(**extra: Any) -> dict[str, Any]:
    n = uuid.uuid4().hex[:10]
    claims: dict[str, Any] = {
        "sub": f"1{n}",
        "email": f"g-{n}@example.com",
        "email_verified": True,
        "name": f"Google User {n}",
    }
    claims.update(extra)
    return claims


async def _to_callback(stack: Stack) -> str:
    """GET /auth/google/login, then the provider's /authorize (auto-approved): the callback URL it sends back."""
    stack.http.cookies.clear()
    r = await stack.http.get("/auth/google/login")
    assert r.status_code == 302, r.text
    authorize = r.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{API_BASE}/auth/google/callback"]
    assert query["state"] and query["nonce"] and query["code_challenge"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    async with httpx.AsyncClient(timeout=10) as browser:
        r = await browser.get(authorize)
    assert r.status_code == 302, r.text
    callback = r.headers["location"]
    assert callback.startswith(f"{API_BASE}/auth/google/callback?")
    return callback


async def _sign_in(stack: Stack, provider: OidcProvider, claims: dict[str, Any]) -> httpx.Response:
    provider.next_sign_in(**claims)
    callback = await _to_callback(stack)
    return await stack.http.get(callback)


async def _me(stack: Stack, token: str) -> dict[str, Any]:
    r = await stack.http.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_first_sign_in_creates_the_account_and_the_second_finds_it(
    google_stack: Stack,  # noqa: F811
    oidc_provider: OidcProvider,  # noqa: F811
) -> None:
    claims = _google_user()
    r = await _sign_in(google_stack, oidc_provider, claims)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == google_stack.settings.access_token_ttl_seconds
    assert body["refresh_token"]  # the same session as a password sign-in
    me = await _me(google_stack, body["access_token"])
    assert me["email"] == claims["email"]
    assert me["name"] == claims["name"]

    again = await _sign_in(google_stack, oidc_provider, claims)
    assert again.status_code == 200, again.text
    assert (await _me(google_stack, again.json()["access_token"]))["id"] == me["id"]

    # The account has no password: the e-mail alone cannot sign in with one.
    r = await google_stack.http.post("/auth/login", json={"email": claims["email"], "password": "anything at all"})
    assert r.status_code == 401


async def test_an_existing_password_account_is_linked_only_with_its_password(
    google_stack: Stack,  # noqa: F811
    oidc_provider: OidcProvider,  # noqa: F811
) -> None:
    claims = _google_user()
    headers = await google_stack.user(claims["email"], password="the real password")
    owner = (await google_stack.http.get("/me", headers=headers)).json()

    r = await _sign_in(google_stack, oidc_provider, claims)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "link_requires_password"
    assert problem["email"] == claims["email"]
    link_token = problem["link_token"]
    assert "access_token" not in problem

    # Nothing was linked: signing in with Google again still asks for the password.
    r = await _sign_in(google_stack, oidc_provider, claims)
    assert r.status_code == 409, r.text

    r = await google_stack.http.post("/auth/google/link", json={"link_token": link_token, "password": "wrong"})
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "invalid_credentials"

    tampered = link_token[:-3] + ("AAA" if not link_token.endswith("AAA") else "BBB")
    r = await google_stack.http.post(
        "/auth/google/link", json={"link_token": tampered, "password": "the real password"}
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_link_token"

    r = await google_stack.http.post(
        "/auth/google/link", json={"link_token": link_token, "password": "the real password"}
    )
    assert r.status_code == 200, r.text
    assert (await _me(google_stack, r.json()["access_token"]))["id"] == owner["id"]

    # Linked: Google alone signs in to the same account now, and the password still works.
    r = await _sign_in(google_stack, oidc_provider, claims)
    assert r.status_code == 200, r.text
    assert (await _me(google_stack, r.json()["access_token"]))["id"] == owner["id"]
    r = await google_stack.http.post("/auth/login", json={"email": claims["email"], "password": "the real password"})
    assert r.status_code == 200, r.text


async def test_a_forged_or_replayed_state_is_refused(
    google_stack: Stack,  # noqa: F811
    oidc_provider: OidcProvider,  # noqa: F811
) -> None:
    oidc_provider.next_sign_in(**_google_user())
    callback = await _to_callback(google_stack)
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    forged = f"/auth/google/callback?code={query['code'][0]}&state=forged-{uuid.uuid4().hex}"
    r = await google_stack.http.get(forged)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "oauth_state_mismatch"

    # Without the browser's session cookie (another browser, a CSRF'd victim), the genuine state is refused too.
    saved = list(google_stack.http.cookies.jar)
    google_stack.http.cookies.clear()
    r = await google_stack.http.get(callback)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "oauth_state_mismatch"

    # With it, the sign-in completes once; the same browser replaying the callback is refused (the state was
    # removed from its session).
    for cookie in saved:
        google_stack.http.cookies.jar.set_cookie(cookie)
    r = await google_stack.http.get(callback)
    assert r.status_code == 200, r.text
    r = await google_stack.http.get(callback)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "oauth_state_mismatch"

    # Replaying the old session cookie with the callback brings the state back (it lives in a signed cookie), but
    # the authorization code was single-use: the provider refuses it.
    google_stack.http.cookies.clear()
    for cookie in saved:
        google_stack.http.cookies.jar.set_cookie(cookie)
    r = await google_stack.http.get(callback)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "oauth_provider_error"


@pytest.mark.parametrize(
    ("override", "what"),
    [
        ({"nonce": "not-the-nonce-we-sent"}, "nonce"),
        ({"aud": "some-other-client"}, "aud"),
        ({"aud": "some-other-client", "azp": CLIENT_ID}, "aud"),
        ({"exp": 1_000_000_000}, "exp"),
        ({"iss": "https://accounts.example.com"}, "iss"),
        ({"nonce": None}, "nonce"),
    ],
    ids=["wrong-nonce", "wrong-audience", "wrong-audience-right-azp", "expired", "wrong-issuer", "no-nonce"],
)
async def test_an_id_token_with_a_wrong_claim_is_refused(
    google_stack: Stack,  # noqa: F811
    oidc_provider: OidcProvider,  # noqa: F811
    override: dict[str, Any],
    what: str,
) -> None:
    claims = _google_user(override=override)
    r = await _sign_in(google_stack, oidc_provider, claims)
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == "invalid_id_token"
    assert what in problem["detail"]
    # No account was created for that e-mail.
    r = await _sign_in(google_stack, oidc_provider, _google_user(email=claims["email"], sub=claims["sub"]))
    assert r.status_code == 200, r.text


async def test_an_unverified_or_missing_email_is_refused(
    google_stack: Stack,  # noqa: F811
    oidc_provider: OidcProvider,  # noqa: F811
) -> None:
    claims = _google_user(email_verified=False)
    r = await _sign_in(google_stack, oidc_provider, claims)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "email_not_verified"

    claims = _google_user()
    del claims["email_verified"]
    r = await _sign_in(google_stack, oidc_provider, claims)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "email_not_verified"

    claims = _google_user()
    del claims["email"]
    r = await _sign_in(google_stack, oidc_provider, claims)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "email_missing"


async def test_a_provider_error_is_a_clear_problem(
    google_stack: Stack,  # noqa: F811
    oidc_provider: OidcProvider,  # noqa: F811
) -> None:
    oidc_provider.next_sign_in(**_google_user())
    callback = await _to_callback(google_stack)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    r = await google_stack.http.get(
        "/auth/google/callback",
        params={"error": "access_denied", "error_description": "The user said no", "state": state},
    )
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == "oauth_provider_error"
    assert problem["error"] == "access_denied"
    assert "The user said no" in problem["detail"]


async def test_unconfigured_google_sign_in_answers_503(stack: Stack) -> None:
    for method, path, body in (
        ("GET", "/auth/google/login", None),
        ("GET", "/auth/google/callback?code=x&state=y", None),
        ("POST", "/auth/google/link", {"link_token": "x", "password": "y"}),
    ):
        r = await stack.http.request(method, path, json=body)
        assert r.status_code == 503, (path, r.text)
        assert r.json()["code"] == "google_not_configured"
        assert r.json()["title"] == "Google sign-in is not configured"


def test_production_needs_a_session_secret_when_google_is_configured() -> None:
    common: dict[str, Any] = {
        "env": Environment.PRODUCTION,
        "jwt_secret": SecretStr("a-real-production-secret-of-some-length"),
        "_env_file": None,
    }
    Settings(**common)  # Google unconfigured: no session secret needed
    with pytest.raises(ValidationError, match="SESSION_SECRET"):
        Settings(**common, google_client_id="client")
    settings = Settings(**common, google_client_id="client", session_secret=SecretStr("another-real-secret"))
    assert settings.session_secret_value == "another-real-secret"

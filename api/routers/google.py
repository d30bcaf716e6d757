"""Google sign-in (OpenID Connect, authlib's Starlette client).

`GET /auth/google/login` redirects to Google with an authorization code request (PKCE S256, state, nonce; all
three kept in a signed, short-lived session cookie). `GET /auth/google/callback` checks the state, exchanges the
code and validates the id_token (signature against the provider's JWKS, iss, aud, exp, nonce), requires a
verified e-mail, then signs in the identity's account, or creates one. An e-mail that belongs to a password
account is never linked silently: the callback answers 409 `link_requires_password` with a signed `link_token`
(10 minutes), and `POST /auth/google/link {link_token, password}` links after checking that account's password.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, cast

import httpx
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from joserfc.errors import JoseError
from pydantic import BaseModel, Field

from activities.accounts import Account
from activities.identities import ExternalIdentity, PendingLink
from api.deps import ServicesDep
from api.problems import Problem
from api.routers.auth import start_session
from api.schemas import TokenResponse
from api.services import Services
from models.settings import Settings

log = logging.getLogger("cvimprover.api.google")

router = APIRouter(tags=["auth"])

PROVIDER = "google"
CALLBACK_PATH = "/auth/google/callback"
LINK_TOKEN_TTL_SECONDS = 10 * 60
# The session cookie only carries state, nonce and PKCE verifier between the redirect and the callback.
SESSION_COOKIE = "cvimprover_oauth"
SESSION_MAX_AGE_SECONDS = 10 * 60


class GoogleLinkRequest(BaseModel):
    link_token: str = Field(max_length=4096, description="The link_token of the 409 link_requires_password answer.")
    password: str = Field(max_length=256, description="The password of the existing account.")


class GoogleSignIn:
    """The registered authlib client of one app (discovery and JWKS are fetched once and cached)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        oauth = OAuth()
        secret = settings.google_client_secret
        self.client: Any = oauth.register(
            name=PROVIDER,
            client_id=settings.google_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            server_metadata_url=settings.google_discovery_url,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
        )
        self.redirect_uri = settings.public_api_url.rstrip("/") + CALLBACK_PATH
        self._links = URLSafeTimedSerializer(settings.session_secret_value, salt="cvimprover-google-link")

    async def id_token_claims_options(self) -> dict[str, dict[str, Any]]:
        """authlib checks `aud` only when told to: the id_token must name us (and its issuer the provider)."""
        metadata = cast(dict[str, Any], await self.client.load_server_metadata())
        issuers = [metadata["issuer"]]
        if metadata["issuer"] == "https://accounts.google.com":
            issuers.append("accounts.google.com")  # Google signs either form
        return {
            "iss": {"essential": True, "values": issuers},
            "aud": {"essential": True, "values": [self.settings.google_client_id]},
            "sub": {"essential": True},
            "exp": {"essential": True},
        }

    def link_token(self, identity: ExternalIdentity) -> str:
        payload = {"s": identity.subject, "e": identity.email, "n": identity.name}
        return self._links.dumps(payload)

    def pending_identity(self, token: str) -> ExternalIdentity:
        try:
            payload = self._links.loads(token, max_age=LINK_TOKEN_TTL_SECONDS)
        except SignatureExpired:
            raise Problem(
                400, "link_token_expired", "The link token has expired", "Sign in with Google again to link."
            ) from None
        except BadSignature:
            raise Problem(
                400, "invalid_link_token", "The link token is not valid", "It was altered or forged."
            ) from None
        return ExternalIdentity(provider=PROVIDER, subject=payload["s"], email=payload["e"], name=payload["n"])


def _not_configured() -> Problem:
    return Problem(
        503,
        "google_not_configured",
        "Google sign-in is not configured",
        "Google sign-in is not configured on this server (GOOGLE_CLIENT_ID is not set); "
        "sign in with e-mail and password.",
    )


def get_google(request: Request) -> GoogleSignIn:
    google: GoogleSignIn | None = getattr(request.app.state, "google", None)
    if google is None:
        raise _not_configured()
    return google


GoogleDep = Annotated[GoogleSignIn, Depends(get_google)]


async def _signed_in(services: Services, account: Account) -> TokenResponse:
    # The same session as a password sign-in: a refresh family, and an access token naming it (logout works).
    return await start_session(services, account.id)


def _unreachable() -> Problem:
    return Problem(
        502,
        "oauth_provider_unreachable",
        "Google could not be reached",
        "The sign-in provider did not answer; try again in a moment.",
    )


@router.get("/auth/google/login", response_class=RedirectResponse, status_code=302)
async def google_login(request: Request, google: GoogleDep) -> RedirectResponse:
    """Redirects the browser to Google's consent page."""
    try:
        response: RedirectResponse = await google.client.authorize_redirect(request, google.redirect_uri)
    except httpx.HTTPError:
        log.warning("OpenID Connect discovery failed at %s", google.settings.google_discovery_url, exc_info=True)
        raise _unreachable() from None
    return response


def _verified_identity(userinfo: dict[str, Any] | None) -> ExternalIdentity:
    if not userinfo or not userinfo.get("sub"):
        raise Problem(400, "invalid_id_token", "The sign-in could not be verified", "Google sent no valid id_token.")
    email = userinfo.get("email")
    verified = userinfo.get("email_verified")
    if not isinstance(email, str) or not email:
        raise Problem(
            400, "email_missing", "Google sent no e-mail address", "Allow access to your e-mail address and retry."
        )
    if verified is not True and verified != "true":
        raise Problem(
            400,
            "email_not_verified",
            "The Google e-mail address is not verified",
            f"Google has not verified {email}; verify it with Google, or sign up with e-mail and password.",
        )
    name = userinfo.get("name")
    return ExternalIdentity(
        provider=PROVIDER, subject=str(userinfo["sub"]), email=email, name=name if isinstance(name, str) else None
    )


@router.get("/auth/google/callback", response_model=TokenResponse)
async def google_callback(request: Request, google: GoogleDep, services: ServicesDep) -> TokenResponse:
    """Where Google sends the browser back: signs in, creates the account, or asks for a password to link."""
    try:
        claims_options = await google.id_token_claims_options()
        token = cast(dict[str, Any], await google.client.authorize_access_token(request, claims_options=claims_options))
    except MismatchingStateError:
        raise Problem(
            400,
            "oauth_state_mismatch",
            "The sign-in could not be verified",
            "The state does not match this browser's sign-in: it was forged, already used or has expired. "
            "Start again at /auth/google/login.",
        ) from None
    except OAuthError as exc:
        detail = f"Google answered {exc.error}" + (f": {exc.description}" if exc.description else "") + "."
        raise Problem(400, "oauth_provider_error", "Google refused the sign-in", detail, error=exc.error) from None
    except JoseError as exc:
        log.info("id_token refused: %s", type(exc).__name__)
        raise Problem(
            400,
            "invalid_id_token",
            "The sign-in could not be verified",
            f"The id_token from Google is not valid ({getattr(exc, 'description', None) or type(exc).__name__}).",
        ) from None
    except httpx.HTTPError:
        log.warning("token exchange with the OpenID provider failed", exc_info=True)
        raise _unreachable() from None

    identity = _verified_identity(token.get("userinfo"))
    result = await services.identities.sign_in(identity)
    if isinstance(result, PendingLink):
        raise Problem(
            409,
            "link_requires_password",
            "Confirm your password to link Google",
            f"An account with {result.email} already exists. To sign in with Google from now on, send its "
            "password with this link_token to POST /auth/google/link within 10 minutes.",
            link_token=google.link_token(result.identity),
            email=result.email,
            expires_in=LINK_TOKEN_TTL_SECONDS,
        )
    return await _signed_in(services, result)


@router.post("/auth/google/link", response_model=TokenResponse)
async def google_link(body: GoogleLinkRequest, google: GoogleDep, services: ServicesDep) -> TokenResponse:
    """Links a pending Google identity to the password account of its e-mail, then signs in."""
    identity = google.pending_identity(body.link_token)
    account = await services.identities.link(identity, body.password)
    return await _signed_in(services, account)

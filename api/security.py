"""JWT access tokens: HS256 pinned; iss, aud, exp, iat, nbf, sub and jti required. An optional `sid` claim
names the sign-in (refresh family) the token belongs to, so logout can end that session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from models.settings import Settings

ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


# Clock skew tolerated between machines for exp, nbf and iat.
LEEWAY_SECONDS = 5


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    jti: str
    issued_at: float
    expires_at: int
    session_id: uuid.UUID | None


def issue_access_token(settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> tuple[str, int]:
    now = datetime.now(UTC)
    ttl = settings.access_token_ttl_seconds
    claims: dict[str, object] = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": round(now.timestamp(), 3),  # sub-second, so a password reset voids tokens issued just before it
        "nbf": now,
        "exp": now + timedelta(seconds=ttl),
        "jti": uuid.uuid4().hex,
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM), ttl


def verify_access_token(settings: Settings, token: str) -> uuid.UUID:
    """The user id of a valid token; InvalidToken for anything else (expired, forged, wrong audience...)."""
    return decode_access_token(settings, token).user_id


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """The claims of a valid token; InvalidToken for anything else (expired, not yet valid, issued in the
    future, forged, unsigned, wrong audience or issuer, a required claim missing...)."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
            leeway=LEEWAY_SECONDS,
        )
        issued_at, expires_at = claims["iat"], claims["exp"]
        if not isinstance(issued_at, int | float) or issued_at > datetime.now(UTC).timestamp() + LEEWAY_SECONDS:
            raise InvalidToken("issued in the future")
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise InvalidToken("bad jti")
        sid = claims.get("sid")
        return AccessClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            jti=claims["jti"],
            issued_at=float(issued_at),
            expires_at=int(expires_at),
            session_id=uuid.UUID(str(sid)) if sid is not None else None,
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None

"""The access-token deny-list in Redis: a logged-out token's `jti` until the token would have expired, and a
per-user cut-off ("tokens issued before T are void") set when a password is reset.

Checks fail CLOSED: when Redis cannot answer, `is_revoked` raises RevocationUnavailable and the API answers
503, because a signed-out token must never work again. (Rate limits, by contrast, fail open: see ratelimit.py.)
"""

from __future__ import annotations

import logging
import math
import time
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RevocationUnavailable(Exception):
    """Redis did not answer; whether a token is revoked is unknown."""


def _jti_key(jti: str) -> str:
    return f"cvimprover:revoked:jti:{jti}"


def _user_key(user_id: uuid.UUID) -> str:
    return f"cvimprover:revoked:user:{user_id}"


class TokenDenyList:
    def __init__(self, redis: Redis, *, access_token_ttl_seconds: int) -> None:
        self._redis = redis
        self._access_ttl = access_token_ttl_seconds

    async def deny(self, jti: str, expires_at: float) -> None:
        """Denies one token until its expiry (seconds since the epoch)."""
        ttl = math.ceil(expires_at - time.time())
        if ttl <= 0:
            return
        try:
            await self._redis.set(_jti_key(jti), b"1", ex=ttl)
        except (RedisError, OSError) as exc:
            raise RevocationUnavailable(type(exc).__name__) from None

    async def deny_user_before(self, user_id: uuid.UUID, issued_before: float) -> None:
        """Voids every access token of the user issued before this instant (kept as long as a token lives)."""
        try:
            await self._redis.set(_user_key(user_id), repr(issued_before).encode(), ex=self._access_ttl + 60)
        except (RedisError, OSError) as exc:
            raise RevocationUnavailable(type(exc).__name__) from None

    async def is_revoked(self, jti: str, user_id: uuid.UUID, issued_at: float) -> bool:
        """One round trip for both checks."""
        try:
            denied, cutoff = await self._redis.mget([_jti_key(jti), _user_key(user_id)])
        except (RedisError, OSError) as exc:
            log.warning("token deny-list unavailable (%s): refusing authenticated requests", type(exc).__name__)
            raise RevocationUnavailable(type(exc).__name__) from None
        return denied is not None or (cutoff is not None and issued_at < float(cutoff))

"""Sliding-window rate limits in Redis (a sorted set of attempt times per key, checked and updated atomically
by one Lua script).

When Redis is down the limits fail OPEN: the attempt is allowed and a warning is logged. The limited endpoints
(sign-in, password-reset mail) are how people get into their accounts, so an outage of the limiter must not lock
everyone out; brute force stays slow meanwhile because each sign-in verifies an argon2id hash, and reset tokens
are random 256-bit values that cannot be guessed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS[1] the window key; ARGV: now (ms), window (ms), limit, a unique member.
# Returns {1, 0} when allowed (and records the attempt), {0, ms until the oldest attempt leaves the window}.
_SLIDING_WINDOW = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""


@dataclass(frozen=True)
class Limit:
    scope: str  # e.g. "login:email"
    subject: str  # the e-mail address or client address; only its hash reaches Redis
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # whole seconds, 0 when allowed


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_SLIDING_WINDOW)

    async def hit(self, *limits: Limit) -> Decision:
        """Counts one attempt against every limit; refused when any is exhausted (refused attempts are not
        counted). Fails open when Redis cannot answer."""
        retry_after = 0
        now_ms = int(time.time() * 1000)
        for limit in limits:
            digest = hashlib.sha256(limit.subject.strip().lower().encode()).hexdigest()[:32]
            key = f"cvimprover:ratelimit:{limit.scope}:{digest}"
            try:
                allowed, wait_ms = await self._script(
                    keys=[key],
                    args=[now_ms, limit.window_seconds * 1000, limit.limit, f"{now_ms}-{secrets.token_hex(6)}"],
                )
            except (RedisError, OSError) as exc:
                log.warning("rate limiter unavailable (%s): allowing %s attempt", type(exc).__name__, limit.scope)
                continue
            if not allowed:
                retry_after = max(retry_after, max(1, math.ceil(int(wait_ms) / 1000)))
        return Decision(allowed=retry_after == 0, retry_after=retry_after)

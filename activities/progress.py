"""Progress events of improvements over Redis pub/sub, for live streaming. PostgreSQL holds the truth."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncGenerator
from dataclasses import asdict, dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProgressEvent:
    stage: str
    percent: int
    error_code: str | None = None
    error_message: str | None = None


def _channel(improvement_id: uuid.UUID) -> str:
    return f"cvimprover:improvement:{improvement_id}:progress"


class ProgressBus:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, improvement_id: uuid.UUID, event: ProgressEvent) -> None:
        """Best effort: a Redis outage must not fail a run, listeners fall back to polling."""
        try:
            await self._redis.publish(_channel(improvement_id), json.dumps(asdict(event)))
        except (RedisError, OSError) as exc:
            log.warning("progress publish failed: %s", type(exc).__name__)

    async def subscribe(self, improvement_id: uuid.UUID, *, poll_seconds: float) -> AsyncGenerator[ProgressEvent | None, None]:
        """Yields events as they come, and None every `poll_seconds` without one (time to re-read the row)."""
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(_channel(improvement_id))
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=poll_seconds)
                if message is None:
                    yield None
                    continue
                yield ProgressEvent(**json.loads(message["data"]))
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

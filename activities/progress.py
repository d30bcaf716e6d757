"""Progress events of improvements over Redis pub/sub, for live streaming. PostgreSQL holds the truth."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
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

    @asynccontextmanager
    async def subscription(
        self, improvement_id: uuid.UUID, *, poll_seconds: float
    ) -> AsyncIterator[AsyncIterator[ProgressEvent | None]]:
        """Subscribed before it yields, so nothing published afterwards is missed. The iterator gives events
        as they come, and None after `poll_seconds` without one; with Redis away it gives only None."""
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(_channel(improvement_id))
        except (RedisError, OSError) as exc:
            log.warning("progress subscribe failed: %s", type(exc).__name__)
            yield _ticks(poll_seconds)
        else:
            yield _messages(pubsub, poll_seconds)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _ticks(poll_seconds: float) -> AsyncIterator[ProgressEvent | None]:
    while True:
        await asyncio.sleep(poll_seconds)
        yield None


async def _messages(pubsub: PubSub, poll_seconds: float) -> AsyncIterator[ProgressEvent | None]:
    while True:
        try:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=poll_seconds)
        except (RedisError, OSError) as exc:
            log.warning("progress stream interrupted: %s", type(exc).__name__)
            await asyncio.sleep(poll_seconds)
            yield None
            continue
        yield None if message is None else ProgressEvent(**json.loads(message["data"]))

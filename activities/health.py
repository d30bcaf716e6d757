"""Readiness probes of PostgreSQL and Redis, with timeouts."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class HealthChecks:
    def __init__(self, engine: AsyncEngine, redis: Redis) -> None:
        self._engine = engine
        self._redis = redis

    async def postgres(self, timeout: float = 2.0) -> None:
        async def probe() -> None:
            async with self._engine.connect() as conn:
                await conn.execute(text("select 1"))

        await asyncio.wait_for(probe(), timeout)

    async def redis(self, timeout: float = 2.0) -> None:
        await asyncio.wait_for(self._redis.ping(), timeout)

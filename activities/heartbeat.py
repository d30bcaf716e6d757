"""Heartbeats around calls that can hang, so a dead worker's attempt is retried within the heartbeat timeout
instead of the activity's whole start-to-close timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio import activity

HEARTBEAT_SECONDS = 2.0


@asynccontextmanager
async def heartbeating(interval: float = HEARTBEAT_SECONDS) -> AsyncIterator[None]:
    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(interval)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()

"""Latency probes run during the load phase, to tell where a slow POST waits: the API's event loop
(GET /healthz), Temporal (StartWorkflowExecution on a task queue nobody polls) or PostgreSQL (SELECT 1)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client

from bench.stats import summary
from devstack.services import asyncpg_connect_args

PROBE_WORKFLOW = "BenchProbe"  # no worker knows it: a start costs Temporal the start only
PROBE_TASK_QUEUE = "bench-probe"


@dataclass
class Probes:
    api_url: str
    database_url: str
    temporal: Client
    interval: float = 1.0
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _http: httpx.AsyncClient | None = None
    _db: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._http = httpx.AsyncClient(base_url=self.api_url, timeout=30.0)
        self._db = await asyncpg.connect(**asyncpg_connect_args(self.database_url))
        http, db = self._http, self._db

        async def api() -> None:
            (await http.get("/healthz")).raise_for_status()

        async def postgres() -> None:
            await db.fetchval("SELECT 1")

        async def temporal() -> None:
            await self.temporal.start_workflow(
                PROBE_WORKFLOW, id=f"bench-probe-{uuid.uuid4()}", task_queue=PROBE_TASK_QUEUE
            )

        for name, probe in (("api_healthz", api), ("postgres_select_1", postgres), ("temporal_start", temporal)):
            self._tasks.append(asyncio.create_task(self._loop(name, probe)))

    async def _loop(self, name: str, probe: Callable[[], Awaitable[None]]) -> None:
        series = self.samples.setdefault(name, [])
        while True:
            started = time.perf_counter()
            try:
                await probe()
                series.append((time.perf_counter() - started) * 1000.0)
            except Exception:
                self.errors[name] = self.errors.get(name, 0) + 1
            await asyncio.sleep(max(0.0, self.interval - (time.perf_counter() - started)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._http is not None:
            await self._http.aclose()
        if self._db is not None:
            await self._db.close()

    def figures(self) -> dict[str, Any]:
        return {
            name: {**summary(values, 1), "errors": self.errors.get(name, 0)} for name, values in self.samples.items()
        }

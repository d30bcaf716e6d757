"""The stack under test, each part its own process as in production: PostgreSQL, Redis, a Temporal dev server
(in memory, headless), the fake OpenAI-compatible server, the fake Stripe (tests/fakes/stripe_server.py), the
worker (`python worker.py`) and the API (uvicorn, one process). Everything started here is stopped by `stop()`,
in reverse order, whatever happened."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil
import redis.asyncio
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.procs import ManagedProcess, launch, tail
from devstack.services import (
    DEFAULT_DATABASE_URL,
    DEFAULT_TEMPORAL_NAMESPACE,
    PostgresHandle,
    RedisHandle,
    TemporalDevServer,
    asyncpg_connect_args,
    create_database_if_missing,
    drop_database,
    ensure_postgres,
    ensure_redis,
    free_port,
    normalize_database_url,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "cvimprover_bench"
TASK_QUEUE = "cv-improver"
STRIPE_SECRET_KEY = "sk_test_bench"  # noqa: S105 - the fake Stripe takes any sk_test_ key
# The prices the migration seeds in `plans` (price id, product, cents, interval).
STRIPE_PRICES = (
    "price_pro_monthly:Pro:1500:month",
    "price_pro_yearly:Pro:15000:year",
    "price_premium_monthly:Premium:3900:month",
    "price_premium_yearly:Premium:39000:year",
)


class StackError(RuntimeError):
    """The stack could not be started; the message says which part and shows its log."""


@dataclass(frozen=True)
class StackConfig:
    latency: float
    log_dir: Path
    worker_nice: int = 5
    render_processes: int | None = None
    startup_timeout: float = 90.0


@dataclass
class Stack:
    config: StackConfig
    say: Callable[[str], None] = print
    postgres: PostgresHandle | None = None
    redis: RedisHandle | None = None
    temporal: TemporalDevServer | None = None
    llm: ManagedProcess | None = None
    stripe: ManagedProcess | None = None
    worker: ManagedProcess | None = None
    api: ManagedProcess | None = None
    api_url: str = ""
    llm_url: str = ""
    stripe_url: str = ""
    stripe_webhook_secret: str = field(default_factory=lambda: "whsec_bench_" + secrets.token_hex(16))
    postgres_pid: int | None = None
    redis_pid: int | None = None
    descriptions: dict[str, str] = field(default_factory=dict)
    _stops: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    # -- start

    @property
    def database_url(self) -> str:
        if self.postgres is None:
            raise StackError("PostgreSQL is not started")
        return self.postgres.url

    @property
    def temporal_address(self) -> str:
        if self.temporal is None:
            raise StackError("Temporal is not started")
        return self.temporal.address

    async def start(self) -> None:
        """Start every part and wait until each answers. On failure, what was started is stopped."""
        try:
            await self._start_postgres()
            await self._start_redis()
            await self._start_temporal()
            await self._start_llm()
            await self._start_stripe()
            await self._start_worker()
            await self._start_api()
        except BaseException:
            self.stop()
            raise

    async def _start_postgres(self) -> None:
        base = normalize_database_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        url = make_url(base).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
        handle = await ensure_postgres(url, ROOT / ".dev" / "bench-pgdata")
        self.postgres = handle
        self._stops.append(("postgres", handle.stop))
        if handle.note:
            self.say(f"  note: {handle.note}")
        await drop_database(handle.url)
        await create_database_if_missing(handle.url)
        env = {**os.environ, "DATABASE_URL": handle.url}
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"alembic upgrade head failed:\n{result.stdout}\n{result.stderr}")
        conn = await asyncpg.connect(**asyncpg_connect_args(handle.url))
        try:
            self.postgres_pid = await _postmaster_pid(conn)
        finally:
            await conn.close()
        self.descriptions["postgres"] = f"{handle.description} (dropped, created, migrated)"

    async def _start_redis(self) -> None:
        # Its own Redis database, emptied: rate-limit windows and events of the dev stack stay apart.
        handle = await ensure_redis(
            os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"), ROOT / ".dev" / "bench-redis"
        )
        self.redis = handle
        self._stops.append(("redis", handle.stop))
        if handle.note:
            self.say(f"  note: {handle.note}")
        client = redis.asyncio.Redis.from_url(handle.url)
        try:
            await client.flushdb()
            info = await client.info("server")
            self.redis_pid = _local_pid(int(info.get("process_id", 0)), "redis")
        finally:
            await client.aclose()
        self.descriptions["redis"] = handle.description

    async def _start_temporal(self) -> None:
        server = TemporalDevServer(
            headless=True,
            db_filename=None,  # in memory
            log_path=self.config.log_dir / "temporal.log",
            log_level="warn",
            startup_timeout=self.config.startup_timeout,
        )
        self.temporal = server
        self._stops.append(("temporal", server.stop))
        await server.start()
        self.descriptions["temporal"] = f"temporal dev server on {server.address} (pid {server.pid}, in memory)"

    def _child_env(self) -> dict[str, str]:
        env = {
            key: value for key, value in os.environ.items() if not key.startswith(("TEMPORAL_", "OPENAI_", "STRIPE_"))
        }
        env.update(
            {
                "ENV": "development",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis.url if self.redis else "",
                "TEMPORAL_ADDRESS": self.temporal_address,
                "TEMPORAL_NAMESPACE": DEFAULT_TEMPORAL_NAMESPACE,
                "TEMPORAL_TASK_QUEUE": TASK_QUEUE,
                "JWT_SECRET": secrets.token_urlsafe(32),
                "OPENAI_API_KEY": "sk-bench",
                "OPENAI_BASE_URL": self.llm_url,
                "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
                "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
                "STRIPE_API_BASE": self.stripe_url,
                "PYTHONUNBUFFERED": "1",
                # Every bench client signs in from this one address.
                "LOGIN_LIMIT_PER_ADDRESS": "1000000",
                "PASSWORD_FORGOT_LIMIT_PER_ADDRESS": "1000000",
            }
        )
        if self.config.render_processes is not None:
            env["RENDER_PROCESSES"] = str(self.config.render_processes)
        return env

    async def _start_llm(self) -> None:
        port = free_port()
        self.llm = launch(
            "fake-openai",
            [
                sys.executable,
                "-m",
                "tests.fakes.openai_server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--latency",
                str(self.config.latency),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            log_dir=self.config.log_dir,
        )
        self._stops.append(("fake-openai", self.llm.stop))
        self.llm_url = f"http://127.0.0.1:{port}/v1"
        await self._wait_http(self.llm, f"http://127.0.0.1:{port}/v1/models", accept_any_status=True)
        self.descriptions["llm"] = (
            f"fake OpenAI server on 127.0.0.1:{port} (pid {self.llm.pid}), latency {self.config.latency:g} s"
        )

    async def _start_stripe(self) -> None:
        port = free_port()
        prices = [arg for price in STRIPE_PRICES for arg in ("--price", price)]
        self.stripe = launch(
            "fake-stripe",
            [
                sys.executable,
                "-m",
                "tests.fakes.stripe_server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webhook-secret",
                self.stripe_webhook_secret,
                *prices,
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            log_dir=self.config.log_dir,
        )
        self._stops.append(("fake-stripe", self.stripe.stop))
        self.stripe_url = f"http://127.0.0.1:{port}"
        await self._wait_http(self.stripe, f"{self.stripe_url}/_test/clock")
        price_ids = ", ".join(p.split(":")[0] for p in STRIPE_PRICES)
        self.descriptions["stripe"] = (
            f"fake Stripe on 127.0.0.1:{port} (pid {self.stripe.pid}), prices {price_ids}; webhooks sent by the bench"
        )

    async def _start_worker(self) -> None:
        # DESIGN section 9: keep the API responsive while the worker saturates the cores.
        self.worker = launch(
            "worker",
            [sys.executable, "worker.py"],
            cwd=ROOT,
            env=self._child_env(),
            log_dir=self.config.log_dir,
            nice=self.config.worker_nice,
            stop_timeout=40.0,  # graceful shutdown lets in-flight activities finish (30 s)
        )
        self._stops.append(("worker", self.worker.stop))
        await self._wait_worker_polling(self.worker)
        self.descriptions["worker"] = (
            f"python worker.py (pid {self.worker.pid}, nice +{self.config.worker_nice}), task queue {TASK_QUEUE}"
        )

    async def _start_api(self) -> None:
        port = free_port()
        self.api = launch(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self._child_env(),
            log_dir=self.config.log_dir,
        )
        self._stops.append(("api", self.api.stop))
        self.api_url = f"http://127.0.0.1:{port}"
        await self._wait_http(self.api, f"{self.api_url}/healthz")
        self.descriptions["api"] = f"uvicorn api.app:create_app, 1 process, on {self.api_url} (pid {self.api.pid})"

    # -- readiness

    async def _wait_http(self, process: ManagedProcess, url: str, *, accept_any_status: bool = False) -> None:
        deadline = time.monotonic() + self.config.startup_timeout
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                if not process.running:
                    raise StackError(process.describe_exit())
                with contextlib.suppress(httpx.HTTPError):
                    response = await http.get(url)
                    if accept_any_status or response.status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise StackError(
                        f"{process.name} did not answer {url} within {self.config.startup_timeout:.0f} s; "
                        f"log {process.log_path}:\n{tail(process.log_path)}"
                    )
                await asyncio.sleep(0.2)

    async def _wait_worker_polling(self, process: ManagedProcess) -> None:
        """Until the worker polls both the workflow and the activity task queue."""
        client = await self.temporal_client()
        deadline = time.monotonic() + self.config.startup_timeout
        while True:
            if not process.running:
                raise StackError(process.describe_exit())
            polling = True
            for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
                described = await client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=DEFAULT_TEMPORAL_NAMESPACE,
                        task_queue=TaskQueue(name=TASK_QUEUE),
                        task_queue_type=kind,
                    ),
                    timeout=timedelta(seconds=5),
                )
                polling = polling and len(described.pollers) > 0
            if polling:
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"the worker did not poll task queue {TASK_QUEUE} within {self.config.startup_timeout:.0f} s; "
                    f"log {process.log_path}:\n{tail(process.log_path)}"
                )
            await asyncio.sleep(0.2)

    async def temporal_client(self) -> Client:
        return await Client.connect(
            self.temporal_address, namespace=DEFAULT_TEMPORAL_NAMESPACE, data_converter=pydantic_data_converter
        )

    def stopped_unexpectedly(self) -> list[str]:
        """Descriptions of bench children that died while they should be running."""
        return [
            p.describe_exit() for p in (self.llm, self.stripe, self.worker, self.api) if p is not None and not p.running
        ]

    # -- stop

    def stop(self) -> None:
        """Stop everything we started, last started first. Idempotent; never raises."""
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception as exc:  # keep stopping the others
                self.say(f"  could not stop {name}: {type(exc).__name__}: {exc}")


async def _postmaster_pid(conn: asyncpg.Connection) -> int | None:
    """The pid of the PostgreSQL server (parent of our backend) if it runs on this machine, else None."""
    backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
    try:
        process = psutil.Process(backend)
        parent = process.parent()
        if parent is None or "postgres" not in (process.name() + parent.name()).lower():
            return None  # a server elsewhere: the pid is not ours to watch
    except psutil.Error:
        return None
    return int(parent.pid)


def _local_pid(pid: int, name_part: str) -> int | None:
    """`pid` if a process of that name runs here (the server is local), else None."""
    try:
        return pid if pid and name_part in psutil.Process(pid).name().lower() else None
    except psutil.Error:
        return None

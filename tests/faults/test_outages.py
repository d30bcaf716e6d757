"""Outages of what the stack depends on: Temporal, PostgreSQL and Redis restarted under load, the LLM down.

Each test stops PRIVATE servers of its own (never the machine's shared PostgreSQL or Redis): a PostgreSQL
cluster from Debian's binaries, a `redis-server`, a Temporal dev server with a database file.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.testing import WorkflowEnvironment

from alembic import command
from devstack.services import TemporalDevServer, create_database_if_missing, free_port
from models.settings import Settings
from ops.temporal import connect
from tests.conftest import ROOT, SAMPLES, Stack, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply

CV = (SAMPLES / "jane-doe-cv.md").read_bytes()
TARGET = {"position": "Senior Backend Engineer", "job_description": (SAMPLES / "job-senior-backend.txt").read_text()}
STAGES = ["reserving", "extracting", "rewriting", "verifying", "scoring", "rendering", "storing", "completed"]


# --- private servers ----------------------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of its own on a free port (run as `postgres` when we are root: initdb refuses root)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="cvimprover-outage-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/cvimprover"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres")

    def _run(self, tool: str, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        subprocess.run([*prefix, str(self.bindir / tool), *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """`redis-server` on a free port, without persistence; stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                subprocess.run(["sleep", "0.05"], check=False)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.wait(10)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _pg_bin()
    if bindir is None or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    server = PrivatePostgres(bindir)
    try:
        server.init()
        server.start()
        asyncio.run(create_database_if_missing(server.url))
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["database_url"] = server.url
        config.attributes["configure_logging"] = False
        command.upgrade(config, "head")
        yield server
    finally:
        server.remove()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


# --- helpers ------------------------------------------------------------------------------------------------


async def _start_run(stack: Stack, headers: dict[str, str]) -> str:
    cv = await stack.upload(headers, "cv.md", CV)
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 202, r.text
    return str(r.json()["improvement_id"])


async def _ledger(database_url: str, improvement_ids: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """(usage status by improvement, renditions by improvement), read from PostgreSQL itself."""
    engine = create_async_engine(database_url)
    ids = [uuid.UUID(i) for i in improvement_ids]
    try:
        async with engine.connect() as conn:
            usage = await conn.execute(
                text("SELECT improvement_id, status FROM usage WHERE improvement_id = ANY(:ids)"), {"ids": ids}
            )
            renditions = await conn.execute(
                text(
                    "SELECT improvement_id, count(*) FROM renditions WHERE improvement_id = ANY(:ids) "
                    "GROUP BY improvement_id"
                ),
                {"ids": ids},
            )
            return {str(i): s for i, s in usage}, {str(i): n for i, n in renditions}
    finally:
        await engine.dispose()


async def _set_plan(database_url: str, headers: dict[str, str], stack: Stack, plan: str) -> None:
    me = (await stack.http.get("/me", headers=headers)).json()
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE users SET plan_code = :p WHERE id = :id"), {"p": plan, "id": me["id"]})
    finally:
        await engine.dispose()


async def _until(predicate: Any, timeout: float, what: str) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _llm_calls(fake: FakeOpenAI) -> int:
    return sum(1 for q in fake.requests if q.path.endswith("/chat/completions"))


def _assert_unavailable(r: Any, code: str) -> None:
    assert r.status_code == 503, (r.status_code, r.text)
    assert r.headers["retry-after"].isdigit() and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.text


# --- Temporal ------------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def temporal_server() -> AsyncIterator[TemporalDevServer]:
    folder = Path(tempfile.mkdtemp(prefix="cvimprover-outage-temporal-"))
    server = TemporalDevServer(headless=True, db_filename=folder / "temporal.db", log_level="error")
    await server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def test_temporal_restart_mid_flight_completes_every_run_once(
    temporal_server: TemporalDevServer, base_settings: Settings, fake_llm: FakeOpenAI
) -> None:
    settings = llm_settings(base_settings, "outage-temporal", fake_llm.base_url).model_copy(
        update={"temporal_address": temporal_server.address, "render_processes": 2}
    )
    fake_llm.set_latency(1.0)  # the rewrites are in flight when the server goes away
    client = await connect(settings)
    async with open_stack(WorkflowEnvironment.from_client(client), settings, client=client) as stack:
        headers = await stack.user()
        await _set_plan(settings.database_url, headers, stack, "premium")
        ids = [await _start_run(stack, headers) for _ in range(20)]
        await _until(lambda: _llm_calls(fake_llm) >= 5, 30, "rewrites in flight")

        port, db_file = temporal_server.port, temporal_server.db_filename
        temporal_server.stop()
        usage, _ = await _ledger(settings.database_url, ids)
        assert list(usage.values()).count("consumed") < 20, "every run ended before the outage: nothing was tested"
        cv = await stack.upload(headers, "cv.md", CV)
        r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
        _assert_unavailable(r, "temporarily_unavailable")
        assert (await stack.http.get(f"/improvements/{ids[0]}", headers=headers)).status_code == 200  # reads work
        await asyncio.sleep(2)
        restarted = TemporalDevServer(headless=True, port=port, db_filename=db_file, log_level="error")
        await restarted.start()
        try:
            # The same worker and API client, never rebuilt: they reconnect by themselves.
            results = [await stack.wait_finished(headers, i, timeout=60) for i in ids]
        finally:
            restarted.stop()
    assert [r["stage"] for r in results] == ["completed"] * 20, [(r["stage"], r["error"]) for r in results]
    usage, renditions = await _ledger(settings.database_url, ids)
    assert usage == dict.fromkeys(ids, "consumed")
    assert renditions == dict.fromkeys(ids, 1)


# --- PostgreSQL ----------------------------------------------------------------------------------------------


async def test_postgres_restart_answers_503_then_the_run_completes_once(
    temporal_env: WorkflowEnvironment, base_settings: Settings, private_postgres: PrivatePostgres, fake_llm: FakeOpenAI
) -> None:
    settings = llm_settings(base_settings, "outage-postgres", fake_llm.base_url).model_copy(
        update={"database_url": private_postgres.url}
    )
    fake_llm.set_latency(2.0)  # the run is mid-rewrite when PostgreSQL goes away
    async with open_stack(temporal_env, settings) as stack:
        email = f"pg-{uuid.uuid4().hex[:8]}@example.com"
        headers = await stack.user(email)
        improvement_id = await _start_run(stack, headers)
        await _until(lambda: _llm_calls(fake_llm) >= 1, 30, "the rewrite")

        private_postgres.stop()
        try:
            _assert_unavailable(await stack.http.get("/cvs", headers=headers), "database_unavailable")
            r = await stack.http.get(f"/improvements/{improvement_id}", headers=headers)
            _assert_unavailable(r, "database_unavailable")
            login = {"email": email, "password": "correct horse battery"}
            _assert_unavailable(await stack.http.post("/auth/login", json=login), "database_unavailable")
            await asyncio.sleep(1)
        finally:
            private_postgres.start()

        result = await stack.wait_finished(headers, improvement_id, timeout=60)
        assert result["stage"] == "completed", result
        assert (await stack.http.get("/cvs", headers=headers)).status_code == 200
    usage, renditions = await _ledger(settings.database_url, [improvement_id])
    assert usage == {improvement_id: "consumed"} and renditions == {improvement_id: 1}


# --- Redis ---------------------------------------------------------------------------------------------------


async def test_redis_down_degrades_and_streaming_recovers(
    temporal_env: WorkflowEnvironment, base_settings: Settings, private_redis: PrivateRedis
) -> None:
    settings = base_settings.model_copy(update={"redis_url": private_redis.url, "temporal_task_queue": "outage-redis"})
    async with open_stack(temporal_env, settings) as stack:
        email = f"redis-{uuid.uuid4().hex[:8]}@example.com"
        await stack.user(email)
        private_redis.stop()

        # Sign-in: the rate limit fails open.
        r = await stack.http.post("/auth/login", json={"email": email, "password": "correct horse battery"})
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        # Authenticated requests: revocation is read from PostgreSQL.
        assert (await stack.http.get("/me", headers=headers)).status_code == 200
        # The entitlement cache misses and reads PostgreSQL.
        r = await stack.http.get("/billing/subscription", headers=headers)
        assert r.status_code == 200 and r.json()["plan"] == "free", r.text
        # A run completes: its progress events are lost, not its work.
        improvement_id = await _start_run(stack, headers)
        result = await stack.wait_finished(headers, improvement_id)
        assert result["stage"] == "completed", result

        private_redis.start()
        second = await _start_run(stack, headers)
        stages = await stack.progress_stages(headers, second)
        # Every stage, in order: only pub/sub delivers them all (the fallback polls every 2 s).
        seen = [s for s in stages if s != "queued"]
        assert len(seen) >= 6 and seen == STAGES[STAGES.index(seen[0]) :], stages
    usage, _ = await _ledger(settings.database_url, [improvement_id, second])
    assert usage == {improvement_id: "consumed", second: "consumed"}


# --- the LLM -------------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def llm_stack(
    temporal_env: WorkflowEnvironment, base_settings: Settings, fake_llm: FakeOpenAI
) -> AsyncIterator[Stack]:
    settings = llm_settings(base_settings, "outage-llm", fake_llm.base_url)
    async with open_stack(temporal_env, settings) as stack:
        yield stack


# The policy backs off 2, 4, 8, 16, 32, 60 s: 6 failed attempts span the first 2 minutes of an outage. The fake
# answers each 503 with `retry-after-ms: 50`, which the engine honours, so those 2 minutes take a second here.
OUTAGE_2_MINUTES = 6
POLICY_ATTEMPTS = 15


async def test_llm_down_for_two_minutes_the_run_waits_and_completes(llm_stack: Stack, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(*[Reply.server_error(503, retry_after_ms=50)] * OUTAGE_2_MINUTES)
    headers = await llm_stack.user()
    improvement_id = await _start_run(llm_stack, headers)
    result = await llm_stack.wait_finished(headers, improvement_id, timeout=60)
    assert result["stage"] == "completed", result
    assert result["engine"] != "offline"
    assert _llm_calls(fake_llm) == OUTAGE_2_MINUTES + 1
    usage, _ = await _ledger(llm_stack.settings.database_url, [improvement_id])
    assert usage == {improvement_id: "consumed"}


@pytest.mark.parametrize(
    ("replies", "code", "words"),
    [
        ([Reply.server_error(503, retry_after_ms=50)] * POLICY_ATTEMPTS, "LlmUnavailable", "every retry"),
        ([Reply.bad_request()], "LlmInvalidRequest", "rejected the request"),
    ],
    ids=["503-until-the-policy-gives-up", "400-at-once"],
)
async def test_a_permanently_failing_llm_ends_with_a_clear_error_and_a_refund(
    llm_stack: Stack, fake_llm: FakeOpenAI, replies: list[Reply], code: str, words: str
) -> None:
    fake_llm.script(*replies)
    headers = await llm_stack.user()
    improvement_id = await _start_run(llm_stack, headers)
    result = await llm_stack.wait_finished(headers, improvement_id, timeout=60)
    assert result["stage"] == "failed", result
    assert result["error"]["code"] == code, result["error"]
    assert words in result["error"]["message"] and "quota unit was refunded" in result["error"]["message"]
    assert _llm_calls(fake_llm) == len(replies)
    usage, _ = await _ledger(llm_stack.settings.database_url, [improvement_id])
    assert usage == {improvement_id: "refunded"}
    me = (await llm_stack.http.get("/me", headers=headers)).json()
    assert me["quota"]["used"] == 0

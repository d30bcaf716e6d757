"""Fixtures for the dev-stack tests: the machine's servers when they answer, scratch databases, stand-ins."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from devstack.services import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    drop_database,
    free_port,
    postgres_unreachable_reason,
    redis_unreachable_reason,
)


@pytest_asyncio.fixture
async def local_postgres_url() -> str:
    """The machine's PostgreSQL server (default URL, `postgres` database); skips when none answers."""
    reason = await postgres_unreachable_reason(DEFAULT_DATABASE_URL)
    if reason is not None:
        pytest.skip(f"no local PostgreSQL at 127.0.0.1:5432 ({reason})")
    return DEFAULT_DATABASE_URL


@pytest_asyncio.fixture
async def local_redis_url() -> str:
    reason = await redis_unreachable_reason(DEFAULT_REDIS_URL)
    if reason is not None:
        pytest.skip(f"no local Redis at 127.0.0.1:6379 ({reason})")
    return DEFAULT_REDIS_URL


@pytest_asyncio.fixture
async def scratch_database_url() -> AsyncIterator[str]:
    """A database name on the local server nobody uses; dropped afterwards if the test created it."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/devstack_test_{uuid.uuid4().hex[:12]}"
    yield url
    if await postgres_unreachable_reason(url) is None:
        await drop_database(url)


@pytest.fixture
def unreachable_postgres_url() -> str:
    # A port nobody listens on: connection refused at once.
    return f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/devstack_embedded"


@pytest.fixture
def unreachable_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/2"


STANDIN_API = '''\
"""Stand-in for api/app.py: reports the environment the launcher gave it."""
import json
import os
from pathlib import Path

from fastapi import FastAPI

KEYS = ("DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_UI_URL")


def create_app() -> FastAPI:
    app = FastAPI()
    Path("api-env.json").write_text(json.dumps({key: os.environ.get(key) for key in KEYS}))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
'''

STANDIN_WORKER = '''\
"""Stand-in for worker.py: runs until SIGTERM, or crashes after STANDIN_WORKER_CRASH_AFTER seconds."""
import os
import signal
import sys
import time
from pathlib import Path


def stop(*_: object) -> None:
    Path("worker-stopped").write_text("SIGTERM")
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
print("worker started", flush=True)
crash_after = float(os.environ.get("STANDIN_WORKER_CRASH_AFTER") or "inf")
started = time.monotonic()
while time.monotonic() - started < crash_after:
    time.sleep(0.05)
print("worker crashing on purpose", flush=True)
sys.exit(3)
'''

STANDIN_ALEMBIC_ENV = """\
import os
from pathlib import Path

Path("migrated-with").write_text(os.environ["DATABASE_URL"])
"""


@pytest.fixture
def standin_root(tmp_path: Path) -> Path:
    """A repository with stand-ins for api/app.py, worker.py and the Alembic migrations."""
    root = tmp_path / "repo"
    (root / "api").mkdir(parents=True)
    (root / "alembic").mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "api" / "__init__.py").write_text("")
    (root / "api" / "app.py").write_text(STANDIN_API)
    (root / "worker.py").write_text(STANDIN_WORKER)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    (root / "alembic" / "env.py").write_text(STANDIN_ALEMBIC_ENV)
    return root

"""A real `worker.py` process for tests that stop or kill it, pointed at the test services and an LLM server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from models.settings import Settings
from tests.conftest import ROOT
from tests.fakes.openai_server import FakeOpenAI


def start_worker(
    settings: Settings, address: str, queue: str, llm_url: str, log: Path, **extra_env: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_TASK_QUEUE": queue,
        "OPENAI_API_KEY": "sk-worker-process-test",
        "OPENAI_BASE_URL": llm_url,
        "RENDER_PROCESSES": "1",
        "WORKER_METRICS_PORT": "0",  # several test workers at once: no port to share
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")], env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


async def wait_until_llm_called(llm: FakeOpenAI, log: Path, timeout: float = 30.0) -> None:
    """Until the worker's rewrite has reached the LLM server (the activity is in flight)."""
    for _ in range(int(timeout / 0.05)):
        if any(q.path.endswith("/chat/completions") for q in llm.requests):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the rewrite never reached the LLM:\n" + log.read_text()[-3000:])

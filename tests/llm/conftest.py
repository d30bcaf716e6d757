"""A fake OpenAI server for the engine tests, and the engine wired to it through the real SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai import AsyncOpenAI

from activities.llm import OpenAIEngine
from tests.fakes.openai_server import FakeOpenAI

MODEL = "gpt-test"


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The shared server with no scripted replies, no recorded requests and no latency."""
    fake_server.reset()
    fake_server.set_latency(0)
    yield fake_server
    fake_server.reset()


@pytest.fixture
def engine(fake: FakeOpenAI) -> OpenAIEngine:
    # As the worker builds it: SDK retries off, a timeout (short here, for the slow-server test).
    client = AsyncOpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0, timeout=1.0)
    return OpenAIEngine(client, MODEL)

"""Fixtures of the eval suite: the OpenAI-compatible test server with the engine wired to it through the real
SDK, and a stack (API + worker) whose rewrite engine is that server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from openai import AsyncOpenAI
from temporalio.testing import WorkflowEnvironment

from activities.llm import OpenAIEngine
from models.settings import Settings
from tests.conftest import Stack, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI

MODEL = "gpt-eval"


@pytest.fixture(scope="session")
def eval_llm_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake_llm(eval_llm_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The server with no scripted replies and no recorded requests."""
    eval_llm_server.reset()
    yield eval_llm_server
    eval_llm_server.reset()


@pytest.fixture
def openai_engine(fake_llm: FakeOpenAI) -> OpenAIEngine:
    # As the worker builds it: SDK retries off.
    client = AsyncOpenAI(base_url=fake_llm.base_url, api_key="sk-eval", max_retries=0, timeout=10.0)
    return OpenAIEngine(client, MODEL)


@pytest_asyncio.fixture(scope="session")
async def eval_llm_stack(
    temporal_env: WorkflowEnvironment, base_settings: Settings, eval_llm_server: FakeOpenAI
) -> AsyncIterator[Stack]:
    """API and worker whose rewrite engine is the OpenAI engine against the test server."""
    settings = llm_settings(base_settings, "cv-improver-evals-llm", eval_llm_server.base_url)
    async with open_stack(temporal_env, settings) as stack:
        yield stack

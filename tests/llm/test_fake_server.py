"""The fake OpenAI server's own surface: control endpoints for other processes, and the standalone CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from openai import AsyncOpenAI, RateLimitError

from tests.fakes.openai_server import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parents[2]


async def test_another_process_can_script_replies_and_read_requests(fake: FakeOpenAI) -> None:
    async with httpx.AsyncClient(base_url=fake.url) as control:
        r = await control.post("/_control/script", json={"replies": [Reply.rate_limited(retry_after=2).to_json()]})
        assert r.json() == {"queued": 1}
        client = AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
        with pytest.raises(RateLimitError) as info:
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert info.value.response.headers["retry-after"] == "2"
        answer = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "OK"
        recorded = (await control.get("/_control/requests")).json()
        assert [r["path"] for r in recorded] == ["/v1/chat/completions", "/v1/chat/completions"]
        assert recorded[0]["headers"]["x-stainless-retry-count"] == "0"
        assert recorded[0]["body"]["messages"] == [{"role": "user", "content": "hi"}]
        await control.post("/_control/reset")
        assert (await control.get("/_control/requests")).json() == []


async def test_latency_can_be_set_over_http(fake: FakeOpenAI) -> None:
    async with httpx.AsyncClient(base_url=fake.url) as control:
        await control.post("/_control/script", json={"latency": 0.3})
        client = AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
        started = time.monotonic()
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert time.monotonic() - started >= 0.3


def test_reply_json_round_trip() -> None:
    for reply in [Reply.slow(1.5), Reply.rate_limited(retry_after_ms=200), Reply.invent_employer("Initrode")]:
        assert Reply.from_json(reply.to_json()) == reply


def test_the_cli_serves_with_latency() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(port), "--latency", "0.2"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the fake server did not start"
                time.sleep(0.1)
        started = time.monotonic()
        r = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert r.status_code == 200
        assert time.monotonic() - started >= 0.2
    finally:
        process.terminate()
        process.wait(timeout=10)

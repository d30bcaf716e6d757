"""`cvimprover improve` against a real HTTP server running the API, with a worker behind it."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from pypdf import PdfReader
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from api.app import create_app
from cli.main import app as cli_app
from models.settings import Settings
from tests.conftest import SAMPLES, open_stack


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def api_url(temporal_env: WorkflowEnvironment, base_settings: Settings) -> Iterator[str]:
    """The API served over real HTTP by uvicorn in a thread, on the CLI test's task queue."""
    address = temporal_env.client.service_client.config.target_host
    settings = base_settings.model_copy(update={"temporal_task_queue": "cv-improver-cli", "temporal_address": address})
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


async def _run_cli(args: list[str]) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, args)
    return result.exit_code, result.output


async def test_improve_command_writes_the_pdf(
    temporal_env: WorkflowEnvironment, base_settings: Settings, api_url: str, tmp_path: Path
) -> None:
    settings = base_settings.model_copy(update={"temporal_task_queue": "cv-improver-cli"})
    out = tmp_path / "improved.pdf"
    args = [
        "improve", str(SAMPLES / "jane-doe-cv.md"), "--job", str(SAMPLES / "job-senior-backend.txt"),
        "--theme", "modern", "--out", str(out), "--api-url", api_url,
        "--email", f"cli-{uuid.uuid4().hex[:12]}@example.com", "--password", "a long cli password", "--register",
    ]  # fmt: skip
    async with open_stack(temporal_env, settings):  # the worker for the API's task queue
        code, output = await _run_cli(args)
        assert code == 0, output
        assert "Done with engine offline" in output and "Temporal UI:" in output and "cv-improvement-" in output
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
        assert "Jane Doe" in text and "Brightwave Payments" in text

        # Wrong credentials and an unknown theme are told plainly, with a non-zero exit.
        code, output = await _run_cli([*args[:-3], "--password", "wrong password!"])
        assert code == 1 and "e-mail address or the password is wrong" in output
        code, output = await _run_cli([*args[:4], "--theme", "neon", *args[6:]])
        assert code == 1 and "Unknown theme" in output

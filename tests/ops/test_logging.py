"""Logs: one request's id reaches the API's line, the workflow's and every activity's, with the user, workflow and
run ids; JSON lines parse; a hostile X-Request-ID is replaced; a real process logs JSON in production."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from ops.logging import log_handler
from tests.conftest import ROOT, SAMPLES, Stack

TARGET = {"position": "Senior Backend Engineer", "job_description": (SAMPLES / "job-senior-backend.txt").read_text()}


@contextmanager
def json_lines(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Everything logged meanwhile, rendered as production renders it (the JSON handler on the root logger)."""
    caplog.set_level(logging.INFO)
    out = io.StringIO()
    handler = log_handler(json_format=True, stream=out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)


def parse(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_one_request_id_from_the_api_through_workflow_and_activities(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    headers = await stack.user()
    user_id = (await stack.http.get("/me", headers=headers)).json()["id"]
    cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    with json_lines(caplog) as out:
        r = await stack.http.post(
            f"/cvs/{cv['id']}/improvements", headers={**headers, "X-Request-ID": "test-req-123"}, json=TARGET
        )
        assert r.status_code == 202, r.text
        assert r.headers["X-Request-ID"] == "test-req-123"
        accepted = r.json()
        finished = await stack.wait_finished(headers, accepted["improvement_id"])
        assert finished["stage"] == "completed"
    lines = parse(out)  # every line is JSON
    mine = [line for line in lines if line.get("request_id") == "test-req-123"]

    [api_line] = [line for line in mine if line["logger"] == "cvimprover.api.requests"]
    assert api_line["message"].startswith(f"POST /cvs/{cv['id']}/improvements 202 ")
    assert api_line["user_id"] == user_id
    assert api_line["level"] == "info" and "timestamp" in api_line
    assert "workflow_id" not in api_line  # the API line is about the request, not a run

    ids = {"workflow_id": accepted["workflow_id"], "run_id": accepted["run_id"], "user_id": user_id}
    workflow_lines = [line for line in mine if line["logger"] == "temporalio.workflow"]
    assert workflow_lines, "the workflow's own lines"
    assert any("started" in line["message"] for line in workflow_lines)
    for line in workflow_lines:
        assert {k: line.get(k) for k in ids} == ids, line

    activity_lines = [line for line in mine if line["logger"] == "cvimprover.pipeline"]
    activities = {line.get("activity") for line in activity_lines}
    assert activities == {
        "reserve_quota",
        "extract_cv",
        "rewrite_cv",
        "verify_rewrite",
        "score_cv",
        "render_pdf",
        "complete_improvement",
    }
    for line in activity_lines:
        assert {k: line.get(k) for k in ids} == ids, line

    # The polls that followed were requests of their own, with ids of their own.
    polls = [line for line in lines if line["logger"] == "cvimprover.api.requests" and line not in mine]
    assert polls and all(uuid.UUID(line["request_id"]) for line in polls)


async def test_temporal_activity_logger_extra_gives_the_ids(caplog: pytest.LogCaptureFixture) -> None:
    """Where no interceptor bound a context, activity.logger's own `extra` still names workflow, run and activity."""

    @activity.defn(name="say_hello")
    async def say_hello() -> None:
        activity.logger.info("hello from the activity logger")

    env = ActivityEnvironment()
    with json_lines(caplog) as out:
        await env.run(say_hello)
    [line] = [line for line in parse(out) if line["logger"] == "temporalio.activity"]
    assert line["message"].startswith("hello from the activity logger")
    assert line["workflow_id"] == env.info.workflow_id and line["run_id"] == env.info.workflow_run_id
    assert line["activity"] == env.info.activity_type


async def test_request_id_is_made_when_missing_and_replaced_when_hostile(stack: Stack) -> None:
    made = (await stack.http.get("/healthz")).headers["X-Request-ID"]
    assert uuid.UUID(made)
    kept = await stack.http.get("/healthz", headers={"X-Request-ID": "edge-7f3a:01"})
    assert kept.headers["X-Request-ID"] == "edge-7f3a:01"
    for hostile in ("a" * 500, "abc\ninfo forged line", "two words", "caf\u00e9", ""):
        r = await stack.http.get("/healthz", headers=[(b"x-request-id", hostile.encode())])
        replaced = r.headers["X-Request-ID"]
        assert replaced != hostile and uuid.UUID(replaced), hostile


async def test_an_error_answer_still_carries_the_request_id(stack: Stack) -> None:
    r = await stack.http.get("/improvements", headers={"X-Request-ID": "req-401"})
    assert r.status_code == 401
    assert r.headers["X-Request-ID"] == "req-401"


def _run_process(env: dict[str, str], code: str) -> str:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "OTEL_", "ENV"))}
    env = {**inherited, "JWT_SECRET": "x" * 40, **env}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stderr


PROCESS = """
import logging
from models.settings import Settings
from ops.context import log_context
from ops.logging import configure_logging
configure_logging(Settings(_env_file=None))
configure_logging(Settings(_env_file=None))  # once per process: the second call changes nothing
with log_context(request_id="r-1", user_id="u-1"):
    logging.getLogger("cvimprover.demo").info("hello %s", "world")
    logging.getLogger("uvicorn.error").info("uvicorn speaks")
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger("cvimprover.demo").exception("it broke")
logging.getLogger("cvimprover.demo").debug("not at INFO")
"""


def test_production_process_logs_json_lines() -> None:
    stderr = _run_process({"ENV": "production"}, PROCESS)
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert [line["message"] for line in lines] == ["hello world", "uvicorn speaks", "it broke"]
    for line in lines:
        assert line["request_id"] == "r-1" and line["user_id"] == "u-1"
        assert {"timestamp", "level", "logger"} <= line.keys()
    assert "ZeroDivisionError" in lines[2]["exception"]


def test_development_process_logs_readable_lines() -> None:
    stderr = _run_process({"ENV": "development", "LOG_LEVEL": "DEBUG"}, PROCESS)
    first = stderr.splitlines()[0]
    assert "hello world" in first and "request_id=r-1" in first and "user_id=u-1" in first
    assert not first.startswith("{")
    assert "not at INFO" in stderr  # LOG_LEVEL=DEBUG
    forced = _run_process({"ENV": "development", "LOG_FORMAT": "json"}, PROCESS)
    assert json.loads(forced.splitlines()[0])["message"] == "hello world"


def test_readable_tracebacks_never_print_local_variables() -> None:
    """A local holding a key must not reach the log through an exception's traceback."""
    import logging as stdlib_logging

    from ops.logging import formatter

    def fails(api_key: str) -> None:
        raise RuntimeError("boom")

    record = None
    try:
        fails("-".join(["sk", "live", "hidden", "value"]))  # built, so the source line does not hold it
    except RuntimeError:
        import sys

        record = stdlib_logging.LogRecord("t", stdlib_logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert record is not None
    text = formatter(json_format=False).format(record)
    assert "RuntimeError: boom" in text
    assert "sk-live-hidden-value" not in text

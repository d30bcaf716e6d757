"""SIGTERM to a worker in the middle of a slow LLM call: the worker stops taking work, lets the call finish and
reports it, then exits; another worker finishes the run, exactly once (one LLM call, one quota unit, one PDF)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from tests.conftest import SAMPLES, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.run_records import usage_and_pdfs
from tests.worker_process import start_worker, wait_until_llm_called
from worker import create_worker

QUEUE = "cv-improver-graceful"
LLM_SECONDS = 3.0  # the rewrite in flight when SIGTERM arrives
GRACE_SECONDS = 20  # WORKER_SHUTDOWN_GRACE_SECONDS: far more than the call needs


@pytest.mark.slow
async def test_sigterm_lets_the_running_activity_finish_and_the_run_completes_once(
    temporal_env: WorkflowEnvironment, base_settings: Settings, tmp_path: Path
) -> None:
    address = temporal_env.client.service_client.config.target_host
    log = tmp_path / "worker.log"
    with FakeOpenAI() as llm:
        settings = llm_settings(base_settings, QUEUE, llm.base_url)
        llm.script(Reply.slow(LLM_SECONDS))
        async with open_stack(temporal_env, settings, worker=False) as stack:
            headers = await stack.user()
            cv = await stack.upload(headers, "cv.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
            worker = start_worker(
                settings,
                address,
                QUEUE,
                llm.base_url,
                log,
                WORKER_METRICS_PORT="0",
                WORKER_SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS),
            )
            try:
                r = await stack.http.post(
                    f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Backend Engineer"}
                )
                assert r.status_code == 202, r.text
                iid = r.json()["improvement_id"]
                await wait_until_llm_called(llm, log)

                signalled = time.monotonic()
                worker.send_signal(signal.SIGTERM)
                code = await asyncio.to_thread(worker.wait, GRACE_SECONDS + 10)
                took = time.monotonic() - signalled
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait(10)
            output = log.read_text()
            assert code == 0, output[-3000:]
            # It waited for the call (not cancelled at once) and did not sit out the whole grace period.
            assert LLM_SECONDS - 1 < took < GRACE_SECONDS, (took, output[-3000:])
            assert "worker stopping: finishing in-flight activities" in output and "worker stopped" in output

            handle = stack.client.get_workflow_handle(f"cv-improvement-{iid}")
            history = await handle.fetch_history()
            rewrite = [
                e
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                and e.activity_task_scheduled_event_attributes.activity_type.name == "rewrite_cv"
            ]
            assert len(rewrite) == 1
            completed = [
                e
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                and e.activity_task_completed_event_attributes.scheduled_event_id == rewrite[0].event_id
            ]
            assert completed, "the stopping worker should have reported the rewrite it finished"
            started = next(
                e.activity_task_started_event_attributes
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                and e.activity_task_started_event_attributes.scheduled_event_id == rewrite[0].event_id
            )
            assert started.attempt == 1

            # The next worker (in-process here) picks the run up after the rewrite and finishes it.
            async with create_worker(stack.client, settings, stack.resources):
                result = await stack.wait_finished(headers, iid, timeout=60)
            assert result["stage"] == "completed", (result, output[-3000:])
            assert len([q for q in llm.requests if q.path.endswith("/chat/completions")]) == 1

    usage, pdfs = await usage_and_pdfs(settings.database_url, iid)
    assert usage == ["consumed"]
    assert pdfs == 1

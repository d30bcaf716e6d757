"""A worker killed with SIGKILL in the middle of the rewrite: the run completes once, with one quota unit and
one PDF, after a new worker takes over."""

from __future__ import annotations

import signal
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from tests.conftest import SAMPLES, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.run_records import usage_and_pdfs
from tests.worker_process import start_worker, wait_until_llm_called

QUEUE = "cv-improver-crash"


async def test_worker_killed_during_rewrite_completes_once(
    temporal_env: WorkflowEnvironment, base_settings: Settings, tmp_path: Path
) -> None:
    settings = base_settings.model_copy(update={"temporal_task_queue": QUEUE})
    address = temporal_env.client.service_client.config.target_host
    log = tmp_path / "worker.log"
    with FakeOpenAI() as llm:
        llm.script(Reply.slow(60))  # the first attempt hangs until its worker dies
        async with open_stack(temporal_env, settings, worker=False) as stack:
            headers = await stack.user()
            cv = await stack.upload(headers, "cv.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
            worker = start_worker(settings, address, QUEUE, llm.base_url, log)
            try:
                r = await stack.http.post(
                    f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Backend Engineer"}
                )
                assert r.status_code == 202, r.text
                iid = r.json()["improvement_id"]
                await wait_until_llm_called(llm, log)
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                worker = start_worker(settings, address, QUEUE, llm.base_url, log)
                result = await stack.wait_finished(headers, iid, timeout=120)
            finally:
                worker.terminate()
                worker.wait(30)
            assert result["stage"] == "completed", (result, log.read_text()[-3000:])
            assert len([q for q in llm.requests if q.path.endswith("/chat/completions")]) == 2

    usage, pdfs = await usage_and_pdfs(settings.database_url, iid)
    assert usage == ["consumed"]
    assert pdfs == 1

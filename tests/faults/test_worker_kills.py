"""A worker killed with SIGKILL inside each activity of CvImprovementWorkflow; a new worker finishes every run
exactly once: one consumed quota unit, one PDF for the variant, the LLM called once (twice when the kill hit the
rewrite after the LLM had answered).

Most activities take milliseconds, so "inside" is made deterministic with a real dependency being slow: the test
holds a row lock on the improvement (`SELECT ... FOR NO KEY UPDATE`), the way a busy database would. Every
activity writes that row (its stage first, its result last), so the worker's statement waits on the lock. A gate
moves the run forward one statement at a time (a second lock queued behind the worker's, which PostgreSQL's tuple
lock serves first in line) until the worker waits at the chosen point:

    reserve_quota, extract_cv, verify_rewrite, score_cv, complete_improvement (local activities): their first
        statement; the extract case also loses reserve_quota's committed unit from the history (same workflow
        task), so the re-run must find it and take no second unit
    rewrite_cv: the LLM has answered, the result is not saved yet
    render_pdf: the PDF is rendered and stored in an open transaction, its rendition row not committed

All seven runs, one per activity, are held at once in the same worker, killed with one SIGKILL, and taken over
by one new worker: a dead worker's local activities come back when its workflow task times out (10 s, the
default), regular ones when their heartbeat times out (LLM_HEARTBEAT, RENDER_HEARTBEAT: 10 s), so the module
takes about as long as one case (~15-20 s) instead of seven.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from tests.conftest import SAMPLES, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI
from tests.worker_process import start_worker

QUEUE = "cv-improver-kills"
LOCAL = "local"

# activity -> (stage committed before the held statement, the held statement: the stage's `enter` or a `save`)
TARGETS: dict[str, tuple[str, str]] = {
    "reserve_quota": ("queued", "enter"),
    "extract_cv": ("reserving", "enter"),
    "rewrite_cv": ("rewriting", "save"),
    "verify_rewrite": ("rewriting", "enter"),
    "score_cv": ("verifying", "enter"),
    "render_pdf": ("rendering", "save"),
    "complete_improvement": ("rendering", "enter"),
}
REGULAR = {"rewrite_cv", "render_pdf"}
LOCK = "select id from improvements where id = :i for no key update"


@dataclass
class Case:
    activity: str
    headers: dict[str, str]
    improvement_id: str = ""
    held_at: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    seconds_after_kill: float = 0.0

    @property
    def marker(self) -> str:
        return f"Backend Engineer {self.activity}"


@dataclass
class Campaign:
    cases: dict[str, Case]
    llm_requests: list[Any]
    settings: Settings
    histories: dict[str, Any]
    log: Path


class Gate:
    """A row lock on one improvement, held in a transaction of its own."""

    def __init__(self, engine: AsyncEngine, improvement_id: str) -> None:
        self._engine = engine
        self._id = improvement_id
        self.conn: AsyncConnection | None = None
        self.pid = 0

    async def close(self) -> None:
        """Release the lock (the transaction did not change anything)."""
        if self.conn is not None:
            await self.conn.rollback()
            await self.conn.close()
            self.conn = None

    async def lock(self) -> None:
        """Connect and take the lock; may wait behind the worker."""
        self.conn = await self._engine.connect()
        self.pid = (await self.conn.execute(text("select pg_backend_pid()"))).scalar_one()
        await self.conn.execute(text(LOCK), {"i": self._id})


async def blocked_on(observer: AsyncConnection, pid: int) -> list[str]:
    """Statements of other backends on the improvements table waiting for `pid`."""
    rows = await observer.execute(
        text(
            "select query from pg_stat_activity where :p = any(pg_blocking_pids(pid)) "
            "and query ilike 'update improvements%'"
        ),
        {"p": pid},
    )
    return [r.query for r in rows]


async def hold(engine: AsyncEngine, gate: Gate, case: Case, timeout: float = 30.0) -> Gate:
    """Move the run forward statement by statement until the worker waits at the case's target."""
    want = TARGETS[case.activity]
    deadline = time.monotonic() + timeout
    async with engine.connect() as observer:
        while True:
            assert time.monotonic() < deadline, f"{case.activity}: the worker never reached {want}"
            waiting = await blocked_on(observer, gate.pid)
            await observer.commit()  # a fresh snapshot for the next look
            if not waiting:
                await asyncio.sleep(0.02)
                continue
            stage = (
                await observer.execute(text("select stage from improvements where id = :i"), {"i": case.improvement_id})
            ).scalar_one()
            await observer.commit()
            held = (stage, "enter" if "RETURNING" in waiting[0].upper() else "save")
            if held == want:
                case.held_at = f"{held[1]} after stage {stage!r}"
                return gate
            # Queue a second lock behind the worker's statement, then let that statement (and only it) through.
            nxt = Gate(engine, case.improvement_id)
            taking = asyncio.create_task(nxt.lock())
            while (
                not nxt.pid
                or not (await observer.execute(text("select pg_blocking_pids(:p)"), {"p": nxt.pid})).scalar_one()
            ):
                await observer.commit()
                await asyncio.sleep(0.01)
            await observer.commit()
            await gate.close()
            await asyncio.wait_for(taking, timeout)
            gate = nxt


@pytest_asyncio.fixture(scope="module")
async def campaign(
    temporal_env: WorkflowEnvironment, base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Campaign]:
    address = temporal_env.client.service_client.config.target_host
    log = tmp_path_factory.mktemp("kills") / "worker.log"
    engine = create_async_engine(base_settings.database_url, pool_size=20, max_overflow=10)
    with FakeOpenAI() as llm:
        settings = llm_settings(base_settings, QUEUE, llm.base_url)
        async with open_stack(temporal_env, settings, worker=False) as stack:
            cases: dict[str, Case] = {}
            cv_bytes = (SAMPLES / "jane-doe-cv.md").read_bytes()
            gates: dict[str, Gate] = {}
            for activity_name in TARGETS:
                case = Case(activity_name, await stack.user())
                cv = await stack.upload(case.headers, "cv.md", cv_bytes)
                # Started before any worker runs, then locked: no step can slip past the gate.
                r = await stack.http.post(
                    f"/cvs/{cv['id']}/improvements", headers=case.headers, json={"position": case.marker}
                )
                assert r.status_code == 202, r.text
                case.improvement_id = r.json()["improvement_id"]
                gates[activity_name] = Gate(engine, case.improvement_id)
                await gates[activity_name].lock()
                cases[activity_name] = case
            worker = start_worker(settings, address, QUEUE, llm.base_url, log)
            try:
                held = await asyncio.gather(*(hold(engine, gates[a], c) for a, c in cases.items()))
                gates = dict(zip(cases, held, strict=True))
                worker.send_signal(signal.SIGKILL)
                await asyncio.to_thread(worker.wait, 10)
                killed = time.monotonic()
                for gate in gates.values():
                    await gate.close()
                worker = start_worker(settings, address, QUEUE, llm.base_url, log)

                async def finish(case: Case) -> None:
                    case.result = await stack.wait_finished(case.headers, case.improvement_id, timeout=60)
                    case.seconds_after_kill = time.monotonic() - killed

                await asyncio.gather(*(finish(c) for c in cases.values()))
            finally:
                for gate in gates.values():
                    await gate.close()
                worker.terminate()
                await asyncio.to_thread(worker.wait, 30)
            histories = {
                a: await stack.client.get_workflow_handle(f"cv-improvement-{c.improvement_id}").fetch_history()
                for a, c in cases.items()
            }
            yield Campaign(cases, list(llm.requests), settings, histories, log)
    await engine.dispose()


def llm_calls(campaign: Campaign, case: Case) -> int:
    return sum(
        1
        for q in campaign.llm_requests
        if q.path.endswith("/chat/completions") and case.marker in json.dumps(q.body, ensure_ascii=False)
    )


@pytest.mark.parametrize("activity_name", list(TARGETS))
async def test_killed_during_activity_completes_exactly_once(campaign: Campaign, activity_name: str) -> None:
    case = campaign.cases[activity_name]
    assert case.result["stage"] == "completed", (case, campaign.log.read_text()[-3000:])
    assert case.held_at, "the worker was never held inside the activity"
    assert llm_calls(campaign, case) == (2 if activity_name == "rewrite_cv" else 1)

    engine = create_async_engine(campaign.settings.database_url)
    iid = uuid.UUID(case.improvement_id)
    async with engine.connect() as conn:
        usage = (await conn.execute(text("select status from usage where improvement_id = :i"), {"i": iid})).all()
        pdfs = (
            await conn.execute(
                text(
                    "select r.theme, r.paper, b.sha256 is not null as stored from renditions r "
                    "left join blobs b on b.sha256 = r.pdf_sha256 where r.improvement_id = :i"
                ),
                {"i": iid},
            )
        ).all()
    await engine.dispose()
    assert [u.status for u in usage] == ["consumed"]
    assert len(pdfs) == 1 and pdfs[0].stored, pdfs

    # The kill really cost the run an attempt: a timed-out workflow task (local activities run inside it) or a
    # second attempt of the activity after its heartbeat timed out.
    events = campaign.histories[activity_name].events
    if activity_name in REGULAR:
        scheduled = [
            e.event_id
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and e.activity_task_scheduled_event_attributes.activity_type.name == activity_name
        ]
        attempts = [
            e.activity_task_started_event_attributes.attempt
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
        ]
        assert len(scheduled) == 1 and attempts == [2], (scheduled, attempts)
    else:
        assert any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT for e in events)
    print(f"{activity_name}: held at {case.held_at}; completed {case.seconds_after_kill:.1f} s after the kill")

"""DELETE /me: AccountDeletionWorkflow cancels the user's running improvements and erases every row and blob of
theirs, while data shared with another user (the same uploaded file) stays."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select, text
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from models.account_deletion import DeletionResult, account_deletion_workflow_id
from models.tables import Base, Blob
from tests.conftest import SAMPLES, Stack, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply

TARGET = {
    "position": "Senior Backend Engineer",
    "job_description": (SAMPLES / "job-senior-backend.txt").read_text(),
    "theme": "modern",
}
CV = (SAMPLES / "jane-doe-cv.md").read_bytes()


def unique_cv() -> bytes:
    """The sample CV with a line no other test uploads, so its blob is this test's own."""
    return CV + f"\n\nReference: {uuid.uuid4().hex}\n".encode()


@pytest_asyncio.fixture(scope="module")
async def deletion_stack(
    temporal_env: WorkflowEnvironment, base_settings: Any, fake_llm: FakeOpenAI
) -> AsyncIterator[Stack]:
    """A worker whose rewrite engine is the OpenAI engine against the fake server, which can be made slow."""
    settings = llm_settings(base_settings, "cv-improver-deletion", fake_llm.base_url)
    async with open_stack(temporal_env, settings) as s:
        yield s


async def _rows_referencing(stack: Stack, user_id: uuid.UUID, improvement_ids: list[uuid.UUID]) -> dict[str, int]:
    """Rows in every table with a user_id column (and the user row, and rows keyed by the improvements)."""
    counts: dict[str, int] = {}
    async with stack.services.stores.engine.connect() as conn:
        for name, table in Base.metadata.tables.items():
            if "user_id" in table.c:
                query = select(func.count()).select_from(table).where(table.c.user_id == user_id)
                counts[name] = int(await conn.scalar(query) or 0)
            if "improvement_id" in table.c:
                query = select(func.count()).select_from(table).where(table.c.improvement_id.in_(improvement_ids))
                counts[f"{name}.improvement_id"] = int(await conn.scalar(query) or 0)
        counts["users"] = int(
            await conn.scalar(text("select count(*) from users where id = :id"), {"id": user_id}) or 0
        )
    return counts


async def _pdf_shas(stack: Stack, improvement_id: uuid.UUID) -> set[str]:
    async with stack.services.stores.engine.connect() as conn:
        rows = await conn.execute(
            text("select pdf_sha256 from renditions where improvement_id = :id"), {"id": improvement_id}
        )
        return {row[0] for row in rows}


async def _blob_exists(stack: Stack, sha: str) -> bool:
    async with stack.services.stores.engine.connect() as conn:
        return bool(await conn.scalar(select(func.count()).select_from(Blob).where(Blob.sha256 == sha)))


async def _wait_stage(stack: Stack, headers: dict[str, str], improvement_id: str, stage: str) -> None:
    for _ in range(400):
        body = (await stack.http.get(f"/improvements/{improvement_id}", headers=headers)).json()
        if body["stage"] == stage:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"improvement never reached {stage}")


async def test_delete_me_erases_everything_and_cancels_running_work(
    deletion_stack: Stack, fake_llm: FakeOpenAI
) -> None:
    stack = deletion_stack
    email, password = f"leaver-{uuid.uuid4().hex[:10]}@example.com", "correct horse battery"
    headers = await stack.user(email, password)
    user_id = uuid.UUID((await stack.http.get("/me", headers=headers)).json()["id"])

    # Two CVs: the first only theirs, the second also uploaded by someone else (that blob must stay).
    own_cv = await stack.upload(headers, "own.md", unique_cv())
    shared_file = unique_cv()
    shared_cv = await stack.upload(headers, "shared.md", shared_file)
    other = await stack.user()
    others_cv = await stack.upload(other, "mine-too.md", shared_file)
    assert others_cv["sha256"] == shared_cv["sha256"]

    # One finished improvement (with its PDF), one running (the LLM answers after a minute).
    fake_llm.reset()
    r = await stack.http.post(f"/cvs/{own_cv['id']}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 202, r.text
    finished = r.json()
    assert (await stack.wait_finished(headers, finished["improvement_id"], timeout=90))["stage"] == "completed"
    pdfs = await _pdf_shas(stack, uuid.UUID(finished["improvement_id"]))
    assert pdfs
    fake_llm.script(Reply.slow(60))
    r = await stack.http.post(f"/cvs/{shared_cv['id']}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 202, r.text
    running = r.json()
    await _wait_stage(stack, headers, running["improvement_id"], "rewriting")

    # A second session, signed in before the deletion.
    r = await stack.http.post("/auth/login", json={"email": email, "password": password})
    second = {"Authorization": f"Bearer {r.json()['access_token']}"}

    r = await stack.http.delete("/me", headers=headers)
    assert r.status_code == 202, r.text
    workflow_id = r.json()["workflow_id"]
    assert workflow_id == account_deletion_workflow_id(user_id)
    handle = stack.client.get_workflow_handle(workflow_id, result_type=DeletionResult)
    result = await asyncio.wait_for(handle.result(), timeout=60)
    assert isinstance(result, DeletionResult)
    assert result.user_deleted and result.workflows_canceled == 1 and result.workflows_terminated == 0
    assert result.erased.cvs == 2 and result.erased.improvements == 2

    improvement_ids = [uuid.UUID(finished["improvement_id"]), uuid.UUID(running["improvement_id"])]
    leftovers = {k: v for k, v in (await _rows_referencing(stack, user_id, improvement_ids)).items() if v}
    assert leftovers == {}
    assert not await _blob_exists(stack, own_cv["sha256"])
    for sha in pdfs:
        assert not await _blob_exists(stack, sha)
    assert await _blob_exists(stack, shared_cv["sha256"])  # still the other user's file
    assert (await stack.http.get(f"/cvs/{others_cv['id']}/file", headers=other)).status_code == 200

    desc = await stack.client.get_workflow_handle(running["workflow_id"]).describe()
    assert desc.status == WorkflowExecutionStatus.CANCELED
    desc = await stack.client.get_workflow_handle(finished["workflow_id"]).describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED
    desc = await handle.describe()
    assert desc.search_attributes.get("CvUserId") == [str(user_id)]

    assert (await stack.http.get("/me", headers=headers)).status_code == 401
    r = await stack.http.delete("/me", headers=second)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = await stack.http.post("/auth/login", json={"email": email, "password": password})
    assert r.status_code == 401


async def test_a_user_being_deleted_is_locked_out_at_once(deletion_stack: Stack) -> None:
    """The first step locks the account: sign-in and tokens stop working before any data is erased."""
    stack = deletion_stack
    email, password = f"locked-{uuid.uuid4().hex[:10]}@example.com", "correct horse battery"
    headers = await stack.user(email, password)
    user_id = uuid.UUID((await stack.http.get("/me", headers=headers)).json()["id"])
    async with stack.services.stores.engine.begin() as conn:
        await conn.execute(text("update users set deletion_requested_at = now() where id = :id"), {"id": user_id})
    assert (await stack.http.get("/me", headers=headers)).status_code == 401
    assert (await stack.http.post("/auth/login", json={"email": email, "password": password})).status_code == 401
    assert (await stack.http.delete("/me", headers=headers)).status_code == 401


async def test_delete_me_twice_answers_the_same_workflow(temporal_env: WorkflowEnvironment, base_settings: Any) -> None:
    """Without a worker the first step never runs, so the token still works: a second DELETE /me joins the
    running deletion (id conflict policy USE_EXISTING) instead of failing or starting another."""
    settings = base_settings.model_copy(update={"temporal_task_queue": "cv-improver-deletion-idle"})
    async with open_stack(temporal_env, settings, worker=False) as stack:
        headers = await stack.user()
        user_id = (await stack.http.get("/me", headers=headers)).json()["id"]
        first = await stack.http.delete("/me", headers=headers)
        second = await stack.http.delete("/me", headers=headers)
        assert first.status_code == second.status_code == 202, (first.text, second.text)
        assert first.json() == second.json() == {"workflow_id": f"account-deletion-{user_id}"}
        handle = stack.client.get_workflow_handle(first.json()["workflow_id"])
        desc = await handle.describe()
        assert desc.status == WorkflowExecutionStatus.RUNNING
        assert desc.search_attributes.get("CvUserId") == [user_id]
        assert await desc.static_summary() == f"Delete the account of user {user_id} and all its data"
        await handle.terminate(reason="test over")

"""The pipeline with the OpenAI engine: the real openai SDK over HTTP against an OpenAI-compatible test server
that can be slow, rate limited, broken, or dishonest. Temporal owns the retries, and the history shows them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from tests.conftest import SAMPLES, Stack, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply

TARGET = {
    "position": "Senior Backend Engineer",
    "job_description": (SAMPLES / "job-senior-backend.txt").read_text(),
    "theme": "modern",
}
CV = (SAMPLES / "jane-doe-cv.md").read_bytes()


@pytest_asyncio.fixture(scope="module")
async def llm_stack(
    temporal_env: WorkflowEnvironment, base_settings: Settings, fake_llm: FakeOpenAI
) -> AsyncIterator[Stack]:
    settings = llm_settings(base_settings, "cv-improver-llm", fake_llm.base_url)
    async with open_stack(temporal_env, settings) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh_fake(fake_llm: FakeOpenAI) -> None:
    fake_llm.reset()


async def _run(stack: Stack) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    headers = await stack.user()
    cv = await stack.upload(headers, "cv.md", CV)
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 202, r.text
    accepted = r.json()
    return headers, accepted, await stack.wait_finished(headers, accepted["improvement_id"], timeout=90)


async def _rewrite_attempts(stack: Stack, workflow_id: str) -> tuple[int, list[Any]]:
    """(attempt number of the rewrite's last start, failures recorded for it) from the workflow history."""
    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    rewrite_ids = {
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "rewrite_cv"
    }
    attempt, failures = 0, []
    for e in history.events:
        started = e.activity_task_started_event_attributes
        failed = e.activity_task_failed_event_attributes
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED and started.scheduled_event_id in rewrite_ids:
            attempt = started.attempt
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED and failed.scheduled_event_id in rewrite_ids:
            failures.append(failed.failure)
    return attempt, failures


async def test_llm_rewrite_succeeds_and_never_sees_contact_details(llm_stack: Stack, fake_llm: FakeOpenAI) -> None:
    _, _, result = await _run(llm_stack)
    assert result["stage"] == "completed", result
    assert result["engine"] == "openai:gpt-4o-test"
    assert result["result"]["basics"]["email"] == "jane.doe@example.com"
    assert result["result"]["basics"]["phone"] == "+44 20 7946 0958"
    sent = [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]
    assert len(sent) == 1
    body = json.dumps(sent[0].body)
    assert "jane.doe@example.com" not in body and "7946 0958" not in body and "github.com/janedoe" not in body
    assert sent[0].headers.get("x-stainless-retry-count") == "0"
    assert sent[0].headers.get("authorization") == "Bearer sk-test-key"


async def test_rate_limit_is_retried_by_temporal_after_retry_after(llm_stack: Stack, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Reply.rate_limited(retry_after=1))
    _, accepted, result = await _run(llm_stack)
    assert result["stage"] == "completed", result
    sent = [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]
    assert len(sent) == 2
    assert sent[1].at - sent[0].at >= 0.9  # Retry-After honoured
    assert all(r.headers.get("x-stainless-retry-count") == "0" for r in sent)  # the SDK never retried by itself
    attempt, _ = await _rewrite_attempts(llm_stack, accepted["workflow_id"])
    assert attempt == 2


async def test_server_errors_are_retried(llm_stack: Stack, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Reply.server_error(), Reply.server_error(503))
    _, accepted, result = await _run(llm_stack)
    assert result["stage"] == "completed", result
    attempt, _ = await _rewrite_attempts(llm_stack, accepted["workflow_id"])
    assert attempt == 3


@pytest.mark.parametrize(
    ("replies", "code", "words"),
    [
        ([Reply.invalid_json(), Reply.invalid_json()], "LlmInvalidOutput", "structure"),
        ([Reply.refusal()], "LlmRefused", "refunded"),
        ([Reply.bad_request()], "LlmInvalidRequest", "refunded"),
    ],
)
async def test_permanent_llm_failures_stop_at_once_and_refund(
    llm_stack: Stack, fake_llm: FakeOpenAI, replies: list[Reply], code: str, words: str
) -> None:
    fake_llm.script(*replies)
    headers, accepted, result = await _run(llm_stack)
    assert result["stage"] == "failed", result
    assert result["error"]["code"] == code
    assert words in result["error"]["message"].lower()
    attempt, failures = await _rewrite_attempts(llm_stack, accepted["workflow_id"])
    assert attempt == 1
    assert failures and failures[-1].application_failure_info.non_retryable
    assert failures[-1].application_failure_info.type == code
    me = (await llm_stack.http.get("/me", headers=headers)).json()
    assert me["quota"]["used"] == 0, "a failed run gives its unit back"
    pdf = await llm_stack.http.get(f"/improvements/{accepted['improvement_id']}/pdf", headers=headers)
    assert pdf.status_code == 404
    # The workflow itself ends failed with the same user-facing error.
    desc = await llm_stack.client.get_workflow_handle(accepted["workflow_id"]).describe()
    assert desc.status is not None and desc.status.name == "FAILED"


async def test_invented_facts_are_reverted_with_warnings(llm_stack: Stack, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Reply.invent_employer("Acme Corp"))
    _, _, result = await _run(llm_stack)
    assert result["stage"] == "completed", result
    assert "Acme Corp" not in json.dumps(result["result"])
    warning = next(w for w in result["warnings"] if w["code"] == "invented_employer")
    assert "Acme Corp" in warning["message"]

    fake_llm.script(Reply.invent_number())
    _, _, result = await _run(llm_stack)
    assert "40%" not in json.dumps(result["result"])
    assert any(w["code"] == "invented_number" for w in result["warnings"])


async def test_cancel_a_running_improvement_refunds(llm_stack: Stack, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Reply.slow(30))
    headers = await llm_stack.user()
    cv = await llm_stack.upload(headers, "cv.md", CV)
    accepted = (await llm_stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)).json()
    iid = accepted["improvement_id"]
    for _ in range(200):
        body = (await llm_stack.http.get(f"/improvements/{iid}", headers=headers)).json()
        if body["stage"] == "rewriting":
            break
        await __import__("asyncio").sleep(0.05)
    r = await llm_stack.http.delete(f"/improvements/{iid}", headers=headers)
    assert r.status_code == 202 and r.json()["status"] == "canceling"
    result = await llm_stack.wait_finished(headers, iid, timeout=30)
    assert result["stage"] == "canceled" and result["error"]["code"] == "canceled"
    assert (await llm_stack.http.get("/me", headers=headers)).json()["quota"]["used"] == 0
    desc = await llm_stack.client.get_workflow_handle(accepted["workflow_id"]).describe()
    assert desc.status is not None and desc.status.name == "CANCELED"


async def test_workflow_history_holds_ids_not_cv_text(llm_stack: Stack) -> None:
    _, accepted, result = await _run(llm_stack)
    assert result["stage"] == "completed"
    history = await llm_stack.client.get_workflow_handle(accepted["workflow_id"]).fetch_history()
    raw = history.to_json()
    for secret in ("Jane Doe", "jane.doe@example.com", "7946 0958", "Brightwave", "payments ledger", "Kafka"):
        assert secret not in raw, secret
    assert accepted["improvement_id"] in raw
    assert len(raw) < 40_000, "history should stay small: it carries ids only"
